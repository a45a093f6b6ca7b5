"""scripts/eval_close_ups.py and the close-ups it reads (alpr.synth.scene.render_close_up)."""

import numpy as np
import pytest

from alpr.resources import models_dir
from alpr.synth.scene import render_close_up
from scripts_module import load_script  # tests/scripts_module.py


def test_a_close_up_is_cut_around_its_plate_within_its_margins():
    for seed in range(5):
        scene = render_close_up("de", seed=seed)
        h, w = scene.image.shape[:2]
        (x0, y0), (x1, y1) = scene.quad.min(0), scene.quad.max(0)
        assert scene.image.dtype == np.uint8 and scene.image.ndim == 3
        assert x0 >= -1 and y0 >= -1 and x1 <= w + 1 and y1 <= h + 1  # the whole plate is in the cut
        assert x1 - x0 >= 0.7 * w and y1 - y0 >= h / 2.9  # margins of at most 25 % / 90 % a side
        assert np.abs(scene.char_quads.mean(axis=(0, 1)) - scene.quad.mean(0)).max() < 0.2 * (x1 - x0)
    tight = render_close_up("es", seed=1, side_margin=(-0.02, 0.0), top_margin=(-0.05, 0.0))
    (x0, y0), (x1, y1) = tight.quad.min(0), tight.quad.max(0)
    assert x0 <= 1 and y0 <= 1 and x1 >= tight.image.shape[1] - 1 and y1 >= tight.image.shape[0] - 1
    assert np.array_equal(render_close_up("es", seed=4).image, render_close_up("es", seed=4).image)


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_prints_one_count_line_per_country(capsys):
    script = load_script("eval_close_ups")
    script.main(["--n", "2", "--countries", "es", "--tight"])
    script.main(["--n", "2", "--countries", "es", "--no-whole"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        counts = [int(word) for word in line.replace("(", " ").split() if word.isdigit()]
        exact, wrong, none, n, crop = counts
        assert line.startswith("es: read exact") and n == 2 and exact + wrong + none == 2 and 0 <= crop <= 2


def test_refuses_an_empty_set():
    with pytest.raises(SystemExit) as exc:
        load_script("eval_close_ups").main(["--n", "0"])
    assert exc.value.code == 2
