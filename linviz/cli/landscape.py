"""``python main.py landscape SOURCE``: the loss around a model's weights on the source's
validation split, along a line, or over a plane with ``--2d`` (linviz.explore.loss_surface).
The model comes from ``--model-file``, or is trained first (``--features``, ``--model``)."""

from __future__ import annotations

import argparse

from linviz.cli.common import EXIT_OK, ProgressBar, UsageError, print_json, warn_about_skipped
from linviz.models.losses import LOSSES
from linviz.models.regularizers import REG_TYPES
from linviz.text import printable


def run(args: argparse.Namespace) -> int:
    """The loss around a model's weights on the source's validation split: along a line, or
    over a plane with --2d (linviz.explore.loss_surface)."""
    from linviz.explore.loss_surface import SurfaceError, grid, loss_surface

    _check_options(args)
    saved = _saved_model(args)
    data = _load(args, saved)
    W, options, trained = _center(args, saved, data)
    X_val, y_val = data.X_val, data.y_val
    dirs, words = _directions(args, W, X_val, y_val, options)
    alphas = grid(args.range, args.steps)
    betas = grid(args.range, args.steps) if args.two_d else None
    try:
        surface = loss_surface(W, X_val, y_val, dirs, alphas, betas, **options)
    except SurfaceError as exc:  # weights too large to compute with (a model file may hold them)
        raise UsageError(f"landscape: {trained}: {exc}") from None
    if args.json:
        print_json(surface.to_json())
        return EXIT_OK
    print(f"loss landscape of {trained}")
    # (a model file's loss and penalty are checked when it loads: both are known names)
    loss_name, reg_name = LOSSES[options["loss"]].short_label, REG_TYPES[options["reg_type"]].label
    print(f"on the validation split ({len(y_val):,} images of {printable(data.dataset.source)}), {loss_name} "
          f"loss, reg {options['reg']:g} ({reg_name}); along {words}")
    _print_surface(args, surface, alphas, betas)
    return EXIT_OK


def _check_options(args: argparse.Namespace) -> None:
    """--range and --steps are checked by the parser (linviz.cli.arguments)."""
    if args.model_file is not None and (args.features is not None or args.model is not None):
        raise UsageError("landscape: give either --model-file or --features/--model, not both")


def _saved_model(args: argparse.Namespace):
    """The model of ``--model-file`` (with its feature pipeline), or None."""
    if args.model_file is None:
        return None
    from linviz.models.model_file import load_model

    saved = load_model(args.model_file)  # ModelFileError -> exit 2
    if saved.pipeline is None:
        raise UsageError(f"landscape: {args.model_file}: the model has no feature pipeline")
    return saved


def _load(args: argparse.Namespace, saved):
    """The source loaded and split (1000 validation images, at most a tenth), as the train
    recipe's data (no feature matrices yet)."""
    from linviz.data import load_dataset, split_validation
    from linviz.features import FeaturePipeline
    from linviz.training import recipe

    pipeline = saved.pipeline if saved is not None else FeaturePipeline(args.features or "hog+hue", seed=args.seed)
    with ProgressBar("loading ") as bar:
        dataset = load_dataset(args.source, image_size=saved.image_size if saved else args.image_size, progress=bar)
        recipe.check_trainable(dataset)
        n_train = len(dataset.train)
        val_size = recipe.default_validation_size(n_train)
        if val_size < 1:
            raise UsageError(f"landscape: {dataset.source} has too few training images ({n_train}) "
                             "for a validation split")
        train_split, val_split = split_validation(dataset.train, val_size, seed=args.seed)
    warn_about_skipped(dataset, "landscape")  # after the bar and the checks: a bad source stays one line
    return recipe.TrainingData(dataset, pipeline, train_split, val_split, val_size, args.seed, with_test=False)


def _center(args: argparse.Namespace, saved, data):
    """(W, the loss options of the surface, what W is in words): the saved model's weights,
    or those of a model trained first on the training split."""
    import numpy as np

    from linviz.training import TrainingConfig, recipe, recommended_settings

    if saved is not None:
        if list(saved.class_names) != list(data.dataset.class_names):
            raise UsageError(f"landscape: {args.model_file}: the model's classes are not the source's")
        W = np.asarray(saved.W, dtype=np.float32)
        hyper = dict(saved.hyperparameters or {})
        loss = str(saved.loss)
        with ProgressBar("features") as bar:
            data.matrices["val"] = data.pipeline.transform(data.val.images, progress=bar)
        trained = f"the weights in {printable(args.model_file)}"
    else:
        loss = args.model or "softmax"
        hyper = recommended_settings(data.pipeline.spec, loss, "sgd", image_shape=(args.image_size, args.image_size))
        config = TrainingConfig(loss=loss, seed=args.seed, **hyper)
        with ProgressBar("features") as bar:
            data.matrices["train"] = data.pipeline.fit_transform(data.train.images, progress=bar)
            data.matrices["val"] = data.pipeline.transform(data.val.images)
        with ProgressBar("training") as bar:
            final = recipe.fit(data, config, progress=bar)
        W = final.best_W
        name = LOSSES[loss].short_label
        article = "an" if name == "SVM" else "a"  # "an SVM", "a softmax"
        trained = f"{article} {name} model trained first on {data.pipeline.spec}; kept: {final.kept}"
    options = {"loss": loss, "reg": float(hyper.get("reg", 0.0)), "reg_type": str(hyper.get("reg_type", "l2")),
               "delta": float(hyper.get("delta", 1.0)), "elastic_beta": float(hyper.get("elastic_beta", 1.0)),
               "n_reg_rows": W.shape[0] - 1}
    return W, options, trained


def _directions(args: argparse.Namespace, W, X_val, y_val, options: dict):
    """The directions of the line (or plane), and what they are in words."""
    from linviz.explore.loss_surface import (
        gradient_direction,
        orthogonal_random,
        random_directions,
    )

    if args.directions == "gradient":
        first = gradient_direction(W, X_val, y_val, **options)
        dirs = [first, orthogonal_random(first, W, seed=args.seed)] if args.two_d else [first]
        return dirs, "the negative gradient" + (" and a random direction orthogonal to it" if args.two_d else "")
    return random_directions(W, 2 if args.two_d else 1, seed=args.seed), \
        f"{'two random Gaussian directions' if args.two_d else 'a random Gaussian direction'} scaled to W's norm " \
        "per class"


def _print_surface(args: argparse.Namespace, surface, alphas, betas) -> None:
    import numpy as np

    center = surface.value_at(0.0, 0.0)
    print(f"at W: data {center[2]:.4f}, regularization {center[3]:.4f}, total {center[4]:.4f}")
    if surface.is_2d:
        k, m = np.unravel_index(int(np.argmin(surface.total)), surface.total.shape)
        print(f"{len(betas)} x {len(alphas)} grid over a, b in [-{args.range:g}, {args.range:g}]: total from "
              f"{surface.total.min():.4f} (at a = {alphas[m]:.3g}, b = {betas[k]:.3g}) to {surface.total.max():.4f}; "
              "--json prints the grids")
    else:
        print(f"{'a':>10} {'data':>10} {'reg':>10} {'total':>10}")
        for a, d, r, t in zip(alphas, surface.data, surface.reg, surface.total):
            print(f"{a:10.4f} {d:10.4f} {r:10.4f} {t:10.4f}")
