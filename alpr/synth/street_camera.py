"""A pinhole camera over a flat street and a drawing canvas for the street scenes
(``alpr.synth.street``).

World coordinates are metres: X to the right, Y down, Z forward; the camera sits at the origin
``height`` metres above the ground (the ground is the plane Y = +height). 3-D polygons are
clipped at a near plane and filled into the canvas: colour (float32 BGR), an object-id map
(which object owns each pixel, for plate visibility after occlusion) and a depth map (for
flash fall-off at night).

Example::

    cam = Camera.random(rng, (640, 480))
    canvas = Canvas.empty((640, 480))
    canvas.fill3d(cam, [(-1, 1.4, 5), (1, 1.4, 5), (1, 0.4, 5), (-1, 0.4, 5)], (200, 200, 200), obj=3)
"""

import math
from dataclasses import dataclass

import cv2
import numpy as np

NEAR = 0.3  # metres


@dataclass
class Camera:
    """``focal`` in pixels, principal point (``cx``, ``cy``), ``height`` above the ground (m) and
    the world-to-camera rotation ``rot`` (3x3: yaw, then pitch, then roll)."""

    focal: float
    cx: float
    cy: float
    height: float
    rot: np.ndarray

    @classmethod
    def random(cls, rng: np.random.Generator, size: tuple[int, int], *, focal: tuple[float, float] = (0.55, 1.2),
               height: tuple[float, float] = (0.9, 1.7), pitch: float = 6.0, yaw: float = 12.0, roll: float = 3.0) -> "Camera":
        """A dash-cam / hand-held camera: focal ``focal`` x image width, small pitch/yaw/roll (degrees)."""
        w, h = size
        f = w * float(rng.uniform(*focal))
        return cls(f, w / 2, h / 2, float(rng.uniform(*height)),
                   rotation(float(rng.normal(0, yaw / 2)), float(rng.normal(0, pitch / 2)), float(rng.normal(0, roll / 2))))

    def to_camera(self, points: np.ndarray) -> np.ndarray:
        """World points (N, 3) in camera coordinates (N, 3)."""
        return np.asarray(points, np.float64).reshape(-1, 3) @ self.rot.T

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates (N, 2) and depth (N,) of world points; depth <= 0 is behind the camera."""
        c = self.to_camera(points)
        z = c[:, 2]
        zs = np.where(np.abs(z) < 1e-6, 1e-6, z)
        return np.stack([self.focal * c[:, 0] / zs + self.cx, self.focal * c[:, 1] / zs + self.cy], 1), z

    def horizon_y(self, x: float) -> float:
        """Image row of the horizon at image column ``x``."""
        # direction (d, 0, 1) far away: v = f * (R d)_y / (R d)_z
        far = self.project(np.array([[0.0, 0.0, 1e6], [1e5, 0.0, 1e6]]))[0]
        (x0, y0), (x1, y1) = far
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0 if abs(x1 - x0) > 1e-9 else 1e-9)

    def ground_depth(self, size: tuple[int, int]) -> np.ndarray:
        """Camera-space depth of the ground seen at every pixel (inf above the horizon)."""
        w, h = size
        inv = np.linalg.inv(self.rot)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        rays = np.stack([(xs - self.cx) / self.focal, (ys - self.cy) / self.focal, np.ones_like(xs)], -1) @ inv.T.astype(np.float32)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self.height / rays[..., 1]
        return np.where(rays[..., 1] > 1e-4, t, np.inf).astype(np.float32)  # depth along the optical axis = t


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """World-to-camera rotation for camera yaw (right +), pitch (down +) and roll, in degrees."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def clip_near(cam_pts: np.ndarray, near: float = NEAR) -> np.ndarray:
    """Sutherland-Hodgman clip of a camera-space polygon (N, 3) against z >= ``near``."""
    out = []
    n = len(cam_pts)
    for i in range(n):
        a, b = cam_pts[i], cam_pts[(i + 1) % n]
        ina, inb = a[2] >= near, b[2] >= near
        if ina:
            out.append(a)
        if ina != inb:
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.asarray(out, np.float64).reshape(-1, 3)


@dataclass
class Canvas:
    """Colour (H, W, 3) float32, object ids (H, W) uint16 (0 = background) and depth (H, W) float32."""

    image: np.ndarray
    ids: np.ndarray
    depth: np.ndarray

    @classmethod
    def empty(cls, size: tuple[int, int]) -> "Canvas":
        """A black canvas of ``size`` = (width, height), infinitely far."""
        w, h = size
        return cls(np.zeros((h, w, 3), np.float32), np.zeros((h, w), np.uint16), np.full((h, w), np.inf, np.float32))

    def fill(self, pts: np.ndarray, colour, *, obj: int = 0, depth: float | None = None) -> None:
        """Fill an image-space polygon (N, 2); ``obj`` > 0 also claims its pixels in ``ids``."""
        if len(pts) < 3:
            return
        poly = [np.round(np.asarray(pts, np.float64) * 16).astype(np.int32)]
        cv2.fillPoly(self.image, poly, tuple(float(c) for c in colour), cv2.LINE_AA, shift=4)
        if obj:
            cv2.fillPoly(self.ids, poly, int(obj), cv2.LINE_8, shift=4)
        if depth is not None:
            cv2.fillPoly(self.depth, poly, float(depth), cv2.LINE_8, shift=4)

    def fill3d(self, cam: Camera, points, colour, *, obj: int = 0) -> np.ndarray | None:
        """Fill a world polygon (N, 3), clipped at the near plane; returns its pixel polygon or None."""
        c = clip_near(cam.to_camera(points))
        if len(c) < 3:
            return None
        px = np.stack([cam.focal * c[:, 0] / c[:, 2] + cam.cx, cam.focal * c[:, 1] / c[:, 2] + cam.cy], 1)
        h, w = self.ids.shape
        if px[:, 0].max() < -w or px[:, 0].min() > 2 * w or px[:, 1].max() < -h or px[:, 1].min() > 2 * h:
            return None
        self.fill(np.clip(px, -4 * w, 5 * w), colour, obj=obj, depth=float(c[:, 2].mean()))
        return px

    def fill_many3d(self, cam: Camera, polys: np.ndarray, colours) -> None:
        """Fill many world quads (N, K, 3) at once (those wholly in front of the near plane);
        ``colours`` (N, 3) or one colour. Claims no ids (backdrop only)."""
        polys = np.asarray(polys, np.float64)
        if len(polys) == 0:
            return
        n, k = polys.shape[:2]
        c = cam.to_camera(polys.reshape(-1, 3)).reshape(n, k, 3)
        ok = (c[..., 2] >= NEAR).all(1)
        c = c[ok]
        colours = np.broadcast_to(np.asarray(colours, np.float64), (n, 3))[ok]
        px = np.stack([cam.focal * c[..., 0] / c[..., 2] + cam.cx, cam.focal * c[..., 1] / c[..., 2] + cam.cy], -1)
        h, w = self.ids.shape
        for poly, colour in zip(np.round(np.clip(px, -4 * w, 5 * w) * 16).astype(np.int32), colours):
            if poly[:, 0].max() < 0 or poly[:, 0].min() > 16 * w or poly[:, 1].max() < 0 or poly[:, 1].min() > 16 * h:
                continue
            cv2.fillPoly(self.image, [poly], tuple(float(v) for v in colour), cv2.LINE_AA, shift=4)

    def lines3d(self, cam: Camera, segments: np.ndarray, colour) -> None:
        """Thin (1 px) world line segments (N, 2, 3), those wholly in front of the near plane."""
        seg = np.asarray(segments, np.float64)
        if len(seg) == 0:
            return
        c = cam.to_camera(seg.reshape(-1, 3)).reshape(-1, 2, 3)
        c = c[(c[..., 2] >= NEAR).all(1)]
        if len(c) == 0:
            return
        px = np.stack([cam.focal * c[..., 0] / c[..., 2] + cam.cx, cam.focal * c[..., 1] / c[..., 2] + cam.cy], -1)
        h, w = self.ids.shape
        pts = list(np.round(np.clip(px, -4 * w, 5 * w) * 16).astype(np.int32))
        cv2.polylines(self.image, pts, False, tuple(float(v) for v in colour), 1, cv2.LINE_AA, shift=4)

    def line3d(self, cam: Camera, a, b, colour, width_m: float, *, obj: int = 0) -> None:
        """A world line segment drawn ``width_m`` metres thick (at its depth); ``obj`` > 0 claims its pixels."""
        c = cam.to_camera(np.array([a, b], np.float64))
        if c[0, 2] < NEAR and c[1, 2] < NEAR:
            return
        for i, j in ((0, 1), (1, 0)):
            if c[i, 2] < NEAR:
                t = (NEAR - c[i, 2]) / (c[j, 2] - c[i, 2])
                c[i] = c[i] + t * (c[j] - c[i])
        px = np.stack([cam.focal * c[:, 0] / c[:, 2] + cam.cx, cam.focal * c[:, 1] / c[:, 2] + cam.cy], 1)
        thick = max(1, int(round(cam.focal * width_m / float(c[:, 2].mean()))))
        h, w = self.ids.shape
        px = np.clip(px, -4 * w, 5 * w)
        p0, p1 = tuple(np.round(px[0] * 16).astype(int)), tuple(np.round(px[1] * 16).astype(int))
        cv2.line(self.image, p0, p1, tuple(float(v) for v in colour), thick, cv2.LINE_AA, shift=4)
        if obj:
            cv2.line(self.ids, p0, p1, int(obj), thick, cv2.LINE_8, shift=4)
