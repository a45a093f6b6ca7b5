"""Scripts for tests: ``scripts/NAME.py`` imported as a module (``scripts/`` is not a package; not a test module)."""

import importlib
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def load_script(name: str):
    """The module of ``scripts/<name>.py``, importing it once (``scripts/`` goes on ``sys.path``,
    so a script's own imports of its sibling scripts work too)."""
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module(name)
