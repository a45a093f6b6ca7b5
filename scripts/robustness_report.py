#!/usr/bin/env python
"""Robustness report of a hardened model beside its undefended twin: a thin wrapper around ``alpr robustness``.

Examples:
  python scripts/robustness_report.py --model es-hardened --compare es --data /path/to/uc3m-lp/chars \
      --max-samples 300 --out docs/robustness/es
  python scripts/robustness_report.py --model de-hardened --compare de --synthetic 300 --out docs/robustness/de
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.cli import main  # noqa: E402

if __name__ == "__main__":
    # through the alpr group: its exit codes, one-line errors and Ctrl-C handling
    main(["robustness", *sys.argv[1:]], prog_name="alpr")
