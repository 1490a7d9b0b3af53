"""The embedded demo's clock: the wall clock in office hours, else a demo day that looks alive.

In the office hours of a working day (the hall's calendar and opening hours, the hall's zone) the
demo runs on the wall clock. At any other time — evenings, nights, weekends, holidays, the lunch
break — the whole demo (server, simulator, terminal, the cameras' burnt-in clocks) runs on one demo
clock set at start to **the last working day at 10:00** (local) and advancing in real time, so the
simulated hall is open and busy whenever the demo is started.

A demo folder keeps its timeline: the simulator never goes back behind the records its server
already holds. When the folder has already lived past that 10:00 (the demo ran there before), the
demo clock continues where the folder's timeline stopped — moved on to the next opening of the
hall when it stopped in closed hours, as long as that is not in the future (:func:`resume_instant`).

The rule functions are pure (the wall instant is a parameter); :class:`DemoClock` is the callable
every part of the demo shares.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from supervision.calendar import WorkCalendar
from supervision.rules import DEFAULT_OFFICE_HOURS

__all__ = ["DEMO_DAY_TIME", "DemoClock", "demo_start", "in_office_hours", "last_workday_at", "resume_instant"]

DEMO_DAY_TIME = time(10, 0)
"""The local time of day a demo clock starts at, on the last working day."""

Hours = Sequence[tuple[time, time]]

_MAX_DAYS = 400  # no calendar has a year without a working day


def _local(t: datetime, zone: ZoneInfo) -> datetime:
    if t.tzinfo is None:
        raise ValueError("the instant must be timezone-aware")
    return t.astimezone(zone)


def in_office_hours(t: datetime, calendar: WorkCalendar, zone: ZoneInfo, hours: Hours = DEFAULT_OFFICE_HOURS) -> bool:
    """Whether ``t`` falls in a session (``[start, end)``) of the office hours of a working day."""
    lt = _local(t, zone)
    if not calendar.is_workday(lt.date()):
        return False
    tod = lt.time().replace(tzinfo=None)
    return any(a <= tod < b for a, b in hours)


def last_workday_at(t: datetime, calendar: WorkCalendar, zone: ZoneInfo, at: time = DEMO_DAY_TIME) -> datetime:
    """The latest instant ``at`` (local) on a working day that is not after ``t``."""
    d: date = _local(t, zone).date()
    for _ in range(_MAX_DAYS):
        if calendar.is_workday(d):
            candidate = datetime.combine(d, at, tzinfo=zone)
            if candidate <= t:
                return candidate
        d -= timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_DAYS} days before {t.isoformat()}")


def demo_start(
    wall: datetime, calendar: WorkCalendar, zone: ZoneInfo, hours: Hours = DEFAULT_OFFICE_HOURS
) -> datetime | None:
    """None when ``wall`` is in office hours (the demo runs on the wall clock); else the last working
    day at 10:00, local — the instant the demo clock starts from."""
    if in_office_hours(wall, calendar, zone, hours):
        return None
    return last_workday_at(wall, calendar, zone)


def next_opening(t: datetime, calendar: WorkCalendar, zone: ZoneInfo, hours: Hours = DEFAULT_OFFICE_HOURS) -> datetime:
    """``t`` itself when it is in office hours, else the start of the next session after it."""
    if in_office_hours(t, calendar, zone, hours):
        return t
    d = _local(t, zone).date()
    for _ in range(_MAX_DAYS):
        if calendar.is_workday(d):
            for a, _b in hours:
                start = datetime.combine(d, a, tzinfo=zone)
                if start >= t:
                    return start
        d += timedelta(days=1)
    raise ValueError(f"no working day within {_MAX_DAYS} days after {t.isoformat()}")


def resume_instant(
    start: datetime,
    reached: datetime | None,
    wall: datetime,
    calendar: WorkCalendar,
    zone: ZoneInfo,
    hours: Hours = DEFAULT_OFFICE_HOURS,
) -> datetime:
    """Where a demo clock meant to start at ``start`` really starts, for a folder whose timeline has
    ``reached`` an instant (None: a new folder): ``start`` unless the folder is past it; then
    the next opening of the hall at or after ``reached`` when that is not after ``wall``, else
    ``reached`` itself (the hall is closed until the wall clock catches up)."""
    if reached is None or reached <= start:
        return start
    opening = next_opening(reached, calendar, zone, hours)
    return opening if opening <= wall else reached


class DemoClock:
    """The demo's shared clock: ``clock()`` is an aware UTC instant, wall time plus a fixed offset.

    ``started_from`` is the demo instant it was set to (None: the wall clock). ``local()`` gives
    the hall's local time (the cameras' burnt-in clock).
    """

    def __init__(self, zone: ZoneInfo, start: datetime | None = None, *, at_wall: datetime | None = None) -> None:
        """``start``: the demo instant now (``at_wall``, default the wall clock now); None: the wall clock."""
        self.zone = zone
        self._offset = 0.0
        self.started_from: datetime | None = None
        if start is not None:
            self.set(start, at_wall=at_wall)

    def set(self, start: datetime, *, at_wall: datetime | None = None) -> None:
        """Make the clock read ``start`` at ``at_wall`` (default: now). Only before the demo starts."""
        wall = at_wall if at_wall is not None else datetime.now(UTC)
        self._offset = (start - wall).total_seconds()
        self.started_from = start.astimezone(self.zone)

    @property
    def offset(self) -> float:
        """Seconds the demo clock is ahead of the wall clock (negative: behind)."""
        return self._offset

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(_time.time() + self._offset, UTC)

    def local(self) -> datetime:
        return datetime.fromtimestamp(_time.time() + self._offset, self.zone)
