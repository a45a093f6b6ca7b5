"""Loading user images safely: any format OpenCV or Pillow reads, to 8-bit BGR, with clear errors.

Handles grey, alpha (composited on white), 16-bit and EXIF-rotated images, and refuses images
above ``MAX_PIXELS`` before decoding them (decompression bombs).
"""

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from alpr import atomic

#: Largest image accepted (width x height), checked from the header before decoding.
MAX_PIXELS = 64_000_000
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}

_EXIF_ORIENTATION = 0x0112
_ROTATIONS = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_CLOCKWISE, 8: cv2.ROTATE_90_COUNTERCLOCKWISE}


class ImageError(ValueError):
    """An input image that cannot be used; the message is one line meant for the user."""


def load_image(path: str | Path) -> np.ndarray:
    """Read ``path`` as an (H, W, 3) uint8 BGR array, upright according to its EXIF orientation."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{path}: is a directory") from None
    except PermissionError:
        raise ImageError(f"{path}: permission denied") from None
    except OSError as err:
        raise ImageError(f"{path}: cannot read ({err.strerror or err})") from None
    return decode_image(data, name=str(path))


def decode_image(data: bytes, *, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes (see ``load_image``)."""
    if not data:
        raise ImageError(f"{name}: empty file")
    orientation = 1
    bomb = f"{name}: {{}} exceeds the limit of {MAX_PIXELS:,} pixels (possible decompression bomb)"
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
            if width * height > MAX_PIXELS:
                raise ImageError(bomb.format(f"{width}x{height}"))
            orientation = int(header.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Image.DecompressionBombError:
        raise ImageError(bomb.format("the image size")) from None
    except ImageError:
        raise
    except Exception:  # unknown or corrupt header: let OpenCV try; it fails with our message below
        pass
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise ImageError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    image = to_bgr8(image)
    if orientation in _ROTATIONS:
        image = cv2.rotate(image, _ROTATIONS[orientation])
    return image


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Convert grey, BGRA and 16-bit/float images to contiguous 8-bit BGR."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float64) * (255.0 if image.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        return (image[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    if image.shape[2] == 1:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(image[:, :, :3])


def iter_image_paths(paths, *, recursive: bool = True):
    """Yield image files from files and directories (directories recurse, sorted); missing paths are
    yielded as-is so the caller can report them per file."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            yield from sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            yield path


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write an image atomically (temporary file beside it, then rename)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ImageError(f"{path}: cannot encode image as {path.suffix}")
    atomic.write_bytes(path, buf.tobytes())
