"""Non-character plate parts: the EU band (12 stars, country letter) and the German round
stickers (coloured inspection sticker, state seal), as cached BGRA bitmaps at any scale."""

import math
from functools import lru_cache

import cv2
import numpy as np

from alpr.synth import fonts

_K = 6.0  # master px per mm
BAND_MM = (40.0, 106.0)  # inside the plate border
STICKER_MM = 35.0
EU_BLUE = (153, 51, 0)  # BGR
EU_YELLOW = (0, 204, 255)
#: Inspection sticker colours by year (BGR): orange, blue, yellow, brown, pink, green.
HU_COLOURS = ((20, 130, 250), (190, 110, 30), (30, 215, 250), (45, 85, 140), (175, 120, 245), (70, 160, 60))
N_SEALS = 4


def _star(cx, cy, r):
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else r * 0.4
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return np.array(pts)


def _fill(img, poly, colour):
    cv2.fillPoly(img, [np.round(np.asarray(poly) * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)


@lru_cache(maxsize=8)
def _band_master(letter: str, blue: tuple, yellow: tuple) -> np.ndarray:
    w, h = int(BAND_MM[0] * _K), int(BAND_MM[1] * _K)
    img = np.zeros((h, w, 4), np.uint8)
    img[:] = (*blue, 255)
    cx, cy, ring = BAND_MM[0] / 2, 33.0, 12.5
    for i in range(12):
        a = i * math.pi / 6
        _fill(img, _star(cx + ring * math.sin(a), cy - ring * math.cos(a), 2.6) * _K, (*yellow, 255))
    cov = fonts.master("din", letter, "mittel", 1.1)
    lh = int(24 * _K)
    lw = int(round(cov.shape[1] * lh / cov.shape[0]))
    cov = cv2.resize(cov, (lw, lh), interpolation=cv2.INTER_AREA)
    x0, y0 = int(cx * _K - lw / 2), int(80 * _K - lh / 2)
    region = img[y0 : y0 + lh, x0 : x0 + lw, :3].astype(np.float32)
    img[y0 : y0 + lh, x0 : x0 + lw, :3] = (region * (1 - cov[..., None]) + 255 * cov[..., None]).astype(np.uint8)
    return img


@lru_cache(maxsize=1024)
def band(letter: str, width_px: int, height_px: int, blue: tuple = EU_BLUE, yellow: tuple = EU_YELLOW) -> np.ndarray:
    """The EU band with ``letter`` as a BGRA bitmap of the given size."""
    return cv2.resize(_band_master(letter, blue, yellow), (width_px, height_px), interpolation=cv2.INTER_AREA)


def _disc(size: int) -> np.ndarray:
    img = np.zeros((size, size, 4), np.uint8)
    cv2.circle(img, (size * 8, size * 8), size * 8 - 8, (255, 255, 255, 255), -1, cv2.LINE_AA, shift=4)
    return img


@lru_cache(maxsize=8)
def _hu_master(colour_index: int) -> np.ndarray:
    s = int(STICKER_MM * _K)
    img = _disc(s)
    alpha = img[..., 3].copy()
    colour = HU_COLOURS[colour_index % len(HU_COLOURS)]
    img[..., :3] = colour
    c, r = s / 2, s / 2
    dark = tuple(int(v * 0.55) for v in colour)
    cv2.circle(img, (int(c), int(c)), int(r * 0.62), (*dark, 255), max(2, s // 60), cv2.LINE_AA)
    for i in range(12):  # month numbers around the rim
        a = i * math.pi / 6
        x, y = c + r * 0.8 * math.sin(a), c - r * 0.8 * math.cos(a)
        cv2.rectangle(img, (int(x - s * 0.02), int(y - s * 0.03)), (int(x + s * 0.02), int(y + s * 0.03)), (20, 20, 20, 255), -1)
    cv2.rectangle(img, (int(c - s * 0.14), int(c - s * 0.1)), (int(c + s * 0.14), int(c + s * 0.1)), (15, 15, 15, 255), -1)
    img[..., 3] = alpha
    return img


@lru_cache(maxsize=8)
def _seal_master(index: int) -> np.ndarray:
    s = int(STICKER_MM * _K)
    img = _disc(s)
    alpha = img[..., 3].copy()
    img[..., :3] = (200, 205, 205)
    c = s / 2
    cv2.circle(img, (int(c), int(c)), int(s * 0.36), (120, 120, 120, 255), max(2, s // 80), cv2.LINE_AA)
    rng = np.random.default_rng(index)
    palette = ((40, 40, 200), (30, 180, 230), (30, 30, 30), (60, 140, 40), (180, 90, 30))
    colours = [palette[i] for i in rng.choice(len(palette), 2, replace=False)]
    shield = np.array([(-0.18, -0.22), (0.18, -0.22), (0.18, 0.05), (0.0, 0.24), (-0.18, 0.05)]) * s + c
    _fill(img, shield, (*colours[0], 255))
    _fill(img, np.array([(-0.18, -0.22), (0.0, -0.22), (0.0, 0.24), (-0.18, 0.05)]) * s + c, (*colours[1], 255))
    for i in range(24):  # lettering around the rim
        a = i * math.pi / 12
        x, y = c + s * 0.42 * math.sin(a), c - s * 0.42 * math.cos(a)
        cv2.circle(img, (int(x), int(y)), max(1, s // 70), (60, 60, 60, 255), -1, cv2.LINE_AA)
    img[..., 3] = alpha
    return img


@lru_cache(maxsize=1024)
def sticker(kind: str, index: int, size_px: int) -> np.ndarray:
    """A round BGRA sticker: ``kind`` "hu" (inspection, colour ``index``) or "seal" (state seal)."""
    m = _hu_master(index % len(HU_COLOURS)) if kind == "hu" else _seal_master(index % N_SEALS)
    return cv2.resize(m, (size_px, size_px), interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=1024)
def premultiplied(kind: str, index: int, size_px: int) -> tuple[np.ndarray, np.ndarray]:
    """A sticker as (colour x alpha, 1 - alpha) float32 arrays, ready for ``blend``."""
    s = sticker(kind, index, size_px)
    a = s[..., 3:4].astype(np.float32) / 255.0
    return s[..., :3].astype(np.float32) * a, 1.0 - a


def blend(dst: np.ndarray, src_bgra: np.ndarray, x: int, y: int) -> None:
    """Alpha-composite ``src_bgra`` onto float32 BGR ``dst`` at (x, y), clipped to ``dst``."""
    a = src_bgra[..., 3:4].astype(np.float32) / 255.0
    blend_premultiplied(dst, (src_bgra[..., :3].astype(np.float32) * a, 1.0 - a), x, y)


def blend_premultiplied(dst: np.ndarray, src: tuple[np.ndarray, np.ndarray], x: int, y: int) -> None:
    """Composite a (colour x alpha, 1 - alpha) pair onto float32 BGR ``dst`` at (x, y), clipped."""
    colour, keep = src
    h, w = keep.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, dst.shape[1]), min(y + h, dst.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    region = dst[y0:y1, x0:x1]
    region *= keep[y0 - y : y1 - y, x0 - x : x1 - x]
    region += colour[y0 - y : y1 - y, x0 - x : x1 - x]
