"""Patch / occlusion augmentation for physical robustness: random "stickers" on character inputs.

A sticker is a bar (straight stroke at any angle), a dot (filled disc) or a rectangle of dark or
light ink, drawn on or around the glyph of a model input (float32 ``(H, W, 1)`` in [0, 1], after
the pipeline's preprocessing). It imitates tape, dirt, screws, stickers and the printed patches of
the physical attack (attacks/patch.py), so the hardened model learns to ignore small foreign marks
instead of reading them as strokes. Ink levels are drawn relative to the input's own dark / paper
levels, with a little noise, so stickers look like the other pixels of the same crop.

The photometric and geometric augmentation (blur, noise, JPEG, lighting, segmentation jitter) is
``alpr.char_crops``'s synthetic-data pipeline, applied when the data are generated; this module only
adds the stickers, cheaply, per epoch.

Example::

    >>> rng = np.random.default_rng(0)
    >>> x_aug = add_stickers(x, rng, rate=0.3)      # 30 % of the samples get 1-2 stickers
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

KINDS = ("bar", "dot", "rect")


@dataclass(frozen=True)
class StickerPolicy:
    """Sizes are fractions of the input height; ``rate`` is the share of samples that get stickers."""

    rate: float = 0.3
    max_stickers: int = 2
    bar_length: tuple[float, float] = (0.25, 0.8)
    bar_width: tuple[float, float] = (0.04, 0.12)
    dot_radius: tuple[float, float] = (0.05, 0.14)
    rect_size: tuple[float, float] = (0.12, 0.35)
    dark_share: float = 0.5  # dark ink vs light (paper-coloured) ink

    def __post_init__(self):
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be in [0, 1], got {self.rate}")
        if self.max_stickers < 1:
            raise ValueError(f"max_stickers must be >= 1, got {self.max_stickers}")


def sticker_mask(h: int, w: int, rng: np.random.Generator, policy: StickerPolicy = StickerPolicy(), kind: str | None = None) -> np.ndarray:
    """A bool ``(h, w)`` mask of one random sticker (bar, dot or rectangle) on or around the glyph."""
    kind = kind or str(rng.choice(KINDS))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    mask = np.zeros((h, w), np.uint8)
    cx, cy = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.1, 1.1) * h  # on or around the glyph
    if kind == "bar":
        length, angle = rng.uniform(*policy.bar_length) * h, rng.uniform(0, np.pi)
        dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
        thick = max(1, int(round(rng.uniform(*policy.bar_width) * h)))
        cv2.line(mask, (int(cx - dx), int(cy - dy)), (int(cx + dx), int(cy + dy)), 1, thick, cv2.LINE_8)
    elif kind == "dot":
        cv2.circle(mask, (int(cx), int(cy)), max(1, int(round(rng.uniform(*policy.dot_radius) * h))), 1, -1)
    else:
        rw, rh = (rng.uniform(*policy.rect_size, size=2) * h).astype(int) + 1
        cv2.rectangle(mask, (int(cx - rw / 2), int(cy - rh / 2)), (int(cx + rw / 2), int(cy + rh / 2)), 1, -1)
    return mask.astype(bool)


def draw_sticker(img: np.ndarray, rng: np.random.Generator, policy: StickerPolicy = StickerPolicy(), kind: str | None = None) -> np.ndarray:
    """Draw one random sticker on a single ``(H, W)`` or ``(H, W, 1)`` float image in [0, 1]; returns a copy."""
    out = np.array(img, np.float32).reshape(img.shape[0], img.shape[1])
    h, w = out.shape
    kind = kind or str(rng.choice(KINDS))
    lo, hi = np.percentile(out, (5.0, 95.0))
    dark = rng.random() < policy.dark_share
    level = float(np.clip((lo if dark else hi) + rng.normal(0.0, 0.06), 0.0, 1.0))
    on = sticker_mask(h, w, rng, policy, kind)
    out[on] = np.clip(level + rng.normal(0.0, 0.02, int(on.sum())), 0.0, 1.0)
    return out.reshape(img.shape)


def add_stickers(x: np.ndarray, rng: np.random.Generator, policy: StickerPolicy | None = None, *, rate: float | None = None) -> np.ndarray:
    """A copy of the batch ``x`` ``(N, H, W, 1)`` where a ``rate`` share of the samples carry 1..max stickers.

    ``rate`` overrides ``policy.rate``. The label never changes: stickers are small enough to
    leave the character readable (bars at most 12 % of the height wide, rectangles at most 35 %).
    """
    policy = policy or StickerPolicy()
    rate = policy.rate if rate is None else float(rate)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be in [0, 1], got {rate}")
    out = np.array(x, np.float32, copy=True)
    for i in np.flatnonzero(rng.random(len(out)) < rate):
        for _ in range(int(rng.integers(1, policy.max_stickers + 1))):
            out[i] = draw_sticker(out[i], rng, policy)
    return out
