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

from alpr._geometry import quad_bbox
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


def augment(image: np.ndarray, boxes: np.ndarray, ignore: np.ndarray, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training-time variation of one photo: mirror, zoom into a random part (plates cut by the
    new frame move to ``ignore``), channel order and exposure. Returns new arrays."""
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
