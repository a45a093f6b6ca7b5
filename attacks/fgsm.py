"""Fast Gradient (Sign) Method: one normalised gradient step of size ε."""

from __future__ import annotations

import numpy as np

from attacks import core


def fgsm(model, x, y, *, eps, norm="inf", targeted=False, batch_size=core.DEFAULT_BATCH_SIZE) -> np.ndarray:
    r"""Fast Gradient Sign Method (L∞) and Fast Gradient Method (L2).

    Goodfellow, Shlens & Szegedy, "Explaining and Harnessing Adversarial Examples", ICLR 2015
    (https://arxiv.org/abs/1412.6572). One step of size ``eps`` along the normalised gradient of the
    cross-entropy (:func:`attacks.core.objective`): ``x + eps · sign(∇)`` for L∞ and
    ``x + eps · ∇/‖∇‖₂`` for L2, then clipped to [0, 1]. Targeted attacks descend the
    cross-entropy of the target instead.

    Distance Measure: L∞ or L2.

    Arguments:
        model: a ``CharModel`` (``.keras_model``) or a Keras model returning logits.
        x: images, ``(N, H, W, C)`` float32 in [0, 1].
        y: ``(N,)`` int labels; the target labels when ``targeted=True``.
        eps (float): maximum perturbation (≥ 0).
        norm: ``"inf"`` or ``2``.
        targeted (bool): move towards ``y`` instead of away from it.
        batch_size (int): samples per compiled call.

    Shape:
        - x: ``(N, H, W, C)``, values in [0, 1].
        - y: ``(N,)``, values in ``[0, n_classes)``.
        - output: ``(N, H, W, C)`` float32 with ``‖output - x‖ ≤ eps`` and values in [0, 1].

    Examples::
        >>> x_adv = attacks.fgsm(model, x, y, eps=8 / 255)
    """
    eps = core.check_eps(eps)
    norm = core.check_norm(norm)
    targeted = core.check_flag(targeted, "targeted")
    batch_size = core.check_count(batch_size, "batch_size")
    net, x, y = core.prepare(model, x, y)
    step = core.ascent_step_fn(net, x.shape[1:], norm)
    out = np.empty_like(x)
    for s in core.batches(len(x), batch_size):
        out[s] = step(x[s], x[s], y[s], targeted, eps, eps)[0].numpy()
    return out
