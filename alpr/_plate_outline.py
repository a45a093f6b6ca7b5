"""Where a plate lies in a photo, for the recogniser: photos that are plate close-ups, the
plate's outline inside a box of the learned detector, the box around a close-up's reading, and
the mapping of character boxes from a rectified plate back to the photo. Quads are 4 x 2 corners
TL, TR, BR, BL in image pixels."""

import cv2
import numpy as np

from alpr import deskew, detect
from alpr._geometry import fit_turned_plate, quad_bbox
from alpr.detect import Detection

#: A box of the learned detector is cut out at this width to measure its plate's slope
#: (``plate_in_box``; ``alpr.deskew`` measures at 96 px).
BOX_MEASURE_WIDTH = 192
#: The plate fitted in a box of the learned detector is grown by this fraction of its size
#: (``plate_in_box``): fitted exactly, real plates lost end characters (RK612AL read RK612A).
#: On openalpr-eu's photos turned by 10 / 20 / 30 degrees, exact plates 0.667 / 0.648 / 0.722
#: with no margin, 0.713 / 0.648 / 0.750 with 0.06, 0.704 / 0.648 / 0.769 with 0.12; level,
#: 0.06 costs one (0.787 -> 0.778: a frame edge read as an extra character); rendered photos
#: turned by 10 / 20 / 30 degrees read the same within a plate (seed 77, es and de).
BOX_PLATE_MARGIN = 0.06
#: A photo is taken for a plate close-up (a plate cut loosely out of a larger photo, given without
#: ``--crop``) when a detector candidate spans at least this share of its width and of its
#: height; such a photo is also read whole, as ``read_crop`` reads a crop (see ``read``). Of 400
#: rendered close-ups (``alpr.synth.scene.render_close_up``: margins of 0-25 % of the plate's
#: width at the sides, 5-90 % of its height above and below) 395 pass; of the benchmark's 200
#: photos (640x480, plates up to 90 % of the width but seldom a third of the height), 7.
CLOSE_UP_FROM = (0.5, 1 / 3)
#: A photo in which nothing is found is read whole when its width is this many times its height
#: or more (up to ``CLOSE_UP_ASPECT[1]``): a tight plate crop, which the detector may miss as its
#: edges are the frame's. Photos are 4:3 to 2:1; one-row EU plates are 4.7:1.
CLOSE_UP_ASPECT = (2.5, 6.0)


def close_up(shape: tuple[int, ...], candidates: list[Detection]) -> Detection | None:
    """Why a photo of ``shape`` is read whole as a plate close-up, or None if it does not look
    like one: the best of the ``candidates`` spanning ``CLOSE_UP_FROM`` of its width and height,
    or, when nothing was found and its aspect is within ``CLOSE_UP_ASPECT``, the whole photo
    (score 1, as for a crop)."""
    h, w = shape[:2]
    if not candidates:
        if CLOSE_UP_ASPECT[0] <= w / h <= CLOSE_UP_ASPECT[1]:
            return Detection(frame_quad(shape), 1.0)
        return None
    spanning = [det for det in candidates
                if (box := quad_bbox(det.quad))[2] >= CLOSE_UP_FROM[0] * w and box[3] >= CLOSE_UP_FROM[1] * h]
    return max(spanning, key=lambda det: det.score) if spanning else None


def outline(quad, char_boxes, shape: tuple[int, ...]) -> list:
    """The box (as a rounded quad) around ``quad`` and the (x, y, w, h) ``char_boxes``, inside an image of
    ``shape``: where a close-up read whole has its plate. On rendered close-ups it overlaps the
    true plate at IoU >= 0.5 in 168 of 168 (the whole photo in 40 %, the characters' box in 28 %)."""
    corners = [np.asarray(quad, float).reshape(-1, 2)]
    corners += [np.array([[x, y], [x + w, y + h]], float) for x, y, w, h in char_boxes]
    points = np.concatenate(corners)
    (left, top), (right, bottom) = np.maximum(points.min(0), 0), np.minimum(points.max(0), (shape[1], shape[0]))
    return rounded([[left, top], [right, top], [right, bottom], [left, bottom]])


def plate_in_box(image: np.ndarray, box_quad: np.ndarray) -> np.ndarray:
    """The outline of the plate inside a box the learned detector drew around it
    (``Detection.boxed``): the box is cut out at its own aspect, so a tilted plate's text line
    keeps its slope, the slope is measured (``alpr.deskew``), and a plate of the EU aspect turned
    by it is fitted in the box (``_geometry.fit_turned_plate``). Rectifying the box itself would
    squeeze a tilted plate: the box around a plate turned by 10 degrees is 1.8 plate heights tall."""
    box = np.asarray(box_quad, dtype=np.float32).reshape(4, 2)
    width, height = (float(np.hypot(*(box[i] - box[0]))) for i in (1, 3))
    if width < 1.0 or height < 1.0:
        return box
    with_own_aspect = detect.rectify(image, box, height=max(8, round(BOX_MEASURE_WIDTH * height / width)),
                                     aspect=width / height)
    return fit_turned_plate(box, deskew.estimate_slope(with_own_aspect), detect.PLATE_ASPECT, BOX_PLATE_MARGIN)


def slope_degrees(quad) -> float:
    """How far the top side (TL to TR) of a quad slopes, in degrees (0 for a level one)."""
    top = np.asarray(quad[1], float) - np.asarray(quad[0], float)
    return float(abs(np.degrees(np.arctan2(top[1], top[0]))))


def rounded(quad) -> list:
    """A quad as a Plate carries it: nested lists of floats rounded to 0.1 px."""
    return np.asarray(quad, dtype=float).round(1).tolist()


def frame_quad(shape) -> np.ndarray:
    """The corners (TL, TR, BR, BL, float32) of a whole image of ``shape``."""
    h, w = shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)


def plate_to_image(shape, quad: np.ndarray) -> np.ndarray:
    """Homography from rectified-plate pixels to input-image pixels."""
    return cv2.getPerspectiveTransform(frame_quad(shape), np.asarray(quad, dtype=np.float32))


def map_box(box, homography: np.ndarray) -> list[int]:
    """Axis-aligned box (in the input image) around a plate box mapped through ``homography``."""
    x, y, w, h = (float(v) for v in box)
    corners = np.array([[[x, y], [x + w, y], [x + w, y + h], [x, y + h]]], dtype=np.float32)
    mapped = cv2.perspectiveTransform(corners, homography)[0]
    x0, y0 = np.floor(mapped.min(axis=0))
    x1, y1 = np.ceil(mapped.max(axis=0))
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]
