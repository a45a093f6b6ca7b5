"""scripts/eval_tilted.py: rendered photos of a tilted camera and their score table."""

import numpy as np
import pytest

from alpr._geometry import quad_bbox
from alpr.resources import models_dir
from scripts_module import load_script  # tests/scripts_module.py


def test_tilted_photos_turn_the_plate_by_the_angle_both_ways():
    script = load_script("eval_tilted")
    level = script.tilted_photo("es", 78, 1, 0)
    assert level is not None
    for index, sign in ((1, 1), (2, -1)):
        photo = script.tilted_photo("es", 78, index, 20)
        if photo is None:  # the turned plate left the frame
            continue
        image, quad, text = photo
        assert image.shape == (480, 640, 3) and image.dtype == np.uint8 and len(text) >= 6
        top = quad[1] - quad[0]
        # counter-clockwise on screen (cv2's positive angle) raises the plate's right end
        assert np.sign(-top[1]) == sign and abs(abs(np.degrees(np.arctan2(top[1], top[0]))) - 20) < 10
    _, quad, _ = level
    assert quad_bbox(quad)[2] >= 50


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_prints_one_row_per_angle(capsys):
    script = load_script("eval_tilted")
    assert script.main(["--country", "es", "--n", "2", "--angles", "0", "30"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("angle |") and [r.split(" | ")[0] for r in rows[1:]] == ["0", "30"]
    for row in rows[1:]:
        angle, photos, found, read, ms = row.split(" | ")
        assert 0 <= int(photos) <= 2 and 0.0 <= float(found) <= 1.0 and 0.0 <= float(read) <= 1.0 and float(ms) >= 0
