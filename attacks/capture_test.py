"""Simulated print-and-capture test of a sticker through the WHOLE pipeline.

For every test photo: a fresh random plate of the country containing the character (random style
in the sticker's typefaces, ``config.fonts``; seeds far from the optimisation's) is rendered at
2 px/mm; the sticker is *printed* (palette greys through a random printer response: ink black
level, paper white, gamma, colour tint, dot gain blur) and stuck at the character at its fixed
physical size, with a random misplacement; the plate goes into a photo with
``alpr.synth.scene.render_scene`` (perspective, background, holder, its own lighting / blur /
noise / JPEG chain) and extra held-out transformations from :data:`attacks.eot.HELD_OUT`. Each
photo *features* one family, drawn from the part of the held-out range that lies beyond the
training range (or a family training never saw: shadow, glare); the others are drawn within the
training ranges.

The clean twin (same plate, same seed, no sticker) is read too. ``Recognizer.read`` (detection,
segmentation, CNN, grammar decoding) decides: the attack counts only on photos whose clean twin
reads correctly, and succeeds when a plate is read with the same length and the attacked
position reads as something else (``target="any"``) or as the target.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from attacks import eot

FEATURED = ("perspective", "scale", "rotation", "misplacement", "printer", "lighting", "colour_cast", "defocus",
            "motion_blur", "noise", "jpeg", "shadow", "glare")
PLATE_PX_PER_MM = 2.0
SEED_OFFSET = 1_000_003  # photo seeds, far from the optimisation's plates


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a success rate ``k / n`` (95 % by default); (0, 1) when n = 0."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))


def _draw(rng, lo_hi, train_lo_hi, featured: bool):
    """Uniform in the training range, or (featured) in the held-out part outside it."""
    lo, hi = lo_hi
    tlo, thi = train_lo_hi
    if not featured:
        return rng.uniform(tlo, thi)
    parts = [(a, b) for a, b in ((lo, tlo), (thi, hi)) if b > a]
    a, b = parts[int(rng.integers(len(parts)))]
    return rng.uniform(a, b)


def _sym(rng, held, train, featured):
    """Symmetric ± range: within ±``train``, or (featured) between ``train`` and ``held`` in size."""
    if not featured:
        return rng.uniform(-train, train)
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(train, held))


def photo_params(family: str, rng: np.random.Generator, held=eot.HELD_OUT, train=eot.TRAIN) -> dict:
    """Random print-and-capture parameters of one photo featuring ``family``."""
    f = {k: k == family for k in FEATURED}
    return {
        "family": family,
        "foreshorten": rng.uniform(0.72, 0.85) if f["perspective"] else 1.0,
        "scale": _draw(rng, held.scale, train.scale, f["scale"]),
        "rotation": _sym(rng, held.rotation_deg, train.rotation_deg, f["rotation"]),
        "shift": [_sym(rng, held.shift_mm, train.shift_mm, f["misplacement"]) for _ in range(2)],
        "sticker_rot": _sym(rng, held.sticker_rot_deg, train.sticker_rot_deg, f["misplacement"]),
        "ink": [_draw(rng, held.ink_black, train.ink_black, f["printer"]), _draw(rng, held.paper_white, train.paper_white, f["printer"]),
                _draw(rng, held.print_gamma, train.print_gamma, f["printer"])],
        "tint": [1 + _sym(rng, held.tint, train.tint, f["printer"]) for _ in range(3)],
        "brightness": _sym(rng, held.brightness, train.brightness, f["lighting"]),
        "contrast": 1 + _sym(rng, held.contrast, train.contrast, f["lighting"]),
        "gamma": math.exp(_draw(rng, np.log(held.gamma), np.log(train.gamma), f["lighting"])),
        "cast": [1 + _sym(rng, held.cast, train.cast, f["colour_cast"]) for _ in range(3)],
        "defocus": _draw(rng, held.defocus_px, train.defocus_px, f["defocus"]),
        "motion": _draw(rng, held.motion_px, train.motion_px, f["motion_blur"]),
        "noise": _draw(rng, held.noise, train.noise, f["noise"]),
        "jpeg": int(_draw(rng, held.jpeg_quality, train.jpeg_quality, f["jpeg"])),
        "shadow": rng.uniform(0.3, held.shadow) if f["shadow"] else 0.0,
        "glare": rng.uniform(0.2, held.glare) if f["glare"] else 0.0,
        "angle": rng.uniform(0, np.pi),
    }


def stick(plate_bgr: np.ndarray, box, sticker, p: dict, px_per_mm: float) -> np.ndarray:
    """The plate image (uint8 BGR) with the *printed* sticker stuck on the character ``box``
    (x, y, w, h px), misplaced by ``p["shift"]`` mm and ``p["sticker_rot"]`` degrees."""
    k = px_per_mm
    grey = np.where(sticker.mask, sticker.grey, 1.0).astype(np.float32)
    black, white, gamma = p["ink"]
    level = black + (white - black) * np.power(np.clip(grey, 1e-4, 1), gamma)
    h, w = grey.shape
    big = cv2.resize(level, (int(round(w * k)), int(round(h * k))), interpolation=cv2.INTER_NEAREST)
    big = cv2.GaussianBlur(big, (0, 0), 0.25 * k)  # dot gain
    colour = big[..., None] * np.array(p["tint"], np.float32)[None, None]  # BGR tint
    alpha = cv2.resize(sticker.mask.astype(np.float32), (big.shape[1], big.shape[0]), interpolation=cv2.INTER_NEAREST)
    cx, cy = box[0] + box[2] / 2 - 0.5, box[1] + box[3] / 2 - 0.5
    ox, oy = (sticker.origin[0] + 0.5) * k - 0.5, (sticker.origin[1] + 0.5) * k - 0.5
    m = cv2.getRotationMatrix2D((ox, oy), p["sticker_rot"], 1.0)
    m[:, 2] += [cx + p["shift"][0] * k - ox, cy + p["shift"][1] * k - oy]
    size = (plate_bgr.shape[1], plate_bgr.shape[0])
    colour = cv2.warpAffine(colour, m, size, flags=cv2.INTER_LINEAR, borderValue=(1, 1, 1))
    alpha = cv2.warpAffine(alpha, m, size, flags=cv2.INTER_LINEAR)[..., None]
    out = plate_bgr.astype(np.float32) * (1 - alpha) + 255.0 * colour * alpha
    return np.clip(out, 0, 255).astype(np.uint8)


def capture(scene, p: dict, rng: np.random.Generator) -> np.ndarray:
    """Extra held-out transformations on a scene photo (geometry around the plate, lighting,
    colour cast, shadow, glare, blur, noise, JPEG); deterministic given ``p`` and ``rng``."""
    img = scene.image.astype(np.float32)
    H, W = img.shape[:2]
    quad = scene.quad.astype(np.float32)
    c = quad.mean(0)
    dst = quad.copy()
    if p["foreshorten"] < 1:  # squeeze one vertical edge: stronger yaw than the scene's
        side = (0, 3) if rng.random() < 0.5 else (1, 2)
        for i in side:
            dst[i, 1] = c[1] + (quad[i, 1] - c[1]) * p["foreshorten"]
    hom = cv2.getPerspectiveTransform(quad, dst)
    rot = np.vstack([cv2.getRotationMatrix2D((float(c[0]), float(c[1])), p["rotation"], 1.0), [0, 0, 1]])
    img = cv2.warpPerspective(img, rot @ hom, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    img = img * np.array(p["cast"], np.float32)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    if p["shadow"]:
        proj = np.cos(p["angle"]) * (xx - c[0]) + np.sin(p["angle"]) * (yy - c[1])
        img *= (1 - p["shadow"] / (1 + np.exp(-proj / 2.0)))[..., None]
    if p["glare"]:
        g = c + rng.uniform(-0.3, 0.3, 2) * (quad.max(0) - quad.min(0))
        img += 255 * p["glare"] * np.exp(-((xx - g[0]) ** 2 + (yy - g[1]) ** 2) / (2 * (0.1 * W) ** 2))[..., None]
    x = np.clip(img / 255.0, 1e-4, 1)
    x = np.clip((x - 0.5) * p["contrast"] + 0.5 + p["brightness"], 1e-4, 1) ** p["gamma"]
    kernel = eot._kernels(np.array([p["defocus"]]), np.array([p["motion"]]), np.array([p["angle"]]), size=9)[0]
    x = cv2.filter2D(x.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REPLICATE)
    x = x + rng.standard_normal(x.shape).astype(np.float32) * p["noise"]
    u8 = np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", u8, [cv2.IMWRITE_JPEG_QUALITY, int(p["jpeg"])])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def photo_pair(sticker, p: dict, rng: np.random.Generator, *, country: str, char: str = "1", fonts: str = "standard",
               max_perspective_deg: float = eot.HELD_OUT.perspective_deg):
    """One random plate of ``country`` containing ``char`` (style in ``fonts``), photographed
    without and with the printed ``sticker`` on that character (print-and-capture parameters
    ``p``, see :func:`photo_params`), the same scene for both.

    Returns ``(truth, index, [clean_photo, stickered_photo], scene)``: the plate text, the
    position of the character in it, the two BGR photos and the stickered photo's scene (before
    :func:`capture`'s own geometry). Draws from ``rng`` in a fixed order (reproducible reports).
    """
    from alpr.synth.render import render_plate
    from alpr.synth.scene import render_scene
    from attacks.crops import plate_with
    from attacks.patch_geometry import plate_style

    text = plate_with(char, country, rng)
    r = render_plate(text, country, rng=rng, height_px=int(110 * PLATE_PX_PER_MM), style=plate_style(country, rng, fonts))
    truth = r.plate.text
    index = truth.index(char)
    width = float(np.clip(260 * p["scale"], 60, 600))
    photos = []
    scene_seed = int(rng.integers(2**31))
    for adversarial in (False, True):
        image = stick(r.image[..., :3], r.boxes[index], sticker, p, r.px_per_mm) if adversarial else r.image[..., :3]
        plate = type(r)(np.ascontiguousarray(image), r.plate, r.boxes, r.band_box, r.group_index, r.font, r.style)
        # easy: the scene's own photometric chain mild (capture() adds the held-out one);
        # easy also scales angles by 0.4, so this gives yaw up to max_perspective_deg
        scene = render_scene(country, seed=scene_seed, plate=plate, plate_width=width, easy=True,
                             max_angle=max_perspective_deg / 0.4)
        photos.append(capture(scene, p, np.random.default_rng(scene_seed)))
    return truth, index, photos, scene


def judge(plates, truth: str, index: int, target: str) -> dict:
    """Score a reading: clean correctness, attack success at ``index`` (same length required) and
    ``strict`` success (every other position unchanged)."""
    texts = [pl.text for pl in plates]
    same = [t for t in texts if len(t) == len(truth)]
    best = next((t for t in same if t[:index] + t[index + 1:] == truth[:index] + truth[index + 1:]), same[0] if same else None)
    if best is None:
        return {"text": texts[0] if texts else None, "correct": False, "success": False, "strict": False}
    hit = best[index] != truth[index] if target == "any" else best[index] == target
    strict = hit and best[:index] + best[index + 1:] == truth[:index] + truth[index + 1:]
    return {"text": best, "correct": best == truth, "success": bool(hit), "strict": bool(strict)}


def run(recognizer, sticker, *, n: int, seed: int = 0, progress: bool = True, keep_examples: int = 6) -> dict:
    """Simulate ``n`` print-and-capture photos (families round-robin) and read each with and
    without the sticker. Returns the report dict (rates, Wilson 95 % CIs, per family, baseline)
    and ``examples`` (clean / adversarial photo pairs with readings) under ``"_examples"``."""
    import time

    from tqdm import tqdm

    cfg = sticker.config
    start = time.perf_counter()
    rng = np.random.default_rng(seed + SEED_OFFSET)
    rows, examples = [], []
    for i in tqdm(range(n), desc="capture test", disable=not progress, leave=False):
        family = FEATURED[i % len(FEATURED)]
        p = photo_params(family, rng)
        truth, index, photos, scene = photo_pair(sticker, p, rng, country=cfg.country, char=cfg.char, fonts=cfg.fonts)
        clean = judge(recognizer.read(photos[0]), truth, index, cfg.target)
        adv = judge(recognizer.read(photos[1]), truth, index, cfg.target)
        rows.append({"family": family, "truth": truth, "clean": clean["text"], "adversarial": adv["text"],
                     "clean_ok": clean["correct"], "success": adv["success"], "strict": adv["strict"]})
        if len(examples) < keep_examples and clean["correct"]:
            examples.append({**rows[-1], "clean_image": photos[0], "adversarial_image": photos[1], "quad": scene.quad})
    report = summarise(rows)
    report["eval_seconds"] = round(time.perf_counter() - start, 1)
    report["_examples"] = examples
    return report


def summarise(rows: list[dict]) -> dict:
    """Rates with Wilson CIs overall and per featured family; the attack counts on clean-correct photos."""
    def block(rs):
        ok = [r for r in rs if r["clean_ok"]]
        k, ks = sum(r["success"] for r in ok), sum(r["strict"] for r in ok)
        return {"photos": len(rs), "clean_correct": len(ok), "baseline_accuracy": round(len(ok) / max(1, len(rs)), 4),
                "baseline_ci95": [round(v, 4) for v in wilson(len(ok), len(rs))],
                "success": round(k / max(1, len(ok)), 4), "success_ci95": [round(v, 4) for v in wilson(k, len(ok))],
                "strict_success": round(ks / max(1, len(ok)), 4)}

    overall = block(rows)
    return {"simulated_success": overall["success"], "n": overall["clean_correct"], "photos": overall["photos"],
            "ci95": overall["success_ci95"], "strict_success": overall["strict_success"],
            "baseline": {"accuracy": overall["baseline_accuracy"], "ci95": overall["baseline_ci95"],
                         "correct": overall["clean_correct"], "photos": overall["photos"]},
            "per_family": {f: block([r for r in rows if r["family"] == f]) for f in FEATURED if any(r["family"] == f for r in rows)},
            "rows": rows}
