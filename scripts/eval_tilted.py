"""Find and read plates in photos of a tilted camera, by tilt angle: rendered, or real photos turned.

Examples:
    python scripts/eval_tilted.py --country es --n 100 --seed 78
    python scripts/eval_tilted.py --country de --n 100 --seed 78 --angles 0 20 30
    python scripts/eval_tilted.py --country es --n 100 --seed 78 --no-tilted-search
    python scripts/eval_tilted.py --country eu --openalpr ../shared/datasets/openalpr-eu --angles 0 10 20 30

By default only the project's renderer is used (no real photo): a 640x480 close-up of one plate
(``alpr.synth.scene.render_scene``, plate 60-260 px wide, yaw and pitch up to 10 degrees), turned
about the plate's centre by the angle (alternately clockwise and counter-clockwise), as a hand-held
camera held askew turns the whole picture. Photos whose plate leaves the frame are skipped. A plate
counts as found when a detection's bounding box overlaps the turned plate's at IoU >= 0.5, and as
read when one of the photo's readings is its text. ``--no-tilted-search`` turns off the detector's
search of turned copies of a photo in which nothing is found (``alpr.detect.TILT_SEARCH``).

``--openalpr DIR`` turns real photos instead (a labelled folder in ``alpr evaluate``'s openalpr
format, one plate per photo, e.g. ../shared/datasets/openalpr-eu, read with ``--country eu``):
each photo is turned about its centre (the uncovered corners mirror the photo) and its label
box's corners with it; photos whose plate leaves the frame are skipped.
"""

import argparse
import sys
import time

import cv2
import numpy as np

from alpr import detect
from alpr._geometry import box_iou, quad_bbox
from alpr.evaluation import load_dataset
from alpr.imageio import load_image
from alpr.pipeline import Recognizer
from alpr.synth.scene import render_scene

SIZE = (640, 480)


def _turned(image, quad, centre, angle: float):
    """``image`` and ``quad`` turned by ``angle`` degrees about ``centre`` (the uncovered corners
    mirror the photo), or None when the turned quad leaves the frame."""
    h, w = image.shape[:2]
    turn = cv2.getRotationMatrix2D(tuple(float(v) for v in centre), angle, 1.0)
    turned = cv2.warpAffine(image, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
    quad = cv2.transform(np.asarray(quad, np.float32)[None], turn)[0]
    if quad.min() < 0 or quad[:, 0].max() > w or quad[:, 1].max() > h:
        return None
    return turned, quad


def tilted_photo(country: str, seed: int, index: int, angle: float):
    """Photo ``index`` of set ``seed`` turned about its plate by ``angle`` degrees (alternately each
    way): (image, plate quad, text), or None when the turned plate leaves the frame."""
    rng = np.random.default_rng([seed, index])
    scene = render_scene(country, rng=rng, size=SIZE, plate_width=(60.0, 260.0), max_angle=10.0)
    turned = _turned(scene.image, scene.quad, scene.quad.mean(axis=0), angle if index % 2 else -angle)
    return None if turned is None else (*turned, scene.rendered.plate.text)


def turned_photo(image, box, text: str, index: int, angle: float):
    """A real photo turned about its centre by ``angle`` degrees (alternately each way, by
    ``index``): (image, quad of the turned label box, text), or None when the plate leaves the
    frame."""
    h, w = image.shape[:2]
    x, y, bw, bh = box
    corners = [[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]]
    turned = _turned(image, corners, (w / 2, h / 2), angle if index % 2 else -angle)
    return None if turned is None else (*turned, text)


def _real_photos(folder: str):
    """(image, label box, text) of each photo of an openalpr-format folder with a labelled text."""
    out = []
    for sample in load_dataset(folder, "openalpr"):
        if sample.boxes and sample.texts and sample.texts[0]:
            out.append((load_image(sample.path), sample.boxes[0], sample.texts[0]))
    return out


def main(argv=None) -> int:
    """Print, per angle, the photos scored, the share of plates found and the share read."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--country", choices=("de", "es", "eu"), default="es")
    parser.add_argument("--n", type=int, default=100, help="photos per angle (default 100)")
    parser.add_argument("--seed", type=int, default=78)
    parser.add_argument("--angles", type=float, nargs="+", default=[0, 10, 20, 30, 40], help="tilts in degrees")
    parser.add_argument("--no-tilted-search", action="store_true", help="detect without the tilted search")
    parser.add_argument("--openalpr", metavar="DIR", help="turn the real photos of this openalpr-format folder")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be at least 1")
    if args.openalpr is None and args.country == "eu":
        parser.error("rendered photos are German or Spanish: --country eu needs --openalpr")
    try:
        real = _real_photos(args.openalpr) if args.openalpr else None
    except (OSError, ValueError) as err:
        parser.error(f"--openalpr: {err}")
    tilted = not args.no_tilted_search
    reader = Recognizer(country=args.country)
    print("angle | photos | found | read | ms per photo")
    for angle in args.angles:
        if real is None:
            photos = (tilted_photo(args.country, args.seed, k, angle) for k in range(args.n))
        else:
            photos = (turned_photo(*photo, k, angle) for k, photo in enumerate(real))
        photos = [p for p in photos if p is not None]
        found = read = 0
        start = time.perf_counter()
        for image, quad, text in photos:
            truth = quad_bbox(quad)
            detections = detect.detect(image, max_plates=reader.max_candidates, tilted=tilted)
            found += any(box_iou(truth, quad_bbox(d.quad)) >= 0.5 for d in detections)
            read += any(plate.text == text for plate in reader.read(image, detections=detections))
        ms = 1000 * (time.perf_counter() - start) / max(1, len(photos))
        n = max(1, len(photos))
        print(f"{angle:g} | {len(photos)} | {found / n:.3f} | {read / n:.3f} | {ms:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
