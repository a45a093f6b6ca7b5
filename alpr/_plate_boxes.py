"""Bright plate-shaped regions: the second candidate source of ``alpr.detect``.

The plate's paper is brighter than its surroundings in most photos (retro-reflective at night,
white or yellow by day). This finds such regions of plate aspect and keeps those holding a few
character-sized dark blobs; it catches plates whose text row is broken (blur, anonymised
characters) and gives the plate's own outline for quads.
"""

import cv2
import numpy as np
from scipy import ndimage

from alpr import _geometry as geo

#: Largest score of a bright region alone (without a text row); it is the weaker cue.
_BOX_WEIGHT = 0.95
_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))


def _local_glyph_heights(roi: np.ndarray) -> np.ndarray:
    """Heights of glyph-shaped dark blobs in a small region (Otsu inside the region), one per
    glyph: a blob as wide as several touching glyphs counts several times."""
    _, ink = cv2.threshold(roi, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    rh = roi.shape[0]
    edge = max(1, int(0.1 * rh))
    ink[:edge], ink[-edge:], ink[:, :edge], ink[:, -edge:] = 0, 0, 0, 0  # the plate frame
    n, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(ink, 8, cv2.CV_32S, cv2.CCL_BBDT)  # as the default, faster
    x, y, w, h, area = stats[1:].T.astype(float)
    fill = area / np.maximum(w * h, 1)
    ok = (h >= 0.35 * rh) & (h <= 0.95 * rh) & (w >= 0.08 * h) & (fill > 0.15) & (fill < 0.9)
    single = ok & (w <= 0.9 * h)
    pair = ok & (w > 0.9 * h) & (w <= 1.6 * h) & (fill < 0.7)
    if single.sum() < 2:
        return h[single]
    return np.concatenate([h[single], np.repeat(h[pair], 2)])


def bright_boxes(grey: np.ndarray, blobs: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """Plate-shaped bright regions as (quad TL, TR, BR, BL, score) on this pyramid level.

    Args:
        grey: normalised grey image of one pyramid level.
        blobs: its dark character-sized blobs (x, y, w, h, fill), as from ``char_blobs``.
    """
    mask = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 41, -6)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)
    # OpenCV's 4-connected statistics cost ~4x the labelling itself: take the bounding boxes from
    # the labels and count the area only for regions of plate size and shape (same values)
    n, labels = cv2.connectedComponents(mask, connectivity=4)
    if n <= 1:
        return []
    rows, cols = zip(*ndimage.find_objects(labels))
    y = np.array([r.start for r in rows], float)
    h = np.array([r.stop for r in rows], float) - y
    x = np.array([c.start for c in cols], float)
    w = np.array([c.stop for c in cols], float) - x
    ok = (w >= 36) & (w <= 0.9 * grey.shape[1]) & (h >= 9) & (w / h >= 2.0) & (w / h <= 6.5)
    fill = np.zeros(n - 1)
    for k in np.flatnonzero(ok):
        roi = labels[rows[k], cols[k]]
        fill[k] = np.count_nonzero(roi == k + 1) / max(w[k] * h[k], 1)
    ok &= fill >= 0.4
    out = []
    cx, cy = blobs[:, 0] + blobs[:, 2] / 2, blobs[:, 1] + blobs[:, 3] / 2
    for k in np.flatnonzero(ok):
        bx, by, bw, bh = x[k], y[k], w[k], h[k]
        inside = (cx > bx) & (cx < bx + bw) & (cy > by) & (cy < by + bh)
        inside &= (blobs[:, 3] >= 0.3 * bh) & (blobs[:, 3] <= 0.95 * bh)
        heights = blobs[inside, 3]
        if len(heights) < 5:
            # characters touching the plate frame are no blobs of their own on the whole photo;
            # inside the region they are cut free
            local = _local_glyph_heights(grey[int(by) : int(by + bh), int(bx) : int(bx + bw)])
            heights = local if len(local) > len(heights) else heights
        count = len(heights)
        if count < 3:
            continue
        uniform = float(np.clip(1 - (heights.std() / heights.mean()) / 0.25, 0, 1))
        score = min(1.0, (count - 2) / 3) * (0.4 + 0.6 * uniform) * min(1.0, fill[k] / 0.6) * _BOX_WEIGHT
        roi = (labels[int(by) : int(by + bh), int(bx) : int(bx + bw)] == k + 1).astype(np.uint8)
        contours, _ = cv2.findContours(roi, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        if not contours:
            continue
        outline = max(contours, key=cv2.contourArea) + np.int32([[int(bx), int(by)]])
        rect = cv2.minAreaRect(outline)
        quad = geo.order_corners(cv2.boxPoints(rect))
        out.append((quad, float(score)))
    return out
