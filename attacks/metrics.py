"""Accuracy under attack and attack success, measured the way the evaluation protocol asks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from attacks import core

AttackFn = Callable[..., np.ndarray]
"""``attack_fn(model, x, y) -> x_adv``, e.g. ``functools.partial(attacks.pgd, eps=..., steps=..., step_size=...)``."""


def accuracy(model, x, y, *, batch_size=core.DEFAULT_BATCH_SIZE) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y``."""
    net, x, y = core.prepare(model, x, y)
    return float(np.mean(core.predict(net, x, batch_size=batch_size) == y))


def robust_accuracy(model, x, y, attack_fn, *, per_sample=False, batch_size=core.DEFAULT_BATCH_SIZE):
    """Accuracy under the per-sample worst case of one or several attacks.

    A sample counts as robust only if it is classified correctly clean *and* after every attack
    (each attack gets the clean ``x``).

    Args:
        model: a ``CharModel`` or Keras model returning logits.
        x: images, ``(N, H, W, C)`` float32 in [0, 1].
        y: ``(N,)`` true labels.
        attack_fn: ``attack_fn(model, x, y) -> x_adv`` or a sequence of such callables.
        per_sample: return the ``(N,)`` bool array of robust samples instead of the mean.
        batch_size: samples per compiled forward call.

    Returns:
        float in [0, 1] (or the bool array when ``per_sample``).

    Example::
        >>> from functools import partial
        >>> attack = partial(attacks.pgd, eps=8 / 255, steps=20, step_size=2 / 255, seed=0)
        >>> attacks.robust_accuracy(model, x, y, [attack, partial(attacks.fgsm, eps=8 / 255)])
    """
    fns = [attack_fn] if callable(attack_fn) else list(attack_fn)
    if not fns or not all(callable(f) for f in fns):
        raise ValueError("attack_fn must be a callable or a non-empty sequence of callables")
    net, x, y = core.prepare(model, x, y)
    robust = core.predict(net, x, batch_size=batch_size) == y
    for fn in fns:
        x_adv = np.asarray(fn(model, x, y))
        if x_adv.shape != x.shape:
            raise ValueError(f"attack returned shape {x_adv.shape}, expected {x.shape}")
        robust &= core.predict(net, x_adv, batch_size=batch_size) == y
    return robust if per_sample else float(robust.mean())


def success_rate(model, x_adv, y, *, targeted=False, batch_size=core.DEFAULT_BATCH_SIZE) -> float:
    """Fraction of ``x_adv`` on which the attack succeeded.

    Untargeted: predicted ≠ ``y`` (true labels). Targeted: predicted = ``y`` (target labels).
    Restrict ``x_adv``/``y`` to clean-correct samples beforehand if that is the rate you want.
    """
    targeted = core.check_flag(targeted, "targeted")
    net, x_adv, y = core.prepare(model, x_adv, y)
    hit = core.predict(net, x_adv, batch_size=batch_size) == y
    return float(np.mean(hit if targeted else ~hit))
