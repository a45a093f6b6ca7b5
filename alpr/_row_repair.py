"""Repairs of a row of character boxes found by :mod:`alpr.segment`: pieces merged into their
glyphs (broken strokes, umlaut dots), touching glyphs split, slivers cut by the crop's border,
the frame's edge and stray text beside the plate dropped, and the spaces between characters
classified into group boundaries. Boxes are float arrays of (x, y, w, h[, flag]) rows."""

import cv2
import numpy as np

from alpr import _components as comp

#: A piece of a split box whose ink components of at least this share of the largest one's area
#: are short spans only their rows (a hyphen; ``main_ink_rows``).
MAIN_INK = 0.25
#: Boxes less tall than this share of the row's median height are hyphens, dots or sticker bits.
SHORT_BOX = 0.6
#: A box at a row's end this much taller than the others, past their tops and bottoms, is no glyph.
TALL_END = 1.15
#: Widest component, in row heights, that ``add_touching`` takes as glyphs touching each other.
TOUCHING_MAX_WIDTH = 3.3
#: How far from an equal-width cut (share of a glyph's width) ``add_touching`` cuts such a component.
TOUCHING_CUT_WINDOW = 0.15


def absorb_pieces(row: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Merge pieces lying over or under a row character (umlaut dots, broken strokes) into it
    and add short letter bodies topped by dots (Ä Ö Ü are shorter than plain letters)."""
    row = row.copy()
    hm = comp.median(row[:, 3])
    top, bottom = row[:, 1].min(), (row[:, 1] + row[:, 3]).max()
    for x, y, w, h in others:
        if h < 0.06 * hm or y < top - 0.15 * hm or y + h > bottom + 0.15 * hm or w > 1.2 * hm:
            continue
        overlap = np.minimum(row[:, 0] + row[:, 2], x + w) - np.maximum(row[:, 0], x)
        k = int(np.argmax(overlap))
        if overlap[k] >= 0.6 * w:
            x0, y0 = min(row[k, 0], x), min(row[k, 1], y)
            x1, y1 = max(row[k, 0] + row[k, 2], x + w), max(row[k, 1] + row[k, 3], y + h)
            if y1 - y0 <= 1.2 * hm and x1 - x0 <= 1.25 * max(row[k, 2], w) + 2:
                row[k] = (x0, y0, x1 - x0, y1 - y0)
        elif overlap.max() <= 0 and 0.5 * hm <= h <= 0.9 * hm and abs(y + h - bottom) < 0.12 * hm:
            dots = [o for o in others if o[3] < 0.3 * hm and o[1] + o[3] <= y + 1 and o[1] >= top - 0.15 * hm
                    and o[0] >= x - 0.2 * w and o[0] + o[2] <= x + 1.2 * w]
            if len(dots) >= 1 and 0.15 <= w / h <= 1.2:
                y0 = min(o[1] for o in dots)
                row = np.vstack([row, (x, y0, w, y + h - y0)])
    return row[np.argsort(row[:, 0])]


def add_touching(row: np.ndarray, others: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The row with the components of ``others`` that are glyphs touching each other added (for
    ``split_wide`` to cut apart): bold print, tight spacing or blur join neighbouring glyphs into
    one component too wide to be taken for a character. Such a component sits on the row's line
    at its height, is wider than a glyph and at most ``TOUCHING_MAX_WIDTH`` row heights, has
    background in it (no filled block), overlaps no box of the row, lies at most a row height
    beyond its ends and touches neither the left nor the right border of ``mask`` (frame, band
    and car body do)."""
    if len(row) < 2 or len(others) == 0:
        return row
    hm, off_line = comp.row_line(row)
    x, y, w, h = others[:, :4].T
    lo, hi = row[:, 0].min(), (row[:, 0] + row[:, 2]).max()
    fits = ((0.9 * hm <= h) & (h <= 1.12 * hm) & (w > 0.95 * hm) & (w <= TOUCHING_MAX_WIDTH * hm)
            & (np.abs(off_line(others)) < 0.1 * hm) & (x > 1) & (x + w < mask.shape[1] - 1)
            & (x + w > lo - hm) & (x < hi + hm))
    added = []
    for box in others[fits, :4]:
        bx, by, bw, bh = box.astype(int)
        overlaps = np.minimum(row[:, 0] + row[:, 2], bx + bw) - np.maximum(row[:, 0], bx) > 0
        if not overlaps.any() and comp.mean_of(mask[by : by + bh, bx : bx + bw] > 0) < 0.75:
            added.append(box)
    if not added:
        return row
    # the glyphs of one font are about as wide as each other, and the ink of a touching pair can
    # be thinnest inside a glyph (the bowl of a D), so the cuts stay close to equal widths
    pieces = split_wide(np.array(added, dtype=float), mask, window=TOUCHING_CUT_WINDOW, height=hm)
    out = np.vstack([row, pieces])
    return out[np.argsort(out[:, 0])]


def drop_cut(boxes: np.ndarray, width: int) -> np.ndarray:
    """Drop slivers cut by the left or right image border (band edge, frame, car body)."""
    hm = comp.median(boxes[:, 3])
    touching = (boxes[:, 0] <= 0) | (boxes[:, 0] + boxes[:, 2] >= width)
    # a box on the border of a long row is car body or a lamp beside a tight crop, unless it is a
    # character the crop's edge touches
    glyph = np.zeros(len(boxes), bool)
    if np.sum(~touching) >= 2:
        _, off_line = comp.row_line(boxes[~touching])
        glyph = edge_glyph(boxes, off_line(boxes), hm)
    cut = touching & ((boxes[:, 2] < 0.35 * hm) | ((len(boxes) >= 6) & ~glyph))
    return boxes[~cut]


def edge_glyph(boxes: np.ndarray, off_line: np.ndarray, hm: float) -> np.ndarray:
    """Which of ``boxes`` (touching the image border) stand exactly where a row's glyphs do, so
    are characters the crop's edge touches, not car body or a frame: centre on the row's line
    (``off_line``: signed offsets from it), as tall as the glyphs (median height ``hm``) and no sliver."""
    return (np.abs(off_line) < 0.08 * hm) & (np.abs(boxes[:, 3] - hm) < 0.12 * hm) & (boxes[:, 2] >= 0.35 * hm)


def split_wide(boxes: np.ndarray, mask: np.ndarray, *, window: float = 0.3, height: float | None = None) -> np.ndarray:
    """Split boxes wider than one character (touching glyphs) at their ink-projection minima; each
    piece spans the rows of its main ink (``main_ink_rows``), so that a hyphen split off a glyph
    it touched is as short as it is (``_clean_row`` drops short boxes). A box of k glyphs is cut
    near each k-th of its width, within ``window`` of a k-th either way. ``height``: the glyph
    height (default: the boxes' median height)."""
    hm = comp.median(boxes[:, 3]) if height is None else height
    out = []
    for x, y, w, h in boxes:
        parts = int(round(w / (0.6 * hm)))
        if w <= 0.95 * hm or parts < 2:
            out.append((x, y, w, h))
            continue
        x0, y0 = int(x), int(y)
        profile = (mask[y0 : y0 + int(h), x0 : x0 + int(w)] > 0).sum(axis=0).astype(float)
        cuts, step = [0], w / parts
        for p in range(1, parts):
            lo, hi = int(p * step - window * step), int(p * step + window * step)
            cuts.append(lo + int(np.argmin(profile[lo:hi])) if hi > lo else int(p * step))
        cuts.append(int(w))
        for a, b in zip(cuts[:-1], cuts[1:]):
            if b - a > 1:
                top, height = main_ink_rows(mask[y0 : y0 + int(h), x0 + a : x0 + b], h)
                out.append((x + a, y + top, b - a, height))
    return np.array(out, dtype=float)


def main_ink_rows(piece: np.ndarray, height: float) -> tuple[float, float]:
    """Top and height of the ink of a piece of a mask, ``height`` tall: of its main ink (its
    components of at least ``MAIN_INK`` of the largest one's area) when that is shorter than
    ``SHORT_BOX`` of ``height`` (a split-off hyphen, without the tip of the glyph it was split
    from), else of all its ink (a glyph, with its umlaut dots); ``height`` when it has no ink."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((piece > 0).astype(np.uint8), connectivity=8)
    if count < 2:
        return 0.0, height
    stats = stats[1:]
    top, bottom = rows_spanned(stats[stats[:, cv2.CC_STAT_AREA] >= MAIN_INK * stats[:, cv2.CC_STAT_AREA].max()])
    if bottom - top >= SHORT_BOX * height:  # a glyph: all of its ink
        top, bottom = rows_spanned(stats)
    return float(top), float(bottom - top)


def rows_spanned(stats: np.ndarray) -> tuple[int, int]:
    """First and past-the-last row of components given as OpenCV stats rows."""
    return stats[:, cv2.CC_STAT_TOP].min(), (stats[:, cv2.CC_STAT_TOP] + stats[:, cv2.CC_STAT_HEIGHT]).max()


def drop_tall_ends(boxes: np.ndarray) -> np.ndarray:
    """Drop a first or last box (of a row of at least four) that is ``TALL_END`` taller than the
    others and reaches past their tops and their bottoms: the plate's frame or the car beside it,
    not a glyph (a glyph of a rolled plate's end sits higher or lower, not both)."""
    if (boxes[:, 4] == 0).sum() < 4:
        return boxes
    keep = np.ones(len(boxes), bool)
    for end in (0, len(boxes) - 1):
        if boxes[end, 4]:
            continue
        others = np.delete(boxes, end, axis=0)
        others = others[others[:, 4] == 0]
        hm = comp.median(others[:, 3])
        y, h = boxes[end, 1], boxes[end, 3]
        margin = 0.05 * hm
        if h > TALL_END * hm and y < others[:, 1].min() - margin \
                and y + h > (others[:, 1] + others[:, 3]).max() + margin:
            keep[end] = False
    return boxes[keep]


def keep_main_run(boxes: np.ndarray) -> np.ndarray:
    """Drop boxes cut off from the rest of the row by a very wide space (text beside the plate)."""
    hm = comp.median(boxes[:, 3])
    space = boxes[1:, 0] - (boxes[:-1, 0] + boxes[:-1, 2])
    runs = np.split(np.arange(len(boxes)), np.flatnonzero(space > 2.8 * hm) + 1)
    best = max(runs, key=len)
    return boxes[best]


def classify_gaps(boxes: np.ndarray, others: np.ndarray) -> tuple[list[int], list[int]]:
    """Group boundaries: wide spaces (German sticker gap, Spanish digit/letter space), hyphens
    and clearly widened spaces (German letter/digit space); and the wide ones alone.

    Spaces are measured between character cells: a narrow glyph (1, I) is centred in a cell of
    the median glyph width, so its side bearings do not look like a gap.
    """
    hm = comp.median(boxes[:, 3])
    wm = comp.median(boxes[:, 2])
    centre = boxes[:, 0] + boxes[:, 2] / 2
    half = np.maximum(boxes[:, 2], wm) / 2
    space = ((centre[1:] - half[1:]) - (centre[:-1] + half[:-1])) / hm
    usual = comp.median(space) if len(space) else 0.0
    wide = [i + 1 for i, s in enumerate(space) if s > max(0.38, usual + 0.18)]
    clear = [i + 1 for i, s in enumerate(space) if s > max(0.3, usual + 0.14)]
    mid = boxes[:, 1] + boxes[:, 3] / 2
    for x, y, w, h in others:
        if h < 0.3 * hm and w > 0.8 * h and w < 0.6 * hm:
            k = int(np.searchsorted(centre, x + w / 2))
            if 0 < k < len(boxes) and abs(y + h / 2 - (mid[k - 1] + mid[k]) / 2) < 0.2 * hm \
                    and x >= boxes[k - 1, 0] + boxes[k - 1, 2] - 1 and x + w <= boxes[k, 0] + 1:
                clear.append(k)
    return sorted(set(clear) | set(wide)), wide
