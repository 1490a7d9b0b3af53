"""The cases table: every case in the store, a page at a time, sorted and filtered in the database.

``CasesModel`` never holds all cases: it asks the reader for one page (``LIMIT``/``OFFSET`` over
an ``ORDER BY`` on the indexed ``promised_due`` / ``legal_due`` / ``worst_level`` columns the
warning monitor keeps, or on the id, applicant, status…), and for the next page when the view
scrolls to the end (``canFetchMore``/``fetchMore``). A new filter or sort replaces the rows when
its first page arrives; an older request's answer is dropped (the reader's newest-wins channel
plus a generation number here). Time left is in working days (the hall's calendar), coloured:
red past the legal due date, yellow past the promised one, blue when due within a working day.

``CasesPanel`` adds the search box (number, applicant, case type), the state and warning filters,
and a detail pane — stage timeline, suspensions, fee check, ticket, warnings with their history,
evaluations, complaints — with "Show footage" (``footage_requested(window_id, instant)``: the
window's camera at the case's last stage).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.operator.common import TableView, fmt_date, fmt_time
from desktop.operator.queries import (
    CaseDetail,
    CaseFilter,
    CaseItem,
    CasePage,
    HallLayout,
    case_count,
    case_detail,
    case_page,
    hall_layout,
)
from desktop.operator.reader import Reader
from desktop.theme import DARK, Palette
from desktop.words import (
    case_status_text,
    code_text,
    level_text,
    measure_text,
    reject_text,
    stage_text,
    state_text,
    ticket_status_text,
)

__all__ = ["CasesModel", "CasesPanel", "detail_html"]

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
PAGE = 200
NARROW = 1000  # below this width the detail pane goes under the table
_LEVEL_NAMES = {1: "notice", 2: "yellow", 3: "red"}
ID_ROLE = Qt.ItemDataRole.UserRole + 1


class CasesModel(QAbstractTableModel):
    """Cases, fetched a page at a time through the reader."""

    NUMBER, APPLICANT, TYPE, LEFT, WARNING, DUE, LEGAL, STATUS, WINDOW, DEPARTMENT, SUBMITTED = range(11)
    _SORT_OF: ClassVar[dict[int, str]] = {
        NUMBER: "id", APPLICANT: "applicant", TYPE: "case_type_id", DEPARTMENT: "case_type_id",
        WINDOW: "window_id", STATUS: "status", SUBMITTED: "submitted_at", DUE: "promised_due",
        LEFT: "promised_due", LEGAL: "legal_due", WARNING: "worst_level"}

    #: the first page of a new filter or sort is shown: ms from the request
    filter_applied = Signal(float)
    #: how many cases the filter selects (asked after the first page)
    count_known = Signal(int)
    #: a page was appended: (rows now loaded)
    page_loaded = Signal(int)
    #: a query failed: words
    failed = Signal(str)

    def __init__(self, reader: Reader | None, tz: ZoneInfo, *, clock: Callable[[], datetime] | None = None,
                 palette: Palette = DARK, page_size: int = PAGE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))
        self.palette_ = palette
        self.page_size = page_size
        self.filter = CaseFilter()
        self.rows: list[CaseItem] = []
        self.total: int | None = None
        self.at_end = True
        self.layout_ = HallLayout((), (), {})
        self._numbers: dict[str, str] = {}
        self._generation = 0
        self._fetching = False
        self._asked_at = 0.0
        self.last_filter_ms = 0.0  # request → rows shown, for the newest filter

    # -- asking ----------------------------------------------------------------------------------
    def set_layout(self, layout: HallLayout) -> None:
        self.layout_ = layout
        self._numbers = {w.id: w.number for w in layout.windows}
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, self.SUBMITTED))

    def set_filter(self, f: CaseFilter) -> None:
        """Show the cases of ``f`` (the first page replaces the rows when it arrives)."""
        self.filter = f
        self._generation += 1
        gen = self._generation
        self._fetching = True
        if self.reader is None:
            return
        import time

        self._asked_at = time.perf_counter()
        now, tz, limit = self.clock(), self.tz, self.page_size
        self.total = None
        self.reader.submit("cases", lambda s: case_page(s, f, 0, limit, now=now, tz=tz),
                           lambda page: self._first_page(gen, page), self._failed)
        self.reader.submit("cases.count", lambda s: case_count(s, f, now=now, tz=tz),
                           lambda n: self._counted(gen, n), self._failed)

    def refresh(self) -> None:
        """Re-read the rows loaded so far (after a sync or a new snapshot), keeping the scroll place."""
        if self.reader is None:
            return
        f, gen = self.filter, self._generation
        now, tz, limit = self.clock(), self.tz, max(self.page_size, len(self.rows))
        self.reader.submit("cases.refresh", lambda s: case_page(s, f, 0, limit, now=now, tz=tz),
                           lambda page: self._refreshed(gen, page), self._failed)
        self.reader.submit("cases.count", lambda s: case_count(s, f, now=now, tz=tz),
                           lambda n: self._counted(gen, n), self._failed)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self.at_end and not self._fetching

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self.at_end or self._fetching or self.reader is None:
            return
        self._fetching = True
        f, gen, offset = self.filter, self._generation, len(self.rows)
        after = self.rows[-1] if self.rows else None
        now, tz, limit = self.clock(), self.tz, self.page_size
        self.reader.submit("cases", lambda s: case_page(s, f, offset, limit, now=now, tz=tz, after=after),
                           lambda page: self._next_page(gen, page), self._failed)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = self._SORT_OF.get(column)
        if key is None:
            return
        self.set_filter(replace(self.filter, sort=key, descending=order == Qt.SortOrder.DescendingOrder))

    # -- answers ---------------------------------------------------------------------------------
    def _first_page(self, gen: int, page: CasePage) -> None:
        if gen != self._generation:
            return
        import time

        self.beginResetModel()
        self.rows = list(page.items)
        self.at_end = page.at_end
        self._fetching = False
        self.endResetModel()
        self.last_filter_ms = (time.perf_counter() - self._asked_at) * 1000
        self.filter_applied.emit(self.last_filter_ms)

    def _counted(self, gen: int, n: int) -> None:
        if gen == self._generation:
            self.total = n
            self.count_known.emit(n)

    def _next_page(self, gen: int, page: CasePage) -> None:
        if gen != self._generation:
            return
        self._fetching = False
        if page.offset != len(self.rows):
            return
        if page.items:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page.items) - 1)
            self.rows.extend(page.items)
            self.endInsertRows()
        self.at_end = page.at_end
        self.page_loaded.emit(len(self.rows))

    def _refreshed(self, gen: int, page: CasePage) -> None:
        if gen != self._generation or self._fetching:
            return
        new = list(page.items)
        if [r.id for r in new] == [r.id for r in self.rows]:
            self.rows = new
            if new:
                self.dataChanged.emit(self.index(0, 0), self.index(len(new) - 1, self.SUBMITTED))
        else:
            self.beginResetModel()
            self.rows = new
            self.endResetModel()
        self.at_end = page.at_end

    def _failed(self, words: str) -> None:
        self._fetching = False
        self.failed.emit(words)

    # -- the table -------------------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 11

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return (self.tr("Number"), self.tr("Applicant"), self.tr("Case type"), self.tr("Time left"),
                    self.tr("Warning"), self.tr("Promised due"), self.tr("Legal due"), self.tr("State"),
                    self.tr("Window"), self.tr("Department"), self.tr("Submitted"))[section]
        return None

    def left_text(self, r: CaseItem) -> str:
        if r.status == "suspended":
            return self.tr("paused")
        if r.days_left is None:
            return ""
        if r.days_left < 0:
            return self.tr("overdue {n} wd").format(n=-r.days_left)
        if r.days_left == 0:
            return self.tr("due today")
        return self.tr("{n} wd").format(n=r.days_left)

    def left_role(self, r: CaseItem) -> str | None:
        """The colour of the time left: red past the legal due date, yellow past the promised one,
        notice when due within a working day; None otherwise."""
        if r.days_left is None:
            return None
        if r.legal_days_left is not None and r.legal_days_left < 0:
            return "red"
        if r.days_left < 0:
            return "yellow"
        if r.days_left <= 1:
            return "notice"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == ID_ROLE:
            return r.id
        if role == Qt.ItemDataRole.DisplayRole:
            ct = self.layout_.case_types.get(r.case_type_id)
            if col == self.NUMBER:
                return r.id
            if col == self.APPLICANT:
                return r.applicant
            if col == self.TYPE:
                return ct.name if ct else r.case_type_id
            if col == self.DEPARTMENT:
                return ct.department if ct else ""
            if col == self.WINDOW:
                return self._numbers.get(r.window_id or "", r.window_id or "")
            if col == self.STATUS:
                return case_status_text(r.status)
            if col == self.SUBMITTED:
                return fmt_time(r.submitted_at, self.tz, today=self.clock().astimezone(self.tz).date())
            if col == self.DUE:
                return fmt_date(r.promised_due)
            if col == self.LEFT:
                return self.left_text(r)
            if col == self.LEGAL:
                return fmt_date(r.legal_due)
            if col == self.WARNING:
                return level_text(_LEVEL_NAMES[r.worst_level]) if r.worst_level in _LEVEL_NAMES else ""
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == self.LEFT:
                c = self.left_role(r)
                return QColor(getattr(self.palette_, c)) if c else None
            if col == self.WARNING and r.worst_level in _LEVEL_NAMES:
                return QColor(getattr(self.palette_, _LEVEL_NAMES[r.worst_level]))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == self.LEFT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


_SAMPLE_LEFT = (  # the widest things the time-left column says
    CaseItem("", "", "", None, "in_progress", None, None, None, None, 0, -99, -99),
    CaseItem("", "", "", None, "in_progress", None, None, None, None, 0, 0, 0),
    CaseItem("", "", "", None, "in_progress", None, None, None, None, 0, 99, 99),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=False)


def _footage_link(kind: str, ref: str, words: str) -> str:
    """A "show footage" link in the detail pane: ``footage:KIND:REF`` (the panel resolves it)."""
    return f"<a href='footage:{kind}:{quote(ref, safe='')}'>{_e(words)}</a>"


def detail_html(d: CaseDetail, tz: ZoneInfo, p: Palette, today: date) -> str:
    """The detail pane's text (rich text) for one case."""
    tr = _DetailWords()
    out: list[str] = []

    def section(title: str) -> None:
        out.append(f"<h4 style='margin:10px 0 4px 0'>{_e(title)}</h4>")

    def t(at: datetime | None) -> str:
        return _e(fmt_time(at, tz, today=today))

    head = f"{_e(d.id)} · {_e(d.type_name)}"
    out.append(f"<h3 style='margin:0'>{head}</h3>")
    facts = [d.applicant, d.department, tr.window(d.window_number) if d.window_number else "",
             case_status_text(d.status)]
    out.append(f"<p style='margin:2px 0'>{_e(' · '.join(x for x in facts if x))}</p>")
    dues = []
    if d.promised_due:
        dues.append(tr.promised(d.promised_due))
    if d.legal_due:
        dues.append(tr.legal(d.legal_due))
    if dues:
        out.append(f"<p style='margin:2px 0'>{_e(' · '.join(dues))}</p>")

    section(tr.s_stages)
    if d.stages:
        out.append("<table cellspacing='0' cellpadding='2'>")
        for stage, at, by in d.stages:
            link = _footage_link("at", at.isoformat(), tr.footage) if d.window_id else ""
            out.append(f"<tr><td>● {_e(stage_text(stage))}</td><td>{t(at)}</td><td>{_e(by)}</td><td>{link}</td></tr>")
        out.append("</table>")
    else:
        out.append(f"<p style='color:{p.muted}'>{_e(tr.none)}</p>")
    if d.suspensions:
        section(tr.s_suspensions)
        for a, b, reason in d.suspensions:
            span = f"{t(a)} – {t(b) if b else _e(tr.still_open)}"
            out.append(f"<p style='margin:1px 0'>{span} · {_e(reason)}</p>")

    section(tr.s_fee)
    if d.fee_ok is None:
        out.append(f"<p style='color:{p.muted}'>{_e(tr.no_fee)}</p>")
    else:
        colour = p.green if d.fee_ok else p.red
        words = tr.fee_ok(d.fee_charged) if d.fee_ok else tr.fee_bad(d.fee_charged, d.fee_standard)
        out.append(f"<p style='color:{colour}'>{_e(words)}</p>")

    if d.ticket is not None:
        section(tr.s_ticket)
        tk = d.ticket
        bits = [tk.number, ticket_status_text(tk.status), tr.issued(fmt_time(tk.issued_at, tz, today=today))]
        if tk.called_at:
            bits.append(tr.called(fmt_time(tk.called_at, tz, today=today), tk.window_number))
        link = _footage_link("ticket", tk.id, tr.footage)
        out.append(f"<p>{_e(' · '.join(b for b in bits if b))} {link}</p>")

    section(tr.s_warnings)
    if not d.warnings:
        out.append(f"<p style='color:{p.muted}'>{_e(tr.none)}</p>")
    for w in d.warnings:
        colour = {"red": p.red, "yellow": p.yellow, "notice": p.notice}.get(w.max_level, p.text)
        title = f"{level_text(w.max_level)} · {code_text(w.code)} · {state_text(w.state)}"
        link = _footage_link("warning", w.key, tr.footage)
        out.append(f"<p style='margin:4px 0 1px 0'><b style='color:{colour}'>■</b> {_e(title)} {link}</p>")
        lines = [tr.raised(fmt_time(w.since, tz, today=today))]
        if w.red_since and w.max_level == "red":
            lines.append(tr.red_since(fmt_time(w.red_since, tz, today=today)))
        if w.cleared_at:
            lines.append(tr.cleared(fmt_time(w.cleared_at, tz, today=today)))
        for at, action, measure, by, note, terminal, queued in w.actions:
            what = measure_text(measure) if measure else (tr.acknowledged if action == "acknowledge" else action)
            line = f"{fmt_time(at, tz, today=today)} {what} · {by}"
            if terminal:
                line += f" ({terminal})"
            if note:
                line += f": {note}"
            if queued:
                line += " " + tr.queued
            lines.append(line)
        if w.rejected is not None:
            lines.append(tr.rejected(reject_text(w.rejected[0], w.rejected[1])))
        out.append("<p style='margin:0 0 0 14px'>" + "<br>".join(_e(x) for x in lines) + "</p>")

    section(tr.s_evaluations)
    if d.evaluations:
        for at, g, eid in d.evaluations:
            stars = f"{fmt_time(at, tz, today=today)} {'★' * g}{'☆' * (5 - g)}"
            out.append(f"<p style='margin:1px 0'>{_e(stars)} {_footage_link('evaluation', eid, tr.footage)}</p>")
    else:
        out.append(f"<p style='color:{p.muted}'>{_e(tr.none)}</p>")
    section(tr.s_complaints)
    if d.complaints:
        for received, channel, summary, status, cid in d.complaints:
            links = (f"{_footage_link('complaint', cid, tr.footage)} "
                     f"<a href='dossier:{quote(cid, safe='')}'>{_e(tr.dossier)}</a>")
            out.append(f"<p style='margin:1px 0'>{t(received)} · {_e(channel)} · {_e(status)}: {_e(summary)} "
                       f"{links}</p>")
    else:
        out.append(f"<p style='color:{p.muted}'>{_e(tr.none)}</p>")
    return "".join(out)


class _DetailWords(QObject):
    """The detail pane's words (one translation context)."""

    def __init__(self) -> None:
        super().__init__()
        self.s_stages = self.tr("Stages")
        self.s_suspensions = self.tr("Suspensions")
        self.s_fee = self.tr("Fee check")
        self.s_ticket = self.tr("Ticket")
        self.s_warnings = self.tr("Warnings and their history")
        self.s_evaluations = self.tr("Evaluations")
        self.s_complaints = self.tr("Complaints")
        self.footage = self.tr("▶ footage")
        self.dossier = self.tr("evidence dossier…")
        self.none = self.tr("None")
        self.still_open = self.tr("still open")
        self.no_fee = self.tr("No fee recorded")
        self.acknowledged = self.tr("Acknowledged")
        self.queued = self.tr("(not yet sent to the server)")

    def window(self, number: str) -> str:
        return self.tr("Window {number}").format(number=number)

    def promised(self, d: date) -> str:
        return self.tr("Promised by {date}").format(date=d.isoformat())

    def legal(self, d: date) -> str:
        return self.tr("Legal limit {date}").format(date=d.isoformat())

    def fee_ok(self, charged: object) -> str:
        return self.tr("Charged {charged} yuan, the standard fee").format(charged=charged)

    def fee_bad(self, charged: object, standard: object) -> str:
        return self.tr("Charged {charged} yuan, but the standard fee is {fee} yuan").format(
            charged=charged, fee=standard)

    def issued(self, when: str) -> str:
        return self.tr("issued {when}").format(when=when)

    def called(self, when: str, window: str) -> str:
        return self.tr("called {when} to window {window}").format(when=when, window=window)

    def raised(self, when: str) -> str:
        return self.tr("raised {when}").format(when=when)

    def red_since(self, when: str) -> str:
        return self.tr("red since {when}").format(when=when)

    def cleared(self, when: str) -> str:
        return self.tr("cleared {when}").format(when=when)

    def rejected(self, reason: str) -> str:
        return self.tr("The server refused this terminal's action: {reason}").format(reason=reason)


class CasesPanel(QWidget):
    """Search, filters, the cases table and the detail pane.

    ``reader``: the panels' reader; ``tz``: the hall's zone; ``clock``: the terminal's clock.
    """

    #: "show footage": the case's window and the instant of its last stage
    footage_requested = Signal(str, object)
    #: "show footage" of a record in the detail pane: kind ("warning", "ticket", "evaluation",
    #: "complaint") and its id, for ``app.review.footage_target``
    record_footage_requested = Signal(str, str)
    #: a complaint's evidence dossier (证据包) asked for from the detail pane: the complaint's id
    dossier_requested = Signal(str)
    #: the case shown in the detail pane
    case_selected = Signal(str)

    def __init__(self, reader: Reader | None, tz: ZoneInfo, *, clock: Callable[[], datetime] | None = None,
                 palette: Palette = DARK, page_size: int = PAGE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.tz = tz
        self.clock = clock or (lambda: datetime.now(UTC))
        self.palette_ = palette
        self.window_id: str | None = None
        self.detail: CaseDetail | None = None
        self.model = CasesModel(reader, tz, clock=self.clock, palette=palette, page_size=page_size, parent=self)
        self.model.count_known.connect(self._counted)
        self.model.failed.connect(self._failed)

        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._apply)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.search.returnPressed.connect(self._apply)
        self.status = QComboBox()
        for status in ("open", "overdue", "suspended", "completed", "ended", "all"):
            self.status.addItem(status, status)
        self.warning = QComboBox()
        for value in (None, "min:1", "min:2", "eq:3", "eq:2", "eq:1", "eq:0"):
            self.warning.addItem(str(value), value)
        self.department = QComboBox()
        self.department.addItem("", None)
        self.window_chip = QToolButton()
        self.window_chip.clicked.connect(lambda: self.set_window(None))
        self.window_chip.hide()
        for c in (self.status, self.warning, self.department):
            c.currentIndexChanged.connect(self._apply)
        self.count = QLabel()

        self.table = TableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(CasesModel.DUE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        self.table.selectionModel().currentRowChanged.connect(self._row_changed)

        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.anchorClicked.connect(self._link_clicked)
        self.footage = QPushButton()
        self.footage.setEnabled(False)
        self.footage.clicked.connect(self._footage_clicked)
        right = QWidget()
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(0, 0, 0, 0)
        rbox.addWidget(self.browser, 1)
        rbox.addWidget(self.footage)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        filters = QHBoxLayout()
        for w in (self.status, self.warning, self.department, self.window_chip):
            filters.addWidget(w)
        filters.addStretch(1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([640_000, 360_000])  # proportions: the table gets the larger part
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(bar)
        box.addLayout(filters)
        box.addWidget(self.splitter, 1)
        self._show_empty_detail()
        self._retranslate()

    def _retranslate(self) -> None:
        """Every word of the panel in the current language (at start and on a language switch)."""
        self.search.setPlaceholderText(self.tr("Search number, applicant or case type"))
        for i, text in enumerate((self.tr("Open cases"), self.tr("Overdue"), self.tr("Suspended"),
                                  self.tr("Completed"), self.tr("Ended (any way)"), self.tr("All cases"))):
            self.status.setItemText(i, text)
        for i, text in enumerate((self.tr("Any warning state"), self.tr("With a warning"), self.tr("Yellow or red"),
                                  self.tr("Red"), self.tr("Yellow"), self.tr("Notice"), self.tr("No warning"))):
            self.warning.setItemText(i, text)
        self.department.setItemText(0, self.tr("All departments"))
        self.window_chip.setToolTip(self.tr("Show the cases of every window"))
        self.footage.setText(self.tr("Show footage"))
        self.footage.setToolTip(self.tr("Open the recorded footage of the case's window at its last stage"))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, CasesModel.SUBMITTED)
        self.model.layoutChanged.emit()
        self._size_columns()
        self._update_chip()
        if self.model.total is not None:
            self._counted(self.model.total)
        if self.detail is not None:
            self._show_detail(self.detail)
        else:
            self._show_empty_detail()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Detail beside the table when there is room, below it in a narrow dock."""
        super().resizeEvent(event)
        want = Qt.Orientation.Horizontal if self.width() >= NARROW else Qt.Orientation.Vertical
        if self.splitter.orientation() != want:
            self.splitter.setOrientation(want)
            self.splitter.setSizes([640_000, 360_000])

    def _size_columns(self) -> None:
        """Widths from what the columns show in the current language (never by measuring rows)."""
        fm = self.table.fontMetrics()
        m = CasesModel
        longest = max((m.left_text(self.model, _SAMPLE_LEFT[i]) for i in range(len(_SAMPLE_LEFT))),
                      key=fm.horizontalAdvance)
        for col, sample in ((m.NUMBER, "C-20261130-00000"), (m.APPLICANT, "鞍山**房地产开发有限公司"),
                            (m.TYPE, "建设项目用地预审与选址"), (m.LEFT, longest),
                            (m.WARNING, level_text("yellow")), (m.DUE, "2026-12-31"), (m.LEGAL, "2026-12-31"),
                            (m.STATUS, case_status_text("in_progress")), (m.WINDOW, "A00"),
                            (m.DEPARTMENT, "人力资源和社会保障局"), (m.SUBMITTED, "12-31 23:59")):
            head = str(self.model.headerData(col, Qt.Orientation.Horizontal))
            self.table.setColumnWidth(col, max(fm.horizontalAdvance(sample), fm.horizontalAdvance(head) + 14) + 16)

    # -- feeding ---------------------------------------------------------------------------------
    @Slot()
    def refresh(self) -> None:
        """Re-read the layout (first time) and the loaded rows (after each sync / new snapshot)."""
        if self.reader is None:
            return
        if not self.model.layout_.windows:
            self.reader.submit("cases.layout", hall_layout, self._set_layout)
            self._apply()
        else:
            self.model.refresh()
        if self.detail is not None:
            self.show_case(self.detail.id)

    def _set_layout(self, layout: HallLayout) -> None:
        self.model.set_layout(layout)
        current = self.department.currentData()
        self.department.blockSignals(True)
        self.department.clear()
        self.department.addItem(self.tr("All departments"), None)
        for d in layout.departments:
            self.department.addItem(d, d)
        self.department.setCurrentIndex(max(0, self.department.findData(current)))
        self.department.blockSignals(False)
        self._update_chip()

    @Slot(object)
    def set_window(self, window_id: str | None) -> None:
        """Only this window's cases (None: all) — the lights board's click."""
        self.window_id = window_id
        self._update_chip()
        self._apply()

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self.model.palette_ = palette
        self.model.layoutChanged.emit()
        if self.detail is not None:
            self._show_detail(self.detail)

    def current_filter(self) -> CaseFilter:
        level = self.warning.currentData()
        min_level, only = 0, None
        if isinstance(level, str):
            kind, _, n = level.partition(":")
            if kind == "min":
                min_level = int(n)
            else:
                only = int(n)
        return CaseFilter(
            search=self.search.text().strip(), status=str(self.status.currentData()), min_level=min_level,
            only_level=only, window_id=self.window_id, department=self.department.currentData(),
            sort=self.model.filter.sort, descending=self.model.filter.descending,
        )

    def _apply(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.current_filter())

    def _counted(self, total: int) -> None:
        self.count.setText(self.tr("{n} cases").format(n=total))

    def _failed(self, words: str) -> None:
        self.count.setText(self.tr("The cases could not be read; the log has the details"))

    def _update_chip(self) -> None:
        if self.window_id is None:
            self.window_chip.hide()
            return
        info = self.model.layout_.window(self.window_id)
        self.window_chip.setText(self.tr("Window {number} ✕").format(
            number=info.number if info else self.window_id))
        self.window_chip.show()

    # -- detail ----------------------------------------------------------------------------------
    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_case(str(current.data(ID_ROLE)))

    def show_case(self, case_id: str) -> None:
        """Read and show one case's detail."""
        if self.reader is None:
            return
        self.reader.submit("cases.detail", lambda s: case_detail(s, case_id), self._show_detail)

    def _show_detail(self, d: CaseDetail | None) -> None:
        if d is None:
            self._show_empty_detail()
            return
        self.detail = d
        today = self.clock().astimezone(self.tz).date()
        self.browser.setHtml(detail_html(d, self.tz, self.palette_, today))
        self.footage.setEnabled(bool(d.window_id) and d.footage_at is not None)
        self.case_selected.emit(d.id)

    def _show_empty_detail(self) -> None:
        self.detail = None
        words = self.tr("Select a case to see its stages, warnings and history.")  # lupdate reads no f-string
        self.browser.setHtml(f"<p style='color:{self.palette_.muted}'>{_e(words)}</p>")
        self.footage.setEnabled(False)

    def _link_clicked(self, url: QUrl) -> None:
        """A link of the detail pane: ``footage:KIND:REF`` ("at" is an instant of the case's window)
        or ``dossier:COMPLAINT``."""
        text = url.toString()
        d = self.detail
        if text.startswith("dossier:"):
            self.dossier_requested.emit(unquote(text.removeprefix("dossier:")))
            return
        if not text.startswith("footage:"):
            return
        kind, _, ref = text.removeprefix("footage:").partition(":")
        ref = unquote(ref)
        if kind == "at":
            if d is not None and d.window_id:
                try:
                    self.footage_requested.emit(d.window_id, datetime.fromisoformat(ref))
                except ValueError:
                    log.warning("a footage link with a bad instant: %r", ref)
            return
        self.record_footage_requested.emit(kind, ref)

    def _footage_clicked(self) -> None:
        d = self.detail
        if d is not None and d.window_id and d.footage_at is not None:
            self.footage_requested.emit(d.window_id, d.footage_at)
