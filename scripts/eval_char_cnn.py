#!/usr/bin/env python
"""Evaluate a character CNN: per-class accuracy and confusion matrix (PNG + CSV) on a synthetic
held-out test set and, optionally, on real character crops cut from a YOLO character dataset
(UC3M-LP ``chars/``: ``images/*.jpg`` + ``labels/*.txt`` with ``CLASS cx cy w h`` lines,
CLASS 0-9 = digits, 10-35 = A-Z). Only classes in the model's alphabet count.

Real data is used for measuring only (see /work/shared/datasets/README.md; UC3M-LP,
Ramajo-Ballester et al. 2024, CC BY-NC-ND 4.0).

Examples:
  python scripts/eval_char_cnn.py --model es --real /work/shared/datasets/uc3m-lp/chars --out /tmp/eval_es
  python scripts/eval_char_cnn.py --model data/models/de.keras --samples 5000
"""

import csv
import io
import json
import sys
import time
from pathlib import Path

import click
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr import atomic  # noqa: E402  (after the checkout is on the path)
from alpr.imageio import save_image  # noqa: E402

YOLO_CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def load_yolo_char_crops(folder, *, pad: float = 0.0):
    """Crops cut by the ground-truth boxes of a YOLO character dataset.

    Returns ``(crops, chars, sources)``: BGR crops, their characters and ``file:line`` ids.
    ``pad`` widens each box by that fraction of its height on every side (0 = the GT box).
    """
    folder = Path(folder)
    images, labels = folder / "images", folder / "labels"
    if not images.is_dir() or not labels.is_dir():
        raise click.UsageError(f"{folder}: expected images/ and labels/ sub-folders")
    crops, chars, sources = [], [], []
    for img_path in sorted(images.glob("*.jpg")) + sorted(images.glob("*.png")):
        lab = labels / (img_path.stem + ".txt")
        if not lab.is_file():
            continue
        img = cv2.imread(str(img_path), cv2.IMREAD_COLOR)
        if img is None:
            continue
        H, W = img.shape[:2]
        for k, line in enumerate(lab.read_text().splitlines()):
            parts = line.split()
            if len(parts) != 5:
                continue
            cls = int(parts[0])
            cx, cy, w, h = (float(v) for v in parts[1:])
            p = pad * h * H
            x0, x1 = int(round((cx - w / 2) * W - p)), int(round((cx + w / 2) * W + p))
            y0, y1 = int(round((cy - h / 2) * H - p)), int(round((cy + h / 2) * H + p))
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
            if x1 - x0 < 2 or y1 - y0 < 2 or not 0 <= cls < len(YOLO_CLASSES):
                continue
            crops.append(img[y0:y1, x0:x1].copy())
            chars.append(YOLO_CLASSES[cls])
            sources.append(f"{img_path.name}:{k + 1}")
    return crops, chars, sources


def confusion(y_true, y_pred, n):
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return m


def write_report(out: Path, tag: str, alphabet: str, cm: np.ndarray):
    """``tag_confusion.csv``, ``tag_per_class.csv`` and ``tag_confusion.png`` in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    with open(out / f"{tag}_confusion.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["true\\pred", *alphabet])
        for c, row in zip(alphabet, cm):
            w.writerow([c, *row.tolist()])
    support = cm.sum(axis=1)
    with open(out / f"{tag}_per_class.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["char", "n", "correct", "accuracy", "most_confused_with"])
        for i, c in enumerate(alphabet):
            off = cm[i].copy()
            off[i] = 0
            worst = alphabet[int(off.argmax())] if off.sum() else ""
            acc = cm[i, i] / support[i] if support[i] else float("nan")
            w.writerow([c, int(support[i]), int(cm[i, i]), f"{acc:.4f}", worst])
    norm = cm / np.maximum(1, support[:, None])
    fig, ax = plt.subplots(figsize=(0.28 * len(alphabet) + 2, 0.28 * len(alphabet) + 1.5))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(alphabet)), list(alphabet), fontsize=7)
    ax.set_yticks(range(len(alphabet)), list(alphabet), fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(cm) / max(1, cm.sum())
    ax.set_title(f"{tag}: accuracy {acc:.2%} (n={cm.sum()})", fontsize=9)
    for i, j in zip(*np.nonzero(cm)):
        if i != j:
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=5, color="red")
    fig.tight_layout()
    atomic.save_figure(fig, out / f"{tag}_confusion.png", dpi=120)


def error_sheet(path: Path, x, y, pred, alphabet: str, limit: int, crops=None) -> None:
    """A PNG sheet of up to ``limit`` misread characters, 10 per row: each tile is the model
    input (and, when given, the original crop on its left) labelled "true>read"."""
    tiles = []
    for i in np.nonzero(pred != y)[0][:limit]:
        tile = cv2.resize(cv2.cvtColor((x[i, ..., 0] * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR), (48, 64), interpolation=cv2.INTER_NEAREST)
        if crops is not None:
            tile = np.hstack([cv2.resize(crops[i], (48, 64), interpolation=cv2.INTER_NEAREST), tile])
        cv2.putText(tile, f"{alphabet[y[i]]}>{alphabet[pred[i]]}", (2, 60), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 255), 1)
        tiles.append(tile)
    if not tiles:
        return
    while len(tiles) % 10:
        tiles.append(np.zeros_like(tiles[0]))
    sheet = np.vstack([np.hstack(tiles[i : i + 10]) for i in range(0, len(tiles), 10)])
    save_image(path, sheet)


def kind_constrained_accuracy(logits: np.ndarray, y: np.ndarray, alphabet: str) -> float:
    """Accuracy with the argmax restricted to the true character's kind (digit or letter), as
    slot-aware plate decoding reads a character whose slot the grammar fixes (e.g. Spanish NNNN LLL)."""
    is_digit = np.array([c.isdigit() for c in alphabet])
    same_kind = np.where(is_digit[None, :] == is_digit[y][:, None], logits, -np.inf)
    return float(np.mean(same_kind.argmax(axis=1) == y))


def reader_accuracy(model, x: np.ndarray, y: np.ndarray, pred: np.ndarray, batch: int = 1024) -> float:
    """Accuracy of ``model`` as the pipeline reads with it (``CharModel.frozen_logits``: LiteRT with
    int8 weights when installed, else Keras itself); prints it beside the Keras predictions ``pred``."""
    read = model.frozen_logits()
    as_read = np.concatenate([read(x[i : i + batch]).argmax(axis=1) for i in range(0, len(x), batch)])
    accuracy = float(np.mean(as_read == y))
    how = "Keras: LiteRT off or missing" if read == model.predict_logits else "LiteRT"
    print(f"  as the pipeline reads it ({how}): {accuracy:.4%}; "
          f"{int(np.sum(as_read != pred))} of {len(y)} predictions differ from the float model's")
    return accuracy


def per_font(fonts: np.ndarray, y: np.ndarray, pred: np.ndarray) -> dict:
    """Accuracy and count of the synthetic crops drawn in each font, most frequent font first."""
    names, counts = np.unique(fonts, return_counts=True)
    return {str(f): (float(np.mean(pred[fonts == f] == y[fonts == f])), int(k))
            for f, k in sorted(zip(names, counts), key=lambda t: -t[1])}


def summarise(tag, alphabet, cm):
    support = cm.sum(axis=1)
    acc = np.trace(cm) / max(1, cm.sum())
    print(f"[{tag}] accuracy {acc:.4%} ({np.trace(cm)}/{cm.sum()})")
    per = [f"{c}:{cm[i, i] / support[i]:.3f}" for i, c in enumerate(alphabet) if support[i]]
    print(f"[{tag}] per class  " + " ".join(per))
    off = cm.copy()
    np.fill_diagonal(off, 0)
    pairs = sorted(((off[i, j], alphabet[i], alphabet[j]) for i, j in zip(*np.nonzero(off))), reverse=True)[:12]
    if pairs:
        print(f"[{tag}] top confusions (true->pred: n)  " + ", ".join(f"{a}->{b}: {n}" for n, a, b in pairs))
    return float(acc)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--model", "model_name", required=True, help="Bundled model name (de, es, eu, ...) or a .keras file.")
@click.option("--real", "real_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="YOLO character dataset folder (e.g. uc3m-lp/chars); omitted: skip real crops.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for confusion PNG/CSV files (default: print only).")
@click.option("--samples", type=int, default=5000, show_default=True, help="Synthetic held-out test size.")
@click.option("--seed", type=int, default=None, help="Synthetic test seed (default: the card's test seed).")
@click.option("--pad", type=float, default=0.0, show_default=True, help="Widen real GT boxes by this fraction of their height.")
@click.option("--only", "only", default=None, help="Score only real crops whose true character is in this string (e.g. digits + Spanish consonants for the eu model).")
@click.option("--update-card", is_flag=True, help="Write the measured figures into the model card's metrics.")
@click.option("--dump-errors", type=int, default=0, help="Save sheets of up to N misread synthetic and real characters into --out.")
def main(model_name, real_dir, out_dir, samples, seed, pad, only, update_card, dump_errors):
    """Per-class accuracy and confusion matrices of a character CNN."""
    from alpr.model import load_model, resolve_model_path
    from alpr.char_crops import TEST_SEED_OFFSET, make_dataset, policy_from_dict

    model = load_model(model_name)
    alphabet = model.alphabet
    country = model.card.get("country", "eu")
    results = {}
    if samples > 0:
        if seed is None:
            seed = int(model.card.get("data", {}).get("test_seed", TEST_SEED_OFFSET))
        t = time.time()
        policy = policy_from_dict(model.card.get("data", {}).get("policy"), country)
        fonts = []
        x, y = make_dataset(country, samples, seed, input_shape=model.input_shape, policy=policy, fonts=fonts)
        logits = model.predict_logits(x)
        pred = logits.argmax(axis=1)
        cm = confusion(y, pred, len(alphabet))
        results["synthetic_heldout_accuracy"] = summarise(f"synthetic {country} seed={seed}", alphabet, cm)
        results["synthetic_heldout_n"] = int(len(y))
        kind_acc = kind_constrained_accuracy(logits, y, alphabet)
        results["synthetic_heldout_accuracy_kind_constrained"] = kind_acc
        print(f"  with the argmax restricted to the true kind (digit/letter, as grammar decoding does): {kind_acc:.4%}")
        results["synthetic_heldout_accuracy_as_read"] = reader_accuracy(model, x, y, pred)
        by_font = per_font(np.asarray(fonts), y, pred)
        print("  by font: " + ", ".join(f"{f} {acc:.2%} (n={n})" for f, (acc, n) in by_font.items()))
        print(f"  ({time.time() - t:.1f} s)")
        if out_dir:
            write_report(out_dir, "synthetic", alphabet, cm)
            atomic.write_text(out_dir / "synthetic_per_font.csv",
                              "font,accuracy,n\n" + "".join(f"{f},{acc:.4f},{n}\n" for f, (acc, n) in by_font.items()))
            if dump_errors:
                error_sheet(out_dir / "synthetic_errors.png", x, y, pred, alphabet, dump_errors)
    if real_dir is not None:
        crops, chars, sources = load_yolo_char_crops(real_dir, pad=pad)
        keep = [i for i, c in enumerate(chars) if c in alphabet and (only is None or c in only)]
        skipped = len(chars) - len(keep)
        crops = [crops[i] for i in keep]
        y = np.array([alphabet.index(chars[i]) for i in keep])
        t = time.time()
        x = model.crops_to_input(crops)
        logits = model.predict_logits(x)
        pred = logits.argmax(axis=1)
        dt = time.time() - t
        cm = confusion(y, pred, len(alphabet))
        scope = alphabet if only is None else "".join(c for c in alphabet if c in only)
        print(f"real crops: {len(keep)} scored, {skipped} skipped (class not in {scope!r}); {len(keep) / dt:.0f} crops/s incl. preprocessing")
        acc = summarise(f"real {real_dir.name}", alphabet, cm)
        results["real_char_accuracy"] = acc
        results["real_n"] = int(len(keep))
        if only is not None:
            results["real_scored_classes"] = scope
        kind_acc = kind_constrained_accuracy(logits, y, alphabet)
        results["real_char_accuracy_kind_constrained"] = kind_acc
        print(f"  with the argmax restricted to the true kind (digit/letter, as grammar decoding does): {kind_acc:.4%}")
        results["real_char_accuracy_as_read"] = reader_accuracy(model, x, y, pred)
        digits = np.array([alphabet[k].isdigit() for k in y])
        if digits.any() and (~digits).any():
            print(f"  digits {np.mean(pred[digits] == y[digits]):.4%} (n={digits.sum()}), letters {np.mean(pred[~digits] == y[~digits]):.4%} (n={(~digits).sum()})")
        if out_dir:
            write_report(out_dir, "real", alphabet, cm)
            if dump_errors:
                error_sheet(out_dir / "real_errors.png", x, y, pred, alphabet, dump_errors, crops)
                table = io.StringIO()
                w = csv.writer(table)
                w.writerow(["source", "true", "pred"])
                for i in np.nonzero(pred != y)[0]:
                    w.writerow([sources[keep[i]], alphabet[y[i]], alphabet[pred[i]]])
                atomic.write_text(out_dir / "real_errors.csv", table.getvalue())
    if update_card and results:
        path = resolve_model_path(model_name).with_suffix(".json")
        card = json.loads(path.read_text(encoding="utf-8"))
        metrics = card.setdefault("metrics", {})
        for k, v in results.items():
            metrics[k if k.startswith("synthetic") else f"{k}"] = round(v, 5) if isinstance(v, float) else v
        if real_dir is not None:
            metrics["real_dataset"] = f"{real_dir} (GT boxes, pad={pad}; UC3M-LP, CC BY-NC-ND 4.0, measuring only)"
        metrics["eval_command"] = "python " + " ".join(sys.argv)
        atomic.write_text(path, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        print(f"updated {path}")


if __name__ == "__main__":
    main()
