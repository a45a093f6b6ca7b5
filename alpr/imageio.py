"""Loading user images safely: any format OpenCV or Pillow reads, to 8-bit BGR, with clear errors.

Handles grey, grey+alpha, alpha (composited on white), 16-bit, float and EXIF-oriented images
(all eight orientations), and refuses, with a one-line :class:`ImageError`:

- paths that are missing, directories, unreadable, or not regular files (FIFOs, devices such as
  ``/dev/zero`` are never read);
- files larger than ``MAX_FILE_BYTES``;
- images above ``MAX_PIXELS`` (width x height), checked from the header *before* decoding
  (decompression bombs); OpenCV's own limit is set to the same value for formats Pillow cannot
  parse;
- empty, truncated, corrupt or non-image data.

Directories are walked lazily (:func:`iter_image_paths`), so a batch of any size streams.
"""

import io
import logging
import os
import re
import stat
import sys
import warnings
from pathlib import Path

#: Largest image accepted (width x height), checked from the header before decoding.
MAX_PIXELS = 64_000_000
#: Largest file read (bytes); a 64-Mpx 16-bit RGBA TIFF is 512 MiB.
MAX_FILE_BYTES = 512 * 1024 * 1024
# OpenCV reads this limit at its first decode; it guards formats Pillow cannot parse the header of.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(MAX_PIXELS))

import cv2  # noqa: E402  (after the environment variable above)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from alpr import atomic  # noqa: E402

# Pillow logs about hostile files ("More samples per pixel than can be decoded") at ERROR level;
# with no logging configured Python would print them on stderr. The file is reported in one line
# instead; applications that configure logging still receive the records.
logging.getLogger("PIL").addHandler(logging.NullHandler())

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pnm"}

_EXIF_ORIENTATION = 0x0112


class ImageError(ValueError):
    """An input image that cannot be used; the message is one line meant for the user."""


def display_name(path) -> str:
    """``path`` as one printable line: control characters and undecodable bytes are escaped."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if text.isprintable():
        return text
    out = []
    for char in text:
        if 0xDC80 <= ord(char) <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def load_image(path: str | Path) -> np.ndarray:
    """Read ``path`` as an (H, W, 3) uint8 BGR array, upright according to its EXIF orientation.

    Raises :class:`ImageError` (one line, naming the file) for anything that is not a usable image.
    """
    path = Path(path)
    name = display_name(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            if not os.access(path, os.R_OK | os.X_OK):
                raise ImageError(f"{name}: is a directory that cannot be listed (permission denied)")
            raise ImageError(f"{name}: is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"{name}: not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise ImageError(f"{name}: file of {info.st_size:,} bytes exceeds the limit of {MAX_FILE_BYTES:,} bytes")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ImageError(f"{name}: is a directory") from None
    except PermissionError:
        raise ImageError(f"{name}: permission denied") from None
    except OSError as err:
        raise ImageError(f"{name}: cannot read ({err.strerror or type(err).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ImageError(f"{name}: file exceeds the limit of {MAX_FILE_BYTES:,} bytes")
    return decode_image(data, name=name)


def decode_image(data: bytes, *, name: str = "image") -> np.ndarray:
    """Decode encoded image bytes to (H, W, 3) uint8 BGR (see ``load_image``).

    Raises :class:`ImageError` (one line) for empty, corrupt, unsupported or oversized images.
    """
    name = display_name(name)
    if not data:
        raise ImageError(f"{name}: empty file")
    orientation = 1
    bomb = f"{name}: {{}} exceeds the limit of {MAX_PIXELS:,} pixels (possible decompression bomb)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's DecompressionBombWarning: we decide below
            with Image.open(io.BytesIO(data)) as header:
                width, height = header.size
                if width * height > MAX_PIXELS:
                    raise ImageError(bomb.format(f"{width}x{height}"))
                orientation = int(header.getexif().get(_EXIF_ORIENTATION, 1) or 1)
    except Image.DecompressionBombError as err:  # Pillow's own (higher) limit fired first
        pixels = re.search(r"\((\d+) pixels\)", str(err))
        raise ImageError(bomb.format(f"{int(pixels.group(1)):,} pixels" if pixels else "the image size")) from None
    except ImageError:
        raise
    except Exception:  # unknown or corrupt header: let OpenCV try; it fails with our message below
        pass
    image = _imdecode_quietly(data)
    if image is None or image.size == 0:
        raise ImageError(f"{name}: not a readable image (corrupt, truncated or unsupported format)")
    if image.shape[0] * image.shape[1] > MAX_PIXELS:  # a format whose header Pillow could not read
        raise ImageError(bomb.format(f"{image.shape[1]}x{image.shape[0]}"))
    return apply_orientation(to_bgr8(image), orientation)


def _imdecode_quietly(data: bytes):
    """``cv2.imdecode`` (unchanged depth and channels) without the noise decoders print about a
    corrupt file (OpenCV's "[ WARN:0@...]" log, libpng's "libpng error", libjpeg's "Corrupt JPEG
    data"): the caller reports the file in one line. OpenCV's log level is lowered and the stderr
    file descriptor is pointed at /dev/null just for the call."""
    logging = getattr(getattr(cv2, "utils", None), "logging", None)
    previous = logging.getLogLevel() if logging is not None else None
    try:
        if logging is not None:
            logging.setLogLevel(logging.LOG_LEVEL_SILENT)
        with _stderr_fd_silenced():
            return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error:  # e.g. OpenCV's own size limit
        return None
    finally:
        if logging is not None:
            logging.setLogLevel(previous)


class _stderr_fd_silenced:
    """Context manager: file descriptor 2 goes to /dev/null inside (a no-op if that fails)."""

    def __enter__(self):
        self.saved = self.devnull = None
        try:
            sys.stderr.flush()
        except (AttributeError, OSError, ValueError):
            pass
        try:
            self.saved = os.dup(2)
            self.devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(self.devnull, 2)
        except OSError:
            self._close()
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            os.dup2(self.saved, 2)
        self._close()
        return False

    def _close(self):
        for fd in (self.saved, self.devnull):
            if fd is not None:
                os.close(fd)
        self.saved = self.devnull = None


def apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Turn an image as stored into the upright view for an EXIF orientation value (1..8)."""
    if orientation == 2:
        image = image[:, ::-1]
    elif orientation == 3:
        image = image[::-1, ::-1]
    elif orientation == 4:
        image = image[::-1]
    elif orientation == 5:
        image = image.swapaxes(0, 1)
    elif orientation == 6:
        image = image.swapaxes(0, 1)[:, ::-1]
    elif orientation == 7:
        image = image[::-1, ::-1].swapaxes(0, 1)
    elif orientation == 8:
        image = image.swapaxes(0, 1)[::-1]
    return np.ascontiguousarray(image)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Convert grey, grey+alpha, BGRA, 16-bit, signed and float images to contiguous 8-bit BGR."""
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype.kind in "iu" and image.dtype != np.uint8:
        info = np.iinfo(image.dtype)
        scaled = (image.astype(np.float64) - info.min) / (float(info.max) - info.min) * 255.0
        image = np.rint(scaled).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.nan_to_num(image.astype(np.float64), nan=0.0, posinf=255.0, neginf=0.0)
        peak = float(image.max()) if image.size else 0.0
        image = np.clip(image * (255.0 if peak <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels == 2:  # grey + alpha
        grey = cv2.cvtColor(np.ascontiguousarray(image[:, :, 0]), cv2.COLOR_GRAY2BGR)
        image = np.dstack([grey, image[:, :, 1]])
        channels = 4
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        return np.ascontiguousarray((image[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8))
    return np.ascontiguousarray(image[:, :, :3])


def iter_image_paths(paths, *, recursive: bool = True):
    """Yield image files from files and directories, lazily (one directory listing at a time).

    Directories are walked in sorted order (recursing when ``recursive``; symbolic links to
    directories are not followed, so link loops cannot trap the walk) and only files with an
    image suffix are kept. Explicit file arguments are yielded whatever their suffix, and
    missing paths or unreadable directories are yielded as-is so the caller reports them per file.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, recursive, top=True)
        else:
            yield path


def _walk(folder: Path, recursive: bool, *, top: bool = False):
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError:
        if top:
            yield folder  # reported by load_image ("cannot be listed")
        return
    for entry in entries:
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = entry.is_file()
        except OSError:
            continue
        if is_dir:
            if recursive:
                yield from _walk(Path(entry.path), recursive)
        elif is_file and os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES:
            yield Path(entry.path)


def save_image(path: str | Path, image: np.ndarray) -> None:
    """Write an image atomically (temporary file beside it, then rename)."""
    path = Path(path)
    ok, buf = cv2.imencode(path.suffix or ".png", image)
    if not ok:
        raise ImageError(f"{display_name(path)}: cannot encode image as {path.suffix}")
    atomic.write_bytes(path, buf.tobytes())
