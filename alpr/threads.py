"""One thread per OpenCV call and per TensorFlow op, for programs that only recognise plates.

The recogniser's images are small (photos are searched at 320-640 px wide, plates segmented at
96 px high, characters read at 32 x 24). On them OpenCV's and TensorFlow's own worker threads
spend more CPU handing work over than they save, while the recogniser keeps both cores busy by
itself: the learned detector runs beside the classical cues, and ``Recognizer.read_many``
detects the next photo while it reads this one.
Measured on a 2-core machine (2026-12-06, 60 rendered 640x480 photos): the classical cues took
11.8 ms wall / 17.6 ms CPU per photo with OpenCV's two threads and 10.6 / 10.6 ms with one; the
learned detector 14-16 / 20-24 ms with TensorFlow's default threads and 16.5 / 16.5 ms with one.
End to end (``read_many``, four alternating pairs of runs per country) the CPU per photo fell in
every pair (de 79-83 -> 59-72 ms, es 63-83 -> 60-70 ms) and photos/s rose by 7-12 % on average,
within that shared machine's drift; the readings are the same (docs/results.md).

Both settings are process-wide, so the recognising commands (``alpr recognize``, ``alpr
evaluate``) and ``scripts/benchmark.py`` call :func:`single_threaded_kernels`; programs that
train or attack, where TensorFlow's big batches do gain from its threads, do not.
"""

import os
import sys

import cv2


def single_threaded_kernels() -> bool:
    """Run OpenCV calls and TensorFlow ops on one thread each. Returns whether TensorFlow runs
    on one thread: False when it had already started with other settings, which it cannot
    change afterwards (OpenCV's setting takes at any time). TensorFlow is not imported for
    this: reading plates through LiteRT does not need it (see :mod:`alpr.lite`), and its
    import alone takes seconds; if it is imported later, it reads the same settings from
    ``TF_NUM_INTRAOP_THREADS`` / ``TF_NUM_INTEROP_THREADS``."""
    cv2.setNumThreads(1)
    if "tensorflow" not in sys.modules:
        os.environ["TF_NUM_INTRAOP_THREADS"] = "1"
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
        return True
    tf = sys.modules["tensorflow"]
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow is already initialised in this process
        return False
    return True
