"""Render a synthetic licence plate (German or Spanish) with exact per-character ink boxes.

Geometry is planned in plate millimetres (520 x 110, DIN 74069 / Spanish 2000 layout) and
drawn at ``height_px / 110`` pixels per mm. Glyph bitmaps come from ``fonts.glyph`` (cached per
size), so rendering is a few numpy blends per plate.

Example::

    from alpr.synth.render import render_plate
    r = render_plate(country="de", seed=1, height_px=64)
    r.image.shape, r.plate.formatted, r.boxes      # (64, 302, 3), 'KA XY 123', N x 4 ints
"""

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from alpr import plates
from alpr.synth import decor, fonts
from alpr.synth.style import default_style, random_style

PLATE_MM = (520.0, 110.0)
_BAND_X_MM = 2.0
_TEXT_LEFT_MM = {True: 50.0, False: 14.0}  # with / without EU band
_TEXT_RIGHT_MM = 510.0
_ES_CELL_MM = 46.0
_EU_BAND_LETTERS = "ABFHILPS"


@dataclass
class RenderedPlate:
    """A rendered plate. ``boxes`` and ``band_box`` are (x, y, w, h) in ``image`` pixels; boxes
    are the tight ink boxes of the characters in reading order and ``group_index[i]`` is the
    printed group (``plate.groups``) of character ``i``."""

    image: np.ndarray
    plate: plates.PlateText
    boxes: np.ndarray
    band_box: tuple[int, int, int, int] | None
    group_index: np.ndarray
    font: str
    style: dict

    @property
    def px_per_mm(self) -> float:
        """Pixels per plate millimetre."""
        return self.image.shape[0] / PLATE_MM[1]


def plate_size(height_px: int) -> tuple[int, int]:
    """(width, height) in pixels of a plate ``height_px`` high (520:110)."""
    return int(round(height_px * PLATE_MM[0] / PLATE_MM[1])), int(height_px)


def _resolve(plate, country, rng, style):
    if plate is None:
        plate = plates.random_plate(country, rng, old_es_rate=plates.ES_PROVINCIAL_SHARE)
    elif isinstance(plate, str):
        parsed = plates.parse(plate, country)
        if parsed is None:
            raise ValueError(f"{plate!r} is not a valid {country} plate")
        plate = parsed
    country = plate.country
    full = random_style(country, rng) if style is None else {**default_style(country), **style}
    old_es = country == "es" and len(plate.groups) == 3
    if old_es:
        full["band"] = False
    else:
        full["hyphens"] = False
    if full["variant"] == "auto":
        full["variant"] = "eng" if country == "de" and len(plate.text) >= 8 else "mittel"
    if country == "eu" and "band_letter" not in full:
        full["band_letter"] = str(rng.choice(list(_EU_BAND_LETTERS)))
    return plate, full


def _cell_widths(plate, style) -> list[float]:
    if plate.country == "de":
        return [fonts.nominal_width_mm(c, style["variant"]) for c in plate.text]
    return [_ES_CELL_MM] * len(plate.text)


def _group_gaps(plate, style) -> list[float]:
    """Extra space after each group but the last."""
    n = len(plate.groups)
    if plate.country == "de":
        return [style["gap_mm"], style["gap2_mm"]][: n - 1]
    if plate.country == "es" and n == 3:
        return [style["gap2_mm"]] * 2
    return [style["gap_mm"]] * (n - 1)


def layout(plate: plates.PlateText, style: dict) -> tuple[list[float], list[float], float, list[float]]:
    """Character cells in mm: (x of each cell, cell widths, width scale, group gaps), fitted into
    the text area and centred (plus ``style["offset_mm"]``)."""
    cells = _cell_widths(plate, style)
    scale = style["width_scale"] * style["char_height_mm"] / 75.0
    cells = [c * scale for c in cells]
    gaps = _group_gaps(plate, style)
    n = len(cells)
    n_spaces = n - len(plate.groups)
    left, right = _TEXT_LEFT_MM[bool(style["band"])], _TEXT_RIGHT_MM
    avail = right - left
    spacing = style["spacing_mm"]
    fixed = spacing * n_spaces + sum(gaps)
    if sum(cells) + fixed > avail:  # squeeze spaces down to their minimum, then the glyphs
        min_gaps = [41.0 if plate.country == "de" and i == 0 and style["stickers"] else 6.0 for i in range(len(gaps))]
        min_fixed = 1.5 * n_spaces + sum(min_gaps)
        f = max(min_fixed / fixed if fixed else 1.0, (avail - sum(cells)) / fixed if fixed else 1.0)
        f = min(f, 1.0)
        spacing *= f
        gaps = [max(g * f, m) for g, m in zip(gaps, min_gaps)]
        fixed = spacing * n_spaces + sum(gaps)
        if sum(cells) + fixed > avail:
            shrink = (avail - fixed) / sum(cells)
            cells = [c * shrink for c in cells]
            scale *= shrink
    total = sum(cells) + fixed
    x = left + (avail - total) / 2 + style["offset_mm"][0]
    x = min(max(x, left - 4.0), right + 4.0 - total)
    xs, i = [], 0
    for g, group in enumerate(plate.groups):
        for k in range(len(group)):
            xs.append(x)
            x += cells[i] + (spacing if k < len(group) - 1 else 0.0)
            i += 1
        if g < len(gaps):
            x += gaps[g]
    return xs, cells, scale / (style["char_height_mm"] / 75.0), gaps


_DIRT_COLOUR = np.array([0.45, 0.38, 0.30], np.float32)  # darkening per channel (BGR): brownish


# Training renders plates 48-110 px high, so the cache holds one field per height (about 30 MB);
# a smaller cache was refilled for most plates, at several ms each.
@lru_cache(maxsize=128)
def _dirt_field(h: int, w: int) -> np.ndarray:
    """Grime strength (2h x 2w, 0-1) on a canvas twice the plate size, from a fixed seed; random
    crops give the per-plate variation, ``_DIRT_COLOUR`` its colour."""
    rng = np.random.default_rng(12345)
    small = rng.random((max(4, h // 6), max(8, w // 6))).astype(np.float32)
    field = cv2.resize(small, (2 * w, 2 * h), interpolation=cv2.INTER_CUBIC)
    field = cv2.GaussianBlur(field, (0, 0), max(1.0, h / 20))
    field -= field.min()
    field = np.clip(field / max(field.max(), 1e-6), 0, 1) ** 2
    field.setflags(write=False)
    return field


def _draw_glyphs(mask, plate, style, ppm, rng):
    xs, cells, width_scale, _ = layout(plate, style)
    char_px = max(4, int(round(ppm * style["char_height_mm"])))
    weight = fonts.quantize(float(style["weight"]), 0.1)
    width_scale = fonts.quantize(float(width_scale), 0.04)
    y_top = (PLATE_MM[1] - style["char_height_mm"]) / 2 + style["offset_mm"][1]
    boxes = []
    jitter = style["jitter_mm"]
    for ch, x_mm, cell in zip(plate.text, xs, cells):
        g = fonts.glyph(style["font"], ch, char_px, width_scale, style["variant"], weight)
        gh, gw = g.coverage.shape
        dy = rng.uniform(-jitter, jitter) if jitter else 0.0
        x = int(round(x_mm * ppm + (cell * ppm - gw) / 2))
        y = int(round((y_top + dy) * ppm))
        x = min(max(x, 0), mask.shape[1] - gw)
        y = min(max(y, 0), mask.shape[0] - gh)
        region = mask[y : y + gh, x : x + gw]
        np.maximum(region, g.coverage, out=region)
        bx, by, bw, bh = g.box
        boxes.append((x + bx, y + by, bw, bh))
    return np.array(boxes, np.int32).reshape(-1, 4), xs, cells


def _draw_hyphens(mask, plate, style, xs, cells, ppm):
    ends = np.cumsum([len(g) for g in plate.groups])[:-1]
    yc = PLATE_MM[1] / 2 + style["offset_mm"][1]
    for e in ends:
        left = xs[e - 1] + cells[e - 1]
        mid = (left + xs[e]) / 2
        half_w = min(5.0, (xs[e] - left) / 2 - 3.0)
        if half_w <= 1:
            continue
        x0, x1 = int(round((mid - half_w) * ppm)), int(round((mid + half_w) * ppm))
        y0, y1 = int(round((yc - 3.5) * ppm)), int(round((yc + 3.5) * ppm))
        mask[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)] = 1.0


def _draw_border(mask, style, ppm):
    t = style["border_mm"] * ppm
    if t <= 0:
        return
    h, w = mask.shape
    inset = 1.0 * ppm
    thick = max(1, int(round(t)))
    cover = min(1.0, t)  # a sub-pixel border is a faint full-pixel line
    x0, y0 = int(inset), int(inset)
    x1, y1 = w - 1 - int(inset), h - 1 - int(inset)
    for sl in (
        (slice(y0, y0 + thick), slice(x0, x1 + 1)),
        (slice(y1 - thick + 1, y1 + 1), slice(x0, x1 + 1)),
        (slice(y0, y1 + 1), slice(x0, x0 + thick)),
        (slice(y0, y1 + 1), slice(x1 - thick + 1, x1 + 1)),
    ):
        np.maximum(mask[sl], cover, out=mask[sl])


def _emboss(mask, strength, ppm):
    """Raised characters: a thin shadow (ink-coloured) on the lower-right flank of every stroke."""
    d = max(1, int(round(0.8 * ppm)))
    edge = mask[:-d, :-d] - mask[d:, d:]
    edge *= np.float32(strength * 0.5)
    np.maximum(mask[d:, d:], edge, out=mask[d:, d:])


def _draw_stickers(image, plate, style, xs, cells, ppm):
    if plate.country != "de" or not style["stickers"] or len(plate.groups) < 2:
        return
    n0 = len(plate.groups[0])
    left, right = xs[n0 - 1] + cells[n0 - 1], xs[n0]
    diameter = min(decor.STICKER_MM, right - left - 6.0)
    if diameter < 15:
        return
    size = max(3, int(round(diameter * ppm)))
    cx = (left + right) / 2 * ppm
    yc = PLATE_MM[1] / 2 + style["offset_mm"][1]
    for kind, index, y_mm in (("hu", style["hu_colour"], yc - 19.0), ("seal", style["seal"], yc + 19.0)):
        s = decor.premultiplied(kind, index, size)
        decor.blend_premultiplied(image, s, int(round(cx - size / 2)), int(round(y_mm * ppm - size / 2)))


def _draw_band(image, plate, style, ppm):
    if not style["band"]:
        return None
    letter = style.get("band_letter") or plates.BAND_LETTER.get(plate.country, "D")
    x, y = int(round(_BAND_X_MM * ppm)), int(round((PLATE_MM[1] - decor.BAND_MM[1]) / 2 * ppm))
    w = max(2, int(round(decor.BAND_MM[0] * ppm)))
    h = max(2, int(round(decor.BAND_MM[1] * ppm)))
    band = decor.band(letter, w, h)
    w, h = min(w, image.shape[1] - x), min(h, image.shape[0] - y)
    image[y : y + h, x : x + w] = band[:h, :w, :3]  # opaque
    return (x, y, w, h)


@lru_cache(maxsize=64)
def _ramps(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.linspace(-0.5, 0.5, w, dtype=np.float32)[None, :], np.linspace(-0.5, 0.5, h, dtype=np.float32)[:, None]


def _finish(image, style, rng):
    """Reflective gradient and grime, then back to uint8."""
    h, w = image.shape[:2]
    if style["gloss"] > 0.02:
        a = rng.uniform(0, 2 * np.pi)
        rx, ry = _ramps(h, w)
        k = style["gloss"] * 0.4
        shade = np.add(ry * np.float32(k * np.sin(a)) + np.float32(1.0), rx * np.float32(k * np.cos(a)))
        # channels merged rather than broadcast (shade[..., None]): numpy's broadcast over a last
        # axis of length 1 is several times slower here, and the products are the same
        image *= cv2.merge([shade] * 3)
    if style["dirt"] > 0.03:
        oy, ox = int(rng.integers(0, h)), int(rng.integers(0, w))
        field = _dirt_field(h, w)[oy : oy + h, ox : ox + w]
        strength = np.float32(-style["dirt"])
        image *= cv2.merge([field * colour * strength + np.float32(1.0) for colour in _DIRT_COLOUR])
    return cv2.convertScaleAbs(image)


def render_plate(
    plate: plates.PlateText | str | None = None,
    country: str = "de",
    *,
    rng: np.random.Generator | None = None,
    seed: int | None = None,
    height_px: int = 64,
    style: dict | None = None,
) -> RenderedPlate:
    """Render ``plate`` (random valid plate of ``country`` if None) ``height_px`` high, 520:110.

    ``style=None`` draws a random style (``style.random_style``); a dict overrides
    ``style.default_style`` (``{}`` gives the clean nominal plate). Deterministic given ``seed``
    or the state of ``rng``.
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    if height_px < 8:
        raise ValueError("height_px must be at least 8")
    plate, style = _resolve(plate, country, rng, style)
    ppm = height_px / PLATE_MM[1]
    w, h = plate_size(height_px)
    mask = np.zeros((h, w), np.float32)
    boxes, xs, cells = _draw_glyphs(mask, plate, style, ppm, rng)
    if style["hyphens"]:
        _draw_hyphens(mask, plate, style, xs, cells, ppm)
    _draw_border(mask, style, ppm)
    if style.get("emboss", 0.0) > 0.02:
        _emboss(mask, style["emboss"], ppm)
    paper = np.asarray(style["paper"], np.float32)
    ink = np.asarray(style["ink"], np.float32)
    # one C call: colour = paper + (ink - paper) * mask, per channel
    image = cv2.transform(mask[..., None], np.stack([ink - paper, paper], axis=1))
    band_box = _draw_band(image, plate, style, ppm)
    _draw_stickers(image, plate, style, xs, cells, ppm)
    image = _finish(image, style, rng)
    group_index = np.repeat(np.arange(len(plate.groups)), [len(g) for g in plate.groups]).astype(np.int32)
    return RenderedPlate(image, plate, boxes, band_box, group_index, style["font"], style)


def char_crops(
    rendered: RenderedPlate,
    *,
    rng: np.random.Generator | None = None,
    jitter: float = 0.08,
    pad: float = 0.12,
    square: bool = False,
) -> list[np.ndarray]:
    """Crops of each character of ``rendered.image`` around its box, padded by ``pad`` x box
    height and randomly shifted/scaled by up to ``jitter`` x box height (so neighbouring glyph
    fragments appear at the edges, as after real segmentation). ``square`` makes crops square."""
    rng = rng or np.random.default_rng(0)
    img = rendered.image
    H, W = img.shape[:2]
    out = []
    for x, y, w, h in rendered.boxes:
        j = jitter * h
        cx = x + w / 2 + rng.uniform(-j, j)
        cy = y + h / 2 + rng.uniform(-j, j)
        hh = h * (1 + 2 * pad) * (1 + rng.uniform(-jitter, jitter))
        ww = hh if square else w + 2 * pad * h + rng.uniform(-j, j)
        x0, y0 = int(round(cx - ww / 2)), int(round(cy - hh / 2))
        x1, y1 = int(round(cx + ww / 2)), int(round(cy + hh / 2))
        crop = cv2.copyMakeBorder(
            img[max(y0, 0) : min(y1, H), max(x0, 0) : min(x1, W)],
            max(0, -y0), max(0, y1 - H), max(0, -x0), max(0, x1 - W), cv2.BORDER_REPLICATE,
        )
        out.append(crop)
    return out


def char_patches(
    rendered: RenderedPlate,
    size: tuple[int, int] = (32, 32),
    *,
    rng: np.random.Generator | None = None,
    jitter: float = 0.08,
    pad: float = 0.12,
) -> np.ndarray:
    """``char_crops`` resized to ``size`` = (height, width): an (N, H, W, 3) uint8 array whose
    labels are ``rendered.plate.text`` in order."""
    crops = char_crops(rendered, rng=rng, jitter=jitter, pad=pad)
    h, w = size
    out = np.empty((len(crops), h, w, 3), np.uint8)
    for i, crop in enumerate(crops):
        out[i] = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if crop.shape[0] > h else cv2.INTER_LINEAR)
    return out
