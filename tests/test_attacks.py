"""Digital attacks: ball and box constraints, strength orderings, targeting, validation, quantisation.

All tests share one tiny CNN trained for a few seconds on rendered digits (attacks.toy).
"""

import subprocess
import sys
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import attacks
from attacks import core, toy

TOL = 1e-6
BALLS = [("inf", 0.06, 0.015), (2, 0.5, 0.125)]  # (norm, eps, step_size)


@pytest.fixture(scope="module")
def model():
    return toy.trained_cnn()


@pytest.fixture(scope="module")
def data(model):
    """200 test digits the model classifies correctly (so accuracy is attack-driven)."""
    x, y = toy.digits(260, seed=1)
    keep = core.predict(model, x) == y
    return x[keep][:200], y[keep][:200]


def dist(a, b, norm):
    d = (a - b).reshape(len(a), -1)
    return np.abs(d).max(axis=1) if norm == "inf" else np.sqrt((d.astype(np.float64) ** 2).sum(axis=1))


def correct(model, x, y):
    return core.predict(model, x) == y


def test_import_does_not_load_tensorflow():
    code = "import sys, attacks; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_clean_model_is_accurate(data, model):
    x, y = data
    assert len(x) >= 180 and attacks.accuracy(model, x, y) == 1.0


@pytest.mark.parametrize("norm,eps,step", BALLS)
@pytest.mark.parametrize("name", ["fgsm", "pgd"])
def test_stays_in_ball_and_box(model, data, norm, eps, step, name):
    x, y = data
    if name == "fgsm":
        x_adv = attacks.fgsm(model, x, y, eps=eps, norm=norm)
    else:
        x_adv = attacks.pgd(model, x, y, eps=eps, steps=5, step_size=step, norm=norm, seed=0)
    assert x_adv.shape == x.shape and x_adv.dtype == np.float32
    assert dist(x_adv, x, norm).max() <= eps + TOL
    assert x_adv.min() >= 0.0 and x_adv.max() <= 1.0
    assert not np.array_equal(x_adv, x)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    eps=st.floats(0.0, 3.0),
    norm=st.sampled_from(["inf", 2]),
    scale=st.floats(0.0, 5.0),
)
def test_projection_and_random_start_stay_in_both_sets(seed, eps, norm, scale):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (3, 4, 5, 1)).astype(np.float32)
    x_far = (x + scale * rng.standard_normal(x.shape)).astype(np.float32)
    for candidate in (core.clip_to_ball(x_far, x, eps, norm).numpy(), core.random_start(x, eps, norm, rng)):
        assert dist(candidate, x, norm).max() <= eps + TOL
        assert candidate.min() >= 0.0 and candidate.max() <= 1.0
    inside = core.clip_to_ball(x_far, x, eps, norm).numpy()
    np.testing.assert_allclose(core.clip_to_ball(inside, x, eps, norm).numpy(), inside, atol=1e-6)  # idempotent


@pytest.mark.parametrize("norm", ["inf", 2])
def test_normalized_step_has_unit_norm(norm):
    g = np.random.default_rng(0).standard_normal((4, 3, 3, 1)).astype(np.float32)
    g[0] = 0.0
    step = core.normalized_step(g, norm).numpy()
    expected = [0.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(dist(step, np.zeros_like(step), norm), expected, atol=1e-5)


@pytest.mark.parametrize("norm,eps,step", BALLS)
def test_pgd_not_weaker_than_fgsm(model, data, norm, eps, step):
    x, y = data
    fgsm_acc = attacks.accuracy(model, attacks.fgsm(model, x, y, eps=eps, norm=norm), y)
    x_pgd = attacks.pgd(model, x, y, eps=eps, steps=10, step_size=step, norm=norm, seed=0)
    pgd_acc = attacks.accuracy(model, x_pgd, y)
    assert pgd_acc <= fgsm_acc
    assert pgd_acc < 0.9  # the attack does something at this budget


@pytest.mark.parametrize("norm,eps_grid", [("inf", [0.0, 0.02, 0.05, 0.1, 0.3]), (2, [0.0, 0.3, 1.0, 2.0, 5.0])])
def test_accuracy_falls_monotonically_to_zero_with_eps(model, data, norm, eps_grid):
    x, y = data
    accs = [
        attacks.accuracy(model, attacks.pgd(model, x, y, eps=e, steps=10, step_size=max(e, 1e-3) / 4, norm=norm, seed=0), y)
        for e in eps_grid
    ]
    assert accs[0] == 1.0
    assert all(a >= b for a, b in zip(accs, accs[1:])), accs
    assert accs[-1] <= 0.02, accs


@pytest.mark.parametrize("norm,eps,step", BALLS)
def test_more_steps_and_restarts_never_raise_accuracy_per_sample(model, data, norm, eps, step):
    x, y = data
    run = partial(attacks.pgd, model, x, y, eps=eps, step_size=step, norm=norm, seed=3)
    by_steps = [correct(model, run(steps=k), y) for k in (1, 4, 12)]
    by_restarts = [correct(model, run(steps=4, restarts=r), y) for r in (1, 3)]
    for fewer, more in [*zip(by_steps, by_steps[1:]), tuple(by_restarts)]:
        assert not np.any(more & ~fewer)  # robust after more work ⇒ robust after less
    assert by_steps[-1].sum() < by_steps[0].sum()


@pytest.mark.parametrize("norm,eps,step", [("inf", 0.3, 0.03), (2, 5.0, 0.5)])
def test_targeted_pgd_reaches_the_target(model, data, norm, eps, step):
    x, y = data
    target = (y + 1) % 10
    x_adv = attacks.pgd(model, x, target, eps=eps, steps=30, step_size=step, norm=norm, targeted=True, seed=0)
    assert attacks.success_rate(model, x_adv, target, targeted=True) >= 0.95
    assert dist(x_adv, x, norm).max() <= eps + TOL


def test_targeted_fgsm_moves_towards_the_target(model, data):
    x, y = data
    target = (y + 1) % 10
    before, _ = attacks.loss_gradient(model, x, target, targeted=True)
    x_adv = attacks.fgsm(model, x, target, eps=0.03, targeted=True)
    after, _ = attacks.loss_gradient(model, x_adv, target, targeted=True)
    assert np.mean(after > before) > 0.9


@pytest.mark.parametrize("norm", ["inf", 2])
def test_eps_zero_returns_x(model, data, norm):
    x, y = data
    np.testing.assert_array_equal(attacks.fgsm(model, x, y, eps=0, norm=norm), x)
    np.testing.assert_array_equal(attacks.pgd(model, x, y, eps=0.0, steps=3, step_size=0.01, norm=norm, seed=0), x)


def test_loss_gradient_sign_flips_for_targeted(model, data):
    x, y = data
    obj, grad = attacks.loss_gradient(model, x[:16], y[:16])
    obj_t, grad_t = attacks.loss_gradient(model, x[:16], y[:16], targeted=True)
    assert grad.shape == x[:16].shape and obj.shape == (16,)
    np.testing.assert_allclose(obj_t, -obj, rtol=1e-6)
    np.testing.assert_allclose(grad_t, -grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"eps": -0.1}, "eps must be a finite number >= 0"),
        ({"eps": float("nan")}, "eps must be a finite number >= 0"),
        ({"steps": 0}, "steps must be an integer >= 1"),
        ({"steps": 2.5}, "steps must be an integer >= 1"),
        ({"step_size": 0}, "step_size must be a finite number > 0"),
        ({"norm": 1}, "norm must be 'inf' or 2"),
        ({"norm": "l1"}, "norm must be 'inf' or 2"),
        ({"restarts": 0}, "restarts must be an integer >= 1"),
        ({"restarts": 2, "random_start": False}, "restarts > 1 needs random_start=True"),
        ({"targeted": "yes"}, "targeted must be True or False"),
        ({"stop_on_success": 1}, "stop_on_success must be True or False"),
        ({"x": "too bright"}, r"x must lie in \[0, 1\]"),
        ({"x": "wrong shape"}, r"x must have shape \(N, 20, 20, 1\)"),
        ({"x": "uint8"}, "x must be float in"),
        ({"y": "out of range"}, r"y labels must be in \[0, 10\)"),
        ({"y": "one-hot"}, "not one-hot"),
        ({"y": "short"}, r"y must have shape \(8,\)"),
    ],
)
def test_invalid_arguments_raise_clear_errors(model, data, kwargs, match):
    x, y = data[0][:8], data[1][:8]
    args = {"eps": 0.05, "steps": 2, "step_size": 0.01, **kwargs}
    args["x"] = {
        "too bright": x * 1.5 + 0.01,
        "wrong shape": x[:, :10],
        "uint8": (x * 255).astype(np.uint8),
    }.get(kwargs.get("x"), x)
    args["y"] = {"out of range": y + 10, "one-hot": np.eye(10)[y], "short": y[:3]}.get(kwargs.get("y"), y)
    with pytest.raises(ValueError, match=match):
        attacks.pgd(model, **args)


def test_fgsm_and_threshold_validate_too(model, data):
    x, y = data[0][:4], data[1][:4]
    with pytest.raises(ValueError, match="eps must be"):
        attacks.fgsm(model, x, y, eps=-1)
    with pytest.raises(ValueError, match="threshold must be a probability"):
        attacks.threshold_attack(model, x, y, threshold=1.5, eps=0.1, step_size=0.01, max_iter=5)
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1"):
        attacks.threshold_attack(model, x, y, eps=0.1, step_size=0.01, max_iter=0)
    with pytest.raises(ValueError, match=r"target labels must be in"):
        attacks.threshold_attack(model, x, y - 1 - y.max(), eps=0.1, step_size=0.01, max_iter=5)


def test_charmodel_like_object_gives_the_same_result(model, data):
    x, y = data
    char_model = SimpleNamespace(keras_model=model, alphabet="0123456789", input_shape=(20, 20, 1))
    run = partial(attacks.pgd, x=x, y=y, eps=0.05, steps=5, step_size=0.0125, seed=7)
    np.testing.assert_array_equal(run(char_model), run(model))
    np.testing.assert_array_equal(attacks.fgsm(char_model, x, y, eps=0.05), attacks.fgsm(model, x, y, eps=0.05))


def test_works_with_the_project_charmodel(model, data):
    model_module = pytest.importorskip("alpr.model")
    char_model = model_module.CharModel(model, "0123456789")
    x, y = data
    x_adv = attacks.pgd(char_model, x, y, eps=0.05, steps=5, step_size=0.0125, seed=7)
    assert dist(x_adv, x, "inf").max() <= 0.05 + TOL and attacks.accuracy(char_model, x_adv, y) < 1.0


def test_seed_makes_pgd_deterministic(model, data):
    x, y = data
    run = partial(attacks.pgd, model, x, y, eps=0.05, steps=3, step_size=0.0125)
    np.testing.assert_array_equal(run(seed=11), run(seed=11))
    assert not np.array_equal(run(seed=11), run(seed=12))


def test_batch_sizes_share_one_trace(model, data):
    x, y = data
    for batch_size in (7, 13, 64):
        attacks.pgd(model, x[:40], y[:40], eps=0.05, steps=2, step_size=0.01, seed=0, batch_size=batch_size)
    run = core.ascent_run_fn(model, x.shape[1:], "inf")
    assert run.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("targeted", [False, True])
def test_stop_on_success_breaks_the_same_samples(model, data, targeted):
    x, y = data
    y_attack = (y + 3) % 10 if targeted else y
    run = partial(attacks.pgd, model, x, y_attack, eps=0.06, steps=8, step_size=0.015, targeted=targeted,
                  restarts=2, seed=5, batch_size=64)
    full, early = run(), run(stop_on_success=True)
    hit = (lambda x_adv: correct(model, x_adv, y_attack)) if targeted else (lambda x_adv: ~correct(model, x_adv, y))
    assert 0 < hit(full).sum() < len(x)  # a budget that breaks some samples, not all
    np.testing.assert_array_equal(hit(early), hit(full))
    assert dist(early, x, "inf").max() <= 0.06 + TOL and early.min() >= 0.0 and early.max() <= 1.0
    # unbroken samples followed the same path; broken ones stopped at their first success
    unbroken = ~hit(full)
    np.testing.assert_allclose(early[unbroken], full[unbroken], atol=1e-6)


@pytest.mark.parametrize("norm,eps,step", BALLS)
def test_quantize_stays_on_grid_and_in_ball(model, data, norm, eps, step):
    x, y = data
    x = np.rint(x * 255) / 255  # clean images as loaded from uint8 files
    x_adv = attacks.pgd(model, x, y, eps=eps, steps=5, step_size=step, norm=norm, seed=0)
    q = attacks.quantize(x_adv, x, eps=eps, norm=norm)
    np.testing.assert_allclose(q * 255, np.rint(q * 255), atol=1e-4)
    assert dist(q, x, norm).max() <= eps + TOL
    assert q.min() >= 0.0 and q.max() <= 1.0
    np.testing.assert_array_equal(attacks.to_uint8(q).astype(np.float32) / 255, q)
    # quantisation moves a pixel by at most half a grey level (L∞) or less than one (L2)
    assert np.abs(q - x_adv).max() <= (0.5 if norm == "inf" else 1.0) / 255 + TOL


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), eps=st.floats(0.0, 2.0), norm=st.sampled_from(["inf", 2]))
def test_quantize_property_on_grid_images(seed, eps, norm):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (3, 5, 4, 1)).astype(np.float32) / 255
    x_adv = core.clip_to_ball(x + rng.normal(0, 0.5, x.shape).astype(np.float32), x, eps, norm).numpy()
    q = attacks.quantize(x_adv, x, eps=eps, norm=norm)
    assert dist(q, x, norm).max() <= eps + TOL and q.min() >= 0.0 and q.max() <= 1.0
    np.testing.assert_allclose(q * 255, np.rint(q * 255), atol=1e-4)


def test_quantize_l2_falls_back_inside_the_ball():
    x = np.full((1, 4, 4, 1), 100 / 255, np.float32)
    x_adv = x + 0.6 / 255  # every pixel rounds up one grey level: L2 = 4/255 > eps
    eps = float(np.sqrt(16) * 0.6 / 255)
    q = attacks.quantize(x_adv, x, eps=eps, norm=2)
    assert dist(q, x, 2).max() <= eps + TOL
    assert 0 < np.count_nonzero(q != x) < 16  # some pixels kept their rounded value, the rest x's


def test_quantize_off_grid_tiny_eps_raises():
    x = np.full((1, 2, 2, 1), 100.5 / 255, np.float32)
    with pytest.raises(ValueError, match="no uint8 grey level"):
        attacks.quantize(x, x, eps=0.1 / 255, norm="inf")


def test_threshold_attack_reports_success_iterations_and_time(model, data):
    x, y = data
    x, y = x[:60], y[:60]
    target = (y + 3) % 10
    x_adv, result = attacks.threshold_attack(model, x, target, threshold=0.9, eps=0.3, step_size=0.02, max_iter=40)
    assert x_adv.shape == x.shape and dist(x_adv, x, "inf").max() <= 0.3 + TOL
    assert result.success.mean() >= 0.9
    probs = np.exp(core.predict_logits(model, x_adv))
    probs /= probs.sum(axis=1, keepdims=True)
    p_target = probs[np.arange(len(x)), target]
    np.testing.assert_array_equal(p_target >= 0.9, result.success)
    np.testing.assert_allclose(result.probability, p_target, rtol=1e-4)
    assert np.all(result.iterations[result.success] >= 1) and np.all(result.iterations <= 40)
    assert np.all(result.iterations[~result.success] == 40)
    assert np.all(result.seconds >= 0) and result.total_seconds >= result.seconds.max()
    assert "reached the threshold" in result.summary()


def test_threshold_attack_leaves_already_confident_samples_alone(model, data):
    x, y = data
    x_adv, result = attacks.threshold_attack(model, x[:20], y[:20], threshold=0.5, eps=0.1, step_size=0.01, max_iter=5)
    confident = result.iterations == 0
    assert confident.any()
    np.testing.assert_array_equal(x_adv[confident], x[:20][confident])


def test_robust_accuracy_is_the_per_sample_worst_case(model, data):
    x, y = data
    pgd = partial(attacks.pgd, eps=0.05, steps=5, step_size=0.0125, seed=0)
    fgsm = partial(attacks.fgsm, eps=0.05)
    r_pgd = attacks.robust_accuracy(model, x, y, pgd, per_sample=True)
    r_fgsm = attacks.robust_accuracy(model, x, y, fgsm, per_sample=True)
    both = attacks.robust_accuracy(model, x, y, [pgd, fgsm], per_sample=True)
    np.testing.assert_array_equal(both, r_pgd & r_fgsm)
    assert attacks.robust_accuracy(model, x, y, [pgd, fgsm]) == both.mean()
    assert attacks.success_rate(model, pgd(model, x, y), y) == pytest.approx(1 - r_pgd.mean())
    with pytest.raises(ValueError, match="attack_fn must be a callable"):
        attacks.robust_accuracy(model, x, y, [])

