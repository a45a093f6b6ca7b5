"""The synthetic character crops the CNN is trained on (alpr.char_crops.make_crops)."""

from dataclasses import replace

import cv2
import numpy as np

from alpr.synth import fonts
from alpr.synth.render import render_plate
from alpr.char_crops import CLEAN_POLICY, make_crops


def grey_median(crop: np.ndarray) -> float:
    return float(np.median(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)))


def test_inverted_plates_give_light_characters_on_dark():
    normal, _ = make_crops("es", 40, 3, policy=CLEAN_POLICY, progress=False)
    inverted, _ = make_crops("es", 40, 3, policy=replace(CLEAN_POLICY, invert_rate=1.0), progress=False)
    assert np.mean([grey_median(c) for c in normal]) > 150
    assert np.mean([grey_median(c) for c in inverted]) < 105


def test_box_follows_a_sloped_glyph():
    sloped = replace(CLEAN_POLICY, slope=30.0, slope_rate=1.0)
    fixed, _ = make_crops("es", 60, 4, policy=sloped, progress=False)
    following, labels = make_crops("es", 60, 4, policy=replace(sloped, box_follows_warp=True), progress=False)
    assert len(fixed) == len(following) == len(labels) == 60
    aspect = np.array([c.shape[0] / c.shape[1] for c in following]) / np.array([c.shape[0] / c.shape[1] for c in fixed])
    # a sloped glyph's upright bounding box is taller for its width than the glyph itself
    assert np.median(aspect) > 1.1


def test_no_crop_is_labelled_as_a_glyph_its_font_draws_like_another():
    seen = []

    def recording_render(plate, country, **kwargs):
        seen.append((kwargs["style"]["font"], plate.text))
        return render_plate(plate, country, **kwargs)

    make_crops("eu", 400, 7, policy=CLEAN_POLICY, render=recording_render, progress=False)
    twin_fonts = {font for font, _ in seen if font in fonts.TWINS}
    assert twin_fonts, "no plate drawn in a font with twins: the test proves nothing"
    for font, text in seen:
        assert not set(text) & set(fonts.TWINS.get(font, {})), (font, text)
    assert any("O" in text for font, text in seen if font not in fonts.TWINS)


def test_fonts_list_names_the_font_of_every_crop():
    """``fonts=[]`` collects one font per crop, the one its plate was rendered in."""
    rendered = []

    def recording_render(plate, country, **kwargs):
        rendered.append(kwargs["style"]["font"])
        return render_plate(plate, country, **kwargs)

    crop_fonts: list = []
    crops, labels = make_crops("de", 120, 5, policy=CLEAN_POLICY, render=recording_render, progress=False, fonts=crop_fonts)
    again, _ = make_crops("de", 120, 5, policy=CLEAN_POLICY, progress=False)
    assert len(crop_fonts) == len(crops) == len(labels) == 120
    assert set(crop_fonts) <= set(rendered) and len(set(rendered)) > 1
    assert all(np.array_equal(a, b) for a, b in zip(crops, again))  # collecting fonts changes no crop


def test_font_mix_draws_only_its_fonts_and_none_keeps_the_countrys_crops():
    """A training font mix changes which fonts are drawn, nothing else: ``font_mix=None`` and
    the country's own weights give the crops of earlier runs, crop for crop."""
    from alpr.synth.style import FONT_CHOICES, FONT_WEIGHTS

    din_only: list = []
    make_crops("de", 60, 8, policy=CLEAN_POLICY, progress=False, fonts=din_only, font_mix={"din": 1.0})
    assert set(din_only) == {"din"}
    default, labels = make_crops("de", 60, 8, policy=CLEAN_POLICY, progress=False)
    own_mix = dict(zip(FONT_CHOICES["de"], FONT_WEIGHTS["de"]))
    same, same_labels = make_crops("de", 60, 8, policy=CLEAN_POLICY, progress=False, font_mix=own_mix)
    assert np.array_equal(labels, same_labels) and all(np.array_equal(a, b) for a, b in zip(default, same))


def ink_at_top_or_bottom(crop: np.ndarray) -> bool:
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    return min(grey[0].min(), grey[-1].min()) < 100


def test_cut_crops_lose_the_glyph_top_or_bottom_and_cut_rate_0_keeps_old_crops():
    kept, _ = make_crops("es", 60, 6, policy=CLEAN_POLICY, progress=False)
    same, _ = make_crops("es", 60, 6, policy=replace(CLEAN_POLICY, cut_rate=0.0), progress=False)
    cut, labels = make_crops("es", 60, 6, policy=replace(CLEAN_POLICY, cut_rate=1.0), progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(kept, same))  # recorded commands reproduce their data
    assert len(cut) == len(labels) == 60
    assert np.mean([ink_at_top_or_bottom(c) for c in kept]) < 0.1
    assert np.mean([ink_at_top_or_bottom(c) for c in cut]) > 0.6
