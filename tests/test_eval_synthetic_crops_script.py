"""scripts/eval_synthetic_crops.py: UC3M-LP-like rendered crops, their hidden characters, the score."""

import re

import numpy as np
import pytest

from alpr.resources import models_dir
from scripts_module import load_script  # tests/scripts_module.py


def test_crops_look_like_the_datasets_and_hide_characters_in_their_pattern():
    script = load_script("eval_synthetic_crops")
    crops = [script.make_crop(np.random.default_rng([3, k]), provincial_rate=0.5) for k in range(12)]
    for image, text, pattern in crops:
        assert image.dtype == np.uint8 and image.shape[1] == script.CROP_WIDTH and 20 < image.shape[0] < 80
        assert pattern.fullmatch(text)  # the plate itself always matches
    hiding = [(text, pattern) for _, text, pattern in crops if pattern.pattern.count("?") == 2]
    assert len(hiding) >= 8  # 9 in 10 crops hide two characters
    for text, pattern in hiding:  # a hidden character may be read as any one character or none
        slots = re.findall(r"\[0-9A-ZÄÖÜ\]\?|\\?.", pattern.pattern)
        assert len(slots) == len(text)
        hidden = [i for i, slot in enumerate(slots) if slot == "[0-9A-ZÄÖÜ]?"]
        visible = next(i for i in range(len(text)) if i not in hidden)
        assert pattern.fullmatch("".join(c for i, c in enumerate(text) if i not in hidden))
        assert pattern.fullmatch("".join("7" if i in hidden else c for i, c in enumerate(text)))
        assert not pattern.fullmatch(text[:visible] + ("X" if text[visible] != "X" else "Y") + text[visible + 1 :])
    assert any(text[0].isalpha() for _, text, _ in crops) and any(text[0].isdigit() for _, text, _ in crops)


def test_inverted_and_tight_crops_leave_the_other_seeds_crops_alone():
    script = load_script("eval_synthetic_crops")
    for k in range(4):
        style = script.inverted_style(np.random.default_rng(k))
        assert min(style["ink"]) >= 180 and sum(style["paper"]) < sum(style["ink"]) - 150
    # without inverted plates a seed gives the crops it gave before the option existed
    plain = script.make_crop(np.random.default_rng([3, 0]), 0.1)
    again = script.make_crop(np.random.default_rng([3, 0]), 0.1, inverted_rate=0.0, tight_rate=0.0)
    assert np.array_equal(plain[0], again[0]) and plain[1] == again[1]
    tight = script.make_crop(np.random.default_rng([3, 0]), 0.1, tight_rate=1.0)[0]
    assert tight.shape[1] == script.CROP_WIDTH and tight.shape[0] > plain[0].shape[0]  # narrower cut, same width
    flat = script.make_crop(np.random.default_rng([3, 0]), 0.1, tight_height_rate=1.0)[0]
    assert flat.shape[1] == script.CROP_WIDTH and flat.shape[0] < plain[0].shape[0]  # lower cut, same width
    inverted = script.make_crop(np.random.default_rng([3, 0]), 0.1, inverted_rate=1.0)[0]
    assert np.median(inverted[inverted.shape[0] // 3 : -inverted.shape[0] // 3]) < np.median(plain[0])


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_main_prints_the_figures(capsys):
    script = load_script("eval_synthetic_crops")
    assert script.main(["--n", "3", "--seed", "1", "--provincial-rate", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "provincial_crops: 3" in out and "today_crops: 0" in out and "provincial_read:" in out
