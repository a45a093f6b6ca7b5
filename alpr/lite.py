"""Fast CPU inference of the character CNN through LiteRT (TensorFlow Lite, XNNPACK).

On a plate's few crops TensorFlow's per-call dispatch dominates: the character CNN reads 8
crops in ~5 ms through ``tf.function`` and in ~1.8 ms as a LiteRT flatbuffer (same weights,
logits equal to ~1e-5). With ``quantized=True`` the flatbuffer holds int8 weights
(dynamic-range quantisation: XNNPACK quantises each crop's activations on the fly, so a crop's
logits do not depend on the other crops of its batch) and reads the same 8 crops about 4x
faster again; its logits move by about 1 % of their range, and of 20,000 held-out crops 1 to 5
are classified differently. (The plate detector stays on TensorFlow: its dilated convolutions
ran 2.5x slower under LiteRT.) :class:`LiteRunner` converts a Keras model once, checks the
converted graph against Keras on a probe batch, and caches the flatbuffer on disk (see
:func:`alpr.resources.cache_dir`) under a hash of the model's architecture, weights, the
quantisation and the converter's versions, so a retrained or fine-tuned model never meets a
stale file.

Inference only: attacks and training need gradients and keep using the Keras model. Without the
``ai-edge-litert`` package, or when conversion or the check fails, :func:`runner` returns None and
callers stay on Keras; ``ALPR_LITERT=0`` forces that and ``ALPR_LITERT=float`` keeps float32
weights where int8 ones are asked for (e.g. to compare them).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import threading
import warnings

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
    """A one-input, one-output Keras model converted to LiteRT: ``runner(x)`` -> its output as a
    NumPy array. Thread-safe (one call at a time)."""

    def __init__(self, flatbuffer: bytes):
        from ai_edge_litert.interpreter import Interpreter

        # one thread: XNNPACK's worker threads would compete with OpenCV and the detector's
        # TensorFlow thread, and these batches are too small to split
        self._interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] | None = None
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, np.float32)
        with self._lock:
            if x.shape != self._shape:
                # the first allocation prints "Created TensorFlow Lite XNNPACK delegate" on fd 2
                with quiet_fds(2) if self._shape is None else contextlib.nullcontext():
                    self._interpreter.resize_tensor_input(self._input, x.shape)
                    self._interpreter.allocate_tensors()
                self._shape = x.shape
            self._interpreter.set_tensor(self._input, x)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output)  # a copy


def weights(quantized: bool = True) -> str:
    """What ``runner(..., quantized=quantized)`` reads with here: "int8" or "float32" (LiteRT
    weights), or "keras" (LiteRT disabled by ``ALPR_LITERT=0`` or not installed). A conversion
    that fails its check also falls back to Keras, with a warning."""
    mode = os.environ.get("ALPR_LITERT", "1")
    if mode == "0" or importlib.util.find_spec("ai_edge_litert") is None:
        return "keras"
    return "int8" if quantized and mode != "float" else "float32"


def runner(keras_model, probe_shape: tuple[int, ...], *, quantized: bool = False) -> LiteRunner | None:
    """A checked LiteRT twin of the one-output ``keras_model`` (converted once, then loaded from
    the disk cache), with int8 weights if ``quantized`` (unless ``ALPR_LITERT=float``), or None
    when LiteRT is unavailable, disabled (``ALPR_LITERT=0``) or does not reproduce Keras on a
    random batch of ``probe_shape`` (within ``MAX_PROBE_ERROR``, or ``MAX_QUANTIZED_PROBE_ERROR``
    of the outputs' range with int8 weights)."""
    kind = weights(quantized)
    if kind == "keras":
        return None
    quantized = kind == "int8"
    try:
        lite = LiteRunner(_flatbuffer(keras_model, quantized))
        probe = np.random.default_rng(0).random(probe_shape, dtype=np.float32)
        reference = np.asarray(keras_model(probe, training=False))
        error = float(np.abs(lite(probe) - reference).max())
        tolerance = MAX_PROBE_ERROR
        if quantized:
            tolerance = max(tolerance, MAX_QUANTIZED_PROBE_ERROR * float(np.abs(reference).max()))
        if not error <= tolerance:
            raise ValueError(f"converted model differs from Keras by {error:.2g}")
    except Exception as error:  # conversion is best-effort: Keras always works
        warnings.warn(f"LiteRT not used for {keras_model.name} ({error}); reading with Keras", stacklevel=2)
        return None
    return lite


def _flatbuffer(keras_model, quantized: bool) -> bytes:
    """The LiteRT flatbuffer of ``keras_model`` (int8 weights if ``quantized``), from the disk
    cache or converted (and cached)."""
    tf = import_tensorflow()
    import ai_edge_litert

    digest = hashlib.sha256(keras_model.to_json().encode())
    for weights in keras_model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    digest.update(f"{tf.__version__} {getattr(ai_edge_litert, '__version__', '')}".encode())
    if quantized:
        digest.update(b"dynamic-range int8 weights")
    path = cache_dir() / "litert" / f"{digest.hexdigest()[:32]}.tflite"
    if path.is_file():
        return path.read_bytes()
    with quiet_fds(1, 2):  # the converter prints its whole MLIR graph and TF's logs
        converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
        if quantized:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]  # no representative data: weights only
        flatbuffer = converter.convert()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, flatbuffer)
    except OSError:  # a read-only home only costs the conversion next time
        pass
    return flatbuffer
