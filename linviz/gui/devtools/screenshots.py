"""Take the README screenshots: ``python -m linviz.gui.devtools.screenshots [--data SOURCE] OUT.png``.

Starts the window (offscreen unless a display is set), loads the source, starts training
and grabs the window mid-training, after ``--seconds`` of it. Used for docs/screenshots/.
``--knn`` then cross-validates and tests in the Nearest neighbors lab and selects a test image
it gets wrong (``--knn-mistake automobile:airplane``).
"""

from __future__ import annotations

import argparse
import os
import sys

from linviz.gui.devtools.event_loop import pump


def build_parser() -> argparse.ArgumentParser:
    """The tool's options (docs_screenshots checks its list of commands against them)."""
    from linviz.models.losses import LOSSES

    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--data", default="demo")
    parser.add_argument("--features", default="hog+hue")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=6.0, help="grab this long after training starts")
    parser.add_argument("--size", default="1400x900",
                        help="the window's size, or several (1024x700,1366x768,1920x1080): one picture each, "
                             "named OUT-WxH.png, from one session")
    parser.add_argument("--drop", nargs="*", default=[], help="image files to drop before grabbing")
    parser.add_argument("--tab", default=None, help="raise this dock: data, features, training")
    parser.add_argument("--misclassified", action="store_true", help="gallery: misclassified only")
    parser.add_argument("--view", default=None, help="show this tab of the window (its title), e.g. 'Inside one image'")
    parser.add_argument("--select", default=None, help="select SPLIT:INDEX (e.g. validation:12) before grabbing")
    parser.add_argument("--reg", type=float, default=None, help="regularization strength")
    parser.add_argument("--lr", type=float, default=None, help="learning rate")
    parser.add_argument("--batch", type=int, default=None, help="batch size")
    parser.add_argument("--loss", choices=list(LOSSES), default=None, help="the loss to train with")
    parser.add_argument("--knn", action="store_true",
                        help="after training: on the Nearest neighbors tab, cross-validate, test, select a mistake")
    parser.add_argument("--knn-k", type=int, default=None, help="with --knn: k for the test and the neighbors "
                                                                 "(default: the best k)")
    parser.add_argument("--knn-mistake", default=None, metavar="TRUE:PREDICTED",
                        help="with --knn: the first test image of class TRUE that kNN calls PREDICTED")
    parser.add_argument("--no-train", action="store_true", help="grab without training first")
    parser.add_argument("--until-done", action="store_true", help="grab when training has finished")
    parser.add_argument("--score-test", action="store_true", help="press Score on test before grabbing")
    parser.add_argument("--cell", default=None, help="click this confusion cell TRUE,PREDICTED before grabbing")
    parser.add_argument("--advanced", action="store_true", help="open the training panel's Advanced section")
    parser.add_argument("--playground", default=None, help="the 2-D playground: load this JSON state first")
    parser.add_argument("--playground-steps", type=int, default=0, help="the 2-D playground: take this many steps")
    parser.add_argument("--subview", default=None, help="inside the --view lab: show this inner tab (its title)")
    parser.add_argument("--lecture", action="store_true", help="Inside one image: show the lecture's examples")
    parser.add_argument("--landscape", default=None, metavar="MODE:DIRECTIONS",
                        help="optimization lab: the landscape's mode (plane|lines) and directions "
                             "(random|gradient|trajectory), e.g. plane:trajectory")
    parser.add_argument("--race", default=None, metavar="PRESET",
                        help="optimization lab: run the strategy race (features|lecture) and grab when it ends")
    parser.add_argument("--race-budget", type=int, default=None, help="the race's budget in thousands of examples")
    parser.add_argument("--gradient-h", type=float, default=None, help="optimization lab: the gradient check's step h")
    parser.add_argument("--runs", default=None, metavar="REGS",
                        help="the Runs lab: train one run per regularization strength (e.g. 1e-4,1e-2,1), select them")
    parser.add_argument("--tune", default=None, metavar="LRS;REGS",
                        help='the Tuning lab: search these ranges (e.g. "0.01:1:5;1e-4:1:5"), click the best cell')
    parser.add_argument("--tune-epochs", type=int, default=5, help="the Tuning lab: epochs per run")
    parser.add_argument("--data-dir", default=None,
                        help="the run history's folder (default: a new temporary one, the user's stays untouched)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.data_dir:
        os.environ["LINVIZ_DATA_DIR"] = args.data_dir
    else:
        import tempfile

        os.environ["LINVIZ_DATA_DIR"] = tempfile.mkdtemp(prefix="linviz-screenshots-data-")

    from PySide6.QtCore import QCoreApplication, QStandardPaths
    from PySide6.QtWidgets import QApplication

    QStandardPaths.setTestModeEnabled(True)  # the user's settings stay untouched
    QCoreApplication.setOrganizationName("linviz-screenshots")
    QCoreApplication.setApplicationName("linviz-screenshots")
    app = QApplication(sys.argv[:1])
    from linviz.gui.runtime.garbage import collect_on_gui_thread

    collect_on_gui_thread()
    from linviz.gui.app import configure_application

    configure_application(app)
    from linviz.gui.main_window import MainWindow

    from linviz.settings_file import SettingsFile

    window = MainWindow(args.data, settings=SettingsFile.in_memory())  # the default layout, saved nowhere
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.size.split(",")]
    window.resize(*sizes[0])
    window.show()

    while window.job_runner.busy:  # loading (and the warm-up)
        pump(0.1)
    if args.no_train:  # a picture of a lab, not of the first seconds' "Getting ready" strip
        import time

        deadline = time.monotonic() + 120
        while window.job_queue.warmup_state != "done" and time.monotonic() < deadline:
            pump(0.2)
        if window.job_queue.warmup_state != "done":
            print("note: the warm-up was still running after 120 s; its strip may show", file=sys.stderr)
    window.features_panel.set_spec_text(args.features)
    window.training_panel.epochs_spin.setValue(args.epochs)
    if args.reg is not None:
        window.training_panel.reg_slider.setValue(args.reg)
    if args.batch is not None:
        window.training_panel.batch_spin.setValue(args.batch)
    if args.lr is not None:
        window.training_panel.lr_slider.setValue(args.lr)
    if args.loss is not None:
        box = window.training_panel.loss_box
        box.setCurrentIndex(box.findData(args.loss))
    if args.drop:
        window.user_images_controller.add(args.drop)
        while window.job_runner.quick.busy:
            pump(0.05)
    if not args.no_train:
        window.training_controller.train()
        pump(args.seconds)
        while args.until_done and window.job_runner.busy:
            pump(0.1)
    if args.score_test:
        window.training_controller.score_on_test()
        pump(0.3)
        while window.job_runner.quick.busy:
            pump(0.05)
    if args.advanced:
        window.training_panel.advanced.expand(animate=False)
    if args.tab:
        window.docks[args.tab].raise_()
        pump(0.3)
    if window.workbench.data is not None and window.workbench.data.val is not None:
        window.gallery_view.split_box.setCurrentText("validation")
        if args.misclassified:
            window.gallery_view.wrong_box.setChecked(True)
        window.gallery_view.select("validation", int(window.gallery_view.shown_indices[3]))
    if args.cell:
        true_class, predicted = (int(v) for v in args.cell.split(","))
        window.confusion_view.highlight_cell(true_class, predicted)
        window.confusion_view.cellClicked.emit(true_class, predicted)
    if args.drop:
        window.lower_tabs.setCurrentWidget(window.user_images_view)
        window.user_images_view.select(0)
    if args.select:
        from linviz.workbench import Selection

        split, index = args.select.split(":")
        window.workbench.select(Selection(split, int(index)))
    if args.view:
        index = window.view_tabs.index_of_title(args.view)
        if index < 0:
            raise ValueError(f"--view {args.view!r}: no tab has that title")
        window.view_tabs.setCurrentIndex(index)
    if args.lecture:
        from linviz.gui.labs.inside_image import InsideImageLab

        next(lab for lab in window.labs if isinstance(lab, InsideImageLab)).lecture_button.setChecked(True)
    if args.knn:
        _knn_steps(window, args, pump)
    if args.subview:
        from PySide6.QtWidgets import QTabWidget

        lab = window.view_tabs.currentWidget()
        inner = lab.findChild(QTabWidget)
        titles = [inner.tabText(i) for i in range(inner.count())]
        inner.setCurrentIndex(titles.index(args.subview))
    if args.landscape or args.race or args.gradient_h:
        _drive_optimization(window, args, pump)
    pump(0.5)
    while window.job_runner.quick.busy:
        pump(0.05)
    if args.playground or args.playground_steps:
        _drive_playground(window, args, pump)
    if args.runs:
        _drive_runs(window, args, pump)
    if args.tune:
        _drive_tuning(window, args, pump)
    pump(0.3)
    for size in sizes:
        out = args.out if len(sizes) == 1 else _sized_name(args.out, size)
        if len(sizes) > 1:
            window.resize(*size)
            pump(0.5)
            while window.job_runner.quick.busy:  # the labs redraw for the new size
                pump(0.05)
            pump(0.3)
        if not window.grab().save(out, "PNG", 0):  # 0: the smallest file (zlib's best compression)
            print(f"error: could not write {out} (does its folder exist?)", file=sys.stderr)
            window.shutdown()
            window.close()
            return 2
        print(f"saved {out}; training {'running' if window.job_runner.busy else 'finished'}; "
              f"messages: {window.error_messages}")
    window.shutdown()
    window.close()
    return 0


def _sized_name(out: str, size: tuple) -> str:
    """'docs/screenshots/runs.png' and (1024, 700) -> 'docs/screenshots/runs-1024x700.png'."""
    root, ext = os.path.splitext(out)
    return f"{root}-{size[0]}x{size[1]}{ext or '.png'}"


def _knn_steps(window, args, pump) -> None:
    """Cross-validate and test in the kNN lab, then select a test image it gets wrong."""
    from linviz.gui.labs.knn import KnnLab
    from linviz.workbench import Selection

    def idle() -> None:
        pump(0.3)
        while window.job_runner.busy or window.job_runner.quick.busy:
            pump(0.1)

    lab = next(lab for lab in window.labs if isinstance(lab, KnnLab))
    window.view_tabs.setCurrentWidget(lab)
    idle()  # the training (if still running) and the indexing
    lab.cross_validate()
    idle()
    if args.knn_k is not None:
        lab.k_spin.setValue(args.knn_k)
    lab.run_test()
    idle()
    result = lab.test
    if result is None:
        return
    mistakes = result.mistakes
    if args.knn_mistake:
        names = window.workbench.class_names
        true_name, predicted_name = args.knn_mistake.split(":")
        wanted = [i for i in mistakes if names[result.labels[i]] == true_name
                  and names[result.predicted[i]] == predicted_name]
        mistakes = wanted or mistakes
    if len(mistakes):
        window.workbench.select(Selection(result.split, int(mistakes[0])))
    idle()


def _drive_playground(window, args, pump) -> None:
    """Load a state into the 2-D playground lab and take steps (its tab must be shown)."""
    from linviz.gui.labs.playground import PlaygroundLab

    lab = next(lab for lab in window.labs if isinstance(lab, PlaygroundLab))
    if args.playground:
        lab.load_from(args.playground)
    for _ in range(args.playground_steps):
        lab.step()
    while window.job_runner.quick.busy:
        pump(0.05)


def _wait(window, pump) -> None:
    while window.job_runner.busy or window.job_runner.quick.busy:
        pump(0.05)


def _drive_runs(window, args, pump) -> None:
    """Train one run per regularization strength, then show them all in the Runs lab."""
    from linviz.gui.labs.runs import RunsLab

    for reg in args.runs.split(","):
        window.training_panel.reg_slider.setValue(float(reg))
        window.training_controller.train()
        _wait(window, pump)
    lab = next(lab for lab in window.labs if isinstance(lab, RunsLab))
    window.view_tabs.setCurrentWidget(lab)
    while not window.workbench.runs.loaded or lab.table.rowCount() < len(args.runs.split(",")):
        pump(0.1)
    lab.select_runs([r.id for r in window.workbench.runs.records])
    pump(0.5)
    _wait(window, pump)
    pump(0.5)


def _drive_tuning(window, args, pump) -> None:
    """Run a search in the Tuning lab and click its best cell."""
    from linviz.explore.tuning import best_result
    from linviz.gui.labs.tuning import TuningLab

    lab = next(lab for lab in window.labs if isinstance(lab, TuningLab))
    window.view_tabs.setCurrentWidget(lab)
    if window.workbench.features is None:
        window.data_controller.extract_features()
        _wait(window, pump)
    lrs, regs = args.tune.split(";")
    lab.lr_edit.setText(lrs)
    lab.reg_edit.setText(regs)
    lab.epochs_spin.setValue(args.tune_epochs)
    lab.start()
    pump(0.3)
    _wait(window, pump)
    best = best_result(lab.state.results)
    if best is not None:
        lab.show_run(best.index)
        lab.make_current()
    pump(0.5)
    _wait(window, pump)
    pump(0.5)


def _drive_optimization(window, args, pump) -> None:
    """Set the loss landscape's mode and directions; run the strategy race to its end."""
    from linviz.gui.labs.optimization import OptimizationLab

    lab = next(lab for lab in window.labs if isinstance(lab, OptimizationLab))
    if args.landscape:
        mode, _, directions = args.landscape.partition(":")
        view = lab.landscape
        view.mode_box.setCurrentIndex(view.mode_box.findData(mode == "plane"))
        if directions:
            view.direction_box.setCurrentIndex(view.direction_box.findData(directions))
        view._settings_changed()
        pump(0.3)
        while window.job_runner.quick.busy:
            pump(0.05)
        view.hover(0.3, -0.25) if mode == "plane" else view.hover(0.3)
    if args.gradient_h:
        view = lab.gradient_check
        view.h_box.setCurrentIndex(view.h_box.findData(args.gradient_h))
        view.check()
        while window.job_runner.quick.busy:
            pump(0.05)
    if args.race:
        view = lab.race
        while window.job_runner.busy:
            pump(0.1)
        view.preset_box.setCurrentIndex(view.preset_box.findData(args.race))
        view._on_preset()
        if args.race_budget:
            view.budget_spin.setValue(args.race_budget)
        view.start()
        pump(0.5)
        while window.job_runner.busy:
            pump(0.2)
        pump(0.5)


if __name__ == "__main__":
    sys.exit(main())
