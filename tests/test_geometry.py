"""alpr._geometry: fitting a turned plate in a box drawn around it."""

import numpy as np
import pytest

from alpr._geometry import fit_turned_plate, lengthened, quad_bbox

ASPECT = 520 / 110


def _plate(centre, length, degrees):
    """Corners TL, TR, BR, BL of a plate ``length`` long turned by ``degrees`` (image coordinates)."""
    t = np.radians(degrees)
    u = 0.5 * length * np.array([np.cos(t), np.sin(t)])
    v = 0.5 * length / ASPECT * np.array([-np.sin(t), np.cos(t)])
    c = np.asarray(centre, float)
    return np.array([c - u - v, c + u - v, c + u + v, c - u + v])


def _box_quad(x, y, w, h):
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], float)


@pytest.mark.parametrize("degrees", [-25, -10, 0, 7, 20])
def test_a_turned_plate_is_recovered_from_its_bounding_box_and_slope(degrees):
    plate = _plate((300, 200), 240, degrees)
    box = _box_quad(*quad_bbox(plate))
    fitted = fit_turned_plate(box, np.tan(np.radians(degrees)), ASPECT)
    np.testing.assert_allclose(fitted, plate, atol=1e-3)


def test_the_slope_is_measured_in_a_turned_box_s_own_frame():
    """A box found in a photo turned back by the tilted search is itself turned: the plate's
    slope inside it adds to the box's turn."""
    box = _plate((320, 240), 300, 25)  # any rectangle: here one turned by 25 degrees
    box_length = np.linalg.norm(box[1] - box[0])
    fitted = fit_turned_plate(box, np.tan(np.radians(10)), ASPECT)
    top = fitted[1] - fitted[0]
    assert np.degrees(np.arctan2(top[1], top[0])) == pytest.approx(35, abs=1e-6)
    np.testing.assert_allclose(fitted.mean(axis=0), box.mean(axis=0), atol=1e-4)
    # turned by 10 degrees inside the box, the plate spans exactly the box's length along it
    along = (box[1] - box[0]) / box_length
    span = fitted @ along
    assert span.max() - span.min() == pytest.approx(box_length, rel=1e-6)


def test_a_level_plate_fills_the_box_width_at_the_plate_aspect():
    fitted = fit_turned_plate(_box_quad(10, 20, 236.4, 80), 0.0, ASPECT)
    x, y, w, h = quad_bbox(fitted)
    assert (x, w) == pytest.approx((10, 236.4))
    assert h == pytest.approx(236.4 / ASPECT)
    assert y + h / 2 == pytest.approx(60)


def test_a_margin_grows_the_fitted_plate_about_its_centre():
    box = _box_quad(0, 0, 200, 120)
    plain = fit_turned_plate(box, 0.2, ASPECT)
    grown = fit_turned_plate(box, 0.2, ASPECT, margin=0.1)
    centre = plain.mean(axis=0)
    np.testing.assert_allclose(grown, centre + 1.1 * (plain - centre), atol=1e-4)


def test_lengthened_moves_the_ends_along_the_top_and_bottom_sides():
    quad = np.array([[100, 50], [300, 70], [300, 110], [100, 90]], float)  # a sloping outline
    longer = lengthened(quad, 0.05, 0.1)
    np.testing.assert_allclose(longer[0], [90, 49])
    np.testing.assert_allclose(longer[3], [90, 89])
    np.testing.assert_allclose(longer[1], [320, 72])
    np.testing.assert_allclose(longer[2], [320, 112])
