"""The colour of a plate's lettering: German red plates (06 dealer, 07 historic) are the only
German plates written in red, a sign of their format that the character CNN cannot see (it reads
grey crops, in which a blurred 0 of "HB 06199" is a D)."""

import numpy as np

from alpr._components import percentiles, to_grey

#: Lettering is red when its colour, divided channel by channel by the paper's (which cancels the
#: light's tint and the camera's white balance), has red this much above green and blue. Measured
#: with ``ink_redness`` on the boxes the segmenter finds: de-samples' two red plates 0.34 and 0.32,
#: rendered red ink (BGR 40 40 190 / 60 60 160) 0.61 / 0.41; black lettering at most 0.054 on 150
#: rendered German plates of random styles, 0.023 on openalpr-eu's plates and 0.19 on UC3M-LP's
#: ordinary Spanish crops (night photos tinted by infrared light; 99th percentile of all 1,980
#: crops 0.11); two of its other plates read 0.23 and 0.38 (light characters on a coloured
#: ground: it only makes their German readings costlier).
RED_INK_FROM = 0.25
#: Grey percentiles of the lettering's row: its darkest pixels up to the first are taken for ink,
#: those between the other two for paper (lighter than ink, short of glare).
_INK_PERCENTILE, _PAPER_PERCENTILES = 15, (70, 92)
#: Below this paper brightness (0-255, any channel) the ratios mean nothing.
_MIN_PAPER = 40.0
#: Rows of more pixels are looked at through a sparser grid, down to about this many pixels
#: (medians barely move; a third of the time on 110 px high plates).
_MAX_PIXELS = 3000


def ink_redness(plate_bgr: np.ndarray, boxes) -> float | None:
    """How red the lettering in ``boxes`` (x, y, w, h) of ``plate_bgr`` is: the ink's median
    colour (the row's darkest pixels) over the paper's median colour, red less the larger of green
    and blue: about 0 for black or grey ink whatever the light, above 0.3 for red ink (see
    ``RED_INK_FROM``). None for a grey image, no boxes, or paper too dark to compare with."""
    if plate_bgr.ndim != 3 or plate_bgr.shape[2] < 3 or len(boxes) == 0:
        return None
    boxes = np.asarray(boxes, int).reshape(-1, 4)
    height, width = plate_bgr.shape[:2]
    x0, y0 = max(0, int(boxes[:, 0].min())), max(0, int(boxes[:, 1].min()))
    x1, y1 = min(width, int((boxes[:, 0] + boxes[:, 2]).max())), min(height, int((boxes[:, 1] + boxes[:, 3]).max()))
    if x1 <= x0 or y1 <= y0:
        return None
    step = max(1, int(np.sqrt((x1 - x0) * (y1 - y0) / _MAX_PIXELS)))
    row = np.ascontiguousarray(plate_bgr[y0:y1:step, x0:x1:step, :3])
    grey = to_grey(row)
    ink_level, paper_lo, paper_hi = percentiles(grey, (_INK_PERCENTILE, *_PAPER_PERCENTILES))
    paper = row[(grey >= paper_lo) & (grey <= paper_hi)]
    ink = row[grey <= ink_level]
    if len(paper) == 0 or len(ink) == 0:
        return None
    paper_colour = np.median(paper, axis=0)
    if paper_colour.min() < _MIN_PAPER:
        return None
    blue, green, red = np.median(ink, axis=0) / paper_colour
    return float(red - max(green, blue))


def red_ink(plate_bgr: np.ndarray, boxes) -> bool:
    """Whether the lettering in ``boxes`` is red (``ink_redness`` from ``RED_INK_FROM``)."""
    redness = ink_redness(plate_bgr, boxes)
    return redness is not None and redness >= RED_INK_FROM
