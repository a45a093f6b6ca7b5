"""Plates per second of ``render_plate`` in one process, at training resolution.

Usage:
    python scripts/bench_render.py --country de
    python scripts/bench_render.py --country es --height 64      # one fixed height
    python scripts/bench_render.py --country de --height 32-64   # a range, drawn per plate

By default each plate's height is drawn, as in training, from the range the character CNN's
training crops are rendered at (``alpr.char_crops.CropPolicy.plate_height``). The first
``--warmup`` plates fill the glyph and decoration caches; timing starts after them. OpenCV runs
on one thread; start with OMP_NUM_THREADS=1 to keep numpy on one core too. The CPU-time figure
is the fair one on a shared machine (wall time includes waiting for the core).
"""

import argparse
import sys
import time

import cv2
import numpy as np

from alpr.char_crops import CropPolicy
from alpr.synth.render import render_plate


def height_range(text: str) -> tuple[int, int]:
    """``"64"`` -> (64, 64); ``"48-110"`` -> (48, 110), both ends included."""
    try:
        low, _, high = text.partition("-")
        low, high = int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a height like 64 or a range like 48-110, got {text!r}") from None
    if not 8 <= low <= high:
        raise argparse.ArgumentTypeError(f"heights must be >= 8 px with the low end first, got {text!r}")
    return low, high


def render_rate(country: str, heights: tuple[int, int], count: int, warmup: int, seed: int) -> tuple[float, float]:
    """(plates per CPU second, plates per wall-clock second) of ``count`` plates of ``country``
    after ``warmup`` untimed ones, each ``heights[0]``-``heights[1]`` px high."""
    rng = np.random.default_rng(seed)

    def render_one():
        render_plate(country=country, rng=rng, height_px=int(rng.integers(heights[0], heights[1] + 1)))

    for _ in range(warmup):
        render_one()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(count):
        render_one()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return count / max(cpu, 1e-9), count / max(wall, 1e-9)


def main(argv: list[str] | None = None) -> int:
    """Render warm-up plates, then time COUNT plates and print plates per second."""
    training = CropPolicy().plate_height  # [low, high) as drawn by rng.integers in training
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--height", type=height_range, default=(training[0], training[1] - 1),
                    help=f"plate height in px, or a range drawn per plate (default: training's, "
                         f"{training[0]}-{training[1] - 1})")
    ap.add_argument("--count", type=int, default=3000, help="timed plates (default 3000)")
    ap.add_argument("--country", default="de", choices=["de", "es", "eu"])
    ap.add_argument("--warmup", type=int, default=3000, help="untimed plates first, to fill the caches (default 3000)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.count < 1 or args.warmup < 0:
        ap.error("--count must be >= 1 and --warmup >= 0")
    cv2.setNumThreads(1)
    per_cpu, per_wall = render_rate(args.country, args.height, args.count, args.warmup, args.seed)
    low, high = args.height
    heights = f"{low} px" if low == high else f"{low}-{high} px"
    print(f"{per_cpu:.0f} plates/s per CPU second, {per_wall:.0f} plates/s wall clock "
          f"({args.country}, height {heights}, random styles, 1 process)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
