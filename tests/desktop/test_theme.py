"""The theme: a restyle never lets the cyclic GC run inside Qt's walk over the widgets."""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from desktop.theme import apply_theme, current_palette


class _Seen(QObject):
    """Records, for each restyle event a widget gets, whether the cyclic GC could run then."""

    def __init__(self) -> None:
        super().__init__()
        self.gc_enabled: list[bool] = []

    def eventFilter(self, _obj: QObject, ev: QEvent) -> bool:
        if ev.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.Polish):
            self.gc_enabled.append(gc.isenabled())
        return False


def test_a_theme_switch_holds_the_gc_off_while_qt_restyles_every_widget(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    label = QLabel("x")
    qtbot.addWidget(label)
    label.show()
    apply_theme(app, "dark")
    seen = _Seen()
    label.installEventFilter(seen)
    try:
        assert gc.isenabled()
        apply_theme(app, "light")
        assert seen.gc_enabled, "the widget was not restyled"
        assert not any(seen.gc_enabled), "the cyclic GC could run inside Qt's restyle"
        assert gc.isenabled(), "the GC stays off after the restyle"
        assert current_palette().name == "light"
        assert app.property("hallwatchFusion") is True
        gc.disable()
        apply_theme(app, "dark")
        assert not gc.isenabled(), "a caller that had the GC off keeps it off"
    finally:
        gc.enable()
        label.removeEventFilter(seen)
