"""scripts/benchmark.py: a smoke run on two rendered photos (a missing peer is a note, not a crash)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_reports_the_median_of_its_passes():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--n", "2", "--passes", "2", "--countries", "de",
         "--cv4-python", "/nonexistent/python", "--json", "--workers", "2"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {row["system"]: row for row in json.loads(done.stdout)}
    for system in ("alpr (this project)", "alpr (read_crop, GT crops)"):
        assert rows[system]["images_per_s"] > 0
        assert rows[system]["note"].startswith("median of 2 passes; ")
        assert set(rows[system]["stage_ms"]) >= {"segment", "cnn", "decode"}
    assert "detect" in rows["alpr (this project)"]["stage_ms"]
    workers = rows["alpr (this project, 2 worker processes)"]
    assert workers["images_per_s"] > 0 and "workers started in" in workers["note"]
    assert workers["exact_plates"] == rows["alpr (this project)"]["exact_plates"]
    assert rows["OpenCV 4 Haar cascade (detection)"]["note"].startswith("haar run failed: No such file")
    machine = rows["machine reference"]
    for reading in (machine["before"], machine["after"]):
        assert reading["python_loop_ms"] > 0 and reading["matmul_gflops"] > 0
    assert machine["note"].startswith(f"{os.cpu_count()} CPUs (OpenCV and TensorFlow on one thread each); "
                                      "character CNN and plate detector read by ")
    assert machine["cnn_weights"] in {"int8", "float32", "keras"} and "pure-Python loop" in machine["note"]


def test_benchmark_will_not_time_attacks_on_one_thread():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--n", "2", "--attack-model", "es"],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "run it alone (--n 0) or give --default-threads" in done.stderr


def test_benchmark_refuses_zero_passes():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "benchmark.py"), "--passes", "0"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2 and "--passes must be >= 1" in done.stderr
