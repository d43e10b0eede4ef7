"""Screenshots of the "Your classes" flow for docs/tour.md:
``python -m linviz.gui.devtools.classes_screenshots OUT_FOLDER [--size 1366x768] [--data SOURCE]``.

Drives the window as a new user would: the start page, a new project of three classes, ten
images added to each (CIFAR-10 pictures, or the demo set's without CIFAR-10), training, a new
picture dropped and classified, a mistake added to its right class and
the second training. Offscreen unless a display is set; the user's data folder and settings
stay untouched (a temporary data folder, test-mode settings).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from linviz.gui.devtools.event_loop import pump

CLASSES = ("cat", "frog", "ship")


def _pictures(folder: Path, archive) -> dict:
    """Ten training pictures per class and four new ones per class, as PNG files."""
    import numpy as np
    from PIL import Image

    from linviz.data import load_dataset

    dataset = load_dataset(archive) if archive else load_dataset("demo")
    names = CLASSES if all(c in dataset.class_names for c in CLASSES) else tuple(dataset.class_names[:3])
    files = {}
    for name in names:
        label = dataset.class_names.index(name)
        images = dataset.train.images[dataset.train.labels == label]
        rows = np.random.default_rng(len(name)).choice(len(images), 14, replace=False)
        files[name] = []
        for k, row in enumerate(rows):
            path = folder / ("new" if k >= 10 else name) / f"{name}-{k}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[row]).resize((96, 96), Image.Resampling.BICUBIC).save(path)
            files[name].append(path)
    return files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", help="the folder the PNG files go to")
    parser.add_argument("--size", default="1366x768")
    parser.add_argument("--data", default=None,
                        help="where the pictures come from: a CIFAR-10 source such as the JPEG archive "
                             "(default: a CIFAR-10 copy found on this machine, else the demo set)")
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="linviz-classes-screenshots-"))
    os.environ["LINVIZ_DATA_DIR"] = str(work / "data")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QCoreApplication, QSettings, QStandardPaths
    from PySide6.QtWidgets import QApplication

    QStandardPaths.setTestModeEnabled(True)
    QCoreApplication.setOrganizationName("linviz-screenshots")
    QCoreApplication.setApplicationName("linviz-screenshots")
    app = QApplication(sys.argv[:1])
    from linviz.gui.runtime.garbage import collect_on_gui_thread

    collect_on_gui_thread()
    from linviz.data import find_cifar10
    from linviz.gui.app import configure_application
    from linviz.gui.main_window import MainWindow

    configure_application(app)
    files = _pictures(work / "pictures", args.data or find_cifar10())
    names = list(files)
    settings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow("demo", settings=settings)
    w, h = (int(v) for v in args.size.split("x"))
    window.resize(w, h)
    window.show()
    view, controller = window.your_classes_view, window.class_project_controller

    def settle() -> None:
        while window.job_runner.busy or window.job_runner.quick.busy:
            pump(0.05)
        pump(0.3)

    def grab(name: str) -> None:
        path = out / f"your-classes-{name}.png"
        if not window.grab().save(str(path)):
            raise SystemExit(f"error: could not write {path} (does its folder exist?)")
        print(path)

    settle()
    window.banner.classes_button.click()
    settle()
    grab("start")

    controller.new_project("pets and ships", names, str(work / "projects"))
    settle()
    for name in names:
        controller.add_files(name, files[name][:10])
    settle()
    view.set_current(names[0])
    grab("images")

    window.training_panel.epochs_spin.setValue(20)
    controller.train()
    settle()

    # A mistake: the first new picture the model puts in another class.
    from linviz.workbench import Selection

    wrong = None
    for name in names:
        for path in files[name][10:]:
            window.user_images_controller.add([path])
            settle()
            values = view.bars.values
            if values is not None and names[int(values.argmax())] != name:
                wrong = name
                break
        if wrong:
            break
    if wrong:
        grab("mistake")
        view.add_selected_to(wrong)
        settle()
        window.training_controller.train()
        settle()
        window.workbench.select(Selection("yours", len(window.workbench.user_images) - 1))
        settle()
        grab("corrected")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
