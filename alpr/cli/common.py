"""Helpers shared by the subcommands: one-line errors, budgets like ``4/255``, seeds, output
checks (``--force``), atomic writes and safe line output."""

import contextlib
import math
import os
import sys
from fractions import Fraction
from pathlib import Path

import click

from alpr import atomic


class UserError(click.ClickException):
    """A problem with the user's input: printed as one line, exit code 2, never a traceback."""

    exit_code = 2

    def format_message(self) -> str:
        """The message on one line (newlines inside it become spaces)."""
        return " ".join(part.strip() for part in str(self.message).splitlines() if part.strip())


def parse_fraction(text: str, *, name: str | None = "value", low: float | None = None, high: float | None = None,
                   low_inclusive: bool = True) -> float:
    """Parse ``0.125``, ``4/255`` or ``32/255`` into a float, checking ``low <= value <= high``
    (``low < value`` when ``low_inclusive`` is false). NaN and infinities are refused. Messages
    start with ``name: `` unless ``name`` is None."""
    prefix = f"{name}: " if name else ""
    try:
        value = float(Fraction(str(text).strip()))
    except (ValueError, ZeroDivisionError, OverflowError, TypeError):
        raise UserError(f"{prefix}expected a number like 0.03 or 8/255, got {text!r}") from None
    if not math.isfinite(value):
        raise UserError(f"{prefix}expected a finite number, got {text!r}")
    if low is not None and (value < low or (not low_inclusive and value == low)):
        raise UserError(f"{prefix}must be {'>=' if low_inclusive else '>'} {low:g}, got {str(text).strip()}")
    if high is not None and value > high:
        raise UserError(f"{prefix}must be <= {high:g}, got {str(text).strip()}")
    return value


class FractionType(click.ParamType):
    """click parameter type accepting ``4/255``-style fractions within bounds (see ``parse_fraction``)."""

    name = "NUMBER"

    def __init__(self, low: float | None = None, high: float | None = None, *, low_inclusive: bool = True):
        self.low, self.high, self.low_inclusive = low, high, low_inclusive

    def convert(self, value, param, ctx):
        """Parse and check one command-line value."""
        if isinstance(value, float):
            return value
        try:
            # click already names the option ("Invalid value for '--eps': ..."), so no prefix here
            return parse_fraction(str(value), name=None if param else "value", low=self.low, high=self.high,
                                  low_inclusive=self.low_inclusive)
        except UserError as err:
            self.fail(err.message, param, ctx)


seed_option = click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True, metavar="N",
                           help="Random seed (reproducible runs), 0 <= N < 2**32.")
force_option = click.option("--force", is_flag=True, help="Overwrite existing output files.")
#: ``--workers auto`` starts worker processes for batches of this many images or more. Starting
#: two workers took 0.3-0.6 s longer than loading the models in the main process (each imports
#: TensorFlow), and they then read faster: ``alpr recognize`` on rendered es photos, 2 cores
#: (2026-12-06), ``--workers 1`` vs ``2``: 20 photos 6.5 vs 6.8 s, 60 photos 7.9 vs 7.6 s,
#: 200 photos 12.4 / 12.2 vs 11.3 / 10.9 s.
AUTO_WORKERS_FROM = 100


def _workers_value(ctx, param, value: str):
    """``--workers``: "auto" or a whole number >= 1."""
    if value == "auto":
        return value
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise click.BadParameter(f"expected a whole number >= 1 or auto, got {value!r}")
    return count


workers_option = click.option(
    "--workers", default="auto", show_default=True, metavar="N|auto", callback=_workers_value,
    help="Worker processes reading the images (each loads the models: about 5 s and 0.8 GB the first time, under a second and 0.15 GB once cached); auto is one per CPU "
         f"for {AUTO_WORKERS_FROM} images or more, else 1 (read in this process).")


def worker_count(workers, images: int) -> int:
    """The processes to read a batch of (at least) ``images`` images with, for ``--workers``."""
    from alpr.workers import default_workers

    if workers == "auto":
        return default_workers() if images >= AUTO_WORKERS_FROM else 1
    return workers


@contextlib.contextmanager
def reader_pool(workers: int, **recognizer_kwargs):
    """An ``alpr.workers.ReaderPool`` whose workers have all built their Recognizer; a model
    they cannot load, or a worker that dies (the tasks catch every error of an image), is a
    one-line ``UserError``."""
    from concurrent.futures.process import BrokenProcessPool

    from alpr.workers import ReaderPool, WorkerStartError

    with ReaderPool(workers, **recognizer_kwargs) as pool:
        try:
            pool.wait_ready()
            yield pool
        except WorkerStartError as err:
            raise UserError(str(err)) from None
        except BrokenProcessPool:
            raise UserError("a worker process died (killed, or out of memory?); --workers 1 reads in this process") from None


small_plates_option = click.option(
    "--small-plates", is_flag=True,
    help="Look harder for small plates (under ~30 px wide, e.g. cars far away in low-resolution street "
         "photos): the learned detector sees each photo 1.5x larger. Slower, up to ~30 % read one at a time.")


@contextlib.contextmanager
def atomic_path(path: Path, *, force: bool = True):
    """Like ``alpr.atomic.atomic_path``, refusing to replace an existing file unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise UserError(f"{path} exists; pass --force to overwrite")
    with atomic.atomic_path(path) as tmp:
        yield tmp


def ensure_dir(path, option: str = "output") -> Path:
    """Create the output folder ``path`` (and parents) or raise a one-line ``UserError``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{option}: {path} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"{option}: cannot create folder {path} ({err.strerror or type(err).__name__})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"{option}: folder {path} is not writable")
    return path


def check_output_file(path, *, force: bool, option: str = "output") -> Path:
    """Check before any work that ``path`` can be written: its folder exists or can be created,
    it is not a folder, and it does not exist unless ``force`` (one-line ``UserError`` otherwise)."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{option}: {path} is a folder, expected a file name")
    if path.exists() and not force:
        raise UserError(f"{option}: {path} exists; pass --force to overwrite")
    ensure_dir(path.parent if str(path.parent) else Path("."), option)
    return path


def refuse_existing(paths, *, force: bool, option: str = "output") -> None:
    """Raise a one-line ``UserError`` naming the first of ``paths`` that exists, unless ``force``."""
    if force:
        return
    existing = [Path(p) for p in paths if Path(p).exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UserError(f"{option}: {existing[0]} exists{more}; pass --force to overwrite")


def echo_line(text: str, *, file=None) -> None:
    """Print one line and flush it (results stream to pipes as they come); characters the stream
    cannot encode (undecodable file names, a non-UTF-8 terminal) are escaped instead of crashing."""
    stream = file or sys.stdout
    try:
        stream.write(text + "\n")
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding) + "\n")
    stream.flush()


def load_recognizer(country: str, model_name: str | None, **kwargs):
    """Build a ``Recognizer``, turning model-loading problems into one-line user errors."""
    from alpr.pipeline import Recognizer

    try:
        return Recognizer(country=country, model=model_name, **kwargs)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise UserError(str(err).splitlines()[0] if str(err) else type(err).__name__) from None


def load_reading_recognizer(country: str, model_name: str | None, **kwargs):
    """``load_recognizer`` for a command that only reads plates (``alpr recognize``, ``alpr
    evaluate``): OpenCV and TensorFlow first set to one thread each (``alpr.threads``; on these
    small images the kernels' own threads cost more CPU than they save)."""
    from alpr.threads import single_threaded_kernels

    single_threaded_kernels()
    return load_recognizer(country, model_name, **kwargs)


def load_char_model(model_name: str, option: str | None = None):
    """``alpr.model.load_model`` with problems turned into one-line user errors (prefixed with the
    ``option`` that named the model, if given)."""
    from alpr.model import load_model

    try:
        return load_model(model_name)
    except (FileNotFoundError, ValueError, OSError) as err:
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise UserError(f"{option}: {message}" if option else message) from None
