"""The bag of visual words: the kernels against the NumPy reference, k-means, encoding on any
image size and thread count, cancelling, and the ``words`` block in the pipeline."""

import threading

import numpy as np
import pytest

from linviz.errors import Cancelled, LinvizError
from linviz.features import FeaturePipeline, parse_feature_spec
from linviz.features import visual_words as vw
from linviz.features import visual_words_reference as ref

SMALL = "words:k=24:samples=3000:iters=4"


@pytest.fixture(scope="module")
def book(real_images):
    return vw.fit_codebook(real_images, 24, 6, 3000, 4, seed=3)


def test_patches_are_normalized_like_the_reference(real_images):
    patches = vw.sample_patches(real_images, 500, 5, seed=1)
    np.testing.assert_allclose(patches, ref.sample_patches(real_images, 500, 5, seed=1), atol=1e-5)
    assert patches.shape == (500, 75)
    np.testing.assert_allclose(patches.mean(axis=1), 0, atol=1e-5)
    raw = patches.var(axis=1, ddof=1)
    assert np.all(raw < 1) and raw.max() > 0.5  # var / (var + 10): contrast kept, flat patches stay flat


def test_whitening_decorrelates_the_patches(real_images):
    patches = vw.sample_patches(real_images, 4000, 4, seed=0)
    mean, whitening = vw.fit_whitening(patches)
    ref_mean, ref_whitening = ref.whiten(patches)
    np.testing.assert_allclose(mean, ref_mean, atol=1e-6)
    np.testing.assert_allclose(whitening, ref_whitening, rtol=1e-4, atol=1e-4)
    # each principal direction's variance l becomes l / (l + 0.1): the strong ones near 1
    before = np.linalg.eigvalsh(np.cov(patches, rowvar=False))
    after = np.linalg.eigvalsh(np.cov((patches - mean) @ whitening, rowvar=False))
    np.testing.assert_allclose(after, np.sort(before / (before + vw.WHITEN_EPS)), atol=2e-3)
    assert after[-1] > 0.9


def test_kmeans_equals_the_reference_and_its_loss_falls(real_images):
    X = vw.sample_patches(real_images, 3000, 6, seed=2)
    centroids, counts, losses = vw.kmeans(X, 20, 6, seed=5)
    c_ref, n_ref, l_ref = ref.kmeans(X, 20, 6, seed=5)
    np.testing.assert_allclose(centroids, c_ref, atol=1e-4)
    np.testing.assert_array_equal(counts, n_ref)
    np.testing.assert_allclose(losses, l_ref, rtol=1e-5)
    assert np.all(np.diff(losses) <= 1e-6) and counts.sum() == 3000
    one = vw.kmeans(X, 20, 6, seed=5, threads=1)
    np.testing.assert_array_equal(one[0], centroids)  # threads change nothing


def test_kmeans_reseeds_a_word_left_without_patches():
    # 2 distinct points, 3 centroids: one centroid starts on a duplicate and loses its patches
    X = np.array([[0, 0]] * 5 + [[10, 10]] * 5, dtype=np.float32)
    centroids, counts, losses = vw.kmeans(X, 3, 3, seed=0, threads=1)
    assert np.isfinite(centroids).all() and losses[-1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(LinvizError, match="at least as many"):
        vw.kmeans(X, 11, 1, seed=0)


@pytest.mark.parametrize("stride, pool", [(1, 2), (2, 3), (3, 1)])
def test_encoding_equals_the_reference(book, real_images, stride, pool):
    ours = vw.encode(real_images, book, stride, pool)
    theirs = ref.encode(real_images, book, stride, pool)
    assert ours.shape == (len(real_images), pool * pool * book.k)
    np.testing.assert_allclose(ours, theirs, rtol=2e-4, atol=2e-3)


def test_encoding_any_image_size_in_bands(book, odd_sized_images, real_images):
    from PIL import Image

    for images in (odd_sized_images[(37, 29)], odd_sized_images[(19, 23)]):
        np.testing.assert_allclose(vw.encode(images, book, 1, 2), ref.encode(images, book, 1, 2), rtol=2e-4, atol=2e-3)
    # 64x64: 3,481 patches an image, more than one product holds: encoded in bands of rows
    big = np.stack([np.asarray(Image.fromarray(img).resize((64, 64))) for img in real_images[:3]])
    np.testing.assert_allclose(vw.encode(big, book, 1, 2), ref.encode(big, book, 1, 2), rtol=2e-4, atol=5e-3)


def test_threads_and_batches_do_not_change_the_bits(book, real_images):
    many = np.ascontiguousarray(np.concatenate([real_images] * 3))
    two = vw.encode(many, book, 1, 2, threads=2)
    np.testing.assert_array_equal(two, vw.encode(many, book, 1, 2, threads=1))
    np.testing.assert_array_equal(two, vw.encode(many, book, 1, 2, threads=2))
    # written into a column slice of a larger matrix, as the pipeline does
    wide = np.full((len(many), 5 + two.shape[1] + 2), -1.0, np.float32)
    vw.encode(many, book, 1, 2, out=wide[:, 5:-2])
    np.testing.assert_array_equal(wide[:, 5:-2], two)
    assert np.all(wide[:, :5] == -1) and np.all(wide[:, -2:] == -1)


def test_where_each_word_fires_adds_up_to_the_pooled_features(book, real_images):
    maps = vw.activation_maps(real_images[4], book, 1)
    assert maps.shape == (27, 27, book.k) and maps.min() >= 0
    pooled = vw.encode(real_images[4:5], book, 1, 2).reshape(2, 2, book.k)
    np.testing.assert_allclose(maps[:14, :14].sum(axis=(0, 1)), pooled[0, 0], rtol=1e-5)
    np.testing.assert_allclose(maps[14:, 14:].sum(axis=(0, 1)), pooled[1, 1], rtol=1e-5)
    # each patch: about half of the words fire (closer than the mean distance)
    assert 0.2 < np.mean(maps > 0) < 0.8


def test_encoding_and_fitting_can_be_cancelled(book, real_images):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        vw.encode(np.concatenate([real_images] * 4), book, 1, 2, cancel=stop)
    with pytest.raises(Cancelled):
        vw.fit_codebook(real_images, 8, 6, 2000, 3, seed=0, cancel=stop)
    calls = []
    vw.fit_codebook(real_images, 8, 6, 2000, 3, seed=0, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 3) and calls[-1] == (3, 3)


def test_the_fit_is_deterministic_from_the_seed(real_images):
    a = vw.fit_codebook(real_images, 10, 6, 2000, 3, seed=7)
    b = vw.fit_codebook(real_images, 10, 6, 2000, 3, seed=7)
    c = vw.fit_codebook(real_images, 10, 6, 2000, 3, seed=8)
    np.testing.assert_array_equal(a.centroids, b.centroids)
    assert not np.array_equal(a.centroids, c.centroids)


def test_unwhitened_words_look_like_patches(book):
    patches = vw.unwhitened_patches(book)
    assert patches.shape == (book.k, 6, 6, 3)
    # undoing the whitening recovers normalized patches: zero mean, modest contrast
    np.testing.assert_allclose(patches.reshape(book.k, -1).mean(axis=1), 0, atol=0.05)


# --------------------------------------------------------------------------- the block


def test_the_words_block_in_the_pipeline(real_images):
    spec = parse_feature_spec(SMALL)
    assert str(spec) == "words:k=24:patch=6:stride=1:pool=2:samples=3000:iters=4:whiten=1:sqrt=1"
    train, test = real_images[:16], real_images[16:]
    p = FeaturePipeline(spec, seed=1)
    Z = p.fit_transform(train)
    block = p.blocks[0]
    assert block.shape == (2, 2, 24) and block.params["grid"] == (27, 27) and Z.shape == (16, 97)
    state = p.state_of(block)
    book = vw.Codebook(6, state["mean"], state["whitening"], state["codebook"], state["counts"], state["losses"])
    # the pooled sums, square-rooted (power normalization); sqrt=0 gives the sums themselves
    np.testing.assert_array_equal(p.extract(test), np.sqrt(vw.encode(test, book, 1, 2)))
    plain = FeaturePipeline(SMALL + ":sqrt=0", seed=1)
    plain.fit_blocks(train)
    np.testing.assert_array_equal(plain.extract(test), vw.encode(test, book, 1, 2))
    # the codebook came from the training images only, with the pipeline's seed
    expected = vw.fit_codebook(train, 24, 6, 3000, 4, seed=1)
    np.testing.assert_array_equal(state["codebook"], expected.centroids)
    # each column is standardized on its own
    np.testing.assert_allclose(Z[:, :-1].std(axis=0)[Z[:, :-1].std(axis=0) > 0], 1.0, rtol=1e-3)


def test_words_specs_that_cannot_work_are_refused():
    with pytest.raises(LinvizError, match="fewer than k"):
        FeaturePipeline("words:k=2000:samples=1000").blocks_for((32, 32))
    with pytest.raises(LinvizError, match="do not fit"):
        FeaturePipeline("words:patch=16").blocks_for((8, 8))
    with pytest.raises(LinvizError, match="pool"):
        FeaturePipeline("words:patch=6:stride=16:pool=4").blocks_for((32, 32))
    with pytest.raises(LinvizError, match="between"):
        parse_feature_spec("words:k=1")


def test_words_evidence_and_templates(real_images):
    from linviz.explore.evidence import evidence
    from linviz.workbench.template_pictures import template_rows, templates_caption

    p = FeaturePipeline(SMALL + ",hue")
    X = p.fit_transform(real_images)
    W = np.random.default_rng(0).normal(size=(p.dim + 1, 4))
    ev = evidence(W[:, 1], X[2], p)
    words = ev.blocks[0]
    assert words.values.shape == (2, 2) and words.over_image
    assert sum(v for _, v in words.parts) == pytest.approx(words.total) == pytest.approx(float(words.values.sum()))
    assert abs(words.parts[0][1]) >= abs(words.parts[-1][1]) and len(words.parts) == 24
    assert ev.score == pytest.approx(float(X[2] @ W[:, 1]))
    rows = template_rows(W, p)
    assert rows[0][0] == "words 24" and rows[0][1][0].shape == (64, 64, 3)
    assert "visual words" in templates_caption(p)


def test_a_words_model_predicts_in_a_fresh_pipeline_without_refitting(real_images, tmp_path, monkeypatch):
    from linviz.features.blocks import words as words_block
    from linviz.models.model_file import load_model, save_model

    p = FeaturePipeline(SMALL, seed=2)
    X = p.fit_transform(real_images)
    W = np.random.default_rng(1).normal(size=(p.dim + 1, 3)).astype(np.float32)
    path = save_model(tmp_path / "words.npz", W=W, class_names=["a", "b", "c"], pipeline=p, loss="svm")
    monkeypatch.setattr(words_block, "fit_codebook", lambda *a, **k: pytest.fail("a loaded model refitted"))
    model = load_model(path)
    np.testing.assert_array_equal(model.pipeline.transform(real_images), X)  # the same features, bit for bit
    np.testing.assert_array_equal(model.scores_of_images(real_images), model.decision_function(X))
