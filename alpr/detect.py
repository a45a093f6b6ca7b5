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

A small learned detector (``alpr.plate_net``, trained by the project on its own synthetic
street photos only) finds plates at every size, including those far too small for the text cue
(6-60 px wide, characters 2-6 px tall, as in street and night-time photos); its heatmap is
averaged over the photo and its mirror image (``plate_net.MIRROR_AVERAGE``), which drops many
of its false detections. Where both cues find
a plate, the score is raised and the classical quad (whose outline follows the plate's
perspective) is kept when its box agrees with the net's (``QUAD_AGREE``), else the net's box is
used; plates only the net finds are returned as its axis-aligned boxes (``Detection.boxed``;
the reader fits the plate's own outline inside such a box, ``alpr._plate_outline.plate_in_box``).
Fusion thresholds are chosen on synthetic validation photos
(``scripts/tune_detector.py``). Without the model file, detection is classical only.

Both cues look for near-level plates: the text cue links blobs into rows sloping at most ~17°,
and the net was trained on photos held nearly level. A photo in which nothing is found is
searched again turned by ``TILT_SEARCH`` degrees each way (hand-held photos are often tilted),
and what is found there is turned back: the quads then follow the tilted plate.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from alpr import _geometry as geo
from alpr import plate_net
from alpr._components import as_uint8, median, normalised_grey
from alpr._plate_boxes import bright_boxes
from alpr._plate_rows import candidate_rows, char_blobs, row_lines, row_quad, score_row
from alpr.segment import segment

#: One worker for the learned detector, so it overlaps the classical cue on a 2-core machine.
_NET_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alpr-plate-net")

#: Plate aspect ratio (width / height) of EU plates: 520 mm × 110 mm.
PLATE_ASPECT = 520 / 110
#: Photos are processed at this width (up- or down-scaled); pyramid levels halve it.
WORK_WIDTH = 640
_LEVELS = (1.0, 0.5, 0.25)
#: Candidates scoring below this are checked by segmenting them (see ``detect``).
VERIFY_BELOW, VERIFY_MIN_CHARS = 0.7, 3
#: A checked candidate whose characters are mostly bars is a grille, fence or railing, not a
#: plate: at least ``GRILLE_MIN_BARS`` boxes, of which ``GRILLE_BAR_SHARE`` or more are under
#: ``GRILLE_BAR_WIDTH`` times as wide as high. Rendered plates of only 1s and Is (de "II 111",
#: 200 random styles at 40 px) have a share of at most 0.5, 0.39 on average.
GRILLE_MIN_BARS, GRILLE_BAR_SHARE, GRILLE_BAR_WIDTH = 4, 0.8, 0.3
#: Score factor of a text row not backed by a bright plate region.
_ROW_ONLY = 0.8
#: The learned detector's model file (None: the bundled ``data/models/plate_detector.keras``);
#: a missing file turns the learned cue off.
NET_PATH = None
#: Net peaks at least this strong become candidates; a classical candidate overlapping a net box
#: by ``_NET_MATCH`` (max of IoU and intersection over the smaller box) counts as confirmed.
NET_THRESHOLD, _NET_MATCH = 0.5, 0.5
#: Weaker net peaks, from this score up, may still confirm a classical candidate (noisy-OR of the
#: two scores), which then keeps the segmentation check (``verify``): real plates the net finds
#: only faintly are often ones the text-row cue also finds faintly. 0.4 on synthetic validation
#: photos (scripts/tune_detector.py --net-confirm 0.5 0.4 0.3 0.2 0.1): one plate more, recall
#: 0.820 -> 0.821 and precision 0.902 -> 0.900; lower values cost precision with no further gain.
NET_CONFIRM = 0.4
#: A confirmed classical candidate keeps its quad (perspective outline) when its bounding box
#: overlaps the net's box by at least this IoU; otherwise the net's box is the outline.
QUAD_AGREE = 0.7
#: Score factor of a classical candidate the net (when present) does not confirm. 1.0: a
#: plate the net misses (rotated, blurred, odd lighting) stays readable; 0.8 was 0.019 more
#: precise on synthetic street photos but lost readings (plate_detector.json, detect_fusion).
CLASSICAL_ONLY = 1.0
#: Net boxes no classical candidate confirms are kept only below this width (fraction of the
#: photo's width): larger plates are the classical detector's design range (>= 60 px at 640).
NET_ONLY_MAX_WIDTH = 1.0
#: A photo with no candidate is searched again turned by + and - this angle (degrees), which
#: covers plates tilted by up to ~35° (``detect``'s ``tilted``). 25 on rendered close-ups turned
#: by 10 / 20 / 30 / 40° (``scripts/eval_tilted.py --seed 77``, before ``TILT_MIN_SCORE``): found
#: 99 / 93 / 94 / 73 % against 99 / 95 / 78 / 10 % with 15 and 99 / 93 / 93 / 37 % with 20;
#: without the search 93 / 42 / 3 / 0 %.
TILT_SEARCH = 25.0
#: Candidates of the turned photos must score at least this (or ``detect``'s ``min_score`` if
#: higher): a photo with nothing in it is searched too. 0.55 drops 6 of the 7 false detections
#: the search added on 300 synthetic street photos (0.41-0.51, one 0.61) and 1 of ~150 plates it
#: found on the turned close-ups above (0.51; the next 0.59).
TILT_MIN_SCORE = 0.55


@dataclass
class Detection:
    """A plate candidate: ``quad`` float32 4×2 corners TL, TR, BR, BL in image pixels, ``score`` in
    [0, 1]. ``boxed``: the quad is the learned detector's box around the plate rather than the
    plate's own outline, so the plate's text line may slope inside it. ``outline``: the classical
    outline the net's box replaced (it disagreed with it), or None; ``Recognizer.read`` also reads
    it when the box's reading is doubtful."""

    quad: np.ndarray
    score: float
    boxed: bool = False
    outline: np.ndarray | None = None


def detect(
    image_bgr: np.ndarray, *, max_plates: int = 5, min_score: float = 0.4, verify: bool = True,
    small_plates: bool = False, tilted: bool = True,
) -> list[Detection]:
    """Find licence plates in a photo, best first.

    Args:
        image_bgr: (H, W, 3) uint8 BGR (or (H, W) grey) photo.
        max_plates: at most this many detections are returned.
        min_score: candidates scoring below this are dropped.
        verify: segment the rectified crop of each uncertain classical candidate (score below
            ``VERIFY_BELOW``) and drop it unless at least ``VERIFY_MIN_CHARS`` characters are
            found and they are not a row of bars (``is_grille``; costs ~2-3 ms per such
            candidate; removes windows, railings, grilles).
            Candidates found or confirmed by the learned detector are not segmented: tiny
            plates have no segmentable characters.
        small_plates: the learned detector sees the photo 1.5x larger than its default
            (``plate_net.working_width``; 480 instead of 320 px for photos up to 640 x 480): more
            of the plates under ~30 px wide are found, for ~2x the net's time (the default suits
            the 30 photos/s target).
        tilted: when nothing is found, search the photo again turned by ``TILT_SEARCH`` degrees
            each way (about 2x the time again, only for such photos); see ``detect_tilted``.

    Returns:
        Detections sorted by decreasing score; empty for blank or tiny images.
    """
    if not _is_photo(image_bgr):
        return []
    image_bgr = as_uint8(image_bgr)
    found = _detect_level(image_bgr, max_plates=max_plates, min_score=min_score, verify=verify, small_plates=small_plates)
    if found or not tilted:
        return found
    return detect_tilted(image_bgr, (TILT_SEARCH, -TILT_SEARCH), max_plates=max_plates,
                         min_score=max(min_score, TILT_MIN_SCORE), verify=verify, small_plates=small_plates)


def detect_tilted(image_bgr: np.ndarray, angles, *, max_plates: int = 5, min_score: float = 0.4, verify: bool = True,
                  small_plates: bool = False) -> list[Detection]:
    """Plates found in the photo turned about its centre by each of ``angles`` (degrees,
    counter-clockwise; the frame keeps its size, the uncovered corners are filled with the
    photo's mean colour), turned back, best first. A quad keeps its corner order relative to
    the plate (TL is the plate's top-left), so ``rectify`` straightens the plate. The other
    arguments are ``detect``'s."""
    if not _is_photo(image_bgr):
        return []
    image_bgr = as_uint8(image_bgr)
    h, w = image_bgr.shape[:2]
    fill = cv2.mean(image_bgr)[:3] if image_bgr.ndim == 3 else cv2.mean(image_bgr)[0]
    found = []
    for angle in angles:
        turn = cv2.getRotationMatrix2D((w / 2, h / 2), float(angle), 1.0)
        turned = cv2.warpAffine(image_bgr, turn, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=fill)
        back = cv2.invertAffineTransform(turn)
        for det in _detect_level(turned, max_plates=max_plates, min_score=min_score, verify=verify,
                                 small_plates=small_plates):
            quad = cv2.transform(det.quad[None], back)[0].astype(np.float32)
            outline = None if det.outline is None else cv2.transform(det.outline[None], back)[0].astype(np.float32)
            cx, cy = quad.mean(axis=0)
            if 0 <= cx < w and 0 <= cy < h:  # not a plate made up of the filled corners
                found.append((Detection(quad, det.score, det.boxed, outline), False))
    return [d for d, _ in _suppress(found, max_plates)]


def _is_photo(image) -> bool:
    """Whether ``image`` is an image array large enough to search (at least 16 px each way)."""
    return isinstance(image, np.ndarray) and image.ndim in (2, 3) and min(image.shape[:2]) >= 16


def _detect_level(image_bgr: np.ndarray, *, max_plates: int, min_score: float, verify: bool,
                  small_plates: bool) -> list[Detection]:
    """``detect`` without the tilted search (``image_bgr`` already uint8)."""
    net = plate_net.load(NET_PATH)
    # The net runs in LiteRT (or TensorFlow; both release the GIL) while the text cue runs in OpenCV/NumPy.
    width = plate_net.working_width(image_bgr.shape, small_plates=True) if small_plates else None
    net_job = None
    if net is not None:
        net_job = _NET_THREAD.submit(net.detect, image_bgr, threshold=_weakest_net_score(), work_width=width)
    found = classical_candidates(image_bgr)
    net_boxes = net_job.result() if net_job is not None else None
    # a photo too flat for the text cue (None) may still show the net a lit plate on a black night
    return combine(image_bgr, found or [], net_boxes, max_plates=max_plates, min_score=min_score, verify=verify)


def classical_candidates(image_bgr: np.ndarray) -> list[Detection] | None:
    """The text-row and bright-box cues' candidates (image pixels, not yet suppressed or
    verified); None for a blank photo."""
    h0, w0 = image_bgr.shape[:2]
    scale = WORK_WIDTH / max(w0, h0 * 4 / 3)
    size = (max(1, round(w0 * scale)), max(1, round(h0 * scale)))
    resized = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    grey = normalised_grey(resized, clip=0.3)
    if not grey.any():
        return None
    found: list[Detection] = []
    for level in _LEVELS:
        small = grey if level == 1.0 else cv2.resize(grey, None, fx=level, fy=level, interpolation=cv2.INTER_AREA)
        if min(small.shape) < 24:
            break
        blobs = char_blobs(small)
        rows = []
        for row in candidate_rows(small, blobs):
            lines = row_lines(row)
            rows.append((row_quad(small, row, lines), score_row(small, row, lines), row))
        for quad, score in _fuse(rows, bright_boxes(small, blobs)):
            found.append(Detection((quad / (level * scale)).astype(np.float32), score))
    return found


def combine(image_bgr: np.ndarray, found: list[Detection], net_boxes, *, max_plates: int = 5, min_score: float = 0.4,
            verify: bool = True) -> list[Detection]:
    """The detections of ``detect`` from the classical candidates ``found`` and the net's
    (x, y, w, h, score) boxes (None without a net): merged (``_merge_net``), thresholded,
    suppressed and verified as ``detect`` documents."""
    backed = [False] * len(found)
    if net_boxes is not None:
        found, backed = _merge_net(found, net_boxes, max_width=NET_ONLY_MAX_WIDTH * image_bgr.shape[1])
    cands = [(d, b) for d, b in zip(found, backed) if d.score >= min_score]
    kept = _suppress(cands, 2 * max_plates if verify else max_plates)
    if verify:
        kept = [(d, b) for d, b in kept if d.score >= VERIFY_BELOW or b or _has_characters(image_bgr, d.quad)]
    return [d for d, _ in kept[:max_plates]]


def _merge_net(found: list[Detection], net_boxes, *, max_width: float = np.inf) -> tuple[list[Detection], list[bool]]:
    """Combine classical candidates with the learned detector's (x, y, w, h, score) boxes.

    Net boxes under ``NET_CONFIRM`` (or ``NET_THRESHOLD`` if lower) are ignored. A classical
    candidate overlapping a net box gets the combined score ``1 - (1 - a)(1 - b)`` and keeps its
    quad if their boxes agree to ``QUAD_AGREE`` IoU or the net's score is under ``NET_THRESHOLD``
    (else takes the net's box, its own quad kept as ``outline``); net boxes of at least
    ``NET_THRESHOLD`` matching no classical candidate become rectangle quads with the net's score
    (only when narrower than ``max_width``); classical candidates the net does not confirm are scaled by
    ``CLASSICAL_ONLY``. Returns the candidates and, for each, whether the net backs it (a net box
    of at least ``NET_THRESHOLD`` matched it)."""
    out: list[Detection] = []
    backed: list[bool] = []
    used = [False] * len(net_boxes)
    confirm = _weakest_net_score()
    for det in found:
        box = geo.quad_bbox(det.quad)
        best, best_k = 0.0, -1
        for k, (x, y, w, h, s) in enumerate(net_boxes):
            o = _overlap(box, (x, y, w, h))
            if s >= confirm and o >= _NET_MATCH and geo.box_iou(box, (x, y, w, h)) > 0.2 and s * o > best:
                best, best_k = s * o, k
        if best_k < 0:
            out.append(Detection(det.quad, CLASSICAL_ONLY * det.score))
            backed.append(False)
            continue
        used[best_k] = True
        x, y, w, h, s = net_boxes[best_k]
        # a weak peak only vouches for the candidate: its box is not trusted over the candidate's quad
        strong = s >= NET_THRESHOLD
        boxed = strong and geo.box_iou(box, (x, y, w, h)) < QUAD_AGREE
        quad = _rect(x, y, w, h) if boxed else det.quad
        out.append(Detection(quad, float(1 - (1 - det.score) * (1 - s)), boxed, det.quad if boxed else None))
        backed.append(strong)
    for k, (x, y, w, h, s) in enumerate(net_boxes):
        if not used[k] and w < max_width and s >= NET_THRESHOLD:
            out.append(Detection(_rect(x, y, w, h), float(s), True))
            backed.append(True)
    return out, backed


def _weakest_net_score() -> float:
    """The lowest net peak score the fusion uses: ``NET_CONFIRM``, or ``NET_THRESHOLD`` if lower."""
    return min(NET_CONFIRM, NET_THRESHOLD)


def _rect(x: float, y: float, w: float, h: float) -> np.ndarray:
    """The quad (TL TR BR BL, float32) of an axis-aligned box."""
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def _has_characters(image: np.ndarray, quad: np.ndarray) -> bool:
    """Whether the segmenter finds a row of characters in the candidate's rectified crop, and
    not a row of bars (``is_grille``)."""
    crop = rectify(image, quad, height=40, margin=0.15)
    boxes = segment(crop).boxes
    return len(boxes) >= VERIFY_MIN_CHARS and not is_grille(boxes)


def is_grille(boxes) -> bool:
    """Whether a row of character boxes (x, y, w, h) is a grille's bars rather than a plate's
    characters (see ``GRILLE_MIN_BARS``)."""
    boxes = np.asarray(boxes, float).reshape(-1, 4)
    if len(boxes) < GRILLE_MIN_BARS:
        return False
    bars = boxes[:, 2] < GRILLE_BAR_WIDTH * boxes[:, 3]
    return float(bars.mean()) >= GRILLE_BAR_SHARE


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
            ratio = bh / median(row[:, 3])
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


def _suppress(found: list[tuple[Detection, bool]], max_plates: int) -> list[tuple[Detection, bool]]:
    """Non-maximum suppression on the quads' bounding boxes (also drops candidates inside a
    better one); items are (detection, backed-by-the-net) pairs."""
    kept: list[tuple[Detection, bool]] = []
    for det, backed in sorted(found, key=lambda t: -t[0].score):
        box = geo.quad_bbox(det.quad)
        if any(_overlap(box, geo.quad_bbox(k.quad)) > 0.4 for k, _ in kept):
            continue
        kept.append((det, backed))
        if len(kept) >= max_plates:
            break
    return kept


def _overlap(a, b) -> float:
    """Max of IoU and intersection over the smaller box."""
    return max(geo.box_iou(a, b), geo.box_cover(a, b))


def rectify(
    image_bgr: np.ndarray, quad: np.ndarray, *, height: int = 110, margin: float = 0.0, aspect: float = PLATE_ASPECT,
) -> np.ndarray:
    """Warp the plate inside ``quad`` to a canonical 520:110 image.

    Args:
        image_bgr: the photo the quad refers to.
        quad: 4×2 corners TL, TR, BR, BL in image pixels.
        height: output height in pixels; the width is ``round(height * aspect)``.
        margin: extra border kept around the plate, as a fraction of the plate height on every side
            (the output then is ``height * (1 + 2 * margin)`` tall).
        aspect: output width / height (default the EU plate's 520 / 110).

    Returns:
        The rectified plate, same channel count and dtype as ``image_bgr``.
    """
    height = max(1, int(height))
    width = max(1, round(height * aspect))
    pad = margin * height
    dst = np.array([[pad, pad], [pad + width, pad], [pad + width, pad + height], [pad, pad + height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(quad, dtype=np.float32).reshape(4, 2), dst)
    size = (int(round(width + 2 * pad)), int(round(height + 2 * pad)))
    return cv2.warpPerspective(image_bgr, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
