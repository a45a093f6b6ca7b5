"""``alpr harden``: adversarially fine-tune a character CNN (PGD-AT, FGSM-RS or TRADES) and save it
with a model card recording method, ε, epochs, wall time, clean and robust figures, data and seed."""

import shlex
import time
from pathlib import Path

import click

from alpr.cli.common import FractionType, UserError, check_output_file, load_char_model, seed_option

METHODS = ("pgd", "fgsm-rs", "trades")


def _data(country, n, seed, cache, progress):
    """Synthetic training-like data (alpr.char_crops.make_dataset), cached as .npz in ``cache`` if given."""
    import numpy as np

    from alpr.char_crops import make_dataset, policy_for

    path = Path(cache) / f"{country}-n{n}-s{seed}.npz" if cache else None
    if path is not None and path.is_file():
        with np.load(path) as f:
            return f["x"], f["y"]
    x, y = make_dataset(country, n, seed, policy=policy_for(country), progress=progress)
    if path is not None:
        from alpr.atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a cut-off run leaves no broken cache
            np.savez(fh, x=x, y=y)
    return x, y


def _robust(model, x, y, eps, seed):
    """Clean and PGD-20 (random start, 2.5 ε / 20) accuracy after uint8 quantisation."""
    import numpy as np

    from attacks import core, quantize
    from attacks.pgd import pgd

    xq = np.rint(x * 255) / 255
    xq = xq.astype(np.float32)
    clean = float(np.mean(core.predict(model, xq) == y))
    x_adv = quantize(pgd(model, xq, y, eps=eps, steps=20, step_size=2.5 * eps / 20, seed=seed), xq, eps=eps)
    return clean, float(np.mean(core.predict(model, x_adv) == y))


@click.command(name="harden", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--country", type=click.Choice(["de", "es"]), required=True, help="Alphabet / synthetic plates to train on.")
@click.option("--method", type=click.Choice(METHODS), default="fgsm-rs", show_default=True,
              help="PGD-AT (Madry), fast FGSM with random start (Wong et al.) or TRADES (Zhang et al.).")
@click.option("--eps", type=FractionType(low=1e-6, high=1.0), default="32/255", show_default=True, help="L∞ budget, e.g. 32/255.")
@click.option("--epochs", type=click.IntRange(1, 1000), default=4, show_default=True)
@click.option("--samples", type=click.IntRange(10, 10_000_000), default=40_000, show_default=True, help="Synthetic training characters.")
@click.option("--val-samples", type=click.IntRange(10, 100_000), default=2000, show_default=True,
              help="Synthetic held-out characters (guard uses 500 of them; final figures all).")
@click.option("--from", "base", default=None, metavar="de|es|FILE|scratch",
              help="Model to fine-tune (default: the country's undefended model), or 'scratch' for a new network "
                   "of --width trained adversarially from random weights.")
@click.option("--width", type=click.IntRange(4, 256), default=32, show_default=True,
              help="Network width with --from scratch (32: ~0.34 M parameters; 48: ~0.75 M).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output .keras (card beside it as .json).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Training-curve PNG (default: OUT stem + -training.png).")
@click.option("--batch-size", type=click.IntRange(2, 4096), default=128, show_default=True)
@click.option("--lr", "learning_rate", type=FractionType(low=1e-9, high=1.0), default="0.001", show_default=True, help="Peak Adam learning rate (cosine decay).")
@click.option("--clean-weight", type=FractionType(low=0.0, high=0.99), default="0.5", show_default=True, help="Share of the clean loss (pgd, fgsm-rs).")
@click.option("--sticker-rate", type=FractionType(low=0.0, high=1.0), default="0.3", show_default=True, help="Share of samples with random stickers each epoch.")
@click.option("--patch-rate", type=FractionType(low=0.0, high=1.0), default="0", show_default=True,
              help="Share of each batch given a worst-case sticker (free pixels under a random bar/dot/rectangle "
                   "mask, found by --patch-steps gradient steps) instead of its L∞ example: physical robustness.")
@click.option("--patch-steps", type=click.IntRange(1, 100), default=5, show_default=True, help="Gradient steps of the sticker attack.")
@click.option("--targeted-rate", type=FractionType(low=0.0, high=1.0), default="0", show_default=True,
              help="Share of the batch's \"1\"s given an L∞ example aimed at a random other digit instead of the "
                   "untargeted one (pgd, fgsm-rs): robustness to the targeted \"1\" attacks.")
@click.option("--repeat-ones", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Use each training \"1\" this many times per epoch: more \"1\"s under attack (8 took de-hardened's "
                   "targeted \"1\" success from 5.4 to 2.5-2.7 %).")
@click.option("--extra-crops", type=click.Path(dir_okay=False, exists=True, path_type=Path), multiple=True, metavar="FILE.npz",
              help="More labelled training crops, used once per epoch beside the synthetic ones, e.g. printed-and-"
                   "photographed stickers cut by the pipeline (scripts/sticker_crops.py). Repeatable.")
@click.option("--steps", type=click.IntRange(1, 100), default=7, show_default=True, help="PGD-AT steps (step 2.5 ε / steps).")
@click.option("--ramp", "ramp_epochs", type=FractionType(low=0.0, high=1000.0), default="1", show_default=True, help="Epochs of linear ε ramp-up.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder caching the generated data (.npz).")
@click.option("--force", is_flag=True, help="Overwrite OUT.")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@seed_option
def command(country, method, eps, epochs, samples, val_samples, base, width, out, plot, batch_size, learning_rate, clean_weight,
            sticker_rate, patch_rate, patch_steps, targeted_rate, repeat_ones, extra_crops, steps, ramp_epochs, cache, force, quiet, seed):
    """Adversarially fine-tune the character CNN of --country and save it with its model card.

    Fine-tunes --from (default: the shipped undefended model) on freshly generated synthetic crops
    (alpr.char_crops's augmentation) plus random stickers, with ε ramped up over --ramp epochs.
    FGSM-RS is guarded against catastrophic overfitting (PGD accuracy on held-out crops every
    epoch; the best epoch is restored on collapse).

    \b
    Examples:
      alpr harden --country es --method fgsm-rs --eps 32/255 --out data/models/es-hardened.keras
      alpr harden --country de --method pgd --eps 32/255 --epochs 2 --samples 20000 --out /tmp/de-pgd.keras
      alpr harden --country es --method trades --from my_es.keras --out /tmp/es-trades.keras --seed 1
      alpr harden --country de --method pgd --from de-hardened --targeted-rate 1 --repeat-ones 8 --epochs 2 --out /tmp/de-t.keras
    """
    if out.suffix != ".keras":
        raise UserError(f"--out must end in .keras, got {out}")
    check_output_file(out, force=force, option="--out")
    if plot is not None and plot.suffix != ".png":
        raise UserError(f"--plot must end in .png, got {plot}")
    if seed < 0:
        raise UserError(f"--seed must be >= 0, got {seed}")
    if targeted_rate > 0 and method == "trades":
        raise UserError("--targeted-rate needs --method pgd or fgsm-rs")
    import platform

    import numpy as np

    from alpr.tf_import import import_tensorflow

    tf = import_tensorflow()  # before keras, which would import TensorFlow with its start-up banner
    import keras

    from alpr.char_crops import TEST_SEED_OFFSET, policy_for
    from alpr.model import INPUT_SHAPE, CharModel, build_model, describe_architecture, save_model
    from alpr.plates import ALPHABETS
    from dataclasses import asdict

    from defense.report import plot_training
    from defense.sticker_crops import load_crops
    from defense.training import TARGETED_CHAR, HardenConfig, harden, repeat_class

    base = base or country
    scratch = base == "scratch"
    if width != 32 and not scratch:
        raise UserError("--width applies only with --from scratch (a fine-tuned model keeps its architecture)")
    if scratch:
        keras.utils.set_random_seed(seed)  # seeded initial weights
        alphabet = ALPHABETS[country]
        model = CharModel(build_model(len(alphabet), width=width), alphabet, {
            "country": country, "alphabet": alphabet, "input_shape": list(INPUT_SHAPE),
            "architecture": describe_architecture(len(alphabet), width)})
        model.card["parameters"] = int(model.keras_model.count_params())
    else:
        model = load_char_model(base, "--from")
        if model.alphabet != ALPHABETS[country]:
            raise UserError(f"--from {base}: its alphabet {model.alphabet!r} is not the {country} alphabet")
    cfg = HardenConfig(method=method, eps=eps, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                       clean_weight=clean_weight, sticker_rate=sticker_rate, patch_rate=patch_rate, patch_steps=patch_steps,
                       targeted_rate=targeted_rate, pgd_steps=steps, ramp_epochs=ramp_epochs, seed=seed)
    extras = []
    for path in extra_crops:  # read before the data is generated: fail fast
        try:
            extras.append((path, *load_crops(path, model.alphabet, model.input_shape)))
        except ValueError as err:
            raise UserError(f"--extra-crops {err}") from None
    t0 = time.time()
    x, y = _data(country, samples, seed, cache, not quiet)
    if repeat_ones > 1:
        x, y = repeat_class(x, y, model.alphabet.index(TARGETED_CHAR), repeat_ones)
    if extras:
        x = np.concatenate([x, *(e[1] for e in extras)])
        y = np.concatenate([y, *(e[2] for e in extras)])
    x_val, y_val = _data(country, val_samples, seed + TEST_SEED_OFFSET, cache, not quiet)
    t_data = time.time() - t0
    before = _robust(model, x_val, y_val, eps, seed)
    model, hist = harden(model, x, y, x_val, y_val, cfg, progress=not quiet, log=click.echo)
    after = _robust(model, x_val, y_val, eps, seed)
    wall = time.time() - t0
    command_line = shlex.join(["alpr", "harden", "--country", country, "--method", method, "--eps", f"{eps * 255:g}/255",
                               "--epochs", str(epochs), "--samples", str(samples), "--val-samples", str(val_samples),
                               "--from", str(base), "--batch-size", str(batch_size), "--lr", f"{learning_rate:g}",
                               "--clean-weight", f"{clean_weight:g}", "--sticker-rate", f"{sticker_rate:g}",
                               "--patch-rate", f"{patch_rate:g}", "--patch-steps", str(patch_steps),
                               *(["--targeted-rate", f"{targeted_rate:g}"] if targeted_rate > 0 else []),
                               *(["--repeat-ones", str(repeat_ones)] if repeat_ones > 1 else []),
                               *[a for path in extra_crops for a in ("--extra-crops", str(path))],
                               *(["--width", str(width)] if scratch else []), "--steps", str(steps), "--ramp", f"{ramp_epochs:g}", "--seed", str(seed), "--out", str(out)])
    card = {k: model.card[k] for k in ("country", "alphabet", "input_shape", "architecture", "parameters") if k in model.card}
    card.update(
        name=out.stem,
        country=country,
        hardened_from={"model": str(base), "command": model.card.get("command")},
        hardening={
            "method": method, "norm": "inf", "eps": eps, "eps_255": round(eps * 255, 4),
            "epochs_planned": epochs, "epochs_run": len(hist["epoch"]), "fine_tuned": not scratch,
            "description": (("trained from random weights (seed " + str(seed) + ") with " if scratch else
                             f"fine-tuned from the '{base}' model (same architecture) with ")
                            + {"pgd": f"PGD-{steps} adversarial training (Madry et al. 2018), step 2.5 eps/{steps}",
                               "fgsm-rs": "FGSM with uniform random start, step 1.25 eps (Wong et al. 2020)",
                               "trades": "TRADES (Zhang et al. 2019), beta 6, 5 KL-PGD steps"}[method]
                            + f"; loss {clean_weight:g} clean + {1 - clean_weight:g} adversarial CE" * (method != "trades")
                            + f"; eps ramped linearly over {ramp_epochs:g} epoch(s); random stickers on {sticker_rate:.0%} of the samples"
                            + (f"; worst-case stickers ({patch_steps} gradient steps under a random mask) instead of the "
                               f"L∞ example on {patch_rate:.0%} of each batch" if patch_rate > 0 else "")
                            + (f"; on {targeted_rate:.0%} of the batch's '1's an example aimed at a random other digit "
                               "instead of the untargeted one" if targeted_rate > 0 else "")
                            + (f"; each training '1' used {repeat_ones} times per epoch" if repeat_ones > 1 else "")
                            + (f"; {sum(len(e[2]) for e in extras)} extra crops (--extra-crops) in the training set" if extras else "")),
            "config": hist["config"], "history": {k: hist[k] for k in ("epoch", "eps", "loss", "train_clean_acc",
                                                                       "train_adv_acc", "val_clean_acc", "val_pgd_acc", "seconds")},
            "guard": {"initial": hist["initial"], "stopped_early": hist["stopped_early"], "best_epoch": hist["best_epoch"], "restored_epoch": hist["restored_epoch"],
                      "rule": f"PGD-{cfg.guard_steps} accuracy on {min(cfg.guard_samples, val_samples)} held-out crops at full eps; stop and restore the best epoch (0 = starting weights) if it drops more than {cfg.guard_drop:.0%}"},
            "data_seconds": round(t_data, 1), "fit_seconds": hist["fit_seconds"], "wall_seconds": round(wall, 1),
            "machine_note": "2 shared CPU cores (TensorFlow CPU)",
        },
        data={"source": "synthetic only: alpr.char_crops.make_dataset (render_plate + jitter + albumentations photometric chain) + defense.augment stickers",
              "policy": asdict(policy_for(country)), "n_train": int(len(y)), "repeat_ones": repeat_ones,
              "extra_crops": [{"file": str(path), "n": int(len(ye)), "meta": meta} for path, _, ye, meta in extras], "n_val": int(len(y_val)), "train_seed": seed,
              "val_seed": seed + TEST_SEED_OFFSET},
        metrics={"synthetic_val_n": int(len(y_val)),
                 "synthetic_val_clean_accuracy": round(after[0], 5), f"synthetic_val_pgd20_accuracy_eps{eps * 255:g}": round(after[1], 5),
                 "before": {"synthetic_val_clean_accuracy": round(before[0], 5), f"synthetic_val_pgd20_accuracy_eps{eps * 255:g}": round(before[1], 5)},
                 "note": "PGD-20 random start, step 2.5 eps/20, uint8-quantised; full robustness figures: alpr robustness"},
        command=command_line,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        versions={"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()},
    )
    save_model(model, out, card)
    plot_path = plot or out.with_name(out.stem + "-training.png")
    plot_training(hist, plot_path, title=f"{out.stem}: {method} at ε={eps * 255:g}/255")
    click.echo(f"wrote {out}, {out.with_suffix('.json')} and {plot_path}: synthetic clean {before[0]:.2%} -> {after[0]:.2%}, "
               f"PGD-20 at {eps * 255:g}/255 {before[1]:.2%} -> {after[1]:.2%} (n={len(y_val)}; {wall:.0f} s)")
