"""python main.py features: dims per block, timing, JSON, exit code 2 on bad input."""

import json

from linviz.cli import main


def test_features_json_on_the_demo_set(capsys):
    assert main(["features", "demo", "--features", "hog+hue", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dims"] == 154
    assert [b["dims"] for b in out["blocks"]] == [144, 10]
    assert [b["kind"] for b in out["blocks"]] == ["hog", "hist"]
    assert out["splits"]["train"]["shape"][1] == 154
    assert out["images"] > 0 and out["images_per_second"] > 0 and out["seconds"] > 0


def test_features_text(capsys):
    assert main(["features", "demo", "--features", "hog:cell=4:block=2,layout"]) == 0
    out = capsys.readouterr().out
    assert "1764" in out and "images/s" in out and "layout" in out


def test_bad_spec_exits_2_with_one_line(capsys):
    assert main(["features", "demo", "--features", "hog:cell=x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hog:cell" in err[0]


def test_missing_source_exits_2(capsys, tmp_path):
    assert main(["features", str(tmp_path / "nope"), "--json"]) == 2
    assert capsys.readouterr().out == ""


def test_words_learn_from_the_training_split_then_extract(capsys):
    spec = "words:k=16:samples=2000:iters=2:pool=3"
    assert main(["features", "demo", "--features", spec, "--seed", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dims"] == 3 * 3 * 16 and [b["kind"] for b in out["blocks"]] == ["words"]
    assert out["blocks"][0]["shape"] == [3, 3, 16]
    learning = out["learning"]
    assert learning["blocks"] == [out["spec"]] and learning["images"] == out["splits"]["train"]["images"]
    assert learning["seconds"] > 0


def test_the_help_lists_every_block_from_its_declaration(capsys):
    from linviz.features.blocks import block_types

    assert main(["features", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the help wraps long lines for the terminal
    for kind in block_types():
        assert f"{kind.name}: {kind.summary}" in out
        assert all(" ".join(p.describe().split()) in out for p in kind.params)
