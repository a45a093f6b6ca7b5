"""Photo-level attack: perturb only the pixels of one character ("1") on a photo, then re-read the
photo with the whole pipeline (detect → rectify → segment → CNN → grammar decoding).

The gradient goes through a differentiable copy of what the pipeline does to that character:

    photo pixels ─(bilinear sampling at the rectification homography, = cv2.warpPerspective
    INTER_LINEAR)→ rectified character box ─(BGR→grey)→ 1–99 percentile contrast stretch
    ─(cv2.resize as two exact linear maps, INTER_AREA/INTER_LINEAR)
    ─(padding with the resized crop's 90th grey percentile)→ 32×24 model input → CNN logits.

:func:`char_inputs` is that path; it matches ``CharModel.crops_to_input`` of the rectified crop
to within the uint8 rounding of the rectified plate (tested). The attack is projected gradient
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
from typing import NamedTuple

import cv2
import numpy as np

from attacks import core
from attacks.quantize import quantize

#: Rectified plate height used by the pipeline (``alpr.detect.rectify`` default).
RECT_HEIGHT = 110


# --------------------------------------------------------------------------- geometry


@dataclass
class CharGeometry:
    """Where one recognised character sits: the plate ``quad`` in the photo, the rectified plate
    size, the character's segmented ``box`` (x, y, w, h) in rectified pixels and the homography
    ``to_image`` (rectified px → photo px)."""

    quad: np.ndarray
    rect_size: tuple[int, int]
    box: tuple[int, int, int, int]
    to_image: np.ndarray
    photo_box: list[int]
    identity: bool = False  # plate-crop mode: the image itself is the "rectified" plate

    def rectified(self, image: np.ndarray) -> np.ndarray:
        """The rectified plate the pipeline segments (the image itself in plate-crop mode)."""
        from alpr import detect

        return image if self.identity else detect.rectify(image, self.quad, height=RECT_HEIGHT)

    def char_crop(self, image: np.ndarray) -> np.ndarray:
        """The character crop the CNN gets: the box cut from the rectified plate."""
        x, y, w, h = self.box
        return self.rectified(image)[y : y + h, x : x + w]

    def photo_polygon(self, margin: float = 0.0) -> np.ndarray:
        """The box's outline (pixel edges, grown by ``margin`` rectified px) in photo coordinates."""
        x, y, w, h = self.box
        pts = np.array([[x - 0.5 - margin, y - 0.5 - margin], [x + w - 0.5 + margin, y - 0.5 - margin],
                        [x + w - 0.5 + margin, y + h - 0.5 + margin], [x - 0.5 - margin, y + h - 0.5 + margin]], np.float64)
        return _apply_h(self.to_image, pts)


def _apply_h(h: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.c_[pts, np.ones(len(pts))] @ np.asarray(h, np.float64).T
    return p[:, :2] / p[:, 2:3]


def _plate_to_image(rect_size, quad) -> np.ndarray:
    w, h = rect_size
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(src, np.asarray(quad, np.float32)).astype(np.float64)


def _bbox_of(pts) -> list[int]:
    x0, y0 = np.floor(pts.min(axis=0))
    x1, y1 = np.ceil(pts.max(axis=0))
    return [int(x0), int(y0), int(x1 - x0), int(y1 - y0)]


def _iou(a, b) -> float:
    from alpr._geometry import box_iou

    return box_iou(a, b)


def locate_char(image: np.ndarray, quad, photo_box, *, crop: bool = False) -> CharGeometry | None:
    """Re-run rectification and segmentation of the plate at ``quad`` and return the geometry of
    the segmented character that best overlaps ``photo_box`` (x, y, w, h in the photo), as the
    pipeline produced it; ``None`` if segmentation finds nothing there. ``crop=True``: ``image``
    is a plate crop read with ``Recognizer.read_crop`` (no rectification)."""
    from alpr import detect, segment

    quad = np.asarray(quad, np.float32).reshape(4, 2)
    rect = image if crop else detect.rectify(image, quad, height=RECT_HEIGHT)
    seg = segment.segment(rect)
    if len(seg.boxes) == 0:
        return None
    size = (rect.shape[1], rect.shape[0])
    to_image = np.eye(3) if crop else _plate_to_image(size, quad)
    best, best_iou = None, 0.0
    for x, y, w, h in seg.boxes:
        corners = np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float64)
        mapped = _bbox_of(_apply_h(to_image, corners))
        iou = _iou(mapped, photo_box)
        if iou > best_iou:
            best, best_iou = (int(x), int(y), int(w), int(h)), iou
    if best is None or best_iou < 0.2:
        return None
    return CharGeometry(quad, size, best, to_image, list(photo_box), identity=crop)


# --------------------------------------------------------------------------- the differentiable path


def resize_matrices(h: int, w: int, input_shape) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """``(A_y, A_x, (top, bottom, left, right))``: ``A_y @ grey @ A_x.T`` is ``preprocess_crop``'s
    aspect-preserving resize of an ``h × w`` grey crop, followed by padding of these widths to the
    model input. The columns are read off ``cv2.resize`` of basis images, so they are OpenCV's own
    INTER_AREA / INTER_LINEAR weights."""
    h_out, w_out = int(input_shape[0]), int(input_shape[1])
    scale = min(h_out / h, w_out / w)
    nh, nw = max(1, min(h_out, int(round(h * scale)))), max(1, min(w_out, int(round(w * scale))))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    a_y = np.empty((nh, h), np.float64)
    a_x = np.empty((nw, w), np.float64)
    for j in range(w):
        basis = np.zeros((h, w), np.float32)
        basis[:, j] = 1.0
        a_x[:, j] = cv2.resize(basis, (nw, nh), interpolation=interp)[0]
    for i in range(h):
        basis = np.zeros((h, w), np.float32)
        basis[i, :] = 1.0
        a_y[:, i] = cv2.resize(basis, (nw, nh), interpolation=interp)[:, 0]
    top, left = (h_out - nh) // 2, (w_out - nw) // 2
    return a_y.astype(np.float32), a_x.astype(np.float32), (top, h_out - nh - top, left, w_out - nw - left)


class _Sampler(NamedTuple):
    """Precomputed linear map window → one character's model input (one jittered geometry)."""

    idx: np.ndarray  # (h*w, 4) int64 flat pixel indices into the window
    wts: np.ndarray  # (h*w, 4) float32 bilinear weights
    hw: np.ndarray  # (2,) int32 crop height, width
    a_y: np.ndarray  # (H, h) float32
    a_x: np.ndarray  # (W, w) float32 -- H, W: the resized size before padding
    pads: np.ndarray  # (4,) int32 top, bottom, left, right


def _sampler(to_image, box, origin, window_shape, photo_shape, input_shape) -> _Sampler:
    x, y, w, h = box
    us, vs = np.meshgrid(np.arange(x, x + w, dtype=np.float64), np.arange(y, y + h, dtype=np.float64))
    pts = _apply_h(to_image, np.c_[us.ravel(), vs.ravel()])
    # BORDER_REPLICATE of warpPerspective: clamp to the photo, then express in window coordinates
    px = np.clip(pts[:, 0], 0, photo_shape[1] - 1) - origin[0]
    py = np.clip(pts[:, 1], 0, photo_shape[0] - 1) - origin[1]
    wh, ww = window_shape
    x0, y0 = np.floor(px), np.floor(py)
    fx, fy = px - x0, py - y0
    xs = [np.clip(x0, 0, ww - 1), np.clip(x0 + 1, 0, ww - 1)]
    ys = [np.clip(y0, 0, wh - 1), np.clip(y0 + 1, 0, wh - 1)]
    idx = np.stack([ys[0] * ww + xs[0], ys[0] * ww + xs[1], ys[1] * ww + xs[0], ys[1] * ww + xs[1]], 1).astype(np.int64)
    wts = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy], 1).astype(np.float32)
    a_y, a_x, pads = resize_matrices(h, w, input_shape)
    return _Sampler(idx, wts, np.array([h, w], np.int32), a_y, a_x, np.array(pads, np.int32))


def _percentile(sorted_flat, q: float):
    """``np.percentile(..., method="linear")`` of an already sorted 1-D tensor (differentiable)."""
    import tensorflow as tf

    n = tf.shape(sorted_flat)[0]
    pos = (q / 100.0) * tf.cast(n - 1, tf.float32)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, n - 1)
    frac = pos - tf.cast(lo, tf.float32)
    return sorted_flat[lo] + frac * (sorted_flat[hi] - sorted_flat[lo])


def _char_input(window, s):
    """Window ``(h, w, 3)`` float tensor in [0, 1] (BGR) → model input ``(H, W, 1)``."""
    import tensorflow as tf

    idx, wts, hw, a_y, a_x, pads = s
    pix = tf.reshape(window, [-1, 3])
    crop = tf.reduce_sum(tf.gather(pix, idx) * wts[..., None], axis=1)  # (h*w, 3)
    grey = tf.linalg.matvec(crop, tf.constant([0.114, 0.587, 0.299], tf.float32))  # BGR weights
    srt = tf.sort(grey)
    lo, hi = _percentile(srt, 1.0), _percentile(srt, 99.0)
    spread = hi - lo
    flat = spread < 1e-3 / 255.0
    g = tf.where(flat, tf.fill(tf.shape(grey), 0.5), tf.clip_by_value((grey - lo) / tf.maximum(spread, 1e-6), 0.0, 1.0))
    g = tf.reshape(g, hw)
    small = tf.matmul(tf.matmul(a_y, g), a_x, transpose_b=True)
    # padding with the paper level: the 90th grey percentile of the resized crop
    background = _percentile(tf.sort(tf.reshape(small, [-1])), 90.0)
    out = tf.pad(small - background, tf.reshape(pads, [2, 2])) + background
    return tf.clip_by_value(out, 0.0, 1.0)[..., None]


def char_inputs(window, samplers):
    """The model inputs ``(K, H, W, 1)`` of the ``K`` geometries, differentiable in ``window``."""
    import tensorflow as tf

    return tf.stack([_char_input(window, tuple(s)) for s in samplers])


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
    from alpr._geometry import quad_bbox

    best, best_iou = None, 0.3
    for p in plates:
        iou = _iou(quad_bbox(np.asarray(p.quad)), quad_bbox(np.asarray(quad)))
        if iou > best_iou:
            best, best_iou = p, iou
    return best


def _reading_at(plate, photo_box):
    """Index of the plate's character whose box best overlaps ``photo_box`` (or None)."""
    if plate is None:
        return None
    ious = [_iou(c.box, photo_box) for c in plate.chars]
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
    outer = _bbox_of(geom.photo_polygon(margin=grow_rect + 2))
    x0, y0 = max(0, outer[0] - 2), max(0, outer[1] - 2)
    x1, y1 = min(W, outer[0] + outer[2] + 3), min(H, outer[1] + outer[3] + 3)
    origin = (x0, y0)
    inside = np.zeros_like(mask)
    inside[y0:y1, x0:x1] = True
    mask &= inside  # (always true in practice: the window is the mask's bounding box plus margins)
    x_win = image[y0:y1, x0:x1].astype(np.float32) / 255.0
    m_win = mask[y0:y1, x0:x1, None].astype(np.float32)
    shape = x_win.shape[:2]

    samplers = [_sampler(geom.to_image, geom.box, origin, shape, image.shape, model.input_shape)]
    for _ in range(jitter):
        bx, by, bw, bh = geom.box
        j = max(1, int(round(0.04 * bh)))
        dl, dr, dt, db = rng.integers(-j, j + 1, size=4)
        box = (bx + dl, by + dt, max(2, bw - dl + dr), max(4, bh - dt + db))
        quad = np.asarray(geom.quad, np.float64) + rng.uniform(-0.5, 0.5, (4, 2))
        to_image = geom.to_image if crop else _plate_to_image(geom.rect_size, quad)
        samplers.append(_sampler(to_image, box, origin, shape, image.shape, model.input_shape))

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
