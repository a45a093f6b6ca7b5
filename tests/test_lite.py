"""LiteRT inference of the character CNN and the plate detector (alpr.lite): same outputs as
Keras, cached by weights, and the Keras fallback when disabled."""

import numpy as np
import pytest

from alpr import lite
from alpr.model import CharModel, build_model
from alpr.plates import ALPHABETS

pytest.importorskip("ai_edge_litert")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ALPR_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("ALPR_LITERT", raising=False)
    return tmp_path / "litert"


def _model(seed: int) -> CharModel:
    import keras

    keras.utils.set_random_seed(seed)
    return CharModel(build_model(len(ALPHABETS["es"]), width=4, dropout=0.0), ALPHABETS["es"])


def test_runner_reproduces_keras_logits_for_any_batch_size(cache):
    model = _model(0)
    runner = lite.runner(model.keras_model, (8, *model.input_shape))
    assert runner is not None
    x = np.random.default_rng(1).random((13, *model.input_shape), dtype=np.float32)
    np.testing.assert_allclose(runner(x), model.predict_logits(x), atol=1e-4)
    np.testing.assert_allclose(runner(x[:1]), model.predict_logits(x[:1]), atol=1e-4)  # resized back


def test_flatbuffers_are_cached_by_weights(cache):
    model = _model(0)
    lite.runner(model.keras_model, (2, *model.input_shape))
    assert len(list(cache.glob("*.tflite"))) == 1
    lite.runner(model.keras_model, (2, *model.input_shape))  # same weights: the cached file
    assert len(list(cache.glob("*.tflite"))) == 1
    weights = model.keras_model.get_weights()
    model.keras_model.set_weights([w + 0.01 for w in weights])  # fine-tuned: never the stale file
    runner = lite.runner(model.keras_model, (2, *model.input_shape))
    assert len(list(cache.glob("*.tflite"))) == 2
    x = np.random.default_rng(2).random((4, *model.input_shape), dtype=np.float32)
    np.testing.assert_allclose(runner(x), model.predict_logits(x), atol=1e-4)


def test_frozen_logits_falls_back_to_keras_when_disabled(cache, monkeypatch):
    monkeypatch.setenv("ALPR_LITERT", "0")
    model = _model(0)
    assert lite.runner(model.keras_model, (2, *model.input_shape)) is None
    assert model.frozen_logits() == model.predict_logits
    assert not cache.exists()


def test_frozen_logits_of_no_crops(cache):
    model = _model(0)
    out = model.frozen_logits()(np.zeros((0, *model.input_shape), np.float32))
    assert out.shape == (0, len(ALPHABETS["es"]))


def test_quantized_runner_is_close_to_keras_and_cached_apart(cache):
    model = _model(0)
    runner = lite.runner(model.keras_model, (8, *model.input_shape), quantized=True)
    assert runner is not None
    x = np.random.default_rng(3).random((16, *model.input_shape), dtype=np.float32)
    reference = model.predict_logits(x)
    scale = float(np.abs(reference).max())
    error = np.abs(runner(x) - reference).max()
    assert 0 < error <= lite.MAX_QUANTIZED_PROBE_ERROR * scale  # int8 weights: close, but not float32's logits
    lite.runner(model.keras_model, (8, *model.input_shape))  # float32: its own flatbuffer
    assert len(list(cache.glob("*.tflite"))) == 2


def test_quantized_logits_of_a_crop_do_not_depend_on_its_batch(cache):
    # read and read_many must agree: a crop's logits may not change with the other crops of its plate
    model = _model(0)
    runner = lite.runner(model.keras_model, (8, *model.input_shape), quantized=True)
    x = np.random.default_rng(4).random((6, *model.input_shape), dtype=np.float32)
    together = runner(x)
    x[1:] *= 0.1  # much fainter neighbours
    np.testing.assert_array_equal(runner(x[:1]), together[:1])
    np.testing.assert_array_equal(runner(x)[:1], together[:1])


def test_float_mode_keeps_float_weights(cache, monkeypatch):
    monkeypatch.setenv("ALPR_LITERT", "float")
    model = _model(0)
    runner = lite.runner(model.keras_model, (8, *model.input_shape), quantized=True)
    x = np.random.default_rng(5).random((4, *model.input_shape), dtype=np.float32)
    np.testing.assert_allclose(runner(x), model.predict_logits(x), atol=1e-4)


def test_weights_names_what_the_runner_reads_with(monkeypatch):
    monkeypatch.delenv("ALPR_LITERT", raising=False)
    assert lite.weights() == "int8" and lite.weights(quantized=False) == "float32"
    monkeypatch.setenv("ALPR_LITERT", "float")
    assert lite.weights() == "float32"
    monkeypatch.setenv("ALPR_LITERT", "0")
    assert lite.weights() == "keras"


def test_two_output_detector_runs_at_any_size_in_keras_order(cache):
    # the plate detector's case: any photo size, upsampled features concatenated with a skip
    # connection (which from_keras_model cannot convert), and two outputs the converter may reorder
    from alpr import plate_net

    import keras

    keras.utils.set_random_seed(0)
    model = plate_net.build_model()
    runner = lite.runner(model, (2, 64, 96, 3), quantized=True, shapes=2)
    assert runner is not None
    # two shapes keep their interpreters; a third takes over the least recently used one
    for shape in ((2, 48, 64, 3), (1, 96, 128, 3), (2, 48, 64, 3), (2, 32, 32, 3), (1, 96, 128, 3)):
        x = np.random.default_rng(6).random(shape, dtype=np.float32)
        heat, box = runner(x)
        reference = [np.asarray(out) for out in model(x, training=False)]
        assert heat.shape == reference[0].shape and box.shape == reference[1].shape
        for out, ref in zip((heat, box), reference):
            assert np.abs(out - ref).max() <= lite.MAX_QUANTIZED_PROBE_ERROR * np.abs(ref).max()
        assert len(runner._interpreters) <= 2


def test_plate_net_reads_with_litert_unless_disabled(cache, monkeypatch):
    from alpr import plate_net

    import keras

    keras.utils.set_random_seed(0)
    model = plate_net.build_model()
    assert isinstance(plate_net.PlateNet(model)._run, lite.LiteRunner)
    monkeypatch.setenv("ALPR_LITERT", "0")
    assert not isinstance(plate_net.PlateNet(model)._run, lite.LiteRunner)


def test_a_model_file_converted_once_is_read_without_loading_keras(cache, tmp_path):
    from alpr.model import load_model, save_model

    path = save_model(_model(0), tmp_path / "tiny.keras", {"country": "es"})
    first = load_model(path)  # loaded, checked and converted; the conversion is cached by the file's bytes
    assert first._keras_model is not None
    second = load_model(path)
    assert second._keras_model is None  # read through the cached flatbuffer alone
    x = np.random.default_rng(7).random((5, *second.input_shape), dtype=np.float32)
    np.testing.assert_array_equal(second.frozen_logits()(x), first.frozen_logits()(x))
    np.testing.assert_allclose(second.predict_logits(x), first.predict_logits(x), atol=1e-5)  # Keras, loaded now
    assert second._keras_model is not None
    second.keras_model.set_weights([w * 0.5 for w in second.keras_model.get_weights()])
    assert np.abs(second.frozen_logits()(x) - first.frozen_logits()(x)).max() > 1e-3  # changed weights are read
    path.write_bytes(path.read_bytes() + b"\0")  # other bytes: another key (the zip still loads)
    assert load_model(path)._keras_model is not None


def test_reading_photos_with_a_warm_cache_imports_no_tensorflow(cache):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    program = """
import sys
import alpr
from alpr.imageio import load_image
from alpr.threads import single_threaded_kernels
single_threaded_kernels()
texts = [p.text for p in alpr.Recognizer("auto").read(load_image("data/samples/es_1.jpg"))]
print(texts, "tensorflow" in sys.modules)
"""
    env = {**os.environ, "PYTHONPATH": str(root), "ALPR_CACHE_DIR": str(cache.parent)}
    runs = [subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=root, env=env)
            for _ in range(2)]
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
    assert runs[0].stdout.split() == ["['1234BCD']", "True"]  # the first run loads and converts the models
    assert runs[1].stdout.split() == ["['1234BCD']", "False"]
