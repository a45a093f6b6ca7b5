"""Make adversarial stickers: one ``alpr patch`` run, or a sweep over area budgets.

    python scripts/make_patch.py --country de --out /tmp/patch-de
    python scripts/make_patch.py --country es --areas 0.05,0.10,0.15,0.20,0.30 --eval-n 100 --out /tmp/sweep-es

A sweep runs ``alpr patch`` once per budget into ``OUT/area_0.15/`` etc. and writes
``OUT/success_vs_area.csv`` and ``OUT/success_vs_area.png`` (simulated print-and-capture success
with its 95 % Wilson interval and the clean baseline, against the area budget).
"""

import argparse
import csv
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.cli.patch import FONTS, SHAPES  # noqa: E402  (after the checkout is on the path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--country", choices=("de", "es"), default="de")
    ap.add_argument("--model", default=None, help="model name or .keras file (default: the country's)")
    ap.add_argument("--char", default="1")
    ap.add_argument("--target", default="any")
    ap.add_argument("--shape", choices=SHAPES, default=None, help="default: de strokes, es rect")
    ap.add_argument("--fonts", choices=FONTS, default="standard")
    ap.add_argument("--area", type=float, default=0.15)
    ap.add_argument("--reach", type=float, default=None, help="strokes: mm beyond the glyph's strokes (default: 6)")
    ap.add_argument("--areas", default=None, help="comma-separated budgets for a sweep, e.g. 0.05,0.10,0.15,0.20,0.30")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--eval-n", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)

    from alpr.cli.common import UserError
    from alpr.cli.patch import run_patch

    areas = [float(a) for a in args.areas.split(",") if a.strip()] if args.areas else [args.area]
    common = dict(country=args.country, char=args.char, target=args.target, shape=args.shape, fonts=args.fonts, seed=args.seed,
                  steps=args.steps, eval_n=args.eval_n, model_name=args.model, force=args.force,
                  reach=args.reach, progress=False)
    rows = []
    try:
        for area in areas:
            out = args.out / f"area_{area:.2f}" if len(areas) > 1 else args.out
            rep = run_patch(area=area, out_dir=out, **common)
            rows.append({"area_budget": area, "area": rep["area"], "success": rep["simulated_success"],
                         "ci_low": rep.get("ci95", [None, None])[0], "ci_high": rep.get("ci95", [None, None])[1],
                         "n": rep["n"], "baseline": rep.get("baseline", {}).get("accuracy"),
                         "seconds": rep["timing"]["total_seconds"]})
            print(f"area {area:.2f}: success {rep['simulated_success']} (n={rep['n']}, CI {rep.get('ci95')})", flush=True)
    except UserError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    if len(areas) > 1:
        write_sweep(rows, args.out, f"{args.country} '{args.char}' -> {args.target}, {rep['shape']}, {args.fonts} fonts")
    return 0


def write_sweep(rows: list, out: Path, title: str) -> None:
    """``success_vs_area.csv`` and ``.png`` in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    out.mkdir(parents=True, exist_ok=True)
    with atomic.atomic_path(out / "success_vs_area.csv") as tmp:
        with open(tmp, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ok = [r for r in rows if r["success"] is not None]
    x = [r["area"] for r in ok]
    y = [r["success"] for r in ok]
    err = [[r["success"] - r["ci_low"] for r in ok], [r["ci_high"] - r["success"] for r in ok]]
    ax.errorbar(x, y, yerr=err, marker="o", capsize=3, label="simulated print-and-capture success")
    ax.plot(x, [r["baseline"] for r in ok], "--", color="grey", label="clean baseline accuracy")
    ax.axhline(0.8, color="red", lw=0.6, ls=":")
    ax.set_xlabel("sticker area / character box")
    ax.set_ylabel("rate (95% Wilson CI)")
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    atomic.save_figure(fig, out / "success_vs_area.png", dpi=120)


if __name__ == "__main__":
    sys.exit(main())
