"""``alpr robustness``: clean and robust accuracy of a character model (optionally beside another)
across L∞ budgets, with a Markdown report, JSON results and an accuracy-vs-ε plot."""

import json
import shlex
from pathlib import Path

import click

from alpr.cli.common import UserError, ensure_dir, load_char_model, parse_fraction, refuse_existing, seed_option

DEFAULT_EPS = "2/255,4/255,8/255,16/255,32/255,64/255"


def _samples(model, data_dir, synthetic, max_samples, targeted_n, clean_renders, seed):
    """(x, y, x_ones, y_ones, clean_all, n_all, description)."""
    import numpy as np

    from attacks import core
    from attacks.crops import real_crops, synthetic_crops

    if data_dir is not None:
        try:
            crops = real_crops(model, data_dir, seed=seed)
        except FileNotFoundError as err:
            raise UserError(f"--data: {err}") from None
        if len(crops) == 0:
            raise UserError(f"--data {data_dir}: no character of the model's alphabet")
        x_all, y_all = crops.xy(model.alphabet)
        clean_all = float(np.mean(core.predict(model, x_all) == y_all))
        ones = crops.only("1").subset(np.arange(min(targeted_n, len(crops.only("1")))))
        desc = f"real character crops from {data_dir} (ground-truth boxes; first {min(max_samples, len(crops))} of {len(crops)} in a seeded image order, seed {seed})"
        return x_all[:max_samples], y_all[:max_samples], ones.x, ones.labels(model.alphabet), clean_all, len(y_all), desc
    crops = synthetic_crops(model, min(synthetic, max_samples), seed=seed, augmented=not clean_renders)
    ones = synthetic_crops(model, targeted_n, seed=seed + 1, chars="1", augmented=not clean_renders)
    kind = "clean renders" if clean_renders else "augmented like the training data, held-out seeds"
    return (*crops.xy(model.alphabet), ones.x, ones.labels(model.alphabet), None, None,
            f"{len(crops)} synthetic {model.card.get('country', '')} character crops ({kind}; seed {seed})")


@click.command(name="robustness", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--model", "model_name", required=True, metavar="NAME|FILE", help="Model to evaluate (e.g. es-hardened).")
@click.option("--compare", "compare_name", default=None, metavar="NAME|FILE", help="Second model on the same samples (e.g. es).")
@click.option("--data", "data_dir", default=None, type=click.Path(path_type=Path), metavar="DIR",
              help="Real character crops (YOLO chars folder: images/ + labels/), e.g. uc3m-lp/chars.")
@click.option("--synthetic", default=None, type=click.IntRange(1, 1_000_000), metavar="N", help="Use N synthetic crops instead (default 1000).")
@click.option("--clean-renders", is_flag=True, help="--synthetic: clean renders instead of training-like augmented crops.")
@click.option("--eps-list", default=DEFAULT_EPS, show_default=True, metavar="LIST", help="Comma-separated L∞ budgets.")
@click.option("--max-samples", default=1000, show_default=True, type=click.IntRange(1, 1_000_000), help="Samples attacked.")
@click.option("--steps", default=50, show_default=True, type=click.IntRange(1, 10_000), help="PGD steps.")
@click.option("--restarts", default=10, show_default=True, type=click.IntRange(1, 1000), help="PGD random restarts.")
@click.option("--square-queries", default=1000, show_default=True, type=click.IntRange(1, 100_000), help="Square attack queries.")
@click.option("--square-samples", default=200, show_default=True, type=click.IntRange(1, 1_000_000), help="Samples for the Square attack.")
@click.option("--autoattack-samples", default=200, show_default=True, type=click.IntRange(0, 1_000_000),
              help="Samples for ART AutoAttack (0: skip; skipped with a note when ART is not installed).")
@click.option("--autoattack-iter", default=100, show_default=True, type=click.IntRange(1, 10_000), help="APGD iterations inside ART AutoAttack.")
@click.option("--autoattack-eps", default=None, metavar="LIST", help="Budgets at which ART AutoAttack runs (default: every --eps-list budget).")
@click.option("--targeted-eps", default="32/255", show_default=True, metavar="NUMBER", help="Budget of the targeted '1' → digit table.")
@click.option("--targeted-samples", default=100, show_default=True, type=click.IntRange(1, 100_000), help="'1' crops for the targeted table.")
@click.option("--transfer-from", default=None, metavar="NAME|FILE", help="Transfer attack source (default: the --compare model).")
@click.option("--patch-report", default=None, type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Optional report.json of the physical patch attack (attacks/patch.py) with 'simulated_success'.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Writes DIR/report.md, DIR/results.json, DIR/accuracy_vs_eps.png.")
@click.option("--force", is_flag=True, help="Overwrite an existing report in DIR.")
@seed_option
def command(model_name, compare_name, data_dir, synthetic, clean_renders, eps_list, max_samples, steps, restarts, square_queries,
            square_samples, autoattack_samples, autoattack_iter, autoattack_eps, targeted_eps, targeted_samples, transfer_from, patch_report, out_dir, force, seed):
    """Robustness report: clean accuracy, FGSM, PGD-50×10, Square (black box), transfer and ART
    AutoAttack at each ε, per-sample worst case, targeted "1" → digit success, sanity warnings.

    \b
    Examples:
      alpr robustness --model es-hardened --compare es --data uc3m-lp/chars --out docs/robustness/es
      alpr robustness --model de-hardened --compare de --synthetic 1000 --out docs/robustness/de
      alpr robustness --model es --eps-list 8/255,32/255 --restarts 2 --max-samples 200 --out /tmp/rob
    """
    if data_dir is not None and synthetic is not None:
        raise UserError("--data and --synthetic exclude each other")
    if data_dir is not None and not data_dir.is_dir():
        raise UserError(f"--data: no such folder: {data_dir}")
    eps_values = [parse_fraction(t, name="--eps-list", low=1e-9, high=1.0) for t in eps_list.split(",") if t.strip()]
    if not eps_values:
        raise UserError("--eps-list: no budget given")
    aa_eps = None if autoattack_eps is None else [parse_fraction(t, name="--autoattack-eps", low=1e-9, high=1.0)
                                                  for t in autoattack_eps.split(",") if t.strip()]
    t_eps = parse_fraction(targeted_eps, name="--targeted-eps", low=1e-9, high=1.0)
    patch = None
    if patch_report is not None:
        try:
            patch = json.loads(patch_report.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
            raise UserError(f"--patch-report: cannot read {patch_report} ({str(err).splitlines()[0]})") from None
        if not isinstance(patch, dict) or "simulated_success" not in patch:
            raise UserError(f"--patch-report: {patch_report} has no 'simulated_success'")
    report = out_dir / "report.md"
    refuse_existing([report, out_dir / "results.json", out_dir / "accuracy_vs_eps.png"], force=force, option="--out")
    ensure_dir(out_dir, "--out")
    model = load_char_model(model_name, "--model")
    others = {}
    if compare_name:
        others[compare_name] = load_char_model(compare_name, "--compare")
        if others[compare_name].alphabet != model.alphabet or others[compare_name].input_shape != model.input_shape:
            raise UserError("--compare: the two models must share alphabet and input shape")
    source = transfer_from or compare_name
    source_model = (others.get(source) or load_char_model(source, "--transfer-from")) if source else None

    from alpr import atomic
    from defense.evaluate import evaluate_model
    from defense.report import markdown, plot_curves

    x, y, x1, y1, clean_all, n_all, desc = _samples(model, data_dir, synthetic or 1000, max_samples, targeted_samples, clean_renders, seed)
    results = {}
    for name, m, src in [(model_name, model, source_model)] + [(n, m, model) for n, m in others.items()]:
        click.echo(f"{name}: {len(y)} samples")
        res = evaluate_model(m, x, y, eps_list=eps_values, steps=steps, restarts=restarts, seed=seed, square_queries=square_queries,
                             square_n=square_samples, transfer_from=src if src is not m else None, autoattack_n=autoattack_samples,
                             autoattack=autoattack_samples > 0, autoattack_iter=autoattack_iter, autoattack_eps=aa_eps, targeted_eps=t_eps, targeted_n=targeted_samples, log=click.echo,
                             x_ones=x1, y_ones=y1)
        if clean_all is not None:
            from attacks import core

            res["clean_all"], res["clean_all_n"] = clean_all if m is model else None, n_all
            if m is not model:
                from attacks.crops import real_crops

                xa, ya = real_crops(m, data_dir, seed=seed).xy(m.alphabet)
                res["clean_all"] = float((core.predict(m, xa) == ya).mean())
        for w in res["warnings"]:
            click.echo(f"warning: {name}: {w}", err=True)
        results[name] = res
    ctx = click.get_current_context()
    command_line = shlex.join(["alpr", "robustness"] + [t for p in ctx.command.params if ctx.params.get(p.name) is not None and ctx.params[p.name] is not False
                                                        for t in [p.opts[0]] + ([] if ctx.params[p.name] is True else [str(ctx.params[p.name])])])
    figure = plot_curves(results, out_dir / "accuracy_vs_eps.png", title=f"accuracy vs ε ({desc.split(' (')[0]})")
    atomic.write_text(out_dir / "results.json", json.dumps({"data": desc, "command": command_line, "patch": patch,
                                                             "results": results}, indent=1, default=float) + "\n")
    atomic.write_text(report, markdown(results, data=desc, command=command_line, patch=patch, figure=figure.name))
    click.echo(f"wrote {report}, {out_dir / 'results.json'} and {figure}")
