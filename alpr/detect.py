"""Licence-plate detection in a photo and rectification of the found plate.

Plates are found through their text, which every plate has whatever its colours: dark,
character-shaped blobs of similar height standing in a row on a light background. Blobs come
from an adaptive threshold at three pyramid levels (plates ~60 px wide up to most of the frame),
are linked into rows, and each row becomes a candidate quad from the EU plate layout (its top
and bottom lines follow the characters, so rotation and perspective carry over). Rows are scored
on how plate-like they are (glyph count, uniform heights, straight baseline, contrast, a clean
light margin above and below). A second cue, bright plate-shaped regions holding a few
character blobs (``_plate_boxes``), catches plates whose text row is broken and gives the
plate's own outline; when both cues agree they are fused into one stronger candidate. The blue
band is not needed (colours may be swapped or infrared). Candidates are de-duplicated by
non-maximum suppression. About 8-15 ms CPU for a 640x480 photo.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from alpr import _geometry as geo
from alpr._components import as_uint8, normalised_grey
from alpr._plate_boxes import bright_boxes
from alpr._plate_rows import candidate_rows, char_blobs, row_quad, score_row
from alpr.segment import segment

#: Plate aspect ratio (width / height) of EU plates: 520 mm × 110 mm.
PLATE_ASPECT = 520 / 110
#: Photos are processed at this width (up- or down-scaled); pyramid levels halve it.
WORK_WIDTH = 640
_LEVELS = (1.0, 0.5, 0.25)
#: Candidates scoring below this are checked by segmenting them (see ``detect``).
VERIFY_BELOW, VERIFY_MIN_CHARS = 0.7, 3
#: Score factor of a text row not backed by a bright plate region.
_ROW_ONLY = 0.8


@dataclass
class Detection:
    """A plate candidate: ``quad`` float32 4×2 corners TL, TR, BR, BL in image pixels, ``score`` in [0, 1]."""

    quad: np.ndarray
    score: float


def detect(
    image_bgr: np.ndarray, *, max_plates: int = 5, min_score: float = 0.4, verify: bool = True
) -> list[Detection]:
    """Find licence plates in a photo, best first.

    Args:
        image_bgr: (H, W, 3) uint8 BGR (or (H, W) grey) photo.
        max_plates: at most this many detections are returned.
        min_score: candidates scoring below this are dropped.
        verify: segment the rectified crop of each uncertain candidate (score below
            ``VERIFY_BELOW``) and drop it unless at least ``VERIFY_MIN_CHARS`` characters are
            found (costs ~2-3 ms per such candidate; removes windows, railings, grilles).

    Returns:
        Detections sorted by decreasing score; empty for blank or tiny images.
    """
    if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim not in (2, 3) or min(image_bgr.shape[:2]) < 16:
        return []
    image_bgr = as_uint8(image_bgr)
    h0, w0 = image_bgr.shape[:2]
    scale = WORK_WIDTH / max(w0, h0 * 4 / 3)
    size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
    resized = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    grey = normalised_grey(resized, clip=0.3)
    if not grey.any():
        return []
    found: list[Detection] = []
    for level in _LEVELS:
        small = grey if level == 1.0 else cv2.resize(grey, None, fx=level, fy=level, interpolation=cv2.INTER_AREA)
        if min(small.shape) < 24:
            break
        blobs = char_blobs(small)
        rows = [(row_quad(small, row), score_row(small, row), row) for row in candidate_rows(small, blobs)]
        for quad, score in _fuse(rows, bright_boxes(small, blobs)):
            if score >= min_score:
                found.append(Detection((quad / (level * scale)).astype(np.float32), score))
    kept = _suppress(found, 2 * max_plates if verify else max_plates)
    if verify:
        kept = [d for d in kept if d.score >= VERIFY_BELOW or _has_characters(image_bgr, d.quad)]
    return kept[:max_plates]


def _has_characters(image: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the segmenter finds a row of characters in the candidate's rectified crop."""
    crop = rectify(image, quad, height=40, margin=0.15)
    return len(segment(crop).boxes) >= VERIFY_MIN_CHARS


def _fuse(rows, boxes) -> list[tuple[np.ndarray, float]]:
    """Merge the two cues: a text row lying inside a bright plate-shaped region of matching
    height is one candidate, scored higher (two independent cues agree) and outlined by the
    region (the plate's own edges) rather than by the layout model."""
    out, used = [], set()
    for box_quad, box_score in boxes:
        bx, by, bw, bh = geo.quad_bbox(box_quad)
        best = None
        for k, (quad, score, row) in enumerate(rows):
            cx, cy = row[:, 0].mean() + row[:, 2].mean() / 2, row[:, 1].mean() + row[:, 3].mean() / 2
            ratio = bh / float(np.median(row[:, 3]))
            if bx < cx < bx + bw and by < cy < by + bh and 1.1 < ratio < 2.4 and (best is None or score > rows[best][1]):
                best = k
        if best is None:
            out.append((box_quad, box_score))
            continue
        used.add(best)
        quad, score, row = rows[best]
        row_w = geo.quad_bbox(quad)[2]
        outline = box_quad if 0.7 < bw / max(row_w, 1) < 1.3 else quad
        out.append((outline, 1 - (1 - score) * (1 - box_score)))
    out.extend((quad, _ROW_ONLY * score) for k, (quad, score, _) in enumerate(rows) if k not in used)
    return out


def _suppress(found: list[Detection], max_plates: int) -> list[Detection]:
    """Non-maximum suppression on the quads' bounding boxes (also drops candidates inside a better one)."""
    kept: list[Detection] = []
    for det in sorted(found, key=lambda d: -d.score):
        box = geo.quad_bbox(det.quad)
        if any(_overlap(box, geo.quad_bbox(k.quad)) > 0.4 for k in kept):
            continue
        kept.append(det)
        if len(kept) >= max_plates:
            break
    return kept


def _overlap(a, b) -> float:
    """Max of IoU and intersection over the smaller box."""
    iou = geo.box_iou(a, b)
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return max(iou, iw * ih / smaller if smaller > 0 else 0.0)


def rectify(image_bgr: np.ndarray, quad: np.ndarray, *, height: int = 110, margin: float = 0.0) -> np.ndarray:
    """Warp the plate inside ``quad`` to a canonical 520:110 image.

    Args:
        image_bgr: the photo the quad refers to.
        quad: 4×2 corners TL, TR, BR, BL in image pixels.
        height: output height in pixels; the width is ``round(height * 520 / 110)``.
        margin: extra border kept around the plate, as a fraction of the plate height on every side
            (the output then is ``height * (1 + 2 * margin)`` tall).

    Returns:
        The rectified plate, same channel count and dtype as ``image_bgr``.
    """
    height = max(1, int(height))
    width = max(1, round(height * PLATE_ASPECT))
    pad = margin * height
    dst = np.array([[pad, pad], [pad + width, pad], [pad + width, pad + height], [pad, pad + height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32).reshape(4, 2), dst)
    size = (int(round(width + 2 * pad)), int(round(height + 2 * pad)))
    return cv2.warpPerspective(image_bgr, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
