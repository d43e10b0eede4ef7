"""Workspace files: the state of a window in one file, to prepare a lesson and open it in class.

A workspace is a zip archive (``.linviz``) of two members:

``workspace.json``  the data source and its classes, the split, the feature spec, the
                    training settings, the selected image, the dropped-in images' paths, the
                    tab shown and each lab's settings (its controls' values; the 2-D
                    playground's whole state)
``model.npz``       the current model, exactly a model file (:func:`linviz.models.save_model`),
                    absent when there is none

Nothing is pickled. A workspace may come from anyone, so it is read like a model file: a
regular file only, the member count read before the index, only these two members, sizes
capped before anything is read, the JSON size- and depth-limited with every field type- and
range-checked in one place (:func:`validate_workspace`), the model read by the model-file
reader itself (:func:`linviz.models.load_model`) with all its checks. Anything wrong refuses
the whole file with :class:`WorkspaceError` naming it and the reason.

No Qt in here: the window collects and restores (``linviz.gui.controllers.workspace_controller``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from linviz.errors import LinvizError, ModelFileError
from linviz.limits import MAX_FILE_BYTES, MAX_MODEL_CLASSES, MAX_NAME_CHARS
from linviz.workbench.state import SPLITS, Selection, SplitSettings

FORMAT = "linviz-workspace"
FORMAT_VERSION = 1
SUFFIX = ".linviz"
JSON_MEMBER = "workspace.json"
MODEL_MEMBER = "model.npz"
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 12
MAX_TEXT = 4096
MAX_USER_IMAGES = 500
MAX_LABS = 64
MAX_SETTINGS_PER_LAB = 200
DATA_KINDS = ("demo", "cifar10", "folder", "classes")
TOP_FIELDS = {"format", "version", "data", "split", "features", "training", "selection", "user_images", "labs",
              "view", "model"}


class WorkspaceError(LinvizError):
    """A workspace file that cannot be read or written; the message names it and says why."""


@dataclass
class WorkspaceData:
    """Where the data came from: ``source`` as load_dataset takes it, and what it held."""

    source: str
    kind: str  # one of DATA_KINDS
    classes: list[str]
    image_size: int = 32


@dataclass
class WorkspaceState:
    """Everything of the JSON member, validated."""

    data: Optional[WorkspaceData] = None
    split: SplitSettings = field(default_factory=SplitSettings)
    features: Optional[str] = None
    training: dict = field(default_factory=dict)
    selection: Optional[Selection] = None
    user_images: list[str] = field(default_factory=list)
    labs: dict[str, dict] = field(default_factory=dict)  # lab object name -> {"settings": {...}, "playground": state}
    view: str = ""
    has_model: bool = False


@dataclass
class Workspace:
    path: Path
    state: WorkspaceState
    model: Any = None  # linviz.models.SavedModel or None


# ------------------------------------------------------------------------------ writing


def workspace_document(state: WorkspaceState) -> dict:
    """The JSON member's content (what :func:`validate_workspace` reads back)."""
    from linviz.explore import playground

    labs = {}
    for name, lab in state.labs.items():
        entry = {"settings": dict(lab.get("settings", {}))}
        if lab.get("playground") is not None:
            entry["playground"] = playground.state_to_dict(lab["playground"])
        labs[name] = entry
    data = None
    if state.data is not None:
        data = {"source": state.data.source, "kind": state.data.kind, "classes": list(state.data.classes),
                "image_size": int(state.data.image_size)}
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "data": data,
        "split": {"val_size": None if state.split.val_size is None else int(state.split.val_size),
                  "per_class": int(state.split.per_class), "seed": int(state.split.seed)},
        "features": state.features,
        "training": dict(state.training),
        "selection": None if state.selection is None else {"split": state.selection.split,
                                                           "index": int(state.selection.index)},
        "user_images": list(state.user_images),
        "labs": labs,
        "view": state.view,
        "model": MODEL_MEMBER if state.has_model else None,
    }


def save_workspace(path, state: WorkspaceState, model=None, class_names=None) -> Path:
    """Write the workspace (atomically); ``model``: the workbench's Model, or None."""
    from linviz.models import save_model
    from linviz.safe_files import FileRefusedError, atomic_write

    path = Path(path)
    state.has_model = model is not None
    text = json.dumps(workspace_document(state), indent=1, allow_nan=False)
    validate_workspace(json.loads(text), str(path))  # never write what could not be read back
    try:
        with tempfile.TemporaryDirectory(prefix="linviz-workspace-") as tmp:
            model_file = None
            if model is not None:
                model_file = Path(tmp) / MODEL_MEMBER
                save_model(model_file, W=model.W, class_names=list(class_names), pipeline=model.features.pipeline,
                           loss=model.loss, hyperparameters=model.settings or {"loss": model.loss})
            with atomic_write(path) as f:
                with zipfile.ZipFile(f, "w") as archive:
                    archive.writestr(JSON_MEMBER, text, compress_type=zipfile.ZIP_DEFLATED)
                    if model_file is not None:
                        archive.write(model_file, MODEL_MEMBER, compress_type=zipfile.ZIP_STORED)
    except FileRefusedError as exc:
        raise WorkspaceError(f"{path}: cannot write the workspace: {exc.reason}") from None
    except ModelFileError as exc:
        raise WorkspaceError(f"{path}: cannot write the model: {exc}") from None
    except OSError as exc:
        raise WorkspaceError(f"{path}: cannot write the workspace ({exc.strerror or exc})") from None
    return path


# ------------------------------------------------------------------------------ reading


def read_workspace(path) -> Workspace:
    """Read and check a workspace file; WorkspaceError naming the file and the first problem."""
    from linviz.data.archives import zip_member_count
    from linviz.safe_files import open_regular_or

    path = Path(path)
    with open_regular_or(WorkspaceError, path, None, missing="no such workspace file") as f:
        if f.read(2) != b"PK":
            raise WorkspaceError(f"{path}: not a linviz workspace (not a zip archive)")
        f.seek(0)
        declared = zip_member_count(f)
        if declared is not None and declared > 2:
            raise WorkspaceError(f"{path}: not a linviz workspace ({declared:,} members; it has at most 2)")
        try:
            with zipfile.ZipFile(f) as archive:
                members = _checked_members(archive, path)
                text = _read_member(archive, members[JSON_MEMBER], MAX_JSON_BYTES, path)
                state = parse_workspace(text, str(path))
                model = None
                if state.has_model:
                    if MODEL_MEMBER not in members:
                        raise WorkspaceError(f"{path}: incomplete workspace: it names a model but has no "
                                             f"{MODEL_MEMBER}")
                    model = _load_model_member(archive, members[MODEL_MEMBER], path)
                elif MODEL_MEMBER in members:
                    raise WorkspaceError(f"{path}: inconsistent workspace: a {MODEL_MEMBER} it does not name")
        except WorkspaceError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError, NotImplementedError,
                RuntimeError) as exc:
            raise WorkspaceError(f"{path}: truncated or corrupt workspace ({exc})") from None
    if model is not None and state.data is not None and list(model.class_names) != state.data.classes:
        raise WorkspaceError(f"{path}: inconsistent workspace: the model's classes are not its data's")
    return Workspace(path, state, model)


def _checked_members(archive: zipfile.ZipFile, path: Path) -> dict:
    members = {}
    for info in archive.infolist():
        if info.filename not in (JSON_MEMBER, MODEL_MEMBER):
            raise WorkspaceError(f"{path}: not a linviz workspace (unexpected member {info.filename[:60]!r})")
        if info.filename in members:
            raise WorkspaceError(f"{path}: corrupt workspace (two members named {info.filename})")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise WorkspaceError(f"{path}: {info.filename} uses an unsupported compression")
        if info.flag_bits & 0x1:
            raise WorkspaceError(f"{path}: {info.filename} is encrypted")
        limit = MAX_JSON_BYTES if info.filename == JSON_MEMBER else MAX_FILE_BYTES
        if info.file_size > limit:
            raise WorkspaceError(f"{path}: {info.filename} declares {info.file_size:,} bytes (at most {limit:,})")
        members[info.filename] = info
    if JSON_MEMBER not in members:
        raise WorkspaceError(f"{path}: not a linviz workspace (no {JSON_MEMBER})")
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, path: Path) -> bytes:
    """The member's bytes, never more than ``limit`` (a size header can lie)."""
    with archive.open(info) as member:
        data = member.read(limit + 1)
    if len(data) > limit:
        raise WorkspaceError(f"{path}: {info.filename} is larger than {limit:,} bytes")
    return data


def _load_model_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path):
    """The model, read by the model-file reader from a private temporary copy."""
    from linviz.models import load_model

    with tempfile.TemporaryDirectory(prefix="linviz-workspace-") as tmp:
        copy = Path(tmp) / MODEL_MEMBER
        with archive.open(info) as member, open(copy, "wb") as out:
            written = 0
            while chunk := member.read(1 << 20):
                written += len(chunk)
                if written > MAX_FILE_BYTES:
                    raise WorkspaceError(f"{path}: {MODEL_MEMBER} is larger than {MAX_FILE_BYTES:,} bytes")
                out.write(chunk)
        try:
            return load_model(copy)
        except ModelFileError as exc:
            reason = str(exc).replace(f"{copy}: ", "").replace(str(copy), MODEL_MEMBER)
            raise WorkspaceError(f"{path}: its model: {reason}") from None


def parse_workspace(text, source: str) -> WorkspaceState:
    """The JSON member (bytes or str) parsed and validated."""
    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_JSON_BYTES:
            raise WorkspaceError(f"{source}: {JSON_MEMBER} is larger than {MAX_JSON_BYTES:,} bytes")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise WorkspaceError(f"{source}: {JSON_MEMBER} is not UTF-8 text") from None

    def no_constants(name):
        raise WorkspaceError(f"{source}: {name} is not allowed (numbers must be finite)")

    try:
        document = json.loads(text, parse_constant=no_constants)
    except RecursionError:
        raise WorkspaceError(f"{source}: {JSON_MEMBER} is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and integers too long to convert
        raise WorkspaceError(f"{source}: {JSON_MEMBER} is not valid JSON ({exc})") from None
    return validate_workspace(document, source)


# ------------------------------------------------------------------------------ validation


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_ok(value, limit: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and len(value) <= limit and "\x00" not in value


def _scalar_ok(value) -> bool:
    """A lab setting: a short text, a whole number, a finite number, a yes/no, or nothing."""
    if value is None or isinstance(value, bool):
        return True
    if _is_int(value):
        return abs(value) < 2 ** 63
    if isinstance(value, float):
        return math.isfinite(value)
    return _text_ok(value, 256)


def validate_workspace(document, source: str) -> WorkspaceState:
    """Every field of a parsed workspace checked for type and range; the one place that does
    it. WorkspaceError naming ``source`` and the field."""
    def refuse(reason: str):
        raise WorkspaceError(f"{source}: {reason}")

    if not isinstance(document, dict):
        refuse("not a linviz workspace (expected a JSON object)")
    if document.get("format") != FORMAT:
        refuse(f"not a linviz workspace (\"format\" must be \"{FORMAT}\")")
    from linviz.models.model_file import _json_depth_ok  # the model file's metadata check, iterative

    if not _json_depth_ok(document, MAX_DEPTH):
        refuse(f"nested more than {MAX_DEPTH} levels deep")
    version = document.get("version")
    if not _is_int(version) or version < 1:
        refuse("\"version\" must be a positive whole number")
    if version > FORMAT_VERSION:
        refuse(f"written by a newer linviz (workspace format {version}; this linviz reads up to {FORMAT_VERSION})")
    unknown = set(document) - TOP_FIELDS
    if unknown:
        refuse(f"unknown field {sorted(unknown)[0][:40]!r}")
    state = WorkspaceState()

    data = document.get("data")
    if data is not None:
        if not isinstance(data, dict) or set(data) - {"source", "kind", "classes", "image_size"}:
            refuse("\"data\" must be an object with source, kind, classes and image_size")
        if not _text_ok(data.get("source")) or not data.get("source"):
            refuse(f"data.source must be a path or a name of at most {MAX_TEXT:,} characters")
        if data.get("kind") not in DATA_KINDS:
            refuse(f"data.kind must be one of {', '.join(DATA_KINDS)}")
        classes = data.get("classes")
        if not (isinstance(classes, list) and 1 <= len(classes) <= MAX_MODEL_CLASSES
                and all(_text_ok(c, MAX_NAME_CHARS) and c for c in classes) and len(set(classes)) == len(classes)):
            refuse(f"data.classes must be 1 to {MAX_MODEL_CLASSES:,} distinct names of at most "
                   f"{MAX_NAME_CHARS} characters")
        from linviz.limits import MAX_IMAGE_SIZE, MIN_IMAGE_SIZE

        image_size = data.get("image_size", 32)
        if not (_is_int(image_size) and MIN_IMAGE_SIZE <= image_size <= MAX_IMAGE_SIZE):
            refuse(f"data.image_size must be a whole number from {MIN_IMAGE_SIZE} to {MAX_IMAGE_SIZE}")
        state.data = WorkspaceData(data["source"], data["kind"], list(classes), image_size)

    split = document.get("split", {})
    if not isinstance(split, dict) or set(split) - {"val_size", "per_class", "seed"}:
        refuse("\"split\" must be an object with val_size, per_class and seed")
    values = {}
    for key, hi in (("val_size", 10_000_000), ("per_class", 10_000_000), ("seed", 2 ** 31 - 1)):
        value = split.get(key, getattr(SplitSettings(), key))
        if value is None and key == "val_size":  # the commands' default size
            values[key] = None
            continue
        if not (_is_int(value) and 0 <= value <= hi):
            refuse(f"split.{key} must be a whole number from 0 to {hi:,}" + (" or null" if key == "val_size" else ""))
        values[key] = value
    state.split = SplitSettings(**values)

    features = document.get("features")
    if features is not None:
        from linviz.features import parse_feature_spec

        if not _text_ok(features, 1000):
            refuse("\"features\" must be a feature spec of at most 1,000 characters")
        try:
            parse_feature_spec(features)
        except LinvizError as exc:
            refuse(f"\"features\": {exc}")
        state.features = features

    training = document.get("training", {})
    if not isinstance(training, dict) or len(training) > 100 or not all(_scalar_ok(v) for v in training.values()):
        refuse("\"training\" must be an object of single values")
    from linviz.workbench.jobs import usable_settings

    try:
        state.training = usable_settings(training, source)  # TrainingConfig's own checks, naming the file
    except LinvizError as exc:
        raise WorkspaceError(str(exc)) from None
    if "loss" in training:
        if training["loss"] not in ("softmax", "svm"):
            refuse("training.loss must be \"softmax\" or \"svm\"")
        state.training["loss"] = training["loss"]

    selection = document.get("selection")
    if selection is not None:
        if not (isinstance(selection, dict) and set(selection) == {"split", "index"}
                and selection["split"] in SPLITS + ("yours",) and _is_int(selection["index"])
                and 0 <= selection["index"] < 10 ** 9):
            refuse("\"selection\" must be {\"split\": train|validation|test|yours, \"index\": a whole number}")
        state.selection = Selection(selection["split"], selection["index"])

    user_images = document.get("user_images", [])
    if not (isinstance(user_images, list) and len(user_images) <= MAX_USER_IMAGES
            and all(_text_ok(p) and p for p in user_images)):
        refuse(f"\"user_images\" must be at most {MAX_USER_IMAGES} file paths")
    state.user_images = list(user_images)

    labs = document.get("labs", {})
    if not isinstance(labs, dict) or len(labs) > MAX_LABS:
        refuse(f"\"labs\" must be an object of at most {MAX_LABS} labs")
    for name, lab in labs.items():
        if not _text_ok(name, 64) or not isinstance(lab, dict) or set(lab) - {"settings", "playground"}:
            refuse(f"labs: {name[:40]!r} must be an object with settings (and a playground)")
        settings = lab.get("settings", {})
        if not (isinstance(settings, dict) and len(settings) <= MAX_SETTINGS_PER_LAB
                and all(_text_ok(k, 100) and _scalar_ok(v) for k, v in settings.items())):
            refuse(f"labs.{name}.settings must be at most {MAX_SETTINGS_PER_LAB} names with single values")
        entry = {"settings": dict(settings)}
        if "playground" in lab:
            from linviz.explore import playground

            try:
                entry["playground"] = playground.state_from_dict(lab["playground"], f"{source}: labs.{name}")
            except playground.PlaygroundError as exc:
                raise WorkspaceError(str(exc)) from None
        state.labs[name] = entry

    view = document.get("view", "")
    if not _text_ok(view, 100):
        refuse("\"view\" must be a tab's title")
    state.view = view
    model = document.get("model")
    if model not in (None, MODEL_MEMBER):
        refuse(f"\"model\" must be \"{MODEL_MEMBER}\" or null")
    state.has_model = model is not None
    return state


# ------------------------------------------------------------------------------ the data


def data_kind(source: str, class_names: list[str], is_project: bool) -> str:
    """How a workspace names its data: the demo set, CIFAR-10 (found again wherever it is),
    a folder or archive, or a "Your classes" project."""
    from linviz.data.cifar10 import CIFAR10_CLASSES

    if source == "demo":
        return "demo"
    if is_project:
        return "classes"
    if list(class_names) == CIFAR10_CLASSES:
        return "cifar10"
    return "folder"


def find_data(data: WorkspaceData) -> tuple[Optional[str], str]:
    """(the source to load, or None when it is gone; a note for the user, "" when all is as saved)."""
    if data.kind == "demo" or data.source == "demo":
        return "demo", ""
    if os.path.exists(data.source):
        return data.source, ""
    if data.kind == "cifar10":
        from linviz.data import find_cifar10

        found = find_cifar10()
        if found is not None:
            return str(found), f"{data.source} is gone; using the copy of CIFAR-10 at {found}"
    return None, f"its data {data.source} is gone"
