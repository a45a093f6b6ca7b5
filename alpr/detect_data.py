"""Synthetic training images for the learned plate detector (``alpr.plate_net``).

Two stages, both deterministic given a seed:

1. ``scene_pool`` renders single-plate scenes with ``alpr.synth.scene.render_scene`` at the
   detector's working size (320 x 240), plates 8-150 px wide, and paints grey anonymisation
   boxes over a few characters of some plates (as in the UC3M-LP photos).
2. ``compose`` builds one training photo from the pool: a whole scene as the background plus up
   to three (four) "parked cars" (a crop around the plate of other scenes, rescaled so plates end up
   6-160 px wide), bright plate-shaped distractors without text, and a global colour cast
   (night / infrared purple, green, swapped channels, grey). Returns the image and the plates'
   axis-aligned boxes (x, y, w, h).

Only the project's own renderer is used: no real photo is involved.
"""

import math

import cv2
import numpy as np

from alpr._geometry import box_iou, quad_bbox
from alpr.synth.scene import render_scene

#: (width, height) of the composed training photos (the detector's working size).
SIZE = (320, 240)


def anonymise(image: np.ndarray, char_quads: np.ndarray, rng: np.random.Generator) -> None:
    """Cover 1-4 consecutive characters with a flat grey box (in place)."""
    n = len(char_quads)
    if n < 2:
        return
    k = int(rng.integers(1, min(4, n - 1) + 1))
    i = int(rng.integers(0, n - k + 1))
    pts = char_quads[i:i + k].reshape(-1, 2)
    x0, y0 = pts.min(0)
    x1, y1 = pts.max(0)
    grow = (y1 - y0) * rng.uniform(0.0, 0.25)
    grey = float(rng.uniform(90, 200))
    cv2.rectangle(image, (int(round(x0 - grow * 0.5)), int(round(y0 - grow))),
                  (int(round(x1 + grow * 0.5)), int(round(y1 + grow))), (grey, grey, grey), -1)


def scene_pool(n: int, seed: int, *, anonymise_rate: float = 0.5,
               plate_width: tuple[float, float] = (8.0, 150.0)) -> tuple[np.ndarray, np.ndarray]:
    """``n`` scenes (N, 240, 320, 3) uint8 and their plate quads (N, 4, 2) float32; plates are
    ``plate_width`` (min, max) pixels wide (log-uniform)."""
    rng = np.random.default_rng(seed)
    images = np.empty((n, SIZE[1], SIZE[0], 3), np.uint8)
    quads = np.empty((n, 4, 2), np.float32)
    for i in range(n):
        scene = render_scene(("de", "es")[int(rng.random() < 0.6)], rng=rng, size=SIZE, plate_width=plate_width)
        image = scene.image.copy()
        if rng.random() < anonymise_rate:
            anonymise(image, scene.char_quads, rng)
        images[i], quads[i] = image, scene.quad
    return images, quads


def _cast(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Global colour/brightness changes: night darkness, IR purple/green tints, swaps, grey."""
    out = image.astype(np.float32)
    r = rng.random()
    if r < 0.2:  # grey / IR monochrome
        out = np.repeat(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)[..., None], 3, 2).astype(np.float32)
    elif r < 0.3:
        out = out[..., ::-1]
    if rng.random() < 0.6:  # colour cast: purple (B+R), green, yellow, ...
        out = out * rng.uniform(0.6, 1.4, 3).astype(np.float32)
    if rng.random() < 0.35:  # night: darken with a gamma, bright things stay brighter
        gamma = rng.uniform(1.2, 2.5)
        out = 255.0 * (np.clip(out, 0, 255) / 255.0) ** gamma * rng.uniform(0.6, 1.2)
    elif rng.random() < 0.2:  # washed out / over-exposed
        out = out * rng.uniform(1.1, 1.6) + rng.uniform(0, 40)
    return np.clip(out, 0, 255).astype(np.uint8)


def _distractors(image: np.ndarray, rng: np.random.Generator, taken: list) -> None:
    """Bright plate-shaped rectangles and light blobs without text (lights, signs, windows)."""
    h, w = image.shape[:2]
    for _ in range(int(rng.integers(0, 4))):
        bw = float(math.exp(rng.uniform(math.log(6), math.log(80))))
        bh = bw / rng.uniform(1.0, 6.0)
        x, y = rng.uniform(0, w - bw), rng.uniform(0, h - bh)
        if any(box_iou((x, y, bw, bh), t) > 0 or _inside((x, y, bw, bh), t) for t in taken):
            continue
        colour = tuple(float(v) for v in np.clip(rng.uniform(150, 255) + rng.normal(0, 30, 3), 0, 255))
        if rng.random() < 0.5:
            cv2.rectangle(image, (int(x), int(y)), (int(x + bw), int(y + bh)), colour, -1, cv2.LINE_AA)
        else:
            cv2.ellipse(image, (int(x + bw / 2), int(y + bh / 2)), (max(1, int(bw / 2)), max(1, int(bh / 2))),
                        float(rng.uniform(-20, 20)), 0, 360, colour, -1, cv2.LINE_AA)


def _facade(image: np.ndarray, rng: np.random.Generator) -> None:
    """A building front or fence: a grid of bright/dark windows or vertical bars (street photos
    are full of them; none holds text)."""
    h, w = image.shape[:2]
    x0, y0 = rng.uniform(-0.2, 0.8) * w, rng.uniform(-0.2, 0.6) * h
    fw, fh = rng.uniform(0.2, 0.9) * w, rng.uniform(0.15, 0.6) * h
    wall = tuple(float(v) for v in np.clip(rng.uniform(60, 230) + rng.normal(0, 30, 3), 0, 255))
    cv2.rectangle(image, (int(x0), int(y0)), (int(x0 + fw), int(y0 + fh)), wall, -1)
    if rng.random() < 0.7:  # windows
        cw, ch = rng.uniform(4, 30), rng.uniform(3, 25)
        gx, gy = cw * rng.uniform(1.3, 2.5), ch * rng.uniform(1.3, 2.5)
        win = tuple(float(v) for v in np.clip(rng.uniform(0, 255) + rng.normal(0, 25, 3), 0, 255))
        for yy in np.arange(y0 + 2, y0 + fh - ch, gy):
            for xx in np.arange(x0 + 2, x0 + fw - cw, gx):
                cv2.rectangle(image, (int(xx), int(yy)), (int(xx + cw), int(yy + ch)), win, -1)
    else:  # fence / railing
        step = rng.uniform(2, 10)
        bar = tuple(float(v) for v in np.clip(rng.uniform(0, 255) + rng.normal(0, 25, 3), 0, 255))
        for xx in np.arange(x0, x0 + fw, step):
            cv2.line(image, (int(xx), int(y0)), (int(xx), int(y0 + fh)), bar, 1)


def _inside(a, b, pad: float = 2.0) -> bool:
    """Whether boxes ``a`` and ``b`` touch (with ``pad`` pixels of slack)."""
    return not (a[0] > b[0] + b[2] + pad or b[0] > a[0] + a[2] + pad or a[1] > b[1] + b[3] + pad or b[1] > a[1] + a[3] + pad)


def compose(pool_images: np.ndarray, pool_quads: np.ndarray, rng: np.random.Generator, *,
            hard_negatives: bool = False, car_width: tuple[float, float] = (6.0, 120.0)) -> tuple[np.ndarray, np.ndarray]:
    """One training photo (240, 320, 3) uint8 and its plate boxes (K, 4) float32 (x, y, w, h).
    ``hard_negatives`` adds building facades / fences and up to four extra cars (the bundled
    model was trained without; a fine-tune with them did not improve real-photo precision).
    The extra cars' plates are ``car_width`` (min, max) pixels wide (log-uniform)."""
    n = len(pool_images)
    base = int(rng.integers(0, n))
    image = pool_images[base].copy()
    boxes = [quad_bbox(pool_quads[base])]
    H, W = image.shape[:2]
    if hard_negatives and rng.random() < 0.4:  # a building/fence behind, the base scene's plate kept intact
        keep = image.copy()
        _facade(image, rng)
        x, y, bw, bh = boxes[0]
        m = np.zeros((H, W), np.float32)
        cv2.rectangle(m, (int(x - bw), int(y - bh * 2)), (int(x + 2 * bw), int(y + 3 * bh)), 1.0, -1)
        m = cv2.GaussianBlur(m, (0, 0), max(1.0, bw * 0.3))[..., None]
        image = (image * (1 - m) + keep * m).astype(np.uint8)
    if rng.random() < 0.08:  # no plate at all: cover it with a patch of another scene
        x, y, bw, bh = boxes[0]
        other = pool_images[int(rng.integers(0, n))]
        x0, y0 = int(max(0, x - 3)), int(max(0, y - 3))
        x1, y1 = int(min(W, x + bw + 4)), int(min(H, y + bh + 4))
        image[y0:y1, x0:x1] = other[y0:y1, x0:x1]
        boxes = []
    for _ in range(int(rng.choice([0, 1, 1, 2, 2, 3, 3, 4] if hard_negatives else [0, 1, 1, 2, 2, 3]))):
        k = int(rng.integers(0, n))
        src, quad = pool_images[k], pool_quads[k]
        px, py, pw, ph = quad_bbox(quad)
        target = float(math.exp(rng.uniform(math.log(car_width[0]), math.log(car_width[1]))))
        s = target / max(pw, 1.0)
        # context around the plate: the car's rear or front
        cw, ch = pw * rng.uniform(1.6, 4.0), pw * rng.uniform(0.6, 2.0)
        cx0, cy0 = px + pw / 2 - cw / 2, py + ph / 2 - ch * rng.uniform(0.4, 0.7)
        sh, sw = src.shape[:2]  # stay inside the source scene (no reflected copies of the plate)
        cx1, cy1 = min(sw, cx0 + cw), min(sh, cy0 + ch)
        cx0, cy0 = max(0.0, cx0), max(0.0, cy0)
        cw, ch = cx1 - cx0, cy1 - cy0
        out_w, out_h = max(4, int(round(cw * s))), max(4, int(round(ch * s)))
        if out_w >= W or out_h >= H:
            continue
        ox, oy = rng.uniform(0, W - out_w), rng.uniform(0, H - out_h)
        new_box = ((px - cx0) * s + ox, (py - cy0) * s + oy, pw * s, ph * s)
        if not (0 <= new_box[0] and new_box[0] + new_box[2] <= W and 0 <= new_box[1] and new_box[1] + new_box[3] <= H):
            continue
        patch_box = (ox, oy, out_w, out_h)
        if any(_inside(patch_box, b, pad=1.0) for b in boxes):
            continue
        m = np.array([[s, 0, ox - cx0 * s], [0, s, oy - cy0 * s]], np.float32)
        warped = cv2.warpAffine(src if s >= 0.7 else cv2.GaussianBlur(src, (0, 0), 0.4 / s), m, (W, H),
                                flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        alpha = np.zeros((H, W), np.float32)
        cv2.rectangle(alpha, (int(ox), int(oy)), (int(ox + out_w), int(oy + out_h)), 1.0, -1)
        feather = max(1.0, min(out_w, out_h) * 0.08)
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)[..., None]
        # plate pixels must stay intact: fully opaque over the plate box
        bx0, by0 = int(new_box[0]) - 1, int(new_box[1]) - 1
        alpha[max(0, by0):int(new_box[1] + new_box[3]) + 2, max(0, bx0):int(new_box[0] + new_box[2]) + 2] = 1.0
        image = (image * (1 - alpha) + warped * alpha).astype(np.uint8)
        boxes.append(new_box)
    if rng.random() < 0.5:
        _distractors(image, rng, boxes)
    image = _cast(image, rng)
    if rng.random() < 0.3:  # re-compression of the whole photo
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return image, np.asarray(boxes, np.float32).reshape(-1, 4)
