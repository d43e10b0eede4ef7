"""100 classes must not freeze the window. A tiny 100-class folder is loaded and
trained end to end; every view then holds a bounded number of graphics items (a per-class text
item was the freeze: 10,100 of them in the confusion view), never a timed assert."""

from __future__ import annotations

import numpy as np
from PIL import Image

N_CLASSES = 100
ITEM_BOUND = 60  # graphics items per view's scene, whatever the number of classes


def _hundred_classes(root, per_class=4):
    rng = np.random.default_rng(0)
    for c in range(N_CLASSES):
        folder = root / f"class {c:03d}"
        folder.mkdir(parents=True)
        base = rng.integers(0, 255, 3)
        for i in range(per_class):
            pixels = np.clip(base + rng.normal(0, 30, (8, 8, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def _scene_items(widget) -> int:
    return len(widget.scene().items())


def test_a_hundred_classes_load_and_train_with_bounded_drawing(make_window, wait_idle, wait_quick, tmp_path):
    window = make_window(str(_hundred_classes(tmp_path / "hundred")))
    wait_idle(window)
    assert len(window.workbench.class_names) == N_CLASSES, window.error_messages
    assert window.data_panel.class_table.rowCount() == N_CLASSES
    assert window.gallery_view.class_box.count() == N_CLASSES + 1
    window.data_panel.set_split_values(100, 0)  # one validation image per class
    window.data_controller.apply_split_settings()
    wait_idle(window)
    window.training_panel.epochs_spin.setValue(2)
    window.training_panel.batch_spin.setValue(50)
    window.training_controller.train()
    wait_idle(window)
    assert not window.error_messages, window.error_messages
    model = window.workbench.model
    assert model is not None and model.W.shape[1] == N_CLASSES

    confusion = window.confusion_view
    assert confusion.counts.shape == (N_CLASSES, N_CLASSES)
    assert _scene_items(confusion.plot) <= ITEM_BOUND
    assert len(confusion.plot.getPlotItem().getAxis("left")._tickLevels[0]) <= 20

    templates = window.templates_view
    assert templates.tile_count == N_CLASSES * len(model.templates)
    assert _scene_items(templates.mosaic) <= ITEM_BOUND  # names painted by ONE item

    window.gallery_view.select("validation", 0)
    probabilities = window.probabilities_view
    assert probabilities.values.shape == (N_CLASSES,)
    assert _scene_items(probabilities.plot) <= ITEM_BOUND
    assert len(probabilities.plot.getPlotItem().getAxis("left")._tickLevels[0]) <= 20
    assert len(probabilities.value_labels.texts) <= 6
    window.grab()  # every view paints once at 100 classes

    gallery = window.gallery_view
    assert _scene_items(gallery.mosaic) <= ITEM_BOUND
    window.confusion_view.cellClicked.emit(0, int(np.argmax(confusion.counts[0])))
    assert window.workbench.selection.split == "validation"

    # The Inside-one-image lab computes and draws the 100 classes too.
    titles = [window.view_tabs.tabText(i) for i in range(window.view_tabs.count())]
    window.view_tabs.setCurrentIndex(titles.index("Inside one image"))
    window.show()
    wait_quick(window)
    window.grab()
    assert not window.error_messages, window.error_messages
