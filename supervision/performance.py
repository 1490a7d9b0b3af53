"""Performance (绩效评估) per window, department and org unit over a period
(supervision-rules.md, "Performance").

- on-time rate = completed within the promised limit / completed;
- speed-up rate (承诺提速率) = (Σ promised days − Σ working days used) / Σ promised days;
- satisfaction = share of evaluations with grade ≥ 4; bad reviews (grade ≤ 2) listed;
- score = 100 − w_yellow × yellow − w_red × red − w_bad × bad reviews, floored at 0.

A warning counts once, at the highest level it reached (a red that was yellow first costs the
red weight only), in the period in which it was first raised. Notices cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from supervision.duedates import case_clock, end_of_day, local_date
from supervision.model import Case
from supervision.rules import DerivedWarning, Evaluator, Level, RuleSet
from supervision.snapshot import (
    case_from_row,
    disposal_times,
    iter_tickets,
    iter_vacancies,
    load_calendar,
    load_case_types,
    load_evaluator,
    load_rules,
)
from supervision.store.models import CaseRow, EvaluationRow, OrgUnit, WarningState, Window


@dataclass(slots=True)
class Performance:
    completed: int = 0
    on_time: int = 0
    promised_days: int = 0
    used_days: int = 0
    evaluations: int = 0
    satisfied: int = 0
    bad_reviews: list[str] = field(default_factory=list)
    yellow: int = 0
    red: int = 0
    score: float = 100.0

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.completed if self.completed else None

    @property
    def speedup_rate(self) -> float | None:
        return (self.promised_days - self.used_days) / self.promised_days if self.promised_days else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.evaluations if self.evaluations else None


@dataclass(frozen=True, slots=True)
class WarningRecord:
    key: str
    window_id: str | None
    level: Level
    since: datetime


@dataclass(frozen=True, slots=True)
class Report:
    windows: Mapping[str, Performance]
    departments: Mapping[str, Performance]
    org_units: Mapping[str, Performance]


def _add(into: Performance, p: Performance) -> None:
    into.completed += p.completed
    into.on_time += p.on_time
    into.promised_days += p.promised_days
    into.used_days += p.used_days
    into.evaluations += p.evaluations
    into.satisfied += p.satisfied
    into.bad_reviews.extend(p.bad_reviews)
    into.yellow += p.yellow
    into.red += p.red


def _score(p: Performance, rules: RuleSet) -> None:
    p.score = max(
        0.0,
        100 - rules.weight_yellow * p.yellow - rules.weight_red * p.red - rules.weight_bad_review * len(p.bad_reviews),
    )


def compute(
    ev: Evaluator,
    start: datetime,
    end: datetime,
    *,
    evaluations: Iterable[tuple[str, str, datetime, int]],  # id, window_id, at, grade
    warnings: Iterable[WarningRecord],
    window_department: Mapping[str, str],
    window_org_units: Mapping[str, Iterable[str]],  # window → its hall and every ancestor
) -> Report:
    """Performance over ``[start, end)`` from an evaluator's cases and the given facts."""
    per_window: dict[str, Performance] = {}

    def w(wid: str | None) -> Performance:
        return per_window.setdefault(wid or "", Performance())

    for f in ev.facts():
        c = f.case
        if c.status != "completed" or c.completed_at is None or not (start <= c.completed_at < end):
            continue
        clock = case_clock(c, f.ctype, ev.cal, ev.tz, c.completed_at)
        if clock.accepted_on is None or clock.promised_due is None:
            continue
        p = w(c.window_id)
        p.completed += 1
        if c.completed_at < end_of_day(clock.promised_due, ev.tz):
            p.on_time += 1
        used = ev.cal.workdays_between(clock.accepted_on, local_date(c.completed_at, ev.tz)) - clock.suspended_days
        p.promised_days += 0 if f.ctype.immediate else f.ctype.promised_days
        p.used_days += 0 if f.ctype.immediate else max(used, 0)
    for eid, wid, at, grade in evaluations:
        if not (start <= at < end):
            continue
        p = w(wid)
        p.evaluations += 1
        if grade >= 4:
            p.satisfied += 1
        if grade <= 2:
            p.bad_reviews.append(eid)
    for rec in warnings:
        if not (start <= rec.since < end):
            continue
        if rec.level is Level.RED:
            w(rec.window_id).red += 1
        elif rec.level is Level.YELLOW:
            w(rec.window_id).yellow += 1
    departments: dict[str, Performance] = {}
    orgs: dict[str, Performance] = {}
    for wid, p in per_window.items():
        _score(p, ev.rules)
        _add(departments.setdefault(window_department.get(wid, ""), Performance()), p)
        for org in window_org_units.get(wid, ()):
            _add(orgs.setdefault(org, Performance()), p)
    for p in (*departments.values(), *orgs.values()):
        _score(p, ev.rules)
    return Report(per_window, departments, orgs)


def compute_from_store(s: Session, tz: ZoneInfo, start: datetime, end: datetime) -> Report:
    """Performance from what the store holds: warnings are those recorded in ``warning_states``
    together with those the rules derive at the end of the period (so imported history counts
    even if no terminal was watching when it happened), each at its highest level."""
    ev = load_evaluator(s, tz)
    best = kept_warnings(s)
    for d in ev.evaluate(end):
        prev = best.get(d.key)
        if prev is None or prev.level.rank < d.level.rank:
            best[d.key] = WarningRecord(d.key, d.window_id, d.level, prev.since if prev else d.since)
    parents = {o.id: o.parent_id for o in s.scalars(select(OrgUnit).where(OrgUnit.deleted.is_(False)))}
    dept: dict[str, str] = {}
    orgs: dict[str, list[str]] = {}
    for win in s.scalars(select(Window).where(Window.deleted.is_(False))):
        dept[win.id] = win.department or ""
        chain, node, seen = [], win.hall_id, set()
        while node is not None and node not in seen:
            seen.add(node)
            chain.append(node)
            node = parents.get(node)
        orgs[win.id] = chain
    evals = [
        (r.id, r.window_id or "", r.at, r.grade or 0)
        for r in s.scalars(select(EvaluationRow).where(EvaluationRow.deleted.is_(False)))
        if r.at is not None
    ]
    return compute(
        ev, start, end, evaluations=evals, warnings=best.values(), window_department=dept, window_org_units=orgs
    )


__all__ = ["Performance", "Report", "WarningRecord", "compute", "compute_from_store"]


# What supervision.snapshot.case_from_row takes, in its order (as supervision.snapshot.iter_cases reads).
_CASE_COLS = (CaseRow.id, CaseRow.case_type_id, CaseRow.status, CaseRow.submitted_at, CaseRow.window_id,
              CaseRow.stages, CaseRow.suspensions, CaseRow.fee_charged, CaseRow.completed_at)


def kept_warnings(s: Session, chunk: int = 5_000) -> dict[str, WarningRecord]:
    """Every warning ``warning_states`` keeps, at its highest level, by key. The four columns read
    are streamed ``chunk`` rows at a time: every row as an ORM object at once (some 100 000 in a
    large hall, each with its session state) was the largest allocation of a performance query."""
    levels = {str(level): level for level in Level}
    q = select(WarningState.key, WarningState.window_id, WarningState.max_level, WarningState.since)
    best: dict[str, WarningRecord] = {}
    for part in s.execute(q.execution_options(yield_per=chunk)).partitions():
        for key, window_id, level, since in part:
            best[key] = WarningRecord(key, window_id, levels.get(level) or Level(level), since)
    return best


def case_chunks(s: Session, size: int) -> Iterator[list[Case]]:
    """Every case not deleted, ``size`` at a time, streamed (the order of ``iter_cases``)."""
    q = select(*_CASE_COLS).where(CaseRow.deleted.is_(False)).execution_options(yield_per=size)
    for part in s.execute(q).partitions():
        yield [case_from_row(*row) for row in part]


def judge_in_chunks(s: Session, tz: ZoneInfo, at: datetime, keep_from: datetime, keep_until: datetime, *,
                    chunk: int) -> tuple[Evaluator, dict[str, WarningRecord]]:
    """The warnings ever raised up to ``at`` (each at its highest level: the kept ``warning_states``
    and what judging every case, ticket and vacancy at ``at`` derives) and an evaluator that keeps only
    the cases completed in ``[keep_from, keep_until)`` — what :func:`compute` and the trends read.

    The store is read ``chunk`` cases at a time and each chunk's other cases are dropped once judged,
    so every case's facts are never in memory at once (100 000 cases: some 300 MB). The operator's
    performance panel and the leader's figures both read through this."""
    ev = Evaluator(load_calendar(s), tz, load_rules(s), load_case_types(s))
    ev.disposed = disposal_times(s)
    best = kept_warnings(s)

    def take(derived: Iterable[DerivedWarning]) -> None:
        for d in derived:
            prev = best.get(d.key)
            if prev is None or prev.level.rank < d.level.rank:
                best[d.key] = WarningRecord(d.key, d.window_id, d.level, prev.since if prev else d.since)

    for cases in case_chunks(s, chunk):
        ev.set_cases(cases)
        take(ev.evaluate(at, case_ids=[c.id for c in cases if c.submitted_at <= at]))
        ev.remove_cases([c.id for c in cases if not (c.status == "completed" and c.completed_at is not None
                                                     and keep_from <= c.completed_at < keep_until)])
    ev.set_tickets(iter_tickets(s))
    ev.set_vacancies(iter_vacancies(s))
    take(ev.evaluate(at))  # the tickets and windows (the cases kept again: no change)
    return ev, best
