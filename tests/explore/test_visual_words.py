"""The visual words lab's computations: the codebook's pictures and orders, where each word
fires (checked against the encoder), the firing picture."""

import numpy as np
import pytest

from linviz.data import make_demo_dataset
from linviz.explore.visual_words import codebook_pictures, firing_picture, where_words_fire, words_blocks
from linviz.features import FeaturePipeline
from linviz.features import visual_words as vw


@pytest.fixture(scope="module")
def fitted():
    images = make_demo_dataset().train.images[:200]
    pipeline = FeaturePipeline("hue,words:k=20:samples=3000:iters=3:stride=2", seed=4)
    pipeline.fit_transform(images)
    return pipeline, images


def test_the_codebook_as_pictures_and_its_orders(fitted):
    pipeline, images = fitted
    assert [b.feature for b in words_blocks(pipeline)] == ["words"]
    block = words_blocks(pipeline)[0]
    book = codebook_pictures(pipeline, block)
    assert book.pictures.shape == (20, 6, 6, 3) and book.pictures.dtype == np.uint8
    assert book.pictures.reshape(20, -1).max(axis=1).min() == 255  # each word stretched
    # the mean activation per training image, from the standardization's means: check it
    X = pipeline.extract(images)[:, block.start:block.stop].reshape(len(images), 2, 2, 20)
    np.testing.assert_allclose(book.mean_activation, X.sum(axis=(1, 2)).mean(axis=0), rtol=1e-4)
    assert np.all(np.diff(book.mean_activation[book.order("activation")]) <= 0)
    assert np.all(np.diff(book.counts[book.order("count")]) <= 0) and book.counts.sum() == 3000
    assert list(book.order("index")) == list(range(20))
    assert "% of the training patches" in book.describe(3)
    with pytest.raises(ValueError):
        book.order("nonsense")
    assert words_blocks(FeaturePipeline("hog")) == [] and words_blocks(None) == []


def test_where_each_word_fires(fitted):
    pipeline, images = fitted
    block = words_blocks(pipeline)[0]
    firing = where_words_fire(images[7], pipeline, block)
    assert firing.maps.shape == (14, 14, 20)  # (32 - 6) // 2 + 1 positions a side at stride 2
    # the pooled features are these activations summed over the quadrants (square-rooted: the
    # block's power normalization)
    assert block.params["sqrt"] == 1
    features = pipeline.extract(images[7:8])[0, block.start:block.stop].reshape(2, 2, 20).astype(np.float64) ** 2
    np.testing.assert_allclose(firing.maps[:7, 7:].sum(axis=(0, 1)), features[0, 1], rtol=1e-5)
    np.testing.assert_allclose(firing.totals, features.sum(axis=(0, 1)), rtol=1e-5)
    assert firing.totals[firing.strongest[0]] == firing.totals.max()
    # per pixel: the mean over the patches covering it
    word = int(firing.strongest[0])
    pixels = firing.pixel_map(word, (32, 32))
    assert pixels.shape == (32, 32) and pixels[0, 0] == pytest.approx(firing.maps[0, 0, word])
    assert pixels[2, 2] == pytest.approx(firing.maps[:2, :2, word].mean())
    assert pixels[31, 31] == pytest.approx(firing.maps[13, 13, word]) and np.all(pixels >= 0)


def test_the_firing_picture_lights_where_the_word_fires():
    image = np.full((8, 8, 3), 100, np.uint8)
    values = np.zeros((8, 8), np.float32)
    values[2:4, 2:4] = 3.0
    picture = firing_picture(image, values)
    assert picture.dtype == np.uint8 and picture.shape == (8, 8, 3)
    assert picture[3, 3, 0] > picture[3, 3, 2] and picture[0, 0, 0] < 100  # orange where it fires, dim elsewhere


def test_the_explore_functions_use_the_encoders_codebook(fitted):
    pipeline, images = fitted
    block = words_blocks(pipeline)[0]
    state = pipeline.state_of(block)
    book = vw.Codebook(6, state["mean"], state["whitening"], state["codebook"], state["counts"], state["losses"])
    np.testing.assert_array_equal(where_words_fire(images[0], pipeline, block).maps,
                                  vw.activation_maps(images[0], book, 2))
