"""The Data and Features panels: readouts that follow the state, presets, enabled flags."""

from __future__ import annotations


def test_a_preset_spec_is_shown_as_its_preset_after_a_restart(make_window, settings):
    from linviz.features import PRESETS, parse_feature_spec

    first = make_window("demo")
    first.features_panel.set_spec_text("best")
    saved = first.features_panel.spec_text()
    first.shutdown()
    second = make_window("demo")
    panel = second.features_panel
    assert panel.spec_text() == saved and panel.preset_box.currentText() == "best"
    panel.set_spec_text(str(parse_feature_spec(PRESETS["best"])))  # the canonical spelling of best
    assert panel.preset_box.currentText() == "best"
    panel.spec_edit.setText("hue:bins=10")
    panel.spec_edit.editingFinished.emit()
    assert panel.preset_box.currentText() == "custom"
    panel.spec_edit.setText(str(parse_feature_spec("hog")))
    panel.spec_edit.editingFinished.emit()
    assert panel.preset_box.currentText() == "hog"


def test_the_spec_field_shows_the_start_of_a_long_spec(make_window):
    window = make_window("demo")
    window.features_panel.set_spec_text("best")
    assert window.features_panel.spec_edit.cursorPosition() == 0


def test_block_parameters_are_enabled_only_with_their_block(make_window):
    panel = make_window("demo").features_panel
    panel.set_spec_text("hue:bins=10")
    assert not panel.param_widget("hog", "cell").isEnabled() and not panel.param_widget("hog", "orient").isEnabled()
    assert panel.param_widget("hue", "bins").isEnabled() and not panel.param_widget("layout", "grid").isEnabled()
    panel.block_box("hog").setChecked(True)
    assert panel.param_widget("hog", "cell").isEnabled() and panel.param_widget("hog", "block").isEnabled()
    panel.block_box("raw").setChecked(False)
    assert not panel.param_widget("raw", "gray").isEnabled()


def test_every_block_and_parameter_comes_from_its_declaration(make_window):
    from PySide6.QtWidgets import QComboBox, QSpinBox

    from linviz.features import parse_feature_spec
    from linviz.features.blocks import block_types

    panel = make_window("demo").features_panel
    for kind in block_types():
        assert panel.block_box(kind.name).text() == kind.title
        for param in kind.params:
            widget = panel.param_widget(kind.name, param.name)
            assert param.help in widget.toolTip()
            if isinstance(widget, QSpinBox):
                assert (widget.minimum(), widget.maximum()) == (param.low, param.high)
            elif isinstance(widget, QComboBox):
                assert [widget.itemText(i) for i in range(widget.count())] == list(param.choices)
    # the words block, its parameters and the spec they make
    panel.set_spec_text("words-quick")
    assert panel.preset_box.currentText() == "words-quick" and panel.block_box("words").isChecked()
    assert panel.param_widget("words", "k").value() == 400
    panel.param_widget("words", "pool").setValue(3)
    assert panel.preset_box.currentText() == "custom"
    assert parse_feature_spec(panel.spec_text()) == parse_feature_spec("words:k=400:samples=100000:iters=10:pool=3")


def test_the_features_readout_follows_the_spec(make_window, wait_idle):
    window = make_window("demo")
    panel = window.features_panel
    panel.set_spec_text("hog+hue")
    window.data_controller.extract_features()
    wait_idle(window)
    assert "154 features per image" in panel.timing_label.text()
    panel.set_spec_text("raw")
    text = panel.timing_label.text()
    assert "Not extracted yet" in text and "3,072 features per image" in text and "154" not in text
    panel.set_spec_text("hog+hue")
    assert "images in" in panel.timing_label.text() and "154 features" in panel.timing_label.text()


def _image_folder(root, class_names, per_class=3, size=32, seed=0):
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name in class_names:
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    return root


def test_apply_asks_before_discarding_a_trained_model(make_window, wait_idle):
    window = make_window("demo")
    window.training_panel.epochs_spin.setValue(1)
    window.training_controller.train()
    wait_idle(window)
    model = window.workbench.model
    asked = []
    window.data_controller.confirm = lambda title, text: asked.append(text) or False
    window.data_panel.set_split_values(500, 0)
    window.data_panel.apply_button.click()
    wait_idle(window)
    assert asked and "discard" in asked[0].lower()
    assert window.workbench.model is model and len(window.workbench.data.val.labels) != 500
    window.data_controller.confirm = lambda title, text: True
    window.data_panel.apply_button.click()
    wait_idle(window)
    assert window.workbench.model is None and len(window.workbench.data.val.labels) == 500


def test_train_while_loading_waits_for_the_data(make_window, wait_idle, tmp_path):
    source = _image_folder(tmp_path / "three", ["red", "green", "blue"], per_class=8)
    window = make_window(str(source))
    assert window.job_runner.busy and window.job_runner.job_name == "load"
    window.training_panel.epochs_spin.setValue(1)
    window.training_controller.train()
    assert not window.error_messages and "loading" in window.message_label.text()
    wait_idle(window)
    assert not window.error_messages, window.error_messages
    assert window.workbench.model is not None and window.workbench.data.class_names == ["blue", "green", "red"]


def test_the_banner_says_what_is_loaded(make_window, wait_idle, tmp_path, monkeypatch):
    import linviz.data
    from linviz.data.cifar10 import CIFAR10_CLASSES

    source = _image_folder(tmp_path / "cifar-like", CIFAR10_CLASSES, per_class=2)
    window = make_window(str(source))
    wait_idle(window)
    window.banner.show()
    assert "offline demo set" not in window.banner.text.text() and "CIFAR-10 is loaded" in window.banner.text.text()
    assert not window.banner.download_button.isVisibleTo(window)  # no download of what is loaded

    monkeypatch.setattr(linviz.data, "find_cifar10", lambda: tmp_path / "cifar-10-batches-py")
    demo = make_window("demo")
    assert "already on this machine" in demo.banner.text.text()
    assert "Open CIFAR-10" in demo.banner.download_button.text()
    opened = []
    demo.data_controller.load_source = lambda path: opened.append(path)
    demo.banner.localRequested.disconnect()
    demo.banner.localRequested.connect(demo.data_controller.load_source)
    demo.banner.download_button.click()
    assert opened == [str(tmp_path / "cifar-10-batches-py")]


def test_an_offline_download_says_so_in_words(make_window, wait_idle, monkeypatch):
    import linviz.data
    from linviz.errors import DatasetError

    def offline(**kwargs):
        raise DatasetError("cannot download https://example.invalid/cifar: [Errno -2] Name or service not known")

    monkeypatch.setattr(linviz.data, "download_cifar10", offline)
    window = make_window("demo")
    window.banner.download_button.click()
    wait_idle(window)
    assert "no network connection" in window.banner.text.text() and "Errno" not in window.banner.text.text()
    assert "Errno" not in window.error_messages[-1]


def test_progress_figures_are_beside_the_bars_not_on_them(qtbot):
    from linviz.gui.widgets.job_status import JobStatus

    strip = JobStatus()
    qtbot.addWidget(strip)
    strip.set_running("Extracting")
    strip.set_progress(42, 100)
    assert not strip.progress.bar.isTextVisible() and strip.progress.value_text() == "42%"


def test_the_feature_set_is_locked_while_training(make_window):
    window = make_window("demo")
    window.workbench.set_training(True)
    assert not window.features_panel.choose_box.isEnabled()
    assert "locked" in window.features_panel.choose_box.title()
    window.workbench.set_training(False)
    assert window.features_panel.choose_box.isEnabled()


def test_a_spec_the_boxes_cannot_show_is_described_whole(make_window):
    """`best` has three HOG blocks and saturation and value histograms: the boxes would show
    only "cell 16, block 2". The panel says what the spec holds; a spec the boxes show whole
    needs no such line."""
    panel = make_window("demo").features_panel
    panel.set_spec_text("best")
    text = panel.spec_summary.text()
    assert panel.spec_summary.isVisibleTo(panel)
    assert "4, 8, 16" in text and "saturation" in text and "value" in text and "8 x 8" in text
    panel.set_spec_text("hog:cell=8,hue:bins=12")
    assert not panel.spec_summary.isVisibleTo(panel)


def test_the_preview_draws_only_what_the_spec_extracts(make_window, wait_idle):
    """The `hog` and `raw` presets have no hue histogram: no hue bars in the preview; `raw` has
    no HOG either: no glyphs; each preview follows the spec's own parameters."""
    from linviz.workbench import Selection

    window = make_window("demo")
    wait_idle(window)
    panel = window.features_panel
    window.workbench.select(Selection("validation", 0))
    panel.set_spec_text("hog")
    assert panel.glyph_item.image is not None and len(panel.hist_bars.opts["height"]) == 0
    assert "no hue histogram" in panel.image_caption.text()
    panel.set_spec_text("raw")
    assert panel.glyph_item.image is None and len(panel.hist_bars.opts["height"]) == 0
    panel.set_spec_text("hog:cell=4,hue:bins=7")
    assert len(panel.hist_bars.opts["height"]) == 7 and "4 px cells" in panel.image_caption.text()
    panel.set_spec_text("best")  # its first HOG block and its hue bins
    assert len(panel.hist_bars.opts["height"]) == 12 and "4 px cells" in panel.image_caption.text()


def test_the_validation_size_is_auto_the_commands_default(make_window, wait_idle):
    from linviz.training.recipe import default_validation_size

    window = make_window("demo")
    assert window.data_panel.split_values()[0] is None and window.data_panel.val_spin.text() == "auto"
    data = window.workbench.data
    held_out = default_validation_size(len(data.dataset.train.labels))  # as `train demo` holds out
    assert len(data.val.labels) == held_out and f"validation {held_out:,}" in window.data_panel.sizes_label.text()


def test_the_validation_arrows_step_from_auto_to_the_default_and_back(qtbot):
    from linviz.gui.panels.data_panel import ValidationSizeBox

    box = ValidationSizeBox()
    qtbot.addWidget(box)
    seen = [box.text()]
    for _ in range(2):
        box.stepUp()
        seen.append(box.text())
    for _ in range(4):
        box.stepDown()
        seen.append(box.text())
    box.setValue(250)
    box.stepDown()
    seen.append(box.text())
    assert seen == ["auto", "1000", "1500", "1000", "500", "0", "auto", "0"]
