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
``alpr.synth.street`` (many cars, day and night) rendered at that size, detection recall and
precision (a detection counts as right when it overlaps a demanded or ignored plate at IoU >= 0.5)
by plate width at 320 px. Only the project's renderer is used, no real photo.
"""

import argparse
import time

import numpy as np

from alpr import detect, plate_net
from alpr._geometry import box_iou, quad_bbox
from alpr.pipeline import Recognizer
from alpr.synth.scene import render_scene
from alpr.synth.street import render_street


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
    counts = dict(labels=0, hits=0, returned=0, good=0, ms=0.0)
    by_size = {k: [0, 0] for k in plate_net.SIZE_CLASSES}
    for seed in seeds:
        scene = render_street(seed=seed, size=(size, size * 3 // 4))
        start = time.perf_counter()
        found = [quad_bbox(d.quad) for d in detect.detect(scene.image)]
        counts["ms"] += 1000 * (time.perf_counter() - start)
        for box in scene.boxes:
            hit = any(box_iou(box, f) >= 0.5 for f in found)
            counts["labels"] += 1
            counts["hits"] += hit
            tally = by_size[plate_net.size_class(box[2] * plate_net.WORK_WIDTH / size)]
            tally[0] += hit
            tally[1] += 1
        plates = list(scene.boxes) + list(scene.ignore)
        counts["returned"] += len(found)
        counts["good"] += sum(any(box_iou(p, f) >= 0.5 for p in plates) for f in found)
    n = max(1, len(seeds))
    return {
        "recall": round(counts["hits"] / max(1, counts["labels"]), 3),
        "precision": round(counts["good"] / max(1, counts["returned"]), 3),
        **{f"found_{k}px": f"{hit} of {total}" for k, (hit, total) in by_size.items()},
        "ms": round(counts["ms"] / n, 1),
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
