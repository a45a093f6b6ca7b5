"""Photo-level attack: perturb only the pixels of one character ("1") on a photo, then re-read the
photo with the whole pipeline (detect → rectify → segment → CNN → grammar decoding).

The gradient goes through a differentiable copy of what the pipeline does to that character
(:mod:`attacks.photo_path`: rectification sampling, grey conversion, contrast stretch, resize and
padding, matched to ``CharModel.crops_to_input``). The attack is projected gradient
ascent on :func:`attacks.core.objective` (the one loss) restricted to the characters the
grammar allows in that slot (digits for a digit slot: the decoder never reads a letter there),
with the L∞/L2 geometry of :mod:`attacks.core`, confined to a mask = the character's box mapped
into the photo (dilated by one photo pixel, the support of the bilinear sampling).

No EOT: robustness to re-segmentation comes from averaging the gradient over a few jittered
geometries (character box sides ±``jitter`` of its height, plate corners ±0.5 px), random
restarts, and checking the real pipeline every ``check_every`` steps.

Example::

    >>> rec = alpr.Recognizer("es")
    >>> result = attack_photo(rec, photo, target="7", eps=16 / 255, steps=50, step_size=2 / 255, seed=0)
    >>> result.original_text, result.adversarial_text, result.success
    ('1234BCD', '7234BCD', True)
"""

from __future__ import annotations

import weakref
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from alpr._geometry import box_iou, quad_bbox
from attacks import core
from attacks.photo_path import bbox_of, char_inputs, locate_char, plate_to_image, sampler
from attacks.quantize import quantize

_GRAD_CACHE: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _grad_fn(net, k: int):
    """Compiled ``(x_adv, mask, samplers, cols, label, targeted) -> (objective, masked grad, logits)``
    for ``k`` geometries; traced once per model and ``k`` (shapes are dynamic), so successive
    attacks on different photos, budgets and targets reuse one graph."""
    import tensorflow as tf

    per_model = _GRAD_CACHE.setdefault(net, {})
    if k in per_model:
        return per_model[k]
    ref = weakref.ref(net)
    sampler_spec = (
        tf.TensorSpec([None, 4], tf.int64), tf.TensorSpec([None, 4], tf.float32), tf.TensorSpec([2], tf.int32),
        tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([None, None], tf.float32), tf.TensorSpec([4], tf.int32),
    )

    @tf.function(input_signature=[
        tf.TensorSpec([None, None, 3], tf.float32), tf.TensorSpec([None, None, 1], tf.float32),
        tuple(sampler_spec for _ in range(k)), tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.bool),
    ])
    def grad(x_adv, mask, samplers, cols, label, targeted):
        with tf.GradientTape() as tape:
            tape.watch(x_adv)
            z = tf.cast(ref()(char_inputs(x_adv, samplers), training=False), tf.float32)
            z = tf.gather(z, cols, axis=1)
            obj = core.objective(z, tf.fill([k], label), targeted)
            total = tf.reduce_mean(obj)
        return total, tape.gradient(total, x_adv) * mask, z

    per_model[k] = grad
    return grad


# --------------------------------------------------------------------------- the attack


@dataclass
class PhotoAttackResult:
    """Outcome of :func:`attack_photo`.

    Attributes:
        adversarial: the adversarial photo, uint8 BGR (identical to the input outside ``mask``).
        original_text / adversarial_text: plate read before / after (``None``: no plate read).
        success: untargeted: the text changed (or no plate); targeted: it reads the original
            text with the attacked position replaced by ``target``.
        adversarial_char: what the decoded plate reads at the attacked character's place.
        cnn_char: the CNN's own arg-max on the re-segmented character (before grammar decoding).
        grammar_undone: the CNN reads the target but the grammar decoder changed it back.
        top5_before / top5_after: CNN top-5 ``(char, probability)`` of the attacked character.
        linf / l2: norms of the quantised perturbation in [0, 1] units.
        mask: bool ``(H, W)`` of the pixels the attack was allowed to change.
    """

    adversarial: np.ndarray
    original_text: str
    adversarial_text: str | None
    success: bool
    target: str
    char_index: int
    original_char: str
    adversarial_char: str | None
    cnn_char: str | None
    grammar_undone: bool
    top5_before: list
    top5_after: list
    linf: float
    l2: float
    eps: float
    norm: str
    method: str
    steps_run: int
    restarts_run: int
    mask: np.ndarray = field(repr=False)
    plate_quad: list = field(default_factory=list)
    char_box: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-able summary (no image arrays)."""
        d = asdict(self)
        for key in ("adversarial", "mask"):
            d.pop(key)
        d["mask_pixels"] = int(self.mask.sum())
        return d


def _top5(probs: np.ndarray, alphabet: str) -> list:
    order = np.argsort(-probs)[:5]
    return [(alphabet[i], round(float(probs[i]), 4)) for i in order]


def _match_plate(plates, quad):

    best, best_iou = None, 0.3
    for p in plates:
        overlap = box_iou(quad_bbox(np.asarray(p.quad)), quad_bbox(np.asarray(quad)))
        if overlap > best_iou:
            best, best_iou = p, overlap
    return best


def _reading_at(plate, photo_box):
    """Index of the plate's character whose box best overlaps ``photo_box`` (or None)."""
    if plate is None:
        return None
    ious = [box_iou(c.box, photo_box) for c in plate.chars]
    if not ious or max(ious) < 0.2:
        return None
    return int(np.argmax(ious))


def attack_photo(
    recognizer,
    image: np.ndarray,
    *,
    char_index: int | None = None,
    char: str = "1",
    target: str = "any",
    eps: float,
    steps: int = 50,
    step_size: float | None = None,
    norm="inf",
    method: str = "pgd",
    restarts: int = 3,
    jitter: int = 4,
    check_every: int = 10,
    threshold: float = 0.9,
    seed: int | None = None,
    plate=None,
    crop: bool = False,
) -> PhotoAttackResult:
    """Perturb the pixels of one character on a photo until the full pipeline misreads it.

    Args:
        recognizer: an ``alpr.Recognizer`` (its ``read`` is the judge; its models are attacked).
        image: BGR uint8 photo.
        char_index: position of the attacked character in the reading; default: the first ``char``.
        char: the character to look for when ``char_index`` is None.
        target: ``"any"`` (untargeted: any other reading, no plate included) or one character.
        eps: perturbation budget (L∞: 16/255 = sixteen grey levels; L2: in [0, 1] units).
        steps: gradient steps per restart (``method="fgsm"``: one step of size ``eps``).
        step_size: default ``eps / 8`` (L∞) or ``eps / 5`` (L2).
        norm: ``"inf"`` or ``2``.
        method: ``"pgd"`` (random start, restarts), ``"fgsm"`` or ``"threshold"`` (targeted, from
            the clean photo, stops once p(target) ≥ ``threshold`` on every jittered geometry).
        restarts: independent PGD runs (the first success wins).
        jitter: number of extra jittered geometries whose gradients are averaged (0: exact only).
        check_every: re-read the photo with the full pipeline every this many steps once the
            differentiable path succeeds on all geometries (and at the end of each run).
        threshold: target probability of ``method="threshold"``.
        seed: random starts and jitters.
        plate: the ``Plate`` to attack (default: the most confident reading of ``image``).
        crop: ``image`` is a plate crop, read with ``Recognizer.read_crop`` (no detection).

    Returns:
        A :class:`PhotoAttackResult`; the adversarial photo is quantised to uint8 within ``eps``.

    Raises:
        ValueError: no plate read, no such character, or bad arguments.
    """
    import tensorflow as tf

    eps = core.check_eps(eps)
    norm = core.check_norm(norm)
    steps = core.check_count(steps, "steps")
    restarts = core.check_count(restarts, "restarts")
    if method not in ("pgd", "fgsm", "threshold"):
        raise ValueError(f"method must be pgd, fgsm or threshold, got {method!r}")
    if method == "threshold" and target == "any":
        raise ValueError("the threshold attack needs a target character")
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError("image must be an (H, W, 3) uint8 BGR array")
    step_size = (eps / 8 if norm == "inf" else eps / 5) if step_size is None else core.check_positive(step_size, "step_size")
    if method == "fgsm":
        steps, restarts, step_size = 1, 1, eps
    rng = np.random.default_rng(seed)

    if plate is None:
        found = _read(recognizer, image, crop)
        if not found:
            raise ValueError("no plate read on the clean image")
        plate = found[0]
    text = plate.text
    if char_index is None:
        if char not in text:
            raise ValueError(f"the plate reads {text!r}: no {char!r} to attack")
        char_index = text.index(char)
    if not 0 <= char_index < len(text):
        raise ValueError(f"char_index {char_index} out of range for {text!r}")
    source = text[char_index]
    model = recognizer.models[plate.country]
    alphabet = model.alphabet
    if target != "any" and (len(target) != 1 or target not in alphabet or target == source):
        raise ValueError(f"target must be 'any' or one character of {alphabet!r} other than {source!r}, got {target!r}")
    geom = locate_char(image, plate.quad, plate.chars[char_index].box, crop=crop)
    if geom is None:
        raise ValueError("cannot re-segment the attacked character")

    # slot classes: the decoder reads a digit slot among the digits only (letters likewise)
    same_kind = [i for i, c in enumerate(alphabet) if c.isdigit() == source.isdigit()]
    cols = same_kind if target == "any" or target.isdigit() == source.isdigit() else list(range(len(alphabet)))
    label = cols.index(alphabet.index(source if target == "any" else target))
    targeted = target != "any"

    # the mask and a window around it (room for the jittered geometries)
    H, W = image.shape[:2]
    mask = np.zeros((H, W), np.uint8)
    cv2.fillPoly(mask, [np.round(geom.photo_polygon() * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8)).astype(bool)
    if not mask.any():
        raise ValueError("the attacked character covers no pixel")
    grow_rect = jitter and max(1, int(round(0.04 * geom.box[3]))) or 0
    outer = bbox_of(geom.photo_polygon(margin=grow_rect + 2))
    x0, y0 = max(0, outer[0] - 2), max(0, outer[1] - 2)
    x1, y1 = min(W, outer[0] + outer[2] + 3), min(H, outer[1] + outer[3] + 3)
    origin = (x0, y0)
    inside = np.zeros_like(mask)
    inside[y0:y1, x0:x1] = True
    mask &= inside  # (always true in practice: the window is the mask's bounding box plus margins)
    x_win = image[y0:y1, x0:x1].astype(np.float32) / 255.0
    m_win = mask[y0:y1, x0:x1, None].astype(np.float32)
    shape = x_win.shape[:2]

    samplers = [sampler(geom.to_image, geom.box, origin, shape, image.shape, model.input_shape)]
    for _ in range(jitter):
        bx, by, bw, bh = geom.box
        j = max(1, int(round(0.04 * bh)))
        dl, dr, dt, db = rng.integers(-j, j + 1, size=4)
        box = (bx + dl, by + dt, max(2, bw - dl + dr), max(4, bh - dt + db))
        quad = np.asarray(geom.quad, np.float64) + rng.uniform(-0.5, 0.5, (4, 2))
        to_image = geom.to_image if crop else plate_to_image(geom.rect_size, quad)
        samplers.append(sampler(to_image, box, origin, shape, image.shape, model.input_shape))

    x_t = tf.constant(x_win)
    m_t = tf.constant(m_win)
    grad_fn = _grad_fn(model.keras_model, len(samplers))
    sampler_args = tuple(tuple(tf.constant(a) for a in smp) for smp in samplers)
    cols_t, label_t, targeted_t = tf.constant(cols, tf.int32), tf.constant(label, tf.int32), tf.constant(targeted)

    def grad_of(x_adv):
        return grad_fn(x_adv, m_t, sampler_args, cols_t, label_t, targeted_t)

    def project_window(x_adv):
        x_adv = x_t + (x_adv - x_t) * m_t
        return core.clip_to_ball(x_adv[None], x_t[None], eps, norm)[0]

    def path_success(z) -> np.ndarray:
        pred = tf.argmax(z, axis=1, output_type=tf.int32).numpy()
        return pred == label if targeted else pred != label

    def full(x_adv_win):
        photo = image.astype(np.float32) / 255.0
        adv = photo.copy()
        adv[y0:y1, x0:x1] = np.asarray(x_adv_win)
        q = quantize(adv[None], photo[None], eps=eps, norm=norm)[0]
        adv_u8 = np.rint(q * 255.0).astype(np.uint8)
        return adv_u8, _judge(recognizer, adv_u8, plate, char_index, target, crop)

    verdict = None
    best_u8 = image.copy()
    steps_run = restarts_run = 0
    for r in range(restarts):
        restarts_run = r + 1
        if method == "pgd" and eps > 0:
            if norm == "inf":
                noise = rng.uniform(-eps, eps, x_win.shape).astype(np.float32)
            else:
                noise = rng.standard_normal(x_win.shape).astype(np.float32) * m_win
                d = max(1, int(m_win.sum() * 3))
                noise *= eps * rng.uniform() ** (1 / d) / max(float(np.linalg.norm(noise)), 1e-12)
            x_adv = project_window(x_t + noise)
        else:
            x_adv = x_t
        best_key, best_x = (-1, -np.inf), x_adv
        found = stopped = False
        for it in range(steps):
            steps_run += 1
            total, g, z = grad_of(x_adv)
            ok = path_success(z)
            key = (int(ok.sum()), float(total))
            if key > best_key:
                best_key, best_x = key, x_adv
            if method == "threshold":
                if (tf.nn.softmax(z, axis=1).numpy()[:, label] >= threshold).all():
                    best_x, stopped = x_adv, True
                    break
            elif check_every and it and it % check_every == 0 and ok.all():
                adv_u8, verdict = full(x_adv)
                if verdict["success"]:
                    found = True
                    break
            x_adv = project_window(x_adv + step_size * core.normalized_step(g[None], norm)[0])
        if not found:
            if not stopped:
                total, _, z = grad_of(x_adv)
                key = (int(path_success(z).sum()), float(total))
                if key > best_key or method == "fgsm":
                    best_x = x_adv
            adv_u8, verdict = full(best_x)
        best_u8 = adv_u8
        if verdict["success"] or method != "pgd":
            break

    before = model.predict_proba(model.crops_to_input([geom.char_crop(image)]))[0]
    delta = (best_u8.astype(np.float64) - image) / 255.0
    return PhotoAttackResult(
        adversarial=best_u8,
        original_text=text,
        adversarial_text=verdict["text"],
        success=verdict["success"],
        target=target,
        char_index=char_index,
        original_char=source,
        adversarial_char=verdict["char"],
        cnn_char=verdict["cnn_char"],
        grammar_undone=verdict["grammar_undone"],
        top5_before=_top5(before, alphabet),
        top5_after=verdict["top5"],
        linf=float(np.abs(delta).max()),
        l2=float(np.sqrt((delta**2).sum())),
        eps=eps,
        norm=str(norm),
        method=method,
        steps_run=steps_run,
        restarts_run=restarts_run,
        mask=mask,
        plate_quad=np.asarray(plate.quad).round(2).tolist(),
        char_box=list(plate.chars[char_index].box),
    )


def _read(recognizer, image, crop: bool) -> list:
    if not crop:
        return recognizer.read(image)
    plate = recognizer.read_crop(image)
    return [] if plate is None else [plate]


def _judge(recognizer, adv_u8, plate, char_index, target, crop=False) -> dict:
    """Re-read ``adv_u8`` with the full pipeline and score it against the clean ``plate``."""
    text = plate.text
    box = plate.chars[char_index].box
    found = _read(recognizer, adv_u8, crop)
    adv = _match_plate(found, plate.quad)
    adv_text = adv.text if adv is not None else None
    j = _reading_at(adv, box)
    adv_char = adv.text[j] if j is not None else None
    # what the CNN itself sees at that place after re-segmentation (grammar not applied)
    model = recognizer.models[adv.country if adv is not None else plate.country]
    geom = locate_char(adv_u8, adv.quad if adv is not None else plate.quad, adv.chars[j].box if j is not None else box, crop=crop)
    if geom is None:
        cnn_char, top5 = None, []
    else:
        probs = model.predict_proba(model.crops_to_input([geom.char_crop(adv_u8)]))[0]
        cnn_char, top5 = model.alphabet[int(np.argmax(probs))], _top5(probs, model.alphabet)
    if target == "any":
        success = adv_text != text
        undone = False
    else:
        success = adv_text == text[:char_index] + target + text[char_index + 1 :]
        undone = cnn_char == target and adv_char != target
    return {"text": adv_text, "char": adv_char, "cnn_char": cnn_char, "top5": top5,
            "success": bool(success), "grammar_undone": bool(undone)}
