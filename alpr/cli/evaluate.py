"""``alpr evaluate``: detection precision/recall, character accuracy, exact plates and speed on a dataset."""

import json
import sys

import click

from alpr.cli.common import UserError, load_recognizer, seed_option

FORMAT_HELP = (
    "openalpr: NAME.jpg + NAME.txt (FILE x y w h TEXT); yolo-plates: images/ + labels/ with plate boxes; "
    "yolo-chars: images/ plate crops + labels/ with character boxes, text pattern in the file name."
)


@click.command(name="evaluate")
@click.argument("dataset", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["openalpr", "yolo-plates", "yolo-chars"]), required=True, help=FORMAT_HELP)
@click.option("--country", type=click.Choice(["auto", "de", "es", "eu"]), default="auto", show_default=True,
              help="Plate grammar used to read the plates.")
@click.option("--model", "model_name", default=None, metavar="NAME|FILE", help="Character model (default: the country's own).")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@click.option("--records", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write per-image results (JSON lines) to this file.")
@seed_option
def command(dataset, fmt, country, model_name, as_json, records, seed):
    """Score the recogniser on a labelled dataset.

    Detection counts a plate as found when its box overlaps the label at IoU >= 0.5. Plate
    crops (yolo-chars) are read with detection skipped; their text must match the file-name
    pattern, where a hidden character ("-") may be any one character or none.

    \b
    Examples:
      alpr evaluate ../shared/datasets/openalpr-eu --format openalpr --country eu
      alpr evaluate ../shared/datasets/uc3m-lp/plates --format yolo-plates --country es
      alpr evaluate ../shared/datasets/uc3m-lp/chars --format yolo-chars --country es --json
    """
    from tqdm import tqdm

    from alpr import atomic
    from alpr.evaluation import evaluate, load_dataset

    try:
        samples = load_dataset(dataset, fmt)
    except ValueError as err:
        raise UserError(str(err)) from None
    recognizer = load_recognizer(country, model_name)
    try:
        result = evaluate(recognizer, samples, fmt, progress=lambda s: tqdm(s, desc="evaluate", unit="img", file=sys.stderr))
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    per_image = result.pop("records")
    if records:
        atomic.write_text(records, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in per_image))
    if as_json:
        click.echo(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            click.echo(f"{key:<{width}}  {value}")
