"""Photo-level attack and the crop/sweep helpers, on tiny models (fast).

* the differentiable photo → character-input path equals ``CharModel.crops_to_input`` of the
  pipeline's own crop (photo mode through the rectification homography, and plate-crop mode);
* the attack changes only pixels inside the character mask, within ε after uint8 quantisation;
* sweeps: accuracy falls with ε, PGD beats FGSM, files are written; targeted table and transfer.
"""

from types import SimpleNamespace

import cv2
import numpy as np
import pytest

keras = pytest.importorskip("keras")

from alpr.model import CharModel, build_model  # noqa: E402
from alpr.plates import ALPHABETS  # noqa: E402
from alpr.synth.render import render_plate  # noqa: E402
from alpr.synth.scene import render_scene  # noqa: E402
from attacks import crops as C  # noqa: E402
from attacks import photo_path as PP  # noqa: E402
from attacks import pipeline_attack as PA  # noqa: E402
from attacks import sweep as S  # noqa: E402
from attacks import toy  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return CharModel(build_model(len(ALPHABETS["es"]), width=4), ALPHABETS["es"], {"country": "es"})


@pytest.fixture(scope="module")
def recognizer(tiny):
    from alpr.pipeline import Recognizer

    return Recognizer("es", tiny, min_confidence=0.0)


@pytest.fixture(scope="module")
def scene():
    rng = np.random.default_rng(11)
    plate = C.plate_with("1", "es", rng)
    rendered = render_plate(plate, "es", rng=rng, height_px=90)
    return render_scene("es", rng=rng, plate=rendered, plate_width=(260.0, 300.0), max_angle=15.0, easy=True)


@pytest.fixture(scope="module")
def reading(recognizer, scene):
    found = recognizer.read(scene.image)
    assert found, "the pipeline must find the rendered plate"
    return found[0]


def test_plate_with_contains_char():
    rng = np.random.default_rng(0)
    for country in ("es", "de"):
        for _ in range(20):
            assert "1" in C.plate_with("1", country, rng).text


def test_resize_matrices_match_opencv():
    rng = np.random.default_rng(0)
    for h, w in [(66, 28), (40, 9), (12, 10), (64, 48), (5, 30)]:
        x = rng.random((h, w)).astype(np.float32)
        a_y, a_x, (top, bottom, left, right) = PP.resize_matrices(h, w, (32, 24))
        small = a_y @ x @ a_x.T
        assert small.shape[0] + top + bottom == 32 and small.shape[1] + left + right == 24
        s = min(32 / h, 24 / w)
        ref = cv2.resize(x, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        np.testing.assert_allclose(small, ref, atol=1e-5)


def _path_vs_pipeline(model, image, geom):
    import tensorflow as tf

    H, W = image.shape[:2]
    sampler = PP.sampler(geom.to_image, geom.box, (0, 0), (H, W), image.shape, model.input_shape)
    got = PP.char_inputs(tf.constant(image.astype(np.float32) / 255.0), [sampler]).numpy()[0]
    ref = model.crops_to_input([geom.char_crop(image)])[0]
    return np.abs(got - ref)


def test_differentiable_path_matches_crops_to_input(tiny, scene, reading):
    for i in range(len(reading.chars)):
        geom = PP.locate_char(scene.image, reading.quad, reading.chars[i].box)
        assert geom is not None
        err = _path_vs_pipeline(tiny, scene.image, geom)
        # only the uint8 rounding of the rectified plate separates the two
        assert err.max() < 0.02 and err.mean() < 0.003, (i, err.max(), err.mean())


def test_differentiable_path_matches_in_crop_mode(tiny, recognizer):
    rendered = render_plate("1234 BCD", "es", seed=3, height_px=80)
    image = np.ascontiguousarray(rendered.image[..., :3])
    plate = recognizer.read_crop(image)
    assert plate is not None
    geom = PP.locate_char(image, plate.quad, plate.chars[0].box, crop=True)
    err = _path_vs_pipeline(tiny, image, geom)
    assert err.max() < 1e-3


@pytest.mark.parametrize("norm,eps", [("inf", 8 / 255), (2, 0.5)])
def test_photo_attack_confined_to_mask_and_ball(recognizer, scene, reading, norm, eps):
    index = reading.text.index("1") if "1" in reading.text else 0
    result = PA.attack_photo(recognizer, scene.image, char_index=index, target="any", eps=eps, norm=norm,
                             steps=4, restarts=1, jitter=1, check_every=0, seed=0, plate=reading)
    adv, clean = result.adversarial, scene.image
    assert adv.dtype == np.uint8 and adv.shape == clean.shape
    delta = adv.astype(np.int32) - clean
    changed = np.abs(delta).max(axis=2) > 0
    assert changed.any(), "the attack must change some pixels"
    assert not changed[~result.mask].any(), "pixels outside the character mask changed"
    # the mask is the character's box in the photo (plus the 1-px bilinear support)
    x, y, w, h = reading.chars[index].box
    ys, xs = np.nonzero(result.mask)
    assert xs.min() >= x - 3 and xs.max() <= x + w + 3 and ys.min() >= y - 3 and ys.max() <= y + h + 3
    if norm == "inf":
        assert np.abs(delta).max() <= round(eps * 255)
    else:
        assert np.sqrt(((delta / 255.0) ** 2).sum()) <= eps + 1e-6
    assert result.original_text == reading.text
    assert isinstance(result.success, bool) and len(result.top5_before) == 5
    d = result.to_dict()
    assert "adversarial" not in d and d["mask_pixels"] == int(result.mask.sum())


def test_photo_attack_rejects_bad_arguments(recognizer, scene, reading):
    with pytest.raises(ValueError, match="target"):
        PA.attack_photo(recognizer, scene.image, char_index=0, target="AB", eps=0.1, plate=reading)
    with pytest.raises(ValueError, match="eps"):
        PA.attack_photo(recognizer, scene.image, char_index=0, eps=-1, plate=reading)
    with pytest.raises(ValueError, match="threshold"):
        PA.attack_photo(recognizer, scene.image, char_index=0, eps=0.1, method="threshold", plate=reading)


# --------------------------------------------------------------------------- crops and sweeps


@pytest.fixture(scope="module")
def toy_model():
    return toy.trained_cnn(n=2000, epochs=3)


@pytest.fixture(scope="module")
def toy_data(toy_model):
    from attacks import core

    x, y = toy.digits(150, seed=3)
    x = np.rint(x * 255) / 255
    x = x.astype(np.float32)
    keep = core.predict(toy_model, x) == y
    return x[keep][:80], y[keep][:80]


def test_accuracy_curve_falls_and_pgd_beats_fgsm(toy_model, toy_data, tmp_path):
    x, y = toy_data
    eps = [0, 4 / 255, 16 / 255, 64 / 255]
    curve = S.accuracy_curve(toy_model, x, y, eps_values=eps, steps=10, seed=0)
    fgsm, pgd = np.array(curve["accuracy"]["fgsm"]), np.array(curve["accuracy"]["pgd"])
    assert fgsm[0] == pgd[0] == 1.0
    assert np.all(np.diff(pgd) <= 0.05) and np.all(np.diff(fgsm) <= 0.05)
    assert np.all(pgd <= fgsm + 0.05)
    assert pgd[-1] <= 0.1
    assert np.allclose(curve["robust"], np.minimum(fgsm, pgd)) or np.all(np.array(curve["robust"]) <= np.minimum(fgsm, pgd))
    paths = S.save_curve(curve, tmp_path / "curve")
    text = (tmp_path / "curve.csv").read_text().splitlines()
    assert text[0].startswith("eps,eps_255,fgsm,pgd,robust") and len(text) == 1 + len(eps)
    assert (tmp_path / "curve.png").read_bytes()[:4] == b"\x89PNG" and paths["png"].endswith("curve.png")


def test_targeted_table_and_transfer(toy_model, toy_data):
    x, y = toy_data
    ones = y == 1
    table = S.targeted_table(toy_model, x[ones], y[ones], alphabet="0123456789", source="1", targets="07",
                             eps=64 / 255, steps=20, seed=0)
    assert set(table["targets"]) == {"0", "7"} and table["n"] == int(ones.sum())
    for t, row in table["targets"].items():
        assert 0 <= row["success"] <= 1 and sum(table["confusion"][t].values()) == table["n"]
        if row["success"] > 0:
            assert row["median_linf_255"] <= 64 + 1e-3
    assert "source" in S.targeted_csv(table)
    model = SimpleNamespace(keras_model=toy_model, alphabet="0123456789", input_shape=(20, 20, 1))
    other = SimpleNamespace(keras_model=toy.trained_cnn(n=1000, epochs=2, seed=1), alphabet="0123456789",
                            input_shape=(20, 20, 1))
    crops = C.CropSet(x, np.array([str(v) for v in y]), np.array(["toy"] * len(y), dtype=object))
    table = S.transfer_table({"a": model, "b": other}, crops, eps=32 / 255, steps=10, seed=0)
    white, black = table["a"]["a"], table["a"]["b"]
    assert white["whitebox_accuracy"] == white["transfer_accuracy"]
    # white-box must be at least as strong as transfer (no gradient masking)
    assert white["whitebox_accuracy"] <= black["transfer_accuracy"] + 0.1


def test_real_crops_reads_yolo_labels(tiny, tmp_path):
    rendered = render_plate("1234 BCD", "es", seed=1, height_px=80)
    image = np.ascontiguousarray(rendered.image[..., :3])
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "00001_AD-1234BCD.jpg"), image)
    H, W = image.shape[:2]
    lines = []
    for ch, (x, y, w, h) in zip("1234BCD", rendered.boxes):
        cls = C.YOLO_CLASSES.index(ch)
        lines.append(f"{cls} {(x + w / 2) / W:.5f} {(y + h / 2) / H:.5f} {w / W:.5f} {h / H:.5f}")
    lines.append(f"{C.YOLO_CLASSES.index('A')} 0.5 0.5 0.1 0.5")  # a vowel: not in the Spanish alphabet
    (tmp_path / "labels" / "00001_AD-1234BCD.txt").write_text("\n".join(lines) + "\n")
    crops = C.real_crops(tiny, tmp_path)
    assert "".join(crops.chars) == "1234BCD"
    assert crops.x.shape == (7, *tiny.input_shape)
    assert np.allclose(crops.x * 255, np.rint(crops.x * 255), atol=1e-4)  # on the uint8 grid
    assert len(C.real_crops(tiny, tmp_path, chars="1")) == 1
    with pytest.raises(FileNotFoundError):
        C.real_crops(tiny, tmp_path / "missing")
