"""Robustness evaluation of a character CNN across L∞ budgets, per the protocol in design.md.

For every ε: FGSM, PGD-``steps`` with ``restarts`` random restarts (a restart only reruns the
samples still standing: the per-sample outcome equals keeping the best restart), the black-box
Square attack (:mod:`defense.square`, gradient-masking check), an optional transfer attack
(PGD crafted on another model) and, when ART is importable, ART's AutoAttack (APGD-CE, APGD-DLR,
Square; labelled "ART AutoAttack") on a smaller subset. Every adversarial image is quantised to
uint8 inside its ball (:func:`attacks.quantize`) before it is scored. Robust accuracy is the
per-sample worst case over all attacks run on that sample; clean errors count as failures (so
robust accuracy ≤ clean accuracy). Plus the targeted "1" → digit table (:func:`attacks.sweep.targeted_table`)
and sanity checks returned as warnings (accuracy not falling to ~0 at a very large ε, black-box
stronger than white-box, PGD weaker than FGSM, zero gradients, accuracy rising with ε).

Example::

    >>> res = evaluate_model(model, x, y, eps_list=[8 / 255, 32 / 255], restarts=10, seed=0)
    >>> res["eps"]["32"]["robust"], res["warnings"]
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from attacks import core
from attacks.fgsm import fgsm
from attacks.pgd import pgd
from attacks.quantize import quantize
from attacks.sweep import default_step_size, targeted_table
from defense.square import square_attack

#: The issue's budgets, in grey levels.
DEFAULT_EPS_255 = (2, 4, 8, 16, 32, 64)
#: A budget at which any classifier must fall to ~0 (sanity check).
HUGE_EPS = 128 / 255


def _hits(model, x_adv, x, y, eps):
    return core.predict(model, quantize(x_adv, x, eps=eps)) == y


def pgd_restarts(model, x, y, *, eps, steps=50, restarts=10, seed=0) -> np.ndarray:
    """Per-sample "still correct" after PGD-``steps`` × ``restarts`` (uint8-quantised)."""
    ok = core.predict(model, x) == y
    for r in range(restarts):
        idx = np.flatnonzero(ok)
        if len(idx) == 0:
            break
        x_adv = pgd(model, x[idx], y[idx], eps=eps, steps=steps, step_size=default_step_size(eps, steps), seed=seed + 1000 * r)
        ok[idx] = _hits(model, x_adv, x[idx], y[idx], eps)
    return ok


def art_autoattack(model, x, y, *, eps, seed=0, apgd_iter=100, square_queries=1000, batch_size=256):
    """Per-sample "still correct" under ART's AutoAttack (APGD-CE, APGD-DLR, Square), or ``None``
    when ART is not installed."""
    try:
        with warnings.catch_warnings():  # ART warns on import that PyTorch (not used here) is absent
            warnings.filterwarnings("ignore", message="PyTorch not found", category=UserWarning)
            from art.attacks.evasion import AutoAttack, AutoProjectedGradientDescent, SquareAttack
            from art.estimators.classification import TensorFlowV2Classifier
    except ImportError:
        return None
    import tensorflow as tf

    net = core.resolve_model(model)
    n_classes = int(net.output_shape[-1])
    clf = TensorFlowV2Classifier(model=net, nb_classes=n_classes, input_shape=tuple(x.shape[1:]),
                                 loss_object=tf.keras.losses.CategoricalCrossentropy(from_logits=True), clip_values=(0.0, 1.0))
    np.random.seed(seed)
    step = 2 * eps
    attacks = [AutoProjectedGradientDescent(clf, norm=np.inf, eps=eps, eps_step=step, max_iter=apgd_iter, nb_random_init=1,
                                            batch_size=batch_size, loss_type=loss, verbose=False)
               for loss in ("cross_entropy", "difference_logits_ratio")]
    attacks.append(SquareAttack(clf, norm=np.inf, eps=eps, max_iter=square_queries, p_init=0.3, nb_restarts=1,
                                batch_size=batch_size, verbose=False))
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    try:
        import multiprocess  # noqa: F401  (AutoAttack.generate imports it unconditionally)

        aa = AutoAttack(clf, norm=np.inf, eps=eps, eps_step=step, attacks=attacks, batch_size=batch_size)
        x_adv = aa.generate(x, y=onehot)
    except ImportError:  # same sequence through ART's own per-attack runner
        from art.attacks.evasion.auto_attack import run_attack

        x_adv, robust = x.copy(), core.predict(net, x) == y
        for attack in attacks:
            if robust.any():
                x_adv, robust = run_attack(x_adv, onehot, robust, attack, clf, norm=np.inf, eps=eps)
    x_adv = np.clip(np.asarray(x_adv, np.float32), 0, 1)
    return _hits(model, x_adv, x, y, eps)


def evaluate_model(model, x, y, *, eps_list, steps=50, restarts=10, seed=0, square_queries=1000, square_n=None,
                   transfer_from=None, autoattack_n=200, autoattack=True, autoattack_iter=100, autoattack_eps=None, targeted_eps=32 / 255, targeted_n=200,
                   alphabet=None, x_ones=None, y_ones=None, log=print) -> dict:
    """Clean and robust accuracy of ``model`` on ``(x, y)`` (uint8-grid inputs) at each ε.

    Returns ``{"n", "clean", "eps": {"<eps_255>": {"fgsm", "pgd", "square", "transfer", "autoattack",
    "robust", "n_square", "n_autoattack"}}, "targeted", "huge_eps_pgd", "zero_grad_share",
    "warnings", "settings", "seconds"}``; accuracies are over all ``n`` samples, except Square and
    AutoAttack, which run on the first ``square_n`` / ``autoattack_n`` samples (their worst-case
    contribution applies there only).
    """
    t0 = time.time()
    alphabet = alphabet or model.alphabet
    net, x, y = core.prepare(model, x, y)
    n = len(x)
    clean_ok = core.predict(net, x) == y
    square_n = n if square_n is None else min(square_n, n)
    autoattack_n = min(autoattack_n, n)
    out = {"n": n, "clean": float(clean_ok.mean()), "eps": {}, "warnings": [], "settings": dict(
        steps=steps, restarts=restarts, seed=seed, square_queries=square_queries, square_n=square_n,
        autoattack_n=autoattack_n if autoattack else 0, autoattack_iter=autoattack_iter, transfer_from=getattr(transfer_from, "card", {}).get("name") if transfer_from else None)}
    art_missing = False
    for eps in eps_list:
        key = f"{eps * 255:g}"
        row, ok, secs, t = {}, clean_ok.copy(), {}, time.time()
        hit = _hits(net, fgsm(net, x, y, eps=eps), x, y, eps) & clean_ok
        row["fgsm"], ok = float(hit.mean()), ok & hit
        hit = pgd_restarts(net, x, y, eps=eps, steps=steps, restarts=restarts, seed=seed)
        row["pgd"], ok = float(hit.mean()), ok & hit
        pgd_ok, secs["pgd"], t = hit, round(time.time() - t, 1), time.time()
        hit = _hits(net, square_attack(net, x[:square_n], y[:square_n], eps=eps, queries=square_queries, seed=seed),
                    x[:square_n], y[:square_n], eps) & clean_ok[:square_n]
        row["square"], row["n_square"] = float(hit.mean()), square_n
        row["pgd_on_square_subset"] = float(pgd_ok[:square_n].mean())
        ok[:square_n] &= hit
        secs["square"], t = round(time.time() - t, 1), time.time()
        if transfer_from is not None:
            x_t = pgd(transfer_from, x, y, eps=eps, steps=steps, step_size=default_step_size(eps, steps), seed=seed)
            hit = _hits(net, x_t, x, y, eps) & clean_ok
            row["transfer"], ok = float(hit.mean()), ok & hit
            secs["transfer"], t = round(time.time() - t, 1), time.time()
        if autoattack and not art_missing and (autoattack_eps is None or any(abs(eps - e) < 1e-9 for e in autoattack_eps)):
            hit = art_autoattack(net, x[:autoattack_n], y[:autoattack_n], eps=eps, seed=seed, apgd_iter=autoattack_iter,
                                 square_queries=square_queries)
            if hit is None:
                art_missing = True
                log("note: ART is not importable (optional extra 'attack'): ART AutoAttack skipped")
            else:
                hit &= clean_ok[:autoattack_n]
                row["autoattack"], row["n_autoattack"] = float(hit.mean()), autoattack_n
                row["pgd_on_autoattack_subset"] = float(pgd_ok[:autoattack_n].mean())
                ok[:autoattack_n] &= hit
                secs["autoattack"] = round(time.time() - t, 1)
        row["robust"] = float(ok.mean())
        row["n_seconds"] = secs
        out["eps"][key] = row
        log(f"  ε={key}/255: " + ", ".join(f"{k} {v:.2%}" for k, v in row.items() if not k.startswith(("n_", "pgd_on"))) + f"  ({secs})")
    if x_ones is None:
        x_ones, y_ones = x, y
    _targeted(out, net, x_ones, np.asarray(y_ones, np.int32), alphabet, targeted_eps, targeted_n, steps, seed, log)
    small = min(n, 200)
    x_h = pgd(net, x[:small], y[:small], eps=HUGE_EPS, steps=steps, step_size=default_step_size(HUGE_EPS, steps), seed=seed)
    out["huge_eps_pgd"] = float(_hits(net, x_h, x[:small], y[:small], HUGE_EPS).mean())
    _, grads = core.loss_gradient(net, x[clean_ok][:small], y[clean_ok][:small])
    out["zero_grad_share"] = float(np.mean(np.abs(grads).reshape(len(grads), -1).max(axis=1) == 0)) if len(grads) else 0.0
    out["warnings"] = sanity_warnings(out)
    out["seconds"] = round(time.time() - t0, 1)
    return out


def _targeted(out, net, x, y, alphabet, eps, n, steps, seed, log):
    if "1" not in alphabet:
        out["targeted"] = None
        return
    ones = np.flatnonzero(y == alphabet.index("1"))[:n]
    if len(ones) == 0:
        out["targeted"] = {"error": "no '1' among the samples"}
        return
    try:
        out["targeted"] = targeted_table(net, x[ones], y[ones], alphabet=alphabet, source="1", eps=eps, steps=steps,
                                         step_size=default_step_size(eps, steps), seed=seed)
        log(f"  targeted 1→digit at {eps * 255:g}/255: mean success {out['targeted']['mean_success']:.2%}, "
            f"max {max(r['success'] for r in out['targeted']['targets'].values()):.2%} (n={out['targeted']['n']})")
    except ValueError as err:  # no "1" the model reads correctly
        out["targeted"] = {"error": str(err)}


def sanity_warnings(res: dict) -> list[str]:
    """Red flags of a broken evaluation or gradient masking, as sentences."""
    warn = []
    if res.get("huge_eps_pgd", 0) > 0.1:
        warn.append(f"accuracy does not fall to ~0 at ε={HUGE_EPS * 255:g}/255 (PGD {res['huge_eps_pgd']:.1%}): suspect gradient masking or a broken attack")
    if res.get("zero_grad_share", 0) > 0.05:
        warn.append(f"{res['zero_grad_share']:.1%} of the samples have an all-zero input gradient (masked gradients)")
    prev = None
    for key, row in res["eps"].items():
        if row["square"] < row["pgd_on_square_subset"] - 0.02:
            warn.append(f"ε={key}/255: black-box Square ({row['square']:.1%}) beats white-box PGD ({row['pgd_on_square_subset']:.1%}) on the same samples: gradient masking?")
        if "transfer" in row and row["transfer"] < row["pgd"] - 0.02:
            warn.append(f"ε={key}/255: transfer attack ({row['transfer']:.1%}) beats white-box PGD ({row['pgd']:.1%}): gradient masking?")
        if row["pgd"] > row["fgsm"] + 0.02:
            warn.append(f"ε={key}/255: PGD ({row['pgd']:.1%}) weaker than FGSM ({row['fgsm']:.1%})")
        if "autoattack" in row and row["pgd_on_autoattack_subset"] > row["autoattack"] + 0.05:
            warn.append(f"ε={key}/255: ART AutoAttack is {row['pgd_on_autoattack_subset'] - row['autoattack']:.1%} stronger than our PGD on the same samples")
        if prev is not None and row["robust"] > prev + 0.02:
            warn.append(f"ε={key}/255: robust accuracy rises with ε ({prev:.1%} → {row['robust']:.1%})")
        prev = row["robust"]
    return warn
