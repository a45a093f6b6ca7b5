"""Read rendered Spanish plate crops made to look like UC3M-LP's, and score them as UC3M-LP is scored.

Examples:
    python scripts/eval_synthetic_crops.py --n 400 --seed 11 --provincial-rate 1.0
    python scripts/eval_synthetic_crops.py --n 1000 --seed 21 --provincial-rate 0.2 --hard 1.6
    python scripts/eval_synthetic_crops.py --n 400 --seed 11 --provincial-rate 1.0 --model es
    python scripts/eval_synthetic_crops.py --n 400 --seed 31 --inverted-rate 1.0
    python scripts/eval_synthetic_crops.py --n 400 --seed 41 --tight-rate 1.0
    python scripts/eval_synthetic_crops.py --n 400 --seed 51 --tight-height-rate 1.0

Only the project's renderer is used (no real photo): a plate (``plates.random_plate`` with the
given share of provincial plates, "CA 1234 AB"), two of its characters covered by flat grey boxes
as UC3M-LP anonymises them (9 crops in 10), cut with a loose or tight margin (up to 6 % of the
plate's height inside it, 30 % outside) and a small roll (up to 6 degrees), resized to 160 px wide
as the dataset's crops are, then blurred, noised and JPEG-compressed (``--hard`` scales those).
``--inverted-rate`` makes that share of the plates light characters on a dark or coloured plate
(temporary, public-service and some special Spanish plates, UC3M-LP's type "D"); ``--tight-rate``
cuts that share of the crops at their outer characters (from 5 % of the plate's height inside them
to 8 % outside), as many of UC3M-LP's crops are; ``--tight-height-rate`` cuts that share at the
glyphs' tops and bottoms (the same range), as some of them are.
Each crop is read with ``Recognizer.read_crop`` and counts as read when its text matches the
plate with each hidden character "any one character or none" (``alpr evaluate``'s rule for
``--format yolo-chars``). Figures are given for provincial plates and today's plates apart.
"""

import argparse
import sys
import time

import cv2
import numpy as np

from alpr import plates
from alpr.evaluation import masked_pattern
from alpr.pipeline import Recognizer
from alpr.synth.render import render_plate
from alpr.synth.style import random_style

CROP_WIDTH = 160  # UC3M-LP's plate crops (downscaled copy in ../shared/datasets)
#: Where a tight crop's edge falls, as a share of the plate's height outside the characters
#: (negative: inside them); ``--tight-rate`` and ``--tight-height-rate`` cut in this range.
TIGHT_MARGIN = (-0.05, 0.08)


def make_crop(rng: np.random.Generator, provincial_rate: float, hard: float = 1.0, inverted_rate: float = 0.0,
              tight_rate: float = 0.0, tight_height_rate: float = 0.0):
    """One crop: (BGR image, plate text, pattern regex with the hidden characters free)."""
    plate = plates.random_plate("es", rng, old_es_rate=provincial_rate)
    style = None
    # drawn only when asked for, so that the crops of a seed without inverted plates stay the same
    if inverted_rate > 0 and rng.random() < inverted_rate:
        style = inverted_style(rng)
    rendered = render_plate(plate, "es", rng=rng, height_px=int(rng.integers(40, 80)), style=style)
    image, boxes, text = rendered.image.copy(), rendered.boxes.astype(float), plate.text
    hidden = sorted(rng.choice(len(boxes), size=2, replace=False).tolist()) if rng.random() < 0.9 else []
    for i in hidden:
        x, y, w, h = boxes[i]
        grey, grow = float(rng.uniform(90, 200)), h * rng.uniform(0, 0.15)
        cv2.rectangle(image, (int(x - grow / 2), int(y - grow)), (int(x + w + grow / 2), int(y + h + grow)),
                      (grey, grey, grey), -1)
    h, w = image.shape[:2]
    pad = h // 2
    canvas = np.empty((h + 2 * pad, w + 2 * pad, 3), np.float32)
    canvas[:] = rng.uniform(0, 120, 3)  # car body or plate holder around the plate
    canvas += rng.normal(0, 8, canvas.shape)
    canvas[pad : pad + h, pad : pad + w] = image
    left, top, right, bottom = (rng.uniform(-0.06, 0.3) * h for _ in range(4))
    if tight_rate > 0 and rng.random() < tight_rate:  # drawn only when asked for (see inverted_rate)
        # the sides cut at the outer characters (TIGHT_MARGIN)
        left = rng.uniform(*TIGHT_MARGIN) * h - boxes[0, 0]
        right = rng.uniform(*TIGHT_MARGIN) * h - (w - boxes[-1, 0] - boxes[-1, 2])
    if tight_height_rate > 0 and rng.random() < tight_height_rate:  # drawn only when asked for
        # the top and bottom cut at the glyphs' tops and bottoms (TIGHT_MARGIN)
        top = rng.uniform(*TIGHT_MARGIN) * h - boxes[:, 1].min()
        bottom = rng.uniform(*TIGHT_MARGIN) * h - (h - (boxes[:, 1] + boxes[:, 3]).max())
    src = np.float32([[pad - left, pad - top], [pad + w + right, pad - top],
                      [pad + w + right, pad + h + bottom], [pad - left, pad + h + bottom]])
    roll = cv2.getRotationMatrix2D(tuple(map(float, src.mean(axis=0))), rng.uniform(-6, 6), 1.0)
    out_h = int(round(CROP_WIDTH * (src[2, 1] - src[0, 1]) / (src[1, 0] - src[0, 0])))
    dst = np.float32([[0, 0], [CROP_WIDTH, 0], [CROP_WIDTH, out_h], [0, out_h]])
    warp = cv2.getPerspectiveTransform(cv2.transform(src[None], roll)[0].astype(np.float32), dst)
    crop = cv2.warpPerspective(np.clip(canvas, 0, 255).astype(np.uint8), warp, (CROP_WIDTH, out_h),
                               flags=cv2.INTER_AREA)
    sigma = rng.uniform(0, 1.2 * hard)
    if sigma > 0.3:
        crop = cv2.GaussianBlur(crop, (0, 0), sigma)
    crop = np.clip(crop + rng.normal(0, rng.uniform(0, 8 * hard), crop.shape), 0, 255).astype(np.uint8)
    _, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(int(40 / hard), 90))])
    pattern = masked_pattern("".join("-" if i in hidden else c for i, c in enumerate(text)))
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR), text, pattern


def inverted_style(rng: np.random.Generator) -> dict:
    """A random Spanish plate style with light characters on a dark grey or coloured plate."""
    style = random_style("es", rng)
    hue = rng.choice([(40, 40, 200), (60, 150, 40), (150, 60, 30), (60, 60, 60)])  # red, green, blue, grey (BGR)
    style["paper"] = tuple(int(np.clip(v * rng.uniform(0.5, 1.2) + rng.normal(0, 10), 0, 255)) for v in hue)
    style["ink"] = tuple(int(np.clip(v, 0, 255)) for v in rng.uniform(190, 250) + rng.normal(0, 5, 3))
    return style


def evaluate(recognizer: Recognizer, n: int, seed: int, provincial_rate: float, hard: float = 1.0,
             inverted_rate: float = 0.0, tight_rate: float = 0.0, tight_height_rate: float = 0.0) -> dict:
    """Share of crops read to their pattern, for provincial and today's plates."""
    read = {"provincial": [], "today": []}
    for k in range(n):
        image, text, pattern = make_crop(np.random.default_rng([seed, k]), provincial_rate, hard, inverted_rate,
                                         tight_rate, tight_height_rate)
        plate = recognizer.read_crop(image)
        kind = "provincial" if text[0].isalpha() else "today"
        read[kind].append(bool(pattern.fullmatch(plate.text if plate is not None else "")))
    out = {"crops": n}
    for kind, hits in read.items():
        out[f"{kind}_crops"] = len(hits)
        out[f"{kind}_read"] = round(float(np.mean(hits)), 4) if hits else None
    out["all_read"] = round(float(np.mean(read["provincial"] + read["today"])), 4) if n else None
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="crops (default 400)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--provincial-rate", type=float, default=0.1,
                        help="share of provincial plates, 0-1 (default 0.1, the renderer's)")
    parser.add_argument("--hard", type=float, default=1.0, help="scale of blur, noise and JPEG loss (default 1)")
    parser.add_argument("--inverted-rate", type=float, default=0.0,
                        help="share of plates with light characters on a dark or coloured plate, 0-1 (default 0)")
    parser.add_argument("--tight-rate", type=float, default=0.0,
                        help="share of crops cut at their outer characters, 0-1 (default 0)")
    parser.add_argument("--tight-height-rate", type=float, default=0.0,
                        help="share of crops cut at their characters' tops and bottoms, 0-1 (default 0)")
    parser.add_argument("--model", default=None,
                        help="character model; given, it reads alone (default: es, with eu for vowels)")
    args = parser.parse_args(argv)
    rates = (args.provincial_rate, args.inverted_rate, args.tight_rate, args.tight_height_rate)
    if args.n < 0 or not all(0 <= rate <= 1 for rate in rates) or args.hard <= 0:
        parser.error("--n must be >= 0, --provincial-rate, --inverted-rate, --tight-rate and --tight-height-rate "
                     "in [0, 1], --hard > 0")
    start = time.perf_counter()
    figures = evaluate(Recognizer(country="es", model=args.model), args.n, args.seed, args.provincial_rate, args.hard,
                       args.inverted_rate, args.tight_rate, args.tight_height_rate)
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
