"""The demo clock's rule: the wall clock in office hours, else the last working day at 10:00; the
demo's server and terminal share it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.demo import EmbeddedDemo
from app.democlock import DemoClock, demo_start, in_office_hours, last_workday_at, next_opening, resume_instant
from supervision.calendar import WorkCalendar
from supervision.config import Config
from tests.video.waiting import wait_for

Z = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=Z)


@pytest.mark.parametrize("wall", [at(2026, 12, 8, 8, 30), at(2026, 12, 8, 10, 0), at(2026, 12, 8, 11, 59),
                                  at(2026, 12, 8, 13, 30), at(2026, 12, 8, 17, 29),
                                  at(2026, 10, 10, 11, 0)])  # Saturday 10 October 2026 is a make-up workday
def test_office_hours_of_a_working_day_run_on_the_wall_clock(wall: datetime) -> None:
    assert in_office_hours(wall, CAL, Z)
    assert demo_start(wall, CAL, Z) is None
    assert demo_start(wall.astimezone(UTC), CAL, Z) is None  # any zone in, the hall's zone decides


@pytest.mark.parametrize(("wall", "expected"), [
    (at(2026, 12, 8, 19, 0), at(2026, 12, 8, 10, 0)),     # Tuesday evening: that day
    (at(2026, 12, 8, 17, 30), at(2026, 12, 8, 10, 0)),    # closing time itself is closed
    (at(2026, 12, 8, 12, 0), at(2026, 12, 8, 10, 0)),     # lunch break: that morning
    (at(2026, 12, 8, 13, 29), at(2026, 12, 8, 10, 0)),
    (at(2026, 12, 8, 7, 0), at(2026, 12, 7, 10, 0)),      # before opening: the working day before
    (at(2026, 12, 7, 8, 0), at(2026, 12, 4, 10, 0)),      # Monday early: Friday
    (at(2026, 12, 6, 15, 0), at(2026, 12, 4, 10, 0)),     # Sunday: Friday
    (at(2026, 12, 5, 9, 0), at(2026, 12, 4, 10, 0)),      # Saturday: Friday
    (at(2026, 10, 5, 11, 0), at(2026, 9, 30, 10, 0)),     # National Day holiday: the last day before it
    (at(2026, 10, 11, 11, 0), at(2026, 10, 10, 10, 0)),   # Sunday after a make-up Saturday: that Saturday
    (at(2026, 1, 1, 10, 0), at(2025, 12, 31, 10, 0)),     # New Year's Day: the year before
])
def test_closed_hours_start_the_demo_on_the_last_working_day_at_ten(wall: datetime, expected: datetime) -> None:
    assert not in_office_hours(wall, CAL, Z)
    got = demo_start(wall, CAL, Z)
    assert got == expected
    assert got is not None and got.astimezone(Z).hour == 10 and got <= wall


def test_utc_evening_that_is_the_next_morning_in_the_hall_zone() -> None:
    # 2026-12-07 23:00 UTC is Tuesday 07:00 in Shanghai: before opening, so Monday 10:00
    assert demo_start(datetime(2026, 12, 7, 23, 0, tzinfo=UTC), CAL, Z) == at(2026, 12, 7, 10, 0)


def test_last_workday_at_is_never_after_the_instant() -> None:
    assert last_workday_at(at(2026, 12, 8, 9, 59), CAL, Z) == at(2026, 12, 7, 10, 0)
    assert last_workday_at(at(2026, 12, 8, 10, 0), CAL, Z) == at(2026, 12, 8, 10, 0)


def test_next_opening() -> None:
    assert next_opening(at(2026, 12, 8, 12, 10), CAL, Z) == at(2026, 12, 8, 13, 30)
    assert next_opening(at(2026, 12, 4, 18, 0), CAL, Z) == at(2026, 12, 7, 8, 30)  # Friday night: Monday
    assert next_opening(at(2026, 12, 8, 9, 0), CAL, Z) == at(2026, 12, 8, 9, 0)


def test_a_folder_keeps_its_timeline() -> None:
    start, wall = at(2026, 12, 4, 10, 0), at(2026, 12, 6, 15, 0)
    assert resume_instant(start, None, wall, CAL, Z) == start  # a new folder
    assert resume_instant(start, at(2026, 12, 4, 9, 0), wall, CAL, Z) == start  # its timeline is behind
    # ran on Friday until 11:20: carries on there
    assert resume_instant(start, at(2026, 12, 4, 11, 20), wall, CAL, Z) == at(2026, 12, 4, 11, 20)
    # stopped in the lunch break: the afternoon session
    assert resume_instant(start, at(2026, 12, 4, 12, 5), wall, CAL, Z) == at(2026, 12, 4, 13, 30)
    # lived through Friday: the next opening is Monday, in the future, so it stays where it was
    assert resume_instant(start, at(2026, 12, 4, 17, 31), wall, CAL, Z) == at(2026, 12, 4, 17, 31)


def test_demo_clock_reads_its_start_and_advances_in_real_time() -> None:
    start = at(2026, 12, 4, 10, 0)
    wall = datetime.now(UTC)
    clock = DemoClock(Z, start, at_wall=wall)
    got = clock()
    assert got.tzinfo is not None
    assert timedelta(0) <= got - start < timedelta(seconds=5)
    assert clock.started_from == start and clock.local().tzinfo == Z
    assert abs(clock.offset - (start - wall).total_seconds()) < 1e-6
    wall_clock = DemoClock(Z)
    assert wall_clock.started_from is None and abs(wall_clock().timestamp() - datetime.now(UTC).timestamp()) < 1


def test_the_demo_server_and_terminal_run_on_the_demo_clock_so_sync_times_are_the_demos(tmp_path: Path) -> None:
    """The status bar's "last success" and the offline banner's age are the sync engine's times;
    the demo's cameras, warnings and title bar are on the demo clock. All on one clock: the
    engine's times are demo times, and the server's clock (what the terminal measures its own
    against) is the demo's — no "clock off by" hours in a demo started out of office hours."""
    behind = timedelta(days=3, hours=5)

    def clock() -> datetime:
        return datetime.now(UTC) - behind

    demo = EmbeddedDemo(Config(), tmp_path / "data", record=False, clock=clock, relay=False)
    terminal = demo.start()
    try:
        assert terminal.sync is not None
        assert wait_for(lambda: terminal.sync.engine.status().clock_offset_s is not None, 60)
        st = terminal.sync.engine.status()
        assert st.last_success is not None
        assert abs((st.last_success - clock()).total_seconds()) < 60, (st.last_success, clock())
        assert st.clock_offset_s is not None and abs(st.clock_offset_s) < 60, st.clock_offset_s
        assert not st.clock_warning
    finally:
        assert demo.stop(time.monotonic() + 10)
