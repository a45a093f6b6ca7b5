"""Dark-on-light character blobs: binarisation and connected-component statistics.

Shared by ``alpr.segment`` (finding the characters of a plate crop) and ``alpr.detect`` (scoring
how plate-like a candidate region is).
"""

import functools

import cv2
import numpy as np

from alpr._geometry import box_iou

#: Grey spread (5×5 standard deviation) under which a region is taken for paint, not paper: a
#: painted box is flatter than photographed paper, so it may be closer to the paper's level.
_STILL_STD = 1.5


def to_grey(image: np.ndarray) -> np.ndarray:
    """A grey, BGR or BGRA image as one grey channel (same dtype)."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)


def normalised_grey(image: np.ndarray, clip: float = 2.0) -> np.ndarray:
    """Grey image stretched to the full 0..255 range (robust to dark, night and tinted photos);
    ``clip`` percent of the pixels saturate at each end."""
    grey = to_grey(image)
    lo, hi = percentiles(grey[:: max(1, grey.shape[0] // 120), :: max(1, grey.shape[1] // 160)], (clip, 100 - clip))
    if hi - lo < 8:
        return np.zeros_like(grey)
    return cv2.convertScaleAbs(grey, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


def _order_stats(values: np.ndarray, ks: list[int]) -> np.ndarray:
    """``np.sort(values, axis=None)[ks]`` without sorting everything."""
    if values.dtype == np.uint8 and values.size > 4096:  # a histogram beats partitioning here
        ends = np.cumsum(np.bincount(values.ravel(), minlength=256))
        return np.searchsorted(ends, ks, side="right").astype(np.uint8)
    return np.partition(values, ks, axis=None)[ks]


def median(values) -> float:
    """``float(np.median(values))`` for an array of integers or float64 without NaNs, without
    numpy's overhead (tens of microseconds) on the small arrays it is called on here."""
    values = np.asarray(values)
    n = values.size
    if n == 0:
        return float("nan")
    if n % 2:
        return float(_order_stats(values, [n // 2])[0])
    a, b = _order_stats(values, [n // 2 - 1, n // 2])
    return (float(a) + float(b)) / 2


def mean_of(values: np.ndarray) -> float:
    """``float(values.mean())`` of a boolean or integer array (NaN when empty) without numpy's
    overhead: the integer sum is exact, and so is its division, as in numpy's float64 mean."""
    if values.size == 0:
        return float("nan")
    if values.dtype == bool:
        return np.count_nonzero(values) / values.size
    return int(values.sum(dtype=np.int64)) / values.size


def percentiles(values, qs) -> list[float]:
    """``np.percentile(values, qs)`` (linear interpolation, the same float64 arithmetic) for a
    non-empty array of integers or floats without NaNs, without numpy's overhead."""
    return [float(p) for p in _interpolate(values, qs, float)]


def _interpolate(values: np.ndarray, qs, dtype) -> list:
    """Percentiles ``qs`` of ``values`` interpolated as ``np.percentile`` does, in ``dtype``
    with a Python-float weight (so ``np.float32`` gives its results for a float32 array)."""
    n = values.size
    positions = [(n - 1) * (q / 100) for q in qs]
    ks = sorted({min(int(p) + d, n - 1) for p in positions for d in (0, 1)})
    stats = dict(zip(ks, _order_stats(values, ks)))
    out = []
    for pos in positions:
        i = int(pos)
        if i >= n - 1:
            out.append(dtype(stats[n - 1]))
            continue
        a, b, t = stats[i], stats[i + 1], pos - i
        diff = dtype(b - a)  # taken in the values' type, as numpy does
        a, b = dtype(a), dtype(b)
        out.append(b - diff * (1 - t) if t >= 0.5 else a + diff * t)
    return out


def as_uint8(image: np.ndarray) -> np.ndarray:
    """``image`` as uint8: floats in [0, 1] are scaled by 255, other types clipped to 0..255."""
    if image.dtype == np.uint8:
        return image
    values = image.astype(np.float32)
    if np.issubdtype(image.dtype, np.floating) and values.size and float(np.nanmax(values)) <= 1.0:
        values = values * 255
    return np.clip(np.nan_to_num(values), 0, 255).astype(np.uint8)


def chroma(image_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma (max - min channel) and value (max channel) as uint8 images. Unlike HSV saturation,
    chroma stays low for dark pixels of any tint."""
    b, g, r = cv2.split(image_bgr)
    high = cv2.max(cv2.max(b, g), r)
    return cv2.subtract(high, cv2.min(cv2.min(b, g), r)), high


def dark_masks(grey: np.ndarray, char_height: float) -> list[np.ndarray]:
    """Binary masks (255 = ink) of dark strokes on a lighter background.

    A local (adaptive mean) threshold whose window is about one character wide copes with
    shadows and gradients across the plate; global thresholds around Otsu's keep thin or
    low-contrast glyphs whole and apart from grey boxes and dark surroundings.
    """
    block = max(int(char_height * 0.9) | 1, 5)
    return [cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, c) for c in (12,)]


def global_masks(grey: np.ndarray) -> list[np.ndarray]:
    """Ink masks from global thresholds at and below Otsu's level."""
    level, otsu = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    low = cv2.threshold(grey, level * 0.7, 255, cv2.THRESH_BINARY_INV)[1]
    return [otsu, low]


def component_table(mask: np.ndarray) -> np.ndarray:
    """Connected components of ``mask`` as float rows (x, y, w, h, area), background dropped."""
    # 16-bit labels give the same table at about half the single-threaded cost of 32-bit ones;
    # they are safe while the mask cannot hold 65,535 components (8-connected, at most one per
    # 2x2 block), which holds for every plate-sized mask
    h, w = mask.shape[:2]
    labels = cv2.CV_16U if ((h + 1) // 2) * ((w + 1) // 2) < 65535 else cv2.CV_32S
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=labels)
    if n <= 1:
        return np.zeros((0, 5), np.float64)
    return stats[1:, :5].astype(np.float64)


def char_like(comps: np.ndarray, min_h: float, max_h: float) -> np.ndarray:
    """Boolean index of components shaped like one (possibly touching-pair) character."""
    x, y, w, h, area = comps.T
    fill = area / np.maximum(w * h, 1)
    aspect = w / np.maximum(h, 1)
    ok = (h >= min_h) & (h <= max_h) & (aspect >= 0.08) & (aspect <= 1.6)
    ok &= (fill >= 0.12) & ((fill <= 0.92) | (aspect < 0.3))  # a solid slim bar is an I or 1
    # a nearly full box that is not slim is a grey anonymisation box, a sticker or a band
    ok &= ~((fill > 0.8) & (aspect > 0.35))
    return ok


@functools.lru_cache(maxsize=64)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.triu_indices(n, 1)``, cached (read-only) as the same few sizes recur."""
    i, j = np.triu_indices(n, 1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def _masked_mean(member: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of ``member``, the mean of the selected ``values``: ``np.nanmean`` over
    ``np.where(member, values, nan)`` computed the same way, without its overhead."""
    return np.where(member, values, 0.0).sum(axis=1) / member.sum(axis=1)


def _masked_std(member: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of ``member``, the standard deviation of the selected ``values`` (as
    ``np.nanstd``, computed the same way)."""
    dev = np.where(member, values - _masked_mean(member, values)[:, None], 0.0)
    return np.sqrt((dev * dev).sum(axis=1) / member.sum(axis=1))


def best_row(boxes: np.ndarray, *, max_slope: float = 0.3) -> tuple[np.ndarray, tuple[int, float]]:
    """The largest set of boxes that form one text row, and its ranking key.

    A row is a line through two seed box centres (slope at most ``max_slope``) whose members
    have a similar height and centres near the line. Ties go to the row with the tallest,
    most uniform boxes. Returns member indices sorted left to right and (count, quality).
    """
    n = len(boxes)
    if n == 0:
        return np.zeros(0, int), (0, 0.0)
    x, w, h = boxes[:, 0], boxes[:, 2], boxes[:, 3]
    cx, cy = x + w / 2, boxes[:, 1] + h / 2
    i, j = _pairs(n)
    dx = cx[j] - cx[i]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (cy[j] - cy[i]) / dx
        ratio = h[i] / h[j]
    ok = (np.abs(dx) >= 1) & (np.abs(slope) <= max_slope) & (ratio >= 0.8) & (ratio <= 1.25)
    i, j, slope = i[ok], j[ok], slope[ok]
    if len(i) == 0:
        k = int(np.argmax(h))
        return np.array([k]), (1, 0.0)
    ref_h = (h[i] + h[j]) / 2
    line = cy[i, None] + slope[:, None] * (cx[None, :] - cx[i, None])
    member = (np.abs(cy[None, :] - line) < 0.22 * ref_h[:, None]) & (np.abs(h[None, :] - ref_h[:, None]) < 0.27 * ref_h[:, None])
    count = member.sum(axis=1)
    quality = _masked_mean(member, h) - _masked_std(member, h)
    top = np.lexsort((quality, count))[-1]
    best = np.flatnonzero(member[top])
    return best[np.argsort(x[best])], (int(count[top]), float(quality[top]))


def flat_grey_boxes(image_bgr: np.ndarray, char_h: float, colour=None) -> np.ndarray:
    """Flat, untextured rectangles about one or two characters in size, as float boxes
    (x, y, w, h): the uniform grey boxes some datasets paint over characters to anonymise them
    (their grey may be darkened or tinted with the rest of the photo).

    A pixel is flat when its 5×5 neighbourhood hardly varies (and still when it hardly varies
    at all, as paint does); a flat or still region is kept if it is a nearly full rectangle
    whose level differs from what lies just outside each of its four sides (a flat plate
    background continues past some side and has holes for characters).
    ``colour`` is ``chroma(image_bgr)`` if already computed.
    """
    grey8 = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
    grey = grey8.astype(np.float32)
    mean = cv2.blur(grey, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(grey * grey, (5, 5)) - mean * mean, 0))
    sat, _ = colour if colour is not None else chroma(image_bgr)
    min_area = 0.8 * (0.55 * char_h) * (0.25 * char_h)  # the smallest box kept below
    plain = (sat < max(28.0, median(sat) + 20)) & (mean > 12)
    flat = (std < 4) & plain
    if flat.sum() < min_area:
        return np.zeros((0, 4))
    p5, p95 = _interpolate(grey8, (5, 95), np.float32)  # as np.percentile(grey, ...) each
    thr = max(8.0, 0.07 * float(p95 - p5))
    # darker than the paper around (a local maximum reaching past a double-width box)
    size = (max(3, int(1.8 * char_h)), max(3, int(1.2 * char_h)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, size)
    paper, ink = cv2.dilate(mean, kernel), cv2.erode(mean, kernel)  # ink: thick strokes are flat too
    # a box whose grey is close to the paper's merges with flat paper at std < 4: the paint's
    # stillness keeps it apart (and then half the darkness margin is enough)
    still = (std < _STILL_STD) & plain & (mean < paper - 0.5 * thr) & (mean > ink + 0.5 * thr)
    flat &= (mean < paper - 1.5 * thr) & (mean > ink + 0.5 * thr)
    enough = max(min_area, 1)
    if flat.sum() < enough and still.sum() < enough:
        return np.zeros((0, 4))
    # flat regions of one level: bins 1.5 thr wide at two offsets keep a box whole in one of
    # them and apart from a paper or shade of another level that it touches through soft edges
    # (and the whole flat mask too: a box shaded top to bottom spans two bins)
    tables = [_opened_components(m.astype(np.uint8) * 255) for m in (flat, still)]
    step = 1.5 * thr
    for start in (0.0, 0.5 * step) if flat.sum() >= enough else ():
        bins = np.floor((mean - start) / step).astype(int)
        values = bins[flat]
        counts = np.bincount(values - values.min())  # as np.unique(values, return_counts=True)
        for b in np.flatnonzero(counts >= enough) + values.min():
            part = (flat & (bins == b)).astype(np.uint8) * 255
            _, _, w, h = cv2.boundingRect(part)
            if h >= 0.55 * char_h and w >= 0.25 * char_h:  # else no box below fits in it
                tables.append(_opened_components(part))
    table = np.vstack(tables or [np.zeros((0, 5))])
    _, _, widths, heights, areas = table.T
    sized = ((0.55 * char_h <= heights) & (heights <= 1.8 * char_h) & (0.25 * char_h <= widths)
             & (widths <= 3.0 * char_h) & (areas >= 0.8 * widths * heights))
    out = []
    hi, wi = grey.shape
    for x, y, w, h, area in table[sized]:
        x0, y0, x1, y1 = int(x), int(y), int(x + w), int(y + h)
        level = float(np.median(grey[y0:y1, x0:x1]))
        # the surroundings lie past the box's soft edge, which the 5×5 flatness test ate:
        # compare with a strip just outside the grown box, not with that edge
        grow, pad = 2, max(3, int(0.1 * char_h))
        sides = [grey[max(0, y0 - grow - pad) : max(0, y0 - grow), x0:x1], grey[y1 + grow : y1 + grow + pad, x0:x1],
                 grey[y0:y1, max(0, x0 - grow - pad) : max(0, x0 - grow)], grey[y0:y1, x1 + grow : x1 + grow + pad]]
        differ = [mean_of(np.abs(p - level) > thr) if p.size else 1.0 for p in sides]
        if min(differ) < 0.6:
            continue  # blends into its surroundings on some side: flat background, not a box
        box = (max(0, x - grow), max(0, y - grow), min(w + 2 * grow, wi - x + grow), min(h + 2 * grow, hi - y + grow))
        if all(box_iou(box, o) < 0.3 for o in out):
            out.append(box)
    return np.array(out, dtype=float).reshape(-1, 4)


def _opened_components(mask: np.ndarray) -> np.ndarray:
    """``component_table`` of the 3×3 opening of ``mask``.

    Labelled on the bounding box of the opened ink only, whose corner is kept at even
    coordinates: OpenCV labels components in 2×2 blocks, so they come out in the same order.
    """
    opened = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    x, y, w, h = cv2.boundingRect(opened)
    if w == 0:
        return np.zeros((0, 5))
    x0, y0 = x // 2 * 2, y // 2 * 2
    table = component_table(opened[y0 : y + h, x0 : x + w])
    table[:, :2] += (x0, y0)
    return table


def insert_occluders(row: np.ndarray, grey_boxes: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The row with the grey boxes lying on it inserted as characters (a box about two
    characters wide becomes two), and the indices of those occluders in the returned row.

    A grey box is on the row when it spans most of the row's height band, is about as tall as
    the characters and lies within about two character pitches of the row's ends, but not at
    the image's left edge (the EU band). Row boxes mostly under a grey box are replaced by it,
    boxes reaching into it are trimmed; a grey box mostly covered by a character is no box.
    """
    if len(row) < 2 or len(grey_boxes) == 0:
        return row, []
    hm = median(row[:, 3])
    steps = np.diff(row[:, 0] + row[:, 2] / 2)
    pitch = float(np.clip(percentiles(steps, (25,))[0], 0.45 * hm, 1.0 * hm))  # gaps only widen steps
    top, bottom = median(row[:, 1]), median(row[:, 1] + row[:, 3])
    left, right = row[0, 0] - 2.6 * pitch, row[-1, 0] + row[-1, 2] + 2.6 * pitch
    added = []
    for x, y, w, h in grey_boxes:
        cover = min(y + h, bottom) - max(y, top)
        if cover < 0.6 * (bottom - top) or h > 1.45 * hm or x < left or x + w > right:
            continue
        if x <= 3 or (x + w <= row[0, 0] + 1 and w < 0.5 * hm):
            continue  # the EU band or a sliver of it at the left edge
        parts = int(np.clip(round(w / (1.3 * pitch) + 0.1), 1, 3))
        if w < 0.45 * hm or w / parts > 2.0 * pitch:
            continue
        under = np.minimum(row[:, 0] + row[:, 2], x + w) - np.maximum(row[:, 0], x)
        inside = under >= 0.5 * row[:, 2]
        if np.any(~inside & (under > 0.5 * w)):
            continue  # a character lies over most of it
        row = row[~inside]
        for k in np.flatnonzero(np.minimum(row[:, 0] + row[:, 2], x + w) > np.maximum(row[:, 0], x)):
            bx, by, bw, bh = row[k]
            row[k] = (bx, by, x - bx, bh) if bx < x else (x + w, by, bx + bw - x - w, bh)
        row = row[row[:, 2] >= 1]
        added.extend((x + k * w / parts, y, w / parts, h) for k in range(parts))
    if not added:
        return row, []
    both = np.vstack([row, np.array(added)])
    order = np.argsort(both[:, 0] + both[:, 2] / 2, kind="stable")
    return both[order], sorted(int(np.flatnonzero(order == len(row) + k)[0]) for k in range(len(added)))


def inner(image: np.ndarray, box) -> np.ndarray:
    """The inner part of a box (a fifth of the width and 15 % of the height off each side),
    at least one pixel each way unless the box lies outside ``image``."""
    x, y, w, h = box[:4]
    x0, y0 = int(x + 0.2 * w), int(y + 0.15 * h)
    return image[y0 : max(int(y + 0.85 * h), y0 + 1), x0 : max(int(x + 0.8 * w), x0 + 1)]


def spread(grey: np.ndarray, box) -> float:
    """Grey spread (90th - 10th percentile) of the inner part of a box."""
    patch = inner(grey, box)
    if not patch.size:
        return 0.0
    hi, lo = percentiles(patch, (90, 10))
    return hi - lo


def row_line(glyphs: np.ndarray):
    """The median height of a row's glyph boxes and a function giving how far (pixels, signed)
    the centres of other boxes lie from the line fitted through the glyphs' centres."""
    hm = median(glyphs[:, 3])
    cx, cy = glyphs[:, 0] + glyphs[:, 2] / 2, glyphs[:, 1] + glyphs[:, 3] / 2
    slope, icept = np.polyfit(cx, cy, 1) if np.ptp(cx) > 0 else (0.0, float(cy.mean()))

    def off_line(boxes: np.ndarray) -> np.ndarray:
        return boxes[:, 1] + boxes[:, 3] / 2 - (slope * (boxes[:, 0] + boxes[:, 2] / 2) + icept)

    return hm, off_line


def add_aligned(row: np.ndarray, pool: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """The row with character-like boxes from other binarisations (``pool``) added in its holes
    where they sit on the row's line, have its characters' height, show some ink contrast (no
    grey box edge) and overlap none of its boxes: glyphs lost in the chosen mask to low
    contrast, a shadow or a touching frame.

    A row with a fifth column (occluder flag, as ``insert_occluders`` gives) keeps it; its grey
    boxes, grown past their soft edges, may overlap an added glyph slightly.
    """
    glyph = row[:, 4] == 0 if row.shape[1] > 4 else np.ones(len(row), bool)
    if glyph.sum() < 3 or len(pool) == 0:
        return row
    hm, off_line = row_line(row[glyph])
    x0, x1 = row[0, 0], row[-1, 0] + row[-1, 2]  # holes only: the band, frame and screws lie outside
    pool = pool[np.argsort(np.abs(pool[:, 3] - hm))]  # best height match first
    x, _, w, h = pool[:, :4].T
    c = off_line(pool)
    fits = (0.8 * hm <= h) & (h <= 1.2 * hm) & (w <= 0.9 * hm) & (np.abs(c) < 0.15 * hm) & (x0 <= x) & (x + w <= x1)
    # what overlaps the row now still does once boxes are added: test those once, up front
    slack = np.where(glyph, 0.0, 0.15 * hm)
    overlap = np.minimum(row[:, 0] + row[:, 2], (x + w)[:, None]) - np.maximum(row[:, 0], x[:, None])
    fits &= ~np.any(overlap > slack, axis=1)
    if not fits.any():
        return row
    contrast = median([spread(grey, b) for b in row[glyph]])
    for x, y, w, h in pool[fits, :4]:
        if np.any(np.minimum(row[:, 0] + row[:, 2], x + w) - np.maximum(row[:, 0], x) > slack):
            continue
        if spread(grey, (x, y, w, h)) < 0.5 * contrast:
            continue
        order = np.argsort(np.append(row[:, 0], x), kind="stable")
        row = np.vstack([row, (x, y, w, h) + (0,) * (row.shape[1] - 4)])[order]
        glyph, slack = np.append(glyph, True)[order], np.append(slack, 0.0)[order]
    return row
