"""TrainingConfig refuses NaN and out-of-range numbers itself (GUI settings, scripts, the CLI)."""

import math

import pytest

from linviz.training import TrainingConfig


@pytest.mark.parametrize("field,value", [
    ("momentum", math.nan), ("momentum", 1.0), ("momentum", -0.1),
    ("adam_beta1", math.nan), ("adam_beta2", 1.0), ("smoothing", math.inf),
    ("weights_interval", math.nan), ("chunk_seconds", -1.0), ("divergence_factor", math.nan),
    ("divergence_factor", 0.5), ("seed", -1), ("seed", 2**64), ("seed", 1.5),
])
def test_nan_and_out_of_range_values_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        TrainingConfig(**{field: value})


def test_the_defaults_and_edges_are_fine():
    TrainingConfig(momentum=0.0, seed=0, smoothing=0.0, chunk_seconds=0.0)
    TrainingConfig(momentum=0.99, seed=2**63 - 1)


def test_every_number_of_the_config_has_one_bound_for_everyone():
    """linviz.limits.TRAINING_SETTINGS is what TrainingConfig, the run store, model files, the
    CLI and the window check: a new number field needs its bound there."""
    import dataclasses

    from linviz.limits import TRAINING_SETTINGS

    config = TrainingConfig()
    numbers = {f.name for f in dataclasses.fields(TrainingConfig)
               if f.name == "early_stopping" or (isinstance(getattr(config, f.name), (int, float))
                                                 and not isinstance(getattr(config, f.name), bool))}
    assert numbers == set(TRAINING_SETTINGS)
    for name, bound in TRAINING_SETTINGS.items():
        with pytest.raises(ValueError, match=name):
            TrainingConfig(**{name: bound.hi * 10 + 1 if bound.whole else bound.hi * 10})
