"""Locating the EU band (blue strip with stars and country letter) at the left of a plate,
dropping it and other non-characters (coloured blobs, flat grey boxes) from a character row, and
pointing out boxes that may be a German plate's registration stickers."""

import cv2
import numpy as np

from alpr._components import chroma, inner, mean_of, median, percentiles, spread

#: The EU band's share of a plate's width (about 45 of 520 mm, with some margin), and how much
#: more colourful (chroma) or less contrasted (share of the spread) than the characters a box
#: there must be to be taken for it.
_BAND_SHARE, _BAND_CHROMA, _BAND_SPREAD = 0.1, 8.0, 0.7
#: A first box on the plate's left border that ends within this share of its width, at least
#: 0.4 times as wide as high, is the band when this share of its pixels is ink-dark: a dark band
#: (infrared, a tinted photo) whose stars and letter the binarisation joined into one box. On
#: rendered German and Spanish crops, such band boxes are 87-98 % ink; glyphs on the left border
#: of crops cut without their band 10-61 %.
_EDGE_BAND_SHARE, _EDGE_BAND_FILL = 0.12, 0.8
#: A flat box whose inside is within this share of the ink-to-paper contrast of the paper, and
#: whose strokes (ink-dark pixels of the whole box) cover 10-70 % of it, is a glyph with a
#: paper-light inside in shade (L, 0), not a grey box (``drop_flat``).
_STROKED_INSIDE = 0.25
#: How much more of a box's pixels than of the row's median box may be far more colourful than the
#: row before ``drop_coloured`` takes it for the band or an emblem.
_COLOURED_SHARE = 0.3
#: A German plate's stickers (a coloured inspection disc over the state seal, both 35 mm round,
#: in the gap after the district) are taken for a character when blur joins them. Such a box is
#: colourful at the top (chroma this much above the glyphs'), or a solid disc (this share of the
#: top 55 % of rows nearly full of ink) over a row without ink in the lower part (40-80 %).
_STICKER_CHROMA, _STICKER_SOLID, _STICKER_BLANK = 12.0, 0.3, 0.1
#: The stickers follow a district of one to three letters.
_STICKER_SLOTS = (1, 2, 3)


def find_band(plate_bgr: np.ndarray, boxes: np.ndarray, colour=None) -> tuple[int, int, int, int] | None:
    """Bounding box (x, y, w, h) of the EU band left of the first character, or ``None``.

    The band is found as a strongly coloured, darker-than-background region; any hue is accepted
    because photos may have swapped colour channels or an infrared tint. Of several coloured
    stretches left of the first box, the band is the last one: a German plate's registration
    seals are coloured too, and when ``boxes`` starts after them (``drop_band`` asking whether
    the district letter before the seals is the band) one box spanning band and seals would
    swallow that letter; a coloured car body beside a loose crop lies further left still.
    ``colour`` is ``_components.chroma(plate_bgr)`` if already computed.
    """
    if len(boxes) == 0:
        return None
    hm = median(boxes[:, 3])
    x_end = int(boxes[0, 0])
    y0 = max(0, int(boxes[:, 1].min() - 0.35 * hm))
    y1 = min(plate_bgr.shape[0], int((boxes[:, 1] + boxes[:, 3]).max() + 0.35 * hm))
    if x_end < 0.15 * hm or y1 - y0 < 4:
        return None
    sat, val = colour if colour is not None else chroma(plate_bgr)  # chroma, max channel
    x0, _, w0, _ = (int(v) for v in boxes[len(boxes) // 2])
    bg_sat = median(sat[y0:y1, x0 : x0 + w0])
    region = (sat[y0:y1, :x_end] > max(50, bg_sat + 35)) & (val[y0:y1, :x_end] > 30)
    cols = region.mean(axis=0) > 0.45
    xs = _last_run(np.flatnonzero(cols), max(2, int(0.15 * hm)))
    if len(xs) < max(2, 0.12 * hm):
        return None
    rows = np.flatnonzero(region[:, xs].mean(axis=1) > 0.3)
    if len(rows) < 0.6 * hm:
        return None
    return int(xs[0]), int(y0 + rows[0]), int(xs[-1] - xs[0] + 1), int(rows[-1] - rows[0] + 1)


def _last_run(xs: np.ndarray, max_gap: int) -> np.ndarray:
    """The columns of the last run of ``xs`` (sorted) whose steps are at most ``max_gap``
    (a band's stars or country letter may leave a few columns below the colour threshold)."""
    if len(xs) == 0:
        return xs
    breaks = np.flatnonzero(np.diff(xs) > max_gap)
    start = xs[breaks[-1] + 1] if len(breaks) else xs[0]
    return np.arange(start, xs[-1] + 1)


def drop_coloured(boxes: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """Drop boxes far more colourful than the row (the EU band and its emblems, in whatever hue
    the camera gave them). Colourfulness is chroma (max - min channel), which unlike HSV
    saturation stays low for dark ink of any tint. A box is far more colourful when its mean
    chroma is, or when a share of its pixels well over the row's (``_COLOURED_SHARE`` more, and
    at least that much) is: the strokes of a plate written in colour (German red dealer plates,
    green tax-exempt ones) are as colourful as the band, but so are all of them."""
    patches = [chroma[y : y + h, x : x + w] for x, y, w, h in boxes.astype(int)]
    means = np.array([mean_of(p) if p.size else 0.0 for p in patches])
    level = max(median(means) + 35, 50)
    share = np.array([mean_of(p > level + 15) if p.size else 0.0 for p in patches])
    return boxes[~((means > level) | (share > median(share) + _COLOURED_SHARE))]


def drop_flat(boxes: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """Drop boxes without internal contrast that are not ink-dark: the uniform grey boxes that
    anonymise characters in some datasets, shadows and stickers seen as one blob. Flat but
    ink-dark (a solid I) or paper-light (the inside of D, O) boxes are characters."""
    stats, patches = [], []
    for x, y, w, h in boxes:
        # inner part only: a grey box cut out together with a bit of a neighbour still looks flat
        x0, y0, x1, y1 = (int(round(v)) for v in (x + 0.2 * w, y + 0.15 * h, x + 0.8 * w, y + 0.85 * h))
        patch = grey[y0 : max(y1, y0 + 1), x0 : max(x1, x0 + 1)]
        lo, med, hi = percentiles(patch, (10, 50, 90)) if patch.size else (0, 0, 0)
        stats.append((hi - lo, lo, med, hi))
        patches.append(grey[int(y) : int(y + h), int(x) : int(x + w)])
    spread, lo, med, hi = np.array(stats, dtype=float).T
    ink, paper = median(lo), median(hi)
    flat = spread < 0.4 * median(spread)
    contrast = max(paper - ink, 1)
    grey_box = flat & (med > ink + 0.12 * contrast) & (med < paper - 0.07 * contrast)
    # an L or a 0 has a paper-light inside, a little shaded, and its strokes round it
    strokes = np.array([mean_of(p < ink + 0.3 * contrast) if p.size else 0.0 for p in patches])
    glyph = (med > paper - _STROKED_INSIDE * contrast) & (strokes >= 0.1) & (strokes <= 0.7)
    # a glyph in a hard shadow: its strokes are as dark as the ink elsewhere and the shaded
    # paper round them clearly lighter, though far below the lit paper
    shaded = (lo <= ink + 0.05 * contrast) & (spread >= 0.12 * contrast) & (spread >= 0.5 * hi)
    return boxes[~(grey_box & ~glyph & ~shaded)]


def drop_band(boxes: np.ndarray, plate_bgr: np.ndarray, colour, grey: np.ndarray) -> np.ndarray:
    """Drop a first box that is the EU band (taken as a tall character in dark or tinted
    photos): near the left edge and much taller than the other boxes, on the left border and
    nearly all ink-dark (``_EDGE_BAND_FILL``), lying in the band found left of the other boxes,
    or within the band's share of the plate width (the band is under a tenth of it) and unlike
    the characters, more colourful than they are or without their ink-on-paper contrast (a dark
    band at night, a faint one by day), while no coloured band shows left of it with paper
    between (a tinted first letter or the inside of an O beside the band is no band).
    ``grey`` is ``plate_bgr``'s normalised grey."""
    if len(boxes) < 3:
        return boxes
    rest = boxes[1:]
    x, _, w, h = boxes[0]
    if x < 0.15 * plate_bgr.shape[1] and h > 1.2 * median(rest[:, 3]):
        return rest
    if x <= 1 and x + w < _EDGE_BAND_SHARE * plate_bgr.shape[1] and w >= 0.4 * h \
            and _ink_share(grey, boxes[0], rest) >= _EDGE_BAND_FILL:
        return rest
    band = find_band(plate_bgr, rest, colour)
    if band is not None and min(x + w, band[0] + band[2]) - max(x, band[0]) > 0.5 * w:
        return rest
    if x < _BAND_SHARE * plate_bgr.shape[1]:
        chroma_means = [inner(colour[0], b).mean() for b in boxes]
        colourful = chroma_means[0] > median(chroma_means[1:]) + _BAND_CHROMA
        # a faint box is the band unless the band shows, coloured, left of it with paper between:
        # the inside of a round first letter (O, D, Q) beside the band is as faint
        spreads = [spread(grey, b) for b in boxes]
        faint = spreads[0] < _BAND_SPREAD * median(spreads[1:])
        if (colourful or faint) and not _band_before(boxes, plate_bgr, colour):
            return rest
    return boxes


def _ink_share(grey: np.ndarray, box, glyphs: np.ndarray) -> float:
    """Share of ``box``'s pixels darker than halfway between the ``glyphs``' ink (the median of
    their 10th grey percentiles) and the paper (the 90th percentile of the rows they span)."""
    ink = median(np.array([percentiles(_pixels(grey, g), (10,))[0] for g in glyphs]))
    top, bottom = int(glyphs[:, 1].min()), int((glyphs[:, 1] + glyphs[:, 3]).max())
    paper = percentiles(grey[top:max(bottom, top + 1)], (90,))[0]
    patch = _pixels(grey, box)
    return mean_of(patch < (ink + paper) / 2) if patch.size else 0.0


def _pixels(grey: np.ndarray, box) -> np.ndarray:
    """The pixels of an (x, y, w, h) box, at least one each way."""
    x, y, w, h = (int(round(v)) for v in box[:4])
    return grey[max(y, 0):max(y + h, y + 1), max(x, 0):max(x + w, x + 1)]


def _band_before(boxes: np.ndarray, plate_bgr: np.ndarray, colour) -> bool:
    """Whether a coloured band shows left of the first box, with paper between the two."""
    band = find_band(plate_bgr, boxes, colour)
    x, _, _, h = boxes[0]
    return band is not None and band[0] + band[2] < x - 0.05 * h


def sticker_like(boxes: np.ndarray, grey: np.ndarray, colour, occluded=()) -> list[int]:
    """Indices of the row's boxes that may be a German plate's registration stickers taken for a
    character (``_STICKER_CHROMA``, ``_STICKER_SOLID``, ``_STICKER_BLANK``): second to fourth
    box, never the last nor a grey anonymisation box (``occluded``). The decoder may read such a
    box as the sticker gap instead of a character; the segmenter does not drop it, as it does
    not know the plate's country. ``grey`` is the normalised grey, ``colour`` its ``chroma``."""
    glyphs = np.delete(boxes, list(occluded), axis=0)[:, :4].astype(int)
    if len(glyphs) < 3:
        return []
    sat = colour[0]
    level = median([mean_of(sat[y : y + h, x : x + w]) for x, y, w, h in glyphs])
    x0, y0 = glyphs[:, :2].min(axis=0)
    x1, y1 = (glyphs[:, :2] + glyphs[:, 2:]).max(axis=0)
    ink_level, _ = cv2.threshold(grey[y0:y1, x0:x1], 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)  # ink below
    found = []
    for i in _STICKER_SLOTS:
        if i >= len(boxes) - 1 or i in occluded:
            continue
        x, y, w, h = (int(v) for v in boxes[i, :4])
        patch = grey[y : y + h, x : x + w]
        if patch.size == 0:
            continue
        rows = (patch <= ink_level).mean(axis=1)
        top, lower = rows[: int(0.55 * h)], rows[int(0.4 * h) : max(int(0.8 * h), int(0.4 * h) + 1)]
        colourful = mean_of(sat[y : y + h // 2, x : x + w]) > level + _STICKER_CHROMA
        disc = len(top) > 0 and (top >= 0.75).mean() > _STICKER_SOLID and lower.min() < _STICKER_BLANK
        if colourful or disc:
            found.append(i)
    return found
