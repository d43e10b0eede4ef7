"""Hostile CIFAR-10 batches that run no code but would take memory or crash: refused by what a
genuine batch holds. Python 3 pickles of batches (protocols 2 to 4) are accepted."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

from data_testfiles import BATCH_NAMES, batch_bytes, meta_bytes, official_pickle, write_batches
from linviz.data import CIFAR10_CLASSES, load_dataset
from linviz.data.cifar10 import unpickle_batch
from linviz.errors import DatasetError

# --------------------------------------------------------------------------- a tiny pickle assembler


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def integer(n: int) -> bytes:
    if 0 <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw


def text(s: bytes) -> bytes:  # a Python 2 str: bytes when read with encoding="bytes"
    return b"T" + struct.pack("<I", len(s)) + s


def tup(*items: bytes) -> bytes:
    return b"(" + b"".join(items) + b"t"


def lst(*items: bytes) -> bytes:
    return b"](" + b"".join(items) + b"e"


def dtype_u1() -> bytes:
    return glob("numpy", "dtype") + tup(text(b"u1"), integer(0), integer(1)) + b"R" + tup(
        integer(3), text(b"|"), b"N", b"N", b"N", integer(-1), integer(-1), integer(0)) + b"b"


def array(shape: tuple, data: bytes, typecode: bytes = None) -> bytes:
    """numpy's own protocol-2 form: _reconstruct(ndarray, (0,), b'b') then BUILD its state."""
    return (glob("numpy.core.multiarray", "_reconstruct") + tup(glob("numpy", "ndarray"), tup(integer(0)), text(b"b"))
            + b"R" + tup(integer(1), tup(*map(integer, shape)), typecode or dtype_u1(), b"\x89", text(data)) + b"b")


def batch(data: bytes, labels: bytes, extra: bytes = b"") -> bytes:
    return b"\x80\x02}(" + text(b"data") + data + text(b"labels") + labels + extra + b"u."


def labels_list(values) -> bytes:
    return lst(*(integer(v) for v in values))


def check_refused(data: bytes, word: str):
    with pytest.raises(DatasetError) as info:
        unpickle_batch_and_check(data)
    assert word in str(info.value), str(info.value)
    return str(info.value)


def unpickle_batch_and_check(data: bytes):
    from linviz.data.cifar10 import _batch_arrays

    return _batch_arrays(unpickle_batch(data, "data_batch_1"), "data_batch_1")


# --------------------------------------------------------------------------- tests


def test_the_assembler_makes_a_genuine_batch():
    rows = np.arange(2 * 3072, dtype=np.uint64).astype(np.uint8).tobytes()
    data, labels = unpickle_batch_and_check(batch(array((2, 3072), rows), labels_list([3, 7])))
    assert data.shape == (2, 3072) and data.tobytes() == rows and list(labels) == [3, 7]


def test_a_zero_stride_array_is_refused():
    """numpy.ndarray((N, 3072), uint8, b'x', 0, (0, 0)): 144 bytes that would pose as gigabytes."""
    view = glob("numpy", "ndarray") + tup(tup(integer(10_000), integer(3072)), dtype_u1(), text(b"x"), integer(0),
                                          tup(integer(0), integer(0))) + b"R"
    check_refused(batch(view, labels_list([0] * 3)), "refused")


def test_a_huge_reconstruction_is_refused():
    state = tup(integer(1), tup(integer(10**6), integer(3072)), dtype_u1(), b"\x89", text(b""))
    big = glob("numpy.core.multiarray", "_reconstruct") + tup(
        glob("numpy", "ndarray"), tup(integer(10**6), integer(3072)), text(b"b")) + b"R" + state + b"b"
    check_refused(batch(big, labels_list([0])), "refused")
    check_refused(batch(array((10**6, 3072), b"\0" * 3072), labels_list([0])), "holds at most 30,720,000")
    short = array((100, 3072), b"\0" * 3072)  # a shape its data does not fill
    check_refused(batch(short, labels_list([0])), "whose data has 3,072 bytes, not 307,200")


def test_more_than_a_batch_of_images_is_refused():
    rows = 10_001
    check_refused(batch(array((rows, 3072), bytes(rows * 3072)), labels_list([0] * rows)), "at most 30,720,000")


@pytest.mark.parametrize("shape", [(-1, 3072), (3, 3072, 1)])
def test_odd_shapes_are_refused(shape):
    check_refused(batch(array(shape, b""), labels_list([0])), "refused")


def test_object_arrays_are_refused():
    object_dtype = glob("numpy", "dtype") + tup(text(b"O8"), integer(0), integer(1)) + b"R"
    check_refused(batch(array((1, 1), b"\0" * 8, typecode=object_dtype), labels_list([0])), "plain integer")


def test_memoized_nested_labels_are_refused_before_numpy_expands_them(tmp_path, run_refusal):
    """200 labels, each a memoized list of 2,000 lists of 2,000 zeros: 6.4 GB once expanded."""
    inner = b"](" + integer(0) * 2000 + b"eq\x01"     # L0 = [0] * 2000, memo 1
    middle = b"](" + b"h\x01" * 2000 + b"eq\x02"     # L1 = [L0] * 2000, memo 2
    labels = b"](" + b"h\x02" * 200 + b"e"            # [L1] * 200
    data = (b"\x80\x02}(" + text(b"z") + inner + text(b"y") + middle + text(b"data")
            + array((200, 3072), bytes(200 * 3072)) + text(b"labels") + labels + b"u.")
    assert len(data) < 650_000
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides={"data_batch_1": data})
    result = run_refusal(f"load_dataset({str(folder)!r})", memory_gb=2,
                         env={"LINVIZ_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-2000:]
    assert "data_batch_1: labels are not a flat list of whole numbers" in result.stdout


@pytest.mark.parametrize("values,word", [
    ([1, 2**64], "outside 0..9"),
    ([1, -(2**70)], "outside 0..9"),
    ([1, 10], "outside 0..9"),
])
def test_labels_out_of_range_even_beyond_64_bits(values, word):
    check_refused(batch(array((2, 3072), bytes(2 * 3072)), labels_list(values)), word)


def test_float_labels_are_refused():
    floats = lst(b"G" + struct.pack(">d", 1.0), b"G" + struct.pack(">d", 2.5))
    check_refused(batch(array((2, 3072), bytes(2 * 3072)), floats), "flat list of whole numbers")


def test_labels_of_the_wrong_length():
    check_refused(batch(array((2, 3072), bytes(2 * 3072)), labels_list([1])), "2 images but 1 labels")


@pytest.mark.parametrize("names,word", [
    ([c.encode() for c in CIFAR10_CLASSES[:9]] + [b"cat"], "not all different"),
    (list(range(10)), "not a string"),
    ([c.encode() for c in CIFAR10_CLASSES[:9]] + [b"x" * 300], "characters long"),
])
def test_bad_label_names_are_refused(tmp_path, names, word):
    meta = official_pickle({b"label_names": names, b"num_vis": 3072})
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides={"batches.meta": meta})
    with pytest.raises(DatasetError, match=word):
        load_dataset(folder)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_python_3_pickles_of_batches_are_accepted(tmp_path, protocol):
    """Python 3 writes bytes in protocol 2 as _codecs.encode(text, 'latin1'); 3 and 4 directly."""
    rng = np.random.default_rng(protocol)
    files = {"batches.meta": pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}, protocol=protocol)}
    expected = []
    for name in BATCH_NAMES:
        rows = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, 4)]
        expected.append((rows, labels))
        files[name] = pickle.dumps({b"batch_label": b"b", b"labels": labels, b"data": rows,
                                    b"filenames": [b"f.png"] * 4}, protocol=protocol)
    if protocol == 2:
        assert b"_codecs" in files["data_batch_1"]
    folder = write_batches(tmp_path / "cifar-10-batches-py", overrides=files)
    dataset = load_dataset(folder)
    assert dataset.class_names == CIFAR10_CLASSES
    assert np.array_equal(dataset.train.labels[:4], expected[0][1])
    assert np.array_equal(dataset.test.images[0], expected[5][0][0].reshape(3, 32, 32).transpose(1, 2, 0))


def test_other_codecs_and_globals_are_still_refused():
    evil = b"\x80\x02" + glob("_codecs", "encode") + tup(b"X\x01\x00\x00\x00a", b"X\x05\x00\x00\x00utf-7") + b"R."
    with pytest.raises(DatasetError, match="refused"):
        unpickle_batch(evil, "x")
    with pytest.raises(DatasetError, match="refused to load 'os.system'"):
        unpickle_batch(b"\x80\x02" + glob("os", "system") + tup(text(b"true")) + b"R.", "x")


def test_genuine_official_batches_still_load(tmp_path):
    folder = write_batches(tmp_path / "cifar-10-batches-py", n=5)
    dataset = load_dataset(folder)
    assert len(dataset.train) == 25 and len(dataset.test) == 5
    expected = batch_bytes(5, 0)
    assert expected.startswith(b"\x80\x02") and meta_bytes()
