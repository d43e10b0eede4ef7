"""A "Your classes" project is an ordinary class-per-folder image folder: its file operations,
names, splits and refusals, without a display."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from linviz.data import load_dataset
from linviz.workbench.class_project import (MIN_IMAGES_TO_VALIDATE, ClassProject, ClassProjectError, auto_split,
                                            check_name, list_projects, projects_root, validation_note, why_untrainable)


def write_png(path, color, size=(40, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, color).save(path)
    return path


@pytest.fixture
def pictures(tmp_path):
    """Image files outside any project: 4 red, 4 blue, a broken one and a text file."""
    folder = tmp_path / "pictures"
    for k in range(4):
        write_png(folder / "red" / f"r{k}.png", (200 + k, 20, 20))
        write_png(folder / "blue" / f"b{k}.png", (20, 20, 200 + k))
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("hello")
    return folder


def test_a_new_project_lives_in_the_data_folder_and_is_an_image_folder(pictures):
    project = ClassProject.create("fruit", classes=["apple", "banana"])
    assert project.root.parent == projects_root()
    assert project.classes() == ["apple", "banana"]
    added = project.add_files("apple", sorted((pictures / "red").iterdir()))
    assert len(added.added) == 4 and not added.skipped
    assert all(p.parent == project.root / "apple" and p.is_file() for p in added.added)
    assert [t.shape for t in added.thumbnails] == [(96, 96, 3)] * 4
    project.add_files("banana", [pictures / "blue"])  # a folder: its images
    assert project.counts() == {"apple": 4, "banana": 4}
    assert project.root in list_projects()

    dataset = load_dataset(project.root)  # the loader reads it like any image folder
    assert dataset.class_names == ["apple", "banana"]
    assert np.bincount(dataset.train.labels).tolist() == [4, 4]
    red = dataset.train.images[dataset.train.labels == 0]
    assert red[..., 0].mean() > 150 and red[..., 2].mean() < 60  # the red pictures are apples


def test_unreadable_files_are_skipped_with_the_reason_and_never_written(tmp_path, pictures):
    project = ClassProject.create("p", parent=tmp_path, classes=["a", "b"])
    result = project.add_files("a", [pictures / "broken.jpg", pictures / "notes.txt", pictures / "missing.png",
                                     pictures / "red" / "r0.png"])
    assert [p.name for p in result.added] == ["r0.png"]
    reasons = dict((os.path.basename(p), r) for p, r in result.skipped)
    assert set(reasons) == {"broken.jpg", "notes.txt", "missing.png"}
    assert "no such file" in reasons["missing.png"]
    assert sorted(p.name for p in (project.root / "a").iterdir()) == ["r0.png"]  # nothing else, no temporaries


def test_a_fifo_is_skipped_not_opened(tmp_path, call_near_fifo):
    project = ClassProject.create("p", parent=tmp_path, classes=["a", "b"])
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    result = call_near_fifo(fifo, project.add_files, "a", [fifo])
    assert not result.added and "named pipe" in result.skipped[0][1]


def test_names_are_kept_unique_and_given_an_image_extension(tmp_path, pictures):
    project = ClassProject.create("p", parent=tmp_path, classes=["a", "b"])
    first = project.add_files("a", [pictures / "red" / "r0.png"]).added[0]
    second = project.add_files("a", [pictures / "red" / "r0.png"]).added[0]  # the same file again: a copy
    assert (first.name, second.name) == ("r0.png", "r0-2.png")
    no_extension = tmp_path / "photo"
    no_extension.write_bytes((pictures / "blue" / "b0.png").read_bytes())
    third = project.add_files("b", [no_extension]).added[0]
    assert third.name == "photo.png"  # the loader only reads files with an image extension
    pasted, thumbnail = project.add_image_bytes("b", (pictures / "blue" / "b1.png").read_bytes(), "pasted")
    assert pasted.name == "pasted.png" and thumbnail.dtype == np.uint8
    assert project.add_files("a", [first]).skipped[0][1] == "already in a"


def test_remove_move_rename_delete(tmp_path, pictures):
    project = ClassProject.create("p", parent=tmp_path, classes=["a", "b"])
    images = project.add_files("a", [pictures / "red"]).added
    moved = project.move_image(images[0], "b")
    assert moved.parent.name == "b" and not images[0].exists()
    project.remove_image(images[1])
    assert project.counts() == {"a": 2, "b": 1}
    assert project.rename_class("a", "apple") == "apple"
    assert project.counts() == {"apple": 2, "b": 1}
    assert project.delete_class("b") == 1
    assert project.classes() == ["apple"]
    with pytest.raises(ClassProjectError, match="no class 'b'"):
        project.add_files("b", [pictures / "red"])
    with pytest.raises(ClassProjectError, match="not an image of"):
        project.remove_image(pictures / "red" / "r0.png")  # never a file outside the project
    assert (pictures / "red" / "r0.png").exists()


def test_class_names_that_cannot_be_folders_or_would_change_the_layout_are_refused(tmp_path):
    project = ClassProject.create("p", parent=tmp_path, classes=["cat"])
    for bad, reason in (("", "empty"), ("  ", "empty"), ("a/b", "characters"), ("..", "dot"), (".hidden", "dot"),
                        ("train", "split"), ("Test", "split"), ("validation", "split"), ("x\x1b[31m", "characters"),
                        ("n" * 81, "longer"), ("CAT", "already has")):
        with pytest.raises(ClassProjectError, match=reason):
            project.add_class(bad)
    assert check_name("  dog  ") == "dog"
    assert project.add_class("chat noir é") == "chat noir é"
    with pytest.raises(ClassProjectError, match="already has"):
        project.rename_class("cat", "Chat Noir É")
    with pytest.raises(ClassProjectError, match="already exists"):
        ClassProject.create("p", parent=tmp_path)


def test_a_folder_with_splits_or_a_file_is_not_a_project(tmp_path):
    (tmp_path / "ds" / "train" / "cat").mkdir(parents=True)
    with pytest.raises(ClassProjectError, match="train/ folder"):
        ClassProject.open(tmp_path / "ds")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ClassProjectError, match="not a folder"):
        ClassProject.open(tmp_path / "file")
    with pytest.raises(ClassProjectError, match="no such folder"):
        ClassProject.open(tmp_path / "gone")


def test_a_link_to_a_folder_is_not_a_class(tmp_path):
    project = ClassProject.create("p", parent=tmp_path, classes=["a"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    os.symlink(outside, project.root / "linked")
    assert project.classes() == ["a"]
    with pytest.raises(ClassProjectError):
        project.delete_class("linked")
    assert (outside / "keep.txt").exists()


def test_splits_validate_only_with_enough_images_in_every_class():
    assert auto_split({"a": 10, "b": 10, "c": 10}).val_size == 6
    assert auto_split({"a": 10, "b": MIN_IMAGES_TO_VALIDATE}).val_size == 3
    assert auto_split({"a": 10, "b": MIN_IMAGES_TO_VALIDATE - 1}).val_size == 0
    assert auto_split({"a": 10, "b": 0}).val_size == 2  # an empty class is not trained on at all
    assert validation_note({"a": 10, "b": 10}) is None
    assert "cannot validate" in validation_note({"a": 10, "b": 3}) and "b (3)" in validation_note({"a": 10, "b": 3})


def test_why_untrainable():
    assert "at least two" in why_untrainable({})
    assert "at least two" in why_untrainable({"a": 3})
    assert "Add images to b" in why_untrainable({"a": 3, "b": 0})
    assert why_untrainable({"a": 1, "b": 1}) is None


def test_a_half_written_image_of_a_stopped_writer_goes_when_the_project_opens(tmp_path, pictures):
    from linviz.workbench.class_project import TEMPORARY_PREFIX

    project = ClassProject.create("p", parent=tmp_path, classes=["a"])
    project.add_files("a", [pictures / "red" / "r0.png"])
    dead = project.root / "a" / f"{TEMPORARY_PREFIX}999999999-abcd.tmp"  # no such process
    dead.write_bytes(b"half an image")
    mine = project.root / "a" / ".my-notes"
    mine.write_text("kept")
    ClassProject.open(project.root)
    assert not dead.exists() and mine.exists()
    assert [p.name for p in project.images("a")] == ["r0.png"]
