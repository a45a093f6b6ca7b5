"""``alpr attack``: adversarial attacks on one character ("1") of photos, plate crops or character
crops, re-read by the pipeline; or ``--sweep``: accuracy-vs-ε curves of FGSM and PGD."""

import json
import sys
from pathlib import Path

import click
import numpy as np

from alpr.cli.common import UserError, ensure_dir, parse_fraction, refuse_existing

COUNTRIES = ("auto", "de", "es", "eu")
METHODS = ("pgd", "fgsm", "threshold")
DEFAULT_SWEEP_EPS = "0,2/255,4/255,8/255,16/255,32/255,64/255"


def _int(text, name, low):
    try:
        value = int(str(text).strip())
    except ValueError:
        raise UserError(f"{name}: expected an integer, got {text!r}") from None
    if value < low:
        raise UserError(f"{name}: must be >= {low}, got {value}")
    return value


def _choice(text, name, choices):
    value = str(text).strip().lower()
    if value not in choices:
        raise UserError(f"{name}: expected one of {', '.join(choices)}, got {text!r}")
    return value


@click.command(name="attack")
@click.argument("paths", nargs=-1, metavar="PATH...")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Output folder: adversarial PNGs, figures, summary.json (or the sweep curve).")
@click.option("--crop", is_flag=True, help="Inputs are plate crops: skip detection (read_crop).")
@click.option("--chars", "char_crops", is_flag=True,
              help="Inputs are single-character crops labelled --char: attack the CNN input directly.")
@click.option("--country", default="auto", show_default=True, metavar="|".join(COUNTRIES),
              help="Plate grammar (and default model).")
@click.option("--model", "model_name", default=None, metavar="NAME|FILE",
              help="Character model: de, es, eu, de-hardened, es-hardened or a .keras file.")
@click.option("--char", "char", default="1", show_default=True, help="Character to attack (its first occurrence).")
@click.option("--position", default=None, metavar="N", help="Attack the N-th character (0-based) instead of --char.")
@click.option("--target", default="any", show_default=True, metavar="any|X",
              help="'any' (untargeted: any other reading) or the character the attacked one must read as.")
@click.option("--eps", "eps_text", default="16/255", show_default=True, metavar="NUMBER",
              help="Budget in [0, 1] pixel units, e.g. 4/255 or 0.03 (L2: the whole perturbation's length).")
@click.option("--norm", default="inf", show_default=True, metavar="inf|2", help="Perturbation norm.")
@click.option("--method", default="pgd", show_default=True, metavar="|".join(METHODS),
              help="PGD (random start, restarts), FGSM (one step) or threshold (targeted, until p ≥ 0.9).")
@click.option("--steps", "steps_text", default="50", show_default=True, metavar="N", help="Gradient steps.")
@click.option("--step-size", "step_text", default=None, metavar="NUMBER",
              help="Step size (default eps/8 for L∞, eps/5 for L2; PGD on --chars: 2.5·eps/steps).")
@click.option("--restarts", "restarts_text", default="3", show_default=True, metavar="N", help="PGD restarts.")
@click.option("--jitter", "jitter_text", default="4", show_default=True, metavar="N",
              help="Jittered character geometries whose gradients are averaged (photo and crop modes).")
@click.option("--sweep", is_flag=True, help="Write accuracy-vs-ε curves (FGSM, PGD) on character crops instead.")
@click.option("--data", "data_dir", default=None, type=click.Path(path_type=Path), metavar="DIR",
              help="--sweep: real character crops (YOLO chars folder: images/ + labels/); default synthetic.")
@click.option("--samples", "samples_text", default="200", show_default=True, metavar="N",
              help="--sweep: number of character crops.")
@click.option("--sweep-eps", default=DEFAULT_SWEEP_EPS, show_default=True, metavar="LIST",
              help="--sweep: comma-separated budgets.")
@click.option("--augmented", is_flag=True,
              help="--sweep: synthetic crops drawn like the training data (jitter, blur, noise, JPEG) instead of clean renders.")
@click.option("--force", is_flag=True, help="Overwrite existing outputs.")
@click.option("--seed", "seed_text", default="0", show_default=True, metavar="N", help="Random seed (reproducible runs).")
def command(paths, out_dir, crop, char_crops, country, model_name, char, position, target, eps_text, norm, method,
            steps_text, step_text, restarts_text, jitter_text, sweep, data_dir, samples_text, sweep_eps, augmented, force,
            seed_text):
    """Attack the character "1" (or --char / --position) so that the plate is misread.

    Photo mode (default): only the photo pixels inside the character's box are changed (within
    --eps), through a differentiable copy of rectification, cropping and preprocessing; the
    adversarial photo is quantised to uint8 and read again by the whole pipeline (detection,
    segmentation, CNN, grammar). --crop does the same on plate crops; --chars attacks single
    character crops at the CNN input.

    For each input, DIR gets NAME_adv.png (the adversarial image), NAME_figure.png (original,
    adversarial, amplified perturbation and the attacked character's top-5 predictions) and
    DIR/summary.json collects every result. A failing file is reported and the batch goes on.
    Exit code 0 when every file was processed, 1 when any failed, 2 on bad arguments.

    --sweep writes DIR/curve.csv, DIR/curve.png and DIR/summary.json: accuracy of the model under
    FGSM and PGD-N over --sweep-eps (after uint8 quantisation) on the crops it classifies
    correctly: clean synthetic renders, --augmented ones, or real ones from --data.

    \b
    Examples:
      alpr attack data/samples/es_1.jpg --country es --target any --eps 32/255 --out adv/
      alpr attack car.jpg --country de --char 1 --target 7 --eps 32/255 --steps 100 --out adv/
      alpr attack plate.png --crop --country es --target 4 --method threshold --out adv/
      alpr attack one.png --chars --model es --target 7 --eps 8/255 --method fgsm --out adv/
      alpr attack --sweep --model es --out curves/ --samples 300
      alpr attack --sweep --model de --augmented --steps 50 --restarts 3 --out curves-aug/
      alpr attack --sweep --model es --data uc3m-lp/chars --out curves-real/
    """
    country = _choice(country, "--country", COUNTRIES)
    norm = _choice(norm, "--norm", ("inf", "2"))
    norm = "inf" if norm == "inf" else 2
    method = _choice(method, "--method", METHODS)
    eps = parse_fraction(eps_text, name="--eps", low=0.0, high=None if norm == 2 else 1.0)
    steps = _int(steps_text, "--steps", 1)
    restarts = _int(restarts_text, "--restarts", 1)
    jitter = _int(jitter_text, "--jitter", 0)
    samples = _int(samples_text, "--samples", 1)
    seed = _int(seed_text, "--seed", 0)
    step_size = None if step_text is None else parse_fraction(step_text, name="--step-size", low=1e-9)
    if position is not None:
        position = _int(position, "--position", 0)
    if len(char) != 1:
        raise UserError(f"--char: expected one character, got {char!r}")
    if target != "any" and len(target) != 1:
        raise UserError(f"--target: expected 'any' or one character, got {target!r}")
    if method == "threshold" and target == "any":
        raise UserError("--method threshold needs a --target character")
    if crop and char_crops:
        raise UserError("--crop and --chars exclude each other")
    if sweep:
        if paths:
            raise UserError("--sweep takes no PATH (use --data for real crops)")
        eps_values = [parse_fraction(t, name="--sweep-eps", low=0.0, high=None if norm == 2 else 1.0)
                      for t in sweep_eps.split(",") if t.strip()]
        if not eps_values:
            raise UserError("--sweep-eps: no budget given")
        _sweep(out_dir, country, model_name, data_dir, augmented, samples, eps_values, norm, steps, step_size, restarts,
               seed, force)
        return
    if not paths:
        raise UserError("no PATH given (or use --sweep)")
    settings = dict(country=country, model=model_name, char=char, position=position, target=target, eps=eps,
                    eps_255=round(eps * 255, 3), norm=str(norm), method=method, steps=steps, step_size=step_size,
                    restarts=restarts, jitter=jitter, seed=seed,
                    mode="chars" if char_crops else "crop" if crop else "photo")
    _attack_files(paths, out_dir, settings, force)


# --------------------------------------------------------------------------- per-file attacks


def _attack_files(paths, out_dir: Path, settings: dict, force: bool) -> None:
    from tqdm import tqdm

    from alpr.cli.common import load_recognizer
    from alpr.imageio import ImageError, iter_image_paths, load_image

    summary_path = out_dir / "summary.json"
    files = list(iter_image_paths(paths))
    if not files:
        raise UserError("no images found in the given paths")
    stems = _output_stems(files, out_dir)
    planned = [summary_path] + [p for stem in stems for p in _output_paths(stem)]
    refuse_existing(planned, force=force, option="--out")
    ensure_dir(out_dir, "--out")
    recognizer = load_recognizer(settings["country"], settings["model"])
    model = next(iter(recognizer.models.values()))
    if settings["target"] != "any" and settings["target"] not in model.alphabet:
        raise UserError(f"--target: {settings['target']!r} is not in the model's alphabet {model.alphabet}")
    if settings["mode"] == "chars" and settings["char"] not in model.alphabet:
        raise UserError(f"--char: {settings['char']!r} is not in the model's alphabet {model.alphabet}")
    records, failures = [], 0
    progress = tqdm(files, desc="attack", unit="img", disable=len(files) < 2 or None, file=sys.stderr)
    for path, stem in zip(progress, stems):
        record = {"image": str(path), "error": None}
        try:
            image = load_image(path)
            if settings["mode"] == "chars":
                record.update(_attack_char_crop(model, image, settings, stem, force))
            else:
                record.update(_attack_plate(recognizer, image, settings, stem, force))
        except ImageError as err:
            record["error"] = str(err)
        except UserError:
            raise
        except Exception as err:  # one bad file must not stop the batch
            record["error"] = f"{path}: {type(err).__name__}: {err}".splitlines()[0]
        failures += record["error"] is not None
        records.append(record)
        progress.write(_line(record), file=sys.stdout)
    done = [r for r in records if r["error"] is None]
    summary = {
        "settings": settings,
        "n_images": len(records),
        "n_attacked": len(done),
        "n_failed": failures,
        "success_rate": (sum(r["success"] for r in done) / len(done)) if done else None,
        "results": records,
    }
    from alpr import atomic

    atomic.write_text(summary_path, json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    click.echo(f"summary: {summary_path}", err=True)
    sys.exit(1 if failures else 0)


def _line(record: dict) -> str:
    if record["error"]:
        return f"{record['image']}: error: {record['error']}"
    if "original_text" in record:
        return (f"{record['image']}: {record['original_text']} -> {record['adversarial_text'] or '(no plate)'}"
                f"  {'SUCCESS' if record['success'] else 'failed'}")
    return f"{record['image']}: {record['original_char']} -> {record['adversarial_char']}  {'SUCCESS' if record['success'] else 'failed'}"


def _output_stems(files, out_dir: Path) -> list[Path]:
    """``out_dir/STEM`` per input; inputs sharing a stem get ``STEM-2``, ``STEM-3``, ... so no
    output of this run replaces another."""
    used, stems = set(), []
    for path in files:
        base, n = Path(path).stem or "image", 1
        name = base
        while name in used:
            n += 1
            name = f"{base}-{n}"
        used.add(name)
        stems.append(out_dir / name)
    return stems


def _output_paths(stem: Path) -> tuple[Path, Path]:
    return stem.with_name(stem.name + "_adv.png"), stem.with_name(stem.name + "_figure.png")


def _outputs(stem: Path, force: bool):
    adv_path, fig_path = _output_paths(stem)
    refuse_existing([adv_path, fig_path], force=force, option="--out")
    return adv_path, fig_path


def _attack_plate(recognizer, image, s: dict, stem: Path, force: bool) -> dict:
    from alpr.imageio import save_image
    from attacks.pipeline_attack import attack_photo

    adv_path, fig_path = _outputs(stem, force)
    result = attack_photo(
        recognizer, image, char_index=s["position"], char=s["char"], target=s["target"], eps=s["eps"],
        steps=s["steps"], step_size=s["step_size"], norm=s["norm"], method=s["method"], restarts=s["restarts"],
        jitter=s["jitter"], seed=s["seed"], crop=s["mode"] == "crop",
    )
    save_image(adv_path, result.adversarial)
    x0, y0, w, h = _view_box(np.asarray(result.plate_quad), image.shape)
    view = (slice(y0, y0 + h), slice(x0, x0 + w))
    title = (f"{result.original_text} → {result.adversarial_text or '(no plate)'}   "
             f"{'SUCCESS' if result.success else 'failed'}" + ("  (grammar undid the target)" if result.grammar_undone else ""))
    _figure(fig_path, image[view], result.adversarial[view], result.eps, result.top5_before, result.top5_after, title)
    out = result.to_dict()
    out.update(adversarial_png=str(adv_path), figure=str(fig_path))
    return out


def _view_box(quad, shape):
    """The plate's bounding box grown by 25 % (clipped), for the figure."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    mx, my = 0.25 * (x1 - x0), 0.6 * (y1 - y0)
    x0, y0 = int(max(0, x0 - mx)), int(max(0, y0 - my))
    x1, y1 = int(min(shape[1], x1 + mx)), int(min(shape[0], y1 + my))
    return x0, y0, max(1, x1 - x0), max(1, y1 - y0)


def _attack_char_crop(model, image, s: dict, stem: Path, force: bool) -> dict:
    """Digital attack on one character crop at the CNN input (quantised to uint8)."""
    import attacks
    from alpr.imageio import save_image
    from attacks.sweep import default_step_size

    adv_path, fig_path = _outputs(stem, force)
    x = np.rint(model.crops_to_input([image]) * 255.0) / 255.0
    x = x.astype(np.float32)
    alphabet = model.alphabet
    targeted = s["target"] != "any"
    y = np.array([alphabet.index(s["target"] if targeted else s["char"])], np.int32)
    eps, norm = s["eps"], s["norm"]
    if s["method"] == "fgsm":
        x_adv = attacks.fgsm(model, x, y, eps=eps, norm=norm, targeted=targeted)
    elif s["method"] == "threshold":
        step = s["step_size"] or max(eps / 10, 1e-6)
        x_adv, _ = attacks.threshold_attack(model, x, y, eps=eps, step_size=step, max_iter=s["steps"], norm=norm)
    else:
        step = s["step_size"] or default_step_size(eps, s["steps"])
        x_adv = attacks.pgd(model, x, y, eps=eps, steps=s["steps"], step_size=step, norm=norm, targeted=targeted,
                            restarts=s["restarts"], seed=s["seed"]) if eps > 0 else x
    x_adv = attacks.quantize(x_adv, x, eps=eps, norm=norm)
    p0, p1 = model.predict_proba(x)[0], model.predict_proba(x_adv)[0]
    before, after = alphabet[int(p0.argmax())], alphabet[int(p1.argmax())]
    success = after == s["target"] if targeted else after != s["char"]
    adv_u8 = np.rint(x_adv[0, ..., 0] * 255).astype(np.uint8)
    save_image(adv_path, adv_u8)
    top = lambda p: [(alphabet[i], round(float(p[i]), 4)) for i in np.argsort(-p)[:5]]  # noqa: E731
    orig_u8 = np.rint(x[0, ..., 0] * 255).astype(np.uint8)
    _figure(fig_path, orig_u8, adv_u8, eps, top(p0), top(p1),
            f"{s['char']} (read {before}) → {after}   {'SUCCESS' if success else 'failed'}")
    d = (x_adv - x).astype(np.float64)
    return {"original_char": s["char"], "clean_prediction": before, "adversarial_char": after, "success": bool(success),
            "linf": float(np.abs(d).max()), "l2": float(np.sqrt((d**2).sum())), "top5_before": top(p0),
            "top5_after": top(p1), "adversarial_png": str(adv_path), "figure": str(fig_path)}


def _figure(path: Path, original, adversarial, eps, top_before, top_after, title: str) -> None:
    """Original | adversarial | amplified perturbation, and the top-5 bars before / after."""
    import cv2
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    def rgb(a):
        return a if a.ndim == 2 else cv2.cvtColor(a, cv2.COLOR_BGR2RGB)

    delta = adversarial.astype(np.float32) - original.astype(np.float32)
    scale = max(float(np.abs(delta).max()), 1.0)
    amplified = np.clip(127.5 + 127.5 * delta / scale, 0, 255).astype(np.uint8)
    fig, axes = plt.subplots(1, 5, figsize=(15, 3.2), dpi=100, gridspec_kw={"width_ratios": [3, 3, 3, 1.4, 1.4]})
    cmap = "gray" if original.ndim == 2 else None
    for ax, img, name in zip(axes[:3], (original, adversarial, amplified),
                             ("original", "adversarial (uint8)", f"perturbation ×{255 / scale:.0f} (max {scale:.0f}/255)")):
        ax.imshow(rgb(img), cmap=cmap, vmin=0, vmax=255, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    for ax, top, name in ((axes[3], top_before, "before"), (axes[4], top_after, "after")):
        if top:
            labels, probs = zip(*top)
            ax.barh(range(len(labels))[::-1], probs, color="tab:blue" if name == "before" else "tab:red")
            ax.set_yticks(range(len(labels))[::-1])
            ax.set_yticklabels(labels)
        ax.set_xlim(0, 1)
        ax.set_title(f"top-5 {name}", fontsize=9)
    fig.suptitle(f"{title}   (ε = {eps * 255:.3g}/255)", fontsize=10)
    fig.tight_layout()
    atomic.save_figure(fig, path)


# --------------------------------------------------------------------------- sweep


def _sweep(out_dir, country, model_name, data_dir, augmented, samples, eps_values, norm, steps, step_size, restarts, seed,
           force):
    from alpr import atomic
    from attacks import crops as C
    from attacks import sweep as S

    refuse_existing([out_dir / name for name in ("curve.csv", "curve.png", "summary.json")], force=force, option="--out")
    if data_dir is not None and not data_dir.is_dir():
        raise UserError(f"--data: {data_dir} is not a folder")
    ensure_dir(out_dir, "--out")
    from alpr.model import load_model

    name = model_name or (country if country != "auto" else None)
    if name is None:
        raise UserError("--sweep needs --model or a --country other than auto")
    try:
        model = load_model(name)
    except (FileNotFoundError, ValueError, OSError) as err:
        raise UserError(str(err).splitlines()[0]) from None
    try:
        if data_dir is not None:
            crops = C.real_crops(model, data_dir, limit=samples, seed=seed)
            source = f"real crops from {data_dir}"
        elif augmented:
            crops = C.synthetic_crops(model, samples, seed=seed, augmented=True)
            source = "augmented synthetic crops (alpr.char_crops.make_crops, held-out seeds)"
        else:
            crops = C.synthetic_crops(model, samples, seed=seed)
            source = "synthetic crops (ink boxes of clean alpr.synth renders)"
    except (FileNotFoundError, NotADirectoryError, PermissionError) as err:
        raise UserError(str(err).splitlines()[0] if str(err) else type(err).__name__) from None
    kept = C.correctly_classified(model, crops)
    if len(kept) == 0:
        raise UserError(f"none of the {len(crops)} crops is classified correctly by the model")
    x, y = kept.xy(model.alphabet)
    curve = S.accuracy_curve(model, x, y, eps_values=eps_values, norm=norm, steps=steps, step_size=step_size,
                             restarts=restarts, seed=seed, progress=True)
    curve.update(model=str(name), data=source, n_loaded=len(crops), clean_accuracy_loaded=len(kept) / len(crops))
    paths = S.save_curve(curve, out_dir / "curve", title=f"{name}: {source.split(' (')[0]}, n={len(kept)}, after uint8")
    curve.update(paths)
    atomic.write_text(out_dir / "summary.json", json.dumps(curve, indent=1) + "\n")
    for i, e in enumerate(curve["eps_255"]):
        accs = "  ".join(f"{m} {curve['accuracy'][m][i]:.3f}" for m in curve["accuracy"])
        click.echo(f"eps {e:g}/255: {accs}")
    click.echo(f"wrote {paths['csv']}, {paths['png']}", err=True)
