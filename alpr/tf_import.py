"""Import TensorFlow without its C++ start-up banner.

TensorFlow prints oneDNN and CUDA-probing notes to the stderr *file descriptor* before its logging
is configured, so neither ``TF_CPP_MIN_LOG_LEVEL`` nor Python's logging can hide them. For a
command-line tool that is noise on every run; this import silences fd 2 just for the import.
The LiteRT converter (``alpr.lite``) is as chatty on fds 1 and 2; :func:`quiet_fds` serves both.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_fds(*fds: int):
    """Send the given file descriptors (default: stderr) to /dev/null inside the block; a no-op
    without real descriptors (embedded interpreters) or when ``TF_CPP_MIN_LOG_LEVEL=0`` asks for
    TensorFlow's messages. Errors raised inside still propagate after the fds are restored."""
    fds = fds or (2,)
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") == "0":
        yield
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        saved = [os.dup(fd) for fd in fds]
    except (OSError, ValueError):  # no real descriptors (embedded interpreters)
        saved = None
    if saved is None:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            os.dup2(devnull, fd)
        yield
    finally:
        for fd, copy in zip(fds, saved):
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)


def import_tensorflow():
    """Import and return ``tensorflow`` (once), with fd 2 silenced during the import.

    Import errors are re-raised after stderr is restored, so nothing real is hidden.
    """
    if "tensorflow" not in sys.modules:
        with quiet_fds(2):
            import tensorflow  # noqa: F401
    return sys.modules["tensorflow"]
