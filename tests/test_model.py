"""Character CNN: architecture, preprocessing, save/load, registry errors, CLI smoke training."""

import importlib.util
import json
from dataclasses import dataclass

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from alpr import model as M  # noqa: E402
from alpr.plates import ALPHABETS  # noqa: E402
from scripts_module import load_script  # noqa: E402  (tests/scripts_module.py)


@pytest.fixture(scope="module")
def tiny():
    net = M.build_model(len(ALPHABETS["es"]), width=4)
    return M.CharModel(net, ALPHABETS["es"], {"country": "es"})


def test_builds_and_outputs_logits(tiny):
    assert tiny.input_shape == M.INPUT_SHAPE
    x = np.random.default_rng(0).random((16, *tiny.input_shape), dtype=np.float32)
    z = tiny.predict_logits(x)
    assert z.shape == (16, 30) and z.dtype == np.float32
    # logits, not probabilities
    assert (z < 0).any() or (z > 1).any() or not np.allclose(z.sum(axis=1), 1.0)
    p = tiny.predict_proba(x)
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-5) and (p >= 0).all()
    assert np.allclose(p, keras.ops.convert_to_numpy(keras.ops.softmax(tiny.keras_model(x, training=False))), atol=1e-5)
    # no softmax layer, no Lambda layer, a rescaling layer inside
    names = [type(layer).__name__ for layer in tiny.keras_model.layers]
    assert "Lambda" not in names and "Softmax" not in names and "Rescaling" in names


def test_save_load_roundtrip_safe_mode(tiny, tmp_path):
    path = tmp_path / "m.keras"
    M.save_model(tiny, path, {"country": "es", "note": "test"})
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["alphabet"] == ALPHABETS["es"] and card["input_shape"] == list(M.INPUT_SHAPE)
    loaded = M.load_model(path)
    assert loaded.alphabet == tiny.alphabet and loaded.input_shape == tiny.input_shape
    x = np.random.default_rng(1).random((8, *tiny.input_shape), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_logits(x), tiny.predict_logits(x))
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_load_rejects_inconsistent_card(tiny, tmp_path):
    path = tmp_path / "m.keras"
    M.save_model(tiny, path, {})
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["alphabet"] = "0123"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="alphabet"):
        M.load_model(path)
    card["alphabet"], card["input_shape"] = ALPHABETS["es"], [40, 32, 1]
    card_path.write_text(json.dumps(card))
    with pytest.raises(ValueError, match="input_shape"):
        M.load_model(path)
    card_path.unlink()
    with pytest.raises(FileNotFoundError):
        M.load_model(path)


@pytest.mark.parametrize(
    "crop",
    [
        np.zeros((20, 1, 3), np.uint8),  # 1 px wide
        np.full((1, 1, 3), 200, np.uint8),  # single pixel
        np.random.default_rng(0).integers(0, 256, (1500, 900, 3), dtype=np.uint8),  # huge
        np.full((30, 18), 128, np.uint8),  # flat grey, 2-D
        np.random.default_rng(1).integers(0, 256, (27, 17, 1), dtype=np.uint8),  # grey with channel
        np.random.default_rng(2).integers(0, 256, (27, 17, 4), dtype=np.uint8),  # BGRA
        np.random.default_rng(3).random((25, 40, 3)).astype(np.float32),  # float in [0, 1], wide
    ],
)
def test_crops_to_input_shapes(tiny, crop):
    x = tiny.crops_to_input([crop, crop])
    assert x.shape == (2, *tiny.input_shape) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0


def test_crops_to_input_dark_ink_stays_dark(tiny):
    crop = np.full((30, 18, 3), 180, np.uint8)
    crop[5:25, 7:11] = 40  # a dark "1"
    x = tiny.crops_to_input([crop])[0, ..., 0]
    h, w = x.shape
    assert x[h // 2, w // 2] < 0.2 and x[h // 2, 1] > 0.8
    assert tiny.crops_to_input([]).shape == (0, *tiny.input_shape)


def test_crops_to_input_rejects_bad_arrays(tiny):
    with pytest.raises(ValueError):
        tiny.crops_to_input([np.zeros((0, 5, 3), np.uint8)])
    with pytest.raises(ValueError):
        tiny.crops_to_input([np.zeros((5, 5, 2), np.uint8)])


def test_load_model_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown model"):
        M.load_model("klingon")
    with pytest.raises(FileNotFoundError):
        M.load_model(tmp_path / "missing.keras")
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip")
    bad.with_suffix(".json").write_text(json.dumps({"alphabet": "01"}))
    with pytest.raises(ValueError):
        M.load_model(bad)


def _standin_render(plate=None, country="de", *, rng=None, seed=None, height_px=64, style=None):
    """Used only when the real renderer is not importable: black bars as 'characters'."""

    @dataclass
    class R:
        image: np.ndarray
        plate: object
        boxes: np.ndarray
        group_index: np.ndarray

    n = len(plate.text)
    w = int(height_px * 520 / 110)
    img = np.full((height_px, w, 3), 230, np.uint8)
    boxes = []
    for i, ch in enumerate(plate.text):
        x = 10 + i * (w - 20) // n
        cw = max(2, (w - 20) // n - 4)
        img[height_px // 8 : -height_px // 8, x : x + cw][:, :: 1 + ord(ch) % 4] = 20
        boxes.append((x, height_px // 8, cw, height_px - 2 * (height_px // 8)))
    return R(img, plate, np.array(boxes), np.zeros(n, int))


def test_cli_train_smoke(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from alpr import char_crops
    from alpr.cli import main

    if importlib.util.find_spec("alpr.synth.render") is None:
        monkeypatch.setattr(char_crops, "_default_renderer", lambda: _standin_render)
    out = tmp_path / "models" / "tiny.keras"
    args = ["train", "--country", "es", "--samples", "200", "--test-samples", "50", "--epochs", "1",
            "--width", "4", "--seed", "3", "--quiet", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["country"] == "es" and card["data"]["n_train"] == 200 and card["training"]["epochs"] == 1
    assert "alpr train --country es" in card["command"] and 0.0 <= card["metrics"]["synthetic_heldout_accuracy"] <= 1.0
    m = M.load_model(out)
    assert m.alphabet == ALPHABETS["es"]
    bad = CliRunner().invoke(main, ["train", "--country", "es", "--out", str(tmp_path / "x.h5")])
    assert bad.exit_code != 0 and "keras" in bad.output


def test_cli_train_label_smoothing_cut_rate_and_ema_reach_the_card(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from alpr import char_crops
    from alpr.cli import main

    if importlib.util.find_spec("alpr.synth.render") is None:
        monkeypatch.setattr(char_crops, "_default_renderer", lambda: _standin_render)
    out = tmp_path / "ls.keras"
    args = ["train", "--country", "es", "--samples", "60", "--test-samples", "20", "--epochs", "1",
            "--width", "4", "--label-smoothing", "0.1", "--cut-rate", "0.3", "--ema", "0.9", "--seed", "1", "--quiet",
            "--font-mix", "es=3,din=1", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert "label smoothing 0.1" in card["training"]["loss"] and "--label-smoothing 0.1" in card["command"]
    assert card["data"]["policy"]["cut_rate"] == 0.3 and "--cut-rate 0.3" in card["command"]
    assert "EMA (momentum 0.9)" in card["training"]["optimizer"] and "--ema 0.9" in card["command"]
    assert card["data"]["train_font_mix"] == {"es": 0.75, "din": 0.25, "fe": 0.0, "dejavu": 0.0}
    assert "--font-mix es=3,din=1" in card["command"] and "font_mix" not in card["data"]["policy"]
    bad = CliRunner().invoke(main, ["train", "--country", "es", "--label-smoothing", "1", "--out", str(tmp_path / "y.keras")])
    assert bad.exit_code != 0
    for mix, message in [("es=1,comic=1", "unknown font 'comic'"), ("es=-1", "weights >= 0"), ("es", "FONT=WEIGHT"),
                         ("es=0,din=0", "positive sum")]:
        refused = CliRunner().invoke(main, ["train", "--country", "es", "--font-mix", mix, "--out", str(tmp_path / "z.keras")])
        assert refused.exit_code == 2 and message in refused.output, (mix, refused.output)


def test_ema_keeps_the_averaged_weights(monkeypatch):
    """With a momentum near 1 the average stays where the first step left it (Keras starts the
    average there: one Adam step, about the learning rate, from the --init weights), while the raw
    weights move on for 16 steps: the saved model must be the average."""
    from alpr import char_crops, training

    if importlib.util.find_spec("alpr.synth.render") is None:
        monkeypatch.setattr(char_crops, "_default_renderer", lambda: _standin_render)
    start = M.CharModel(M.build_model(len(ALPHABETS["es"]), width=4), ALPHABETS["es"])
    monkeypatch.setattr(training, "_init_model", lambda init, alphabet, width: start)

    def moved(ema):
        cfg = training.TrainConfig(country="es", samples=64, test_samples=8, epochs=2, width=4, seed=2,
                                   batch_size=8, learning_rate=1e-2, init="start", ema=ema)
        model, card = training.train(cfg, progress=False, log=lambda *_: None)
        pairs = zip(model.keras_model.trainable_weights, start.keras_model.trainable_weights)
        return max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for a, b in pairs), card

    raw, _ = moved(0.0)
    averaged, card = moved(0.999999)
    assert raw > 5e-2 and averaged < 1.5e-2 and "EMA" in card["training"]["optimizer"]


def test_cli_train_init_fine_tunes_from_a_model(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from alpr import char_crops
    from alpr.cli import main

    if importlib.util.find_spec("alpr.synth.render") is None:
        monkeypatch.setattr(char_crops, "_default_renderer", lambda: _standin_render)
    base, tuned = tmp_path / "base.keras", tmp_path / "tuned.keras"
    common = ["--country", "es", "--samples", "60", "--test-samples", "20", "--epochs", "1", "--width", "4", "--quiet"]
    assert CliRunner().invoke(main, ["train", *common, "--seed", "1", "--out", str(base)]).exit_code == 0
    result = CliRunner().invoke(main, ["train", *common, "--seed", "2", "--lr", "1e-9", "--init", str(base), "--out", str(tuned)])
    assert result.exit_code == 0, result.output
    card = json.loads(tuned.with_suffix(".json").read_text())
    assert card["training"]["init"]["model"] == str(base) and card["training"]["init"]["train_seed"] == 1
    assert "--init" in card["command"]

    def first_kernel(path):
        return M.load_model(path).keras_model.get_weights()[0]

    # at a vanishing learning rate the fine-tuned kernels are the starting model's, not a fresh draw
    np.testing.assert_allclose(first_kernel(tuned), first_kernel(base), atol=1e-6)
    wrong_country = CliRunner().invoke(main, ["train", *common, "--country", "de", "--init", str(base), "--out", str(tmp_path / "d.keras")])
    assert wrong_country.exit_code != 0 and "alphabet" in wrong_country.output
    wrong_width = CliRunner().invoke(main, ["train", *common, "--width", "8", "--init", str(base), "--out", str(tmp_path / "w.keras")])
    assert wrong_width.exit_code != 0 and "width 4" in wrong_width.output


def test_dataset_is_reproducible(monkeypatch):
    from alpr import char_crops

    if importlib.util.find_spec("alpr.synth.render") is None:
        monkeypatch.setattr(char_crops, "_default_renderer", lambda: _standin_render)
    x1, y1 = char_crops.make_dataset("de", 30, 5, progress=False)
    x2, y2 = char_crops.make_dataset("de", 30, 5, progress=False)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(x1, x2)
    assert x1.shape == (30, *M.INPUT_SHAPE) and x1.dtype == np.float32


def test_eval_script_reads_yolo_char_labels(tmp_path):
    import cv2

    script = load_script("eval_char_cnn")
    confusion, load_yolo_char_crops = script.confusion, script.load_yolo_char_crops

    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "00001_AN-1234-BC.jpg"), np.full((40, 160, 3), 200, np.uint8))
    (tmp_path / "labels" / "00001_AN-1234-BC.txt").write_text("1 0.1 0.5 0.1 0.6\n11 0.5 0.5 0.1 0.6\n")
    crops, chars, sources = load_yolo_char_crops(tmp_path)
    assert chars == ["1", "B"] and crops[0].shape == (24, 16, 3) and sources[1].endswith(":2")
    assert confusion([0, 1, 1], [0, 1, 0], 2).tolist() == [[1, 0], [1, 1]]


def test_eval_script_error_sheet_shows_only_misreads(tmp_path):
    import cv2

    error_sheet = load_script("eval_char_cnn").error_sheet

    x = np.random.default_rng(0).random((25, *M.INPUT_SHAPE), dtype=np.float32)
    y = np.zeros(25, int)
    pred = np.r_[np.ones(12, int), np.zeros(13, int)]  # 12 misreads: two rows of ten tiles
    error_sheet(tmp_path / "errors.png", x, y, pred, "AB", 100)
    assert cv2.imread(str(tmp_path / "errors.png")).shape == (2 * 64, 10 * 48, 3)
    crops = [np.full((30, 20, 3), 128, np.uint8)] * 25
    error_sheet(tmp_path / "limited.png", x, y, pred, "AB", 3, crops)  # crop beside input
    assert cv2.imread(str(tmp_path / "limited.png")).shape == (64, 10 * 96, 3)
    error_sheet(tmp_path / "none.png", x, y, y, "AB", 100)
    assert not (tmp_path / "none.png").exists()


def test_eval_script_accuracy_per_font():
    per_font = load_script("eval_char_cnn").per_font

    fonts = np.array(["fe", "fe", "fe", "din"])
    result = per_font(fonts, np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3]))
    assert list(result) == ["fe", "din"]  # most frequent first
    assert result["fe"] == (2 / 3, 3) and result["din"] == (1.0, 1)


def test_eval_script_kind_constrained_accuracy_only_forgives_cross_kind_misreads():
    kind_constrained_accuracy = load_script("eval_char_cnn").kind_constrained_accuracy

    alphabet = "01OI"
    # true 0 read O (a letter: forgiven), true O read 0 (forgiven), true 1 read 0 (same kind: not), true I read I
    logits = np.array([[1, 0, 3, 0], [2, 0, 1, 0], [2, 1, 0, 0], [0, 0, 0, 5]], np.float32)
    y = np.array([0, 2, 1, 3])
    assert kind_constrained_accuracy(logits, y, alphabet) == 0.75


def test_eval_script_reports_the_accuracy_as_the_pipeline_reads(tiny, monkeypatch, capsys):
    reader_accuracy = load_script("eval_char_cnn").reader_accuracy
    monkeypatch.setenv("ALPR_LITERT", "0")  # the Keras fallback: exactly the float model's predictions
    x = np.random.default_rng(0).random((10, *tiny.input_shape), dtype=np.float32)
    pred = tiny.predict_logits(x).argmax(axis=1)
    y = pred.copy()
    y[:4] = (y[:4] + 1) % tiny.n_classes
    assert reader_accuracy(tiny, x, y, pred) == pytest.approx(0.6)
    assert "0 of 10 predictions differ" in capsys.readouterr().out
