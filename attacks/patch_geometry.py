"""Where a sticker goes: the nominal character (ink box, cell, glyph), rectified training windows
around it on random plates, the region a sticker shape may cover, and the projection of a
per-pixel importance map onto a shape and area budget (:func:`select_mask`)."""

from __future__ import annotations

import cv2
import numpy as np

SHAPES = ("strokes", "rect", "dots")
#: Plate typefaces a sticker is made for: "standard" is the country's own plate font (FE-Schrift
#: for de, the Spanish plate font for es), the one on the plates the sticker is stuck on; "all"
#: adds the stand-ins the character CNN also trains on (DIN 1451 and DejaVu, plus the other
#: country's font), as in :func:`alpr.synth.style.random_style`.
FONTS = ("standard", "all")
WINDOW_W = 96  # rectified window width in mm (= px) around the character; height: the plate's 110
DOT_MM = 7.0
#: Width / height ratios of the rectangles the ``rect`` shape tries.
RECT_ASPECTS = (0.25, 0.5, 1.0, 2.0, 4.0)


def nominal_char(country: str, char: str = "1") -> dict:
    """The character on the nominal (default-style) plate at 1 px/mm: its ink box (mm), cell
    width (mm) and glyph ink (a float image of the box)."""
    from alpr.synth.render import render_plate
    from attacks.crops import plate_with

    plate = plate_with(char, country, np.random.default_rng(0))
    r = render_plate(plate, country, seed=0, height_px=110, style={"stickers": False})
    i = r.plate.text.index(char)
    x, y, w, h = (int(v) for v in r.boxes[i])
    grey = r.image[..., :3].astype(np.float32).mean(axis=2) / 255.0
    ink = np.clip((grey.max() - grey[y:y + h, x:x + w]) / max(grey.max() - grey.min(), 1e-3), 0, 1)
    cell = 46.0 if country == "es" else 44.5
    return {"box": (float(x), float(y), float(w), float(h)), "cell": max(cell, w + 6.0), "ink": ink}


def plate_style(country: str, rng: np.random.Generator, fonts: str = "all") -> dict | None:
    """A random plate style for ``render_plate``: ``None`` (any font, see :data:`FONTS`) or, for
    ``fonts="standard"``, a random style in the country's own plate font."""
    from alpr.synth.style import default_style, random_style

    if fonts not in FONTS:
        raise ValueError(f"fonts must be one of {', '.join(FONTS)}, got {fonts!r}")
    if fonts == "all":
        return None
    return {**random_style(country, rng), "font": default_style(country)["font"]}


def training_windows(country: str, char: str, n: int, rng: np.random.Generator, fonts: str = "all") -> dict:
    """``n`` rectified windows (1 px/mm, 110 × WINDOW_W, BGR in [0, 1]) centred on the first
    ``char`` of random plates of ``country`` (random styles, fonts as in :func:`plate_style`),
    with the box of that character in window pixels and its centre (the sticker anchor)."""
    from alpr.synth.render import render_plate
    from attacks.crops import plate_with

    wins, boxes = [], []
    for _ in range(n):
        plate = plate_with(char, country, rng)
        r = render_plate(plate, country, rng=rng, height_px=110, style=plate_style(country, rng, fonts))
        x, y, w, h = (int(v) for v in r.boxes[r.plate.text.index(char)])
        x0 = int(round(x + w / 2 - WINDOW_W / 2))
        img = cv2.copyMakeBorder(r.image[..., :3], 0, 0, WINDOW_W, WINDOW_W, cv2.BORDER_REPLICATE)
        wins.append(img[:, x0 + WINDOW_W : x0 + 2 * WINDOW_W].astype(np.float32) / 255.0)
        boxes.append((x - x0, y, w, h))
    boxes = np.array(boxes, np.float32)
    anchor = boxes[:, :2] + boxes[:, 2:] / 2
    return {"windows": np.stack(wins), "boxes": boxes, "anchor": anchor}


def allowed_region(shape: str, nominal: dict, reach_mm: float = 2.0) -> tuple[np.ndarray, tuple[float, float], np.ndarray]:
    """``(allowed, origin, look)``: where material may go on the sticker grid (the character's
    cell; the dilated glyph for ``"strokes"``), the grid pixel on the box centre, and the nominal
    plate's look there (grey, initialisation of the warm-up)."""
    x, y, w, h = nominal["box"]
    width, height = int(np.ceil(nominal["cell"])) | 1, int(np.ceil(h + 6)) | 1
    origin = ((width - 1) / 2, (height - 1) / 2)
    ink = np.zeros((height, width), np.float32)
    ih, iw = nominal["ink"].shape
    top, left = int(round(origin[1] - h / 2)), int(round(origin[0] - w / 2))
    ink[top:top + ih, left:left + iw] = nominal["ink"][: height - top, : width - left]
    look = 0.95 - 0.85 * ink
    if shape == "strokes":
        k = 2 * int(round(reach_mm)) + 1  # the strokes and ``reach_mm`` around them
        allowed = cv2.dilate((ink > 0.5).astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))) > 0
    else:
        allowed = np.zeros((height, width), bool)
        allowed[2:-2, :] = True
    return allowed, origin, look


def _rect_size(budget: int, aspect: float, h: int, w: int) -> tuple[int, int]:
    """The largest whole-mm rectangle (rows, cols) of about ``aspect`` (width / height) within
    ``budget`` pixels and an ``h`` x ``w`` grid. Rounding the width first alone can waste a tenth
    of the budget (the Spanish "1", 241 px at aspect 4: 31 x 7 = 217 px, where 34 x 7 = 238 fits),
    so the height is also rounded first and the larger of the two rectangles kept."""
    rw = max(1, min(w, int(np.floor(np.sqrt(budget * aspect)))))
    width_first = (max(1, min(h, budget // rw)), rw)
    rh = max(1, min(h, int(np.floor(np.sqrt(budget / aspect)))))
    height_first = (rh, max(1, min(w, budget // rh)))
    return max(width_first, height_first, key=lambda size: size[0] * size[1])  # ties: width first, as before


def select_mask(shape: str, importance: np.ndarray, allowed: np.ndarray, budget: float) -> np.ndarray:
    """Project onto the shape and area budget (pixels): the ``budget`` most important allowed
    pixels (``strokes``), the best rectangle of that area (``rect``, the ``RECT_ASPECTS``), or
    non-overlapping discs of :data:`DOT_MM` (``dots``)."""
    imp = np.where(allowed, importance, -1e3).astype(np.float32)
    h, w = imp.shape
    budget = int(np.floor(budget))
    mask = np.zeros((h, w), bool)
    if shape == "strokes":
        order = np.argsort(-imp, axis=None)[:budget]
        mask.flat[order] = True
        return mask & allowed
    if shape == "rect":
        best = (-np.inf, None)
        for aspect in RECT_ASPECTS:
            rh, rw = _rect_size(budget, aspect, h, w)
            score = cv2.boxFilter(imp, -1, (rw, rh), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
            score[h - rh + 1 :, :] = -np.inf
            score[:, w - rw + 1 :] = -np.inf
            k = int(np.argmax(score))
            if score.flat[k] > best[0]:
                best = (score.flat[k], (k // w, k % w, rh, rw))
        r0, c0, rh, rw = best[1]
        mask[r0:r0 + rh, c0:c0 + rw] = True
        return mask & allowed
    radius = DOT_MM / 2
    disc = (np.hypot(*np.mgrid[-4:5, -4:5]) <= radius).astype(np.float32)
    n = max(1, int(budget // disc.sum()))
    score = cv2.filter2D(imp, -1, disc, borderType=cv2.BORDER_CONSTANT)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(n):
        k = int(np.argmax(score))
        cy, cx = divmod(k, w)
        if not np.isfinite(score.flat[k]) or score.flat[k] < -1e2:
            break
        mask |= np.hypot(yy - cy, xx - cx) <= radius
        score[np.hypot(yy - cy, xx - cx) < DOT_MM + 1.5] = -np.inf
    while mask.sum() > budget:  # discs clipped by rounding: drop pixels from the edge
        mask.flat[np.flatnonzero(mask)[-1]] = False
    return mask & allowed
