"""The queue panel: tickets waiting per business type (and window), the longest and average wait,
and today's issued, served, missed and transferred tickets.

Read through the reader on ``refresh()`` — the lead calls it whenever a sync round applied
changes (the snapshot's generation moved) — and on a slow timer, so waits keep growing on screen
between syncs. ``set_window`` scopes it to one window (its tickets and its department's business
types), as the lights board's click does.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QGridLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from desktop.operator.common import TableView, fmt_duration
from desktop.operator.queries import HallLayout, QueueStats, hall_layout, queue_stats
from desktop.operator.reader import Reader
from desktop.theme import DARK, Palette
from desktop.words import ticket_status_text

__all__ = ["QueueModel", "QueuePanel"]

_Index = QModelIndex | QPersistentModelIndex
WAIT_LIMIT_S = 30 * 60  # WAIT_LONG's default: a wait above it is shown in yellow


class QueueModel(QAbstractTableModel):
    TYPE, DEPARTMENT, WINDOW, WAITING, LONGEST, AVERAGE = range(6)

    def __init__(self, palette: Palette = DARK, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.palette_ = palette
        self.stats: QueueStats | None = None
        self.resets = 0  # how often the rows were rebuilt whole (for tests)

    def set_stats(self, stats: QueueStats) -> None:
        """Show new figures: when the rows are the same business types and windows in the same
        order (as between most syncs), only the rows whose figures changed are signalled."""
        old = self.stats
        if old is not None and [(r.case_type_id, r.window_id) for r in old.rows] == [
                (r.case_type_id, r.window_id) for r in stats.rows]:
            self.stats = stats
            for i, (a, b) in enumerate(zip(old.rows, stats.rows, strict=True)):
                if a != b:
                    self.dataChanged.emit(self.index(i, 0), self.index(i, self.AVERAGE))
            return
        self.beginResetModel()
        self.stats = stats
        self.endResetModel()
        self.resets += 1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.stats is None else len(self.stats.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 6

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Business type"), self.tr("Department"), self.tr("Window"), self.tr("Waiting"),
                    self.tr("Longest wait"), self.tr("Average wait"))[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.stats is None:
            return None
        r = self.stats.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:  # the column asked for only (called for every cell)
            if col == self.TYPE:
                return r.type_name or self.tr("(no business type)")
            if col == self.DEPARTMENT:
                return r.department
            if col == self.WINDOW:
                return r.window_number
            if col == self.WAITING:
                return str(r.waiting)
            return fmt_duration(r.longest_s if col == self.LONGEST else r.average_s)
        if role == Qt.ItemDataRole.ForegroundRole and col == self.LONGEST and r.longest_s > WAIT_LIMIT_S:
            return QColor(self.palette_.yellow)
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= self.WAITING:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class QueuePanel(QWidget):
    """``reader``: the panels' reader; ``tz``: the hall's zone; ``clock``: now (the terminal's clock,
    so the demo's clock is honoured); ``tick_seconds``: how often waits are re-read without a sync."""

    def __init__(self, reader: Reader | None, tz: ZoneInfo, *, clock: Callable[[], datetime] | None = None,
                 palette: Palette = DARK, tick_seconds: float = 30.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))
        self.palette_ = palette
        self.window_id: str | None = None
        self._layout = HallLayout((), (), {})
        self.model = QueueModel(palette, self)
        self.figures: dict[str, QLabel] = {}
        grid = QGridLayout()
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.captions: dict[str, QLabel] = {}
        for i, key in enumerate(("waiting", "longest", "average", "issued", "missed", "transferred")):
            value = QLabel("–")
            value.setFont(big)
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption = QLabel()
            self.captions[key] = caption
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(value, 0, i)
            grid.addWidget(caption, 1, i)
            self.figures[key] = value
        self.scope = QLabel()
        self.serving = QLabel()
        self.serving.setWordWrap(True)
        self.table = TableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QTableView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.scope)
        box.addLayout(grid)
        box.addWidget(self.table, 1)
        box.addWidget(self.serving)
        self._timer = QTimer(self)
        self._timer.setInterval(int(tick_seconds * 1000))
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self._retranslate()

    def _retranslate(self) -> None:
        for key, text in (("waiting", self.tr("Waiting")), ("longest", self.tr("Longest wait")),
                          ("average", self.tr("Average wait")), ("issued", self.tr("Issued today")),
                          ("missed", self.tr("Missed today")), ("transferred", self.tr("Transferred today"))):
            self.captions[key].setText(text)
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, QueueModel.AVERAGE)
        self.model.layoutChanged.emit()
        self._update_scope()
        if self.model.stats is not None:
            self.set_stats(self.model.stats)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    @Slot()
    def refresh(self) -> None:
        """Re-read the queue (call on every sync round; also runs on its own slow timer)."""
        if self.reader is None:
            return
        if not self._layout.windows:
            self.reader.submit("queue.layout", hall_layout, self._set_layout)
        now, tz, wid = self.clock(), self.tz, self.window_id
        info = self._layout.window(wid)
        dept = info.department if info is not None else None
        self.reader.submit("queue", lambda s: queue_stats(s, now, tz, window_id=wid, department=dept), self.set_stats)

    def _set_layout(self, layout: HallLayout) -> None:
        self._layout = layout
        self._update_scope()
        if self.window_id is not None:
            self.refresh()

    @Slot(object)
    def set_window(self, window_id: str | None) -> None:
        """Only this window's queue (None: the whole hall)."""
        self.window_id = window_id
        self._update_scope()
        self.refresh()

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self.model.palette_ = palette
        self.model.layoutChanged.emit()

    def set_stats(self, st: QueueStats) -> None:
        self.model.set_stats(st)
        self.table.setColumnHidden(QueueModel.WINDOW, not any(r.window_id for r in st.rows))
        self.figures["waiting"].setText(str(st.waiting))
        self.figures["longest"].setText(fmt_duration(st.longest_s) if st.waiting else "–")
        self.figures["average"].setText(fmt_duration(st.average_s) if st.waiting else "–")
        self.figures["issued"].setText(str(st.issued_today))
        self.figures["missed"].setText(str(st.missed_today))
        self.figures["transferred"].setText(str(st.transferred_today))
        long = st.longest_s > WAIT_LIMIT_S
        style = f"color: {self.palette_.yellow};" if long else ""
        if self.figures["longest"].styleSheet() != style:  # a new style sheet re-polishes the label
            self.figures["longest"].setStyleSheet(style)
        if st.serving:
            items = self.tr(", ").join(self.tr("{window}: {ticket} ({status})").format(
                window=w, ticket=n, status=ticket_status_text(s)) for w, n, s in st.serving[:12])
            more = len(st.serving) - 12
            self.serving.setText(self.tr("Being served: {items}").format(items=items)
                                 + (self.tr(" and {n} more").format(n=more) if more > 0 else ""))
        else:
            self.serving.setText(self.tr("Nobody is being served right now"))

    def stats(self) -> QueueStats | None:
        return self.model.stats

    def _update_scope(self) -> None:
        if self.window_id is None:
            self.scope.setText(self.tr("Whole hall"))
            return
        info = self._layout.window(self.window_id)
        if info is None:
            self.scope.setText(self.tr("Window {number}").format(number=self.window_id))
        else:
            self.scope.setText(self.tr("Window {number} · {department}").format(
                number=info.number, department=info.department))
