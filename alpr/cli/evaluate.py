"""``alpr evaluate``: detection and read precision/recall, character accuracy, exact plates and speed on a dataset."""

import json
import sys
from functools import partial
from pathlib import Path

import click

from alpr.cli.common import (
    UserError,
    check_output_file,
    force_option,
    load_reading_recognizer,
    reader_pool,
    seed_option,
    small_plates_option,
    worker_count,
    workers_option,
)

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
@click.option("--records", type=click.Path(path_type=Path), default=None, metavar="FILE",
              help="Also write per-image results (JSON lines) to this file (written atomically at the end).")
@workers_option
@small_plates_option
@force_option
@seed_option
def command(dataset, fmt, country, model_name, as_json, records, workers, small_plates, force, seed):
    """Score the recogniser on a labelled dataset.

    On photos (openalpr, yolo-plates) a plate counts as found when a box overlaps its label at
    IoU >= 0.5, for two stages: detection_recall / detection_precision score the quads the
    detector returns (the candidates the reader then reads); read_recall / read_precision score
    the plates actually read (unreadable candidates, e.g. tiny plates, are dropped).
    plate_exact_match and char_accuracy are end to end (labels with a text only). Plate
    crops (yolo-chars) are read with detection skipped; their text must match the file-name
    pattern, where a hidden character ("-") may be any one character or none. An image that
    cannot be read counts as failed (see --records) and the run goes on. --records never
    replaces an existing file unless --force is given. A dataset of 100 images or more is read
    by worker processes, one per CPU (--workers); the figures are the same, and
    images_per_second is always from each image's own reading time (one process's rate).
    Exit code 0 on success, 2 on bad arguments, an unreadable dataset or a worker that died,
    130 when interrupted.

    \b
    Examples:
      alpr evaluate ../shared/datasets/openalpr-eu --format openalpr --country eu
      alpr evaluate ../shared/datasets/uc3m-lp/plates --format yolo-plates --country es
      alpr evaluate ../shared/datasets/uc3m-lp/plates --format yolo-plates --country es --small-plates
      alpr evaluate ../shared/datasets/uc3m-lp/chars --format yolo-chars --country es --json
    """
    from tqdm import tqdm

    from alpr import atomic
    from alpr.evaluation import evaluate, load_dataset

    if records is not None:
        check_output_file(records, force=force, option="--records")
    try:
        samples = load_dataset(dataset, fmt)
    except (ValueError, OSError, IndexError, UnicodeDecodeError) as err:  # bad labels, unreadable files
        message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserError(f"{dataset}: cannot read the {fmt} dataset ({message})") from None
    progress = partial(tqdm, desc="evaluate", unit="img", file=sys.stderr)
    processes = worker_count(workers, len(samples))
    if processes > 1:
        with reader_pool(processes, country=country, model=model_name, small_plates=small_plates) as pool:
            result = evaluate(None, samples, fmt, progress=progress, pool=pool)
    else:
        recognizer = load_reading_recognizer(country, model_name, small_plates=small_plates)
        result = evaluate(recognizer, samples, fmt, progress=progress)
    per_image = result.pop("records")
    if records:
        atomic.write_text(records, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in per_image))
    if as_json:
        click.echo(json.dumps(result))
    else:
        width = max(len(k) for k in result)
        for key, value in result.items():
            click.echo(f"{key:<{width}}  {value}")
