"""One image file in, one uint8 (S, S, 3) RGB array out.

Every image source (folders, archives, dropped files, ``predict``) goes through
:func:`decode_image`, so a picture looks the same to the model wherever it came from:
EXIF orientation applied, converted to RGB (gray, palette, alpha over white, 16-bit scaled
down, CMYK), center-cropped to a square and resized to ``image_size``.

Memory: a picture is decoded in its own mode, cropped and resized there, and converted to RGB
only once it is small (a full-size copy per conversion step made an 89-megapixel RGBA PNG
cost 4 GB). What decoding still needs (pixels x bytes per pixel of the path taken) is taken
from one :class:`DecodeBudget` shared by every decode thread (1 GB by default): an image
that alone needs more is refused, naming its size, and threads wait rather than exceed it.

Speed: CIFAR-sized JPEGs that are already RGB at the target size (the shared 60,000-image
archive) skip Pillow's Python-level header parsing and go straight to its C JPEG decoder,
writing into a caller-provided buffer. Pillow's decoder releases the GIL, so threads then
decode in parallel; everything else takes the general, fully checked path.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Optional, Union

import numpy as np
from PIL import Image, UnidentifiedImageError

from linviz.errors import DatasetError
from linviz.limits import MAX_FILE_BYTES, decode_budget_bytes, format_bytes, memory_limit
from linviz.progress import CancelCheck, ProgressCallback, check_cancelled, report
from linviz.safe_files import failure_reason, not_regular_reason, read_regular, read_regular_or

# Pillow only *warns* between MAX_IMAGE_PIXELS and twice that (docs/pitfalls.md, "Pillow's
# decompression-bomb check is only a warning"): make it an error,
# so a decompression bomb is refused before its pixels are allocated.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# Pillow's other warnings (corrupt EXIF, palette transparency, odd TIFF tags) are about files
# linviz reads anyway or lists as skipped: they are not the user's business on stderr.
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL(\.|$)")

#: Images with more pixels than this are refused (decompression bombs). Pillow's own default
#: (about 89 megapixels) still admits every phone camera photo.
MAX_IMAGE_PIXELS = 89_478_485

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


# --------------------------------------------------------------------------- decoding budget


class DecodeBudget:
    """Bytes of decoded pixels in flight, shared by every thread that decodes.

    :meth:`reserve` blocks until the bytes are free, and refuses (ImageDecodeError) a single
    request larger than the whole budget, which no amount of waiting would satisfy.
    """

    def __init__(self, capacity: int):
        self.capacity = int(capacity)
        self.used = 0
        self._free = threading.Condition()

    @contextmanager
    def reserve(self, nbytes: int, what: str):
        nbytes = int(nbytes)
        if nbytes > self.capacity:
            raise ImageDecodeError(
                f"too large to decode: {what} needs about {format_bytes(nbytes)}, over the "
                f"{format_bytes(self.capacity)} decoding budget")
        with self._free:
            while self.used and self.used + nbytes > self.capacity:
                self._free.wait()
            self.used += nbytes
        try:
            yield
        finally:
            with self._free:
                self.used -= nbytes
                self._free.notify_all()


#: The one budget of this process ($LINVIZ_DECODE_BUDGET_MB, default 1 GB).
DECODE_BUDGET = DecodeBudget(decode_budget_bytes())

# Pillow's bytes per pixel for each mode as it stores them (RGB takes 4).
_STORED_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# Transposition after resizing: EXIF orientation -> Pillow's transpose method.
_ORIENTATIONS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_HIGH_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I")
_OVER_WHITE = "RGB over white"
#: Up to this many pixels, transparency is composited before resizing (see _working_mode).
_COMPOSITE_FIRST_PIXELS = 16_000_000


def _working_mode(image: Image.Image) -> tuple[Optional[str], int]:
    """The mode to resize in (None: as it is) and the peak bytes per source pixel of the path.

    Resizing in the image's own mode avoids a full-size RGB copy; palette, CMYK and the
    other modes Pillow cannot resample are converted first (one full-size copy). Pictures
    with transparency are composited over white before resizing ("RGB over white", the
    exact result), except above :data:`_COMPOSITE_FIRST_PIXELS`, where Pillow's
    premultiplied resize of the RGBA picture does it in half the memory (within a few
    levels of the exact result).
    """
    mode = image.mode
    stored = _STORED_BYTES.get(mode, 4)
    width, height = image.size
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode in ("P", "L", "RGB") and "transparency" in image.info):
        if width * height <= _COMPOSITE_FIRST_PIXELS:
            return _OVER_WHITE, stored + 4 + 4 + 3 + 4
        return ("RGBA" if mode != "RGBA" else None), max(stored + 4, 8)
    if mode in ("RGB", "L", "F", "I"):
        return None, stored
    if mode in _HIGH_BIT_MODES:
        return "I", stored + 4
    if mode == "1":
        return "L", 2
    return "RGB", stored + 4


def _composite_over_white(image: Image.Image) -> Image.Image:
    """An image with transparency -> RGB over white, a block of rows at a time."""
    rgba = np.asarray(image if image.mode == "RGBA" else image.convert("RGBA"))
    rgb = np.empty(rgba.shape[:2] + (3,), np.uint8)
    for start in range(0, len(rgba), 256):
        block = rgba[start:start + 256].astype(np.float32)
        alpha = block[:, :, 3:4] / 255.0
        rgb[start:start + 256] = np.rint(block[:, :, :3] * alpha + 255.0 * (1.0 - alpha))
    return Image.fromarray(rgb)


def _center_box(width: int, height: int, orientation: int) -> tuple[int, int, int, int]:
    """The square to keep, in stored pixels, centred as it is in the *displayed* picture."""
    side = min(width, height)
    turned = orientation in (5, 6, 7, 8)
    shown_w, shown_h = (height, width) if turned else (width, height)
    left, top = (shown_w - side) // 2, (shown_h - side) // 2
    # Map the displayed square back to stored pixels (mirror offsets where the axis flips).
    x, y = (top, left) if turned else (left, top)
    flip_x = orientation in (2, 3, 7, 8)
    flip_y = orientation in (3, 4, 6, 7)
    if flip_x:
        x = width - side - x
    if flip_y:
        y = height - side - y
    return x, y, x + side, y + side


def _small_to_rgb(image: Image.Image, extrema) -> np.ndarray:
    """A resized picture (RGB, L, RGBA, I or F) -> uint8 RGB; alpha composited over white."""
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image)
    if mode == "L":
        return np.repeat(np.asarray(image)[:, :, None], 3, axis=2)
    if mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        low, high = extrema
        if mode == "F":
            values = (values - low) * (255.0 / (high - low)) if high > low else values * 0
        elif high > 255:
            values = values / 257.0  # 16-bit data in 0..65535: keep the top 8 bits
        gray = np.clip(np.rint(np.nan_to_num(values)), 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    rgba = np.asarray(image.convert("RGBA")).astype(np.float32)
    alpha = rgba[:, :, 3:4] / 255.0
    return np.rint(rgba[:, :, :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)


def _open_checked(data: Union[bytes, memoryview]) -> Image.Image:
    if len(data) == 0:
        raise ImageDecodeError("empty file")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageDecodeError("not an image (no known image format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"too many pixels, refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, NotImplementedError, IndexError,
            KeyError, TypeError, ZeroDivisionError) as exc:
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


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the orientation
        return 1
    return value if value in _ORIENTATIONS else 1


def decode_image(data: Union[bytes, memoryview], image_size: int = 32) -> np.ndarray:
    """Bytes of one image file -> uint8 (image_size, image_size, 3); ImageDecodeError if bad.

    The memory it needs is taken from :data:`DECODE_BUDGET` while it decodes.
    """
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
        working, bytes_per_pixel = _working_mode(image)
        width, height = image.size
        needed = width * height * bytes_per_pixel + 4 * image_size * image_size * 16
        with DECODE_BUDGET.reserve(needed, f"a {width}x{height} {image.mode} image"):
            image.load()
            orientation = _orientation(image)
            if working == _OVER_WHITE:
                source = _composite_over_white(image)
            else:
                source = image if working is None else image.convert(working)
            if source is not image:
                image.close()  # the full-size original is not needed any more
            extrema = source.getextrema() if source.mode in ("I", "F") else None
            box = _center_box(width, height, orientation)
            size = (image_size, image_size)
            if source.size == size and box == (0, 0, width, height):
                small = source
            else:
                small = source.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=3.0)
                source.close()
            if orientation != 1:
                small = small.transpose(_ORIENTATIONS[orientation])
            rgb = _small_to_rgb(small, extrema)
    except ImageDecodeError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageDecodeError(f"too many pixels, refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, NotImplementedError,
            KeyError, TypeError, ZeroDivisionError) as exc:
        message = str(exc) or type(exc).__name__
        if "truncated" in message.lower() or isinstance(exc, EOFError):
            raise ImageDecodeError(f"truncated image ({message})") from None
        raise ImageDecodeError(f"unreadable image ({message})") from None
    except MemoryError:
        raise ImageDecodeError("image too large to decode (out of memory)") from None
    finally:
        image.close()
    return np.ascontiguousarray(rgb)


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
        except OSError as exc:  # FileRefusedError too: a FIFO, a device, over the byte cap
            reasons[k] = failure_reason(exc, "cannot read (no such file)")
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


def decode_workers() -> int:
    """Threads for decoding: one per core (Pillow's decoders release the GIL), at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


# --------------------------------------------------------------------------- public helpers


def read_image(path_or_file, image_size: int = 32) -> np.ndarray:
    """One image file (path or binary file object) -> uint8 (image_size, image_size, 3).

    Same conversion as the folder loader. Only a regular file is opened (a FIFO or a
    device, even behind a link, is refused without reading), at most ``MAX_FILE_BYTES``
    are read, and decoding takes its memory from the shared budget. Raises
    :class:`DatasetError` naming the file and the reason (missing, not a regular file, too
    large, not an image, truncated, too many pixels).
    """
    if hasattr(path_or_file, "read"):
        name = getattr(path_or_file, "name", "<file object>")
        try:
            data = path_or_file.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise DatasetError(f"{name}: cannot read ({exc})") from None
    else:
        name = str(path_or_file)
        data = read_regular_or(DatasetError, path_or_file, MAX_FILE_BYTES)
    try:
        return decode_image(data, image_size)
    except ImageDecodeError as exc:
        raise DatasetError(f"{name}: {exc}") from None


def image_files_in(paths: Iterable[Union[str, os.PathLike]], *,
                   max_files: Optional[int] = None) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand dropped files and folders into image files (sorted within each folder).

    Returns ``(files, skipped)``: folders are walked recursively; hidden files and
    ``__MACOSX`` are left out; files inside folders whose extension no Pillow plugin claims,
    missing paths, anything that is not a regular file (a FIFO, a device, a socket: never
    opened) and folders that cannot be read are listed in ``skipped`` with the reason. Files
    named explicitly are kept whatever their extension; :func:`read_image` judges their
    content. With ``max_files``, the walk stops after that many files and says so in
    ``skipped``.
    """
    extensions = image_extensions()
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []

    def full() -> bool:
        return max_files is not None and len(files) >= max_files

    for raw in paths:
        path = Path(raw)
        if full():
            skipped.append((str(path), f"not read: only the first {max_files} files are read"))
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            skipped.append((str(path), failure_reason(exc, "no such file or folder")))
            continue
        if stat.S_ISDIR(mode):
            def unreadable(exc: OSError, folder: Path = path) -> None:
                skipped.append((str(exc.filename or folder), f"cannot read folder ({exc.strerror or exc})"))

            for root, dirs, names in os.walk(path, onerror=unreadable):
                dirs[:] = sorted(d for d in dirs if not is_hidden(d))
                for name in sorted(names):
                    if is_hidden(name):
                        continue
                    child = Path(root) / name
                    if child.suffix.lower() not in extensions:
                        skipped.append((str(child), f"not an image file (extension {child.suffix or 'none'})"))
                        continue
                    try:
                        child_mode = os.stat(child).st_mode
                    except OSError as exc:
                        skipped.append((str(child), failure_reason(exc)))
                        continue
                    if not stat.S_ISREG(child_mode):
                        skipped.append((str(child), not_regular_reason(child_mode)))
                    elif full():
                        skipped.append((str(root), f"not read further: only the first {max_files} files are read"))
                        break
                    else:
                        files.append(child)
                if full() and dirs:
                    dirs[:] = []
        elif stat.S_ISREG(mode):
            # A file named explicitly is tried whatever its extension; read_image judges it.
            files.append(path)
        else:
            skipped.append((str(path), not_regular_reason(mode)))
    return files, skipped


def read_images(paths: Iterable[Union[str, os.PathLike]], image_size: int = 32, *,
                max_files: Optional[int] = None, progress: Optional[ProgressCallback] = None,
                cancel: CancelCheck = None) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
    """Dropped files and folders -> ``(paths read, uint8 (N, S, S, 3) images, skipped)``.

    The safe way to read images a user points at, meant for a worker thread (no Qt, nothing
    shared with the caller): :func:`image_files_in` expands folders (FIFOs and devices are
    listed as skipped, never opened), each file is read capped and decoded within the shared
    memory budget, in parallel threads, a few files per task; ``cancel`` is checked and
    ``progress(done, total)`` called between tasks. ``skipped`` pairs each unreadable path
    with the reason (without the path).
    """
    files, skipped = image_files_in(paths, max_files=max_files)
    skipped = list(skipped)
    n = len(files)
    if n * 3 * image_size**2 > memory_limit():
        raise DatasetError(f"{n:,} images of {image_size}x{image_size} need {format_bytes(n * 3 * image_size**2)}, "
                           f"more than half of this machine's memory; give max_files or fewer files")
    out = np.empty((n, image_size, image_size, 3), np.uint8)
    reasons: list[Optional[str]] = []
    report(progress, 0, n)
    chunk = 4
    with ThreadPoolExecutor(max_workers=decode_workers(), thread_name_prefix="linviz-decode") as pool:
        futures = [pool.submit(decode_images_into, files[s:s + chunk], read_regular, out[s:s + chunk], image_size)
                   for s in range(0, n, chunk)]
        try:
            for k, future in enumerate(futures):
                check_cancelled(cancel)
                reasons.extend(future.result())
                report(progress, min(n, (k + 1) * chunk), n)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    ok = [i for i, reason in enumerate(reasons) if reason is None]
    skipped.extend((str(files[i]), reason) for i, reason in enumerate(reasons) if reason is not None)
    return [str(files[i]) for i in ok], out[ok] if len(ok) < n else out, skipped
