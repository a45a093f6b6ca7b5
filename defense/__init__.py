"""Adversarial retraining of the character CNN and robustness evaluation."""
