"""Adversarial training of the character CNN: PGD-AT, fast FGSM with random start, TRADES.

* ``"pgd"`` — Madry et al., ICLR 2018 (https://arxiv.org/abs/1706.06083): train on PGD-k examples
  (random start, k steps of 2.5 ε / k), the per-sample best iterate of :func:`attacks.core.ascent_run_fn`.
* ``"fgsm-rs"`` — Wong, Rice & Kolter, ICLR 2020 (https://arxiv.org/abs/2001.03994): one FGSM step
  of 1.25 ε from a uniform random start (:func:`attacks.core.ascent_step_fn`). Can overfit
  catastrophically (PGD accuracy collapses within an epoch), hence the guard below.
* ``"trades"`` — Zhang et al., ICML 2019 (https://arxiv.org/abs/1901.08573): CE(clean) + β·KL(p(x) ‖
  p(x')), x' found by PGD steps on that KL (the one inner loss that is not
  :func:`attacks.core.objective`; projection and steps are the shared core's).

Adversarial stickers (``patch_rate`` > 0): that share of every batch gets, instead of its L∞
example, a *worst-case sticker*: a random bar / dot / rectangle mask on or around the glyph
(:func:`defense.augment.sticker_mask`) whose pixels are free in [0, 1] and set by ``patch_steps``
signed-gradient steps on the same objective (the L∞ projection of the shared core with a per-pixel
radius of 1 inside the mask and 0 outside). This is the digital counterpart of the printed patch
of ``attacks.patch`` (a sticker on the glyph), so the model learns to read through it.

Targeted "1" examples (``targeted_rate`` > 0; PGD-AT and FGSM-RS): that share of the batch's
"1"s gets, instead of its untargeted example, one aimed at a random other digit (the same ε,
steps and core, ``targeted=True``), as the targeted "1" → digit attacks of ``defense.evaluate``
do. Measured on de-hardened (``docs/robustness/README.md``), what lowers their success is more
"1"s under attack (:func:`repeat_class`), with or without the aim.

The adversarial examples are crafted with the network in inference mode (BatchNorm moving
statistics, no dropout) and the update runs in training mode on the concatenated clean +
adversarial batch; for PGD-AT and FGSM-RS the loss is ``w·CE(clean) + (1 - w)·CE(adversarial)``
(``clean_weight`` w, 0.5 by default: clean accuracy on real photos must not drop). ε ramps up
linearly over the first ``ramp_epochs`` epochs. Every epoch the random sticker augmentation
(:mod:`defense.augment`) is redrawn on the training inputs; the photometric / geometric
augmentation comes with the data (``alpr.char_crops.make_dataset``).

Catastrophic-overfitting guard: after every epoch an evaluator measures clean and PGD accuracy at
the full ε on a held-out subset (and once before training: the starting model is "epoch 0"); if
PGD accuracy falls more than ``guard_drop`` below the best epoch's, training stops and the best
epoch's weights are restored. The evaluator is injectable
(tests force a collapse).

Example::

    >>> cfg = HardenConfig(method="fgsm-rs", eps=32 / 255, epochs=4, seed=0)
    >>> model, history = harden(alpr.load_model("es"), x, y, x_val, y_val, cfg)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from alpr.plates import DIGITS
from attacks import core
from defense.augment import StickerPolicy, add_stickers, sticker_mask

METHODS = ("pgd", "fgsm-rs", "trades")


@dataclass(frozen=True)
class HardenConfig:
    """Validated settings of one hardening run (ε in [0, 1] pixel units, L∞)."""

    method: str = "fgsm-rs"
    eps: float = 32 / 255
    epochs: int = 4
    batch_size: int = 128
    learning_rate: float = 1e-3
    ramp_epochs: float = 1.0
    pgd_steps: int = 7
    fgsm_alpha: float = 1.25
    trades_beta: float = 6.0
    trades_steps: int = 5
    clean_weight: float = 0.5
    sticker_rate: float = 0.3
    patch_rate: float = 0.0
    patch_steps: int = 5
    targeted_rate: float = 0.0
    guard_samples: int = 500
    guard_steps: int = 10
    guard_drop: float = 0.2
    seed: int = 0

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}, got {self.method!r}")
        if not 0.0 < self.eps <= 1.0:
            raise ValueError(f"eps must be in (0, 1], got {self.eps}")
        for name in ("epochs", "batch_size", "pgd_steps", "trades_steps", "patch_steps", "guard_samples", "guard_steps"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.clean_weight < 1.0:
            raise ValueError(f"clean_weight must be in [0, 1), got {self.clean_weight}")
        if self.ramp_epochs < 0 or self.learning_rate <= 0 or self.trades_beta < 0:
            raise ValueError("ramp_epochs, trades_beta must be >= 0 and learning_rate > 0")
        StickerPolicy(rate=self.sticker_rate)  # validates the rate
        if not 0.0 <= self.patch_rate <= 1.0:
            raise ValueError(f"patch_rate must be in [0, 1], got {self.patch_rate}")
        if not 0.0 <= self.targeted_rate <= 1.0:
            raise ValueError(f"targeted_rate must be in [0, 1], got {self.targeted_rate}")
        if self.targeted_rate > 0 and self.method == "trades":
            raise ValueError("targeted_rate needs method pgd or fgsm-rs (TRADES' inner attack is its KL term)")


def pgd_evaluator(x_val, y_val, eps: float, *, steps: int = 10, seed: int = 0) -> Callable:
    """The default guard: ``evaluate(net, epoch) -> {"clean", "pgd"}`` accuracies on ``(x_val, y_val)``
    under PGD-``steps`` (random start, step 2.5 ε / steps) at ``eps``."""
    from attacks.pgd import pgd

    def evaluate(net, epoch):
        clean = float(np.mean(core.predict(net, x_val) == y_val))
        x_adv = pgd(net, x_val, y_val, eps=eps, steps=steps, step_size=2.5 * eps / steps, seed=seed + epoch + 1)
        return {"clean": clean, "pgd": float(np.mean(core.predict(net, x_adv) == y_val))}

    return evaluate


def _kl(z_clean, z_adv):
    """Per-sample KL(softmax(z_clean) ‖ softmax(z_adv)) from logits."""
    import tensorflow as tf

    log_p = tf.nn.log_softmax(z_clean)
    return tf.reduce_sum(tf.exp(log_p) * (log_p - tf.nn.log_softmax(z_adv)), axis=-1)


def _trades_attack(net, x, x_start, eps, steps):
    """PGD on KL(p(x) ‖ p(x')) in inference mode (TRADES' inner maximisation)."""
    import tensorflow as tf

    z_clean = tf.stop_gradient(net(x, training=False))
    x_adv = x_start
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            kl = tf.reduce_sum(_kl(z_clean, net(x_adv, training=False)))
        x_adv = core.clip_to_ball(x_adv + (2.5 * eps / steps) * core.normalized_step(tape.gradient(kl, x_adv), "inf"), x, eps, "inf")
    return x_adv


def _patch_attack(net, x, x_start, y, mask, steps):
    """Worst-case stickers: ``steps`` signed-gradient steps of :func:`attacks.core.objective` on the
    pixels under ``mask`` (free in [0, 1]; every other pixel stays as in ``x``), from ``x_start``."""
    import tensorflow as tf

    x_adv = x_start
    for _ in range(steps):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            obj = tf.reduce_sum(core.objective(net(x_adv, training=False), y, False))
        x_adv = core.clip_to_ball(x_adv + _PATCH_STEP * core.normalized_step(tape.gradient(obj, x_adv), "inf"), x, mask, "inf")
    return x_adv


#: Signed step of the sticker attack (pixel values are free in [0, 1] under the mask).
_PATCH_STEP = 0.25


def make_train_step(net, optimizer, cfg: HardenConfig):
    """The compiled update ``(x, x_start, y, eps, mask, targets) -> (loss, clean_acc, adv_acc)`` of
    ``cfg.method``.

    The first ``k = len(mask)`` samples of the batch get an adversarial sticker under their
    ``mask`` (:func:`_patch_attack`, starting from their ``x_start``); the next ``len(targets)``
    an L∞ example aimed at their ``targets`` (class indices); the others the method's L∞ example.
    """
    import tensorflow as tf

    shape = tuple(int(d) for d in net.inputs[0].shape[1:])
    x_spec, y_spec, scalar = tf.TensorSpec([None, *shape], tf.float32), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.float32)
    step_fn, run_fn = core.ascent_step_fn(net, shape, "inf"), core.ascent_run_fn(net, shape, "inf")
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits
    w, no, yes = float(cfg.clean_weight), tf.constant(False), tf.constant(True)

    def linf_examples(x, x_start, y, eps):
        if cfg.method == "fgsm-rs":
            return step_fn(x_start, x, y, no, eps, cfg.fgsm_alpha * eps)[0]
        if cfg.method == "pgd":
            return run_fn(x_start, x, y, no, eps, 2.5 * eps / cfg.pgd_steps, tf.constant(cfg.pgd_steps), no)[0]
        return _trades_attack(net, x, x_start, eps, cfg.trades_steps)

    def aimed_examples(x, x_start, targets, eps):
        if cfg.method == "fgsm-rs":
            return step_fn(x_start, x, targets, yes, eps, cfg.fgsm_alpha * eps)[0]
        return run_fn(x_start, x, targets, yes, eps, 2.5 * eps / cfg.pgd_steps, tf.constant(cfg.pgd_steps), no)[0]

    @tf.function(input_signature=[x_spec, x_spec, y_spec, scalar, x_spec, y_spec])
    def train_step(x, x_start, y, eps, mask, targets):
        k, n = tf.shape(mask)[0], tf.shape(x)[0]
        t = k + tf.shape(targets)[0]
        # any part may be empty (no stickers, no aimed "1"s, or nothing else): skip it then
        patched = tf.cond(k > 0, lambda: _patch_attack(net, x[:k], x_start[:k], y[:k], mask, cfg.patch_steps), lambda: x[:0])
        aimed = tf.cond(t > k, lambda: aimed_examples(x[k:t], x_start[k:t], targets, eps), lambda: x[:0])
        rest = tf.cond(t < n, lambda: linf_examples(x[t:], x_start[t:], y[t:], eps), lambda: x[:0])
        x_adv = tf.concat([patched, aimed, rest], 0)
        x_adv = tf.stop_gradient(x_adv)
        with tf.GradientTape() as tape:
            z_clean, z_adv = tf.split(net(tf.concat([x, x_adv], 0), training=True), 2)
            if cfg.method == "trades":
                loss = tf.reduce_mean(ce(labels=y, logits=z_clean)) + cfg.trades_beta * tf.reduce_mean(_kl(z_clean, z_adv))
            else:
                loss = w * tf.reduce_mean(ce(labels=y, logits=z_clean)) + (1 - w) * tf.reduce_mean(ce(labels=y, logits=z_adv))
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        acc = [tf.reduce_mean(tf.cast(tf.equal(tf.argmax(z, -1, output_type=tf.int32), y), tf.float32)) for z in (z_clean, z_adv)]
        return loss, acc[0], acc[1]

    return train_step


def _patch_count(batch: int, rate: float) -> int:
    """How many samples of a batch get a worst-case sticker (the first ones)."""
    return int(round(rate * batch))


def _patch_masks(start: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Sticker masks ``(k, H, W, 1)`` for the first ``k = _patch_count(batch, rate)`` samples; their
    rows of ``start`` (in place) get uniform noise under the mask, the sticker attack's random start."""
    k = _patch_count(len(start), rate)
    h, w = start.shape[1:3]
    masks = np.zeros((k, h, w, 1), np.float32)
    for i in range(k):
        masks[i, ..., 0] = sticker_mask(h, w, rng, _PATCH_SHAPES)
        start[i] = np.where(masks[i] > 0, rng.uniform(0, 1, (h, w, 1)), start[i])
    return masks


#: Shapes of the adversarial stickers: one bar, dot or rectangle up to ~15 % of the input.
_PATCH_SHAPES = StickerPolicy(rate=1.0)

#: The character the targeted examples start from; they aim at the other digits.
TARGETED_CHAR = "1"


def repeat_class(x: np.ndarray, y: np.ndarray, cls: int, times: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` with the samples of class ``cls`` appearing ``times`` times in all (the extra copies
    appended): more "1"s under attack per epoch than their share of the plates' characters gives."""
    if times < 1:
        raise ValueError(f"times must be >= 1, got {times}")
    extra = np.tile(np.flatnonzero(y == cls), times - 1)
    return np.concatenate([x, x[extra]]), np.concatenate([y, y[extra]])


def aimed_first(idx: np.ndarray, y: np.ndarray, k: int, source: int, targets: np.ndarray, rate: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The batch ``idx`` (rows of ``y``) with a ``rate`` share of its ``source``-class samples after
    the first ``k`` moved to just after them, and a random class of ``targets`` for each of those."""
    head, tail = idx[:k], idx[k:]
    sources = np.flatnonzero(y[tail] == source)
    chosen = sources[rng.random(len(sources)) < rate]
    others = np.setdiff1d(np.arange(len(tail)), chosen)
    return np.concatenate([head, tail[chosen], tail[others]]), rng.choice(targets, size=len(chosen)).astype(np.int32)


def harden(model, x, y, x_val, y_val, cfg: HardenConfig, *, evaluator: Callable | None = None,
           progress: bool = True, log=print):
    """Adversarially fine-tune ``model`` (a ``CharModel``; its Keras network is trained in place).

    Args:
        model: the starting ``CharModel`` (normally the undefended model of the country).
        x, y: training inputs float32 ``(N, H, W, 1)`` in [0, 1] and int labels.
        x_val, y_val: held-out inputs for the per-epoch guard (``cfg.guard_samples`` are used).
        cfg: :class:`HardenConfig`.
        evaluator: ``f(net, epoch) -> {"clean": acc, "pgd": acc}``, called once before training
            (``epoch=-1``: the starting model, "epoch 0" of the guard) and after every epoch;
            default :func:`pgd_evaluator`.

    Returns:
        ``(model, history)``: history has per-epoch lists ``epoch, eps, loss, train_clean_acc,
        train_adv_acc, val_clean_acc, val_pgd_acc, seconds`` plus ``best_epoch``, ``stopped_early``,
        ``restored_epoch`` (0 = the starting weights), ``initial``, ``fit_seconds`` and ``config``.
    """
    import keras
    from tqdm import tqdm

    net = model.keras_model
    x, y = core.check_images(x, model.input_shape), np.asarray(y, np.int32)
    x_val, y_val = x_val[: cfg.guard_samples], np.asarray(y_val[: cfg.guard_samples], np.int32)
    keras.utils.set_random_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    evaluator = evaluator or pgd_evaluator(x_val, y_val, cfg.eps, steps=cfg.guard_steps, seed=cfg.seed)
    per_epoch = int(np.ceil(len(x) / cfg.batch_size))
    total = per_epoch * cfg.epochs
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=total, alpha=0.05)
    optimizer = keras.optimizers.Adam(schedule)
    optimizer.build(net.trainable_variables)
    train_step = make_train_step(net, optimizer, cfg)
    stickers = StickerPolicy(rate=cfg.sticker_rate)
    no_targets = np.zeros(0, np.int32)
    if cfg.targeted_rate > 0:
        if TARGETED_CHAR not in model.alphabet:
            raise ValueError(f"targeted_rate: the model's alphabet has no {TARGETED_CHAR!r}")
        source = model.alphabet.index(TARGETED_CHAR)
        targets = np.array([model.alphabet.index(c) for c in DIGITS if c in model.alphabet and c != TARGETED_CHAR])
    keys = ("epoch", "eps", "loss", "train_clean_acc", "train_adv_acc", "val_clean_acc", "val_pgd_acc", "seconds")
    hist = {k: [] for k in keys}
    initial = evaluator(net, -1)  # the starting point counts: a fine-tune must not end less robust than it began
    best = {"pgd": initial["pgd"], "epoch": 0, "weights": net.get_weights()}
    log(f"start: held-out clean {initial['clean']:.2%}  PGD-{cfg.guard_steps} {initial['pgd']:.2%} at {cfg.eps * 255:.3g}/255")
    stopped, ramp_steps, t_fit, it = False, cfg.ramp_epochs * per_epoch, time.time(), 0
    for epoch in range(cfg.epochs):
        t0 = time.time()
        xe = add_stickers(x, rng, stickers) if cfg.sticker_rate > 0 else x
        order = rng.permutation(len(x))
        sums = np.zeros(3)
        bar = tqdm(range(per_epoch), desc=f"{cfg.method} epoch {epoch + 1}/{cfg.epochs}", unit="batch",
                   disable=not progress, mininterval=2.0)
        for b in bar:
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            aims = no_targets
            if cfg.targeted_rate > 0:  # no draw otherwise: runs without it stay as they were
                idx, aims = aimed_first(idx, y, _patch_count(len(idx), cfg.patch_rate), source, targets, cfg.targeted_rate, rng)
            eps_t = cfg.eps * min(1.0, (it + 1) / ramp_steps) if ramp_steps > 0 else cfg.eps
            xb = xe[idx]
            start = core.random_start(xb, eps_t, "inf", rng) if cfg.method != "trades" else \
                np.clip(xb + 0.001 * rng.standard_normal(xb.shape), 0, 1).astype(np.float32)
            masks = _patch_masks(start, rng, cfg.patch_rate)
            out = train_step(xb, start, y[idx], np.float32(eps_t), masks, aims)
            sums += [float(v) for v in out]
            it += 1
            if progress and b % 20 == 0:
                bar.set_postfix(loss=f"{sums[0] / (b + 1):.3f}", adv=f"{sums[2] / (b + 1):.3f}", eps=f"{eps_t * 255:.1f}/255")
        bar.close()
        scores = evaluator(net, epoch)
        for k, v in zip(keys, (epoch + 1, round(eps_t * 255, 3), *(sums / per_epoch), scores["clean"], scores["pgd"],
                                 time.time() - t0)):
            hist[k].append(round(float(v), 5))
        log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}  held-out clean {scores['clean']:.2%}  "
            f"PGD-{cfg.guard_steps} {scores['pgd']:.2%} at {cfg.eps * 255:.3g}/255  ({hist['seconds'][-1]:.0f} s)")
        if scores["pgd"] > best["pgd"]:
            best = {"pgd": scores["pgd"], "epoch": epoch + 1, "weights": net.get_weights()}
        elif scores["pgd"] < best["pgd"] - cfg.guard_drop:
            log(f"catastrophic overfitting guard: PGD accuracy {scores['pgd']:.2%} fell more than "
                f"{cfg.guard_drop:.0%} below epoch {best['epoch']}'s {best['pgd']:.2%}; restoring epoch {best['epoch']}")
            net.set_weights(best["weights"])
            stopped = True
            break
    hist.update(initial=initial, best_epoch=best["epoch"], stopped_early=stopped, restored_epoch=best["epoch"] if stopped else None,
                fit_seconds=round(time.time() - t_fit, 1), config=asdict(cfg))
    return model, hist
