"""Procedural photo backgrounds for scenes: sky, road, a car front/rear around the plate (body
colour, grille stripes, lights, bumper) and clutter (distractor text, signs, edges)."""

import cv2
import numpy as np

# Common car body colours (BGR): white, silver, grey, black, blue, red, dark green, beige.
CAR_COLOURS = ((235, 235, 235), (190, 190, 185), (120, 120, 120), (30, 30, 32), (140, 60, 20), (40, 40, 170), (50, 80, 40), (150, 185, 200))
_TEXT_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)


def _colour(rng, base=None, spread=25):
    """A random colour near ``base`` (random, but mostly muted, when ``base`` is None)."""
    if base is None:
        grey = rng.uniform(20, 235)
        base = grey + (rng.integers(0, 256, 3) - grey) * rng.uniform(0, 0.6)
    base = np.asarray(base, float)
    return tuple(int(v) for v in np.clip(base + rng.normal(0, spread, 3), 0, 255))


def _grey(rng, level, spread):
    v = float(np.clip(level + rng.normal(0, spread), 0, 255))
    return (v, v, v)


def _gradient(h, w, top, bottom):
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t, (h, w, 3)).copy()


def _random_text(rng, n):
    return "".join(rng.choice(list(_TEXT_CHARS), size=n))


def random_words(rng: np.random.Generator, n: int) -> str:
    """Upper-case pseudo words (dealer lettering, shop signs)."""
    letters = np.array(list("ABCDEFGHIKLMNOPRSTUWZ"))
    words, total = [], 0
    while total < n:
        k = int(rng.integers(2, 8))
        words.append("".join(rng.choice(letters, size=k)))
        total += k + 1
    return " ".join(words)


def _clutter(img, rng, n):
    h, w = img.shape[:2]
    for _ in range(n):
        kind = rng.integers(0, 4)
        c = _colour(rng)
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        if kind == 0:  # distractor text
            scale = float(rng.uniform(0.4, 2.0))
            cv2.putText(img, _random_text(rng, int(rng.integers(2, 9))), (x, y), _FONTS[rng.integers(0, 4)], scale, c, int(rng.integers(1, 4)), cv2.LINE_AA)
        elif kind == 1:  # sign with text
            sw, sh = int(rng.integers(30, 160)), int(rng.integers(20, 80))
            cv2.rectangle(img, (x, y), (x + sw, y + sh), c, -1)
            tc = _colour(rng, 255 - np.asarray(c), 20)
            cv2.putText(img, _random_text(rng, int(rng.integers(2, 6))), (x + 4, y + sh - 6), _FONTS[rng.integers(0, 4)], sh / 45, tc, max(1, sh // 20), cv2.LINE_AA)
        elif kind == 2:  # edges / poles
            cv2.line(img, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), c, int(rng.integers(1, 6)), cv2.LINE_AA)
        else:
            cv2.circle(img, (x, y), int(rng.integers(3, 40)), c, -1, cv2.LINE_AA)


def _poly(img, pts, colour):
    cv2.fillPoly(img, [np.round(np.asarray(pts) * 16).astype(np.int32)], colour, cv2.LINE_AA, shift=4)


def _shaded_poly(img, pts, colour, rng):
    """Fill a polygon with a vertical gradient of ``colour`` (car paint catches light on top)."""
    pts = np.asarray(pts, np.float64)
    mask = np.zeros(img.shape[:2], np.uint8)
    _poly(mask, pts, 255)
    y0, y1 = int(max(0, pts[:, 1].min())), int(min(img.shape[0], pts[:, 1].max() + 1))
    if y1 <= y0:
        return
    c = np.asarray(colour, np.float32)
    grad = _gradient(y1 - y0, img.shape[1], c * rng.uniform(0.95, 1.2), c * rng.uniform(0.55, 0.85))
    a = mask[y0:y1, :, None].astype(np.float32) / 255.0
    region = img[y0:y1].astype(np.float32)
    img[y0:y1] = np.clip(region * (1 - a) + grad * a, 0, 255).astype(np.uint8)


def _car(img, rng, centre, plate_w):
    """A car seen from the front or rear, its bumper holding the plate at ``centre``."""
    cx, cy = centre
    body = _colour(rng, CAR_COLOURS[rng.integers(0, len(CAR_COLOURS))], 12)
    front = rng.random() < 0.5
    half = plate_w * rng.uniform(1.6, 2.2)
    top = cy - plate_w * rng.uniform(0.7, 1.1)
    bottom = cy + plate_w * rng.uniform(0.35, 0.55)
    # shadow under the car, wheels, cabin with glass, then the body
    cv2.ellipse(img, (int(cx), int(bottom)), (int(half * 1.1), int(plate_w * 0.18)), 0, 0, 360, _grey(rng, 20, 5), -1, cv2.LINE_AA)
    for side in (-1, 1):
        wc = (int(cx + side * half * 0.78), int(bottom))
        cv2.ellipse(img, wc, (int(plate_w * 0.33), int(plate_w * 0.3)), 0, 0, 360, _grey(rng, 22, 6), -1, cv2.LINE_AA)
    roof = top - plate_w * rng.uniform(0.6, 1.0)
    cabin = [(cx - half * 0.82, top), (cx - half * 0.6, roof), (cx + half * 0.6, roof), (cx + half * 0.82, top)]
    _shaded_poly(img, cabin, body, rng)
    inset = plate_w * 0.08
    glass = [(cx - half * 0.78 + inset, top - inset * 0.5), (cx - half * 0.6 + inset, roof + inset),
             (cx + half * 0.6 - inset, roof + inset), (cx + half * 0.78 - inset, top - inset * 0.5)]
    _shaded_poly(img, glass, _colour(rng, (70, 60, 50), 15), rng)
    r = plate_w * 0.15
    shell = [(cx - half, top + r), (cx - half + r, top), (cx + half - r, top), (cx + half, top + r),
             (cx + half, bottom - r), (cx + half - r, bottom), (cx - half + r, bottom), (cx - half, bottom - r)]
    _shaded_poly(img, shell, body, rng)
    # bumper: a darker band through the plate height, often black plastic
    bumper = _grey(rng, 35, 10) if rng.random() < 0.4 else _colour(rng, np.asarray(body) * 0.8, 8)
    by0, by1 = cy - plate_w * rng.uniform(0.12, 0.2), bottom - plate_w * 0.02
    _shaded_poly(img, [(cx - half * 0.98, by0), (cx + half * 0.98, by0), (cx + half * 0.95, by1), (cx - half * 0.95, by1)], bumper, rng)
    cv2.line(img, (int(cx - half), int(by0)), (int(cx + half), int(by0)), _colour(rng, np.asarray(body) * 0.45, 8), max(1, int(plate_w * 0.02)), cv2.LINE_AA)
    if front:  # grille above the plate
        gy0, gy1 = int(top + plate_w * 0.12), int(by0 - plate_w * 0.05)
        gx0, gx1 = int(cx - plate_w * rng.uniform(0.6, 1.0)), int(cx + plate_w * rng.uniform(0.6, 1.0))
        if gy1 - gy0 > 4:
            cv2.rectangle(img, (gx0, gy0), (gx1, gy1), _grey(rng, 25, 10), -1, cv2.LINE_AA)
            step = max(3, int(plate_w * rng.uniform(0.04, 0.09)))
            for y in range(gy0 + step // 2, gy1, step):
                cv2.line(img, (gx0, y), (gx1, y), _grey(rng, 90, 30), max(1, step // 3), cv2.LINE_AA)
    for side in (-1, 1):  # head or tail lights at the upper corners
        lx = int(cx + side * half * rng.uniform(0.7, 0.85))
        ly = int(top + plate_w * rng.uniform(0.12, 0.25))
        axes = (int(plate_w * rng.uniform(0.22, 0.4)), int(plate_w * rng.uniform(0.07, 0.14)))
        lc = _colour(rng, (225, 230, 235), 10) if front else _colour(rng, (40, 40, 190), 15)
        cv2.ellipse(img, (lx, ly), axes, float(side * rng.uniform(0, 12)), 0, 360, lc, -1, cv2.LINE_AA)
        cv2.ellipse(img, (lx, ly), axes, float(side * 6), 0, 360, _grey(rng, 50, 10), max(1, int(plate_w * 0.012)), cv2.LINE_AA)
    if not front and rng.random() < 0.6:  # model badge / lettering on the boot lid
        text = random_words(rng, int(rng.integers(3, 8)))
        scale = plate_w / 260.0
        (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_DUPLEX, scale, 1)
        cv2.putText(img, text, (int(cx - tw / 2), int(top + plate_w * 0.3)), cv2.FONT_HERSHEY_DUPLEX, scale,
                    _grey(rng, 200, 30), max(1, int(scale * 1.5)), cv2.LINE_AA)


def background(rng: np.random.Generator, size: tuple[int, int], plate_centre: tuple[float, float], plate_width: float) -> np.ndarray:
    """A BGR uint8 ``size`` = (width, height) background with a car around ``plate_centre``."""
    w, h = size
    horizon = int(h * rng.uniform(0.15, 0.6))
    img = np.empty((h, w, 3), np.float32)
    img[:horizon] = _gradient(horizon, w, _colour(rng, (230, 200, 160), 30), _colour(rng, (200, 200, 190), 30))
    img[horizon:] = _gradient(h - horizon, w, _colour(rng, (110, 110, 110), 25), _colour(rng, (70, 70, 75), 20))
    img = img.astype(np.uint8)
    _clutter(img, rng, int(rng.integers(3, 12)))
    if rng.random() < 0.9:
        _car(img, rng, plate_centre, plate_width)
    _clutter(img, rng, int(rng.integers(0, 4)))
    noise = rng.normal(0, rng.uniform(2, 8), (h // 4 + 1, w // 4 + 1, 1)).astype(np.float32)
    texture = cv2.resize(noise, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    return np.clip(img.astype(np.float32) + texture, 0, 255).astype(np.uint8)
