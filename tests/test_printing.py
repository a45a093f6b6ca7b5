"""Print-ready sticker export: A4 page, sticker drawn at its physical size, 300 dpi PNG, bad inputs."""

import numpy as np
import pytest

pypdf = pytest.importorskip("pypdf")
from PIL import Image  # noqa: E402
from pypdf.generic import ContentStream  # noqa: E402

from attacks import printing  # noqa: E402
from attacks.printing import export_sticker  # noqa: E402

PT_PER_MM = 72 / 25.4
H, W = 20, 40
SIZE = (40.0, 20.0)  # 1 px = 1 mm: the PDF raster must be upscaled (12x -> 304.8 dpi)
KW = dict(size_mm=SIZE, offset_mm=(240.0, 30.0), char_box_mm=(205.0, 17.0, 40.0, 75.0))


def _sticker(seed=0):
    """Random colours (> 16, so pypdf decodes the 8-bit image) and an asymmetric mask."""
    rng = np.random.default_rng(seed)
    rgb = rng.random((H, W, 3))
    mask = np.zeros((H, W), bool)
    mask[2:18, 0:6] = mask[2:18, 10:16] = mask[0:5, 20:40] = True
    return rgb, mask


def _expected_rgba(rgb, mask):
    out = np.full((H, W, 4), 255, np.uint8)
    out[..., :3] = np.where(mask[..., None], np.round(rgb * 255), 255)
    out[..., 3] = np.where(mask, 255, 0)
    return out


def _image_draws(path):
    """[(xobject, ctm)] for every image drawn on page 1, tracking q/Q and cm."""
    reader = pypdf.PdfReader(path)
    page = reader.pages[0]
    xobjects = page["/Resources"]["/XObject"]
    ctm, stack, draws = np.eye(3), [], []
    for operands, op in ContentStream(page.get_contents(), reader).operations:
        if op == b"q":
            stack.append(ctm.copy())
        elif op == b"Q":
            ctm = stack.pop()
        elif op == b"cm":
            a, b, c, d, e, f = map(float, operands)
            ctm = np.array([[a, b, 0], [c, d, 0], [e, f, 1]]) @ ctm
        elif op == b"Do":
            xo = xobjects[operands[0]].get_object()
            if xo["/Subtype"] == "/Image":
                draws.append((xo, ctm.copy()))
    return reader, draws


def _sticker_draw(path):
    """The one image drawn at SIZE mm, and its pixels as displayed (upright) RGBA."""
    reader, draws = _image_draws(path)
    hits = [(xo, m) for xo, m in draws
            if abs(abs(m[0, 0]) / PT_PER_MM - SIZE[0]) < 0.1 and abs(abs(m[1, 1]) / PT_PER_MM - SIZE[1]) < 0.1]
    assert len(hits) == 1, [(m[0, 0] / PT_PER_MM, m[1, 1] / PT_PER_MM) for _, m in draws]
    xo, m = hits[0]
    assert m[0, 1] == 0 and m[1, 0] == 0 and m[0, 0] > 0  # axis-aligned, not mirrored
    pixels = np.asarray(xo.decode_as_image().convert("RGBA"))
    if m[1, 1] < 0:  # PDF image row 0 maps to the top of the unit square; a negative d flips it
        pixels = pixels[::-1]
    return reader, m, pixels


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("print")
    rgb, mask = _sticker()
    preview = np.ones((110, 520, 3))
    res = export_sticker(rgb, mask, **KW, plate_preview_rgb=preview, pdf_path=out / "sub" / "s.pdf",
                         png_path=out / "sub" / "s.png", title="Test sticker")
    return res, rgb, mask


def test_return_value(exported):
    res, _, _ = exported
    assert res["size_mm"] == list(SIZE) and res["dpi"] == 300
    assert res["pdf"].endswith("s.pdf") and res["png"].endswith("s.png")


def test_pdf_is_a4_with_sticker_at_physical_size(exported):
    res, rgb, mask = exported
    reader, m, pixels = _sticker_draw(res["pdf"])
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 595.28) < 0.5 and abs(float(box.height) - 841.89) < 0.5
    x0, y0 = m[2, 0], m[2, 1] + min(m[1, 1], 0)
    assert 0 <= x0 and x0 + m[0, 0] <= float(box.width) and 0 <= y0 and y0 + abs(m[1, 1]) <= float(box.height)
    # the embedded bitmap: an integer nearest-neighbour upscale to >= 300 dpi, same aspect as the sticker
    k = pixels.shape[1] // W
    assert pixels.shape[:2] == (H * k, W * k)
    assert pixels.shape[1] / (SIZE[0] / 25.4) >= 300
    expected = np.repeat(np.repeat(_expected_rgba(rgb, mask), k, 0), k, 1)
    np.testing.assert_array_equal(pixels, expected)  # crisp, upright, no ink outside the mask
    text = reader.pages[0].extract_text()
    for needle in ("100 %", "fit to page", "1:3", "240.0 mm", "30.0 mm", "40.0 × 20.0 mm", "170"):
        assert needle in text


def test_png_size_dpi_and_alpha(exported):
    res, rgb, mask = exported
    im = Image.open(res["png"])
    assert im.mode == "RGBA"
    assert im.size == (round(SIZE[0] / 25.4 * 300), round(SIZE[1] / 25.4 * 300))
    assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    a = np.asarray(im)
    assert set(np.unique(a[..., 3])) <= {0, 255}  # hard edges, no smoothing
    rows = ((np.arange(H) + 0.5) * im.size[1] / H).astype(int)  # centres of the source pixels
    cols = ((np.arange(W) + 0.5) * im.size[0] / W).astype(int)
    centres = a[rows][:, cols]
    expected = _expected_rgba(rgb, mask)
    np.testing.assert_array_equal(centres[..., 3], expected[..., 3])
    np.testing.assert_array_equal(centres[mask][:, :3], expected[mask][:, :3])


def test_dots_mask_is_exported(tmp_path):
    rng = np.random.default_rng(1)
    rgb = rng.random((H, W, 3))
    yy, xx = np.mgrid[:H, :W]
    mask = np.zeros((H, W), bool)
    for cy in (4, 14):
        for cx in (4, 14, 24, 34):
            mask |= (yy - cy) ** 2 + (xx - cx) ** 2 <= 5
    export_sticker(rgb, mask, **KW, plate_preview_rgb=None, pdf_path=tmp_path / "d.pdf", png_path=tmp_path / "d.png")
    reader, _, pixels = _sticker_draw(tmp_path / "d.pdf")
    k = pixels.shape[1] // W
    np.testing.assert_array_equal(pixels[::k, ::k, 3] > 0, mask)
    assert "(8 pieces)" in reader.pages[0].extract_text()
    alpha = np.asarray(Image.open(tmp_path / "d.png"))[..., 3]
    assert 0 < (alpha > 0).mean() < 1


def _bad(**changes):
    rgb, mask = _sticker()
    args = dict(sticker_rgb=rgb, mask=mask, **KW, plate_preview_rgb=None)
    args.update(changes)
    return args


@pytest.mark.parametrize("changes, message", [
    (dict(sticker_rgb=np.zeros((H, W, 4))), "shape"),
    (dict(mask=np.ones((H, W + 1), bool)), "does not match"),
    (dict(mask=np.zeros((H, W), bool)), "empty"),
    (dict(sticker_rgb=np.full((H, W, 3), np.nan)), "non-finite"),
    (dict(sticker_rgb=np.full((H, W, 3), 2.0)), r"\[0, 1\]"),
    (dict(size_mm=(0.0, 20.0)), "> 0"),
    (dict(size_mm=(-40.0, 20.0)), "> 0"),
    (dict(size_mm=(np.inf, 20.0)), "finite"),
    (dict(size_mm=(20.0, 40.0)), "aspect"),
    (dict(size_mm=(600.0, 300.0)), "not inside"),
    (dict(offset_mm=(500.0, 10.0)), "not inside"),
    (dict(offset_mm=(-1.0, 10.0)), "not inside"),
    (dict(char_box_mm=(510.0, 17.0, 40.0, 75.0)), "char_box_mm"),
    (dict(sticker_rgb=np.ones((20, 200, 3)), mask=np.ones((20, 200), bool), size_mm=(200.0, 20.0),
          offset_mm=(0.0, 0.0)), "does not fit on A4"),
    (dict(plate_preview_rgb=np.ones((100, 100, 3))), "520:110"),
])
def test_bad_inputs_raise_and_write_nothing(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        export_sticker(**_bad(**changes), pdf_path=tmp_path / "x.pdf", png_path=tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_same_output_path_rejected(tmp_path):
    with pytest.raises(ValueError, match="different"):
        export_sticker(**_bad(), pdf_path=tmp_path / "x", png_path=tmp_path / "x")


def test_failure_while_rendering_leaves_old_file_intact(tmp_path, monkeypatch):
    (tmp_path / "x.pdf").write_bytes(b"old")

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(printing, "_sheet", broken)
    with pytest.raises(RuntimeError):
        export_sticker(**_bad(), pdf_path=tmp_path / "x.pdf", png_path=tmp_path / "x.png")
    assert (tmp_path / "x.pdf").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.pdf"]
