"""The one shared core of the digital attacks: model resolution, the loss and its input gradient,
normalised steps, projections, random starts and argument validation.

Every attack in this package is a plain function built from these pieces:

* :func:`resolve_model` turns a ``CharModel`` (anything with ``.keras_model``) or a Keras model into
  the callable that maps float32 NHWC images in [0, 1] to logits.
* :func:`objective` is the only loss: per-sample cross-entropy on the logits, negated for targeted
  attacks, so that *every* attack ascends it.
* :func:`loss_gradient`, :func:`ascent_step_fn` (one projected step) and :func:`ascent_run_fn`
  (a whole PGD run in one graph, keeping the per-sample best iterate by :func:`improves`) run that
  loss under ``tf.function`` with a ``None`` batch dimension in the input signature, so a model is
  traced once per input shape and norm, whatever the batch sizes.
* :func:`normalized_step`, :func:`project` and :func:`clip_to_ball` implement the L∞ and L2
  geometry; :func:`random_start` draws a seeded start uniformly inside the ball.

TensorFlow is imported inside functions, so ``import attacks`` stays cheap.
"""

from __future__ import annotations

import inspect
import math
import numbers
import weakref

import numpy as np

NORMS = ("inf", 2)
"""The supported perturbation norms: ``"inf"`` (L∞) and ``2`` (L2)."""

DEFAULT_BATCH_SIZE = 256
_TINY = 1e-12


# --------------------------------------------------------------------------- argument validation


def check_norm(norm) -> str | int:
    """Return the canonical norm (``"inf"`` or ``2``); accept ``"inf"``, ``np.inf``, ``2`` or ``"2"``.

    Raises:
        ValueError: for any other value.
    """
    if isinstance(norm, str):
        key = norm.strip().lower()
        if key in ("inf", "linf"):
            return "inf"
        if key in ("2", "l2"):
            return 2
    elif isinstance(norm, numbers.Real) and not isinstance(norm, bool):
        if math.isinf(norm) and norm > 0:
            return "inf"
        if norm == 2:
            return 2
    raise ValueError(f"norm must be 'inf' or 2, got {norm!r}")


def check_eps(eps, name: str = "eps") -> float:
    """Return ``eps`` as a float after checking it is a finite number ≥ 0."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {eps!r}")
    return float(eps)


def check_positive(value, name: str) -> float:
    """Return ``value`` as a float after checking it is a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_count(value, name: str) -> int:
    """Return ``value`` as an int after checking it is an integer ≥ 1 (steps, restarts, max_iter)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_flag(value, name: str) -> bool:
    """Return ``value`` after checking it is a bool (``numpy.bool_`` accepted)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_images(x, input_shape=None) -> np.ndarray:
    """Return ``x`` as a float32 NHWC batch after checking its shape and that it lies in [0, 1].

    Args:
        x: array-like of shape ``(N, H, W, C)`` (any rank ≥ 2 with a batch axis first is accepted
            when ``input_shape`` is unknown).
        input_shape: the model's per-sample shape; ``None`` entries match any size.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise ValueError(f"x must be a numeric array, got dtype {x.dtype}")
    if x.dtype.kind in "iu":
        raise ValueError("x must be float in [0, 1], got an integer array (divide uint8 images by 255)")
    x = x.astype(np.float32, copy=False)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {x.shape}")
    if input_shape is not None:
        expected = tuple(input_shape)
        got = x.shape[1:]
        if len(got) != len(expected) or any(e is not None and e != g for e, g in zip(expected, got)):
            raise ValueError(f"x must have shape (N, {', '.join(map(str, expected))}), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"x must lie in [0, 1], got values in [{lo:.4g}, {hi:.4g}]")
    return x


def check_labels(y, n: int, n_classes: int | None, name: str = "y") -> np.ndarray:
    """Return ``y`` as int32 of shape ``(n,)`` after checking every label is in ``[0, n_classes)``."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[0] == n and n_classes is not None and y.shape[1] == n_classes:
        raise ValueError(f"{name} must be integer class indices of shape ({n},), not one-hot; use argmax")
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match x, got {y.shape}")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if n_classes is not None and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"{name} labels must be in [0, {n_classes}), got values in [{y.min()}, {y.max()}]")
    return y.astype(np.int32)


# --------------------------------------------------------------------------- models


def resolve_model(model):
    """Return the logits callable behind ``model``.

    Args:
        model: a ``CharModel`` (any object with a ``.keras_model`` attribute) or a Keras model /
            callable mapping float32 NHWC images in [0, 1] to logits ``(N, n_classes)``.
    """
    net = getattr(model, "keras_model", model)
    if not callable(net):
        raise TypeError(f"model must be a Keras model or have a .keras_model, got {type(model).__name__}")
    return net


def model_input_shape(net):
    """Per-sample input shape of a Keras model (``None`` entries allowed), or ``None`` if unknown."""
    shape = getattr(net, "input_shape", None)
    if isinstance(shape, tuple) and len(shape) >= 2 and all(s is None or isinstance(s, int) for s in shape):
        return tuple(shape[1:])
    return None


def num_classes(net, x: np.ndarray) -> int:
    """Number of logits the model outputs (from its output shape, else from one forward pass)."""
    shape = getattr(net, "output_shape", None)
    if isinstance(shape, tuple) and len(shape) == 2 and isinstance(shape[-1], int):
        return shape[-1]
    return int(_compiled(net, x.shape[1:], "inf")["logits"](x[:1]).shape[-1])


def prepare(model, x, y, *, label_name: str = "y"):
    """Validate ``x`` and ``y`` against ``model``; return ``(net, x, y)`` ready for the compiled core."""
    net = resolve_model(model)
    x = check_images(x, model_input_shape(net))
    y = check_labels(y, x.shape[0], num_classes(net, x), label_name)
    return net, x, y


# --------------------------------------------------------------------------- the loss and geometry


def objective(logits, y, targeted):
    """The one loss every attack ascends: per-sample cross-entropy on ``logits``, negated when targeted.

    Args:
        logits: ``(N, K)`` tensor.
        y: ``(N,)`` int labels — the true labels, or the targets when ``targeted``.
        targeted: Python bool or scalar bool tensor.

    Returns:
        ``(N,)`` tensor; larger is better for the attacker.
    """
    import tensorflow as tf

    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(y, tf.int32), logits=logits)
    sign = 1.0 - 2.0 * tf.cast(targeted, ce.dtype)
    return sign * ce


def is_success(logits, y, targeted):
    """Per-sample attack success: predicted ≠ ``y`` (untargeted) or predicted = ``y`` (targeted)."""
    import tensorflow as tf

    hit = tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), tf.cast(y, tf.int32))
    return tf.equal(hit, tf.cast(targeted, tf.bool))


def _per_sample_l2(v):
    import tensorflow as tf

    axes = list(range(1, len(v.shape)))
    return tf.sqrt(tf.reduce_sum(tf.square(v), axis=axes, keepdims=True))


def normalized_step(grad, norm):
    """Steepest-ascent direction of unit norm: ``sign(grad)`` for L∞, ``grad / ||grad||₂`` for L2.

    A zero gradient gives a zero step.
    """
    import tensorflow as tf

    norm = check_norm(norm)
    if norm == "inf":
        return tf.sign(grad)
    return grad / tf.maximum(_per_sample_l2(grad), _TINY)


def project(delta, eps, norm):
    """Project perturbations ``delta`` (batch first) onto the ``norm`` ball of radius ``eps``."""
    import tensorflow as tf

    norm = check_norm(norm)
    delta = tf.convert_to_tensor(delta)
    eps = tf.cast(eps, delta.dtype)
    if norm == "inf":
        return tf.clip_by_value(delta, -eps, eps)
    length = _per_sample_l2(delta)
    return delta * tf.minimum(1.0, eps / tf.maximum(length, _TINY))


def clip_to_ball(x_adv, x, eps, norm):
    """Return ``x_adv`` projected onto the ``eps``-ball around ``x`` and then onto [0, 1].

    Clipping to [0, 1] after the ball projection keeps the result inside both sets, because
    clipping towards the box never moves a point away from ``x`` (which lies in the box).
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(x)
    return tf.clip_by_value(x + project(tf.convert_to_tensor(x_adv) - x, eps, norm), 0.0, 1.0)


def random_start(x: np.ndarray, eps: float, norm, rng: np.random.Generator) -> np.ndarray:
    """Draw a start uniformly inside the ``eps``-ball around ``x`` (then clipped to [0, 1]).

    L∞: independent uniform noise in ``[-eps, eps]``. L2: a uniform point of the d-dimensional ball
    (Gaussian direction, radius ``eps · u^(1/d)``).
    """
    norm = check_norm(norm)
    eps = check_eps(eps)
    if norm == "inf":
        delta = rng.uniform(-eps, eps, size=x.shape)
    else:
        n, d = x.shape[0], int(np.prod(x.shape[1:]))
        direction = rng.standard_normal((n, d))
        direction /= np.maximum(np.linalg.norm(direction, axis=1, keepdims=True), _TINY)
        radius = eps * rng.uniform(0.0, 1.0, size=(n, 1)) ** (1.0 / d)
        delta = (direction * radius).reshape(x.shape)
    return np.clip(x + delta, 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------------------- compiled functions

_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled(net, sample_shape, norm) -> dict:
    """``tf.function``s for ``net``: traced once per (sample shape, norm), any batch size.

    ``logits`` and ``grad`` do not depend on the norm; callers fetch them under ``"inf"``.

    The functions reach the model through a weak reference, so caching them does not keep the
    model alive.
    """
    import tensorflow as tf

    try:
        per_model = _CACHE.setdefault(net, {})
        ref = weakref.WeakMethod(net) if inspect.ismethod(net) else weakref.ref(net)
    except TypeError:  # callables that cannot be weakly referenced: cache on nothing, hold strongly
        per_model, ref = {}, lambda: net
    key = (tuple(sample_shape), norm)
    if key in per_model:
        return per_model[key]
    x_spec = tf.TensorSpec([None, *sample_shape], tf.float32)
    y_spec = tf.TensorSpec([None], tf.int32)
    flag = tf.TensorSpec([], tf.bool)
    scalar = tf.TensorSpec([], tf.float32)

    def logits_of(x):
        return tf.cast(ref()(x, training=False), tf.float32)

    @tf.function(input_signature=[x_spec])
    def logits(x):
        return logits_of(x)

    def objective_and_grad(x, y, targeted):
        with tf.GradientTape() as tape:
            tape.watch(x)
            z = logits_of(x)
            obj = objective(z, y, targeted)
            # Samples are independent at inference: the gradient of the sum is the per-sample gradient.
            total = tf.reduce_sum(obj)
        return obj, tape.gradient(total, x), z

    @tf.function(input_signature=[x_spec, y_spec, flag])
    def grad(x, y, targeted):
        return objective_and_grad(x, y, targeted)

    def advance(x_adv, x, y, targeted, eps, step_size):
        obj, g, z = objective_and_grad(x_adv, y, targeted)
        return clip_to_ball(x_adv + step_size * normalized_step(g, norm), x, eps, norm), obj, z

    step = tf.function(advance, input_signature=[x_spec, x_spec, y_spec, flag, scalar, scalar])

    @tf.function(input_signature=[x_spec, x_spec, y_spec, flag, scalar, scalar, tf.TensorSpec([], tf.int32), flag])
    def ascend(x_start, x, y, targeted, eps, step_size, steps, stop_on_success):
        # The whole PGD run of one batch in one graph; every iterate is scored, the best kept.
        # With ``stop_on_success`` a sample leaves the batch at its first successful iterate, so
        # later steps only cost what the still-unbroken samples need.
        def keep(best, rows, x_cand, obj, z):
            best_x, best_obj, best_success = (tf.gather(t, rows) for t in best)
            success = is_success(z, tf.gather(y, rows), targeted)
            better = improves(success, obj, best_success, best_obj)
            mask = tf.reshape(better, [-1] + [1] * (len(sample_shape)))
            updates = (tf.where(mask, x_cand, best_x), tf.where(better, obj, best_obj), tf.logical_or(best_success, success))
            return tuple(tf.tensor_scatter_nd_update(t, rows[:, None], u) for t, u in zip(best, updates))

        def live_rows(best_success):
            return tf.where(tf.logical_not(tf.logical_and(stop_on_success, best_success)))[:, 0]

        n = tf.shape(x)[0]
        best = (x_start, tf.fill([n], tf.constant(-np.inf, tf.float32)), tf.zeros([n], tf.bool))
        x_adv = x_start
        for _ in tf.range(steps):
            rows = live_rows(best[2])
            if tf.size(rows) == 0:
                break
            x_live = tf.gather(x_adv, rows)
            x_next, obj, z = advance(x_live, tf.gather(x, rows), tf.gather(y, rows), targeted, eps, step_size)
            best = keep(best, rows, x_live, obj, z)
            x_adv = tf.tensor_scatter_nd_update(x_adv, rows[:, None], x_next)
        rows = live_rows(best[2])
        if tf.size(rows) > 0:  # the model must not see an empty batch (oneDNN rejects it)
            x_live = tf.gather(x_adv, rows)
            z = logits_of(x_live)
            best = keep(best, rows, x_live, objective(z, tf.gather(y, rows), targeted), z)
        return best

    per_model[key] = {"logits": logits, "grad": grad, "step": step, "ascend": ascend}
    return per_model[key]


def batches(n: int, batch_size: int):
    """Yield slices covering ``range(n)`` in chunks of ``batch_size``."""
    for start in range(0, n, batch_size):
        yield slice(start, min(start + batch_size, n))


def predict_logits(model, x, *, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Logits of ``model`` on ``x`` (float32 in [0, 1]), batched and compiled."""
    net = resolve_model(model)
    x = check_images(x, model_input_shape(net))
    batch_size = check_count(batch_size, "batch_size")
    fn = _compiled(net, x.shape[1:], "inf")["logits"]
    return np.concatenate([fn(x[s]).numpy() for s in batches(len(x), batch_size)])


def predict(model, x, *, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Predicted class indices of ``model`` on ``x``."""
    return predict_logits(model, x, batch_size=batch_size).argmax(axis=-1)


def loss_gradient(model, x, y, *, targeted: bool = False, batch_size: int = DEFAULT_BATCH_SIZE):
    """Per-sample attack objective and its gradient with respect to the input.

    Args:
        model: ``CharModel`` or Keras model (logits out).
        x: ``(N, H, W, C)`` float32 in [0, 1].
        y: ``(N,)`` int labels (targets when ``targeted``).
        targeted: use the targeted objective (negated cross-entropy).
        batch_size: samples per compiled call.

    Returns:
        ``(objective, grad)``: arrays of shapes ``(N,)`` and ``x.shape``; the objective is
        :func:`objective`, i.e. larger is better for the attacker.
    """
    targeted = check_flag(targeted, "targeted")
    batch_size = check_count(batch_size, "batch_size")
    net, x, y = prepare(model, x, y)
    fn = _compiled(net, x.shape[1:], "inf")["grad"]
    objs, grads = [], []
    for s in batches(len(x), batch_size):
        obj, g, _ = fn(x[s], y[s], targeted)
        objs.append(obj.numpy())
        grads.append(g.numpy())
    return np.concatenate(objs), np.concatenate(grads)


def ascent_step_fn(net, sample_shape, norm):
    """The compiled step ``(x_adv, x, y, targeted, eps, step_size) -> (x_next, objective, logits)``.

    ``x_next`` is one normalised ascent step on :func:`objective` from ``x_adv``, projected onto the
    ``eps``-ball around ``x`` and onto [0, 1]; ``objective`` and ``logits`` are evaluated at
    ``x_adv`` (before the step). Inputs must already be validated (see :func:`prepare`).
    """
    return _compiled(net, tuple(sample_shape), check_norm(norm))["step"]


def ascent_run_fn(net, sample_shape, norm):
    """The compiled PGD run ``(x_start, x, y, targeted, eps, step_size, steps, stop_on_success)
    -> (x, objective, success)``.

    Takes ``steps`` :func:`ascent_step_fn` steps from ``x_start`` inside one graph, scoring every
    iterate (the start and the last one included) and keeping, per sample, the best by
    :func:`improves`. Returns the best iterate, its objective and whether it succeeds. With
    ``stop_on_success`` (a bool tensor) a sample stops at its first successful iterate and is no
    longer computed: same successes, less work, but a weaker (lower-objective) adversarial.
    """
    return _compiled(net, tuple(sample_shape), check_norm(norm))["ascend"]


def logits_fn(net, sample_shape):
    """The compiled logits function of ``net`` for samples of ``sample_shape``."""
    return _compiled(net, tuple(sample_shape), "inf")["logits"]


def improves(success, obj, best_success, best_obj):
    """Per-sample "candidate beats the best so far": success first, then a larger objective.

    Works on NumPy arrays and on TensorFlow tensors alike.
    """
    return (success & ~best_success) | ((success == best_success) & (obj > best_obj))
