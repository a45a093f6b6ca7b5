"""Lettering colour: German red plates are the only ones written in red."""

import re
from pathlib import Path

import numpy as np
import pytest

from alpr import Recognizer, plates
from alpr._ink import RED_INK_FROM, ink_redness, red_ink
from alpr.imageio import load_image
from alpr.synth.render import render_plate
from scripts_module import load_script  # tests/scripts_module.py

DE_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "de-samples"


@pytest.mark.parametrize("height", [24, 48, 110])
def test_red_lettering_is_told_from_black_in_any_light(height):
    for seed in range(10):  # random styles: ink, paper, light, blur, noise
        black = render_plate(country="de", seed=seed, height_px=height)
        assert not red_ink(black.image, black.boxes), seed
        red = render_plate(plates.parse("HB 06199", "de"), "de", seed=seed, height_px=height,
                           style={"ink": (40, 40, 190)})
        assert red_ink(red.image, red.boxes)
        # a tint of the whole photo (the light, the white balance) is divided out with the paper
        tinted = np.clip(black.image * np.array([0.6, 0.8, 1.3]), 0, 255).astype(np.uint8)
        assert ink_redness(tinted, black.boxes) < RED_INK_FROM


def test_redness_needs_colour_boxes_and_light_paper():
    plate = render_plate(plates.parse("HB 06199", "de"), "de", seed=0, style={"ink": (40, 40, 190)})
    assert ink_redness(plate.image[..., 0], plate.boxes) is None  # grey
    assert ink_redness(plate.image, np.zeros((0, 4), int)) is None
    assert ink_redness(np.full((40, 100, 3), 20, np.uint8), [(10, 5, 10, 30)]) is None  # dark paper
    assert not red_ink(np.full((40, 100, 3), 20, np.uint8), [(10, 5, 10, 30)])


@pytest.mark.skipif(not DE_SAMPLES.is_dir(), reason="../shared/datasets/de-samples not present")
def test_de_samples_red_plates_are_read():
    """The two red plates of de-samples' car photos, whose blurred 0 the CNN reads as a D."""
    reader = Recognizer(country="de")
    for name, text in [("imagesAPVCN8QZ.jpg", "HB 06199"), ("imagesTHWV8H2K.jpg", "BC 07129")]:
        found = reader.read(load_image(DE_SAMPLES / name))
        assert [p.formatted for p in found][:1] == [text], name


def test_red_plate_script_renders_red_plates_and_counts_readings(capsys):
    script = load_script("eval_red_plates")
    rng = np.random.default_rng(0)
    for _ in range(20):
        plate = script.red_plate(rng)
        assert plates.parse(plate.text, "de").formatted == plate.formatted
        assert plate.groups[1][:2] in ("06", "07")
    script.main(["--n", "2", "--height", "20", "30"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert re.match(r"red plates read exactly: [0-2] of 2 \(", lines[0])
    assert re.match(r"black plates read exactly: [0-2] of 2 \(", lines[1])
    with pytest.raises(SystemExit):
        script.main(["--n", "0"])


def test_redness_of_odd_inputs_is_none_or_a_finite_number():
    rng = np.random.default_rng(5)
    for _ in range(200):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 80))
        image = rng.integers(0, 256, (h, w, int(rng.choice([3, 4]))), dtype=np.uint8)
        boxes = rng.integers(-5, 90, (int(rng.integers(0, 5)), 4))
        value = ink_redness(image, boxes)
        assert value is None or np.isfinite(value)
