"""Square attack (L∞, untargeted): a score-based black-box attack to expose gradient masking.

Andriushchenko, Croce, Flammarion & Hein, "Square Attack: a query-efficient black-box adversarial
attack via random search", ECCV 2020 (https://arxiv.org/abs/1912.00049).

Only logits are queried (no gradients), through the shared compiled forward pass of
:mod:`attacks.core`. Start: vertical stripes of ±ε; then each query redraws one random square
window of ±ε (its side shrinks on the paper's schedule) and keeps it when the margin loss
``z_y - max_{k≠y} z_k`` decreases. Samples stop once misclassified. If a model resists PGD but
not this attack, its gradients are masked.

Example::

    >>> x_adv = square_attack(model, x, y, eps=8 / 255, queries=1000, seed=0)
"""

from __future__ import annotations

import numpy as np

from attacks import core


def _p_schedule(p_init: float, it: int, queries: int) -> float:
    """The paper's piecewise-constant share of pixels changed per query (rescaled to ``queries``)."""
    it = int(it / queries * 10000)
    for bound, div in ((10, 1), (50, 2), (200, 4), (500, 8), (1000, 16), (2000, 32), (4000, 64), (6000, 128), (8000, 256)):
        if it <= bound:
            return p_init / div
    return p_init / 512


def _margin(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    z_y = logits[np.arange(len(y)), y]
    other = logits.copy()
    other[np.arange(len(y)), y] = -np.inf
    return z_y - other.max(axis=1)


def square_attack(model, x, y, *, eps: float, queries: int = 1000, p_init: float = 0.3, seed: int | None = None,
                  batch_size: int = core.DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Square attack on ``model`` (``CharModel`` or Keras model, logits).

    Args:
        x: ``(N, H, W, C)`` float32 in [0, 1]; y: ``(N,)`` true int labels.
        eps: L∞ radius; queries: iterations (one forward pass per still-robust sample each);
        p_init: initial share of pixels in the square; seed: random seed.

    Returns:
        adversarial images ``(N, H, W, C)`` inside the ε-ball and [0, 1] (the best found per sample).
    """
    eps = core.check_eps(eps)
    queries = core.check_count(queries, "queries")
    net, x, y = core.prepare(model, x, y)
    logits = core.logits_fn(net, x.shape[1:])
    rng = np.random.default_rng(seed)

    def margin(xs, ys):
        return _margin(np.concatenate([logits(xs[s]).numpy() for s in core.batches(len(xs), batch_size)]), ys)

    n, h, w, c = x.shape
    x_best = np.clip(x + eps * rng.choice([-1.0, 1.0], size=(n, 1, w, c)), 0.0, 1.0).astype(np.float32)
    m_best = margin(x_best, y)
    for it in range(queries):
        active = np.flatnonzero(m_best > 0)
        if len(active) == 0:
            break
        side = int(round(np.sqrt(_p_schedule(p_init, it, queries) * h * w)))
        side = min(max(side, 1), h - 1, w - 1)
        xa, xb = x[active], x_best[active]
        delta = xb - xa
        r = rng.integers(0, h - side + 1, size=len(active))
        col = rng.integers(0, w - side + 1, size=len(active))
        signs = eps * rng.choice([-1.0, 1.0], size=(len(active), 1, 1, c))
        for k in range(len(active)):
            delta[k, r[k] : r[k] + side, col[k] : col[k] + side, :] = signs[k]
        x_new = np.clip(xa + delta, 0.0, 1.0).astype(np.float32)
        m_new = margin(x_new, y[active])
        better = m_new < m_best[active]
        x_best[active[better]] = x_new[better]
        m_best[active[better]] = m_new[better]
    return x_best
