"""Write the bundled sample photos: rendered scenes (640x480 JPG) with clear, moderately easy
plates, plus labels.json (file -> plate text, formatted text, country, quad).

Usage:
    PYTHONPATH=. python scripts/make_samples.py [--out data/samples] [--seed 2024]
"""

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from alpr import atomic
from alpr.synth.render import render_plate
from alpr.synth.scene import render_scene

# (file, country, plate text): fixed texts so the README stays stable.
SAMPLES = (
    ("de_1.jpg", "de", "HD AD 891"),
    ("de_2.jpg", "de", "MÜ XZ 512"),
    ("es_1.jpg", "es", "1234 BCD"),
    ("es_2.jpg", "es", "7081 KLT"),
)


def main() -> None:
    """Render the four sample scenes and their labels."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("data/samples"))
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    labels = {}
    for i, (name, country, text) in enumerate(SAMPLES):
        rng = np.random.default_rng([args.seed, i])
        plate = render_plate(text, country, rng=rng, height_px=110, style={"gloss": 0.15, "dirt": 0.1})
        scene = render_scene(country, rng=rng, plate=plate, plate_width=(230.0, 320.0), max_angle=25.0, easy=True)
        ok, buf = cv2.imencode(".jpg", scene.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        assert ok
        atomic.write_bytes(args.out / name, buf.tobytes())
        labels[name] = {
            "text": plate.plate.text,
            "formatted": plate.plate.formatted,
            "country": country,
            "quad": [[round(float(v), 2) for v in p] for p in scene.quad],
        }
        print(f"{args.out / name}: {plate.plate.formatted}")
    atomic.write_text(args.out / "labels.json", json.dumps(labels, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
