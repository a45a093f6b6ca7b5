"""scripts/sticker_readers.py: the stickered character read by every bundled model (and Tesseract)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alpr.resources import models_dir

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sticker_readers.py"

pytestmark = pytest.mark.skipif(not (models_dir() / "de.keras").exists(), reason="bundled models not trained yet")


def test_a_sticker_that_hides_the_whole_character_changes_the_readings(tmp_path):
    # a white sticker covering the "1" (1 px/mm grid, origin on the character's centre): nothing left to read as 1
    mask = np.ones((90, 40), bool)
    np.savez(tmp_path / "sticker.npz", grey=np.ones((90, 40), np.float32), mask=mask, origin=np.array([20.0, 45.0]),
             box_mm=np.array([0.0, 0.0, 20.0, 75.0]))
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "sticker.npz"), "--country", "de",
                           "--out", str(tmp_path / "readers.png")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    clean, stickered = (line for line in done.stdout.splitlines() if line.startswith(("clean 1", "stickered")))
    assert "de: 1 " in clean and "de-hardened: 1 " in clean
    assert "de: 1 " not in stickered
    assert (tmp_path / "readers.png").stat().st_size > 0


def test_a_file_that_is_not_a_sticker_is_a_one_line_error(tmp_path):
    (tmp_path / "x.npz").write_bytes(b"nope")
    done = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "x.npz")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "not a sticker.npz from alpr patch" in done.stderr.splitlines()[-1]
