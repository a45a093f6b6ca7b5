"""Train the tiny learned plate detector (``alpr.plate_net``) on the project's synthetic scenes.

Example:
    python scripts/train_plate_detector.py --steps 3000 --seed 0 \\
        --out data/models/plate_detector.keras

Data: a pool of single-plate scenes (``alpr.detect_data.scene_pool``, rendered in parallel
worker processes), composed into multi-car photos with colour casts, anonymisation boxes and
bright distractors (``alpr.detect_data.compose``). The last 10 % of the pool is held out for
validation photos. No real photo is used. Writes the model and a JSON model card next to it.
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

from alpr import detect_data, plate_net
from alpr._geometry import box_iou


def _pool_chunk(args):
    seed, n, cache, widths = args
    tag = "" if widths == (8.0, 150.0) else f"_w{widths[0]:g}-{widths[1]:g}"
    path = Path(cache) / f"pool_{seed}_{n}{tag}.npz" if cache else None
    if path is not None and path.is_file():
        data = np.load(path)
        return data["images"], data["quads"]
    images, quads = detect_data.scene_pool(n, seed, plate_width=widths)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, images=images, quads=quads)
    return images, quads


def make_pool(size: int, seed: int, workers: int, cache: str | None, widths=(8.0, 150.0)):
    """``size`` single-plate scenes rendered by ``workers`` processes (cached in ``cache``)."""
    n = size // workers
    jobs = [(seed + 1 + k, n, cache, tuple(float(v) for v in widths)) for k in range(workers)]
    with ProcessPoolExecutor(workers) as ex:
        parts = list(ex.map(_pool_chunk, jobs))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def make_set(images, quads, count, rng, desc, hard_negatives=False, car_width=(6.0, 120.0)):
    """``count`` composed photos with their heatmap/box/mask targets and truth boxes."""
    xs = np.empty((count, detect_data.SIZE[1], detect_data.SIZE[0], 3), np.uint8)
    shape = (detect_data.SIZE[1], detect_data.SIZE[0])
    gh, gw = shape[0] // plate_net.STRIDE, shape[1] // plate_net.STRIDE
    heat = np.empty((count, gh, gw, 1), np.float32)
    box = np.empty((count, gh, gw, 4), np.float32)
    mask = np.empty((count, gh, gw, 1), np.float32)
    truth = []
    for i in tqdm(range(count), desc=desc, mininterval=5):
        xs[i], boxes = detect_data.compose(images, quads, rng, hard_negatives=hard_negatives, car_width=car_width)
        h, b, m = plate_net.targets(boxes, shape)
        heat[i, ..., 0], box[i], mask[i, ..., 0] = h, b, m
        truth.append(boxes)
    return xs, heat, box, mask, truth


def cosine_lr(lr: float, progress: float, alpha: float = 0.02) -> float:
    """Cosine decay from ``lr`` to ``alpha * lr`` over ``progress`` in [0, 1]. Training progress is
    the larger of the step and wall-time fractions, so a time budget still finishes the schedule."""
    return lr * (alpha + (1 - alpha) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def evaluate(net, xs, truth, thresholds=(0.2, 0.3, 0.35, 0.4, 0.5, 0.6)) -> dict:
    """Recall/precision at IoU >= 0.5 on validation photos, per heatmap threshold."""
    outs = [net.heatmap(x) for x in xs]
    result = {}
    for t in thresholds:
        labels = hits = found = good = 0
        small_labels = small_hits = 0
        for (heat, box, _), boxes in zip(outs, truth):
            dets = plate_net.decode(heat, box, threshold=t)
            labels += len(boxes)
            found += len(dets)
            hits += sum(any(box_iou(b[:4], d[:4]) >= 0.5 for d in dets) for b in boxes)
            good += sum(any(box_iou(b[:4], d[:4]) >= 0.5 for b in boxes) for d in dets)
            small = [b for b in boxes if b[2] < 40]
            small_labels += len(small)
            small_hits += sum(any(box_iou(b[:4], d[:4]) >= 0.5 for d in dets) for b in small)
        result[str(t)] = {"recall": round(hits / max(1, labels), 4), "precision": round(good / max(1, found), 4),
                          "recall_small_lt40px": round(small_hits / max(1, small_labels), 4)}
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n")[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data/models/plate_detector.keras"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=2400, help="single-plate scenes rendered")
    parser.add_argument("--train", type=int, default=10000, help="composed training photos")
    parser.add_argument("--val", type=int, default=300, help="composed validation photos")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-minutes", type=float, default=22.0, help="stop training after this wall time")
    parser.add_argument("--pool-cache", default=None, help="folder to cache/reuse rendered scene pools")
    parser.add_argument("--hard-negatives", action="store_true", help="facades/fences and more cars in the photos")
    parser.add_argument("--plate-width", type=float, nargs=2, default=(8.0, 150.0), metavar=("MIN", "MAX"),
                        help="plate width range (px at 320) of the pool scenes")
    parser.add_argument("--car-width", type=float, nargs=2, default=(6.0, 120.0), metavar=("MIN", "MAX"),
                        help="plate width range (px) of the extra cars composed into each photo")
    parser.add_argument("--init", type=Path, default=None, help="start from this model's weights (fine-tuning)")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.batch < 1 or args.pool < 20:
        parser.error("--steps, --batch must be >= 1 and --pool >= 20")

    import keras
    import tensorflow as tf

    start = time.time()
    keras.utils.set_random_seed(args.seed)
    images, quads = make_pool(args.pool, args.seed, args.workers, args.pool_cache, args.plate_width)
    n_val = max(10, len(images) // 10)
    rng = np.random.default_rng(args.seed)
    train = make_set(images[:-n_val], quads[:-n_val], args.train, rng, "compose train", args.hard_negatives, args.car_width)
    val_x, _, _, _, val_truth = make_set(images[-n_val:], quads[-n_val:], args.val, rng, "compose val", args.hard_negatives,
                                         args.car_width)
    data_seconds = time.time() - start

    model = plate_net.build_model()
    if args.init is not None:
        model.set_weights(keras.saving.load_model(args.init, safe_mode=True, compile=False).get_weights())
    opt = keras.optimizers.Adam(args.lr)

    @tf.function
    def step(x, heat_t, box_t, mask):
        with tf.GradientTape() as tape:
            heat, box = model(x, training=True)
            p = tf.clip_by_value(heat, 1e-4, 1 - 1e-4)
            pos = tf.cast(heat_t > 0.999, tf.float32)
            n_pos = tf.maximum(1.0, tf.reduce_sum(pos))
            focal = -(pos * (1 - p) ** 2 * tf.math.log(p) + (1 - pos) * (1 - heat_t) ** 4 * p**2 * tf.math.log(1 - p))
            loss_heat = tf.reduce_sum(focal) / n_pos
            l1 = tf.reduce_sum(tf.abs(box - box_t) * mask) / tf.maximum(1.0, tf.reduce_sum(mask))
            loss = loss_heat + l1
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss_heat, l1

    xs, heat_t, box_t, mask, _ = train
    order_rng = np.random.default_rng(args.seed + 7)
    train_start = time.time()
    bar = tqdm(range(args.steps), desc="train", mininterval=10)
    done = 0
    for k in bar:
        progress = max(k / args.steps, (time.time() - train_start) / 60 / args.max_minutes)
        if progress >= 1.0:
            print(f"time budget reached after {done} steps (schedule finished)", file=sys.stderr)
            break
        opt.learning_rate.assign(cosine_lr(args.lr, progress))
        idx = order_rng.integers(0, len(xs), args.batch)
        x = xs[idx].astype(np.float32) * (1 / 255)
        lh, lb = step(x, heat_t[idx], box_t[idx], mask[idx])
        done = k + 1
        if k % 50 == 0:
            bar.set_postfix(heat=f"{float(lh):.3f}", box=f"{float(lb):.3f}")
    train_seconds = time.time() - train_start

    net = plate_net.PlateNet(model)
    val = evaluate(net, [cvt for cvt in val_x], val_truth)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    card = {
        "name": "plate_detector",
        "task": "plate detection, CenterNet-style heatmap + box at stride 4, input resized to 320 px wide (4:3)",
        "input": "float32 (H, W, 3) BGR in [0, 1], H and W multiples of 16 (see alpr.plate_net.prepare)",
        "outputs": {"heat": "(H/4, W/4, 1) sigmoid plate-centre heatmap",
                    "box": "(H/4, W/4, 4) dx, dy (cell offset), log(w/16), log(h/16) in working pixels"},
        "threshold": plate_net.THRESHOLD,
        "params": int(model.count_params()),
        "data": {"source": "synthetic only: alpr.detect_data (scene_pool + compose) over alpr.synth.scene.render_scene",
                 "pool_scenes": int(len(images)), "train_photos": args.train, "val_photos": args.val,
                 "pool_plate_width_px": list(args.plate_width), "car_plate_width_px": list(args.car_width),
                 "hard_negatives": args.hard_negatives,
                 "val_held_out": f"last {n_val} pool scenes"},
        "seed": args.seed,
        "command": "python scripts/train_plate_detector.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "init": str(args.init) if args.init else None,
        "steps_done": done, "batch": args.batch, "lr": args.lr,
        "data_seconds": round(data_seconds, 1), "train_seconds": round(train_seconds, 1),
        "synthetic_val": val,
    }
    args.out.with_suffix(".json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(val, indent=1))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB), {done} steps, train {train_seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
