"""Labelled character crops for attack experiments: rendered (synthetic) or real (UC3M-LP chars).

Both sources give a :class:`CropSet`: model inputs made by ``CharModel.crops_to_input`` (the exact
preprocessing of the pipeline) and then put on the uint8 grid, so that adversarial images can be
quantised inside their ε-ball (:func:`attacks.quantize`), plus the character of every sample.

Robust-accuracy figures need samples the model gets right clean: :func:`correctly_classified`
keeps those (and only characters the model's alphabet has).

Example::

    >>> model = alpr.load_model("es")
    >>> synth = attacks.crops.synthetic_crops(model, 200, seed=0)
    >>> real = attacks.crops.real_crops(model, "/data/uc3m-lp/chars", limit=300)
    >>> x, y = correctly_classified(model, real).xy(model.alphabet)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from attacks import core

#: UC3M-LP / YOLO character classes: 0-9 are digits, 10-35 are A-Z.
YOLO_CLASSES = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass
class CropSet:
    """Character samples: ``x`` float32 ``(N, H, W, 1)`` on the uint8 grid, ``chars`` (N,) str,
    ``sources`` (N,) str (file or plate they come from), ``crops`` the BGR crops (may be empty)."""

    x: np.ndarray
    chars: np.ndarray
    sources: np.ndarray
    crops: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.chars)

    def labels(self, alphabet: str) -> np.ndarray:
        """Int labels in ``alphabet``'s logit order (every char must be in ``alphabet``)."""
        index = {c: i for i, c in enumerate(alphabet)}
        missing = sorted(set(self.chars) - set(index))
        if missing:
            raise ValueError(f"characters {''.join(missing)!r} are not in the alphabet {alphabet!r}")
        return np.array([index[c] for c in self.chars], np.int32)

    def xy(self, alphabet: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, labels(alphabet))``."""
        return self.x, self.labels(alphabet)

    def subset(self, keep) -> "CropSet":
        """The samples selected by a bool mask or index array."""
        keep = np.asarray(keep)
        idx = np.flatnonzero(keep) if keep.dtype == bool else keep
        crops = [self.crops[i] for i in idx] if self.crops else []
        return CropSet(self.x[idx], self.chars[idx], self.sources[idx], crops)

    def only(self, chars: str) -> "CropSet":
        """The samples whose character is one of ``chars``."""
        return self.subset(np.isin(self.chars, list(chars)))


def _to_grid(x: np.ndarray) -> np.ndarray:
    return (np.rint(np.clip(x, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def _build(model, crops, chars, sources) -> CropSet:
    shape = tuple(model.input_shape)
    x = _to_grid(model.crops_to_input(crops)) if crops else np.zeros((0, *shape), np.float32)
    return CropSet(x, np.asarray(chars, dtype="<U1"), np.asarray(sources, dtype=object), list(crops))


def correctly_classified(model, crops: CropSet, *, alphabet: str | None = None) -> CropSet:
    """Keep the samples whose character is in the model's alphabet and that the model reads right."""
    alphabet = alphabet or model.alphabet
    crops = crops.subset(np.isin(crops.chars, list(alphabet)))
    if len(crops) == 0:
        return crops
    x, y = crops.xy(alphabet)
    return crops.subset(core.predict(model, x) == y)


def country_of(model) -> str:
    """The plate country whose alphabet the model reads (card ``country`` first, else by alphabet)."""
    from alpr.plates import ALPHABETS

    card = getattr(model, "card", {}) or {}
    if card.get("country") in ALPHABETS:
        return card["country"]
    for country, alphabet in ALPHABETS.items():
        if alphabet == model.alphabet:
            return country
    return "eu"


def plate_with(char: str, country: str, rng: np.random.Generator):
    """A random valid plate of ``country`` in which one digit (or letter) is replaced by ``char``."""
    from alpr.plates import PlateText, is_valid, random_plate

    for _ in range(100):
        plate = random_plate(country, rng)
        text = plate.text
        kind = str.isdigit if char.isdigit() else str.isalpha
        slots = [i for i, c in enumerate(text) if kind(c)]
        if not slots:
            continue
        i = int(rng.choice(slots))
        groups, pos = [], 0
        for g in plate.groups:
            chars = list(g)
            if pos <= i < pos + len(g):
                chars[i - pos] = char
            groups.append("".join(chars))
            pos += len(g)
        candidate = PlateText(plate.country, tuple(groups))
        if is_valid(candidate.formatted, country):
            return candidate
    raise ValueError(f"cannot make a valid {country} plate containing {char!r}")


def synthetic_crops(
    model,
    n: int,
    *,
    seed: int = 0,
    country: str | None = None,
    height_px: tuple[int, int] = (48, 110),
    pad: float = 0.0,
    force_char: str | None = None,
    chars: str | None = None,
    augmented: bool = False,
) -> CropSet:
    """``n`` character crops cut from rendered plates by their exact ink boxes.

    ``augmented=True`` instead draws them like the training data (``alpr.char_crops.make_crops``:
    segmentation jitter, small geometric distortion, blur, noise, JPEG, lighting), from seeds
    offset far from the training ones (a held-out set like the model card's).

    Args:
        model: the ``CharModel`` whose preprocessing (``crops_to_input``) makes ``x``.
        n: number of samples.
        seed: seeds plates, styles and sizes.
        country: plates to render (default: the model's country, see :func:`country_of`).
        height_px: (min, max) rendered plate height in pixels.
        pad: extra margin around each ink box, as a fraction of its height (0: the tight box,
            which is what the segmenter cuts).
        force_char: put this character into every plate (e.g. ``"1"`` for targeted experiments).
        chars: keep only these characters (e.g. ``"1"``); default: every character of the plate.
    """
    from alpr.synth.render import render_plate

    n = core.check_count(n, "n")
    country = country or country_of(model)
    if augmented:
        return _augmented_crops(model, n, seed=seed, country=country, chars=chars)
    rng = np.random.default_rng(seed)
    crops, labels, sources = [], [], []
    tries = 0
    while len(crops) < n:
        tries += 1
        if tries > 50 * n + 100:
            raise ValueError(f"could not collect {n} crops of {chars!r} from {country} plates")
        plate = plate_with(force_char, country, rng) if force_char else None
        if plate is None:
            from alpr.plates import random_plate

            plate = random_plate(country, rng)
        r = render_plate(plate, country, rng=rng, height_px=int(rng.integers(height_px[0], height_px[1] + 1)))
        image = np.ascontiguousarray(r.image[..., :3])
        for ch, (x, y, w, h) in zip(r.plate.text, np.asarray(r.boxes)):
            if (chars and ch not in chars) or len(crops) >= n:
                continue
            m = pad * h
            x0, y0 = max(0, int(round(x - m))), max(0, int(round(y - m)))
            x1, y1 = min(image.shape[1], int(round(x + w + m))), min(image.shape[0], int(round(y + h + m)))
            if x1 - x0 < 1 or y1 - y0 < 2:
                continue
            crops.append(image[y0:y1, x0:x1].copy())
            labels.append(ch)
            sources.append(f"synthetic:{seed}:{r.plate.formatted}")
    return _build(model, crops, labels, sources)


def _augmented_crops(model, n, *, seed, country, chars) -> CropSet:
    from alpr.plates import ALPHABETS
    from alpr.char_crops import DEFAULT_POLICY, TEST_SEED_OFFSET, make_crops

    crops, labels = [], []
    alphabet = ALPHABETS[country]
    batch, round_ = max(64, n if not chars else 20 * n), 0
    while len(crops) < n:
        if round_ > 20:
            raise ValueError(f"could not collect {n} augmented crops of {chars!r}")
        part, y = make_crops(country, batch, seed + 3 * TEST_SEED_OFFSET + 7919 * round_, policy=DEFAULT_POLICY, progress=False)
        for crop, label in zip(part, y):
            ch = alphabet[int(label)]
            if (not chars or ch in chars) and len(crops) < n:
                crops.append(crop)
                labels.append(ch)
        round_ += 1
    return _build(model, crops, labels, [f"augmented:{seed}"] * len(crops))


def real_crops(
    model,
    root: str | Path,
    *,
    limit: int | None = None,
    seed: int = 0,
    pad: float = 0.0,
    chars: str | None = None,
) -> CropSet:
    """Character crops from a YOLO-labelled plate-crop folder (UC3M-LP ``chars/``).

    ``root`` holds ``images/*.jpg`` and ``labels/*.txt`` with one ``CLASS cx cy w h`` line per
    visible character (normalised YOLO box; CLASS 0-9 digits, 10-35 A-Z). Characters outside the
    model's alphabet are skipped (e.g. vowels for the Spanish model). The data is only read, never
    copied.

    Args:
        model: the ``CharModel`` whose preprocessing makes ``x``.
        root: dataset folder (an argument: never hard-coded).
        limit: stop after this many samples (images are visited in a seeded random order).
        seed: order of the images.
        pad: extra margin around each box, as a fraction of its height.
        chars: keep only these characters.
    """
    import cv2

    root = Path(root)
    images_dir, labels_dir = root / "images", root / "labels"
    if not images_dir.is_dir() or not labels_dir.is_dir():
        raise FileNotFoundError(f"{root}: expected images/ and labels/ folders (YOLO character labels)")
    label_files = sorted(labels_dir.glob("*.txt"))
    if not label_files:
        raise FileNotFoundError(f"{labels_dir}: no label files")
    order = np.random.default_rng(seed).permutation(len(label_files))
    alphabet = set(model.alphabet)
    crops, labels, sources = [], [], []
    for k in order:
        if limit is not None and len(crops) >= limit:
            break
        label_path = label_files[k]
        image_path = next((images_dir / (label_path.stem + s) for s in (".jpg", ".jpeg", ".png")
                           if (images_dir / (label_path.stem + s)).is_file()), None)
        if image_path is None:
            continue
        image = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        H, W = image.shape[:2]
        for line in label_path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5:
                continue
            try:
                cls = int(parts[0])
                cx, cy, w, h = (float(v) for v in parts[1:])
            except ValueError:
                continue
            if not 0 <= cls < len(YOLO_CLASSES):
                continue
            ch = YOLO_CLASSES[cls]
            if ch not in alphabet or (chars and ch not in chars):
                continue
            m = pad * h * H
            x0, x1 = int(round((cx - w / 2) * W - m)), int(round((cx + w / 2) * W + m))
            y0, y1 = int(round((cy - h / 2) * H - m)), int(round((cy + h / 2) * H + m))
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(W, x1), min(H, y1)
            if x1 - x0 < 2 or y1 - y0 < 4:
                continue
            crops.append(image[y0:y1, x0:x1].copy())
            labels.append(ch)
            sources.append(image_path.name)
            if limit is not None and len(crops) >= limit:
                break
    return _build(model, crops, labels, sources)
