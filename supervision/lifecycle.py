"""Warnings as the operator sees them: derived warnings plus their lifecycle.

``active → acknowledged (签收) → disposed (督办/纠错/说明, with a note)``; ``cleared`` when the
condition ends. The lifecycle comes from dispositions — this terminal's own (written at once,
in the same transaction as the outbox row that will push them) and those synced from other
terminals — so every terminal shows the same state. A rise in level (yellow → red) makes the
warning active again: the red has not been looked at yet.

``reconcile`` keeps ``warning_states``: when each warning was first seen, the highest level it
reached (a red stays on record after the case completes) and when it cleared.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import chain
from operator import itemgetter
from sys import intern
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from supervision.actions import new_action_id, warning_payload
from supervision.duedates import DEFAULT_ZONE, local_date
from supervision.foreground import give_way
from supervision.rules import Code, DerivedWarning, Level
from supervision.snapshot import is_dispose, load_evaluator
from supervision.store.db import Store
from supervision.store.models import AuditEntry, DispositionRow, OutboxAction, WarningState

log = logging.getLogger(__name__)
DEFAULT_TZ = ZoneInfo(DEFAULT_ZONE)


class State(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    DISPOSED = "disposed"
    CLEARED = "cleared"


class Measure(StrEnum):
    SUPERVISE = "supervise"  # 督办
    CORRECT = "correct"  # 纠错
    EXPLAIN = "explain"  # 说明


class ActionRejected(ValueError):
    """A lifecycle action that does not fit the warning's state; the message says why."""


@dataclass(frozen=True, slots=True)
class WarningView:
    """A warning in force at an instant, with its lifecycle state."""

    warning: DerivedWarning
    state: State
    acknowledged: tuple[datetime, str] | None = None
    disposed: tuple[datetime, str, str, str] | None = None  # at, by, measure, note

    @property
    def key(self) -> str:
        return self.warning.key

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        w = self.warning
        out: dict[str, Any] = {
            "key": w.key,
            "code": str(w.code),
            "level": str(w.level),
            "subject": w.subject,
            "subject_type": w.subject_type,
            "window_id": w.window_id,
            "state": str(self.state),
            "since": w.since.astimezone(tz).isoformat(),
            "level_since": (w.level_since or w.since).astimezone(tz).isoformat(),
            "detail": dict(w.detail),
        }
        if self.acknowledged:
            out["acknowledged"] = {"at": self.acknowledged[0].astimezone(tz).isoformat(), "by": self.acknowledged[1]}
        if self.disposed:
            at, by, measure, note = self.disposed
            out["disposed"] = {"at": at.astimezone(tz).isoformat(), "by": by, "measure": measure, "note": note}
        return out


@dataclass(slots=True)
class _Actions:
    acks: list[tuple[datetime, str]] = field(default_factory=list)
    disposals: list[tuple[datetime, str, str, str]] = field(default_factory=list)


def _actions_by_key(s: Session, keys: Iterable[str] | None) -> dict[str, _Actions]:
    wanted = None if keys is None else set(keys)
    out: dict[str, _Actions] = {}
    if wanted is not None and not wanted:
        return out
    d = DispositionRow
    q = select(d.warning, d.at, d.action, d.measure, d.by, d.note).where(d.deleted.is_(False)).order_by(d.at, d.id)
    if wanted is not None and len(wanted) <= 500:  # one warning acted on, a screenful: the index finds them
        q = q.where(d.warning.in_(wanted))
    for key, at, action, measure, by, note in s.execute(q):
        if key is None or at is None or (wanted is not None and key not in wanted):
            continue
        a = out.setdefault(key, _Actions())
        if is_dispose(action):
            a.disposals.append((at, by or "", measure or (action or "").removeprefix("warning."), note or ""))
        else:
            a.acks.append((at, by or ""))
    return out


Actions = _Actions  # a warning's acknowledgements and disposals, oldest first


def load_actions(s: Session, keys: Iterable[str] | None = None) -> dict[str, Actions]:
    """Warning key → its acknowledgements and disposals (any terminal), oldest first; every
    warning's when ``keys`` is None."""
    return _actions_by_key(s, keys)


def state_of(w: DerivedWarning, actions: _Actions | None, at: datetime) -> WarningView:
    if actions is None:
        return WarningView(w, State.ACTIVE)
    since = w.level_since or w.since
    disp = [d for d in actions.disposals if since <= d[0] <= at]
    acks = [a for a in actions.acks if since <= a[0] <= at]
    ack = acks[0] if acks else None
    if disp:
        return WarningView(w, State.DISPOSED, ack, disp[-1])
    if ack:
        return WarningView(w, State.ACKNOWLEDGED, ack)
    return WarningView(w, State.ACTIVE)


_ORDER = {Level.RED: 0, Level.YELLOW: 1, Level.NOTICE: 2}


@dataclass(frozen=True, slots=True)
class WarningsReport:
    views: list[WarningView]
    fallback_years: frozenset[int]  # years counted weekends-only for lack of holiday data


def evaluate_store(store: Store, at: datetime, tz: ZoneInfo) -> WarningsReport:
    """Every warning in force at ``at`` with its state (reds first, then by time raised), and
    the years the calendar had to count without official data."""
    with store.read() as s:
        ev = load_evaluator(s, tz)
        ev.cal.is_workday(local_date(at, tz))
        derived = ev.evaluate(at)
        actions = _actions_by_key(s, (w.key for w in derived))
    views = [state_of(w, actions.get(w.key), at) for w in derived]
    views.sort(key=lambda v: (_ORDER[v.warning.level], v.warning.since, v.key))
    return WarningsReport(views, ev.cal.fallback_years)


def warnings_at(store: Store, at: datetime, tz: ZoneInfo) -> list[WarningView]:
    """Every warning in force at ``at`` with its state: reds first, then by time raised."""
    return evaluate_store(store, at, tz).views


_STATE_TABLE: Table = WarningState.__table__  # type: ignore[assignment]
_CHUNK = 500


def reconcile(
    s: Session, views: Iterable[WarningView], at: datetime, *, subjects: Iterable[str] | None = None
) -> dict[str, int]:
    """Bring ``warning_states`` in line with the warnings in force at ``at`` (in the caller's
    transaction). Returns counts of raised, escalated and cleared warnings.

    Without ``subjects`` the views are every warning in force: a stored warning not among them
    is cleared. With ``subjects`` (ids) the views are every warning in force *of those subjects*
    and only their rows are looked at — the warning monitor's passes re-judge a few subjects and
    reconcile just them. Only rows whose content changes are written.
    """
    s.flush()
    conn = s.connection()  # Core rows: no ORM loading on the monitor's hot path
    current: dict[str, WarningView] = {v.key: v for v in views}
    if subjects is None:
        stored = _rows_in_force(conn)
        stored.update(_rows_of_keys(conn, [k for k in current if k not in stored]))
    else:
        stored = _rows_of_subjects(conn, set(subjects) | {v.warning.subject for v in current.values()})
    counts = _write_states(conn, current, stored, at)[0]
    del counts["written"]
    return counts


class StateRows:
    """The ``warning_states`` rows in force (not cleared) as one writer last read or wrote them:
    the warning monitor keeps them so that its passes need not read them back. Only worth it
    while that writer is the only one to change them, or is told which subjects another changed
    (``reconcile_kept(unsure=…)``)."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple[Any, ...]] = {}  # key -> its subject and the values of _COMPARED (no trailing None)
        self.by_subject: dict[str, tuple[str, ...]] = {}  # a few keys each: tuples, not sets (memory)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.rows.get(key)
        if row is None:
            return None
        out = dict(zip(_KEPT, (key, *row), strict=False))  # shorter when trailing Nones were left out
        if len(row) < len(_KEPT) - 1:
            out.update(_NONE_AFTER[len(row) + 1])  # the trailing Nones ``keep`` left out
        return out

    def forget_subject(self, subject: str) -> None:
        for key in self.by_subject.pop(subject, ()):
            del self.rows[key]

    def keep(self, row: dict[str, Any]) -> None:
        key, subject = row["key"], row["subject"]
        if row["state"] == State.CLEARED.value:
            if self.rows.pop(key, None) is not None:
                keys = tuple(k for k in self.by_subject[subject] if k != key)
                if keys:
                    self.by_subject[subject] = keys
                else:
                    del self.by_subject[subject]
            return
        # one object for each repeated value (levels, states, who acted, the subject of its keys),
        # and the trailing Nones left out (a warning nobody acted on: half its values)
        values = [intern(x) if type(x) is str else x for x in _KEPT_VALUES(row)]
        while values[-1] is None:
            values.pop()
        self.rows[key] = tuple(values)
        keys = self.by_subject.get(subject, ())
        if key not in keys:
            self.by_subject[subject] = (*keys, key)


def reconcile_all(s: Session, views: Iterable[WarningView], at: datetime, kept: StateRows) -> dict[str, int]:
    """``reconcile`` of every warning in force, filling ``kept`` with the rows in force after it.
    Works 5 000 warnings at a time: every row as a dict at once, read and written, was ~200 MB
    at 90 000 warnings."""
    s.flush()
    conn = s.connection()
    current: dict[str, WarningView] = {v.key: v for v in views}
    t = _STATE_TABLE
    gone = [k for (k,) in conn.execute(select(t.c.key).where(t.c.state != State.CLEARED.value)) if k not in current]
    keys = [*current, *gone]
    kept.rows.clear()
    kept.by_subject.clear()
    counts = {"raised": 0, "escalated": 0, "cleared": 0, "written": 0}
    for i in range(0, len(keys), _ALL_CHUNK):
        chunk = keys[i : i + _ALL_CHUNK]
        stored = _rows_of_keys(conn, chunk)
        part = {k: current[k] for k in chunk if k in current}
        done, written = _write_states(conn, part, stored, at)
        for name, n in done.items():
            counts[name] += n
        for key in part:
            kept.keep(written.get(key) or stored[key])
    return counts


_ALL_CHUNK = 5000


def reconcile_kept(
    s: Session,
    views: Iterable[WarningView],
    at: datetime,
    subjects: Iterable[str],
    kept: StateRows,
    *,
    unsure: Iterable[str] = (),
) -> dict[str, int]:
    """``reconcile(s, views, at, subjects=subjects)`` taking the rows in force from ``kept``
    instead of reading them back (and keeping ``kept`` current). Rows not in force that a view
    names (cleared ones raised again, or none) are read by key; the rows of the ``unsure``
    subjects (written by someone else since: a local act) are read as ``reconcile`` reads them."""
    s.flush()
    conn = s.connection()
    current: dict[str, WarningView] = {v.key: v for v in views}
    scope = set(subjects) | {v.warning.subject for v in current.values()}
    unsure_scope = scope.intersection(unsure)
    for subject in unsure_scope:
        kept.forget_subject(subject)
    read = _rows_of_subjects(conn, unsure_scope)
    stored = dict(read)
    same: set[str] = set()  # kept rows their view leaves as they are: neither compared again nor written
    for subject in scope - unsure_scope:
        give_way()
        for key in kept.by_subject.get(subject, ()):
            v = current.get(key)
            if v is not None and _unchanged(kept.rows[key], v):
                same.add(key)
                continue
            row = kept.get(key)
            assert row is not None
            stored[key] = row
    if same:
        current = {k: v for k, v in current.items() if k not in same}
    more = _rows_of_keys(conn, [k for k in current if k not in stored])
    stored.update(more)
    read.update(more)
    counts, written = _write_states(conn, current, stored, at)
    for row in written.values():
        kept.keep(row)
    for key, row in read.items():  # the rows read back (those taken from ``kept`` and not written are kept as they are)
        if key not in written:
            kept.keep(row)
    return counts


def _state_columns() -> tuple[list[Any], tuple[str, ...]]:
    t = _STATE_TABLE
    return [t.c[c] for c in _KEPT], _KEPT


def _rows_in_force(conn: Any) -> dict[str, dict[str, Any]]:
    cols, names = _state_columns()
    q = select(*cols).where(_STATE_TABLE.c.state != State.CLEARED.value)
    return {r[0]: dict(zip(names, r, strict=True)) for r in conn.execute(q)}


def _rows_of_keys(conn: Any, keys: list[str]) -> dict[str, dict[str, Any]]:
    return _rows_where(conn, "key", keys)


def _rows_of_subjects(conn: Any, subjects: Iterable[str]) -> dict[str, dict[str, Any]]:
    return _rows_where(conn, "subject", sorted(subjects))


def _rows_where(conn: Any, column: str, values: list[str]) -> dict[str, dict[str, Any]]:
    """The rows whose ``column`` is one of ``values``, as dicts of the ``_KEPT`` columns."""
    cols, names = _state_columns()
    out: dict[str, dict[str, Any]] = {}
    sqlite = conn.dialect.name == "sqlite"
    for i in range(0, len(values), _CHUNK):
        part = values[i : i + _CHUNK]
        if sqlite:  # through the driver (the monitor's passes): no per-value processing but the instants
            sql = f"SELECT {', '.join(_KEPT)} FROM warning_states WHERE {column} IN ({','.join('?' * len(part))})"
            for r in conn.connection.driver_connection.execute(sql, part):
                row = dict(zip(names, r, strict=True))
                for c in _KEPT_INSTANTS:
                    if row[c] is not None:
                        row[c] = datetime.fromisoformat(row[c]).replace(tzinfo=UTC)
                out[r[0]] = row
            continue
        for r in conn.execute(select(*cols).where(_STATE_TABLE.c[column].in_(part))):
            out[r[0]] = dict(zip(names, r, strict=True))
    return out


def _write_states(
    conn: Any, current: dict[str, WarningView], stored: dict[str, dict[str, Any]], at: datetime
) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """Write the rows of ``current`` (given the ``stored`` rows) and clear the stored rows not in
    it; the counts (raised, escalated, cleared and rows written), and the rows written by key."""
    t = _STATE_TABLE
    counts = {"raised": 0, "escalated": 0, "cleared": 0}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    # Rows to update by the columns that change: only those are set (every column set is an index
    # entry rewritten, and its pages written at commit, even when its value stays).
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, v in current.items():
        old = stored.get(key)
        new, change = _next_state(old, v, at)
        if change:
            counts[change] += 1
        if old is None:
            inserts.append(new)
            continue
        columns = tuple(c for c in _COMPARED if new[c] != old[c])
        if columns:
            updates.append(new)
            by_columns.setdefault(columns, []).append(new)
    for key, old in stored.items():
        if key not in current and old["state"] != State.CLEARED.value:
            new = {**old, "state": State.CLEARED.value, "cleared_at": at, "updated_at": at}
            updates.append(new)
            columns = ("state", "cleared_at") if old["cleared_at"] != at else ("state",)
            by_columns.setdefault(columns, []).append(new)
            counts["cleared"] += 1
    if conn.dialect.name == "sqlite":
        _sqlite_write_states(conn, inserts, by_columns)
    else:
        if inserts:
            conn.execute(insert(t), inserts)
        for columns, rows in by_columns.items():
            names = (*columns, "updated_at")
            conn.execute(
                update(t).where(t.c.key == bindparam("b_key")).values({c: bindparam(c) for c in names}),
                [{"b_key": u["key"], **{c: u[c] for c in names}} for u in rows],
            )
    counts["written"] = len(inserts) + len(updates)
    return counts, {r["key"]: r for r in chain(inserts, updates)}


_INSERTED = (
    "key",
    "code",
    "subject",
    "window_id",
    "level",
    "max_level",
    "state",
    "since",
    "red_since",
    "acknowledged_at",
    "acknowledged_by",
    "disposed_at",
    "disposed_by",
    "measure",
    "note",
    "cleared_at",
    "updated_at",
    "rejected_at",
    "rejected_code",
    "rejected_message",
)
_SQLITE_INSERT = f"INSERT INTO warning_states ({', '.join(_INSERTED)}) VALUES ({', '.join('?' * len(_INSERTED))})"
_INSTANTS = frozenset(
    ("since", "red_since", "acknowledged_at", "disposed_at", "cleared_at", "updated_at", "rejected_at")
)
_INSERTED_INSTANTS = tuple(i for i, c in enumerate(_INSERTED) if c in _INSTANTS)


def _sqlite_instant(value: datetime | None) -> str | None:
    """An instant as ``UTCDateTime`` binds it on SQLite (naive UTC text, microseconds always)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored; give it a zone")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_write_states(
    conn: Any, inserts: list[dict[str, Any]], by_columns: dict[tuple[str, ...], list[dict[str, Any]]]
) -> None:
    """``_write_states``' statements through the driver: SQLAlchemy's compilation and per-value
    processing of an executemany were most of the write's cost on the monitor's passes."""
    raw = conn.connection.driver_connection
    texts: dict[datetime, str | None] = {}  # each instant formatted once (every row's updated_at is one)

    def v(t: Any) -> str | None:
        text = texts.get(t)
        if text is None:
            text = texts[t] = _sqlite_instant(t)
        return text

    if inserts:
        inserted: list[list[Any]] = []
        for r in inserts:
            values = [r.get(c) for c in _INSERTED]
            for i in _INSERTED_INSTANTS:  # the instants bound as text; the other values as they are
                if values[i] is not None:
                    values[i] = v(values[i])
            inserted.append(values)
        raw.executemany(_SQLITE_INSERT, inserted)
    for columns, rows in by_columns.items():
        names = (*columns, "updated_at")
        sql = f"UPDATE warning_states SET {', '.join(f'{c} = ?' for c in names)} WHERE key = ?"
        raw.executemany(sql, [(*(v(r[c]) if c in _INSTANTS else r[c] for c in names), r["key"]) for r in rows])


_UPDATED = (
    "since",
    "level",
    "max_level",
    "state",
    "red_since",
    "acknowledged_at",
    "acknowledged_by",
    "disposed_at",
    "disposed_by",
    "measure",
    "note",
    "cleared_at",
    "updated_at",
)
_COMPARED = tuple(c for c in _UPDATED if c != "updated_at")
_KEPT = ("key", "subject", *_COMPARED)  # what reconcile reads of a row
_KEPT_VALUES = itemgetter(*_KEPT[1:])  # what StateRows keeps of one
_KEPT_INSTANTS = tuple(c for c in _KEPT if c in _INSTANTS)
_NONE_AFTER = [dict.fromkeys(_KEPT[i:]) for i in range(len(_KEPT) + 1)]  # _KEPT[i:] as None


# The enums' values (``.value`` is a property, slow in the hot loops) and the levels' ranks by value.
_VALUE: dict[Any, str] = {m.value: m.value for e in (Level, Code, State) for m in e}  # members hash as their values
_RANK = {level.value: level.rank for level in Level}
_CLEARED = State.CLEARED.value


def _unchanged(row: tuple[Any, ...], v: WarningView) -> bool:
    """Whether ``_next_state`` of the row in force ``row`` (as ``StateRows`` keeps it: subject, the
    ``_COMPARED`` values, trailing Nones left out) after ``v`` changes none of its ``_COMPARED``
    columns and neither raises nor escalates it."""
    w = v.warning
    level = _VALUE[w.level]
    if row[2] != level or w.since < row[1] or _RANK[row[3]] < _RANK[level] or _VALUE[v.state] != row[4]:
        return False
    n = len(row)
    if w.level is Level.RED and (n <= 5 or row[5] is None):
        return False
    if v.acknowledged and (row[6] if n > 6 else None, row[7] if n > 7 else None) != v.acknowledged:
        return False
    if v.disposed:
        disposed = (*row[8:12], *(None,) * (12 - max(n, 8)))
        if disposed != v.disposed:
            return False
    return True


def _next_state(old: dict[str, Any] | None, v: WarningView, at: datetime) -> tuple[dict[str, Any], str | None]:
    """One warning's state row after ``v`` (what ``_record`` writes, as plain values) and whether
    it was raised or escalated."""
    w, change = v.warning, None
    level = _VALUE[w.level]
    if old is None or old["state"] == _CLEARED:
        if old is None:
            new: dict[str, Any] = {
                "key": w.key,
                "code": _VALUE[w.code],
                "subject": w.subject,
                "window_id": w.window_id,
                "level": level,
                "max_level": level,
                "since": w.since,
                "red_since": None,
                "acknowledged_at": None,
                "acknowledged_by": None,
                "disposed_at": None,
                "disposed_by": None,
                "measure": None,
                "note": None,
                "cleared_at": None,
                "rejected_at": None,
                "rejected_code": None,
                "rejected_message": None,
            }
        else:  # raised again after it had cleared: the record (first raised, highest level) stays
            new = {**old, "cleared_at": None}
        change = "raised"
    else:
        new = dict(old)
        if _RANK[old["level"]] < _RANK[level]:
            change = "escalated"
    if w.since < new["since"]:  # an earlier episode came to light (a window's earlier absence)
        new["since"] = w.since
    new["level"] = level
    if _RANK[new["max_level"]] < _RANK[level]:
        new["max_level"] = level
    if w.level is Level.RED and new["red_since"] is None:
        new["red_since"] = w.level_since or w.since
    new["state"] = _VALUE[v.state]
    if v.acknowledged:
        new["acknowledged_at"], new["acknowledged_by"] = v.acknowledged
    if v.disposed:
        new["disposed_at"], new["disposed_by"], new["measure"], new["note"] = v.disposed
    new["updated_at"] = at
    return new, change


def _record(s: Session, row: WarningState | None, v: WarningView, at: datetime) -> str | None:
    """Write one warning's state row; say whether it was raised or escalated."""
    w, key, change = v.warning, v.key, None
    if row is None or row.state == State.CLEARED.value:
        if row is None:
            row = WarningState(
                key=key,
                code=str(w.code),
                subject=w.subject,
                window_id=w.window_id,
                level=str(w.level),
                max_level=str(w.level),
                since=w.since,
            )
            s.add(row)
        else:  # raised again after it had cleared: the record (first raised, highest level) stays
            row.cleared_at = None
        change = "raised"
    elif Level(row.level).rank < w.level.rank:
        change = "escalated"
    row.level = str(w.level)
    if Level(row.max_level).rank < w.level.rank:
        row.max_level = str(w.level)
    if w.level is Level.RED and row.red_since is None:
        row.red_since = w.level_since or w.since
    row.state = str(v.state)
    if v.acknowledged:
        row.acknowledged_at, row.acknowledged_by = v.acknowledged
    if v.disposed:
        row.disposed_at, row.disposed_by, row.measure, row.note = v.disposed
    row.updated_at = at
    return change


def live_view(s: Session, key: str, tz: ZoneInfo, at: datetime) -> WarningView | None:
    """The warning ``key`` as the rules and dispositions say it stands at ``at`` (None when it
    is not in force). Evaluates its subject only."""
    subject = key.rpartition("/")[0]
    ev = load_evaluator(s, tz, subject=subject)
    for w in ev.evaluate(at):
        if w.key == key:
            return state_of(w, _actions_by_key(s, [key]).get(key), at)
    return None


def _act(
    store: Store,
    key: str,
    action: str,
    *,
    by: str,
    terminal: str,
    note: str,
    measure: str | None,
    at: datetime | None,
    tz: ZoneInfo,
) -> str:
    if not by.strip():
        raise ActionRejected("who acts must be named")
    now = at or datetime.now(UTC)
    action_id = new_action_id()
    with store.write() as s:
        # Judge the action against the warning as it stands now (its level may have risen since
        # the last reconcile), not against a possibly stale state row.
        view = live_view(s, key, tz, now)
        if view is None:
            raise ActionRejected(f"warning {key} is not in force")
        if action == "acknowledge" and view.state is not State.ACTIVE:
            raise ActionRejected(f"warning {key} is already {view.state}")
        if action == "dispose" and view.state is State.DISPOSED:
            raise ActionRejected(f"warning {key} is already disposed")
        _record(s, s.get(WarningState, key), view, now)
        # Which episode of the warning this acts on (when it reached its level): the server tells
        # one episode from the next with it (sync-protocol.md, ``since``).
        since = view.warning.level_since or view.warning.since
        row = s.get(WarningState, key)
        assert row is not None
        if action == "acknowledge":
            row.state, row.acknowledged_at, row.acknowledged_by = State.ACKNOWLEDGED.value, now, by
        else:
            row.state, row.disposed_at, row.disposed_by = State.DISPOSED.value, now, by
            row.measure, row.note = measure, note
        row.updated_at = now
        s.add(
            DispositionRow(
                id=action_id,
                version=0,
                deleted=False,
                warning=key,
                action=f"warning.{action}",
                measure=measure,
                by=by,
                at=now,
                note=note,
                terminal=terminal,
                origin="local",
                since=since,
            )
        )
        payload = warning_payload(
            action_id, f"warning.{action}", key, by=by, at=now, note=note, measure=measure, since=since
        )
        s.add(OutboxAction(id=action_id, created_at=now, type=f"warning.{action}", payload=payload, attempts=0))
        s.add(
            AuditEntry(
                at=now,
                actor=by,
                action=f"warning.{action}",
                subject=key,
                detail={"id": action_id, "measure": measure, "note": note, "terminal": terminal},
            )
        )
    log.info("warning %s %s (action %s)", key, action, action_id)
    return action_id


def acknowledge(
    store: Store,
    key: str,
    *,
    by: str,
    terminal: str,
    note: str = "",
    at: datetime | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> str:
    """签收: one transaction writes the local effect, the disposition and the outbox row."""
    return _act(store, key, "acknowledge", by=by, terminal=terminal, note=note, measure=None, at=at, tz=tz)


def dispose(
    store: Store,
    key: str,
    measure: Measure | str,
    note: str,
    *,
    by: str,
    terminal: str,
    at: datetime | None = None,
    tz: ZoneInfo = DEFAULT_TZ,
) -> str:
    """督办/纠错/说明 with a required note; allowed from active or acknowledged."""
    try:
        m = Measure(measure)
    except ValueError:
        raise ActionRejected(f"unknown measure {measure!r}: use supervise, correct or explain") from None
    if not note.strip():
        raise ActionRejected("a disposal needs a note saying what was done")
    return _act(store, key, "dispose", by=by, terminal=terminal, note=note, measure=m.value, at=at, tz=tz)
