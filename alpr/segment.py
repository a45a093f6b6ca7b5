"""Character segmentation of a plate crop (tight or loose, any resolution from ~100 px wide).

Approach: binarise dark-on-light (local and global thresholds), keep connected components
shaped like characters, pick the largest row of similarly tall, aligned components (this drops
the EU band, stickers, screws, frame and dealer text, which do not share the characters'
height and baseline), then repair the row: merge broken strokes and umlaut dots, split touching
glyphs, recover glyphs that only another binarisation kept, report the flat grey boxes that
anonymise characters in some datasets as occluded character positions, point out boxes that may be
a German plate's registration stickers (for the decoder, which knows the country), and classify
the spaces between characters into group boundaries. ``join_stems`` offers the reader a second
segmentation with pairs of narrow boxes joined (a wide glyph cut in two).
"""

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from alpr import _components as comp
from alpr._band import drop_band, drop_coloured, drop_flat, find_band, sticker_like
from alpr._geometry import box_cover
from alpr._row_repair import (
    SHORT_BOX,
    absorb_pieces,
    add_touching,
    classify_gaps,
    drop_cut,
    drop_tall_ends,
    edge_glyph,
    keep_main_run,
    split_wide,
)

#: Working height a crop is enlarged to (characters are then 30-70 px tall; the boxes are mapped
#: back, so the CNN reads the crop's own pixels).
WORK_HEIGHT = 96
#: Working height a crop taller than ``WORK_HEIGHT`` is reduced to (bilinearly, from half size
#: up: its 2x2 footprint then covers each output pixel, at a fifth of INTER_AREA's cost).
#: Segmenting a 110 px rectified plate takes about 65 % of the time this way as at 96 px with
#: INTER_AREA, and reads about as well (2026-12-06): plates rectified from rendered photos 486 vs 482
#: of 600 exact, openalpr-eu 87 vs 84, UC3M-LP crops (115 of them taller than 96 px) 1781 vs
#: 1779 of 2056, UC3M-LP photos 88 vs 90 of 401 plates read (precision 0.967 vs 0.968), the
#: turned photos of ``scripts/eval_tilted.py`` 9 plates fewer of about 1,300. Small
#: crops stay enlarged to 96: blurred by enlarging, they lose glyphs at 72 (UC3M-like rendered
#: crops, ``eval_synthetic_crops.py``: 9 fewer of 2,600), and at 64 the blurriest fell a point.
REDUCED_WORK_HEIGHT = 72
_MAX_WORK_WIDTH = 900
#: Crops wider than this (width / height) are single-row plates; two-row plates are squarer.
_TWO_ROW_MAX_ASPECT = 2.6
#: With fewer glyphs than this in a row, a known plate is looked at again with its frame's edges
#: cut away, and padded above and below.
_FEW_GLYPHS = 5
#: Paper-coloured rows added above and below a known plate with few glyphs, as a share of its
#: height: a crop cut at the glyphs' tops or bottoms makes them as tall as the image, which is
#: what the frame's sides and the car body look like, so they are not taken for characters.
_TIGHT_PAD = 0.15
#: ``join_stems``: two neighbouring boxes each narrower than ``STEM_WIDTH`` row heights, at most
#: ``STEM_GAP`` apart and together ``STEM_UNION`` wide may be one wide glyph cut in two. Set a
#: priori (an FE-Schrift M is about 0.6 row heights wide, an I 0.15-0.2) and measured once:
#: rendered plates read from their true outlines, wrong de 53 / 56 / 63 -> 50 / 54 / 59 and es
#: 54 / 52 / 40 -> 49 / 47 / 33 of 300 (seeds 5000 / 6000 / 7000, none lost).
STEM_WIDTH, STEM_GAP, STEM_UNION = 0.4, 0.15, (0.45, 1.0)


@dataclass
class Segmentation:
    """Characters found on a plate crop.

    Attributes:
        boxes: int array N×4 of (x, y, w, h) per character in crop pixels, reading order.
        gaps: indices i (1..N-1) where a new character group starts: the German sticker gap and
            narrow letter/digit space, the Spanish digit/letter space.
        wide_gaps: the subset of ``gaps`` that are wide (German sticker gap, Spanish space).
        groups: group index of every character (0, 0, 1, 1, 2, ...).
        band: (x, y, w, h) of the EU blue band in crop pixels, or ``None``.
        occluded: indices into ``boxes`` of grey anonymisation boxes, one per hidden character
            (counted as characters by ``gaps``, ``wide_gaps`` and ``groups``).
        stickers: indices into ``boxes`` that may be a German plate's registration stickers
            taken for a character (``alpr._band.sticker_like``); the German decoder may skip one.
    """

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), int))
    gaps: list[int] = field(default_factory=list)
    wide_gaps: list[int] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    band: tuple[int, int, int, int] | None = None
    occluded: list[int] = field(default_factory=list)
    stickers: list[int] = field(default_factory=list)


def segment(plate_bgr: np.ndarray, *, known_plate: bool = False) -> Segmentation:
    """Find the characters of a plate crop, left to right, with the gaps between groups.

    Args:
        plate_bgr: (H, W, 3) uint8 BGR (or (H, W) grey) image of one plate, tightly rectified or
            loosely cropped with some car body around it.
        known_plate: the image is known to show a plate (a crop given by the user, not a
            detector's candidate): when few glyphs stand free, look for glyphs joined to the
            frame too, and for glyphs the crop cuts at the top or bottom. Off for candidates,
            where light lettering on dark car parts would give rows that way.

    Returns:
        A ``Segmentation``; empty (no boxes) when no row of at least two characters is found.
    """
    if not isinstance(plate_bgr, np.ndarray) or plate_bgr.ndim not in (2, 3) or min(plate_bgr.shape[:2]) < 8:
        return Segmentation()
    plate_bgr = comp.as_uint8(plate_bgr)
    if plate_bgr.ndim == 2:
        image = cv2.cvtColor(plate_bgr, cv2.COLOR_GRAY2BGR)
    else:
        image = plate_bgr[..., :3] if plate_bgr.shape[2] >= 3 else cv2.cvtColor(plate_bgr[..., 0], cv2.COLOR_GRAY2BGR)
    if _is_noise(image):
        return Segmentation()
    found = _segment(image, known_plate)
    if known_plate and len(_glyphs(found)) < _FEW_GLYPHS:
        found = _padded_if_better(image, found)
    return found


def _glyphs(found: Segmentation) -> np.ndarray:
    """The boxes of ``found`` that are not grey anonymisation boxes."""
    return np.delete(found.boxes, found.occluded, axis=0)


def _padded_if_better(image: np.ndarray, found: Segmentation) -> Segmentation:
    """``found`` (the segmentation of the known plate ``image``), or that of ``image`` padded
    above and below with its paper colour (``_TIGHT_PAD``) if it has more glyphs away from the
    left and right borders (as ``_find_row`` judges the frame-cut masks), with its boxes mapped
    back into ``image``. Rendered Spanish crops cut between 5 % inside and 8 % outside the
    glyphs' tops and bottoms were read to their pattern 69.75 % of the time without it, 79.25 %
    with it (``scripts/eval_synthetic_crops.py --n 400 --seed 51 --tight-height-rate 1.0``)."""
    h, w = image.shape[:2]
    pad = max(2, round(_TIGHT_PAD * h))
    padded = cv2.copyMakeBorder(image, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=_paper_colour(image))
    other = _segment(padded, True)
    if _inside(_glyphs(other), w) <= _inside(_glyphs(found), w):
        return found
    band = None if other.band is None else tuple(int(v) for v in _unpadded(np.array([other.band]), pad, h)[0])
    return replace(other, boxes=_unpadded(other.boxes, pad, h), band=band)


def _unpadded(boxes: np.ndarray, pad: int, height: int) -> np.ndarray:
    """(x, y, w, h) boxes of an image padded by ``pad`` rows above, moved up into the unpadded
    image ``height`` rows high and clipped to it (at least one row high)."""
    out = boxes.copy()
    top = np.clip(boxes[:, 1] - pad, 0, height - 1)
    out[:, 1], out[:, 3] = top, np.clip(boxes[:, 1] + boxes[:, 3] - pad, top + 1, height) - top
    return out


def _paper_colour(image: np.ndarray) -> tuple[int, int, int]:
    """The plate background's BGR colour: the median of the pixels whose grey lies between the
    70th and 92nd percentiles (lighter than the characters, short of glare)."""
    grey = comp.to_grey(image)
    lo, hi = comp.percentiles(grey, (70, 92))
    paper = image[(grey >= lo) & (grey <= hi)]
    return tuple(int(np.median(paper[:, c])) for c in range(3))


def _segment(image: np.ndarray, known_plate: bool) -> Segmentation:
    """``segment`` of a BGR uint8 image that is no noise."""
    h0, w0 = image.shape[:2]
    scale = min((WORK_HEIGHT if h0 <= WORK_HEIGHT else REDUCED_WORK_HEIGHT) / h0, _MAX_WORK_WIDTH / w0)
    size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
    work = cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR)
    grey = comp.normalised_grey(work)
    if not grey.any():
        return Segmentation()
    rows, mask, others, pool = _find_rows(grey, known_plate)
    colour = comp.chroma(work)
    greys = comp.flat_grey_boxes(work, comp.median(rows[0][:, 3]), colour) if len(rows[0]) else np.zeros((0, 4))
    rows = [_clean_row(r, mask, work, grey, colour, greys, pool, others) for r in rows]
    rows = [r for r in rows if (r[:, 4] == 0).sum() >= 2]
    if not rows:
        return Segmentation()
    parts, gaps, wide, occluded = [], [], [], []
    for row in rows:  # top row first; the change of row is a (wide) group boundary
        offset = sum(len(p) for p in parts)
        occ, row = np.flatnonzero(row[:, 4]).tolist(), row[:, :4]
        occluded += [offset + i for i in occ]
        row_gaps, row_wide = classify_gaps(_as_cells(row, occ), others)
        gaps += ([offset] if offset else []) + [offset + i for i in row_gaps]
        wide += ([offset] if offset else []) + [offset + i for i in row_wide]
        parts.append(row)
    boxes = np.vstack(parts)
    groups = np.cumsum([0] + [1 if i in gaps else 0 for i in range(1, len(boxes))]).tolist()
    band = find_band(work, parts[0], colour)
    stickers = sticker_like(parts[0], grey, colour, [i for i in occluded if i < len(parts[0])])
    out = np.round(boxes / scale).astype(int)
    out[:, :2] = np.clip(out[:, :2], 0, [w0 - 1, h0 - 1])
    out[:, 2:] = np.maximum(np.minimum(out[:, 2:], [w0, h0] - out[:, :2]), 1)
    if band is not None:
        band = tuple(int(round(v / scale)) for v in band)
    return Segmentation(out, gaps, wide, groups, band, occluded, stickers)


def _as_cells(row: np.ndarray, occluded: list[int]) -> np.ndarray:
    """The row with each (usually over-wide) grey box narrowed to a median glyph, centred."""
    if not occluded or len(occluded) == len(row):
        return row
    cells = row.copy()
    wm = comp.median(np.delete(row[:, 2], occluded))
    narrow = np.minimum(cells[occluded, 2], wm)
    cells[occluded, 0] += (cells[occluded, 2] - narrow) / 2
    cells[occluded, 2] = narrow
    return cells


def join_stems(seg: Segmentation) -> Segmentation | None:
    """``seg`` with each pair of neighbouring narrow boxes that may be the two stems of one wide
    glyph (an H, M, N or W whose thin middle strokes the binarisation lost) joined into one box,
    or None when there is no such pair. The reader decodes both and keeps the better reading: a
    real pair of narrow glyphs (II, 11) reads better apart. Stems are narrower than
    ``STEM_WIDTH`` row heights, at most ``STEM_GAP`` apart and together ``STEM_UNION`` wide, and
    lie in one group, neither hidden nor a sticker."""
    boxes, n = seg.boxes, len(seg.boxes)
    if n < 3:
        return None
    height = comp.median(boxes[:, 3])
    left_alone = set(seg.occluded) | set(seg.stickers)
    firsts, i = [], 0
    while i < n - 1:
        (xa, _, wa, _), (xb, _, wb, _) = boxes[i], boxes[i + 1]
        if not {i, i + 1} & left_alone and i + 1 not in seg.gaps and max(wa, wb) < STEM_WIDTH * height \
                and xb - (xa + wa) < STEM_GAP * height \
                and STEM_UNION[0] * height <= xb + wb - xa <= STEM_UNION[1] * height:
            firsts.append(i)
            i += 2
        else:
            i += 1
    if not firsts:
        return None
    seconds = {i + 1 for i in firsts}
    new_index = np.cumsum([i not in seconds for i in range(n)]) - 1  # a second stem goes with its first
    joined = [list(box) for i, box in enumerate(boxes) if i not in seconds]
    for i in firsts:
        (x, y, _, h), (xb, yb, wb, hb) = boxes[i], boxes[i + 1]
        top, bottom = min(y, yb), max(y + h, yb + hb)
        joined[new_index[i]] = [x, top, xb + wb - x, bottom - top]

    def renumbered(indices) -> list[int]:
        return sorted({int(new_index[int(j)]) for j in indices})

    groups = [g for i, g in enumerate(seg.groups) if i not in seconds]
    return replace(seg, boxes=np.array(joined, dtype=boxes.dtype), gaps=renumbered(seg.gaps),
                   wide_gaps=renumbered(seg.wide_gaps), groups=groups, occluded=renumbered(seg.occluded),
                   stickers=renumbered(seg.stickers))


def _clean_row(boxes: np.ndarray, mask: np.ndarray, work: np.ndarray, grey: np.ndarray, colour,
               greys: np.ndarray, pool: np.ndarray, others: np.ndarray) -> np.ndarray:
    """A character row after dropping what is no character, taking in and splitting touching
    glyphs (``others``: the mask's components outside the row) and
    inserting the grey anonymisation boxes ``greys`` lying on it, as rows (x, y, w, h, occluder);
    empty if the row is implausible (no clean margin, ink everywhere between the boxes).
    ``grey`` is ``work``'s normalised grey."""
    empty = np.zeros((0, 5))
    if len(boxes) < 2 or not _clean_margin(boxes, mask) or not _clean_between(boxes, mask, greys):
        return empty
    boxes = add_touching(boxes, others, mask)
    for drop, arg in ((drop_cut, grey.shape[1]), (drop_coloured, colour[0]), (drop_flat, grey)):
        boxes = drop(boxes, arg)
        if len(boxes) < 2:
            return empty
    boxes = drop_band(boxes, work, colour, grey)
    pool = np.vstack([pool, _band_pieces(boxes, mask)])
    boxes = comp.add_aligned(split_wide(boxes, mask), pool, grey)
    boxes, occ = comp.insert_occluders(boxes, greys)
    boxes = np.column_stack([boxes, np.isin(np.arange(len(boxes)), occ)])
    if occ:  # a glyph the chosen mask joined to a grey box went with it: look again beside those
        boxes = comp.add_aligned(boxes, _beside(pool, boxes[occ], 0.25 * comp.median(boxes[:, 3])), grey)
    boxes = _extend_ends(boxes, pool, work, grey, colour)
    boxes = drop_tall_ends(keep_main_run(boxes))
    return boxes[(boxes[:, 3] >= SHORT_BOX * comp.median(boxes[:, 3])) | (boxes[:, 4] > 0)]


def _beside(pool: np.ndarray, boxes: np.ndarray, reach: float) -> np.ndarray:
    """The ``pool`` boxes at most ``reach`` left or right of one of ``boxes``."""
    lo, hi = pool[:, 0, None], (pool[:, 0] + pool[:, 2])[:, None]
    space = np.maximum(boxes[:, 0] - hi, lo - (boxes[:, 0] + boxes[:, 2]))
    return pool[np.any(space <= reach, axis=1)]


def _extend_ends(row: np.ndarray, pool: np.ndarray, work: np.ndarray, grey: np.ndarray, colour) -> np.ndarray:
    """The row (x, y, w, h, occluder) with character-like boxes from other binarisations
    (``pool``) added just past its ends: a first or last glyph that the chosen mask joined to
    the plate frame or car body beside it. A box is added when it sits on the row's line, has
    its characters' height and ink contrast, and follows the end box at most a narrow space
    away (so the band, screws and text beside the plate stay out); one touching the image border
    (a frame edge or car body cut by the crop, or a glyph the crop's edge touches) must be an
    ``edge_glyph``, as in ``drop_cut``, and at the left none may be the EU band.
    ``grey`` is ``work``'s normalised grey, ``colour`` its ``chroma``."""
    glyphs = row[row[:, 4] == 0, :4]
    if len(glyphs) < 3 or len(pool) == 0:
        return row
    hm, off_line = comp.row_line(glyphs)
    x, _, w, h = pool[:, :4].T
    c = off_line(pool)
    fits = (0.85 * hm <= h) & (h <= 1.15 * hm) & (w <= 0.9 * hm) & (w >= 0.12 * hm) & (np.abs(c) < 0.12 * hm)
    inside = (x > 1) & (x + w < grey.shape[1] - 1)
    fits &= inside | edge_glyph(pool, c, hm)
    pool = pool[fits, :4]
    pool = pool[np.argsort(np.abs(pool[:, 3] - hm))]  # best height match first
    contrast = None
    for side in (0, -1):
        end = row[side]
        gap = pool[:, 0] - (end[0] + end[2]) if side else end[0] - (pool[:, 0] + pool[:, 2])
        for box in pool[(gap > -0.05 * hm) & (gap < 0.45 * hm)]:
            if contrast is None:
                contrast = comp.median([comp.spread(grey, b) for b in glyphs])
            if comp.spread(grey, box) < 0.6 * contrast:
                continue
            if side == 0 and len(drop_band(np.vstack([box, glyphs]), work, colour, grey)) == len(glyphs):
                continue
            row = np.vstack([(*box, 0), row]) if side == 0 else np.vstack([row, (*box, 0)])
            break
    return row


def _band_pieces(row: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Character-like components of ``mask`` cut to the row's height band: a glyph joined to a
    dark frame or car body above or below a tight crop, or to a frame line along the band,
    comes apart from it there."""
    top, bottom = comp.median(row[:, 1]), comp.median(row[:, 1] + row[:, 3])
    height = bottom - top
    if height < 4:
        return np.zeros((0, 4))
    lo, hi = max(0, int(round(top - 0.04 * height))), int(round(bottom + 0.04 * height))
    # a frame edge running along the band, far longer than a glyph is wide, is cut away too
    lines = cv2.morphologyEx(mask[lo:hi], cv2.MORPH_OPEN, np.ones((1, int(1.5 * height)), np.uint8))
    clipped = np.zeros_like(mask)
    clipped[lo:hi] = cv2.subtract(mask[lo:hi], lines)
    table = comp.component_table(clipped)
    if len(table) == 0:
        return np.zeros((0, 4))
    return table[comp.char_like(table, 0.75 * height, 1.1 * height), :4].astype(float)


def _find_rows(grey: np.ndarray, framed: bool) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """The character row, or the two rows (top first) of a two-row plate, with the mask they
    come from and its other components (``framed``: see ``_find_row``)."""
    boxes, mask, others, spare, pool = _find_row(grey, framed)
    if len(boxes) < 2 or grey.shape[1] > _TWO_ROW_MAX_ASPECT * grey.shape[0]:
        return [boxes], mask, others, pool
    second = _second_row(boxes, np.vstack([spare, pool]), others)
    if len(second) < 2:
        return [boxes], mask, others, pool
    h1, h2 = comp.median(boxes[:, 3]), comp.median(second[:, 3])
    dy = abs((second[:, 1] + second[:, 3] / 2).mean() - (boxes[:, 1] + boxes[:, 3] / 2).mean())
    lo, hi = max(boxes[0, 0], second[0, 0]), min(boxes[-1, 0] + boxes[-1, 2], second[-1, 0] + second[-1, 2])
    span = min(boxes[-1, 0] + boxes[-1, 2] - boxes[0, 0], second[-1, 0] + second[-1, 2] - second[0, 0])
    if 0.7 < h2 / h1 < 1.45 and 0.9 * max(h1, h2) < dy < 2.2 * max(h1, h2) and hi - lo > 0.4 * span:
        rows = sorted([boxes, second], key=lambda r: r[:, 1].mean())
        return rows, mask, others, pool
    return [boxes], mask, others, pool


def _second_row(first: np.ndarray, cands: np.ndarray, others: np.ndarray) -> np.ndarray:
    """The best row of ``cands`` (the chosen mask's spare components first, then those of every
    binarisation) that could be the other row of a two-row plate: boxes about as tall as the
    ``first`` row's, one to two row heights above or below it. Looking only where the other
    row can be keeps the frame, band and screws beside the first row from being taken for it,
    and the other binarisations recover a row the chosen mask joined to the frame."""
    h1 = comp.median(first[:, 3])
    _, off_line = comp.row_line(first)
    h, dy = cands[:, 3], np.abs(off_line(cands))
    cands = cands[(h > 0.7 * h1) & (h < 1.45 * h1) & (dy > 0.9 * np.maximum(h, h1)) & (dy < 2.2 * np.maximum(h, h1))]
    unique = []  # the same glyph is found by several binarisations: keep its first box
    for box in cands:
        if all(box_cover(box, u) < 0.5 for u in unique):
            unique.append(box)
    if len(unique) < 2:
        return np.zeros((0, 4))
    unique = np.array(unique)
    members, (count, _) = comp.best_row(unique, max_slope=0.45)
    return absorb_pieces(unique[members], others) if count >= 2 else np.zeros((0, 4))


def _is_noise(image: np.ndarray) -> bool:
    """Pixel noise without structure: the Laplacian is huge compared with the grey spread
    (about 3.7 for white noise, below 2 for any plate photo)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    spread = float(grey.std())
    return spread < 1 or float(np.abs(cv2.Laplacian(grey, cv2.CV_32F)).mean()) > 2.6 * spread


def _find_row(grey: np.ndarray, framed: bool = False) -> tuple[np.ndarray, ...]:
    """Best character row over the binarisations, as float boxes (x, y, w, h), its mask, the
    mask's other components, those of them shaped like characters, and the character-shaped
    components of every binarisation (to recover glyphs the chosen mask lost).

    With ``framed`` (the image is known to be a plate), when no binarisation gives a row of
    ``_FEW_GLYPHS``, they are tried again with the long horizontal lines cut away (the frame's
    edges, which join the glyphs of a tight crop; no glyph stroke is as long as the crop is
    high), and such a row is taken if it has more glyphs away from the crop's left and right
    borders: cutting the frame also frees the EU band and the frame's sides there, and a plate
    with few characters (German "RX Z 5") is not to be filled up with them."""
    height, width = grey.shape
    masks = comp.dark_masks(grey, 0.7 * height) + comp.dark_masks(grey, 0.4 * height) + comp.global_masks(grey)
    best, pool = None, []
    for mask in masks:
        best = _better_row(mask, best, pool)
    if framed and (best is None or best[0] < _FEW_GLYPHS):
        cut = None
        for mask in masks:
            lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, height), np.uint8))
            cut = _better_row(cv2.subtract(mask, lines), cut, pool)
        if cut is not None and (best is None or _inside(cut[2], width) > _inside(best[2], width)):
            best = cut
    pool = np.vstack(pool) if pool else np.zeros((0, 4))
    if best is None:
        return np.zeros((0, 4)), None, np.zeros((0, 4)), np.zeros((0, 4)), pool
    return (*best[2:], pool)


def _inside(boxes: np.ndarray, width: int) -> int:
    """How many of ``boxes`` touch neither the left nor the right border of an image ``width`` wide."""
    return int(np.sum((boxes[:, 0] > 1) & (boxes[:, 0] + boxes[:, 2] < width - 1)))


def _better_row(mask: np.ndarray, best, pool: list):
    """``best`` or, if it ranks higher, the row of ``mask``'s character-like components, as
    (count, key, boxes, mask, other components, spare character-like ones); the
    character-like components are added to ``pool``."""
    height = mask.shape[0]
    table = comp.component_table(mask)
    if len(table) == 0:
        return best
    keep = comp.char_like(table, 0.18 * height, 0.97 * height)
    cands, rest = table[keep, :4], table[~keep, :4]
    pool.append(cands)
    row, (count, quality) = comp.best_row(cands, max_slope=0.45)
    key = min(count, 9) + 2.0 * quality / height
    if count < 2 or (best is not None and key <= best[1]):
        return best
    spare = np.delete(cands, row, axis=0)
    others = np.vstack([rest, spare])
    return count, key, absorb_pieces(cands[row], others), mask, others, spare


def _clean_margin(boxes: np.ndarray, mask: np.ndarray) -> bool:
    """Whether there is a clean background line just above or below the characters (false for
    noise and textures, whose 'rows' are blobs picked out of ink everywhere)."""
    hm = comp.median(boxes[:, 3])
    fractions = []
    for x, y, w, h in boxes.astype(int):
        above = mask[max(0, int(y - 0.2 * hm)) : max(0, y - 1), x : x + w]
        below = mask[y + h + 1 : int(y + h + 0.2 * hm), x : x + w]
        # cleanest line of each strip; a strip cut off by the image edge says nothing
        fractions.append(min(float((p > 0).mean(axis=1).min()) if p.size else 0.0 for p in (above, below)))
    return comp.median(fractions) < 0.3


def _clean_between(boxes: np.ndarray, mask: np.ndarray, greys: np.ndarray) -> bool:
    """Whether the row's band is mostly background between the character boxes (the grey
    anonymisation boxes ``greys`` on the row count as characters, not as ink between them)."""
    y0, y1 = int(boxes[:, 1].min()), int((boxes[:, 1] + boxes[:, 3]).max())
    x0, x1 = int(boxes[0, 0]), int(boxes[-1, 0] + boxes[-1, 2])
    band = mask[y0:y1, x0:x1] > 0
    inside = np.zeros(band.shape[1], bool)
    on_row = greys[np.minimum(greys[:, 1] + greys[:, 3], y1) - np.maximum(greys[:, 1], y0) > 0.5 * (y1 - y0)]
    for x, _, w, _ in np.vstack([boxes[:, :4], on_row]).astype(int):
        inside[max(0, x - x0) : max(0, x - x0 + w)] = True
    outside = band[:, ~inside]
    return outside.size == 0 or comp.mean_of(outside) < 0.6
