"""scripts/eval_high_res.py: plates found and read in rendered high-resolution photos."""

import re

import pytest

from alpr import plate_net
from alpr.resources import models_dir
from scripts_module import load_script  # tests/scripts_module.py


@pytest.mark.skipif(not (models_dir() / "es.keras").exists(), reason="bundled models not trained yet")
def test_prints_found_and_exact_per_country_and_street_figures(capsys, monkeypatch):
    monkeypatch.setattr(plate_net, "MAX_WORK_WIDTH", plate_net.MAX_WORK_WIDTH)  # restored after the test
    script = load_script("eval_high_res")
    script.main(["--n", "2", "--size", "1280", "--plate-width", "150", "300", "--countries", "es"])
    script.main(["--street", "--n", "1", "--size", "640", "--max-work-width", "320"])
    assert plate_net.MAX_WORK_WIDTH == 320
    photo_line, street_line = capsys.readouterr().out.strip().splitlines()
    counts = re.fullmatch(r"es 1280 px, plates 150-300 px: found (\d+), read exactly (\d+) of (\d+) \(.* ms each\)",
                          photo_line)
    assert counts is not None, photo_line
    found, exact, n = map(int, counts.groups())
    assert n == 2 and 0 <= exact <= found <= 2
    assert street_line.startswith("street 640 px:") and "'recall'" in street_line and "'precision'" in street_line


@pytest.mark.parametrize("argv", [["--n", "0"], ["--max-work-width", "100"], ["--max-work-width", "650"]])
def test_refuses_bad_arguments(argv):
    with pytest.raises(SystemExit) as exc:
        load_script("eval_high_res").main(argv)
    assert exc.value.code == 2
