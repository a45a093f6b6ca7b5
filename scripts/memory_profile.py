"""Memory profile of ``alpr recognize`` on a large folder: does it stream?

Renders N photo-like 640x480 scenes (``alpr.synth.scene.render_scene``; German and Spanish,
alternating) into a folder, runs ``python -m alpr recognize FOLDER --json`` as a subprocess,
and samples the child's resident memory (``VmRSS``) and its high-water mark (``VmHWM``, the
peak so far) from ``/proc/PID/status`` each time it prints a result line, i.e. against the
number of images processed, summed over the child and its worker processes (a batch this
large is read by one worker per CPU; ``-- --workers 1`` reads in the child alone). Streaming
means memory is flat after warm-up: the peak after the first 100 images is close to the peak
at the end.

    python scripts/memory_profile.py                       # 1000 photos in /tmp/alpr_memory
    python scripts/memory_profile.py --count 200 --out /tmp/mem

Writes OUT/rss.csv (images, seconds, rss_mib, hwm_mib) and OUT/rss.png, and prints the
figures. The photos are kept in OUT/photos (re-used by the next run when the count matches).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def render_photos(folder: Path, count: int, seed: int = 0) -> float:
    """Write ``count`` JPEG scenes to ``folder`` (skipped if already there); returns seconds."""
    import cv2
    import numpy as np

    from alpr.synth.scene import render_scene

    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for i in range(count):
        path = folder / f"{i:05d}.jpg"
        if path.exists():
            continue
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        scene = render_scene("de" if i % 2 == 0 else "es", rng=rng, size=(640, 480))
        cv2.imwrite(str(path), scene.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return time.perf_counter() - start


def _status_kib(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # a process that ended meanwhile
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree += frontier
    return tree


def _tree_kib(tree: list[int], field: str) -> int | None:
    """``field`` of ``/proc/*/status`` summed over the processes of ``tree``."""
    values = [_status_kib(p, field) for p in tree]
    values = [v for v in values if v is not None]
    return sum(values) if values else None


def profile(folder: Path, extra_args: list[str]) -> dict:
    """Run ``alpr recognize`` on ``folder`` and sample its RSS (with its workers') after every result line."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "alpr", "recognize", str(folder), "--json", *extra_args]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=ROOT)
    rows, errors, plates = [], 0, 0
    first_line_s = None
    for line in child.stdout:
        record = json.loads(line)
        errors += record["error"] is not None
        plates += bool(record["plates"])
        tree = _process_tree(child.pid)  # the command and its workers, read once per sample
        rss, hwm = _tree_kib(tree, "VmRSS"), _tree_kib(tree, "VmHWM")
        now = time.perf_counter() - start
        first_line_s = first_line_s if first_line_s is not None else now
        rows.append((len(rows) + 1, round(now, 2), None if rss is None else round(rss / 1024, 1),
                     None if hwm is None else round(hwm / 1024, 1)))
    returncode = child.wait()
    seconds = time.perf_counter() - start
    max_rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return {"rows": rows, "returncode": returncode, "errors": errors, "with_plate": plates, "seconds": seconds,
            "first_result_s": first_line_s, "ru_maxrss_mib": round(max_rss_children, 1)}


def summarise(result: dict, warmup: int = 100) -> dict:
    """Peak RSS over the first ``warmup`` images vs over the whole run."""
    rss = [r[2] for r in result["rows"] if r[2] is not None]
    hwm = [r[3] for r in result["rows"] if r[3] is not None]
    n = len(result["rows"])
    early = rss[: min(warmup, len(rss))]
    late = rss[len(rss) // 2:]
    return {
        "images": n,
        "peak_rss_first_100_mib": max(early) if early else None,
        "peak_rss_end_mib": max(rss) if rss else None,
        "rss_at_100_mib": rss[min(warmup, len(rss)) - 1] if rss else None,
        "rss_at_end_mib": rss[-1] if rss else None,
        "hwm_after_first_result_mib": hwm[0] if hwm else None,
        "hwm_at_100_mib": hwm[min(warmup, len(hwm)) - 1] if hwm else None,
        "hwm_at_end_mib": hwm[-1] if hwm else None,
        "growth_second_half_mib": round(late[-1] - late[0], 1) if len(late) > 1 else None,
        "ru_maxrss_mib": result["ru_maxrss_mib"],
        "seconds": round(result["seconds"], 1),
        "first_result_s": None if result["first_result_s"] is None else round(result["first_result_s"], 1),
        "images_per_second": round(n / result["seconds"], 2) if result["seconds"] else None,
        "errors": result["errors"],
        "with_plate": result["with_plate"],
        "returncode": result["returncode"],
    }


def write_outputs(out: Path, result: dict, summary: dict) -> tuple[Path, Path]:
    """OUT/rss.csv and OUT/rss.png (RSS against images processed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpr import atomic

    csv_path, png_path = out / "rss.csv", out / "rss.png"
    with atomic.atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["images", "seconds", "rss_mib", "hwm_mib"])
        writer.writerows(result["rows"])
    images = [r[0] for r in result["rows"] if r[2] is not None]
    rss = [r[2] for r in result["rows"] if r[2] is not None]
    fig, ax = plt.subplots(figsize=(7, 3.5), dpi=100)
    ax.plot(images, rss, lw=1.2, label="RSS")
    hwm = [r[3] for r in result["rows"] if r[2] is not None]
    if all(v is not None for v in hwm):
        ax.plot(images, hwm, lw=1.0, ls="--", label="peak so far (VmHWM)")
        ax.legend(loc="lower right", fontsize=8)
    ax.axvline(100, color="grey", ls=":", lw=1)
    ax.set_xlabel("images processed")
    ax.set_ylabel("RSS (MiB)")
    ax.set_ylim(0, max(rss) * 1.15 if rss else 1)
    ax.set_title(f"alpr recognize on {summary['images']} photos: peak {summary['peak_rss_first_100_mib']} MiB "
                 f"(first 100) vs {summary['peak_rss_end_mib']} MiB (all)", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic.save_figure(fig, png_path)
    return csv_path, png_path


def main(argv=None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="photos to render and read (default 1000)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/alpr_memory"), help="work folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("args", nargs="*", help="extra arguments for alpr recognize (after --)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be >= 1")
    photos = args.out / "photos"
    existing = sorted(photos.glob("*.jpg")) if photos.is_dir() else []
    for extra in existing[args.count:]:
        extra.unlink()
    seconds = render_photos(photos, args.count, args.seed)
    print(f"photos: {args.count} in {photos} (rendered in {seconds:.1f} s)", flush=True)
    result = profile(photos, args.args)
    summary = summarise(result)
    csv_path, png_path = write_outputs(args.out, result, summary)
    for key, value in summary.items():
        print(f"{key:<26} {value}")
    print(f"wrote {csv_path} and {png_path}")
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    return 0 if summary["images"] == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
