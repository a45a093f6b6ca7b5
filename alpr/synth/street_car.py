"""Cars and vans for the street scenes, drawn in 3-D through ``street_camera``: the face turned
to the camera (rear with boot, rear window and tail lights, or front with grille, headlights and
bonnet), the visible side with wheels and windows, roof, shadow, and the licence plate rendered
by ``alpr.synth.render`` and warped onto the bumper in perspective.

Car frame: metres, x to the car's right, y down (the ground at y = 0), z from the face seen by
the camera (z = 0) towards the far end of the car.
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np

from alpr.synth.render import render_plate
from alpr.synth.street_camera import Camera, Canvas

PLATE_M = (0.52, 0.11)
#: Common car body colours (BGR), weighted towards white, silver, grey and black as on real streets.
BODY = ((235, 235, 232), (240, 240, 240), (190, 190, 186), (150, 150, 150), (95, 95, 98), (28, 28, 30), (45, 45, 50),
        (140, 60, 20), (90, 40, 20), (40, 40, 170), (30, 30, 120), (50, 80, 40), (150, 185, 200), (60, 110, 160))
_BODY_P = np.array([12, 6, 12, 8, 7, 12, 5, 5, 3, 5, 4, 3, 3, 2], float)


@dataclass
class CarPlate:
    """A plate drawn on a car: its image quad (4x2, TL TR BR BL), the car's object id and the
    character quads (N x 4 x 2) in image pixels."""

    quad: np.ndarray
    obj: int
    char_quads: np.ndarray


@dataclass
class CarPose:
    """Where a car stands: face centre on the ground at (x, z), ``yaw`` degrees (0 = the car points
    straight away from the camera), ``front``: the face seen is the car's front."""

    x: float
    z: float
    yaw: float
    front: bool


def _jitter(rng, colour, spread=10.0):
    return np.clip(np.asarray(colour, float) + rng.normal(0, spread, 3), 0, 255)


def _shade(colour, k):
    return np.clip(np.asarray(colour, float) * k, 0, 255)


class _Car:
    """One car's shape and colours, drawn with ``draw``."""

    def __init__(self, rng: np.random.Generator, pose: CarPose, van: bool):
        self.rng, self.pose, self.van = rng, pose, van
        self.w = rng.uniform(1.9, 2.1) if van else rng.uniform(1.62, 1.92)
        self.h = rng.uniform(1.9, 2.6) if van else rng.uniform(1.38, 1.62)
        self.length = rng.uniform(4.4, 5.4) if van else rng.uniform(3.7, 4.9)
        self.belt = self.h * (rng.uniform(0.55, 0.7) if van else rng.uniform(0.58, 0.68))
        self.clear = rng.uniform(0.14, 0.26)
        self.body = _jitter(rng, BODY[int(rng.choice(len(BODY), p=_BODY_P / _BODY_P.sum()))], 8)
        if van:
            self.body = _jitter(rng, BODY[int(rng.choice([0, 1, 2, 3, 5]))], 6)
        self.glass = _jitter(rng, (55, 50, 45), 12) * rng.uniform(0.6, 1.3)
        c, s = math.cos(math.radians(pose.yaw)), math.sin(math.radians(pose.yaw))
        self.rot = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])

    def world(self, cam: Camera, pts) -> np.ndarray:
        p = np.asarray(pts, np.float64).reshape(-1, 3)
        return p @ self.rot.T + np.array([self.pose.x, cam.height, self.pose.z])

    def poly(self, canvas, cam, pts, colour, obj):
        return canvas.fill3d(cam, self.world(cam, pts), colour, obj=obj)

    def draw(self, canvas: Canvas, cam: Camera, obj: int, plate_style: dict) -> CarPlate | None:
        """Shadow, sides, face and (when ``plate_style`` names a country) the plate."""
        w2, L = self.w / 2, self.length
        # shadow on the ground
        g = -0.005
        self.poly(canvas, cam, [(-w2 - 0.15, g, -0.1), (w2 + 0.15, g, -0.1), (w2 + 0.15, g, L + 0.1), (-w2 - 0.15, g, L + 0.1)],
                  (14, 14, 16), 0)
        self._sides(canvas, cam, obj)
        self._face(canvas, cam, obj)
        return self._plate(canvas, cam, obj, plate_style) if plate_style.get("country") else None

    def _sides(self, canvas, cam, obj):
        rng, w2, h, L, belt = self.rng, self.w / 2, self.h, self.length, self.belt
        roof_in = 0.05 if self.van else rng.uniform(0.12, 0.22)
        top_z0, top_z1 = (0.1, L - 0.3) if self.van else (rng.uniform(0.3, 0.7), L - rng.uniform(1.0, 1.5))
        eye = np.linalg.inv(cam.rot) @ np.zeros(3)  # camera centre in world = origin
        for side in (-1, 1):
            # which side faces the camera: normal (side, 0, 0) in car frame
            normal = self.rot @ np.array([side, 0.0, 0.0])
            centre = self.world(cam, [(side * w2, -h / 2, L / 2)])[0]
            if float(normal @ (eye - centre)) <= 0:
                continue
            x = side * w2
            body = _shade(self.body, rng.uniform(0.65, 0.9))
            self.poly(canvas, cam, [(x, -self.clear, 0), (x, -belt, 0.05), (x, -belt, L - 0.05), (x, -self.clear, L)], body, obj)
            xi = side * (w2 - roof_in)
            self.poly(canvas, cam, [(x, -belt, 0.05), (xi, -h, top_z0), (xi, -h, top_z1), (x, -belt, L - 0.05)], body, obj)
            self.poly(canvas, cam, [(x, -belt - 0.05, top_z0 + 0.1), (xi, -h + 0.06, top_z0 + 0.15), (xi, -h + 0.06, top_z1 - 0.1),
                                    (x, -belt - 0.05, top_z1 + 0.25)], self.glass * rng.uniform(0.8, 1.2), obj)
            tyre = (20, 20, 22)
            for zc in (0.75, L - 0.85):
                pts = [(x + side * 0.01, -0.31 - 0.31 * math.sin(a), zc + 0.31 * math.cos(a)) for a in np.linspace(0, 2 * math.pi, 14)]
                self.poly(canvas, cam, pts, tyre, obj)
                pts = [(x + side * 0.02, -0.31 - 0.17 * math.sin(a), zc + 0.17 * math.cos(a)) for a in np.linspace(0, 2 * math.pi, 10)]
                self.poly(canvas, cam, pts, _jitter(rng, (150, 150, 150), 30), obj)
        # roof, seen from above when the camera is higher than the car
        if cam.height > h:
            self.poly(canvas, cam, [(-w2 + roof_in, -h, top_z0), (w2 - roof_in, -h, top_z0), (w2 - roof_in, -h, top_z1),
                                    (-w2 + roof_in, -h, top_z1)], _shade(self.body, 1.05), obj)

    def _face(self, canvas, cam, obj):
        rng, w2, h, belt, clear = self.rng, self.w / 2, self.h, self.belt, self.clear
        front = self.pose.front
        r = 0.12
        lower = [(-w2, -clear - r, 0), (-w2 + r, -clear, 0), (w2 - r, -clear, 0), (w2, -clear - r, 0), (w2, -belt, 0), (-w2, -belt, 0)]
        roof_in = 0.05 if self.van else rng.uniform(0.12, 0.22)
        tilt = 0.05 if self.van else rng.uniform(0.2, 0.6) * (1.4 if front else 1.0)
        upper = [(-w2, -belt, 0), (w2, -belt, 0), (w2 - roof_in, -h, tilt), (-w2 + roof_in, -h, tilt)]
        # tyres peeking out under the face
        for side in (-1, 1):
            self.poly(canvas, cam, [(side * (w2 - 0.05), 0, 0.5), (side * (w2 - 0.3), 0, 0.5), (side * (w2 - 0.3), -0.4, 0.5),
                                    (side * (w2 - 0.05), -0.4, 0.5)], (18, 18, 20), obj)
        self.poly(canvas, cam, lower, self.body, obj)
        self.poly(canvas, cam, upper, _shade(self.body, rng.uniform(0.9, 1.1)), obj)
        gi = 0.08
        if self.van and not front:
            if rng.random() < 0.6:  # two rear windows of the doors
                for side in (-1, 1):
                    self.poly(canvas, cam, [(side * 0.05, -h + 0.15, 0.02), (side * (w2 - gi), -h + 0.15, 0.02),
                                            (side * (w2 - gi), -belt - 0.1, 0.02), (side * 0.05, -belt - 0.1, 0.02)], self.glass, obj)
            canvas.line3d(cam, self.world(cam, [(0, -clear, -0.01)])[0], self.world(cam, [(0, -h + 0.05, -0.01)])[0], (30, 30, 30), 0.015)
        else:
            win = [(-w2 + gi, -belt - 0.06, 0.02), (w2 - gi, -belt - 0.06, 0.02), (w2 - roof_in - gi * 0.7, -h + 0.08, tilt - 0.02),
                   (-w2 + roof_in + gi * 0.7, -h + 0.08, tilt - 0.02)]
            self.poly(canvas, cam, win, self.glass * rng.uniform(0.7, 1.4), obj)
        # bumper band (often black plastic), lights
        bump_top = rng.uniform(0.45, 0.6)
        bumper = _jitter(rng, (30, 30, 32), 6) if rng.random() < 0.45 else _shade(self.body, rng.uniform(0.8, 1.0))
        self.poly(canvas, cam, [(-w2, -clear - 0.02, -0.03), (w2, -clear - 0.02, -0.03), (w2, -bump_top, -0.03), (-w2, -bump_top, -0.03)],
                  bumper, obj)
        if front:
            grille_y = (rng.uniform(0.55, 0.65), belt - rng.uniform(0.02, 0.12))
            gw = w2 * rng.uniform(0.35, 0.7)
            if grille_y[1] > grille_y[0] + 0.05:
                self.poly(canvas, cam, [(-gw, -grille_y[0], -0.02), (gw, -grille_y[0], -0.02), (gw, -grille_y[1], -0.02),
                                        (-gw, -grille_y[1], -0.02)], _jitter(rng, (28, 28, 30), 8), obj)
            lamp, ly = _jitter(rng, (215, 218, 222), 15), belt - rng.uniform(0.05, 0.18)
        else:
            lamp, ly = _jitter(rng, (30, 30, 175), 20), belt - rng.uniform(-0.05, 0.15)
        lw, lh = rng.uniform(0.25, 0.45), rng.uniform(0.08, 0.18)
        for side in (-1, 1):
            x0 = side * (w2 - 0.03)
            x1 = side * (w2 - 0.03 - lw)
            self.poly(canvas, cam, [(x0, -ly + lh / 2, -0.035), (x1, -ly + lh / 3, -0.035), (x1, -ly - lh / 2, -0.035),
                                    (x0, -ly - lh / 2, -0.035)], lamp, obj)
        self.lamps = (lw, lh, ly)
        if self.van and rng.random() < 0.4:  # lettering on the van's doors (no plate layout)
            self._lettering(canvas, cam, w2, belt, h)

    def _lettering(self, canvas, cam, w2, belt, h):
        rng = self.rng
        y = -rng.uniform(belt + 0.1, h - 0.2)
        th = rng.uniform(0.06, 0.15)
        pts = self.world(cam, [(-w2 * 0.8, y - th, -0.04), (w2 * 0.8, y - th, -0.04), (w2 * 0.8, y, -0.04), (-w2 * 0.8, y, -0.04)])
        px, z = cam.project(pts)
        if (z <= 0.5).any():
            return
        colour = _jitter(rng, (40, 40, 40) if self.body.mean() > 120 else (230, 230, 230), 20)
        x0, y0 = px.min(0)
        x1, y1 = px.max(0)
        n = int(rng.integers(4, 12))
        cw = (x1 - x0) / n
        for k in range(n):
            if rng.random() < 0.2:
                continue
            cx = x0 + (k + 0.15) * cw
            canvas.fill(np.array([(cx, y0), (cx + cw * rng.uniform(0.4, 0.75), y0), (cx + cw * rng.uniform(0.4, 0.75), y1), (cx, y1)]),
                        colour)

    def _plate(self, canvas, cam, obj, plate_style):
        rng, w2 = self.rng, self.w / 2
        front = self.pose.front
        yc = -(rng.uniform(0.32, 0.55) if front else rng.uniform(0.45, 0.95) if not self.van else rng.uniform(0.4, 0.6))
        xc = rng.normal(0, 0.03) if rng.random() < 0.9 else rng.uniform(-w2 + 0.4, w2 - 0.4)
        pw, ph = PLATE_M
        z = -0.045
        if rng.random() < 0.65:  # dark plate holder / recess
            m = rng.uniform(0.01, 0.04)
            self.poly(canvas, cam, [(xc - pw / 2 - m, yc - ph / 2 - m, z + 0.004), (xc + pw / 2 + m, yc - ph / 2 - m, z + 0.004),
                                    (xc + pw / 2 + m, yc + ph / 2 + m * 2, z + 0.004), (xc - pw / 2 - m, yc + ph / 2 + m * 2, z + 0.004)],
                      _jitter(rng, (25, 25, 28), 8), obj)
        corners = self.world(cam, [(xc - pw / 2, yc - ph / 2, z), (xc + pw / 2, yc - ph / 2, z), (xc + pw / 2, yc + ph / 2, z),
                                   (xc - pw / 2, yc + ph / 2, z)])
        quad, depth = cam.project(corners)
        if (depth <= 0.5).any():
            return None
        size = float(np.linalg.norm(quad[1] - quad[0]))
        if size < 2:
            return None
        height_px = int(np.clip(size / 4.7 * 1.3, 16, 96))
        plate = render_plate(country=plate_style["country"], rng=rng, height_px=height_px, style=plate_style.get("style"))
        image = plate.image
        if plate_style.get("anonymise", False) and len(plate.boxes) >= 3:
            image = image.copy()
            _grey_box(image, plate.boxes, rng)
        ph_px, pw_px = image.shape[:2]
        src = np.array([[-0.5, -0.5], [pw_px - 0.5, -0.5], [pw_px - 0.5, ph_px - 0.5], [-0.5, ph_px - 0.5]], np.float32)
        _paste(canvas, image, src, quad.astype(np.float32), obj, float(depth.mean()))
        hom = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
        b = plate.boxes.astype(np.float32)
        cq = np.stack([b[:, :2], b[:, :2] + b[:, 2:] * [1, 0], b[:, :2] + b[:, 2:], b[:, :2] + b[:, 2:] * [0, 1]], 1)
        cq = cv2.perspectiveTransform(cq.reshape(-1, 1, 2), hom).reshape(-1, 4, 2)
        return CarPlate(quad.astype(np.float32), obj, cq)


def _grey_box(image, boxes, rng):
    """Cover 1-3 consecutive characters with a flat grey box (the UC3M-LP anonymisation)."""
    n = len(boxes)
    k = int(rng.integers(1, min(3, n - 1) + 1))
    i = int(rng.integers(0, n - k + 1))
    x0, y0 = boxes[i:i + k, 0].min(), boxes[i:i + k, 1].min()
    x1, y1 = (boxes[i:i + k, 0] + boxes[i:i + k, 2]).max(), (boxes[i:i + k, 1] + boxes[i:i + k, 3]).max()
    grow = (y1 - y0) * rng.uniform(0.0, 0.2)
    grey = float(rng.uniform(100, 200))
    cv2.rectangle(image, (int(x0 - grow / 2), int(y0 - grow)), (int(x1 + grow / 2), int(y1 + grow)), (grey, grey, grey), -1)


def _paste(canvas: Canvas, image: np.ndarray, src: np.ndarray, quad: np.ndarray, obj: int, depth: float) -> None:
    """Warp ``image`` onto ``quad`` inside the canvas, only over the quad's bounding box."""
    H, W = canvas.ids.shape
    x0, y0 = np.floor(quad.min(0)).astype(int) - 1
    x1, y1 = np.ceil(quad.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
    if x1 <= x0 or y1 <= y0:
        return
    local = quad - np.array([x0, y0], np.float32)
    hom = cv2.getPerspectiveTransform(src, local)
    shrink = image.shape[1] / max(1.0, float(np.linalg.norm(quad[1] - quad[0])))
    if shrink > 1.5:
        image = cv2.GaussianBlur(image, (0, 0), 0.45 * shrink)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(image, hom, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    mask = cv2.warpPerspective(np.ones(image.shape[:2], np.float32), hom, size, flags=cv2.INTER_LINEAR)[..., None]
    region = canvas.image[y0:y1, x0:x1]
    region *= 1 - mask
    region += warped * mask
    canvas.ids[y0:y1, x0:x1][mask[..., 0] > 0.5] = obj
    canvas.depth[y0:y1, x0:x1][mask[..., 0] > 0.5] = depth


def draw_car(canvas: Canvas, cam: Camera, rng: np.random.Generator, pose: CarPose, obj: int, plate_style: dict, *,
             van: bool = False) -> tuple[CarPlate | None, tuple]:
    """Draw one car (or van) at ``pose`` claiming pixels as ``obj``; ``plate_style`` gives the
    plate's ``country``, optional render ``style`` and ``anonymise``. Returns the plate (None
    when behind the camera or absent) and the car's lamps as world points with their size (m),
    for night lighting."""
    car = _Car(rng, pose, van)
    plate = car.draw(canvas, cam, obj, plate_style)
    lw, lh, ly = car.lamps
    lamps = [car.world(cam, [(side * (car.w / 2 - 0.03 - lw / 2), -ly, -0.05)])[0] for side in (-1, 1)]
    return plate, (lamps, lw, lh, pose.front)

