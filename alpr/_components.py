"""Dark-on-light character blobs: binarisation and connected-component statistics.

Shared by ``alpr.segment`` (finding the characters of a plate crop) and ``alpr.detect`` (scoring
how plate-like a candidate region is).
"""

import cv2
import numpy as np


def normalised_grey(image: np.ndarray, clip: float = 2.0) -> np.ndarray:
    """Grey image stretched to the full 0..255 range (robust to dark, night and tinted photos);
    ``clip`` percent of the pixels saturate at each end."""
    if image.ndim == 3:
        grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    else:
        grey = image
    lo, hi = np.percentile(grey[:: max(1, grey.shape[0] // 120), :: max(1, grey.shape[1] // 160)], (clip, 100 - clip))
    if hi - lo < 8:
        return np.zeros_like(grey)
    return cv2.convertScaleAbs(grey, alpha=255.0 / (hi - lo), beta=-lo * 255.0 / (hi - lo))


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
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
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
    i, j = np.triu_indices(n, 1)
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
    hm = np.where(member, h[None, :], np.nan)
    quality = np.nanmean(hm, axis=1) - np.nanstd(hm, axis=1)
    top = np.lexsort((quality, count))[-1]
    best = np.flatnonzero(member[top])
    return best[np.argsort(x[best])], (int(count[top]), float(quality[top]))


def flat_grey_boxes(image_bgr: np.ndarray, char_h: float) -> np.ndarray:
    """Flat, untextured rectangles about one or two characters in size, as float boxes
    (x, y, w, h): the uniform grey boxes some datasets paint over characters to anonymise them
    (their grey may be darkened or tinted with the rest of the photo).

    A pixel is flat when its 5×5 neighbourhood hardly varies; a flat region is kept if it is a
    nearly full rectangle whose level differs from what lies just outside each of its four
    sides (a flat plate background continues past some side and has holes for characters).
    """
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.blur(grey, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(grey * grey, (5, 5)) - mean * mean, 0))
    sat, _ = chroma(image_bgr)
    spread = float(np.percentile(grey, 95) - np.percentile(grey, 5))
    thr = max(8.0, 0.07 * spread)
    # darker than the paper around (a local maximum reaching past a double-width box)
    size = (max(3, int(1.8 * char_h)), max(3, int(1.2 * char_h)))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, size)
    paper, ink = cv2.dilate(mean, kernel), cv2.erode(mean, kernel)  # ink: thick strokes are flat too
    flat = (std < 4) & (sat < max(28.0, float(np.median(sat)) + 20)) & (mean > 12) & (mean < paper - 1.5 * thr)
    flat &= mean > ink + 0.5 * thr
    min_area = 0.8 * (0.55 * char_h) * (0.25 * char_h)  # the smallest box kept below
    if flat.sum() < min_area:
        return np.zeros((0, 4))
    # flat regions of one level: bins 1.5 thr wide at two offsets keep a box whole in one of
    # them and apart from a paper or shade of another level that it touches through soft edges
    # (and the whole flat mask too: a box shaded top to bottom spans two bins)
    opened = cv2.morphologyEx(flat.astype(np.uint8) * 255, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    tables, step = [component_table(opened)], 1.5 * thr
    for start in (0.0, 0.5 * step):
        bins = np.floor((mean - start) / step).astype(int)
        levels, counts = np.unique(bins[flat], return_counts=True)
        for b in levels[counts >= min_area]:
            part = (flat & (bins == b)).astype(np.uint8) * 255
            tables.append(component_table(cv2.morphologyEx(part, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))))
    out = []
    hi, wi = grey.shape
    for x, y, w, h, area in np.vstack(tables or [np.zeros((0, 5))]):
        if not (0.55 * char_h <= h <= 1.8 * char_h and 0.25 * char_h <= w <= 3.0 * char_h) or area < 0.8 * w * h:
            continue
        x0, y0, x1, y1 = int(x), int(y), int(x + w), int(y + h)
        level = float(np.median(grey[y0:y1, x0:x1]))
        pad = max(3, int(0.1 * char_h))
        sides = [grey[max(0, y0 - pad) : y0, x0:x1], grey[y1 : y1 + pad, x0:x1],
                 grey[y0:y1, max(0, x0 - pad) : x0], grey[y0:y1, x1 : x1 + pad]]
        differ = [float(np.mean(np.abs(p - level) > thr)) if p.size else 1.0 for p in sides]
        if min(differ) < 0.6:
            continue  # blends into its surroundings on some side: flat background, not a box
        grow = 2  # the 5×5 flatness test eats a little of each side
        box = (max(0, x - grow), max(0, y - grow), min(w + 2 * grow, wi - x + grow), min(h + 2 * grow, hi - y + grow))
        if all(_iou(box, o) < 0.3 for o in out):
            out.append(box)
    return np.array(out, dtype=float).reshape(-1, 4)


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
    hm = float(np.median(row[:, 3]))
    steps = np.diff(row[:, 0] + row[:, 2] / 2)
    pitch = float(np.clip(np.percentile(steps, 25), 0.45 * hm, 1.0 * hm))  # gaps only widen steps
    top, bottom = np.median(row[:, 1]), np.median(row[:, 1] + row[:, 3])
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


def _iou(a, b) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / max(a[2] * a[3] + b[2] * b[3] - inter, 1e-9)


def _spread(grey: np.ndarray, box) -> float:
    """Grey spread (90th - 10th percentile) of the inner part of a box."""
    x, y, w, h = box[:4]
    patch = grey[int(y + 0.15 * h) : max(int(y + 0.85 * h), int(y + 0.15 * h) + 1),
                 int(x + 0.2 * w) : max(int(x + 0.8 * w), int(x + 0.2 * w) + 1)]
    return float(np.subtract(*np.percentile(patch, (90, 10)))) if patch.size else 0.0


def add_aligned(row: np.ndarray, pool: np.ndarray, grey: np.ndarray) -> np.ndarray:
    """The row with character-like boxes from other binarisations (``pool``) added in its holes
    where they sit on the row's line, have its characters' height, show some ink contrast (no
    grey box edge) and overlap none of its boxes: glyphs lost in the chosen mask to low
    contrast, a shadow or a touching frame."""
    if len(row) < 3 or len(pool) == 0:
        return row
    contrast = float(np.median([_spread(grey, b) for b in row]))
    hm = float(np.median(row[:, 3]))
    cx, cy = row[:, 0] + row[:, 2] / 2, row[:, 1] + row[:, 3] / 2
    slope, icept = np.polyfit(cx, cy, 1) if np.ptp(cx) > 0 else (0.0, float(cy.mean()))
    x0, x1 = row[0, 0], row[-1, 0] + row[-1, 2]  # holes only: the band, frame and screws lie outside
    pool = pool[np.argsort(np.abs(pool[:, 3] - hm))]  # best height match first
    for x, y, w, h in pool[:, :4]:
        c = y + h / 2 - (slope * (x + w / 2) + icept)
        if not (0.8 * hm <= h <= 1.2 * hm and w <= 0.9 * hm and abs(c) < 0.15 * hm and x0 <= x and x + w <= x1):
            continue
        if np.any(np.minimum(row[:, 0] + row[:, 2], x + w) - np.maximum(row[:, 0], x) > -0.05 * hm):
            continue
        if _spread(grey, (x, y, w, h)) < 0.5 * contrast:
            continue
        row = np.vstack([row, (x, y, w, h) + (0,) * (row.shape[1] - 4)])
        row = row[np.argsort(row[:, 0])]
    return row
