"""The warnings list: every warning in force, filtered, acknowledged (签收) and disposed
(督办 / 纠错 / 说明 with a required note) through the terminal's executor.

The rows come from the warning monitor's snapshot (no database on the GUI thread); what the
snapshot does not carry — the push state of this terminal's last action on each warning (queued in
the outbox, applied, or rejected by the server with its reason), and each subject's department and
label — is read through the reader after every new snapshot. A NEW red card (one not in the
previous snapshot, or one that rose again) rings the :class:`~desktop.operator.alarm.Alarm`.
"""

from __future__ import annotations

import getpass
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QModelRoleData,
    QModelRoleDataSpan,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.operator.alarm import Alarm
from desktop.operator.common import TableView, WarningActions, fmt_time, ink_on
from desktop.operator.queries import HallLayout, PushState, WarningExtras, hall_layout, warning_extras
from desktop.operator.reader import Reader
from desktop.operator.snapshot import (
    RelayedSnapshot,
    RowChanges,
    SnapshotLike,
    active_reds,
    diff_views,
    new_reds,
    row_numbers,
)
from desktop.theme import DARK, Palette
from desktop.words import (
    action_error_text,
    code_text,
    detail_text,
    level_text,
    measure_text,
    reject_text,
    state_text,
    subject_type_text,
)
from supervision.lifecycle import WarningView
from supervision.seats import snapshot_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["DisposeDialog", "WarningsFilter", "WarningsModel", "WarningsPanel"]

log = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
LEVELS = ("red", "yellow", "notice")
STATES = ("active", "acknowledged", "disposed")
CODES = ("DUE_SOON", "OVERDUE", "STAGE_LATE", "FEE_MISMATCH", "STAGE_SKIPPED", "SUSPENDED_LONG", "WAIT_LONG",
         "POST_LEFT")
MEASURES = ("supervise", "correct", "explain")
KEY_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
FILTER_ROLE = Qt.ItemDataRole.UserRole + 3  # the row's key for WarningsFilter (filter_key)
_ROLES = frozenset(int(r) for r in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.BackgroundRole,
                                     Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole,
                                     KEY_ROLE, SORT_ROLE, FILTER_ROLE))  # what WarningsModel.data answers
_SEP = "\x1f"  # between the fields of a filter key (in no code, id or name)
_LEVEL_RANK = {"notice": 1, "yellow": 2, "red": 3}
EXTRAS_FULL_S = 60.0  # every push state is read again at least this often
SUBJECTS_FULL_S = 600.0  # every subject's department and label, at least this often
ALARM_LINES = 5  # new reds named in the alarm's message (the rest are counted)
RESET_ABOVE = 400  # row signals above which a new snapshot rebuilds the rows whole (cheaper then)
# rows inserted or removed in more places than this: the rows are rebuilt whole (the panel keeps the
# selection and the scroll place by key). Each insert or remove makes the filter, the view and its
# header move every row after it: a sync's snapshot brings ~100 places, 3-8 ms of GUI thread.
RESET_ABOVE_PLACES = 8
ROW_CACHE_MAX = 2000  # rows whose painted words and colours are kept (the rows painted lately)
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_NO_INK: tuple[QColor | None, ...] = (None,) * 10


class WarningsModel(QAbstractTableModel):
    """The snapshot's warnings as a table (one row per warning in force)."""

    LEVEL, RULE, SUBJECT, WINDOW, DEPARTMENT, SINCE, STATE, HANDLED, PUSH, DETAIL = range(10)

    def __init__(self, tz: ZoneInfo, palette: Palette = DARK, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.palette_ = palette
        self.views: Sequence[WarningView] = []
        self._source: Sequence[WarningView] | None = None  # the sequence given to set_views last
        self.extras = WarningExtras({}, {}, {})
        self.layout_ = HallLayout((), (), {})
        self._numbers: dict[str, str] = {}
        self._row_of: Mapping[str, int] = {}
        self._today: date | None = None
        self.sort_column = -1  # -1: the snapshot's order (reds first, then by time raised)
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._sort_keys: dict[str, tuple[WarningView, Any]] = {}  # key → (view, its sort key)
        self.resets = 0  # how often the rows were rebuilt whole (for tests and figures)
        self.row_updates = 0  # row signals sent instead
        # what a row paints — (view, words per column, background of the level cell, ink per
        # column) — by key, made when the row is first painted and kept while its view is the
        # same object: a repaint then answers each cell from a tuple (see multiData)
        self._painted: dict[str, tuple[WarningView, tuple[str, ...], QColor, tuple[QColor | None, ...]]] = {}
        self._headers: list[str] | None = None

    def headers(self) -> list[str]:
        if self._headers is None:  # (a view asks them again after every rebuild: words kept per language)
            self._headers = self._header_words()
        return self._headers

    def _header_words(self) -> list[str]:
        return [self.tr("Level"), self.tr("Rule"), self.tr("Subject"), self.tr("Window"), self.tr("Department"),
                self.tr("Since"), self.tr("State"), self.tr("Handled by"), self.tr("Push"), self.tr("Detail")]

    # -- feeding ---------------------------------------------------------------------------------
    def set_views(self, views: Sequence[WarningView], at: datetime | None = None,
                  changes: RowChanges | None = None, base: Sequence[WarningView] | None = None) -> None:
        """Show ``views`` (display order). Only what differs from the rows shown is signalled —
        rows removed, inserted and changed — so the views keep their selection and scroll place
        and the filter looks at the rows that changed only. ``changes``: the difference from
        ``base`` worked out already (off the GUI thread: :class:`SnapshotRelay`); used when
        ``base`` is what the model shows, else it is worked out here."""
        today = at.astimezone(self.tz).date() if at is not None else None
        source = views
        if self.sort_column >= 0:  # sorted by a column: the rows in that order (keys kept per view)
            views = self._sorted(views)
            changes = diff_views(self.views, views, self._row_of)
        elif changes is None or base is None or base is not self._source:
            changes = diff_views(self.views, views, self._row_of)
        self._apply(views, changes, source, today)

    def _apply(self, views: Sequence[WarningView], changes: RowChanges, source: Sequence[WarningView],
               today: date | None) -> None:
        """Turn the rows into ``views`` by ``changes`` (or rebuild them when that is cheaper)."""
        # one copy of the new rows (the monitor's views are a sequence of blocks: slicing it per
        # range would copy every view each time); the model's own, changed in place next time
        new_rows = list(views)
        if (changes.operations > RESET_ABOVE or len(changes.removed) + len(changes.inserted) > RESET_ABOVE_PLACES
                or not self.views):
            if today != self._today:
                self._painted.clear()
            self.beginResetModel()
            self.views, self._source, self._row_of, self._today = new_rows, source, changes.row_of, today
            self.endResetModel()
            self.resets += 1
            return
        rows = self.views if isinstance(self.views, list) else list(self.views)
        self.views = rows
        for first, last in changes.removed:  # last first: the rows above stay where they are
            self.beginRemoveRows(QModelIndex(), first, last)
            del rows[first : last + 1]
            self.endRemoveRows()
        for first, last in changes.inserted:  # first first: every row above is in place
            self.beginInsertRows(QModelIndex(), first, last)
            rows[first:first] = new_rows[first : last + 1]
            self.endInsertRows()
        self.views, self._source, self._row_of = new_rows, source, changes.row_of
        self.row_updates += changes.operations
        if today != self._today:  # times are written "HH:MM" today, "MM-DD HH:MM" before
            self._today = today
            self._all_changed()
            return
        for first, last in changes.changed:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.DETAIL))

    def _resort(self, stale: Iterable[str] | None = None) -> None:
        """Words a sorted column shows changed (``stale`` keys; None: all): the rows move to
        their places."""
        if self.sort_column < 0 or self._source is None:
            return
        if stale is None:
            self._sort_keys.clear()
        else:
            for k in stale:
                self._sort_keys.pop(k, None)
        rows = self._sorted(self._source)
        self._apply(rows, diff_views(self.views, rows, self._row_of), self._source, self._today)

    # -- sorting: here, by Python's sort with one key per view, not by a proxy calling data() for
    # every comparison (O(n log n) calls into Python on the GUI thread)
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (-1: the snapshot's order, reds first); selections and
        persistent indexes follow their rows."""
        self.sort_column, self.sort_order = column, order
        self._sort_keys.clear()
        source = self._source if self._source is not None else self.views
        rows = self._sorted(source) if column >= 0 else list(source)
        self.layoutAboutToBeChanged.emit()
        olds = self.persistentIndexList()
        keys = [self.views[i.row()].key if 0 <= i.row() < len(self.views) else None for i in olds]
        self.views = rows
        self._row_of = dict(zip((v.key for v in rows), row_numbers(len(rows)), strict=False))
        news = []
        for idx, key in zip(olds, keys, strict=True):
            row = self._row_of.get(key) if key is not None else None
            news.append(self.index(row, idx.column()) if row is not None else QModelIndex())
        self.changePersistentIndexList(olds, news)
        self.layoutChanged.emit()

    def _sorted(self, views: Sequence[WarningView]) -> list[WarningView]:
        """``views`` in the order of the sort column (ties: the snapshot's order); each view's key
        is computed once and kept while the view object is the same."""
        col, cache = self.sort_column, self._sort_keys
        fresh: dict[str, tuple[WarningView, Any]] = {}
        keys: list[Any] = []
        for v in views:
            hit = cache.get(v.key)
            k = hit[1] if hit is not None and hit[0] is v else self._sort_key(v, col)
            fresh[v.key] = (v, k)
            keys.append(k)
        self._sort_keys = fresh
        order = sorted(range(len(views)), key=keys.__getitem__,
                       reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
        return [views[i] for i in order]

    def _sort_key(self, v: WarningView, col: int) -> Any:
        w = v.warning
        if col == self.LEVEL:
            return _LEVEL_RANK.get(str(w.level), 0)
        if col == self.SINCE:
            return (w.level_since or w.since).timestamp()
        return self.text(v, col)

    def set_extras(self, extras: WarningExtras, changed: Iterable[str] | None = None) -> None:
        """New push states, departments and labels: ``changed`` names the keys whose row shows
        otherwise (worked out off the GUI thread by :func:`extras_changes`); None: every row."""
        if changed is None:
            changed = extras_changes(self.extras, extras, [v.key for v in self.views],
                                     [(v.warning.subject, v.key) for v in self.views])
        self.extras = extras
        painted = self._painted
        for k in changed:
            painted.pop(k, None)
        rows = sorted(r for r in (self._row_of.get(k) for k in changed) if r is not None)
        # those rows only, however many (every row would have the filter look at every row again)
        for first, last in _ranges(rows):
            self.dataChanged.emit(self.index(first, 0), self.index(last, self.DETAIL))
        if self.sort_column in (self.SUBJECT, self.DEPARTMENT, self.PUSH) and rows:
            self._resort(changed)

    def _all_changed(self) -> None:
        self._painted.clear()  # every row's words or colours may differ
        if self.views:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.views) - 1, self.DETAIL))

    def retranslate(self) -> None:
        """The words changed language: headers and cells again."""
        self._headers = None
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.DETAIL)
        self._all_changed()
        if self.sort_column not in (-1, self.LEVEL, self.SINCE):
            self._resort()

    def set_layout(self, layout: HallLayout) -> bool:
        """The hall's windows and departments; True when they changed."""
        numbers = {w.id: w.number for w in layout.windows}
        same = numbers == self._numbers and layout.departments == self.layout_.departments and {
            w.id: w.department for w in layout.windows} == {w.id: w.department for w in self.layout_.windows}
        self.layout_ = layout
        self._numbers = numbers
        if not same:  # the hall came or changed: numbers and departments of every row
            self._all_changed()
            if self.sort_column in (self.SUBJECT, self.WINDOW, self.DEPARTMENT):
                self._resort()
        return not same

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self._all_changed()

    # -- reading ---------------------------------------------------------------------------------
    def view(self, row: int) -> WarningView:
        return self.views[row]

    def row_of(self, key: str) -> int | None:
        return self._row_of.get(key)

    def department_of(self, v: WarningView) -> str:
        w = v.warning
        dept = self.extras.department.get(w.subject)
        if dept:
            return dept
        info = self.layout_.window(w.window_id)
        return info.department if info is not None else ""

    def push_of(self, key: str) -> PushState | None:
        return self.extras.push.get(key)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        return 0 if parent.isValid() else len(self.views)

    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        # Qt's own index() asks rowCount() and columnCount() first: two calls into Python (each
        # waiting for the GIL) for every cell the filter maps, where this is one.
        if 0 <= row < len(self.views) and 0 <= column < 10 and not parent.isValid():
            return self.createIndex(row, column)
        return QModelIndex()

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 10

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers()[section]
        return None

    def handled_text(self, v: WarningView) -> str:
        if v.disposed is not None:
            at, by, measure, _note = v.disposed
            return self.tr("{measure} by {who} at {when}").format(
                measure=measure_text(measure), who=by, when=fmt_time(at, self.tz, today=self._today))
        if v.acknowledged is not None:
            at, by = v.acknowledged
            return self.tr("Acknowledged by {who} at {when}").format(
                who=by, when=fmt_time(at, self.tz, today=self._today))
        return ""

    def push_text(self, p: PushState | None) -> str:
        if p is None:
            return ""
        if p.state == "queued":
            if p.attempts:
                return self.tr("Queued (tried {n}×)").format(n=p.attempts)
            return self.tr("Queued")
        if p.state == "rejected":
            return self.tr("Rejected: {reason}").format(reason=reject_text(p.code, p.message))
        return self.tr("Applied")

    def text(self, v: WarningView, col: int) -> str:
        """What a cell of ``v``'s row says."""
        w = v.warning
        if col == self.LEVEL:
            return level_text(str(w.level))
        if col == self.RULE:
            return code_text(str(w.code))
        if col == self.SUBJECT:
            if w.subject_type == "window":
                number = self._numbers.get(w.subject, w.subject)
                return f"{subject_type_text(w.subject_type)} {number}"
            label = self.extras.label.get(w.subject, "")
            return f"{w.subject} · {label}" if label else f"{subject_type_text(w.subject_type)} {w.subject}"
        if col == self.WINDOW:
            return self._numbers.get(w.window_id or "", w.window_id or "")
        if col == self.DEPARTMENT:
            return self.department_of(v)
        if col == self.SINCE:
            return fmt_time(w.level_since or w.since, self.tz, today=self._today)
        if col == self.STATE:
            return state_text(str(v.state))
        if col == self.HANDLED:
            return self.handled_text(v)
        if col == self.PUSH:
            return self.push_text(self.push_of(v.key))
        if col == self.DETAIL:
            return detail_text(str(w.code), w.detail)
        return ""

    def _row_paint(self, v: WarningView) -> tuple[WarningView, tuple[str, ...], QColor, tuple[QColor | None, ...]]:
        """What ``v``'s row paints: its words per column, the level cell's background and the ink
        per column (None: the view's own); kept while the view is the same object and nothing it
        reads (extras, hall, day, language, palette) changed."""
        hit = self._painted.get(v.key)
        if hit is not None and hit[0] is v:
            return hit
        w = v.warning
        level = str(w.level)
        fill = self.palette_.level_color(level)
        ink: list[QColor | None] = list(_NO_INK)
        ink[self.LEVEL] = ink_on(fill)
        p = self.push_of(v.key)
        if p is not None and p.state == "rejected":
            ink[self.PUSH] = QColor(self.palette_.red)
        if str(v.state) == "active" and level == "red":
            ink[self.STATE] = QColor(self.palette_.red)
        row = (v, tuple(self.text(v, c) for c in range(10)), fill, tuple(ink))
        if len(self._painted) >= ROW_CACHE_MAX:  # rows scrolled past or gone: start again
            self._painted.clear()
        self._painted[v.key] = row
        return row

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """Every role a view asks of a cell in ONE call into Python (Qt's own multiData calls
        ``data()`` once per role: ~7 calls a cell, each waiting for the GIL while the sync and the
        monitor run); the words and colours come from the row's kept tuple."""
        row = index.row()
        if not 0 <= row < len(self.views):
            return
        col = index.column()
        _v, texts, fill, ink = self._row_paint(self.views[row])
        span = cast("Iterable[QModelRoleData]", roleDataSpan if isinstance(roleDataSpan, QModelRoleDataSpan)
                    else (roleDataSpan,))
        for rd in span:
            role = rd.role()
            if role == _DISPLAY:
                rd.setData(texts[col])
            elif role == _FOREGROUND and ink[col] is not None:
                rd.setData(ink[col])
            elif role == _BACKGROUND and col == self.LEVEL:
                rd.setData(fill)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid():  # a view asks ~7 roles a cell; most are not ours
            return None
        v = self.views[index.row()]
        w = v.warning
        col = index.column()
        if role == KEY_ROLE:
            return v.key
        if role == FILTER_ROLE:
            return filter_key(str(w.level), str(v.state), str(w.code), w.window_id, self.department_of(v))
        if role == Qt.ItemDataRole.DisplayRole:
            return self._row_paint(v)[1][col]
        if role == SORT_ROLE:
            return self._sort_key(v, col)
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._row_paint(v)[2] if col == self.LEVEL else None
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._row_paint(v)[3][col]
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.PUSH:
                p = self.push_of(v.key)
                if p is not None and p.state == "queued" and p.last_error:
                    return self.tr("Waiting to be sent to the server; the last attempt failed.")
                if p is not None and p.state == "rejected":
                    return self.tr("The server refused this terminal's action ({code}) at {when}.").format(
                        code=p.code or "?", when=fmt_time(p.at, self.tz))
            if col == self.HANDLED and v.disposed is not None:
                return v.disposed[3]
            return self.data(index, Qt.ItemDataRole.DisplayRole)
        return None


def extras_changes(old: WarningExtras, new: WarningExtras, keys: Iterable[str],
                   subjects: Iterable[tuple[str, str]]) -> set[str]:
    """The keys whose row reads otherwise with ``new`` extras than with ``old`` (pure; any
    thread): a push state, or its subject's department or label, differs. ``subjects``:
    (subject, key) of each row."""
    out = {k for k in keys if old.push.get(k) != new.push.get(k)}
    od, nd, ol, nl = old.department, new.department, old.label, new.label
    out.update(k for subj, k in subjects if od.get(subj) != nd.get(subj) or ol.get(subj) != nl.get(subj))
    return out


def _subjects(views: Iterable[WarningView]) -> list[tuple[str, str, str | None]]:
    """(subject, type, window) of ``views``, each subject once (many warnings share one)."""
    out: dict[str, tuple[str, str, str | None]] = {}
    for v in views:
        w = v.warning
        if w.subject not in out:
            out[w.subject] = (w.subject, w.subject_type, w.window_id)
    return list(out.values())


def _merged(old: Mapping[str, str], new: Mapping[str, str]) -> Mapping[str, str]:
    """``old`` with ``new``'s entries; ``old`` itself when they add nothing (no copy of every
    subject's words after each snapshot)."""
    if all(old.get(k) == v for k, v in new.items()):
        return old
    return {**old, **new}


def _ranges(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending rows as runs of consecutive rows (first, last)."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


class WarningsFilter(QSortFilterProxyModel):
    """Filters by level, state, department, rule (code) and window; all None means everything.

    The filtering is Qt's own (a regular expression over each row's :data:`FILTER_ROLE` key), not a
    ``filterAcceptsRow`` in Python: with no filter set Qt accepts every row without calling into
    Python at all, so a snapshot that inserts or rebuilds thousands of rows costs the GUI thread no
    Python call per row (each such call waits for the GIL the sync and the monitor hold). With a
    filter set, the model's ``data`` gives each row's key once per row looked at."""

    _FIELDS = (("level", "L"), ("state", "S"), ("code", "C"), ("window_id", "W"), ("department", "D"))

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.level: str | None = None
        self.state: str | None = None
        self.department: str | None = None
        self.code: str | None = None
        self.window_id: str | None = None
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(0)

    def multiData(self, index: _Index, roleDataSpan: QModelRoleDataSpan | QModelRoleData) -> None:
        """A cell's roles from the model's :meth:`WarningsModel.multiData`: one call into Python
        per cell painted (Qt's proxy asks the model's ``data()`` per role, and maps the cell to
        the model's again for each: ~15 calls into Python a cell)."""
        m = self.sourceModel()
        if isinstance(m, WarningsModel):
            m.multiData(self.mapToSource(index), roleDataSpan)
        else:
            super().multiData(index, roleDataSpan)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """The model sorts (one key per row, in Python's sort); this proxy only filters, keeping
        the model's order — a proxy sorting would call the model's ``data()`` per comparison."""
        m = self.sourceModel()
        if isinstance(m, WarningsModel):
            m.sort(column, order)

    def set_filter(self, **kw: str | None) -> None:
        for name in kw:
            if name not in ("level", "state", "department", "code", "window_id"):
                raise TypeError(f"unknown filter {name}")
        for name, value in kw.items():
            setattr(self, name, value or None)
        # every field set must be in the row's key: one lookahead each ("" matches every row, and
        # Qt then asks the model nothing)
        pattern = "".join(f"(?=.*{_SEP}{tag}:{QRegularExpression.escape(value)}{_SEP})"
                          for name, tag in self._FIELDS if (value := getattr(self, name)) is not None)
        self.setFilterRegularExpression(QRegularExpression(f"^{pattern}" if pattern else "",
                                                           QRegularExpression.PatternOption.DotMatchesEverythingOption))


def filter_key(level: str, state: str, code: str, window_id: str | None, department: str) -> str:
    """A row's key for :class:`WarningsFilter`: each field tagged and fenced by :data:`_SEP`."""
    return (f"{_SEP}L:{level}{_SEP}S:{state}{_SEP}C:{code}{_SEP}W:{window_id or ''}{_SEP}"
            f"D:{department}{_SEP}")


class DisposeDialog(QDialog):
    """督办 / 纠错 / 说明 with a note: OK stays disabled until a note is typed."""

    def __init__(self, title: str, measure: str = "supervise", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Dispose of a warning"))
        form = QFormLayout()
        head = QLabel(title)
        head.setWordWrap(True)
        form.addRow(head)
        self.measure = QComboBox()
        for m in MEASURES:
            self.measure.addItem(measure_text(m), m)
        self.measure.setCurrentIndex(max(0, self.measure.findData(measure)))
        form.addRow(self.tr("Measure"), self.measure)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText(self.tr("What was done, or what must be done (required)"))
        self.note.setTabChangesFocus(True)
        form.addRow(self.tr("Note"), self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(self.tr("Dispose"))
        self.ok.setEnabled(False)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.note.textChanged.connect(self._note_changed)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.buttons)
        self.resize(460, 280)
        self.note.setFocus()

    def _note_changed(self) -> None:
        self.ok.setEnabled(bool(self.note.toPlainText().strip()))

    def accept(self) -> None:
        if not self.note.toPlainText().strip():  # OK is disabled; Enter must not get round it
            return
        super().accept()

    def values(self) -> tuple[str, str]:
        return str(self.measure.currentData()), self.note.toPlainText().strip()


SUBJECT_MIN, SUBJECT_MAX = 120, 260  # the Subject column's width, fitted to the panel between these


class WarningsPanel(QWidget):
    """The warnings list with its filters and actions.

    ``reader``: the panels' reader; ``actions``: the terminal (``acknowledge``/``dispose``);
    ``operator``: the name written with actions (a string or a function giving it); ``tz``: the
    hall's zone; ``alarm``: rings for new reds (one is made when None). Feed ``set_snapshot``.
    """

    #: an action ended: (warning key, ok, words) — words say what happened or why it failed
    action_finished = Signal(str, bool, str)
    #: "show footage" of the selected warning: its key (the window resolves the instant and cameras)
    footage_requested = Signal(str)
    _outcome = Signal(object)

    def __init__(self, reader: Reader | None, actions: WarningActions | None, tz: ZoneInfo, *,
                 operator: str | Callable[[], str] = "", palette: Palette = DARK, alarm: Alarm | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.warning_actions = actions
        self.tz = tz
        self._operator = operator
        self.palette_ = palette
        self.alarm = alarm if alarm is not None else Alarm(parent=self)
        self._reds: Mapping[str, WarningView] | None = None  # unacknowledged reds shown
        self._reds_of: Sequence[WarningView] | None = None  # the views they are of
        self._snap: SnapshotLike | None = None  # the snapshot shown
        self._waiting: RelayedSnapshot | None = None  # the newest, shown when its words are read
        self._window_numbers: dict[str, str] = {}
        self._extras_full_at = -EXTRAS_FULL_S  # when every view's extras were last asked for
        self._extras_for: Sequence[WarningView] | None = None  # the views extras were last asked for
        self._touched: dict[str, WarningView] = {}  # views new or changed since the extras were answered
        self._full_pending = False  # the extras request not answered yet reads every view
        self._subjects_full_at = -SUBJECTS_FULL_S  # when every subject's words were last asked for
        self._subjects_stale = False  # the hall changed: every subject's department is read again
        self.model = WarningsModel(tz, palette, self)
        self.proxy = WarningsFilter(self)
        self.proxy.setSourceModel(self.model)
        self._outcome.connect(self._on_outcome)

        self.level = self._combo(LEVELS)
        self.state = self._combo(STATES)
        self.department = self._combo(())
        self.code = self._combo(CODES)
        self.window_chip = QToolButton()
        self.window_chip.clicked.connect(lambda: self.set_window(None))
        self.window_chip.hide()
        for c in (self.level, self.state, self.department, self.code):
            c.currentIndexChanged.connect(self._filters_changed)

        self.ack_button = QPushButton()
        self.dispose_buttons = {}
        for m in MEASURES:
            b = QPushButton()
            b.clicked.connect(lambda _=False, m=m: self.dispose_selected(m))
            self.dispose_buttons[m] = b
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.footage_button = QPushButton()
        self.footage_button.clicked.connect(self.footage_of_selected)
        self.mute = QToolButton()
        self.mute.setCheckable(True)
        self.mute.toggled.connect(self.alarm.set_muted)
        self.alarm.muted_changed.connect(self.mute.setChecked)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.count = QLabel()

        self.table = TableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # the snapshot's order: reds first
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        # The Subject column gives way so that level, rule, subject, window and department fit the
        # panel (the rest scroll), until the operator sizes a column by hand.
        self._sizing = False
        self._hand_sized = False
        hh.sectionResized.connect(self._section_resized)
        self.table.viewport().installEventFilter(self)
        self._size_columns()
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._kept: tuple[str | None, str | None] | None = None  # (selected key, top row's key) over a reset
        self.model.modelAboutToBeReset.connect(self._keep_place)
        self.model.modelReset.connect(self._restore_place)
        self.table.doubleClicked.connect(lambda _i: self.dispose_selected("supervise"))

        filters = QHBoxLayout()
        for w in (self.level, self.state, self.department, self.code, self.window_chip):
            filters.addWidget(w)
        filters.addStretch(1)
        filters.addWidget(self.count)
        acts = QHBoxLayout()
        acts.addWidget(self.ack_button)
        for b in self.dispose_buttons.values():
            acts.addWidget(b)
        acts.addWidget(self.footage_button)
        acts.addWidget(self.message, 1)
        acts.addWidget(self.mute)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addLayout(filters)
        box.addWidget(self.table, 1)
        # A POST_LEFT's snapshot: the staff seat at the moment it became empty (kept by the analytics).
        self.snapshot = QLabel()
        self.snapshot.setObjectName("warningSnapshot")
        self.snapshot.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.snapshot.hide()
        self._snapshot_for: str | None = None
        box.addWidget(self.snapshot)
        box.addLayout(acts)
        self._retranslate()
        QShortcut(QKeySequence("Ctrl+K"), self, self.acknowledge_selected)
        QShortcut(QKeySequence("Ctrl+D"), self, lambda: self.dispose_selected("supervise"))
        QShortcut(QKeySequence("Ctrl+F"), self, self.footage_of_selected)
        self._update_buttons()

    def _size_columns(self) -> None:
        """Column widths from the longest words they show (in the current language), not from
        measuring every row."""
        fm = self.table.fontMetrics()
        pad = 18

        def widest(texts: list[str]) -> int:
            return max(fm.horizontalAdvance(t) for t in texts) + pad

        m = WarningsModel
        heads = self.model.headers()
        widths = {
            m.LEVEL: widest([heads[m.LEVEL], *(level_text(x) for x in LEVELS)]),
            m.RULE: widest([heads[m.RULE], *(code_text(x) for x in CODES)]),
            m.SUBJECT: SUBJECT_MAX, m.WINDOW: widest([heads[m.WINDOW], "A00"]), m.DEPARTMENT: 150,
            m.SINCE: widest([heads[m.SINCE], "12-31 23:59"]),
            m.STATE: widest([heads[m.STATE], *(state_text(x) for x in STATES)]),
            m.HANDLED: 210, m.PUSH: 160,
        }
        self._hand_sized = False  # a new language: every width from its words again
        self._sizing = True
        try:
            for col, width in widths.items():
                self.table.setColumnWidth(col, width)
        finally:
            self._sizing = False
        self._fit_subject()

    def _fit_subject(self) -> None:
        """The Subject column as wide as leaves room for the department beside it (between
        ``SUBJECT_MIN`` and ``SUBJECT_MAX``), unless the operator has sized a column by hand."""
        if self._hand_sized:
            return
        m, t = WarningsModel, self.table
        room = t.viewport().width() - sum(t.columnWidth(c) for c in (m.LEVEL, m.RULE, m.WINDOW, m.DEPARTMENT))
        width = max(SUBJECT_MIN, min(SUBJECT_MAX, room))
        if t.columnWidth(m.SUBJECT) != width:
            self._sizing = True
            try:
                t.setColumnWidth(m.SUBJECT, width)
            finally:
                self._sizing = False

    def _section_resized(self, index: int, _old: int, _new: int) -> None:
        """A column the operator drags wider or narrower stays so: no more fitting. (Our own sizing
        and the last column stretching with the view are not the operator's hand.)"""
        if self._sizing or index == self.model.columnCount() - 1:
            return
        if QApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            self._hand_sized = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_subject()
        return super().eventFilter(watched, event)

    def _combo(self, codes: Sequence[str]) -> QComboBox:
        c = QComboBox()
        c.addItem("", None)
        for code in codes:
            c.addItem(code, code)
        c.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        return c

    def _retranslate(self) -> None:
        """Every word of the panel in the current language (at start and on a language switch)."""
        self.level.setItemText(0, self.tr("All levels"))
        self.state.setItemText(0, self.tr("All states"))
        self.department.setItemText(0, self.tr("All departments"))
        self.code.setItemText(0, self.tr("All rules"))
        for combo, word in ((self.level, level_text), (self.state, state_text), (self.code, code_text)):
            for i in range(1, combo.count()):
                combo.setItemText(i, word(str(combo.itemData(i))))
        self.window_chip.setToolTip(self.tr("Show the warnings of every window"))
        self.footage_button.setText(self.tr("Show footage"))
        self.footage_button.setToolTip(self.tr("The footage of the warning's window when it arose (Ctrl+F)"))
        self.ack_button.setText(self.tr("Acknowledge"))
        self.ack_button.setToolTip(self.tr("Acknowledge (签收) the selected warning (Ctrl+K)"))
        for m, b in self.dispose_buttons.items():
            b.setText(measure_text(m) + "…")
        self.dispose_buttons["supervise"].setToolTip(self.tr("Supervise (督办) with a note (Ctrl+D)"))
        self.dispose_buttons["correct"].setToolTip(self.tr("Correct (纠错) with a note"))
        self.dispose_buttons["explain"].setToolTip(self.tr("Explain (说明) with a note"))
        self.mute.setText(self.tr("Mute"))
        self.mute.setToolTip(self.tr("Silence the chime for new red cards"))
        self.model.retranslate()
        self._size_columns()
        self._update_window_chip()
        self._update_count()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    @property
    def operator(self) -> str:
        name = self._operator() if callable(self._operator) else self._operator
        return name or getpass.getuser()

    # -- feeding ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the window list and the push states (e.g. after a sync round)."""
        if self.reader is not None:
            self.reader.submit("warnings.layout", hall_layout, self._set_layout)
        self._ask_extras()

    def _set_layout(self, layout: HallLayout) -> None:
        if self.model.set_layout(layout) and (self.model.extras.department or self.model.extras.label):
            self._subjects_stale = True  # a window's department may have changed: every subject again
            self._ask_extras()
        self._window_numbers = {w.id: w.number for w in layout.windows}
        current = self.department.currentData()
        self.department.blockSignals(True)
        self.department.clear()
        self.department.addItem(self.tr("All departments"), None)
        for d in layout.departments:
            self.department.addItem(d, d)
        self.department.setCurrentIndex(max(0, self.department.findData(current)))
        self.department.blockSignals(False)
        self._update_window_chip()

    def set_snapshot(self, snap: SnapshotLike) -> None:
        """Show a new warning snapshot (GUI thread); rings for new reds. A snapshot from the
        :class:`SnapshotRelay` comes with its row changes worked out: only those are applied."""
        relayed = snap if isinstance(snap, RelayedSnapshot) else None
        windows = relayed.window_ids if relayed is not None else {
            v.warning.window_id for v in snap.views if v.warning.window_id}
        known = self._window_numbers
        if self.reader is not None and not self.reader.pending("warnings.layout") and (
                not known or not windows <= known.keys()):
            self.reader.submit("warnings.layout", hall_layout, self._set_layout)  # the hall came with a sync
        # the words of the views it touched only, when it follows the views the last words were read for
        partial = relayed is not None and relayed.base is not None and relayed.base is self._extras_for
        touched = relayed.touched() if partial and relayed is not None else None
        if relayed is not None and self.reader is not None and self.model.views:
            # shown with its words (labels, departments, push states) read for it: the rows change
            # once and are painted once, not once without their words and again with them (an
            # empty list, as at the start, shows its first rows at once)
            if self._waiting is not None:  # its words are late: the one before is shown without
                self._show(self._waiting)
            self._waiting = relayed
        else:
            self._show(snap)
        self._ask_extras(touched)

    def _show(self, snap: SnapshotLike) -> None:
        """The rows of ``snap`` shown, the selection kept, new reds rung for."""
        relayed = snap if isinstance(snap, RelayedSnapshot) else None
        if snap is self._waiting:
            self._waiting = None
        key = self._selected_key()
        self._snap = snap
        if relayed is not None:
            self.model.set_views(snap.views, snap.at, relayed.changes, relayed.base)
        else:
            self.model.set_views(snap.views, snap.at)
        if key is not None and self._selected_key() != key:
            self._reselect(key)  # the row moved (its level changed) or the rows were rebuilt
        if relayed is not None and self._reds is not None and relayed.base is not None \
                and relayed.base is self._reds_of:  # the relay compared with what this panel had
            self._reds, self._reds_of = relayed.reds, snap.views
            self._ring(relayed.new_reds)
        else:
            self._ring_for_new_reds(relayed.reds if relayed is not None else active_reds(snap.views))
            self._reds_of = snap.views
        self._update_count()

    def _ask_extras(self, touched: Sequence[WarningView] | None = None) -> None:
        """Read the push states, departments and labels again (on the reader); the rows whose
        words change are worked out there too. ``touched``: only these views are new or changed
        since the extras shown were read — then only they, and the warnings with a push state
        (it moves from queued to applied with no new view), are read. Every push state is read
        again when None, and at least every ``EXTRAS_FULL_S`` seconds (the warnings acted on: a
        few rows); a subject's department and label (which do not change with its warnings'
        levels) only for the subjects not known yet, and for every subject after the hall
        changed and every ``SUBJECTS_FULL_S`` seconds."""
        snap = self._waiting or self._snap  # a snapshot waiting for its words: they are read for it
        if self.reader is None or snap is None:
            return
        views = snap.views
        self._extras_for = views
        old = self.model.extras
        now = time.monotonic()
        every_subject = False
        if touched is None or now - self._extras_full_at > EXTRAS_FULL_S or self._full_pending:
            self._extras_full_at = now
            self._touched.clear()
            self._full_pending = True  # a request not answered yet is replaced by this one: full too
            touched = None
            every_subject = self._subjects_stale or now - self._subjects_full_at > SUBJECTS_FULL_S
            if every_subject:
                self._subjects_full_at, self._subjects_stale = now, False
        else:  # a request not answered yet is replaced by this one: this one covers its views too
            self._touched.update((v.key, v) for v in touched)
            touched = list(self._touched.values())

        def query(s: Session) -> tuple[WarningExtras, WarningExtras, set[str]]:
            if touched is None:
                in_force = {v.key for v in views}
                push = {k: p for k, p in warning_extras(s, None, ()).push.items() if k in in_force}
                asked = views if every_subject else [
                    v for v in views if v.warning.subject not in old.label and v.warning.subject not in old.department]
                part = warning_extras(s, (), _subjects(asked))
                if every_subject:
                    new = WarningExtras(push, part.department, part.label)
                    return old, new, extras_changes(old, new, in_force, [(v.warning.subject, v.key) for v in views])
                new = WarningExtras(push, _merged(old.department, part.department), _merged(old.label, part.label))
                changed = {k for k in old.push.keys() | push.keys() if old.push.get(k) != push.get(k)}
                changed.update(v.key for v in asked)
                return old, new, changed
            keys = list({*(v.key for v in touched), *old.push})
            part = warning_extras(s, keys, _subjects(touched))
            push = dict(old.push)
            for k in keys:
                p = part.push.get(k)
                if p is None:
                    push.pop(k, None)
                else:
                    push[k] = p
            new = WarningExtras(push, _merged(old.department, part.department), _merged(old.label, part.label))
            return old, new, extras_changes(old, new, keys, [(v.warning.subject, v.key) for v in touched])

        self.reader.submit("warnings.extras", query, self._set_extras, self._extras_failed)

    def _extras_failed(self, words: str) -> None:
        log.warning("the warnings' words could not be read: %s", words)
        if self._waiting is not None:  # shown without them
            self._show(self._waiting)

    def _set_extras(self, answer: tuple[WarningExtras, WarningExtras, set[str]]) -> None:
        if self._waiting is not None:  # the snapshot they were read for: its rows, then their words
            self._show(self._waiting)
        old, extras, changed = answer
        self._touched.clear()  # the newest request was answered: it covered every view touched
        self._full_pending = False
        # worked out against the extras shown when asked; other extras came since: every row
        self.model.set_extras(extras, changed if old is self.model.extras else None)
        self._update_count()

    def _ring_for_new_reds(self, reds: Mapping[str, WarningView]) -> None:
        if self._reds is None:  # the first snapshot is what the operator finds: no alarm for it
            self._reds = reds
            return
        known = self._reds
        self._reds = reds
        self._ring(new_reds(reds, known))

    def _ring(self, new: Sequence[WarningView]) -> None:
        texts = []
        for v in new[:ALARM_LINES]:  # the alarm names a few; a sync can bring thousands
            w = v.warning
            where = self._window_numbers.get(w.window_id or "", w.window_id or "")
            texts.append(" · ".join(x for x in (code_text(str(w.code)), where, w.subject) if x))
        if texts:
            self.alarm.notify(texts, total=len(new))

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self.model.set_palette(palette)

    # -- filters ---------------------------------------------------------------------------------
    def set_window(self, window_id: str | None) -> None:
        """Show only the warnings of one window (None: every window) — the lights board's click."""
        self.proxy.set_filter(window_id=window_id)
        self._update_window_chip()
        self._update_count()

    def set_filters(self, *, level: str | None = None, state: str | None = None, department: str | None = None,
                    code: str | None = None) -> None:
        """Set the filter boxes (None: all)."""
        for combo, value in ((self.level, level), (self.state, state), (self.department, department),
                             (self.code, code)):
            combo.setCurrentIndex(max(0, combo.findData(value)) if value is not None else 0)

    def _filters_changed(self) -> None:
        self.proxy.set_filter(level=self.level.currentData(), state=self.state.currentData(),
                              department=self.department.currentData(), code=self.code.currentData())
        self._update_count()

    def _update_window_chip(self) -> None:
        wid = self.proxy.window_id
        if wid is None:
            self.window_chip.hide()
        else:
            self.window_chip.setText(self.tr("Window {number} ✕").format(
                number=self._window_numbers.get(wid, wid)))
            self.window_chip.show()

    def _update_count(self) -> None:
        self.count.setText(self.tr("{shown} of {total}").format(
            shown=self.proxy.rowCount(), total=self.model.rowCount()))
        self._update_buttons()

    # -- selection and actions -------------------------------------------------------------------
    def _selected_key(self) -> str | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return str(rows[0].data(KEY_ROLE))

    def selected_view(self) -> WarningView | None:
        key = self._selected_key()
        row = self.model.row_of(key) if key else None
        return self.model.view(row) if row is not None else None

    def select_key(self, key: str) -> bool:
        """Select the row of a warning (True when it is shown)."""
        idx = self._proxy_index(key)
        if idx is None:
            return False
        self.table.selectRow(idx.row())
        self.table.scrollTo(idx)
        return True

    def _keep_place(self) -> None:
        """The rows are about to be rebuilt: note the selected warning and the one at the top of
        the list (None when the list is scrolled to its top: it stays there, new rows shown)."""
        top: str | None = None
        if self.table.verticalScrollBar().value() > 0:
            idx = self.table.indexAt(self.table.viewport().rect().topLeft())
            top = str(idx.data(KEY_ROLE)) if idx.isValid() else None
        self._kept = (self._selected_key(), top)

    def _restore_place(self) -> None:
        """The rows were rebuilt: the same warning selected (if still listed) and the same one at
        the top of the list, as if only the rows that changed had moved."""
        if self._kept is None:
            return
        selected, top = self._kept
        self._kept = None
        table = self.table
        if selected is not None:
            idx = self._proxy_index(selected)
            if idx is not None:
                sel = table.selectionModel()
                flags = (sel.SelectionFlag.ClearAndSelect | sel.SelectionFlag.Rows)
                sel.setCurrentIndex(idx, flags)  # (this scrolls to it: the top row is put back below)
        # the view's layout for the new rows now (the scroll bar's range, before scrolling): Qt would
        # do it on a later pass, painting the rows a second time
        table.doItemsLayout()
        anchor = self._proxy_index(top) if top is not None else None
        if anchor is not None:
            table.scrollTo(anchor, QAbstractItemView.ScrollHint.PositionAtTop)
        else:
            table.verticalScrollBar().setValue(0)

    def _proxy_index(self, key: str) -> QModelIndex | None:
        row = self.model.row_of(key)
        if row is None:
            return None
        idx = self.proxy.mapFromSource(self.model.index(row, 0))
        return idx if idx.isValid() else None

    def _reselect(self, key: str | None) -> None:
        if key is not None:
            self.select_key(key)

    def _update_buttons(self) -> None:
        v = self.selected_view()
        can = self.warning_actions is not None and v is not None
        self.ack_button.setEnabled(can and v is not None and str(v.state) == "active")
        for b in self.dispose_buttons.values():
            b.setEnabled(can and v is not None and str(v.state) != "disposed")
        self.footage_button.setEnabled(v is not None and bool(v.warning.window_id))
        self._show_snapshot(v)

    def _show_snapshot(self, v: WarningView | None) -> None:
        """Show the snapshot kept with a ``POST_LEFT`` (the picture read on the reader)."""
        root = getattr(self.warning_actions, "data_dir", None)
        key = v.key if v is not None and str(v.warning.code) == "POST_LEFT" else None
        if key == self._snapshot_for:
            return
        self._snapshot_for = key
        if key is None or v is None or self.reader is None or not isinstance(root, Path):
            self.snapshot.hide()
            return
        window_id, at = v.warning.window_id or v.warning.subject, v.warning.since
        vacancy = v.warning.detail.get("vacancy_id")

        def query(s: Session) -> tuple[str, bytes | None]:
            rel = snapshot_of(s, window_id, at, vacancy if isinstance(vacancy, str) else None)
            if rel is None:
                return key, None
            try:
                return key, (root / rel).read_bytes()
            except OSError:
                return key, None

        self.reader.submit("warnings.snapshot", query, self._set_snapshot)

    def _set_snapshot(self, answer: tuple[str, bytes | None]) -> None:
        key, jpeg = answer
        if key != self._snapshot_for:
            return
        image = QImage.fromData(jpeg) if jpeg else QImage()
        if image.isNull():
            self.snapshot.hide()
            return
        pixmap = QPixmap.fromImage(image)
        if pixmap.width() > 320:
            pixmap = pixmap.scaledToWidth(320, Qt.TransformationMode.SmoothTransformation)
        self.snapshot.setPixmap(pixmap)
        self.snapshot.setToolTip(self.tr("The staff seat when it became empty"))
        self.snapshot.show()

    def footage_of_selected(self) -> None:
        v = self.selected_view()
        if v is not None and v.warning.window_id:
            self.footage_requested.emit(v.key)

    def acknowledge_selected(self) -> None:
        v = self.selected_view()
        if v is None or self.warning_actions is None or str(v.state) != "active":
            return
        self.acknowledge(v.key)

    def acknowledge(self, key: str, note: str = "") -> None:
        """签收 a warning through the terminal's executor."""
        if self.warning_actions is None:
            return
        self._say(self.tr("Acknowledging…"), ok=True)
        self.warning_actions.acknowledge(key, by=self.operator, note=note,
                                         on_done=self._done_callback(key, "acknowledge"))

    def dispose_selected(self, measure: str = "supervise") -> DisposeDialog | None:
        """Open the disposal dialog for the selected warning (returns it; it runs modeless)."""
        v = self.selected_view()
        if v is None or self.warning_actions is None or str(v.state) == "disposed":
            return None
        w = v.warning
        title = " · ".join(x for x in (level_text(str(w.level)), code_text(str(w.code)),
                                        self.model.extras.label.get(w.subject) or w.subject) if x)
        dlg = DisposeDialog(title, measure, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self.dispose(v.key, *dlg.values()))
        dlg.open()
        self.dialog = dlg
        return dlg

    def dispose(self, key: str, measure: str, note: str) -> bool:
        """督办/纠错/说明 a warning with a note, through the executor; False (nothing done) without a note."""
        if self.warning_actions is None or not note.strip():
            return False
        self._say(self.tr("Disposing…"), ok=True)
        self.warning_actions.dispose(key, measure, note.strip(), by=self.operator,
                                     on_done=self._done_callback(key, "dispose"))
        return True

    def _done_callback(self, key: str, what: str) -> Callable[[Any], None]:
        """``on_done`` for the executor: re-posts the outcome to the GUI thread (a queued signal)."""

        def done(outcome: Any) -> None:
            self._outcome.emit((key, what, outcome))

        return done

    def _on_outcome(self, msg: tuple[str, str, Any]) -> None:
        key, what, outcome = msg
        if getattr(outcome, "ok", False):
            words = self.tr("Acknowledged") if what == "acknowledge" else self.tr("Disposed")
            words = self.tr("{done}: queued for the server").format(done=words)
            self._say(words, ok=True)
        else:
            words = action_error_text(getattr(outcome, "code", None), getattr(outcome, "error", None))
            self._say(words, ok=False)
        self._ask_extras()
        self.action_finished.emit(key, bool(getattr(outcome, "ok", False)), words)

    def _say(self, text: str, *, ok: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("" if ok else f"color: {self.palette_.red};")

    def close_panel(self) -> None:
        self.alarm.close()
