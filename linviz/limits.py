"""Every bound linviz puts on what it reads, in one place (no dependencies but the OS and linviz.text).

Everything linviz reads can be hostile (image folders and archives from the internet,
CIFAR-style pickles, model files from a colleague, its own cache): each allocation is bounded
by what genuine input needs *before* it is made, and refused with the figure. The numbers:

* one image file or archive member: 256 MB (:data:`MAX_FILE_BYTES`);
* one CIFAR-10 batch file: 64 MB; at most 10,000 images of 3,072 bytes per batch;
* an archive: at most 500,000 members (CIFAR-10 has 60,000), and at most
  :func:`decompression_budget` bytes decompressed across all of them (64 times its size, or
  1 GiB for a smaller archive: images hardly compress, zeros a thousand times);
* decoding: at most 1 GB of pixels in flight across all decode threads
  (``$LINVIZ_DECODE_BUDGET_MB``);
* square images of 4 to 512 pixels a side; model files: at most 10^6 features, 10,000
  classes and 10^8 weights;
* anything sized by the input as a whole (decoded datasets, feature matrices): at most half
  of this machine's memory (:func:`memory_limit`);
* training settings (:data:`TRAINING_SETTINGS`): one table of bounds that ``TrainingConfig``,
  the run store, model files, every command's options and the window all check, so that
  what linviz accepts it can record and read back; searches, landscapes and worker counts
  below it.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Optional

from linviz.text import bound

MiB = 1024 * 1024

#: A file larger than this is not read at all (a 32x32 classifier never needs one).
MAX_FILE_BYTES = 256 * MiB
#: A genuine CIFAR-10 batch is ~31 MB.
MAX_BATCH_BYTES = 64 * MiB
#: Images and bytes per image of a genuine CIFAR-10 batch.
MAX_BATCH_IMAGES, CIFAR_ROW_BYTES = 10_000, 3072
#: Archives with more members are refused before their index is built.
MAX_ARCHIVE_MEMBERS = 500_000
#: Decompressed bytes an archive may expand to: this many times its own size, at least the floor.
ARCHIVE_EXPANSION, ARCHIVE_BUDGET_FLOOR = 64, 1024 * MiB
#: Images are square, this many pixels a side (loading and model files).
MIN_IMAGE_SIZE, MAX_IMAGE_SIZE = 4, 512
#: Model files: features (without the bias), classes, weights in W.
MAX_MODEL_FEATURES, MAX_MODEL_CLASSES, MAX_MODEL_WEIGHTS = 1_000_000, 10_000, 100_000_000
#: Model files: the largest weight in size (anything training keeps, a diverged run's best
#: included, with room), and the feature statistics. With these bounds every score of every
#: image is a finite float64 (never NaN on the screen).
MAX_MODEL_WEIGHT = 1e30
MAX_FEATURE_MEAN = 1e9
FEATURE_SCALE_RANGE = (1e-9, 1e9)  # a fitted pipeline makes > 1e-8 (or 1 for a constant column)
#: Class names: characters.
MAX_NAME_CHARS = 256


#: A learning rate x regularization search: at most this many runs.
MAX_SEARCH_RUNS = 2_500
#: Loss landscapes: grid points per axis, and the span R of a from -R to R.
MAX_LANDSCAPE_STEPS = 1001
MIN_LANDSCAPE_SPAN, MAX_LANDSCAPE_SPAN = 1e-6, 1e6
#: Threads asked for by a user (``tune --workers``) are refused above this, then capped to the cores.
MAX_WORKERS = 10**6
#: The smallest non-zero magnitude a setting may have: float32's smallest normal number. The
#: kernels compute in float32, where anything smaller is flushed or loses all precision.
SMALLEST_NONZERO = 2.0 ** -126


@dataclass(frozen=True)
class Bound:
    """The values a number may take: from ``lo`` to ``hi`` (either end excluded when open),
    whole numbers only when ``whole``, None too when ``optional``. Non-zero values must be at
    least :data:`SMALLEST_NONZERO` in size; NaN and infinities are never allowed."""

    lo: float
    hi: float
    whole: bool = False
    lo_open: bool = False
    hi_open: bool = False
    optional: bool = False

    def describe(self) -> str:
        """``a whole number from 1 to 10,000,000``, ``a number > 0 and <= 1``."""
        kind = "a whole number" if self.whole else "a number"
        if not (self.lo_open or self.hi_open):
            return f"{kind} from {bound(self.lo)} to {bound(self.hi)}"
        return (f"{kind} {'>' if self.lo_open else '>='} {bound(self.lo)} and "
                f"{'<' if self.hi_open else '<='} {bound(self.hi)}")

    def problem(self, value) -> Optional[str]:
        """None when ``value`` is allowed; else why not, for a message (``must be ...``)."""
        if value is None:
            return None if self.optional else f"must be {self.describe()}, got None"
        try:
            import numpy as np

            if isinstance(value, np.generic):
                value = value.item()
        except ImportError:
            pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be {self.describe()}, got {type(value).__name__} {str(value)[:30]!r}"
        if self.whole and not isinstance(value, int):
            return f"must be {self.describe()}, got {value!r:.30}"
        try:
            finite = math.isfinite(value)
        except OverflowError:
            finite = False
        if not finite:
            return f"must be {self.describe()}, got {str(value)[:30]}"
        low_ok = value > self.lo if self.lo_open else value >= self.lo
        high_ok = value < self.hi if self.hi_open else value <= self.hi
        if not (low_ok and high_ok):
            return f"must be {self.describe()}, got {_shown(value)}"
        if value != 0 and abs(value) < SMALLEST_NONZERO:
            return (f"must be 0 or at least {SMALLEST_NONZERO:.2g} in size (computations are float32), "
                    f"got {_shown(value)}")
        return None


def _shown(value) -> str:
    return f"{value:,}" if isinstance(value, int) and abs(value) < 10**30 else f"{value:.4g}"


_WHOLE = dict(whole=True)
#: Every number of a training run (``TrainingConfig``'s fields), with the values allowed.
#: TrainingConfig refuses anything else when it is made, the run store when it reads a
#: record, model files when they are read, and every command when an option is given.
TRAINING_SETTINGS = {
    "delta": Bound(0, 1e6),
    "reg": Bound(0, 1e6),
    "elastic_beta": Bound(0, 1e6),
    "learning_rate": Bound(0, 1e6),
    "lr_decay": Bound(0, 1, lo_open=True),
    "momentum": Bound(0, 1, hi_open=True),
    "adam_beta1": Bound(0, 1, hi_open=True),
    "adam_beta2": Bound(0, 1, hi_open=True),
    "search_step": Bound(0, 1e6),
    "search_sample": Bound(0, 10**9, **_WHOLE),
    "batch_size": Bound(1, 10**7, **_WHOLE),
    "epochs": Bound(1, 10**6, **_WHOLE),
    "seed": Bound(0, 2**63 - 1, **_WHOLE),
    "init_scale": Bound(0, 1e6),
    "snapshot_every": Bound(1, 10**9, **_WHOLE),
    "weights_interval": Bound(0, 1e9),  # seconds between copies of W (1e9: never, in tests)
    "early_stopping": Bound(1, 10**6, optional=True, **_WHOLE),
    "divergence_factor": Bound(1, 1e12, lo_open=True),
    "accuracy_sample": Bound(1, 10**9, **_WHOLE),
    "smoothing": Bound(0, 1, hi_open=True),
    "chunk_seconds": Bound(0, 1e3),
}


def decompression_budget(compressed_bytes: int) -> int:
    """Bytes an archive of ``compressed_bytes`` may decompress to, across all its members.
    Genuine image archives expand a few times (CIFAR-10's JPEG tar.gz: 4.7); a bomb of
    zeros a thousand times."""
    return max(ARCHIVE_BUDGET_FLOOR, ARCHIVE_EXPANSION * int(compressed_bytes))


def cpu_count() -> int:
    """The cores this process may run on (its CPU affinity where the OS says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


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
