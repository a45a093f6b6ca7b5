"""ε sweeps on character crops: accuracy-vs-ε curves, the targeted "1" → X table, transferability.

Every adversarial image is quantised to uint8 inside its ε-ball (:func:`attacks.quantize`) before it
is scored, so ``x`` must lie on the uint8 grid (``attacks.crops`` makes it so). Robust accuracy is
the per-sample worst case over the attacks run (protocol in design.md).

Example::

    >>> x, y = correctly_classified(model, synthetic_crops(model, 200)).xy(model.alphabet)
    >>> curve = accuracy_curve(model, x, y)                  # FGSM and PGD-20 at 0..64/255
    >>> save_curve(curve, "out/curve")                       # out/curve.csv + out/curve.png
    >>> table = targeted_table(model, x1, y1, source="1")    # PGD-50 "1" -> every other digit
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from attacks import core
from attacks.fgsm import fgsm
from attacks.pgd import pgd
from attacks.quantize import quantize

#: Default L∞ budgets of the curves, in units of one grey level (divide by 255).
DEFAULT_EPS_255 = (0, 2, 4, 8, 16, 32, 64)
DEFAULT_EPS = tuple(e / 255 for e in DEFAULT_EPS_255)
METHODS = ("fgsm", "pgd")


def default_step_size(eps: float, steps: int) -> float:
    """Madry et al.'s rule of thumb, 2.5 ε / steps (and at least one grey level for L∞-sized ε)."""
    return max(2.5 * eps / steps, 1e-6)


def _attack(model, x, y, method, *, eps, norm, steps, step_size, restarts, seed, targeted=False):
    """One attack, quantised to uint8 inside the ball."""
    if eps == 0:
        return x.copy()
    if method == "fgsm":
        x_adv = fgsm(model, x, y, eps=eps, norm=norm, targeted=targeted)
    elif method == "pgd":
        step = default_step_size(eps, steps) if step_size is None else step_size
        x_adv = pgd(model, x, y, eps=eps, steps=steps, step_size=step, norm=norm, targeted=targeted,
                    random_start=True, restarts=restarts, seed=seed)
    else:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return quantize(x_adv, x, eps=eps, norm=norm)


def _norms(x_adv, x):
    d = (x_adv.astype(np.float64) - x).reshape(len(x), -1)
    return np.abs(d).max(axis=1), np.sqrt((d**2).sum(axis=1))


def accuracy_curve(
    model,
    x,
    y,
    *,
    eps_values=DEFAULT_EPS,
    methods=METHODS,
    norm="inf",
    steps: int = 20,
    step_size: float | None = None,
    restarts: int = 1,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Accuracy of ``model`` under each attack at each ε, after uint8 quantisation.

    Args:
        model: ``CharModel`` or Keras model (logits).
        x, y: samples on the uint8 grid and their int labels (normally all correctly classified).
        eps_values: budgets (same units as ``x``: 8/255 is eight grey levels for L∞).
        methods: subset of ``("fgsm", "pgd")``.
        norm: ``"inf"`` or ``2``.
        steps, step_size, restarts, seed: PGD settings (``step_size`` default 2.5 ε / steps).

    Returns:
        ``{"eps": [...], "eps_255": [...], "n": N, "norm", "steps", "restarts", "clean": acc,
        "accuracy": {method: [acc per ε]}, "robust": [per-sample worst case over methods per ε]}``.
    """
    norm = core.check_norm(norm)
    eps_values = [core.check_eps(e) for e in eps_values]
    if not eps_values:
        raise ValueError("eps_values must not be empty")
    methods = list(methods)
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"unknown method {m!r}; expected {', '.join(METHODS)}")
    steps = core.check_count(steps, "steps")
    net, x, y = core.prepare(model, x, y)
    clean_ok = core.predict(net, x) == y
    acc = {m: [] for m in methods}
    robust = []
    bar = _bar(len(eps_values) * len(methods), "ε sweep", progress)
    for eps in eps_values:
        ok = clean_ok.copy()
        for m in methods:
            x_adv = _attack(net, x, y, m, eps=eps, norm=norm, steps=steps, step_size=step_size,
                            restarts=restarts, seed=seed)
            hit = core.predict(net, x_adv) == y
            acc[m].append(float(hit.mean()))
            ok &= hit
            bar.update(1)
        robust.append(float(ok.mean()))
    bar.close()
    return {
        "eps": [float(e) for e in eps_values],
        "eps_255": [round(e * 255, 4) for e in eps_values],
        "n": int(len(x)),
        "norm": str(norm),
        "steps": steps,
        "restarts": int(restarts),
        "clean": float(clean_ok.mean()),
        "accuracy": acc,
        "robust": robust,
    }


def targeted_table(
    model,
    x,
    y=None,
    *,
    alphabet: str | None = None,
    source: str = "1",
    targets: str | None = None,
    eps: float = 32 / 255,
    norm="inf",
    steps: int = 50,
    step_size: float | None = None,
    restarts: int = 1,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    """Targeted PGD ``source`` → each target character, success after uint8 quantisation.

    Args:
        model: ``CharModel`` (or Keras model with ``alphabet`` given).
        x: samples of the ``source`` character on the uint8 grid (``y`` = their labels, used to
            keep only those the model reads as ``source``; ``None`` = all are ``source``).
        alphabet: logit order (default ``model.alphabet``).
        source: the attacked character.
        targets: characters to aim at (default: every other digit of the alphabet).
        eps, norm, steps, step_size, restarts, seed: PGD settings.

    Returns:
        ``{"source", "eps", "eps_255", "norm", "steps", "n", "targets": {t: {"success", "n",
        "median_linf_255", "median_l2_255"}}, "confusion": {t: {predicted: count}},
        "mean_success", "min_success"}``. Norms are of the quantised perturbation of the
        successful samples, in grey levels.
    """
    alphabet = alphabet or model.alphabet
    if source not in alphabet:
        raise ValueError(f"source {source!r} is not in the alphabet {alphabet!r}")
    src = alphabet.index(source)
    if targets is None:
        targets = "".join(c for c in alphabet if c.isdigit() and c != source)
    bad = [t for t in targets if t not in alphabet or t == source]
    if bad:
        raise ValueError(f"invalid targets {''.join(bad)!r} (must be in the alphabet and differ from {source!r})")
    eps = core.check_eps(eps)
    x = np.asarray(x, np.float32)
    y = np.full(len(x), src, np.int32) if y is None else np.asarray(y, np.int32)
    net, x, y = core.prepare(model, x, y)
    keep = (y == src) & (core.predict(net, x) == src)
    x = x[keep]
    if len(x) == 0:
        raise ValueError(f"no sample of {source!r} that the model classifies correctly")
    rows, confusion = {}, {}
    bar = _bar(len(targets), f"targeted {source}→X", progress)
    for t in targets:
        tgt = np.full(len(x), alphabet.index(t), np.int32)
        x_adv = _attack(net, x, tgt, "pgd", eps=eps, norm=norm, steps=steps, step_size=step_size,
                        restarts=restarts, seed=seed, targeted=True)
        pred = core.predict(net, x_adv)
        hit = pred == tgt
        linf, l2 = _norms(x_adv[hit], x[hit]) if hit.any() else (np.array([np.nan]), np.array([np.nan]))
        rows[t] = {
            "success": float(hit.mean()),
            "n": int(len(x)),
            "median_linf_255": float(np.median(linf) * 255),
            "median_l2_255": float(np.median(l2) * 255),
        }
        chars, counts = np.unique([alphabet[i] for i in pred], return_counts=True)
        confusion[t] = {str(c): int(k) for c, k in zip(chars, counts)}
        bar.update(1)
    bar.close()
    rates = [r["success"] for r in rows.values()]
    return {
        "source": source,
        "eps": eps,
        "eps_255": round(eps * 255, 4),
        "norm": str(core.check_norm(norm)),
        "steps": core.check_count(steps, "steps"),
        "restarts": int(restarts),
        "n": int(len(x)),
        "targets": rows,
        "confusion": confusion,
        "mean_success": float(np.mean(rates)),
        "min_success": float(np.min(rates)),
    }


def transfer(
    source_model,
    target_model,
    crops,
    *,
    eps: float = 32 / 255,
    norm="inf",
    steps: int = 20,
    step_size: float | None = None,
    restarts: int = 1,
    seed: int = 0,
) -> dict:
    """Untargeted PGD crafted on ``source_model`` (white box), scored on ``target_model`` (black box).

    ``crops`` is an :class:`attacks.crops.CropSet`; samples whose character is in both alphabets and
    that both models read correctly are used (both models must share the input shape).

    Returns:
        ``{"n", "eps", "eps_255", "whitebox_accuracy", "transfer_accuracy", "transfer_success"}``
        — transfer success is the share of samples the target model misreads.
    """
    if tuple(source_model.input_shape) != tuple(target_model.input_shape):
        raise ValueError("transfer needs models with the same input shape")
    common = set(source_model.alphabet) & set(target_model.alphabet)
    crops = crops.subset(np.isin(crops.chars, sorted(common)))
    if len(crops) == 0:
        raise ValueError("no sample whose character both models can read")
    ys, yt = crops.labels(source_model.alphabet), crops.labels(target_model.alphabet)
    ok = (core.predict(source_model, crops.x) == ys) & (core.predict(target_model, crops.x) == yt)
    x, ys, yt = crops.x[ok], ys[ok], yt[ok]
    if len(x) == 0:
        raise ValueError("no sample both models classify correctly")
    x_adv = _attack(source_model, x, ys, "pgd", eps=core.check_eps(eps), norm=norm, steps=steps,
                    step_size=step_size, restarts=restarts, seed=seed)
    white = float(np.mean(core.predict(source_model, x_adv) == ys))
    black = float(np.mean(core.predict(target_model, x_adv) == yt))
    return {
        "n": int(len(x)),
        "eps": float(eps),
        "eps_255": round(float(eps) * 255, 4),
        "whitebox_accuracy": white,
        "transfer_accuracy": black,
        "transfer_success": 1.0 - black,
    }


def transfer_table(models: dict, crops, **kwargs) -> dict:
    """:func:`transfer` for every ordered pair of ``models`` (``{name: CharModel}``).

    Returns ``{source_name: {target_name: result}}``; the diagonal is the white-box attack.
    """
    return {a: {b: transfer(ma, mb, crops, **kwargs) for b, mb in models.items()} for a, ma in models.items()}


# --------------------------------------------------------------------------- output


def curve_csv(curve: dict) -> str:
    """The curve as CSV: ``eps,eps_255,<method>...,robust``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    methods = list(curve["accuracy"])
    w.writerow(["eps", "eps_255", *methods, "robust", "n"])
    for i, eps in enumerate(curve["eps"]):
        w.writerow([f"{eps:.6f}", curve["eps_255"][i], *(f"{curve['accuracy'][m][i]:.4f}" for m in methods),
                    f"{curve['robust'][i]:.4f}", curve["n"]])
    return buf.getvalue()


def targeted_csv(table: dict) -> str:
    """The targeted table as CSV: one row per target."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["source", "target", "eps_255", "steps", "n", "success", "median_linf_255", "median_l2_255"])
    for t, r in table["targets"].items():
        w.writerow([table["source"], t, table["eps_255"], table["steps"], r["n"], f"{r['success']:.4f}",
                    f"{r['median_linf_255']:.2f}", f"{r['median_l2_255']:.2f}"])
    return buf.getvalue()


def plot_curve(curve: dict, path, *, title: str | None = None) -> Path:
    """Accuracy vs ε (one line per method plus the per-sample worst case), written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    fig, ax = plt.subplots(figsize=(5.5, 3.8), dpi=120)
    xs = curve["eps_255"] if curve["norm"] == "inf" else curve["eps"]
    for m, accs in curve["accuracy"].items():
        label = f"PGD-{curve['steps']}" + (f"×{curve['restarts']}" if curve["restarts"] > 1 else "") if m == "pgd" else m.upper()
        ax.plot(xs, np.asarray(accs) * 100, marker="o", label=label)
    if len(curve["accuracy"]) > 1:
        ax.plot(xs, np.asarray(curve["robust"]) * 100, "k--", lw=1, label="worst case")
    ax.set_xlabel("ε (grey levels, L∞)" if curve["norm"] == "inf" else "ε (L2)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    if curve["norm"] == "inf" and min(xs) >= 0:
        ax.set_xscale("symlog", linthresh=2)
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{v:g}" for v in xs])
        ax.set_xlim(-0.3, max(xs) * 1.15 + 0.3)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title(title or f"accuracy vs ε after uint8 quantisation (n={curve['n']})", fontsize=9)
    fig.tight_layout()
    return atomic.save_figure(fig, path)


def save_curve(curve: dict, stem, *, title: str | None = None) -> dict:
    """Write ``stem.csv`` and ``stem.png``; return their paths."""
    from alpr import atomic

    stem = Path(stem)
    csv_path, png_path = stem.with_suffix(".csv"), stem.with_suffix(".png")
    atomic.write_text(csv_path, curve_csv(curve))
    plot_curve(curve, png_path, title=title)
    return {"csv": str(csv_path), "png": str(png_path)}


def _bar(total, desc, enabled):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="attack", disable=not enabled, leave=False)
