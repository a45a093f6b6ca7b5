"""``alpr recognize``: read plates on photos or plate crops, as text or JSON lines.

Inputs stream: paths are walked lazily and each image's result is printed (and flushed) as soon
as it is read. The next image is decoded and its plates detected in a background thread while
the current one's plates are read (``alpr.prefetch``): two images at most are in memory, however
many a batch has, and both cores of a small machine stay busy.
"""

import json
import sys
from pathlib import Path

import click

from alpr.cli.common import (
    FractionType,
    UserError,
    echo_line,
    ensure_dir,
    force_option,
    load_recognizer,
    seed_option,
    small_plates_option,
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
@small_plates_option
@force_option
@seed_option
def command(paths, country, model_name, as_json, crop, annotate, min_confidence, small_plates, force, seed):
    """Read the plates on photos (or plate crops with --crop).

    PATH may be image files (any extension) or directories (searched recursively for .jpg,
    .jpeg, .png, .bmp, .tif, .tiff, .webp, .ppm, .pgm, .pnm). Each image gives one line as soon
    as it is read: the plates found, or an error for that file (missing, unreadable, empty,
    truncated, not an image, or too large); the batch goes on. Images above 64,000,000 pixels
    (e.g. 16000x16000) or 512 MiB are refused before decoding (decompression bombs).

    --annotate never replaces an existing file unless --force is given. A --model file is
    loaded in Keras safe mode; Lambda layers and code from outside Keras are refused, and
    its card (FILE.json) must match the network and the pipeline's 32x24x1 input.

    \b
    Exit codes:
      0    every file was read (with or without plates)
      1    at least one file failed (see its "error"); the others were read
      2    bad arguments, unusable --model, --annotate folder that cannot be created
      3    internal error (a bug; ALPR_DEBUG=1 shows the traceback)
      130  interrupted (Ctrl-C); 143 terminated (SIGTERM)

    \b
    Examples:
      alpr recognize data/samples/de_1.jpg
      alpr recognize photos/ --country es --json > plates.jsonl
      alpr recognize crop.jpg --crop --country de
      alpr recognize car.jpg --annotate out/ --model es-hardened
      alpr recognize street/ --country es --small-plates
    """
    from tqdm import tqdm

    from alpr.imageio import iter_image_paths
    from alpr.prefetch import prefetched

    if annotate is not None:
        ensure_dir(annotate, "--annotate")
    from alpr.threads import single_threaded_kernels

    single_threaded_kernels()  # small images: the kernels' own threads cost more CPU than they save
    recognizer = load_recognizer(country, model_name, min_confidence=min_confidence, small_plates=small_plates)
    processed = failures = 0
    names: set[str] = set()  # annotation files written by this run
    progress = tqdm(iter_image_paths(paths), desc="recognize", unit="img", disable=None, file=sys.stderr)
    try:
        for path, prepared in prefetched(progress, lambda p: load_and_detect(recognizer, p, crop=crop)):
            record = recognize_one(recognizer, path, crop=crop, annotate=annotate, force=force, names=names,
                                   prepared=prepared)
            processed += 1
            failures += record["error"] is not None
            with tqdm.external_write_mode(file=sys.stdout):
                echo_line(_format(record, as_json))
    finally:
        progress.close()
    if not processed:
        raise UserError("no images found in the given paths")
    sys.exit(1 if failures else 0)


def load_and_detect(recognizer, path: Path, *, crop: bool = False):
    """The part of reading an image file that runs one image ahead: ``(image, detections)``,
    the decoded image and the plates ``recognizer`` detects on it (None with ``crop``)."""
    from alpr.imageio import load_image

    image = load_image(path)
    return image, None if crop else recognizer.detect(image)


def recognize_one(recognizer, path: Path, *, crop: bool = False, annotate: Path | None = None, force: bool = False,
                  names: set | None = None, prepared=None) -> dict:
    """Read one image file into its JSON record; every failure becomes the record's one-line "error".

    ``prepared``: the future of ``load_and_detect`` for this file, when it ran ahead.
    """
    from alpr.imageio import ImageError, display_name

    record = {"image": str(path), "plates": [], "error": None}
    try:
        out_path = _annotation_path(annotate, path, force, names) if annotate is not None else None
        image, detections = prepared.result() if prepared is not None else load_and_detect(recognizer, path, crop=crop)
        if crop:
            plate = recognizer.read_crop(image)
            found = [plate] if plate is not None else []
        else:
            found = recognizer.read(image, detections=detections)
        record["plates"] = [p.to_dict() for p in found]
        if out_path is not None:
            _annotate(image, found, out_path)
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
