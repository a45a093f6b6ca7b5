"""Plates per second of ``render_plate`` in one process (training-resolution plates).

Usage:
    PYTHONPATH=. python scripts/bench_render.py --height 64 --count 3000 --country de
The first plates fill the glyph cache; timing starts after a warm-up. Run with
OMP_NUM_THREADS=1 to keep OpenCV/numpy on one core.
"""

import argparse
import time

import numpy as np

import cv2

from alpr.synth.render import render_plate


def main() -> None:
    """Render warm-up plates, then time COUNT plates and print plates per second."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--country", default="de", choices=["de", "es", "eu"])
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cv2.setNumThreads(1)
    rng = np.random.default_rng(args.seed)
    for _ in range(args.warmup):
        render_plate(country=args.country, rng=rng, height_px=args.height)
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.count):
        render_plate(country=args.country, rng=rng, height_px=args.height)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU time is the fair figure on a shared machine; wall time includes waiting for the core
    print(f"{args.count / cpu:.0f} plates/s per CPU second, {args.count / wall:.0f} plates/s wall clock "
          f"({args.country}, height {args.height} px, random styles, 1 process)")


if __name__ == "__main__":
    main()
