"""Hostile and mismatched model files: each is refused by ``alpr.load_model`` with a one-line
ValueError and by ``alpr recognize --model FILE`` with a one-line error and exit code 2.

Built here: a Lambda-layer model (Python lambda, and a named builtin), a config naming a class
outside Keras, a corrupted zip, a non-zip, a truncated zip, a .h5 path, models whose output size
or input shape do not match the pipeline, and broken model cards.
"""

import io
import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner

keras = pytest.importorskip("keras")

from alpr import model as M  # noqa: E402
from alpr.cli import main  # noqa: E402
from alpr.plates import ALPHABETS  # noqa: E402

ES = ALPHABETS["es"]


def _card(alphabet=ES, **extra) -> dict:
    return {"alphabet": alphabet, "input_shape": list(M.INPUT_SHAPE), "n_classes": len(alphabet), "output": "logits", **extra}


def _write_card(path, card) -> None:
    path.with_suffix(".json").write_text(json.dumps(card) if not isinstance(card, str) else card, encoding="utf-8")


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """A small valid model file (and card); tests copy and damage it."""
    folder = tmp_path_factory.mktemp("models")
    net = M.build_model(len(ES), width=4)
    path = folder / "good.keras"
    M.save_model(M.CharModel(net, ES), path, {"country": "es"})
    return path


def _tiny(inputs_shape=M.INPUT_SHAPE, n_out=len(ES), lambda_fn=None):
    inputs = keras.Input(shape=inputs_shape)
    x = inputs
    if lambda_fn is not None:
        x = keras.layers.Lambda(lambda_fn)(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(n_out)(x))


def _copy(good, tmp_path, name="m.keras", card=None):
    path = tmp_path / name
    path.write_bytes(good.read_bytes())
    _write_card(path, card if card is not None else json.loads(good.with_suffix(".json").read_text()))
    return path


def _rewrite_config(src, dst, edit) -> None:
    """Copy a .keras archive, passing its config.json through ``edit``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                edit(config)
                data = json.dumps(config).encode()
            zout.writestr(item, data)


def _bad_models(good, tmp_path):
    """(name, path, expected message fragment) for every refused model."""
    cases = []

    p = tmp_path / "lambda.keras"
    _tiny(lambda_fn=lambda t: t * 2.0).save(p)
    _write_card(p, _card())
    cases.append(("python lambda", p, "Lambda"))

    p = tmp_path / "lambda_builtin.keras"
    _tiny(lambda_fn=keras.ops.abs).save(p)
    _write_card(p, _card())
    cases.append(("lambda with a named function", p, "Lambda"))

    p = tmp_path / "foreign.keras"

    def foreign(config):
        config["config"]["layers"][1]["module"] = "os"
        config["config"]["layers"][1]["class_name"] = "system"

    _rewrite_config(good, p, foreign)
    _write_card(p, _card())
    cases.append(("class outside keras", p, "outside Keras"))

    p = tmp_path / "custom.keras"

    def custom(config):
        config["config"]["layers"][1]["registered_name"] = "evil>Layer"

    _rewrite_config(good, p, custom)
    _write_card(p, _card())
    cases.append(("custom registered object", p, "custom object"))

    data = bytearray(good.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes(64)
    p = tmp_path / "corrupt.keras"
    p.write_bytes(bytes(data))
    _write_card(p, _card())
    cases.append(("corrupted zip", p, "corrupt"))

    p = tmp_path / "truncated.keras"
    p.write_bytes(good.read_bytes()[: len(data) // 3])
    _write_card(p, _card())
    cases.append(("truncated zip", p, "zip"))

    p = tmp_path / "notzip.keras"
    p.write_bytes(b"this is not a zip archive at all")
    _write_card(p, _card())
    cases.append(("not a zip", p, "not a zip"))

    p = tmp_path / "noconfig.keras"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("metadata.json", "{}")
    p.write_bytes(buf.getvalue())
    _write_card(p, _card())
    cases.append(("zip without config", p, "config.json"))

    p = tmp_path / "legacy.h5"
    p.write_bytes(b"\x89HDF\r\n\x1a\n")
    cases.append((".h5 path", p, ".keras"))

    p = tmp_path / "wide_out.keras"
    _tiny(n_out=36).save(p)
    _write_card(p, _card())
    cases.append(("output size != alphabet", p, "logits"))

    p = tmp_path / "big_in.keras"
    _tiny(inputs_shape=(40, 32, 1)).save(p)
    _write_card(p, _card())
    cases.append(("input shape not 32x24x1", p, "input shape"))

    cards = {
        "card missing": None,
        "card not json": "{not json",
        "card not an object": "[1, 2]",
        "card without alphabet": {"input_shape": [32, 24, 1]},
        "card without input_shape": {"alphabet": ES},
        "card alphabet not a string": _card(alphabet=["0", "1"]),
        "card alphabet repeats": _card(alphabet=ES[:-1] + "0"),
        "card alphabet lowercase": _card(alphabet=ES[:-1] + "z"),
        "card input_shape mismatch": _card(input_shape=[64, 48, 1]),
        "card input_shape malformed": _card(input_shape="32x24"),
        "card n_classes mismatch": _card(n_classes=12),
        "card says softmax": _card(output="softmax"),
        "card wrong alphabet size": _card(alphabet=ALPHABETS["eu"]),
    }
    fragments = {
        "card missing": "card not found", "card not json": "not a valid JSON", "card not an object": "JSON object",
        "card without alphabet": "lacks 'alphabet'", "card without input_shape": "lacks 'input_shape'",
        "card alphabet not a string": "non-empty string", "card alphabet repeats": "repeats",
        "card alphabet lowercase": "no plate grammar", "card input_shape mismatch": "input_shape",
        "card input_shape malformed": "input_shape", "card n_classes mismatch": "n_classes",
        "card says softmax": "logits", "card wrong alphabet size": "logits",
    }
    for i, (name, card) in enumerate(cards.items()):
        p = tmp_path / f"card{i}.keras"
        p.write_bytes(good.read_bytes())
        if card is not None:
            _write_card(p, card)
        cases.append((name, p, fragments[name]))
    return cases


@pytest.fixture(scope="module")
def bad_models(good, tmp_path_factory):
    return _bad_models(good, tmp_path_factory.mktemp("bad"))


def test_good_model_loads(good):
    model = M.load_model(good)
    assert model.alphabet == ES and model.input_shape == M.INPUT_SHAPE


def test_every_bad_model_is_refused_by_the_api(bad_models):
    for name, path, fragment in bad_models:
        with pytest.raises(ValueError) as info:
            M.load_model(path)
        message = str(info.value)
        assert fragment in message, (name, message)
        assert "\n" not in message and len(message) < 400, (name, message)


def test_every_bad_model_is_refused_by_the_cli(bad_models, good, tmp_path):
    image = tmp_path / "photo.png"  # never opened: the model is refused first
    image.write_bytes(b"")
    runner = CliRunner()
    for name, path, fragment in bad_models:
        result = runner.invoke(main, ["recognize", str(image), "--model", str(path), "--json"])
        lines = [ln for ln in result.output.splitlines() if ln.strip()]
        assert result.exit_code == 2, (name, result.output)
        assert len(lines) == 1 and lines[0].startswith("Error:") and fragment in lines[0], (name, result.output)
        assert "Traceback" not in result.output


def test_lambda_is_refused_before_keras_runs_anything(good, tmp_path, monkeypatch):
    """The archive scan refuses Lambda layers even if Keras' own safe mode were switched off."""
    path = tmp_path / "lambda.keras"
    _tiny(lambda_fn=lambda t: t + 1.0).save(path)
    _write_card(path, _card())
    called = []
    monkeypatch.setattr(keras.saving, "load_model", lambda *a, **k: called.append(1))
    with pytest.raises(ValueError, match="Lambda"):
        M.load_model(path)
    assert not called


def test_missing_files_are_both_file_not_found_and_value_errors(tmp_path):
    for target in (tmp_path / "nope.keras",):
        with pytest.raises(FileNotFoundError):
            M.load_model(target)
        with pytest.raises(ValueError):
            M.load_model(target)
    folder = tmp_path / "dir.keras"
    folder.mkdir()
    with pytest.raises(ValueError, match="folder"):
        M.load_model(folder)


def test_save_model_writes_model_and_card_together(tmp_path):
    net = M.build_model(len(ES), width=4)
    path = M.save_model(M.CharModel(net, ES), tmp_path / "sub" / "m.keras", {})
    assert sorted(p.name for p in path.parent.iterdir()) == ["m.json", "m.keras"]
    x = np.zeros((1, *M.INPUT_SHAPE), np.float32)
    assert M.load_model(path).predict_logits(x).shape == (1, len(ES))
