"""Who else reads a sticker the way the attacked model does? A check for redrawn glyphs.

An adversarial sticker fools the model it was optimised against; a sticker that *redraws* the
character (turns the "1" into something a human would read as another digit) fools every reader.
This script sticks an ``alpr patch`` sticker (its ``sticker.npz``) on the character of a clean,
nominal plate of the country, printed ideally (pure black and white, no misplacement) and rendered
large (8 px/mm), and reads the character with each bundled model and with Tesseract 5 (one
character, digits whitelist), beside the unstickered character and the clean digits the models
read instead. Writes a PNG of the crops with the readings.

    python scripts/sticker_readers.py /tmp/patch-dehard/sticker.npz --country de --out readers.png
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr import atomic  # noqa: E402  (after the checkout is on the path)
from alpr.model import MODEL_NAMES, load_model, softmax  # noqa: E402
from alpr.plates import parse  # noqa: E402
from alpr.synth.render import render_plate  # noqa: E402
from attacks.capture_test import stick  # noqa: E402
from attacks.patch import read_sticker_npz  # noqa: E402

PX_PER_MM = 8
PLATES = {"de": "HD AB {}234", "es": "{}234 BCD"}  # the character goes first in the digit group
IDEAL_PRINT = {"ink": (0.0, 1.0, 1.0), "tint": (1.0, 1.0, 1.0), "shift": (0.0, 0.0), "sticker_rot": 0.0}


def char_crop(country: str, char: str, sticker=None) -> np.ndarray:
    """The character ``char`` of a nominal plate (BGR, 6 mm margin), with ``sticker`` stuck on it."""
    plate = parse(PLATES[country].format(char), country)
    r = render_plate(plate, country, seed=0, height_px=110 * PX_PER_MM, style={"stickers": False})
    box = r.boxes[r.plate.text.index(char)]
    image = r.image[..., :3].copy()
    if sticker is not None:
        image = stick(image, box, sticker, IDEAL_PRINT, PX_PER_MM)
    x, y, w, h = (int(v) for v in box)
    pad = 6 * PX_PER_MM
    return image[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]


def tesseract_digit(crop: np.ndarray) -> str:
    """Tesseract 5's reading of one character (``--psm 10``, digits), '-' for none, '' if not installed."""
    if shutil.which("tesseract") is None:
        return ""
    small = cv2.resize(crop, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "char.png")
        cv2.imwrite(path, cv2.copyMakeBorder(small, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=(255, 255, 255)))
        out = subprocess.run(["tesseract", path, "-", "--psm", "10", "-c", "tessedit_char_whitelist=0123456789"],
                             capture_output=True, text=True, check=False).stdout.strip()
    return out or "-"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sticker", type=Path, help="sticker.npz written by alpr patch")
    ap.add_argument("--country", choices=sorted(PLATES), default="de")
    ap.add_argument("--char", default="1", help="the character the sticker was made for (default 1)")
    ap.add_argument("--out", type=Path, default=None, help="PNG of the crops and readings")
    args = ap.parse_args(argv)
    try:
        sticker = read_sticker_npz(args.sticker)
    except ValueError as err:
        ap.error(str(err))
    models = {name: load_model(name) for name in MODEL_NAMES}
    crops = {f"clean {args.char}": char_crop(args.country, args.char), "stickered": char_crop(args.country, args.char, sticker)}
    readings = {}
    for name, crop in crops.items():
        readings[name] = {}
        for model_name, model in models.items():
            p = softmax(model.predict_logits(model.crops_to_input([crop])))[0]
            readings[name][model_name] = f"{model.alphabet[int(p.argmax())]} {p.max():.2f}"
        readings[name]["tesseract"] = tesseract_digit(crop)
        print(f"{name:12s}", "  ".join(f"{k}: {v}" for k, v in readings[name].items()))
    read_as = sorted({v.split()[0] for v in readings["stickered"].values() if v[:1].isdigit()} - {args.char})
    for digit in read_as:
        crops[f"clean {digit}"] = char_crop(args.country, digit)
    if args.out is not None:
        tiles = []
        for name, crop in crops.items():
            tile = cv2.resize(crop, (160, int(160 * crop.shape[0] / crop.shape[1])), interpolation=cv2.INTER_AREA)
            lines = [name] + [f"{k}: {v}" for k, v in readings.get(name, {}).items()]
            tile = cv2.copyMakeBorder(tile, 0, 14 * len(lines) + 6, 0, 6, cv2.BORDER_CONSTANT, value=(255, 255, 255))
            for i, line in enumerate(lines):
                cv2.putText(tile, line, (2, tile.shape[0] - 14 * (len(lines) - i) + 8), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 200), 1)
            tiles.append(tile)
        height = max(t.shape[0] for t in tiles)
        sheet = np.hstack([cv2.copyMakeBorder(t, 0, height - t.shape[0], 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255)) for t in tiles])
        ok, png = cv2.imencode(".png", sheet)
        atomic.write_bytes(args.out, png.tobytes())
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
