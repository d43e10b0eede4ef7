"""Training settings that work in one click, per feature set, loss and optimizer.

One learning rate does not fit every feature set. The features are standardized per block,
but how far a step may go depends on how correlated the columns are: raw pixels (3,072
columns that mostly move together) have a largest covariance eigenvalue of ~1,050, the
``best`` features (2,344 columns, mostly HOG) ~185, the course's HOG + hue ~17. A step that
suits one is 10x too small or too large for the other. One rate for every feature set (0.03,
decay 0.95) leaves raw pixels several points below a tuned scikit-learn LogisticRegression on
the same features; the rule below comes within about a point of it on raw pixels and
``best`` (docs/benchmarks.md, "One-click accuracy", has the figures).

The rule: the learning rate of softmax SGD is ``min(0.1, 30 / P)``, P being
the number of pixel-like columns of the spec -- raw pixels and the color layout, whose
columns are strongly correlated -- so 0.01 for full raw pixels, 0.04 for ``raw16`` and 0.1
for everything made of histograms and HOG. A decay of 0.8 per epoch anneals the rate to a
tenth over 10 epochs, which is what gets the last points (``best`` needed 30 epochs at a decay
of 0.95 for the same accuracy). The other optimizers and the SVM scale from there:

* the SVM's hinge gradient is larger than the softmax's: a third of the rate;
* momentum and Nesterov (mu = 0.9) multiply the effective step by 1 / (1 - mu): a tenth;
* Adam's step does not depend on the gradient's scale: 0.001 everywhere (0.03 was unstable);
* full-batch gradient descent makes one step per epoch: 100 epochs, three times the SGD rate,
  a decay of 0.99 (10 epochs would be 10 steps);
* learned features (a fitted block: visual words) train for 100 epochs at a decay of 0.964
  (benchmarks, "Visual words": 10 epochs left them 1.5 points lower, 50 about half a point);
* random search and random local search judge every candidate on all training images (so
  the training loss they report never rises) for one epoch of proposals.

These are the defaults everywhere: the CLI's ``train`` fills every option not given from
them, the window's training panel shows them (and keeps what the user sets by hand), and
``TrainingConfig()`` and ``LinearClassifier()`` take them for every setting left at None
(for ``DEFAULT_FEATURES``, the loss and the optimizer chosen).
"""

from __future__ import annotations

import numpy as np

from linviz.features.blocks import block_type
from linviz.features.spec import FeatureSpec, parse_feature_spec
from linviz.models.losses import loss_named
from linviz.training.optimizers import optimizer_named

# The settings that recommended_settings fills in (TrainingConfig field names).
SETTINGS = ("learning_rate", "lr_decay", "epochs", "batch_size", "momentum", "reg",
            "search_step", "search_sample")
# The features the CLI's ``train`` and the window start with, and what TrainingConfig and
# LinearClassifier recommend for when they are not told the features.
DEFAULT_FEATURES = "hog+hue"


# Learned features (visual words): thousands of sparse columns, on which SGD is still climbing
# after 50 epochs; 100 annealed at 0.964 end at the last rate of 50 at 0.93, a fortieth of the first.
LEARNED_EPOCHS, LEARNED_DECAY = 100, 0.964


def pixel_columns(spec: FeatureSpec, image_shape=(32, 32)) -> int:
    """Columns of the spec that are pixels or pixel averages (the blocks that declare
    themselves ``pixel_like``: raw pixels, the color layout)."""
    shape = (int(image_shape[0]), int(image_shape[1]))
    total = 0
    for item in spec.items:
        kind = block_type(item.name)
        if kind.pixel_like:
            total += int(np.prod(kind.shape(dict(item.params), shape)))
    return total


def recommended_settings(features=DEFAULT_FEATURES, loss: str = "softmax", optimizer: str = "sgd", *,
                         image_shape=(32, 32)) -> dict:
    """The settings one click should train with: a dict of :class:`TrainingConfig` fields.

    ``features``: a preset name, a spec text or a :class:`~linviz.features.FeatureSpec`;
    ``image_shape``: (H, W) of the images (the raw pixels' column count depends on it).
    Returns ``learning_rate``, ``lr_decay``, ``epochs``, ``batch_size``, ``momentum``,
    ``reg``, ``search_step`` and ``search_sample`` (see the module docstring for where the
    numbers come from). ``ValueError`` for an unknown loss or optimizer, ``LinvizError`` for
    a bad spec.
    """
    hinge = loss_named(loss).hinge
    method = optimizer_named(optimizer)
    spec = features if isinstance(features, FeatureSpec) else parse_feature_spec(features)
    pixels = pixel_columns(spec, image_shape)
    sgd_rate = min(0.1, 30.0 / pixels) if pixels else 0.1
    if hinge:  # a hinge's gradient is larger than the softmax's
        sgd_rate *= 0.3
    settings = dict(learning_rate=sgd_rate, lr_decay=0.8, epochs=10, batch_size=200, momentum=0.9,
                    reg=1e-3, search_step=1e-2, search_sample=1000)
    if any(block_type(item.name).fitted for item in spec.items):
        settings.update(epochs=LEARNED_EPOCHS, lr_decay=LEARNED_DECAY)
    if "momentum" in method.settings:
        settings["learning_rate"] = sgd_rate * (1 - settings["momentum"])
    elif method.name == "adam":
        settings["learning_rate"] = 1e-3
    elif method.full_batch:
        settings.update(learning_rate=3 * sgd_rate, lr_decay=0.99, epochs=100)
    elif method.gradient_free:
        settings.update(learning_rate=0.0, lr_decay=1.0, epochs=1, search_sample=0)
    settings["learning_rate"] = float(f"{settings['learning_rate']:.2g}")
    return settings
