"""Reliability under hostile input: bad images in a batch, bad paths, existing outputs, bad
arguments, Ctrl-C, internal errors. The CLI contract: one line per image (JSON with "error"),
the batch goes on, one-line errors, exit codes 0 / 1 / 2 / 3 / 130, no traceback ever."""

import io
import json
import os
import re
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from alpr import imageio
from alpr.cli import main
from alpr.imageio import MAX_PIXELS, ImageError, decode_image, iter_image_paths, load_image
from imagefiles import png_bytes, png_header_only  # tests/imagefiles.py

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


def jpeg_with_orientation(array: np.ndarray, orientation: int) -> bytes:
    pil = Image.fromarray(array[:, :, ::-1])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", exif=exif, quality=95)
    return buf.getvalue()


def invoke(args, **kwargs):
    result = CliRunner().invoke(main, [str(a) for a in args], **kwargs)
    assert "Traceback" not in result.output, result.output
    return result


def one_line_error(result) -> str:
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    return lines[0]


@pytest.fixture(scope="module")
def recognizer():
    pytest.importorskip("keras")
    from alpr.pipeline import Recognizer

    return Recognizer(country="auto")


@pytest.fixture
def fast_recognize(recognizer, monkeypatch):
    """``alpr recognize`` with the module's recogniser (models loaded once)."""
    from alpr.cli import recognize

    monkeypatch.setattr(recognize, "load_reading_recognizer", lambda *a, **k: recognizer)
    return recognizer


# ---------------------------------------------------------------------------- a hostile batch


def hostile_folder(folder: Path) -> dict[str, str | None]:
    """Write every kind of odd file; returns name -> expected error fragment (None: readable)."""
    rng = np.random.default_rng(0)
    photo = cv2.imread(str(SAMPLES / "de_1.jpg"))
    files = {
        "good.jpg": (cv2.imencode(".jpg", photo)[1].tobytes(), None),
        "empty.jpg": (b"", "empty file"),
        "truncated.jpg": (cv2.imencode(".jpg", photo)[1].tobytes()[:2000], "not a readable image"),
        "text.png": (b"hello, I am not an image\n", "not a readable image"),
        "png_named.bmp": (png_bytes(rng.integers(0, 255, (20, 30, 3), dtype=np.uint8)), None),
        "one_pixel.png": (png_bytes(np.full((1, 1, 3), 128, np.uint8)), None),
        "grey.png": (png_bytes(np.full((40, 60), 90, np.uint8)), None),
        "alpha.png": (png_bytes(np.dstack([np.zeros((40, 60, 3), np.uint8), np.full((40, 60), 128, np.uint8)])), None),
        "sixteen.png": (png_bytes(rng.integers(0, 65535, (40, 60), dtype=np.uint16)), None),
        # stored sideways (90° counter-clockwise) with EXIF "rotate 90° clockwise to display"
        "rotated.jpg": (jpeg_with_orientation(np.ascontiguousarray(np.rot90(photo)), 6), None),
        "bomb.png": (png_header_only(16000, 16000), "exceeds the limit"),
        "bomb_small.png": (png_header_only(9000, 9000), "exceeds the limit"),
    }
    for name, (data, _) in files.items():
        (folder / name).write_bytes(data)
    (folder / "notes.txt").write_text("not an image suffix: skipped in folders")
    return {name: expected for name, (_, expected) in files.items()}


def test_hostile_batch_reports_each_file_and_goes_on(tmp_path, fast_recognize):
    expected = hostile_folder(tmp_path)
    missing = tmp_path / "missing.jpg"
    result = invoke(["recognize", tmp_path, missing, "--json"])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_name = {Path(r["image"]).name: r for r in records}
    assert set(by_name) == set(expected) | {"missing.jpg"}
    for name, fragment in expected.items():
        error = by_name[name]["error"]
        if fragment is None:
            assert error is None, (name, error)
        else:
            assert error and fragment in error and "\n" not in error, (name, error)
    assert "no such file" in by_name["missing.jpg"]["error"]
    good = by_name["good.jpg"]["plates"]
    assert good and good[0]["formatted"] == "HD AD 891"
    rotated = by_name["rotated.jpg"]["plates"]  # EXIF-rotated: read upright
    assert rotated and rotated[0]["text"] == "HDAD891"


def test_all_good_exits_zero_and_text_mode(tmp_path, fast_recognize):
    shutil.copy(SAMPLES / "es_1.jpg", tmp_path / "a.jpg")
    result = invoke(["recognize", tmp_path / "a.jpg"])
    assert result.exit_code == 0 and re.search(r": 1234 BCD \(es, [01]\.\d\d\)$", result.stdout.strip()), result.output


def test_no_images_and_bad_directory_are_usage_errors(tmp_path, fast_recognize):
    result = invoke(["recognize", tmp_path])
    assert result.exit_code == 2 and "no images found" in one_line_error(result)


def test_fifo_is_not_read_and_odd_names_stay_one_line(tmp_path, fast_recognize):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xffname\nwith newline.png"))
    odd.write_bytes(b"")
    result = invoke(["recognize", fifo, odd])
    lines = result.stdout.splitlines()
    assert result.exit_code == 1 and len(lines) == 2, result.output
    assert "not a regular file" in lines[0] and "\\xff" in lines[1] and "\\n" in lines[1]
    result = invoke(["recognize", fifo, odd, "--json"])
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and all(r["error"] for r in records)


@pytest.mark.skipif(ROOT_USER, reason="root reads files whatever their mode")
def test_unreadable_file(tmp_path, fast_recognize):
    path = tmp_path / "secret.jpg"
    shutil.copy(SAMPLES / "de_1.jpg", path)
    path.chmod(0)
    try:
        result = invoke(["recognize", path, "--json"])
    finally:
        path.chmod(0o644)
    assert result.exit_code == 1 and "permission denied" in json.loads(result.stdout)["error"]


def test_help_documents_exit_codes_and_pixel_limit():
    text = invoke(["recognize", "--help"]).output
    assert f"{MAX_PIXELS:,} pixels" in text and "16000x16000" in text
    for code in ("0 ", "1 ", "2 ", "130"):
        assert code in text
    assert "--force" in text
    assert "130" in invoke(["--help"]).output


# ---------------------------------------------------------------------------- streaming and Ctrl-C


def test_results_stream_and_ctrl_c_stops_cleanly(tmp_path, fast_recognize, monkeypatch):
    """Read in this process (``--workers 1``; ``auto`` first looks up to ``AUTO_WORKERS_FROM``
    paths ahead to choose), the first result is printed before the third path is even asked for
    (the next image is loaded and detected one ahead, no further); Ctrl-C then gives one line
    'interrupted' and exit 130."""
    from alpr.cli import recognize as R

    shutil.copy(SAMPLES / "es_1.jpg", tmp_path / "a.jpg")
    shutil.copy(SAMPLES / "es_2.jpg", tmp_path / "b.jpg")

    def paths(_):
        yield tmp_path / "a.jpg"
        yield tmp_path / "b.jpg"
        raise KeyboardInterrupt

    monkeypatch.setattr(imageio, "iter_image_paths", paths)
    assert R.command  # the command imports iter_image_paths from alpr.imageio when run
    result = invoke(["recognize", tmp_path, "--json", "--workers", "1"])
    assert result.exit_code == 130
    assert [json.loads(line)["plates"][0]["text"] for line in result.stdout.splitlines()] == ["1234BCD"]
    assert result.stderr.strip().splitlines()[-1] == "interrupted"


def test_iter_image_paths_is_lazy(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(b"x")
    gen = iter_image_paths([tmp_path, tmp_path / "nope.png"])
    assert iter(gen) is gen  # a generator, not a list
    assert [p.name for p in gen] == ["0.jpg", "1.jpg", "2.jpg", "nope.png"]


def test_interrupted_render_leaves_no_partial_files(tmp_path, monkeypatch):
    from alpr import atomic

    real = atomic.write_bytes
    calls = []

    def flaky(path, data):
        calls.append(path)
        if len(calls) == 2:  # Ctrl-C in the middle of writing the second image
            with atomic.atomic_path(path) as tmp:
                tmp.write_bytes(data[: len(data) // 2])
                raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(atomic, "write_bytes", flaky)
    out = tmp_path / "out"
    result = invoke(["render", "--count", "3", "--out", out])
    assert result.exit_code == 130 and "interrupted" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["00000.png"]  # complete files only, no temp files


def test_sigterm_and_internal_errors_are_one_line(tmp_path, monkeypatch):
    from alpr.cli import Terminated
    from alpr.synth import render as synth_render

    def boom(*a, **k):
        raise RuntimeError("something deep\nbroke")

    monkeypatch.setattr(synth_render, "render_plate", boom)
    result = invoke(["render", "--count", "1", "--out", tmp_path / "a"])
    assert result.exit_code == 3
    line = result.output.strip().splitlines()[-1]  # after the progress label "rendering"
    assert "internal error: RuntimeError: something deep" in line and "ALPR_DEBUG" in line

    def term(*a, **k):
        raise Terminated()

    monkeypatch.setattr(synth_render, "render_plate", term)
    result = invoke(["render", "--count", "1", "--out", tmp_path / "b"])
    assert result.exit_code == 143 and "terminated" in result.output


# ---------------------------------------------------------------------------- output paths


@pytest.fixture
def a_file(tmp_path):
    path = tmp_path / "plain_file"
    path.write_text("x")
    return path


def test_annotate_dir_under_a_file_is_refused_before_work(a_file, fast_recognize):
    result = invoke(["recognize", SAMPLES / "de_1.jpg", "--annotate", a_file / "sub"])
    assert result.exit_code == 2 and "--annotate" in one_line_error(result)
    result = invoke(["recognize", SAMPLES / "de_1.jpg", "--annotate", a_file])
    assert result.exit_code == 2 and "not a folder" in one_line_error(result)


def test_annotate_never_overwrites_without_force(tmp_path, fast_recognize):
    out = tmp_path / "ann"
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    shutil.copy(SAMPLES / "de_1.jpg", a / "car.jpg")
    shutil.copy(SAMPLES / "es_1.jpg", b / "car.png")
    result = invoke(["recognize", a / "car.jpg", b / "car.png", "--annotate", out])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["car-2.jpg", "car.jpg"]  # same stem: no clobbering
    before = (out / "car.jpg").read_bytes()
    (out / "car.jpg").write_bytes(b"keep me")
    result = invoke(["recognize", a / "car.jpg", "--annotate", out, "--json"])
    assert result.exit_code == 1 and "--force" in json.loads(result.stdout)["error"]
    assert (out / "car.jpg").read_bytes() == b"keep me"
    result = invoke(["recognize", a / "car.jpg", "--annotate", out, "--force"])
    assert result.exit_code == 0 and (out / "car.jpg").read_bytes() == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_render_refuses_existing_outputs_and_bad_out(tmp_path, a_file):
    out = tmp_path / "plates"
    assert invoke(["render", "--count", "2", "--out", out]).exit_code == 0
    labels = (out / "labels.json").read_text()
    result = invoke(["render", "--count", "2", "--out", out, "--seed", "5"])
    assert result.exit_code == 2 and "--force" in one_line_error(result)
    assert (out / "labels.json").read_text() == labels
    assert invoke(["render", "--count", "2", "--out", out, "--seed", "5", "--force"]).exit_code == 0
    assert (out / "labels.json").read_text() != labels
    result = invoke(["render", "--count", "1", "--out", a_file / "x"])
    assert result.exit_code == 2 and "cannot create folder" in one_line_error(result)


def test_train_checks_its_output_before_training(tmp_path, a_file, monkeypatch):
    from alpr import training

    monkeypatch.setattr(training, "train", lambda *a, **k: pytest.fail("must not train"))
    existing = tmp_path / "m.keras"
    existing.write_bytes(b"old")
    for out, fragment in ((existing, "--force"), (a_file / "m.keras", "not a folder"), (tmp_path, "is a directory")):
        result = invoke(["train", "--country", "es", "--out", out, "--quiet"])
        assert result.exit_code == 2 and fragment in one_line_error(result), result.output
    existing.unlink()
    existing.with_suffix(".json").write_text("{}")  # the card counts as an output too
    result = invoke(["train", "--country", "es", "--out", existing])
    assert result.exit_code == 2 and "m.json exists" in one_line_error(result)


def test_evaluate_records_is_checked_before_work(tmp_path, a_file, monkeypatch):
    from alpr import evaluation

    monkeypatch.setattr(evaluation, "load_dataset", lambda *a: pytest.fail("must not load"))
    records = tmp_path / "records.jsonl"
    records.write_text("old")
    for path, fragment in ((records, "--force"), (a_file / "r.jsonl", "not a folder"), (tmp_path, "folder")):
        result = invoke(["evaluate", tmp_path, "--format", "openalpr", "--records", path])
        assert result.exit_code == 2 and fragment in one_line_error(result), result.output


def test_evaluate_bad_dataset_is_one_line(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    (tmp_path / "images" / "a.jpg").write_bytes(b"not a jpeg")
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    result = invoke(["evaluate", tmp_path, "--format", "yolo-plates"])
    assert result.exit_code == 2 and "cannot read the yolo-plates dataset" in one_line_error(result)


def test_attack_outputs(tmp_path, a_file):
    out = tmp_path / "adv"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    photo = SAMPLES / "es_1.jpg"
    result = invoke(["attack", photo, "--out", out])
    assert result.exit_code == 2 and "--force" in one_line_error(result)
    (out / "summary.json").unlink()
    (out / "es_1_adv.png").write_bytes(b"x")
    result = invoke(["attack", photo, "--out", out])
    assert result.exit_code == 2 and "es_1_adv.png exists" in one_line_error(result)
    result = invoke(["attack", photo, "--out", a_file / "adv"])
    assert result.exit_code == 2 and "cannot create folder" in one_line_error(result)
    (out / "curve.csv").write_text("")
    result = invoke(["attack", "--sweep", "--model", "es", "--out", out])
    assert result.exit_code == 2 and "--force" in one_line_error(result)


# ---------------------------------------------------------------------------- arguments

BAD_ARGUMENTS = [
    (["recognize", "x.jpg", "--min-confidence", "1.5"], "<= 1"),
    (["recognize", "x.jpg", "--min-confidence", "-0.1"], ">= 0"),
    (["recognize", "x.jpg", "--min-confidence", "nan"], "expected a number"),
    (["recognize", "x.jpg", "--min-confidence", "abc"], "expected a number"),
    (["recognize", "x.jpg", "--country", "fr"], "fr"),
    (["recognize"], "PATH"),
    (["recognize", "x.jpg", "--seed", "-1"], "--seed"),
    (["render", "--out", "o", "--count", "0"], "--count"),
    (["render", "--out", "o", "--height", "0"], "--height"),
    (["render", "--out", "o", "--size", "0x0"], "--size"),
    (["render", "--out", "o", "--size", "wide"], "--size"),
    (["render", "--count", "2"], "--out"),
    (["train", "--country", "es", "--out", "m.keras", "--epochs", "0"], "--epochs"),
    (["train", "--country", "es", "--out", "m.keras", "--samples", "0"], "--samples"),
    (["train", "--country", "es", "--out", "m.keras", "--test-samples", "0"], "--test-samples"),
    (["train", "--country", "es", "--out", "m.keras", "--width", "0"], "--width"),
    (["train", "--country", "es", "--out", "m.keras", "--batch-size", "0"], "--batch-size"),
    (["train", "--country", "es", "--out", "m.keras", "--lr", "0"], "> 0"),
    (["train", "--country", "es", "--out", "m.keras", "--lr", "-1e-3"], "> 0"),
    (["train", "--country", "es", "--out", "m.keras", "--lr", "inf"], "expected a number"),
    (["train", "--country", "es", "--out", "m.keras", "--lr", "1e999"], "expected a number"),
    (["train", "--country", "es", "--out", "m.h5"], ".keras"),
    (["attack", "x.jpg", "--out", "o", "--eps", "-1/255"], ">= 0"),
    (["attack", "x.jpg", "--out", "o", "--eps", "2"], "<= 1"),
    (["attack", "x.jpg", "--out", "o", "--eps", "1/0"], "expected a number"),
    (["attack", "x.jpg", "--out", "o", "--eps", "four"], "expected a number"),
    (["attack", "x.jpg", "--out", "o", "--steps", "0"], "--steps"),
    (["attack", "x.jpg", "--out", "o", "--restarts", "0"], "--restarts"),
    (["attack", "x.jpg", "--out", "o", "--jitter", "-1"], "--jitter"),
    (["attack", "x.jpg", "--out", "o", "--step-size", "0"], "--step-size"),
    (["attack", "x.jpg", "--out", "o", "--position", "-2"], "--position"),
    (["attack", "x.jpg", "--out", "o", "--seed", "-1"], "--seed"),
    (["attack", "x.jpg", "--out", "o", "--norm", "1"], "--norm"),
    (["attack", "--sweep", "--model", "es", "--out", "o", "--samples", "0"], "--samples"),
    (["attack", "--sweep", "--model", "es", "--out", "o", "--sweep-eps", "0,x"], "--sweep-eps"),
    (["attack", "--sweep", "--model", "es", "--out", "o", "--sweep-eps", "0,2"], "<= 1"),
    (["evaluate", ".", "--format", "coco"], "--format"),
    (["evaluate", "/nonexistent/dataset", "--format", "openalpr"], "does not exist"),
    (["frobnicate"], "No such command"),
    (["--no-such-option"], "No such option"),
]


@pytest.mark.parametrize("args, fragment", BAD_ARGUMENTS, ids=[" ".join(a) for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_exit_2(args, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(args)
    assert result.exit_code == 2, result.output
    assert fragment in one_line_error(result)


def test_fraction_syntax_is_accepted_everywhere(fast_recognize, tmp_path):
    shutil.copy(SAMPLES / "de_1.jpg", tmp_path / "a.jpg")
    assert invoke(["recognize", tmp_path / "a.jpg", "--min-confidence", "1/2"]).exit_code == 0


# ---------------------------------------------------------------------------- loader details


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillow(orientation):
    from PIL import ImageOps

    array = np.random.default_rng(orientation).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    pil = Image.fromarray(array)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    pil.save(buf, format="PNG", exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))[:, :, ::-1]
    assert np.array_equal(decode_image(buf.getvalue()), expected)


@pytest.mark.parametrize(
    "array",
    [
        np.dstack([np.full((4, 5), 10, np.uint8), np.full((4, 5), 0, np.uint8)]),  # grey + alpha (transparent)
        np.full((4, 5, 3), np.nan, np.float32),  # float with NaN
        np.array([[-1.0, 0.5], [2.0, np.inf]], np.float32),
        np.full((3, 3), -5, np.int16),
        np.full((3, 3), 7, np.int32),
        np.zeros((3, 3, 6), np.uint8),  # more than four channels
    ],
)
def test_to_bgr8_handles_odd_arrays(array):
    with np.errstate(all="raise"):
        out = imageio.to_bgr8(array)
    assert out.dtype == np.uint8 and out.shape == (*array.shape[:2], 3) and out.flags["C_CONTIGUOUS"]


def test_float_tiff_and_limits(tmp_path, monkeypatch):
    ok, buf = cv2.imencode(".tiff", np.full((6, 4), 0.5, np.float32))
    assert ok and decode_image(buf.tobytes()).max() == 127
    big = tmp_path / "big.png"
    big.write_bytes(png_bytes(np.zeros((4, 4, 3), np.uint8)))
    monkeypatch.setattr(imageio, "MAX_FILE_BYTES", 10)
    with pytest.raises(ImageError, match="exceeds the limit of 10 bytes"):
        load_image(big)
    monkeypatch.setattr(imageio, "MAX_PIXELS", 15)
    with pytest.raises(ImageError, match="4x4 exceeds the limit of 15 pixels"):
        decode_image(big.read_bytes())


def test_corrupt_files_print_nothing_to_stderr(capfd):
    photo = cv2.imencode(".png", np.zeros((30, 30, 3), np.uint8))[1].tobytes()
    damaged = bytearray(photo)
    damaged[60:70] = b"\xff" * 10
    tiff = cv2.imencode(".tiff", np.zeros((30, 30, 3), np.uint8))[1].tobytes()
    for data in (bytes(damaged), tiff[:300], cv2.imencode(".jpg", np.zeros((64, 64, 3), np.uint8))[1].tobytes()[:400]):
        try:
            decode_image(data)
        except ImageError:
            pass
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_unlisted_directory_and_symlink_loop(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.png").write_bytes(png_bytes(np.zeros((2, 2, 3), np.uint8)))
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    assert [p.name for p in iter_image_paths([tmp_path])] == ["x.png"]
    with pytest.raises(ImageError, match="is a directory"):
        load_image(tmp_path)


def test_real_ctrl_c_in_a_subprocess(tmp_path):
    """SIGINT to a real ``alpr render`` process: exit 130, 'interrupted', no traceback, only
    complete files in the output folder."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    # the child takes Ctrl-C as one started from a terminal does, even when this test runs in a
    # background job, whose children inherit SIGINT ignored (and Python then keeps ignoring it)
    start = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
             "sys.argv = ['alpr'] + sys.argv[1:]; runpy.run_module('alpr', run_name='__main__')")
    child = subprocess.Popen([sys.executable, "-c", start, "render", "--count", "100000", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    # Ctrl-C once the render is under way (a loaded machine may take long to start it: a signal
    # that came during start-up would test start-up, and one that came before the child's own
    # handler was set, in a background job, would be ignored)
    deadline = time.time() + 300
    while time.time() < deadline and len(list(out.glob("*.png"))) < 3 and child.poll() is None:
        time.sleep(0.05)
    if len(list(out.glob("*.png"))) < 3:
        child.kill()
        pytest.fail(f"alpr render wrote fewer than 3 plates in 300 s: {child.communicate()[1]!r}")
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
    files = list(out.iterdir())
    assert files and not [p for p in files if p.name.startswith(".")]
    for png in files:
        assert cv2.imread(str(png)) is not None


def hostile_tiff(samples_per_pixel: int = 60000) -> bytes:
    """A 1x1 TIFF whose SamplesPerPixel tag is absurd (Pillow logs an error about it)."""
    tags = [(256, 1), (257, 1), (258, 8), (259, 1), (262, 1), (273, 8 + 2 + 9 * 12 + 4), (277, samples_per_pixel),
            (278, 1), (279, 1)]
    ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHIHH", tag, 3, 1, value, 0) for tag, value in tags)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00"


def test_pillow_log_messages_do_not_reach_stderr(capfd):
    try:
        decode_image(hostile_tiff())
    except ImageError:
        pass
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("text", ["nan", "inf", "-inf", "1e999", "1/0", "", "4//255", None])
def test_parse_fraction_refuses_non_finite_and_junk(text):
    from alpr.cli.common import UserError, parse_fraction

    with pytest.raises(UserError) as info:
        parse_fraction(text, name="--eps")
    assert info.value.format_message().startswith("--eps: ")


def test_parse_fraction_open_bound_and_unnamed():
    from alpr.cli.common import UserError, parse_fraction

    assert parse_fraction("1/300", low=0, low_inclusive=False) == pytest.approx(1 / 300)
    with pytest.raises(UserError, match="^must be > 0"):
        parse_fraction("0", name=None, low=0, low_inclusive=False)


def test_echo_line_survives_unencodable_text():
    from alpr.cli.common import echo_line

    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    echo_line("DÜW AS 870 bad\udcffname", file=stream)
    assert raw.getvalue() == b"D\\xdcW AS 870 bad\\udcffname\n"
