"""Tests of the synthetic renderer: determinism, exact character boxes, scene geometry, alphabets."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from alpr import plates
from alpr.synth import fonts
from alpr.synth.render import char_crops, char_patches, plate_size, render_plate
from alpr.synth.scene import corners_px, render_scene


def _dark(image, threshold=150):
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) < threshold


def test_plate_is_deterministic_per_seed():
    a = render_plate(country="de", seed=11, height_px=48)
    b = render_plate(country="de", seed=11, height_px=48)
    c = render_plate(country="de", seed=12, height_px=48)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    assert a.plate == b.plate
    assert not np.array_equal(a.image, c.image) or a.plate != c.plate


def test_scene_is_deterministic_per_seed():
    a = render_scene("es", seed=3)
    b = render_scene("es", seed=3)
    c = render_scene("es", seed=4)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.quad, b.quad)
    assert not np.array_equal(a.image, c.image)


@pytest.mark.parametrize("height", [24, 32, 48, 64, 110, 200])
def test_plate_proportions_are_520_by_110(height):
    r = render_plate(country="es", seed=1, height_px=height)
    h, w = r.image.shape[:2]
    assert (w, h) == plate_size(height)
    assert h == height and abs(w / h - 520 / 110) < 1.5 / h
    assert r.image.dtype == np.uint8 and r.image.shape[2] == 3


@pytest.mark.parametrize("country,seed", [("de", s) for s in range(6)] + [("es", s) for s in range(6)])
def test_boxes_match_the_drawn_glyphs(country, seed):
    r = render_plate(country=country, seed=seed, height_px=96, style={"border_mm": 0.0, "stickers": False, "hyphens": False})
    text = r.plate.text
    assert r.boxes.shape == (len(text), 4)
    assert r.group_index.tolist() == [g for g, grp in enumerate(r.plate.groups) for _ in grp]
    dark = _dark(r.image)
    inside = np.zeros_like(dark)
    for x, y, w, h in r.boxes:
        assert w > 0 and h > 0
        box = dark[y : y + h, x : x + w]
        assert box.mean() > 0.1, "ink inside each box"
        # tight: every edge row/column of the box touches ink (threshold 0.25 coverage ~ light grey)
        light = cv2.cvtColor(r.image, cv2.COLOR_BGR2GRAY)[y : y + h, x : x + w] < 215
        assert light[0].any() and light[-1].any() and light[:, 0].any() and light[:, -1].any()
        inside[y : y + h, x : x + w] = True
    assert np.all(np.diff(r.boxes[:, 0]) > 0), "reading order"
    x0, x1 = r.boxes[:, 0].min(), (r.boxes[:, 0] + r.boxes[:, 2]).max()
    y0, y1 = r.boxes[:, 1].min(), (r.boxes[:, 1] + r.boxes[:, 3]).max()
    area = np.zeros_like(dark)
    area[y0:y1, x0:x1] = True
    outside = dark & area & ~inside
    assert outside.sum() <= 0.01 * (dark & area).sum()


def test_all_alphabets_render_in_every_font():
    de = plates.ALPHABETS["de"]
    for font in fonts.FONTS:
        for ch in de:
            g = fonts.glyph(font, ch, 40)
            assert g.coverage.max() > 0.9 and g.box[2] >= 2 and g.box[3] >= 30, (font, ch)
    letters = plates.LATIN + plates.UMLAUTS
    for i in range(0, len(letters), 3):
        district = letters[i : i + 3]
        r = render_plate(f"{district} AB 12", "de", seed=i, height_px=64, style={})
        assert len(r.boxes) == len(r.plate.text) == len(district) + 4
    for i in range(0, len(plates.ES_LETTERS), 3):
        tail = (plates.ES_LETTERS[i : i + 3] + "BBB")[:3]
        r = render_plate(f"{i:04d} {tail}", "es", seed=i, height_px=64)
        assert len(r.boxes) == 7
    old = render_plate("M 1234 AB", "es", seed=0, height_px=64)
    assert old.band_box is None and len(old.boxes) == 7
    eight = render_plate("ABC DE 123", "de", seed=0, height_px=64, style={})
    assert eight.style["variant"] == "eng"


def test_twins_are_exactly_the_identical_glyphs():
    chars = plates.ALPHABETS["de"]
    for font in fonts.FONTS:
        # at 48 x 32 px; identical outlines differ only by anti-aliasing (~0.0001), the closest
        # distinct pairs (O/Q, and the Spanish font's O/0) by about 0.044
        small = {ch: cv2.resize(fonts.master(font, ch), (32, 48), interpolation=cv2.INTER_AREA) for ch in chars}
        identical = {(a, b) for i, a in enumerate(chars) for b in chars[i + 1 :] if np.abs(small[a] - small[b]).mean() < 0.01}
        declared = {tuple(sorted(pair)) for pair in fonts.TWINS.get(font, {}).items()}
        assert {tuple(sorted(pair)) for pair in identical} == declared, font


def test_band_and_text_do_not_overlap():
    r = render_plate(country="de", seed=5, height_px=64, style={})
    bx, by, bw, bh = r.band_box
    assert bx + bw <= r.boxes[:, 0].min()
    band = r.image[by + 2 : by + bh - 2, bx + 2 : bx + bw - 2].reshape(-1, 3).mean(0)
    assert band[0] > band[2] + 50, "EU band is blue"


def test_random_plates_are_valid_and_varied():
    texts, fonts_used = set(), set()
    for seed in range(60):
        r = render_plate(country="de" if seed % 2 else "es", seed=seed, height_px=32)
        assert plates.is_valid(r.plate.formatted, r.plate.country)
        texts.add(r.plate.text)
        fonts_used.add(r.font)
    assert len(texts) == 60 and len(fonts_used) >= 2


def test_scene_geometry_matches_the_plate():
    for seed in range(4):
        s = render_scene("de" if seed % 2 else "es", seed=seed, easy=True)
        H, W = s.image.shape[:2]
        assert s.quad.shape == (4, 2) and s.quad.dtype == np.float32
        assert np.all(s.quad >= 0) and np.all(s.quad[:, 0] <= W) and np.all(s.quad[:, 1] <= H)
        ph, pw = s.rendered.image.shape[:2]
        mapped = cv2.perspectiveTransform(corners_px(pw, ph)[None], s.homography)[0]
        assert np.allclose(mapped, s.quad, atol=1e-3)
        # warping the photo back with the inverse homography recovers the plate
        back = cv2.warpPerspective(s.image, np.linalg.inv(s.homography), (pw, ph))
        a = cv2.cvtColor(back, cv2.COLOR_BGR2GRAY).astype(np.float32)
        b = cv2.cvtColor(s.rendered.image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        m = 3  # ignore the resampled rim
        corr = np.corrcoef(a[m:-m, m:-m].ravel(), b[m:-m, m:-m].ravel())[0, 1]
        assert corr > 0.7, corr
        assert s.char_quads.shape == (len(s.rendered.plate.text), 4, 2)
        hull = s.quad.reshape(-1, 1, 2)
        for q in s.char_quads:
            assert all(cv2.pointPolygonTest(hull, tuple(map(float, p)), True) > -1 for p in q)


def test_scene_plate_width_and_size():
    s = render_scene("de", seed=9, size=(320, 240), plate_width=100)
    assert s.image.shape == (240, 320, 3)
    top = np.linalg.norm(s.quad[1] - s.quad[0])
    assert 60 < top < 110


def test_char_crops_cover_each_character():
    r = render_plate(country="de", seed=2, height_px=64)
    crops = char_crops(r, rng=np.random.default_rng(0))
    assert len(crops) == len(r.boxes)
    for crop, (_, _, w, h) in zip(crops, r.boxes):
        assert crop.shape[0] >= h * 0.9 and crop.shape[1] >= 1
    patches = char_patches(r, (32, 24), rng=np.random.default_rng(0))
    assert patches.shape == (len(r.boxes), 32, 24, 3) and patches.dtype == np.uint8


def test_cli_writes_images_and_labels(tmp_path):
    from alpr.cli import main

    result = CliRunner().invoke(main, ["render", "--country", "es", "--count", "2", "--out", str(tmp_path), "--seed", "3", "--height", "48"])
    assert result.exit_code == 0, result.output
    labels = json.loads((tmp_path / "labels.json").read_text())
    assert [e["file"] for e in labels] == ["00000.png", "00001.png"]
    img = cv2.imread(str(tmp_path / "00000.png"))
    assert img.shape[0] == 48 and len(labels[0]["boxes"]) == len(labels[0]["text"])
    bad = CliRunner().invoke(main, ["render", "--out", str(tmp_path), "--size", "x"])
    assert bad.exit_code == 2
