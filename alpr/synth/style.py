"""Plate styles: the clean default look per country and random variations for training data.

A style is a plain dict; ``render_plate`` fills missing keys from ``default_style``. Keys:

  font           "fe" (own FE-Schrift), "es" (own Spanish glyphs), "din" (OSP-DIN),
                 "dejavu" (DejaVu Sans Bold condensed)
  variant        "auto" (Engschrift for 8-character German plates), "mittel" or "eng"
  weight         stroke weight factor (1.0 = 10 mm strokes)
  width_scale    horizontal glyph scale (condensing), 1.0 = nominal
  char_height_mm ink height of a character
  spacing_mm     space between character cells
  gap_mm         gap between the first groups (German sticker gap, Spanish digits/letters)
  gap2_mm        German gap between letters and digits (and Spanish old-format second gap)
  ink, paper     BGR colours
  border_mm      width of the black border line (0 = none)
  band           draw the EU band; stickers: draw German stickers; hu_colour / seal: their variant
  hyphens        old Spanish plates: draw a hyphen between groups
  dirt           0..1 strength of smudges; gloss: 0..1 strength of a reflective gradient
  offset_mm      (dx, dy) shift of the whole text; jitter_mm: per-character vertical jitter
  emboss         0..1 strength of the shadow of the raised characters
"""

import numpy as np

FONT_CHOICES = {"de": ("fe", "es", "din", "dejavu"), "es": ("es", "din", "fe", "dejavu"), "eu": ("din", "es", "fe", "dejavu")}
#: Probability of each entry of FONT_CHOICES when drawing random styles.
FONT_WEIGHTS = {"de": (0.8, 0.05, 0.1, 0.05), "es": (0.55, 0.3, 0.05, 0.1), "eu": (0.35, 0.25, 0.25, 0.15)}


def default_style(country: str) -> dict:
    """The clean, nominal look of a new plate of ``country``."""
    style = {
        "font": {"de": "fe", "es": "es"}.get(country, "din"),
        "variant": "auto",
        "weight": 0.92,
        "width_scale": 1.0,
        "char_height_mm": 75.0,
        "spacing_mm": 5.5,
        "gap_mm": 48.0,
        "gap2_mm": 16.0,
        "ink": (25, 25, 25),
        "paper": (245, 246, 246),
        "border_mm": 1.5,
        "band": country in ("de", "es", "eu"),
        "stickers": country == "de",
        "hu_colour": 0,
        "seal": 0,
        "hyphens": False,
        "dirt": 0.0,
        "gloss": 0.0,
        "offset_mm": (0.0, 0.0),
        "jitter_mm": 0.0,
        "emboss": 0.0,
    }
    if country in ("es", "eu"):
        style.update(char_height_mm=72.0, weight=0.95, width_scale=1.0, spacing_mm=10.0, gap_mm=34.0, gap2_mm=16.0)
    return style


def font_probabilities(country: str, font_mix: dict | None = None) -> tuple[float, ...]:
    """The probability of each of ``FONT_CHOICES[country]``: ``FONT_WEIGHTS[country]``, or the
    weights ``font_mix`` ({font: weight}, fonts left out never drawn) normalised to sum to one."""
    fonts = FONT_CHOICES[country]
    if font_mix is None:
        return FONT_WEIGHTS[country]
    unknown = sorted(set(font_mix) - set(fonts))
    if unknown:
        raise ValueError(f"unknown font {unknown[0]!r} for {country}; expected one of {', '.join(fonts)}")
    weights = [float(font_mix.get(f, 0.0)) for f in fonts]
    total = sum(weights)
    if min(weights) < 0 or total <= 0:
        raise ValueError("font weights must be >= 0 with a positive sum")
    return tuple(w / total for w in weights)


def random_style(country: str, rng: np.random.Generator, font_mix: dict | None = None) -> dict:
    """A random, plausible variation of ``default_style(country)``; its font is drawn from
    ``font_mix`` when given (see :func:`font_probabilities`), with the same draws from ``rng``."""
    style = default_style(country)
    style["font"] = str(rng.choice(FONT_CHOICES[country], p=font_probabilities(country, font_mix)))
    u = rng.uniform
    paper = u(200, 255)
    tint = rng.normal(0, 6, 3)
    style.update(
        weight=float(u(0.75, 1.1)),
        width_scale=float(u(0.92, 1.06)) * (1.0 if style["font"] == "fe" else u(0.95, 1.05)),
        ink=tuple(int(np.clip(v, 0, 255)) for v in u(5, 70) + rng.normal(0, 5, 3)),
        paper=tuple(int(np.clip(paper + t, 0, 255)) for t in tint),
        border_mm=float(rng.choice([0.0, u(0.8, 2.5)], p=[0.15, 0.85])),
        dirt=float(u(0, 1) ** 3 * 0.8),
        gloss=float(u(0, 0.5)),
        offset_mm=(float(rng.normal(0, 3)), float(rng.normal(0, 1.5))),
        jitter_mm=float(u(0, 1.0)),
        emboss=float(u(0, 0.7)) if rng.random() < 0.6 else 0.0,
        hu_colour=int(rng.integers(0, 6)),
        seal=int(rng.integers(0, 4)),
        stickers=country == "de" and bool(rng.random() < 0.92),
    )
    if country == "de":
        style.update(
            spacing_mm=float(u(3.0, 11.0)),
            gap_mm=float(u(43.0, 62.0)),
            gap2_mm=float(u(10.0, 30.0)),
            char_height_mm=float(u(73.0, 77.0)),
        )
    else:
        style.update(
            weight=float(u(0.8, 1.1)),
            width_scale=float(u(0.9, 1.08)),
            spacing_mm=float(u(6.0, 13.0)),
            gap_mm=float(u(22.0, 45.0)),
            gap2_mm=float(u(10.0, 20.0)),
            char_height_mm=float(u(68.0, 77.0)),
            hyphens=bool(rng.random() < 0.7),
        )
    return style
