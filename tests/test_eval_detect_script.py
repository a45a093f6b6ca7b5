"""scripts/eval_detect_segment.py: unmatched detections are counted, split near / far, and drawn."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from alpr._geometry import quad_bbox
from alpr.synth.scene import render_scene


def _script():
    """``scripts/eval_detect_segment.py`` as a module (``scripts/`` is not a package)."""
    scripts = str(Path(__file__).resolve().parents[1] / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    import eval_detect_segment

    return eval_detect_segment


def test_unmatched_detections_near_and_far(tmp_path):
    script = _script()
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
    script = _script()
    sheet = script.unmatched_sheet([])
    assert sheet.shape == (script.TILE[1], script.TILES_PER_ROW * script.TILE[0], 3) and not sheet.any()


def test_unmatched_sheet_needs_a_plate_format(tmp_path, capsys):
    script = _script()
    with pytest.raises(SystemExit) as exit_:
        script.main([str(tmp_path), "--format", "yolo-chars", "--unmatched-sheet", str(tmp_path / "s.png")])
    assert exit_.value.code == 2
    assert "--unmatched-sheet needs" in capsys.readouterr().err
