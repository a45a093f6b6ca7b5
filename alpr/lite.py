"""Fast CPU inference of the character CNN through LiteRT (TensorFlow Lite, XNNPACK).

On a plate's few crops TensorFlow's per-call dispatch dominates: the character CNN reads 8
crops in ~5 ms through ``tf.function`` and in ~1.8 ms as a LiteRT flatbuffer (same weights,
logits equal to ~1e-5). (The plate detector stays on TensorFlow: its dilated convolutions ran
2.5x slower under LiteRT.) :class:`LiteRunner` converts a Keras model once, checks the
converted graph against Keras on a probe batch, and caches the flatbuffer on disk (see
:func:`alpr.resources.cache_dir`) under a hash of the model's architecture, weights and the
converter's versions, so a retrained or fine-tuned model never meets a stale file.

Inference only: attacks and training need gradients and keep using the Keras model. Without the
``ai-edge-litert`` package, or when conversion or the check fails, :func:`runner` returns None and
callers stay on Keras; ``ALPR_LITERT=0`` forces that (e.g. to compare the two).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import warnings

import numpy as np

from alpr import atomic
from alpr.resources import cache_dir
from alpr.tf_import import import_tensorflow, quiet_fds

#: Largest |LiteRT - Keras| output difference accepted on the probe batch.
MAX_PROBE_ERROR = 1e-3


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


def runner(keras_model, probe_shape: tuple[int, ...]) -> LiteRunner | None:
    """A checked LiteRT twin of the one-output ``keras_model`` (converted once, then loaded from
    the disk cache), or None when LiteRT is unavailable, disabled (``ALPR_LITERT=0``) or does
    not reproduce Keras within ``MAX_PROBE_ERROR`` on a random batch of ``probe_shape``."""
    if os.environ.get("ALPR_LITERT", "1") == "0":
        return None
    try:
        import ai_edge_litert.interpreter  # noqa: F401  (only to know whether LiteRT is installed)
    except ImportError:
        return None
    try:
        lite = LiteRunner(_flatbuffer(keras_model))
        probe = np.random.default_rng(0).random(probe_shape, dtype=np.float32)
        error = float(np.abs(lite(probe) - np.asarray(keras_model(probe, training=False))).max())
        if not error <= MAX_PROBE_ERROR:
            raise ValueError(f"converted model differs from Keras by {error:.2g}")
    except Exception as error:  # conversion is best-effort: Keras always works
        warnings.warn(f"LiteRT not used for {keras_model.name} ({error}); reading with Keras", stacklevel=2)
        return None
    return lite


def _flatbuffer(keras_model) -> bytes:
    """The LiteRT flatbuffer of ``keras_model``, from the disk cache or converted (and cached)."""
    tf = import_tensorflow()
    import ai_edge_litert

    digest = hashlib.sha256(keras_model.to_json().encode())
    for weights in keras_model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    digest.update(f"{tf.__version__} {getattr(ai_edge_litert, '__version__', '')}".encode())
    path = cache_dir() / "litert" / f"{digest.hexdigest()[:32]}.tflite"
    if path.is_file():
        return path.read_bytes()
    with quiet_fds(1, 2):  # the converter prints its whole MLIR graph and TF's logs
        flatbuffer = tf.lite.TFLiteConverter.from_keras_model(keras_model).convert()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(path, flatbuffer)
    except OSError:  # a read-only home only costs the conversion next time
        pass
    return flatbuffer
