"""Image loading: every kind of odd or hostile file gives an 8-bit BGR image or a one-line ImageError."""

import io

import numpy as np
import pytest
from PIL import Image

from alpr.imageio import MAX_PIXELS, ImageError, decode_image, iter_image_paths, load_image, save_image
from imagefiles import png_bytes, png_header_only  # tests/imagefiles.py


@pytest.mark.parametrize(
    "array",
    [
        np.full((1, 1, 3), 200, np.uint8),
        np.full((20, 30), 90, np.uint8),
        np.full((20, 30), 40000, np.uint16),
        np.dstack([np.zeros((20, 30, 3), np.uint8), np.full((20, 30), 0, np.uint8)]),  # fully transparent
    ],
)
def test_odd_formats_become_bgr8(array):
    image = decode_image(png_bytes(array))
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.shape[:2] == array.shape[:2]


def test_sixteen_bit_is_scaled_and_transparent_is_white():
    assert decode_image(png_bytes(np.full((4, 4), 65535, np.uint16))).min() == 255
    transparent = np.dstack([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4), np.uint8)])
    assert decode_image(png_bytes(transparent)).min() == 255


def test_exif_orientation_is_applied():
    pil = Image.fromarray(np.zeros((10, 30, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", exif=exif)
    assert decode_image(buf.getvalue()).shape[:2] == (30, 10)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"this is not an image", "not a readable image"),
        (png_bytes(np.zeros((50, 50, 3), np.uint8))[:40], "not a readable image"),  # truncated
        (png_header_only(16000, 16000), "exceeds the limit"),
    ],
)
def test_bad_bytes_give_one_line_errors(data, message):
    with pytest.raises(ImageError, match=message) as info:
        decode_image(data, name="x.png")
    assert "\n" not in str(info.value)


def test_pixel_limit_is_generous_for_real_photos():
    assert MAX_PIXELS >= 24_000_000 and 16000 * 16000 > MAX_PIXELS


def test_missing_and_directory_paths(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_wrong_extension_still_reads(tmp_path):
    path = tmp_path / "photo.txt"
    path.write_bytes(png_bytes(np.full((8, 8, 3), 7, np.uint8)))
    assert load_image(path).shape == (8, 8, 3)


def test_save_is_atomic_and_round_trips(tmp_path):
    image = np.random.default_rng(0).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    save_image(tmp_path / "out" / "a.png", image)
    assert np.array_equal(load_image(tmp_path / "out" / "a.png"), image)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["a.png"]


def test_directories_recurse_and_missing_paths_pass_through(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ["b.jpg", "sub/a.png", "notes.txt"]:
        (tmp_path / name).write_bytes(b"x")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_image_paths([tmp_path])]
    assert found == ["b.jpg", "sub/a.png"]
    assert list(iter_image_paths([tmp_path / "nope.jpg"])) == [tmp_path / "nope.jpg"]
