"""Digital-attack experiments on a character model: accuracy-vs-ε curves (synthetic and real
crops), the targeted "1" → X table, the transferability table, and the photo-level attack through
the whole pipeline on rendered photos containing a "1".

Usage:
    PYTHONPATH=. python scripts/attack_experiments.py --model es --real /path/uc3m-lp/chars --out DIR
    PYTHONPATH=. python scripts/attack_experiments.py --model de --out DIR --photos 100
    PYTHONPATH=. python scripts/attack_experiments.py --model es --out DIR --quick     # a minute-sized smoke run

Crop sets: "synthetic" = ink-box crops of clean rendered plates; "augmented" = crops drawn like the
training data (alpr.char_crops.make_crops: segmentation jitter, blur, noise, JPEG, lighting) from
held-out seeds; "real" = UC3M-LP character crops (--real). Only crops the model reads correctly count.

Writes into DIR: curve_{synthetic,augmented,real}.{csv,png}, targeted.csv, transfer.csv,
photo.csv, photo.png, examples/*.png and summary.json (every figure, with the settings).

Photo-level protocol: N scenes are rendered (alpr.synth.scene) with a plate of the model's country
that contains a "1"; photos the clean pipeline does not read exactly are replaced and counted.
For each photo the budgets are tried from the largest down and the search stops at the first
failure; success at ε means "an attack at some budget ≤ ε succeeded" (an adversarial photo within
ε' ≤ ε is also within ε). Stopping at the first failure can only under-count (conservative). Untargeted: any other reading (or no plate).
Targeted: "1" → a digit drawn per photo; success only if the plate reads exactly the original
text with that "1" replaced.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

import numpy as np


def _fractions(text: str) -> list[float]:
    """Comma-separated budgets such as ``8/255,0.1`` as floats in [0, 1] (images are in [0, 1])."""
    from fractions import Fraction

    try:
        values = [float(Fraction(t.strip())) for t in text.split(",") if t.strip()]
    except (ValueError, ZeroDivisionError):
        raise SystemExit(f"error: {text!r}: budgets are numbers or fractions such as 8/255") from None
    if any(not 0 <= v <= 1 for v in values):
        raise SystemExit(f"error: {text!r}: budgets are fractions of the [0, 1] pixel range; write 24/255, not 24")
    return values


def _rows_csv(header, rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def photo_experiment(recognizer, country, *, n, eps_values, steps, restarts, jitter, seed, out_dir, log, examples=3):
    """Untargeted and targeted photo-level attack rates per ε (see the module docstring)."""
    from tqdm import tqdm

    from alpr.cli.attack import _figure, _view_box
    from alpr.imageio import save_image
    from alpr.synth.render import render_plate
    from alpr.synth.scene import render_scene
    from alpr.plates import is_valid
    from attacks.crops import plate_with
    from attacks.pipeline_attack import attack_photo

    eps_values = sorted(eps_values)
    rng = np.random.default_rng(seed)
    (out_dir / "photo_records.jsonl").unlink(missing_ok=True)
    records, rejected = [], 0
    bar = tqdm(total=n, desc="photo attacks", unit="photo", file=sys.stderr)
    while len(records) < n:
        if rejected > 5 * n + 20:
            raise RuntimeError(f"the clean pipeline misreads too many rendered photos ({rejected})")
        text = plate_with("1", country, rng)
        rendered = render_plate(text, country, rng=rng, height_px=int(rng.integers(60, 111)))
        scene = render_scene(country, rng=rng, plate=rendered, plate_width=(120.0, 400.0), max_angle=25.0)
        found = recognizer.read(scene.image)
        if not found or found[0].text != text.text:
            rejected += 1
            continue
        plate = found[0]
        index = plate.text.index("1")
        digits = [c for c in "0123456789" if c != "1" and c in recognizer.models[plate.country].alphabet]
        target = str(rng.choice(digits))
        wanted = plate.text[:index] + target + plate.text[index + 1 :]
        groups, pos = [], 0
        for g in plate.formatted.split():
            groups.append(wanted[pos : pos + len(g)])
            pos += len(g)
        feasible = is_valid(" ".join(groups), plate.country)  # e.g. German digits cannot start with 0
        rec = {"photo": len(records), "text": plate.text, "char_index": index, "target": target, "feasible": feasible,
               "untargeted_eps": None, "targeted_eps": None, "untargeted_reading": None, "targeted_reading": None,
               "grammar_undone": 0}
        for kind, tgt in (("untargeted", "any"), ("targeted", target)):
            for k, eps in enumerate(eps_values[::-1]):  # largest first; stop at the first failure
                res = attack_photo(recognizer, scene.image, char_index=index, target=tgt, eps=eps, steps=steps,
                                   restarts=restarts, jitter=jitter, seed=seed + len(records) * 101 + k, plate=plate)
                rec["grammar_undone"] += int(res.grammar_undone)
                if not res.success:
                    if k == 0:
                        rec[f"{kind}_reading"] = res.adversarial_text
                    break
                rec[f"{kind}_eps"] = eps
                rec[f"{kind}_reading"] = res.adversarial_text
                if len(records) < examples and k == 0:
                    stem = out_dir / "examples" / f"photo{len(records)}_{kind}"
                    save_image(stem.with_name(stem.name + "_adv.png"), res.adversarial)
                    x0, y0, w, h = _view_box(np.asarray(res.plate_quad), scene.image.shape)
                    v = (slice(y0, y0 + h), slice(x0, x0 + w))
                    _figure(stem.with_name(stem.name + "_figure.png"), scene.image[v], res.adversarial[v], eps,
                            res.top5_before, res.top5_after,
                            f"{res.original_text} → {res.adversarial_text or '(no plate)'} ({kind}, target {tgt})")
        records.append(rec)
        with open(out_dir / "photo_records.jsonl", "a", encoding="utf-8") as fh:  # partial results survive an interrupt
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        bar.update(1)
    bar.close()
    return photo_summary(records, eps_values, rejected, log, steps=steps, restarts=restarts, jitter=jitter)


def photo_summary(records, eps_values, rejected, log, **settings):
    """Success rates per ε (see the module docstring) from the per-photo records."""
    eps_values = sorted(eps_values)
    table = []
    for eps in eps_values:
        row = {"eps": eps, "eps_255": round(eps * 255, 3)}
        for kind in ("untargeted", "targeted"):
            row[kind] = float(np.mean([r[f"{kind}_eps"] is not None and r[f"{kind}_eps"] <= eps + 1e-12 for r in records]))
        feasible = [r for r in records if r["feasible"]]
        row["targeted_feasible"] = float(np.mean([r["targeted_eps"] is not None and r["targeted_eps"] <= eps + 1e-12
                                                  for r in feasible])) if feasible else None
        table.append(row)
    smallest = {kind: next((r["eps_255"] for r in table if r[kind] >= 0.95), None) for kind in ("untargeted", "targeted")}
    n_feasible = sum(r["feasible"] for r in records)
    replaced = "" if rejected is None else f", {rejected} rendered photos misread clean and replaced"
    log(f"photo level (n={len(records)}{replaced}):")
    for r in table:
        log(f"  eps {r['eps_255']:g}/255: untargeted {r['untargeted']:.1%}  targeted {r['targeted']:.1%}"
            + (f" (grammar-feasible targets only: {r['targeted_feasible']:.1%}, n={n_feasible})"
               if n_feasible < len(records) and r["targeted_feasible"] is not None else ""))
    log(f"  smallest eps reaching 95 %: untargeted {smallest['untargeted']}/255, targeted {smallest['targeted']}/255")
    no_plate = sum(r["untargeted_eps"] is not None and r["untargeted_reading"] is None for r in records)
    undone = sum(r["grammar_undone"] for r in records)
    log(f"  untargeted successes that read no plate at all: {no_plate}; targeted attempts undone by the grammar: {undone}")
    return {"n": len(records), "rejected_clean_misread": rejected, **settings, "table": table, "smallest_eps_255_for_95": smallest,
            "grammar_undone_events": int(sum(r["grammar_undone"] for r in records)), "photos": records}


def plot_photo(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    xs = [r["eps_255"] for r in result["table"]]
    fig, ax = plt.subplots(figsize=(5.5, 3.6), dpi=120)
    for kind in ("untargeted", "targeted"):
        ax.plot(xs, [100 * r[kind] for r in result["table"]], marker="o", label=kind)
    ax.axhline(95, color="k", lw=0.8, ls=":")
    ax.set_xlabel("ε (grey levels, L∞, pixels of the '1' only)")
    ax.set_ylabel("full-pipeline misread (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(f"photo-level attack, n={result['n']} rendered photos", fontsize=9)
    fig.tight_layout()
    atomic.save_figure(fig, path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="bundled model name or .keras file")
    ap.add_argument("--country", default=None, help="plate country (default: the model's)")
    ap.add_argument("--real", type=Path, default=None, help="real character crops (YOLO chars folder)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--crops", type=int, default=300, help="synthetic crops for the curve")
    ap.add_argument("--real-crops", type=int, default=300, help="real crops for the curve")
    ap.add_argument("--ones", type=int, default=100, help="'1' crops for the targeted table")
    ap.add_argument("--eps", default="0,2/255,4/255,8/255,16/255,32/255,64/255", help="curve budgets")
    ap.add_argument("--curve-steps", type=int, default=20)
    ap.add_argument("--curve-restarts", type=int, default=1)
    ap.add_argument("--targeted-eps", default="32/255")
    ap.add_argument("--targeted-steps", type=int, default=50)
    ap.add_argument("--targeted-restarts", type=int, default=1)
    ap.add_argument("--transfer", default="", help="comma-separated other models for the transfer table")
    ap.add_argument("--transfer-eps", default="32/255")
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--photo-eps", default="4/255,8/255,16/255,24/255,32/255")
    ap.add_argument("--photo-steps", type=int, default=50)
    ap.add_argument("--photo-restarts", type=int, default=3)
    ap.add_argument("--jitter", type=int, default=4)
    ap.add_argument("--photo-records", type=Path, default=None,
                    help="only summarise an existing photo_records.jsonl (e.g. of an interrupted run)")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: curves,targeted,transfer,photo")
    ap.add_argument("--quick", action="store_true", help="tiny sizes for a smoke run")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.quick:
        args.crops, args.real_crops, args.ones, args.photos = 40, 40, 20, 4

    from alpr import atomic
    from alpr.model import load_model
    from alpr.pipeline import Recognizer
    from attacks import crops as C
    from attacks import sweep as S

    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    lines: list[str] = []

    def log(msg):
        print(msg, flush=True)
        lines.append(msg)

    t0 = time.time()
    model = load_model(args.model)
    country = args.country or C.country_of(model)
    import hashlib

    from alpr.model import resolve_model_path

    model_file = resolve_model_path(args.model)
    summary = {"model": args.model, "model_file": str(model_file),
               "model_sha256": hashlib.sha256(model_file.read_bytes()).hexdigest(),
               "model_created": model.card.get("created"), "model_metrics": model.card.get("metrics"),
               "country": country, "command": " ".join(sys.argv), "seed": args.seed,
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}

    def save():
        summary["seconds"] = round(time.time() - t0, 1)
        atomic.write_text(out / "summary.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")

    if "curves" not in skip:
        sets = {"synthetic": C.synthetic_crops(model, args.crops, seed=args.seed, country=country),
                "augmented": C.synthetic_crops(model, args.crops, seed=args.seed, country=country, augmented=True)}
        if args.real is not None:
            sets["real"] = C.real_crops(model, args.real, limit=args.real_crops, seed=args.seed)
        for name, crops in sets.items():
            kept = C.correctly_classified(model, crops)
            x, y = kept.xy(model.alphabet)
            curve = S.accuracy_curve(model, x, y, eps_values=_fractions(args.eps), steps=args.curve_steps,
                                     restarts=args.curve_restarts, seed=args.seed, progress=True)
            curve.update(n_loaded=len(crops), clean_accuracy_loaded=len(kept) / max(1, len(crops)))
            curve.update(S.save_curve(curve, out / f"curve_{name}", title=f"{args.model}: {name} crops, n={len(kept)}, after uint8"))
            summary[f"curve_{name}"] = curve
            log(f"{name} crops: clean {len(kept)}/{len(crops)}; " + ", ".join(
                f"{e:g}/255 FGSM {f:.3f} PGD-{args.curve_steps}x{args.curve_restarts} {p:.3f}"
                for e, f, p in zip(curve["eps_255"], curve["accuracy"]["fgsm"], curve["accuracy"]["pgd"])))
            save()

    if "targeted" not in skip:
        ones = C.synthetic_crops(model, args.ones, seed=args.seed + 1, country=country, force_char="1", chars="1")
        sets = {"synthetic": ones,
                "augmented": C.synthetic_crops(model, args.ones, seed=args.seed + 1, country=country, augmented=True,
                                               chars="1")}
        if args.real is not None:
            sets["real"] = C.real_crops(model, args.real, limit=args.ones, seed=args.seed, chars="1")
        rows = []
        for name, crops in sets.items():
            kept = C.correctly_classified(model, crops)
            if len(kept) == 0:
                log(f"targeted ({name}): no correctly classified '1'")
                continue
            for eps in _fractions(args.targeted_eps):
                table = S.targeted_table(model, kept.x, kept.labels(model.alphabet), source="1", eps=eps,
                                         steps=args.targeted_steps, restarts=args.targeted_restarts,
                                         seed=args.seed, progress=True)
                summary.setdefault("targeted", {})[f"{name}@{table['eps_255']:g}"] = table
                rows += [[name, table["eps_255"], table["steps"], t, r["n"], f"{r['success']:.4f}",
                          f"{r['median_linf_255']:.2f}", f"{r['median_l2_255']:.2f}"] for t, r in table["targets"].items()]
                log(f"targeted 1→X ({name}, n={table['n']}, eps {table['eps_255']:g}/255, PGD-{table['steps']}x{table['restarts']}): " +
                    " ".join(f"{t}:{r['success']:.2f}" for t, r in table["targets"].items()) +
                    f"  (min {table['min_success']:.3f}, mean {table['mean_success']:.3f})")
        atomic.write_text(out / "targeted.csv", _rows_csv(
            ["data", "eps_255", "steps", "target", "n", "success", "median_linf_255", "median_l2_255"], rows))
        save()

    if "transfer" not in skip and args.transfer:
        models = {args.model: model}
        for name in filter(None, args.transfer.split(",")):
            try:
                models[name] = load_model(name)
            except (FileNotFoundError, ValueError) as err:
                log(f"transfer: skipping {name}: {err}")
        if len(models) > 1:
            crops = C.synthetic_crops(model, args.crops, seed=args.seed + 2, country=country)
            rows, table = [], {}
            for eps in _fractions(args.transfer_eps):
                t = S.transfer_table(models, crops, eps=eps, steps=args.curve_steps, seed=args.seed)
                table[f"{eps * 255:g}"] = t
                for a, row in t.items():
                    for b, r in row.items():
                        rows.append([a, b, r["eps_255"], r["n"], f"{r['whitebox_accuracy']:.4f}", f"{r['transfer_accuracy']:.4f}"])
                        log(f"transfer {a} → {b} @ {r['eps_255']:g}/255 (n={r['n']}): source acc {r['whitebox_accuracy']:.3f}, "
                            f"target acc {r['transfer_accuracy']:.3f}")
            summary["transfer"] = table
            atomic.write_text(out / "transfer.csv", _rows_csv(
                ["source", "target", "eps_255", "n", "source_accuracy", "target_accuracy"], rows))
            save()

    if args.photo_records is not None:
        records = [json.loads(line) for line in args.photo_records.read_text().splitlines() if line.strip()]
        result = photo_summary(records, _fractions(args.photo_eps), None, log, note=f"from {args.photo_records}")
        summary["photo"] = result
        plot_photo(result, out / "photo.png")
        skip.add("photo")
    if "photo" not in skip and args.photos > 0:
        recognizer = Recognizer(country, model)
        result = photo_experiment(recognizer, country, n=args.photos, eps_values=_fractions(args.photo_eps),
                                  steps=args.photo_steps, restarts=args.photo_restarts, jitter=args.jitter,
                                  seed=args.seed, out_dir=out, log=log)
        summary["photo"] = result
        atomic.write_text(out / "photo.csv", _rows_csv(
            ["eps_255", "untargeted", "targeted", "targeted_feasible", "n"],
            [[r["eps_255"], f"{r['untargeted']:.4f}", f"{r['targeted']:.4f}",
              "" if r["targeted_feasible"] is None else f"{r['targeted_feasible']:.4f}", result["n"]]
             for r in result["table"]]))
        plot_photo(result, out / "photo.png")
        save()

    summary["log"] = lines
    save()
    log(f"done in {time.time() - t0:.0f} s: {out / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
