"""Photo-like scenes: a rendered plate put in perspective on a procedural car/street background,
with exact plate and character quadrilaterals (detector and pipeline training/tests).

Example::

    from alpr.synth.scene import render_scene
    s = render_scene("es", seed=3)
    s.image.shape, s.quad, s.rendered.plate.formatted   # (480, 640, 3), 4x2 float32 TL TR BR BL
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np

from alpr.synth import background, photometric
from alpr.synth.render import RenderedPlate, render_plate


@dataclass
class Scene:
    """A scene photo. ``quad`` (4x2, TL TR BR BL) and ``char_quads`` (N x 4 x 2) are in scene
    pixels; ``homography`` maps ``rendered.image`` pixel coordinates to scene pixel coordinates."""

    image: np.ndarray
    quad: np.ndarray
    homography: np.ndarray
    char_quads: np.ndarray
    rendered: RenderedPlate


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def _project_quad(width: float, aspect: float, yaw: float, pitch: float, roll: float, focal: float) -> np.ndarray:
    """Corners (TL TR BR BL) of a ``width``-pixel plate seen under the given angles, centred at 0."""
    h = width / aspect
    corners = np.array([[-width / 2, -h / 2, 0], [width / 2, -h / 2, 0], [width / 2, h / 2, 0], [-width / 2, h / 2, 0]])
    cam = corners @ _rotation(yaw, pitch, roll).T + np.array([0, 0, focal])
    return (focal * cam[:, :2] / cam[:, 2:3]).astype(np.float64)


def corners_px(w: int, h: int) -> np.ndarray:
    """Outer corners (TL TR BR BL) of a ``w`` x ``h`` image in pixel-centre coordinates."""
    return np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]], np.float32)


def box_quads(boxes: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """Map (x, y, w, h) pixel boxes of the plate image through ``homography`` (N x 4 x 2)."""
    if len(boxes) == 0:
        return np.zeros((0, 4, 2), np.float32)
    x, y, w, h = (boxes[:, i].astype(np.float32) for i in range(4))
    pts = np.stack([np.stack([x - 0.5, y - 0.5], 1), np.stack([x + w - 0.5, y - 0.5], 1),
                    np.stack([x + w - 0.5, y + h - 0.5], 1), np.stack([x - 0.5, y + h - 0.5], 1)], 1)
    return cv2.perspectiveTransform(pts.reshape(-1, 1, 2), homography).reshape(-1, 4, 2).astype(np.float32)


def _holder(img: np.ndarray, rng: np.random.Generator, pw: int, ph: int, homography: np.ndarray, size) -> np.ndarray:
    """A dark plate holder behind the plate, often with small dealer lettering below it."""
    m = max(2, int(ph * rng.uniform(0.03, 0.1)))
    strip = int(ph * rng.uniform(0.12, 0.25)) if rng.random() < 0.6 else 0
    colour = rng.uniform(10, 70) + rng.normal(0, 5, 3)
    holder = np.empty((ph + 2 * m + strip, pw + 2 * m, 3), np.uint8)
    holder[:] = np.clip(colour, 0, 255)
    if strip:
        text = background.random_words(rng, int(rng.integers(8, 22)))
        scale = strip / 32.0
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        x = max(0, (holder.shape[1] - tw) // 2)
        cv2.putText(holder, text, (x, ph + 2 * m + int(strip * 0.6)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    tuple(float(v) for v in rng.uniform(150, 240, 3)), max(1, int(strip / 14)), cv2.LINE_AA)
    shift = np.array([[1, 0, -m], [0, 1, -m], [0, 0, 1]], np.float64)
    hom = homography @ shift
    warped = cv2.warpPerspective(holder, hom, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective(np.ones(holder.shape[:2], np.float32), hom, size, flags=cv2.INTER_LINEAR)[..., None]
    return img * (1 - alpha) + warped.astype(np.float32) * alpha


def render_scene(
    country: str = "de",
    *,
    rng: np.random.Generator | None = None,
    seed: int | None = None,
    size: tuple[int, int] = (640, 480),
    plate: RenderedPlate | None = None,
    plate_width: tuple[float, float] | float | None = None,
    max_angle: float = 30.0,
    easy: bool = False,
    style: dict | None = None,
) -> Scene:
    """A ``size`` = (width, height) BGR photo with one plate of ``country`` (or ``plate``).

    ``plate_width`` is the plate's width in pixels (a number or a (min, max) range; default from
    60 px to 90 % of the frame, log-uniform). Yaw/pitch up to ``max_angle`` degrees (pitch and
    roll smaller). ``easy`` limits angles, blur and noise (clear sample photos). ``style`` is
    passed to ``render_plate`` when ``plate`` is None. Deterministic given ``seed``/``rng``.
    """
    if rng is None:
        rng = np.random.default_rng(seed)
    W, H = size
    if plate_width is None:
        plate_width = (120.0, 0.6 * W) if easy else (60.0, 0.9 * W)
    if np.isscalar(plate_width):
        target_w = float(plate_width)
    else:
        lo, hi = plate_width
        target_w = float(math.exp(rng.uniform(math.log(lo), math.log(hi))))
    if plate is None:
        # render at roughly the final resolution (never much smaller), so text stays crisp
        height_px = int(np.clip(target_w / 520 * 110 * rng.uniform(1.0, 1.6), 16, 200))
        plate = render_plate(country=country, rng=rng, height_px=height_px, style=style)
    ph, pw = plate.image.shape[:2]
    angle = max_angle * (0.4 if easy else 1.0)
    yaw = rng.uniform(-angle, angle)
    pitch = rng.uniform(-angle, angle) * 0.6
    roll = rng.normal(0, 2.5 if easy else 5.0)
    focal = W * rng.uniform(0.8, 3.0)
    quad = _project_quad(target_w, pw / ph, yaw, pitch, roll, focal)
    # fit into the frame with a margin, then place randomly
    span = quad.max(0) - quad.min(0)
    margin = 4.0
    limit = np.array([W, H], float) - 2 * margin
    if np.any(span > limit):
        quad *= float(np.min(limit / span))
        span = quad.max(0) - quad.min(0)
    lo_xy = margin - quad.min(0)
    hi_xy = np.array([W, H], float) - margin - quad.max(0)
    quad = (quad + rng.uniform(lo_xy, np.maximum(lo_xy, hi_xy))).astype(np.float32)
    src = corners_px(pw, ph)
    homography = cv2.getPerspectiveTransform(src, quad)
    centre = quad.mean(0)
    img = background.background(rng, size, (float(centre[0]), float(centre[1])), float(span[0])).astype(np.float32)
    if rng.random() < 0.7:
        img = _holder(img, rng, pw, ph, homography, size)
    source = plate.image
    shrink = pw / max(1.0, float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2)
    if shrink > 1.5:  # warping is bilinear: pre-filter strong downscales against aliasing
        source = cv2.GaussianBlur(source, (0, 0), 0.45 * shrink)
    warped = cv2.warpPerspective(source, homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    mask = cv2.warpPerspective(np.ones((ph, pw), np.float32), homography, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    img = img * (1 - mask[..., None]) + warped.astype(np.float32) * mask[..., None]
    image = photometric.degrade(img, rng, mask, easy=easy)
    return Scene(image, quad, homography.astype(np.float64), box_quads(plate.boxes, homography), plate)


def render_close_up(
    country: str = "de",
    *,
    seed: int | None = None,
    plate_width: tuple[float, float] = (250.0, 560.0),
    side_margin: tuple[float, float] = (0.0, 0.25),
    top_margin: tuple[float, float] = (0.05, 0.9),
) -> Scene:
    """A plate close-up: a 640x480 ``render_scene`` (angles up to 15 degrees) cut around its plate,
    as a plate cut loosely out of a photo. Each side's margin is drawn from ``side_margin`` (a
    share of the plate's width), the top's and bottom's from ``top_margin`` (of its height); the
    cut stops at the photo's edges. Quads are in the close-up's pixels. Deterministic given ``seed``."""
    rng = np.random.default_rng(seed)
    scene = render_scene(country, rng=rng, size=(640, 480), plate_width=plate_width, max_angle=15.0)
    H, W = scene.image.shape[:2]
    (x0, y0), (x1, y1) = scene.quad.min(0), scene.quad.max(0)
    left, right = rng.uniform(*side_margin, 2) * (x1 - x0)
    top, bottom = rng.uniform(*top_margin, 2) * (y1 - y0)
    a, b = int(max(0, x0 - left)), int(min(W, x1 + right))
    c, d = int(max(0, y0 - top)), int(min(H, y1 + bottom))
    shift = np.array([a, c], np.float32)
    homography = np.array([[1, 0, -a], [0, 1, -c], [0, 0, 1]], np.float64) @ scene.homography
    return Scene(scene.image[c:d, a:b].copy(), scene.quad - shift, homography, scene.char_quads - shift,
                 scene.rendered)
