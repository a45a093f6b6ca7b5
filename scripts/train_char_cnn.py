#!/usr/bin/env python
"""Train a character CNN on synthetic plates: a thin wrapper around ``alpr train``.

Example:
  python scripts/train_char_cnn.py --country es --out data/models/es.keras --epochs 12 --samples 60000 --seed 0
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.cli import main  # noqa: E402

if __name__ == "__main__":
    # through the alpr group: its exit codes, one-line errors and Ctrl-C handling
    main(["train", *sys.argv[1:]], prog_name="alpr")
