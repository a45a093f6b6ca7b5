"""Adversarial attacks on the character CNN and on the whole recognition pipeline."""
