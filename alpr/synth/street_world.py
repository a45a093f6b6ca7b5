"""The street around the cars (``alpr.synth.street``): sky, road with lane markings and zebra
crossings, pavements with tiles and kerbs, building fronts with window grids and shop signs,
walls and railings, trees (leafy or bare), lamp posts and traffic signs, and the dash-cam's
bonnet/dashboard at the bottom of the frame. Everything is drawn through ``street_camera``, so
it recedes to the same vanishing point as the parked cars. None of it is a plate: signs, windows,
markings and lettering are the detector's hard negatives.
"""

import cv2
import numpy as np

from alpr.synth.background import random_words
from alpr.synth.street_camera import Camera, Canvas

_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_PLAIN)


def _c(rng, base, spread=15.0):
    return np.clip(np.asarray(base, float) + rng.normal(0, spread, 3), 0, 255)


def _muted(rng, lo=40, hi=230, sat=0.35):
    grey = rng.uniform(lo, hi)
    return np.clip(grey + (rng.uniform(0, 255, 3) - grey) * rng.uniform(0, sat), 0, 255)


def sky(canvas: Canvas, cam: Camera, rng: np.random.Generator) -> None:
    """Sky gradient (overcast grey, blue or pinkish) with soft clouds, above the horizon."""
    h, w = canvas.ids.shape
    top = _c(rng, [(225, 200, 170), (215, 215, 215), (200, 190, 210), (235, 225, 220)][int(rng.integers(0, 4))], 20)
    bottom = np.clip(top + rng.uniform(0, 35), 0, 255)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    canvas.image[:] = top * (1 - t) + bottom * t
    if rng.random() < 0.7:
        noise = rng.normal(0, 1, (h // 16 + 2, w // 16 + 2)).astype(np.float32)
        clouds = cv2.resize(cv2.GaussianBlur(noise, (0, 0), 1.2), (w, h), interpolation=cv2.INTER_CUBIC)
        canvas.image += (clouds * rng.uniform(6, 25))[..., None]


def ground(canvas: Canvas, cam: Camera, rng: np.random.Generator, road_half: float, cam_x: float, walk: float) -> None:
    """Asphalt road between kerbs at x = +-``road_half`` (camera at ``cam_x``), pavements of
    width ``walk``, lane lines, zebra crossings and arrows; sets the ground depth."""
    h, w = canvas.ids.shape
    depth = cam.ground_depth((w, h))
    below = np.isfinite(depth)
    asphalt = _c(rng, (95, 95, 98), 18)
    far = 60.0
    canvas.image[below] = asphalt
    canvas.depth[below] = depth[below]
    zmax = 200.0
    kerb_h = rng.uniform(0.1, 0.16)
    for side in (-1, 1):
        x = side * road_half - cam_x
        paving = _c(rng, (150, 150, 150) if rng.random() < 0.6 else (120, 130, 150), 25)
        canvas.fill3d(cam, [(x, cam.height - kerb_h, 0.3), (x + side * walk, cam.height - kerb_h, 0.3),
                            (x + side * walk, cam.height - kerb_h, zmax), (x, cam.height - kerb_h, zmax)], paving)
        canvas.fill3d(cam, [(x, cam.height, 0.3), (x, cam.height - kerb_h, 0.3), (x, cam.height - kerb_h, zmax), (x, cam.height, zmax)],
                      _c(rng, (170, 170, 170), 20))
        if rng.random() < 0.6:  # paving tiles: joints across and along
            step = rng.uniform(0.3, 0.6)
            joint = paving * rng.uniform(0.6, 0.85)
            y = cam.height - kerb_h
            segs = [((x, y, z), (x + side * walk, y, z)) for z in np.arange(0.5, min(30.0, far), step)]
            segs += [((x + side * k, y, 0.5), (x + side * k, y, 30.0)) for k in np.arange(step, walk, step)]
            canvas.lines3d(cam, np.array(segs), joint)
    paint = _c(rng, (215, 215, 215), 15)
    lanes = [0.0] if rng.random() < 0.6 else []
    if rng.random() < 0.5:
        lanes += [-road_half + rng.uniform(2.0, 2.6), road_half - rng.uniform(2.0, 2.6)]
    for lx in lanes:
        dash, gap = rng.uniform(2, 5), rng.uniform(2, 8)
        z = rng.uniform(0.5, 3)
        while z < 80:
            canvas.fill3d(cam, [(lx - 0.06 - cam_x, cam.height, z), (lx + 0.06 - cam_x, cam.height, z),
                                (lx + 0.06 - cam_x, cam.height, z + dash), (lx - 0.06 - cam_x, cam.height, z + dash)], paint)
            z += dash + gap
    if rng.random() < 0.3:  # zebra crossing: bright bars across the road
        z0 = rng.uniform(3, 25)
        bar = rng.uniform(0.4, 0.6)
        for x in np.arange(-road_half + 0.3, road_half - 0.3, 2 * bar):
            canvas.fill3d(cam, [(x - cam_x, cam.height, z0), (x + bar - cam_x, cam.height, z0), (x + bar - cam_x, cam.height, z0 + 3),
                                (x - cam_x, cam.height, z0 + 3)], paint)
    if rng.random() < 0.3:  # arrow / stop line
        z0, ax = rng.uniform(3, 15), rng.uniform(-road_half + 1, road_half - 1) - cam_x
        canvas.fill3d(cam, [(ax - 0.08, cam.height, z0), (ax + 0.08, cam.height, z0), (ax + 0.08, cam.height, z0 + 3), (ax - 0.08, cam.height, z0 + 3)], paint)
        canvas.fill3d(cam, [(ax - 0.4, cam.height, z0 + 3), (ax + 0.4, cam.height, z0 + 3), (ax, cam.height, z0 + 4.5)], paint)


def facade(canvas: Canvas, cam: Camera, rng: np.random.Generator, x: float, side: int, z0: float, z1: float) -> list:
    """A building front along the street at x (facing the road), from depth ``z0`` to ``z1``:
    wall, window grid (some lit, with frames and balconies), ground-floor shop signs with
    lettering. Returns the lit windows' world centres (night lights)."""
    height = rng.uniform(4, 25)
    wall = _muted(rng, 60, 220, 0.4)
    base_y = cam.height
    canvas.fill3d(cam, [(x, base_y, z0), (x, base_y - height, z0), (x, base_y - height, z1), (x, base_y, z1)], wall)
    if rng.random() < 0.5:  # brick / panel courses
        tone = wall * rng.uniform(0.75, 0.92)
        canvas.lines3d(cam, np.array([((x, base_y - y, z0), (x, base_y - y, z1)) for y in np.arange(0.3, height, rng.uniform(0.15, 0.8))]),
                       tone)
    lit = []
    floor_h = rng.uniform(2.7, 3.4)
    win_w, win_h = rng.uniform(0.8, 1.8), rng.uniform(1.0, 1.8)
    pitch_z = win_w + rng.uniform(0.6, 2.5)
    glass = _c(rng, (70, 65, 60), 25)
    frame = _c(rng, (225, 225, 225), 20) if rng.random() < 0.5 else wall * 0.6
    frames, panes, tints, balconies = [], [], [], []
    for fy in np.arange(floor_h, height - 1.5, floor_h):
        balcony = rng.random() < 0.3
        for z in np.arange(z0 + rng.uniform(0.3, 1.5), min(z1 - win_w, 60.0), pitch_z):
            y0, y1 = base_y - fy - 0.9, base_y - fy - 0.9 - win_h
            frames.append([(x, y0, z), (x, y1, z), (x, y1, z + win_w), (x, y0, z + win_w)])
            i = 0.08
            panes.append([(x, y0 - i, z + i), (x, y1 + i, z + i), (x, y1 + i, z + win_w - i), (x, y0 - i, z + win_w - i)])
            tints.append(rng.uniform(0.7, 1.6))
            if rng.random() < 0.15:
                lit.append(np.array([x, (y0 + y1) / 2, z + win_w / 2]))
            if balcony:
                bx = x - side * 0.9
                balconies.append([(bx, base_y - fy + 0.1, z - 0.2), (bx, base_y - fy - 0.9, z - 0.2),
                                  (bx, base_y - fy - 0.9, z + win_w + 0.2), (bx, base_y - fy + 0.1, z + win_w + 0.2)])
    canvas.fill_many3d(cam, np.array(frames).reshape(-1, 4, 3), frame)
    canvas.fill_many3d(cam, np.array(panes).reshape(-1, 4, 3), np.clip(glass[None] * np.array(tints).reshape(-1, 1), 0, 255))
    canvas.fill_many3d(cam, np.array(balconies).reshape(-1, 4, 3), wall * 0.8)
    if rng.random() < 0.5:  # shop front with a sign
        zs = rng.uniform(z0, max(z0 + 0.1, min(z1, 40) - 4))
        sw = rng.uniform(2, 6)
        sign = _muted(rng, 30, 250, 0.8)
        canvas.fill3d(cam, [(x, base_y - 2.6, zs), (x, base_y - 3.2, zs), (x, base_y - 3.2, zs + sw), (x, base_y - 2.6, zs + sw)], sign)
        canvas.fill3d(cam, [(x, base_y, zs), (x, base_y - 2.4, zs), (x, base_y - 2.4, zs + sw), (x, base_y, zs + sw)],
                      _c(rng, (60, 60, 60), 20))
        _text3d(canvas, cam, rng, [(x, base_y - 3.1, zs + 0.2), (x, base_y - 3.1, zs + sw - 0.2), (x, base_y - 2.7, zs + sw - 0.2),
                                   (x, base_y - 2.7, zs + 0.2)], 255 - sign)
    return lit


def _text3d(canvas, cam, rng, quad3d, colour):
    """Pseudo-words drawn with OpenCV's font onto a world quad (TL TR BR BL, seen from the road)."""
    px, z = cam.project(np.asarray(quad3d, float))
    if (z <= 0.5).any():
        return
    w = float(np.linalg.norm(px[1] - px[0]))
    if w < 6:
        return
    text = random_words(rng, int(rng.integers(4, 14)))
    font = _FONTS[int(rng.integers(0, 3))]
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 2)
    patch = np.zeros((th * 2, tw + 8), np.uint8)
    cv2.putText(patch, text, (4, int(th * 1.5)), font, 1.0, 255, 2, cv2.LINE_AA)
    src = np.float32([[0, 0], [patch.shape[1], 0], [patch.shape[1], patch.shape[0]], [0, patch.shape[0]]])
    h, w_ = canvas.ids.shape
    x0, y0 = np.maximum(0, np.floor(px.min(0)).astype(int))
    x1, y1 = np.minimum([w_, h], np.ceil(px.max(0)).astype(int) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    hom = cv2.getPerspectiveTransform(src, (px - [x0, y0]).astype(np.float32))
    mask = cv2.warpPerspective(patch, hom, (int(x1 - x0), int(y1 - y0))).astype(np.float32)[..., None] / 255.0
    region = canvas.image[y0:y1, x0:x1]
    region[:] = region * (1 - mask) + np.asarray(colour, np.float32) * mask


def wall_or_fence(canvas: Canvas, cam: Camera, rng: np.random.Generator, x: float, z0: float, z1: float) -> None:
    """A low wall, optionally topped by a railing of thin bars."""
    height = rng.uniform(0.6, 2.5)
    wall = _muted(rng, 60, 220, 0.4)
    canvas.fill3d(cam, [(x, cam.height, z0), (x, cam.height - height, z0), (x, cam.height - height, z1), (x, cam.height, z1)], wall)
    if rng.random() < 0.6:
        bar = _c(rng, (50, 50, 50), 30) if rng.random() < 0.7 else _c(rng, (200, 200, 200), 20)
        top = height + rng.uniform(0.8, 1.5)
        step = rng.uniform(0.12, 0.4)
        canvas.lines3d(cam, np.array([((x, cam.height - height, z), (x, cam.height - top, z)) for z in np.arange(z0, min(z1, 40.0), step)]),
                       bar)
        canvas.line3d(cam, (x, cam.height - top, z0), (x, cam.height - top, min(z1, 60.0)), bar, 0.05)


def tree(canvas: Canvas, cam: Camera, rng: np.random.Generator, x: float, z: float, bare: bool) -> None:
    """A street tree: trunk, then a leafy crown of blobs or bare branching twigs."""
    height = rng.uniform(4, 11)
    trunk = _c(rng, (45, 55, 65), 12)
    canvas.line3d(cam, (x, cam.height, z), (x, cam.height - height * 0.45, z), trunk, rng.uniform(0.15, 0.35), obj=1)
    top = np.array([x, cam.height - height * 0.45, z])
    if bare:
        _branches(canvas, cam, rng, top, np.array([0.0, -1.0, 0.0]), height * 0.35, 0.12, trunk, 4)
        return
    leaf = _c(rng, (50, 95, 70), 20)
    for _ in range(int(rng.integers(6, 14))):
        c = top + np.array([rng.normal(0, 1.2), -rng.uniform(0, height * 0.5), rng.normal(0, 1.2)])
        px, d = cam.project(c[None])
        if d[0] <= 0.5:
            continue
        r = cam.focal * rng.uniform(0.8, 1.8) / d[0]
        cv2.circle(canvas.image, tuple(np.round(px[0] * 16).astype(int)), max(1, int(r * 16)),
                   tuple(float(v) for v in leaf * rng.uniform(0.7, 1.3)), -1, cv2.LINE_AA, shift=4)


def _branches(canvas, cam, rng, start, direction, length, width, colour, depth):
    if depth == 0 or length < 0.2:
        return
    d = direction + rng.normal(0, 0.45, 3)
    d[1] = -abs(d[1]) - 0.2
    d /= np.linalg.norm(d)
    end = start + d * length
    canvas.line3d(cam, start, end, colour, width)
    for _ in range(int(rng.integers(2, 4))):
        _branches(canvas, cam, rng, end, d, length * rng.uniform(0.5, 0.75), width * 0.6, colour, depth - 1)


def pole(canvas: Canvas, cam: Camera, rng: np.random.Generator, x: float, z: float, side: int) -> list:
    """A lamp post (returns its lamp's world position) or a traffic-sign post with a sign."""
    colour = _c(rng, (70, 70, 72), 20)
    if rng.random() < 0.55:
        height = rng.uniform(4, 9)
        canvas.line3d(cam, (x, cam.height, z), (x, cam.height - height, z), colour, 0.12, obj=1)
        arm = np.array([x - side * rng.uniform(0.5, 1.8), cam.height - height, z])
        canvas.line3d(cam, (x, cam.height - height, z), arm, colour, 0.08)
        canvas.fill3d(cam, [arm + (-0.3, 0, -0.15), arm + (0.3, 0, -0.15), arm + (0.3, 0.15, -0.15), arm + (-0.3, 0.15, -0.15)],
                      _c(rng, (200, 200, 200), 20))
        return [arm + (0, 0.1, 0)]
    height = rng.uniform(2.0, 3.0)
    canvas.line3d(cam, (x, cam.height, z), (x, cam.height - height, z), colour, 0.06, obj=1)
    y, s = cam.height - height, rng.uniform(0.3, 0.5)
    kind = rng.random()
    if kind < 0.4:  # round sign
        px, d = cam.project(np.array([[x, y, z]]))
        if d[0] > 0.5:
            r = max(1, int(cam.focal * s / d[0] * 16))
            centre = tuple(np.round(px[0] * 16).astype(int))
            cv2.circle(canvas.image, centre, r, (40, 40, 190) if rng.random() < 0.5 else (170, 80, 20), -1, cv2.LINE_AA, shift=4)
            cv2.circle(canvas.image, centre, int(r * 0.7), (235, 235, 235), -1, cv2.LINE_AA, shift=4)
    else:  # rectangular: blue parking / white street-name plate, with text
        sw = s * rng.uniform(1.0, 3.0)
        colour = (170, 90, 20) if rng.random() < 0.5 else (235, 235, 235)
        quad = [(x - sw / 2, y - s, z), (x + sw / 2, y - s, z), (x + sw / 2, y, z), (x - sw / 2, y, z)]
        canvas.fill3d(cam, quad, colour)
        inner = [(x - sw * 0.42, y - s * 0.8, z - 0.01), (x + sw * 0.42, y - s * 0.8, z - 0.01), (x + sw * 0.42, y - s * 0.25, z - 0.01),
                 (x - sw * 0.42, y - s * 0.25, z - 0.01)]
        _text3d(canvas, cam, rng, inner, (30, 30, 30) if colour[0] > 200 else (240, 240, 240))
    return []


def bonnet(canvas: Canvas, rng: np.random.Generator) -> None:
    """The dash-cam's own bonnet and dashboard across the bottom of the frame."""
    h, w = canvas.ids.shape
    top = h * rng.uniform(0.72, 0.92)
    bulge = h * rng.uniform(0.0, 0.06)
    xs = np.linspace(0, w, 24)
    ys = top + bulge * ((xs / w - 0.5) * 2) ** 2 + rng.normal(0, 0.5, len(xs))
    body = _c(rng, [(30, 30, 32), (60, 60, 60), (120, 120, 120), (90, 60, 40)][int(rng.integers(0, 4))], 20)
    canvas.fill(np.concatenate([np.stack([xs, ys], 1), [[w, h], [0, h]]]), body, obj=1, depth=0.8)
    if rng.random() < 0.7:  # dashboard below the bonnet's edge
        dash_top = top + h * rng.uniform(0.03, 0.12)
        canvas.fill(np.array([[0, dash_top], [w, dash_top + rng.normal(0, 3)], [w, h], [0, h]]), _c(rng, (20, 20, 22), 6), obj=1, depth=0.5)
    edge = np.stack([xs, ys], 1)
    cv2.polylines(canvas.image, [np.round(edge * 16).astype(np.int32)], False, tuple(float(v) for v in body * 1.5 + 20), 2, cv2.LINE_AA, 4)
