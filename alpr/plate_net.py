"""A small learned plate detector (CenterNet-style), trained only on the project's synthetic street photos.

The photo is resized to ``WORK_WIDTH`` (320) pixels wide (4:3 frame, padded to a multiple of 16;
photos of higher resolution are seen larger, up to ``MAX_WORK_WIDTH``, see ``working_width``)
and a small fully-convolutional net predicts, at stride 4, a plate-centre heatmap (sigmoid) and
per cell the box: centre offset within the cell (dx, dy) and log size (log w/16, log h/16) in
working pixels. Peaks of the heatmap (3x3 local maxima above a threshold) become axis-aligned
boxes, de-duplicated by non-maximum suppression. Trained on plates 6-230 px wide at 320 px; it
matters most for small plates (characters 2-6 px tall) where the classical text-row detector
cannot see characters at all, and its boxes are the plates' own axis-aligned outlines.

Example::

    from alpr import plate_net
    net = plate_net.load()                     # None when data/models/plate_detector.keras is absent
    boxes = net.detect(image_bgr)              # [(x, y, w, h, score), ...] in image pixels, best first

Training: ``scripts/train_plate_detector.py`` (data: ``alpr.detect_data``).
"""

import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from alpr._geometry import box_iou
from alpr.resources import models_dir

#: Working width of the net (photos are resized to it) and output stride.
WORK_WIDTH, STRIDE = 320, 4
#: Working width for small plates (``alpr recognize --small-plates``): plates 1.5x larger to the
#: net than at ``WORK_WIDTH``, for ~2.2x its compute. On 500 synthetic validation photos
#: (320 x 240) the fused detector's recall rose 0.823 -> 0.841 (plates < 12 px: 0.66 -> 0.71)
#: at the same precision; 400 and 560 gained less (scripts/tune_detector.py --net-width).
SMALL_PLATES_WIDTH = 480
#: A photo of higher resolution holds detail that 320 px would throw away (a plate 40 px wide in
#: a 1280 px photo is 10 px wide at 320, too small for the net, which was trained on street photos
#: drawn at twice their size and area-averaged). The net sees a photo at half its width (4:3
#: frame), from ``WORK_WIDTH`` up to this: photos up to 640 x 480 as before (UC3M-LP, the
#: benchmark's photos), 1280 px and wider at 640, for about 5x the net's compute there (with the
#: second pass at 320, see ``LARGER_PASS_MAX_PLATE``). Rendered street photos at 1280 x 960, 100
#: photos: detector recall 0.528 -> 0.795, precision 0.877 -> 0.910 (plates under 48 px: 43 -> 100
#: of 146); see scripts/eval_high_res.py.
MAX_WORK_WIDTH = 640
#: In a photo seen larger than ``WORK_WIDTH`` for its resolution, the net is trusted only for
#: plates under this width (pixels at ``WORK_WIDTH``): it was trained on plates up to 230 px at
#: 320 and its boxes top out at about 220 px, so seen at 640 a close-up plate came back boxed
#: loosely (IoU 0.52-0.57 with the plate) and replaced the classical outline. Wider plates come
#: from a second pass at ``WORK_WIDTH``. (``--small-plates`` on photos up to 640 x 480 keeps its
#: one pass at 480: a second pass there read 2 UC3M-LP plates and 1 openalpr-eu plate fewer.)
LARGER_PASS_MAX_PLATE = 60.0
#: Default heatmap threshold of ``PlateNet.detect`` (recall-oriented: synthetic validation recall
#: ~0.87 at precision ~0.8); ``alpr.detect`` uses its own stricter ``NET_THRESHOLD``.
THRESHOLD = 0.35
#: Average the heatmap over the photo and its mirror image (the net runs on both, as one batch
#: of two). The net's false detections (windows, grilles, text on cars) are less often seen in
#: both views than plates are: on the 500 synthetic validation photos the fused detector at
#: ``NET_THRESHOLD`` 0.5 went from recall 0.827 / precision 0.891 to 0.820 / 0.902, and on real
#: photos (measured only, never tuned on) UC3M-LP from 0.571 / 0.746 to 0.556 / 0.829 and
#: openalpr-eu from 0.981 / 0.815 to 0.981 / 0.828. Boxes stay those of the unmirrored pass.
#: The second pass costs time: on a slow 2-core machine, 2-12 % fewer photos/s as a batch.
MIRROR_AVERAGE = True
#: The LiteRT twin's probe batch (two photos, as the mirror average runs) and how many input
#: shapes keep an interpreter (photos of a few sizes, the two passes over a large photo).
_PROBE_SHAPE, _SHAPES = (2, 64, 96, 3), 4
#: Plate-width classes (pixels at ``WORK_WIDTH``) by which detector recall is reported.
SIZE_CLASSES = ("lt12", "12to30", "ge30")
_SIZE_REF = 16.0  # log-size targets are log(size / _SIZE_REF)
MODEL_NAME = "plate_detector.keras"


def model_path() -> Path:
    """Where the bundled detector model lives (data/models/plate_detector.keras)."""
    return models_dir() / MODEL_NAME


def size_class(width: float) -> str:
    """The ``SIZE_CLASSES`` entry of a plate ``width`` pixels wide at ``WORK_WIDTH``: < 12, 12-30, >= 30."""
    return SIZE_CLASSES[0] if width < 12 else SIZE_CLASSES[1] if width < 30 else SIZE_CLASSES[2]


def build_model():
    """The net: input (H, W, 3) float32 in [0, 1] (H, W multiples of 16); outputs ``heat``
    (H/4, W/4, 1) sigmoid and ``box`` (H/4, W/4, 4) = dx, dy, log w/16, log h/16.

    Encoder of plain 3x3 convolutions down to 1/16, with dilated convolutions there for context
    (the car around a tiny plate), and a two-step decoder back to stride 4 with skip connections.
    (Depthwise-separable blocks had fewer operations but ran 2-3x slower on CPU.)"""
    import keras
    from keras import layers

    def conv(x, filters, stride=1, kernel=3, dilation=1):
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", dilation_rate=dilation, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inp = keras.Input((None, None, 3), name="image")
    x = conv(inp, 16, 2)  # 1/2
    s4 = conv(x, 32, 2)  # 1/4
    x = conv(s4, 48, 2)  # 1/8
    s8 = conv(x, 48)
    x = conv(s8, 96, 2)  # 1/16
    x = conv(x, 96, dilation=2)
    x = layers.Add()([x, conv(x, 96, dilation=4)])
    x = layers.UpSampling2D(2)(x)
    x = layers.Concatenate()([x, s8])
    x = conv(x, 48, kernel=1)
    x = conv(x, 48)
    x = layers.UpSampling2D(2)(x)
    x = layers.Concatenate()([x, s4])
    x = conv(x, 32, kernel=1)
    x = conv(x, 32)
    heat = layers.Conv2D(1, 1, activation="sigmoid", bias_initializer=keras.initializers.Constant(-4.0), name="heat")(x)
    box = layers.Conv2D(4, 1, name="box")(x)
    return keras.Model(inp, [heat, box], name="plate_detector")


def targets(boxes: np.ndarray, shape: tuple[int, int], ignore: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Training targets for (x, y, w, h) ``boxes`` in a working image of ``shape`` (H, W):
    heatmap (h, w) with 1 at each centre cell, box (h, w, 4), the box-loss mask (h, w) and the
    heatmap-loss weight (h, w): 0 around the ``ignore`` boxes (plates not demanded either way)."""
    gh, gw = shape[0] // STRIDE, shape[1] // STRIDE
    heat = np.zeros((gh, gw), np.float32)
    box = np.zeros((gh, gw, 4), np.float32)
    mask = np.zeros((gh, gw), np.float32)
    weight = np.ones((gh, gw), np.float32)
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    for x, y, w, h in np.asarray(boxes, np.float32).reshape(-1, 4):
        if w < 2 or h < 1:
            continue
        gx, gy = (x + w / 2) / STRIDE, (y + h / 2) / STRIDE
        j, i = min(gw - 1, int(gx)), min(gh - 1, int(gy))
        sx, sy = max(0.5, w / STRIDE / 6), max(0.5, h / STRIDE / 6)
        g = np.exp(-((xs - j) ** 2 / (2 * sx * sx) + (ys - i) ** 2 / (2 * sy * sy)))
        g[i, j] = 1.0
        own = (g > 0.6) & (g > heat)
        heat = np.maximum(heat, g)
        box[own] = np.stack([gx - xs[own], gy - ys[own], np.full(own.sum(), math.log(w / _SIZE_REF)),
                             np.full(own.sum(), math.log(h / _SIZE_REF))], -1)
        mask[own] = 1.0
    for x, y, w, h in np.asarray(ignore if ignore is not None else [], np.float32).reshape(-1, 4):
        j0, i0 = max(0, int((x - 2) // STRIDE)), max(0, int((y - 2) // STRIDE))
        j1, i1 = min(gw, int((x + w + 2) // STRIDE) + 1), min(gh, int((y + h + 2) // STRIDE) + 1)
        weight[i0:i1, j0:j1] = np.where(heat[i0:i1, j0:j1] > 0.999, 1.0, 0.0)
    return heat, box, mask, weight


def working_width(shape: tuple[int, ...], *, small_plates: bool = False) -> int:
    """The width (4:3 frame) at which the net sees a photo of ``shape`` (H, W[, C]): half the
    photo's, from ``WORK_WIDTH`` to ``MAX_WORK_WIDTH``, a multiple of 16; with ``small_plates``
    ``SMALL_PLATES_WIDTH / WORK_WIDTH`` times that."""
    half = 0.5 * WORK_WIDTH / frame_scale(shape, WORK_WIDTH)
    width = 16 * round(min(MAX_WORK_WIDTH, max(WORK_WIDTH, half)) / 16)
    if small_plates:
        width = 16 * round(width * SMALL_PLATES_WIDTH / WORK_WIDTH / 16)
    return int(width)


def frame_scale(shape: tuple[int, ...], width: int) -> float:
    """The scale from a photo of ``shape`` (H, W[, C]) to ``width`` pixels for a 4:3 frame."""
    h0, w0 = shape[:2]
    return width / max(w0, h0 * 4 / 3)


def prepare(image_bgr: np.ndarray, work_width: int | None = None) -> tuple[np.ndarray, float]:
    """The net's input (H, W, 3) float32 for a photo resized to ``work_width`` (default
    ``working_width(image_bgr.shape)``) for a 4:3 frame, and the photo-to-working scale."""
    if image_bgr.ndim == 2:
        image_bgr = cv2.cvtColor(image_bgr, cv2.COLOR_GRAY2BGR)
    h0, w0 = image_bgr.shape[:2]
    scale = frame_scale(image_bgr.shape, work_width or working_width(image_bgr.shape))
    w, h = max(16, round(w0 * scale)), max(16, round(h0 * scale))
    resized = cv2.resize(image_bgr, (w, h), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    H, W = -(-h // 16) * 16, -(-w // 16) * 16
    x = np.zeros((H, W, 3), np.float32)
    x[:h, :w] = resized.astype(np.float32) * (1 / 255)
    return x, scale


def decode(heat: np.ndarray, box: np.ndarray, *, threshold: float = THRESHOLD, top_k: int = 20,
           nms_iou: float = 0.3) -> list[tuple[float, float, float, float, float]]:
    """Peaks of one heatmap (h, w) and their boxes (h, w, 4) as (x, y, w, h, score) in working
    pixels, best first.

    A peak's box is the heat-weighted mean of the boxes predicted by the cells of its 3x3
    neighbourhood that are at least half as hot as the peak (box voting): a plate a few cells
    wide is outlined by several cells, and their mean sits closer to it than the peak's own
    guess (synthetic validation, scripts/tune_detector.py: recall 0.823 -> 0.827, precision
    0.884 -> 0.891)."""
    peaks = (heat >= threshold) & (heat >= cv2.dilate(heat, np.ones((3, 3), np.uint8)))
    iy, ix = np.nonzero(peaks)
    if len(iy) == 0:
        return []
    corners = _cell_boxes(box)
    gh, gw = heat.shape
    order = np.argsort(-heat[iy, ix])[: 4 * top_k]
    out = []
    for k in order:
        i, j = iy[k], ix[k]
        rows, cols = slice(max(0, i - 1), min(gh, i + 2)), slice(max(0, j - 1), min(gw, j + 2))
        near = heat[rows, cols]
        weight = np.where(near >= 0.5 * heat[i, j], near, 0.0)[..., None]
        x0, y0, x1, y1 = (corners[rows, cols] * weight).sum(axis=(0, 1)) / weight.sum()
        cand = (float(x0), float(y0), float(x1 - x0), float(y1 - y0), float(heat[i, j]))
        if all(box_iou(cand[:4], o[:4]) < nms_iou for o in out):
            out.append(cand)
            if len(out) >= top_k:
                break
    return out


def _cell_boxes(box: np.ndarray) -> np.ndarray:
    """Every cell's predicted box (h, w, 4) as corners x0, y0, x1, y1 in working pixels."""
    gh, gw = box.shape[:2]
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float32)
    cx, cy = (xs + box[..., 0]) * STRIDE, (ys + box[..., 1]) * STRIDE
    half_w = 0.5 * _SIZE_REF * np.exp(np.minimum(4.0, box[..., 2]))
    half_h = 0.5 * _SIZE_REF * np.exp(np.minimum(4.0, box[..., 3]))
    return np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=-1)


class PlateNet:
    """A loaded detector: ``detect(image_bgr)`` -> [(x, y, w, h, score)] in image pixels.

    Reads with int8 weights under LiteRT (1.8x faster than TensorFlow, the same detections
    within noise; see :mod:`alpr.lite`), or TensorFlow when LiteRT is unavailable or disabled.
    ``PlateNet(None, runner=..., loader=...)`` reads with a cached LiteRT ``runner`` and loads
    the Keras model (:attr:`model`) only when asked; ``source``: the file ``model`` was just
    loaded from, to cache its conversion by the file's contents (see :func:`load`)."""

    def __init__(self, model, *, runner=None, loader=None, source=None):
        from alpr import lite

        self._model, self._loader = model, loader
        if runner is None:
            runner = lite.runner(model, _PROBE_SHAPE, quantized=True, shapes=_SHAPES, source=source)
        if runner is None:
            import tensorflow as tf

            runner = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        self._run = runner

    @property
    def model(self):
        """The Keras model (loaded now if it was left to the loader)."""
        if self._model is None:
            self._model = self._loader()
        return self._model

    def heatmap(self, image_bgr: np.ndarray, work_width: int | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """Outputs (heat (h, w), box (h, w, 4)) and the photo-to-working scale; with
        ``MIRROR_AVERAGE`` the heat is the mean of the photo's and its mirror image's."""
        x, scale = prepare(image_bgr, work_width)
        batch = np.stack([x, x[:, ::-1]]) if MIRROR_AVERAGE else x[None]
        heat, box = (np.asarray(out) for out in self._run(batch))
        heat = heat[..., 0]
        # the padded width is a multiple of the stride, so the mirrored grid aligns exactly
        mean_heat = 0.5 * (heat[0] + heat[1][:, ::-1]) if MIRROR_AVERAGE else heat[0]
        return mean_heat, box[0], scale

    def detect(self, image_bgr: np.ndarray, *, threshold: float = THRESHOLD, top_k: int = 20,
               work_width: int | None = None):
        """Plates as (x, y, w, h, score) in image pixels, best first; the photo is seen
        ``work_width`` pixels wide (default ``working_width(image_bgr.shape)``). For a photo
        larger than 640 x 480 (its ``working_width`` above ``WORK_WIDTH``), that pass gives the
        plates under ``LARGER_PASS_MAX_PLATE`` and a second pass at ``WORK_WIDTH`` the others."""
        default = working_width(image_bgr.shape)
        width = work_width or default
        if default <= WORK_WIDTH or width <= WORK_WIDTH:
            return self._detect_at(image_bgr, width, threshold, top_k)
        to_default = frame_scale(image_bgr.shape, WORK_WIDTH)  # photo pixels to pixels at WORK_WIDTH
        small = [b for b in self._detect_at(image_bgr, width, threshold, top_k)
                 if b[2] * to_default < LARGER_PASS_MAX_PLATE]
        large = [b for b in self._detect_at(image_bgr, WORK_WIDTH, threshold, top_k)
                 if b[2] * to_default >= LARGER_PASS_MAX_PLATE]
        return sorted(small + large, key=lambda b: -b[4])

    def _detect_at(self, image_bgr: np.ndarray, width: int, threshold: float, top_k: int):
        """``detect``'s boxes from one pass of the net with the photo ``width`` pixels wide."""
        heat, box, scale = self.heatmap(image_bgr, width)
        h0, w0 = image_bgr.shape[:2]
        out = []
        for x, y, w, h, s in decode(heat, box, threshold=threshold, top_k=top_k):
            x0, y0 = max(0.0, x / scale), max(0.0, y / scale)
            x1, y1 = min(float(w0), (x + w) / scale), min(float(h0), (y + h) / scale)
            if x1 - x0 >= 2 and y1 - y0 >= 1:
                out.append((x0, y0, x1 - x0, y1 - y0, s))
        return out


@lru_cache(maxsize=4)
def _load(path: str) -> "PlateNet | None":
    from alpr import lite

    if not Path(path).is_file():
        return None
    runner = lite.file_runner(path, _PROBE_SHAPE, quantized=True, shapes=_SHAPES)
    if runner is not None:  # converted from these very bytes before: no Keras or TensorFlow needed
        return PlateNet(None, runner=runner, loader=lambda: _load_keras(path))
    return PlateNet(_load_keras(path), source=path)


def _load_keras(path: str):
    from alpr.tf_import import import_tensorflow

    import_tensorflow()
    import keras

    return keras.saving.load_model(path, safe_mode=True, compile=False)


def load(path: str | Path | None = None) -> "PlateNet | None":
    """The detector at ``path`` (default: the bundled one), cached; None when the file is absent."""
    return _load(str(model_path() if path is None else path))
