"""``alpr train``: train a character CNN on synthetic plates and save it with its model card."""

import math
import shlex
from dataclasses import replace
from pathlib import Path

import click

from alpr.cli.common import FractionType, UserError, check_output_file, force_option, seed_option


def _font_mix_value(ctx, param, text: str | None) -> dict | None:
    """``--font-mix "fe=0.6,din=0.2"`` -> ``{"fe": 0.6, "din": 0.2}``; the font names are checked
    against the country once it is known."""
    if text is None:
        return None
    mix = {}
    for item in text.split(","):
        name, sep, weight = item.partition("=")
        try:
            value = float(weight)
        except ValueError:
            value = None
        if not sep or not name.strip() or value is None or not (math.isfinite(value) and value >= 0):
            raise click.BadParameter(f"expected FONT=WEIGHT pairs with weights >= 0, e.g. fe=0.6,din=0.2; got {item!r}")
        mix[name.strip()] = value
    return mix


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--country", type=click.Choice(["de", "es", "eu"]), required=True, help="Alphabet to learn (eu = 0-9 A-Z).")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="Output .keras file (model card written beside it as .json).")
@click.option("--epochs", type=click.IntRange(1, 1000), default=12, show_default=True)
@click.option("--samples", type=click.IntRange(10, 10_000_000), default=60_000, show_default=True, help="Synthetic training characters.")
@click.option("--test-samples", type=click.IntRange(1, 1_000_000), default=None, help="Synthetic held-out characters (default: samples/10, at most 5000).")
@click.option("--width", type=click.IntRange(2, 256), default=32, show_default=True, help="Network width (filters of the second conv).")
@click.option("--batch-size", type=click.IntRange(1, 4096), default=128, show_default=True)
@click.option("--lr", "learning_rate", type=FractionType(0, 1, low_inclusive=False), default=3e-3, show_default=True,
              metavar="NUMBER", help="Peak learning rate in (0, 1] (Adam, cosine decay), e.g. 3e-3 or 1/300.")
@click.option("--label-smoothing", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True,
              help="Label smoothing of the cross-entropy in [0, 1), e.g. 0.1. It masks the gradient attacks "
                   "follow (PGD looks weaker), so the shipped models are trained without it.")
@click.option("--cut-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of training crops whose box cuts into the glyph at the top and/or bottom (up to 12 % "
                   "of its height per side), as tight plate crops leave the characters.")
@click.option("--font-mix", metavar="FONT=WEIGHT,...", default=None, callback=_font_mix_value,
              help="Fonts of the training characters, e.g. fe=0.6,din=0.2,es=0.1,dejavu=0.1 (weights "
                   "normalised; fonts left out are not drawn). Default: the country's mix "
                   "(alpr.synth.style.FONT_WEIGHTS). The held-out sets keep that mix, so a run can give the "
                   "rarer fonts more training without changing what it is measured on.")
@click.option("--ema", type=click.FloatRange(0, 1, max_open=True), default=0.0, show_default=True, metavar="MOMENTUM",
              help="Keep an exponential moving average of the weights with this momentum (e.g. 0.999) and "
                   "save it as the model; 0: off. The held-out figures during training are the raw weights'.")
@click.option("--init", metavar="MODEL", default=None,
              help="Start from this model's weights (bundled name or .keras file) instead of random ones: "
                   "fine-tuning on fresh data (give a new --seed, a lower --lr and the model's --width).")
@force_option
@seed_option
@click.option("--quiet", is_flag=True, help="No progress bars.")
def command(country, out, epochs, samples, test_samples, width, batch_size, learning_rate, label_smoothing, cut_rate,
            font_mix, ema, init, force, seed, quiet):
    """Train a character CNN on synthetic plates only (alpr.synth renderer).

    OUT and its card OUT.json are checked before training (folder creatable, no existing file
    unless --force) and written atomically, together, at the end.

    \b
    Examples:
      alpr train --country es --out data/models/es.keras --epochs 12 --samples 60000 --seed 0
      alpr train --country de --init de --out /tmp/de-ft.keras --epochs 2 --samples 240000 --lr 5e-4 --seed 1
      alpr train --country es --init es --out /tmp/es-cut.keras --epochs 2 --samples 240000 --lr 5e-4 --cut-rate 0.1 --seed 2
      alpr train --country de --init de --out /tmp/de-fonts.keras --epochs 2 --samples 480000 --lr 5e-4 --font-mix fe=0.6,es=0.1,din=0.2,dejavu=0.1 --seed 48
    """
    if out.suffix != ".keras":
        raise UserError(f"--out must end in .keras, got {out}")
    check_output_file(out, force=force, option="--out")
    check_output_file(out.with_suffix(".json"), force=force, option="--out")
    from alpr.char_crops import policy_for
    from alpr.model import save_model
    from alpr.synth.style import font_probabilities
    from alpr.training import InitModelError, TrainConfig, train

    if font_mix is not None:
        try:
            font_probabilities(country, font_mix)
        except ValueError as err:
            raise UserError(f"--font-mix: {err}") from None

    if test_samples is None:
        test_samples = min(5000, max(10, samples // 10))
    cfg = TrainConfig(country=country, samples=samples, epochs=epochs, seed=seed, batch_size=batch_size,
                      width=width, learning_rate=learning_rate, test_samples=test_samples,
                      label_smoothing=label_smoothing, init=init, ema=ema, font_mix=font_mix,
                      policy=replace(policy_for(country), cut_rate=cut_rate) if cut_rate else None)
    # the canonical equivalent command (whatever wrapper was used), recorded in the model card
    command_line = shlex.join(["alpr", "train", "--country", country, "--out", str(out), "--epochs", str(epochs),
                               "--samples", str(samples), "--test-samples", str(test_samples), "--width", str(width),
                               "--batch-size", str(batch_size), "--lr", str(learning_rate)]
                              + (["--label-smoothing", str(label_smoothing)] if label_smoothing else [])
                              + (["--cut-rate", str(cut_rate)] if cut_rate else [])
                              + (["--font-mix", ",".join(f"{k}={v:g}" for k, v in font_mix.items())] if font_mix else [])
                              + (["--ema", str(ema)] if ema else [])
                              + (["--init", init] if init else []) + ["--seed", str(seed)])
    try:
        model, card = train(cfg, command=command_line, progress=not quiet, log=click.echo)
    except InitModelError as err:
        raise UserError(str(err)) from None
    save_model(model, out, card)
    click.echo(f"wrote {out} and {out.with_suffix('.json')} "
               f"(synthetic held-out accuracy {card['metrics']['synthetic_heldout_accuracy']:.4%})")
