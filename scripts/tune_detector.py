"""Choose the detector's fusion thresholds on synthetic validation photos (never on real ones).

Example:
    python scripts/tune_detector.py --val 500 --cache /tmp/pd --net data/models/plate_detector.keras

Runs the stages of ``alpr.detect.detect`` (classical text-row cue + learned net, then
``detect.combine``) over the validation set of ``scripts/train_plate_detector.py`` (set
seed + 1000, rendered or read from ``--cache``) for a grid of ``NET_THRESHOLD`` x
``NET_ONLY_MAX_WIDTH`` x ``CLASSICAL_ONLY`` x ``QUAD_AGREE`` x ``NET_CONFIRM`` and prints recall
and precision at IoU >= 0.5 (plates the renderer marks "ignore" count neither way), by plate
width, plus the net alone. ``--scale 2`` upsamples the photos first (640 x 480, checks that the
thresholds hold at another resolution).
"""

import argparse
import itertools
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_plate_detector import match_counts, render_set  # noqa: E402

from alpr import detect, plate_net  # noqa: E402
from alpr._geometry import quad_bbox  # noqa: E402

#: Detections per photo, as ``alpr.Recognizer`` asks for (its ``max_candidates``).
MAX_PLATES = 6


def score(images, cached, boxes, ignore, scale: float) -> dict:
    """Recall / precision / recall by width of ``detect.combine`` with the module's current
    settings, from each photo's cached classical candidates and net boxes."""
    tally = np.zeros(3)
    by = {k: [0, 0] for k in plate_net.SIZE_CLASSES}
    for image, (found, net_boxes), b, g in zip(images, cached, boxes, ignore):
        # as detect does: a photo the text cue takes for blank (None) keeps the net's boxes
        dets = [quad_bbox(d.quad) for d in detect.combine(image, found or [], net_boxes, max_plates=MAX_PLATES)]
        dets = [tuple(v / scale for v in d) for d in dets]
        tally += match_counts(dets, b, g)
        for bb in b:
            key = plate_net.size_class(bb[2])
            by[key][0] += match_counts(dets, [bb], [])[0]
            by[key][1] += 1
    return {"recall": round(tally[0] / max(1, sum(len(b) for b in boxes)), 4), "precision": round(tally[1] / max(1, tally[2]), 4),
            **{f"recall_{k}": round(v[0] / max(1, v[1]), 4) for k, v in by.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="training seed (validation set = seed + 1000)")
    parser.add_argument("--val", type=int, default=500)
    parser.add_argument("--cache", default=None)
    parser.add_argument("--net", type=Path, default=None, help="learned detector (default: the bundled one)")
    parser.add_argument("--scale", type=float, default=1.0, help="resize the photos by this factor first")
    parser.add_argument("--net-width", type=int, default=None,
                        help=f"the net's working width (default {plate_net.WORK_WIDTH}; --small-plates uses "
                             f"{plate_net.SMALL_PLATES_WIDTH})")
    parser.add_argument("--data-version", default=None, help="validation photos of an earlier renderer (cache only)")
    parser.add_argument("--no-mirror", action="store_true",
                        help="the net on the photo alone, without plate_net.MIRROR_AVERAGE (as before 2026-12-05)")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.4, 0.5, 0.6, 0.7])
    parser.add_argument("--max-widths", type=float, nargs="+", default=[0.1, 0.25, 1.0])
    parser.add_argument("--classical-only", type=float, nargs="+", default=[1.0, 0.8])
    parser.add_argument("--quad-agree", type=float, nargs="+", default=[0.0, 0.5])
    parser.add_argument("--net-confirm", type=float, nargs="+", default=[detect.NET_CONFIRM],
                        help="NET_CONFIRM values: weaker net peaks that may still confirm a classical candidate")
    args = parser.parse_args(argv)
    if args.net is not None:
        detect.NET_PATH = args.net
    if args.no_mirror:
        plate_net.MIRROR_AVERAGE = False
    images, boxes, ignore = render_set(args.seed + 1000, args.val, 1, args.cache, "render val", args.data_version)
    if args.scale != 1.0:
        images = [cv2.resize(im, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_LINEAR) for im in images]
    net = plate_net.load(detect.NET_PATH)
    low = min(args.thresholds + args.net_confirm)
    cached = [(detect.classical_candidates(im), net.detect(im, threshold=low, work_width=args.net_width) if net is not None else None)
              for im in tqdm(images, desc="candidates", mininterval=30)]
    grid = itertools.product(args.thresholds, args.max_widths, args.classical_only, args.quad_agree, args.net_confirm)
    for t, mw, co, qa, nc in grid:
        detect.NET_THRESHOLD, detect.NET_ONLY_MAX_WIDTH, detect.CLASSICAL_ONLY, detect.QUAD_AGREE = t, mw, co, qa
        detect.NET_CONFIRM = nc
        row = {"net_threshold": t, "net_only_max_width": mw, "classical_only": co, "quad_agree": qa, "net_confirm": nc,
               **score(images, cached, boxes, ignore, args.scale)}
        print(json.dumps(row), flush=True)
    for t in args.thresholds:
        tally = np.zeros(3)
        for (_, net_boxes), b, g in zip(cached, boxes, ignore):
            dets = [tuple(v / args.scale for v in d[:4]) for d in net_boxes or [] if d[4] >= t]
            tally += match_counts(dets, b, g)
        print(json.dumps({"net_alone_threshold": t, "recall": round(tally[0] / max(1, sum(len(b) for b in boxes)), 4),
                          "precision": round(tally[1] / max(1, tally[2]), 4)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
