"""Level a plate crop whose text line slopes (plates photographed from the side).

A plate seen at an angle keeps its character strokes nearly vertical while its baseline slopes,
so the right correction is a vertical shear (``y' = y - slope * x``), not a rotation: rotating
would lean the strokes. The slope is the one whose shear makes the horizontal profile of the
vertical-stroke edges (|Sobel x|) sharpest, i.e. packs the character strokes into the fewest
rows. On UC3M-LP crops the estimate is within 0.5 degrees of the ground-truth boxes' line
(median) in about 0.4 ms.
"""

from __future__ import annotations

import cv2
import numpy as np

MAX_DEGREES = 35.0  # steepest baseline searched
_WIDTH = 96  # the crop is measured at this width
_EDGE_SHARE = 0.25  # strongest share of |Sobel x| pixels that vote


def _profile_energy(ys, xs, weights, width: int, slopes: np.ndarray, n_rows: int) -> np.ndarray:
    """Sum of squared row totals of the edge weights after each vertical shear, one per slope."""
    rows = np.rint(ys[None, :] - slopes[:, None] * (xs[None, :] - width / 2)).astype(np.int64)
    rows += np.arange(len(slopes))[:, None] * n_rows + n_rows // 2
    profile = np.bincount(rows.ravel(), weights=np.broadcast_to(weights, rows.shape).ravel(), minlength=len(slopes) * n_rows)
    return (profile.reshape(len(slopes), n_rows) ** 2).sum(axis=1)


def estimate_slope(image: np.ndarray) -> float:
    """The text baseline's slope (dy/dx, image coordinates: positive falls to the right) of a plate crop."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape
    small = cv2.resize(grey, (_WIDTH, max(8, int(round(h * _WIDTH / w)))), interpolation=cv2.INTER_AREA)
    edges = np.abs(cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3)).astype(np.float32).ravel()
    cut = int((1 - _EDGE_SHARE) * edges.size)
    voters = np.flatnonzero(edges > np.partition(edges, cut)[cut])
    if voters.size < 8:  # flat image: nothing to level
        return 0.0
    ys, xs = np.divmod(voters, small.shape[1])
    weights = edges[voters]
    n_rows = 2 * small.shape[0] + int(np.tan(np.radians(MAX_DEGREES)) * _WIDTH) + 4
    coarse = np.arange(-MAX_DEGREES, MAX_DEGREES + 1e-9, 2.0)
    best = coarse[np.argmax(_profile_energy(ys, xs, weights, _WIDTH, np.tan(np.radians(coarse)), n_rows))]
    fine = np.arange(best - 1.5, best + 1.51, 0.5)
    best = fine[np.argmax(_profile_energy(ys, xs, weights, _WIDTH, np.tan(np.radians(fine)), n_rows))]
    return float(np.tan(np.radians(best)))


def level(image: np.ndarray, slope: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` sheared vertically so a line of ``slope`` becomes horizontal (same size, centre
    column fixed), and the quadrilateral of the result's corners in ``image`` coordinates."""
    h, w = image.shape[:2]
    shear = np.float32([[1, 0, 0], [-slope, 1, slope * w / 2]])
    levelled = cv2.warpAffine(image, shear, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    half = slope * w / 2
    quad = np.array([[0, -half], [w, half], [w, h + half], [0, h - half]], dtype=np.float32)
    return levelled, quad
