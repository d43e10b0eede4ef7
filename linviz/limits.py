"""Every bound linviz puts on what it reads, in one place (no dependencies but the OS).

Everything linviz reads can be hostile (image folders and archives from the internet,
CIFAR-style pickles, model files from a colleague, its own cache): each allocation is bounded
by what genuine input needs *before* it is made, and refused with the figure. The numbers:

* one image file or archive member: 256 MB (:data:`MAX_FILE_BYTES`);
* one CIFAR-10 batch file: 64 MB; at most 10,000 images of 3,072 bytes per batch;
* an archive: at most 500,000 members (CIFAR-10 has 60,000);
* decoding: at most 1 GB of pixels in flight across all decode threads
  (``$LINVIZ_DECODE_BUDGET_MB``);
* square images of 4 to 512 pixels a side; model files: at most 10^6 features, 10,000
  classes and 10^8 weights;
* anything sized by the input as a whole (decoded datasets, feature matrices): at most half
  of this machine's memory (:func:`memory_limit`).
"""

from __future__ import annotations

import os
from typing import Optional

MiB = 1024 * 1024

#: A file larger than this is not read at all (a 32x32 classifier never needs one).
MAX_FILE_BYTES = 256 * MiB
#: A genuine CIFAR-10 batch is ~31 MB.
MAX_BATCH_BYTES = 64 * MiB
#: Images and bytes per image of a genuine CIFAR-10 batch.
MAX_BATCH_IMAGES, CIFAR_ROW_BYTES = 10_000, 3072
#: Archives with more members are refused before their index is built.
MAX_ARCHIVE_MEMBERS = 500_000
#: Images are square, this many pixels a side (loading and model files).
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 4, 512
#: Model files: features (without the bias), classes, weights in W.
MAX_MODEL_FEATURES, MAX_MODEL_CLASSES, MAX_MODEL_WEIGHTS = 1_000_000, 10_000, 100_000_000
#: Class names: characters.
MAX_NAME_CHARS = 256


def decode_budget_bytes() -> int:
    """Bytes of decoded pixels allowed in flight across all decode threads: 1 GB, or
    ``$LINVIZ_DECODE_BUDGET_MB`` (1 to 1 TiB)."""
    from linviz import environment

    return int(environment.number("LINVIZ_DECODE_BUDGET_MB", 1024.0, 1.0, 2.0**20) * MiB)


def _cgroup_limit() -> Optional[int]:
    for name in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(name) as f:  # a pseudo-file of the kernel, not user input
                text = f.read(64).strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 2**60:
            return int(text)
    return None


def machine_memory() -> int:
    """Bytes of memory this process may use: RAM, or less under a cgroup or address-space limit."""
    candidates = []
    try:
        candidates.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    limit = _cgroup_limit()
    if limit:
        candidates.append(limit)
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft not in (resource.RLIM_INFINITY, -1) and soft > 0:
            candidates.append(soft)
    except (ImportError, ValueError, OSError):
        pass
    return min(candidates) if candidates else 8 * 1024 * MiB


def memory_limit() -> int:
    """Anything sized by the input as a whole may take at most half of :func:`machine_memory`."""
    return machine_memory() // 2


def format_bytes(n: float) -> str:
    """``2.4 TiB``, ``180 MB``: a byte count for a message."""
    n = float(n)
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} bytes"
