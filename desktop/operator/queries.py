"""The panels' read-only queries (run on the reader thread; no Qt here).

Each function takes a SQLAlchemy session from ``store.read()`` and returns plain immutable
values the GUI thread can paint. The cases table never loads all cases: pages of
``LIMIT``/``OFFSET`` over an ``ORDER BY`` on the indexed columns the warning monitor keeps
(``cases.promised_due``, ``legal_due``, ``worst_level``), filtered in the ``WHERE`` clause.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from supervision import performance as perf
from supervision.calendar import WorkCalendar
from supervision.duedates import case_clock, end_of_day, local_date
from supervision.rules import Level
from supervision.snapshot import (
    load_calendar,
)
from supervision.store.models import (
    CalendarRow,
    CaseRow,
    CaseTypeRow,
    ComplaintRow,
    DispositionRow,
    EvaluationRow,
    OrgUnit,
    OutboxAction,
    TicketRow,
    WarningState,
    Window,
)

__all__ = [
    "CaseDetail",
    "CaseFilter",
    "CaseItem",
    "CasePage",
    "HallLayout",
    "PerfResult",
    "PushState",
    "QueueRow",
    "QueueStats",
    "WarningExtras",
    "WindowInfo",
    "case_count",
    "case_detail",
    "case_page",
    "hall_layout",
    "performance",
    "queue_stats",
    "warning_extras",
]

_AREA = re.compile(r"^([A-Za-z]+)")
OPEN_STATUSES = ("submitted", "accepted", "in_progress", "suspended")
_CHUNK = 500


def _chunks(items: Sequence[str], n: int = _CHUNK) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


# -- the hall ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WindowInfo:
    id: str
    number: str
    name: str
    department: str
    hall_id: str
    hall_name: str
    area: str  # the letter prefix of the number: the hall's zone on the floor


@dataclass(frozen=True, slots=True)
class CaseTypeInfo:
    id: str
    code: str
    name: str
    department: str
    fee: Decimal
    promised_days: int
    legal_days: int
    immediate: bool


@dataclass(frozen=True, slots=True)
class HallLayout:
    """Windows by hall, area and number; departments; case types (all small)."""

    windows: tuple[WindowInfo, ...]
    departments: tuple[str, ...]
    case_types: Mapping[str, CaseTypeInfo]

    def window(self, window_id: str | None) -> WindowInfo | None:
        if window_id is None:
            return None
        for w in self.windows:
            if w.id == window_id:
                return w
        return None


def _number_key(number: str) -> tuple[str, int, str]:
    m = re.match(r"^([A-Za-z]*)(\d*)(.*)$", number)
    if m is None:  # pragma: no cover - the pattern matches any string
        return (number, 0, "")
    return (m.group(1).upper(), int(m.group(2)) if m.group(2) else 0, m.group(3))


def hall_layout(s: Session) -> HallLayout:
    halls = {o.id: o.name or o.id for o in s.scalars(sa.select(OrgUnit).where(OrgUnit.deleted.is_(False)))}
    windows = []
    for w in s.scalars(sa.select(Window).where(Window.deleted.is_(False))):
        number = w.number or w.id
        m = _AREA.match(number)
        windows.append(
            WindowInfo(
                w.id, number, w.name or "", w.department or "", w.hall_id or "",
                halls.get(w.hall_id or "", w.hall_id or ""), m.group(1).upper() if m else "",
            )
        )
    windows.sort(key=lambda w: (w.hall_name, *_number_key(w.number)))
    types = {
        t.id: CaseTypeInfo(
            t.id, t.code or "", t.name or t.id, t.department or "", t.fee if t.fee is not None else Decimal(0),
            t.promised_days or 0, t.legal_days or 0, bool(t.immediate),
        )
        for t in s.scalars(sa.select(CaseTypeRow).where(CaseTypeRow.deleted.is_(False)))
    }
    depts = sorted({w.department for w in windows if w.department}
                   | {t.department for t in types.values() if t.department})
    return HallLayout(tuple(windows), tuple(depts), types)


# -- warnings: push state, department, subject ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class PushState:
    """Where this terminal's last action on a warning stands towards the server."""

    state: str  # "queued" | "applied" | "rejected"
    at: datetime | None = None  # when the action was taken (queued/applied) or refused (rejected)
    attempts: int = 0
    last_error: str | None = None  # queued: why the last push attempt failed
    code: str | None = None  # rejected: the server's code
    message: str | None = None  # rejected: the server's message


@dataclass(frozen=True, slots=True)
class WarningExtras:
    push: Mapping[str, PushState]  # warning key → push state (absent: never acted on)
    department: Mapping[str, str]  # subject id → department
    label: Mapping[str, str]  # subject id → what the subject is (case type and applicant, ticket number)


def warning_extras(s: Session, keys: Iterable[str] | None,
                   subjects: Iterable[tuple[str, str, str | None]]) -> WarningExtras:
    """Push states of ``keys`` and the department and label of each ``(subject, type, window)``.
    ``keys`` None: every warning's push state that has one (the warnings acted on: a few, read
    whole, where asking by key for each of ~100 000 warnings in force read them in chunks)."""
    wanted = None if keys is None else sorted(set(keys))
    latest: dict[str, tuple[datetime, bool, int, str | None]] = {}
    for chunk in _chunks(wanted) if wanted is not None else [None]:
        q = (
            sa.select(DispositionRow.warning, DispositionRow.at, OutboxAction.id, OutboxAction.attempts,
                      OutboxAction.last_error)
            .outerjoin(OutboxAction, OutboxAction.id == DispositionRow.id)
            .where(DispositionRow.deleted.is_(False))
        )
        if chunk is not None:
            q = q.where(DispositionRow.warning.in_(chunk))
        for key, at, out_id, attempts, last_error in s.execute(q):
            if key is None or at is None:
                continue
            prev = latest.get(key)
            queued = out_id is not None
            if prev is None or at > prev[0] or (queued and not prev[1]):
                latest[key] = (at, queued or (prev is not None and prev[1]), attempts or 0, last_error)
            elif queued:
                latest[key] = (prev[0], True, attempts or 0, last_error)
    rejected: dict[str, tuple[datetime, str | None, str | None]] = {}
    for chunk in _chunks(wanted) if wanted is not None else [None]:
        q2 = sa.select(WarningState.key, WarningState.rejected_at, WarningState.rejected_code,
                       WarningState.rejected_message).where(WarningState.rejected_at.is_not(None))
        if chunk is not None:
            q2 = q2.where(WarningState.key.in_(chunk))
        for key, at, code, msg in s.execute(q2):
            if at is not None:
                rejected[key] = (at, code, msg)
    push: dict[str, PushState] = {}
    for key in wanted if wanted is not None else sorted(latest.keys() | rejected.keys()):
        last = latest.get(key)
        rej = rejected.get(key)
        if last is not None and last[1]:
            push[key] = PushState("queued", last[0], last[2], last[3])
        elif rej is not None and (last is None or rej[0] >= last[0]):
            push[key] = PushState("rejected", rej[0], code=rej[1], message=rej[2])
        elif last is not None:
            push[key] = PushState("applied", last[0])

    # The words are interned: the panel keeps them per subject (~100 000) across many answers, and
    # the same department or label read again is then the same string, not one more copy.
    types = {t.id: (t.name or t.id, sys.intern(t.department or "")) for t in s.scalars(sa.select(CaseTypeRow))}
    win_dept = {w.id: (sys.intern(w.department or ""), sys.intern(w.number or w.id))
                for w in s.scalars(sa.select(Window))}
    by_type: dict[str, list[str]] = {}
    department: dict[str, str] = {}
    label: dict[str, str] = {}
    for subject, stype, window_id in subjects:
        by_type.setdefault(stype, []).append(subject)
        if stype == "window" or window_id:
            dept, number = win_dept.get(window_id or subject, ("", ""))
            department[subject] = dept
            if stype == "window":
                label[subject] = number
    # Labels repeat (a case type and a masked applicant): one string each, not one per warning.
    labels: dict[tuple[str, str], str] = {}
    for chunk in _chunks(sorted(set(by_type.get("case", ())))):
        for cid, ctid, applicant in s.execute(
            sa.select(CaseRow.id, CaseRow.case_type_id, CaseRow.applicant).where(CaseRow.id.in_(chunk))
        ):
            name, dept = types.get(ctid or "", ("", ""))
            department[cid] = dept or department.get(cid, "")
            pair = (name, applicant or "")
            text = labels.get(pair)
            if text is None:
                text = labels[pair] = sys.intern(" · ".join(x for x in pair if x))
            label[cid] = text
    for chunk in _chunks(sorted(set(by_type.get("ticket", ())))):
        for tid, tnum, ctid in s.execute(
            sa.select(TicketRow.id, TicketRow.number, TicketRow.case_type_id).where(TicketRow.id.in_(chunk))
        ):
            name, dept = types.get(ctid or "", ("", ""))
            department[tid] = dept or department.get(tid, "")
            label[tid] = sys.intern(" · ".join(x for x in (tnum or "", name) if x))
    return WarningExtras(push, department, label)


# -- the queue -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class QueueRow:
    case_type_id: str | None
    type_name: str
    department: str
    window_id: str | None  # where the waiting tickets are called to, if known
    window_number: str
    waiting: int
    longest_s: float
    average_s: float


@dataclass(frozen=True, slots=True)
class QueueStats:
    at: datetime
    rows: tuple[QueueRow, ...]  # longest wait first
    waiting: int
    longest_s: float
    average_s: float
    issued_today: int
    served_today: int
    missed_today: int
    transferred_today: int
    serving: tuple[tuple[str, str, str], ...]  # (window number, ticket number, status) being served now


def queue_stats(s: Session, now: datetime, tz: ZoneInfo, *, window_id: str | None = None,
                department: str | None = None) -> QueueStats:
    """The waiting tickets per business type (and window), the longest and average wait, and
    today's missed and transferred tickets; scoped to a window (its tickets and its department's
    business types) when ``window_id`` is given."""
    start = end_of_day(local_date(now, tz) - timedelta(days=1), tz)
    types = {t.id: (t.name or t.id, t.department or "") for t in s.scalars(sa.select(CaseTypeRow))}
    numbers = {w.id: w.number or w.id for w in s.scalars(sa.select(Window))}
    live = TicketRow.deleted.is_(False)
    waits: dict[tuple[str | None, str | None], list[float]] = {}
    for ctid, wid, issued in s.execute(
        sa.select(TicketRow.case_type_id, TicketRow.window_id, TicketRow.issued_at).where(
            live, TicketRow.status == "waiting")
    ):
        if issued is None:
            continue
        if window_id is not None and wid != window_id and (
            wid is not None or department is None or types.get(ctid or "", ("", ""))[1] != department
        ):
            continue
        waits.setdefault((ctid, wid), []).append(max(0.0, (now - issued).total_seconds()))
    rows = []
    for (ctid, wid), ws in waits.items():
        name, dept = types.get(ctid or "", ("", ""))
        rows.append(QueueRow(ctid, name, dept, wid, numbers.get(wid or "", ""), len(ws), max(ws), sum(ws) / len(ws)))
    rows.sort(key=lambda r: (-r.longest_s, r.type_name))
    every = [w for ws in waits.values() for w in ws]
    today = sa.and_(live, TicketRow.issued_at >= start, TicketRow.issued_at <= now)
    if window_id is not None:
        today = sa.and_(today, TicketRow.window_id == window_id)
    counts = dict(
        s.execute(sa.select(TicketRow.status, sa.func.count()).where(today).group_by(TicketRow.status)).all()
    )
    serving_q = sa.select(TicketRow.window_id, TicketRow.number, TicketRow.status).where(
        live, TicketRow.status.in_(("called", "serving")))
    if window_id is not None:
        serving_q = serving_q.where(TicketRow.window_id == window_id)
    serving = tuple(sorted((numbers.get(w or "", w or ""), n or "", st or "") for w, n, st in s.execute(serving_q)))
    return QueueStats(
        at=now,
        rows=tuple(rows),
        waiting=len(every),
        longest_s=max(every, default=0.0),
        average_s=sum(every) / len(every) if every else 0.0,
        issued_today=sum(int(v) for v in counts.values()),
        served_today=int(counts.get("done", 0)),
        missed_today=int(counts.get("missed", 0)),
        transferred_today=int(counts.get("transferred", 0)),
        serving=serving,
    )


# -- cases ---------------------------------------------------------------------------------------
# The columns the warning monitor keeps current, indexed, for this table to sort and filter on.
promised_due_col = CaseRow.promised_due
legal_due_col = CaseRow.legal_due
worst_level_col = CaseRow.worst_level

SORTS: Mapping[str, Any] = {
    "id": CaseRow.id,
    "applicant": CaseRow.applicant,
    "status": CaseRow.status,
    "submitted_at": CaseRow.submitted_at,
    "promised_due": promised_due_col,
    "legal_due": legal_due_col,
    "worst_level": worst_level_col,
    "window_id": CaseRow.window_id,
    "case_type_id": CaseRow.case_type_id,
}


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What the cases table shows: all filtering and sorting happens in the database."""

    search: str = ""  # case number (id), applicant or case type name, a substring
    status: str = "open"  # open | all | suspended | completed | ended | overdue
    min_level: int = 0  # worst warning level at least (1 notice, 2 yellow, 3 red); 0 any
    only_level: int | None = None  # exactly this worst level (0: no warning)
    window_id: str | None = None
    department: str | None = None
    sort: str = "promised_due"
    descending: bool = False


@dataclass(frozen=True, slots=True)
class CaseItem:
    id: str
    applicant: str
    case_type_id: str
    window_id: str | None
    status: str
    submitted_at: datetime | None
    completed_at: datetime | None
    promised_due: date | None
    legal_due: date | None
    worst_level: int
    days_left: int | None  # working days to the promised due date (negative: overdue); None when not running
    legal_days_left: int | None


@dataclass(frozen=True, slots=True)
class CasePage:
    offset: int
    items: tuple[CaseItem, ...]
    total: int | None  # the filter's row count (asked with the first page only)
    at_end: bool
    ms: float = 0.0


_CASE_NUMBER = re.compile(r"^[A-Za-z]{1,4}-\d")  # e.g. "C-2026", "C-0123"


def _walks_order(f: CaseFilter) -> bool:
    """Whether SQLite should walk the sort column's index and test each row against the filter
    (stopping after a page), rather than collect every matching row and sort them: right for
    broad filters (open cases, a level), wrong for narrow ones (a search, one window)."""
    return not f.search.strip() and f.window_id is None and f.sort in ("promised_due", "legal_due", "worst_level",
                                                                        "id", "status", "window_id")


def _conditions(f: CaseFilter, types: Mapping[str, tuple[str, str]], today: date, *,
                walk: bool | None = None) -> list[Any]:
    walk = _walks_order(f) if walk is None else walk
    text = f.search.strip()
    number = bool(text) and _CASE_NUMBER.match(text) is not None
    leveled = f.only_level is not None or f.min_level > 0
    # ``x || ''`` / ``x + 0`` keep SQLite from choosing that column's index for the filter (the
    # store has no ANALYZE statistics, and SQLite takes "status IN (open)" for selective): so it
    # walks the ORDER BY column's index (see _walks_order), takes the primary-key range of a case
    # number, or counts through the warning level's index rather than through every open case.
    status_plain = not (walk and f.sort != "status") and not number and not (leveled and not walk)
    level_plain = not (walk and f.sort != "worst_level") and not number
    status: Any = CaseRow.status if status_plain else CaseRow.status.concat("")
    level: Any = worst_level_col if level_plain else worst_level_col + 0
    cond: list[Any] = [CaseRow.deleted.is_(False)]
    if f.status == "open":
        cond.append(status.in_(OPEN_STATUSES))
    elif f.status == "suspended":
        cond.append(status == "suspended")
    elif f.status == "completed":
        cond.append(status == "completed")
    elif f.status == "ended":
        cond.append(status.in_(("completed", "rejected", "withdrawn")))
    elif f.status == "overdue":
        cond.append(status.in_(OPEN_STATUSES))
        cond.append(promised_due_col < today)
    if f.only_level is not None:
        cond.append(level == f.only_level)
    elif f.min_level > 0:
        cond.append(level >= f.min_level)
    if f.window_id is not None:
        cond.append(CaseRow.window_id == f.window_id)
    if f.department:
        ids = [tid for tid, (_, dept) in types.items() if dept == f.department]
        cond.append(CaseRow.case_type_id.in_(ids))
    if number:
        # a case number typed from its start: a range on the primary key, not a scan
        prefix = text.upper()
        cond.append(sa.and_(CaseRow.id >= prefix, CaseRow.id < prefix + "\U0010ffff"))
    elif text:
        terms = [CaseRow.id.contains(text, autoescape=True), CaseRow.applicant.contains(text, autoescape=True)]
        tids = [tid for tid, (name, _) in types.items() if text.lower() in name.lower() or text.lower() in tid.lower()]
        if tids:
            terms.append(CaseRow.case_type_id.in_(tids))
        cond.append(sa.or_(*terms))
    return cond


def _days_left(cal: WorkCalendar, today: date, due: date | None) -> int | None:
    if due is None:
        return None
    if due >= today:
        return cal.workdays_between(today, due)
    return -cal.workdays_between(due, today) or -1


_PAGE_COLS = (CaseRow.id, CaseRow.applicant, CaseRow.case_type_id, CaseRow.window_id, CaseRow.status,
              CaseRow.submitted_at, CaseRow.completed_at, promised_due_col, legal_due_col, worst_level_col)


def _case_types(s: Session) -> dict[str, tuple[str, str]]:
    return {t: (n or t, d or "") for t, n, d in s.execute(
        sa.select(CaseTypeRow.id, CaseTypeRow.name, CaseTypeRow.department))}


KEYSET_SORTS = frozenset({"promised_due", "legal_due", "worst_level", "id"})


def _sort_value(item: CaseItem, sort: str) -> Any:
    return {"promised_due": item.promised_due, "legal_due": item.legal_due, "worst_level": item.worst_level,
            "id": item.id}[sort]


def case_page(s: Session, f: CaseFilter, offset: int, limit: int, *, now: datetime, tz: ZoneInfo,
              count: bool = False, after: CaseItem | None = None) -> CasePage:
    """Rows ``[offset, offset + limit)`` of the filtered, sorted cases (and their count when asked).

    ``after``: the last row already shown, for the next page — on the indexed sorts
    (``KEYSET_SORTS``) the page then starts right after it in the index (keyset paging: every page
    costs the same however deep), instead of skipping ``offset`` rows.

    Sorting on a due date puts undated cases (not accepted yet) last either way: the dated ones
    are read first, in the index's order; the undated ones follow by id once those run out."""
    import time

    t0 = time.perf_counter()
    today = local_date(now, tz)
    types = _case_types(s)
    cond = _conditions(f, types, today)
    sort = f.sort if f.sort in SORTS else "promised_due"
    key = SORTS[sort]
    desc = f.descending
    ident = CaseRow.id.desc() if desc else CaseRow.id.asc()
    keyed = after is not None and sort in KEYSET_SORTS
    skip = 0 if keyed else offset

    def beyond(col: Any, value: Any) -> Any:
        """Rows after ``(value, after.id)`` in the page order (``col`` then id)."""
        assert after is not None
        if col is CaseRow.id:
            return CaseRow.id < value if desc else CaseRow.id > value
        if desc:
            return sa.and_(col <= value, sa.or_(col < value, CaseRow.id < after.id))
        return sa.and_(col >= value, sa.or_(col > value, CaseRow.id > after.id))

    base = sa.select(*_PAGE_COLS).where(*cond)
    if sort in ("promised_due", "legal_due"):
        rows: list[Any] = []
        last = _sort_value(after, sort) if keyed and after is not None else None
        if not keyed or last is not None:  # still among the dated cases
            dated = base.where(key.is_not(None))
            if keyed:
                dated = dated.where(beyond(key, last))
            rows = list(s.execute(dated.order_by(key.desc() if desc else key.asc(), ident)
                                  .limit(limit + 1).offset(skip)).all())
        if len(rows) <= limit:  # the dated ones ran out in this page: the undated follow
            undated = base.where(key.is_(None))
            undated_skip = 0
            if keyed and last is None and after is not None:
                undated = undated.where(beyond(CaseRow.id, after.id))
            elif not keyed:
                n_dated = offset + len(rows) if rows or offset == 0 else int(s.execute(
                    sa.select(sa.func.count()).select_from(CaseRow).where(*cond, key.is_not(None))).scalar_one())
                undated_skip = max(0, offset - n_dated)
            rows += s.execute(undated.order_by(ident).limit(limit + 1 - len(rows)).offset(undated_skip)).all()
    else:
        q = base
        if keyed and after is not None:
            q = q.where(beyond(key, _sort_value(after, sort)))
        rows = list(s.execute(q.order_by(key.desc() if desc else key.asc(), ident)
                              .limit(limit + 1).offset(skip)).all())
    cal = _calendar(s)
    items = []
    for r in rows[:limit]:
        running = r[4] in OPEN_STATUSES and r[4] != "suspended"
        items.append(CaseItem(
            r[0], r[1] or "", r[2] or "", r[3], r[4] or "", r[5], r[6], r[7], r[8], int(r[9] or 0),
            _days_left(cal, today, r[7]) if running else None,
            _days_left(cal, today, r[8]) if running else None,
        ))
    total = case_count(s, f, now=now, tz=tz, types=types) if count else None
    return CasePage(offset, tuple(items), total, len(rows) <= limit, (time.perf_counter() - t0) * 1000)


def case_count(s: Session, f: CaseFilter, *, now: datetime, tz: ZoneInfo,
               types: Mapping[str, tuple[str, str]] | None = None) -> int:
    """How many cases the filter selects."""
    cond = _conditions(f, types if types is not None else _case_types(s), local_date(now, tz), walk=False)
    return int(s.execute(sa.select(sa.func.count()).select_from(CaseRow).where(*cond)).scalar_one())


_CAL: list[tuple[tuple[Any, ...], WorkCalendar]] = []


def _calendar(s: Session) -> WorkCalendar:
    """The store's working-day calendar, built again only when its records changed."""
    stamp = tuple(s.execute(sa.select(CalendarRow.id, CalendarRow.version, CalendarRow.deleted)
                            .order_by(CalendarRow.id)).all())
    if _CAL and _CAL[0][0] == stamp:
        return _CAL[0][1]
    cal = load_calendar(s)
    _CAL[:] = [(stamp, cal)]
    return cal


@dataclass(frozen=True, slots=True)
class WarningHistory:
    key: str
    code: str
    level: str
    max_level: str
    state: str
    since: datetime
    red_since: datetime | None
    cleared_at: datetime | None
    rejected: tuple[str | None, str | None] | None
    # (at, action, measure, by, note, terminal, queued)
    actions: tuple[tuple[datetime, str, str | None, str, str, str, bool], ...]


@dataclass(frozen=True, slots=True)
class TicketInfo:
    id: str
    number: str
    status: str
    issued_at: datetime | None
    called_at: datetime | None
    window_number: str


@dataclass(frozen=True, slots=True)
class CaseDetail:
    id: str
    applicant: str
    type_name: str
    type_code: str
    department: str
    window_id: str | None
    window_number: str
    status: str
    submitted_at: datetime | None
    completed_at: datetime | None
    promised_due: date | None
    legal_due: date | None
    worst_level: int
    stages: tuple[tuple[str, datetime, str], ...]  # stage, at, by
    suspensions: tuple[tuple[datetime, datetime | None, str], ...]  # from, to, reason
    fee_charged: Decimal | None
    fee_standard: Decimal | None
    ticket: TicketInfo | None
    warnings: tuple[WarningHistory, ...]
    evaluations: tuple[tuple[datetime, int, str], ...]  # at, grade, id
    complaints: tuple[tuple[datetime | None, str, str, str, str], ...]  # received, channel, summary, status, id
    footage_at: datetime | None  # the instant "show footage" opens: the last stage

    @property
    def fee_ok(self) -> bool | None:
        if self.fee_charged is None or self.fee_standard is None:
            return None
        return self.fee_charged == self.fee_standard


def _dt(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def case_detail(s: Session, case_id: str) -> CaseDetail | None:
    row = s.execute(
        sa.select(CaseRow, promised_due_col, legal_due_col, worst_level_col).where(CaseRow.id == case_id)
    ).first()
    if row is None:
        return None
    c: CaseRow = row[0]
    ct = s.get(CaseTypeRow, c.case_type_id) if c.case_type_id else None
    win = s.get(Window, c.window_id) if c.window_id else None
    stages: list[tuple[str, datetime, str]] = []
    for st in c.stages or ():
        at = _dt(st.get("at"))
        if at is not None:
            stages.append((str(st.get("stage", "")), at, str(st.get("by") or "")))
    stages.sort(key=lambda x: x[1])
    susp: list[tuple[datetime, datetime | None, str]] = []
    for sp in c.suspensions or ():
        a = _dt(sp.get("from"))
        if a is not None:
            susp.append((a, _dt(sp.get("to")), str(sp.get("reason") or "")))
    ticket = None
    if c.ticket_id:
        t = s.get(TicketRow, c.ticket_id)
        if t is not None:
            tw = s.get(Window, t.window_id) if t.window_id else None
            ticket = TicketInfo(t.id, t.number or "", t.status or "", t.issued_at, t.called_at,
                                (tw.number or tw.id) if tw else "")
    warnings = []
    prefix = f"{case_id}/"
    states = list(s.scalars(sa.select(WarningState).where(WarningState.subject == case_id)))
    acts: dict[str, list[tuple[datetime, str, str | None, str, str, str, bool]]] = {}
    for d, out_id in s.execute(
        sa.select(DispositionRow, OutboxAction.id)
        .outerjoin(OutboxAction, OutboxAction.id == DispositionRow.id)
        .where(DispositionRow.deleted.is_(False), DispositionRow.warning.startswith(prefix, autoescape=True))
        .order_by(DispositionRow.at)
    ):
        if d.warning is None or d.at is None:
            continue
        acts.setdefault(d.warning, []).append(
            (d.at, (d.action or "").removeprefix("warning."), d.measure, d.by or "", d.note or "", d.terminal or "",
             out_id is not None))
    for ws in sorted(states, key=lambda w: (-Level(w.max_level).rank, w.since)):
        warnings.append(WarningHistory(
            ws.key, ws.code, ws.level, ws.max_level, ws.state, ws.since, ws.red_since, ws.cleared_at,
            (ws.rejected_code, ws.rejected_message) if ws.rejected_at is not None else None,
            tuple(acts.get(ws.key, ())),
        ))
    evaluations = tuple(
        (at, grade or 0, eid) for at, grade, eid in s.execute(
            sa.select(EvaluationRow.at, EvaluationRow.grade, EvaluationRow.id).where(
                EvaluationRow.case_id == case_id, EvaluationRow.deleted.is_(False)).order_by(EvaluationRow.at))
        if at is not None
    )
    complaints = tuple(
        (r.received_at, r.channel or "", r.summary or "", r.status or "", r.id)
        for r in s.scalars(sa.select(ComplaintRow).where(
            ComplaintRow.case_id == case_id, ComplaintRow.deleted.is_(False)).order_by(ComplaintRow.received_at))
    )
    footage_at = stages[-1][1] if stages else c.submitted_at
    return CaseDetail(
        id=c.id, applicant=c.applicant or "", type_name=(ct.name or ct.id) if ct else (c.case_type_id or ""),
        type_code=(ct.code or "") if ct else "", department=(ct.department or "") if ct else "",
        window_id=c.window_id, window_number=(win.number or win.id) if win else (c.window_id or ""),
        status=c.status or "", submitted_at=c.submitted_at, completed_at=c.completed_at,
        promised_due=row[1], legal_due=row[2], worst_level=int(row[3] or 0),
        stages=tuple(stages), suspensions=tuple(susp), fee_charged=c.fee_charged,
        fee_standard=ct.fee if ct else None, ticket=ticket, warnings=tuple(warnings),
        evaluations=evaluations, complaints=complaints, footage_at=footage_at,
    )


# -- performance ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PerfResult:
    start: date
    end: date  # inclusive
    report: perf.Report
    trend: tuple[tuple[date, float | None, int], ...]  # day, on-time rate, completed that day
    window_numbers: Mapping[str, str] = field(default_factory=dict)
    window_departments: Mapping[str, str] = field(default_factory=dict)


PERF_CHUNK = 5_000
"""Cases read and judged at a time by :func:`performance`: it never holds more than this many cases'
facts besides those it needs to the end (the cases completed in the period and the trend)."""


def performance(s: Session, tz: ZoneInfo, start: date, end: date, *, trend_start: date | None = None,
                chunk: int = PERF_CHUNK) -> PerfResult:
    """Performance over the local days ``[start, end]`` (``supervision.performance``), and the
    on-time rate of each day from ``trend_start`` (default ``start``) to ``end``. The store is read
    once, ``chunk`` cases at a time: each chunk's warnings at the period's end are taken, then the
    chunk's cases are dropped but those completed within the period or the trend (which
    ``supervision.performance.compute`` and the trend read) — the same figures as
    ``compute_from_store``'s evaluator over every case, without every case's facts in memory at
    once (100 000 cases: some 300 MB)."""
    t0 = end_of_day(start - timedelta(days=1), tz)
    t1 = end_of_day(end, tz)
    first = trend_start or start
    lo = end_of_day(first - timedelta(days=1), tz)
    keep_from = min(t0, lo)
    ev, best = perf.judge_in_chunks(s, tz, t1, keep_from, t1, chunk=chunk)
    parents = {o.id: o.parent_id for o in s.scalars(sa.select(OrgUnit).where(OrgUnit.deleted.is_(False)))}
    dept: dict[str, str] = {}
    numbers: dict[str, str] = {}
    orgs: dict[str, list[str]] = {}
    for win in s.scalars(sa.select(Window).where(Window.deleted.is_(False))):
        dept[win.id] = win.department or ""
        numbers[win.id] = win.number or win.id
        chain: list[str] = []
        node, seen = win.hall_id, set()
        while node is not None and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parents.get(node)
        orgs[win.id] = chain
    evals = [
        (r.id, r.window_id or "", r.at, r.grade or 0)
        for r in s.scalars(sa.select(EvaluationRow).where(EvaluationRow.deleted.is_(False)))
        if r.at is not None
    ]
    records = list(best.values())
    report = perf.compute(ev, t0, t1, evaluations=evals, warnings=records, window_department=dept,
                          window_org_units=orgs)
    # The trend: one pass over the completed cases, bucketed by their local completion day (the
    # same on-time test as supervision.performance.compute).
    done: dict[date, list[int]] = {}
    for f in ev.facts():
        c = f.case
        if c.status != "completed" or c.completed_at is None or not (lo <= c.completed_at < t1):
            continue
        clock = case_clock(c, f.ctype, ev.cal, tz, c.completed_at)
        if clock.accepted_on is None or clock.promised_due is None:
            continue
        slot = done.setdefault(local_date(c.completed_at, tz), [0, 0])
        slot[0] += 1
        if c.completed_at < end_of_day(clock.promised_due, tz):
            slot[1] += 1
    trend = []
    day = first
    while day <= end:
        n, ok = done.get(day, (0, 0))
        trend.append((day, ok / n if n else None, n))
        day += timedelta(days=1)
    return PerfResult(start, end, report, tuple(trend), numbers, dept)
