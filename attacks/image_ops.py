"""Differentiable image operations (TensorFlow) used by :mod:`attacks.eot`: per-sample bilinear
sampling, per-sample convolutions and blurs, JPEG-like DCT quantisation with soft rounding, and
the pipeline's character preprocessing (contrast stretch, aspect-preserving resize, padding) on
arbitrary boxes. Every op is differentiable in its image input; TensorFlow is imported lazily."""

from __future__ import annotations

import numpy as np


def bilinear(images, coords):
    """Sample ``images`` (B, H, W, C) at ``coords`` (B, h, w, 2) = (x, y) pixel positions, edges
    clamped; differentiable in ``images``."""
    import tensorflow as tf

    shape = tf.shape(images)
    h, w = shape[1], shape[2]
    x = tf.clip_by_value(coords[..., 0], 0.0, tf.cast(w - 1, tf.float32))
    y = tf.clip_by_value(coords[..., 1], 0.0, tf.cast(h - 1, tf.float32))
    x0, y0 = tf.floor(x), tf.floor(y)
    fx, fy = (x - x0)[..., None], (y - y0)[..., None]
    x0i, y0i = tf.cast(x0, tf.int32), tf.cast(y0, tf.int32)
    x1i, y1i = tf.minimum(x0i + 1, w - 1), tf.minimum(y0i + 1, h - 1)
    b = tf.broadcast_to(tf.range(shape[0])[:, None, None], tf.shape(x0i))

    def at(yy, xx):
        return tf.gather_nd(images, tf.stack([b, yy, xx], -1))

    top = at(y0i, x0i) * (1 - fx) + at(y0i, x1i) * fx
    bottom = at(y1i, x0i) * (1 - fx) + at(y1i, x1i) * fx
    return top * (1 - fy) + bottom * fy


def grid(h, w):
    """(h, w, 2) pixel coordinates (x, y)."""
    import tensorflow as tf

    ys, xs = tf.meshgrid(tf.range(h, dtype=tf.float32), tf.range(w, dtype=tf.float32), indexing="ij")
    return tf.stack([xs, ys], -1)  # (h, w, 2)


def per_sample_conv(images, kernels):
    """Convolve image ``i`` of (B, H, W, 1) with ``kernels[i]`` (B, k, k), 'SAME', edges replicated."""
    import tensorflow as tf

    k = kernels.shape[-1]
    p = k // 2
    x = tf.pad(images, [[0, 0], [p, p], [p, p], [0, 0]], mode="SYMMETRIC")
    x = tf.transpose(x, [3, 1, 2, 0])  # (1, H, W, B): the batch as channels
    f = tf.transpose(kernels, [1, 2, 0])[..., None]  # (k, k, B, 1)
    return tf.transpose(tf.nn.depthwise_conv2d(x, f, [1, 1, 1, 1], "VALID"), [3, 1, 2, 0])


def gaussian_blur(images, sigma):
    """Per-sample isotropic Gaussian blur of (B, H, W, 1); ``sigma`` (B,) in px (0: none)."""
    import tensorflow as tf

    r = tf.range(-4, 5, dtype=tf.float32)
    s = tf.maximum(tf.convert_to_tensor(sigma, tf.float32), 0.05)[:, None]
    g = tf.exp(-(r[None] ** 2) / (2 * s**2))
    g = g / tf.reduce_sum(g, 1, keepdims=True)
    return per_sample_conv(images, g[:, :, None] * g[:, None, :])


def soft_round(x):
    """Differentiable rounding (Shin & Song 2017): ``round(x) + (x - round(x))³``."""
    import tensorflow as tf

    r = tf.stop_gradient(tf.round(x))
    return r + (x - r) ** 3


def jpeg_like(images, tables):
    """JPEG-like degradation of grey (B, H, W, 1) images in [0, 1] (H, W multiples of 8): 8×8
    DCT, division by the per-sample quantisation ``tables`` (B, 8, 8), soft rounding, inverse."""
    import tensorflow as tf

    n = np.arange(8)
    d = np.sqrt(2 / 8) * np.cos((2 * n[None] + 1) * n[:, None] * np.pi / 16)
    d[0] /= np.sqrt(2)
    dct = tf.constant(d, tf.float32)
    shape = tf.shape(images)
    b, h, w = shape[0], shape[1], shape[2]
    blocks = tf.reshape(images[..., 0] - 0.5, [b, h // 8, 8, w // 8, 8])
    coef = tf.einsum("ij,bpjqk,lk->bpiql", dct, blocks, dct)
    t = tables[:, None, :, None, :]
    coef = soft_round(coef / t) * t
    out = tf.einsum("ji,bpjqk,kl->bpiql", dct, coef, dct)
    return tf.reshape(out, [b, h, w])[..., None] + 0.5


def _masked_percentile(values, valid, q):
    """Per-row ``q``-th percentile of ``values`` (B, N) over the entries where ``valid``."""
    import tensorflow as tf

    big = tf.where(valid, values, 1e3)
    srt = tf.sort(big, axis=1)
    count = tf.reduce_sum(tf.cast(valid, tf.float32), 1)
    pos = q / 100.0 * tf.maximum(count - 1, 0)
    lo = tf.cast(tf.floor(pos), tf.int32)
    hi = tf.minimum(lo + 1, tf.cast(count, tf.int32) - 1)
    frac = pos - tf.floor(pos)
    a = tf.gather(srt, lo[:, None], batch_dims=1)[:, 0]
    c = tf.gather(srt, tf.maximum(hi, 0)[:, None], batch_dims=1)[:, 0]
    return a + frac * (c - a)


def crop_inputs(rect, boxes, jitter, input_hw=(32, 24)):
    """The pipeline's character preprocessing (``alpr.model.preprocess_crop``) on boxes of the
    rectified grey windows (B, H, W, 1): 1–99 % contrast stretch, aspect-preserving resize into
    ``input_hw`` (area pre-filter), padding with the 90th percentile. ``jitter`` (B, 4) moves the
    box sides by fractions of its height."""
    import tensorflow as tf

    boxes = tf.cast(boxes, tf.float32)
    h_in, w_in = input_hw
    bh = boxes[:, 3]
    x0 = boxes[:, 0] + jitter[:, 0] * bh
    y0 = boxes[:, 1] + jitter[:, 1] * bh
    x1 = boxes[:, 0] + boxes[:, 2] + jitter[:, 2] * bh
    y1 = boxes[:, 1] + boxes[:, 3] + jitter[:, 3] * bh
    w, h = tf.maximum(x1 - x0, 2.0), tf.maximum(y1 - y0, 4.0)
    scale = tf.minimum(h_in / h, w_in / w)
    nh, nw = tf.round(h * scale), tf.round(w * scale)
    top, left = tf.floor((h_in - nh) / 2), tf.floor((w_in - nw) / 2)
    rect = gaussian_blur(rect, 0.45 / scale)  # INTER_AREA ~ box filter ~ this Gaussian
    g = grid(h_in, w_in)[None]
    u = (g[..., 0] - left[:, None, None] + 0.5) / scale[:, None, None] + x0[:, None, None] - 0.5
    v = (g[..., 1] - top[:, None, None] + 0.5) / scale[:, None, None] + y0[:, None, None] - 0.5
    valid = ((g[..., 0] >= left[:, None, None]) & (g[..., 0] < (left + nw)[:, None, None])
             & (g[..., 1] >= top[:, None, None]) & (g[..., 1] < (top + nh)[:, None, None]))
    vals = bilinear(rect, tf.stack([u, v], -1))[..., 0]
    flat, vflat = tf.reshape(vals, [tf.shape(vals)[0], -1]), tf.reshape(valid, [tf.shape(vals)[0], -1])
    lo = _masked_percentile(flat, vflat, 1.0)[:, None, None]
    hi = _masked_percentile(flat, vflat, 99.0)[:, None, None]
    stretched = tf.clip_by_value((vals - lo) / tf.maximum(hi - lo, 1e-3), 0.0, 1.0)
    bg = _masked_percentile(tf.reshape(stretched, tf.shape(flat)), vflat, 90.0)[:, None, None]
    return tf.where(valid, stretched, bg)[..., None]
