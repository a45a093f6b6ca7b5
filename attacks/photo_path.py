"""The pipeline's path from photo pixels to one character's CNN input, as differentiable TensorFlow
ops, and the geometry it needs.

    photo pixels ─(bilinear sampling at the rectification homography, = cv2.warpPerspective
    INTER_LINEAR)→ rectified character box ─(BGR→grey)→ 1–99 percentile contrast stretch
    ─(cv2.resize as two exact linear maps, INTER_AREA/INTER_LINEAR)
    ─(padding with the resized crop's 90th grey percentile)→ 32×24 model input.

:func:`locate_char` finds where the pipeline segmented a character; :func:`sampler` precomputes
the linear map for one geometry and :func:`char_inputs` applies it. The result matches
``CharModel.crops_to_input`` of the rectified crop to within the uint8 rounding of the
rectified plate (tested in ``tests/test_pipeline_attack.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np

from alpr._geometry import box_iou

#: Rectified plate height used by the pipeline (``alpr.detect.rectify`` default).
RECT_HEIGHT = 110


# --------------------------------------------------------------------------- geometry


@dataclass
class CharGeometry:
    """Where one recognised character sits: the plate ``quad`` in the photo, the rectified plate
    size, the character's segmented ``box`` (x, y, w, h) in rectified pixels and the homography
    ``to_image`` (rectified px → photo px)."""

    quad: np.ndarray
    rect_size: tuple[int, int]
    box: tuple[int, int, int, int]
    to_image: np.ndarray
    photo_box: list[int]
    identity: bool = False  # plate-crop mode: the image itself is the "rectified" plate

    def rectified(self, image: np.ndarray) -> np.ndarray:
        """The rectified plate the pipeline segments (the image itself in plate-crop mode)."""
        from alpr import detect

        return image if self.identity else detect.rectify(image, self.quad, height=RECT_HEIGHT)

    def char_crop(self, image: np.ndarray) -> np.ndarray:
        """The character crop the CNN gets: the box cut from the rectified plate."""
        x, y, w, h = self.box
        return self.rectified(image)[y : y + h, x : x + w]

    def photo_polygon(self, margin: float = 0.0) -> np.ndarray:
        """The box's outline (pixel edges, grown by ``margin`` rectified px) in photo coordinates."""
        x, y, w, h = self.box
        pts = np.array([[x - 0.5 - margin, y - 0.5 - margin], [x + w - 0.5 + margin, y - 0.5 - margin],
                        [x + w - 0.5 + margin, y + h - 0.5 + margin], [x - 0.5 - margin, y + h - 0.5 + margin]], np.float64)
        return apply_h(self.to_image, pts)


def apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map ``(N, 2)`` points through the 3×3 homography ``h``."""
    p = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, np.float64).T
    return p[:, :2] / p[:, 2:3]


def plate_to_image(rect_size, quad) -> np.ndarray:
    """Homography from the rectified plate (``rect_size`` = (w, h)) to the photo ``quad``."""
    w, h = rect_size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(src, np.asarray(quad, np.float32)).astype(np.float64)


def bbox_of(pts) -> list[int]:
    """Integer (x, y, w, h) box enclosing the points ``pts``."""
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def locate_char(image: np.ndarray, quad, photo_box, *, crop: bool = False) -> CharGeometry | None:
    """Re-run rectification and segmentation of the plate at ``quad`` and return the geometry of
    the segmented character that best overlaps ``photo_box`` (x, y, w, h in the photo), as the
    pipeline produced it; ``None`` if segmentation finds nothing there. ``crop=True``: ``image``
    is a plate crop read with ``Recognizer.read_crop`` (no rectification)."""
    from alpr import detect, segment

    quad = np.asarray(quad, np.float32).reshape(4, 2)
    rect = image if crop else detect.rectify(image, quad, height=RECT_HEIGHT)
    seg = segment.segment(rect)
    if len(seg.boxes) == 0:
        return None
    size = (rect.shape[1], rect.shape[0])
    to_image = np.eye(3) if crop else plate_to_image(size, quad)
    best, best_iou = None, 0.0
    for x, y, w, h in seg.boxes:
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        mapped = bbox_of(apply_h(to_image, corners))
        overlap = box_iou(mapped, photo_box)
        if overlap > best_iou:
            best, best_iou = (int(x), int(y), int(w), int(h)), overlap
    if best is None or best_iou < 0.2:
        return None
    return CharGeometry(quad, size, best, to_image, list(photo_box), identity=crop)


# --------------------------------------------------------------------------- the differentiable path


def resize_matrices(h: int, w: int, input_shape) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """``(A_y, A_x, (top, bottom, left, right))``: ``A_y @ grey @ A_x.T`` is ``preprocess_crop``'s
    aspect-preserving resize of an ``h × w`` grey crop, followed by padding of these widths to the
    model input. The columns are read off ``cv2.resize`` of basis images, so they are OpenCV's own
    INTER_AREA / INTER_LINEAR weights."""
    h_out, w_out = int(input_shape[0]), int(input_shape[1])
    scale = min(h_out / h, w_out / w)
    nh, nw = max(1, min(h_out, int(round(h * scale)))), max(1, min(w_out, int(round(w * scale))))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    a_y = np.empty((nh, h), np.float64)
    a_x = np.empty((nw, w), np.float64)
    for j in range(w):
        basis = np.zeros((h, w), np.float32)
        basis[:, j] = 1.0
        a_x[:, j] = cv2.resize(basis, (nw, nh), interpolation=interp)[0]
    for i in range(h):
        basis = np.zeros((h, w), np.float32)
        basis[i, :] = 1.0
        a_y[:, i] = cv2.resize(basis, (nw, nh), interpolation=interp)[:, 0]
    top, left = (h_out - nh) // 2, (w_out - nw) // 2
    return a_y.astype(np.float32), a_x.astype(np.float32), (top, h_out - nh - top, left, w_out - nw - left)


class _Sampler(NamedTuple):
    """Precomputed linear map window → one character's model input (one jittered geometry)."""

    idx: np.ndarray  # (h*w, 4) int64 flat pixel indices into the window
    wts: np.ndarray  # (h*w, 4) float32 bilinear weights
    hw: np.ndarray  # (2,) int32 crop height, width
    a_y: np.ndarray  # (H, h) float32
    a_x: np.ndarray  # (W, w) float32 -- H, W: the resized size before padding
    pads: np.ndarray  # (4,) int32 top, bottom, left, right


def sampler(to_image, box, origin, window_shape, photo_shape, input_shape) -> _Sampler:
    """The linear map from a photo window (top-left ``origin``, ``window_shape``) to the model input
    of the rectified character ``box``, for the rectified→photo homography ``to_image``."""
    x, y, w, h = box
    us, vs = np.meshgrid(np.arange(x, x + w, dtype=np.float64), np.arange(y, y + h, dtype=np.float64))
    pts = apply_h(to_image, np.c_[us.ravel(), vs.ravel()])
    # BORDER_REPLICATE of warpPerspective: clamp to the photo, then express in window coordinates
    px = np.clip(pts[:, 0], 0, photo_shape[1] - 1) - origin[0]
    py = np.clip(pts[:, 1], 0, photo_shape[0] - 1) - origin[1]
    wh, ww = window_shape
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = px - x0, py - y0
    xs = [np.clip(x0, 0, ww - 1), np.clip(x0 + 1, 0, ww - 1)]
    ys = [np.clip(y0, 0, wh - 1), np.clip(y0 + 1, 0, wh - 1)]
    idx = np.stack([ys[0] * ww + xs[0], ys[0] * ww + xs[1], ys[1] * ww + xs[0], ys[1] * ww + xs[1]], 1).astype(np.int64)
    wts = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], 1).astype(np.float32)
    a_y, a_x, pads = resize_matrices(h, w, input_shape)
    return _Sampler(idx, wts, np.array([h, w], np.int32), a_y, a_x, np.array(pads, np.int32))


def _percentile(sorted_flat, q: float):
    """``np.percentile(..., method="linear")`` of an already sorted 1-D tensor (differentiable)."""
    import tensorflow as tf

    n = tf.shape(sorted_flat)[0]
    pos = (q / 100.0) * tf.cast(n - 1, tf.float32)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, n - 1)
    frac = pos - tf.cast(lo, tf.float32)
    return sorted_flat[lo] + frac * (sorted_flat[hi] - sorted_flat[lo])


def _char_input(window, s):
    """Window ``(h, w, 3)`` float tensor in [0, 1] (BGR) → model input ``(H, W, 1)``."""
    import tensorflow as tf

    idx, wts, hw, a_y, a_x, pads = s
    pix = tf.reshape(window, [-1, 3])
    crop = tf.reduce_sum(tf.gather(pix, idx) * wts[..., None], axis=1)  # (h*w, 3)
    grey = tf.linalg.matvec(crop, tf.constant([0.114, 0.587, 0.299], tf.float32))  # BGR weights
    srt = tf.sort(grey)
    lo, hi = _percentile(srt, 1.0), _percentile(srt, 99.0)
    spread = hi - lo
    flat = spread < 1e-3 / 255.0
    g = tf.where(flat, tf.fill(tf.shape(grey), 0.5), tf.clip_by_value((grey - lo) / tf.maximum(spread, 1e-6), 0.0, 1.0))
    g = tf.reshape(g, hw)
    small = tf.matmul(tf.matmul(a_y, g), a_x, transpose_b=True)
    # padding with the paper level: the 90th grey percentile of the resized crop
    background = _percentile(tf.sort(tf.reshape(small, [-1])), 90.0)
    out = tf.pad(small - background, tf.reshape(pads, [2, 2])) + background
    return tf.clip_by_value(out, 0.0, 1.0)[..., None]


def char_inputs(window, samplers):
    """The model inputs ``(K, H, W, 1)`` of the ``K`` geometries, differentiable in ``window``."""
    import tensorflow as tf

    return tf.stack([_char_input(window, tuple(s)) for s in samplers])
