"""Street photos for training the plate detector: a dash-cam or hand-held camera looking along a
street lined with parked cars (rears and fronts, at every distance), cars ahead in the lane,
buildings, walls, trees, lamp posts and signs, by day or by night (flash fall-off, lamps, car
lights, retro-reflective plates glowing, infrared purple), with colour swaps, blur, noise and
JPEG. Every plate's outline and visibility are known exactly.

Plates are labelled for the detector by their axis-aligned box in the output image. ``boxes``
holds the plates a detector should find (at least ``MIN_WIDTH`` pixels wide, mostly visible);
``ignore`` holds plates that are too small, too hidden or cut by the frame to demand either way.

Example::

    from alpr.synth.street import render_street
    s = render_street(seed=3)                      # 320 x 240
    s.image.shape, s.boxes, s.ignore               # (240, 320, 3), (K, 4) x y w h, (M, 4)
"""

from dataclasses import dataclass

import cv2
import numpy as np

from alpr.synth import street_world as world
from alpr.synth.street_camera import Camera, Canvas
from alpr.synth.street_car import CarPose, draw_car

#: Plates narrower than this (output pixels) or less visible than ``MIN_VISIBLE`` are not demanded.
MIN_WIDTH, MIN_VISIBLE = 6.0, 0.75
#: Plates narrower than this or less visible than this are plain background (invisible anyway).
IGNORE_WIDTH, IGNORE_VISIBLE = 3.0, 0.3
_SCALE = 2  # drawn at twice the output size, then area-averaged (realistic small plates)


@dataclass
class StreetScene:
    """``image`` (H, W, 3) uint8 BGR; ``quads`` (N, 4, 2) of all drawn plates; ``boxes`` (K, 4) and
    ``ignore`` (M, 4) as (x, y, w, h) in image pixels; ``night``: whether it is a night photo."""

    image: np.ndarray
    quads: np.ndarray
    boxes: np.ndarray
    ignore: np.ndarray
    night: bool


def _plate_style(rng: np.random.Generator, country: str | None) -> dict:
    c = country or ("es" if rng.random() < 0.75 else "de")
    return {"country": c, "anonymise": rng.random() < 0.55}


def _layout(rng: np.random.Generator, cam: Camera, close: bool):
    """The cars (pose, van) and the street-side objects ((z, kind, x, side)) of one scene."""
    road_half = rng.uniform(3.0, 7.5)
    cam_x = rng.uniform(-road_half + 1.2, road_half - 1.2) * (0.3 if close else 1.0)
    cars = []
    for side in (-1, 1):
        if rng.random() < 0.15:
            continue
        angled = rng.random() < 0.15
        x = side * (road_half - rng.uniform(0.9, 1.3)) - cam_x
        z = rng.uniform(-3, 8)
        row_yaw = side * rng.uniform(15, 50) if angled else 0.0
        row_front = rng.random() < 0.5
        while z < 70:
            if rng.random() < 0.85:
                front = row_front if rng.random() < 0.75 else not row_front
                yaw = row_yaw + rng.normal(0, 4)
                cars.append((CarPose(x + rng.normal(0, 0.15), z, yaw, front), rng.random() < 0.12))
            z += (rng.uniform(2.3, 3.2) if angled else rng.uniform(4.0, 6.5)) + rng.exponential(0.6)
    for _ in range(int(rng.choice([0, 1, 1, 2, 2, 3]))):  # traffic in the lanes
        lane = rng.uniform(-road_half + 1.8, road_half - 1.8) - cam_x
        cars.append((CarPose(lane, rng.uniform(4, 45), rng.normal(0, 4), lane < -1 and rng.random() < 0.7), rng.random() < 0.1))
    if close:
        z = rng.uniform(1.2, 5.0)
        cars.append((CarPose(rng.normal(0, 0.5) + z * np.tan(np.radians(rng.normal(0, 6))), z, rng.uniform(-30, 30),
                             rng.random() < 0.5), rng.random() < 0.1))
    extras = []
    for side in (-1, 1):
        walk = rng.uniform(1.5, 4.0)
        for kind, rate in (("tree", rng.uniform(0, 0.12)), ("pole", rng.uniform(0.02, 0.08))):
            z = rng.uniform(1, 15)
            while z < 80:
                if rng.random() < rate * 8:
                    extras.append((z, kind, side * (road_half + rng.uniform(0.3, walk - 0.2)) - cam_x, side))
                z += rng.uniform(5, 20)
    return road_half, cam_x, cars, extras


def _backdrop(canvas, cam, rng, road_half, cam_x):
    """Sky, ground, then building fronts / walls along both sides; returns lit-window positions."""
    world.sky(canvas, cam, rng)
    walk = rng.uniform(1.5, 4.0)
    world.ground(canvas, cam, rng, road_half, cam_x, walk)
    lights = []
    for side in (-1, 1):
        x = side * (road_half + walk) - cam_x
        z = rng.uniform(-2, 10)
        while z < 120:
            length = rng.uniform(8, 40)
            kind = rng.random()
            if kind < 0.6:
                lights += world.facade(canvas, cam, rng, x + side * rng.uniform(0, 3), side, z, z + length)
            elif kind < 0.85:
                world.wall_or_fence(canvas, cam, rng, x, z, z + length)
            z += length + rng.exponential(3)
    return lights


def _night(canvas: Canvas, rng, plate_masks, lamps, lit, cam) -> np.ndarray:
    """Night lighting: ambient darkness, flash fall-off with depth, glowing lamps, car lights and
    windows, retro-reflective plates."""
    img = canvas.image
    h, w = canvas.ids.shape
    ambient = rng.uniform(0.04, 0.3)
    flash = rng.uniform(0.0, 1.2) if rng.random() < 0.8 else 0.0
    reach = rng.uniform(2.0, 7.0)
    depth = np.minimum(canvas.depth, 1e4)
    light = ambient + flash * np.clip((reach / np.maximum(depth, 0.3)) ** 2, 0, 1.2)
    plate_any = np.zeros((h, w), np.float32)
    for m in plate_masks:
        plate_any = np.maximum(plate_any, m)
    glow_gain = rng.uniform(0.5, 1.4)
    light = light * (1 - plate_any) + plate_any * np.maximum(light, glow_gain)
    out = img * light[..., None]
    glow = np.zeros((h, w, 3), np.float32)
    sources = [(p, (120, 200, 255) if rng.random() < 0.6 else (235, 240, 250), 0.3) for p in lamps]
    sources += [(p, (90, 200, 250), 0.35) for p in lit if rng.random() < 0.4]
    for p, colour, size in sources:
        px, d = cam.project(np.asarray(p)[None])
        if d[0] <= 0.5 or not (-20 < px[0, 0] < w + 20 and -20 < px[0, 1] < h + 20):
            continue
        r = min(h / 24, max(1.0, cam.focal * size / d[0]))
        cv2.circle(glow, tuple(np.round(px[0] * 16).astype(int)), int(r * 16), tuple(float(c) for c in colour), -1, cv2.LINE_AA, 4)
    if glow.any():
        out += glow + cv2.GaussianBlur(glow, (0, 0), rng.uniform(2, 8)) * rng.uniform(0.3, 1.2)
    return out


def _car_lights(canvas, cam, rng, car_lamps) -> list:
    """At night some cars have their lamps on: bright red (rear) or white (front) blobs."""
    out = []
    for lamps, lw, lh, front in car_lamps:
        if rng.random() < 0.25:
            colour = (230, 235, 245) if front else (60, 60, 255)
            for p in lamps:
                px, d = cam.project(np.asarray(p)[None])
                if d[0] <= 0.5:
                    continue
                ax = (max(1, int(cam.focal * lw / 2 / d[0] * 16)), max(1, int(cam.focal * lh / 2 / d[0] * 16)))
                cv2.ellipse(canvas.image, tuple(np.round(px[0] * 16).astype(int)), ax, 0, 0, 360, colour, -1, cv2.LINE_AA, 4)
                out.append(p)
    return out


def _colour(img: np.ndarray, rng, night: bool) -> np.ndarray:
    """Colour look of the camera: infrared purple at night, swapped red/blue, casts, exposure."""
    if night and rng.random() < 0.65:
        grey = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
        mix = rng.uniform(0.5, 1.0)
        img = img * (1 - mix) + grey[..., None] * mix
        img = img * np.array([rng.uniform(1.0, 1.4), rng.uniform(0.6, 0.95), rng.uniform(0.9, 1.35)], np.float32)
    if rng.random() < 0.4:
        img = img[..., ::-1]
    if rng.random() < 0.6:
        img = img * rng.uniform(0.8, 1.2, 3).astype(np.float32)
    gain = rng.uniform(0.7, 1.3)
    img = img * gain + rng.uniform(-15, 15)
    if rng.random() < 0.3:  # washed-out / low contrast
        img = img * rng.uniform(0.6, 0.9) + rng.uniform(20, 70)
    return img


def _texture(img: np.ndarray, rng) -> np.ndarray:
    """Surface texture and uneven light: smooth multiplicative blotches plus fine grain."""
    h, w = img.shape[:2]
    coarse = cv2.resize(rng.normal(0, 1, (h // 12 + 2, w // 12 + 2)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 1, (h, w)).astype(np.float32)
    field = 1 + coarse * rng.uniform(0.0, 0.05) + cv2.GaussianBlur(fine, (0, 0), 0.7) * rng.uniform(0.0, 0.1)
    return img * field[..., None]


def _finish(img: np.ndarray, rng, night: bool) -> np.ndarray:
    """Blur, sensor noise and JPEG at the output resolution."""
    if rng.random() < 0.35:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 0.9))
    img = img + rng.normal(0, rng.uniform(1, 9 if night else 5), img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if rng.random() < 0.85:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 95))])
        out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out


def render_street(*, rng: np.random.Generator | None = None, seed: int | None = None, size: tuple[int, int] = (320, 240),
                  country: str | None = None, night: bool | None = None, close: bool | None = None) -> StreetScene:
    """One street photo of ``size`` = (width, height). ``country`` fixes the plates' country
    (default: 75 % Spanish, else German); ``night`` and ``close`` (a car right in front of the
    camera) are random when None. Deterministic given ``seed`` / ``rng``."""
    if rng is None:
        rng = np.random.default_rng(seed)
    W, H = size
    rsize = (W * _SCALE, H * _SCALE)
    night = bool(rng.random() < 0.45) if night is None else night
    close = bool(rng.random() < 0.35) if close is None else close
    cam = Camera.random(rng, rsize, focal=(0.7, 1.6) if close else (0.55, 1.2))
    canvas = Canvas.empty(rsize)
    road_half, cam_x, cars, extras = _layout(rng, cam, close)
    lit = _backdrop(canvas, cam, rng, road_half, cam_x)
    objects = [(pose.z, "car", (pose, van)) for pose, van in cars] + [(z, kind, (x, side)) for z, kind, x, side in extras]
    objects.sort(key=lambda o: -o[0])
    plates, lamps, car_lamps = [], [], []
    next_id = 2
    for z, kind, args in objects:
        if kind == "car":
            plate, lamp = draw_car(canvas, cam, rng, args[0], next_id, _plate_style(rng, country), van=args[1])
            if plate is not None:
                plates.append(plate)
            car_lamps.append(lamp)
            next_id += 1
        elif kind == "tree":
            world.tree(canvas, cam, rng, args[0], z, bare=rng.random() < 0.5)
        else:
            lamps += world.pole(canvas, cam, rng, args[0], z, args[1])
    if rng.random() < 0.5:
        world.bonnet(canvas, rng)
    masks = []
    for p in plates:
        m = np.zeros(canvas.ids.shape, np.uint8)
        cv2.fillPoly(m, [np.round(p.quad * 16).astype(np.int32)], 1, cv2.LINE_8, shift=4)
        masks.append(m)
    if night:
        lamps += _car_lights(canvas, cam, rng, car_lamps)
        canvas.image = _night(canvas, rng, [(m & (canvas.ids == p.obj)).astype(np.float32) for m, p in zip(masks, plates)],
                              lamps, lit, cam)
    img = cv2.resize(canvas.image, (W, H), interpolation=cv2.INTER_AREA)
    img = _colour(_texture(img, rng), rng, night)
    image = _finish(img, rng, night)
    return _label(image, plates, masks, canvas.ids, night)


def _label(image, plates, masks, ids, night) -> StreetScene:
    """Split the drawn plates into demanded boxes and ignored ones by size and visibility."""
    H, W = image.shape[:2]
    boxes, ignore, quads = [], [], []
    for p, m in zip(plates, masks):
        quad = p.quad / _SCALE
        quads.append(quad)
        area = int(m.sum())
        visible = float(((ids == p.obj) & (m > 0)).sum()) / max(1, area)
        x0, y0 = quad.min(0)
        x1, y1 = quad.max(0)
        cx0, cy0, cx1, cy1 = max(0.0, x0), max(0.0, y0), min(float(W), x1), min(float(H), y1)
        if cx1 - cx0 < 1 or cy1 - cy0 < 1:
            continue
        inside = (cx1 - cx0) * (cy1 - cy0) / max(1e-6, (x1 - x0) * (y1 - y0))
        visible *= inside
        box = (cx0, cy0, cx1 - cx0, cy1 - cy0)
        width = x1 - x0
        if width >= MIN_WIDTH and visible >= MIN_VISIBLE:
            boxes.append(box)
        elif width >= IGNORE_WIDTH and visible >= IGNORE_VISIBLE:
            ignore.append(box)
    return StreetScene(image, np.asarray(quads, np.float32).reshape(-1, 4, 2), np.asarray(boxes, np.float32).reshape(-1, 4),
                       np.asarray(ignore, np.float32).reshape(-1, 4), night)
