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
