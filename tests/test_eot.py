"""EOT transformations: seeded sampling, differentiability wrt the sticker, the crop path."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from attacks import eot  # noqa: E402

HW = (110, 96)


def _tiny_cnn():
    import keras

    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((32, 24, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.MaxPooling2D(), keras.layers.Flatten(), keras.layers.Dense(10)])


def _scene(b=2):
    win = np.full((b, *HW, 3), 0.95, np.float32)
    win[:, 18:92, 44:54] = 0.1  # a "1" stem
    boxes = np.tile(np.array([[44, 18, 10, 74]], np.float32), (b, 1))
    anchor = boxes[:, :2] + boxes[:, 2:] / 2
    return win, boxes, anchor


@pytest.mark.parametrize("ranges", [eot.TRAIN, eot.HELD_OUT])
def test_sample_is_seeded(ranges):
    a = eot.sample(ranges, 3, np.random.default_rng(7), window_hw=HW)
    b = eot.sample(ranges, 3, np.random.default_rng(7), window_hw=HW)
    c = eot.sample(ranges, 3, np.random.default_rng(8), window_hw=HW)
    assert a.keys() == b.keys()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_held_out_is_wider_than_training():
    t, h = eot.TRAIN, eot.HELD_OUT
    assert h.perspective_deg > t.perspective_deg and h.rotation_deg > t.rotation_deg and h.shift_mm > t.shift_mm
    assert h.scale[0] < t.scale[0] and h.scale[1] > t.scale[1] and h.jpeg_quality[0] < t.jpeg_quality[0]
    assert t.shadow == 0 and t.glare == 0 and h.shadow > 0 and h.glare > 0  # families training never sees


@pytest.mark.parametrize("ranges", [eot.TRAIN, eot.HELD_OUT])
def test_apply_is_differentiable_in_the_sticker(ranges):
    net = _tiny_cnn()
    win, boxes, anchor = _scene()
    sticker = tf.Variable(np.full((60, 40), 0.5, np.float32))
    mask = np.zeros((60, 40), np.float32)
    mask[10:40, 20:35] = 1
    params = eot.sample(ranges, 2, np.random.default_rng(0), window_hw=HW)
    with tf.GradientTape() as tape:
        x = eot.apply(params, sticker, mask, win, anchor, np.array([19.5, 29.5], np.float32), boxes)
        loss = tf.reduce_sum(net(x)[:, 1])
    grad = tape.gradient(loss, sticker).numpy()
    assert x.shape == (2, 32, 24, 1)
    assert np.all(np.isfinite(grad)) and np.abs(grad).sum() > 0
    near = np.zeros_like(mask)
    near[9:41, 19:36] = 1  # the mask and its one-pixel bilinear fringe
    assert np.abs(grad[near == 0]).max() == 0  # only material (and its edge) counts
    again = eot.apply(params, sticker, mask, win, anchor, np.array([19.5, 29.5], np.float32), boxes)
    np.testing.assert_allclose(x.numpy(), again.numpy(), atol=1e-6)  # same sample, same output


def test_crop_inputs_matches_pipeline_preprocessing():
    from alpr.model import preprocess_crop

    win, _, _ = _scene(1)
    win[:, 18:30, 36:44] = 0.1  # the flag of the "1"
    boxes = np.array([[34, 14, 24, 82]], np.float32)
    grey = win[..., :1] * 1.0
    got = eot.crop_inputs(tf.constant(grey), boxes, tf.zeros((1, 4)))[0].numpy()
    x, y, w, h = boxes[0].astype(int)
    ref = preprocess_crop(win[0, y:y + h, x:x + w])
    assert np.abs(got - ref).mean() < 0.08


def test_jpeg_like_and_blur_keep_shape_and_range():
    img = tf.constant(np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 1)).astype(np.float32))
    tables = eot._jpeg_table(np.array([30.0, 95.0])) / 255.0
    out = eot.jpeg_like(img, tables).numpy()
    assert out.shape == img.shape and np.abs(out - img.numpy()).mean() < 0.2
    blurred = eot.gaussian_blur(img, np.array([0.0, 2.0], np.float32)).numpy()
    assert blurred.shape == img.shape and blurred[1].std() < img.numpy()[1].std()
