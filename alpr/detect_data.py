"""Synthetic training photos for the learned plate detector (``alpr.plate_net``).

Each photo is 320 x 240 (the detector's working size), deterministic given (seed, index):

- most are street photos (``alpr.synth.street.render_street``): parked cars in rows seen from
  behind or in front at every distance, traffic, buildings, trees, signs, markings, day or night
  (flash, infrared purple), colour swaps; some are drawn 16:9 and padded below with black, as
  ``plate_net.prepare`` pads such photos;
- ``CLOSE_RATE`` are single-plate close-ups (``alpr.synth.scene.render_scene``) with plates up to
  230 px wide, for the large plates of hand-held photos.

Labels: ``boxes`` (K, 4) the plates to find and ``ignore`` (M, 4) plates too small or hidden to
demand either way, both (x, y, w, h) in pixels. Only the project's own renderer is used: no real
photo is involved.
"""

import cv2
import numpy as np

from alpr._geometry import box_iou, quad_bbox
from alpr.synth.scene import render_scene
from alpr.synth.street import render_street

#: (width, height) of the training photos (the detector's working size).
SIZE = (320, 240)
#: Share of single-plate close-ups and of 16:9 street photos.
CLOSE_RATE, WIDE_RATE = 0.12, 0.1


def anonymise(image: np.ndarray, char_quads: np.ndarray, rng: np.random.Generator) -> None:
    """Cover 1-3 consecutive characters with a flat grey box (in place), as the UC3M-LP
    anonymisation does."""
    n = len(char_quads)
    if n < 2:
        return
    k = int(rng.integers(1, min(3, n - 1) + 1))
    i = int(rng.integers(0, n - k + 1))
    pts = char_quads[i:i + k].reshape(-1, 2)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    grow = (y1 - y0) * rng.uniform(0.0, 0.2)
    grey = float(rng.uniform(100, 200))
    cv2.rectangle(image, (int(round(x0 - grow * 0.5)), int(round(y0 - grow))),
                  (int(round(x1 + grow * 0.5)), int(round(y1 + grow))), (grey, grey, grey), -1)


def photo(seed: int, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training photo ``index`` of the set ``seed``: image (240, 320, 3) uint8, boxes, ignore."""
    rng = np.random.default_rng([seed, index])
    W, H = SIZE
    r = rng.random()
    if r < CLOSE_RATE:
        scene = render_scene(("es", "de")[int(rng.random() < 0.3)], rng=rng, size=SIZE, plate_width=(20.0, 230.0))
        image = scene.image.copy()
        if rng.random() < 0.5:
            anonymise(image, scene.char_quads, rng)
        x, y, w, h = quad_bbox(scene.quad)
        x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(W), x + w), min(float(H), y + h)
        return image, np.array([[x0, y0, x1 - x0, y1 - y0]], np.float32), np.zeros((0, 4), np.float32)
    if r < CLOSE_RATE + WIDE_RATE:
        wide = render_street(rng=rng, size=(W, round(W * 9 / 16)))
        image = np.zeros((H, W, 3), np.uint8)
        image[: wide.image.shape[0]] = wide.image
        return image, wide.boxes, wide.ignore
    scene = render_street(rng=rng, size=SIZE)
    return scene.image, scene.boxes, scene.ignore


def photos(seed: int, start: int, count: int) -> tuple[np.ndarray, list, list]:
    """Photos ``start`` .. ``start + count - 1`` of set ``seed``: images (N, 240, 320, 3) uint8 and
    the lists of their boxes and ignore boxes."""
    images = np.empty((count, SIZE[1], SIZE[0], 3), np.uint8)
    boxes, ignore = [], []
    for k in range(count):
        images[k], b, g = photo(seed, start + k)
        boxes.append(b)
        ignore.append(g)
    return images, boxes, ignore


#: Ranges of :func:`dim_plates`: the share of the plate's own contrast kept, and how far its mean
#: moves towards its surround's.
DIM_CONTRAST, DIM_BLEND = (0.25, 1.0), (0.0, 1.0)


def _plate_and_surround(box, pad: float, W: int, H: int):
    """Pixel windows for one plate box (x, y, w, h): the box grown by ``pad`` (x0, y0, x1, y1), and
    the area around it (a plate width to each side, two plate heights above and three below) with
    a mask that is False on the grown box; None when either is empty."""
    x, y, w, h = (float(v) for v in box)
    x0, y0 = int(max(0, x - pad)), int(max(0, y - pad))
    x1, y1 = int(min(W, np.ceil(x + w + pad))), int(min(H, np.ceil(y + h + pad)))
    X0, Y0, X1, Y1 = int(max(0, x - w)), int(max(0, y - 2 * h)), int(min(W, x + 2 * w)), int(min(H, y + 3 * h))
    if x1 - x0 < 2 or y1 - y0 < 2 or X1 <= X0 or Y1 <= Y0:
        return None
    around = np.ones((Y1 - Y0, X1 - X0), bool)
    around[max(0, y0 - Y0):y1 - Y0, max(0, x0 - X0):x1 - X0] = False
    if not around.any():
        return None
    return (x0, y0, x1, y1), (X0, Y0, X1, Y1), around


def plate_salience(image: np.ndarray, boxes, min_width: float = 20.0) -> list[tuple[float, float]]:
    """How much each plate box at least ``min_width`` pixels wide stands out: (grey standard
    deviation inside the box, its grey mean minus the mean of the area around it), in grey levels.
    Compares rendered and real plates (``scripts/plate_salience.py``)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) if image.ndim == 3 else image.astype(np.float32)
    H, W = grey.shape
    out = []
    for box in np.asarray(boxes, np.float32).reshape(-1, 4):
        windows = _plate_and_surround(box, 0.0, W, H) if box[2] >= min_width else None
        if windows is not None:
            (x0, y0, x1, y1), (X0, Y0, X1, Y1), around = windows
            plate = grey[y0:y1, x0:x1]
            out.append((float(plate.std()), float(plate.mean() - grey[Y0:Y1, X0:X1][around].mean())))
    return out


def dim_plates(image: np.ndarray, boxes: np.ndarray, rng: np.random.Generator, rate: float) -> np.ndarray:
    """Each plate in ``boxes``, with probability ``rate``, made less salient: its contrast scaled
    by a factor drawn from ``DIM_CONTRAST`` and its mean moved towards the mean of the area around
    it by a fraction drawn from ``DIM_BLEND``, through a soft-edged mask (a hard edge would be a
    cue of its own). Rendered plates stand out more than real ones (:func:`plate_salience`).
    Returns a new image."""
    out = image.astype(np.float32)
    H, W = image.shape[:2]
    for x, y, w, h in np.asarray(boxes, np.float32).reshape(-1, 4):
        if rng.random() >= rate or w < 2 or h < 2:
            continue
        contrast, blend = rng.uniform(*DIM_CONTRAST), rng.uniform(*DIM_BLEND)
        pad = max(1.0, 0.15 * h)
        windows = _plate_and_surround((x, y, w, h), pad, W, H)
        if windows is None:
            continue
        (x0, y0, x1, y1), (X0, Y0, X1, Y1), around = windows
        region = out[y0:y1, x0:x1]
        plate_mean = region.reshape(-1, 3).mean(0)
        target = plate_mean + blend * (out[Y0:Y1, X0:X1][around].mean(0) - plate_mean)
        dimmed = target + contrast * (region - plate_mean)
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        mask[int(round(y - y0)):int(round(y + h - y0)), int(round(x - x0)):int(round(x + w - x0))] = 1.0
        mask = cv2.GaussianBlur(mask, (0, 0), pad / 2)[..., None]
        out[y0:y1, x0:x1] = region + mask * (dimmed - region)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def paste_plate(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, rng: np.random.Generator
                ) -> tuple[np.ndarray, np.ndarray]:
    """Copy one plate of the photo (at least 8 px wide), rescaled by 0.6-1.6, to a random free spot
    of the same photo (copy-paste augmentation): a plate away from any car, so the detector learns
    the plate's own look rather than the rendered car around it. Returns the new image and boxes
    (unchanged when the photo has no such plate or no free spot is found)."""
    boxes, ignore = np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(ignore, np.float32).reshape(-1, 4)
    usable = [b for b in boxes if b[2] >= 8 and b[3] >= 2]
    if not usable:
        return image, boxes
    x, y, w, h = usable[int(rng.integers(len(usable)))]
    H, W = image.shape[:2]
    x0, y0, x1, y1 = int(max(0, x)), int(max(0, y)), int(min(W, np.ceil(x + w))), int(min(H, np.ceil(y + h)))
    s = rng.uniform(0.6, 1.6)
    nw, nh = max(4, round((x1 - x0) * s)), max(2, round((y1 - y0) * s))
    if nw >= W or nh >= H or x1 - x0 < 2 or y1 - y0 < 2:
        return image, boxes
    taken = np.concatenate([boxes, ignore])
    for _ in range(5):
        px, py = int(rng.integers(0, W - nw + 1)), int(rng.integers(0, H - nh + 1))
        grown = (px - nw / 2, py - nh, 2 * nw, 3 * nh)  # keep clear of other plates
        if all(box_iou(grown, t) == 0 for t in taken):
            plate = cv2.resize(image[y0:y1, x0:x1], (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            out = image.copy()
            out[py:py + nh, px:px + nw] = plate
            return out, np.concatenate([boxes, np.array([[px, py, nw, nh]], np.float32)])
    return image, boxes


def augment(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, rng: np.random.Generator,
            *, dim_rate: float = 0.0, paste_rate: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-time variation of one photo: mirror, zoom into a random part (plates cut by the
    new frame move to ``ignore``), channel order and exposure; before that, with ``paste_rate`` >
    0, :func:`paste_plate` on that share of photos, and with ``dim_rate`` > 0 :func:`dim_plates`
    (a rate of 0 draws nothing more from ``rng``: earlier runs reproduce). Returns new arrays."""
    if paste_rate > 0 and rng.random() < paste_rate:
        image, boxes = paste_plate(image, boxes, ignore, rng)
    if dim_rate > 0:
        image = dim_plates(image, boxes, rng, dim_rate)
    H, W = image.shape[:2]
    boxes, ignore = np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(ignore, np.float32).reshape(-1, 4)
    if rng.random() < 0.5:
        image = image[:, ::-1]
        boxes, ignore = boxes.copy(), ignore.copy()
        boxes[:, 0] = W - boxes[:, 0] - boxes[:, 2]
        ignore[:, 0] = W - ignore[:, 0] - ignore[:, 2]
    if rng.random() < 0.3:
        s = rng.uniform(1.0, 1.7)
        cw, ch = W / s, H / s
        x0, y0 = rng.uniform(0, W - cw), rng.uniform(0, H - ch)
        m = np.array([[s, 0, -x0 * s], [0, s, -y0 * s]], np.float32)
        image = cv2.warpAffine(np.ascontiguousarray(image), m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        keep, drop = [], []
        for b in boxes:
            nb = np.array([(b[0] - x0) * s, (b[1] - y0) * s, b[2] * s, b[3] * s], np.float32)
            c = _clip(nb, W, H)
            if c is None:
                continue
            (keep if c[2] * c[3] >= 0.85 * nb[2] * nb[3] else drop).append(c)
        for b in ignore:
            c = _clip(np.array([(b[0] - x0) * s, (b[1] - y0) * s, b[2] * s, b[3] * s], np.float32), W, H)
            if c is not None:
                drop.append(c)
        boxes, ignore = np.array(keep, np.float32).reshape(-1, 4), np.array(drop, np.float32).reshape(-1, 4)
    image = np.ascontiguousarray(image)
    if rng.random() < 0.3:
        image = image[..., rng.permutation(3)]
    if rng.random() < 0.3:
        lut = np.clip(255.0 * (np.arange(256) / 255.0) ** rng.uniform(0.6, 1.6) * rng.uniform(0.8, 1.2), 0, 255).astype(np.uint8)
        image = cv2.LUT(np.ascontiguousarray(image), lut)
    return np.ascontiguousarray(image), boxes, ignore


def _clip(box: np.ndarray, W: int, H: int) -> np.ndarray | None:
    """``box`` cut to the frame, or None when less than a pixel of it is left."""
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(W), float(box[0] + box[2])), min(float(H), float(box[1] + box[3]))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return None
    return np.array([x0, y0, x1 - x0, y1 - y0], np.float32)


def crop(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, size: tuple[int, int], rng: np.random.Generator,
         *, on_plate: float = 0.7) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``size`` = (width, height) window of a training photo (cheaper training steps; the net
    is fully convolutional), around a random plate with probability ``on_plate``. Plates cut by
    the window to less than 85 % move to ``ignore``."""
    H, W = image.shape[:2]
    cw, ch = size
    boxes, ignore = np.asarray(boxes, np.float32).reshape(-1, 4), np.asarray(ignore, np.float32).reshape(-1, 4)
    if len(boxes) and rng.random() < on_plate:
        x, y, w, h = boxes[int(rng.integers(0, len(boxes)))]
        cx, cy = x + w / 2, y + h / 2
        x0 = int(np.clip(cx - rng.uniform(0.15, 0.85) * cw, 0, W - cw))
        y0 = int(np.clip(cy - rng.uniform(0.15, 0.85) * ch, 0, H - ch))
    else:
        x0, y0 = int(rng.integers(0, W - cw + 1)), int(rng.integers(0, H - ch + 1))
    keep, drop = [], []
    for group, is_box in ((boxes, True), (ignore, False)):
        for b in group:
            nb = np.array([b[0] - x0, b[1] - y0, b[2], b[3]], np.float32)
            c = _clip(nb, cw, ch)
            if c is None:
                continue
            (keep if is_box and c[2] * c[3] >= 0.85 * nb[2] * nb[3] else drop).append(c)
    return (np.ascontiguousarray(image[y0:y0 + ch, x0:x0 + cw]), np.array(keep, np.float32).reshape(-1, 4),
            np.array(drop, np.float32).reshape(-1, 4))
