"""Find and read plates in rendered high-resolution photos (plates small in the frame).

Examples:
    python scripts/eval_high_res.py --size 1920 --plate-width 50 160 --n 100
    python scripts/eval_high_res.py --size 1920 --plate-width 50 160 --n 100 --max-work-width 320
    python scripts/eval_high_res.py --street --size 1280 --n 100

A phone photo holds far more pixels than the detector's 640 x 480 working frame: a plate 100 px
wide in a 4000 px photo is perfectly legible, but 8 px wide where the learned detector looks at
320 px. ``alpr.plate_net.working_width`` lets the detector see such photos at up to
``MAX_WORK_WIDTH`` (640); ``--max-work-width 320`` measures the detector as it was before.

Photos: ``alpr.synth.scene.render_scene`` at ``--size`` x 3/4 with one plate ``--plate-width``
px wide (log-uniform), read by ``Recognizer.read``: plates found (a reading returned at IoU >= 0.5
with the rendered plate's box) and read exactly. ``--street``: street photos of
``alpr.synth.street`` (many cars, day and night) rendered at that size, detection recall (also by
plate width at 320 px) and precision at IoU >= 0.5, a detection on a plate the renderer marks
"ignore" counting neither way (``scripts/train_plate_detector.py``'s ``match_counts``). Only the project's renderer is used, no real photo.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_plate_detector import match_counts  # noqa: E402

from alpr import detect, plate_net  # noqa: E402
from alpr._geometry import box_iou, quad_bbox  # noqa: E402
from alpr.pipeline import Recognizer  # noqa: E402
from alpr.synth.scene import render_scene  # noqa: E402
from alpr.synth.street import render_street  # noqa: E402


def read_photos(country: str, size: int, plate_width: tuple[float, float], seeds) -> dict:
    """Plates found and read exactly by ``Recognizer.read`` in single-plate rendered photos
    ``size`` px wide, and its milliseconds per photo."""
    recognizer = Recognizer(country=country)
    counts = dict(n=0, found=0, exact=0, ms=0.0)
    for seed in seeds:
        scene = render_scene(country, seed=seed, size=(size, size * 3 // 4), plate_width=plate_width)
        start = time.perf_counter()
        plates = recognizer.read(scene.image)
        counts["ms"] += 1000 * (time.perf_counter() - start)
        truth = quad_bbox(scene.quad)
        at_plate = [p for p in plates if box_iou(truth, quad_bbox(np.float32(p.quad))) >= 0.5]
        counts["n"] += 1
        counts["found"] += bool(at_plate)
        counts["exact"] += any(p.text == scene.rendered.plate.text for p in at_plate)
    counts["ms"] = round(counts["ms"] / max(1, counts["n"]), 1)
    return counts


def detect_streets(size: int, seeds) -> dict:
    """Detector recall (overall and by plate width at ``plate_net.WORK_WIDTH``) and precision on
    street photos ``size`` px wide, and its milliseconds per photo."""
    labels, tally, ms = 0, np.zeros(3), 0.0  # tally: plates found, right and counted detections
    by_size = {k: [0, 0] for k in plate_net.SIZE_CLASSES}
    for seed in seeds:
        scene = render_street(seed=seed, size=(size, size * 3 // 4))
        start = time.perf_counter()
        found = [quad_bbox(d.quad) for d in detect.detect(scene.image)]
        ms += 1000 * (time.perf_counter() - start)
        labels += len(scene.boxes)
        tally += match_counts(found, scene.boxes, scene.ignore)
        for box in scene.boxes:
            size_tally = by_size[plate_net.size_class(box[2] * plate_net.WORK_WIDTH / size)]
            size_tally[0] += match_counts(found, [box], [])[0]
            size_tally[1] += 1
    return {
        "recall": round(float(tally[0]) / max(1, labels), 3),
        "precision": round(float(tally[1] / max(1, tally[2])), 3),
        **{f"found_{k}px": f"{hit} of {total}" for k, (hit, total) in by_size.items()},
        "ms": round(ms / max(1, len(seeds)), 1),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                     epilog=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1920, help="photo width in px, 4:3 (default 1920)")
    parser.add_argument("--plate-width", type=float, nargs=2, default=(50.0, 160.0), metavar=("MIN", "MAX"),
                        help="plate width range in px (default 50 160)")
    parser.add_argument("--n", type=int, default=100, help="photos per country (default 100)")
    parser.add_argument("--seed", type=int, default=9000, help="seed of the first photo (default 9000)")
    parser.add_argument("--countries", nargs="+", default=["de", "es"], choices=["de", "es"])
    parser.add_argument("--street", action="store_true", help="street photos: detection recall and precision")
    parser.add_argument("--max-work-width", type=int, default=None,
                        help=f"the detector's largest working width (default {plate_net.MAX_WORK_WIDTH}; "
                             f"{plate_net.WORK_WIDTH}: as before it followed the photo's resolution)")
    args = parser.parse_args(argv)
    if args.n < 1 or args.size < 64:
        parser.error("--n must be at least 1 and --size at least 64")
    if args.max_work_width is not None and (args.max_work_width < plate_net.WORK_WIDTH or args.max_work_width % 16):
        parser.error(f"--max-work-width must be a multiple of 16 from {plate_net.WORK_WIDTH} up")
    if args.max_work_width is not None:
        plate_net.MAX_WORK_WIDTH = args.max_work_width
    seeds = range(args.seed, args.seed + args.n)
    if args.street:
        print(f"street {args.size} px:", detect_streets(args.size, seeds), flush=True)
        return
    for country in args.countries:
        counts = read_photos(country, args.size, tuple(args.plate_width), seeds)
        print(f"{country} {args.size} px, plates {args.plate_width[0]:g}-{args.plate_width[1]:g} px: found "
              f"{counts['found']}, read exactly {counts['exact']} of {counts['n']} ({counts['ms']} ms each)", flush=True)


if __name__ == "__main__":
    main()
