"""Train the learned plate detector (``alpr.plate_net``) on the project's synthetic street photos.

Example:
    python scripts/train_plate_detector.py --train 16000 --steps 12000 --max-minutes 90 --seed 0 \\
        --cache /tmp/pd --out data/models/plate_detector.keras

Data: ``alpr.detect_data.photos`` (street photos with parked cars, traffic and hard negatives,
day and night, plus single-plate close-ups), rendered in parallel worker processes in chunks
that ``--cache`` keeps for re-runs (the chunks are deterministic given the seed). Training
photos come from set ``--seed``, validation photos from set ``--seed + 1000`` (other scenes).
Every batch is varied by ``alpr.detect_data.augment``. No real photo is used. Writes the model
and a JSON model card next to it, with recall/precision on the synthetic validation photos per
heatmap threshold (plates the renderer marks as "ignore" count neither way).
"""

import argparse
import json
import math
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from tqdm import tqdm

from alpr import atomic, detect_data, plate_net
from alpr._geometry import box_iou

CHUNK = 250
#: Bump when the renderer changes, so cached chunks are not reused.
DATA_VERSION = "street1"


def _chunk(args):
    seed, start, count, cache, version = args
    path = Path(cache) / f"{version}_{seed}_{start}_{count}.npz" if cache else None
    if path is not None and path.is_file():
        data = np.load(path, allow_pickle=False)
        return data["images"], _split(data["boxes"], data["nb"]), _split(data["ignore"], data["ni"])
    if version != DATA_VERSION:
        raise FileNotFoundError(f"{path}: photos of data version {version} are only read from the cache "
                                f"(render them with the renderer of that version)")
    images, boxes, ignore = detect_data.photos(seed, start, count)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, images=images, boxes=np.concatenate(boxes).reshape(-1, 4), nb=[len(b) for b in boxes],
                 ignore=np.concatenate(ignore).reshape(-1, 4), ni=[len(g) for g in ignore])
        tmp.rename(path)
    return images, boxes, ignore


def _split(flat, counts):
    out, k = [], 0
    for n in counts:
        out.append(flat[k:k + n].astype(np.float32))
        k += n
    return out


def render_set(seed: int, count: int, workers: int, cache: str | None, desc: str, version: str | None = None):
    """``count`` photos of set ``seed`` (images, boxes, ignore), rendered by ``workers`` processes
    (an older data ``version`` is read from the cache only)."""
    jobs = [(seed, s, min(CHUNK, count - s), cache, version or DATA_VERSION) for s in range(0, count, CHUNK)]
    images = np.empty((count, detect_data.SIZE[1], detect_data.SIZE[0], 3), np.uint8)
    boxes, ignore = [], []
    with ProcessPoolExecutor(workers) as ex:
        for (_, start, n, _, _), (im, b, g) in tqdm(zip(jobs, ex.map(_chunk, jobs)), total=len(jobs), desc=desc, mininterval=30):
            images[start:start + n] = im
            boxes += b
            ignore += g
    return images, boxes, ignore


def cosine_lr(lr: float, progress: float, alpha: float = 0.02, warmup: float = 0.02) -> float:
    """Linear warm-up, then cosine decay from ``lr`` to ``alpha * lr`` over ``progress`` in [0, 1].
    Progress is the larger of the step and wall-time fractions, so a time budget still finishes
    the schedule."""
    if progress < warmup:
        return lr * (0.1 + 0.9 * progress / warmup)
    p = (progress - warmup) / (1 - warmup)
    return lr * (alpha + (1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def match_counts(dets, boxes, ignore, iou: float = 0.5) -> tuple[int, int, int]:
    """(labels found, detections that are right, detections that count) for one photo: a detection
    overlapping an ignored plate (IoU >= 0.3) counts neither way."""
    hits = sum(any(box_iou(b, d[:4]) >= iou for d in dets) for b in boxes)
    good = counted = 0
    for d in dets:
        if any(box_iou(b, d[:4]) >= iou for b in boxes):
            good += 1
            counted += 1
        elif not any(box_iou(g, d[:4]) >= 0.3 for g in ignore):
            counted += 1
    return hits, good, counted


def evaluate(net, xs, boxes, ignore, thresholds=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7)) -> dict:
    """Recall/precision at IoU >= 0.5 on validation photos per heatmap threshold, with recall by
    plate width (< 12, 12-30, >= 30 px) and the median ratio of predicted to true box height."""
    outs = [net.heatmap(x)[:2] for x in xs]
    result = {}
    for t in thresholds:
        tally = np.zeros(3)
        by = {k: np.zeros(2) for k in plate_net.SIZE_CLASSES}
        ratios = []
        for (heat, box), b, g in zip(outs, boxes, ignore):
            dets = plate_net.decode(heat, box, threshold=t)
            tally += match_counts(dets, b, g)
            for bb in b:
                key = plate_net.size_class(bb[2])
                best = max(dets, key=lambda d: box_iou(bb, d[:4]), default=None)
                hit = best is not None and box_iou(bb, best[:4]) >= 0.5
                by[key] += (hit, 1)
                if hit:
                    ratios.append(best[3] / bb[3])
        result[str(t)] = {"recall": round(tally[0] / max(1, sum(len(b) for b in boxes)), 4),
                          "precision": round(tally[1] / max(1, tally[2]), 4),
                          **{f"recall_{k}px": round(v[0] / max(1, v[1]), 4) for k, v in by.items()},
                          "height_ratio_median": round(float(np.median(ratios)), 3) if ratios else None}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/models/plate_detector.keras"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train", type=int, default=16000, help="rendered training photos")
    parser.add_argument("--val", type=int, default=500, help="rendered validation photos (set seed + 1000)")
    parser.add_argument("--steps", type=int, default=12000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--crop", type=int, nargs=2, default=(192, 160), metavar=("W", "H"),
                        help="train on windows of this size (multiples of 16), mostly around a plate")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=90.0, help="stop training after this wall time")
    parser.add_argument("--cache", default=None, help="folder to cache/reuse rendered photo chunks")
    parser.add_argument("--init", type=Path, default=None, help="start from this model's weights (fine-tuning)")
    parser.add_argument("--data-only", action="store_true", help="render (and cache) the photos, then stop")
    parser.add_argument("--dim-plates", type=float, default=0.0, metavar="RATE",
                        help="make this share of the plates less contrasted and closer to their surround's "
                             "brightness in every batch (alpr.detect_data.dim_plates), as real plates are; 0: off")
    parser.add_argument("--paste-plates", type=float, default=0.0, metavar="RATE",
                        help="share of training photos given a copy of one of their plates at a random free spot "
                             "(alpr.detect_data.paste_plate: plates away from cars); 0: off")
    parser.add_argument("--prior-data", nargs=3, default=None, metavar=("VERSION", "SEED", "COUNT"),
                        help="also train on COUNT cached photos of set SEED rendered by an earlier renderer VERSION")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch < 1 or args.train < 10 or args.val < 1:
        parser.error("--steps, --batch, --val must be >= 1 and --train >= 10")
    if not 0.0 <= args.dim_plates <= 1.0:
        parser.error("--dim-plates must be in [0, 1]")
    if not 0.0 <= args.paste_plates <= 1.0:
        parser.error("--paste-plates must be in [0, 1]")
    if any(v % 16 or v < 32 for v in args.crop) or args.crop[0] > detect_data.SIZE[0] or args.crop[1] > detect_data.SIZE[1]:
        parser.error("--crop sizes must be multiples of 16, at least 32 and at most 320 x 240")

    start = time.time()
    val_x, val_b, val_g = render_set(args.seed + 1000, args.val, args.workers, args.cache, "render val")
    xs, bs, gs = render_set(args.seed, args.train, args.workers, args.cache, "render train")
    if args.prior_data:
        version, pseed, pcount = args.prior_data[0], int(args.prior_data[1]), int(args.prior_data[2])
        px, pb, pg = render_set(pseed, pcount, args.workers, args.cache, "read prior", version)
        xs, bs, gs = np.concatenate([xs, px]), bs + pb, gs + pg
    data_seconds = time.time() - start
    print(f"data: {len(xs)} train / {len(val_x)} val photos, {sum(map(len, bs))} / {sum(map(len, val_b))} plates, "
          f"{data_seconds:.0f} s", file=sys.stderr)
    if args.data_only:
        return 0

    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    model = plate_net.build_model()
    if args.init is not None:
        model.set_weights(keras.saving.load_model(args.init, safe_mode=True, compile=False).get_weights())
    opt = keras.optimizers.Adam(args.lr)

    @tf.function
    def step(x, heat_t, box_t, mask, weight):
        with tf.GradientTape() as tape:
            heat, box = model(x, training=True)
            p = tf.clip_by_value(heat, 1e-4, 1 - 1e-4)
            pos = tf.cast(heat_t > 0.999, tf.float32)
            n_pos = tf.maximum(1.0, tf.reduce_sum(pos))
            focal = -(pos * (1 - p) ** 2 * tf.math.log(p) + (1 - pos) * (1 - heat_t) ** 4 * p**2 * tf.math.log(1 - p))
            loss_heat = tf.reduce_sum(focal * weight) / n_pos
            l1 = tf.reduce_sum(tf.abs(box - box_t) * mask) / tf.maximum(1.0, tf.reduce_sum(mask))
            loss = loss_heat + l1
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss_heat, l1

    shape = (args.crop[1], args.crop[0])
    rng = np.random.default_rng(args.seed + 7)

    def batch():
        idx = rng.integers(0, len(xs), args.batch)
        out = [[], [], [], [], []]
        for i in idx:
            image, b, g = detect_data.augment(xs[i], bs[i], gs[i], rng, dim_rate=args.dim_plates, paste_rate=args.paste_plates)
            image, b, g = detect_data.crop(image, b, g, tuple(args.crop), rng)
            h, bx, m, w = plate_net.targets(b, shape, g)
            for lst, v in zip(out, (image.astype(np.float32) * (1 / 255), h[..., None], bx, m[..., None], w[..., None])):
                lst.append(v)
        return [np.stack(v) for v in out]

    train_start = time.time()
    bar = tqdm(range(args.steps), desc="train", mininterval=30)
    done, losses = 0, []
    for k in bar:
        progress = max(k / args.steps, (time.time() - train_start) / 60 / args.max_minutes)
        if progress >= 1.0:
            print(f"time budget reached after {done} steps (schedule finished)", file=sys.stderr)
            break
        opt.learning_rate.assign(cosine_lr(args.lr, progress))
        lh, lb = step(*batch())
        losses.append((float(lh), float(lb)))
        done = k + 1
        if k % 100 == 0:
            recent = np.mean(losses[-100:], 0)
            bar.set_postfix(heat=f"{recent[0]:.3f}", box=f"{recent[1]:.3f}")
    train_seconds = time.time() - train_start

    net = plate_net.PlateNet(model)
    val = evaluate(net, list(val_x), val_b, val_g)
    card = {
        "name": "plate_detector",
        "task": "plate detection, CenterNet-style heatmap + box at stride 4, input resized to 320 px wide (4:3)",
        "input": "float32 (H, W, 3) BGR in [0, 1], H and W multiples of 16 (see alpr.plate_net.prepare)",
        "outputs": {"heat": "(H/4, W/4, 1) sigmoid plate-centre heatmap",
                    "box": "(H/4, W/4, 4) dx, dy (cell offset), log(w/16), log(h/16) in working pixels"},
        "threshold": plate_net.THRESHOLD,
        "params": int(model.count_params()),
        "data": {"source": "synthetic only: alpr.detect_data.photos (alpr.synth.street street photos + alpr.synth.scene close-ups), "
                           "alpr.detect_data.augment per batch",
                 "dim_plates_rate": args.dim_plates,
                 "paste_plates_rate": args.paste_plates,
                 "data_version": DATA_VERSION, "prior_data": args.prior_data, "train_photos": len(xs), "train_plates": int(sum(map(len, bs))),
                 "val_photos": len(val_x), "val_plates": int(sum(map(len, val_b))), "val_set_seed": args.seed + 1000},
        "seed": args.seed,
        "command": "python scripts/train_plate_detector.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "init": str(args.init) if args.init else None,
        "steps_done": done, "batch": args.batch, "crop": list(args.crop), "lr": args.lr,
        "final_loss_heat_box": [round(float(v), 4) for v in np.mean(losses[-200:], 0)] if losses else None,
        "data_seconds": round(data_seconds, 1), "train_seconds": round(train_seconds, 1),
        "synthetic_val": val,
    }
    # model and card both complete on disk before either is renamed into place (alpr.atomic)
    with atomic.atomic_path(args.out) as tmp_model, atomic.atomic_path(args.out.with_suffix(".json")) as tmp_card:
        model.save(tmp_model)
        tmp_card.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(val, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB), {done} steps, train {train_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
