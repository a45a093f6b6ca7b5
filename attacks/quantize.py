"""uint8 quantisation that keeps adversarial images inside their ε-ball.

Adversarial images only count after they survive an 8-bit save and load. Rounding alone can push
a pixel up to half a grey level past the ball (L∞) or add up to ``sqrt(d)/510`` to the L2 norm, so
:func:`quantize` rounds and then re-projects *on the uint8 grid*.
"""

from __future__ import annotations

import numpy as np

from attacks import core

LEVELS = 255
_TOL = 1e-4  # grey levels (4e-7 in [0, 1] units): absorbs float32 error of k/255 · 255


def to_uint8(x) -> np.ndarray:
    """Images in [0, 1] → uint8 by rounding to the nearest grey level."""
    x = core.check_images(x)
    return np.rint(x * LEVELS).astype(np.uint8)


def quantize(x_adv, x, *, eps, norm="inf") -> np.ndarray:
    """Round ``x_adv`` to the uint8 grid (values ``k/255``) while staying inside the ``eps``-ball of ``x``.

    L∞: each pixel is rounded to the nearest grey level, then clipped to the grey levels inside
    ``[x - eps, x + eps] ∩ [0, 1]`` (never empty when ``eps ≥ 1/255`` or ``x`` is on the grid).

    L2: pixels are rounded; for a sample whose rounded perturbation leaves the ball, the pixels
    whose rounding cost the most norm are rounded towards ``x`` instead, largest saving first,
    until the sample is back inside. With ``x`` on the grid (images loaded from uint8 files) this
    always succeeds, since rounding every pixel towards ``x`` never lengthens the perturbation.
    Each pixel moves by at most half a grey level (L∞) or less than one grey level (L2).

    Args:
        x_adv: adversarial images, float in [0, 1], inside the ``eps``-ball of ``x``.
        x: clean images of the same shape.
        eps: radius of the ball (≥ 0).
        norm: ``"inf"`` or ``2``.

    Returns:
        float32 array of the shape of ``x`` with values in ``{0, 1/255, …, 1}`` and
        ``‖result - x‖ ≤ eps`` (up to float rounding of 1e-6).

    Raises:
        ValueError: if no grid point satisfies the bound (``x`` off the grid with a tiny ``eps``).
    """
    eps = core.check_eps(eps)
    norm = core.check_norm(norm)
    x = core.check_images(x)
    x_adv = core.check_images(x_adv)
    if x_adv.shape != x.shape:
        raise ValueError(f"x_adv and x must have the same shape, got {x_adv.shape} and {x.shape}")
    xs, xa = x.astype(np.float64) * LEVELS, x_adv.astype(np.float64) * LEVELS
    q = np.rint(xa)
    if norm == "inf":
        lo = np.ceil(np.maximum(xs - eps * LEVELS, 0.0) - _TOL)
        hi = np.floor(np.minimum(xs + eps * LEVELS, LEVELS) + _TOL)
        if np.any(lo > hi):
            raise ValueError(
                "no uint8 grey level lies within eps of some pixels of x: quantise x first or use eps >= 1/255"
            )
        q = np.clip(q, lo, hi)
    else:
        flat = lambda a: a.reshape(len(a), -1)  # noqa: E731
        q = _l2_fallback(flat(q), flat(xs), flat(xa), eps * LEVELS).reshape(x.shape)
        too_far = np.sqrt(((q - xs) ** 2).reshape(len(q), -1).sum(axis=1)) > eps * LEVELS + _TOL
        if np.any(too_far):
            raise ValueError(
                f"{int(too_far.sum())} sample(s) cannot be quantised inside the L2 ball: x is not on the "
                "uint8 grid; quantise the clean images first (np.rint(x * 255) / 255)"
            )
    return (q / LEVELS).astype(np.float32)


def _l2_fallback(q: np.ndarray, xs: np.ndarray, xa: np.ndarray, radius: float) -> np.ndarray:
    """Per row (grey levels), re-round the costliest pixels of ``q`` towards ``xs`` until within ``radius``."""
    base = np.where(xa >= xs, np.floor(xa + _TOL), np.ceil(xa - _TOL))  # truncate x_adv towards x
    cost = (q - xs) ** 2 - (base - xs) ** 2  # squared-norm saved by falling back, per pixel
    total = ((q - xs) ** 2).sum(axis=1)
    out = q.copy()
    for i in np.flatnonzero(total > radius**2 + _TOL):
        order = np.argsort(-cost[i])
        remaining = total[i] - np.cumsum(cost[i, order])
        inside = np.flatnonzero(remaining <= radius**2 + _TOL)
        k = inside[0] + 1 if len(inside) else len(order)  # shortest prefix back inside the ball
        out[i, order[:k]] = base[i, order[:k]]
    return out
