"""Universal printable sticker for one character (the "1") of a country's plates.

The sticker is a grey image on a 1 px/mm grid anchored at the centre of the character's box; its
material is confined to a mask of a given *shape* — ``"strokes"`` (on the glyph's own strokes),
``"rect"`` (one rectangle) or ``"dots"`` (small discs) — whose area is at most ``area`` × the
character's ink box (the segmenter's box of the nominal "1", e.g. 38 × 73 mm for the German FE
"1"), anywhere inside the character's cell.

Optimisation (Adam on the sticker's grey levels) maximises the one loss :func:`attacks.core.objective`,
targeted at one digit (over the digit classes, as the grammar decoder reads a digit slot among
digits only), capped per sample so effort goes to the transformations not yet fooled, averaged
over many rendered plates of the country (random text and styles, in the typefaces of
``fonts``) and over :mod:`attacks.eot` transformations, minus a non-printability score (squared
distance to the nearest :data:`PALETTE` grey) and total variation.

The aim: the target, or for ``target="any"`` the digits whose short probe runs (``probe_steps``,
one per candidate digit) fooled the model most often; success still counts any other reading.
Which digit a sticker can fake depends on the glyph and the shape (the Spanish "1" under one
rectangle becomes a "7", the German one on its strokes a "3"). ``restarts`` full runs (for
"any": at the best probes in turn) are scored on one fixed validation set of training
transformations and the best printed sticker is kept: a run's success varies a lot with its
random batches, and this score tracks the held-out pipeline success closely.

A run has two phases. Warm-up (``warmup`` × steps): the whole allowed region may change, starting
from the plate's own look with a small L1 pull back to it; the mask shrinks to the area budget in
four stages, each keeping where the sticker departs most from the plate (smoothed by
``blob_mm``, projected onto the shape by :func:`select_mask`). Second phase: optimisation inside
the final mask; for its last ``hard_tail`` × steps the forward pass sees the sticker snapped to
the palette (straight-through gradient), and the result is snapped (what is printed).

Restarts alternate two recipes, because which works better depends on the glyph and shape: aimed
from the first step with the long warm-up (the Spanish rectangle needs it to find its place), or
a free start (``free_start`` × steps untargeted, away from the "1" in any direction) with the
``short_warmup`` (the German strokes: more steps inside the final mask; 84 % against 77 % on
average over three seeds). The probes use the short warm-up too: more of their few steps are
spent inside a mask of the budget, whose success they are meant to predict.

Example::

    >>> model = alpr.load_model("de")
    >>> sticker = optimise_patch(model, PatchConfig(country="de", target="any", area=0.15, shape="strokes"))
    >>> sticker.area_fraction <= 0.15, sticker.mask.shape
    (True, (79, 45))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from types import SimpleNamespace

import cv2
import numpy as np

from attacks import core, eot
from attacks.patch_geometry import FONTS, SHAPES, allowed_region, nominal_char, select_mask, training_windows

__all__ = ["FONTS", "PALETTE", "SHAPES", "PatchConfig", "Sticker", "allowed_region", "nominal_char", "optimise_patch", "select_mask",
           "snap", "training_windows"]

#: Printable greys (ink coverage on white sticker film): black, dark, light grey, white.
PALETTE = np.array([0.05, 0.35, 0.65, 0.97], np.float32)


@dataclass(frozen=True)
class PatchConfig:
    """Settings of :func:`optimise_patch` (validated by :meth:`check`)."""

    country: str = "de"
    char: str = "1"
    target: str = "any"
    area: float = 0.15
    shape: str = "strokes"
    fonts: str = "standard"  # plate typefaces optimised over (see attacks.patch_geometry.FONTS)
    steps: int = 400
    batch: int = 24
    n_plates: int = 96
    lr: float = 0.04
    warmup: float = 0.5  # fraction of steps spent shrinking the mask from the whole region to the budget
    short_warmup: float = 0.3  # the same for the free-start restarts and the probes
    nps_weight: float = 0.05
    tv_weight: float = 0.01
    cap: float = -0.05  # per-sample objective cap (minus the target's CE, in nats): no effort
    # on samples already read as the target with probability > ~0.95 (at the tempered logits)
    free_start: float = 0.125  # every second restart: share of the steps first spent untargeted
    free_cap: float = 3.0  # the free start's per-sample cap (the source's CE, in nats)
    hard_tail: float = 0.25  # share of the steps, at the end of a run, that see the sticker snapped to
    # the palette (straight-through gradient): the printed sticker is the snapped one
    probe_steps: int = 48  # target "any": length of the short run aimed at each candidate (<= steps)
    restarts: int = 2  # full runs (for "any": aimed at the best probes in turn); the sticker that
    # fools the model most often on a fixed validation set of training transformations is kept
    n_val: int = 192  # size of that validation set
    temperature: float = 8.0  # logits are divided by it inside the objective
    reach_mm: float = 6.0  # "strokes": material may go this far from the glyph's strokes
    blob_mm: float = 2.0  # smoothing of the importance map (larger: more compact material)
    seed: int = 0
    ranges: eot.Ranges = eot.TRAIN

    def check(self, alphabet: str) -> "PatchConfig":
        """Raise ``ValueError`` on a bad setting; return self."""
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        if self.fonts not in FONTS:
            raise ValueError(f"fonts must be one of {', '.join(FONTS)}, got {self.fonts!r}")
        if not 0 < self.area <= 1:
            raise ValueError(f"area must be in (0, 1], got {self.area}")
        if len(self.char) != 1 or self.char not in alphabet:
            raise ValueError(f"char must be one character of {alphabet!r}, got {self.char!r}")
        if self.target != "any" and (len(self.target) != 1 or self.target not in alphabet or self.target == self.char):
            raise ValueError(f"target must be 'any' or one character of {alphabet!r} other than {self.char!r}")
        if self.target != "any" and self.target.isdigit() != self.char.isdigit():
            raise ValueError("target must be of the same kind (digit/letter) as char: the grammar forces it")
        for name in ("steps", "batch", "n_plates", "probe_steps", "restarts", "n_val"):
            core.check_count(getattr(self, name), name)
        for name in ("warmup", "short_warmup", "free_start", "hard_tail"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be a share of the steps in [0, 1), got {getattr(self, name)}")
        return self


@dataclass
class Sticker:
    """An optimised sticker. ``grey`` (H, W) in [0, 1] on a 1 px/mm grid, ``mask`` (H, W) bool
    (material), ``origin`` (x, y) its pixel on the character box centre; ``box_mm`` the nominal
    character ink box (x, y, w, h) on the 520 × 110 mm plate."""

    grey: np.ndarray
    mask: np.ndarray
    origin: tuple[float, float]
    box_mm: tuple[float, float, float, float]
    config: PatchConfig
    history: list = field(default_factory=list)
    seconds: float = 0.0
    aimed_at: str = "any"  # the digit the kept run aimed at (for target "any": one of the best probes)
    probes: dict = field(default_factory=dict)  # target "any": each candidate's probe EOT success
    validation: float | None = None  # share of the validation transformations it fools (see PatchConfig.restarts)

    @property
    def area_mm2(self) -> float:
        """Material area in mm² (pixels are 1 mm²)."""
        return float(self.mask.sum())

    @property
    def area_fraction(self) -> float:
        """Material area over the character's ink box area."""
        return self.area_mm2 / (self.box_mm[2] * self.box_mm[3])

    def rgb(self) -> np.ndarray:
        """(H, W, 3) float RGB in [0, 1]; white outside the mask."""
        return np.repeat(np.where(self.mask, self.grey, 1.0)[..., None], 3, axis=2).astype(np.float32)

    def offset_mm(self) -> tuple[float, float]:
        """Top-left corner of the sticker image on the nominal plate (mm)."""
        x, y, w, h = self.box_mm
        return (x + w / 2 - self.origin[0], y + h / 2 - self.origin[1])

    def summary(self) -> dict:
        """JSON-able description (no arrays)."""
        cfg = asdict(self.config)
        cfg["ranges"] = "train"
        return {"shape_px": list(self.grey.shape), "area_mm2": self.area_mm2, "area_fraction": round(self.area_fraction, 4),
                "box_mm": [round(v, 2) for v in self.box_mm], "origin": list(self.origin), "config": cfg,
                "optimise_seconds": round(self.seconds, 1),
                "aimed_at": self.aimed_at, "aim_probes": self.probes, "validation_fooled": self.validation,
                "final_eot_fooled": round(float(np.mean([h[1] for h in self.history[-50:]])), 4) if self.history else None}


def read_sticker_npz(path) -> SimpleNamespace:
    """A sticker saved by ``alpr patch`` (its ``sticker.npz``): ``grey``, ``mask``, ``origin`` and
    ``box_mm``, enough to print and stick it (:func:`attacks.capture_test.stick`). ``ValueError``
    with a one-line message when the file is not one."""
    try:
        with np.load(path) as f:
            return SimpleNamespace(grey=f["grey"].astype(np.float32), mask=f["mask"].astype(bool),
                                   origin=tuple(float(v) for v in f["origin"]), box_mm=tuple(float(v) for v in f["box_mm"]))
    except (OSError, KeyError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: not a sticker.npz from alpr patch ({err})") from None


# --------------------------------------------------------------------------- optimisation


def nps(grey, mask):
    """Non-printability score: mean squared distance of the masked greys to the nearest palette grey."""
    import tensorflow as tf

    d = tf.reduce_min(tf.square(grey[..., None] - tf.constant(PALETTE)), axis=-1)
    return tf.reduce_sum(d * mask) / tf.maximum(tf.reduce_sum(mask), 1.0)


def total_variation(grey, mask):
    """Mean absolute difference between neighbouring masked pixels."""
    import tensorflow as tf

    dx = tf.abs(grey[:, 1:] - grey[:, :-1]) * mask[:, 1:] * mask[:, :-1]
    dy = tf.abs(grey[1:] - grey[:-1]) * mask[1:] * mask[:-1]
    return (tf.reduce_sum(dx) + tf.reduce_sum(dy)) / tf.maximum(tf.reduce_sum(mask), 1.0)


def snap(grey: np.ndarray) -> np.ndarray:
    """Each grey replaced by the nearest :data:`PALETTE` grey (what the printer prints)."""
    return PALETTE[np.abs(grey[..., None] - PALETTE).argmin(-1)]


def snap_straight_through(grey):
    """``grey`` snapped to the palette in the forward pass, the identity in the backward pass
    (straight-through estimator), so the optimiser sees what will be printed."""
    import tensorflow as tf

    palette = tf.constant(PALETTE)
    snapped = tf.gather(palette, tf.argmin(tf.abs(grey[..., None] - palette), axis=-1))
    return grey + tf.stop_gradient(snapped - grey)


def crop_boxes(grey: np.ndarray, mask: np.ndarray, origin, data: dict, idx: np.ndarray) -> np.ndarray:
    """The segmenter's box of the attacked character once the sticker is on: the glyph's box
    grown to the sticker's dark material (grey < 0.5), in window pixels."""
    boxes = data["boxes"][idx].copy()
    ys, xs = np.nonzero(mask & (grey < 0.5))
    if len(xs):
        a = data["anchor"][idx]
        x0 = np.minimum(boxes[:, 0], a[:, 0] + xs.min() - origin[0] - 0.5)
        y0 = np.minimum(boxes[:, 1], a[:, 1] + ys.min() - origin[1] - 0.5)
        x1 = np.maximum(boxes[:, 0] + boxes[:, 2], a[:, 0] + xs.max() - origin[0] + 0.5)
        y1 = np.maximum(boxes[:, 1] + boxes[:, 3], a[:, 1] + ys.max() - origin[1] + 0.5)
        boxes = np.stack([x0, y0, x1 - x0, y1 - y0], 1)
    return boxes.astype(np.float32)


def optimise_patch(model, config: PatchConfig, *, progress: bool = True) -> Sticker:
    """Optimise a universal sticker for ``config.char`` of ``config.country`` against ``model``
    (a ``CharModel``: its Keras logits are attacked through :func:`attacks.eot.apply`).

    Returns:
        A :class:`Sticker` snapped to the palette, its mask inside the shape and area budget.
    """
    import time

    import keras
    import tensorflow as tf
    from tqdm import tqdm

    start = time.perf_counter()
    cfg = config.check(model.alphabet)
    rng = np.random.default_rng(cfg.seed)
    tf.random.set_seed(cfg.seed)
    net = core.resolve_model(model)
    nominal = nominal_char(cfg.country, cfg.char)
    allowed, origin, look = allowed_region(cfg.shape, nominal, cfg.reach_mm)
    budget = cfg.area * nominal["box"][2] * nominal["box"][3]
    data = training_windows(cfg.country, cfg.char, cfg.n_plates, rng, cfg.fonts)
    alphabet = model.alphabet
    cols = [i for i, c in enumerate(alphabet) if c.isdigit() == cfg.char.isdigit()]
    source = cols.index(alphabet.index(cfg.char))
    targeted = cfg.target != "any"
    label = tf.Variable(source, dtype=tf.int32)  # the digit aimed at (set by reset)
    aimed = tf.Variable(True)  # False during the free start: untargeted, away from the source
    hard = tf.Variable(False)  # True in the hard tail: the forward pass sees the snapped sticker
    grey = tf.Variable(look.copy())
    look_t = tf.constant(look)
    mask_t = tf.Variable(allowed.astype(np.float32))
    l1 = tf.Variable(0.02)
    opt = keras.optimizers.Adam(cfg.lr)
    opt.build([grey])
    hw = data["windows"].shape[1:3]
    origin_t = tf.constant(origin, tf.float32)

    @tf.function(reduce_retracing=True, autograph=False)  # no tensor-dependent Python control flow
    def step(params, windows, anchor, boxes):
        with tf.GradientTape() as tape:
            seen = tf.where(hard, snap_straight_through(grey), grey)
            x = eot.apply(params, seen, mask_t, windows, anchor, origin_t, boxes, model.input_shape[:2])
            z = tf.gather(tf.cast(net(x, training=False), tf.float32), cols, axis=1)
            # tempered logits: a saturated softmax has no gradient at the confident clean "1"
            y = tf.fill([tf.shape(z)[0]], tf.where(aimed, label, source))
            obj = core.objective(z / cfg.temperature, y, aimed)
            attack = tf.reduce_mean(tf.minimum(obj, tf.where(aimed, cfg.cap, cfg.free_cap)))
            change = tf.reduce_sum(tf.abs(grey - look_t) * mask_t) / tf.reduce_sum(mask_t)
            loss = -attack + cfg.nps_weight * nps(grey, mask_t) + cfg.tv_weight * total_variation(grey, mask_t) + l1 * change
        opt.apply_gradients([(tape.gradient(loss, grey), grey)])
        grey.assign(tf.clip_by_value(grey, 0.0, 1.0))
        fooled = tf.cast(core.is_success(z, tf.fill([tf.shape(z)[0]], label), True), tf.float32)  # as the aim
        return attack, tf.reduce_mean(fooled)

    def reset(aim: int):
        """Back to the plate's look on the whole allowed region, aiming at column ``aim``."""
        grey.assign(look)
        mask_t.assign(allowed.astype(np.float32))
        l1.assign(0.02)
        label.assign(aim)
        aimed.assign(False)  # free start first (see run)
        fresh_moments()

    def fresh_moments():
        for v in opt.variables:
            if v.path.endswith(("momentum", "velocity")):
                v.assign(tf.zeros_like(v))
        opt.iterations.assign(0)

    def run(n_steps: int, desc: str, free_start: float = 0.0, warmup: float = cfg.warmup):
        """Optimise for ``n_steps``, untargeted for the first ``free_start`` × n_steps; the mask
        shrinks from the whole allowed region to the budget in four stages during the warm-up
        (continuation). Returns (mask, history)."""
        warm = int(round(warmup * n_steps))
        hard_from = max(warm, n_steps - int(round(cfg.hard_tail * n_steps)))  # the tail lies in the mask phase
        stages = {int(round(warm * j / 4)): budget * (allowed.sum() / budget) ** (1 - j / 4) for j in range(1, 5)}
        mask = allowed.copy()
        history = []
        hard.assign(False)
        bar = tqdm(range(n_steps), desc=desc, disable=not progress, leave=False)
        for it in bar:
            if it in stages and it > 0:
                importance = cv2.GaussianBlur(np.abs(grey.numpy() - look), (0, 0), cfg.blob_mm)
                mask = select_mask(cfg.shape, importance, mask, min(stages[it], mask.sum()))
                mask_t.assign(mask.astype(np.float32))
                grey.assign(np.where(mask, grey.numpy(), look).astype(np.float32))
                fresh_moments()  # for the new mask
            if it == warm:
                l1.assign(0.0)
            if it == int(round(free_start * n_steps)):
                aimed.assign(True)
            if it == hard_from:
                hard.assign(True)
            idx = rng.integers(0, cfg.n_plates, cfg.batch)
            params = eot.sample(cfg.ranges, cfg.batch, rng, window_hw=hw)
            boxes = crop_boxes(grey.numpy(), mask, origin, data, idx)
            attack, rate = step(params, data["windows"][idx], data["anchor"][idx], boxes)
            history.append((float(attack), float(rate)))
            if it % 10 == 0:
                recent = np.mean([h[1] for h in history[-20:]])
                bar.set_postfix(obj=f"{float(attack):.2f}", fooled=f"{recent:.2f}", phase="warm" if it < warm else "mask")
        if mask.sum() > budget:  # too few steps to reach the last stage: project now
            mask = select_mask(cfg.shape, np.abs(grey.numpy() - look), mask, budget)
        return mask, history

    val_rng = np.random.default_rng([cfg.seed, 1])  # the same validation set for every restart
    val_idx = val_rng.integers(0, cfg.n_plates, cfg.n_val)
    val_params = eot.sample(cfg.ranges, cfg.n_val, val_rng, window_hw=hw)

    def validate(final, mask) -> float:
        """Share of the validation samples the printed (snapped) sticker fools: any reading
        but the source for "any", the target otherwise."""
        boxes = crop_boxes(final, mask, origin, data, val_idx)
        x = eot.apply(val_params, tf.constant(final), tf.constant(mask.astype(np.float32)), data["windows"][val_idx],
                      data["anchor"][val_idx], origin_t, boxes, model.input_shape[:2])
        pred = np.asarray(tf.argmax(tf.gather(net(x, training=False), cols, axis=1), 1))
        return float(np.mean(pred == cols.index(alphabet.index(cfg.target)) if targeted else pred != source))

    probes = {}  # target "any": the candidates' probe scores
    if targeted:
        aims = [cols.index(alphabet.index(cfg.target))] * cfg.restarts
    else:
        # "any": a short run aimed at each other digit (letter) in turn; the full runs aim at the
        # ones fooled most often at the end of their probes (success still counts any other reading)
        n_probe = min(cfg.probe_steps, cfg.steps)  # never longer than the run itself
        for c in (c for c in range(len(cols)) if c != source):
            reset(c)
            _, hist = run(n_probe, f"aim {alphabet[cols[c]]}", warmup=cfg.short_warmup)
            probes[alphabet[cols[c]]] = round(float(np.mean([h[1] for h in hist[-max(1, n_probe // 4):]])), 4)
        ranked = sorted(probes, key=probes.get, reverse=True)
        aims = [cols.index(alphabet.index(ranked[k % len(ranked)])) for k in range(cfg.restarts)]
    best = None
    for k, aim in enumerate(aims):
        reset(aim)
        # restarts alternate: aimed from the start with the long warm-up, or a free start and the short one
        free, warmup = (cfg.free_start, cfg.short_warmup) if k % 2 else (0.0, cfg.warmup)
        mask, history = run(cfg.steps, f"patch {cfg.country} {cfg.char}->{alphabet[cols[aim]]} ({k + 1}/{len(aims)})", free, warmup)
        final = np.where(mask, snap(grey.numpy()), 1.0).astype(np.float32)
        score = validate(final, mask)
        if best is None or score > best[0]:
            best = (score, final, mask, history, aim)
    score, final, mask, history, aim = best
    return Sticker(final, mask, origin, nominal["box"], cfg, history, time.perf_counter() - start, alphabet[cols[aim]], probes,
                   round(score, 4))
