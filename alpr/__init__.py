"""German and Spanish licence-plate recognition: detection, segmentation, a character CNN and
grammar-aware decoding. Heavy modules (TensorFlow) load lazily, so ``import alpr`` stays fast."""

import os

# TensorFlow's C++ start-up chatter (CUDA probing on CPU-only machines, oneDNN notes) is noise
# for users of a command-line tool; set TF_CPP_MIN_LOG_LEVEL yourself to see it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.1.0"

_LAZY = {
    "load_model": "alpr.model",
    "CharModel": "alpr.model",
    "Recognizer": "alpr.pipeline",
    "Plate": "alpr.pipeline",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'alpr' has no attribute {name!r}")


__all__ = list(_LAZY)
