"""One image file in, one uint8 (S, S, 3) RGB array out.

Every image source (folders, archives, dropped files, ``predict``) goes through
:func:`decode_image`, so a picture looks the same to the model wherever it came from:
EXIF orientation applied, converted to RGB (gray, palette, alpha over white, 16-bit scaled
down, CMYK), center-cropped to a square and resized to ``image_size``.

Speed: CIFAR-sized JPEGs that are already RGB at the target size (the shared 60,000-image
archive) skip Pillow's Python-level header parsing and go straight to its C JPEG decoder,
writing into a caller-provided buffer. Pillow's decoder releases the GIL, so threads then
decode in parallel; everything else takes the general, fully checked path.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from linviz.errors import DatasetError

# Pillow only *warns* between MAX_IMAGE_PIXELS and twice that (pitfall 13): make it an error,
# so a decompression bomb is refused before its pixels are allocated.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

#: Images with more pixels than this are refused (decompression bombs). Pillow's own default
#: (about 89 megapixels) still admits every phone camera photo.
MAX_IMAGE_PIXELS = 89_478_485

#: Files larger than this are not even read (a 32x32 classifier never needs them).
MAX_FILE_BYTES = 256 * 1024 * 1024

_SOF_MARKERS = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))


class ImageDecodeError(Exception):
    """One file that cannot become an image; ``str()`` is the reason (without the path)."""


def image_extensions() -> frozenset[str]:
    """Lower-case extensions (with the dot) of every format this Pillow can open."""
    return frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN)


def is_hidden(relative_path: str) -> bool:
    """Hidden files/folders (``.name``), macOS resource forks and ``__MACOSX`` are not data."""
    if "." not in relative_path[:1] and "/." not in relative_path and "\\." not in relative_path and (
        "__MACOSX" not in relative_path and "Thumbs.db" not in relative_path and "desktop.ini" not in relative_path
    ):
        return False  # the common case, decided without splitting the path
    for part in relative_path.replace("\\", "/").split("/"):
        if part.startswith(".") and part not in (".", "..") or part == "__MACOSX":
            return True
        if part in ("Thumbs.db", "desktop.ini"):
            return True
    return False


# --------------------------------------------------------------------------- fast path


def _plain_jpeg_size(data) -> Optional[tuple[int, int]]:
    """(width, height) of a 3-component JPEG without EXIF/Adobe segments, else None.

    Only such files take the fast path: they need no orientation fix and no CMYK handling.
    """
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    i = 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _SOF_MARKERS:
            if i + 10 > n or data[i + 9] != 3:
                return None
            return (data[i + 7] << 8) | data[i + 8], (data[i + 5] << 8) | data[i + 6]
        if marker == 0xE1 or marker == 0xEE:  # EXIF (orientation) / Adobe (color transform)
            return None
        i += 2 + ((data[i + 2] << 8) | data[i + 3])
    return None


def _decode_plain_jpeg_into(data, rgbx: np.ndarray, offset: int, size: int) -> bool:
    """Decode into ``rgbx`` (a C-contiguous uint8 buffer, 4 bytes per pixel) at ``offset``.

    Returns False when the C decoder reports an error (truncated or corrupt data); the
    caller then takes the general path, which names the reason.
    """
    core = Image.core
    target = core.map_buffer(rgbx, (size, size), "raw", offset, ("RGBX", 0, 1))
    decoder = core.jpeg_decoder("RGB", "RGB", "")
    try:
        decoder.setimage(target, (0, 0, size, size))
        consumed, status = decoder.decode(data)
    finally:
        decoder.cleanup()
    # consumed < 0 means the decoder finished the image; status < 0 is an error.
    return consumed < 0 and status >= 0


# --------------------------------------------------------------------------- general path


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    """Any Pillow mode to uint8 RGB: alpha over white, 16-bit and float scaled, CMYK converted."""
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image).astype(np.float64)
        if mode == "F":
            low, high = float(np.nanmin(values)), float(np.nanmax(values))
            values = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        else:
            # 16-bit data in 0..65535 (or 8-bit data in an int image): keep the top 8 bits.
            values = values / 257.0 if values.max(initial=0) > 255 else values
        gray = np.clip(np.rint(values), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info) or (
        mode in ("L", "RGB") and "transparency" in image.info
    ):
        rgba = np.asarray(image.convert("RGBA")).astype(np.float32)
        alpha = rgba[:, :, 3:4] / 255.0
        return np.rint(rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.asarray(image.convert("RGB"))


def _center_square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    height, width = rgb.shape[:2]
    if height == size and width == size:
        return rgb
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image = Image.fromarray(np.ascontiguousarray(rgb))
    box = (left, top, left + side, top + side)
    return np.asarray(image.resize((size, size), Image.Resampling.BICUBIC, box=box, reducing_gap=3.0))


def _open_checked(data: Union[bytes, memoryview]) -> Image.Image:
    if len(data) == 0:
        raise ImageDecodeError("empty file")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image (no known image format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"too many pixels, refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error) as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message.lower() or isinstance(exc, (EOFError, struct.error)):
            raise ImageDecodeError(f"truncated image ({message})") from None
        raise ImageDecodeError(f"unreadable image ({message})") from None
    width, height = image.size
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageDecodeError(
            f"too many pixels ({width}x{height} > {MAX_IMAGE_PIXELS:,}), refused as a decompression bomb"
        )
    if width == 0 or height == 0:
        raise ImageDecodeError("image has no pixels")
    return image


def decode_image(data: Union[bytes, memoryview], image_size: int = 32) -> np.ndarray:
    """Bytes of one image file -> uint8 (image_size, image_size, 3); ImageDecodeError if bad."""
    if len(data) > MAX_FILE_BYTES:
        raise ImageDecodeError(f"file too large ({len(data):,} bytes)")
    if _plain_jpeg_size(data) == (image_size, image_size):
        rgbx = np.empty((image_size, image_size, 4), np.uint8)
        if _decode_plain_jpeg_into(data, rgbx, 0, image_size):
            return np.ascontiguousarray(rgbx[:, :, :3])
    image = _open_checked(data)
    try:
        if image.format == "JPEG" and image.mode in ("RGB", "L", "CMYK"):
            # DCT scaling: decode big photos at a fraction of their size, still >= target.
            image.draft(image.mode, (image_size, image_size))
        image.load()
        if image.getexif().get(0x0112, 1) != 1:
            image = ImageOps.exif_transpose(image)
        rgb = _to_rgb_array(image)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"too many pixels, refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message.lower() or isinstance(exc, EOFError):
            raise ImageDecodeError(f"truncated image ({message})") from None
        raise ImageDecodeError(f"unreadable image ({message})") from None
    except MemoryError:
        raise ImageDecodeError("image too large to decode (out of memory)") from None
    finally:
        image.close()
    return np.ascontiguousarray(_center_square_resize(rgb, image_size))


def decode_images_into(
    items: list, read, out: np.ndarray, image_size: int
) -> list[Optional[str]]:
    """Decode ``items`` into ``out`` (len(items), S, S, 3); per item None or a failure reason.

    ``read(item)`` returns the file's bytes (or raises OSError). Plain JPEGs already at the
    target size are decoded straight into one RGBX scratch buffer for the whole chunk (one
    copy at the end instead of a Pillow image per file).
    """
    reasons: list[Optional[str]] = [None] * len(items)
    rgbx = np.empty((len(items), image_size, image_size, 4), np.uint8)
    fast = [False] * len(items)
    stride = image_size * image_size * 4
    square = (image_size, image_size)
    box = (0, 0, image_size, image_size)
    # The fast path is inlined (bound names, no helper calls): at ~35 us per CIFAR image,
    # a few microseconds of Python per file are a tenth of the whole load.
    map_buffer, jpeg_decoder = Image.core.map_buffer, Image.core.jpeg_decoder
    raw_args = ("RGBX", 0, 1)
    for k, item in enumerate(items):
        try:
            data = read(item)
        except OSError as exc:
            reasons[k] = f"cannot read file ({exc.strerror or exc})"
            continue
        except ImageDecodeError as exc:
            reasons[k] = str(exc)
            continue
        if _plain_jpeg_size(data) == square:
            decoder = jpeg_decoder("RGB", "RGB", "")
            try:
                decoder.setimage(map_buffer(rgbx, square, "raw", k * stride, raw_args), box)
                consumed, status = decoder.decode(data)
            finally:
                decoder.cleanup()
            if consumed < 0 and status >= 0:
                fast[k] = True
                continue
        try:
            out[k] = decode_image(data, image_size)
        except ImageDecodeError as exc:
            reasons[k] = str(exc)
    fast = np.array(fast, bool)
    if fast.all():
        out[...] = rgbx[..., :3]
    elif fast.any():
        out[fast] = rgbx[fast, ..., :3]
    return reasons


# --------------------------------------------------------------------------- public helpers


def read_image(path_or_file, image_size: int = 32) -> np.ndarray:
    """One image file (path or binary file object) -> uint8 (image_size, image_size, 3).

    Same conversion as the folder loader. Raises :class:`DatasetError` naming the file and
    the reason (missing, unreadable, not an image, truncated, too many pixels).
    """
    if hasattr(path_or_file, "read"):
        name = getattr(path_or_file, "name", "<file object>")
        try:
            data = path_or_file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise DatasetError(f"{name}: cannot read ({exc})") from None
    else:
        name = str(path_or_file)
        path = Path(path_or_file)
        if not path.exists():
            raise DatasetError(f"{name}: no such file")
        if path.is_dir():
            raise DatasetError(f"{name}: is a folder, not an image file")
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise DatasetError(f"{name}: file too large ({path.stat().st_size:,} bytes)")
            data = path.read_bytes()
        except OSError as exc:
            raise DatasetError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        return decode_image(data, image_size)
    except ImageDecodeError as exc:
        raise DatasetError(f"{name}: {exc}") from None


def image_files_in(paths: Iterable[Union[str, os.PathLike]]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand dropped files and folders into image files (sorted within each folder).

    Returns ``(files, skipped)``: folders are walked recursively; hidden files, ``__MACOSX``
    and files inside folders whose extension no Pillow plugin claims are left out, the
    latter (and missing paths) listed in ``skipped`` with the reason; files named
    explicitly are always kept. Content is not checked here:
    :func:`read_image` does that.
    """
    extensions = image_extensions()
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            skipped.append((str(path), "no such file or folder"))
        elif path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not is_hidden(d))
                for name in sorted(names):
                    if is_hidden(name):
                        continue
                    child = Path(root) / name
                    if child.suffix.lower() in extensions:
                        files.append(child)
                    else:
                        skipped.append((str(child), f"not an image file (extension {child.suffix or 'none'})"))
        else:
            # A file named explicitly is tried whatever its extension; read_image judges it.
            files.append(path)
    return files, skipped
