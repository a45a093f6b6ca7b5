"""Measure plate detection and character segmentation on a labelled folder of real photos.

Examples:
    python scripts/eval_detect_segment.py /work/shared/datasets/openalpr-eu --format openalpr
    python scripts/eval_detect_segment.py /work/shared/datasets/uc3m-lp/plates --format yolo-plates
    python scripts/eval_detect_segment.py /work/shared/datasets/uc3m-lp/plates --format yolo-plates --unmatched-sheet /tmp/unmatched.png
    python scripts/eval_detect_segment.py /work/shared/datasets/uc3m-lp/chars --format yolo-chars
    python scripts/eval_detect_segment.py /work/shared/datasets/de-samples --format de-samples

Detection: a labelled plate counts as found when the bounding box of a returned quad has
IoU >= 0.5 with its label box; precision is over all returned detections. Recall is also given
by plate width (scaled to a 320 px wide photo: < 12, 12-30, >= 30 px) with the median ratio of
the matched boxes' height to the label's. Segmentation: box
recall/precision at IoU >= 0.5 against the per-character labels (anonymised characters have no
label, so boxes on them count as false positives only if they match no label), and the share of
crops where every labelled character is found.

Detections that match no label are counted as near misses (best IoU with a label in (0.1, 0.5):
the plate found but boxed too loosely or too tightly) or far (IoU <= 0.1: clutter, or a plate the
dataset does not label); ``--unmatched-sheet PNG`` draws each in its context to tell which.
"""

import argparse
import sys
import time
import unicodedata
from pathlib import Path

import cv2
import numpy as np

from alpr import detect, plate_net, segment
from alpr._geometry import box_iou, quad_bbox
from alpr.evaluation import load_dataset
from alpr.imageio import save_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
#: "Large" plates (the detector's design range): at least this fraction of the photo's width,
#: i.e. >= 60 px on a 640 px wide photo.
LARGE = 60 / 640


#: An unmatched detection whose best IoU with a label exceeds this is a near miss, not clutter.
NEAR_MISS_IOU = 0.1
#: Size of one context tile of the unmatched-detection sheet, and tiles per row.
TILE = (320, 160)
TILES_PER_ROW = 4

#: Plate-width classes (pixels at 320 px photo width) for recall by size.
SIZES = tuple(f"{k}px" for k in plate_net.SIZE_CLASSES)


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _read(path: Path) -> np.ndarray:
    image = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"{path}: cannot read image")
    return image


def _match(truth, found, threshold=0.5) -> tuple[int, int]:
    """(labels matched by some found box, found boxes matching some label)."""
    hits = sum(1 for t in truth if any(box_iou(t, f) >= threshold for f in found))
    good = sum(1 for f in found if any(box_iou(t, f) >= threshold for t in truth))
    return hits, good


def eval_detection(pairs, *, min_score: float | None, small_plates: bool = False, unmatched: list | None = None) -> dict:
    """Detection recall/precision over (image path, label boxes) pairs, and ms per photo.

    ``unmatched``, when given, receives (path, box, score, best IoU with a label) for every
    detection matching no label."""
    kwargs = {"small_plates": small_plates}
    if min_score is not None:  # None: the detector's own default
        kwargs["min_score"] = min_score
    labels = hits = returned = good = top_good = top_n = large_labels = large_hits = 0
    seconds = cpu = 0.0
    by_size = {k: [0, 0] for k in SIZES}
    ratios = []
    near = far = 0
    for path, truth in pairs:
        image = _read(path)
        start, start_cpu = time.perf_counter(), time.process_time()
        detections = detect.detect(image, **kwargs)
        seconds += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        found = [quad_bbox(d.quad) for d in detections]
        for box, det in zip(found, detections):
            best_iou = max((box_iou(t, box) for t in truth), default=0.0)
            if best_iou < 0.5:
                near, far = near + (best_iou > NEAR_MISS_IOU), far + (best_iou <= NEAR_MISS_IOU)
                if unmatched is not None:
                    unmatched.append((path, box, det.score, best_iou))
        if found:
            top_n += 1
            top_good += _match(truth, found[:1])[1]
        h, g = _match(truth, found)
        labels, hits, returned, good = labels + len(truth), hits + h, returned + len(found), good + g
        for t in truth:
            key = f"{plate_net.size_class(t[2] * plate_net.WORK_WIDTH / image.shape[1])}px"
            best = max(found, key=lambda f: box_iou(t, f), default=None)
            hit = best is not None and box_iou(t, best) >= 0.5
            by_size[key][0] += hit
            by_size[key][1] += 1
            if hit:
                ratios.append(best[3] / t[3])
        large = [t for t in truth if t[2] >= LARGE * image.shape[1]]
        large_labels += len(large)
        large_hits += _match(large, found)[0]
    n = max(1, len(pairs))
    return {
        "photos": len(pairs),
        "plates": labels,
        "recall": hits / max(1, labels),
        "precision": good / max(1, returned),
        "plates_large": large_labels,
        "recall_large": large_hits / max(1, large_labels),
        **{f"recall_{k}": by_size[k][0] / max(1, by_size[k][1]) for k in SIZES},
        **{f"plates_{k}": by_size[k][1] for k in SIZES},
        "height_ratio_median": float(np.median(ratios)) if ratios else float("nan"),
        "detections": returned,
        "unmatched_near_misses": near,
        "unmatched_far": far,
        "top1_precision": top_good / max(1, top_n),
        "ms_per_photo": 1000 * seconds / n,
        "cpu_ms_per_photo": 1000 * cpu / n,
    }


def unmatched_sheet(unmatched) -> np.ndarray:
    """A BGR contact sheet of unmatched detections, each boxed in green in three times its width
    of context and labelled with its index, photo, score and best IoU with a label."""
    tiles = []
    for k, (path, (x, y, w, h), score, iou) in enumerate(unmatched):
        image = _read(path)
        half_w = max(1.5 * w, 36.0)
        cx, cy = x + w / 2, y + h / 2
        x0, y0 = int(max(0, cx - half_w)), int(max(0, cy - half_w / 2))
        x1, y1 = int(min(image.shape[1], cx + half_w)), int(min(image.shape[0], cy + half_w / 2))
        tile = cv2.resize(image[y0:y1, x0:x1], TILE, interpolation=cv2.INTER_CUBIC)
        sx, sy = TILE[0] / max(1, x1 - x0), TILE[1] / max(1, y1 - y0)
        cv2.rectangle(tile, (int((x - x0) * sx), int((y - y0) * sy)), (int((x + w - x0) * sx), int((y + h - y0) * sy)),
                      (0, 255, 0), 1)
        cv2.rectangle(tile, (0, 0), (TILE[0], 18), (0, 0, 0), -1)  # a dark strip keeps the label legible
        cv2.putText(tile, f"#{k} {path.stem} {score:.2f} IoU {iou:.2f}", (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                    (0, 255, 255), 1, cv2.LINE_AA)
        tiles.append(tile)
    blank = np.zeros((TILE[1], TILE[0], 3), np.uint8)
    tiles = tiles or [blank]
    tiles += [blank] * (-len(tiles) % TILES_PER_ROW)
    return np.vstack([np.hstack(tiles[i:i + TILES_PER_ROW]) for i in range(0, len(tiles), TILES_PER_ROW)])


def eval_chars(samples) -> dict:
    """Segmentation box recall/precision and all-found share on YOLO per-character labels
    (``alpr.evaluation.load_dataset(..., "yolo-chars")`` samples)."""
    labels = hits = returned = good = all_found = 0
    seconds = cpu = 0.0
    for sample in samples:
        image = _read(sample.path)
        truth = [box for _, box in sample.char_boxes]
        start, start_cpu = time.perf_counter(), time.process_time()
        found = [tuple(b) for b in segment.segment(image).boxes.tolist()]
        seconds += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        h, g = _match(truth, found)
        labels, hits, returned, good = labels + len(truth), hits + h, returned + len(found), good + g
        all_found += h == len(truth)
    return {
        "crops": len(samples),
        "chars": labels,
        "box_recall": hits / max(1, labels),
        "box_precision": good / max(1, returned),
        "all_found": all_found / max(1, len(samples)),
        "ms_per_crop": 1000 * seconds / max(1, len(samples)),
        "cpu_ms_per_crop": 1000 * cpu / max(1, len(samples)),
    }


def eval_de_samples(folder: Path) -> dict:
    """The German samples: crops must give exactly the file name's characters with the gap after
    the district; every car photo must yield a detection."""
    crops, photos = {}, {}
    for path in _images(folder):
        name = unicodedata.normalize("NFC", path.stem)
        if name.startswith("images"):
            dets = detect.detect(_read(path))
            photos[path.name] = round(dets[0].score, 3) if dets else None
            continue
        district, rest = name.split("-", 1)
        text = district + rest.split("#")[0]
        seg = segment.segment(_read(path))
        ok = len(seg.boxes) == len(text) and len(district) in seg.gaps
        crops[path.name] = {"boxes": len(seg.boxes), "expected": len(text), "gaps": seg.gaps,
                            "wide_gaps": seg.wide_gaps, "ok": ok}
    return {
        "crops_ok": sum(c["ok"] for c in crops.values()),
        "crops": crops,
        "photos_with_plate": sum(v is not None for v in photos.values()),
        "photos": photos,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--format", required=True, choices=["openalpr", "yolo-plates", "yolo-chars", "de-samples"])
    parser.add_argument("--min-score", type=float, default=None, help="detector threshold (default: the detector's)")
    parser.add_argument("--net", type=Path, default=None, help="learned detector model file (default: the bundled one)")
    parser.add_argument("--small-plates", action="store_true", help="detect as alpr recognize --small-plates does")
    parser.add_argument("--unmatched-sheet", type=Path, default=None, metavar="PNG",
                        help="openalpr / yolo-plates: write a contact sheet of the detections that match no label")
    args = parser.parse_args(argv)
    if args.net is not None:
        detect.NET_PATH = args.net
    if not args.dataset.is_dir():
        print(f"{args.dataset}: not a directory", file=sys.stderr)
        return 2
    if args.unmatched_sheet is not None and args.format not in ("openalpr", "yolo-plates"):
        parser.error("--unmatched-sheet needs --format openalpr or yolo-plates")
    unmatched = [] if args.unmatched_sheet is not None else None
    if args.format == "de-samples":
        result = eval_de_samples(args.dataset)
    else:
        try:
            samples = load_dataset(args.dataset, args.format)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        if args.format == "yolo-chars":
            result = eval_chars(samples)
        else:
            pairs = [(sample.path, sample.boxes) for sample in samples]
            result = eval_detection(pairs, min_score=args.min_score, small_plates=args.small_plates, unmatched=unmatched)
    for key, value in result.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    if unmatched is not None:
        save_image(args.unmatched_sheet, unmatched_sheet(unmatched))
        print(f"wrote {args.unmatched_sheet} ({len(unmatched)} unmatched detections)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
