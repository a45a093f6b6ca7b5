"""Levelling of plate crops whose text line slopes (alpr.deskew)."""

import cv2
import numpy as np
import pytest

from alpr import deskew
from alpr.resources import models_dir
from alpr.synth.render import render_plate


def sloped_plate(text: str, country: str, slope: float, seed: int = 0) -> np.ndarray:
    """A rendered plate on a dark margin, sheared vertically so its text line has ``slope``."""
    plate = render_plate(text, country, seed=seed, height_px=80, style={}).image[..., :3]
    h, w = plate.shape[:2]
    margin = int(abs(slope) * w / 2) + 12
    canvas = cv2.copyMakeBorder(plate, margin, margin, 12, 12, cv2.BORDER_CONSTANT, value=(40, 45, 50))
    H, W = canvas.shape[:2]
    shear = np.float32([[1, 0, 0], [slope, 1, -slope * W / 2]])
    return cv2.warpAffine(canvas, shear, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("degrees", [-25, -12, 0, 8, 20, 30])
def test_estimates_the_slope_of_a_sheared_plate(degrees):
    slope = np.tan(np.radians(degrees))
    image = sloped_plate("4821 BCD", "es", slope, seed=degrees + 40)
    assert abs(np.degrees(np.arctan(deskew.estimate_slope(image))) - degrees) <= 1.5


@pytest.mark.parametrize("degrees", [-20, -8, 0, 12, 25])
def test_estimates_how_far_the_strokes_lean(degrees):
    plate = sloped_plate("HD AD 891", "de", 0.0, seed=degrees + 60)
    lean = np.tan(np.radians(degrees))
    h, w = plate.shape[:2]
    italic = cv2.warpAffine(plate, np.float32([[1, -lean, lean * h / 2], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
    assert abs(np.degrees(np.arctan(deskew.estimate_lean(italic))) - degrees) <= 2.0
    upright, _ = deskew.level(italic, 0.0, deskew.estimate_lean(italic))
    assert abs(np.degrees(np.arctan(deskew.estimate_lean(upright)))) <= 1.0


def test_flat_image_has_no_slope_or_lean():
    flat = np.full((40, 160, 3), 128, np.uint8)
    assert deskew.estimate_slope(flat) == 0.0 and deskew.estimate_lean(flat) == 0.0


def test_level_undoes_the_shear_and_its_quad_maps_back():
    slope = np.tan(np.radians(18))
    image = sloped_plate("HD AD 891", "de", slope)
    levelled, quad = deskew.level(image, slope)
    assert levelled.shape == image.shape
    assert abs(np.degrees(np.arctan(deskew.estimate_slope(levelled)))) <= 1.0
    h, w = image.shape[:2]
    # a point of the levelled image, mapped through the quad's perspective, lands where it came from
    to_image = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), quad)
    point = np.float32([[[0.7 * w, 0.5 * h]]])
    back = cv2.perspectiveTransform(point, to_image)[0, 0]
    assert np.allclose(back, [0.7 * w, 0.5 * h + slope * 0.2 * w], atol=0.01)


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_read_crop_reads_a_plate_seen_from_the_side():
    from alpr.pipeline import Recognizer

    image = sloped_plate("4821 BCD", "es", np.tan(np.radians(22)), seed=5)
    plate = Recognizer(country="es").read_crop(image)
    assert plate is not None and plate.text == "4821BCD"
