"""Synthetic character crops for the character CNN: its training data and synthetic held-out
sets (``alpr.training`` held them until 2026-12-07).

Data: plates from :func:`alpr.synth.render.render_plate`, characters cut by their ink boxes with
segmentation jitter (each side of the box moved independently, loose and tight crops; widened
boxes bring neighbouring-glyph fragments and plate borders in naturally), a small rotation /
shear / perspective applied to the context around the character before cutting (per policy also
a sloping baseline as on plates seen from the side, the box then following the warped glyph, and
plates with inverted polarity), and a
photometric chain (albumentations) aimed at real photos: low resolution, defocus / motion /
Gaussian blur, noise, JPEG, brightness / contrast / gamma / illumination gradients, colour shifts
(incl. swapped channels) before the grey conversion, and partial grey occlusion boxes like the
ones UC3M-LP uses to anonymise characters. A font that draws a character exactly like another
(OSP-DIN's O is its 0) never writes it: such a crop would be label noise. Every crop then goes
through :meth:`alpr.model.CharModel.crops_to_input`, the same preprocessing the pipeline applies.

Everything is seeded: the same ``seed`` gives the same data and, up to TensorFlow's CPU kernels,
the same model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from alpr.plates import ALPHABETS, DIGITS, PlateText, random_plate
from alpr.synth.fonts import TWINS

#: Seed offset of the synthetic held-out test set (never overlaps training seeds in practice).
TEST_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class CropPolicy:
    """How character crops are cut and degraded. Lengths are fractions of the character height."""

    plate_height: tuple[int, int] = (48, 110)  # rendered plate height, px
    char_height: tuple[int, int] = (14, 44)  # character height after the final resize, px
    pad_x: tuple[float, float] = (-0.02, 0.12)  # per side, left and right independently
    pad_y: tuple[float, float] = (0.0, 0.08)  # per side, top and bottom independently
    shift: float = 0.03  # whole-box shift, x and y
    rotate: float = 8.0  # degrees
    slope: float = 0.0  # degrees: sloping baseline with upright strokes (vertical shear), as on a
    # plate photographed from the side
    slope_rate: float = 0.0  # share of crops given a slope within +-slope
    shear: float = 22.0  # degrees, horizontal (unrectified plates seen at an angle)
    aspect: tuple[float, float] = (0.8, 1.2)  # horizontal squeeze / stretch of the crop
    grey_box_rate: float = 0.25  # share of plates with a neighbouring glyph under a grey box
    substitute_rate: float = 0.5  # share of characters replaced at random (balances classes)
    invert_rate: float = 0.0  # share of plates with inverted polarity (light characters on dark)
    box_follows_warp: bool = False  # cut the axis-aligned box around the *warped* glyph, as a
    # ground-truth box or a connected component of a tilted character would be
    photometric: bool = True
    cut_rate: float = 0.0  # share of crops whose box cuts into the glyph at the top, the bottom or
    # both, as a plate crop that cuts the characters leaves them (UC3M-LP's tight crops)
    cut: float = 0.12  # deepest such cut, per side


DEFAULT_POLICY = CropPolicy()
#: Real crops are often cut from plates seen from the side (baselines sloping by 15-30 degrees),
#: and a few plates are light on dark.
WIDE_POLICY = CropPolicy(slope=30.0, slope_rate=0.25, invert_rate=0.05, box_follows_warp=True)
#: German (FE-Schrift) tells O from 0 largely by width: keep horizontal stretching small there.
#: (The shipped "de" model was trained with slightly different box padding, kept here so its
#: recorded command reproduces it.)
COUNTRY_POLICY = {
    "es": WIDE_POLICY,
    "de": CropPolicy(aspect=(0.93, 1.07), pad_x=(-0.02, 0.10), pad_y=(-0.02, 0.10)),
    "eu": CropPolicy(aspect=(0.93, 1.07)),
}


def policy_for(country: str) -> CropPolicy:
    """The training crop policy of ``country``."""
    return COUNTRY_POLICY.get(country, DEFAULT_POLICY)


def policy_from_dict(d: dict | None, country: str) -> CropPolicy:
    """A :class:`CropPolicy` from a model card's ``data.policy`` (defaults for missing keys)."""
    if not d:
        return policy_for(country)
    known = {f for f in CropPolicy.__dataclass_fields__}
    return CropPolicy(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known})
CLEAN_POLICY = CropPolicy(pad_x=(0.02, 0.12), pad_y=(0.02, 0.08), shift=0.0, rotate=0.0, shear=0.0, grey_box_rate=0.0, photometric=False, char_height=(28, 40))


def _default_renderer():
    from alpr.synth.render import render_plate

    return render_plate


def _photometric(seed: int):
    """The albumentations chain applied to each BGR crop (seeded)."""
    import albumentations as A

    return A.Compose(
        [
            A.OneOf(
                [
                    A.GaussianBlur(sigma_limit=(0.4, 1.8), p=1.0),
                    A.MotionBlur(blur_limit=(3, 5), p=1.0),
                    A.Defocus(radius=(1, 2), alias_blur=(0.05, 0.2), p=1.0),
                ],
                p=0.7,
            ),
            A.Downscale(scale_range=(0.5, 0.9), interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_LINEAR}, p=0.3),
            A.RandomBrightnessContrast(brightness_limit=(-0.25, 0.2), contrast_limit=(-0.6, 0.1), p=0.8),
            A.RandomGamma(gamma_limit=(60, 170), p=0.4),
            A.Illumination(mode="linear", intensity_range=(0.05, 0.2), p=0.25),
            A.RGBShift(r_shift_limit=35, g_shift_limit=35, b_shift_limit=35, p=0.5),
            A.ChannelShuffle(p=0.15),
            A.CoarseDropout(num_holes_range=(1, 1), hole_height_range=(0.1, 0.3), hole_width_range=(0.1, 0.35), fill="random_uniform", p=0.08),
            A.OneOf(
                [
                    A.GaussNoise(std_range=(0.01, 0.07), p=1.0),
                    A.ISONoise(color_shift=(0.01, 0.05), intensity=(0.1, 0.4), p=1.0),
                ],
                p=0.5,
            ),
            A.ImageCompression(quality_range=(30, 95), p=0.5),
        ],
        seed=seed,
    )


def _style(country: str, rng: np.random.Generator, font_mix: dict | None = None) -> dict:
    """The renderer's random style with the stroke weight and condensing quantised, so the
    renderer's glyph caches hit (continuous weights re-rasterise every glyph: ~50 ms/plate)."""
    from alpr.synth.style import random_style

    style = random_style(country, rng, font_mix)
    style["weight"] = float(rng.choice([0.75, 0.85, 0.95, 1.05, 1.15]))
    style["width_scale"] = round(float(style["width_scale"]) * 50) / 50
    return style


def _stroke(crop: np.ndarray, rng: np.random.Generator, char_h: float) -> np.ndarray:
    """Randomly thin (grey dilation: dark ink shrinks) or thicken the strokes of a crop."""
    r = rng.random()
    if r < 0.35 and char_h >= 24:
        k = 3 if char_h < 60 else 5
        return cv2.dilate(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    if r > 0.88 and char_h >= 24:
        return cv2.erode(crop, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    return crop


def _warp(seed: int):
    """Mild grid distortion of glyph shapes (applied only to crops at least 12 px each way)."""
    import albumentations as A

    return A.Compose([A.GridDistortion(num_steps=4, distort_limit=(-0.15, 0.15), border_mode=cv2.BORDER_REPLICATE, p=0.25)], seed=seed)


#: Letters each model learns (its alphabet without the digits).
_LETTERS = {country: alphabet.removeprefix(DIGITS) for country, alphabet in ALPHABETS.items()}


def _training_plate(country: str, rng: np.random.Generator, rate: float) -> PlateText:
    """A grammar-shaped plate whose characters are sometimes replaced by random ones of the same
    kind (letter / digit), so every class, umlauts included, is seen often enough."""
    source = str(rng.choice(["de", "es", "eu"])) if country == "eu" else country
    plate = random_plate(source, rng)
    letters = _LETTERS[country]
    groups = []
    for g in plate.groups:
        chars = []
        for ch in g:
            if rng.random() < rate:
                ch = str(rng.choice(list(DIGITS if ch.isdigit() else letters)))
            chars.append(ch)
        groups.append("".join(chars))
    return PlateText(plate.country, tuple(groups))


def _without_twins(plate: PlateText, font: str, country: str, rng: np.random.Generator) -> PlateText:
    """``plate`` with each character that ``font`` draws exactly like another one (see
    :data:`alpr.synth.fonts.TWINS`) replaced by a random other letter of ``country``: a crop
    labelled "O" that is pixel for pixel a "0" is label noise, not a training signal."""
    twins = TWINS.get(font, {})
    if not any(ch in twins for g in plate.groups for ch in g):
        return plate
    letters = [c for c in _LETTERS[country] if c not in twins]
    groups = tuple("".join(str(rng.choice(letters)) if ch in twins else ch for ch in g) for g in plate.groups)
    return PlateText(plate.country, groups)


def _cut(image: np.ndarray, box, rng: np.random.Generator, policy: CropPolicy) -> np.ndarray | None:
    """Cut one character from ``image`` around ink box (x, y, w, h) with segmentation jitter and a
    small geometric distortion of its surroundings; returns a BGR crop."""
    x, y, w, h = (float(v) for v in box)
    if w < 1 or h < 2:
        return None
    ch = h
    if w < 0.45 * h and rng.random() < 0.5:  # narrow glyph ("1", "I"): box as wide as a normal cell
        nw = rng.uniform(0.5, 0.65) * h
        x, w = x + w / 2 - nw / 2, nw
    l = x - rng.uniform(*policy.pad_x) * ch + rng.uniform(-policy.shift, policy.shift) * ch
    r = x + w + rng.uniform(*policy.pad_x) * ch + rng.uniform(-policy.shift, policy.shift) * ch
    t = y - rng.uniform(*policy.pad_y) * ch + rng.uniform(-policy.shift, policy.shift) * ch
    b = y + h + rng.uniform(*policy.pad_y) * ch + rng.uniform(-policy.shift, policy.shift) * ch
    if policy.cut_rate > 0 and rng.random() < policy.cut_rate:  # drawn only then: old seeds keep their crops
        side = rng.integers(3)  # 0: top, 1: bottom, 2: both
        if side != 1:
            t = y + rng.uniform(0.0, policy.cut) * ch
        if side != 0:
            b = y + h - rng.uniform(0.0, policy.cut) * ch
    if r - l < 0.25 * w + 1 or b - t < 0.6 * h:
        l, r, t, b = x - 1, x + w + 1, y - 1, y + h + 1
    # context window: 60 % margin, geometric distortion around the crop centre
    cx, cy = (l + r) / 2, (t + b) / 2
    cw, chh = (r - l), (b - t)
    margin = 0.6 * max(cw, chh)
    X0, Y0 = int(np.floor(l - margin)), int(np.floor(t - margin))
    X1, Y1 = int(np.ceil(r + margin)), int(np.ceil(b + margin))
    H, W = image.shape[:2]
    pad = max(0, -X0, -Y0, X1 - W, Y1 - H)
    src = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE) if pad else image
    ctx = src[Y0 + pad : Y1 + pad, X0 + pad : X1 + pad]
    ccx, ccy = cx - X0, cy - Y0
    if policy.rotate or policy.shear or policy.slope_rate:
        ang = rng.uniform(-policy.rotate, policy.rotate)
        sh = np.tan(np.radians(rng.uniform(-policy.shear, policy.shear)))
        M = cv2.getRotationMatrix2D((ccx, ccy), ang, 1.0)
        S = np.array([[1, sh, -sh * ccy], [0, 1, 0], [0, 0, 1]])
        M = (np.vstack([M, [0, 0, 1]]) @ S)[:2]
        if policy.slope_rate > 0 and rng.random() < policy.slope_rate:
            sv = np.tan(np.radians(rng.uniform(-policy.slope, policy.slope)))
            M = (np.array([[1, 0, 0], [sv, 1, -sv * ccx], [0, 0, 1]]) @ np.vstack([M, [0, 0, 1]]))[:2]
        # mild perspective: different vertical scale on the two sides
        k = rng.uniform(-0.06, 0.06)
        src_pts = np.float32([[0, 0], [ctx.shape[1], 0], [ctx.shape[1], ctx.shape[0]], [0, ctx.shape[0]]])
        dst_pts = src_pts.copy()
        dst_pts[:, 0] = src_pts[:, 0]
        dst_pts[0, 1] -= k * ctx.shape[0] / 2
        dst_pts[3, 1] += k * ctx.shape[0] / 2
        dst_pts[1, 1] += k * ctx.shape[0] / 2
        dst_pts[2, 1] -= k * ctx.shape[0] / 2
        P = cv2.getPerspectiveTransform(src_pts, dst_pts) @ np.vstack([M, [0, 0, 1]])
        ctx = cv2.warpPerspective(ctx, P, (ctx.shape[1], ctx.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if policy.box_follows_warp:  # the same padding around the warped glyph's bounding box
            ink = np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]]) - np.float32([X0, Y0])
            warped = cv2.perspectiveTransform(ink[None], P)[0]
            (ix0, iy0), (ix1, iy1) = warped.min(axis=0), warped.max(axis=0)
            l, r, t, b = ix0 - (x - l), ix1 + (r - x - w), iy0 - (y - t), iy1 + (b - y - h)
            ccx, ccy, cw, chh = (l + r) / 2, (t + b) / 2, r - l, b - t
    a, bb = int(round(ccx - cw / 2)), int(round(ccy - chh / 2))
    crop = ctx[max(0, bb) : max(0, bb) + max(1, int(round(chh))), max(0, a) : max(0, a) + max(1, int(round(cw)))]
    return crop if crop.size else None


def _grey_box(image: np.ndarray, box, rng: np.random.Generator) -> None:
    """Cover a character with a flat grey-ish box (UC3M-LP anonymisation), in place."""
    x, y, w, h = (int(v) for v in box)
    grow = int(0.15 * h)
    grey = rng.uniform(90, 200)
    colour = np.clip(grey + rng.normal(0, 12, 3), 0, 255)
    x0, x1 = max(0, x - grow // 2), min(image.shape[1], x + max(w, int(0.55 * h)) + grow // 2)
    y0, y1 = max(0, y - grow), min(image.shape[0], y + h + grow)
    image[y0:y1, x0:x1] = colour.astype(np.uint8)


def make_crops(country: str, n: int, seed: int, *, policy: CropPolicy = DEFAULT_POLICY, render=None, progress: bool = True,
               fonts: list | None = None, font_mix: dict | None = None):
    """``n`` labelled BGR character crops of ``country``'s alphabet: (list of crops, int labels).
    When a ``fonts`` list is given, the font of each crop is appended to it (for per-font scores).
    ``font_mix`` ({font: weight}) replaces the country's font mix (:data:`alpr.synth.style.FONT_WEIGHTS`)."""
    from tqdm import tqdm

    if country not in ALPHABETS:
        raise ValueError(f"unknown country {country!r}; expected one of {', '.join(ALPHABETS)}")
    render = render or _default_renderer()
    alphabet = ALPHABETS[country]
    index = {c: i for i, c in enumerate(alphabet)}
    rng = np.random.default_rng(seed)
    aug = _photometric(int(rng.integers(2**31))) if policy.photometric else None
    warp = _warp(int(rng.integers(2**31))) if policy.photometric else None
    crops, labels = [], []
    bar = tqdm(total=n, desc=f"synth {country} chars", unit="char", disable=not progress, mininterval=1.0)
    while len(crops) < n:
        plate = _training_plate(country, rng, policy.substitute_rate)
        height_px = int(rng.integers(*policy.plate_height))
        style = _style(plate.country, rng, font_mix)
        plate = _without_twins(plate, style["font"], country, rng)
        rendered = render(plate, plate.country, rng=rng, height_px=height_px, style=style)
        image = np.ascontiguousarray(rendered.image[..., :3]).copy()
        if policy.invert_rate > 0 and rng.random() < policy.invert_rate:
            image = 255 - image
        chars = list(rendered.plate.text)
        boxes = np.asarray(rendered.boxes)
        hidden = set()
        if len(boxes) > 2 and rng.random() < policy.grey_box_rate:
            for i in rng.choice(len(boxes), size=int(rng.integers(1, 3)), replace=False):
                _grey_box(image, boxes[i], rng)
                hidden.add(int(i))
        for i, (ch, box) in enumerate(zip(chars, boxes)):
            if i in hidden or ch not in index or len(crops) >= n:
                continue
            crop = _cut(image, box, rng, policy)
            if crop is None:
                continue
            if policy.photometric:
                crop = _stroke(crop, rng, float(box[3]))
            target_h = rng.uniform(*policy.char_height) * crop.shape[0] / max(1.0, float(box[3]))
            scale = target_h / crop.shape[0]
            sx = scale * (rng.uniform(*policy.aspect) if policy.photometric else 1.0)
            crop = cv2.resize(crop, (max(1, int(round(crop.shape[1] * sx))), max(1, int(round(target_h)))), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
            if warp is not None and min(crop.shape[:2]) >= 12:
                crop = warp(image=crop)["image"]
            if aug is not None:
                crop = aug(image=crop)["image"]
            crops.append(crop)
            labels.append(index[ch])
            if fonts is not None:
                fonts.append(style["font"])
            bar.update(1)
    bar.close()
    return crops, np.asarray(labels, np.int32)


def make_dataset(country: str, n: int, seed: int, *, input_shape=None, policy: CropPolicy = DEFAULT_POLICY, render=None, progress: bool = True,
                 fonts: list | None = None, font_mix: dict | None = None):
    """Model inputs ``float32 (n, H, W, 1)`` and labels for ``country`` (see :func:`make_crops`)."""
    from alpr.model import INPUT_SHAPE, preprocess_crop

    shape = tuple(input_shape or INPUT_SHAPE)
    crops, labels = make_crops(country, n, seed, policy=policy, render=render, progress=progress, fonts=fonts, font_mix=font_mix)
    x = np.stack([preprocess_crop(c, shape) for c in crops]) if crops else np.zeros((0, *shape), np.float32)
    return x, labels
