"""``alpr recognize``: read plates on photos or plate crops, as text or JSON lines."""

import json
import sys
from pathlib import Path

import click

from alpr.cli.common import UserError, load_recognizer, seed_option

COUNTRIES = ["auto", "de", "es", "eu"]


@click.command(name="recognize")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--country", type=click.Choice(COUNTRIES), default="auto", show_default=True,
              help="Plate grammar: German, Spanish, generic EU (0-9 A-Z), or auto (German or Spanish, best fit).")
@click.option("--model", "model_name", default=None, metavar="NAME|FILE",
              help="Character model: de, es, eu, de-hardened, es-hardened or a .keras file (default: the country's own).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image, one per line.")
@click.option("--crop", is_flag=True, help="Inputs are plate crops: skip detection.")
@click.option("--annotate", type=click.Path(file_okay=False, path_type=Path), default=None, metavar="DIR",
              help="Write a copy of each image with plate outlines and text drawn on it into DIR.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Drop plates read with lower confidence (photo mode).")
@seed_option
def command(paths, country, model_name, as_json, crop, annotate, min_confidence, seed):
    """Read the plates on photos (or plate crops with --crop).

    PATH may be image files or directories (searched recursively). Each image gives one line:
    the plates found, or an error for that file; the batch goes on. Exit code 0 when every file
    was read, 1 when any file failed, 2 on bad arguments.

    \b
    Examples:
      alpr recognize data/samples/de_1.jpg
      alpr recognize photos/ --country es --json > plates.jsonl
      alpr recognize crop.jpg --crop --country de
      alpr recognize car.jpg --annotate out/ --model es-hardened
    """
    from tqdm import tqdm

    from alpr.imageio import ImageError, iter_image_paths, load_image

    recognizer = load_recognizer(country, model_name, min_confidence=min_confidence)
    files = list(iter_image_paths(paths))
    if not files:
        raise UserError("no images found in the given paths")
    failures = 0
    progress = tqdm(files, desc="recognize", unit="img", disable=len(files) < 2 or None, file=sys.stderr)
    try:
        for path in progress:
            record = {"image": str(path), "plates": [], "error": None}
            try:
                image = load_image(path)
                if crop:
                    plate = recognizer.read_crop(image)
                    found = [plate] if plate is not None else []
                else:
                    found = recognizer.read(image)
                record["plates"] = [p.to_dict() for p in found]
                if annotate is not None:
                    _annotate(image, found, annotate / (path.stem + ".jpg"))
            except ImageError as err:
                record["error"] = str(err)
            except Exception as err:  # one bad file must not stop the batch
                record["error"] = f"{path}: {type(err).__name__}: {err}".splitlines()[0]
            failures += record["error"] is not None
            progress.write(_format(record, as_json), file=sys.stdout)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    sys.exit(1 if failures else 0)


def _format(record: dict, as_json: bool) -> str:
    if as_json:
        return json.dumps(record, ensure_ascii=False)
    if record["error"]:
        return f"{record['image']}: error: {record['error']}"
    if not record["plates"]:
        return f"{record['image']}: no plate found"
    readings = ", ".join(f"{p['formatted']} ({p['country']}, {p['confidence']:.2f})" for p in record["plates"])
    return f"{record['image']}: {readings}"


def _annotate(image, found, out_path: Path) -> None:
    from alpr.draw import draw_plates
    from alpr.imageio import save_image

    save_image(out_path, draw_plates(image, found))
