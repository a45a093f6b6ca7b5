"""alpr.threads: one worker thread per OpenCV call and TensorFlow op for the recognising commands."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROGRAM = """
import sys, cv2, tensorflow as tf
from alpr.threads import single_threaded_kernels
if sys.argv[1] == "late":
    tf.constant(1.0) + 1.0  # TensorFlow starts with its own thread settings
took = single_threaded_kernels()
tf.constant(1.0) + 1.0
print(took, cv2.getNumThreads(), tf.config.threading.get_intra_op_parallelism_threads(),
      tf.config.threading.get_inter_op_parallelism_threads())
"""


@pytest.mark.parametrize("when, printed", [("early", ["True", "1", "1", "1"]),
                                           ("late", ["False", "1", "0", "0"])])  # 0: TensorFlow's default
def test_opencv_runs_on_one_thread_and_tensorflow_too_unless_it_started_before(when, printed):
    done = subprocess.run([sys.executable, "-c", PROGRAM, when], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == printed



def test_tensorflow_is_not_imported_but_set_to_one_thread_for_later():
    # reading through LiteRT needs no TensorFlow, whose import alone takes seconds
    program = """
import os, sys
from alpr.threads import single_threaded_kernels
print(single_threaded_kernels(), "tensorflow" in sys.modules,
      os.environ["TF_NUM_INTRAOP_THREADS"], os.environ["TF_NUM_INTEROP_THREADS"])
"""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "False", "1", "1"]
