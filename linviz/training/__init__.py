"""linviz.training: optimizers, the training loop as a generator of snapshots, gradient check,
and ``LinearClassifier``, the scikit-learn-shaped estimator that runs the loop.

Nothing here imports Qt: the GUI runs :func:`train` in a worker thread.
"""

from linviz.training.defaults import recommended_settings
from linviz.training.numerical_gradient import GradientCheckResult, StepSweep, gradient_check, step_sweep
from linviz.training.linear_classifier import LinearClassifier
from linviz.training.loop import Snapshot, TrainingConfig, TrainingControl, accuracy, run_to_end, train
from linviz.training.optimizers import (
    OPTIMIZERS,
    SGD,
    OptimizerSpec,
    Adam,
    Momentum,
    Nesterov,
    RandomLocalSearch,
    RandomSearch,
    make_optimizer,
    optimizer_named,
    random_local_search,
    random_search,
)
from linviz.training.warmup import warm_up_kernels

__all__ = [
    "Adam", "GradientCheckResult", "LinearClassifier", "Momentum", "Nesterov", "OPTIMIZERS", "OptimizerSpec",
    "RandomLocalSearch", "RandomSearch", "SGD", "Snapshot", "StepSweep", "TrainingConfig", "TrainingControl",
    "accuracy", "gradient_check", "make_optimizer", "optimizer_named", "random_local_search", "random_search",
    "recommended_settings", "run_to_end", "step_sweep", "train", "warm_up_kernels",
]
