"""A toy problem for tests and benchmarks: rendered digits and a tiny CNN that trains in seconds.

Real character models come from :func:`alpr.load_model`; this module only exists so the attacks
can be exercised (and timed against ART) before any trained model is available.
"""

from __future__ import annotations

import numpy as np

SIZE = 20


def digits(n: int, *, size: int = SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Render ``n`` jittered dark-on-light digits with OpenCV.

    Returns:
        ``(x, y)``: float32 ``(n, size, size, 1)`` in [0, 1] and int32 labels ``(n,)`` in 0–9.
    """
    import cv2

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, size=n).astype(np.int32)
    x = np.empty((n, size, size, 1), np.float32)
    fonts = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_PLAIN)
    for i, label in enumerate(y):
        font = fonts[rng.integers(len(fonts))]
        scale = size / 30 * (1.6 if font == cv2.FONT_HERSHEY_PLAIN else 1.0) * rng.uniform(0.8, 1.0)
        ink = np.zeros((size, size), np.uint8)
        (w, h), _ = cv2.getTextSize(str(label), font, scale, 1)
        org = (int((size - w) / 2 + rng.integers(-2, 3)), int((size + h) / 2 + rng.integers(-2, 3)))
        cv2.putText(ink, str(label), org, font, scale, 255, int(rng.integers(1, 3)), cv2.LINE_AA)
        alpha = ink.astype(np.float32) / 255.0
        paper, pen = rng.uniform(0.75, 0.95), rng.uniform(0.0, 0.25)
        img = paper + (pen - paper) * alpha + rng.normal(0.0, 0.03, alpha.shape).astype(np.float32)
        x[i, :, :, 0] = np.clip(img, 0.0, 1.0)
    return x, y


def tiny_cnn(*, size: int = SIZE, seed: int = 0):
    """An untrained two-conv CNN: ``(size, size, 1)`` in [0, 1] → 10 logits."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((size, size, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


def trained_cnn(*, n: int = 4000, epochs: int = 4, seed: int = 0):
    """:func:`tiny_cnn` trained on :func:`digits` for a few seconds (≈96 % clean accuracy)."""
    import keras

    x, y = digits(n, seed=seed)
    model = tiny_cnn(seed=seed)
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model
