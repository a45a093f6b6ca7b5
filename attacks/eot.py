"""Expectation over transformation (EOT) for the physical sticker attack: seeded random
print-and-capture transformations written as differentiable TensorFlow ops.

Everything happens in a *window* of the rectified plate around the attacked character, at the
rectifier's own resolution (``alpr.detect.rectify`` makes plates 110 px high: 1 px per plate mm).
One training sample is::

    sticker (grey, mm grid) ─ printer response (ink black, paper white, gamma, colour tint)
      ─ placement on the plate (misplacement shift / rotation / print scale, bilinear)
      ─ alpha composite on the clean window (BGR) ─ brightness / contrast / gamma / colour cast
      ─ BGR→grey ─ capture: camera sampling at the photo's px/mm (scale × perspective
        foreshortening × rotation, anti-alias pre-filter) ─ defocus + motion blur ─ sensor noise
      ─ JPEG-like 8×8 DCT quantisation ─ back to the rectified grid with the rectifier's corner
        error ─ the pipeline's own crop (segmenter box ± jitter) and 32×24 resize / padding.

:func:`sample` draws every random parameter with NumPy from a seeded generator (same seed → same
sample); :func:`apply` is pure TensorFlow and differentiable with respect to the sticker.
:data:`TRAIN` holds the ranges used while optimising; :data:`HELD_OUT` has wider ranges and extra
families (cast shadows, glare, stronger JPEG) used only by the simulated capture test.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from attacks.image_ops import bilinear, crop_inputs, gaussian_blur, grid as _grid, jpeg_like, per_sample_conv

#: Capture resolution (photo px per plate mm) at scale 1: a 260 px wide plate.
PHOTO_PX_PER_MM = 0.5
#: Side of the square photo-space grid the capture is simulated on (px, multiple of 8).
PHOTO_GRID = 80
#: Families of transformations, in the order they are applied.
FAMILIES = ("misplacement", "printer", "lighting", "colour_cast", "perspective", "scale", "rotation",
            "defocus", "motion_blur", "noise", "jpeg", "shadow", "glare")


@dataclass(frozen=True)
class Ranges:
    """Ranges of the random transformations (± values are symmetric around the identity)."""

    perspective_deg: float = 30.0  # yaw; pitch gets 2/3 of it
    scale: tuple = (0.6, 1.4)  # photo resolution relative to PHOTO_PX_PER_MM
    rotation_deg: float = 10.0
    shift_mm: float = 3.0  # sticker misplacement
    sticker_rot_deg: float = 3.0
    brightness: float = 0.15
    contrast: float = 0.25
    gamma: tuple = (0.75, 1.35)
    cast: float = 0.08  # per-channel gain
    ink_black: tuple = (0.03, 0.15)  # printer: darkest printable grey
    paper_white: tuple = (0.85, 1.0)
    print_gamma: tuple = (0.8, 1.25)
    tint: float = 0.04
    defocus_px: tuple = (0.0, 1.0)  # Gaussian sigma in photo px
    motion_px: tuple = (0.0, 2.5)  # motion blur length in photo px
    noise: tuple = (0.0, 0.03)
    jpeg_quality: tuple = (40.0, 95.0)
    rect_error_px: float = 1.5  # rectifier corner error (rectified px)
    box_jitter: float = 0.04  # segmenter box sides, fraction of the box height
    shadow: float = 0.0  # depth of a cast shadow edge (held-out family)
    glare: float = 0.0  # strength of a specular highlight (held-out family)


TRAIN = Ranges()
HELD_OUT = Ranges(perspective_deg=40.0, scale=(0.5, 1.6), rotation_deg=15.0, shift_mm=4.0, sticker_rot_deg=5.0,
                  brightness=0.25, contrast=0.35, gamma=(0.6, 1.6), cast=0.15, ink_black=(0.02, 0.25),
                  paper_white=(0.8, 1.0), print_gamma=(0.7, 1.4), tint=0.08, defocus_px=(0.0, 1.4),
                  motion_px=(0.0, 4.0), noise=(0.0, 0.05), jpeg_quality=(25.0, 95.0), rect_error_px=2.5,
                  box_jitter=0.06, shadow=0.5, glare=0.4)
"""Wider than :data:`TRAIN` everywhere, plus shadow and glare, which training never sees."""


def widened(ranges: Ranges, factor: float) -> Ranges:
    """``ranges`` with every ± half-width multiplied by ``factor`` (for ablations)."""
    keys = ("perspective_deg", "rotation_deg", "shift_mm", "sticker_rot_deg", "brightness", "contrast", "cast", "tint",
            "rect_error_px", "box_jitter")
    return replace(ranges, **{k: getattr(ranges, k) * factor for k in keys})


def _jpeg_table(quality: np.ndarray) -> np.ndarray:
    """IJG luminance quantisation tables (0-255 units) for ``quality`` (B,) → (B, 8, 8)."""
    base = np.array([16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
                     14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
                     49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.float32).reshape(8, 8)
    q = np.clip(quality, 1, 100)
    s = np.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q)
    return np.clip(np.floor((base[None] * s[:, None, None] + 50) / 100), 1, 255).astype(np.float32)


def _kernels(defocus, motion, angle, size: int = 9) -> np.ndarray:
    """Per-sample blur kernels (B, size, size): a Gaussian of sigma ``defocus`` convolved with a
    line of length ``motion`` at ``angle``."""
    r = np.arange(size, dtype=np.float32) - size // 2
    yy, xx = np.meshgrid(r, r, indexing="ij")
    out = np.empty((len(defocus), size, size), np.float32)
    for i, (s, m, a) in enumerate(zip(defocus, motion, angle)):
        # distance to a segment of length m through the centre, blurred by max(s, 0.35) px
        t = np.clip(xx * np.cos(a) + yy * np.sin(a), -m / 2, m / 2)
        d2 = (xx - t * np.cos(a)) ** 2 + (yy - t * np.sin(a)) ** 2
        k = np.exp(-d2 / (2 * max(s, 0.35) ** 2))
        out[i] = k / k.sum()
    return out


def sample(ranges: Ranges, n: int, rng: np.random.Generator, *, window_hw: tuple[int, int]) -> dict:
    """Draw ``n`` transformations from ``ranges`` (NumPy arrays, deterministic given ``rng``).

    ``window_hw`` is the (height, width) of the rectified window (1 px per mm) the transforms act
    on. The result feeds :func:`apply` and holds only arrays.
    """
    u = rng.uniform
    rad = np.pi / 180.0
    yaw = u(-ranges.perspective_deg, ranges.perspective_deg, n) * rad
    pitch = u(-1, 1, n) * ranges.perspective_deg * (2 / 3) * rad
    scale = np.exp(u(np.log(ranges.scale[0]), np.log(ranges.scale[1]), n))
    rot = u(-ranges.rotation_deg, ranges.rotation_deg, n) * rad
    r = PHOTO_PX_PER_MM * scale
    # photo px -> rectified px (2x2 linear part): rotate, then undo the anisotropic sampling
    cos, sin = np.cos(rot), np.sin(rot)
    lin = np.stack([np.stack([cos / (r * np.cos(yaw)), sin / (r * np.cos(yaw))], -1),
                    np.stack([-sin / (r * np.cos(pitch)), cos / (r * np.cos(pitch))], -1)], 1)  # (n, 2, 2)
    defocus = u(*ranges.defocus_px, n)
    motion = u(*ranges.motion_px, n)
    hw = np.array(window_hw, np.float32)
    st_rot = u(-ranges.sticker_rot_deg, ranges.sticker_rot_deg, n) * rad
    return {
        "ink": np.stack([u(*ranges.ink_black, n), u(*ranges.paper_white, n), u(*ranges.print_gamma, n)], 1).astype(np.float32),
        "tint": (1 + u(-ranges.tint, ranges.tint, (n, 3))).astype(np.float32),
        "place": np.concatenate([u(-ranges.shift_mm, ranges.shift_mm, (n, 2)), np.stack([np.cos(st_rot), np.sin(st_rot)], 1),
                                 1 + u(-0.02, 0.02, (n, 1))], 1).astype(np.float32),
        "light": np.stack([u(-ranges.brightness, ranges.brightness, n), 1 + u(-ranges.contrast, ranges.contrast, n),
                           np.exp(u(np.log(ranges.gamma[0]), np.log(ranges.gamma[1]), n))], 1).astype(np.float32),
        "cast": (1 + u(-ranges.cast, ranges.cast, (n, 3))).astype(np.float32),
        "shadow": np.concatenate([u(0, ranges.shadow, (n, 1)), u(0, 2 * np.pi, (n, 1)), u(-0.3, 0.3, (n, 1))], 1).astype(np.float32),
        "glare": np.concatenate([u(0, ranges.glare, (n, 1)), u(0.2, 0.8, (n, 2)) * hw[::-1], u(5, 20, (n, 1))], 1).astype(np.float32),
        "capture": lin.astype(np.float32),
        "prefilter": (0.5 * np.maximum(0, 1 / r - 1)).astype(np.float32),  # anti-alias, rectified px
        "kernel": _kernels(defocus, motion, u(0, np.pi, n)),
        "noise": (rng.standard_normal((n, PHOTO_GRID, PHOTO_GRID)) * u(*ranges.noise, (n, 1, 1))).astype(np.float32),
        "jpeg": _jpeg_table(u(*ranges.jpeg_quality, n)) / 255.0,
        "rect_error": u(-ranges.rect_error_px, ranges.rect_error_px, (n, 2)).astype(np.float32),
        "box_jitter": u(-ranges.box_jitter, ranges.box_jitter, (n, 4)).astype(np.float32),
    }


# --------------------------------------------------------------------------- TensorFlow ops


def print_sticker(grey, ink, tint):
    """Printer response: sticker grey (H, W) in [0, 1] → printed BGR (B, H, W, 3) per sample."""
    import tensorflow as tf

    black, white, gamma = (ink[:, i, None, None] for i in range(3))
    level = black + (white - black) * tf.pow(tf.clip_by_value(grey, 1e-4, 1.0)[None], gamma)
    return level[..., None] * tint[:, None, None, :]


def apply(params: dict, sticker, mask, windows, anchor, sticker_origin, boxes, input_hw=(32, 24)):
    """Composite the sticker on clean windows, capture them and cut the CNN inputs.

    Args:
        params: from :func:`sample` (arrays or tensors).
        sticker: (Hs, Ws) grey sticker in [0, 1] (a tensor: gradients flow to it).
        mask: (Hs, Ws) material in [0, 1] (1: sticker there).
        windows: (B, Hw, Ww, 3) clean BGR windows in [0, 1], 1 px per mm.
        anchor: (B, 2) window position (x, y) of the sticker anchor (the character box centre).
        sticker_origin: (2,) sticker pixel (x, y) that goes on the anchor.
        boxes: (B, 4) crop boxes (x, y, w, h) in window px (the segmenter's box with the sticker).
        input_hw: model input size.

    Returns:
        (B, 32, 24, 1) model inputs in [0, 1].
    """
    import tensorflow as tf

    p = {k: tf.convert_to_tensor(v, tf.float32) for k, v in params.items()}
    windows = tf.convert_to_tensor(windows, tf.float32)
    hw = tf.shape(windows)[1:3]
    grid = _grid(hw[0], hw[1])[None]  # (1, Hw, Ww, 2)
    # placement: window px -> sticker px (inverse rotation / scale about the shifted anchor)
    pl = p["place"]
    rel = grid - (tf.convert_to_tensor(anchor, tf.float32) + pl[:, :2])[:, None, None, :]
    c, s, k = pl[:, 2, None, None], pl[:, 3, None, None], pl[:, 4, None, None]
    sx = (c * rel[..., 0] + s * rel[..., 1]) / k + sticker_origin[0]
    sy = (-s * rel[..., 0] + c * rel[..., 1]) / k + sticker_origin[1]
    inside = tf.cast((sx > -0.5) & (sy > -0.5) & (sx < tf.cast(tf.shape(mask)[1], tf.float32) - 0.5)
                     & (sy < tf.cast(tf.shape(mask)[0], tf.float32) - 0.5), tf.float32)[..., None]
    coords = tf.stack([sx, sy], -1)
    printed = print_sticker(sticker, p["ink"], p["tint"])
    n = tf.shape(windows)[0]
    alpha = bilinear(tf.tile(tf.convert_to_tensor(mask, tf.float32)[None, ..., None], [n, 1, 1, 1]), coords) * inside
    x = windows * (1 - alpha) + bilinear(printed, coords) * alpha
    # lighting, colour cast, held-out shadow and glare, then grey
    b, con, gam = p["light"][:, 0], p["light"][:, 1], p["light"][:, 2]
    x = x * p["cast"][:, None, None, :]
    sh = p["shadow"]
    proj = (tf.cos(sh[:, 1])[:, None, None] * (grid[..., 0] / tf.cast(hw[1], tf.float32) - 0.5)
            + tf.sin(sh[:, 1])[:, None, None] * (grid[..., 1] / tf.cast(hw[0], tf.float32) - 0.5) - sh[:, 2, None, None])
    x = x * (1 - sh[:, 0, None, None, None] * tf.sigmoid(proj * 40.0)[..., None])
    gl = p["glare"]
    d2 = tf.reduce_sum((grid - gl[:, None, None, 1:3]) ** 2, -1)
    x = x + gl[:, 0, None, None, None] * tf.exp(-d2 / (2 * gl[:, 3, None, None] ** 2))[..., None]
    grey = tf.reduce_sum(x * tf.constant([0.114, 0.587, 0.299]), -1, keepdims=True)
    grey = tf.clip_by_value((grey - 0.5) * con[:, None, None, None] + 0.5 + b[:, None, None, None], 1e-4, 1.0)
    grey = tf.pow(grey, gam[:, None, None, None])
    # capture: anti-alias, sample the photo grid, blur, noise, JPEG
    grey = gaussian_blur(grey, p["prefilter"])
    centre = tf.cast(tf.stack([hw[1], hw[0]]), tf.float32) / 2
    pg = _grid(PHOTO_GRID, PHOTO_GRID) - PHOTO_GRID / 2  # photo px around the window centre
    lin = p["capture"]
    src = tf.einsum("bij,hwj->bhwi", lin, pg) + centre
    photo = bilinear(grey, src)
    photo = per_sample_conv(photo, p["kernel"])
    photo = photo + p["noise"][..., None]
    photo = jpeg_like(tf.clip_by_value(photo, 0.0, 1.0), p["jpeg"])
    # rectification back to the window grid (inverse capture + corner error)
    inv = tf.linalg.inv(lin)
    back = tf.einsum("bij,bhwj->bhwi", inv, grid - centre + p["rect_error"][:, None, None, :]) + PHOTO_GRID / 2
    rect = bilinear(photo, back)
    return crop_inputs(rect, boxes, p["box_jitter"], input_hw)
