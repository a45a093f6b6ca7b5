"""Outputs of the sticker attack: the printable export (through :mod:`attacks.printing`), a figure
of clean / adversarial example photos with their readings, and the evaluation of real photos of
a printed sticker (``alpr patch --photos DIR``).

Real photos need the plate's clean text. It is looked up, in this order, in ``DIR/labels.json``
(``{"photo.jpg": "B1234XY", ...}``), ``DIR/labels.csv`` (rows ``photo.jpg,B1234XY``; a header
row is allowed) or the file name up to the first ``_`` (``B1234XY_03.jpg``); spaces and hyphens
are ignored. A photo succeeds when a plate of the same length is read and its character at the
position of the first attacked character differs (``any``) or equals the target.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def _plate_preview(sticker) -> np.ndarray:
    """The nominal plate (1 px/mm → 4 px/mm) with the sticker on its character, RGB in [0, 1]."""
    from alpr.synth.render import render_plate
    from attacks.capture_test import stick
    from attacks.crops import plate_with

    cfg = sticker.config
    r = render_plate(plate_with(cfg.char, cfg.country, np.random.default_rng(0)), cfg.country, seed=0, height_px=440,
                     style={"stickers": False})
    p = {"ink": [0.0, 1.0, 1.0], "tint": [1.0, 1.0, 1.0], "shift": [0.0, 0.0], "sticker_rot": 0.0}
    img = stick(r.image[..., :3], r.boxes[r.plate.text.index(cfg.char)], sticker, p, r.px_per_mm)
    return img[..., ::-1].astype(np.float32) / 255.0


def export(sticker, out_dir: Path, title: str = "") -> dict:
    """Write ``sticker.pdf`` and ``sticker.png`` at exact physical size (via
    ``attacks.printing.export_sticker``; a plain matplotlib PDF/PNG if that module is missing)."""
    out_dir = Path(out_dir)
    pdf, png = out_dir / "sticker.pdf", out_dir / "sticker.png"
    h, w = sticker.grey.shape
    try:
        from attacks.printing import export_sticker
    except ImportError:
        export_sticker = None
    if export_sticker is not None:
        return export_sticker(sticker.rgb(), sticker.mask, size_mm=(float(w), float(h)), offset_mm=sticker.offset_mm(),
                              char_box_mm=tuple(float(v) for v in sticker.box_mm), plate_preview_rgb=_plate_preview(sticker),
                              pdf_path=pdf, png_path=png, title=title)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    for path, fmt in ((pdf, "pdf"), (png, "png")):
        fig = plt.figure(figsize=(w / 25.4, h / 25.4))
        ax = fig.add_axes([0, 0, 1, 1])
        ax.imshow(sticker.rgb(), interpolation="nearest")
        ax.contour(sticker.mask.astype(float), levels=[0.5], colors="red", linewidths=0.3)
        ax.axis("off")
        with atomic.atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=300)
        plt.close(fig)
    return {"pdf": str(pdf), "png": str(png), "size_mm": [float(w), float(h)], "dpi": 300, "fallback": True}


def _plate_crop(image, quad, pad: float = 0.25) -> np.ndarray:
    q = np.asarray(quad, np.float32)
    x0, y0 = q.min(0)
    x1, y1 = q.max(0)
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    H, W = image.shape[:2]
    return image[max(0, int(y0 - dy)) : min(H, int(y1 + dy)), max(0, int(x0 - dx)) : min(W, int(x1 + dx))]


def example_figure(examples: list, path: Path, title: str = "") -> Path | None:
    """Clean / adversarial photo crops side by side with the pipeline's readings."""
    if not examples:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr.atomic import save_figure

    fig, axes = plt.subplots(len(examples), 2, figsize=(8, 1.9 * len(examples)), squeeze=False)
    for row, ex in zip(axes, examples):
        for ax, key, label in ((row[0], "clean_image", ex["clean"]), (row[1], "adversarial_image", ex["adversarial"])):
            ax.imshow(cv2.cvtColor(_plate_crop(ex[key], ex["quad"]), cv2.COLOR_BGR2RGB))
            ax.set_title(f"{'clean' if key == 'clean_image' else 'sticker'} [{ex['family']}]: {label}", fontsize=8)
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110)


def _norm(text: str) -> str:
    return "".join(ch for ch in str(text).upper() if ch not in " -_")


def photo_labels(folder: Path) -> dict:
    """``{file name: clean plate text}`` from ``labels.json`` or ``labels.csv`` (may be empty)."""
    folder = Path(folder)
    if (folder / "labels.json").is_file():
        data = json.loads((folder / "labels.json").read_text())
        if not isinstance(data, dict):
            raise ValueError(f"{folder / 'labels.json'}: expected an object {{file: text}}")
        return {str(k): _norm(v) for k, v in data.items()}
    if (folder / "labels.csv").is_file():
        with open(folder / "labels.csv", newline="") as fh:
            rows = [r for r in csv.reader(fh) if len(r) >= 2]
        return {r[0].strip(): _norm(r[1]) for r in rows if r[0].strip().lower() not in ("file", "image", "filename")}
    return {}


def evaluate_photos(recognizer, folder, *, char: str = "1", target: str = "any") -> dict:
    """Read every photo of ``folder`` and score the sticker (see the module docstring)."""
    from attacks.capture_test import judge, wilson

    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no photos ({', '.join(IMAGE_SUFFIXES)})")
    labels = photo_labels(folder)
    rows = []
    for path in files:
        truth = labels.get(path.name) or _norm(path.stem.split("_")[0])
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            rows.append({"photo": path.name, "truth": truth, "read": None, "success": False, "error": "unreadable image"})
            continue
        if char not in truth:
            rows.append({"photo": path.name, "truth": truth, "read": None, "success": False,
                         "error": f"expected text has no {char!r}"})
            continue
        verdict = judge(recognizer.read(image), truth, truth.index(char), target)
        rows.append({"photo": path.name, "truth": truth, "read": verdict["text"], "success": verdict["success"],
                     "strict": verdict["strict"], "error": None})
    k = sum(r["success"] for r in rows)
    return {"photos": len(rows), "success": round(k / len(rows), 4), "ci95": [round(v, 4) for v in wilson(k, len(rows))],
            "rows": rows}
