"""Read rendered plate close-ups as photos (``Recognizer.read``) and as crops (``read_crop``).

Examples:
    python scripts/eval_close_ups.py --n 200 --seed 9500
    python scripts/eval_close_ups.py --n 100 --seed 9500 --tight
    python scripts/eval_close_ups.py --n 100 --seed 9500 --countries de --no-whole

A plate close-up is what a user gets by cutting a plate loosely out of a photo and giving it to
``alpr recognize`` without ``--crop``: ``alpr.synth.scene.render_close_up`` (a 640x480 rendered
scene, plate 250-560 px wide and turned by up to 15 degrees, cut around its plate with 0-25 % of
the plate's width at each side and 5-90 % of its height above and below). ``--tight`` cuts at
the plate's outline instead (from 2 % inside to 4 % outside at the sides, 5 % inside to 10 %
outside above and below). Only the project's renderer is used, no real photo.

For each country it prints how many close-ups ``read`` reads exactly (its first plate), reads
wrongly, or finds no plate in, and how many ``read_crop`` reads exactly. ``--no-whole`` measures
``read`` without its reading of close-ups as a whole (``Recognizer(close_ups=False)``; see
``alpr._plate_outline.close_up``).
"""

import argparse
import time

from alpr.pipeline import Recognizer
from alpr.synth.scene import render_close_up

TIGHT_MARGINS = dict(side_margin=(-0.02, 0.04), top_margin=(-0.05, 0.10))


def evaluate(country: str, seeds, tight: bool, whole: bool = True) -> dict:
    """Counts of ``read``'s exact, wrong and empty results and ``read_crop``'s exact ones on the
    close-ups of ``seeds``, and ``read``'s milliseconds per close-up; ``whole``: ``read`` also
    reads close-ups whole (``Recognizer``'s ``close_ups``)."""
    recognizer = Recognizer(country=country, close_ups=whole)
    counts = dict(n=0, read_exact=0, read_wrong=0, read_none=0, crop_exact=0, read_ms=0.0)
    for seed in seeds:
        scene = render_close_up(country, seed=seed, **(TIGHT_MARGINS if tight else {}))
        truth = scene.rendered.plate.text
        start = time.perf_counter()
        found = recognizer.read(scene.image)
        counts["read_ms"] += 1000 * (time.perf_counter() - start)
        crop = recognizer.read_crop(scene.image)
        counts["n"] += 1
        key = "read_none" if not found else "read_exact" if found[0].text == truth else "read_wrong"
        counts[key] += 1
        counts["crop_exact"] += crop is not None and crop.text == truth
    counts["read_ms"] = round(counts["read_ms"] / max(1, counts["n"]), 1)
    return counts


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="close-ups per country (default 200)")
    parser.add_argument("--seed", type=int, default=9500, help="seed of the first close-up (default 9500)")
    parser.add_argument("--countries", nargs="+", default=["de", "es"], choices=["de", "es"])
    parser.add_argument("--tight", action="store_true", help="cut at the plate's outline")
    parser.add_argument("--no-whole", action="store_true", help="read without reading close-ups whole")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    for country in args.countries:
        counts = evaluate(country, range(args.seed, args.seed + args.n), args.tight, whole=not args.no_whole)
        print(f"{country}: read exact {counts['read_exact']} / wrong {counts['read_wrong']} / no plate "
              f"{counts['read_none']} of {counts['n']} ({counts['read_ms']} ms each); "
              f"read_crop exact {counts['crop_exact']}", flush=True)


if __name__ == "__main__":
    main()
