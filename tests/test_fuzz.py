"""Property-based fuzzing (Hypothesis) of the hostile-input surfaces, with a modest number of
examples so the file runs in a few seconds. ``scripts/fuzz.py`` runs the same properties for
tens of thousands of examples.

- image loader: random bytes, valid headers followed by garbage, mutated files, and random
  small arrays encoded as PNG/JPEG/TIFF/BMP/WebP -> an 8-bit BGR image or a one-line ImageError;
- grammar: ``plates.parse``/``is_valid`` on any unicode string never raise; valid plates
  round-trip through their formatted spelling;
- decoder: random probability matrices, odd shapes, NaN/inf -> a valid plate, None, or a
  one-line ValueError, never another exception.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripts_module import load_script  # tests/scripts_module.py

fuzz = load_script("fuzz")

FAST = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@FAST
@given(fuzz.random_bytes)
def test_loader_random_bytes(data):
    fuzz.check_image_bytes(data)


@FAST
@given(fuzz.header_then_garbage())
def test_loader_valid_header_then_garbage(data):
    fuzz.check_image_bytes(data)


@FAST
@given(fuzz.mutated_file())
def test_loader_mutated_files(data):
    fuzz.check_image_bytes(data)


@FAST
@given(fuzz.encoded_arrays())
def test_loader_encoded_random_arrays(sample):
    fuzz.check_encoded_array(sample)


@FAST
@given(fuzz.grammar_inputs)
def test_grammar_never_crashes_and_round_trips(sample):
    fuzz.check_grammar(sample)


@settings(FAST, max_examples=300)
@given(st.text(), st.sampled_from(["de", "es", "eu"]))
def test_grammar_on_arbitrary_unicode(text, country):
    fuzz.check_grammar((text, country))


@FAST
@given(fuzz.random_plates)
def test_random_plates_round_trip(sample):
    fuzz.check_random_plate(sample)


@settings(FAST, max_examples=300)
@given(fuzz.decoder_inputs())
def test_decoder_gives_plate_none_or_value_error(sample):
    fuzz.check_decode(sample)


@pytest.mark.parametrize(
    "probs",
    [
        np.full((7, 30), np.nan),
        np.full((7, 30), np.inf),
        -np.ones((7, 30)) / 30,
        np.zeros((0, 30)),
        np.ones(30) / 30,
        np.ones((7, 30, 1)) / 30,
        np.ones((7, 29)) / 29,
    ],
    ids=["nan", "inf", "negative", "empty", "1-D", "3-D", "wrong-width"],
)
def test_decoder_hostile_matrices(probs):
    from alpr.plates import ALPHABETS

    fuzz.check_decode((probs, ALPHABETS["es"], "es", {}))


def test_decoder_alphabet_without_letters_or_digits():
    """The eu grammar with a digits-only or umlauts-only model: a plate or None, no crash."""
    fuzz.check_decode((np.eye(4)[[1, 2, 3, 0]], "0123", "eu", {}))
    fuzz.check_decode((np.eye(3), "ÄÖÜ", "eu", {}))


def test_fuzz_script_runs_and_reports(capsys):
    assert fuzz.main(["--examples", "20", "--target", "decode", "--target", "image-random-bytes"]) == 0
    out = capsys.readouterr().out
    assert "decode" in out and "image-random-bytes" in out and "total" in out
