#!/usr/bin/env python
"""Adversarially fine-tune a character CNN (PGD-AT, FGSM-RS, TRADES): a thin wrapper around ``alpr harden``.

Examples:
  python scripts/harden.py --country es --method fgsm-rs --eps 32/255 --epochs 4 --samples 40000 --seed 7 \
      --out data/models/es-hardened.keras
  python scripts/harden.py --country de --method pgd --eps 32/255 --epochs 1 --samples 4000 --out /tmp/de-pgd.keras
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from alpr.cli import main  # noqa: E402

if __name__ == "__main__":
    # through the alpr group: its exit codes, one-line errors and Ctrl-C handling
    main(["harden", *sys.argv[1:]], prog_name="alpr")
