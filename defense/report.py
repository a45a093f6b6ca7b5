"""Figures and Markdown for the defense: training curves, accuracy-vs-ε curves of undefended vs
hardened models, and the before/after robustness table (see :mod:`defense.evaluate`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_training(history: dict, path, *, title: str | None = None) -> Path:
    """Per-epoch loss, held-out clean and PGD accuracy of a hardening run (``defense.training.harden``
    history) as a PNG, written atomically."""
    from alpr import atomic

    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=110)
    ep = history["epoch"]
    a1.plot(ep, history["loss"], "o-", label="training loss")
    a1.set_xlabel("epoch")
    a1.set_ylabel("loss")
    a1.grid(alpha=0.3)
    a1.legend()
    for key, label in (("train_clean_acc", "train clean"), ("train_adv_acc", "train adversarial"),
                       ("val_clean_acc", "held-out clean"), ("val_pgd_acc", "held-out PGD")):
        a2.plot(ep, np.asarray(history[key]) * 100, "o-", label=label)
    if history.get("restored_epoch") is not None:
        a2.axvline(history["restored_epoch"], color="k", ls="--", lw=1, label="restored (guard)")
    _accuracy_axes(a2, "epoch")
    fig.suptitle(title or "hardening curves", fontsize=9)
    fig.tight_layout()
    return atomic.save_figure(fig, path)


def _accuracy_axes(ax, xlabel: str) -> None:
    """Label, bound and grid an accuracy-in-percent plot and draw its legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(-2, 102)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)


def _attack_columns(results: dict) -> list[str]:
    cols = []
    for res in results.values():
        for row in res["eps"].values():
            for k in ("fgsm", "pgd", "square", "transfer", "autoattack"):
                if k in row and k not in cols:
                    cols.append(k)
    return cols


LABELS = {"fgsm": "FGSM", "pgd": "PGD", "square": "Square (black box)", "transfer": "transfer", "autoattack": "ART AutoAttack"}


def plot_curves(results: dict, path, *, title: str | None = None) -> Path:
    """Accuracy vs ε, one colour per model: PGD (solid) and per-sample worst case (dashed)."""
    from alpr import atomic

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for i, (name, res) in enumerate(results.items()):
        keys = list(res["eps"])
        xs = [0.0] + [float(k) for k in keys]
        colour = f"C{i}"
        ax.plot(xs, [res["clean"] * 100] + [res["eps"][k]["pgd"] * 100 for k in keys], "o-", color=colour,
                label=f"{name}: PGD-{res['settings']['steps']}×{res['settings']['restarts']}")
        ax.plot(xs, [res["clean"] * 100] + [res["eps"][k]["robust"] * 100 for k in keys], "s--", color=colour,
                label=f"{name}: worst case")
    ax.set_xscale("symlog", linthresh=2)
    ax.set_xticks(xs)
    ax.set_xticklabels([f"{v:g}" for v in xs])
    _accuracy_axes(ax, "ε (grey levels of 255, L∞)")
    ax.set_title(title or "accuracy vs ε (uint8-quantised attacks)", fontsize=9)
    fig.tight_layout()
    return atomic.save_figure(fig, path)


def markdown(results: dict, *, data: str, command: str | None = None, patch: dict | None = None,
             figure: str | None = None) -> str:
    """The report: settings, clean accuracy, per-ε table per model, before/after table, targeted
    table, sanity warnings and the optional physical-patch figures."""
    first = next(iter(results.values()))
    s = first["settings"]
    lines = ["# Robustness report", "", f"Data: {data}", ""]
    if command:
        lines += [f"Command: `{command}`", ""]
    lines += [f"Attacks (L∞, every adversarial image quantised to uint8 inside its ball): FGSM; PGD-{s['steps']} with "
              f"{s['restarts']} random restarts (step 2.5ε/steps); Square attack ({s['square_queries']} queries, "
              f"first {s['square_n']} samples); "
              + (f"ART AutoAttack (APGD-CE, APGD-DLR with {s.get('autoattack_iter', 100)} iterations, Square; first {s['autoattack_n']} samples)"
                 if s["autoattack_n"] else "ART AutoAttack not run")
              + (f"; transfer of PGD crafted on `{s['transfer_from']}`" if s.get("transfer_from") else "")
              + ". Robust accuracy = per-sample worst case over the attacks run; clean errors count as failures.", ""]
    if figure:
        lines += [f"![accuracy vs eps]({figure})", ""]
    cols = _attack_columns(results)
    for name, res in results.items():
        lines += [f"## {name}", "", f"n = {res['n']} attacked samples; clean accuracy on them {res['clean']:.2%}"
                  + (f"; clean accuracy on all {res['clean_all_n']} crops {res['clean_all']:.2%}" if "clean_all" in res else "")
                  + f"; evaluation time {res['seconds']:.0f} s.", ""]
        lines += ["| ε (/255) | " + " | ".join(LABELS[c] for c in cols) + " | **robust (worst case)** |",
                  "|---:|" + "---:|" * (len(cols) + 1)]
        for key, row in res["eps"].items():
            cells = [f"{row[c]:.1%}" + (f" (n={row['n_' + c]})" if "n_" + c in row else "") if c in row else "–" for c in cols]
            lines.append(f"| {key} | " + " | ".join(cells) + f" | **{row['robust']:.1%}** |")
        t = res.get("targeted")
        if t and "targets" in t:
            lines += ["", f"Targeted \"1\" → digit, PGD-{t['steps']} at ε = {t['eps_255']:g}/255 (n = {t['n']} \"1\"s read correctly): "
                      f"mean success {t['mean_success']:.1%}, max {max(r['success'] for r in t['targets'].values()):.1%}", "",
                      "| target | " + " | ".join(t["targets"]) + " |", "|---|" + "---:|" * len(t["targets"]),
                      "| success | " + " | ".join(f"{r['success']:.0%}" for r in t["targets"].values()) + " |"]
        elif t:
            lines += ["", f"Targeted table: {t.get('error')}"]
        lines += ["", f"Sanity: PGD at ε = 128/255 leaves {res['huge_eps_pgd']:.1%} correct; all-zero input gradients on "
                  f"{res['zero_grad_share']:.1%} of the samples."]
        lines += [f"- WARNING: {w}" for w in res["warnings"]] or ["- no sanity warning"]
        lines.append("")
    if len(results) > 1:
        names = list(results)
        lines += ["## Before / after", "", "| ε (/255) | " + " | ".join(f"{n} robust" for n in names) + " |",
                  "|---:|" + "---:|" * len(names), "| clean | " + " | ".join(f"{results[n]['clean']:.1%}" for n in names) + " |"]
        for key in first["eps"]:
            lines.append(f"| {key} | " + " | ".join(f"{results[n]['eps'][key]['robust']:.1%}" if key in results[n]["eps"] else "–" for n in names) + " |")
        lines.append("")
    if patch is not None:
        lines += ["## Physical patch (attacks/patch.py report)", "", f"Simulated success: {patch.get('simulated_success')}", ""]
    return "\n".join(lines) + "\n"
