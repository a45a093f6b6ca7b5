"""Locate the project's bundled assets (models, samples, fonts), installed or in a source checkout."""

import os
from importlib import resources
from pathlib import Path


def assets_dir() -> Path:
    """Folder holding ``models/`` and ``samples/`` (``data/`` in the repository, ``alpr_assets`` when installed)."""
    try:
        return Path(str(resources.files("alpr_assets")))
    except ModuleNotFoundError:  # running from a source checkout without installing
        return Path(__file__).resolve().parents[1] / "data"


def models_dir() -> Path:
    """Folder of the bundled ``.keras`` models and their JSON model cards."""
    return assets_dir() / "models"


def samples_dir() -> Path:
    """Folder of the sample photos rendered by the project."""
    return assets_dir() / "samples"


def fonts_dir() -> Path:
    """Folder of the openly licensed fonts the renderer uses."""
    return Path(str(resources.files("alpr.synth"))) / "font_files"


def cache_dir() -> Path:
    """Folder for derived, re-creatable files (e.g. converted models): ``$ALPR_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/alpr``, else ``~/.cache/alpr``."""
    if os.environ.get("ALPR_CACHE_DIR"):
        return Path(os.environ["ALPR_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "alpr"
