"""Adversarial attacks on the character CNN and on the whole recognition pipeline.

Digital attacks are plain functions on one small shared core (:mod:`attacks.core`): they take a
``CharModel`` or a Keras model (logits out), images as float32 NHWC in [0, 1] and int labels, and
return adversarial images of the same shape inside the ε-ball and [0, 1].

Importing this package does not import TensorFlow or build any model.
"""

from attacks.core import NORMS, loss_gradient, predict
from attacks.fgsm import fgsm
from attacks.metrics import accuracy, robust_accuracy, success_rate
from attacks.patch import PatchConfig, Sticker, optimise_patch
from attacks.pgd import pgd
from attacks.quantize import quantize, to_uint8
from attacks.threshold import ThresholdResult, threshold_attack

__all__ = [
    "NORMS",
    "PatchConfig",
    "Sticker",
    "ThresholdResult",
    "accuracy",
    "fgsm",
    "loss_gradient",
    "optimise_patch",
    "pgd",
    "predict",
    "quantize",
    "robust_accuracy",
    "success_rate",
    "threshold_attack",
    "to_uint8",
]
