"""The performance panel (绩效评估): on-time rate trend, yellow/red cards by department,
satisfaction (好差评), and the ranking of windows and departments — for a day, week, month or a
custom period.

Figures are computed with ``supervision.performance`` on the reader's slow worker (the evaluator
is built once per request: a month over 100 000 cases takes seconds, and the other panels' quick
questions do not wait behind it); charts are pyqtgraph plots on plain widgets (never a GL widget).
A panel not seen yet (a tab behind another) computes nothing until it is first seen: judging
every case is the largest piece of work, and of memory, a window's start would otherwise do. Its
charts (pyqtgraph: ~40 MB imported and built) are made when its first figures come.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.operator.queries import PerfResult, performance
from desktop.operator.reader import Reader
from desktop.theme import DARK, Palette
from supervision.performance import Performance

if TYPE_CHECKING:
    import pyqtgraph as pg

__all__ = ["PerformancePanel", "period_bounds"]

TREND_DAYS = 14  # the trend shows at least this many days
# While seen, the figures follow the store (a sync page, a local act) at most this often: a
# period's figures judge every case in it, on the reader.
REFRESH_S = 30.0
NARROW = 900  # below this width the charts go one above the other


def period_bounds(kind: str, today: date, custom: tuple[date, date] | None = None) -> tuple[date, date]:
    """The local days ``[start, end]`` of a period: "day" (today), "week" (Monday to today),
    "month" (the 1st to today) or "custom"."""
    if kind == "week":
        return today - timedelta(days=today.weekday()), today
    if kind == "month":
        return today.replace(day=1), today
    if kind == "custom" and custom is not None:
        a, b = custom
        return (a, b) if a <= b else (b, a)
    return today, today


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


class PerformancePanel(QWidget):
    """``reader``: a reader (its own, ideally); ``tz``: the hall's zone; ``clock``: the terminal's clock."""

    #: a new result is shown
    computed = Signal(object)

    def __init__(self, reader: Reader | None, tz: ZoneInfo, *, clock: Callable[[], datetime] | None = None,
                 palette: Palette = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))
        self.palette_ = palette
        self.result: PerfResult | None = None
        self._asked = False  # refresh() was called (else the first time it is seen asks: seen())
        self._refreshed_at = float("-inf")  # time.monotonic() of the last refresh()
        self._due = QTimer(self)  # the next refresh after the store changed (store_changed)
        self._due.setSingleShot(True)
        self._due.timeout.connect(self._refresh_due)
        self._titles: dict[str, str] = {}

        self.period = QComboBox()
        for kind in ("day", "week", "month", "custom"):
            self.period.addItem(kind, kind)
        today = self._today()
        self.start_edit = QDateEdit(QDate(today.year, today.month, 1))
        self.end_edit = QDateEdit(QDate(today.year, today.month, today.day))
        for e in (self.start_edit, self.end_edit):
            e.setCalendarPopup(True)
            e.setDisplayFormat("yyyy-MM-dd")
            e.setEnabled(False)
            e.dateChanged.connect(self._custom_changed)
        self.period.setCurrentIndex(1)  # this week: a day alone is often empty (mornings, weekends)
        self.period.currentIndexChanged.connect(self._period_changed)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.busy = QLabel()

        # the charts: made with the first figures (_charts)
        self.trend: pg.PlotWidget
        self.cards: pg.PlotWidget
        self.satisfaction: pg.PlotWidget
        self._charted = False
        self.rank_windows = self._table()
        self.rank_departments = self._table()
        self.ranking = QTabWidget()
        self.ranking.addTab(self.rank_departments, "")
        self.ranking.addTab(self.rank_windows, "")
        self.period_label = QLabel()

        bar = QHBoxLayout()
        bar.addWidget(self.period_label)
        bar.addWidget(self.period)
        bar.addWidget(self.start_edit)
        bar.addWidget(QLabel("–"))
        bar.addWidget(self.end_edit)
        bar.addWidget(self.busy)
        bar.addStretch(1)
        self.grid = QGridLayout()
        self._columns = 0
        charts = QWidget()
        charts.setLayout(self.grid)
        self.charts_area = QScrollArea()
        self.charts_area.setWidgetResizable(True)
        self.charts_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.charts_area.setWidget(charts)
        self._arrange(2)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(bar)
        box.addWidget(self.summary)
        box.addWidget(self.charts_area, 1)
        self._retranslate()

    def _arrange(self, columns: int) -> None:
        """The four blocks in a 2×2 grid, or one above the other (scrolling) in a narrow dock."""
        if columns == self._columns:
            return
        self._columns = columns
        blocks = (self.trend, self.ranking, self.cards, self.satisfaction) if self._charted else (self.ranking,)
        for w in blocks:
            self.grid.removeWidget(w)
        for i, w in enumerate(blocks):
            self.grid.addWidget(w, i // columns, i % columns)
            w.setMinimumHeight(180 if columns == 2 else 240)
        for c in range(2):
            self.grid.setColumnStretch(c, 1 if c < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(2 if self.width() >= NARROW else 1)

    def _retranslate(self) -> None:
        """Every word of the panel in the current language (at start and on a language switch)."""
        for i, text in enumerate((self.tr("Today"), self.tr("This week"), self.tr("This month"),
                                  self.tr("Custom period"))):
            self.period.setItemText(i, text)
        self.period_label.setText(self.tr("Period"))
        self._titles = {"trend": self.tr("On-time rate by day (%)"),
                        "cards": self.tr("Yellow and red cards by department"),
                        "satisfaction": self.tr("Satisfaction by department (%)")}
        self.ranking.setTabText(0, self.tr("Departments"))
        self.ranking.setTabText(1, self.tr("Windows"))
        for t in (self.rank_departments, self.rank_windows):
            t.setHorizontalHeaderLabels([self.tr("Name"), self.tr("Score"), self.tr("On time"),
                                         self.tr("Satisfaction"), self.tr("Yellow"), self.tr("Red")])
        self._apply_palette()
        if self.result is not None:
            self.set_result(self.result, announce=False)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def _charts(self) -> None:
        """The three charts, made once (with the first figures)."""
        if self._charted:
            return
        self.trend = self._plot()
        self.trend.setYRange(0, 105)
        self.cards = self._plot()
        self.satisfaction = self._plot()
        self.satisfaction.setXRange(0, 100)
        self._charted = True
        columns, self._columns = self._columns or 2, 0
        self._arrange(columns)
        self._apply_palette()

    def _plot(self) -> pg.PlotWidget:
        import pyqtgraph as pg

        w = pg.PlotWidget()
        w.setMenuEnabled(False)
        w.setMouseEnabled(x=False, y=False)
        w.hideButtons()
        w.showGrid(x=False, y=True, alpha=0.25)
        w.setMinimumSize(280, 180)
        return w

    def _table(self) -> QTableWidget:
        t = QTableWidget(0, 6)
        t.verticalHeader().setVisible(True)
        t.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        t.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 6):
            t.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        return t

    # -- period ----------------------------------------------------------------------------------
    def bounds(self) -> tuple[date, date]:
        kind = str(self.period.currentData())
        custom = (self.start_edit.date().toPython(), self.end_edit.date().toPython())
        return period_bounds(kind, self._today(), custom)  # type: ignore[arg-type]

    @Slot(str)
    def set_period(self, kind: str, start: date | None = None, end: date | None = None) -> None:
        """"day", "week", "month" or "custom" (with ``start``/``end``)."""
        if start is not None and end is not None:
            self._show_dates(start, end)
        idx = self.period.findData(kind)
        if idx < 0:
            raise ValueError(f"unknown period {kind!r}")
        if idx == self.period.currentIndex():
            self._period_changed()
        else:
            self.period.setCurrentIndex(idx)

    def _show_dates(self, start: date, end: date) -> None:
        """Put ``start``/``end`` in the date fields without asking for figures."""
        for e, d in ((self.start_edit, start), (self.end_edit, end)):
            e.blockSignals(True)
            e.setDate(QDate(d.year, d.month, d.day))
            e.blockSignals(False)

    def _period_changed(self) -> None:
        custom = self.period.currentData() == "custom"
        self.start_edit.setEnabled(custom)
        self.end_edit.setEnabled(custom)
        self.refresh()

    def _custom_changed(self) -> None:
        if self.period.currentData() == "custom":
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Compute the figures of the chosen period (on the reader)."""
        if self.reader is None:
            return
        self._asked = True
        self._refreshed_at = time.monotonic()
        start, end = self.bounds()
        if self.period.currentData() != "custom":  # the (disabled) dates say the period's days
            self._show_dates(start, end)
        trend_start = min(start, end - timedelta(days=TREND_DAYS - 1))
        tz = self.tz
        self.busy.setText(self.tr("Computing…"))
        self.reader.submit("performance", lambda s: performance(s, tz, start, end, trend_start=trend_start),
                           self.set_result, self._failed, slow=True)

    def store_changed(self) -> None:
        """The store changed (a sync page, a local act: the window's snapshots say so). Seen, the
        figures are computed again — at once if the last time was ``REFRESH_S`` ago, else then;
        not seen, when next seen. (They were computed once, when first seen: a panel opened during
        the first sync kept that moment's figures all day.)"""
        if self.reader is None or not self._asked:
            return  # never seen yet: computed when first seen
        if self.visibleRegion().isEmpty():
            self._asked = False  # behind another tab: seen() computes them when it shows
            return
        if not self._due.isActive():
            wait = REFRESH_S - (time.monotonic() - self._refreshed_at)
            self._due.start(max(0, int(wait * 1000)))

    def _refresh_due(self) -> None:
        if self.visibleRegion().isEmpty():
            self._asked = False
        else:
            self.refresh()

    def seen(self, visible: bool = True) -> None:
        """The panel is (or is not) on screen now — its dock's ``visibilityChanged``: the first time
        it is, its figures are computed (a tab behind another is shown to Qt, but not seen)."""
        if visible and not self._asked:
            self.refresh()

    def _failed(self, words: str) -> None:
        self.busy.setText(self.tr("The figures could not be computed; the log has the details"))

    # -- painting --------------------------------------------------------------------------------
    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self._apply_palette()
        if self.result is not None:
            self.set_result(self.result, announce=False)

    def _apply_palette(self) -> None:
        if not self._charted:
            return
        import pyqtgraph as pg

        p = self.palette_
        for name, w in (("trend", self.trend), ("cards", self.cards), ("satisfaction", self.satisfaction)):
            w.setBackground(QColor(p.background))
            for side in ("left", "bottom"):
                ax = w.getAxis(side)
                ax.setPen(pg.mkPen(p.muted))
                ax.setTextPen(pg.mkPen(p.text))
            title = self._titles.get(name, "")
            if w is self.cards:
                yellow, red = self.tr("Yellow"), self.tr("Red")  # outside the f-string: lupdate reads no f-string
                title += (f" &nbsp; <span style='color:{p.yellow}'>■</span> {yellow}"
                          f" &nbsp; <span style='color:{p.red}'>■</span> {red}")
            w.setTitle(title, color=p.text)

    def set_result(self, r: PerfResult, *, announce: bool = True) -> None:
        import pyqtgraph as pg

        self._charts()
        self.result = r
        self.busy.setText("")
        p = self.palette_
        total = Performance()
        for perf in r.report.windows.values():
            total.completed += perf.completed
            total.on_time += perf.on_time
            total.evaluations += perf.evaluations
            total.satisfied += perf.satisfied
            total.bad_reviews.extend(perf.bad_reviews)
            total.yellow += perf.yellow
            total.red += perf.red
        good = total.satisfied
        bad = len(total.bad_reviews)
        self.summary.setText(self.tr(
            "{start} – {end}: {completed} completed, on time {on_time}; {evaluations} evaluations, "
            "satisfied {satisfaction} ({good} good, {bad} bad); {yellow} yellow and {red} red cards").format(
            start=r.start.isoformat(), end=r.end.isoformat(), completed=total.completed,
            on_time=_pct(total.on_time_rate), evaluations=total.evaluations,
            satisfaction=_pct(total.satisfaction), good=good, bad=bad, yellow=total.yellow, red=total.red))

        # trend
        self.trend.clear()
        xs = [i for i, (_d, rate, _n) in enumerate(r.trend) if rate is not None]
        ys = [r.trend[i][1] * 100 for i in xs]  # type: ignore[operator]
        if xs:
            self.trend.plot(xs, ys, pen=pg.mkPen(p.notice, width=2), symbol="o", symbolSize=6,
                            symbolBrush=QColor(p.notice), symbolPen=None)
        ticks = [(i, d.strftime("%m-%d")) for i, (d, _rate, _n) in enumerate(r.trend)]
        step = max(1, len(ticks) // 7)
        self.trend.getAxis("bottom").setTicks([ticks[::step], ticks])
        self.trend.setXRange(-0.5, max(len(ticks) - 0.5, 0.5), padding=0)
        self.trend.setYRange(0, 105, padding=0)

        depts = sorted((d for d in r.report.departments if d), key=lambda d: d)
        # yellow / red by department: horizontal bars, names on the left axis
        self.cards.clear()
        ys_ = list(range(len(depts)))
        yellow = [r.report.departments[d].yellow for d in depts]
        red = [r.report.departments[d].red for d in depts]
        if depts:
            self.cards.addItem(pg.BarGraphItem(x0=0, y=[y - 0.18 for y in ys_], width=yellow, height=0.34,
                                               brush=QColor(p.yellow), pen=None))
            self.cards.addItem(pg.BarGraphItem(x0=0, y=[y + 0.18 for y in ys_], width=red, height=0.34,
                                               brush=QColor(p.red), pen=None))
        self.cards.getAxis("left").setTicks([[(y, d) for y, d in zip(ys_, depts, strict=True)]])
        self.cards.setYRange(-0.6, max(len(depts) - 0.4, 0.6), padding=0)
        top = max([*yellow, *red, 1])
        self.cards.setXRange(0, top * 1.1, padding=0)
        step = max(1, round(top / 6))
        self.cards.getAxis("bottom").setTicks([[(v, str(v)) for v in range(0, top + 1, step)]])

        # satisfaction by department
        self.satisfaction.clear()
        sat = [(r.report.departments[d].satisfaction or 0) * 100 for d in depts]
        if depts:
            self.satisfaction.addItem(pg.BarGraphItem(x0=0, y=ys_, width=sat, height=0.6,
                                                      brush=QColor(p.green), pen=None))
        self.satisfaction.getAxis("left").setTicks([[(y, d) for y, d in zip(ys_, depts, strict=True)]])
        self.satisfaction.setYRange(-0.6, max(len(depts) - 0.4, 0.6), padding=0)
        self.satisfaction.setXRange(0, 100, padding=0)

        self._fill_ranking(self.rank_departments, {d: perf for d, perf in r.report.departments.items() if d})
        windows = {r.window_numbers.get(w, w): perf for w, perf in r.report.windows.items() if w}
        self._fill_ranking(self.rank_windows, windows)
        if announce:
            self.computed.emit(r)

    def _fill_ranking(self, table: QTableWidget, rows: dict[str, Performance]) -> None:
        ranked = sorted(rows.items(), key=lambda kv: (-kv[1].score, -(kv[1].on_time_rate or 0), kv[0]))
        table.setRowCount(len(ranked))
        bold = QFont(table.font())
        bold.setBold(True)
        for i, (name, perf) in enumerate(ranked):
            cells: list[Any] = [name, f"{perf.score:.0f}", _pct(perf.on_time_rate), _pct(perf.satisfaction),
                                str(perf.yellow), str(perf.red)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(str(text))
                if c > 0:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 1:
                    item.setFont(bold)
                if c == 4 and perf.yellow:
                    item.setForeground(QColor(self.palette_.yellow))
                if c == 5 and perf.red:
                    item.setForeground(QColor(self.palette_.red))
                table.setItem(i, c, item)

    def ranking_rows(self, which: str = "departments") -> list[list[str]]:
        """The ranking table's text, top first (for tests and export)."""
        t = self.rank_departments if which == "departments" else self.rank_windows
        out = []
        for r in range(t.rowCount()):
            out.append([(it.text() if (it := t.item(r, c)) is not None else "") for c in range(t.columnCount())])
        return out
