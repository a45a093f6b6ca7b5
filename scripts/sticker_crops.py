#!/usr/bin/env python
"""Character crops of printed-and-photographed stickers, for ``alpr harden --extra-crops``.

Sticks the ``alpr patch`` stickers given (their folders or ``sticker.npz`` files, taken in turn)
on the character of fresh rendered plates, prints and photographs them in simulation within the
*training* ranges of the print-and-capture transformations, reads each photo with the pipeline
and the model given, and keeps the character's crop as the pipeline cuts it, labelled with the
true character (see ``defense.sticker_crops``). Writes an .npz with ``x`` (model inputs), ``chars``
and ``meta`` (JSON: command, stickers, counts).

Use stickers optimised with other seeds than the ones a robustness figure is measured with
(``alpr patch --seed 0/1/2`` in docs/robustness): the test re-optimises its own.

    for s in 100 101 102; do alpr patch --country de --model de-hardened --eval-n 0 --seed $s --out /tmp/pool/s$s; done
    python scripts/sticker_crops.py /tmp/pool/s* --country de --model de-hardened --n 6000 --seed 7 --out /tmp/de-sticker-crops.npz
"""

import argparse
import io
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.atomic import atomic_path  # noqa: E402  (after the checkout is on the path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stickers", nargs="+", type=Path, help="alpr patch output folders or their sticker.npz files")
    ap.add_argument("--country", choices=("de", "es"), required=True)
    ap.add_argument("--model", default=None, help="character model reading the photos (default: the country's own)")
    ap.add_argument("--char", default="1", help="the character the stickers were made for (default 1)")
    ap.add_argument("--fonts", choices=("standard", "all"), default="standard", help="plate typefaces (as alpr patch --fonts)")
    ap.add_argument("--n", type=int, default=6000, help="photos to make (each gives at most one crop; default 6000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="output .npz")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be >= 1")
    if args.out.suffix != ".npz":
        ap.error(f"--out must end in .npz, got {args.out}")
    from alpr.threads import single_threaded_kernels

    single_threaded_kernels()  # photo after photo: one thread per kernel is the fastest on 2 cores
    from alpr.pipeline import Recognizer
    from attacks.patch import read_sticker_npz
    from defense.sticker_crops import captured_crops

    paths = [p / "sticker.npz" if p.is_dir() else p for p in args.stickers]
    try:
        stickers = [read_sticker_npz(p) for p in paths]
    except ValueError as err:
        ap.error(str(err))
    try:
        recognizer = Recognizer(country=args.country, model=args.model)
    except (ValueError, OSError) as err:
        ap.error(f"--model: {err}")
    start = time.perf_counter()
    x, counts = captured_crops(recognizer, stickers, args.n, country=args.country, char=args.char, fonts=args.fonts,
                               seed=args.seed, progress=not args.quiet)
    meta = {"command": shlex.join(["python", "scripts/sticker_crops.py", *map(str, args.stickers), "--country", args.country,
                                   *(["--model", args.model] if args.model else []), "--char", args.char, "--fonts", args.fonts,
                                   "--n", str(args.n), "--seed", str(args.seed), "--out", str(args.out)]),
            "stickers": [str(p) for p in paths], "model": args.model or args.country, "char": args.char,
            "ranges": "attacks.eot.TRAIN (print-and-capture training ranges)", **counts,
            "seconds": round(time.perf_counter() - start, 1)}
    buf = io.BytesIO()
    np.savez_compressed(buf, x=np.rint(x * 255).astype(np.uint8), chars=np.array([args.char] * len(x)), meta=json.dumps(meta))
    with atomic_path(args.out) as tmp:
        Path(tmp).write_bytes(buf.getvalue())
    print(f"wrote {args.out}: {counts['crops']} crops of {counts['photos']} photos ({counts['unread']} not read "
          f"with every character), {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
