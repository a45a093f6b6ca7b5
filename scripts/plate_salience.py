#!/usr/bin/env python
"""How much plates stand out in a photo set: rendered street photos against a labelled dataset.

For every labelled plate at least ``--min-width`` pixels wide (at the detector's 320-px working
width), the grey standard deviation inside its box (its contrast) and its grey mean minus that of
the area around it (how much brighter than the car it is), as quartiles. The learned detector is
trained on rendered photos only; where their plates stand out much more than real ones, it learns
a cue the real plates lack (see ``alpr.detect_data.dim_plates`` and docs/results.md, UC3M-LP row).

Examples:
  python scripts/plate_salience.py --synthetic 150 --dim-plates 0.5 ../shared/datasets/uc3m-lp/plates --format yolo-plates
  python scripts/plate_salience.py ../shared/datasets/openalpr-eu --format openalpr
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr import detect_data, plate_net  # noqa: E402
from alpr.evaluation import load_dataset  # noqa: E402
from alpr.imageio import ImageError, load_image  # noqa: E402


def summary(rows: list[tuple[float, float]]) -> dict:
    """Quartiles (25 / 50 / 75 %) of the contrast and of the brightness above the surround."""
    a = np.asarray(rows, np.float64).reshape(-1, 2)
    q = (lambda v: [round(float(x), 1) for x in np.quantile(v, [0.25, 0.5, 0.75])]) if len(a) else (lambda v: [])
    return {"plates": len(a), "grey_std_q25_50_75": q(a[:, 0]), "above_surround_q25_50_75": q(a[:, 1])}


def salience(pairs, min_width: float) -> dict:
    """:func:`summary` over (image, boxes) pairs, each photo first resized to the detector's
    320-px working width (where it sees them; resizing also changes the grey spread)."""
    rows = []
    for image, boxes in pairs:
        scale = plate_net.WORK_WIDTH / image.shape[1]
        if scale != 1.0:
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        rows += detect_data.plate_salience(image, np.asarray(boxes, np.float32).reshape(-1, 4) * scale, min_width)
    return summary(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path, nargs="?", default=None, help="labelled photos (optional)")
    parser.add_argument("--format", choices=("openalpr", "yolo-plates"), default="yolo-plates")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="also N rendered street photos (set --seed)")
    parser.add_argument("--seed", type=int, default=1000, help="rendered photo set (1000: the detector's validation photos)")
    parser.add_argument("--dim-plates", type=float, default=0.0, metavar="RATE",
                        help="also the rendered photos as train_plate_detector.py --dim-plates RATE shows them")
    parser.add_argument("--min-width", type=float, default=20.0, help="plates at least this wide at 320 px [default: 20]")
    args = parser.parse_args(argv)
    if not 0.0 <= args.dim_plates <= 1.0:
        parser.error("--dim-plates must be in [0, 1]")
    if args.dataset is None and args.synthetic <= 0:
        parser.error("give a dataset folder, --synthetic N, or both")
    try:
        samples = load_dataset(args.dataset, args.format) if args.dataset is not None else []
    except ValueError as err:
        parser.error(str(err))
    if args.synthetic > 0:
        images, boxes, _ = detect_data.photos(args.seed, 0, args.synthetic)
        print(f"rendered (set {args.seed}): {salience(zip(images, boxes), args.min_width)}")
        if args.dim_plates > 0:
            rng = np.random.default_rng(args.seed)
            dimmed = [detect_data.dim_plates(im, b, rng, args.dim_plates) for im, b in zip(images, boxes)]
            print(f"rendered, --dim-plates {args.dim_plates:g}: {salience(zip(dimmed, boxes), args.min_width)}")
    if args.dataset is not None:
        try:
            pairs = ((load_image(sample.path), sample.boxes) for sample in samples)
            print(f"{args.dataset}: {salience(pairs, args.min_width)}")
        except ImageError as err:
            parser.exit(1, f"plate_salience.py: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
