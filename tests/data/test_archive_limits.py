"""Archives: member counts bounded before the index is built, unsafe names skipped and listed,
Windows separators understood, unsupported zip features refused in one line."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib

import pytest
from PIL import Image

from data_testfiles import encode, gradient
from linviz.data import load_dataset
from linviz.errors import DatasetError

PNG = encode(Image.fromarray(gradient(8, 8)), "PNG")


def test_a_zip_declaring_too_many_members_is_refused_before_its_index_is_read(tmp_path):
    """A zip64 end record declaring 600,000 members, with no index behind it."""
    zip64_end = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 600_000, 600_000, 0, 0)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, 0, 1)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    target = tmp_path / "many.zip"
    target.write_bytes(zip64_end + locator + end)
    with pytest.raises(DatasetError, match=r"too many members \(600,000 > 500,000\)"):
        load_dataset(target)


def test_a_tar_with_too_many_members_is_refused_as_the_index_streams(tmp_path, monkeypatch):
    import linviz.data.archives as archives

    monkeypatch.setattr(archives, "MAX_MEMBERS", 1000)
    target = tmp_path / "many.tar"
    with tarfile.open(target, "w") as tar:
        for i in range(1001):
            info = tarfile.TarInfo(f"cls/{i}.png")
            info.size = len(PNG)
            tar.addfile(info, io.BytesIO(PNG))
    with pytest.raises(DatasetError, match="too many members"):
        load_dataset(target)


def test_a_million_empty_members_cost_little_memory(tmp_path, run_refusal):
    """A 3.4 MB tar.gz of 1,000,000 empty .jpg members: refused at the 500,000 limit, under 1.5 GB."""
    header = tarfile.TarInfo("cls/empty.jpg").tobuf(tarfile.USTAR_FORMAT)
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts = [packer.compress(header * 4096) for _ in range(1_000_000 // 4096)]
    parts += [packer.compress(header * (1_000_000 % 4096) + b"\0" * 1024), packer.flush()]
    target = tmp_path / "empty-members.tar.gz"
    target.write_bytes(b"".join(parts))
    result = run_refusal(f"load_dataset({str(target)!r})", memory_gb=1.5,
                         env={"LINVIZ_CACHE_DIR": str(tmp_path / "cache")}, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "too many members (over 500,000)" in result.stdout


def test_empty_members_are_listed_without_taking_a_slot(tmp_path):
    target = tmp_path / "few.tar"
    with tarfile.open(target, "w") as tar:
        for name, data in [("a/1.png", PNG), ("b/2.png", PNG)] + [(f"a/e{i}.jpg", b"") for i in range(50)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    dataset = load_dataset(target)
    assert len(dataset.train) == 2
    assert sum(reason == "empty file" for _, reason in dataset.skipped) == 50


def test_unsafe_zip_names_are_skipped_and_backslashes_separate_folders(tmp_path):
    target = tmp_path / "windows.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for name in ("cat\\1.png", "cat\\2.png", "dog\\1.png", "dog\\2.png", "../evil/1.png", "/abs/1.png",
                     "C:\\temp\\1.png", "cat/../../up.png"):
            zf.writestr(name, PNG)
    dataset = load_dataset(target)
    assert dataset.class_names == ["cat", "dog"] and len(dataset.train) == 4
    reasons = dict(dataset.skipped)
    assert reasons[f"{target}/../evil/1.png"] == "'..' in the path inside the archive, not read"
    assert reasons[f"{target}/cat/../../up.png"] == "'..' in the path inside the archive, not read"
    assert reasons[f"{target}/C:\\temp\\1.png"] == "absolute path in the archive, not read"
    assert any(path.endswith("abs/1.png") and "absolute" in reason for path, reason in dataset.skipped)


def test_unsafe_tar_names_are_skipped(tmp_path):
    target = tmp_path / "evil.tar"
    with tarfile.open(target, "w") as tar:
        for name in ("cat/1.png", "dog/1.png", "../dog/2.png", "cat/../../x.png"):
            info = tarfile.TarInfo(name)
            info.size = len(PNG)
            tar.addfile(info, io.BytesIO(PNG))
    dataset = load_dataset(target)
    assert dataset.class_names == ["cat", "dog"] and len(dataset.train) == 2
    assert sorted(reason for _, reason in dataset.skipped) == ["'..' in the path inside the archive, not read"] * 2


def _patch_central_directory(data: bytes, offset_in_header: int, value: int) -> bytes:
    """Set a 2-byte field of every central directory header (and the local headers' twin)."""
    out = bytearray(data)
    start = 0
    while (start := out.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into("<H", out, start + offset_in_header, value)
        start += 4
    return bytes(out)


def test_a_zip_needing_a_newer_version_is_refused_in_one_line(tmp_path):
    source = tmp_path / "ok.zip"
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr("cat/1.png", PNG)
        zf.writestr("dog/1.png", PNG)
    target = tmp_path / "new.zip"
    target.write_bytes(_patch_central_directory(source.read_bytes(), 6, 99))  # "version needed to extract"
    with pytest.raises(DatasetError, match="not a readable zip archive.*version"):
        load_dataset(target)


def test_a_member_with_an_unsupported_compression_is_skipped(tmp_path):
    target = tmp_path / "aes.zip"
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("cat/1.png", PNG)
        zf.writestr("cat/2.png", PNG)
        zf.writestr("dog/1.png", PNG)
    data = bytearray(target.read_bytes())
    cd = data.find(b"PK\x01\x02")  # the first member's central directory entry: method 99 (AES)
    struct.pack_into("<H", data, cd + 10, 99)
    target.write_bytes(bytes(data))
    dataset = load_dataset(target)
    assert len(dataset.train) == 2
    assert any(path.endswith("cat/1.png") and "unsupported zip member" in reason
               for path, reason in dataset.skipped)


def test_decoded_images_larger_than_half_the_memory_are_refused_with_the_figure(tmp_path, monkeypatch):
    import linviz.data.folders as folders

    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        for i in range(4):
            (tmp_path / cls / f"{i}.png").write_bytes(PNG)
    monkeypatch.setattr(folders, "memory_limit", lambda: 3 * 32 * 32 * 3)
    monkeypatch.setattr(folders, "_MAX_PREALLOCATED_BYTES", 1)
    with pytest.raises(DatasetError,
                       match=r"too many images to hold: .* need .* more than half of this machine's memory"):
        load_dataset(tmp_path)


# --------------------------------------------------------------------------- decompression bombs


ZEROS = bytes(16 << 20)


def _tar_gz_of_zero_members(path, n_members, member_size, deflate):
    """A .tar.gz of ``n_members`` PNG-named members of ``member_size`` zero bytes each (a gzip
    stream written by hand: header, ``deflate``'s segments, crc and size)."""
    crc, size = 0, 0
    with open(path, "wb") as out:
        out.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")

        def put(data):
            nonlocal crc, size
            crc = zlib.crc32(data, crc)
            size += len(data)
            out.write(deflate.compress(data))

        for i in range(n_members):
            info = tarfile.TarInfo(f"c{i % 2}/{i}.png")
            info.size = member_size
            put(info.tobuf(tarfile.USTAR_FORMAT))
            for start in range(0, member_size, len(ZEROS)):
                put(ZEROS[: min(len(ZEROS), member_size - start)])
            put(bytes(-member_size % 512))
        put(bytes(1024))
        out.write(deflate.flush())
        out.write(struct.pack("<LL", crc, size & 0xFFFFFFFF))
    return path


def test_a_tar_gz_bomb_is_refused_in_bounded_memory_and_linear_time(tmp_path, run_refusal, zip_bombs):
    """2.9 MB of tar.gz, 12 members of 250 MB of zeros (each under the member cap): before,
    273 s and 3.2 GB (a quadratic buffer, every member held at once); now refused once the
    decompressed bytes pass the archive's budget, under 2 GB (of which 512 MB are the
    preallocated output and two members of 250 MB are in flight)."""
    target = _tar_gz_of_zero_members(tmp_path / "bomb.tar.gz", 12, 250 * 2**20, zip_bombs.deflate())
    assert target.stat().st_size < 5 * 2**20
    result = run_refusal(f"load_dataset({str(target)!r})", memory_gb=2,
                         env={"LINVIZ_CACHE_DIR": str(tmp_path / "cache")}, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"{target}: decompresses to more than 1.0 GiB"), result.stdout
    assert "times its" in result.stdout and "decompression bomb" in result.stdout


@pytest.mark.slow  # writes and reads archives of hundreds of megabytes
def test_a_zip_bomb_is_refused_from_its_declared_sizes(tmp_path, zip_bombs):
    target = tmp_path / "bomb.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        with zip_bombs():
            for i in range(12):
                with zf.open(f"c{i % 2}/{i}.png", "w", force_zip64=True) as member:
                    for _ in range(250 * 2**20 // len(ZEROS)):
                        member.write(ZEROS)
    assert target.stat().st_size < 5 * 2**20
    with pytest.raises(DatasetError, match=r"decompresses to more than 1\.0 GiB.*decompression bomb"):
        load_dataset(target)


def test_the_budget_grows_with_the_archive():
    from linviz.limits import ARCHIVE_EXPANSION, decompression_budget

    assert decompression_budget(3 * 2**20) == 2**30  # small archives: the floor
    assert decompression_budget(100 * 2**20) == ARCHIVE_EXPANSION * 100 * 2**20


def test_big_members_within_the_budget_load(tmp_path, monkeypatch):
    """Members several blocks long are sliced out whole (the buffer grows and shrinks without
    copying what it holds over and over)."""
    import linviz.data.archives as archives

    monkeypatch.setattr(archives.TarSource, "BLOCK", 4096)
    rng = __import__("numpy").random.default_rng(0)
    big = encode(Image.fromarray(rng.integers(0, 255, (300, 300, 3), dtype="uint8")), "PNG")
    assert len(big) > 20 * 4096
    target = tmp_path / "big.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        for name, data in (("a/1.png", big), ("a/2.png", PNG), ("b/1.png", big), ("b/2.png", PNG)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    dataset = load_dataset(target, image_size=16)
    assert len(dataset.train) == 4 and dataset.skipped == []
