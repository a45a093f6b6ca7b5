"""Street photos for the detector (alpr.synth.street), its training data and targets."""

import cv2
import numpy as np

from alpr import detect_data, plate_net
from alpr.synth.street import MIN_WIDTH, render_street
from alpr.synth.street_camera import Camera, Canvas, clip_near


def test_street_photo_shape_labels_and_determinism():
    a = render_street(seed=3)
    b = render_street(seed=3)
    assert a.image.shape == (240, 320, 3) and a.image.dtype == np.uint8
    assert np.array_equal(a.image, b.image) and np.array_equal(a.boxes, b.boxes)
    for boxes in (a.boxes, a.ignore):
        assert boxes.shape[1] == 4
        assert (boxes[:, 0] >= 0).all() and (boxes[:, 0] + boxes[:, 2] <= 320 + 1e-3).all()
        assert (boxes[:, 1] >= 0).all() and (boxes[:, 1] + boxes[:, 3] <= 240 + 1e-3).all()


def test_street_plates_are_plate_shaped_and_bright():
    """Demanded plates are wide boxes of plate proportions, lighter than the photo around them."""
    n = brighter = 0
    for seed in range(6):
        s = render_street(seed=seed, night=False, close=True)
        for x, y, w, h in s.boxes:
            assert w >= MIN_WIDTH - 1e-3 and 1.5 < w / h < 8, (w, h)
            inner = s.image[int(y):int(y + h) + 1, int(x):int(x + w) + 1].astype(float).mean()
            n += 1
            brighter += inner > s.image.astype(float).mean() * 0.9
    assert n >= 6 and brighter >= 0.6 * n, (n, brighter)


def test_camera_projects_the_ground_below_the_horizon():
    cam = Camera(300.0, 160.0, 120.0, 1.4, np.eye(3))
    px, z = cam.project(np.array([[0.0, 1.4, 10.0], [0.0, 1.4, 100.0]]))
    assert z[0] == 10.0 and px[0, 1] > px[1, 1] > 120.0  # nearer ground lower in the frame
    assert abs(cam.horizon_y(50.0) - 120.0) < 1e-6
    depth = cam.ground_depth((320, 240))
    assert np.isinf(depth[:120]).all() and abs(depth[162, 160] - 10.0) < 1e-3
    clipped = clip_near(np.array([[0, 0, -1.0], [1, 0, 2.0], [0, 1, 2.0]]))
    assert (clipped[:, 2] >= 0.3 - 1e-9).all() and len(clipped) == 4
    canvas = Canvas.empty((320, 240))
    assert canvas.fill3d(cam, [(-1, 1.4, 5), (1, 1.4, 5), (1, 0.4, 5), (-1, 0.4, 5)], (200, 200, 200), obj=3) is not None
    assert (canvas.ids == 3).sum() > 1000 and canvas.image.max() == 200


def test_training_photos_and_augmentation():
    image, boxes, ignore = detect_data.photo(0, 5)
    again = detect_data.photo(0, 5)
    assert image.shape == (240, 320, 3) and np.array_equal(image, again[0]) and np.array_equal(boxes, again[1])
    rng = np.random.default_rng(0)
    for _ in range(20):
        out, b, g = detect_data.augment(image, boxes, ignore, rng)
        assert out.shape == image.shape and out.dtype == np.uint8 and b.shape[1] == 4 and g.shape[1] == 4
        assert (b[:, 0] >= 0).all() and (b[:, 0] + b[:, 2] <= 320 + 1e-3).all()


def test_dim_plates_lowers_plate_contrast_only_near_the_plates():
    image = np.full((240, 320, 3), 60, np.uint8)
    image[100:120, 100:180] = 230  # a bright plate with dark characters on a dark car
    image[104:116, 110:170:10] = 20
    box = np.array([[100, 100, 80, 20]], np.float32)
    out = detect_data.dim_plates(image, box, np.random.default_rng(0), 1.0)
    plate, before = out[100:120, 100:180].astype(float), image[100:120, 100:180].astype(float)
    assert plate.std() < before.std() and plate.mean() <= before.mean()
    assert np.array_equal(out[:80], image[:80]) and np.array_equal(out[:, :60], image[:, :60])  # far away: untouched
    assert np.array_equal(detect_data.dim_plates(image, box, np.random.default_rng(0), 0.0), image)


def test_paste_plate_copies_a_plate_to_a_free_spot_and_labels_it():
    image = np.full((240, 320, 3), 60, np.uint8)
    image[100:120, 100:180] = 230
    image[104:116, 110:170:10] = 20
    box = np.array([[100, 100, 80, 20]], np.float32)
    pasted = 0
    for seed in range(5):
        out, boxes = detect_data.paste_plate(image, box, np.zeros((0, 4), np.float32), np.random.default_rng(seed))
        assert np.array_equal(out[100:120, 100:180], image[100:120, 100:180]) and np.array_equal(boxes[0], box[0])
        if len(boxes) == 1:  # no free spot found: nothing changed
            assert np.array_equal(out, image)
            continue
        pasted += 1
        x, y, w, h = (int(v) for v in boxes[1])
        assert 0 <= x and x + w <= 320 and 0 <= y and y + h <= 240 and 0.55 <= w / 80 <= 1.65
        assert not (x < 180 and x + w > 100 and y < 120 and y + h > 100)  # clear of the original
        scaled = cv2.resize(image[100:120, 100:180], (w, h), interpolation=cv2.INTER_AREA if w < 80 else cv2.INTER_LINEAR)
        assert np.abs(out[y:y + h, x:x + w].astype(int) - scaled).max() <= 1  # the plate, rescaled
        assert (out != image).any(axis=2).sum() == w * h  # only the pasted box changed
    assert pasted >= 3  # a free spot is easy to find on this almost empty photo
    small = np.array([[10, 10, 6, 2]], np.float32)  # too small to copy
    assert np.array_equal(detect_data.paste_plate(image, small, np.zeros((0, 4)), np.random.default_rng(0))[0], image)


def test_augment_at_paste_rate_zero_draws_nothing_for_pasting(monkeypatch):
    """With paste_rate 0 the paste step makes no draw, so earlier training runs reproduce; with a
    positive rate its decision is one draw made first (paste_plate is stubbed here, so it adds no
    draws of its own), after which augment runs as on a generator advanced by that one draw."""
    image, boxes, ignore = detect_data.photo(0, 5)

    def same(u, v):
        return all(np.array_equal(a, b) for a, b in zip(u, v))

    off = detect_data.augment(image, boxes, ignore, np.random.default_rng(4), paste_rate=0.0)
    monkeypatch.setattr(detect_data, "paste_plate", lambda image, boxes, ignore, rng: (image, boxes))
    on = detect_data.augment(image, boxes, ignore, np.random.default_rng(4), paste_rate=1.0)
    advanced = np.random.default_rng(4)
    advanced.random()
    assert same(on, detect_data.augment(image, boxes, ignore, advanced, paste_rate=0.0))
    assert not same(off, on)  # so "off" did not make that draw


def test_plate_salience_measures_contrast_and_brightness_above_the_surround():
    image = np.full((240, 320, 3), 60, np.uint8)
    image[100:120, 100:180] = 230
    image[104:116, 110:170:10] = 20
    (std, above), = detect_data.plate_salience(image, [[100, 100, 80, 20], [10, 10, 12, 4]])  # the 12-px box is skipped
    plate = image[100:120, 100:180, 0].astype(float)
    assert abs(std - plate.std()) < 0.5 and abs(above - (plate.mean() - 60)) < 0.5
    dimmed = detect_data.dim_plates(image, np.array([[100, 100, 80, 20]], np.float32), np.random.default_rng(0), 1.0)
    (std2, above2), = detect_data.plate_salience(dimmed, [[100, 100, 80, 20]])
    assert std2 < std and above2 < above


def test_targets_ignore_regions_are_not_negatives():
    heat, box, mask, weight = plate_net.targets(np.array([[40, 40, 40, 10]]), (240, 320), np.array([[200, 100, 8, 2]]))
    assert heat.shape == (60, 80) and heat.max() == 1.0 and mask.sum() >= 1
    assert weight[25, 50] == 0.0 and weight[0, 0] == 1.0
    i, j = np.unravel_index(np.argmax(heat), heat.shape)
    assert weight[i, j] == 1.0 and abs(np.exp(box[i, j, 2]) * 16 - 40) < 1e-3


def test_training_windows_keep_whole_plates_as_boxes():
    image, boxes, ignore = detect_data.photo(0, 5)
    rng = np.random.default_rng(1)
    for _ in range(20):
        out, b, g = detect_data.crop(image, boxes, ignore, (192, 160), rng)
        assert out.shape == (160, 192, 3)
        assert (b[:, 0] >= 0).all() and (b[:, 0] + b[:, 2] <= 192 + 1e-3).all() and (b[:, 1] + b[:, 3] <= 160 + 1e-3).all()


def test_decode_round_trips_targets_and_votes_over_neighbouring_cells():
    truth = np.array([[40.0, 40.0, 40.0, 10.0], [200.0, 120.0, 24.0, 6.0]])
    heat, box, _, _ = plate_net.targets(truth, (240, 320))
    found = plate_net.decode(heat, box, threshold=0.5)
    assert len(found) == 2
    for x, y, w, h, score in found:
        assert score == 1.0 and min(np.abs(truth - [x, y, w, h]).max(axis=1)) < 1e-3
    # a cooler neighbour predicting a box 4 px further right pulls the peak's box by its weight
    heat, box = np.zeros((10, 10), np.float32), np.zeros((10, 10, 4), np.float32)
    heat[5, 5], heat[5, 6], heat[0, 0] = 0.9, 0.6, 0.2
    box[5, 5] = box[5, 6] = [0.5, 0.5, np.log(2.0), 0.0]  # 32 x 16 px boxes centred in their cells, 4 px apart
    (x, y, w, h, score), = plate_net.decode(heat, box, threshold=0.5)
    peak_x = (5 + 0.5) * plate_net.STRIDE - 16
    assert abs(score - 0.9) < 1e-6 and abs(w - 32.0) < 1e-3 and abs(h - 16.0) < 1e-3
    assert abs(x - (peak_x + 4 * 0.6 / 1.5)) < 1e-3  # mean of the two, weighted 0.9 : 0.6
