"""scripts/train_plate_detector.py: a tiny run writes a loadable detector and its model card."""

import json

import numpy as np
from scripts_module import load_script  # tests/scripts_module.py

from alpr import plate_net


def test_tiny_run_writes_model_and_card(tmp_path):
    out = tmp_path / "models" / "pd.keras"
    argv = ["--train", "10", "--val", "2", "--steps", "2", "--batch", "2", "--crop", "64", "64", "--workers", "1",
            "--dim-plates", "0.5", "--paste-plates", "0.5", "--seed", "3", "--out", str(out)]
    assert load_script("train_plate_detector").main(argv) == 0

    card = json.loads(out.with_suffix(".json").read_text())
    assert card["steps_done"] == 2 and card["seed"] == 3 and card["data"]["dim_plates_rate"] == 0.5
    assert card["data"]["paste_plates_rate"] == 0.5
    assert card["data"]["train_photos"] == 10 and card["data"]["val_photos"] == 2
    assert card["command"].endswith(" ".join(argv))
    assert set(card["synthetic_val"]) == {"0.2", "0.3", "0.4", "0.5", "0.6", "0.7"}
    # written through alpr.atomic: no temporary file is left beside the outputs
    assert sorted(p.name for p in out.parent.iterdir()) == ["pd.json", "pd.keras"]

    net = plate_net.load(out)
    heat, box, scale = net.heatmap(np.zeros((240, 320, 3), np.uint8))
    assert heat.shape[:2] == box.shape[:2] and box.shape[-1] == 4 and scale > 0
