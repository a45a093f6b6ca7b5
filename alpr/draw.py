"""Drawing recognised plates on images (outlines, character boxes and text, umlauts included)."""

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans-Bold.ttf"
    return ImageFont.truetype(str(path), size)


def draw_plates(image: np.ndarray, plates, *, colour=(0, 200, 0)) -> np.ndarray:
    """Copy of ``image`` with each plate's quad, character boxes and text (with confidence)."""
    out = image.copy()
    scale = max(1, round(max(out.shape[:2]) / 640))
    for plate in plates:
        quad = np.asarray(plate.quad, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [quad], True, colour, 2 * scale, cv2.LINE_AA)
        for ch in plate.chars:
            x, y, w, h = ch.box
            cv2.rectangle(out, (x, y), (x + w, y + h), (255, 160, 0), scale)
    pil = Image.fromarray(cv2.cvtColor(out, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(pil)
    font = _font(14 * scale)
    for plate in plates:
        x0, y0 = np.asarray(plate.quad).min(axis=0)
        label = f"{plate.formatted or plate.text}  {plate.confidence:.2f}"
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        ty = y0 - (bottom - top) - 6 if y0 - (bottom - top) - 6 > 0 else np.asarray(plate.quad)[:, 1].max() + 4
        draw.rectangle([x0, ty, x0 + right + 6, ty + bottom + 4], fill=(0, 0, 0))
        draw.text((x0 + 3, ty), label, font=font, fill=tuple(reversed(colour)))
    return cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR)
