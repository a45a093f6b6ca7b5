"""Universal printable sticker for one character (the "1") of a country's plates.

The sticker is a grey image on a 1 px/mm grid anchored at the centre of the character's box; its
material is confined to a mask of a given *shape* — ``"strokes"`` (on the glyph's own strokes),
``"rect"`` (one rectangle) or ``"dots"`` (small discs) — whose area is at most ``area`` × the
character's ink box (the segmenter's box of the nominal "1", e.g. 38 × 73 mm for the German FE
"1"), anywhere inside the character's cell.

Optimisation (Adam on the sticker's grey levels) maximises the one loss :func:`attacks.core.objective`
(untargeted for ``target="any"``, targeted otherwise; over the digit classes, as the grammar
decoder reads a digit slot among digits only), capped per sample so effort goes to the
transformations not yet fooled, averaged over many rendered plates of the country (random text,
fonts and styles) and over :mod:`attacks.eot` transformations, minus a non-printability score
(squared distance to the nearest :data:`PALETTE` grey) and total variation.

Two phases. Warm-up (``warmup`` × steps): the whole allowed region may change, starting from the
plate's own look with a small L1 pull back to it; the mask then shrinks to the area budget in
four stages, each keeping where the sticker departs most from the plate (smoothed by
``blob_mm``, projected onto the shape by :func:`select_mask`). For ``target="any"`` the first
stage also picks the digit the warm-up drifts towards and the objective becomes targeted on it
(success still counts any other reading). Second phase: optimisation inside the final mask; the
result is snapped to the palette (what is printed).

Example::

    >>> model = alpr.load_model("de")
    >>> sticker = optimise_patch(model, PatchConfig(country="de", target="any", area=0.15, shape="strokes"))
    >>> sticker.area_fraction <= 0.15, sticker.mask.shape
    (True, (79, 45))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from attacks import core, eot
from attacks.patch_geometry import SHAPES, allowed_region, nominal_char, select_mask, training_windows

__all__ = ["PALETTE", "SHAPES", "PatchConfig", "Sticker", "allowed_region", "nominal_char", "optimise_patch", "select_mask",
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
    steps: int = 400
    batch: int = 24
    n_plates: int = 96
    lr: float = 0.04
    warmup: float = 0.5  # fraction of steps spent shrinking the mask from the whole region to the budget
    nps_weight: float = 0.05
    tv_weight: float = 0.01
    cap: float = 3.0  # per-sample objective cap (untargeted CE of the true class, in nats)
    temperature: float = 8.0  # logits are divided by it inside the objective
    reach_mm: float = 4.0  # "strokes": material may go this far from the glyph's strokes
    blob_mm: float = 2.0  # smoothing of the importance map (larger: more compact material)
    seed: int = 0
    ranges: eot.Ranges = eot.TRAIN

    def check(self, alphabet: str) -> "PatchConfig":
        """Raise ``ValueError`` on a bad setting; return self."""
        if self.shape not in SHAPES:
            raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {self.shape!r}")
        if not 0 < self.area <= 1:
            raise ValueError(f"area must be in (0, 1], got {self.area}")
        if len(self.char) != 1 or self.char not in alphabet:
            raise ValueError(f"char must be one character of {alphabet!r}, got {self.char!r}")
        if self.target != "any" and (len(self.target) != 1 or self.target not in alphabet or self.target == self.char):
            raise ValueError(f"target must be 'any' or one character of {alphabet!r} other than {self.char!r}")
        if self.target != "any" and self.target.isdigit() != self.char.isdigit():
            raise ValueError("target must be of the same kind (digit/letter) as char: the grammar forces it")
        for name in ("steps", "batch", "n_plates"):
            core.check_count(getattr(self, name), name)
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
    aimed_at: str = "any"  # the digit the optimisation aimed at (for target "any": chosen after the warm-up)

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
                "aimed_at": self.aimed_at, "final_eot_fooled": round(float(np.mean([h[1] for h in self.history[-50:]])), 4)
                if self.history else None}


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
    data = training_windows(cfg.country, cfg.char, cfg.n_plates, rng)
    alphabet = model.alphabet
    cols = [i for i, c in enumerate(alphabet) if c.isdigit() == cfg.char.isdigit()]
    source = cols.index(alphabet.index(cfg.char))
    targeted = cfg.target != "any"
    label = tf.Variable(cols.index(alphabet.index(cfg.target)) if targeted else source, dtype=tf.int32)
    is_targeted = tf.Variable(targeted)
    cap = tf.Variable(-0.05 if targeted else cfg.cap, dtype=tf.float32)
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
            x = eot.apply(params, grey, mask_t, windows, anchor, origin_t, boxes, model.input_shape[:2])
            z = tf.gather(tf.cast(net(x, training=False), tf.float32), cols, axis=1)
            # tempered logits: a saturated softmax has no gradient at the confident clean "1"
            obj = core.objective(z / cfg.temperature, tf.fill([tf.shape(z)[0]], label), is_targeted)
            attack = tf.reduce_mean(tf.minimum(obj, cap))
            change = tf.reduce_sum(tf.abs(grey - look_t) * mask_t) / tf.reduce_sum(mask_t)
            loss = -attack + cfg.nps_weight * nps(grey, mask_t) + cfg.tv_weight * total_variation(grey, mask_t) + l1 * change
        opt.apply_gradients([(tape.gradient(loss, grey), grey)])
        grey.assign(tf.clip_by_value(grey, 0.0, 1.0))
        pred = tf.argmax(z, 1, output_type=tf.int32)
        fooled = tf.where(is_targeted, pred == label, pred != source)
        return attack, tf.reduce_mean(tf.cast(fooled, tf.float32)), tf.reduce_mean(tf.nn.softmax(z), 0)

    warm = int(round(cfg.warmup * cfg.steps))
    # continuation: the mask shrinks from the whole allowed region to the budget in four stages
    stages = {int(round(warm * j / 4)): budget * (allowed.sum() / budget) ** (1 - j / 4) for j in range(1, 5)}
    mask = allowed.copy()
    history, probs = [], []
    bar = tqdm(range(cfg.steps), desc=f"patch {cfg.country} {cfg.char}->{cfg.target}", disable=not progress, leave=False)
    for it in bar:
        if it in stages and it > 0:
            if not targeted and not bool(is_targeted.numpy()):
                # "any": aim at the digit the free warm-up already pushes towards (a targeted
                # objective concentrates the effort; success still counts any other reading)
                p = np.mean(probs[-10:], axis=0)
                p[source] = -1
                label.assign(int(np.argmax(p)))
                is_targeted.assign(True)
                cap.assign(-0.05)
            importance = cv2.GaussianBlur(np.abs(grey.numpy() - look), (0, 0), cfg.blob_mm)
            mask = select_mask(cfg.shape, importance, mask, min(stages[it], mask.sum()))
            mask_t.assign(mask.astype(np.float32))
            grey.assign(np.where(mask, grey.numpy(), look).astype(np.float32))
            for v in opt.variables:  # fresh Adam moments for the new mask
                if v.path.endswith(("momentum", "velocity")):
                    v.assign(tf.zeros_like(v))
            opt.iterations.assign(0)
        if it == warm:
            l1.assign(0.0)
        idx = rng.integers(0, cfg.n_plates, cfg.batch)
        params = eot.sample(cfg.ranges, cfg.batch, rng, window_hw=hw)
        boxes = crop_boxes(grey.numpy(), mask, origin, data, idx)
        attack, rate, p = step(params, data["windows"][idx], data["anchor"][idx], boxes)
        history.append((float(attack), float(rate)))
        probs.append(p.numpy())
        if it % 10 == 0:
            recent = np.mean([h[1] for h in history[-20:]])
            bar.set_postfix(obj=f"{float(attack):.2f}", fooled=f"{recent:.2f}", phase="warm" if it < warm else "mask")
    aimed = cfg.target if targeted else alphabet[cols[int(label.numpy())]] if bool(is_targeted.numpy()) else "any"
    if mask.sum() > budget:  # too few steps to reach the last stage: project now
        mask = select_mask(cfg.shape, np.abs(grey.numpy() - look), mask, budget)
    final = np.where(mask, snap(grey.numpy()), 1.0).astype(np.float32)
    return Sticker(final, mask, origin, nominal["box"], cfg, history, time.perf_counter() - start, aimed)
