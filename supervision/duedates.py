"""Due dates of cases (supervision-rules.md, "Due date of a case").

- The clock starts at acceptance; the acceptance date itself is not counted.
- ``due(N)`` is the N-th working day after the acceptance date; a case is overdue once local
  time passes the end of that day.
- Every working day ``d`` with ``from.date < d <= to.date`` of a suspension moves the due date one
  working day later (overlapping suspensions count a day once). While a suspension is open the
  clock is paused: the due date keeps moving with the days.
- Immediate (即办件) types are promised on the acceptance date itself; their legal due date
  still counts ``legal_days``.
- Dates are taken in the hall's zone; instants stay timezone-aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from supervision.calendar import WorkCalendar
from supervision.model import Case, CaseType

DEFAULT_ZONE = "Asia/Shanghai"


def local_date(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


_EOD: dict[tuple[date, ZoneInfo], datetime] = {}


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """The first instant after local date ``d`` (00:00 of the next day): "past the end of d"
    means ``at >= end_of_day(d)``."""
    key = (d, tz)
    got = _EOD.get(key)
    if got is None:
        if len(_EOD) > 100_000:
            _EOD.clear()
        got = _EOD[key] = datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz)
    return got


def suspended_workdays(
    suspensions: Sequence[tuple[datetime, datetime | None]],
    cal: WorkCalendar,
    tz: ZoneInfo,
    today: date,
) -> int:
    """Working days a case's suspensions add: ``from.date < d <= to.date`` for each, an open one
    counted up to ``today``; overlapping spans count once."""
    if not suspensions:
        return 0
    spans: list[tuple[date, date]] = []
    for start, end in suspensions:
        a = local_date(start, tz)
        b = local_date(end, tz) if end is not None else today
        if b > a:
            spans.append((a, b))
    if len(spans) == 1:
        return cal.workdays_between(*spans[0])
    spans.sort()
    total = 0
    cur_a: date | None = None
    cur_b: date | None = None
    for a, b in spans:
        if cur_b is None or a > cur_b:
            if cur_a is not None and cur_b is not None:
                total += cal.workdays_between(cur_a, cur_b)
            cur_a, cur_b = a, b
        elif b > cur_b:
            cur_b = b
    if cur_a is not None and cur_b is not None:
        total += cal.workdays_between(cur_a, cur_b)
    return total


@dataclass(frozen=True, slots=True)
class CaseClock:
    """Where a case stands against its limits at some instant."""

    accepted_on: date | None
    promised_due: date | None
    legal_due: date | None
    suspended_days: int
    paused: bool  # an open suspension: the clock does not run

    @property
    def running(self) -> bool:
        return self.accepted_on is not None and not self.paused


def case_clock(case: Case, ctype: CaseType, cal: WorkCalendar, tz: ZoneInfo, at: datetime) -> CaseClock:
    """The clock of ``case`` as of ``at`` (a completed case is judged at ``completed_at``)."""
    accepted_at = case.accepted_at
    if accepted_at is None:
        return CaseClock(None, None, None, 0, False)
    judge_at = case.completed_at if case.completed_at is not None and case.completed_at < at else at
    accepted_on = local_date(accepted_at, tz)
    today = local_date(judge_at, tz)
    paused = any(start <= judge_at and (end is None or end > judge_at) for start, end in case.suspensions)
    # Suspensions that have not started by the judging instant do not move anything yet; an open
    # one (or one that ends later) counts up to today.
    active = [
        (start, end if end is not None and end <= judge_at else None)
        for start, end in case.suspensions
        if start <= judge_at
    ]
    extra = suspended_workdays(active, cal, tz, today)
    promised = cal.add_workdays(accepted_on, (0 if ctype.immediate else ctype.promised_days) + extra)
    legal = cal.add_workdays(accepted_on, ctype.legal_days + extra)
    return CaseClock(accepted_on, promised, legal, extra, paused)
