"""Scoring the recogniser on labelled datasets in three formats (see ../shared/datasets/README.md):

- ``openalpr``: ``NAME.jpg`` + ``NAME.txt`` lines ``FILE<TAB>x<TAB>y<TAB>w<TAB>h<TAB>TEXT``.
- ``yolo-plates``: ``images/*.jpg`` + ``labels/*.txt`` lines ``0 cx cy w h`` (normalised plate boxes).
- ``yolo-chars``: ``images/*.jpg`` plate crops + ``labels/*.txt`` lines ``CLASS cx cy w h`` (0-9, 10-35 = A-Z),
  the crop's name encoding the plate text with ``-`` for a hidden character (``00001_AN-074-C-V``).

On photos two stages are scored separately at IoU >= 0.5: the *detection* figures
(``detection_recall``, ``detection_precision``) are those of the quads the recogniser's detector
returns for the photo (``Recognizer.detect``, exactly what ``Recognizer.read`` then reads); the
*read* figures (``read_recall``, ``read_precision``) are those of the plates actually read
(``Recognizer.read`` drops candidates it cannot read). Plate exact-match and character accuracy
are end to end (the text of the read plate matched to each label). Plus images/s.
"""

import re
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from PIL import Image

from alpr._geometry import box_iou as iou
from alpr._geometry import quad_bbox as quad_box
from alpr.imageio import ImageError, load_image
from alpr.plates import DIGITS, LATIN, normalize

FORMATS = ("openalpr", "yolo-plates", "yolo-chars")
IOU_THRESHOLD = 0.5
_YOLO_CLASSES = DIGITS + LATIN


@dataclass
class Sample:
    """One labelled image: plate boxes (x, y, w, h), plate texts (``None`` if unknown), character
    boxes with their characters, and for crops the text pattern (regex) from the file name."""

    path: Path
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    texts: list[str | None] = field(default_factory=list)
    char_boxes: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)
    pattern: re.Pattern | None = None


def load_dataset(root: str | Path, fmt: str) -> list[Sample]:
    """Read a dataset folder in one of ``FORMATS``; raises ``ValueError`` with a one-line message."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"{root}: not a directory")
    if fmt == "openalpr":
        samples = _load_openalpr(root)
    elif fmt in ("yolo-plates", "yolo-chars"):
        samples = _load_yolo(root, chars=fmt == "yolo-chars")
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if not samples:
        raise ValueError(f"{root}: no labelled images found for format {fmt}")
    return samples


def _load_openalpr(root: Path) -> list[Sample]:
    samples = []
    for label in sorted(root.glob("*.txt")):
        lines = [ln.split("\t") for ln in label.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
        lines = [ln for ln in lines if len(ln) >= 6]
        if not lines:
            continue
        image = root / lines[0][0]
        if not image.exists():
            image = label.with_suffix(".jpg")
        sample = Sample(image)
        for parts in lines:
            sample.boxes.append(tuple(float(v) for v in parts[1:5]))
            sample.texts.append(normalize(parts[5]))
        samples.append(sample)
    return samples


def _load_yolo(root: Path, *, chars: bool) -> list[Sample]:
    samples = []
    for image in sorted((root / "images").glob("*.jpg")):
        label = root / "labels" / (image.stem + ".txt")
        if not label.exists():
            continue
        h, w = _image_size(image)
        sample = Sample(image)
        for line in label.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5:
                continue
            cls, cx, cy, bw, bh = int(parts[0]), *(float(v) for v in parts[1:])
            box = ((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h)
            if chars:
                sample.char_boxes.append((_YOLO_CLASSES[cls], box))
            else:
                sample.boxes.append(box)
                sample.texts.append(None)
        if chars:
            sample.pattern = pattern_from_name(image.stem)
        samples.append(sample)
    return samples


def _image_size(path: Path) -> tuple[int, int]:
    """(height, width) from the image header."""
    with Image.open(path) as im:
        return im.size[1], im.size[0]


def pattern_from_name(stem: str) -> re.Pattern | None:
    """``00001_AN-074-C-V`` -> regex for "074?C?V" where each hidden ``-`` is any one character or none."""
    match = re.match(r"^\d+_[A-Z]{2}-(.+)$", stem)
    return masked_pattern(match.group(1)) if match else None


def masked_pattern(masked: str) -> re.Pattern:
    """``074-C-V`` -> regex for "074?C?V": each hidden character (``-``) may be read as any one
    character or none, the rule by which crops' readings are scored."""
    return re.compile("".join("[0-9A-ZÄÖÜ]?" if c == "-" else re.escape(c) for c in masked))


def _match(truth, predicted) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of boxes at IoU >= 0.5, best pairs first."""
    pairs = sorted(
        ((iou(t, p), i, j) for i, t in enumerate(truth) for j, p in enumerate(predicted)), reverse=True
    )
    used_t, used_p, out = set(), set(), []
    for score, i, j in pairs:
        if score < IOU_THRESHOLD:
            break
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            out.append((i, j))
    return out


def _char_errors(truth: str, predicted: str) -> int:
    """Levenshtein distance between two strings."""
    prev = list(range(len(predicted) + 1))
    for i, a in enumerate(truth, 1):
        cur = [i]
        for j, b in enumerate(predicted, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1]


def evaluate(recognizer, samples: list[Sample], fmt: str, *, progress=None, pool=None) -> dict:
    """Run ``recognizer`` over ``samples`` and return the figures (and per-image records).

    ``pool``: an ``alpr.workers.ReaderPool`` whose workers read the images instead (their
    Recognizer stands in for ``recognizer``, which may then be None); the figures are the same.
    ``images_per_second`` is always from each image's own reading time (one process's rate).
    """
    tally = dict(truth=0, predicted=0, matched=0, detected=0, detected_matched=0, exact=0, texts=0, chars=0, char_errors=0,
                 crop_chars=0, crop_chars_ok=0, patterns=0, pattern_ok=0, failed=0)
    records, seconds = [], 0.0
    items = progress(samples) if progress else samples
    if pool is None:
        outcomes = ((sample, read_sample(recognizer, sample, fmt=fmt)) for sample in items)
    else:
        outcomes = ((sample, job.result()) for sample, job in pool.map(partial(read_sample, fmt=fmt), items))
    try:
        for sample, outcome in outcomes:
            if "error" in outcome:
                tally["failed"] += 1
                records.append({"image": str(sample.path), "error": outcome["error"]})
                continue
            seconds += outcome["seconds"]
            found, detections = outcome["found"], outcome["detections"]
            record = {"image": str(sample.path), "read": [p.text for p in found]}
            if fmt == "yolo-chars":
                _score_crop(sample, found[0] if found else None, tally, record)
            else:
                _score_photo(sample, found, detections, tally, record)
            records.append(record)
    finally:
        if hasattr(items, "close"):  # a progress bar: ended before an error is printed
            items.close()
    n = len(samples) - tally["failed"]
    return _summary(tally, n, seconds, fmt) | {"records": records}


def read_sample(recognizer, sample: Sample, *, fmt: str) -> dict:
    """Load and read one sample's image: ``{"error": one line}`` or ``{"found": plates read,
    "detections": the detector's candidates (None for crops or a reader without a detection
    stage), "seconds": reading time}``."""
    try:
        image = load_image(sample.path)
    except ImageError as err:
        return {"error": str(err)}
    start = time.perf_counter()
    try:
        detections = None
        if fmt == "yolo-chars":
            plate = recognizer.read_crop(image)
            found = [plate] if plate is not None else []
        elif hasattr(recognizer, "detect"):
            detections = recognizer.detect(image)
            found = recognizer.read(image, detections=detections)
        else:  # a reader without a separate detection stage: its plates are its detections
            found = recognizer.read(image)
    except Exception as err:  # one failing image is reported, not fatal to the run
        return {"error": f"{type(err).__name__}: {err}".splitlines()[0]}
    return {"found": found, "detections": detections, "seconds": time.perf_counter() - start}


def _score_photo(sample: Sample, found, detections, tally: dict, record: dict) -> None:
    """Detection figures from ``detections`` (or the read plates when None), read figures and
    texts from the read plates ``found``."""
    predicted = [quad_box(p.quad) for p in found]
    pairs = _match(sample.boxes, predicted)
    detected = predicted if detections is None else [quad_box(d.quad) for d in detections]
    tally["truth"] += len(sample.boxes)
    tally["detected"] += len(detected)
    tally["detected_matched"] += len(_match(sample.boxes, detected))
    tally["predicted"] += len(predicted)
    tally["matched"] += len(pairs)
    record["detected"] = [[round(float(v), 1) for v in box] for box in detected]
    for i, text in enumerate(sample.texts):
        if text is None:
            continue
        tally["texts"] += 1
        tally["chars"] += len(text)
        read = next((found[j].text for ti, j in pairs if ti == i), "")
        tally["exact"] += read == text
        tally["char_errors"] += min(len(text), _char_errors(text, read))
        record.setdefault("truth", []).append(text)


def _score_crop(sample: Sample, plate, tally: dict, record: dict) -> None:
    text = plate.text if plate is not None else ""
    if sample.pattern is not None:
        tally["patterns"] += 1
        ok = bool(sample.pattern.fullmatch(text))
        tally["pattern_ok"] += ok
        record["pattern_ok"] = ok
    predicted = [c.box for c in plate.chars] if plate is not None else []
    truth = [box for _, box in sample.char_boxes]
    pairs = dict(_match(truth, predicted))
    tally["truth"] += len(truth)
    tally["matched"] += len(pairs)
    tally["predicted"] += len(predicted)
    for i, (char, _) in enumerate(sample.char_boxes):
        tally["crop_chars"] += 1
        if i in pairs and plate.chars[pairs[i]].char == char:
            tally["crop_chars_ok"] += 1


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _summary(t: dict, n: int, seconds: float, fmt: str) -> dict:
    out = {"format": fmt, "images": n, "failed": t["failed"], "images_per_second": round(n / seconds, 2) if seconds else None}
    if fmt == "yolo-chars":
        out |= {
            "char_box_recall": _ratio(t["matched"], t["truth"]),
            "char_box_precision": _ratio(t["matched"], t["predicted"]),
            "char_accuracy": _ratio(t["crop_chars_ok"], t["crop_chars"]),
            "plate_pattern_match": _ratio(t["pattern_ok"], t["patterns"]),
        }
    else:
        out |= {
            "detection_recall": _ratio(t["detected_matched"], t["truth"]),
            "detection_precision": _ratio(t["detected_matched"], t["detected"]),
            "read_recall": _ratio(t["matched"], t["truth"]),
            "read_precision": _ratio(t["matched"], t["predicted"]),
            "plates": t["truth"],
        }
        if t["texts"]:
            out |= {
                "plate_exact_match": _ratio(t["exact"], t["texts"]),
                "char_accuracy": _ratio(t["chars"] - t["char_errors"], t["chars"]),
            }
    return out
