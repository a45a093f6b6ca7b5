"""Rows of character-like blobs in a photo: the candidates of ``alpr.detect``.

All functions work on one pyramid level of the normalised grey photo, where characters of the
plates to be found are ``MIN_H``..``MAX_H`` pixels tall.
"""

import cv2
import numpy as np

from alpr import _components as comp
from alpr import _geometry as geo

MIN_H, MAX_H = 7, 30
_NEIGHBOURS = 24
_LINE_KERNEL = cv2.getStructuringElement(cv2.MORPH_RECT, (17, 1))
#: EU plate layout in character heights: width, margin above/below the text, offset of the
#: plate centre left of the text centre; and a character's typical width / height.
_WIDTH, _MARGIN, _OFFSET, _GLYPH_ASPECT = 7.2, 0.26, 0.27, 0.58


def char_blobs(grey: np.ndarray) -> np.ndarray:
    """Dark character-sized blobs (x, y, w, h, fill ratio) sorted by x."""
    mask = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 11, 10)
    # cut long horizontal runs (plate frame, bumper edges) so characters touching them come free
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _LINE_KERNEL)
    # BBDT gives the same labels and statistics as the default algorithm (Spaghetti) at about
    # half its single-threaded cost here (thousands of specks per photo)
    n, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        cv2.subtract(mask, lines), 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    if n <= 1:
        return np.zeros((0, 5))
    table = stats[1:, :5].astype(np.float64)
    x, y, w, h, area = table.T
    fill = area / np.maximum(w * h, 1)
    # solid blobs are kept too: anonymised characters (grey boxes) still belong to the row
    keep = (h >= MIN_H) & (h <= MAX_H) & (w >= 0.08 * h) & (w <= 1.1 * h) & (fill >= 0.12)
    boxes = np.column_stack([table[keep, :4], fill[keep]])
    return boxes[np.argsort(boxes[:, 0])]


def candidate_rows(grey: np.ndarray, boxes: np.ndarray | None = None) -> list[np.ndarray]:
    """Rows of at least three aligned, similarly tall blobs (``char_blobs`` of ``grey`` unless
    given), each as blob rows sorted by x."""
    boxes = char_blobs(grey) if boxes is None else boxes
    n = len(boxes)
    if n < 3:
        return []
    x, y, w, h = boxes[:, :4].T
    cy = y + h / 2
    # every pair (i, j) of blobs at most _NEIGHBOURS apart in x order, tested at once
    i = np.repeat(np.arange(n), min(_NEIGHBOURS, n - 1))
    j = i + np.tile(np.arange(1, min(_NEIGHBOURS, n - 1) + 1), n)
    i, j = i[j < n], j[j < n]
    hm = np.maximum(h[i], h[j])
    ratio = h[i] / h[j]
    gap = x[j] - (x[i] + w[i])
    ok = (gap > -0.15 * hm) & (gap < 1.8 * hm) & (ratio > 0.7) & (ratio < 1.43) & (np.abs(cy[i] - cy[j]) < 0.35 * hm)
    rows = []
    for group in geo.group_pairs(n, i[ok], j[ok]):
        if len(group) < 3:
            continue
        members, (count, _) = comp.best_row(boxes[group])
        if count >= 3:
            row = _trim(boxes[group][members])
            if len(row) >= 3:
                rows.append(row)
    return rows


def _trim(row: np.ndarray) -> np.ndarray:
    """Drop members whose height or baseline stray from the row's (frame pieces, band, screws)."""
    h = row[:, 3]
    hm = comp.median(h)
    row = row[np.abs(h - hm) <= 0.18 * hm]
    if len(row) < 3:
        return row
    _, bottom = row_lines(row)
    cx = row[:, 0] + row[:, 2] / 2
    resid = np.abs(row[:, 1] + row[:, 3] - (bottom[0] * cx + bottom[1]))
    return row[resid <= 0.15 * hm]


def row_lines(row: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """Lines through the tops and through the bottoms of the row's characters, as (slope,
    intercept) least-squares fits (horizontal through the mean for a single point)."""
    cx = row[:, 0] + row[:, 2] / 2
    top, bottom = row[:, 1], row[:, 1] + row[:, 3]
    if len(cx) < 2 or np.ptp(cx) < 1:
        return (0.0, float(np.mean(top))), (0.0, float(np.mean(bottom)))
    # one fit for both lines: they share the abscissas
    (a_top, a_bottom), (b_top, b_bottom) = np.polyfit(cx, np.column_stack([top, bottom]), 1)
    return (float(a_top), float(b_top)), (float(a_bottom), float(b_bottom))


def row_quad(grey: np.ndarray, row: np.ndarray, lines) -> np.ndarray:
    """Plate quad (TL, TR, BR, BL) around a character row, from the EU layout: the plate is about
    7.2 character heights wide and 1.5 high, centred a quarter character left of the text (the
    band), and foreshortened like the characters' aspect ratio. ``lines``: ``row_lines(row)``."""
    top, bottom = lines
    hm = comp.median(row[:, 3])
    margin = _MARGIN * hm
    x0, x1 = float(row[0, 0]), float(row[-1, 0] + row[-1, 2])
    squeeze = float(np.clip(comp.median(row[:, 2] / row[:, 3]) / _GLYPH_ASPECT, 0.7, 1.05))
    width = max(_WIDTH * squeeze * hm, x1 - x0 + 1.6 * squeeze * hm)
    centre = (x0 + x1) / 2 - _OFFSET * squeeze * hm
    left, right = centre - width / 2, centre + width / 2
    return geo.quad_from_line(left, right, (top[0], top[1] - margin), (bottom[0], bottom[1] + margin))


def score_row(grey: np.ndarray, row: np.ndarray, lines) -> float:
    """How plate-like a row is, in [0, 1]: count, uniform heights, straight baseline, contrast and
    clean light margins above and below the characters. ``lines``: ``row_lines(row)``."""
    m = len(row)
    h = row[:, 3]
    hm = comp.median(h)
    # solid blobs (windows, grey anonymisation boxes) may complete a row but are no glyphs
    glyphs = int((row[:, 4] < 0.8).sum())
    s_count = min(1.0, (m - 2) / 4) ** 0.5 * min(1.0, max(0, glyphs - 1) / 3)
    if m > 10:
        s_count *= 10 / m
    s_height = np.clip(1 - (h.std() / h.mean()) / 0.2, 0, 1)
    top, bottom = lines
    cx = row[:, 0] + row[:, 2] / 2
    resid = np.sqrt(np.mean((row[:, 1] + h - (bottom[0] * cx + bottom[1])) ** 2)) / hm
    s_line = np.clip(1 - resid / 0.12, 0, 1)
    # straighten the text band (plus a margin of 0.25 character heights) to 20 px characters
    x0, x1 = float(row[0, 0]), float(row[-1, 0] + row[-1, 2])
    pad = 0.25 * hm
    quad = geo.quad_from_line(x0, x1, (top[0], top[1] - pad), (bottom[0], bottom[1] + pad))
    out_w, out_h = max(8, int(round(20 * (x1 - x0) / hm))), 30
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    band = cv2.warpPerspective(grey, cv2.getPerspectiveTransform(quad, dst), (out_w, out_h), flags=cv2.INTER_LINEAR)
    ink, paper = comp.percentiles(band[6:24], (8, 80))
    s_contrast = np.clip((paper - ink) / 50.0, 0, 1)
    mid = ink + 0.3 * (paper - ink)
    # the plate's margin: at least one clean light line above and one below the characters
    # (per quarter of the width, so a slightly tilted margin still counts)
    starts = [k * (out_w // 4) + min(k, out_w % 4) for k in range(4)]  # np.array_split's quarters
    rows_dark = np.add.reduceat(band < mid, starts, axis=1, dtype=np.int64) / np.diff([*starts, out_w])
    dark = sum(np.maximum(rows_dark[0:6].min(axis=0), rows_dark[24:30].min(axis=0)) / 4, 0.0)
    s_margin = np.clip(1 - dark / 0.35, 0, 1)
    return float(s_count * (0.3 + 0.7 * s_height) * (0.3 + 0.7 * s_line) * s_contrast * (0.2 + 0.8 * s_margin))
