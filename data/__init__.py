"""Assets the project made itself: trained models (with model cards) and rendered sample photos."""
