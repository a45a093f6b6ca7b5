"""Character crops of printed-and-photographed adversarial stickers, for physical adversarial training.

The digital worst-case stickers of :mod:`defense.training` are drawn on the 32 × 24 model input.
A physical sticker (``alpr patch``) reaches the CNN another way: it is printed, stuck on the
plate, photographed, and the character is then cut by the pipeline's own detection, rectification
and segmentation, whose box the sticker can stretch. This module makes training samples that
travel that path: for every sample one sticker of a pool (``sticker.npz`` files of ``alpr patch``
runs against the model to harden) is stuck on the character of a fresh rendered plate, printed and
photographed with :func:`attacks.capture_test.photo_pair` under the *training* ranges of the
print-and-capture transformations (:data:`attacks.eot.TRAIN`, never the held-out ones the test
uses), the photo is read by the pipeline, and the character's crop is cut from the plate outline
the pipeline read and segmented anew. The crop keeps its true label: the sticker must not change
the reading.

Photos whose plate is not read with the right number of characters give no crop (counted).
"""

from __future__ import annotations

import numpy as np

from alpr import segment
from alpr.detect import rectify
from attacks import eot
from attacks.capture_test import photo_pair, photo_params

#: photo_params family that features nothing: every transformation within the training ranges
NO_FEATURE = "none"


def char_crop_as_read(recognizer, photo: np.ndarray, truth: str, index: int) -> np.ndarray | None:
    """The BGR crop of character ``index`` of the plate ``truth`` on ``photo`` as the pipeline cuts
    it: the outline of a plate it reads with ``len(truth)`` characters, rectified and segmented;
    ``None`` when no such plate is read or its segmentation has another number of glyphs."""
    for plate in recognizer.read(photo):
        if len(plate.text) != len(truth):
            continue
        crop = rectify(photo, np.asarray(plate.quad, np.float32))
        seg = segment.segment(crop)
        boxes = np.delete(seg.boxes, sorted(set(seg.occluded) | set(seg.stickers)), axis=0)
        if len(boxes) != len(truth):
            return None
        x, y, w, h = (int(v) for v in boxes[index])
        return crop[y:y + h, x:x + w]
    return None


def captured_crops(recognizer, stickers: list, n: int, *, country: str, char: str = "1", fonts: str = "standard",
                   seed: int = 0, progress: bool = True) -> tuple[np.ndarray, dict]:
    """``n`` photos of stickered plates (stickers taken in turn), each character crop as the
    pipeline cuts it. Returns ``(crops, counts)``: the model inputs (``CharModel.crops_to_input``
    of the recognizer's ``country`` model), float32 ``(k, H, W, 1)`` in [0, 1] with k <= n, and
    ``{"photos", "crops", "unread"}``."""
    from tqdm import tqdm

    if not stickers:
        raise ValueError("no stickers given")
    model = recognizer.models[country]
    rng = np.random.default_rng(seed)
    crops = []
    for i in tqdm(range(n), desc="stickered photos", disable=not progress, leave=False):
        p = photo_params(NO_FEATURE, rng)
        truth, index, photos, _ = photo_pair(stickers[i % len(stickers)], p, rng, country=country, char=char,
                                             fonts=fonts, max_perspective_deg=eot.TRAIN.perspective_deg)
        crop = char_crop_as_read(recognizer, photos[1], truth, index)
        if crop is not None and crop.size:
            crops.append(crop)
    x = model.crops_to_input(crops) if crops else np.zeros((0, *model.input_shape), np.float32)
    return x, {"photos": n, "crops": len(crops), "unread": n - len(crops)}


def load_crops(path, alphabet: str, input_shape: tuple) -> tuple[np.ndarray, np.ndarray, dict]:
    """The crops written by ``scripts/sticker_crops.py``: ``(x, y, meta)`` with ``x`` float32 in
    [0, 1] of ``input_shape``, ``y`` the label indices into ``alphabet``, ``meta`` its JSON record.
    ``ValueError`` with a one-line message when the file is not such crops for this model."""
    import json

    try:
        with np.load(path) as f:
            x, chars, meta = f["x"], f["chars"], json.loads(str(f["meta"]))
    except (OSError, KeyError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: not a crops .npz from scripts/sticker_crops.py ({err})") from None
    if x.ndim != 4 or tuple(x.shape[1:]) != tuple(input_shape) or len(chars) != len(x):
        raise ValueError(f"{path}: crops of shape {tuple(x.shape[1:])} for {len(chars)} labels, the model takes {tuple(input_shape)}")
    unknown = sorted(set(chars.tolist()) - set(alphabet))
    if unknown:
        raise ValueError(f"{path}: characters {''.join(unknown)!r} are not in the model's alphabet")
    y = np.array([alphabet.index(c) for c in chars.tolist()], np.int32)
    return x.astype(np.float32) / 255.0, y, meta
