"""alpr.workers: reading in worker processes gives what one process reads, reports a model it
cannot load in one line, and does not outlive a killed main process; `alpr recognize --workers`."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from alpr.cli import main
from alpr.pipeline import Recognizer
from alpr.synth.scene import render_scene
from alpr.workers import ReaderPool, WorkerStartError, default_workers

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


def test_read_many_in_worker_processes_reads_what_this_process_reads():
    images = [render_scene("de", seed=300 + i, size=(640, 480)).image for i in range(4)]
    recognizer = Recognizer(country="de")
    here = [recognizer.read(image) for image in images]
    assert any(here)  # something to compare
    assert list(recognizer.read_many(images, workers=2)) == here


def test_a_model_the_workers_cannot_load_is_one_line():
    with ReaderPool(1, country="es", model="/nonexistent/model.keras") as pool:
        with pytest.raises(WorkerStartError, match="^model file not found: /nonexistent/model.keras$"):
            pool.wait_ready()


def test_worker_processes_need_the_model_by_name():
    recognizer = Recognizer(country="es", model=Recognizer(country="es").models["es"])
    with pytest.raises(ValueError, match="name or a file path"):
        next(recognizer.read_many([], workers=2))
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ReaderPool(0, country="es")
    assert 1 <= default_workers() <= os.cpu_count()


def test_cli_workers_print_in_input_order_and_report_bad_files(tmp_path):
    for name in ("de_1.jpg", "es_1.jpg", "de_2.jpg"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
    (tmp_path / "broken.jpg").write_bytes(b"not an image")
    runs = {w: CliRunner().invoke(main, ["recognize", str(tmp_path), "--json", "--workers", w]) for w in ("1", "2")}
    for result in runs.values():
        assert result.exit_code == 1, result.output
    records = [json.loads(line) for line in runs["2"].stdout.splitlines()]
    assert [Path(r["image"]).name for r in records] == ["broken.jpg", "de_1.jpg", "de_2.jpg", "es_1.jpg"]
    assert "not a readable image" in records[0]["error"]
    assert [r["plates"][0]["text"] for r in records[1:]] == ["HDAD891", "MÜXZ512", "1234BCD"]
    assert runs["2"].stdout == runs["1"].stdout
    bad = CliRunner().invoke(main, ["recognize", str(tmp_path), "--workers", "0"])
    assert bad.exit_code == 2 and "expected a whole number >= 1 or auto" in bad.output


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc (Linux)")
def test_workers_exit_when_the_main_process_is_killed():
    script = ("from alpr.workers import ReaderPool\n"
              "if __name__ == '__main__':\n"
              "    pool = ReaderPool(1, country='es'); pool.wait_ready(); print('ready', flush=True)\n"
              "    import time; time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert parent.stdout.readline().strip() == "ready"
        workers = _children(parent.pid)
        assert workers
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_cli_evaluate_gives_the_same_figures_with_workers(tmp_path):
    labels = json.loads((SAMPLES / "labels.json").read_text())
    for name in ("de_1.jpg", "de_2.jpg", "es_1.jpg", "es_2.jpg"):
        (tmp_path / name).write_bytes((SAMPLES / name).read_bytes())
        xs, ys = zip(*labels[name]["quad"])
        box = [round(min(xs)), round(min(ys)), round(max(xs) - min(xs)), round(max(ys) - min(ys))]
        (tmp_path / name.replace(".jpg", ".txt")).write_text("\t".join([name, *map(str, box), labels[name]["text"]]) + "\n")
    figures = {}
    for workers in ("1", "2"):
        result = CliRunner().invoke(main, ["evaluate", str(tmp_path), "--format", "openalpr", "--json", "--workers", workers])
        assert result.exit_code == 0, result.output
        figures[workers] = json.loads(result.stdout)
        figures[workers].pop("images_per_second")
    assert figures["1"] == figures["2"]
    assert figures["2"]["detection_recall"] == 1.0 and figures["2"]["plate_exact_match"] == 1.0
