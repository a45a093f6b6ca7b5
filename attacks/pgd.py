"""Projected Gradient Descent with random start and restarts that keep the per-sample best."""

from __future__ import annotations

import numpy as np

from attacks import core


def pgd(
    model,
    x,
    y,
    *,
    eps,
    steps,
    step_size,
    norm="inf",
    targeted=False,
    random_start=True,
    restarts=1,
    seed=None,
    batch_size=core.DEFAULT_BATCH_SIZE,
    stop_on_success=False,
) -> np.ndarray:
    r"""Projected Gradient Descent (PGD).

    Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards Deep Learning Models Resistant to
    Adversarial Attacks", ICLR 2018 (https://arxiv.org/abs/1706.06083).
    From a start drawn uniformly in the ε-ball, repeat ``steps`` times: step ``step_size`` along
    the normalised gradient of the cross-entropy (:func:`attacks.core.objective`, negated when
    targeted), project onto the ε-ball around ``x`` and onto [0, 1].

    Every iterate of every restart is scored, and each sample keeps its best one: an iterate that
    succeeds (misclassified, or classified as the target) beats one that does not; among equals
    the larger objective wins (highest loss untargeted, lowest target loss targeted). Hence, for a
    fixed ``seed``, more ``steps`` or more ``restarts`` can never make the attack weaker, sample by
    sample.

    Distance Measure: L∞ or L2.

    Arguments:
        model: a ``CharModel`` (``.keras_model``) or a Keras model returning logits.
        x: images, float32 in [0, 1].
        y: int labels; the target labels when ``targeted=True``.
        eps (float): radius of the ball (≥ 0). ``eps=0`` returns ``x``.
        steps (int): gradient steps per restart (≥ 1).
        step_size (float): size of each step in the chosen norm (> 0), e.g. ``eps / 4``.
        norm: ``"inf"`` or ``2``.
        targeted (bool): move towards ``y`` instead of away from it.
        random_start (bool): start uniformly inside the ball (L∞: uniform per pixel; L2: uniform in
            the ball) instead of at ``x``. Needed for ``restarts > 1`` to differ.
        restarts (int): independent runs (≥ 1); the per-sample best is returned.
        seed (int or None): seed of the random starts; a fixed seed makes the attack deterministic.
        batch_size (int): samples per compiled call.
        stop_on_success (bool): a sample stops at its first successful iterate and is no longer
            computed. The same samples succeed (every sample's path is the same), in less time when
            many break early, but a stopped sample keeps that first, low-margin iterate instead of
            the highest-objective one: use it to *measure* robust accuracy, not to craft
            adversarials that must survive quantisation or transfer.

    Shape:
        - x: ``(N, H, W, C)``, values in [0, 1].
        - y: ``(N,)``, values in ``[0, n_classes)``.
        - output: ``(N, H, W, C)`` float32 with ``‖output - x‖ ≤ eps`` and values in [0, 1].

    Examples::
        >>> x_adv = attacks.pgd(model, x, y, eps=8 / 255, steps=20, step_size=2 / 255, seed=0)
        >>> robust = (attacks.core.predict(model, x_adv) == y).mean()
    """
    eps = core.check_eps(eps)
    steps = core.check_count(steps, "steps")
    step_size = core.check_positive(step_size, "step_size")
    norm = core.check_norm(norm)
    targeted = core.check_flag(targeted, "targeted")
    random_start = core.check_flag(random_start, "random_start")
    restarts = core.check_count(restarts, "restarts")
    batch_size = core.check_count(batch_size, "batch_size")
    stop_on_success = core.check_flag(stop_on_success, "stop_on_success")
    if restarts > 1 and not random_start:
        raise ValueError("restarts > 1 needs random_start=True (every restart would be identical)")
    net, x, y = core.prepare(model, x, y)
    run = core.ascent_run_fn(net, x.shape[1:], norm)
    rng = np.random.default_rng(seed)

    best_x = x.copy()
    best_obj = np.full(len(x), -np.inf, np.float32)
    best_success = np.zeros(len(x), bool)
    for _ in range(restarts):
        # One draw per restart over the whole input: restart r gets the same start whatever the
        # number of restarts or the batch size.
        start = core.random_start(x, eps, norm, rng) if random_start else x
        # With stop_on_success, samples broken by an earlier restart are not attacked again.
        todo = np.flatnonzero(~best_success) if stop_on_success else np.arange(len(x))
        for s in core.batches(len(todo), batch_size):
            rows = todo[s]
            x_r, obj_r, success_r = (
                t.numpy() for t in run(start[rows], x[rows], y[rows], targeted, eps, step_size, steps, stop_on_success)
            )
            better = core.improves(success_r, obj_r, best_success[rows], best_obj[rows])
            best_x[rows[better]] = x_r[better]
            best_obj[rows[better]] = obj_r[better]
            best_success[rows] |= success_r
    return best_x
