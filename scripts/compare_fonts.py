"""Side-by-side sheet of real plate crops and rendered plates of the same text.

Usage:
    PYTHONPATH=. python scripts/compare_fonts.py /work/shared/datasets --out docs/font_comparison.png

Left: the real crop (German ``de-samples/``, Spanish ``uc3m-lp/chars/images``, hidden characters
of the anonymised Spanish crops are drawn as grey boxes on the rendering too). Right: the
clean rendering (default style, own glyphs) and the OSP-DIN alternative.
"""

import argparse
import re
from pathlib import Path

import cv2
import numpy as np

from alpr import plates
from alpr.imageio import load_image
from alpr.synth.render import render_plate

ROW_H = 90
DE_CROPS = ("DÜW-AS870.jpg", "ES-EL2399.jpg", "HD-AD89#1.jpg", "SOG-AR100.jpg")
DE_TEXT = {"DÜW-AS870.jpg": "DÜW AS 870", "ES-EL2399.jpg": "ES EL 2399", "HD-AD89#1.jpg": "HD AD 89", "SOG-AR100.jpg": "SOG AR 100"}
_ES_NAME = re.compile(r"_A[DN]-([0-9A-Z-]{7})$")


def _fit(img: np.ndarray, h: int = ROW_H) -> np.ndarray:
    return cv2.resize(img, (max(1, int(round(img.shape[1] * h / img.shape[0]))), h), interpolation=cv2.INTER_AREA)


def _label(img: np.ndarray, text: str) -> np.ndarray:
    out = cv2.copyMakeBorder(img, 18, 0, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    cv2.putText(out, text, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def _row(cells: list[np.ndarray]) -> np.ndarray:
    return np.pad(np.hstack([np.pad(c, ((0, 0), (0, 10), (0, 0)), constant_values=255) for c in cells]), ((0, 8), (0, 0), (0, 0)), constant_values=255)


def _spanish_rows(folder: Path, n: int) -> list[tuple[np.ndarray, str, str, list[int]]]:
    """(crop, text with hidden chars filled, pattern, hidden indices) for day-time one-row crops."""
    out, seen = [], set()
    fill = iter("0BCDFGHJKL" * 10)
    for path in sorted(folder.glob("*_AD-*.jpg")):
        m = _ES_NAME.search(path.stem)
        if not m:
            continue
        pattern = m.group(1)
        hidden = [i for i, c in enumerate(pattern) if c == "-"]
        if len(hidden) > 2 or pattern in seen:
            continue
        text = "".join(("0" if i < 4 else next(fill)) if c == "-" else c for i, c in enumerate(pattern))
        if plates.parse(text, "es") is None:
            continue
        img = load_image(path)
        if img.shape[0] < 38:  # keep the sharper crops
            continue
        seen.add(pattern)
        out.append((img, text, pattern, hidden))
        if len(out) == n:
            break
    return out


def main() -> None:
    """Build the comparison sheet from the dataset folder and save it."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", type=Path, help="folder holding de-samples/ and uc3m-lp/")
    ap.add_argument("--out", type=Path, default=Path("docs/font_comparison.png"))
    ap.add_argument("--spanish", type=int, default=4,
                    help="number of real Spanish crops; 0 shows rendered Spanish plates only (the committed "
                         "figure: UC3M-LP's licence allows evaluation, not redistribution)")
    args = ap.parse_args()
    rows = []
    for name in DE_CROPS:
        path = args.datasets / "de-samples" / name
        if not path.exists():
            continue
        text = DE_TEXT[name]
        real = _label(_fit(load_image(path)), f"real {text}")
        fe = render_plate(text, "de", seed=0, height_px=ROW_H, style={})
        din = render_plate(text, "de", seed=0, height_px=ROW_H, style={"font": "din"})
        rows.append(_row([real, _label(fe.image, "rendered FE (own glyphs)"), _label(din.image, "alt: OSP-DIN")]))
    spanish = _spanish_rows(args.datasets / "uc3m-lp" / "chars" / "images", args.spanish) if args.spanish > 0 else []
    if not spanish:
        for text in ("4960 BTM", "2400 JVC", "1015 FGX"):
            own = render_plate(text, "es", seed=0, height_px=ROW_H, style={}).image
            alt = render_plate(text, "es", seed=0, height_px=ROW_H, style={"font": "din"}).image
            rows.append(_row([_label(own, "rendered ES (own glyphs)"), _label(alt, "alt: OSP-DIN")]))
    for img, text, pattern, hidden in spanish:
        real = _label(_fit(img), f"real {pattern}")
        r = render_plate(text, "es", seed=0, height_px=ROW_H, style={})
        rend = r.image.copy()
        for i in hidden:  # the dataset's anonymisation boxes
            x, y, w, h = r.boxes[i]
            cv2.rectangle(rend, (int(x - 3), int(y - 3)), (int(x + w + 3), int(y + h + 3)), (165, 165, 165), -1)
        alt = render_plate(text, "es", seed=0, height_px=ROW_H, style={"font": "din"}).image
        rows.append(_row([real, _label(rend, "rendered ES (own glyphs)"), _label(alt, "alt: OSP-DIN")]))
    width = max(r.shape[1] for r in rows)
    sheet = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
