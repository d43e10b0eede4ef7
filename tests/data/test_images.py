"""read_image / decode_image: every format and mode to uint8 RGB, broken files named."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from data_testfiles import broken_files, encode, exif_rotated_jpeg, gradient, mixed_good_files
from linviz.data import image_files_in, read_image
from linviz.data.images import ImageDecodeError, decode_image, decode_images_into
from linviz.errors import DatasetError


@pytest.mark.parametrize("name", sorted(mixed_good_files()))
def test_every_format_and_mode_becomes_rgb(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(mixed_good_files()[name])
    image = read_image(path, image_size=24)
    assert image.shape == (24, 24, 3) and image.dtype == np.uint8 and image.flags.c_contiguous


def test_16_bit_gray_is_scaled_not_clipped(tmp_path):
    ramp = (np.linspace(0, 65535, 32 * 32).reshape(32, 32)).astype(np.uint16)
    path = tmp_path / "ramp.png"
    Image.fromarray(ramp).save(path)
    image = read_image(path, image_size=32).astype(int)
    assert image[0, 0, 0] < 5 and image[-1, -1, 0] > 250  # the full range survives
    assert 100 < image[16, 16, 0] < 160


def test_exif_orientation_is_applied():
    image = decode_image(exif_rotated_jpeg(), image_size=20)
    # Stored as 40 wide x 20 high, red left / blue right; rotated 90 degrees clockwise for
    # display, so red ends up on top and blue at the bottom.
    assert image[1, 10, 0] > 200 and image[1, 10, 2] < 60
    assert image[-2, 10, 2] > 200 and image[-2, 10, 0] < 60


def test_alpha_is_composited_over_white():
    rgba = np.zeros((8, 8, 4), np.uint8)  # fully transparent black
    image = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"), image_size=8)
    assert (image == 255).all()


def test_cmyk_jpeg_keeps_its_colors():
    red = Image.new("RGB", (32, 32), (220, 30, 30)).convert("CMYK")
    image = decode_image(encode(red, "JPEG", quality=95), image_size=32).astype(int)
    assert abs(image[..., 0].mean() - 220) < 12 and image[..., 1].mean() < 60


def test_non_square_is_center_cropped():
    pixels = np.zeros((10, 30, 3), np.uint8)
    pixels[:, 10:20] = 255  # only the middle third is white
    image = decode_image(encode(Image.fromarray(pixels), "PNG"), image_size=10)
    assert image.min() > 200


def test_fast_jpeg_path_matches_pillow():
    data = encode(Image.fromarray(gradient(32, 32, 7)), "JPEG", quality=80)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert np.array_equal(decode_image(data, 32), expected)
    out = np.empty((3, 32, 32, 3), np.uint8)
    reasons = decode_images_into([data, data[:200], b""], lambda d: d, out, 32)
    assert reasons[0] is None and np.array_equal(out[0], expected)
    assert "truncated" in reasons[1] and reasons[2] == "empty file"


@pytest.mark.parametrize("name", sorted(broken_files()))
def test_broken_files_raise_naming_file_and_reason(name, tmp_path):
    data, word = broken_files()[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DatasetError) as info:
        read_image(path)
    assert str(path) in str(info.value) and word in str(info.value)


def test_bomb_is_refused_before_decoding():
    from data_testfiles import png_bomb

    with pytest.raises(ImageDecodeError, match="bomb"):
        decode_image(png_bomb(20_000, 20_000))  # 400 MP: over the limit, never allocated


def test_read_image_missing_folder_and_file_object(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(DatasetError, match="is a folder"):
        read_image(tmp_path)
    with open(tmp_path / "x.png", "wb") as f:
        f.write(encode(Image.fromarray(gradient(16, 16)), "PNG"))
    with open(tmp_path / "x.png", "rb") as f:
        assert read_image(f, image_size=16).shape == (16, 16, 3)


def test_image_files_in_expands_folders_and_skips_junk(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    png = encode(Image.fromarray(gradient(8, 8)), "PNG")
    (tmp_path / "d" / "b.png").write_bytes(png)
    (tmp_path / "d" / "sub" / "a.jpg").write_bytes(png)
    (tmp_path / "d" / ".hidden.png").write_bytes(png)
    (tmp_path / "d" / "readme.txt").write_text("x")
    (tmp_path / "single.dat").write_bytes(png)
    files, skipped = image_files_in([tmp_path / "d", tmp_path / "single.dat", tmp_path / "missing.png"])
    names = [f.name for f in files]
    assert names == ["b.png", "a.jpg", "single.dat"]
    reasons = dict(skipped)
    assert "not an image" in reasons[str(tmp_path / "d" / "readme.txt")]
    assert "no such file" in reasons[str(tmp_path / "missing.png")]
    assert read_image(files[-1], 8).shape == (8, 8, 3)  # named explicitly: judged by content
