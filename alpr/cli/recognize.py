"""``alpr recognize``: read plates on photos or plate crops, as text or JSON lines.

Inputs stream: paths are walked lazily and each image's result is printed (and flushed) as soon
as it is read, in input order. A batch of ``AUTO_WORKERS_FROM`` images or more is read by worker
processes, one per CPU (``alpr.workers``: the reading stages are mostly Python, so threads
cannot use a second core for them; on 2 cores 1.3-1.5x the photos per second once started),
with two images per worker in flight. Fewer images, or ``--workers 1``, are read in this
process, where the next image is decoded and its plates detected in a background thread while
the current one's plates are read (``alpr.prefetch``).
"""

import itertools
import json
import sys
from functools import partial
from pathlib import Path

import click

from alpr.cli.common import (
    AUTO_WORKERS_FROM,
    FractionType,
    UserError,
    echo_line,
    ensure_dir,
    force_option,
    load_reading_recognizer,
    reader_pool,
    seed_option,
    small_plates_option,
    worker_count,
    workers_option,
)

COUNTRIES = ["auto", "de", "es", "eu"]


@click.command(name="recognize")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--country", type=click.Choice(COUNTRIES), default="auto", show_default=True,
              help="Plate grammar: German, Spanish, generic EU (0-9 A-Z), or auto (German or Spanish, best fit).")
@click.option("--model", "model_name", default=None, metavar="NAME|FILE",
              help="Character model: de, es, eu, de-hardened, es-hardened or a .keras file (default: the country's own).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image, one per line.")
@click.option("--crop", is_flag=True,
              help="Inputs are plate crops: skip detection (light characters on a dark plate are read too).")
@click.option("--annotate", type=click.Path(path_type=Path), default=None, metavar="DIR",
              help="Write a copy of each image with plate outlines and text drawn on it into DIR (NAME.jpg).")
@click.option("--min-confidence", type=FractionType(0, 1), default=0.5, show_default=True, metavar="0..1",
              help="Drop plates read with lower confidence (photo mode).")
@workers_option
@small_plates_option
@force_option
@seed_option
def command(paths, country, model_name, as_json, crop, annotate, min_confidence, workers, small_plates, force, seed):
    """Read the plates on photos (or plate crops with --crop).

    PATH may be image files (any extension) or directories (searched recursively for .jpg,
    .jpeg, .png, .bmp, .tif, .tiff, .webp, .ppm, .pgm, .pnm). Each image gives one line as soon
    as it is read: the plates found, or an error for that file (missing, unreadable, empty,
    truncated, not an image, or too large); the batch goes on. Images above 64,000,000 pixels
    (e.g. 16000x16000) or 512 MiB are refused before decoding (decompression bombs).

    Plates are found in photos of a tilted camera too (up to about 35 degrees): a photo in
    which no plate is found level is searched again turned 25 degrees each way, so a photo with
    no plate takes about three times as long to detect.

    A plate cut out of a photo can be given without --crop: a photo that its plate fills (a
    plate found across half its width and a third of its height, or nothing found in an image
    shaped like a plate) is also read whole, as --crop reads it, and that reading is kept when
    it is at least as sure. --crop is still the faster and surer way for a folder of crops.

    --annotate never replaces an existing file unless --force is given. A --model file is
    loaded in Keras safe mode; Lambda layers and code from outside Keras are refused, and
    its card (FILE.json) must match the network and the pipeline's 32x24x1 input.

    \b
    Exit codes:
      0    every file was read (with or without plates)
      1    at least one file failed (see its "error"); the others were read
      2    bad arguments, unusable --model, --annotate folder that cannot be created,
           a worker process that died
      3    internal error (a bug; ALPR_DEBUG=1 shows the traceback)
      130  interrupted (Ctrl-C); 143 terminated (SIGTERM)

    \b
    Examples:
      alpr recognize data/samples/de_1.jpg
      alpr recognize photos/ --country es --json > plates.jsonl
      alpr recognize crop.jpg --crop --country de
      alpr recognize car.jpg --annotate out/ --model es-hardened
      alpr recognize street/ --country es --small-plates
      alpr recognize photos/ --workers 1      # read in this process only
    """
    from tqdm import tqdm

    from alpr.imageio import iter_image_paths

    if annotate is not None:
        ensure_dir(annotate, "--annotate")
    head, rest = _peek(iter_image_paths(paths), AUTO_WORKERS_FROM if workers == "auto" else 1)
    if not head:
        raise UserError("no images found in the given paths")
    names: set[str] = set()  # annotation files written by this run
    progress = tqdm(itertools.chain(head, rest), desc="recognize", unit="img", disable=None, file=sys.stderr)
    jobs = ((path, _planned_annotation(annotate, path, force, names)) for path in progress)
    recognizer_kwargs = dict(country=country, model=model_name, min_confidence=min_confidence, small_plates=small_plates)
    failures = 0
    try:
        for record in _records(jobs, crop, worker_count(workers, len(head)), recognizer_kwargs):
            failures += record["error"] is not None
            with tqdm.external_write_mode(file=sys.stdout):
                echo_line(_format(record, as_json))
    finally:
        progress.close()
    sys.exit(1 if failures else 0)


def _peek(items, n: int) -> tuple[list, object]:
    """The first ``n`` items of an iterator as a list, and an iterator over the rest."""
    items = iter(items)
    return list(itertools.islice(items, n)), items


def _records(jobs, crop: bool, workers: int, recognizer_kwargs: dict):
    """The JSON record of each ``(path, annotation)`` job, in order: read in this process
    (``workers`` 1; the next image decoded and detected ahead in a thread) or by worker processes.
    ``annotation`` is the output path, an ``ImageError`` for this input, or None."""
    if workers == 1:
        from alpr.prefetch import prefetched

        kwargs = dict(recognizer_kwargs)
        recognizer = load_reading_recognizer(kwargs.pop("country"), kwargs.pop("model"), **kwargs)
        for (path, annotation), prepared in prefetched(jobs, lambda job: _prepare(recognizer, job[0], job[1], crop)):
            yield recognize_one(recognizer, path, crop=crop, annotation=annotation, prepared=prepared)
        return
    with reader_pool(workers, **recognizer_kwargs) as pool:
        for _, job in pool.map(partial(_worker_record, crop=crop), jobs):
            yield job.result()


def _worker_record(recognizer, job, *, crop: bool) -> dict:
    """``recognize_one`` of a ``(path, annotation)`` job: the task a worker process runs."""
    path, annotation = job
    return recognize_one(recognizer, path, crop=crop, annotation=annotation)


def _planned_annotation(folder: Path | None, path: Path, force: bool, names: set):
    """Where ``--annotate`` writes ``path``'s drawing (None without it), or the ``ImageError``
    that keeps it from being written (named here, in input order, so that names stay unique)."""
    from alpr.imageio import ImageError

    if folder is None:
        return None
    try:
        return _annotation_path(folder, path, force, names)
    except ImageError as err:
        return err


def _prepare(recognizer, path: Path, annotation, crop: bool):
    """``load_and_detect`` of a job whose annotation can be written (else nothing to do)."""
    return None if isinstance(annotation, Exception) else load_and_detect(recognizer, path, crop=crop)


def load_and_detect(recognizer, path: Path, *, crop: bool = False):
    """The part of reading an image file that runs one image ahead: ``(image, detections)``,
    the decoded image and the plates ``recognizer`` detects on it (None with ``crop``)."""
    from alpr.imageio import load_image

    image = load_image(path)
    return image, None if crop else recognizer.detect(image)


def recognize_one(recognizer, path: Path, *, crop: bool = False, annotation=None, prepared=None) -> dict:
    """Read one image file into its JSON record; every failure becomes the record's one-line "error".

    ``annotation``: the path to draw the plates into, or the ``ImageError`` that forbids it
    (this input's error), or None. ``prepared``: the future of ``load_and_detect`` for this
    file, when it ran ahead.
    """
    from alpr.imageio import ImageError, display_name

    record = {"image": str(path), "plates": [], "error": None}
    try:
        if isinstance(annotation, Exception):
            raise annotation
        image, detections = prepared.result() if prepared is not None else load_and_detect(recognizer, path, crop=crop)
        if crop:
            plate = recognizer.read_crop(image)
            found = [plate] if plate is not None else []
        else:
            found = recognizer.read(image, detections=detections)
        record["plates"] = [p.to_dict() for p in found]
        if annotation is not None:
            _annotate(image, found, annotation)
    except ImageError as err:
        record["error"] = str(err)
    except MemoryError:
        record["error"] = f"{display_name(path)}: out of memory"
    except Exception as err:  # one bad file must not stop the batch
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        record["error"] = f"{display_name(path)}: {type(err).__name__}: {message}".rstrip(": ")
    return record


def _annotation_path(folder: Path, path: Path, force: bool, names: set | None) -> Path:
    """``folder/STEM.jpg``; a second input with the same stem in this run gets ``STEM-2.jpg`` etc.;
    an existing file from an earlier run is an error for this input unless ``force``."""
    from alpr.imageio import ImageError, display_name

    names = set() if names is None else names
    stem, n = path.stem or "image", 1
    name = f"{stem}.jpg"
    while name in names:
        n += 1
        name = f"{stem}-{n}.jpg"
    names.add(name)
    out = folder / name
    if out.exists() and not force:
        raise ImageError(f"{display_name(out)}: annotation exists; pass --force to overwrite")
    return out


def _format(record: dict, as_json: bool) -> str:
    from alpr.imageio import display_name

    if as_json:
        return json.dumps(record, ensure_ascii=False)
    name = display_name(record["image"])
    if record["error"]:
        return f"{name}: error: {record['error']}"
    if not record["plates"]:
        return f"{name}: no plate found"
    readings = ", ".join(f"{p['formatted']} ({p['country']}, {p['confidence']:.2f})" for p in record["plates"])
    return f"{name}: {readings}"


def _annotate(image, found, out_path: Path) -> None:
    from alpr.draw import draw_plates
    from alpr.imageio import save_image

    save_image(out_path, draw_plates(image, found))
