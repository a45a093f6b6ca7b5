"""Time and robust accuracy of this project's PGD against ART's ProjectedGradientDescent.

Both attacks run on the same model, the same N inputs and the same batch size, with the same
budget (L∞, eps 8/255, step 2/255, 20 steps, one random start). ART wraps the model in a
``TensorFlowV2Classifier`` with ``CategoricalCrossentropy(from_logits=True)``. Times are measured
after one warm-up call per attack (so tracing and first-call overheads are excluded; they are
printed separately); ``--repeat`` keeps the best of several runs. The "as uint8" row is our
result after :func:`attacks.quantize` (8-bit grid, still inside the ε-ball). The "stop on succ."
row is the same PGD with ``stop_on_success=True``: each sample stops at its first successful
iterate, so the same samples break (robust accuracy is identical) for less computation.

Example::

    # train and save the toy digit CNN, then benchmark on 1000 rendered digits
    python scripts/bench_attacks.py --make-toy /tmp/toy_digits.keras
    python scripts/bench_attacks.py --model /tmp/toy_digits.keras --n 1000

    # a bundled model on 1000 real character crops, or on rendered crops (no --data)
    python scripts/bench_attacks.py --model es --data ../shared/datasets/uc3m-lp/chars --n 1000
    python scripts/bench_attacks.py --model de --n 1000

    # is ours as strong as ART's? no random start, then 14 random-start seeds each
    python scripts/bench_attacks.py --model es --data ../shared/datasets/uc3m-lp/chars --strength-seeds 14
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def load_model(spec: str):
    """``(keras_model, CharModel or None)``: a ``.keras`` path, or a bundled model name resolved
    through ``alpr.load_model`` (which also gives the alphabet and preprocessing for real crops)."""
    import keras

    if spec.endswith(".keras") or Path(spec).exists():
        if not Path(spec).exists():
            raise SystemExit(f"error: model file not found: {spec}")
        return keras.models.load_model(spec, compile=False, safe_mode=True), None
    try:
        import alpr

        char_model = alpr.load_model(spec)
    except Exception as err:  # a missing registry, an unknown name: one line, not a traceback
        raise SystemExit(f"error: cannot load model {spec!r} ({type(err).__name__}: {err})") from None
    return char_model.keras_model, char_model


def load_data(path: str | None, model, char_model, n: int, seed: int):
    """``(x, y, description)``: an ``.npz`` with arrays ``x`` and ``y``; a YOLO character folder
    (uc3m-lp/chars) cut by its ground-truth boxes, correctly classified crops only; rendered crops
    for a bundled model without ``--data``; or toy digits for the toy model."""
    from attacks import crops, toy

    if path is not None and Path(path).is_dir():
        if char_model is None:
            raise SystemExit("error: a character folder needs a bundled model name (for its alphabet)")
        try:
            found = crops.correctly_classified(char_model, crops.real_crops(char_model, path, limit=2 * n, seed=seed))
        except FileNotFoundError as err:
            raise SystemExit(f"error: {err}") from None
        x, y = found.xy(char_model.alphabet)
        what = f"real crops from {path} (ground-truth boxes, correctly classified)"
    elif path is not None:
        with np.load(path) as data:
            x, y = data["x"].astype(np.float32), data["y"].astype(np.int64)
        what = f"arrays from {path}"
    elif char_model is not None:
        found = crops.correctly_classified(char_model, crops.synthetic_crops(char_model, 2 * n, seed=seed))
        x, y = found.xy(char_model.alphabet)
        what = "rendered crops (correctly classified)"
    else:
        if tuple(model.input_shape[1:]) != (toy.SIZE, toy.SIZE, 1) or model.output_shape[-1] != 10:
            raise SystemExit("error: without --data only the toy digit model or a bundled model can be benchmarked")
        x, y = toy.digits(n, seed=seed)
        what = "toy digits"
    if len(x) < n:
        raise SystemExit(f"error: only {len(x)} usable samples, fewer than --n {n}")
    return x[:n], y[:n], what


def timed(fn, repeat: int):
    """Best wall-clock time over ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a .keras file or a bundled model name (de, es, eu, ...)")
    parser.add_argument("--data", help="a YOLO character folder (e.g. uc3m-lp/chars) or an .npz with x (N,H,W,C float32 "
                        "in [0,1]) and y (N,) int; default: rendered crops (bundled model) or toy digits")
    parser.add_argument("--n", type=int, default=1000, help="number of inputs (default 1000)")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size of both attacks (default 128)")
    parser.add_argument("--eps", type=float, default=8 / 255)
    parser.add_argument("--step-size", type=float, default=2 / 255)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per attack; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strength-seeds", type=int, default=0, metavar="K",
                        help="instead of timing, compare robust accuracy over K random-start seeds and with no random start")
    parser.add_argument("--make-toy", metavar="PATH", help="train the toy digit CNN, save it to PATH and exit")
    args = parser.parse_args(argv)
    if args.n < 1 or args.batch_size < 1 or args.steps < 1 or args.repeat < 1:
        parser.error("--n, --batch-size, --steps and --repeat must be >= 1")
    if args.strength_seeds < 0:
        parser.error("--strength-seeds must be >= 0")

    import keras
    import tensorflow as tf

    import attacks
    from attacks import toy

    if args.make_toy:
        model = toy.trained_cnn(seed=args.seed)
        model.save(args.make_toy)
        print(f"saved toy digit CNN to {args.make_toy}")
        return 0
    if not args.model:
        parser.error("--model is required (or --make-toy PATH)")

    keras.utils.set_random_seed(args.seed)
    model, char_model = load_model(args.model)
    x, y, what = load_data(args.data, model, char_model, args.n, args.seed + 1)
    n_classes = int(model.output_shape[-1])
    try:
        from art.estimators.classification import TensorFlowV2Classifier
    except ImportError:
        raise SystemExit("error: the benchmark needs ART: pip install '.[attack]'") from None

    def ours(stop_on_success=False):
        return attacks.pgd(model, x, y, eps=args.eps, steps=args.steps, step_size=args.step_size,
                           seed=args.seed, batch_size=args.batch_size, stop_on_success=stop_on_success)

    classifier = TensorFlowV2Classifier(
        model=model,
        nb_classes=n_classes,
        input_shape=tuple(model.input_shape[1:]),
        loss_object=tf.keras.losses.CategoricalCrossentropy(from_logits=True),
        clip_values=(0.0, 1.0),
    )
    art_attack = art_pgd(classifier, args)
    y_onehot = np.eye(n_classes, dtype=np.float32)[y]

    def art():
        return art_attack.generate(x, y=y_onehot).astype(np.float32)

    if args.strength_seeds:
        return compare_strength(model, x, y, y_onehot, classifier, args)

    warm = slice(0, min(args.batch_size, len(x)))
    t0 = time.perf_counter()
    attacks.pgd(model, x[warm], y[warm], eps=args.eps, steps=args.steps, step_size=args.step_size, seed=args.seed)
    first_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    art_attack.generate(x[warm], y=y_onehot[warm])
    first_art = time.perf_counter() - t0

    t_ours, x_ours = timed(ours, args.repeat)
    t_early, x_early = timed(lambda: ours(stop_on_success=True), args.repeat)
    t_art, x_art = timed(art, args.repeat)

    clean = attacks.accuracy(model, x, y)
    x_ours_q = attacks.quantize(x_ours, x, eps=args.eps)  # judged after an 8-bit save/load
    rows = [
        ("clean", None, clean, 0.0),
        (f"ours PGD-{args.steps}", t_ours, attacks.accuracy(model, x_ours, y), np.abs(x_ours - x).max()),
        ("  as uint8", None, attacks.accuracy(model, x_ours_q, y), np.abs(x_ours_q - x).max()),
        ("  stop on succ.", t_early, attacks.accuracy(model, x_early, y), np.abs(x_early - x).max()),
        (f"ART PGD-{args.steps}", t_art, attacks.accuracy(model, np.clip(x_art, 0, 1), y), np.abs(x_art - x).max()),
    ]
    print(f"model {args.model}  data: {what}")
    print(f"N={len(x)}  batch {args.batch_size}  L∞ eps {args.eps:.4f}  "
          f"step {args.step_size:.4f}  steps {args.steps}  random starts 1")
    print(f"{'attack':<14}{'time [s]':>10}{'inputs/s':>10}{'robust acc':>12}{'max |δ|':>10}")
    for name, secs, acc, linf in rows:
        timing = f"{secs:>10.2f}{len(x) / secs:>10.0f}" if secs is not None else f"{'-':>10}{'-':>10}"
        print(f"{name:<14}{timing}{acc:>12.3f}{linf:>10.4f}")
    print(f"speed-up {t_art / t_ours:.1f}x; {t_art / t_early:.1f}x with stop_on_success (same broken samples, "
          f"each stops at its first success)")
    print(f"first call incl. tracing: ours {first_ours:.2f} s, ART {first_art:.2f} s on {warm.stop} inputs")
    return 0


def art_pgd(classifier, args, random_inits: int = 1):
    """ART's ProjectedGradientDescent with the benchmark's budget, steps and batch size."""
    from art.attacks.evasion import ProjectedGradientDescent

    return ProjectedGradientDescent(classifier, norm=np.inf, eps=args.eps, eps_step=args.step_size, max_iter=args.steps,
                                    num_random_init=random_inits, batch_size=args.batch_size, verbose=False)


def compare_strength(model, x, y, y_onehot, classifier, args) -> int:
    """Robust accuracy of ours and ART's PGD from no random start (deterministic: should agree)
    and over ``--strength-seeds`` random-start seeds (ART's start drawn from NumPy's global RNG)."""
    import attacks

    def robust(x_adv):
        return attacks.predict(model, np.clip(x_adv, 0, 1).astype(np.float32)) == y

    common = dict(eps=args.eps, steps=args.steps, step_size=args.step_size, batch_size=args.batch_size)
    ours0 = robust(attacks.pgd(model, x, y, random_start=False, **common))
    art0 = robust(art_pgd(classifier, args, random_inits=0).generate(x, y=y_onehot))
    print(f"no random start: ours {ours0.mean():.3f}, ART {art0.mean():.3f}; broken by ours only "
          f"{int((~ours0 & art0).sum())}, by ART only {int((ours0 & ~art0).sum())}")
    rows = []
    for seed in range(args.strength_seeds):
        ours = robust(attacks.pgd(model, x, y, seed=seed, stop_on_success=True, **common)).mean()
        np.random.seed(seed)
        rows.append((ours, robust(art_pgd(classifier, args).generate(x, y=y_onehot)).mean()))
        print(f"seed {seed}: ours {rows[-1][0]:.3f}  ART {rows[-1][1]:.3f}", flush=True)
    ours, art = np.array(rows).T
    print(f"mean over {len(rows)} seeds: ours {ours.mean():.4f} (range {ours.min():.3f}-{ours.max():.3f}), "
          f"ART {art.mean():.4f} (range {art.min():.3f}-{art.max():.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
