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


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_turns_the_real_photos_of_an_openalpr_folder(tmp_path, capsys):
    """--openalpr reads a labelled folder and turns each photo with its label box (here a rendered
    photo stands in for a real one)."""
    import cv2

    from alpr.synth.scene import render_scene

    script = load_script("eval_tilted")
    scene = render_scene("es", seed=3, easy=True, plate_width=(150.0, 200.0))
    cv2.imwrite(str(tmp_path / "car.jpg"), scene.image)
    x, y, w, h = (round(v) for v in quad_bbox(scene.quad))
    (tmp_path / "car.txt").write_text(f"car.jpg\t{x}\t{y}\t{w}\t{h}\t{scene.rendered.plate.text}\n")
    assert script.main(["--country", "es", "--openalpr", str(tmp_path), "--angles", "0", "5"]) == 0
    rows = capsys.readouterr().out.strip().splitlines()[1:]
    assert [row.split(" | ")[:3] for row in rows] == [["0", "1", "1.000"], ["5", "1", "1.000"]]
    turned = script.turned_photo(scene.image, (x, y, w, h), "T", 1, 90)
    assert turned is None or turned[0].shape == scene.image.shape


def test_bad_arguments_are_one_line_errors(capsys):
    script = load_script("eval_tilted")
    for argv in (["--country", "eu"], ["--country", "eu", "--openalpr", "/nonexistent/folder"], ["--n", "0"]):
        with pytest.raises(SystemExit) as exit_info:
            script.main(argv)
        assert exit_info.value.code == 2
        assert ": error: " in capsys.readouterr().err.strip().splitlines()[-1]  # one usage line, no traceback
