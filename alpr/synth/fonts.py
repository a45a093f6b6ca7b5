"""Glyph sources of the renderer and the cache of their bitmaps at a given pixel size.

Every font is described in plate millimetres at a nominal character height of 75 mm: a master
coverage bitmap (float32, 0..1, cropped to the ink) is made once per (font, character, width
variant, weight) and resized with area averaging for each requested pixel size, then cached.

Fonts:
  ``fe``      own FE-Schrift stroke glyphs (German plates), see ``glyphs.py``
  ``es``      own stroke glyphs of the Spanish plate font (DIN-like, 45 mm wide, lighter strokes)
  ``din``     the vendored OSP-DIN (OFL-1.1), a DIN 1451 clone close to the Spanish plate font
  ``dejavu``  DejaVu Sans Bold from matplotlib (Bitstream Vera licence), horizontally condensed
"""

import os
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from alpr.resources import fonts_dir
from alpr.synth import glyphs

FONTS = ("fe", "es", "din", "dejavu")
HEIGHT_MM = glyphs.HEIGHT_MM
_K = glyphs.MASTER_PX_PER_MM
#: Characters a font draws exactly like another one: OSP-DIN's letter O is its digit 0. A crop of
#: such a character cannot be told from its twin, so training data must not label it as itself.
TWINS = {"din": {"O": "0"}}
#: Ink threshold that defines a glyph's tight box.
INK_THRESHOLD = 0.25


@dataclass(frozen=True)
class Glyph:
    """A glyph bitmap at one size: ``coverage`` (h, w float32 in 0..1) whose bounding box of
    pixels >= ``INK_THRESHOLD`` is ``box`` = (x, y, w, h) inside the bitmap."""

    coverage: np.ndarray
    box: tuple[int, int, int, int]


def nominal_width_mm(char: str, variant: str = "mittel") -> float:
    """Character cell width in mm (DIN 74069 Mittelschrift or Engschrift)."""
    letter, digit = glyphs.WIDTHS[variant]
    return digit if char.isdigit() else letter


def _crop_to_ink(cov: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(cov > 0.02)
    if len(xs) == 0:
        return cov[:1, :1]
    return cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _dejavu_path() -> str:
    import matplotlib  # only for its bundled DejaVu fonts

    return os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf", "DejaVuSans-Bold.ttf")


@lru_cache(maxsize=4)
def _pil_font(font: str) -> ImageFont.FreeTypeFont:
    path = str(fonts_dir() / "OSP-DIN.ttf") if font == "din" else _dejavu_path()
    return ImageFont.truetype(path, 600)


@lru_cache(maxsize=128)
def _pil_raw(font: str, char: str) -> np.ndarray:
    """Ink-cropped coverage of ``char`` drawn by Pillow at a large size."""
    f = _pil_font(font)
    image = Image.new("L", (900, 900), 0)
    ImageDraw.Draw(image).text((150, 100), char, font=f, fill=255)
    return _crop_to_ink(np.asarray(image, np.float32) / 255.0)


# Width of the digit 0 in mm that each outline font is condensed/stretched to (at 75 mm height).
_PIL_ZERO_WIDTH_MM = {"din": 42.0, "dejavu": 41.0}


@lru_cache(maxsize=4096)
def _pil_master(font: str, char: str, variant: str, weight: float) -> np.ndarray:
    h_px = int(round(HEIGHT_MM * _K))
    zero = _pil_raw(font, "0")
    # horizontal px per raw px, so that "0" gets its target width; every glyph gets full height
    sx = _PIL_ZERO_WIDTH_MM[font] * _K / zero.shape[1]
    if variant == "eng":
        sx *= glyphs.WIDTHS["eng"][1] / glyphs.WIDTHS["mittel"][1]
    base = glyphs.UMLAUT_BASE.get(char, char)
    raw = _pil_raw(font, base)
    raw_w = raw.shape[1] * sx
    cap = nominal_width_mm(char, variant) * _K  # keep M and W inside their cell
    w_px = int(round(min(raw_w, cap)))
    body_h = h_px if base == char else int(round(h_px * 0.76))
    body = cv2.resize(raw, (max(1, w_px), body_h), interpolation=cv2.INTER_AREA)
    out = np.zeros((h_px, body.shape[1]), np.float32)
    out[h_px - body_h :] = body
    if base != char:  # umlaut dots, square like the plate fonts
        d = int(round(h_px * 0.13))
        for cx in (0.22, 0.78):
            x0 = int(round(cx * out.shape[1] - d / 2))
            out[:d, max(0, x0) : x0 + d] = 1.0
    return _apply_weight(out, weight)


def _apply_weight(cov: np.ndarray, weight: float) -> np.ndarray:
    """Thicken (weight > 1) or thin the strokes by a fraction of a 10 mm stroke."""
    r = int(round(abs(weight - 1.0) * glyphs.STROKE_MM * _K / 2))
    if r == 0:
        return cov
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    pad = cv2.copyMakeBorder(cov, r, r, r, r, cv2.BORDER_CONSTANT, value=0)
    out = cv2.dilate(pad, kernel) if weight > 1 else cv2.erode(pad, kernel)
    return _crop_to_ink(out)


@lru_cache(maxsize=8192)
def master(font: str, char: str, variant: str = "mittel", weight: float = 1.0) -> np.ndarray:
    """Ink-cropped master coverage (``glyphs.MASTER_PX_PER_MM``) of ``char`` in ``font``."""
    if font == "fe":
        cov = glyphs.fe_master(char, nominal_width_mm(char, variant), glyphs.STROKE_MM * weight)
        return _crop_to_ink(cov)
    if font == "es":
        width = glyphs.ES_WIDTH_MM * (glyphs.WIDTHS["eng"][0] / glyphs.WIDTHS["mittel"][0] if variant == "eng" else 1.0)
        return _crop_to_ink(glyphs.fe_master(char, width, glyphs.STROKE_MM * weight, family="es"))
    if font in ("din", "dejavu"):
        return _pil_master(font, char, variant, weight)
    raise KeyError(f"unknown font {font!r}; expected one of {', '.join(FONTS)}")


@lru_cache(maxsize=8192)
def _quarter(font: str, char: str, variant: str, weight: float) -> np.ndarray:
    m = master(font, char, variant, weight)
    return cv2.resize(m, (max(1, m.shape[1] // 4), max(1, m.shape[0] // 4)), interpolation=cv2.INTER_AREA)


def quantize(value: float, step: float) -> float:
    """Round style parameters so the glyph cache stays small and hit rates high."""
    return round(round(value / step) * step, 4)


@lru_cache(maxsize=32768)
def glyph(font: str, char: str, height_px: int, width_scale: float = 1.0, variant: str = "mittel", weight: float = 1.0) -> Glyph:
    """``char`` with a full character height of ``height_px`` pixels (x ``width_scale``
    horizontally), cached. Callers should pass ``quantize``d ``width_scale`` and ``weight``."""
    s = height_px / (HEIGHT_MM * _K)
    m = master(font, char, variant, weight)
    if s < 0.2:  # resample from a 4x smaller copy: much cheaper, same result at these sizes
        m, s = _quarter(font, char, variant, weight), s * 4
    w = max(1, int(round(m.shape[1] * s * width_scale)))
    h = max(1, int(round(m.shape[0] * s)))
    cov = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA)
    box = cv2.boundingRect((cov >= INK_THRESHOLD).view(np.uint8))  # the ink's box, (0, 0, 0, 0) if none
    if box[2] == 0:  # sub-pixel glyph: the whole bitmap is its box
        box = (0, 0, w, h)
    cov.setflags(write=False)
    return Glyph(cov, box)
