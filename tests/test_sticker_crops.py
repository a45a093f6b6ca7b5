"""Crops of printed-and-photographed stickers for physical adversarial training (defense.sticker_crops)."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from attacks import capture_test  # noqa: E402
from attacks.patch import read_sticker_npz  # noqa: E402

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _sticker_file(path: Path) -> Path:
    """A black 8 x 14 mm rectangle centred on the character, saved as alpr patch saves one."""
    np.savez(path, grey=np.zeros((14, 8), np.float32), mask=np.ones((14, 8), bool), origin=np.array([4.0, 7.0]),
             box_mm=np.array([100.0, 20.0, 30.0, 70.0]))
    return path


def test_read_sticker_npz(tmp_path):
    sticker = read_sticker_npz(_sticker_file(tmp_path / "s.npz"))
    assert sticker.grey.shape == sticker.mask.shape == (14, 8) and sticker.origin == (4.0, 7.0)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a sticker.npz"):
        read_sticker_npz(tmp_path / "bad.npz")


def test_photo_pair_sticks_the_character_only_on_the_second_photo(tmp_path):
    sticker = read_sticker_npz(_sticker_file(tmp_path / "s.npz"))
    p = capture_test.photo_params("none", np.random.default_rng(0))
    truth, index, photos, scene = capture_test.photo_pair(sticker, p, np.random.default_rng(1), country="es")
    assert truth[index] == "1" and photos[0].shape == photos[1].shape and scene.quad.shape == (4, 2)
    assert np.abs(photos[0].astype(int) - photos[1].astype(int)).max() > 50  # a black sticker on a white plate
    again = capture_test.photo_pair(sticker, p, np.random.default_rng(1), country="es")
    assert again[0] == truth and np.array_equal(again[2][1], photos[1])  # seeded


def test_script_writes_labelled_crops_of_the_pipeline(tmp_path, monkeypatch):
    sys.path.insert(0, str(SCRIPTS))
    import sticker_crops

    out = tmp_path / "crops.npz"
    assert sticker_crops.main([str(_sticker_file(tmp_path / "s.npz")), "--country", "es", "--n", "4", "--seed", "2",
                               "--quiet", "--out", str(out)]) == 0
    with np.load(out) as f:
        x, chars, meta = f["x"], f["chars"], json.loads(str(f["meta"]))
    assert x.dtype == np.uint8 and x.shape[1:] == (32, 24, 1) and len(x) == meta["crops"] <= 4
    assert meta["photos"] == 4 and meta["crops"] + meta["unread"] == 4 and set(chars.tolist()) <= {"1"}
    assert len(x) >= 1  # a plain plate with a rectangle on one digit is read on most photos
    from defense.sticker_crops import load_crops

    xf, y, meta2 = load_crops(out, "0123456789BCD", (32, 24, 1))
    assert xf.max() <= 1.0 and (y == 1).all() and meta2 == meta
    with pytest.raises(ValueError, match="alphabet"):
        load_crops(out, "0ABC", (32, 24, 1))
    with pytest.raises(ValueError, match="shape"):
        load_crops(out, "0123456789", (16, 16, 1))
    with pytest.raises(SystemExit):
        sticker_crops.main([str(tmp_path / "missing.npz"), "--country", "es", "--out", str(out)])
