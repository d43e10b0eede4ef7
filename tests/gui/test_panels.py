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
    assert not panel.hog_cell.isEnabled() and not panel.hog_orientations.isEnabled()
    assert not panel.hog_block.isEnabled() and panel.hue_bins.isEnabled() and not panel.layout_grid.isEnabled()
    panel.hog_box.setChecked(True)
    assert panel.hog_cell.isEnabled() and panel.hog_block.isEnabled()
    panel.raw_box.setChecked(False)
    assert not panel.raw_gray.isEnabled()


def test_the_features_readout_follows_the_spec(make_window, wait_idle):
    window = make_window("demo")
    panel = window.features_panel
    panel.set_spec_text("hog+hue")
    window.data.extract_features()
    wait_idle(window)
    assert "154 features per image" in panel.timing_label.text()
    panel.set_spec_text("raw")
    text = panel.timing_label.text()
    assert "Not extracted yet" in text and "3,072 features per image" in text and "154" not in text
    panel.set_spec_text("hog+hue")
    assert "images in" in panel.timing_label.text() and "154 features" in panel.timing_label.text()
