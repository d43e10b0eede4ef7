"""The Visual words lab: the codebook view shows every word and orders it, a picked word's
firing map is the encoder's own activations, the image's strongest words pick words too."""

from __future__ import annotations

import numpy as np
import pytest

from linviz.workbench import Selection

SPEC = "words:k=30:samples=4000:iters=3"


def lab_of(window):
    from linviz.gui.labs.visual_words import VisualWordsLab

    return next(lab for lab in window.labs if isinstance(lab, VisualWordsLab))


def show_lab(window, wait_quick):
    lab = lab_of(window)
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    wait_quick(window)
    return lab


def test_without_words_the_lab_says_how_to_get_a_codebook_and_gets_one_in_a_click(make_window, wait_idle,
                                                                                   wait_quick):
    window = make_window("demo")
    lab = show_lab(window, wait_quick)
    from linviz.gui.labs.visual_words import NO_WORDS

    assert lab.caption.text() == NO_WORDS and lab.codebook_view.codebook is None
    assert lab.findChild(type(lab.codebook_view), "codebookView") is lab.codebook_view
    assert lab.learn_button.isVisible() and not lab.panes.isVisible()  # no empty panes
    lab.learn_button.click()
    wait_idle(window)
    wait_quick(window)
    assert window.workbench.features is not None, window.error_messages
    assert window.features_panel.spec_text().startswith("words:")  # the preset, as if chosen there
    assert lab.codebook_view.codebook is not None
    assert lab.panes.isVisible() and not lab.learn_button.isVisible()


def test_the_codebook_and_where_a_word_fires(make_window, wait_idle, wait_quick):
    from linviz.explore.visual_words import where_words_fire

    window = make_window("demo")
    window.features_panel.set_spec_text(SPEC)
    window.data_controller.extract_features()
    wait_idle(window)
    assert window.workbench.features is not None, window.error_messages
    window.workbench.select(Selection("validation", 3))
    lab = show_lab(window, wait_quick)
    view = lab.codebook_view
    book = view.codebook
    assert book is not None and book.k == 30 and view.mosaic.layout_info is not None
    assert sorted(view.order.tolist()) == list(range(30))
    # fires most first: the order follows the mean activation over the training images
    assert np.all(np.diff(book.mean_activation[view.order]) <= 0)
    view.order_box.setCurrentIndex(view.order_box.findData("count"))
    assert np.all(np.diff(book.counts[view.order]) <= 0)
    # the strongest word of the image is picked first; a click picks another
    image = window.workbench.selected_image().image
    pipeline = window.workbench.features.pipeline
    expected = where_words_fire(image, pipeline, pipeline.blocks[0])
    assert lab.firing is not None and lab.firing.word == int(expected.strongest[0])
    np.testing.assert_allclose(lab.firing.firing.maps, expected.maps)
    other = int(expected.strongest[5])
    row, col = view.position_of(other)
    view.mosaic.tileClicked.emit(row, col)
    wait_quick(window)
    assert lab.firing.word == other and f"word {other}" in lab.firing_caption.text()
    assert view.picked == other
    # the strongest words row picks a word as well
    lab.strongest_view.tileClicked.emit(0, 1)
    assert lab.firing.word == int(expected.strongest[1])
    assert "strongest words" in lab.strongest_caption.text()


def test_inside_one_image_splits_a_score_over_the_words_and_the_quadrants(make_window, wait_idle, wait_quick):
    from linviz.gui.labs.inside_image import InsideImageLab

    window = make_window("demo")
    panel = window.training_panel
    panel.epochs_spin.setValue(2)
    window.features_panel.set_spec_text(SPEC + ",hue")
    window.training_controller.train()
    wait_idle(window)
    assert window.workbench.model is not None, window.error_messages
    window.workbench.select(Selection("validation", 2))
    lab = next(lab for lab in window.labs if isinstance(lab, InsideImageLab))
    window.view_tabs.setCurrentWidget(lab)
    window.show()
    wait_quick(window)
    assert lab.result.column_names == ["words", "words ±", "hue"]
    assert all(len(tiles) == 4 for tiles in lab.result.tiles)  # the image, then the three columns
    for _, ev in lab.result.rows:
        words = ev.blocks[0]
        assert words.values.shape == (2, 2)  # the quadrants
        assert sum(v for _, v in words.parts) == pytest.approx(words.total, abs=1e-9)
        assert sum(b.total for b in ev.blocks) + ev.bias == pytest.approx(ev.score, abs=1e-9)
    # the templates view draws each class's words
    assert window.templates_view.tile_count == 2 * len(window.workbench.class_names)
    assert "visual words" in window.templates_view.caption.text()


def test_the_button_leaves_the_features_alone_while_training_runs(make_window, wait_idle, wait_quick):
    window = make_window("demo")
    lab = show_lab(window, wait_quick)
    before = window.features_panel.spec_text()
    window.training_panel.epochs_spin.setValue(5000)
    window.training_controller.train()
    assert window.job_runner.busy
    lab.learn_button.click()  # refused: the training runs on the heavy lane
    assert window.features_panel.spec_text() == before
    assert any(m.startswith("Busy with") for m in window.error_messages)
    window.training_controller.stop()
    wait_idle(window)
