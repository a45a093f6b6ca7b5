"""Locating the EU band (blue strip with stars and country letter) at the left of a plate."""

import numpy as np

from alpr._components import chroma


def find_band(plate_bgr: np.ndarray, boxes: np.ndarray, colour=None) -> tuple[int, int, int, int] | None:
    """Bounding box (x, y, w, h) of the EU band left of the first character, or ``None``.

    The band is found as a strongly coloured, darker-than-background region; any hue is accepted
    because photos may have swapped colour channels or an infrared tint. ``colour`` is
    ``_components.chroma(plate_bgr)`` if already computed.
    """
    if len(boxes) == 0:
        return None
    hm = float(np.median(boxes[:, 3]))
    x_end = int(boxes[0, 0])
    y0 = max(0, int(boxes[:, 1].min() - 0.35 * hm))
    y1 = min(plate_bgr.shape[0], int((boxes[:, 1] + boxes[:, 3]).max() + 0.35 * hm))
    if x_end < 0.15 * hm or y1 - y0 < 4:
        return None
    sat, val = colour if colour is not None else chroma(plate_bgr)  # chroma, max channel
    x0, _, w0, _ = (int(v) for v in boxes[len(boxes) // 2])
    bg_sat = float(np.median(sat[y0:y1, x0 : x0 + w0]))
    region = (sat[y0:y1, :x_end] > max(50, bg_sat + 35)) & (val[y0:y1, :x_end] > 30)
    cols = region.mean(axis=0) > 0.45
    if cols.sum() < max(2, 0.12 * hm):
        return None
    xs = np.flatnonzero(cols)
    rows = np.flatnonzero(region[:, xs].mean(axis=1) > 0.3)
    if len(rows) < 0.6 * hm:
        return None
    return int(xs[0]), int(y0 + rows[0]), int(xs[-1] - xs[0] + 1), int(rows[-1] - rows[0] + 1)
