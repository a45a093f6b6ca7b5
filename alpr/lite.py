"""Fast CPU inference of the character CNN and the plate detector through LiteRT (TensorFlow Lite, XNNPACK).

On a plate's few crops TensorFlow's per-call dispatch dominates: the character CNN reads 8
crops in ~5 ms through ``tf.function`` and in ~1.8 ms as a LiteRT flatbuffer (same weights,
logits equal to ~1e-5). With ``quantized=True`` the flatbuffer holds int8 weights
(dynamic-range quantisation: XNNPACK quantises each crop's activations on the fly, so a crop's
logits do not depend on the other crops of its batch) and reads the same 8 crops about 4x
faster again; its logits move by about 1 % of their range, and of 20,000 held-out crops 1 to 5
are classified differently. The plate detector (a 320 x 240 photo and its mirror image) runs
about as fast in float32 under LiteRT as under TensorFlow, and 1.8x faster with int8 weights
(19.4 -> 10.4 ms on a slow machine, 2026-12-08); its heatmap moves by under 0.01.
:class:`LiteRunner` converts a Keras model once, checks the converted graph against Keras on a
probe batch, and caches the flatbuffer on disk (see :func:`alpr.resources.cache_dir`) under a
hash of the model's architecture, weights, the quantisation and the converter's versions, so a
retrained or fine-tuned model never meets a stale file. A model just loaded from a file is also
cached under a hash of that file's bytes (:func:`file_runner`): later runs find its flatbuffer
without loading Keras or importing TensorFlow, whose import alone takes about 5 s.

Inference only: attacks and training need gradients and keep using the Keras model. Without the
``ai-edge-litert`` package, or when conversion or the check fails, :func:`runner` returns None and
callers stay on Keras; ``ALPR_LITERT=0`` forces that and ``ALPR_LITERT=float`` keeps float32
weights where int8 ones are asked for (e.g. to compare them).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import threading
import warnings
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import numpy as np

from alpr import atomic
from alpr.resources import cache_dir
from alpr.tf_import import import_tensorflow, quiet_fds

#: Largest |LiteRT - Keras| output difference accepted on the probe batch.
MAX_PROBE_ERROR = 1e-3
#: With int8 weights: the largest difference accepted as a share of the largest |Keras output|
#: on the probe batch (the shipped models measure 0.7-1.2 %; a wrongly converted graph is off
#: by the outputs' whole range).
MAX_QUANTIZED_PROBE_ERROR = 0.05


class LiteRunner:
    """A one-input Keras model converted to LiteRT: ``runner(x)`` -> its output as a NumPy
    array, or the list of its outputs in the Keras model's order for a model with several
    (``output_order``: the interpreter's output index of each). An interpreter is resized for
    each new input shape (about 5 ms for the plate detector); with ``shapes`` > 1 one is kept
    for each of the last ``shapes`` input shapes instead, so that inputs alternating between a
    few shapes (the detector's two passes over a large photo) are not resized every time.
    Thread-safe (one call at a time)."""

    def __init__(self, flatbuffer: bytes, output_order: list[int] | None = None, *, shapes: int = 1):
        self._flatbuffer = flatbuffer
        self._output_order = output_order
        self._max_shapes = max(1, shapes)
        self._interpreters: OrderedDict = OrderedDict()  # input shape -> (interpreter, input, outputs)
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray | list[np.ndarray]:
        x = np.ascontiguousarray(x, np.float32)
        with self._lock:
            interpreter, inp, outputs = self._interpreter_for(x.shape)
            interpreter.set_tensor(inp, x)
            interpreter.invoke()
            out = [interpreter.get_tensor(k) for k in outputs]  # copies
        return out[0] if len(out) == 1 else out

    def _interpreter_for(self, shape: tuple[int, ...]):
        """An interpreter allocated for ``shape``: kept, reused (resized) or new."""
        if shape in self._interpreters:
            self._interpreters.move_to_end(shape)
            return self._interpreters[shape]
        new = len(self._interpreters) < self._max_shapes
        # else the least recently used one, resized
        entry = self._new_interpreter() if new else self._interpreters.popitem(last=False)[1]
        interpreter, inp, _ = entry
        # a first allocation prints "Created TensorFlow Lite XNNPACK delegate" on fd 2
        with quiet_fds(2) if new else contextlib.nullcontext():
            interpreter.resize_tensor_input(inp, shape)
            interpreter.allocate_tensors()
        self._interpreters[shape] = entry
        return entry

    def _new_interpreter(self):
        from ai_edge_litert.interpreter import Interpreter

        # one thread: XNNPACK's worker threads would compete with OpenCV and the detector's
        # thread, and these batches are too small to split
        interpreter = Interpreter(model_content=self._flatbuffer, num_threads=1)
        inp = interpreter.get_input_details()[0]["index"]
        outputs = [d["index"] for d in interpreter.get_output_details()]
        if self._output_order is not None:
            outputs = [outputs[k] for k in self._output_order]
        return interpreter, inp, outputs


def weights(quantized: bool = True) -> str:
    """What ``runner(..., quantized=quantized)`` reads with here: "int8" or "float32" (LiteRT
    weights), or "keras" (LiteRT disabled by ``ALPR_LITERT=0`` or not installed). A conversion
    that fails its check also falls back to Keras, with a warning."""
    mode = os.environ.get("ALPR_LITERT", "1")
    if mode == "0" or importlib.util.find_spec("ai_edge_litert") is None:
        return "keras"
    return "int8" if quantized and mode != "float" else "float32"


def runner(keras_model, probe_shape: tuple[int, ...], *, quantized: bool = False, shapes: int = 1,
           source: str | os.PathLike | None = None, source_key: str = "") -> LiteRunner | None:
    """A checked LiteRT twin of the one-input ``keras_model`` (converted once, then loaded from
    the disk cache), with int8 weights if ``quantized`` (unless ``ALPR_LITERT=float``), or None
    when LiteRT is unavailable, disabled (``ALPR_LITERT=0``) or does not reproduce Keras on a
    random batch of ``probe_shape`` (each output within ``MAX_PROBE_ERROR``, or
    ``MAX_QUANTIZED_PROBE_ERROR`` of its range with int8 weights). ``shapes``: how many input
    shapes keep an interpreter of their own (see :class:`LiteRunner`). ``source``: the model
    file ``keras_model`` was just loaded from, unchanged; the checked flatbuffer is also cached
    under that file's contents and ``source_key`` (what else its checks depended on, e.g. the
    model card's alphabet), for :func:`file_runner`."""
    kind = weights(quantized)
    if kind == "keras":
        return None
    quantized = kind == "int8"
    try:
        flatbuffer = _flatbuffer(keras_model, quantized)
        probe = np.random.default_rng(0).random(probe_shape, dtype=np.float32)
        reference = keras_model(probe, training=False)
        reference = [np.asarray(r) for r in (reference if isinstance(reference, (list, tuple)) else [reference])]
        lite = LiteRunner(flatbuffer)
        outputs = lite(probe)
        outputs = outputs if isinstance(outputs, list) else [outputs]
        # the converter may list a model's outputs in another order: pair them by shape and values
        order = [_closest(ref, outputs) for ref in reference]
        if sorted(order) != list(range(len(outputs))):
            raise ValueError("converted model's outputs do not match Keras's")
        for ref, k in zip(reference, order):
            error = float(np.abs(outputs[k] - ref).max())
            tolerance = MAX_PROBE_ERROR
            if quantized:
                tolerance = max(tolerance, MAX_QUANTIZED_PROBE_ERROR * float(np.abs(ref).max()))
            if not error <= tolerance:
                raise ValueError(f"converted model differs from Keras by {error:.2g}")
        output_order = order if len(order) > 1 else None
        lite = LiteRunner(flatbuffer, output_order, shapes=shapes)
        if source is not None:
            _store_file_entry(source, source_key, quantized, flatbuffer, output_order)
    except Exception as error:  # conversion is best-effort: Keras always works
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]  # the converter's are pages long
        warnings.warn(f"LiteRT not used for {keras_model.name} ({reason}); reading with Keras", stacklevel=2)
        return None
    return lite


def file_runner(path: str | os.PathLike, probe_shape: tuple[int, ...], *, quantized: bool = False,
                shapes: int = 1, key: str = "") -> LiteRunner | None:
    """The LiteRT twin of the model file ``path`` cached by an earlier :func:`runner` call with
    ``source=path, source_key=key``, found by the file's contents alone: neither Keras nor TensorFlow is
    imported, which saves their import (about 5 s of a one-photo ``alpr recognize``). None
    when LiteRT is unavailable or disabled, nothing is cached for these bytes, or the cached
    flatbuffer does not run on a zero batch of ``probe_shape``."""
    kind = weights(quantized)
    if kind == "keras":
        return None
    try:
        entry = _file_entry(path, key, kind == "int8")
        meta = json.loads(entry.with_suffix(".json").read_text(encoding="utf-8"))
        lite = LiteRunner(entry.read_bytes(), meta.get("output_order"), shapes=shapes)
        lite(np.zeros(probe_shape, np.float32))
    except Exception:  # absent, unreadable or corrupt: the caller loads the model and converts it
        return None
    return lite


def _file_entry(path: str | os.PathLike, key: str, quantized: bool) -> Path:
    """Where the flatbuffer converted from the model file ``path`` is cached (keyed by the file's
    bytes, ``key``, the conversion recipe and the installed converter's and runtime's versions)."""
    digest = hashlib.sha256(Path(path).read_bytes())
    digest.update(f"{key}\n".encode() + _recipe(quantized))
    return cache_dir() / "litert" / f"file-{digest.hexdigest()[:32]}.tflite"


@lru_cache(maxsize=2)
def _recipe(quantized: bool) -> bytes:
    """What a conversion depends on besides the model, for both cache keys: the installed
    converter's and runtime's versions (read without importing them), how the model is
    converted (a concrete function; from_keras_model before 2026-12-08) and its weights' type."""
    versions = []
    for package in ("tensorflow", "ai-edge-litert"):
        try:
            versions.append(importlib.metadata.version(package))
        except importlib.metadata.PackageNotFoundError:
            versions.append("")
    return f"{' '.join(versions)} concrete function {'int8' if quantized else 'float32'}".encode()


def _store_file_entry(path: str | os.PathLike, key: str, quantized: bool, flatbuffer: bytes, output_order) -> None:
    """Cache ``flatbuffer`` under the model file ``path`` (the flatbuffer, then its ``.json``,
    whose presence marks a complete entry); a read-only cache only costs the load next time."""
    try:
        entry = _file_entry(path, key, quantized)
        entry.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(entry, flatbuffer)
        atomic.write_text(entry.with_suffix(".json"), json.dumps({"output_order": output_order, "model": str(path)}))
    except OSError:
        pass


def _closest(reference: np.ndarray, outputs: list[np.ndarray]) -> int:
    """The index of the output of ``reference``'s shape nearest to it (-1 if none has its shape)."""
    errors = [float(np.abs(o - reference).max()) if o.shape == reference.shape else np.inf for o in outputs]
    return int(np.argmin(errors)) if np.isfinite(min(errors)) else -1


def _flatbuffer(keras_model, quantized: bool) -> bytes:
    """The LiteRT flatbuffer of ``keras_model`` (int8 weights if ``quantized``), from the disk
    cache or converted (and cached)."""
    tf = import_tensorflow()

    digest = hashlib.sha256(keras_model.to_json().encode())
    for weights in keras_model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    digest.update(_recipe(quantized))
    path = cache_dir() / "litert" / f"{digest.hexdigest()[:32]}.tflite"
    if path.is_file():
        return path.read_bytes()
    with quiet_fds(1, 2):  # the converter prints its whole MLIR graph and TF's logs
        # a concrete function of the model's own input signature: the plate detector's upsampled,
        # concatenated features lose their channel count through from_keras_model and fail to convert
        spec = tf.TensorSpec(keras_model.inputs[0].shape, tf.float32)
        function = tf.function(lambda x: keras_model(x, training=False), input_signature=[spec], autograph=False)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
        if quantized:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
        flatbuffer = converter.convert()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, flatbuffer)
    except OSError:  # a read-only home only costs the conversion next time
        pass
    return flatbuffer
