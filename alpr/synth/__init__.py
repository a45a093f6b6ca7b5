"""Synthetic German and Spanish plate renderer (training data, tests, samples)."""
