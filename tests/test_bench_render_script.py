"""scripts/bench_render.py: the height argument and the printed rate."""

import argparse

import pytest

from scripts_module import load_script  # tests/scripts_module.py


def test_height_is_one_value_or_a_range():
    script = load_script("bench_render")
    assert script.height_range("64") == (64, 64)
    assert script.height_range("48-110") == (48, 110)
    for bad in ("", "abc", "110-48", "4", "48-x"):
        with pytest.raises(argparse.ArgumentTypeError):
            script.height_range(bad)


def test_prints_plates_per_second_at_the_training_heights(capsys):
    script = load_script("bench_render")
    assert script.main(["--country", "es", "--count", "5", "--warmup", "2"]) == 0
    line = capsys.readouterr().out.strip()
    assert "(es, height 48-109 px, random styles, 1 process)" in line
    assert float(line.split()[0]) > 0


def test_bad_count_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script("bench_render").main(["--count", "0"])
    assert exit_info.value.code == 2
