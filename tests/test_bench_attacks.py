"""scripts/bench_attacks.py: a smoke run against ART on a few inputs (skipped without ART)."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attacks import toy
from scripts_module import load_script  # tests/scripts_module.py

ROOT = Path(__file__).resolve().parents[1]


def test_bench_script_runs_against_art(tmp_path):
    pytest.importorskip("art")
    toy.tiny_cnn().save(tmp_path / "toy.keras")  # untrained is enough to exercise the script
    x, y = toy.digits(24, seed=1)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    args = ["--model", str(tmp_path / "toy.keras"), "--data", str(tmp_path / "data.npz"), "--n", "24"]
    done = _run(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ours PGD-3" in done.stdout and "ART PGD-3" in done.stdout and "speed-up" in done.stdout
    assert "stop on succ." in done.stdout
    done = _run(*args, "--strength-seeds", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no random start: ours" in done.stdout and "mean over 2 seeds" in done.stdout


def _run(*args):
    # A subprocess: ART binds a logging handler to whatever sys.stderr is when it is imported.
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_attacks.py"), *args, "--batch-size", "8", "--steps", "3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_bench_script_rejects_unknown_model_name():
    bench = load_script("bench_attacks")
    with pytest.raises(SystemExit, match="no-such-model"):
        bench.load_model("no-such-model")
    with pytest.raises(SystemExit, match="model file not found"):
        bench.load_model("/nonexistent/model.keras")
