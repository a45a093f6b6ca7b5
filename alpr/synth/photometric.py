"""Photometric degradations of a whole scene: lighting gradient, cast shadows, night/IR look,
channel swap (as in some UC3M-LP photos), then blur, noise, colour jitter and JPEG through
albumentations (2.x API). None of them moves pixels, so plate geometry stays valid."""

import os
from functools import lru_cache

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no network check on import

import albumentations as A  # noqa: E402
import cv2  # noqa: E402
import numpy as np  # noqa: E402


@lru_cache(maxsize=2)
def _pipeline(strength: str) -> A.Compose:
    mild = strength == "easy"
    return A.Compose(
        [
            A.RandomBrightnessContrast(brightness_limit=0.15 if mild else 0.3, contrast_limit=0.15 if mild else 0.35, p=0.8),
            A.HueSaturationValue(hue_shift_limit=5 if mild else 12, sat_shift_limit=15 if mild else 30, val_shift_limit=10, p=0.5),
            A.RandomGamma(gamma_limit=(85, 115) if mild else (70, 140), p=0.4),
            A.OneOf(
                [
                    A.MotionBlur(blur_limit=(3, 5) if mild else (3, 9), p=1.0),
                    A.GaussianBlur(blur_limit=(3, 3) if mild else (3, 7), p=1.0),
                    A.Defocus(radius=(1, 2) if mild else (1, 4), p=1.0),
                ],
                p=0.3 if mild else 0.6,
            ),
            A.GaussNoise(std_range=(0.005, 0.02) if mild else (0.01, 0.07), p=0.6),
            A.ISONoise(p=0.0 if mild else 0.2),
            A.ImageCompression(quality_range=(70, 95) if mild else (25, 95), p=0.8),
        ]
    )


def lighting(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Smooth illumination gradient and an optional polygonal cast shadow (float32 in/out)."""
    h, w = img.shape[:2]
    a = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (np.cos(a) * (xx / w - 0.5) + np.sin(a) * (yy / h - 0.5)) * rng.uniform(0, 0.6) * strength
    out = img * (1.0 + ramp)[..., None]
    if rng.random() < 0.4 * strength:
        pts = np.stack([rng.uniform(-0.2, 1.2, 5) * w, rng.uniform(-0.2, 1.2, 5) * h], 1).astype(np.int32)
        shadow = np.zeros((h, w), np.float32)
        cv2.fillPoly(shadow, [cv2.convexHull(pts)], 1.0)
        shadow = cv2.GaussianBlur(shadow, (0, 0), rng.uniform(1, 8))
        out *= (1.0 - rng.uniform(0.25, 0.6) * shadow)[..., None]
    return out


def night_ir(img: np.ndarray, plate_mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Infrared night look: dark grey-violet scene, retro-reflective plate stays bright."""
    grey = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
    dark = grey * rng.uniform(0.25, 0.5)
    lit = dark + plate_mask * (grey * rng.uniform(1.0, 1.3) - dark)
    tint = np.array([rng.uniform(1.0, 1.25), rng.uniform(0.8, 1.0), rng.uniform(0.95, 1.2)], np.float32)
    return lit[..., None] * tint


def degrade(img: np.ndarray, rng: np.random.Generator, plate_mask: np.ndarray, *, easy: bool = False) -> np.ndarray:
    """Apply the whole photometric chain to a float32 BGR scene; returns uint8 BGR."""
    out = lighting(img, rng, 0.5 if easy else 1.0)
    if not easy and rng.random() < 0.12:
        out = night_ir(out, plate_mask, rng)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if not easy and rng.random() < 0.08:
        out = np.ascontiguousarray(out[..., ::-1])  # red/blue swapped, as in some dataset photos
    pipeline = _pipeline("easy" if easy else "normal")
    pipeline.set_random_seed(int(rng.integers(0, 2**31 - 1)))
    return pipeline(image=out)["image"]
