"""A "Your classes" project: classes the user names and fills with images inside the app.

A project is nothing but an ordinary image folder with one sub-folder per class, so the
folder loader (:func:`linviz.data.load_dataset`), ``python main.py info`` and any other tool
read it as it is, and nothing about it lives anywhere else. New projects go under the data
folder (``linviz.paths.data_dir() / "classes"``) unless the user picks a folder.

Every change is a file operation that is complete before it is reported: an added image is
checked to be a readable image, then written through :func:`linviz.safe_files.atomic_write`
(a crash leaves either the whole file or none of it), and only then returned as added. Images
keep their original bytes (the loader resizes them, as it does any folder's). No Qt in here.

Splits are automatic: a fifth of each class is held out for validation when every class has
at least :data:`MIN_IMAGES_TO_VALIDATE` images; otherwise the model trains on all of them and
nothing is validated (:func:`auto_split`, :func:`validation_note`).
"""

from __future__ import annotations

import os
import shutil
import stat
import unicodedata
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np

from linviz.data.folders import TEST_NAMES, TRAIN_NAMES
from linviz.errors import LinvizError
from linviz.safe_files import move_into
from linviz.workbench.state import SplitSettings

PROJECTS_FOLDER = "classes"  # under linviz.paths.data_dir()
MIN_IMAGES_TO_VALIDATE = 5
VALIDATION_FRACTION = 0.2
MAX_NAME_LENGTH = 80
MAX_FILES_PER_ADD = 2000  # a dropped folder: the first this many images are added
THUMBNAIL_SIZE = 96
TEMPORARY_PREFIX = ".linviz-adding-"  # an image being written (hidden: the loader skips it)
# Top-level folder names the loader reads as splits (train/ test/ ...): never a class name here,
# or the project would stop being a plain class-per-folder image folder.
RESERVED_NAMES = frozenset(TRAIN_NAMES + TEST_NAMES + ("__macosx",))


class ClassProjectError(LinvizError):
    """A project operation that cannot be done; the message says what and why."""


@dataclass
class AddResult:
    """What an add did: the files written (with thumbnails) and what was skipped, with why."""

    added: list[Path] = field(default_factory=list)
    thumbnails: list[np.ndarray] = field(default_factory=list)  # uint8 (T, T, 3), one per added file
    skipped: list[tuple[str, str]] = field(default_factory=list)


# ------------------------------------------------------------------------------ names


def check_name(name, what: str = "class name", split_names: bool = True) -> str:
    """``name`` stripped, if it can be a folder name on any system; ClassProjectError otherwise.

    Refused: empty names, path separators, control characters, names starting with a dot
    (hidden: the loader skips them), names the loader reads as a split (train, test, ...),
    and names longer than :data:`MAX_NAME_LENGTH` characters. ``split_names`` False: train,
    test, ... are fine (a project's own folder name, which the loader never reads as a split).
    """
    if not isinstance(name, str):
        raise ClassProjectError(f"a {what} must be text")
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise ClassProjectError(f"the {what} is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise ClassProjectError(f"the {what} is longer than {MAX_NAME_LENGTH} characters")
    bad = sorted({c for c in name if c in '/\\:*?"<>|' or unicodedata.category(c)[0] == "C"})
    if bad:
        shown = " ".join(repr(c)[1:-1] for c in bad)
        raise ClassProjectError(f"the {what} {name!r} contains characters a folder name cannot have ({shown})")
    if name.startswith("."):
        raise ClassProjectError(f"the {what} {name!r} starts with a dot (the folder would be hidden)")
    if name.endswith("."):
        raise ClassProjectError(f"the {what} {name!r} ends with a dot")
    if split_names and name.lower() in RESERVED_NAMES:
        raise ClassProjectError(f"{name!r} cannot be a {what}: image folders use it for a split "
                                "(train, test, validation)")
    return name


def projects_root() -> Path:
    """Where new projects go: ``classes/`` in linviz's data folder (created on first use)."""
    from linviz.paths import data_dir

    root = data_dir() / PROJECTS_FOLDER
    try:
        root.mkdir(exist_ok=True)
    except OSError as exc:
        raise ClassProjectError(f"cannot create {root} ({exc.strerror or exc})") from None
    return root


def list_projects(root: Optional[Path] = None) -> list[Path]:
    """The project folders under ``root`` (default :func:`projects_root`), by name."""
    try:
        root = projects_root() if root is None else Path(root)
        entries = sorted(os.scandir(root), key=lambda e: e.name.lower())
    except (OSError, LinvizError):
        return []
    return [Path(e.path) for e in entries if not e.name.startswith(".") and _is_real_folder(e.path)]


def _is_real_folder(path) -> bool:
    """A folder, and not a link to one (a link could lead the project's deletes anywhere)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


# ------------------------------------------------------------------------------ splits


def auto_split(counts: dict[str, int], seed: int = 0) -> SplitSettings:
    """A fifth of every class for validation when each class has at least
    :data:`MIN_IMAGES_TO_VALIDATE` images, else none (the model trains on every image)."""
    present = [n for n in counts.values() if n > 0]
    if not present or min(present) < MIN_IMAGES_TO_VALIDATE:
        return SplitSettings(val_size=0, per_class=0, seed=seed)
    return SplitSettings(val_size=max(1, round(VALIDATION_FRACTION * sum(present))), per_class=0, seed=seed)


def validation_note(counts: dict[str, int]) -> Optional[str]:
    """Why a project's model cannot be validated (a class with too few images), or None."""
    few = [(name, n) for name, n in counts.items() if 0 < n < MIN_IMAGES_TO_VALIDATE]
    if not few:
        return None
    listed = ", ".join(f"{name} ({n})" for name, n in few[:4]) + (", ..." if len(few) > 4 else "")
    return (f"Fewer than {MIN_IMAGES_TO_VALIDATE} images in {listed}: the model trains on all the images "
            "and cannot validate (no validation accuracy); add images to validate")


def why_untrainable(counts: dict[str, int]) -> Optional[str]:
    """What must be done before a project can train (None: it can)."""
    if len(counts) < 2:
        return "Add at least two classes" if counts else "Add classes (at least two), then images to each"
    empty = [name for name, n in counts.items() if n == 0]
    if empty:
        return f"Add images to {', '.join(empty[:3])}{', ...' if len(empty) > 3 else ''} (or delete it)"
    return None


# ------------------------------------------------------------------------------ the project


class ClassProject:
    """One project folder (see the module docstring). Methods raise :class:`ClassProjectError`
    with a message for the user; none of them leaves a half-written file behind."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ClassProject({str(self.root)!r})"

    @property
    def name(self) -> str:
        return self.root.name

    # -------------------------------------------------------------- opening
    @classmethod
    def create(cls, name: str, parent: Optional[Path] = None, classes: Sequence[str] = ()) -> "ClassProject":
        """A new, empty project folder ``parent/name`` (default parent: :func:`projects_root`)."""
        name = check_name(name, "project name", split_names=False)
        parent = projects_root() if parent is None else Path(parent)
        root = parent / name
        if os.path.lexists(root):
            raise ClassProjectError(f"{root} already exists: choose another name, or open it")
        try:
            root.mkdir(parents=True)
        except OSError as exc:
            raise ClassProjectError(f"cannot create {root} ({exc.strerror or exc})") from None
        project = cls(root)
        for class_name in classes:
            project.add_class(class_name)
        return project

    @classmethod
    def open(cls, path) -> "ClassProject":
        """An existing folder as a project: it must be a plain class-per-folder image folder."""
        root = Path(path).expanduser()
        try:
            mode = os.stat(root).st_mode
        except FileNotFoundError:
            raise ClassProjectError(f"{root}: no such folder") from None
        except OSError as exc:
            raise ClassProjectError(f"{root}: cannot open ({exc.strerror or exc})") from None
        if not stat.S_ISDIR(mode):
            raise ClassProjectError(f"{root}: not a folder (a project is a folder with one sub-folder per class)")
        project = cls(root)
        classes = project.classes()
        splits = [name for name in classes if name.lower() in RESERVED_NAMES]
        if splits:
            raise ClassProjectError(f"{root}: has a {splits[0]}/ folder, so it is a dataset with its own splits; "
                                    "open it with File > Open folder or archive")
        from linviz.safe_files import remove_stale_temporaries

        for name in classes:  # what a writer that stopped half-way left (never a whole image)
            remove_stale_temporaries(root / name, TEMPORARY_PREFIX)
        return project

    # -------------------------------------------------------------- reading
    def classes(self) -> list[str]:
        """The class folders, sorted as the loader sorts them (so class i is label i)."""
        try:
            entries = list(os.scandir(self.root))
        except OSError as exc:
            raise ClassProjectError(f"{self.root}: cannot read ({exc.strerror or exc})") from None
        return sorted(e.name for e in entries if not e.name.startswith(".") and e.name != "__MACOSX"
                      and _is_real_folder(e.path))

    def images(self, class_name: str) -> list[Path]:
        """The image files of a class, in the loader's order (by path)."""
        from linviz.data.images import image_extensions, is_hidden

        folder = self._class_folder(class_name)
        extensions = image_extensions()
        found = []
        for directory, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not is_hidden(d)]
            for name in names:
                path = Path(directory) / name
                if not is_hidden(name) and path.suffix.lower() in extensions:
                    found.append(path)
        return sorted(found, key=lambda p: p.relative_to(self.root).as_posix())

    def listing(self) -> dict[str, list[Path]]:
        """{class: its image files}, in class order."""
        return {name: self.images(name) for name in self.classes()}

    def counts(self) -> dict[str, int]:
        """{class: number of image files}, in class order."""
        return {name: len(files) for name, files in self.listing().items()}

    def split_settings(self, seed: int = 0) -> SplitSettings:
        return auto_split(self.counts(), seed)

    def why_untrainable(self) -> Optional[str]:
        return why_untrainable(self.counts())

    # -------------------------------------------------------------- classes
    def _class_folder(self, class_name: str) -> Path:
        folder = self.root / class_name
        if not isinstance(class_name, str) or "/" in class_name or class_name in ("", ".", "..") \
                or not _is_real_folder(folder):
            raise ClassProjectError(f"{self.name}: there is no class {class_name!r}")
        return folder

    def _check_new_class(self, name: str, allow: str = "") -> str:
        name = check_name(name)
        taken = {c.lower() for c in self.classes() if c != allow}
        if name.lower() in taken:
            raise ClassProjectError(f"{self.name} already has a class {name!r}")
        return name

    def add_class(self, name: str) -> str:
        name = self._check_new_class(name)
        try:
            (self.root / name).mkdir()
        except OSError as exc:
            raise ClassProjectError(f"cannot create the class {name!r} in {self.root} "
                                    f"({exc.strerror or exc})") from None
        return name

    def rename_class(self, old: str, new: str) -> str:
        folder = self._class_folder(old)
        new = self._check_new_class(new, allow=old)
        if new == old:
            return new
        try:
            os.rename(folder, self.root / new)
        except OSError as exc:
            raise ClassProjectError(f"cannot rename the class {old!r} to {new!r} ({exc.strerror or exc})") from None
        return new

    def delete_class(self, name: str) -> int:
        """Delete a class folder with its images; returns how many images went."""
        folder = self._class_folder(name)
        n = len(self.images(name))
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise ClassProjectError(f"cannot delete the class {name!r} ({exc.strerror or exc})") from None
        return n

    # -------------------------------------------------------------- images
    def add_image_bytes(self, class_name: str, data: bytes, file_name: str) -> tuple[Path, np.ndarray]:
        """Check ``data`` is a readable image, write it into the class; (path, thumbnail)."""
        from linviz.data.images import ImageDecodeError, decode_image

        folder = self._class_folder(class_name)
        try:
            thumbnail = decode_image(data, THUMBNAIL_SIZE)
        except ImageDecodeError as exc:
            raise ClassProjectError(f"{file_name}: {exc}") from None
        target = _free_name(folder, _file_name_for(file_name, data))
        _write_new_file(target, data)
        return target, thumbnail

    def add_files(self, class_name: str, paths: Iterable, cancel=None, progress=None) -> AddResult:
        """Copy image files (folders: the images in them) into a class, each one checked first.

        Unreadable or non-image files are skipped with the reason; a file already in this
        class is not added twice. For a worker thread: ``cancel`` is checked between files.
        """
        from linviz.data.images import image_files_in
        from linviz.progress import check_cancelled, report
        from linviz.safe_files import failure_reason, read_regular
        from linviz.limits import MAX_FILE_BYTES

        folder = self._class_folder(class_name)
        files, skipped = image_files_in(paths, max_files=MAX_FILES_PER_ADD)
        result = AddResult(skipped=list(skipped))
        report(progress, 0, len(files))
        for k, path in enumerate(files):
            check_cancelled(cancel)
            if _inside(path, folder):
                result.skipped.append((str(path), f"already in {class_name}"))
                continue
            try:
                data = read_regular(path, MAX_FILE_BYTES)
            except OSError as exc:
                result.skipped.append((str(path), failure_reason(exc)))
                continue
            try:
                written, thumbnail = self.add_image_bytes(class_name, data, path.name)
            except ClassProjectError as exc:
                result.skipped.append((str(path), str(exc).removeprefix(f"{path.name}: ")))
                continue
            result.added.append(written)
            result.thumbnails.append(thumbnail)
            report(progress, k + 1, len(files))
        return result

    def _own_image(self, path) -> tuple[Path, str]:
        """(path, its class) for an image file of this project; ClassProjectError otherwise."""
        path = Path(path)
        try:
            relative = path.relative_to(self.root)
        except ValueError:
            raise ClassProjectError(f"{path} is not an image of {self.name}") from None
        if len(relative.parts) < 2 or not os.path.lexists(path):
            raise ClassProjectError(f"{path}: no such image in {self.name}")
        return path, relative.parts[0]

    def remove_image(self, path) -> None:
        path, _ = self._own_image(path)
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                raise ClassProjectError(f"{path} is a folder, not an image")
            os.unlink(path)
        except OSError as exc:
            raise ClassProjectError(f"cannot remove {path.name} ({exc.strerror or exc})") from None

    def move_image(self, path, to_class: str) -> Path:
        """Move an image into another class (renamed if the name is taken there)."""
        path, current = self._own_image(path)
        folder = self._class_folder(to_class)
        if current == to_class:
            return path
        target = _free_name(folder, path.name)
        try:
            target = move_into(path, folder, target.name)  # atomic; never through a link to the folder
        except OSError as exc:
            raise ClassProjectError(f"cannot move {path.name} to {to_class} ({exc.strerror or exc})") from None
        return target

    def thumbnails(self, paths: Sequence[Path], cancel=None) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
        """Thumbnails of image files, decoded in parallel (:func:`linviz.data.read_images`)."""
        from linviz.data import read_images

        return read_images(list(paths), THUMBNAIL_SIZE, cancel=cancel)


# ------------------------------------------------------------------------------ files


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
        return True
    except ValueError:
        return False


def _file_name_for(original: str, data: bytes) -> str:
    """A safe file name: the original's base name, cleaned, with an extension the loader reads."""
    from linviz.data.images import image_extensions

    base = Path(str(original)).name
    base = "".join(c if c not in '/\\:*?"<>|' and unicodedata.category(c)[0] != "C" else "_" for c in base)
    base = base.lstrip(".").strip() or "image"
    stem, suffix = os.path.splitext(base)
    if suffix.lower() not in image_extensions():
        stem, suffix = base, _extension_of(data)
    return stem[:MAX_NAME_LENGTH] + suffix.lower()


def _extension_of(data: bytes) -> str:
    """The usual extension of the image format of ``data`` (it decoded, so Pillow knows it)."""
    from PIL import Image

    try:
        with Image.open(BytesIO(data)) as image:
            fmt = image.format
    except Exception:  # noqa: BLE001 - decode_image accepted it; any extension is only cosmetic
        fmt = None
    names = {ext: f for ext, f in Image.registered_extensions().items()}
    preferred = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "BMP": ".bmp", "WEBP": ".webp", "TIFF": ".tif"}
    if fmt in preferred:
        return preferred[fmt]
    return next((ext for ext, f in names.items() if f == fmt), ".png")


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/stem-2.ext``, ``-3``, ... when the name is taken."""
    target = folder / name
    stem, suffix = os.path.splitext(name)
    k = 2
    while os.path.lexists(target):
        target = folder / f"{stem}-{k}{suffix}"
        k += 1
    return target


def _write_new_file(target: Path, data: bytes) -> None:
    """Write ``data`` to the new file ``target`` atomically (whole, or not at all)."""
    from linviz.safe_files import FileRefusedError, atomic_write

    try:
        with atomic_write(target, prefix=TEMPORARY_PREFIX) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except FileRefusedError as exc:
        raise ClassProjectError(f"cannot write {target.name}: {exc.reason}") from None
    except OSError as exc:
        raise ClassProjectError(f"cannot write {target} ({exc.strerror or exc})") from None
