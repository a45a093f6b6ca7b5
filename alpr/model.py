"""The character CNN: architecture, the exact crop preprocessing, and the bundled-model registry.

A :class:`CharModel` wraps a Keras 3 functional model that maps a batch of grayscale character
images ``float32 (N, 32, 24, 1)`` in ``[0, 1]`` to **logits** ``(N, len(alphabet))`` (no softmax;
the ``[0, 1] -> [-1, 1]`` rescaling is a layer inside the model, so attacks work in pixel space).

Preprocessing (:meth:`CharModel.crops_to_input`, applied identically in training and in the
pipeline) for one BGR character crop:

1. to grey (BGR/BGRA/grey accepted; alpha is composited on white);
2. contrast stretch: the 1st..99th grey percentiles map to 0..1 (dark ink stays dark; a flat
   crop becomes mid-grey);
3. aspect-preserving resize so the crop fits inside 32 x 24 (H x W), INTER_AREA when shrinking;
4. centred, padded to 32 x 24 with a constant paper level (the crop's 90th grey percentile
   after the stretch), so narrow crops such as a tight "1" are not smeared sideways.

Bundled models are found with :func:`alpr.resources.models_dir`: ``NAME.keras`` plus the model
card ``NAME.json`` (alphabet, input shape, data, metrics, command, versions).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from alpr import atomic
from alpr._components import percentiles
from alpr.resources import models_dir
from alpr.tf_import import import_tensorflow

#: Names of the bundled models (``models_dir()/NAME.keras`` + ``NAME.json``).
MODEL_NAMES = ("de", "es", "eu", "de-hardened", "es-hardened")
#: Default network input (height, width, channels).
INPUT_SHAPE = (32, 24, 1)


def build_model(n_classes: int, input_shape: tuple[int, int, int] = INPUT_SHAPE, *, width: int = 32, dropout: float = 0.3):
    """A small VGG-style CNN returning logits: 3 conv stages (width, 2*width, 4*width filters,
    BatchNorm + ReLU, max-pooling), then Dense(4*width) and Dense(n_classes).

    ``width=32`` gives ~0.3 M parameters (~1.3 MB saved); tests use ``width=4``.
    """
    import_tensorflow()
    import keras
    from keras import layers

    inputs = keras.Input(shape=tuple(input_shape), dtype="float32", name="chars")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_pm1")(inputs)  # [0, 1] -> [-1, 1]

    def conv(x, filters, name):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
        return layers.ReLU(name=f"{name}_relu")(x)

    x = conv(x, width // 2, "c1a")
    x = conv(x, width, "c1b")
    x = layers.MaxPooling2D(2, name="pool1")(x)  # 16 x 12
    x = conv(x, 2 * width, "c2a")
    x = conv(x, 2 * width, "c2b")
    x = layers.MaxPooling2D(2, name="pool2")(x)  # 8 x 6
    x = conv(x, 4 * width, "c3a")
    x = layers.MaxPooling2D(2, name="pool3")(x)  # 4 x 3
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(dropout, name="drop")(x)
    x = layers.Dense(4 * width, use_bias=False, name="fc")(x)
    x = layers.BatchNormalization(name="fc_bn")(x)
    x = layers.ReLU(name="fc_relu")(x)
    logits = layers.Dense(n_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="char_cnn")


def describe_architecture(n_classes: int, width: int = 32) -> str:
    """The model card's one-line description of :func:`build_model`'s network."""
    return (f"char_cnn width={width}: conv{width // 2}-conv{width}-pool-conv{2 * width}x2-pool-conv{4 * width}-pool-"
            f"dense{4 * width}-dense{n_classes}, BatchNorm+ReLU, logits")


def preprocess_crop(crop: np.ndarray, input_shape: tuple[int, int, int] = INPUT_SHAPE) -> np.ndarray:
    """One character crop (H x W [x 1|3|4] uint8/float BGR[A] or grey) -> float32 (h, w, 1) in [0, 1].

    See the module docstring for the steps. Any size >= 1 x 1 is accepted.
    """
    h_out, w_out = int(input_shape[0]), int(input_shape[1])
    img = np.asarray(crop)
    if img.ndim not in (2, 3) or img.size == 0 or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"expected an H x W, H x W x 1, x 3 or x 4 image, got shape {img.shape}")
    is_float = img.dtype.kind == "f"
    img = img.astype(np.float32)
    if is_float and float(img.max(initial=0)) <= 1.0:
        img = img * 255.0  # float images in [0, 1]
    if img.ndim == 3 and img.shape[2] == 4:
        alpha = img[..., 3:4] / 255.0
        img = img[..., :3] * alpha + 255.0 * (1.0 - alpha)
    if img.ndim == 3 and img.shape[2] == 3:
        grey = img[..., 0] * 0.114 + img[..., 1] * 0.587 + img[..., 2] * 0.299
    else:
        grey = img.reshape(img.shape[0], img.shape[1])
    lo, hi = map(np.float64, percentiles(grey, (1.0, 99.0)))  # numpy scalars, as np.percentile gave
    if hi - lo < 1e-3:
        grey = np.full_like(grey, 0.5)
    else:
        grey = np.clip((grey - lo) / (hi - lo), 0.0, 1.0)
    h, w = grey.shape
    scale = min(h_out / h, w_out / w)
    nh, nw = max(1, min(h_out, int(round(h * scale)))), max(1, min(w_out, int(round(w * scale))))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    grey = cv2.resize(grey, (nw, nh), interpolation=interp)
    top, left = (h_out - nh) // 2, (w_out - nw) // 2
    background = percentiles(grey, (90.0,))[0]  # paper level; replicating edges would smear ink
    out = cv2.copyMakeBorder(grey, top, h_out - nh - top, left, w_out - nw - left, cv2.BORDER_CONSTANT, value=background)
    return np.clip(out, 0.0, 1.0).astype(np.float32)[..., None]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``(N, K)`` logits (max-shifted, so large logits do not overflow)."""
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class CharModel:
    """A character classifier: Keras model (logits out), its alphabet (logit order), input shape
    ``(H, W, C)`` and model card (a JSON-able dict).

    ``keras_model`` may be None when ``loader`` (a function returning it) is given with
    ``reader``, a LiteRT runner of the same weights (what :func:`load_model` gives when the
    model file's conversion is cached): reading then needs no Keras, and the Keras model is
    loaded on first use of :attr:`keras_model` (attacks, training, ``predict_logits``)."""

    def __init__(self, keras_model, alphabet: str, card: dict | None = None, *, loader=None, reader=None):
        if keras_model is None and (loader is None or reader is None):
            raise ValueError("a CharModel without its Keras model needs a loader and a reader")
        self.alphabet = str(alphabet)
        self.card = dict(card or {})
        self._keras_model = None
        self._loader = loader
        self._reader = reader if keras_model is None else None
        self._fn = None
        if keras_model is None:
            self.input_shape = tuple(int(d) for d in self.card.get("input_shape", INPUT_SHAPE))
        else:
            self._adopt(keras_model)

    def _adopt(self, keras_model) -> None:
        out_dim = int(keras_model.outputs[0].shape[-1])
        if len(self.alphabet) != out_dim:
            raise ValueError(f"alphabet has {len(self.alphabet)} characters but the model has {out_dim} logits")
        self._keras_model = keras_model
        self.input_shape = tuple(int(d) for d in keras_model.inputs[0].shape[1:])

    @property
    def keras_model(self):
        """The Keras model (loaded now if it was left to ``loader``)."""
        if self._keras_model is None:
            self._adopt(self._loader())
        return self._keras_model

    def __repr__(self):
        return f"CharModel(alphabet={self.alphabet!r}, input_shape={self.input_shape}, name={self.card.get('name')!r})"

    @property
    def n_classes(self) -> int:
        return len(self.alphabet)

    def crops_to_input(self, crops) -> np.ndarray:
        """BGR (or grey/BGRA) character crops of any size -> float32 ``(N, H, W, 1)`` in [0, 1].

        This is the exact preprocessing used in training; see :func:`preprocess_crop`.
        """
        crops = list(crops)
        out = np.empty((len(crops), *self.input_shape), np.float32)
        for i, crop in enumerate(crops):
            out[i] = preprocess_crop(crop, self.input_shape)
        return out

    def _call(self, x):
        import tensorflow as tf

        if self._fn is None:
            model = self.keras_model
            spec = tf.TensorSpec([None, *self.input_shape], tf.float32)  # one trace for every batch size
            self._fn = tf.function(lambda t: model(t, training=False), input_signature=[spec])
        return self._fn(tf.convert_to_tensor(x, tf.float32))

    def predict_logits(self, x, batch_size: int = 1024) -> np.ndarray:
        """Logits ``(N, n_classes)`` for model inputs ``x`` (N, H, W, C) float32 in [0, 1]."""
        x = np.asarray(x, np.float32)
        if x.ndim == 3:
            x = x[..., None]
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"expected inputs of shape (N, {', '.join(map(str, self.input_shape))}), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, self.n_classes), np.float32)
        parts = [self._call(x[i : i + batch_size]).numpy() for i in range(0, len(x), batch_size)]
        return np.concatenate(parts).astype(np.float32)

    def predict_proba(self, x, batch_size: int = 1024) -> np.ndarray:
        """Softmax probabilities ``(N, n_classes)`` for model inputs ``x``."""
        return softmax(self.predict_logits(x, batch_size))

    def frozen_logits(self):
        """A logits function ``f(x) -> (N, n_classes)`` for reading only: the weights as they are
        now, as int8, run by LiteRT when available (several times faster than TensorFlow on a plate's
        few crops, logits within about 1 % of their range; see :mod:`alpr.lite`), else
        :meth:`predict_logits`. Later weight changes are not seen. Attacks and training use the
        float Keras model."""
        from alpr import lite

        # the cached conversion of the model file, while its Keras twin is unloaded (so unchanged)
        runner = self._reader if self._keras_model is None else None
        runner = runner or lite.runner(self.keras_model, (8, *self.input_shape), quantized=True)
        if runner is None:
            return self.predict_logits
        return lambda x: runner(x) if len(x) else np.zeros((0, self.n_classes), np.float32)

    def predict_chars(self, crops) -> list[tuple[str, float]]:
        """Convenience: BGR crops -> ``[(char, probability), ...]``."""
        p = self.predict_proba(self.crops_to_input(crops))
        idx = p.argmax(axis=1)
        return [(self.alphabet[i], float(p[k, i])) for k, i in enumerate(idx)]


class ModelError(ValueError):
    """A model file or model card that cannot be used; the message is one line for the user."""


class ModelNotFoundError(FileNotFoundError, ValueError):
    """A model file or its card is missing (both a ``FileNotFoundError`` and a ``ValueError``)."""


#: Layers never loaded: they run arbitrary Python (or foreign-framework) code.
UNSAFE_LAYERS = frozenset({"Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})
#: Characters a model may read (the union of the pipeline's alphabets).
KNOWN_CHARACTERS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ")
#: Fields every model card must have.
REQUIRED_CARD_FIELDS = ("alphabet", "input_shape")
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024  # uncompressed size of a .keras archive (zip bombs)
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_CARD_BYTES = 4 * 1024 * 1024


def resolve_model_path(name_or_path: str | os.PathLike) -> Path:
    """A bundled model name (``de``, ``es``, ``eu``, ``de-hardened``, ``es-hardened``) or a path
    to a ``.keras`` file -> the ``.keras`` path.

    Raises ``ModelNotFoundError`` (a FileNotFoundError and a ValueError) for missing files and
    ``ModelError`` (a ValueError) for unknown names or other formats (.h5, SavedModel folders).
    """
    text = os.fspath(name_or_path)
    if text in MODEL_NAMES:
        path = models_dir() / f"{text}.keras"
        if not path.is_file():
            raise ModelNotFoundError(f"bundled model {text!r} is not installed (missing {path})")
        return path
    path = Path(text)
    if path.suffix in (".keras", ".h5", ".hdf5") or path.exists() or os.sep in text or "/" in text:
        if path.suffix != ".keras":
            raise ModelError(f"{path}: only .keras model files are accepted "
                             f"(legacy HDF5 and SavedModel formats are not loaded)")
        if path.is_dir():
            raise ModelError(f"{path}: is a folder, expected a .keras model file")
        if not path.is_file():
            raise ModelNotFoundError(f"model file not found: {path}")
        return path
    raise ModelError(f"unknown model {text!r}; expected one of {', '.join(MODEL_NAMES)} or a path to a .keras file")


def read_card(card_path: str | os.PathLike) -> dict:
    """Read and validate a model card (JSON object with an alphabet the pipeline can read, unique
    characters, and the pipeline's input shape); raises ``ModelNotFoundError`` / ``ModelError``."""
    card_path = Path(card_path)
    try:
        size = card_path.stat().st_size
        if size > MAX_CARD_BYTES:
            raise ModelError(f"{card_path}: model card of {size:,} bytes is too large")
        card = json.loads(card_path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ModelNotFoundError(f"model card not found: {card_path} (needed for the alphabet)") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelError(f"{card_path}: not a valid JSON model card ({reason})") from None
    except OSError as err:
        raise ModelError(f"{card_path}: cannot read model card ({err.strerror or type(err).__name__})") from None
    if not isinstance(card, dict):
        raise ModelError(f"{card_path}: model card must be a JSON object, got {type(card).__name__}")
    missing = [f for f in REQUIRED_CARD_FIELDS if f not in card]
    if missing:
        raise ModelError(f"{card_path}: model card lacks {', '.join(repr(f) for f in missing)}")
    alphabet = card["alphabet"]
    if not isinstance(alphabet, str) or not alphabet:
        raise ModelError(f"{card_path}: model card 'alphabet' must be a non-empty string")
    if len(set(alphabet)) != len(alphabet):
        raise ModelError(f"{card_path}: model card 'alphabet' repeats characters")
    unknown = sorted(set(alphabet) - KNOWN_CHARACTERS)
    if unknown:
        raise ModelError(f"{card_path}: alphabet has characters no plate grammar uses: {''.join(unknown)!r}")
    shape = card["input_shape"]
    if not (isinstance(shape, list) and len(shape) == 3 and all(type(d) is int for d in shape)):
        raise ModelError(f"{card_path}: model card 'input_shape' must be a list of 3 integers, got {shape!r}")
    if tuple(shape) != INPUT_SHAPE:
        raise ModelError(f"{card_path}: card input_shape {tuple(shape)} is not the pipeline's {INPUT_SHAPE}")
    if "n_classes" in card and card["n_classes"] != len(alphabet):
        raise ModelError(f"{card_path}: card n_classes {card['n_classes']!r} != alphabet length {len(alphabet)}")
    if "output" in card and card["output"] != "logits":
        raise ModelError(f"{card_path}: card output must be 'logits', got {card['output']!r}")
    return card


def check_archive(path: str | os.PathLike) -> None:
    """Refuse, before Keras sees it, a ``.keras`` file that is not an intact zip archive, is too
    large uncompressed, or whose ``config.json`` names a Lambda or other code-running layer, or any
    class or function from outside Keras. Raises ``ModelError`` with a one-line message."""
    import zipfile

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(info.file_size for info in infos)
            if total > MAX_ARCHIVE_BYTES:
                raise ModelError(f"{path}: archive unpacks to {total:,} bytes (limit {MAX_ARCHIVE_BYTES:,})")
            names = {info.filename: info for info in infos}
            if "config.json" not in names:
                raise ModelError(f"{path}: not a Keras model archive (no config.json)")
            if names["config.json"].file_size > MAX_CONFIG_BYTES:
                raise ModelError(f"{path}: config.json is too large")
            bad = archive.testzip()
            if bad is not None:
                raise ModelError(f"{path}: corrupt archive (bad checksum in {bad})")
            config = json.loads(archive.read("config.json").decode("utf-8"))
    except ModelError:
        raise
    except zipfile.BadZipFile as err:
        if not zipfile.is_zipfile(path):
            raise ModelError(f"{path}: not a Keras model file (not a zip archive)") from None
        raise ModelError(f"{path}: corrupt zip archive ({str(err).splitlines()[0] if str(err) else 'bad zip'})") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ModelError(f"{path}: corrupt model archive (config.json is not valid JSON)") from None
    except (OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as err:  # zlib errors, encryption, ...
        raise ModelError(f"{path}: corrupt model archive ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})") from None
    _scan_config(config, path)


def _scan_config(config, path: Path) -> None:
    """Walk a Keras config iteratively; refuse unsafe layers, lambdas and non-Keras objects."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        cls, module = node.get("class_name"), node.get("module")
        where = f" (layer {node['name']!r})" if isinstance(node.get("name"), str) else ""
        if cls in UNSAFE_LAYERS:
            raise ModelError(f"{path}: refused: {cls} layer{where} can run arbitrary code; "
                             "only standard Keras layers are loaded")
        if cls == "__lambda__" or "__lambda__" in node:
            raise ModelError(f"{path}: refused: contains serialized Python code (a lambda)")
        if isinstance(module, str) and module != "keras" and not module.startswith("keras."):
            raise ModelError(f"{path}: refused: refers to {module}.{cls} outside Keras (arbitrary code)")
        registered = node.get("registered_name")
        if isinstance(registered, str) and ">" in registered:
            raise ModelError(f"{path}: refused: custom object {registered!r} (only standard Keras layers are loaded)")
        stack.extend(node.values())


def _check_network(net, alphabet: str, path: Path) -> None:
    """The network must map (N, 32, 24, 1) to (N, len(alphabet)) logits."""
    if len(net.inputs) != 1 or len(net.outputs) != 1:
        raise ModelError(f"{path}: expected one input and one output, got {len(net.inputs)} and {len(net.outputs)}")
    in_shape = tuple(net.inputs[0].shape[1:])
    out_shape = tuple(net.outputs[0].shape[1:])
    if in_shape != INPUT_SHAPE:
        raise ModelError(f"{path}: model input shape {in_shape} is not the pipeline's {INPUT_SHAPE}")
    if len(out_shape) != 1:
        raise ModelError(f"{path}: model output must be (N, classes), got (N, {', '.join(map(str, out_shape))})")
    if out_shape[0] != len(alphabet):
        raise ModelError(f"{path}: card alphabet has {len(alphabet)} characters but the model has {out_shape[0]} logits")


def load_model(name_or_path: str | os.PathLike) -> CharModel:
    """Load a bundled model by name or a ``.keras`` file (with its ``.json`` card beside it).

    Checks, each failing with a one-line ``ValueError`` (``ModelError``; missing files raise
    ``ModelNotFoundError``, which is both a ValueError and a FileNotFoundError):

    - the card: valid JSON object with ``alphabet`` (unique characters the grammars use) and
      ``input_shape`` equal to the pipeline's ``(32, 24, 1)``; ``n_classes``/``output`` if given;
    - the archive, before Keras reads it: an intact zip with ``config.json``, not too large,
      no ``Lambda``/code-running layers, no classes or functions from outside Keras;
    - loading itself: ``keras.saving.load_model(path, safe_mode=True, compile=False)``;
    - the network: one input ``(N, 32, 24, 1)``, one output ``(N, len(alphabet))``.

    A file that passed these checks is converted to LiteRT, and the flatbuffer is cached under
    the file's bytes and the card's alphabet. When that entry exists, the Keras model is left
    unloaded until first used (:attr:`CharModel.keras_model`) and reading goes through the
    cached flatbuffer, with no Keras or TensorFlow import (see ``alpr.lite.file_runner``).
    """
    from alpr import lite

    path = resolve_model_path(name_or_path)
    card_path = path.with_suffix(".json")
    card = read_card(card_path)
    check_archive(path)
    card.setdefault("name", path.stem)
    probe = (8, *INPUT_SHAPE)
    key = f"alphabet {card['alphabet']}"  # what the network check below compares the file with
    reader = lite.file_runner(path, probe, quantized=True, key=key)
    if reader is not None:  # converted from these very bytes, for this alphabet, after the checks below passed
        return CharModel(None, card["alphabet"], card, loader=lambda: _load_network(path, card["alphabet"]), reader=reader)
    net = _load_network(path, card["alphabet"])
    lite.runner(net, probe, quantized=True, source=path, source_key=key)  # cached for the next load and frozen_logits
    return CharModel(net, card["alphabet"], card)


def _load_network(path: Path, alphabet: str):
    """The checked Keras network of ``load_model`` (safe mode; see its docstring)."""
    import_tensorflow()
    import keras

    try:
        net = keras.saving.load_model(str(path), safe_mode=True, compile=False)
    except Exception as err:  # corrupt weights, unknown layers, unsafe content
        msg = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelError(f"{path}: cannot load Keras model ({msg[:200]})") from None
    if not isinstance(net, keras.Model):
        raise ModelError(f"{path}: not a Keras model")
    _check_network(net, alphabet, path)
    return net


def save_model(char_model: CharModel, path: str | os.PathLike, card: dict | None = None) -> Path:
    """Write ``path`` (.keras) and the model card beside it (.json), each atomically; both are
    complete on disk before either is renamed into place.

    ``card`` defaults to ``char_model.card``; alphabet and input shape are always filled in.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: model files must end in .keras")
    card = dict(char_model.card if card is None else card)
    card["alphabet"] = char_model.alphabet
    card["input_shape"] = list(char_model.input_shape)
    card["n_classes"] = char_model.n_classes
    card["preprocessing"] = card.get("preprocessing") or (
        "grey; 1-99 percentile contrast stretch to [0,1]; aspect-preserving resize into "
        f"{char_model.input_shape[0]}x{char_model.input_shape[1]} (INTER_AREA when shrinking); centred, constant padding at the crop's 90th percentile (paper)"
    )
    card["output"] = "logits"
    with atomic.atomic_path(path) as tmp_model, atomic.atomic_path(path.with_suffix(".json")) as tmp_card:
        char_model.keras_model.save(tmp_model)
        tmp_card.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for p in (path, path.with_suffix(".json")):  # temp files are created 0600; models are shared assets
        os.chmod(p, 0o644)
    char_model.card = card
    return path
