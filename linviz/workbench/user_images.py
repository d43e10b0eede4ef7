"""Reading dropped-in images and captioning them (no Qt): the window only shows the result."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from linviz.errors import LinvizError
from linviz.workbench.state import UserImage
from linviz.text import counted

MAX_DROPPED_FILES = 500


def read_user_images(paths, image_size: int, cancel=None,
                     max_files: int = MAX_DROPPED_FILES) -> tuple[list[UserImage], list[tuple[str, str]]]:
    """Expand files/folders, read every image; unreadable ones come back as (path, reason).

    For a worker thread: :func:`linviz.data.read_images` reads only regular files, capped,
    decoded in parallel within the shared memory budget; ``cancel`` is checked between files.
    """
    from linviz.data import read_images

    try:
        names, images, skipped = read_images([Path(p) for p in paths], image_size, max_files=max_files,
                                             cancel=cancel)
    except LinvizError as exc:
        return [], [(", ".join(str(p) for p in paths), str(exc))]
    return [UserImage(str(name), images[k]) for k, name in enumerate(names)], list(skipped)


def skipped_summary(added: int, skipped: list[tuple[str, str]]) -> str:
    first = "; ".join(f"{Path(p).name}: {_reason_without_path(str(p), reason)}" for p, reason in skipped[:3])
    more = f" (and {len(skipped) - 3} more)" if len(skipped) > 3 else ""
    return f"Added {counted(added, 'image')}; skipped {len(skipped)}: {first}{more}"


def _reason_without_path(path: str, reason: str) -> str:
    """Readers' errors start with the file's path; the summary already names the file."""
    for prefix in (f"{path}: ", f"{Path(path).name}: "):
        if reason.startswith(prefix):
            return reason[len(prefix):]
    return reason.replace(path, Path(path).name)


def top_classes_caption(x: Optional[np.ndarray], W: Optional[np.ndarray], class_names: list[str], loss: str,
                        top: int = 2) -> str:
    """'cat 62%\\ndog 20%' (softmax) or 'cat +3.1\\ndog +1.2' (SVM scores); '' without a model."""
    if x is None or W is None or W.shape[0] != len(x):
        return ""
    scores = np.asarray(x, dtype=np.float32) @ np.asarray(W, dtype=np.float32)
    order = np.argsort(scores)[::-1][:top]
    from linviz.models.losses import LOSSES, softmax

    if LOSSES[loss].has_probabilities:
        p = softmax(scores[None])[0]
        return "\n".join(f"{class_names[c]} {p[c]:.0%}" for c in order)
    return "\n".join(f"{class_names[c]} {scores[c]:+.1f}" for c in order)
