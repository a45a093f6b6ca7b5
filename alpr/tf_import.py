"""Import TensorFlow without its C++ start-up banner.

TensorFlow prints oneDNN and CUDA-probing notes to the stderr *file descriptor* before its logging
is configured, so neither ``TF_CPP_MIN_LOG_LEVEL`` nor Python's logging can hide them. For a
command-line tool that is noise on every run; this import silences fd 2 just for the import.
"""

import os
import sys


def import_tensorflow():
    """Import and return ``tensorflow`` (once), with fd 2 silenced during the import.

    Import errors are re-raised after stderr is restored, so nothing real is hidden.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") == "0":  # the user asked for the banner
        import tensorflow

        return tensorflow
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (embedded interpreters)
        import tensorflow

        return tensorflow
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tensorflow
