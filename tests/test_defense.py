"""Defense: stickers, a tiny hardening run beats its undefended twin, the catastrophic-overfitting
guard, the Square attack, and CLI smoke tests for ``alpr harden`` / ``alpr robustness`` — all on
tiny models and tiny data."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

keras = pytest.importorskip("keras")

from alpr.cli import main  # noqa: E402
from alpr.model import CharModel  # noqa: E402
from attacks import core, toy  # noqa: E402
from attacks.pgd import pgd  # noqa: E402
from defense.augment import StickerPolicy, add_stickers, draw_sticker  # noqa: E402
from defense.training import HardenConfig, harden  # noqa: E402

DIGITS = "0123456789"

try:  # ART configures logging to the current sys.stdout on import: import it outside CliRunner's capture
    import art  # noqa: F401
except ImportError:
    pass


@pytest.fixture(scope="module")
def toy_data():
    return toy.digits(2000, seed=0), toy.digits(200, seed=1)


def _fresh(seed=0, epochs=3, data=None):
    (x, y) = data
    net = toy.tiny_cnn(seed=seed)
    net.compile(optimizer=keras.optimizers.Adam(3e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x, y, batch_size=64, epochs=epochs, verbose=0, shuffle=False)
    return net


def _pgd_acc(net, x, y, eps):
    x_adv = pgd(net, x, y, eps=eps, steps=10, step_size=2.5 * eps / 10, seed=0)
    return float(np.mean(core.predict(net, x_adv) == y))


def test_stickers_change_only_some_samples_and_stay_in_range():
    rng = np.random.default_rng(0)
    x = np.full((50, 32, 24, 1), 0.9, np.float32)
    x[:, 8:24, 10:14] = 0.05
    out = add_stickers(x, rng, rate=0.4)
    changed = np.any(out != x, axis=(1, 2, 3))
    assert 5 < changed.sum() < 35 and out.min() >= 0 and out.max() <= 1 and out.shape == x.shape
    for kind in ("bar", "dot", "rect"):
        assert np.any(draw_sticker(x[0], np.random.default_rng(1), kind=kind) != x[0])
    assert np.array_equal(add_stickers(x, rng, rate=0.0), x)
    with pytest.raises(ValueError):
        StickerPolicy(rate=1.5)


def test_config_validation():
    with pytest.raises(ValueError, match="method"):
        HardenConfig(method="mart")
    with pytest.raises(ValueError, match="eps"):
        HardenConfig(eps=0)


def test_tiny_hardening_beats_undefended_twin(toy_data):
    (x, y), (xv, yv) = toy_data
    eps, epochs = 0.05, 6
    twin = _fresh(data=(x, y), epochs=3 + epochs)  # undefended: 3 + 6 clean epochs
    hardened_net = _fresh(data=(x, y), epochs=3)  # same seed, same data, then 6 adversarial epochs
    cfg = HardenConfig(method="fgsm-rs", eps=eps, epochs=epochs, batch_size=64, learning_rate=3e-3, ramp_epochs=1,
                       clean_weight=0.3, sticker_rate=0.0, guard_samples=100, guard_steps=5, seed=0)
    model, hist = harden(CharModel(hardened_net, DIGITS), x, y, xv, yv, cfg, progress=False, log=lambda *_: None)
    assert len(hist["epoch"]) == epochs and not hist["stopped_early"]
    robust_twin, robust_hard = _pgd_acc(twin, xv, yv, eps), _pgd_acc(model.keras_model, xv, yv, eps)
    assert robust_hard > robust_twin + 0.1, (robust_twin, robust_hard)  # measured 0.215 -> 0.385
    assert np.mean(core.predict(model, xv) == yv) > 0.8


def test_guard_restores_best_epoch_on_forced_collapse(toy_data):
    (x, y), (xv, yv) = toy_data
    net = _fresh(data=(x[:500], y[:500]), epochs=1)
    seen = {}
    scores = iter([0.0, 0.6, 0.7, 0.05, 0.9])  # start, epochs 1..4

    def fake(net_, epoch):
        seen[epoch] = [w.copy() for w in net_.get_weights()]
        return {"clean": 0.9, "pgd": next(scores)}

    cfg = HardenConfig(method="fgsm-rs", eps=0.1, epochs=4, batch_size=100, sticker_rate=0.0, seed=0)
    logs = []
    model, hist = harden(CharModel(net, DIGITS), x[:500], y[:500], xv, yv, cfg, evaluator=fake, progress=False, log=logs.append)
    assert hist["stopped_early"] and hist["restored_epoch"] == 2 and hist["epoch"] == [1, 2, 3]
    assert all(np.array_equal(a, b) for a, b in zip(model.keras_model.get_weights(), seen[1]))
    assert any("catastrophic overfitting guard" in line for line in logs)


@pytest.mark.parametrize("method", ["pgd", "trades"])
def test_other_methods_run(toy_data, method):
    (x, y), (xv, yv) = toy_data
    net = _fresh(data=(x[:300], y[:300]), epochs=1)
    cfg = HardenConfig(method=method, eps=0.1, epochs=1, batch_size=100, pgd_steps=2, trades_steps=2, guard_samples=50, guard_steps=2)
    _, hist = harden(CharModel(net, DIGITS), x[:300], y[:300], xv, yv, cfg, progress=False, log=lambda *_: None)
    assert np.isfinite(hist["loss"][0])


def test_sticker_attack_changes_only_masked_pixels_and_hurts(toy_data):
    import tensorflow as tf

    from defense.training import _patch_attack, _patch_masks

    (x, y), (xv, yv) = toy_data
    net = _fresh(data=(x, y), epochs=3)
    xb = xv[:64].copy()
    start = xb.copy()
    masks = _patch_masks(start, np.random.default_rng(0), 0.5)
    assert masks.shape == (32, *xb.shape[1:]) and 0 < masks.mean() < 0.3
    x_adv = _patch_attack(net, tf.constant(xb[:32]), tf.constant(start[:32]), tf.constant(yv[:32]), tf.constant(masks), 5).numpy()
    assert np.array_equal(x_adv[masks == 0], xb[:32][masks == 0]) and x_adv.min() >= 0 and x_adv.max() <= 1
    assert np.mean(core.predict(net, x_adv) == yv[:32]) < np.mean(core.predict(net, xb[:32]) == yv[:32])
    cfg = HardenConfig(method="fgsm-rs", eps=0.1, epochs=1, batch_size=100, patch_rate=0.3, patch_steps=2,
                       guard_samples=50, guard_steps=2)
    _, hist = harden(CharModel(net, DIGITS), x[:300], y[:300], xv, yv, cfg, progress=False, log=lambda *_: None)
    assert np.isfinite(hist["loss"][0])
    with pytest.raises(ValueError, match="patch_rate"):
        HardenConfig(patch_rate=1.5)


def test_aimed_first_moves_the_ones_after_the_stickers_and_aims_them_at_other_digits():
    from defense.training import aimed_first

    y = np.array([1, 0, 1, 1, 5, 1, 2, 1])
    idx = np.array([7, 6, 5, 4, 3, 2, 1, 0])  # y[idx] = 1 2 1 5 1 1 0 1
    out, aims = aimed_first(idx, y, 2, 1, np.array([0, 2, 3, 4, 5, 6, 7, 8, 9]), 1.0, np.random.default_rng(0))
    assert list(out[:2]) == [7, 6]  # the sticker rows stay first
    assert sorted(out) == sorted(idx) and len(aims) == 4 and all(y[out[2:6]] == 1) and all(y[out[6:]] != 1)
    assert aims.dtype == np.int32 and 1 not in aims and set(aims) <= set(range(10))
    none, no_aims = aimed_first(idx, y, 2, 1, np.array([0, 2]), 0.0, np.random.default_rng(0))
    assert list(none) == list(idx) and len(no_aims) == 0


def test_repeat_class_repeats_only_that_class():
    from defense.training import repeat_class

    x = np.arange(5, dtype=np.float32)[:, None, None, None] * np.ones((5, 2, 2, 1), np.float32)
    y = np.array([1, 0, 1, 2, 3])
    x3, y3 = repeat_class(x, y, 1, 3)
    assert list(y3) == [1, 0, 1, 2, 3, 1, 1, 1, 1] and np.array_equal(x3[:5], x) and list(x3[5:, 0, 0, 0]) == [0, 2, 0, 2]
    assert repeat_class(x, y, 1, 1)[1].tolist() == y.tolist()
    with pytest.raises(ValueError, match="times"):
        repeat_class(x, y, 1, 0)


def test_targeted_examples_train_and_are_refused_with_trades(toy_data):
    (x, y), (xv, yv) = toy_data
    net = _fresh(data=(x[:300], y[:300]), epochs=1)
    for method in ("pgd", "fgsm-rs"):
        cfg = HardenConfig(method=method, eps=0.1, epochs=1, batch_size=100, pgd_steps=2, targeted_rate=1.0,
                           patch_rate=0.2, patch_steps=1, guard_samples=50, guard_steps=2)
        _, hist = harden(CharModel(net, DIGITS), x[:300], y[:300], xv, yv, cfg, progress=False, log=lambda *_: None)
        assert np.isfinite(hist["loss"][0]) and hist["config"]["targeted_rate"] == 1.0
    with pytest.raises(ValueError, match="targeted_rate"):
        HardenConfig(method="trades", targeted_rate=0.5)
    with pytest.raises(ValueError, match="targeted_rate"):
        HardenConfig(targeted_rate=2.0)


def test_square_attack_stays_in_ball_and_fools_undefended(toy_data):
    from defense.square import square_attack

    (x, y), (xv, yv) = toy_data
    net = _fresh(data=(x, y), epochs=3)
    x_adv = square_attack(net, xv[:60], yv[:60], eps=0.3, queries=200, seed=0)
    assert np.abs(x_adv - xv[:60]).max() <= 0.3 + 1e-6 and x_adv.min() >= 0 and x_adv.max() <= 1
    assert np.mean(core.predict(net, x_adv) == yv[:60]) < np.mean(core.predict(net, xv[:60]) == yv[:60])


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def tiny_es(tmp_path_factory):
    """A width-4 Spanish CNN (untrained beyond a few steps) saved with its card."""
    from alpr.model import build_model, save_model
    from alpr.plates import ALPHABETS
    from alpr.char_crops import CLEAN_POLICY, make_dataset

    x, y = make_dataset("es", 300, 0, policy=CLEAN_POLICY, progress=False)
    keras.utils.set_random_seed(0)
    net = build_model(len(ALPHABETS["es"]), width=4, dropout=0.0)
    net.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    net.fit(x, y, batch_size=64, epochs=2, verbose=0)
    path = tmp_path_factory.mktemp("models") / "tiny_es.keras"
    save_model(CharModel(net, ALPHABETS["es"]), path, {"name": "tiny_es", "country": "es"})
    return path


def run(*args):
    return CliRunner().invoke(main, [*map(str, args)])


def test_harden_cli_smoke(tiny_es, tmp_path):
    out = tmp_path / "h.keras"
    r = run("harden", "--country", "es", "--from", tiny_es, "--samples", 64, "--val-samples", 32, "--epochs", 1,
            "--eps", "16/255", "--out", out, "--quiet", "--seed", 3)
    assert r.exit_code == 0, r.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["hardening"]["method"] == "fgsm-rs" and card["hardening"]["eps_255"] == 16 and card["command"].startswith("alpr harden")
    assert "synthetic_val_clean_accuracy" in card["metrics"] and card["data"]["train_seed"] == 3
    assert (tmp_path / "h-training.png").is_file()
    from alpr.model import load_model

    assert load_model(out).alphabet == card["alphabet"]
    again = run("harden", "--country", "es", "--from", tiny_es, "--out", out)
    assert again.exit_code == 2 and "--force" in again.output


def test_harden_cli_extra_crops_join_the_training_set(tiny_es, tmp_path):
    extra = tmp_path / "extra.npz"
    rng = np.random.default_rng(0)
    np.savez(extra, x=rng.integers(0, 256, (10, 32, 24, 1)).astype(np.uint8), chars=np.array(["1"] * 10),
             meta=json.dumps({"command": "test"}))
    out = tmp_path / "e.keras"
    r = run("harden", "--country", "es", "--from", tiny_es, "--samples", 64, "--val-samples", 32, "--epochs", 1,
            "--extra-crops", extra, "--out", out, "--quiet", "--seed", 3)
    assert r.exit_code == 0, r.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["data"]["n_train"] == 74 and card["data"]["extra_crops"][0]["n"] == 10
    assert card["data"]["extra_crops"][0]["meta"] == {"command": "test"} and f"--extra-crops {extra}" in card["command"]
    np.savez(extra, x=np.zeros((2, 32, 24, 1), np.uint8), chars=np.array(["A", "1"]), meta="{}")  # no A on es plates
    bad = run("harden", "--country", "es", "--from", tiny_es, "--extra-crops", extra, "--out", tmp_path / "b.keras")
    assert bad.exit_code == 2 and "not in the model's alphabet" in bad.output and "Traceback" not in bad.output


def test_harden_cli_from_scratch_with_stickers(tmp_path):
    out = tmp_path / "s.keras"
    r = run("harden", "--country", "es", "--from", "scratch", "--width", 4, "--method", "pgd", "--steps", 2,
            "--patch-rate", "0.25", "--patch-steps", 2, "--targeted-rate", "0.5", "--repeat-ones", 2, "--samples", 64, "--val-samples", 32, "--epochs", 1,
            "--out", out, "--quiet", "--seed", 1)
    assert r.exit_code == 0, r.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["hardening"]["fine_tuned"] is False and card["hardening"]["config"]["patch_rate"] == 0.25
    assert "--width 4" in card["command"] and "width=4" in card["architecture"]
    assert card["hardening"]["config"]["targeted_rate"] == 0.5 and "--targeted-rate 0.5 --repeat-ones 2" in card["command"]
    assert card["data"]["repeat_ones"] == 2 and card["data"]["n_train"] > 64  # the "1"s among the 64 twice
    bad = run("harden", "--country", "es", "--width", 8, "--out", tmp_path / "x.keras")
    assert bad.exit_code == 2 and "--width" in bad.output


def test_robustness_cli_smoke(tiny_es, tmp_path):
    import shutil

    twin = tmp_path / "twin.keras"
    shutil.copy(tiny_es, twin)
    shutil.copy(tiny_es.with_suffix(".json"), twin.with_suffix(".json"))
    patch = tmp_path / "patch.json"
    patch.write_text(json.dumps({"simulated_success": 0.25}))
    r = run("robustness", "--model", tiny_es, "--compare", twin, "--synthetic", 12, "--eps-list", "8/255,64/255",
            "--steps", 2, "--restarts", 2, "--square-queries", 5, "--square-samples", 6, "--autoattack-samples", 4,
            "--autoattack-iter", 3, "--targeted-samples", 3, "--patch-report", patch, "--out", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "rep" / "report.md").read_text()
    assert "robust (worst case)" in text and "Before / after" in text and "0.25" in text
    res = json.loads((tmp_path / "rep" / "results.json").read_text())["results"]
    row = next(iter(res.values()))["eps"]["8"]
    assert row["robust"] <= min(row["pgd"], row["fgsm"]) and (tmp_path / "rep" / "accuracy_vs_eps.png").is_file()


@pytest.mark.parametrize("args,message", [
    (["harden", "--country", "es", "--eps", "2", "--out", "x.keras"], "--eps"),
    (["harden", "--country", "fr", "--out", "x.keras"], "--country"),
    (["harden", "--country", "es", "--out", "x.h5"], "must end in .keras"),
    (["harden", "--country", "es", "--method", "mart", "--out", "x.keras"], "--method"),
    (["harden", "--country", "es", "--from", "nope.keras", "--out", "x.keras"], "--from"),
    (["harden", "--country", "es", "--method", "trades", "--targeted-rate", "0.5", "--out", "x.keras"], "--targeted-rate"),
    (["robustness", "--model", "es", "--data", "d", "--synthetic", "5", "--out", "o"], "exclude each other"),
    (["robustness", "--model", "es", "--eps-list", "a,b", "--out", "o"], "--eps-list"),
    (["robustness", "--model", "nope.keras", "--out", "o"], "--model"),
    (["robustness", "--model", "es", "--patch-report", "missing.json", "--out", "o"], "--patch-report"),
])
def test_bad_arguments_one_line(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    r = run(*args)
    lines = r.output.strip().splitlines()
    assert r.exit_code == 2 and len(lines) == 1 and message in lines[0], r.output
