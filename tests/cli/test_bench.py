"""``python main.py bench``: bad arguments exit 2 with one line, before any benchmark runs."""

from __future__ import annotations

import pytest

from linviz.bench import runner as bench
from linviz.cli import main


@pytest.fixture
def no_sections(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a benchmark ran despite bad arguments")
    for name in ("bench_load", "bench_features", "bench_study", "bench_sgd", "bench_e2e", "bench_gui", "bench_knn",
                 "bench_words"):
        monkeypatch.setattr(bench, name, refuse)


@pytest.mark.parametrize("kind", ["text", "missing", "folder", "gzip_of_text"])
def test_bad_data_exits_2_with_one_line(tmp_path, capsys, no_sections, kind):
    import gzip

    data = tmp_path / "data.tar.gz"
    if kind == "text":
        data = tmp_path / "notes.txt"
        data.write_text("hello")
    elif kind == "folder":
        data.mkdir()
    elif kind == "gzip_of_text":
        data.write_bytes(gzip.compress(b"not a tar archive" * 100))
    code = main(["bench", "--data", str(data), "--only", "load", "--quick"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bench:") and str(data) in lines[0]


def test_unknown_section_exits_2(capsys, no_sections):
    assert main(["bench", "--only", "nonsense"]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1



def test_truncated_archive_exits_2_with_one_line(tmp_path, capsys):
    import io
    import tarfile

    import numpy as np
    from PIL import Image

    archive = tmp_path / "small.tar.gz"
    rng = np.random.default_rng(0)
    with tarfile.open(archive, "w:gz") as tar:
        for i in range(40):
            buffer = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (32, 32, 3)).astype(np.uint8)).save(buffer, "PNG")
            info = tarfile.TarInfo(f"train/{'ab'[i % 2]}/{i}.png")
            info.size = buffer.tell()
            buffer.seek(0)
            tar.addfile(info, buffer)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    code = main(["bench", "--data", str(archive), "--only", "load", "--quick"])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bench:") and str(archive) in lines[0]


def test_the_words_section_measures_what_it_says():
    """The codebook and encoding comparisons on a small sample: the k-means losses are
    computed the same way for linviz and scikit-learn, the ratios are real."""
    import numpy as np

    from linviz.bench import words
    from linviz.features import visual_words as vw

    rng = np.random.default_rng(0)
    images = np.clip(np.cumsum(rng.integers(-20, 21, (60, 32, 32, 3)), axis=1) + 128, 0, 255).astype(np.uint8)
    patches = vw.sample_patches(images, 3000, 6, seed=0)
    mean, whitening = vw.fit_whitening(patches)
    white = (patches - mean) @ whitening
    lines = []
    codebook = words._codebook(white, 20, 3, True, lines.append)
    assert codebook["linviz_loss"] == pytest.approx(vw.kmeans(white, 20, 3, seed=1)[2][-1], rel=0.2)
    assert codebook["speedup_vs_reference"] > 0 and any("NumPy reference" in line for line in lines)
    book = vw.Codebook(6, mean, whitening, codebook["centroids"], np.zeros(20, np.int64), np.zeros(1))
    encoding = words._encoding(images, book, True, lines.append)
    assert encoding["speedup_vs_reference"] > 0 and encoding["output_bytes"] == 60 * 80 * 4
    assert any("beyond the output" in line for line in lines)
