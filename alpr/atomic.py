"""Atomic file output: write to a temporary file beside the target, rename only on success, so an
interrupted run (an exception, Ctrl-C, SIGTERM handled by the CLI) never leaves a half-written
file: the target is either the old file, absent, or complete. The temporary file is removed on
failure; finished files get the usual permissions (0666 minus the umask), not mkstemp's 0600."""

import contextlib
import os
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (else the usual 022)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    # mkstemp and the clean-up sit inside try/finally, and the clean-up is one system call: a
    # Ctrl-C landing between two statements there used to leave a ".name.XXXX" file behind
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)  # writers pick the format by suffix
        os.close(fd)
        yield Path(tmp)
        if os.path.exists(tmp):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def save_figure(fig, path: str | Path, **savefig_kwargs) -> Path:
    """Render a matplotlib figure to PNG, write it to ``path`` atomically and close the figure."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig_kwargs)
    plt.close(fig)
    write_bytes(path, buf.getvalue())
    return Path(path)
