"""Helpers shared by the subcommands: one-line errors, budgets like ``4/255``, seeds, atomic writes."""

import contextlib
from fractions import Fraction
from pathlib import Path

import click

from alpr import atomic


class UserError(click.ClickException):
    """A problem with the user's input: printed as one line, exit code 2, never a traceback."""

    exit_code = 2


def parse_fraction(text: str, *, name: str = "value", low: float | None = None, high: float | None = None) -> float:
    """Parse ``0.125``, ``4/255`` or ``32/255`` into a float, checking ``low <= value <= high``."""
    try:
        value = float(Fraction(text.strip()))
    except (ValueError, ZeroDivisionError):
        raise UserError(f"{name}: expected a number like 0.03 or 8/255, got {text!r}") from None
    if low is not None and value < low:
        raise UserError(f"{name}: must be >= {low:g}, got {text}")
    if high is not None and value > high:
        raise UserError(f"{name}: must be <= {high:g}, got {text}")
    return value


class FractionType(click.ParamType):
    """click parameter type accepting ``4/255``-style fractions within bounds."""

    name = "NUMBER"

    def __init__(self, low: float | None = None, high: float | None = None):
        self.low, self.high = low, high

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        try:
            return parse_fraction(str(value), name=param.name if param else "value", low=self.low, high=self.high)
        except UserError as err:
            self.fail(err.message, param, ctx)


seed_option = click.option("--seed", type=int, default=0, show_default=True, help="Random seed (reproducible runs).")


@contextlib.contextmanager
def atomic_path(path: Path, *, force: bool = True):
    """Like ``alpr.atomic.atomic_path``, refusing to replace an existing file unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise UserError(f"{path} exists; pass --force to overwrite")
    with atomic.atomic_path(path) as tmp:
        yield tmp


def load_recognizer(country: str, model_name: str | None, **kwargs):
    """Build a ``Recognizer``, turning model-loading problems into one-line user errors."""
    from alpr.pipeline import Recognizer

    try:
        return Recognizer(country=country, model=model_name, **kwargs)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise UserError(str(err).splitlines()[0] if str(err) else type(err).__name__) from None
