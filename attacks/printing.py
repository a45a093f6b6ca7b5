"""Print-ready export of a physical adversarial sticker.

:func:`export_sticker` writes two files:

* an A4 portrait PDF (210 × 297 mm) with the sticker at its real size (1:1), cut outline and crop
  marks, mm rulers to check the printer scale, a "print at 100 %" instruction and a scaled
  placement guide on the 520 × 110 mm plate;
* a 300 dpi PNG of the sticker alone (pHYs metadata), transparent outside the mask.

The sticker bitmap is embedded unresampled in the vector PDF after an integer nearest-neighbour
upscale to at least 300 dpi, and placed with an exact transform, so its printed size is
``size_mm`` and its edges stay crisp. Pixels outside the mask carry no ink (white, alpha 0).
"""

import io
import math
from pathlib import Path

import numpy as np

from alpr.atomic import write_bytes

PLATE_MM = (520.0, 110.0)
PAGE_MM = (210.0, 297.0)
DPI = 300
MAX_STICKER_MM = (165.0, 110.0)  # what fits at 1:1 between the rulers and the placement guide
GUIDE_SCALE = 3  # the placement guide is drawn at 1:3
_X0, _Y0 = 30.0, 50.0  # sticker area (left, top) on the page, mm
_THIN = 0.25  # line width in points


def _check_array(name, a, ndim, channels=None):
    a = np.asarray(a)
    if a.ndim != ndim or (channels is not None and a.shape[-1] != channels) or 0 in a.shape:
        raise ValueError(f"{name} must have shape {'(H, W, 3)' if channels else '(H, W)'}, got {a.shape}")
    if channels and a.dtype == np.uint8:
        a = a / 255.0
    if not np.issubdtype(a.dtype, np.number) and a.dtype != bool:
        raise ValueError(f"{name} must be numeric, got dtype {a.dtype}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains non-finite values")
    return a


def _check_numbers(name, values, n):
    v = np.asarray(values, dtype=float).ravel()
    if v.size != n or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be {n} finite numbers in mm, got {values!r}")
    return [float(x) for x in v]


def _check_on_plate(name, x, y, w, h):
    if w <= 0 or h <= 0:
        raise ValueError(f"{name}: width and height must be > 0 mm, got {w} x {h}")
    if min(x, y) < -1e-6 or x + w > PLATE_MM[0] + 1e-6 or y + h > PLATE_MM[1] + 1e-6:
        raise ValueError(f"{name} ({x:g}, {y:g}, {w:g} x {h:g} mm) is not inside the 520 x 110 mm plate")


def _validate(sticker, mask, size_mm, offset_mm, char_box_mm, preview, pdf_path, png_path):
    sticker = _check_array("sticker_rgb", sticker, 3, 3).astype(float)
    if sticker.min() < -1e-6 or sticker.max() > 1 + 1e-6:
        raise ValueError(f"sticker_rgb must be in [0, 1], got [{sticker.min():g}, {sticker.max():g}]")
    mask = _check_array("mask", mask, 2)
    if mask.shape != sticker.shape[:2]:
        raise ValueError(f"mask shape {mask.shape} does not match sticker_rgb {sticker.shape[:2]}")
    if mask.dtype != bool and not np.isin(mask, (0, 1)).all():
        raise ValueError("mask must be boolean (or 0/1)")
    mask = mask.astype(bool)
    if not mask.any():
        raise ValueError("mask is empty: the sticker has no material")
    w, h = _check_numbers("size_mm", size_mm, 2)
    x, y = _check_numbers("offset_mm", offset_mm, 2)
    _check_on_plate("sticker (offset_mm, size_mm)", x, y, w, h)
    char_box = _check_numbers("char_box_mm", char_box_mm, 4)
    _check_on_plate("char_box_mm", *char_box)
    if w > MAX_STICKER_MM[0] or h > MAX_STICKER_MM[1]:
        raise ValueError(f"sticker {w:g} x {h:g} mm does not fit on A4 at 1:1 "
                         f"(at most {MAX_STICKER_MM[0]:g} x {MAX_STICKER_MM[1]:g} mm)")
    if min(round(w / 25.4 * DPI), round(h / 25.4 * DPI)) < 1:
        raise ValueError(f"size_mm {w:g} x {h:g} mm is smaller than one pixel at {DPI} dpi")
    px_aspect, mm_aspect = sticker.shape[1] / sticker.shape[0], w / h
    if abs(math.log(px_aspect / mm_aspect)) > math.log(1.1):
        raise ValueError(f"size_mm aspect {mm_aspect:.3f} (w/h) does not match the image's pixel aspect "
                         f"{px_aspect:.3f} ({sticker.shape[1]} x {sticker.shape[0]} px); pass (width, height)")
    if preview is not None:
        preview = np.clip(_check_array("plate_preview_rgb", preview, 3, 3).astype(float), 0, 1)
        if abs(math.log(preview.shape[1] / preview.shape[0] / (PLATE_MM[0] / PLATE_MM[1]))) > math.log(1.1):
            raise ValueError(f"plate_preview_rgb {preview.shape[1]} x {preview.shape[0]} px is not 520:110")
    if Path(pdf_path).resolve() == Path(png_path).resolve():
        raise ValueError("pdf_path and png_path must be different files")
    return np.clip(sticker, 0, 1), mask, (w, h), (x, y), char_box, preview


def _rgba(sticker, mask):
    """uint8 RGBA: sticker colours inside the mask, transparent white (no ink) outside."""
    rgba = np.full(mask.shape + (4,), 255, np.uint8)
    rgba[..., :3] = np.where(mask[..., None], np.round(sticker * 255), 255).astype(np.uint8)
    rgba[..., 3] = np.where(mask, 255, 0)
    return rgba


def _png_bytes(rgba, size_mm):
    from PIL import Image

    out_w, out_h = (max(1, round(s / 25.4 * DPI)) for s in size_mm)
    h, w = rgba.shape[:2]
    rows = np.minimum(((np.arange(out_h) + 0.5) * h / out_h).astype(int), h - 1)
    cols = np.minimum(((np.arange(out_w) + 0.5) * w / out_w).astype(int), w - 1)
    buf = io.BytesIO()
    Image.fromarray(rgba[rows][:, cols], "RGBA").save(buf, format="PNG", dpi=(DPI, DPI))
    return buf.getvalue()


def _outline(mask):
    """Pixel-boundary segments [(x0, y0), (x1, y1)] (pixel units) around every part of the mask."""
    segs = []
    for m, transpose in ((mask, False), (mask.T, True)):
        p = np.pad(m, 1)
        edges = p[1:, 1:-1] != p[:-1, 1:-1]  # edge above row r (r = 0..H) for each column
        for r, row in enumerate(edges):
            d = np.diff(np.concatenate(([0], row.astype(np.int8), [0])))
            for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
                segs.append([(r, a), (r, b)] if transpose else [(a, r), (b, r)])
    return segs


def _ruler(ax, x, y, length, vertical):
    """A mm ruler starting at page point (x, y): 1 mm ticks, 5 mm mid ticks, labelled 10 mm ticks."""
    from matplotlib.collections import LineCollection

    lines = [[(x, y), (x, y + length)] if vertical else [(x, y), (x + length, y)]]
    for i in range(int(length) + 1):
        t = 4.0 if i % 10 == 0 else 2.5 if i % 5 == 0 else 1.5
        lines.append([(x, y + i), (x + t, y + i)] if vertical else [(x + i, y), (x + i, y + t)])
        if i % 10 == 0:
            pos = (x + 4.6, y + i) if vertical else (x + i, y + 5.0)
            ax.text(*pos, str(i), fontsize=5, ha="left" if vertical else "center",
                    va="center" if vertical else "top")
    ax.add_collection(LineCollection(lines, colors="black", linewidths=_THIN))
    ax.text(x, y - 1.5, "mm", fontsize=5, ha="left", va="bottom")


def _image_axes(fig, x, y, w, h, image):
    """Place ``image`` unresampled at page rectangle (x, y, w, h) mm (y measured from the top)."""
    pw, ph = PAGE_MM
    ax = fig.add_axes((x / pw, 1 - (y + h) / ph, w / pw, h / ph))
    ax.set_axis_off()
    ax.imshow(image, interpolation="none", aspect="auto", extent=(0, 1, 1, 0))
    ax.set(xlim=(0, 1), ylim=(1, 0))


def _sheet(rgba, size_mm, offset_mm, char_box_mm, preview, title):
    """The A4 page as a matplotlib figure in mm (y down): header, rulers, 1:1 sticker, guide."""
    import cv2
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    w, h = size_mm
    n_parts = cv2.connectedComponents((rgba[..., 3] > 0).astype(np.uint8), connectivity=4)[0] - 1
    fig = Figure(figsize=(PAGE_MM[0] / 25.4, PAGE_MM[1] / 25.4))
    page = fig.add_axes((0, 0, 1, 1))
    page.set(xlim=(0, PAGE_MM[0]), ylim=(PAGE_MM[1], 0))
    page.set_axis_off()
    page.set_zorder(1)  # marks, outlines and labels are drawn over the image axes
    page.text(15, 12, title or "Adversarial sticker — print sheet", fontsize=13, weight="bold", parse_math=False)
    page.text(15, 19, "PRINT AT 100 % / ACTUAL SIZE — turn off 'fit to page' / 'scale to fit'.",
              fontsize=9.5, weight="bold", color="#c00000")
    page.text(15, 24.5, "Check the rulers: 0 to 100 must measure exactly 100 mm, otherwise the printer "
              "rescaled the page.", fontsize=7.5)
    page.text(15, 29, f"Sticker {w:.1f} × {h:.1f} mm (1:1). Cut along the thin grey outline "
              f"({n_parts} piece{'s' if n_parts > 1 else ''}); corner marks show the bounding box.", fontsize=7.5)
    _ruler(page, 25, 37, 170, vertical=False)
    _ruler(page, 12, _Y0, 110, vertical=True)
    sx, sy = _X0 + (MAX_STICKER_MM[0] - w) / 2, _Y0
    k = max(math.ceil(DPI * w / 25.4 / rgba.shape[1]), math.ceil(DPI * h / 25.4 / rgba.shape[0]), 1)
    _image_axes(fig, sx, sy, w, h, np.repeat(np.repeat(rgba, k, axis=0), k, axis=1))
    scale = np.array([w / rgba.shape[1], h / rgba.shape[0]])
    segs = [np.asarray(s, float) * scale + (sx, sy) for s in _outline(rgba[..., 3] > 0)]
    page.add_collection(LineCollection(segs, colors="0.55", linewidths=_THIN))
    marks = []
    for px, dx in ((sx, -1), (sx + w, 1)):
        for py, dy in ((sy, -1), (sy + h, 1)):
            marks += [[(px + 2 * dx, py), (px + 7 * dx, py)], [(px, py + 2 * dy), (px, py + 7 * dy)]]
    page.add_collection(LineCollection(marks, colors="black", linewidths=_THIN))
    _guide(fig, page, rgba, size_mm, offset_mm, char_box_mm, preview)
    return fig


def _guide(fig, page, rgba, size_mm, offset_mm, char_box_mm, preview):
    """Placement guide below the sticker: the plate at 1:3, character box, sticker, distances."""
    from matplotlib.patches import Rectangle

    (w, h), (ox, oy), (cx, cy, cw, ch) = size_mm, offset_mm, char_box_mm
    g = 1.0 / GUIDE_SCALE
    pw, ph = PLATE_MM[0] * g, PLATE_MM[1] * g
    gx, gy = (PAGE_MM[0] - pw) / 2, _Y0 + MAX_STICKER_MM[1] + 20
    red, blue = "#d00000", "#1f5fbf"
    page.text(gx, gy - 5, f"Placement guide — scale 1:{GUIDE_SCALE} (plate 520 × 110 mm; NOT actual size)",
              fontsize=9, weight="bold")
    page.add_patch(Rectangle((gx, gy), pw, ph, fc="none", ec="black", lw=0.6))
    page.add_patch(Rectangle((gx, gy), 40 * g, ph, fc="none", ec=blue, lw=0.4))
    page.text(gx + 20 * g, gy + 100 * g, "EU", fontsize=5, ha="center", color=blue)
    page.add_patch(Rectangle((gx + cx * g, gy + cy * g), cw * g, ch * g, fc="none", ec=blue, lw=0.6, ls="--"))
    page.text(gx + (cx + cw / 2) * g, gy + (cy + ch) * g + 1, "target character", fontsize=5,
              ha="center", va="top", color=blue)
    _image_axes(fig, gx + ox * g, gy + oy * g, w * g, h * g, rgba)
    page.add_patch(Rectangle((gx + ox * g, gy + oy * g), w * g, h * g, fc="none", ec=red, lw=0.6))
    arrow = dict(arrowstyle="<->", lw=0.4, color=red, shrinkA=0, shrinkB=0)
    ymid, xmid = gy + (oy + h / 2) * g, gx + (ox + w / 2) * g
    if ox > 0:
        page.annotate("", (gx, ymid), (gx + ox * g, ymid), arrowprops=arrow)
        page.text(gx + ox * g / 2, ymid - 0.8, f"{ox:.1f} mm", fontsize=5, ha="center", color=red)
    if oy > 0:
        page.annotate("", (xmid, gy), (xmid, gy + oy * g), arrowprops=arrow)
        page.text(xmid + 0.8, gy + oy * g / 2, f"{oy:.1f} mm", fontsize=5, va="center", color=red)
    ty = gy + ph + 6
    if preview is not None:
        page.text(gx, ty, "Preview (plate with sticker applied), same scale:", fontsize=7)
        _image_axes(fig, gx, ty + 2, pw, ph, preview)
        page.add_patch(Rectangle((gx, ty + 2), pw, ph, fc="none", ec="black", lw=0.4))
        ty += ph + 7
    rel_x = f"{abs(ox - cx):.1f} mm {'left' if ox < cx else 'right'} of" if abs(ox - cx) >= 0.05 else "level with"
    rel_y = f"{abs(oy - cy):.1f} mm {'above' if oy < cy else 'below'}" if abs(oy - cy) >= 0.05 else "level with"
    lines = [f"Sticker's left edge: {ox:.1f} mm from the plate's left edge; top edge: {oy:.1f} mm from its top edge.",
             f"(Right edge {PLATE_MM[0] - ox - w:.1f} mm from the plate's right edge; "
             f"bottom edge {PLATE_MM[1] - oy - h:.1f} mm from its bottom edge.)",
             f"Target character box: {cw:.1f} × {ch:.1f} mm at x {cx:.1f}, y {cy:.1f} mm. "
             f"Sticker's left edge is {rel_x} its left edge;",
             f"the sticker's top edge is {rel_y} its top edge. All distances are real mm on the plate."]
    for i, line in enumerate(lines):
        page.text(gx, ty + 4.2 * i, line, fontsize=7, va="top")


def export_sticker(sticker_rgb, mask, *, size_mm, offset_mm, char_box_mm, plate_preview_rgb=None,
                   pdf_path, png_path, title=""):
    """Write the print sheet (A4 PDF) and the 300 dpi sticker PNG; return their paths.

    ``sticker_rgb`` (H, W, 3) float RGB in [0, 1] is the sticker's bounding image and ``mask``
    (H, W) bool marks where it has material (may be several separate parts). ``size_mm`` is the
    (width, height) of the bounding image on the real 520 × 110 mm plate, ``offset_mm`` the (x, y)
    of its top-left corner from the plate's top-left corner, ``char_box_mm`` (x, y, w, h) the target
    character's box. ``plate_preview_rgb`` (optional, 520:110 aspect) is shown in the placement
    guide. Both files are written atomically (parent directories created); nothing is written
    when the inputs are invalid (``ValueError``). The sticker must fit on A4 at 1:1 (at most
    165 × 110 mm).

    Returns ``{"pdf": str, "png": str, "size_mm": [w, h], "dpi": 300}``.

    Example::

        export_sticker(rgb, mask, size_mm=(30, 60), offset_mm=(200, 20), char_box_mm=(215, 17, 40, 75),
                       plate_preview_rgb=None, pdf_path="out/sticker.pdf", png_path="out/sticker.png")
    """
    import matplotlib

    sticker, mask, size, offset, char_box, preview = _validate(
        sticker_rgb, mask, size_mm, offset_mm, char_box_mm, plate_preview_rgb, pdf_path, png_path)
    rgba = _rgba(sticker, mask)
    png = _png_bytes(rgba, size)
    with matplotlib.rc_context({"pdf.fonttype": 42, "image.composite_image": False}):
        fig = _sheet(rgba, size, offset, char_box, preview, title)
        buf = io.BytesIO()
        fig.savefig(buf, format="pdf", metadata={"Title": title or "Adversarial sticker", "CreationDate": None})
    write_bytes(pdf_path, buf.getvalue())
    write_bytes(png_path, png)
    return {"pdf": str(pdf_path), "png": str(png_path), "size_mm": [size[0], size[1]], "dpi": DPI}
