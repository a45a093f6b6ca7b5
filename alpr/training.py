"""The character CNN's training loop: synthetic data (:mod:`alpr.char_crops`), fit, held-out
measurement, and the model card. Seeded: the same seed gives the same data and, up to
TensorFlow's CPU kernels, the same model."""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np

from alpr import char_crops
from alpr.char_crops import CLEAN_POLICY, TEST_SEED_OFFSET, CropPolicy, make_dataset, policy_for
from alpr.plates import ALPHABETS


def accuracy(char_model, x, y) -> float:
    """Top-1 accuracy of ``char_model`` on inputs ``x`` and labels ``y``."""
    if len(y) == 0:
        return float("nan")
    return float((char_model.predict_logits(x).argmax(axis=1) == np.asarray(y)).mean())


@dataclass
class TrainConfig:
    country: str
    samples: int = 60_000
    epochs: int = 12
    seed: int = 0
    batch_size: int = 128
    width: int = 32
    learning_rate: float = 3e-3
    test_samples: int = 5_000
    label_smoothing: float = 0.0  # 0: plain sparse cross-entropy
    policy: CropPolicy | None = None  # None: policy_for(country)
    init: str | None = None  # a model name or .keras file to start from (fine-tuning); None: random weights
    ema: float = 0.0  # momentum of an exponential moving average of the weights, kept as the model; 0: off
    # {font: weight} of the training characters only (None: the country's FONT_WEIGHTS); the
    # held-out sets keep the country's mix, so that they measure what the model is for
    font_mix: dict | None = None

    def __post_init__(self):
        if self.policy is None:
            self.policy = policy_for(self.country)


def train(cfg: TrainConfig, *, render=None, command: str | None = None, progress: bool = True, log=print):
    """Generate data, fit (from random weights, or from ``cfg.init``'s when fine-tuning), and
    measure on a synthetic held-out set (different seed).

    Returns ``(CharModel, card)``; the caller saves with :func:`alpr.model.save_model`.
    """
    from alpr.tf_import import import_tensorflow

    tf = import_tensorflow()  # before keras, which would import TensorFlow with its start-up banner
    import keras

    from alpr.model import INPUT_SHAPE, CharModel, build_model, describe_architecture

    alphabet = ALPHABETS[cfg.country]
    start = _init_model(cfg.init, alphabet, cfg.width) if cfg.init else None  # before the data: fail fast
    t0 = time.time()
    keras.utils.set_random_seed(cfg.seed)
    x, y = make_dataset(cfg.country, cfg.samples, cfg.seed, policy=cfg.policy, render=render, progress=progress, font_mix=cfg.font_mix)
    x_test, y_test = make_dataset(cfg.country, cfg.test_samples, cfg.seed + TEST_SEED_OFFSET, policy=cfg.policy, render=render, progress=progress)
    t_data = time.time() - t0

    net = build_model(len(alphabet), INPUT_SHAPE, width=cfg.width)
    if start is not None:
        net.set_weights(start.keras_model.get_weights())
    steps = max(1, int(np.ceil(len(x) / cfg.batch_size))) * cfg.epochs
    schedule = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps, alpha=0.02)
    if cfg.label_smoothing > 0:  # smoothing needs one-hot targets
        loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=cfg.label_smoothing)
        metric = keras.metrics.CategoricalAccuracy(name="acc")
        fit_y, fit_y_test = (np.eye(len(alphabet), dtype=np.float32)[v] for v in (y, y_test))
    else:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        metric = keras.metrics.SparseCategoricalAccuracy(name="acc")
        fit_y, fit_y_test = y, y_test
    # with EMA, fit() ends by writing the averaged weights into the model (finalize_variable_values)
    optimizer = keras.optimizers.Adam(schedule, use_ema=cfg.ema > 0, ema_momentum=cfg.ema or 0.99)
    net.compile(optimizer=optimizer, loss=loss, metrics=[metric])
    t1 = time.time()
    hist = net.fit(
        x, fit_y, batch_size=cfg.batch_size, epochs=cfg.epochs, shuffle=True,
        validation_data=(x_test, fit_y_test) if len(x_test) else None, verbose=1 if progress else 0,
    )
    t_fit = time.time() - t1
    # a clean copy without optimizer state, for a small file
    clean = build_model(len(alphabet), INPUT_SHAPE, width=cfg.width)
    clean.set_weights(net.get_weights())
    model = CharModel(clean, alphabet)
    held_out = accuracy(model, x_test, y_test)
    clean_x, clean_y = make_dataset(cfg.country, min(cfg.test_samples, 3000), cfg.seed + 2 * TEST_SEED_OFFSET, policy=CLEAN_POLICY, render=render, progress=False)
    clean_acc = accuracy(model, clean_x, clean_y)
    log(f"synthetic held-out accuracy: {held_out:.4%} (augmented, n={len(y_test)}), {clean_acc:.4%} (clean, n={len(clean_y)})")
    card = {
        "name": cfg.country,
        "country": cfg.country,
        "alphabet": alphabet,
        "input_shape": list(INPUT_SHAPE),
        "architecture": describe_architecture(len(alphabet), cfg.width),
        "parameters": int(clean.count_params()),
        "data": {
            "source": "synthetic only: alpr.synth.render.render_plate (no real images)",
            "description": char_crops.__doc__.split("\n\n")[1].replace("\n", " "),
            "policy": asdict(cfg.policy),
            "n_train": int(len(y)),
            "n_test": int(len(y_test)),
            "train_seed": cfg.seed,
            "test_seed": cfg.seed + TEST_SEED_OFFSET,
            "class_counts": np.bincount(y, minlength=len(alphabet)).tolist(),
            **({"train_font_mix": _font_mix_summary(cfg.country, cfg.font_mix),
                "train_font_mix_note": "training characters only; the held-out sets keep alpr.synth.style.FONT_WEIGHTS"}
               if cfg.font_mix else {}),
        },
        "training": {
            "epochs": cfg.epochs, "batch_size": cfg.batch_size,
            "optimizer": "Adam + cosine decay" + (f", weights kept as their EMA (momentum {cfg.ema})" if cfg.ema > 0 else ""),
            "learning_rate": cfg.learning_rate,
            "loss": f"categorical cross-entropy (from logits), label smoothing {cfg.label_smoothing}" if cfg.label_smoothing > 0
            else "sparse categorical cross-entropy (from logits)",
            "seed": cfg.seed, "data_seconds": round(t_data, 1), "fit_seconds": round(t_fit, 1),
            "init": _init_summary(cfg.init, start),
            "history": {k: [round(float(v), 5) for v in vals] for k, vals in hist.history.items()},
        },
        "metrics": {
            "synthetic_heldout_accuracy": round(held_out, 5),
            "synthetic_clean_accuracy": round(clean_acc, 5),
        },
        "command": command,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__, "python": platform.python_version()},
    }
    model.card = card
    return model, card


def _font_mix_summary(country: str, font_mix: dict) -> dict:
    """{font: probability} of a training crop's font, for the model card."""
    from alpr.synth.style import FONT_CHOICES, font_probabilities

    return {f: round(p, 4) for f, p in zip(FONT_CHOICES[country], font_probabilities(country, font_mix))}


class InitModelError(ValueError):
    """The ``--init`` model of a fine-tuning run cannot be used (one-line message)."""


def _init_model(init: str, alphabet: str, width: int):
    """The model ``init`` (bundled name or .keras path) to fine-tune; ``InitModelError`` when it
    cannot be loaded or its alphabet or width differs from the run's."""
    import keras

    from alpr.model import load_model

    try:
        start = load_model(init)
    except ValueError as err:  # missing, corrupt or unsafe model file (alpr.model.ModelError)
        raise InitModelError(f"--init: {err}") from None
    if start.alphabet != alphabet:
        raise InitModelError(f"--init {init}: its alphabet {start.alphabet!r} is not this country's {alphabet!r}")
    convs = [layer for layer in start.keras_model.layers if isinstance(layer, keras.layers.Conv2D)]
    own_width = convs[1].filters if len(convs) > 1 else None  # --width is the second conv's filter count
    if own_width != width:
        raise InitModelError(f"--init {init}: it has width {own_width}, the run asks for --width {width}")
    return start


def _init_summary(init: str | None, start) -> dict | None:
    """What a fine-tuned model's card records about the model it started from."""
    if start is None:
        return None
    card = start.card or {}
    return {"model": str(init), "command": card.get("command"), "train_seed": card.get("data", {}).get("train_seed"),
            "synthetic_heldout_accuracy": card.get("metrics", {}).get("synthetic_heldout_accuracy")}


def card_json(card: dict) -> str:
    return json.dumps(card, indent=2, ensure_ascii=False)
