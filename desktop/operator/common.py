"""Small helpers the panels share: times in the hall's zone, durations, the actions protocol."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor, QPaintEvent
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

from supervision import foreground

__all__ = ["TableView", "WarningActions", "fmt_date", "fmt_duration", "fmt_time", "ink_on"]


class WarningActions(Protocol):
    """What the warnings panel needs of ``app.terminal.Terminal``: its two warning actions
    (run on the terminal's executor; ``on_done(outcome)`` is called on the executor thread)."""

    def acknowledge(self, key: str, *, by: str, note: str = "",
                    on_done: Callable[[Any], None] | None = None) -> None: ...

    def dispose(self, key: str, measure: str, note: str, *, by: str,
                on_done: Callable[[Any], None] | None = None) -> None: ...


def fmt_time(at: datetime | None, tz: ZoneInfo, *, today: date | None = None) -> str:
    """An instant in the hall's zone: "14:05" today, "12-03 14:05" this year, else with the year."""
    if at is None:
        return ""
    local = at.astimezone(tz)
    if today is not None and local.date() == today:
        return local.strftime("%H:%M")
    if today is not None and local.year == today.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def fmt_date(d: date | None) -> str:
    return d.isoformat() if d is not None else ""


def fmt_duration(seconds: float) -> str:
    """A wait: "45 min", "1 h 05 min"."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return QCoreApplication.translate("Panels", "{n} min").format(n=minutes)
    return QCoreApplication.translate("Panels", "{h} h {m:02d} min").format(h=minutes // 60, m=minutes % 60)


def ink_on(fill: QColor) -> QColor:
    """Text colour readable on ``fill``: near-black on light fills (yellow), white on the rest."""
    luma = 0.299 * fill.red() + 0.587 * fill.green() + 0.114 * fill.blue()
    return QColor("#1a1a1a") if luma > 150 else QColor("#ffffff")


class _Header(QHeaderView):
    """A header that paints holding the GIL, background threads giving way (see :class:`TableView`)."""

    def paintEvent(self, event: QPaintEvent) -> None:
        with foreground.gui_busy():
            super().paintEvent(event)


class TableView(QTableView):
    """A ``QTableView`` over a Python model that paints holding the GIL.

    Qt paints a table by calling the model once or twice per cell shown (``index()``,
    ``multiData()``: a hundred cells, two hundred calls into Python). Called from Qt's C++, each
    call takes the GIL and lets it go again; while other threads run Python (a sync, the warning
    monitor, the reader) each such call waits for them to hand it back — up to a switch interval,
    so a repaint of ~5 ms took 150-500 ms (measured with one or two busy threads). With the paint
    entered from Python (this override), the GUI thread holds the GIL through the whole paint and
    the model's calls are nested calls: ~19 ms with two busy threads. The header likewise (its
    words come from the model's ``headerData()``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        header = _Header(Qt.Orientation.Horizontal, self)
        header.setSectionsClickable(True)  # as QTableView's own header
        header.setHighlightSections(True)
        self.setHorizontalHeader(header)

    def paintEvent(self, event: QPaintEvent) -> None:
        vp = self.viewport()
        if not vp.autoFillBackground():
            # the rows' area fills its own background (the same colour): the theme's style sheet
            # leaves it to the widgets behind, and every repaint of the rows then painted the
            # window, the dock and the panel under them too (set here: a new theme turns it off)
            vp.setAutoFillBackground(True)
        # Each of the model's calls still lets a busy thread take the GIL for a switch interval:
        # background threads give way while the rows are painted (supervision.foreground).
        with foreground.gui_busy():
            super().paintEvent(event)
