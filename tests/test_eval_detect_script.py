"""scripts/eval_detect_segment.py: unmatched detections are counted, split near / far, and drawn."""

import cv2
import numpy as np
import pytest

from alpr._geometry import quad_bbox
from alpr.synth.scene import render_scene
from scripts_module import load_script  # tests/scripts_module.py


def test_unmatched_detections_near_and_far(tmp_path):
    script = load_script("eval_detect_segment")
    scene = render_scene("de", seed=4)
    path = tmp_path / "scene.png"
    cv2.imwrite(str(path), scene.image)
    x, y, w, h = quad_bbox(scene.quad)

    right = script.eval_detection([(path, [(x, y, w, h)])], min_score=None)
    assert right["recall"] == 1.0
    assert right["unmatched_near_misses"] + right["unmatched_far"] == right["detections"] - 1

    # the label box shifted by half the plate's width: the found plate becomes a near miss
    shifted = (x + w / 2, y, w, h)
    unmatched = []
    moved = script.eval_detection([(path, [shifted])], min_score=None, unmatched=unmatched)
    assert moved["recall"] == 0.0 and moved["unmatched_near_misses"] >= 1
    assert len(unmatched) == moved["detections"] == moved["unmatched_near_misses"] + moved["unmatched_far"]
    assert all(0.0 <= iou < 0.5 for _, _, _, iou in unmatched)

    sheet = script.unmatched_sheet(unmatched)
    rows = -(-len(unmatched) // script.TILES_PER_ROW)
    assert sheet.shape == (rows * script.TILE[1], script.TILES_PER_ROW * script.TILE[0], 3)
    assert sheet.dtype == np.uint8 and sheet.any()


def test_unmatched_sheet_of_nothing_is_one_blank_row():
    script = load_script("eval_detect_segment")
    sheet = script.unmatched_sheet([])
    assert sheet.shape == (script.TILE[1], script.TILES_PER_ROW * script.TILE[0], 3) and not sheet.any()


def test_unmatched_sheet_needs_a_plate_format(tmp_path, capsys):
    script = load_script("eval_detect_segment")
    with pytest.raises(SystemExit) as exit_:
        script.main([str(tmp_path), "--format", "yolo-chars", "--unmatched-sheet", str(tmp_path / "s.png")])
    assert exit_.value.code == 2
    assert "--unmatched-sheet needs" in capsys.readouterr().err


def test_plate_salience_script_reads_a_yolo_plates_folder(tmp_path, capsys):
    plate_salience = load_script("plate_salience")

    scene = render_scene("es", seed=2, size=(320, 240), plate_width=(60.0, 90.0))
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), scene.image)
    x, y, w, h = quad_bbox(scene.quad)
    (tmp_path / "labels" / "a.txt").write_text(f"0 {(x + w / 2) / 320} {(y + h / 2) / 240} {w / 320} {h / 240}\n")
    assert plate_salience.main([str(tmp_path), "--format", "yolo-plates"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(str(tmp_path)) and "'plates': 1" in line
    with pytest.raises(SystemExit):
        plate_salience.main([])  # nothing to measure: a usage error
