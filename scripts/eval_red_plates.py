"""Read rendered German red plates (06 dealer, 07 historic) and black ones, small and blurred as
plates in car photos are, and count the exact readings.

Examples:
    python scripts/eval_red_plates.py
    python scripts/eval_red_plates.py --n 300 --seed 3 --height 12 24

Red plates are the only German plates written in red; the character CNN reads grey crops, in
which a blurred 0 of "HB 06199" looks like a D. Each plate is rendered with a random style
(``random_style``) in red ink (red plates) or its own dark ink (black plates, ``random_plate``),
reduced to a plate ``--height`` pixels high, blurred and JPEG-compressed, and read with
``Recognizer("de").read_crop``. Only the project's renderer is used (no real photo).
"""

import argparse
import sys
import time

import cv2
import numpy as np

from alpr import plates
from alpr.pipeline import Recognizer
from alpr.synth.render import render_plate
from alpr.synth.style import random_style


def red_plate(rng: np.random.Generator) -> plates.PlateText:
    """A random German red plate: district, 06 or 07, one to four more digits."""
    while True:
        district = "".join(rng.choice(list(plates.LATIN), size=int(rng.integers(1, 4))))
        number = "0" + str(rng.choice(list(plates.DE_RED_KINDS))) + "".join(
            rng.choice(list(plates.DIGITS), size=int(rng.integers(1, 5))))
        if len(district + number) <= plates.DE_MAX_CHARS:
            return plates.PlateText("de", (district, number))


def photographed(image: np.ndarray, rng: np.random.Generator, heights: tuple[int, int]) -> np.ndarray:
    """``image`` as a plate ``heights`` pixels high in a photo: reduced, blurred, JPEG-compressed."""
    height = int(rng.integers(heights[0], heights[1] + 1))
    small = cv2.resize(image, (round(image.shape[1] * height / image.shape[0]), height), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), float(rng.uniform(0.3, 0.9)))
    _, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(50, 95))])
    return cv2.imdecode(jpeg, cv2.IMREAD_COLOR)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="plates of each kind (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--height", type=int, nargs=2, default=(14, 40), metavar=("MIN", "MAX"),
                        help="plate height range in pixels (default 14 40)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if not 8 <= args.height[0] <= args.height[1]:
        parser.error("--height needs 8 <= MIN <= MAX")
    reader = Recognizer(country="de")
    start = time.perf_counter()
    for kind in ("red", "black"):
        rng = np.random.default_rng([args.seed, kind == "red"])
        exact = 0
        for _ in range(args.n):
            style = random_style("de", rng)
            if kind == "red":
                plate = red_plate(rng)
                style["ink"] = (int(rng.integers(20, 80)), int(rng.integers(20, 80)), int(rng.integers(140, 220)))
            else:
                plate = plates.random_plate("de", rng)
            rendered = render_plate(plate, "de", seed=int(rng.integers(2**31)), height_px=110, style=style)
            read = reader.read_crop(photographed(rendered.image, rng, args.height))
            exact += read is not None and read.text == plate.text
        print(f"{kind} plates read exactly: {exact} of {args.n} ({exact / args.n:.1%})")
    print(f"{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
