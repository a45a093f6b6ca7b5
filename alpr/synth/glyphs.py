"""Own stroke definitions of the German FE-Schrift (0-9, A-Z, Ä Ö Ü) and their rasteriser.

No FE-Schrift font is openly available, so each glyph is a list of centre-line paths in
millimetres inside its stroke box (``0..w`` x ``0..h``, y pointing down, ``w``/``h`` = glyph
width/height minus one stroke width). Paths are stroked with butt caps and mitred joins, which
gives the cut-off terminals and square corners of the real plates. Traits modelled on the
DIN 74069 design and real plate photos: condensed, monoline, heavy; the letter O is a rounder
egg while the digit 0 has long straight sides and a slanted break through its upper right;
1 has a flag and a foot (as on the real "SOG AR 100" crop), 3 a flat top; the top bowl of 8 and B is smaller;
P's bowl is deep, R's is short with a straight leg; 6/9 have straight diagonal tails; umlauts keep the
full character height by shortening the base letter.
"""

import math
from functools import lru_cache

import cv2
import numpy as np

#: Nominal widths in mm (DIN 74069): Mittelschrift and the narrower Engschrift.
WIDTHS = {"mittel": (47.5, 44.5), "eng": (40.5, 38.5)}
HEIGHT_MM = 75.0
STROKE_MM = 10.0
#: Master resolution of the cached glyph bitmaps.
MASTER_PX_PER_MM = 6.0

_ARC_STEP_DEG = 6.0


class _Path:
    """A polyline builder with straight segments and elliptical arcs (degrees, y down)."""

    def __init__(self, x, y):
        self.pts = [(float(x), float(y))]

    def to(self, x, y):
        self.pts.append((float(x), float(y)))
        return self

    def arc(self, cx, cy, rx, ry, a0, a1):
        n = max(2, int(abs(a1 - a0) / _ARC_STEP_DEG) + 1)
        for a in np.linspace(a0, a1, n)[1:]:
            t = math.radians(a)
            self.pts.append((cx + rx * math.cos(t), cy + ry * math.sin(t)))
        return self


def _arc_start(cx, cy, rx, ry, a):
    t = math.radians(a)
    return cx + rx * math.cos(t), cy + ry * math.sin(t)


def _p(x, y):
    return _Path(x, y)


def _arc_path(cx, cy, rx, ry, a0, a1):
    return _Path(*_arc_start(cx, cy, rx, ry, a0)).arc(cx, cy, rx, ry, a0, a1)


def _zero(w, h):
    r = w / 2
    ry = r * 1.05
    return [_p(0, ry).to(0, h - ry).arc(r, h - ry, r, ry, 180, 0).to(w, ry).arc(r, ry, r, ry, 360, 180)]


def _letter_o(w, h):
    r = w / 2
    ry = h * 0.36
    return [_p(0, ry).to(0, h - ry).arc(r, h - ry, r, ry, 180, 0).to(w, ry).arc(r, ry, r, ry, 360, 180)]


def _one(w, h):
    # real FE plates (e.g. "SOG AR 100") show the 1 with a flag AND a foot
    x = w * 0.56
    return [_p(w * 0.04, h * 0.28).to(x, 0).to(x, h), _p(w * 0.06, h).to(w * 0.98, h)]


def _zero_cut(w, h, stroke):
    """The FE-Schrift 0 is told from O by a slanted break through its upper-right stroke."""
    r = w / 2
    ry = r * 1.05
    t = math.radians(-55)
    cx, cy = r + r * math.cos(t), ry + ry * math.sin(t)
    dx, dy = math.cos(t), math.sin(t)
    reach = stroke * 0.9
    return np.array([(cx - dx * reach, cy - dy * reach), (cx + dx * reach, cy + dy * reach)]), stroke * 0.3


def _two(w, h):
    r, ry = w / 2, h * 0.27
    path = _arc_path(r, ry, r, ry, 195, 375)
    return [path.to(0, h).to(w, h)]


def _three(w, h):
    # FE-Schrift's 3 has a flat top and a straight diagonal into its bowl (as on the real
    # "ES EL 2399" crop); the Spanish font keeps the round-topped _es_three
    ym = h * 0.42
    ry = (h - ym) / 2
    path = _p(w * 0.04, 0).to(w * 0.96, 0).to(w * 0.36, ym).to(w * 0.5, ym)
    return [path.arc(w * 0.5, h - ry, w * 0.5, ry, 270, 515)]


def _es_three(w, h):
    ym = h * 0.44
    ry1, ry2 = ym / 2, (h - ym) / 2
    top = _arc_path(w * 0.48, ry1, w * 0.46, ry1, 200, 450)
    top.to(w * 0.32, ym)
    bottom = _arc_path(w * 0.5, h - ry2, w * 0.5, ry2, 270, 515)
    return [top, _p(w * 0.5, ym).to(w * 0.5, ym), bottom]


def _four(w, h):
    x, y = w * 0.72, h * 0.70
    return [_p(x, h).to(x, 0).to(0, y).to(w, y)]


def _five(w, h):
    ry = h * 0.31
    cy = h - ry
    path = _p(w * 0.96, 0).to(w * 0.07, 0).to(w * 0.02, h * 0.47)
    path.to(*_arc_start(w / 2, cy, w / 2, ry, 240)).arc(w / 2, cy, w / 2, ry, 240, 520)
    return [path]


def _six(w, h):
    ry = h * 0.31
    cy = h - ry
    bowl = _arc_path(w / 2, cy, w / 2, ry, 180, 540)
    stem = _p(w * 0.80, 0).to(*_arc_start(w / 2, cy, w / 2, ry, 195))
    return [bowl, stem]


def _seven(w, h):
    return [_p(0, 0).to(w, 0).to(w * 0.28, h)]


def _eight(w, h):
    ym = h * 0.45
    top = _arc_path(w / 2, ym / 2, w * 0.43, ym / 2, 90, 450)
    bottom = _arc_path(w / 2, ym + (h - ym) / 2, w / 2, (h - ym) / 2, 270, 630)
    return [top, bottom]


def _rot180(fn):
    def rotated(w, h):
        out = []
        for path in fn(w, h):
            q = _Path(0, 0)
            q.pts = [(w - x, h - y) for x, y in path.pts]
            out.append(q)
        return out

    return rotated


def _a(w, h):
    y = h * 0.66
    t = y / h
    xl, xr = w * 0.38 * (1 - t), w - w * 0.38 * (1 - t)
    return [_p(0, h).to(w * 0.38, 0).to(w * 0.62, 0).to(w, h), _p(xl, y).to(xr, y)]


def _b(w, h):
    ym = h * 0.45
    r1, r2 = ym / 2, (h - ym) / 2
    path = _p(w * 0.55, ym).to(0, ym).to(0, 0).to(w * 0.55, 0).arc(w * 0.55, r1, w * 0.40, r1, 270, 450)
    bottom = _p(0, ym).to(0, h).to(w * 0.5, h).arc(w * 0.5, h - r2, w * 0.5, r2, 90, -90).to(w * 0.3, ym)
    return [path, bottom]


def _c(w, h):
    r, ry = w / 2, w * 0.55
    path = _arc_path(r, ry, r, ry, 335, 180).to(0, h - ry).arc(r, h - ry, r, ry, 180, 25)
    return [path]


def _d(w, h):
    rc = w * 0.62
    return [_p(0, 0).to(w - rc, 0).arc(w - rc, rc, rc, rc, 270, 360).to(w, h - rc).arc(w - rc, h - rc, rc, rc, 0, 90).to(0, h).to(0, 0).to(w * 0.2, 0)]


def _e(w, h):
    return [_p(w, 0).to(0, 0).to(0, h).to(w, h), _p(0, h * 0.47).to(w * 0.82, h * 0.47)]


def _f(w, h):
    return [_p(w, 0).to(0, 0).to(0, h), _p(0, h * 0.47).to(w * 0.82, h * 0.47)]


def _g(w, h):
    r, ry = w / 2, w * 0.55
    path = _arc_path(r, ry, r, ry, 335, 180).to(0, h - ry).arc(r, h - ry, r, ry, 180, 0).to(w, h * 0.52).to(w * 0.52, h * 0.52)
    return [path]


def _h(w, h):
    return [_p(0, 0).to(0, h), _p(w, 0).to(w, h), _p(0, h * 0.48).to(w, h * 0.48)]


def _i(w, h):
    return [_p(w / 2, 0).to(w / 2, h)]


def _j(w, h):
    r, ry = w / 2, h * 0.30
    return [_p(w, 0).to(w, h - ry).arc(r, h - ry, r, ry, 0, 165)]


def _k(w, h):
    return [_p(0, 0).to(0, h), _p(w, 0).to(0, h * 0.62), _p(w * 0.30, h * 0.43).to(w, h)]


def _l(w, h):
    return [_p(0, 0).to(0, h).to(w, h)]


def _m(w, h):
    return [_p(0, h).to(0, 0).to(w / 2, h * 0.62).to(w, 0).to(w, h)]


def _n(w, h):
    return [_p(0, h).to(0, 0).to(w, h).to(w, 0)]


def _letter_p(w, h):
    r = h * 0.29
    return [_p(0, h).to(0, 0).to(w * 0.5, 0).arc(w * 0.5, r, w * 0.5, r, 270, 450).to(0, 2 * r)]


def _q(w, h):
    return _letter_o(w, h) + [_p(w * 0.55, h * 0.70).to(w * 1.0, h * 1.0)]


def _r(w, h):
    r = h * 0.235
    bowl = _p(0, h).to(0, 0).to(w * 0.5, 0).arc(w * 0.5, r, w * 0.5, r, 270, 450).to(0, 2 * r)
    return [bowl, _p(w * 0.42, 2 * r).to(w, h)]


def _s(w, h):
    ym = h * 0.47
    r1, r2 = ym / 2, (h - ym) / 2
    path = _arc_path(w / 2, r1, w * 0.48, r1, 340, 90).arc(w / 2, ym + r2, w / 2, r2, 270, 520)
    return [path]


def _t(w, h):
    return [_p(0, 0).to(w, 0), _p(w / 2, 0).to(w / 2, h)]


def _u(w, h):
    r, ry = w / 2, w * 0.58
    return [_p(0, 0).to(0, h - ry).arc(r, h - ry, r, ry, 180, 0).to(w, 0)]


def _v(w, h):
    return [_p(0, 0).to(w / 2, h).to(w, 0)]


def _w(w, h):
    return [_p(0, 0).to(w * 0.24, h).to(w * 0.5, h * 0.28).to(w * 0.76, h).to(w, 0)]


def _x(w, h):
    return [_p(0, 0).to(w, h), _p(w, 0).to(0, h)]


def _y(w, h):
    return [_p(0, 0).to(w / 2, h * 0.52).to(w, 0), _p(w / 2, h * 0.52).to(w / 2, h)]


def _z(w, h):
    return [_p(0, 0).to(w, 0).to(0, h).to(w, h)]


_BASE = {
    "0": _zero, "1": _one, "2": _two, "3": _three, "4": _four, "5": _five, "6": _six,
    "7": _seven, "8": _eight, "9": _rot180(_six),
    "A": _a, "B": _b, "C": _c, "D": _d, "E": _e, "F": _f, "G": _g, "H": _h, "I": _i, "J": _j,
    "K": _k, "L": _l, "M": _m, "N": _n, "O": _letter_o, "P": _letter_p, "Q": _q, "R": _r,
    "S": _s, "T": _t, "U": _u, "V": _v, "W": _w, "X": _x, "Y": _y, "Z": _z,
}


def _es_one(w, h):
    x = w * 0.62
    return [_p(w * 0.12, h * 0.2).to(x, 0).to(x, h)]


def _es_m(w, h):
    # Spanish plates: the legs of M splay slightly outwards and its middle vertex reaches far
    # down (about 0.85 of the height), unlike the FE-Schrift M
    return [_p(0, h).to(w * 0.09, 0).to(w / 2, h * 0.85).to(w * 0.91, 0).to(w, h)]


def _es_w(w, h):
    # Spanish plates: the middle strokes of W meet at the full cap height (FE-Schrift: 0.28 down)
    return [_p(0, 0).to(w * 0.24, h).to(w * 0.5, h * 0.04).to(w * 0.76, h).to(w, 0)]


def _es_six(w, h):
    ry = h * 0.30
    cy = h - ry
    bowl = _arc_path(w / 2, cy, w / 2, ry, 180, 540)
    stem = _arc_path(w / 2, cy, w / 2, cy, 300, 180)
    return [bowl, stem]


def _es_eight(w, h):
    ym = h * 0.47
    top = _arc_path(w / 2, ym / 2, w * 0.46, ym / 2, 90, 450)
    bottom = _arc_path(w / 2, ym + (h - ym) / 2, w / 2, (h - ym) / 2, 270, 630)
    return [top, bottom]


#: The Spanish plate font (a DIN 1451-like sans) differs from FE-Schrift mainly in these digits, M and W.
_ES = {**_BASE, "1": _es_one, "3": _es_three, "6": _es_six, "9": _rot180(_es_six), "8": _es_eight, "M": _es_m, "W": _es_w}
_FAMILIES = {"fe": _BASE, "es": _ES}
#: Spanish plate characters: about 45 mm wide for 70-77 mm height.
ES_WIDTH_MM = 45.0
UMLAUT_BASE = {"Ä": "A", "Ö": "O", "Ü": "U"}
CHARS = "".join(_BASE) + "".join(UMLAUT_BASE)
#: Share of the stroke-box height the base letter keeps under umlaut dots.
_UMLAUT_BODY = 0.76


def glyph_paths(char: str, w: float, h: float, stroke: float, family: str = "fe") -> list[np.ndarray]:
    """Centre-line paths (arrays of x, y in mm) of ``char`` in a ``w`` x ``h`` stroke box;
    ``family`` "fe" (German FE-Schrift) or "es" (Spanish plate font)."""
    table = _FAMILIES[family]
    if char in UMLAUT_BASE:
        body_h = h * _UMLAUT_BODY
        dy = h - body_h
        paths = [np.asarray(p.pts) + (0.0, dy) for p in table[UMLAUT_BASE[char]](w, body_h)]
        dot = max(0.5, dy - stroke * 0.55)  # dot length along y, leaves a gap above the body
        for x in (w * 0.2, w * 0.8):
            paths.append(np.array([(x, -stroke / 2), (x, -stroke / 2 + dot)]))
        return paths
    return [np.asarray(p.pts) for p in table[char](w, h)]


def _stroke_polygons(path: np.ndarray, half: float) -> list[np.ndarray]:
    """Quads for each segment plus mitred (or bevelled) join fillers; butt caps at open ends."""
    pts = path[np.r_[True, np.any(np.abs(np.diff(path, axis=0)) > 1e-9, axis=1)]]
    if len(pts) == 1:
        pts = np.vstack([pts, pts + (0.0, 1e-3)])
    polys = []
    d = np.diff(pts, axis=0)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    n = np.stack([-d[:, 1], d[:, 0]], axis=1)
    for i in range(len(d)):
        a, b = pts[i], pts[i + 1]
        polys.append(np.array([a + n[i] * half, b + n[i] * half, b - n[i] * half, a - n[i] * half]))
    closed = len(pts) > 2 and np.allclose(pts[0], pts[-1])
    joins = list(range(1, len(pts) - 1)) + ([0] if closed else [])
    for j in joins:
        n1, n2 = n[j - 1], n[j % len(d)]
        v = pts[j]
        m = n1 + n2
        norm = np.linalg.norm(m)
        for sign in (1.0, -1.0):
            if norm < 1e-6:
                continue
            m_unit = m / norm
            cos_half = float(np.dot(m_unit, n1))
            if cos_half > 0.5:  # miter limit 2
                tip = v + sign * m_unit * half / cos_half
                polys.append(np.array([v, v + sign * n1 * half, tip, v + sign * n2 * half]))
            else:
                polys.append(np.array([v, v + sign * n1 * half, v + sign * n2 * half]))
    return polys


@lru_cache(maxsize=4096)
def fe_master(char: str, width_mm: float, stroke_mm: float = STROKE_MM, height_mm: float = HEIGHT_MM, family: str = "fe") -> np.ndarray:
    """Coverage bitmap (float32 0..1, ``MASTER_PX_PER_MM``) of a stroke-font glyph cell
    (``family`` "fe" or "es").

    The cell is ``width_mm`` x ``height_mm``; ink reaches the cell edges (the tight box), except
    for narrow glyphs (1, I) which are centred.
    """
    if char not in CHARS:
        raise KeyError(f"no FE-Schrift glyph for {char!r}")
    k = MASTER_PX_PER_MM
    half = stroke_mm / 2
    w, h = width_mm - stroke_mm, height_mm - stroke_mm
    sub = 4  # fillPoly fractional bits
    canvas = np.zeros((int(round(height_mm * k)), int(round(width_mm * k))), np.uint8)
    for path in glyph_paths(char, w, h, stroke_mm, family):
        for poly in _stroke_polygons(path + half, half):
            pts = np.round(poly * k * (1 << sub)).astype(np.int32)
            cv2.fillPoly(canvas, [pts], 255, lineType=cv2.LINE_8, shift=sub)
    if family == "fe" and char == "0":
        cut, width = _zero_cut(w, h, stroke_mm)
        for poly in _stroke_polygons(cut + half, width / 2):
            cv2.fillPoly(canvas, [np.round(poly * k * (1 << sub)).astype(np.int32)], 0, lineType=cv2.LINE_8, shift=sub)
    return canvas.astype(np.float32) / 255.0
