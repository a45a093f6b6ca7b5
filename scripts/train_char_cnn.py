#!/usr/bin/env python
"""Train a character CNN on synthetic plates: a thin wrapper around ``alpr train``.

Example:
  python scripts/train_char_cnn.py --country es --out data/models/es.keras --epochs 12 --samples 60000 --seed 0
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.cli.train import command  # noqa: E402

if __name__ == "__main__":
    command(prog_name="train_char_cnn.py")
