"""Features do not depend on how many threads compute them (linviz.kernel_threads): a batch
is cut into pieces of a fixed size, whatever the number of threads, and reductions are summed
in piece order. Each preset's features of a batch of several pieces, and their standardized
form, must be the same bits on 1 and 3 threads."""

import numpy as np
import pytest

from linviz import kernel_threads
from linviz.features import FeaturePipeline
from linviz.features.spec import PRESETS, FeatureItem, FeatureSpec, parse_feature_spec


SMALL_WORDS = {"k": 32, "samples": 20_000}


def _spec(preset: str) -> FeatureSpec:
    """The preset, with a small words codebook: its size changes nothing in how a batch is cut
    into pieces, and fitting and encoding 1,600 words twice took most of a minute."""
    return FeatureSpec(tuple(
        FeatureItem(item.name, tuple((key, SMALL_WORDS.get(key, value) if item.name == "words" else value)
                                     for key, value in item.params))
        for item in parse_feature_spec(preset).items))


@pytest.fixture(scope="module")
def many_images(real_images):
    rng = np.random.default_rng(7)
    # several pieces of images (512 each) and two of standardized rows (2048 each), the last
    # ones short; noisy copies so that pieces differ
    batch = np.concatenate([real_images] * 180)[:2100].astype(np.int16)
    batch[::3] += rng.integers(-20, 21, size=batch[::3].shape, dtype=np.int16)
    return np.ascontiguousarray(np.clip(batch, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_features_are_the_same_bits_on_any_number_of_threads(preset, many_images, monkeypatch):
    results = []
    for threads in (1, 3):
        monkeypatch.setattr(kernel_threads, "THREADS", threads)
        results.append(FeaturePipeline(_spec(preset)).fit_transform(many_images))
    for other in results[1:]:
        np.testing.assert_array_equal(other, results[0])


def test_run_pieces_does_every_piece_once_and_raises_a_pieces_error():
    parts = kernel_threads.pieces(10, 3)
    assert parts == [(0, 3), (3, 6), (6, 9), (9, 10)]
    done = []
    kernel_threads.run_pieces(parts, lambda k, start, stop: done.append((k, start, stop)), threads=3)
    assert sorted(done) == [(k, *p) for k, p in enumerate(parts)]

    def fail_on_third(k, start, stop):
        if k == 2:
            raise ValueError("piece 2")

    with pytest.raises(ValueError, match="piece 2"):
        kernel_threads.run_pieces(parts, fail_on_third, threads=2)
