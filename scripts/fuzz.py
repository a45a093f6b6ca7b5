"""Long fuzz run of the hostile-input surfaces: the image loader, the plate grammar and the decoder.

Each target is a Hypothesis strategy plus a property (``check_*``). The property holds when the
function under test either returns a well-formed result or raises the one documented error
(``ImageError`` / ``ValueError`` with a one-line message); any other exception, a malformed
result or a multi-line message is a *failure*. Failures are recorded (not raised), so a target
runs all its examples and the report counts failing examples and distinct failure signatures.

    python scripts/fuzz.py                        # every target, 20000 examples each
    python scripts/fuzz.py --examples 500 --target decode --target grammar
    python scripts/fuzz.py --json fuzz.json       # also write the figures

``tests/test_fuzz.py`` runs the same properties with a few hundred examples as unit tests.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr import plates  # noqa: E402
from alpr.decode import Decoded, decode  # noqa: E402
from alpr.imageio import MAX_PIXELS, ImageError, decode_image  # noqa: E402

# ---------------------------------------------------------------------------- image loader

ENCODINGS = (".png", ".jpg", ".tiff", ".bmp", ".webp")
LOSSLESS = (".png", ".tiff", ".bmp")


def _encode(array: np.ndarray, ext: str) -> bytes | None:
    ok, buf = cv2.imencode(ext, array)
    return buf.tobytes() if ok else None


def _seed_files() -> list[bytes]:
    """Small valid files in every format (plus EXIF JPEG, 16-bit and grey+alpha PNG, GIF, PPM):
    the starting points that header-then-garbage and mutation strategies corrupt."""
    from PIL import Image

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    out = [_encode(rgb, ext) for ext in ENCODINGS]
    out.append(_encode(rng.integers(0, 65536, (7, 5), dtype=np.uint16), ".png"))
    out.append(_encode(rng.integers(0, 256, (6, 6, 4), dtype=np.uint8), ".png"))
    for fmt, mode, extra in (("JPEG", "RGB", "exif"), ("GIF", "P", None), ("PPM", "RGB", None), ("TIFF", "LA", None)):
        image = Image.fromarray(rgb).convert(mode)
        buf = io.BytesIO()
        if extra == "exif":
            exif = Image.Exif()
            exif[0x0112] = 6
            image.save(buf, format=fmt, exif=exif)
        else:
            image.save(buf, format=fmt)
        out.append(buf.getvalue())
    return [b for b in out if b]


SEED_FILES = _seed_files()


def check_image_bytes(data: bytes) -> None:
    """``decode_image`` gives (H, W, 3) uint8 within the pixel limit or a one-line ImageError."""
    try:
        image = decode_image(data, name="fuzz.bin")
    except ImageError as err:
        message = str(err)
        assert message and "\n" not in message, f"bad ImageError message {message!r}"
        return
    assert isinstance(image, np.ndarray), type(image)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, (image.dtype, image.shape)
    assert image.shape[0] >= 1 and image.shape[1] >= 1 and image.shape[0] * image.shape[1] <= MAX_PIXELS
    assert image.flags["C_CONTIGUOUS"]


random_bytes = st.binary(min_size=0, max_size=2048)


@st.composite
def header_then_garbage(draw):
    """A valid file cut anywhere, followed by random bytes (a truncated or corrupted download)."""
    base = draw(st.sampled_from(SEED_FILES))
    cut = draw(st.integers(0, len(base)))
    return base[:cut] + draw(st.binary(max_size=512))


@st.composite
def mutated_file(draw):
    """A valid file with a few bytes overwritten (bit rot, fuzzed header fields)."""
    data = bytearray(draw(st.sampled_from(SEED_FILES)))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


@st.composite
def encoded_arrays(draw):
    """(array, extension, bytes): a small random image encoded by OpenCV."""
    ext = draw(st.sampled_from(ENCODINGS))
    h, w = draw(st.integers(1, 24)), draw(st.integers(1, 24))
    channels = draw(st.sampled_from([None, 3] if ext in (".jpg", ".webp") else [None, 1, 3, 4]))
    dtype = np.uint16 if ext in (".png", ".tiff") and draw(st.booleans()) else np.uint8
    shape = (h, w) if channels is None else (h, w, channels)
    seed = draw(st.integers(0, 2**32 - 1))
    array = np.random.default_rng(seed).integers(0, np.iinfo(dtype).max + 1, shape, dtype=dtype)
    data = _encode(array, ext)
    return array, ext, data


def check_encoded_array(sample) -> None:
    """Encoded random arrays decode to (H, W, 3) uint8 of the same size; lossless 8-bit BGR exactly."""
    array, ext, data = sample
    if data is None:  # OpenCV cannot write this combination: nothing to check
        return
    image = decode_image(data, name=f"fuzz{ext}")
    assert image.dtype == np.uint8 and image.shape == (*array.shape[:2], 3), (ext, array.shape, image.shape)
    if ext in LOSSLESS and array.dtype == np.uint8:
        if array.ndim == 3 and array.shape[2] == 3:
            assert np.array_equal(image, array), ext
        elif array.ndim == 2 or array.shape[2] == 1:
            assert np.array_equal(image, np.repeat(array.reshape(*array.shape[:2], 1), 3, axis=2)), ext


# ---------------------------------------------------------------------------- plate grammar

PLATE_CHARS = plates.DIGITS + plates.LATIN + plates.UMLAUTS + "abcxyzäöü -.·:ÑQ\t"


@st.composite
def plate_like(draw):
    """Strings near the grammars: plate characters and separators, or real plates mutated."""
    if draw(st.booleans()):
        return draw(st.text(alphabet=PLATE_CHARS, max_size=14))
    country = draw(st.sampled_from(plates.COUNTRIES))
    plate = plates.random_plate(country, np.random.default_rng(draw(st.integers(0, 2**32 - 1))), old_es_rate=0.3)
    text = list(draw(st.sampled_from([plate.text, plate.formatted, plate.formatted.lower()])))
    for _ in range(draw(st.integers(0, 2))):
        if text:
            text[draw(st.integers(0, len(text) - 1))] = draw(st.sampled_from(PLATE_CHARS))
    return "".join(text)


grammar_inputs = st.tuples(st.one_of(st.text(max_size=24), plate_like()), st.sampled_from(plates.COUNTRIES))


def check_grammar(sample) -> None:
    """``parse``/``is_valid`` never raise on any string; valid plates round-trip."""
    text, country = sample
    parsed = plates.parse(text, country)
    assert plates.is_valid(text, country) == (parsed is not None)
    if parsed is None:
        return
    assert parsed.country == country and all(parsed.groups), parsed
    assert set(parsed.text) <= set(plates.DIGITS + plates.LATIN + (plates.UMLAUTS if country == "de" else "")), parsed
    assert plates.parse(parsed.formatted, country) == parsed, (parsed, plates.parse(parsed.formatted, country))
    assert plates.is_valid(parsed.text, country)


random_plates = st.tuples(st.sampled_from(plates.COUNTRIES), st.integers(0, 2**32 - 1))


def check_random_plate(sample) -> None:
    """Every generated plate is valid and round-trips through ``parse``."""
    country, seed = sample
    plate = plates.random_plate(country, np.random.default_rng(seed), old_es_rate=0.5)
    assert plates.parse(plate.formatted, country) == plate, plate
    assert plates.is_valid(plate.text, country), plate


# ---------------------------------------------------------------------------- decoder


@st.composite
def decoder_inputs(draw):
    """Probability matrices, mostly well formed, sometimes hostile (NaN, inf, negative, odd shapes)."""
    country = draw(st.sampled_from(plates.COUNTRIES))
    alphabet = draw(st.one_of(
        st.sampled_from(list(plates.ALPHABETS.values())),
        st.lists(st.sampled_from(plates.DIGITS + plates.LATIN + plates.UMLAUTS), unique=True, max_size=40).map("".join),
    ))
    n = draw(st.integers(0, 9))
    kind = draw(st.sampled_from(["softmax", "softmax", "softmax", "one-hot", "floats", "shape"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = len(alphabet)
    if kind == "softmax":
        z = rng.normal(0, draw(st.floats(0.1, 8)), (n, k))
        probs = np.exp(z - z.max(axis=1, keepdims=True)) if k else np.zeros((n, 0))
        probs = probs / probs.sum(axis=1, keepdims=True) if k else probs
    elif kind == "one-hot":
        probs = np.eye(max(k, 1))[rng.integers(0, max(k, 1), n)][:, :k]
    elif kind == "floats":
        values = st.floats(allow_nan=True, allow_infinity=True, width=32)
        probs = np.array(draw(st.lists(values, min_size=n * k, max_size=n * k)), dtype=np.float64).reshape(n, k)
    else:
        shape = draw(st.sampled_from([(n,), (n, k + 1), (n, max(k - 1, 0)), (n, k, 1), (), (1, n, k)]))
        probs = rng.random(shape)
    indices = st.sets(st.integers(-3, 12), max_size=4)
    options = dict(gaps=draw(indices), unknown=draw(indices), max_drop=draw(st.integers(0, 3)),
                   max_missing=draw(st.integers(0, 2)), red_ink=draw(st.booleans()))
    return probs, alphabet, country, options


def check_decode(sample) -> None:
    """``decode`` returns None, a well-formed valid plate, or raises a one-line ValueError."""
    probs, alphabet, country, options = sample
    try:
        result = decode(probs, alphabet, country, **options)
    except ValueError as err:
        assert str(err) and "\n" not in str(err), repr(str(err))
        return
    if result is None:
        return
    assert isinstance(result, Decoded), type(result)
    assert result.country == country
    assert set(result.text) <= set(alphabet), (result.text, alphabet)
    assert 0.0 <= result.confidence <= 1.0, result.confidence
    assert np.isfinite(result.log_score), result.log_score
    n = len(np.asarray(probs))
    assert all(0 <= i < n for i in result.kept), result.kept
    if result.missing == 0:
        assert plates.is_valid(" ".join(result.groups), country), result.groups


# ---------------------------------------------------------------------------- runner

TARGETS = {
    "image-random-bytes": (random_bytes, check_image_bytes),
    "image-header-garbage": (header_then_garbage(), check_image_bytes),
    "image-mutated": (mutated_file(), check_image_bytes),
    "image-encoded-arrays": (encoded_arrays(), check_encoded_array),
    "grammar": (grammar_inputs, check_grammar),
    "grammar-random-plates": (random_plates, check_random_plate),
    "decode": (decoder_inputs(), check_decode),
}


def _signature(err: BaseException) -> str:
    """Exception type and the innermost project frame: one line per distinct bug."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if "/alpr/" in f.filename or "fuzz" in f.filename]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    first = str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
    return f"{type(err).__name__}{where}: {first}"


def run_target(name: str, examples: int, *, seed: int | None = None) -> dict:
    """Run one target for ``examples`` Hypothesis examples; returns the figures and failures."""
    strategy, check = TARGETS[name]
    stats = {"examples": 0, "failures": 0, "signatures": Counter(), "samples": {}}

    @settings(max_examples=examples, deadline=None, database=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), phases=("generate",))
    @given(strategy)
    def body(sample):
        stats["examples"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a warning reaching the user counts as a failure
                check(sample)
        except Exception as err:  # noqa: BLE001 - recorded, the run goes on
            stats["failures"] += 1
            sig = _signature(err)
            stats["signatures"][sig] += 1
            stats["samples"].setdefault(sig, repr(sample)[:300])

    if seed is not None:
        from hypothesis import seed as hypothesis_seed

        body = hypothesis_seed(seed)(body)
    start = time.perf_counter()
    body()
    seconds = time.perf_counter() - start
    return {"target": name, "examples": stats["examples"], "failures": stats["failures"],
            "seconds": round(seconds, 1), "distinct": dict(stats["signatures"]), "samples": stats["samples"]}


def main(argv=None) -> int:
    """Command-line entry point; exit code 1 if any target found a failure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20000, help="examples per target (default 20000)")
    parser.add_argument("--target", action="append", choices=sorted(TARGETS), help="run only these (repeatable)")
    parser.add_argument("--seed", type=int, default=None, help="Hypothesis seed (default: derandomized)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be >= 1")
    results = []
    print(f"{'target':<24} {'examples':>9} {'failures':>9} {'seconds':>8}", flush=True)
    for name in args.target or list(TARGETS):
        result = run_target(name, args.examples, seed=args.seed)
        results.append(result)
        print(f"{name:<24} {result['examples']:>9} {result['failures']:>9} {result['seconds']:>8.1f}", flush=True)
        for sig, count in result["distinct"].items():
            print(f"    {count:>6} x {sig}\n           e.g. {result['samples'][sig]}", flush=True)
    total = sum(r["seconds"] for r in results)
    print(f"{'total':<24} {sum(r['examples'] for r in results):>9} {sum(r['failures'] for r in results):>9} {total:>8.1f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 1 if any(r["failures"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
