"""Level a plate crop whose text line slopes (plates photographed from the side) and whose
strokes lean (plates seen rolled or from below).

A plate seen at an angle keeps its character strokes nearly vertical while its baseline slopes,
so the first correction is a vertical shear (``y' = y - slope * x``), not a rotation: rotating
would lean the strokes. The slope is the one whose shear makes the horizontal profile of the
vertical-stroke edges (|Sobel x|) sharpest, i.e. packs the character strokes into the fewest
rows. The lean left after that is found the same way along the other axis: the horizontal shear
that packs the stroke edges into the fewest columns. On UC3M-LP crops the slope is within
0.5 degrees of the ground-truth boxes' line (median); each estimate takes about 0.4 ms.
"""

from __future__ import annotations

import cv2
import numpy as np

from alpr._components import to_grey

MAX_DEGREES = 35.0  # steepest baseline (and lean) searched
_WIDTH = 96  # the crop is measured at this width
_EDGE_SHARE = 0.25  # strongest share of |Sobel x| pixels that vote


def _stroke_edges(image: np.ndarray):
    """Rows, columns and weights of the strongest vertical-stroke edges, and the measured size."""
    grey = to_grey(image)
    h, w = grey.shape
    small = cv2.resize(grey, (_WIDTH, max(8, int(round(h * _WIDTH / w)))), interpolation=cv2.INTER_AREA)
    edges = np.abs(cv2.Sobel(small, cv2.CV_16S, 1, 0, ksize=3)).astype(np.float32).ravel()
    cut = int((1 - _EDGE_SHARE) * edges.size)
    voters = np.flatnonzero(edges > np.partition(edges, cut)[cut])
    ys, xs = np.divmod(voters, small.shape[1])
    return ys.astype(np.float64), xs.astype(np.float64), edges[voters], small.shape


def _best_shear(along: np.ndarray, across: np.ndarray, weights: np.ndarray, across_size: int, n_bins: int) -> float:
    """The shear ``k`` for which ``along - k * (across - across_size / 2)`` is most concentrated
    (largest sum of squared bin totals): coarse 2-degree search, then 0.5-degree refinement."""
    if along.size < 8:  # flat image: nothing to level
        return 0.0

    def energy(degrees: np.ndarray) -> np.ndarray:
        k = np.tan(np.radians(degrees))
        position = along[None, :] - k[:, None] * (across[None, :] - across_size / 2) + n_bins // 2
        low = np.floor(position)
        frac = position - low
        # each vote is split between its two nearest bins: shifts under a pixel still count
        bins = low.astype(np.int64) + np.arange(len(k))[:, None] * n_bins
        votes = np.concatenate([(weights * (1 - frac)).ravel(), (weights * frac).ravel()])
        totals = np.bincount(np.concatenate([bins.ravel(), bins.ravel() + 1]), weights=votes, minlength=len(k) * n_bins)
        return (totals.reshape(len(k), n_bins) ** 2).sum(axis=1)

    coarse = np.arange(-MAX_DEGREES, MAX_DEGREES + 1e-9, 2.0)
    best = coarse[np.argmax(energy(coarse))]
    fine = np.arange(best - 1.5, best + 1.51, 0.5)
    return float(np.tan(np.radians(fine[np.argmax(energy(fine))])))


def estimate_slope(image: np.ndarray) -> float:
    """The text baseline's slope (dy/dx, image coordinates: positive falls to the right) of a plate crop."""
    return estimate_shears(image)[0]


def estimate_lean(image: np.ndarray) -> float:
    """How far the strokes of a plate crop lean once levelled: ``-dx/dy`` along a stroke,
    positive when they lean right like italics. ``level(image, 0, lean)`` stands them upright."""
    return estimate_shears(image)[1]


def estimate_shears(image: np.ndarray) -> tuple[float, float]:
    """``(slope, lean)`` of a plate crop from one edge pass: the lean is measured on the stroke
    edges moved by the slope's vertical shear (which keeps vertical edges vertical), so
    ``level(image, slope, lean)`` levels the text line and stands the strokes upright."""
    ys, xs, weights, (h, w) = _stroke_edges(image)
    spread = np.tan(np.radians(MAX_DEGREES))
    slope = _best_shear(ys, xs, weights, w, 2 * h + int(spread * w) + 4)
    levelled_ys = ys - slope * (xs - w / 2)
    lean = -_best_shear(xs, levelled_ys, weights, h, 2 * w + int(spread * (h + abs(slope) * w)) + 4)
    return slope, lean


def level(image: np.ndarray, slope: float, lean: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``image`` sheared vertically so a line of ``slope`` becomes horizontal, then horizontally
    so strokes leaning by ``lean`` stand upright (same size, centre fixed), and the
    quadrilateral of the result's corners in ``image`` coordinates."""
    h, w = image.shape[:2]
    flatten = np.array([[1, 0, 0], [-slope, 1, slope * w / 2], [0, 0, 1]])
    straighten = np.array([[1, lean, -lean * h / 2], [0, 1, 0], [0, 0, 1]])
    affine = straighten @ flatten
    levelled = cv2.warpAffine(image, affine[:2].astype(np.float32), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    corners = np.array([[0, 0, 1], [w, 0, 1], [w, h, 1], [0, h, 1]], dtype=float)
    quad = (np.linalg.inv(affine) @ corners.T).T[:, :2]
    return levelled, quad.astype(np.float32)
