"""Every box that offers a loss, a penalty or an optimizer offers the core's table: the same
names in the same order, the table's labels, and its help lines as the items' tooltips."""

from __future__ import annotations

from PySide6.QtCore import Qt


def offered(box) -> list[tuple]:
    return [(box.itemData(i), box.itemText(i), box.itemData(i, Qt.ItemDataRole.ToolTipRole))
            for i in range(box.count())]


def table(specs, short=False) -> list[tuple]:
    return [(name, spec.short_label if short else spec.label, spec.help) for name, spec in specs.items()]


def test_the_window_offers_the_tables(make_window):
    from linviz.explore.playground import PLAYGROUND_LOSSES
    from linviz.gui.labs.optimization import OptimizationLab
    from linviz.gui.labs.playground import PlaygroundLab
    from linviz.gui.labs.tuning import TuningLab
    from linviz.models import LOSSES, REG_TYPES
    from linviz.training import OPTIMIZERS

    window = make_window("demo")
    panel = window.training_panel
    assert offered(panel.loss_box) == table(LOSSES)
    assert offered(panel.reg_type_box) == table(REG_TYPES)
    assert offered(panel.optimizer_box) == table(OPTIMIZERS)
    labs = {type(lab): lab for lab in window.labs}
    assert offered(labs[OptimizationLab].race.loss_box) == table(LOSSES, short=True)
    assert offered(labs[TuningLab].loss_box) == table(LOSSES, short=True)
    assert offered(labs[PlaygroundLab].tabs.loss_box) == table(PLAYGROUND_LOSSES)
    assert offered(labs[PlaygroundLab].tabs.reg_box) == table(REG_TYPES)


def test_the_panel_enables_what_the_chosen_entries_use(qtbot):
    from linviz.gui.panels.training_panel import TrainingPanel
    from linviz.models import LOSSES, REG_TYPES
    from linviz.training import OPTIMIZERS

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    for name, spec in LOSSES.items():
        panel.loss_box.setCurrentIndex(panel.loss_box.findData(name))
        assert panel.delta_spin.isEnabled() == spec.hinge
    for name, spec in REG_TYPES.items():
        panel.reg_type_box.setCurrentIndex(panel.reg_type_box.findData(name))
        assert panel.elastic_spin.isEnabled() == spec.uses_beta
    widgets = {"learning_rate": panel.lr_slider, "lr_decay": panel.decay_spin, "batch_size": panel.batch_spin,
               "momentum": panel.momentum_spin, "adam_beta1": panel.beta1_spin, "adam_beta2": panel.beta2_spin,
               "search_step": panel.search_step_slider, "search_sample": panel.search_sample_spin}
    for name, spec in OPTIMIZERS.items():
        panel.optimizer_box.setCurrentIndex(panel.optimizer_box.findData(name))
        assert {key for key, widget in widgets.items() if widget.isEnabled()} == set(spec.settings), name
