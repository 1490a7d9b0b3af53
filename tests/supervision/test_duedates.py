"""Due dates of cases (supervision-rules.md, "Due date of a case").

Every expected date is worked out by hand against the 2026 holiday notice (the table in
``test_calendar``); the comment next to it shows the count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.calendar import WorkCalendar, YearSource, YearTable
from supervision.duedates import CaseClock, case_clock, end_of_day, suspended_workdays
from supervision.model import Case, CaseType
from tests.supervision.test_calendar import HOLIDAYS_2026, MAKEUP_2026, SYNCED_2026, SYNCED_TABLES, TABLE_2026

SH = ZoneInfo("Asia/Shanghai")
PLUS8 = timezone(timedelta(hours=8))


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    """An instant given in hall time, stored as UTC like the database does."""
    return datetime(y, m, d, hh, mm, tzinfo=SH).astimezone(UTC)


def ctype(promised: int, legal: int | None = None, *, immediate: bool = False) -> CaseType:
    return CaseType(
        id="t1",
        name="建设工程规划许可",
        department="规划局",
        legal_days=promised if legal is None else legal,
        promised_days=promised,
        fee=Decimal("0"),
        immediate=immediate,
    )


def case(
    accepted: datetime,
    suspensions: tuple[tuple[datetime, datetime | None], ...] = (),
    completed_at: datetime | None = None,
) -> Case:
    return Case(
        id="c1",
        case_type_id="t1",
        status="completed" if completed_at is not None else "accepted",
        submitted_at=accepted - timedelta(minutes=5),
        stages=(("submitted", accepted - timedelta(minutes=5)), ("accepted", accepted)),
        suspensions=suspensions,
        completed_at=completed_at,
    )


@pytest.fixture(params=["builtin", "synced"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cal(kind: str) -> WorkCalendar:
    """The built-in data, or the regional table of ``test_calendar`` synced over it (it differs from
    the built-in data in July: Mon 13 and Tue 14 off, Sat 18 a working day)."""
    if kind == "builtin":
        return WorkCalendar()
    return WorkCalendar(synced=[SYNCED_2026])


def test_due_date_across_the_regional_days_follows_the_synced_table(cal: WorkCalendar, kind: str) -> None:
    c = case(local(2026, 7, 10, 10))
    clock = case_clock(c, ctype(3), cal, SH, local(2026, 7, 10, 11))
    # accepted Fri Jul 10, N=3: built-in [Sat 11, Sun 12], Mon 13 (1), Tue 14 (2), Wed Jul 15 (3);
    # synced [Sat 11, Sun 12, Mon 13, Tue 14 regional], Wed 15 (1), Thu 16 (2), Fri Jul 17 (3)
    assert clock.promised_due == (date(2026, 7, 15) if kind == "builtin" else date(2026, 7, 17))


# -- the spec's examples -----------------------------------------------------------------------
def test_spec_example_accepted_sep_30_three_days_is_due_oct_10(cal: WorkCalendar) -> None:
    c = case(local(2026, 9, 30, 10))
    clock = case_clock(c, ctype(3, 20), cal, SH, local(2026, 10, 8, 9))
    assert clock.accepted_on == date(2026, 9, 30)
    # accepted 2026-09-30, N=3: [Oct 1–7 off], Thu Oct 8 (1), Fri Oct 9 (2), Sat Oct 10 make-up (3)
    assert clock.promised_due == date(2026, 10, 10)
    # N=20: Oct 8 (1), 9 (2), Sat 10 (3), 12 (4), 13 (5), 14 (6), 15 (7), 16 (8), 19 (9), 20 (10),
    # 21 (11), 22 (12), 23 (13), 26 (14), 27 (15), 28 (16), 29 (17), Fri 30 (18), Mon Nov 2 (19),
    # Tue Nov 3 (20)
    assert clock.legal_due == date(2026, 11, 3)
    assert clock.suspended_days == 0
    assert clock.paused is False
    assert clock.running


def test_overdue_starts_at_midnight_after_the_due_date() -> None:
    # the spec: due 2026-06-04 -> yellow from 2026-06-05 00:00 hall time
    eod = end_of_day(date(2026, 6, 4), SH)
    assert eod == datetime(2026, 6, 5, 0, 0, tzinfo=PLUS8)
    assert eod.utcoffset() == timedelta(hours=8)
    assert eod == datetime(2026, 6, 4, 16, 0, tzinfo=UTC)
    assert local(2026, 6, 4, 23, 59) < eod <= local(2026, 6, 5, 0, 0)


def test_case_due_jun_4_is_overdue_from_jun_5_midnight(cal: WorkCalendar) -> None:
    # accepted Wed 2026-06-03, N=1: Thu Jun 4 (1)
    clock = case_clock(case(local(2026, 6, 3, 11)), ctype(1), cal, SH, local(2026, 6, 4, 12))
    assert clock.promised_due == date(2026, 6, 4)
    assert end_of_day(clock.promised_due, SH) == datetime(2026, 6, 5, 0, 0, tzinfo=PLUS8)


# -- due dates across the 2026 holidays --------------------------------------------------------
@pytest.mark.parametrize(
    ("accepted", "n", "expected"),
    [
        # New Year: accepted 2025-12-31, N=3: [Jan 1–3 off], Sun Jan 4 make-up (1), Mon 5 (2), Tue 6 (3)
        (local(2025, 12, 31, 16), 3, date(2026, 1, 6)),
        # accepted 2025-12-31, N=1: Sun Jan 4 make-up (1)
        (local(2025, 12, 31, 16), 1, date(2026, 1, 4)),
        # Spring Festival: accepted Fri 2026-02-13, N=1: Sat Feb 14 make-up (1)
        (local(2026, 2, 13, 9), 1, date(2026, 2, 14)),
        # accepted Fri Feb 13, N=2: Sat Feb 14 (1), [Feb 15–23 off], Tue Feb 24 (2)
        (local(2026, 2, 13, 9), 2, date(2026, 2, 24)),
        # accepted Thu Feb 12, N=7: Fri 13 (1), Sat 14 (2), Tue 24 (3), Wed 25 (4), Thu 26 (5),
        # Fri 27 (6), Sat Feb 28 make-up (7)
        (local(2026, 2, 12, 15), 7, date(2026, 2, 28)),
        # accepted Thu Feb 12, N=8: ... Sat Feb 28 (7), [Sun Mar 1], Mon Mar 2 (8)
        (local(2026, 2, 12, 15), 8, date(2026, 3, 2)),
        # Labour Day: accepted Thu 2026-04-30, N=4: [May 1–5 off], Wed 6 (1), Thu 7 (2), Fri 8 (3),
        # Sat May 9 make-up (4)
        (local(2026, 4, 30, 10), 4, date(2026, 5, 9)),
        # accepted Thu Apr 30, N=5: ... Sat May 9 (4), [Sun 10], Mon May 11 (5)
        (local(2026, 4, 30, 10), 5, date(2026, 5, 11)),
        # National Day: accepted Fri 2026-09-18, N=1: [Sat 19], Sun Sep 20 make-up (1)
        (local(2026, 9, 18, 10), 1, date(2026, 9, 20)),
        # accepted Fri Sep 18, N=5: Sun 20 (1), Mon 21 (2), Tue 22 (3), Wed 23 (4), Thu 24 (5)
        (local(2026, 9, 18, 10), 5, date(2026, 9, 24)),
        # accepted Fri Sep 18, N=6: ... Thu 24 (5), [Sep 25–27 off], Mon Sep 28 (6)
        (local(2026, 9, 18, 10), 6, date(2026, 9, 28)),
        # accepted Tue Sep 29, N=4: Wed Sep 30 (1), [Oct 1–7 off], Thu 8 (2), Fri 9 (3), Sat Oct 10 (4)
        (local(2026, 9, 29, 10), 4, date(2026, 10, 10)),
        # accepted Wed Sep 30, N=4: Oct 8 (1), 9 (2), Sat 10 (3), [Sun 11], Mon Oct 12 (4)
        (local(2026, 9, 30, 10), 4, date(2026, 10, 12)),
    ],
)
def test_due_date_across_holidays_and_makeup_days(
    cal: WorkCalendar, accepted: datetime, n: int, expected: date
) -> None:
    clock = case_clock(case(accepted), ctype(n), cal, SH, accepted + timedelta(hours=1))
    assert clock.promised_due == expected
    assert clock.legal_due == expected


# -- the acceptance day is not counted; dates are taken in hall time ---------------------------
def test_acceptance_late_on_a_working_day_is_not_counted(cal: WorkCalendar) -> None:
    # accepted Wed 2026-06-03 23:59 hall time, N=1: Thu Jun 4 (1)
    clock = case_clock(case(local(2026, 6, 3, 23, 59)), ctype(1), cal, SH, local(2026, 6, 4, 8))
    assert clock.accepted_on == date(2026, 6, 3)
    assert clock.promised_due == date(2026, 6, 4)


@pytest.mark.parametrize(
    ("accepted", "n", "expected"),
    [
        # accepted on a holiday Sat 2026-10-03, N=1: [Oct 4–7 off], Thu Oct 8 (1)
        (local(2026, 10, 3, 10), 1, date(2026, 10, 8)),
        # accepted on a holiday weekday Mon 2026-10-05, N=3: Oct 8 (1), 9 (2), Sat Oct 10 make-up (3)
        (local(2026, 10, 5, 10), 3, date(2026, 10, 10)),
        # accepted on an ordinary Sat 2026-06-06, N=1: [Sun 7], Mon Jun 8 (1)
        (local(2026, 6, 6, 10), 1, date(2026, 6, 8)),
        # accepted on the make-up Sat 2026-10-10, N=1: [Sun 11], Mon Oct 12 (1)
        (local(2026, 10, 10, 10), 1, date(2026, 10, 12)),
    ],
)
def test_acceptance_on_a_day_off_counts_from_the_next_working_day(
    cal: WorkCalendar, accepted: datetime, n: int, expected: date
) -> None:
    clock = case_clock(case(accepted), ctype(n), cal, SH, accepted + timedelta(hours=1))
    assert clock.promised_due == expected


def test_acceptance_date_is_the_hall_date_not_the_utc_date(cal: WorkCalendar) -> None:
    # 2026-10-09 23:30 UTC is Sat 2026-10-10 07:30 in Shanghai (a make-up working day)
    accepted = datetime(2026, 10, 9, 23, 30, tzinfo=UTC)
    clock = case_clock(case(accepted), ctype(1), cal, SH, accepted + timedelta(hours=2))
    assert clock.accepted_on == date(2026, 10, 10)
    # accepted Sat Oct 10 (not counted), N=1: [Sun 11], Mon Oct 12 (1) -- the UTC date would give Oct 10
    assert clock.promised_due == date(2026, 10, 12)


def test_acceptance_just_after_local_midnight_is_the_next_local_date(cal: WorkCalendar) -> None:
    # Thu 2026-06-04 00:10 hall time is 2026-06-03 16:10 UTC
    accepted = local(2026, 6, 4, 0, 10)
    assert accepted.date() == date(2026, 6, 3)
    clock = case_clock(case(accepted), ctype(1), cal, SH, accepted + timedelta(hours=1))
    assert clock.accepted_on == date(2026, 6, 4)
    # accepted Thu Jun 4, N=1: Fri Jun 5 (1)
    assert clock.promised_due == date(2026, 6, 5)


def test_acceptance_at_2330_hall_time_stays_on_that_date(cal: WorkCalendar) -> None:
    # Fri 2026-09-18 23:30 +08:00 (15:30 UTC); N=1: [Sat 19], Sun Sep 20 make-up (1)
    accepted = datetime(2026, 9, 18, 23, 30, tzinfo=PLUS8)
    clock = case_clock(case(accepted), ctype(1), cal, SH, accepted + timedelta(hours=1))
    assert clock.accepted_on == date(2026, 9, 18)
    assert clock.promised_due == date(2026, 9, 20)


def test_hall_zone_parameter_is_used_for_dates(cal: WorkCalendar) -> None:
    # the same instant in a UTC hall is Fri Oct 9: N=1 -> Sat Oct 10 make-up (1)
    accepted = datetime(2026, 10, 9, 23, 30, tzinfo=UTC)
    clock = case_clock(case(accepted), ctype(1), cal, ZoneInfo("UTC"), accepted + timedelta(hours=2))
    assert clock.accepted_on == date(2026, 10, 9)
    assert clock.promised_due == date(2026, 10, 10)


# -- suspensions -------------------------------------------------------------------------------
def test_closed_suspension_over_national_day_moves_due_by_its_working_days(cal: WorkCalendar) -> None:
    # 补正 from Tue 2026-09-29 to Fri 2026-10-09: days d with Sep 29 < d <= Oct 9 that are working:
    # Wed Sep 30 (1), [Oct 1–7 off], Thu Oct 8 (2), Fri Oct 9 (3) -> 3
    susp = ((local(2026, 9, 29, 10), local(2026, 10, 9, 16)),)
    assert suspended_workdays(susp, cal, SH, date(2026, 10, 12)) == 3
    c = case(local(2026, 9, 21, 10), susp)  # accepted Mon Sep 21
    clock = case_clock(c, ctype(10, 20), cal, SH, local(2026, 10, 12, 9))
    assert clock.suspended_days == 3
    assert clock.paused is False
    # without it, N=10: Sep 22 (1), 23 (2), 24 (3), [25–27 off], 28 (4), 29 (5), 30 (6), [Oct 1–7],
    # Oct 8 (7), 9 (8), Sat 10 (9), Mon 12 (10); with it, N=13: Tue 13 (11), Wed 14 (12), Thu 15 (13)
    assert clock.promised_due == date(2026, 10, 15)
    # legal N=20+3: ... Mon Oct 12 (10), 13 (11), 14 (12), 15 (13), 16 (14), 19 (15), 20 (16),
    # 21 (17), 22 (18), 23 (19), 26 (20), 27 (21), 28 (22), Thu Oct 29 (23)
    assert clock.legal_due == date(2026, 10, 29)
    unsuspended = case_clock(case(local(2026, 9, 21, 10)), ctype(10, 20), cal, SH, local(2026, 10, 12, 9))
    assert unsuspended.promised_due == date(2026, 10, 12)


def test_suspension_dates_are_taken_in_hall_time(cal: WorkCalendar) -> None:
    # from 2026-09-29 20:00 UTC = Wed Sep 30 04:00 hall time; (Sep 30, Oct 9]: Oct 8, Oct 9 -> 2
    susp = ((datetime(2026, 9, 29, 20, 0, tzinfo=UTC), local(2026, 10, 9, 16)),)
    assert suspended_workdays(susp, cal, SH, date(2026, 10, 12)) == 2


def test_suspension_within_one_day_moves_nothing(cal: WorkCalendar) -> None:
    susp = ((local(2026, 6, 3, 9), local(2026, 6, 3, 17)),)
    assert suspended_workdays(susp, cal, SH, date(2026, 6, 10)) == 0


def test_overlapping_suspensions_count_shared_days_once(cal: WorkCalendar) -> None:
    # S1 (Jun 1, Jun 5]: Jun 2, 3, 4, 5 = 4; S2 (Jun 3, Jun 10]: Jun 4, 5, 8, 9, 10 = 5;
    # union (Jun 1, Jun 10]: Jun 2, 3, 4, 5, 8, 9, 10 = 7 (not 9)
    susp = (
        (local(2026, 6, 1, 9), local(2026, 6, 5, 17)),
        (local(2026, 6, 3, 9), local(2026, 6, 10, 17)),
    )
    assert suspended_workdays(susp, cal, SH, date(2026, 6, 15)) == 7
    c = case(local(2026, 5, 29, 10), susp)  # accepted Fri May 29
    clock = case_clock(c, ctype(10), cal, SH, local(2026, 6, 15, 9))
    assert clock.suspended_days == 7
    # N=10 without: Jun 1 (1), 2 (2), 3 (3), 4 (4), 5 (5), 8 (6), 9 (7), 10 (8), 11 (9), 12 (10);
    # N=17: Mon 15 (11), 16 (12), 17 (13), 18 (14), [Jun 19–21 off], Mon 22 (15), 23 (16), Wed 24 (17)
    assert clock.promised_due == date(2026, 6, 24)


def test_nested_and_disjoint_suspensions_in_any_order(cal: WorkCalendar) -> None:
    # (Jun 8, Jun 10]: 9, 10 = 2; (Jun 1, Jun 5]: 2, 3, 4, 5 = 4; (Jun 3, Jun 4] lies inside -> 6
    susp = (
        (local(2026, 6, 8, 9), local(2026, 6, 10, 17)),
        (local(2026, 6, 1, 9), local(2026, 6, 5, 17)),
        (local(2026, 6, 3, 9), local(2026, 6, 4, 17)),
    )
    assert suspended_workdays(susp, cal, SH, date(2026, 6, 30)) == 6


def test_identical_suspensions_count_once(cal: WorkCalendar) -> None:
    one = (local(2026, 9, 29, 10), local(2026, 10, 9, 16))
    assert suspended_workdays((one, one), cal, SH, date(2026, 10, 12)) == 3


@pytest.mark.parametrize(
    ("at", "days", "due"),
    [
        # accepted Mon Jun 1, N=5, suspended from Wed Jun 3 10:00, never closed
        # at Jun 3 15:00: (Jun 3, Jun 3] = 0; due: Jun 2 (1), 3 (2), 4 (3), 5 (4), Mon 8 (5)
        (local(2026, 6, 3, 15), 0, date(2026, 6, 8)),
        # at Fri Jun 5: Jun 4, 5 = 2; N=7: ... Mon 8 (5), Tue 9 (6), Wed 10 (7)
        (local(2026, 6, 5, 12), 2, date(2026, 6, 10)),
        # at Sat Jun 6: still 2
        (local(2026, 6, 6, 12), 2, date(2026, 6, 10)),
        # at Tue Jun 9: Jun 4, 5, 8, 9 = 4; N=9: ... Wed 10 (7), Thu 11 (8), Fri 12 (9)
        (local(2026, 6, 9, 9), 4, date(2026, 6, 12)),
        # at Mon Jun 22: Jun 4, 5 (2), 8–12 (5), 15–18 (4), [19–21 off], 22 (1) = 12; N=17:
        # Jun 9 (6), 10 (7), 11 (8), 12 (9), 15 (10), 16 (11), 17 (12), 18 (13), 22 (14), 23 (15),
        # 24 (16), Thu Jun 25 (17)
        (local(2026, 6, 22, 9), 12, date(2026, 6, 25)),
    ],
)
def test_open_suspension_pauses_and_moves_due_as_time_passes(
    cal: WorkCalendar, at: datetime, days: int, due: date
) -> None:
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 3, 10), None),))
    clock = case_clock(c, ctype(5), cal, SH, at)
    assert clock.paused is True
    assert not clock.running
    assert clock.suspended_days == days
    assert clock.promised_due == due


def test_suspension_closed_later_than_at_is_still_running_at_at(cal: WorkCalendar) -> None:
    # suspended Jun 3 10:00 until Jun 10 10:00; judged on Fri Jun 5: Jun 4, 5 = 2 so far, paused
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 3, 10), local(2026, 6, 10, 10)),))
    clock = case_clock(c, ctype(5), cal, SH, local(2026, 6, 5, 12))
    assert clock.paused is True
    assert clock.suspended_days == 2
    # N=7 from Mon Jun 1: Jun 2 (1), 3 (2), 4 (3), 5 (4), 8 (5), 9 (6), Wed Jun 10 (7)
    assert clock.promised_due == date(2026, 6, 10)


def test_closed_suspension_resumes_the_clock(cal: WorkCalendar) -> None:
    # suspended Jun 3 10:00 until Mon Jun 22 11:00: as counted above, 12 working days
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 3, 10), local(2026, 6, 22, 11)),))
    clock = case_clock(c, ctype(5), cal, SH, local(2026, 6, 30, 9))
    assert clock.paused is False
    assert clock.running
    assert clock.suspended_days == 12
    assert clock.promised_due == date(2026, 6, 25)


@pytest.mark.parametrize(
    ("at", "paused", "days", "due"),
    [
        # accepted Mon Jun 1, N=5, suspension Wed Jun 10 09:00 – Fri Jun 12 17:00
        # at Fri Jun 5: not started yet; due Jun 2 (1), 3 (2), 4 (3), 5 (4), Mon 8 (5)
        (local(2026, 6, 5, 12), False, 0, date(2026, 6, 8)),
        # at Jun 10 08:00: starts later the same day, still nothing
        (local(2026, 6, 10, 8), False, 0, date(2026, 6, 8)),
        # at Thu Jun 11: (Jun 10, Jun 11] = 1; N=6: ... Mon 8 (5), Tue Jun 9 (6)
        (local(2026, 6, 11, 12), True, 1, date(2026, 6, 9)),
        # at Mon Jun 15: closed; Jun 11, 12 = 2; N=7: ... Tue 9 (6), Wed Jun 10 (7)
        (local(2026, 6, 15, 9), False, 2, date(2026, 6, 10)),
    ],
)
def test_suspension_starting_after_at_does_not_count_yet(
    cal: WorkCalendar, at: datetime, paused: bool, days: int, due: date
) -> None:
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 10, 9), local(2026, 6, 12, 17)),))
    clock = case_clock(c, ctype(5), cal, SH, at)
    assert (clock.paused, clock.suspended_days, clock.promised_due) == (paused, days, due)


# -- immediate (即办件) -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("accepted", "due"),
    [
        (local(2026, 6, 4, 10), date(2026, 6, 4)),
        # accepted on a holiday: still due that very date
        (local(2026, 10, 2, 10), date(2026, 10, 2)),
        # 2026-06-03 23:30 UTC is Jun 4 07:30 hall time
        (datetime(2026, 6, 3, 23, 30, tzinfo=UTC), date(2026, 6, 4)),
    ],
)
def test_immediate_case_is_due_on_the_acceptance_date(cal: WorkCalendar, accepted: datetime, due: date) -> None:
    clock = case_clock(case(accepted), ctype(0, 0, immediate=True), cal, SH, accepted + timedelta(hours=3))
    assert clock.promised_due == due
    assert clock.legal_due == due


def test_immediate_promises_the_acceptance_date_but_the_legal_due_date_counts_legal_days(cal: WorkCalendar) -> None:
    # accepted Thu Jun 4, legal 20: Jun 5 (1), 8-12 (6), 15-18 (10; 19 Jun off), 22-26 (15),
    # 29, 30 (17), Jul 1, 2, 3 (20)
    clock = case_clock(case(local(2026, 6, 4, 10)), ctype(5, 20, immediate=True), cal, SH, local(2026, 6, 4, 11))
    assert clock.promised_due == date(2026, 6, 4)
    assert clock.legal_due == date(2026, 7, 3)


# -- completed cases ---------------------------------------------------------------------------
def test_completed_case_is_judged_at_completed_at(cal: WorkCalendar) -> None:
    # accepted Mon Jun 1, N=5, open suspension from Wed Jun 3, completed Fri Jun 5 12:00
    done = local(2026, 6, 5, 12)
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 3, 10), None),), completed_at=done)
    late = case_clock(c, ctype(5), cal, SH, local(2026, 7, 1, 9))
    assert late == case_clock(c, ctype(5), cal, SH, done)
    # as of Jun 5: Jun 4, 5 = 2 suspended; N=7: Jun 2 (1), 3 (2), 4 (3), 5 (4), 8 (5), 9 (6), Wed 10 (7)
    assert late.suspended_days == 2
    assert late.promised_due == date(2026, 6, 10)


def test_completed_case_ignores_suspensions_after_completion(cal: WorkCalendar) -> None:
    done = local(2026, 6, 5, 12)
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 8, 9), local(2026, 6, 12, 17)),), completed_at=done)
    clock = case_clock(c, ctype(5), cal, SH, local(2026, 7, 1, 9))
    assert clock == CaseClock(date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 8), 0, False)


def test_completed_case_asked_about_an_earlier_instant_uses_that_instant(cal: WorkCalendar) -> None:
    done = local(2026, 6, 5, 12)
    c = case(local(2026, 6, 1, 10), ((local(2026, 6, 3, 10), None),), completed_at=done)
    clock = case_clock(c, ctype(5), cal, SH, local(2026, 6, 4, 12))
    # as of Thu Jun 4: (Jun 3, Jun 4] = 1; N=6: Jun 2 (1), 3 (2), 4 (3), 5 (4), 8 (5), Tue 9 (6)
    assert clock.suspended_days == 1
    assert clock.promised_due == date(2026, 6, 9)


def test_case_not_yet_accepted_has_no_clock(cal: WorkCalendar) -> None:
    c = Case(
        id="c1",
        case_type_id="t1",
        status="submitted",
        submitted_at=local(2026, 6, 1, 9),
        stages=(("submitted", local(2026, 6, 1, 9)),),
    )
    clock = case_clock(c, ctype(5), cal, SH, local(2026, 6, 2, 9))
    assert clock == CaseClock(None, None, None, 0, False)
    assert not clock.running


# -- calendar sources seen from a case ---------------------------------------------------------
def test_synced_calendar_overriding_builtin_moves_the_due_date() -> None:
    synced = WorkCalendar(synced=[YearTable(2026, HOLIDAYS_2026 | {date(2026, 6, 22)}, MAKEUP_2026)])
    assert synced.source(2026) is YearSource.SYNCED
    c = case(local(2026, 6, 18, 10))  # Thu Jun 18
    at = local(2026, 6, 18, 11)
    # built-in: [Jun 19–21 off], Mon Jun 22 (1)
    assert case_clock(c, ctype(1), WorkCalendar(), SH, at).promised_due == date(2026, 6, 22)
    # synced: [Jun 19–21 off, Jun 22 off], Tue Jun 23 (1)
    assert case_clock(c, ctype(1), synced, SH, at).promised_due == date(2026, 6, 23)


def test_due_date_in_a_year_without_data_counts_weekends_and_reports_the_year() -> None:
    cal = WorkCalendar(builtin=False, synced=[TABLE_2026])
    assert cal.fallback_years == frozenset()
    c = case(local(2026, 12, 30, 10))  # Wed Dec 30
    clock = case_clock(c, ctype(3), cal, SH, local(2026, 12, 30, 11))
    # Thu Dec 31 (1), Fri 2027-01-01 (2, no 2027 data: weekends only), [Sat 2, Sun 3], Mon Jan 4 (3)
    assert clock.promised_due == date(2027, 1, 4)
    assert cal.source(2027) is YearSource.FALLBACK
    assert cal.fallback_years == frozenset({2027})


# -- properties --------------------------------------------------------------------------------
DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
COUNTS = st.integers(min_value=0, max_value=60)
HOURS = st.integers(min_value=0, max_value=23)
BUILTIN = WorkCalendar()


@st.composite
def suspensions(draw: st.DrawFn, accepted: datetime) -> tuple[datetime, datetime | None]:
    start = accepted + timedelta(days=draw(st.integers(0, 60)), hours=draw(st.integers(0, 23)))
    if draw(st.booleans()):
        return (start, None)
    return (start, start + timedelta(days=draw(st.integers(0, 60)), hours=draw(st.integers(0, 23))))


def _accepted(d: date, hour: int) -> datetime:
    return local(d.year, d.month, d.day, hour)


def _check_due_never_earlier_when_n_grows(cal: WorkCalendar, d: date, hour: int, n1: int, n2: int) -> None:
    lo, hi = sorted((n1, n2))
    c = case(_accepted(d, hour))
    at = _accepted(d, hour) + timedelta(days=1)
    short = case_clock(c, ctype(lo), cal, SH, at).promised_due
    long = case_clock(c, ctype(hi), cal, SH, at).promised_due
    assert short is not None and long is not None
    assert short <= long
    if lo < hi:
        assert short < long


def _check_due_never_earlier_with_a_suspension(
    cal: WorkCalendar, d: date, hour: int, n: int, data: st.DataObject
) -> None:
    accepted = _accepted(d, hour)
    susp = data.draw(suspensions(accepted))
    at = accepted + timedelta(days=data.draw(st.integers(0, 150)))
    plain = case_clock(case(accepted), ctype(n, n + 10), cal, SH, at)
    held = case_clock(case(accepted, (susp,)), ctype(n, n + 10), cal, SH, at)
    assert held.promised_due >= plain.promised_due  # type: ignore[operator]
    assert held.legal_due >= plain.legal_due  # type: ignore[operator]
    assert held.suspended_days >= 0
    # the due date is exactly N + suspended working days after the acceptance date
    assert cal.workdays_between(held.accepted_on, held.promised_due) == n + held.suspended_days  # type: ignore[arg-type]


def _check_between_inverts_due(cal: WorkCalendar, d: date, hour: int, n: int) -> None:
    accepted = _accepted(d, hour)
    clock = case_clock(case(accepted), ctype(n), cal, SH, accepted)
    assert clock.accepted_on == d
    assert clock.promised_due == cal.add_workdays(d, n)
    assert cal.workdays_between(d, cal.add_workdays(d, n)) == n


@given(DATES, HOURS, COUNTS, COUNTS)
def test_builtin_due_never_earlier_when_n_grows(d: date, hour: int, n1: int, n2: int) -> None:
    _check_due_never_earlier_when_n_grows(BUILTIN, d, hour, n1, n2)


@given(DATES, HOURS, COUNTS, st.data())
def test_builtin_due_never_earlier_when_a_suspension_is_added(d: date, hour: int, n: int, data: st.DataObject) -> None:
    _check_due_never_earlier_with_a_suspension(BUILTIN, d, hour, n, data)


@given(DATES, HOURS, COUNTS)
def test_builtin_workdays_between_acceptance_and_due_is_n(d: date, hour: int, n: int) -> None:
    _check_between_inverts_due(BUILTIN, d, hour, n)


@given(DATES, HOURS, COUNTS, st.integers(0, 60), st.integers(0, 60))
def test_builtin_open_suspension_due_never_earlier_as_at_advances(d: date, hour: int, n: int, k1: int, k2: int) -> None:
    accepted = _accepted(d, hour)
    c = case(accepted, ((accepted + timedelta(hours=1), None),))
    lo, hi = sorted((k1, k2))
    early = case_clock(c, ctype(n), BUILTIN, SH, accepted + timedelta(days=lo, hours=2))
    late = case_clock(c, ctype(n), BUILTIN, SH, accepted + timedelta(days=hi, hours=2))
    assert early.paused and late.paused
    assert early.promised_due <= late.promised_due  # type: ignore[operator]


@given(SYNCED_TABLES, DATES, HOURS, COUNTS, COUNTS)
def test_synced_random_table_due_never_earlier_when_n_grows(
    tables: tuple[YearTable, ...], d: date, hour: int, n1: int, n2: int
) -> None:
    _check_due_never_earlier_when_n_grows(WorkCalendar(tables, builtin=False), d, hour, n1, n2)


@given(SYNCED_TABLES, DATES, HOURS, COUNTS, st.data())
def test_synced_random_table_due_never_earlier_when_a_suspension_is_added(
    tables: tuple[YearTable, ...], d: date, hour: int, n: int, data: st.DataObject
) -> None:
    _check_due_never_earlier_with_a_suspension(WorkCalendar(tables, builtin=False), d, hour, n, data)


@given(SYNCED_TABLES, DATES, HOURS, COUNTS)
def test_synced_random_table_workdays_between_acceptance_and_due_is_n(
    tables: tuple[YearTable, ...], d: date, hour: int, n: int
) -> None:
    _check_between_inverts_due(WorkCalendar(tables, builtin=False), d, hour, n)
