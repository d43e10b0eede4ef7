"""Text shown to people: names that come from files (class names, paths) made safe to show
on a terminal, durations, decimals and counts.

A folder name, a ``batches.meta`` label or a model file's class name can hold escape
sequences (ESC ] 0 ; ... sets the terminal's title), a right-to-left override that makes
``gpj.exe`` read ``exe.jpg``, or bytes that are not UTF-8 (a name from an old archive, kept by
Python as lone surrogates, which a strict UTF-8 stdout refuses to print). :func:`printable`
spells all of them out as Python-style escapes (``\\x1b``, ``\\u202e``, ``\\xe9``), and leaves
every ordinary character, accents and CJK included, as it is.
"""

from __future__ import annotations

import math
import re

# C0 and C1 controls, DEL, bidirectional formatting (embeddings, overrides, isolates, marks),
# zero-width and other invisible format characters, line / paragraph separators, lone
# surrogates (undecodable bytes under surrogateescape).
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: one undecodable byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def printable(text) -> str:
    """``text`` (str() of anything) with control, bidi and undecodable characters escaped."""
    text = str(text)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def duration(seconds: float) -> str:
    """'45 ms', '1.3 s', '2 min 5 s': a measured time at the precision it deserves (a run of
    a few hundred minibatches on small features takes milliseconds, not '0.0 s')."""
    seconds = float(seconds)
    if not math.isfinite(seconds):
        return "—"
    seconds = max(0.0, seconds)
    if round(seconds * 1000) < 100:
        return f"{seconds * 1000:.0f} ms"
    if round(seconds, 1) < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes} min {rest} s"


def decimals(value: float, places: int) -> str:
    """``value`` rounded to ``places`` decimals without the zeros that say nothing: '437.9'
    and '-96.8' (not '437.900'), '0.021', '1', '0'."""
    text = f"{float(value):.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def counted(n: int, word: str, plural: str = "") -> str:
    """'1 epoch', '30 epochs', '0 images' ('plural' when adding an s is wrong)."""
    n = int(n)
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def number(value: float) -> str:
    """A setting's value as a person writes it: '0.1', '0.0001', '1e-7' (Python's '1e-07'
    with the exponent's padding dropped), '2.5e6'."""
    text = f"{float(value):g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def bound(value: float) -> str:
    """A limit as the docs write it: whole numbers in full ('1,048,576', not '1.04858e+06'),
    '2^63 - 1' for the largest seed, others as '%g' ('0.5', '1e-06')."""
    if value == 2**63 - 1:
        return "2^63 - 1"
    if value == int(value) and abs(value) < 1e16:
        return f"{int(value):,}"
    return f"{value:g}"


def option_message(message: str) -> str:
    """argparse's 'argument --lr: reason' as linviz words its own checks: '--lr: reason'."""
    return re.sub(r"^argument ([^:]+): ", r"\1: ", message)


def count_text(value: float) -> str:
    """A count on an axis: '2,500', '200k', '1.5M' (not '2500', '200000', '1.5e+06'): short
    enough that a narrow plot's labels do not run into each other."""
    value = round(value)
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.3g}M"
    if abs(value) >= 10_000:
        return f"{value / 1000:.3g}k"
    return f"{value:,}"
