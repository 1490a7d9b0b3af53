"""The warning monitor: warnings watched continuously, re-judging only what changed.

One long-lived :class:`~supervision.rules.Evaluator` holds every case's facts, the tickets and the
seat vacancies. A pass re-judges a few *subjects* (a case, a ticket, a window):

* after each applied page, ``changed(ids)`` names the records it changed; only those subjects are
  reloaded from the store and re-judged (a case read back exactly as the monitor holds it, columns
  included, is not: none of its warnings' inputs changed) (a disposition re-judges the subject of its warning; a
  changed case type, rule set or calendar makes the pass a full one, since every case's facts
  depend on them);
* every ``interval`` seconds the timer re-judges only the subjects whose next time-driven change
  (``Evaluator.next_change``: a due date passing, an escalation, a wait or an absence crossing its
  limit) has come — nothing at all when none has;
* ``refresh()`` asks for a full pass (after an import or a full resync; the first pass is one).

Each pass reconciles into ``warning_states`` the subjects whose warnings changed (so every warning
in force has its row and retention holds its footage), keeps ``cases.promised_due``/``legal_due``/
``worst_level`` current (writing only the cases whose values changed), and, when anything it shows
changed, publishes an immutable :class:`WarningSnapshot` to the listeners (on the thread that ran
the pass: the monitor's own once started; a listener must not call ``process``). A pass that fails
is logged and followed by a full pass. Every local act on a warning must be followed by
``changed()`` with its disposition id (``app.terminal`` does), so that the state shown and the
rows follow it.

The monitor keeps the ``warning_states`` rows in force as it last wrote them
(``lifecycle.StateRows``, filled by the full pass): a pass reads back only the rows of subjects a
local act wrote (those named by a changed disposition) and the cleared rows its views raise again.
It writes only the columns that change (every indexed column set is an index entry rewritten).

On SQLite a pass's commit does not checkpoint the WAL (that copied every writer's pages since the
last checkpoint into the database file inside the pass): the monitor's thread runs ``checkpoint()``
once the snapshot is out.

Instants: a pass judges at its instant in UTC (the snapshot and the report keep the caller's), the
store's cases give their stages in UTC and the rules their due instants (``rules._end_of_day``): aware
datetimes of one ``tzinfo`` object compare without asking either for its offset, and a pass compares
instants many times. Display order is one string per warning (``_order_key``), compared by memcmp.

Memory (100 000 cases): the evaluator's cases share their repeated strings (``snapshot.case_from_row``),
each case's kept columns are one int, the kept ``warning_states`` rows drop their trailing Nones, lights
are shared tuples; a full pass frees the last one's state before building its own (keeping only its
views) and reconciles a chunk of warnings at a time.

Lights (``by_window``/``by_department``): the worst undisposed warning on an open subject or raised
(or risen to its level) today, in the hall's zone — a completed case's old red does not keep a
window red for ever. A case lights its window and its type's department; a waiting ticket's
WAIT_LONG lights its business type's department (and its window when it has one); POST_LEFT
lights its window and the window's department.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import chain
from types import MappingProxyType
from typing import Any, overload
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from app.service import join_until
from supervision.duedates import local_date
from supervision.foreground import give_way
from supervision.ingest import AppliedRecord, ChangedIds
from supervision.lifecycle import (
    Actions,
    State,
    StateRows,
    WarningView,
    load_actions,
    reconcile_all,
    reconcile_kept,
    state_of,
)
from supervision.model import Case
from supervision.rules import (
    CaseFacts,
    DerivedWarning,
    Evaluator,
    Level,
    Subject,
    case_due_dates,
    case_due_dates_next_change,
)
from supervision.snapshot import (
    CaseColumns,
    case_columns,
    case_from_values,
    cases_with_columns,
    disposal_times,
    disposition_keys,
    iter_cases,
    iter_tickets,
    iter_vacancies,
    load_calendar,
    load_case_types,
    load_rules,
    ticket_from_values,
    window_departments,
)
from supervision.store.db import Store
from supervision.store.models import CaseRow, DispositionRow

__all__ = ["MonitorStatus", "PassReport", "WarningMonitor", "WarningSnapshot", "WarningViews"]

log = logging.getLogger(__name__)

LEVEL_CODE: Mapping[Level, int] = MappingProxyType({Level.NOTICE: 1, Level.YELLOW: 2, Level.RED: 3})
_CODE = dict(LEVEL_CODE)  # a plain dict: the hot loops' lookups
_LEVEL_OF_CODE = {1: Level.NOTICE, 2: Level.YELLOW, 3: Level.RED}
_ORDER = {Level.RED: 0, Level.YELLOW: 1, Level.NOTICE: 2}  # reds first, as evaluate_store sorts
_LEVEL_NAME = {level: str(level) for level in Level}  # the counts' keys
_UNDISPOSED_NAME = {level: f"{level}_undisposed" for level in Level}
# Every case's facts depend on these: a change to one makes the pass a full one.
_FULL_TYPES = ("case_type", "rule_set", "calendar")
# The record types whose changes re-judge some subjects (the others change no warning).
_SUBJECT_TYPES = ("case", "ticket", "seat_vacancy", "window", "disposition")
_CHUNK = 500
_CASES: Table = CaseRow.__table__  # type: ignore[assignment]
_COLUMN_NAMES = ("promised_due", "legal_due", "worst_level")
# A case's derived columns to write: its id, the new values, the values stored (None: unknown).
_ColumnWrite = tuple[str, CaseColumns, CaseColumns | None]


@dataclass(frozen=True, slots=True)
class WarningSnapshot:
    """What the monitor last published; immutable, safe to hand to any thread.

    Identity between snapshots (the desktop diffs them by it): a warning whose view did not change
    between two snapshots is the *same object* (``is``) in both ``views`` — across change, timer
    and full passes alike — and a changed view is a new object. So ``a is b`` means unchanged,
    and ``a is not b`` (same key) means changed. Views of one snapshot are never mutated."""

    at: datetime  # the instant of the pass that published it
    # every warning in force: reds first, then by time raised (then key); a WarningViews from the
    # monitor (cheap to publish), any sequence when built by hand
    views: Sequence[WarningView]
    by_window: Mapping[str, Level]  # worst lit warning per window id (see the module notes)
    by_department: Mapping[str, Level]
    counts: Mapping[str, int]  # red, yellow, notice, red_undisposed, yellow_undisposed
    fallback_years: frozenset[int]  # years counted weekends-only for lack of holiday data
    generation: int  # 0 before the first pass, then one more per published snapshot


def _counts(**kw: int) -> Mapping[str, int]:
    base = dict.fromkeys(("red", "yellow", "notice", "red_undisposed", "yellow_undisposed"), 0)
    base.update(kw)
    return MappingProxyType(base)


_NO_LIGHTS: Mapping[str, Level] = MappingProxyType({})
_NO_PHASES: Mapping[str, float] = MappingProxyType({})
_NO_WRITES: Mapping[str, int] = MappingProxyType({})
_NO_RECORDS: Mapping[str, AppliedRecord] = MappingProxyType({})
EMPTY_SNAPSHOT = WarningSnapshot(
    datetime.min.replace(tzinfo=UTC), (), _NO_LIGHTS, _NO_LIGHTS, _counts(), frozenset(), 0
)


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did."""

    kind: str  # "full", "changes", "timer" or "idle" (nothing to do)
    at: datetime
    rejudged: frozenset[Subject]  # the subjects judged (every subject for a full pass)
    published: bool  # a new snapshot went out
    seconds: float
    # where the time went (seconds): "load" (reading what changed), "judge" (rules, kept warnings,
    # lights, schedule), "write" (warning_states, case columns and the commit), "publish"; the
    # phases the pass had (a full pass and an idle one give none)
    phases: Mapping[str, float] = field(default_factory=lambda: _NO_PHASES)
    # rows written: "states" (warning_states inserted or updated), "columns" (cases' derived columns)
    written: Mapping[str, int] = field(default_factory=lambda: _NO_WRITES)


@dataclass(frozen=True, slots=True)
class MonitorStatus:
    running: bool
    generation: int  # of the latest snapshot
    passes: int
    last_pass_kind: str | None  # "full", "changes", "timer", "idle"
    last_pass_at: datetime | None
    last_pass_ms: float | None
    last_rejudged: int  # subjects the last pass re-judged
    subjects: int  # cases, tickets and seat vacancies the evaluator holds
    warnings: int  # warnings in force
    scheduled: int  # subjects waiting for a time-driven change
    last_error: str | None  # why the last pass failed (cleared by the next published one)


class _Stopped(Exception):
    """The monitor is stopping: the pass under way is abandoned (nothing of it is committed)."""


# A warning in force as the monitor keeps it: its view, its subject, where it lights (windows,
# departments, level code; None when it lights nothing) and its place in the sorted list.
_Light = tuple[tuple[tuple[str, str], ...], int]  # the (("w", window) and ("d", department)) it lights, level code
# Where a subject's warnings light: whether it is open, its department.
_Where = tuple[bool, str | None]
# Display order: reds first, then by time raised, then key — as one string (``_order_key``): the
# bisections compare strings (one memcmp), not tuples of a level, an instant and a key.
_Key = str


class WarningViews(Sequence[WarningView]):
    """The warnings of a snapshot in display order: an immutable sequence over the blocks of the
    monitor's sorted list, so that publishing copies only the blocks a pass changed (not every
    view). Iterate it, index it, take ``len``; ``tuple(views)`` or ``list(views)`` for a copy."""

    __slots__ = ("_blocks", "_len", "_starts")

    def __init__(self, blocks: tuple[tuple[WarningView, ...], ...] = ()) -> None:
        starts, n = [], 0
        for b in blocks:
            starts.append(n)
            n += len(b)
        self._blocks, self._starts, self._len = blocks, starts, n

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, i: int) -> WarningView: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[WarningView, ...]: ...
    def __getitem__(self, i: int | slice) -> WarningView | tuple[WarningView, ...]:
        if isinstance(i, slice):
            return tuple(self)[i]
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("warning index out of range")
        b = bisect_right(self._starts, i) - 1
        return self._blocks[b][i - self._starts[b]]

    def __iter__(self) -> Iterator[WarningView]:
        return chain.from_iterable(self._blocks)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, WarningViews | tuple):
            return len(self) == len(other) and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"WarningViews({len(self)} warnings)"


class _SortedViews:
    """The views in display order, kept in blocks: adding or removing one shifts one small block,
    and publishing freezes only the blocks changed since the last snapshot (each block's tuple is
    kept until it changes), so a snapshot costs no per-view work."""

    _BLOCK = 128  # small: a page changes views all over the order, and publishing copies every block it touched

    def __init__(self) -> None:
        self._keys: list[list[_Key]] = []
        self._views: list[list[WarningView]] = []
        self._maxes: list[_Key] = []
        self._frozen: list[tuple[WarningView, ...] | None] = []  # each block as last published

    def load(self, items: list[tuple[_Key, WarningView]]) -> None:
        items.sort(key=lambda kv: kv[0])
        n = self._BLOCK
        self._keys = [[k for k, _ in items[i : i + n]] for i in range(0, len(items), n)]
        self._views = [[v for _, v in items[i : i + n]] for i in range(0, len(items), n)]
        self._maxes = [keys[-1] for keys in self._keys]
        self._frozen = [None] * len(self._keys)

    def add(self, k: _Key, v: WarningView) -> None:
        if not self._keys:
            self._keys, self._views, self._maxes, self._frozen = [[k]], [[v]], [k], [None]
            return
        i = min(bisect_left(self._maxes, k), len(self._maxes) - 1)
        keys, views = self._keys[i], self._views[i]
        j = bisect_left(keys, k)
        keys.insert(j, k)
        views.insert(j, v)
        self._frozen[i] = None
        if k > self._maxes[i]:
            self._maxes[i] = k
        if len(keys) > 2 * self._BLOCK:
            h = len(keys) // 2
            self._keys[i : i + 1] = [keys[:h], keys[h:]]
            self._views[i : i + 1] = [views[:h], views[h:]]
            self._maxes[i : i + 1] = [keys[h - 1], keys[-1]]
            self._frozen[i : i + 1] = [None, None]

    def remove(self, k: _Key) -> None:
        i = bisect_left(self._maxes, k)
        keys = self._keys[i]
        j = bisect_left(keys, k)
        if keys[j] != k:  # pragma: no cover - the blocks and the entries are kept together
            raise KeyError(k)
        del keys[j]
        del self._views[i][j]
        self._frozen[i] = None
        if not keys:
            del self._keys[i], self._views[i], self._maxes[i], self._frozen[i]
        elif j == len(keys):
            self._maxes[i] = keys[-1]

    def replace(self, k: _Key, v: WarningView) -> None:
        i = bisect_left(self._maxes, k)
        j = bisect_left(self._keys[i], k)
        self._views[i][j] = v
        self._frozen[i] = None

    def freeze(self) -> WarningViews:
        """The views as an immutable sequence; only the blocks changed since the last call are copied."""
        frozen = self._frozen
        for i, block in enumerate(frozen):
            if block is None:
                frozen[i] = tuple(self._views[i])
        return WarningViews(tuple(frozen))  # type: ignore[arg-type]  # every block frozen above


@dataclass(slots=True)
class _Entry:
    view: WarningView
    subject: Subject
    light: _Light | None
    order: _Key


class WarningMonitor:
    """The terminal's warnings, watched continuously (a Service named "warnings")."""

    name = "warnings"

    def __init__(
        self,
        store: Store,
        tz: ZoneInfo,
        *,
        interval: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.store = store
        self.tz = tz
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()  # pending work, listeners, status
        self._pass_lock = threading.Lock()  # one pass at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pending = ChangedIds()
        self._refresh_wanted = True
        self._listeners: list[Callable[[WarningSnapshot], None]] = []
        self._snapshot = EMPTY_SNAPSHOT
        self._passes = 0
        self._last_pass: PassReport | None = None
        self._last_error: str | None = None
        self._phases: dict[str, float] = {}  # the pass under way's phases (PassReport.phases)
        self._written: dict[str, int] = {}  # the pass under way's rows written (PassReport.written)
        self._wal_written = False  # a pass committed since the last checkpoint (SQLite)
        self._lights: dict[tuple[str | None, str | None, Level], _Light] = {}  # by window, department, level
        self._reset(None)

    def _reset(self, ev: Evaluator | None) -> None:
        self._ev = ev
        self._actions: dict[str, Actions] = {}
        self._disp_key: dict[str, str] = {}
        self._window_dept: dict[str, str] = {}
        self._columns: dict[str, int] = {}  # case id -> its columns as stored (_pack: an int, not a tuple)
        self._entries: dict[str, _Entry] = {}
        self._subject_keys: dict[Subject, tuple[str, ...]] = {}
        self._order = _SortedViews()
        self._bulk: list[tuple[_Key, WarningView]] | None = None
        self._light_counts: dict[tuple[str, str], list[int]] = {}  # ("w"|"d", id) -> count per level code
        self._by_window: dict[str, Level] = {}
        self._by_department: dict[str, Level] = {}
        self._count: dict[str, int] = dict(_counts())
        self._next: dict[Subject, int] = {}  # subject -> its next change, µs since the epoch (exact)
        self._heap: list[tuple[int, str, str]] = []
        self._today: date | None = None
        self._dirty = False
        self._touched: set[tuple[str, str]] = set()
        self._states = StateRows()  # the warning_states rows in force, as the passes wrote them
        self._unsure: set[str] = set()  # subjects whose rows someone else wrote (a local act)
        self._previous: dict[str, WarningView] = {}  # during a full pass: the views before it

    # -- the Service -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the monitor's thread; its first pass is a full one."""
        if self._thread is not None:
            raise RuntimeError("the warning monitor was already started")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="warnings")
        self._thread.start()

    def request_stop(self) -> None:
        """Abandon the pass under way at its next subject (``stop`` joins)."""
        self._stop.set()
        self._wake.set()

    def stop(self, deadline: float) -> bool:
        """Stop and join the thread before ``deadline`` (``time.monotonic()``). A pass under way is
        abandoned at its next subject (nothing of it is committed); True when the thread ended."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        return True if thread is None else join_until([thread], deadline)

    def status(self) -> MonitorStatus:
        with self._lock:
            ev, last = self._ev, self._last_pass
            return MonitorStatus(
                running=self._thread is not None and self._thread.is_alive(),
                generation=self._snapshot.generation,
                passes=self._passes,
                last_pass_kind=None if last is None else last.kind,
                last_pass_at=None if last is None else last.at,
                last_pass_ms=None if last is None else round(last.seconds * 1e3, 3),
                last_rejudged=0 if last is None else len(last.rejudged),
                subjects=0 if ev is None else ev.stats.cases + len(ev.tickets) + len(ev.vacancies),
                warnings=len(self._snapshot.views),
                scheduled=len(self._next),
                last_error=self._last_error,
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.process()
            except _Stopped:
                break
            except Exception as e:  # a pass must not end the monitor: log, retry with a full pass
                log.exception("warning pass failed; the next pass is a full one")
                with self._lock:
                    self._last_error = f"{type(e).__name__}: {e}"
            try:
                self.checkpoint()  # the snapshot is out: what the pass wrote goes into the database file
            except Exception as e:
                log.warning("WAL checkpoint after a warning pass failed: %s", e)
            self._wake.wait(self.interval)
            self._wake.clear()

    # -- what callers use -----------------------------------------------------------------------------
    def changed(self, ids: ChangedIds) -> None:
        """The records ``ids`` changed (an applied page, a local act): re-judge their subjects on
        the next pass, at once when the monitor runs. Any thread."""
        if not ids:
            return
        with self._lock:
            self._pending = self._pending.merge(ids)
        self._wake.set()

    def refresh(self) -> None:
        """Ask for a full pass (after an import or a full resync). Any thread."""
        with self._lock:
            self._refresh_wanted = True
        self._wake.set()

    def snapshot(self) -> WarningSnapshot:
        """The latest published snapshot (no database, no lock)."""
        return self._snapshot

    def add_listener(self, cb: Callable[[WarningSnapshot], None]) -> None:
        """``cb(snapshot)`` after each published snapshot, on the thread that ran the pass."""
        with self._lock:
            self._listeners.append(cb)

    def remove_listener(self, cb: Callable[[WarningSnapshot], None]) -> None:
        with self._lock:
            if cb in self._listeners:
                self._listeners.remove(cb)

    def process(self, now: datetime | None = None) -> PassReport:
        """Run one pass now on the caller's thread: the full pass asked for, the subjects of the
        changes waiting, the subjects whose time-driven change has come by ``now`` (default: the
        clock). The monitor's thread calls it; so may a command that runs no thread."""
        with self._pass_lock:
            with self._lock:
                ids, self._pending = self._pending, ChangedIds()
                full, self._refresh_wanted = self._refresh_wanted or self._ev is None, False
            at = now if now is not None else self._clock()
            self._phases = {}
            self._written = {}
            t0 = time.perf_counter()
            try:
                if not full and any(ids.ids(t) for t in _FULL_TYPES):
                    full = True
                if full:
                    kind, rejudged, published = "full", self._full(at), True
                else:
                    kind, rejudged, published = self._incremental(at, ids)
            except BaseException as e:
                with self._lock:  # the in-memory view may be half-updated: start again from the store
                    self._refresh_wanted = True
                if isinstance(e, Exception) and not isinstance(e, _Stopped):
                    with self._lock:
                        self._last_error = f"{type(e).__name__}: {e}"
                raise
            report = PassReport(
                kind,
                at,
                rejudged,
                published,
                time.perf_counter() - t0,
                MappingProxyType(self._phases),
                MappingProxyType(self._written),
            )
            with self._lock:
                self._passes += 1
                self._last_pass = report
                if published:
                    self._last_error = None
            if kind != "idle":
                log.debug(
                    "warning pass %s: %d subjects re-judged in %.1f ms", kind, len(rejudged), report.seconds * 1e3
                )
            return report

    # -- passes ----------------------------------------------------------------------------------------
    def _full(self, at: datetime) -> frozenset[Subject]:
        shown, at = at, _in_utc(at)
        # Free the state of the last full pass before building the next (both at once were +150 MB
        # at 100 000 cases), keeping only its views: unchanged, they stay the same objects.
        previous = {k: e.view for k, e in self._entries.items()}
        self._reset(None)
        with self.store.read() as s:
            ev = Evaluator(load_calendar(s), self.tz, load_rules(s), load_case_types(s))
            batch: list[Case] = []
            for c in iter_cases(s):
                batch.append(c)
                if len(batch) == 20_000:
                    ev.set_cases(batch)
                    batch = []
                    self._check_stop()
            ev.set_cases(batch)
            ev.set_tickets(iter_tickets(s))
            ev.set_vacancies(iter_vacancies(s))
            ev.disposed = disposal_times(s)
            self._check_stop()
            actions = load_actions(s)
            disp_key = {
                i: k
                for i, k in s.execute(
                    select(DispositionRow.id, DispositionRow.warning).where(DispositionRow.deleted.is_(False))
                )
                if k
            }
            depts = window_departments(s)
            stored = case_columns(s)
        self._reset(ev)
        self._previous = previous
        self._actions, self._disp_key, self._window_dept = actions, disp_key, depts
        # keyed by the cases' own id strings (the query's are other copies of them: 6 MB at 100 000)
        packed = {cid: _pack(cols) for cid, cols in stored.items()}
        self._columns = {subj.id: packed.pop(subj.id) for subj in ev.subjects() if subj.id in packed}
        self._columns.update(packed)  # cases no rule can judge (their type is unknown here)
        del packed
        self._today = local_date(at, self.tz)
        subjects = frozenset(ev.subjects())
        try:
            views, _, writes = self._judge(subjects, at, bulk=True)
        finally:
            self._previous = {}
        for cid, cols in stored.items():  # cases no rule can judge (type unknown here): no dates, no level
            if ev.case_facts_of(cid) is None and cols != (None, None, 0):
                writes.append((cid, (None, None, 0), cols))
                self._columns[cid] = 0
        self._check_stop()
        with self._writing() as s:
            counts = reconcile_all(s, views, at, self._states)
            self._write_columns(s, writes)
        self._written.update(states=counts["written"], columns=len(writes))
        self._publish(shown)
        return subjects

    def _incremental(self, at: datetime, ids: ChangedIds) -> tuple[str, frozenset[Subject], bool]:
        shown, at = at, _in_utc(at)
        due = self._pop_due(at)
        new_day = local_date(at, self.tz) != self._today
        if not ids and not due and not new_day:
            return "idle", frozenset(), False
        kind = "changes" if ids else "timer"
        subjects: set[Subject] = set(due)
        if new_day:
            self._today = local_date(at, self.tz)
            self._relight_all(at)
        if not any(ids.ids(t) for t in _SUBJECT_TYPES):
            ids = ChangedIds()  # cameras, evaluations, bookmarks…: no warning depends on them
        phases = self._phases
        if ids or subjects:
            t0 = time.perf_counter()
            with self._writing() as s:
                if ids:
                    subjects |= self._load(s, ids)
                t1 = time.perf_counter()
                judged = frozenset(subjects)
                views, changed, writes = self._judge(judged, at, bulk=False)
                t2 = time.perf_counter()
                unsure = self._unsure.intersection(subj.id for subj in judged)
                self._unsure -= unsure
                for subj in judged:  # rows a local act wrote: reconciled even when the views are the same
                    if subj.id in unsure and subj.id not in changed:
                        views.extend(self._entries[k].view for k in self._subject_keys.get(subj, ()))
                states = 0
                if changed or unsure:
                    states = reconcile_kept(s, views, at, changed | unsure, self._states, unsure=unsure)["written"]
                self._write_columns(s, writes)
                self._written.update(states=states, columns=len(writes))
            t3 = time.perf_counter()  # committed
            phases.update(load=t1 - t0, judge=t2 - t1, write=t3 - t2)
        else:
            judged = frozenset()
        published = self._dirty
        if published:
            t3 = time.perf_counter()
            self._publish(shown)
            phases["publish"] = time.perf_counter() - t3
        return kind, judged, published

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _Stopped

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """A pass's write transaction.

        What a pass writes is derived state only: ``warning_states`` rows and the cases' derived
        columns (``promised_due``, ``legal_due``, ``worst_level``), which the first pass of every
        monitor — a full one (``_refresh_wanted`` starts True) — recomputes from the records and
        reconciles with what is stored (``reconcile_all``, the stored columns compared and
        rewritten). So it is the store's ``write_derived()``: a commit that need not survive a
        power cut (that full pass at the next start writes it again; the outbox, the applied
        changes and the user's acts keep ``FULL``).

        On SQLite that commit does not checkpoint the WAL either (the automatic checkpoint, every
        1 000 pages, would copy the pages of every writer since the last one into the database
        file inside the pass): ``checkpoint()`` does it once the snapshot is out, when the monitor
        is idle."""
        with self.store.write_derived() as s:
            self._wal_written = self.store.is_sqlite
            yield s

    def checkpoint(self) -> tuple[int, int] | None:
        """Copy into the database file what the passes wrote to SQLite's WAL since the last
        checkpoint (a passive checkpoint: it waits for no reader or writer). The monitor's thread
        calls it after each pass that wrote, once the snapshot is out; a caller of ``process``
        without the thread calls it when it has the time. Returns the WAL's frames and the frames
        checkpointed (None: nothing written since the last one, or not SQLite)."""
        if not self._wal_written:
            return None
        self._wal_written = False
        with self.store.engine.connect() as c:
            row = c.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
        return int(row[1]), int(row[2])

    # -- loading what changed ---------------------------------------------------------------------------
    def _load(self, s: Session, ids: ChangedIds) -> set[Subject]:
        ev = self._ev
        assert ev is not None
        subjects: set[Subject] = set()
        case_ids = sorted(ids.ids("case"))
        same: set[str] = set()  # sent again as they were (other fields changed): nothing to re-judge
        columns = self._columns
        given = ids.records.get("case", _NO_RECORDS)
        for chunk in _chunks(case_ids):
            # the cases named with their record as applied are taken from it; the others read back
            want = [i for i in chunk if i not in given]
            read = {c.id: (c, _pack(cols)) for c, cols in cases_with_columns(s, want)} if want else {}
            renewed, gone = [], []
            for cid in chunk:
                give_way()
                packed: int | None
                rec = given.get(cid)
                if rec is None:
                    got = read.get(cid)
                    if got is None:
                        gone.append(cid)
                        continue
                    c, packed = got  # its columns as stored now (a resync may have reset them)
                elif rec.values is None:
                    gone.append(cid)
                    continue
                else:
                    # Not read back: the row's columns are those last written here, unless the row
                    # is new (a resync replaced it: its defaults, or what a pass wrote since): unknown,
                    # so all three are written.
                    c, packed = case_from_values(cid, rec.values), None if rec.inserted else columns.get(cid)
                if packed is not None and ev.case(cid) == c and columns.get(cid) == packed:
                    same.add(cid)  # its facts, warnings, schedule and columns all hold
                    continue
                renewed.append(c)
                if packed is None:
                    columns.pop(cid, None)
                else:
                    columns[cid] = packed
            ev.set_cases(renewed)
            for cid in gone:
                columns.pop(cid, None)
            ev.remove_cases(gone)
        subjects.update(Subject("case", c) for c in case_ids if c not in same)
        ticket_ids = sorted(ids.ids("ticket"))
        given = ids.records.get("ticket", _NO_RECORDS)
        for chunk in _chunks(ticket_ids):
            want = [i for i in chunk if i not in given]
            found_t = list(iter_tickets(s, want)) if want else []
            for tid in chunk:
                rec = given.get(tid)
                t = None if rec is None or rec.values is None else ticket_from_values(tid, rec.values)
                if t is not None:
                    found_t.append(t)
            ev.set_tickets(found_t)
            ev.remove_tickets(set(chunk) - {t.id for t in found_t})
        subjects.update(Subject("ticket", t) for t in ticket_ids)
        vac_ids = sorted(ids.ids("seat_vacancy"))
        windows = {w for w in map(ev.vacancy_window, vac_ids) if w is not None}
        for chunk in _chunks(vac_ids):
            found_v = list(iter_vacancies(s, ids=chunk))
            ev.set_vacancies(found_v)
            ev.remove_vacancies(set(chunk) - {v.id for v in found_v})
            windows.update(v.window_id for v in found_v)
        window_ids = sorted(ids.ids("window"))
        for chunk in _chunks(window_ids):
            depts = window_departments(s, chunk)
            for wid in chunk:
                if wid in depts:
                    self._window_dept[wid] = depts[wid]
                else:
                    self._window_dept.pop(wid, None)
        windows.update(window_ids)
        subjects.update(Subject("window", w) for w in windows)
        keys: set[str] = set()
        for chunk in _chunks(sorted(ids.ids("disposition"))):
            now_keys = disposition_keys(s, chunk)
            for did in chunk:
                old = self._disp_key.pop(did, None)
                new = now_keys.get(did)
                if new:
                    self._disp_key[did] = new
                keys.update(k for k in (old, new) if k)
        if keys:
            acts = load_actions(s, keys)
            for k in keys:
                a = acts.get(k)
                if a is None:
                    self._actions.pop(k, None)
                    ev.disposed.pop(k, None)
                    continue
                self._actions[k] = a
                if a.disposals:
                    ev.disposed[k] = [d[0] for d in a.disposals]
                else:
                    ev.disposed.pop(k, None)
                subjects.update(ev.subjects_named(k.rpartition("/")[0]))
            self._unsure.update(k.rpartition("/")[0] for k in keys)
        return subjects

    # -- judging -------------------------------------------------------------------------------------------
    def _judge(
        self, subjects: Iterable[Subject], at: datetime, *, bulk: bool
    ) -> tuple[list[WarningView], set[str], list[_ColumnWrite]]:
        """Re-judge ``subjects`` at ``at``: update the kept warnings, lights, counts, columns to
        write and the schedule. Returns, for reconcile, the ids of the subjects whose warnings
        changed and their views in force; and the column writes."""
        ev = self._ev
        assert ev is not None
        out: list[WarningView] = []
        changed: set[str] = set()
        writes: list[_ColumnWrite] = []
        actions = self._actions
        judge, next_change, facts_of, has_case = ev.judge, ev.next_change, ev.case_facts_of, ev.case
        subject_keys, columns, put, drop, schedule = (
            self._subject_keys,
            self._columns,
            self._put,
            self._drop,
            self._schedule,
        )
        cal, tz = ev.cal, self.tz
        active = State.ACTIVE
        for n, subj in enumerate(subjects):
            if n % 2000 == 1999:
                self._check_stop()
            give_way()
            warnings = judge(subj, at)
            new_keys = tuple([w.key for w in warnings])
            if actions:  # state_of, without its call for a warning nobody acted on
                views = [
                    WarningView(w, active) if (a := actions.get(k)) is None else state_of(w, a, at)
                    for w, k in zip(warnings, new_keys, strict=True)
                ]
            else:
                views = [WarningView(w, active) for w in warnings]
            # looked up, not popped and put back: a dict of every subject keeps its entries where
            # they are (each pop leaves a slot behind, and the dict is rebuilt when they add up)
            old_keys = subject_keys.get(subj, ())
            differs = old_keys != new_keys
            if differs:
                for k in old_keys:
                    if k not in new_keys:
                        drop(k)
                if new_keys:
                    subject_keys[subj] = new_keys
                elif old_keys:
                    del subject_keys[subj]
            is_case = subj.kind == "case"
            f = facts_of(subj.id) if is_case else None
            if views:
                where = self._where(subj, at, f)
                for v in views:
                    if put(v, subj, where, bulk=bulk):
                        differs = True
            if differs:  # rows of warnings whose view did not change are already as they should be
                changed.add(subj.id)
                out.extend(views)
            nxt = next_change(subj, at)
            if is_case:
                cols: CaseColumns | None = None
                if f is not None:
                    promised, legal = case_due_dates(f, at, cal, tz)
                    worst = 0
                    for v in views:
                        code = _CODE[v.warning.level]
                        if code > worst:
                            worst = code
                    cols = (promised, legal, worst)
                    nxt = _earlier(nxt, case_due_dates_next_change(f, at, tz))
                elif has_case(subj.id) is not None:  # its type is unknown here: no dates, no level
                    cols = (None, None, 0)
                if cols is not None:
                    old_cols, packed = columns.get(subj.id), _pack(cols)
                    if old_cols != packed:
                        writes.append((subj.id, cols, None if old_cols is None else _unpack(old_cols)))
                        columns[subj.id] = packed
            for k in new_keys if actions else ():  # an action stamped later than now (another clock)
                a = actions.get(k)  # changes the state then
                if a is not None:
                    for t in [x[0] for x in a.acks] + [x[0] for x in a.disposals]:
                        if t > at:
                            nxt = _earlier(nxt, t)
            schedule(subj, nxt)
        if bulk:
            self._order.load(self._bulk or [])
            self._bulk = None
        self._relevel()
        return out, changed, writes

    def _where(self, subj: Subject, at: datetime, facts: CaseFacts | None = None) -> _Where:
        """Whether the subject is open at ``at`` (a case not ended; a waiting ticket's or an empty
        seat's warning is in force only while it is) and the department its warnings light
        (``facts``: a case's, when the caller has them)."""
        ev = self._ev
        assert ev is not None
        if subj.kind == "case":
            f = facts if facts is not None else ev.case_facts_of(subj.id)
            if f is None:
                return True, None
            return f.ended_at is None or f.ended_at > at, f.ctype.department or None
        if subj.kind == "ticket":
            t = ev.tickets.get(subj.id)
            ct = ev.case_types.get(t.case_type_id) if t is not None and t.case_type_id else None
            return True, (ct.department or None) if ct is not None else None
        return True, self._window_dept.get(subj.id) or None

    def _light(self, v: WarningView, where: _Where) -> _Light | None:
        if v.state is State.DISPOSED:
            return None
        w = v.warning
        open_, dept = where
        if not open_:
            raised = w.level_since if w.level_since is not None and w.level_since > w.since else w.since
            if local_date(raised, self.tz) != self._today:
                return None
        k = (w.window_id, dept, w.level)
        light = self._lights.get(k)
        if light is None:  # one tuple per light: a few hundred, not one per warning
            targets = ((("w", w.window_id),) if w.window_id else ()) + ((("d", dept),) if dept else ())
            light = self._lights[k] = (targets, _CODE[w.level])
        return light

    def _put(self, v: WarningView, subj: Subject, where: _Where, *, bulk: bool) -> bool:
        """Keep ``v`` (a warning of ``subj``, which lights ``where``); say whether the view is new
        or differs from the one kept."""
        w = v.warning
        key = w.key
        old = self._entries.get(key)
        light = self._light(v, where)
        if old is not None:
            ov = old.view
            # ``ov == v`` without the dataclass's two tuples
            ow = ov.warning
            if ow == w and ov.state is v.state and ov.acknowledged == v.acknowledged and ov.disposed == v.disposed:
                if old.light != light:  # the same warning lights otherwise (a new day, a department)
                    self._tally(v, old.light, -1)
                    old.light = light
                    self._tally(v, light, +1)
                return False
            if ow.level is w.level and ow.since == w.since and not bulk:
                # Its place stays (same level, same time raised): only the view is new (a detail, an
                # acknowledgement, another window), and its counts when it lights otherwise.
                self._order.replace(old.order, v)
                if old.light != light or ov.state != v.state:
                    self._tally(ov, old.light, -1)
                    self._tally(v, light, +1)
                old.view, old.subject, old.light = v, subj, light
                self._dirty = True
                return True
            self._drop(key)
        elif bulk:
            prev = self._previous.get(key)
            if prev is not None and prev == v:
                v = prev  # unchanged across the full pass: the same object in the snapshot
        order = _order_key(v.warning)
        self._entries[key] = _Entry(v, subj, light, order)
        if bulk:
            if self._bulk is None:
                self._bulk = []
            self._bulk.append((order, v))
        else:
            self._order.add(order, v)
        self._tally(v, light, +1)
        return True

    def _drop(self, key: str) -> None:
        e = self._entries.pop(key, None)
        if e is None:
            return
        if self._bulk is not None:  # pragma: no cover - a full pass judges each subject once
            self._bulk.remove((e.order, e.view))
        else:
            self._order.remove(e.order)
        self._tally(e.view, e.light, -1)

    def _tally(self, v: WarningView, light: _Light | None, delta: int) -> None:
        self._dirty = True
        level = v.warning.level
        count = self._count
        count[_LEVEL_NAME[level]] += delta
        if v.state is not State.DISPOSED and level is not Level.NOTICE:
            count[_UNDISPOSED_NAME[level]] += delta
        if light is None:
            return
        targets, code = light
        light_counts = self._light_counts
        for target in targets:
            counts = light_counts.get(target)
            if counts is None:
                counts = light_counts[target] = [0, 0, 0, 0]
            counts[code] += delta
        self._touched.update(targets)

    def _relevel(self) -> None:
        for target in self._touched:
            counts = self._light_counts.get(target)
            code = next((c for c in (3, 2, 1) if counts and counts[c] > 0), 0)
            lights = self._by_window if target[0] == "w" else self._by_department
            if code:
                lights[target[1]] = _LEVEL_OF_CODE[code]
            else:
                lights.pop(target[1], None)
                self._light_counts.pop(target, None)
        self._touched.clear()

    def _relight_all(self, at: datetime) -> None:
        """A new day: warnings raised yesterday on closed subjects stop lighting."""
        for key, e in list(self._entries.items()):
            light = self._light(e.view, self._where(e.subject, at))
            if light != e.light:
                self._tally(e.view, e.light, -1)
                e.light = light
                self._tally(e.view, light, +1)
                self._entries[key] = e
        self._relevel()

    # -- the schedule of time-driven changes ----------------------------------------------------------
    def _schedule(self, subj: Subject, t: datetime | None) -> None:
        if t is None:
            self._next.pop(subj, None)
            return
        us = _micros(t)
        if self._next.get(subj) == us:
            return
        self._next[subj] = us
        heapq.heappush(self._heap, (us, subj.kind, subj.id))
        if len(self._heap) > 2 * len(self._next) + 1024:  # drop the entries superseded since
            self._heap = [(u, s.kind, s.id) for s, u in self._next.items()]
            heapq.heapify(self._heap)

    def _pop_due(self, at: datetime) -> set[Subject]:
        due: set[Subject] = set()
        heap = self._heap
        now = _micros(at)
        while heap and heap[0][0] <= now:
            us, kind, sid = heapq.heappop(heap)
            subj = Subject(kind, sid)
            if self._next.get(subj) == us:
                del self._next[subj]
                due.add(subj)
        return due

    def next_due(self) -> datetime | None:
        """The earliest time-driven change scheduled (None: none)."""
        us = min(self._next.values(), default=None)
        return None if us is None else _EPOCH + timedelta(microseconds=us)

    # -- writing and publishing -------------------------------------------------------------------------
    @staticmethod
    def _write_columns(s: Session, writes: list[_ColumnWrite]) -> None:
        """Each case's changed columns only: every column set is an index entry rewritten (and its
        pages written at commit), even when its value stays."""
        if s.get_bind().dialect.name == "sqlite":  # through the driver: no per-value processing
            raw: Any = s.connection().connection.driver_connection
            by: dict[tuple[bool, bool, bool], list[tuple[Any, ...]]] = {}
            for cid, new, old in writes:
                which = (True, True, True) if old is None else (new[0] != old[0], new[1] != old[1], new[2] != old[2])
                p, lg = new[0], new[1]
                row_values = (None if p is None else p.isoformat(), None if lg is None else lg.isoformat(), new[2])
                by.setdefault(which, []).append((*(x for x, w in zip(row_values, which, strict=True) if w), cid))
            for which, rows in by.items():
                names = ", ".join(f"{n} = ?" for n, w in zip(_COLUMN_NAMES, which, strict=True) if w)
                raw.executemany(f"UPDATE cases SET {names} WHERE id = ?", rows)
            return
        groups: dict[tuple[bool, bool, bool], list[dict[str, Any]]] = {}
        for cid, new, old in writes:
            which = (True, True, True) if old is None else (new[0] != old[0], new[1] != old[1], new[2] != old[2])
            groups.setdefault(which, []).append({"b_id": cid, "b_p": new[0], "b_l": new[1], "b_w": new[2]})
        for which, params in groups.items():
            values: dict[str, Any] = {
                name: bindparam(param)
                for name, param, changed in zip(_COLUMN_NAMES, ("b_p", "b_l", "b_w"), which, strict=True)
                if changed
            }
            stmt = update(_CASES).where(_CASES.c.id == bindparam("b_id")).values(values)
            for chunk in _chunks(params, 5000):
                s.connection().execute(stmt, chunk)

    def _publish(self, at: datetime) -> None:
        ev = self._ev
        snap = WarningSnapshot(
            at=at,
            views=self._order.freeze(),
            by_window=MappingProxyType(dict(self._by_window)),
            by_department=MappingProxyType(dict(self._by_department)),
            counts=MappingProxyType(dict(self._count)),
            fallback_years=frozenset() if ev is None else ev.cal.fallback_years,
            generation=self._snapshot.generation + 1,
        )
        self._snapshot = snap
        self._dirty = False
        with self._lock:
            listeners = list(self._listeners)
        for cb in listeners:
            try:
                cb(snap)
            except Exception:
                log.exception("a warning listener failed")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def _pack(cols: CaseColumns) -> int:
    """A case's derived columns as one int (32 bytes, where a tuple of two dates was ~130): the
    monitor keeps them for every case."""
    p, lg, worst = cols
    return (((p.toordinal() if p else 0) << 22 | (lg.toordinal() if lg else 0)) << 4) | worst


def _unpack(n: int) -> CaseColumns:
    p, lg = n >> 26, (n >> 4) & 0x3FFFFF
    return (date.fromordinal(p) if p else None, date.fromordinal(lg) if lg else None, n & 15)


def _in_utc(t: datetime) -> datetime:
    """``t`` in UTC: a pass judges at one instant in UTC, the zone of the store's instants, so that
    the rules' many comparisons of it with them need not ask either for its offset (the snapshot
    and the report keep the caller's ``t``)."""
    return t if t.tzinfo is UTC else t.astimezone(UTC)


_US_OFFSET = 10**16  # the instants' digits non-negative (from 1653 on), 17 of them (up to 4822)


def _order_key(w: DerivedWarning) -> str:
    """A warning's place in display order as one string: its level (reds first), the time raised
    (µs since the epoch, fixed width: their digits sort as the instants do), then its key."""
    return f"{_ORDER[w.level]}{_micros(w.since) + _US_OFFSET:017d}{w.key}"


def _micros(t: datetime) -> int:
    return (t - _EPOCH) // _ONE_US


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


def _chunks(items: list[Any], n: int = _CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
