"""``alpr attack``: argument validation (one-line errors, exit 2), per-file outputs for character
and plate crops, batch error handling, and ``--sweep`` files — all on tiny models."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from alpr.cli import main

keras = pytest.importorskip("keras")


def run(*args):
    return CliRunner().invoke(main, ["attack", *map(str, args)])


@pytest.mark.parametrize("args,message", [
    (["--eps", "abc"], "--eps: expected a number"),
    (["--eps", "-1"], "--eps: must be >= 0"),
    (["--eps", "1/0"], "--eps: expected a number"),
    (["--steps", "0"], "--steps: must be >= 1"),
    (["--steps", "x"], "--steps: expected an integer"),
    (["--restarts", "-2"], "--restarts: must be >= 1"),
    (["--step-size", "0"], "--step-size: must be >="),
    (["--norm", "3"], "--norm: expected one of"),
    (["--method", "cw"], "--method: expected one of"),
    (["--target", "77"], "--target: expected 'any' or one character"),
    (["--seed", "x"], "--seed: expected an integer"),
    (["--method", "threshold"], "needs a --target"),
])
def test_bad_arguments_exit_2_with_one_line(tmp_path, args, message):
    result = run("photo.png", "--out", tmp_path / "o", *args)
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output


def test_help_has_examples():
    result = run("--help")
    assert result.exit_code == 0 and "Examples:" in result.output and "--sweep" in result.output


@pytest.fixture(scope="module")
def tiny_model_path(tmp_path_factory):
    """A width-4 Spanish character CNN trained for a few seconds on clean synthetic crops."""
    from alpr.model import CharModel, build_model, save_model
    from alpr.plates import ALPHABETS
    from alpr.char_crops import CLEAN_POLICY, make_dataset

    x, y = make_dataset("es", 1200, 0, policy=CLEAN_POLICY, progress=False)
    keras.utils.set_random_seed(0)
    net = build_model(len(ALPHABETS["es"]), width=4, dropout=0.0)
    net.compile(optimizer=keras.optimizers.Adam(1e-2),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x, y, batch_size=64, epochs=3, verbose=0)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    save_model(CharModel(net, ALPHABETS["es"]), path, {"country": "es", "name": "tiny"})
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    from alpr.synth.render import render_plate

    folder = tmp_path_factory.mktemp("inputs")
    rendered = render_plate("1234 BCD", "es", seed=5, height_px=80)
    image = np.ascontiguousarray(rendered.image[..., :3])
    cv2.imwrite(str(folder / "plate.png"), image)
    x, y, w, h = rendered.boxes[0]
    cv2.imwrite(str(folder / "one.png"), image[y : y + h, x : x + w])
    (folder / "broken.png").write_bytes(b"not an image")
    return folder


def test_char_crop_attack_writes_png_figure_summary(tiny_model_path, inputs, tmp_path):
    out = tmp_path / "out"
    result = run(inputs / "one.png", "--chars", "--model", tiny_model_path, "--char", "1", "--target", "any",
                 "--eps", "16/255", "--steps", "5", "--out", out)
    assert result.exit_code == 0, result.output
    adv = cv2.imread(str(out / "one_adv.png"), cv2.IMREAD_UNCHANGED)
    assert adv.shape == (32, 24) and adv.dtype == np.uint8
    assert (out / "one_figure.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text())
    rec = summary["results"][0]
    assert summary["n_failed"] == 0 and rec["error"] is None and len(rec["top5_after"]) == 5
    assert rec["linf"] <= 16 / 255 + 1e-6
    # outputs exist: refused without --force
    again = run(inputs / "one.png", "--chars", "--model", tiny_model_path, "--out", out)
    assert again.exit_code == 2 and "--force" in again.output


def test_plate_crop_attack_and_batch_goes_on(tiny_model_path, inputs, tmp_path):
    out = tmp_path / "out"
    result = run(inputs / "broken.png", inputs / "plate.png", "--crop", "--country", "es", "--model", tiny_model_path,
                 "--position", "0", "--eps", "32/255", "--steps", "3", "--restarts", "1", "--jitter", "1", "--out", out)
    assert result.exit_code == 1, result.output  # one file failed, the other was attacked
    summary = json.loads((out / "summary.json").read_text())
    broken, plate = summary["results"]
    assert broken["error"] and "broken.png" in broken["error"]
    assert plate["error"] is None and plate["original_text"] and "success" in plate
    adv = cv2.imread(str(out / "plate_adv.png"))
    clean = cv2.imread(str(inputs / "plate.png"))
    assert adv.shape == clean.shape and np.abs(adv.astype(int) - clean).max() <= 32
    assert (out / "plate_figure.png").exists()


def test_sweep_writes_curve(tiny_model_path, tmp_path):
    out = tmp_path / "sweep"
    result = run("--sweep", "--model", tiny_model_path, "--samples", "40", "--sweep-eps", "0,16/255,64/255",
                 "--steps", "5", "--out", out)
    assert result.exit_code == 0, result.output
    rows = (out / "curve.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[1].split(",")[2] == "1.0000"  # clean accuracy of the kept crops
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    curve = json.loads((out / "summary.json").read_text())
    pgd = curve["accuracy"]["pgd"]
    assert pgd[0] == 1.0 and pgd[-1] <= pgd[0]
