"""The classic notebook attack: raise the target-class probability until it exceeds a threshold."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from attacks import core


@dataclass(frozen=True)
class ThresholdResult:
    """Per-sample outcome of :func:`threshold_attack` (arrays of shape ``(N,)``).

    Attributes:
        success: the target probability reached the threshold.
        iterations: gradient steps taken until success (``max_iter`` for failures).
        seconds: wall-clock seconds from the start of the sample's batch until success (until the
            batch gave up, for failures).
        probability: target probability at the returned image.
        total_seconds: wall-clock time of the whole attack.
    """

    success: np.ndarray
    iterations: np.ndarray
    seconds: np.ndarray
    probability: np.ndarray
    total_seconds: float

    def summary(self) -> str:
        """One line: success rate, median iterations and time of the successful samples."""
        n, k = len(self.success), int(self.success.sum())
        if k:
            its = np.median(self.iterations[self.success])
            secs = np.median(self.seconds[self.success])
            tail = f", median {its:g} iterations / {secs * 1000:.1f} ms to success"
        else:
            tail = ""
        return f"threshold attack: {k}/{n} reached the threshold{tail}; total {self.total_seconds:.2f} s"


def threshold_attack(
    model,
    x,
    target,
    *,
    threshold=0.9,
    eps,
    step_size,
    max_iter,
    norm="inf",
    batch_size=core.DEFAULT_BATCH_SIZE,
):
    r"""Iterative targeted attack that stops per sample once ``p(target) ≥ threshold``.

    The attack of the classic adversarial-example notebooks (basic iterative method towards a
    target, Kurakin, Goodfellow & Bengio, "Adversarial examples in the physical world", 2016,
    https://arxiv.org/abs/1607.02533): starting at ``x``, step ``step_size`` along the normalised
    gradient of ``log p(target)`` (the targeted :func:`attacks.core.objective`), projecting onto
    the ``eps``-ball and [0, 1], until the target probability exceeds ``threshold`` or
    ``max_iter`` steps were taken. A sample that reaches the threshold is frozen there.

    Distance Measure: L∞ or L2.

    Arguments:
        model: a ``CharModel`` (``.keras_model``) or a Keras model returning logits.
        x: images, float32 in [0, 1].
        target: int target labels.
        threshold (float): target probability to reach, in (0, 1).
        eps (float): radius of the ball (≥ 0).
        step_size (float): size of each step (> 0).
        max_iter (int): maximum number of steps (≥ 1).
        norm: ``"inf"`` or ``2``.
        batch_size (int): samples per compiled call.

    Shape:
        - x: ``(N, H, W, C)``; target: ``(N,)``.
        - output: ``(x_adv, ThresholdResult)`` with ``x_adv`` of shape ``(N, H, W, C)``, inside
          the ``eps``-ball and [0, 1], and per-sample arrays of shape ``(N,)`` in the result.

    Examples::
        >>> x_adv, result = attacks.threshold_attack(model, x, np.full(len(x), 7), eps=0.1,
        ...                                          step_size=0.01, max_iter=50)
        >>> print(result.summary())
    """
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a probability in (0, 1), got {threshold!r}")
    eps = core.check_eps(eps)
    step_size = core.check_positive(step_size, "step_size")
    max_iter = core.check_count(max_iter, "max_iter")
    norm = core.check_norm(norm)
    batch_size = core.check_count(batch_size, "batch_size")
    net, x, target = core.prepare(model, x, target, label_name="target")
    step = core.ascent_step_fn(net, x.shape[1:], norm)

    x_adv = x.copy()
    success = np.zeros(len(x), bool)
    iterations = np.full(len(x), max_iter, np.int32)
    seconds = np.zeros(len(x))
    probability = np.zeros(len(x), np.float32)
    t_start = time.perf_counter()
    for s in core.batches(len(x), batch_size):
        t_batch = time.perf_counter()
        xb, tb = x_adv[s], target[s]  # views: writing into xb updates x_adv
        done = success[s]
        for it in range(max_iter + 1):
            x_next, _, z = step(xb, x[s], tb, True, eps, step_size)
            p = _softmax(z.numpy())[np.arange(len(tb)), tb]
            probability[s] = np.where(done, probability[s], p)
            new = ~done & (p >= threshold)
            iterations[s] = np.where(new, it, iterations[s])
            seconds[s] = np.where(new, time.perf_counter() - t_batch, seconds[s])
            done |= new
            if done.all() or it == max_iter:
                break
            x_next = x_next.numpy()
            xb[~done] = x_next[~done]
        seconds[s] = np.where(done, seconds[s], time.perf_counter() - t_batch)
    result = ThresholdResult(success, iterations, seconds, probability, time.perf_counter() - t_start)
    return x_adv, result


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
