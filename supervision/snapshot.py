"""Reading the domain out of the store — calendar, rules, case types, cases, tickets, seats — or
out of a change feed body, as a terminal would."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from sys import intern
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision.calendar import WorkCalendar, YearTable
from supervision.model import Case, CaseType, SeatVacancy, Ticket
from supervision.records import DATA_MODELS, CaseData, CaseTypeData, RuleSetData, SeatVacancyData, TicketData
from supervision.rules import Evaluator, RuleSet
from supervision.store.models import (
    CalendarRow,
    CaseRow,
    CaseTypeRow,
    DispositionRow,
    RuleSetRow,
    SeatVacancyRow,
    TicketRow,
    Window,
)

log = logging.getLogger(__name__)
_fromiso = datetime.fromisoformat


def load_calendar(s: Session) -> WorkCalendar:
    tables = []
    for row in s.scalars(select(CalendarRow).where(CalendarRow.deleted.is_(False))):
        if row.year is None:
            continue
        tables.append(
            YearTable(
                row.year,
                frozenset(date.fromisoformat(d) for d in row.holidays or []),
                frozenset(date.fromisoformat(d) for d in row.workdays or []),
            )
        )
    return WorkCalendar(tables)


def load_rules(s: Session) -> RuleSet:
    """The synced rule set in force (the newest by version), or the defaults."""
    row = s.scalars(
        select(RuleSetRow).where(RuleSetRow.deleted.is_(False)).order_by(RuleSetRow.version.desc(), RuleSetRow.id)
    ).first()
    if row is None or row.rules is None:
        return RuleSet()
    return RuleSet.from_record(row.rules, row.weights)


def load_case_types(s: Session) -> dict[str, CaseType]:
    out = {}
    for r in s.scalars(select(CaseTypeRow).where(CaseTypeRow.deleted.is_(False))):
        out[r.id] = CaseType(
            id=r.id,
            name=r.name or "",
            department=r.department or "",
            legal_days=r.legal_days or 0,
            promised_days=r.promised_days or 0,
            fee=r.fee if r.fee is not None else Decimal(0),
            immediate=bool(r.immediate),
            stage_days=dict(r.stage_days or {}),
        )
    return out


def _intern(text: Any) -> Any:
    return intern(text) if type(text) is str else text


def case_from_row(
    id: str,
    case_type_id: str,
    status: str,
    submitted_at: datetime,
    window_id: str | None,
    stages: list[Any] | None,
    suspensions: list[Any] | None,
    fee_charged: Decimal | None,
    completed_at: datetime | None,
) -> Case:
    """A case from its row's values. The values repeated across cases (type, status, window,
    stage names) are interned: an evaluator holds every case, and one string object each instead
    of one per case is tens of megabytes at 100 000 cases. The stages' instants are in UTC, as
    ``submitted_at`` is (the store's): two aware datetimes of one ``tzinfo`` object compare
    without asking each for its offset, and the rules and the warning monitor compare a case's
    instants many times (a stage written with its hall's offset, parsed, has a ``tzinfo`` of its
    own)."""
    return Case(
        id=id,
        case_type_id=_intern(case_type_id),
        status=_intern(status),
        submitted_at=submitted_at,
        window_id=_intern(window_id),
        stages=_stages(stages, submitted_at) if stages else (),
        suspensions=tuple([(_fromiso(sp["from"]), _fromiso(sp["to"]) if sp.get("to") else None) for sp in suspensions])
        if suspensions
        else (),
        fee_charged=fee_charged,
        completed_at=completed_at,
    )


def _stages(stages: list[Any], submitted_at: datetime) -> tuple[tuple[str, datetime], ...]:
    """A case's stages with their instants in UTC. A stage at the submission instant shares its
    object, and so does a stage recorded at the same instant as the one before it (memory; and
    one parse for a run of stages recorded together, as a decision and the completion often are)."""
    out = []
    last_text: str | None = None
    t = submitted_at
    for st in stages:
        text = st["at"]
        if text != last_text:
            t = _fromiso(text).astimezone(UTC)
            if t == submitted_at:
                t = submitted_at
            last_text = text
        out.append((intern(st["stage"]), t))
    return tuple(out)


_DECIMALS: dict[str, Decimal] = {}  # the fees as stored: a few amounts over many cases, one object each


def _decimal(text: str) -> Decimal:
    d = _DECIMALS.get(text)
    if d is None:
        d = Decimal(text)
        if len(_DECIMALS) < 4096:
            _DECIMALS[text] = d
    return d


CaseColumns = tuple[date | None, date | None, int]  # promised_due, legal_due, worst_level

_CASE_COLS = (
    CaseRow.id,
    CaseRow.case_type_id,
    CaseRow.status,
    CaseRow.submitted_at,
    CaseRow.window_id,
    CaseRow.stages,
    CaseRow.suspensions,
    CaseRow.fee_charged,
    CaseRow.completed_at,
)


def iter_cases(s: Session, ids: list[str] | None = None) -> Iterator[Case]:
    """The cases (deleted ones left out), streamed: rows are read as they are used, not all
    buffered first (100 000 cases' rows at once were ~70 MB at the monitor's full pass)."""
    if s.get_bind().dialect.name == "sqlite" and (ids is None or len(ids) <= 500):
        yield from (c for c, _ in _sqlite_cases(s, ids, _SQLITE_CASES_ONLY))
        return
    q = select(*_CASE_COLS).where(CaseRow.deleted.is_(False))
    if ids is not None:
        q = q.where(CaseRow.id.in_(ids))
    for row in s.execute(q.execution_options(yield_per=2000)):
        yield case_from_row(*row)


def cases_with_columns(s: Session, ids: list[str]) -> list[tuple[Case, CaseColumns]]:
    """The given cases (deleted ones left out) with the monitor's derived columns as stored."""
    if s.get_bind().dialect.name == "sqlite":
        return _sqlite_cases_with_columns(s, ids)
    t = CaseRow.__table__
    q = select(*(t.c[c.key] for c in _CASE_COLS), t.c.promised_due, t.c.legal_due, t.c.worst_level).where(
        t.c.deleted.is_(False), t.c.id.in_(ids)
    )
    rows = s.connection().execute(q)  # Core rows: no ORM loading on the monitor's hot path
    return [(case_from_row(*row[:9]), (row[9], row[10], row[11] or 0)) for row in rows]


_SQLITE_CASES = (
    "SELECT id, case_type_id, status, submitted_at, window_id, stages, suspensions, fee_charged, completed_at,"
    " promised_due, legal_due, worst_level FROM cases WHERE deleted = 0"
)
_SQLITE_CASES_ONLY = (
    "SELECT id, case_type_id, status, submitted_at, window_id, stages, suspensions, fee_charged, completed_at,"
    " NULL, NULL, 0 FROM cases WHERE deleted = 0"
)


def _sqlite_instant(text: str | None) -> datetime | None:
    """An instant as ``UTCDateTime`` stores it on SQLite (naive UTC text)."""
    return None if text is None else _fromiso(text).replace(tzinfo=UTC)


def _sqlite_cases_with_columns(s: Session, ids: list[str]) -> list[tuple[Case, CaseColumns]]:
    """``cases_with_columns`` through the driver: the monitor reads a page's cases on every pass,
    and SQLAlchemy's per-value result processing (datetimes parsed by a regular expression, JSON,
    decimals) was most of the cost. Decodes the values as the column types store them."""
    if not ids:
        return []
    return list(_sqlite_cases(s, ids, _SQLITE_CASES))


def _sqlite_cases(s: Session, ids: list[str] | None, sql: str) -> Iterator[tuple[Case, CaseColumns]]:
    """The cases (all, or ``ids``) with their derived columns through the driver, streamed."""
    raw = s.connection().connection.driver_connection
    assert raw is not None
    loads, inst, day = json.loads, _sqlite_instant, date.fromisoformat
    if ids is not None:
        sql += f" AND id IN ({','.join('?' * len(ids))})"
    for cid, ctid, status, sub, win, stages, susp, fee, done, prom, legal, worst in raw.execute(sql, ids or ()):
        case = case_from_row(
            cid,
            ctid,
            status,
            inst(sub),  # type: ignore[arg-type]  # a case row always has one
            win,
            None if stages is None else loads(stages),
            None if susp is None else loads(susp),
            None if fee is None else _decimal(fee),
            inst(done),
        )
        yield case, (None if prom is None else day(prom), None if legal is None else day(legal), worst or 0)


def _utc(t: datetime | None) -> datetime | None:
    """An instant as the store gives it back (``UTCDateTime``: in UTC)."""
    return None if t is None else t.astimezone(UTC)


def case_from_values(case_id: str, values: Mapping[str, Any]) -> Case:
    """A case from the column values an applied change wrote (``ingest.AppliedRecord.values``),
    equal to the case ``iter_cases`` reads back from that row: instants in UTC, the fee as its
    stored text reads, the same values interned."""
    fee = values["fee_charged"]
    return case_from_row(
        case_id,
        values["case_type_id"],
        values["status"],
        values["submitted_at"].astimezone(UTC),
        values["window_id"],
        values["stages"],
        values["suspensions"],
        None if fee is None else _decimal(str(Decimal(fee))),  # DecimalText stores str(Decimal(value))
        _utc(values["completed_at"]),
    )


def ticket_from_values(ticket_id: str, values: Mapping[str, Any]) -> Ticket | None:
    """A ticket from the column values an applied change wrote, equal to the ticket
    ``iter_tickets`` reads back from that row (None where it would leave the row out)."""
    issued, hall = values["issued_at"], values["hall_id"]
    if issued is None or hall is None:
        return None
    return Ticket(
        ticket_id,
        hall,
        values["number"] or "",
        values["status"] or "",
        issued.astimezone(UTC),
        _utc(values["called_at"]),
        values["window_id"],
        values["case_type_id"],
    )


def iter_tickets(s: Session, ids: list[str] | None = None) -> Iterator[Ticket]:
    q = select(TicketRow).where(TicketRow.deleted.is_(False))
    if ids is not None:
        q = q.where(TicketRow.id.in_(ids))
    for r in s.scalars(q):
        if r.issued_at is None or r.hall_id is None:
            continue
        yield Ticket(
            r.id, r.hall_id, r.number or "", r.status or "", r.issued_at, r.called_at, r.window_id, r.case_type_id
        )


def iter_vacancies(
    s: Session, window_ids: list[str] | None = None, *, ids: list[str] | None = None
) -> Iterator[SeatVacancy]:
    q = select(SeatVacancyRow).where(SeatVacancyRow.deleted.is_(False))
    if window_ids is not None:
        q = q.where(SeatVacancyRow.window_id.in_(window_ids))
    if ids is not None:
        q = q.where(SeatVacancyRow.id.in_(ids))
    for r in s.scalars(q):
        if r.window_id is None or r.started_at is None:
            continue
        yield SeatVacancy(r.id, r.window_id, r.started_at, r.ended_at)


def window_departments(s: Session, ids: list[str] | None = None) -> dict[str, str]:
    """Window id → its department (windows without one are left out)."""
    q = select(Window.id, Window.department).where(Window.deleted.is_(False), Window.department.is_not(None))
    if ids is not None:
        q = q.where(Window.id.in_(ids))
    return {i: d for i, d in s.execute(q) if d}


def case_columns(s: Session, ids: list[str] | None = None) -> dict[str, CaseColumns]:
    """The monitor's derived columns of the cases as stored: id → (promised_due, legal_due,
    worst_level)."""
    if ids is None and s.get_bind().dialect.name == "sqlite":  # every case: through the driver
        raw = s.connection().connection.driver_connection
        assert raw is not None
        day = date.fromisoformat
        return {
            i: (None if p is None else day(p), None if lg is None else day(lg), w or 0)
            for i, p, lg, w in raw.execute(
                "SELECT id, promised_due, legal_due, worst_level FROM cases WHERE deleted = 0"
            )
        }
    q = select(CaseRow.id, CaseRow.promised_due, CaseRow.legal_due, CaseRow.worst_level).where(
        CaseRow.deleted.is_(False)
    )
    if ids is not None:
        q = q.where(CaseRow.id.in_(ids))
    return {i: (p, lg, w or 0) for i, p, lg, w in s.execute(q)}


def disposition_keys(s: Session, ids: list[str]) -> dict[str, str | None]:
    """Disposition id → the warning key it acts on (None for a tombstone)."""
    q = select(DispositionRow.id, DispositionRow.warning, DispositionRow.deleted).where(DispositionRow.id.in_(ids))
    return {i: (None if deleted else key) for i, key, deleted in s.execute(q)}


def disposal_times(s: Session, subject: str | None = None) -> dict[str, list[datetime]]:
    """Warning key → the times of its ``warning.dispose`` actions (any terminal), oldest first;
    escalation depends on them. With ``subject``: only that subject's warnings."""
    out: dict[str, list[datetime]] = {}
    q = select(DispositionRow.warning, DispositionRow.at, DispositionRow.action).where(
        DispositionRow.deleted.is_(False)
    )
    if subject is not None:
        q = q.where(DispositionRow.warning.startswith(f"{subject}/", autoescape=True))
    for key, at, action in s.execute(q):
        if key is None or at is None or not is_dispose(action):
            continue
        out.setdefault(key, []).append(at)
    for times in out.values():
        times.sort()
    return out


def is_dispose(action: str | None) -> bool:
    """``disposition.action`` names the action type; accept both ``warning.dispose`` and the
    measure words a server may send instead (督办/纠错/说明)."""
    return (action or "").removeprefix("warning.") in {"dispose", "supervise", "correct", "explain"}


def load_evaluator(s: Session, tz: ZoneInfo, *, subject: str | None = None) -> Evaluator:
    """An evaluator over everything in the store, or over one subject (a case, ticket or window)."""
    ev = Evaluator(load_calendar(s), tz, load_rules(s), load_case_types(s))
    only = None if subject is None else [subject]
    ev.set_cases(iter_cases(s, only))
    ev.set_tickets(iter_tickets(s, only))
    ev.set_vacancies(iter_vacancies(s, only))
    ev.disposed = disposal_times(s, subject)
    return ev


def evaluator_from_changes(changes: Iterable[Mapping[str, Any]], tz: ZoneInfo) -> Evaluator:
    """The evaluator a terminal builds from the upserts of a change feed body (built-in calendar)."""
    types: dict[str, CaseType] = {}
    cases: list[Case] = []
    tickets: list[Ticket] = []
    seats: list[SeatVacancy] = []
    rules = RuleSet()
    for c in changes:
        model = DATA_MODELS.get(c["type"])
        if model is None or c.get("op", "upsert") != "upsert":
            continue
        d = model.model_validate(c["data"])
        if isinstance(d, CaseTypeData):
            types[c["id"]] = CaseType.from_data(c["id"], d)
        elif isinstance(d, CaseData):
            cases.append(Case.from_data(c["id"], d))
        elif isinstance(d, TicketData):
            tickets.append(Ticket.from_data(c["id"], d))
        elif isinstance(d, SeatVacancyData):
            seats.append(SeatVacancy.from_data(c["id"], d))
        elif isinstance(d, RuleSetData):
            rules = RuleSet.from_record([r.model_dump() for r in d.rules], d.weights)
    ev = Evaluator(WorkCalendar(), tz, rules, types)
    ev.set_cases(cases)
    ev.set_tickets(tickets)
    ev.set_vacancies(seats)
    return ev
