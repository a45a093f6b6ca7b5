"""Detection on synthetic scenes and on hand-drawn plates; rectification geometry; junk input."""

import cv2
import numpy as np
import pytest

from alpr import detect as detect_module
from alpr import plate_net
from alpr._geometry import box_iou, quad_bbox
from alpr.detect import Detection, detect, rectify
from alpr.segment import segment
from alpr.synth.render import render_plate
from alpr.synth.scene import render_scene


#: Floors for detect() on six held-out street photos (the bundled net finds 7 of 8 plates, with no
#: false box); set with a margin for retraining.
STREET_RECALL, STREET_PRECISION = 0.6, 0.7


def _best(dets, quad):
    truth = quad_bbox(quad)
    return max(((box_iou(truth, quad_bbox(d.quad)), d) for d in dets), default=(0.0, None), key=lambda t: t[0])


def test_finds_plates_in_synthetic_scenes():
    good = 0
    seeds = range(12)
    for seed in seeds:
        scene = render_scene(["de", "es"][seed % 2], seed=seed)
        dets = detect(scene.image)
        iou, det = _best(dets, scene.quad)
        width = np.linalg.norm(scene.quad[1] - scene.quad[0])
        if iou >= 0.7 and np.abs(det.quad - scene.quad).max() <= 0.2 * width:
            good += 1
    assert good >= 9, good


def test_output_types_and_order():
    scene = render_scene("de", seed=4)
    dets = detect(scene.image, max_plates=3)
    assert 1 <= len(dets) <= 3
    assert all(isinstance(d, Detection) and d.quad.shape == (4, 2) and d.quad.dtype == np.float32 for d in dets)
    assert all(0.0 <= d.score <= 1.0 for d in dets)
    assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)


def _paste(plate: np.ndarray, angle: float, scale: float, size=(640, 480), seed=0):
    """A plate warped into a cluttered background; returns the image and the true quad."""
    rng = np.random.default_rng(seed)
    w, h = size
    image = np.full((h, w, 3), 90, np.uint8)
    for _ in range(15):  # clutter: bars (grille-like) and random boxes
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.rectangle(image, (x, y), (x + int(rng.integers(5, 60)), y + int(rng.integers(5, 60))),
                      tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
    ph, pw = plate.shape[:2]
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    centre = np.array([w / 2, h / 2])
    target_w = scale * w
    t = np.radians(angle)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]) * [target_w / 2, target_w * ph / pw / 2]
    quad = (half @ rot.T + centre).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, quad)
    warped = cv2.warpPerspective(plate, m, (w, h))
    mask = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (w, h))
    image[mask > 0] = warped[mask > 0]
    return image, quad


@pytest.mark.parametrize("angle,scale", [(0, 0.15), (0, 0.5), (8, 0.3), (-10, 0.25), (0, 0.9)])
def test_scale_and_rotation(angle, scale):
    plate = render_plate("B MW 1234", country="de", style={}, height_px=110).image
    image, quad = _paste(plate, angle, scale)
    iou, det = _best(detect(image), quad)
    assert iou >= 0.6, iou


@pytest.mark.parametrize("angle", [30, -30, 35])
def test_tilted_plates_are_found_turned_back(angle):
    """A plate tilted beyond what the row and net cues take is found by the tilted search, with a
    quad turned with the plate (so rectify straightens it): an outline follows the plate's tilt,
    the net's box is turned by the search angle."""
    plate = render_plate("B MW 1234", country="de", style={}, height_px=110).image
    image, quad = _paste(plate, angle, 0.4)
    iou, det = _best(detect(image), quad)
    assert iou >= 0.6, iou
    top = det.quad[1] - det.quad[0]
    turned = np.degrees(np.arctan2(top[1], top[0]))
    if det.boxed:
        assert abs(turned - np.sign(angle) * detect_module.TILT_SEARCH) < 1
    else:
        assert abs(turned - angle) < 8


def test_tilted_search_only_when_nothing_is_found(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("searched turned photos although a plate was found")

    monkeypatch.setattr(detect_module, "detect_tilted", refuse)
    plate = render_plate("B MW 1234", country="de", style={}, height_px=110).image
    image, quad = _paste(plate, 0, 0.4)
    assert _best(detect(image), quad)[0] >= 0.6
    tilted, _ = _paste(plate, 30, 0.4)
    detect(tilted, tilted=False)  # nothing found, and not searched turned: no AssertionError


def test_net_boxes_are_marked_boxed_and_outlines_are_not():
    image = np.full((240, 320, 3), 128, np.uint8)
    outline = np.float32([[100, 100], [200, 104], [200, 126], [100, 122]])
    net_only = detect_module.combine(image, [], [(20.0, 20.0, 60.0, 14.0, 0.9)], verify=False)
    assert [d.boxed for d in net_only] == [True]
    agreeing = detect_module.combine(image, [Detection(outline, 0.8)], [(100.0, 100.0, 100.0, 26.0, 0.9)], verify=False)
    assert [d.boxed for d in agreeing] == [False] and np.array_equal(agreeing[0].quad, outline)


def test_rectify_aspect_and_margin():
    image = np.zeros((300, 400, 3), np.uint8)
    quad = np.array([[50, 100], [350, 90], [352, 160], [48, 168]], np.float32)
    out = rectify(image, quad)
    assert out.shape == (110, 520, 3)
    out = rectify(image, quad, height=44, margin=0.1)
    assert out.shape[0] == round(44 * 1.2) and abs(out.shape[1] - round(44 * 520 / 110 + 8.8)) <= 1


def test_rectify_recovers_the_plate():
    rendered = render_plate("1234 BCD", country="es", style={}, height_px=110)
    image, quad = _paste(rendered.image, 5, 0.6)
    out = rectify(image, quad)
    diff = np.abs(out.astype(int) - cv2.resize(rendered.image, (520, 110)).astype(int)).mean()
    assert diff < 20


@pytest.mark.parametrize(
    "image",
    [np.zeros((1, 1, 3), np.uint8), np.zeros((480, 640, 3), np.uint8), np.full((480, 640), 200, np.uint8),
     np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)],
)
def test_junk_gives_nothing(image):
    assert detect(image) == []


@pytest.mark.parametrize("near_side,width", [(0.85, 120), (0.7, 300)])
def test_perspective(near_side, width):
    """A plate turned ~30 degrees: foreshortened and one side shorter than the other."""
    plate = render_plate("1234 BCD", country="es", style={}, height_px=110).image
    ph, pw = plate.shape[:2]
    image = np.full((480, 640, 3), 110, np.uint8)
    x0, y0, h = 200.0, 200.0, width * 110 / 520
    quad = np.float32([[x0, y0], [x0 + 0.87 * width, y0 + h * (1 - near_side) / 2],
                       [x0 + 0.87 * width, y0 + h * (1 + near_side) / 2], [x0, y0 + h]])
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [pw, 0], [pw, ph], [0, ph]]), quad)
    warped = cv2.warpPerspective(plate, m, (640, 480))
    inside = cv2.warpPerspective(np.full((ph, pw), 255, np.uint8), m, (640, 480)) > 0
    image[inside] = warped[inside]
    iou, det = _best(detect(image), quad)
    assert iou >= 0.7 and np.abs(det.quad - quad).max() <= 0.12 * width


def _small_scenes(n=8, width=(14.0, 30.0)):
    return [render_scene(["es", "de"][s % 2], seed=100 + s, size=(320, 240), plate_width=width) for s in range(n)]


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_net_finds_small_plates(monkeypatch):
    """Plates 14-30 px wide in a 320x240 scene (characters ~3-6 px tall): the learned detector
    finds most of them, and detect() returns them at the net's own threshold (no segmentation
    veto on tiny plates; detect's default NET_THRESHOLD is stricter, for precision on real photos)."""
    monkeypatch.setattr(detect_module, "NET_THRESHOLD", plate_net.THRESHOLD)
    net = plate_net.load()
    scenes = _small_scenes()
    net_hits = sum(any(box_iou(quad_bbox(s.quad), b[:4]) >= 0.5 for b in net.detect(s.image)) for s in scenes)
    det_hits = sum(_best(detect(s.image), s.quad)[0] >= 0.5 for s in scenes)
    assert net_hits >= 6 and det_hits >= 6, (net_hits, det_hits)
    dets = detect(scenes[0].image)
    assert all(0.0 <= d.score <= 1.0 and d.quad.shape == (4, 2) and d.quad.dtype == np.float32 for d in dets)
    assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)


def test_detect_without_model_file(monkeypatch, tmp_path):
    """With the model file absent, detect() falls back to the classical detector."""
    monkeypatch.setattr(detect_module, "NET_PATH", tmp_path / "missing.keras")
    assert plate_net.load(tmp_path / "missing.keras") is None
    scene = render_scene("de", seed=4)
    iou, det = _best(detect(scene.image), scene.quad)
    assert iou >= 0.7


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_finds_plates_in_street_photos():
    """Street photos (parked cars at all distances, day and night, hard negatives) apart from
    the detector's training set: detect() finds most demanded plates and returns few false boxes
    (plates the renderer marks "ignore" count neither way)."""
    from alpr.synth.street import render_street

    labels = hits = counted = good = 0
    for seed in range(6):
        s = render_street(seed=50_000 + seed, night=seed % 2 == 1)
        found = [quad_bbox(d.quad) for d in detect(s.image)]
        labels += len(s.boxes)
        hits += sum(any(box_iou(b, f) >= 0.5 for f in found) for b in s.boxes)
        for f in found:
            if any(box_iou(b, f) >= 0.5 for b in s.boxes):
                good += 1
                counted += 1
            elif not any(box_iou(g, f) >= 0.3 for g in s.ignore):
                counted += 1
    assert labels >= 5
    assert hits >= STREET_RECALL * labels and good >= STREET_PRECISION * counted, (labels, hits, counted, good)


def test_prepare_at_a_working_width():
    """The net's input is the photo resized to the working width (4:3 frame), padded to 16."""
    photo = np.zeros((240, 320, 3), np.uint8)
    x, scale = plate_net.prepare(photo)
    assert x.shape == (240, 320, 3) and scale == 1.0
    x, scale = plate_net.prepare(photo, plate_net.SMALL_PLATES_WIDTH)
    assert x.shape == (368, 480, 3) and scale == 1.5  # 360 rows padded to a multiple of 16


def test_working_width_follows_the_photo_resolution():
    """The net sees a photo at half its width (4:3 frame), from 320 up to 640; small_plates 1.5x."""
    assert plate_net.working_width((240, 320, 3)) == plate_net.WORK_WIDTH == 320
    assert plate_net.working_width((480, 640, 3)) == 320  # the benchmark's photos: as before
    assert plate_net.working_width((600, 800)) == 400
    assert plate_net.working_width((960, 1280, 3)) == plate_net.MAX_WORK_WIDTH == 640
    assert plate_net.working_width((1080, 1920, 3)) == 640
    assert plate_net.working_width((3000, 4000, 3)) == 640
    assert plate_net.working_width((480, 640), small_plates=True) == plate_net.SMALL_PLATES_WIDTH
    assert plate_net.working_width((3000, 4000), small_plates=True) == 960
    x, scale = plate_net.prepare(np.zeros((960, 1280, 3), np.uint8))
    assert x.shape == (480, 640, 3) and scale == 0.5


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_small_plates_of_a_high_resolution_photo_are_found(monkeypatch):
    """Plates 50-100 px wide in a 1280 x 960 photo are 12-25 px wide at 320: the larger working
    width finds more of them (all 12 here, 8 at 320)."""
    scenes = [render_scene("es", seed=s, size=(1280, 960), plate_width=(50.0, 100.0)) for s in range(12)]

    def hits():
        return sum(_best(detect(s.image), s.quad)[0] >= 0.5 for s in scenes)

    found = hits()
    monkeypatch.setattr(plate_net, "MAX_WORK_WIDTH", plate_net.WORK_WIDTH)
    found_at_320 = hits()
    assert found >= 11 and found >= found_at_320 + 2, (found, found_at_320)


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_a_lit_plate_on_a_black_night_photo_is_found():
    """A night photo black but for its plate (mean grey 3, the plate 0.1 % of the pixels) is too
    flat for the text cue, which takes it for blank; the net's box for the plate is kept."""
    scene = render_scene("es", seed=9036, size=(1920, 1440), plate_width=(50.0, 160.0))
    assert scene.image.mean() < 5 and detect_module.classical_candidates(scene.image) is None
    assert _best(detect(scene.image), scene.quad)[0] >= 0.5


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_a_large_plate_of_a_high_resolution_photo_keeps_its_outline():
    """A plate over 1000 px wide in a 2560 px photo is wider, seen at 640, than any plate the net
    was trained on; its box there would replace the classical outline (IoU 0.52 with the plate),
    so plates that large come from the pass at 320."""
    scene = render_scene("es", seed=9016, size=(2560, 1920), plate_width=(400.0, 1400.0))
    assert quad_bbox(scene.quad)[2] > 1000
    iou, det = _best(detect(scene.image), scene.quad)
    assert iou >= 0.8 and not det.boxed, iou


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
@pytest.mark.parametrize("width", [None, plate_net.SMALL_PLATES_WIDTH])
def test_mirror_average_makes_the_heatmap_mirror_symmetric(monkeypatch, width):
    """With MIRROR_AVERAGE the heatmap of a mirrored photo is the mirrored heatmap (the net alone
    is not: its padding and learned cues are not left-right symmetric), also when the working
    frame is padded (480 px: 360 rows padded to 368)."""
    from alpr.synth.street import render_street

    net = plate_net.load()
    photo = render_street(seed=50_010).image
    heat, _, _ = net.heatmap(photo, width)
    mirrored, _, _ = net.heatmap(np.ascontiguousarray(photo[:, ::-1]), width)
    assert heat.max() > 0.5
    np.testing.assert_allclose(mirrored, heat[:, ::-1], atol=1e-5)
    monkeypatch.setattr(plate_net, "MIRROR_AVERAGE", False)
    heat, _, _ = net.heatmap(photo, width)
    mirrored, _, _ = net.heatmap(np.ascontiguousarray(photo[:, ::-1]), width)
    assert np.abs(mirrored - heat[:, ::-1]).max() > 0.01


@pytest.mark.skipif(plate_net.load() is None, reason="no bundled plate_detector.keras")
def test_small_plates_runs_the_net_larger(monkeypatch):
    """small_plates=True (alpr recognize --small-plates) shows the net the photo at
    SMALL_PLATES_WIDTH, and the small plates are still found (both settings find 5 of these 8
    at detect's default threshold; the gain shows on many photos, see SMALL_PLATES_WIDTH)."""
    seen = []
    original = plate_net.PlateNet.detect

    def spy(self, image, **kwargs):
        seen.append(kwargs.get("work_width"))
        return original(self, image, **kwargs)

    monkeypatch.setattr(plate_net.PlateNet, "detect", spy)
    scenes = _small_scenes()
    hits = sum(_best(detect(s.image, small_plates=True), s.quad)[0] >= 0.5 for s in scenes)
    # one call per photo, two more for a photo searched turned (tilted), all at the larger width
    assert len(seen) >= len(scenes) and set(seen) == {plate_net.SMALL_PLATES_WIDTH}
    assert hits >= 4, hits
    detect(scenes[0].image)
    assert seen[-1] is None  # the default: plate_net.WORK_WIDTH


def test_weak_net_peaks_only_confirm_classical_candidates(monkeypatch):
    """A net peak between NET_CONFIRM and NET_THRESHOLD raises an overlapping classical
    candidate's score (noisy-OR) but neither replaces its quad nor spares it the segmentation
    check, and alone it is no candidate; peaks from NET_THRESHOLD up are candidates and back
    what they match."""
    monkeypatch.setattr(detect_module, "NET_THRESHOLD", 0.5)
    monkeypatch.setattr(detect_module, "NET_CONFIRM", 0.4)
    quad = np.array([[100, 50], [160, 50], [160, 63], [100, 63]], np.float32)
    found = [Detection(quad, 0.3)]
    weak_on_it, weak_elsewhere = (101, 50, 58, 13, 0.45), (10, 10, 40, 9, 0.45)
    out, backed = detect_module._merge_net(found, [weak_on_it, weak_elsewhere])
    assert len(out) == 1 and backed == [False]
    assert out[0].score == pytest.approx(1 - 0.7 * 0.55)
    loose_weak = (95, 44, 75, 24, 0.45)  # overlaps the candidate, but under QUAD_AGREE IoU
    out, _ = detect_module._merge_net(found, [loose_weak])
    assert out[0].score > 0.3 and np.array_equal(out[0].quad, quad)  # a weak box does not replace the quad
    out, _ = detect_module._merge_net(found, [(95, 44, 75, 24, 0.6)])
    assert not np.array_equal(out[0].quad, quad)  # a strong one does
    strong_on_it, strong_elsewhere = (101, 50, 58, 13, 0.6), (10, 10, 40, 9, 0.6)
    out, backed = detect_module._merge_net(found, [strong_on_it, strong_elsewhere])
    assert len(out) == 2 and backed == [True, True]
    # a weakly confirmed candidate on a blank photo has no characters: the check drops it
    blank = np.full((120, 240, 3), 200, np.uint8)
    assert detect_module.combine(blank, found, [weak_on_it]) == []
    assert len(detect_module.combine(blank, found, [strong_on_it])) == 1
    monkeypatch.setattr(detect_module, "NET_CONFIRM", 0.5)
    out, _ = detect_module._merge_net(found, [weak_on_it])
    assert [d.score for d in out] == [0.3]


def _grille_photo() -> tuple[np.ndarray, np.ndarray]:
    """A light panel with eleven dark bars (a grille or railing) on a grey photo, and its quad."""
    photo = np.full((160, 320, 3), 170, np.uint8)
    cv2.rectangle(photo, (60, 60), (260, 104), (235, 235, 235), -1)
    for k in range(11):
        x = 70 + 17 * k
        cv2.rectangle(photo, (x, 66), (x + 3, 98), (40, 40, 40), -1)
    return photo, np.array([[60, 60], [260, 60], [260, 104], [60, 104]], np.float32)


def test_checked_candidates_that_are_grilles_are_dropped():
    """An uncertain candidate whose 'characters' are a row of bars is dropped by the segmentation
    check, which a row of glyphs passes."""
    photo, quad = _grille_photo()
    assert detect_module.combine(photo, [Detection(quad, 0.45)], None) == []
    assert len(detect_module.combine(photo, [Detection(quad, 0.9)], None)) == 1  # only uncertain ones are checked
    plate = render_plate("HH AB 123", "de", style={}, height_px=44).image
    photo[60:60 + plate.shape[0], 60:60 + plate.shape[1]] = plate
    quad = np.array([[60, 60], [60 + plate.shape[1], 60], [60 + plate.shape[1], 104], [60, 104]], np.float32)
    assert len(detect_module.combine(photo, [Detection(quad, 0.45)], None)) == 1


@pytest.mark.parametrize("text,country", [("II 111", "de"), ("MI I 1111", "de"), ("1111 JJJ", "es")])
def test_plates_of_thin_glyphs_are_not_grilles(text, country):
    """Plates drawn with the narrowest glyphs (1, I, J) are not taken for grilles in any style."""
    for seed in range(12):
        plate = render_plate(text, country, seed=seed, height_px=40).image
        boxes = segment(cv2.copyMakeBorder(plate, 6, 6, 12, 12, cv2.BORDER_REPLICATE)).boxes
        assert not detect_module.is_grille(boxes)


def test_is_grille():
    bars = [(10 * k, 0, 3, 30) for k in range(6)]
    assert detect_module.is_grille(bars)
    assert not detect_module.is_grille(bars[:3])  # too few to tell
    assert not detect_module.is_grille(bars[:4] + [(50, 0, 18, 30)] * 2)  # 4 of 6 bars
    assert not detect_module.is_grille([])
