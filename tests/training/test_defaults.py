"""recommended_settings: the one-click settings per feature set, loss and optimizer."""

import pytest

from linviz.errors import LinvizError
from linviz.features import parse_feature_spec
from linviz.training import TrainingConfig, recommended_settings
from linviz.training.defaults import SETTINGS


def test_learning_rate_follows_the_pixel_columns():
    # raw pixels (3,072 strongly correlated columns) need a 10x smaller step than HOG features
    assert recommended_settings("raw")["learning_rate"] == pytest.approx(0.0098)
    assert recommended_settings("raw16")["learning_rate"] == pytest.approx(0.039)
    assert recommended_settings("raw:gray=1", image_shape=(32, 32))["learning_rate"] == pytest.approx(0.029)
    for spec in ("best", "hog+hue", "color", "hog", "hog:cell=4,hue"):
        assert recommended_settings(spec)["learning_rate"] == 0.1, spec
    # a spec object works as well as its text; larger images have more pixel columns
    assert recommended_settings(parse_feature_spec("raw")) == recommended_settings("raw")
    assert recommended_settings("raw", image_shape=(64, 64))["learning_rate"] < 0.003


def test_sgd_settings_anneal_over_ten_epochs():
    s = recommended_settings("best", "softmax", "sgd")
    assert s == {"learning_rate": 0.1, "lr_decay": 0.8, "epochs": 10, "batch_size": 200, "momentum": 0.9,
                 "reg": 1e-3, "search_step": 1e-2, "search_sample": 1000}
    assert set(s) == set(SETTINGS)


def test_learned_features_train_longer():
    # visual words: SGD at 10 epochs is still climbing (validation accuracy rising at the last
    # epoch, and still gaining after 50); 100 epochs annealed at 0.964 an epoch
    for spec in ("words", "words-quick", "hue,words:k=64"):
        s = recommended_settings(spec, "softmax", "sgd")
        assert (s["epochs"], s["lr_decay"], s["learning_rate"], s["reg"]) == (100, 0.964, 0.1, 1e-3), spec
    assert recommended_settings("words", "softmax", "gd")["epochs"] == 100  # one step an epoch: as before
    assert recommended_settings("best")["epochs"] == 10


def test_loss_and_optimizer_scale_the_step():
    assert recommended_settings("best", "svm")["learning_rate"] == pytest.approx(0.03)
    for name in ("momentum", "nesterov"):
        assert recommended_settings("best", "softmax", name)["learning_rate"] == pytest.approx(0.01)
    assert recommended_settings("raw", "softmax", "adam")["learning_rate"] == 1e-3
    assert recommended_settings("best", "softmax", "adam")["learning_rate"] == 1e-3
    gd = recommended_settings("best", "softmax", "gd")
    assert gd["epochs"] == 100 and gd["lr_decay"] == 0.99 and gd["learning_rate"] == pytest.approx(0.3)
    for name in ("random_search", "random_local_search"):
        search = recommended_settings("hog+hue", "svm", name)
        assert search["search_sample"] == 0 and search["epochs"] == 1


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "gd", "random_search",
                                       "random_local_search"])
@pytest.mark.parametrize("loss", ["svm", "softmax"])
@pytest.mark.parametrize("features", ["raw", "best", "hog+hue"])
def test_every_recommendation_is_a_valid_config(features, loss, optimizer):
    TrainingConfig(loss=loss, optimizer=optimizer, **recommended_settings(features, loss, optimizer))


def test_bad_arguments():
    with pytest.raises(ValueError, match="loss"):
        recommended_settings("best", "knn")
    with pytest.raises(ValueError, match="optimizer"):
        recommended_settings("best", "softmax", "lbfgs")
    with pytest.raises(LinvizError):
        recommended_settings("nonsense")


def test_warm_up_loads_the_kernels_of_a_run_and_keeps_nothing():
    from linviz.features import FEATURE_CACHE
    from linviz.training import warm_up_kernels

    FEATURE_CACHE.clear()
    for optimizer in ("sgd", "gd", "random_local_search"):
        config = TrainingConfig(optimizer=optimizer, **recommended_settings("hog+hue", "svm", optimizer))
        assert warm_up_kernels("hog+hue", config, image_shape=(16, 16)) > 0
    assert warm_up_kernels("raw:size=8") > 0
    assert not FEATURE_CACHE._items
