"""The working-day calendar (supervision-rules.md, "Working-day calendar").

The 2026 table below is written out by hand from the State Council notice of 2025-11-04
(国办发明电〔2025〕7号); every expected date in this file is worked out by hand, never by the code
under test.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supervision.calendar import WorkCalendar, YearSource, YearTable


def _span(first: date, last: date) -> frozenset[date]:
    return frozenset(first + timedelta(days=i) for i in range((last - first).days + 1))


# -- test data: the 2026 notice ----------------------------------------------------------------
# Holidays as announced (whole periods, weekend days included).
HOLIDAYS_2026: frozenset[date] = (
    _span(date(2026, 1, 1), date(2026, 1, 3))  # 元旦
    | _span(date(2026, 2, 15), date(2026, 2, 23))  # 春节
    | _span(date(2026, 4, 4), date(2026, 4, 6))  # 清明节
    | _span(date(2026, 5, 1), date(2026, 5, 5))  # 劳动节
    | _span(date(2026, 6, 19), date(2026, 6, 21))  # 端午节
    | _span(date(2026, 9, 25), date(2026, 9, 27))  # 中秋节
    | _span(date(2026, 10, 1), date(2026, 10, 7))  # 国庆节
)
# Make-up working days (调休上班), all on weekends.
MAKEUP_2026: frozenset[date] = frozenset(
    {
        date(2026, 1, 4),  # Sun
        date(2026, 2, 14),  # Sat
        date(2026, 2, 28),  # Sat
        date(2026, 5, 9),  # Sat
        date(2026, 9, 20),  # Sun
        date(2026, 10, 10),  # Sat
    }
)
TABLE_2026 = YearTable(2026, holidays=HOLIDAYS_2026, workdays=MAKEUP_2026)

# 2026: Jan 1 is a Thursday, 365 days = 52 weeks + 1 Thursday -> 261 Mon–Fri days.
# Holidays on Mon–Fri: Jan 1, 2 (2); Feb 16–20, 23 (6); Apr 6 (1); May 1, 4, 5 (3); Jun 19 (1);
# Sep 25 (1); Oct 1, 2, 5, 6, 7 (5) = 19. Plus 6 make-up days: 261 - 19 + 6 = 248.
WORKDAYS_IN_2026 = 248


# -- test data: a synced table that differs from the built-in data -----------------------------
# What a province could sync on top of the national notice: two regional holidays (Mon Jul 13,
# Tue Jul 14) and a regional make-up working day (Sat Jul 18). The "synced" calendars below use it
# with the built-in data switched on, so a calendar that answered from its built-in 2026 instead
# of the synced year fails on these days.
REGIONAL_HOLIDAYS_2026 = HOLIDAYS_2026 | {date(2026, 7, 13), date(2026, 7, 14)}
REGIONAL_MAKEUP_2026 = MAKEUP_2026 | {date(2026, 7, 18)}
SYNCED_2026 = YearTable(2026, holidays=REGIONAL_HOLIDAYS_2026, workdays=REGIONAL_MAKEUP_2026)
WORKDAYS_IN_SYNCED_2026 = WORKDAYS_IN_2026 - 2 + 1  # Mon 13 and Tue 14 off, Sat 18 on: 247


def expected_workday_2026(d: date, kind: str = "builtin") -> bool:
    """The hand table (``kind`` "synced": with the regional days): Mon–Fri not a holiday, or a make-up day."""
    assert d.year == 2026
    holidays, makeup = (HOLIDAYS_2026, MAKEUP_2026) if kind == "builtin" else (
        REGIONAL_HOLIDAYS_2026, REGIONAL_MAKEUP_2026)
    if d in makeup:
        return True
    return d.weekday() < 5 and d not in holidays


ALL_2026 = [date(2026, 1, 1) + timedelta(days=i) for i in range(365)]


def builtin_calendar() -> WorkCalendar:
    return WorkCalendar()


def synced_calendar() -> WorkCalendar:
    """The regional 2026 table synced over the built-in data (which stays switched on)."""
    return WorkCalendar(synced=[SYNCED_2026])


@pytest.fixture(params=["builtin", "synced"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def cal(kind: str) -> WorkCalendar:
    return builtin_calendar() if kind == "builtin" else synced_calendar()


# -- the hand table itself ---------------------------------------------------------------------
def test_hand_table_makeup_days_are_weekends_and_count_is_248() -> None:
    assert all(d.weekday() >= 5 for d in MAKEUP_2026)
    assert not HOLIDAYS_2026 & MAKEUP_2026
    assert sum(expected_workday_2026(d) for d in ALL_2026) == WORKDAYS_IN_2026
    assert sum(expected_workday_2026(d, "synced") for d in ALL_2026) == WORKDAYS_IN_SYNCED_2026
    differ = [d for d in ALL_2026 if expected_workday_2026(d) != expected_workday_2026(d, "synced")]
    assert differ == [date(2026, 7, 13), date(2026, 7, 14), date(2026, 7, 18)]


# -- every date of 2026 ------------------------------------------------------------------------
def test_builtin_data_matches_the_2026_notice_on_every_date() -> None:
    c = builtin_calendar()
    assert c.source(2026) is YearSource.BUILTIN
    wrong = [d for d in ALL_2026 if c.is_workday(d) != expected_workday_2026(d)]
    assert wrong == []
    assert c.fallback_years == frozenset()


def test_synced_table_matches_the_regional_table_on_every_date() -> None:
    c = synced_calendar()
    assert c.source(2026) is YearSource.SYNCED
    wrong = [d for d in ALL_2026 if c.is_workday(d) != expected_workday_2026(d, "synced")]
    assert wrong == []
    assert c.fallback_years == frozenset()


def test_synced_table_alone_matches_the_regional_table_on_every_date() -> None:
    c = WorkCalendar(builtin=False, synced=[SYNCED_2026])
    wrong = [d for d in ALL_2026 if c.is_workday(d) != expected_workday_2026(d, "synced")]
    assert wrong == []


def test_2026_working_days_are_counted(cal: WorkCalendar, kind: str) -> None:
    expected = WORKDAYS_IN_2026 if kind == "builtin" else WORKDAYS_IN_SYNCED_2026
    assert cal.workdays_between(date(2025, 12, 31), date(2026, 12, 31)) == expected


def test_every_2026_working_day_is_reached_by_add_workdays_in_order(cal: WorkCalendar, kind: str) -> None:
    hand = [d for d in ALL_2026 if expected_workday_2026(d, kind)]
    got = [cal.add_workdays(date(2025, 12, 31), i) for i in range(1, len(hand) + 1)]
    assert got == hand


@pytest.mark.parametrize(
    ("start", "n", "builtin", "synced"),
    [
        # from Fri Jul 10, N=1: built-in [Sat 11, Sun 12], Mon Jul 13 (1);
        # synced [Sat 11, Sun 12, Mon 13 and Tue 14 regional], Wed Jul 15 (1)
        (date(2026, 7, 10), 1, date(2026, 7, 13), date(2026, 7, 15)),
        # from Fri Jul 10, N=5: built-in Mon 13 (1), Tue 14 (2), Wed 15 (3), Thu 16 (4), Fri 17 (5);
        # synced Wed 15 (1), Thu 16 (2), Fri 17 (3), Sat 18 make-up (4), [Sun 19], Mon Jul 20 (5)
        (date(2026, 7, 10), 5, date(2026, 7, 17), date(2026, 7, 20)),
        # from Fri Jul 17, N=1: built-in [Sat 18, Sun 19], Mon Jul 20 (1); synced Sat Jul 18 make-up (1)
        (date(2026, 7, 17), 1, date(2026, 7, 20), date(2026, 7, 18)),
        # before Wed Jul 15: built-in Tue Jul 14 (-1); synced [Tue 14, Mon 13 regional, Sun 12, Sat 11] Fri Jul 10
        (date(2026, 7, 15), -1, date(2026, 7, 14), date(2026, 7, 10)),
    ],
)
def test_add_workdays_across_the_regional_days(
    cal: WorkCalendar, kind: str, start: date, n: int, builtin: date, synced: date
) -> None:
    assert cal.add_workdays(start, n) == (builtin if kind == "builtin" else synced)


# -- add_workdays across the 2026 holidays (hand-counted) --------------------------------------
@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # New Year: Jan 1–3 off, Sun Jan 4 make-up.
        # accepted 2025-12-31, N=1: Sun Jan 4 make-up (1)
        (date(2025, 12, 31), 1, date(2026, 1, 4)),
        # accepted 2025-12-31, N=3: Sun Jan 4 make-up (1), Mon Jan 5 (2), Tue Jan 6 (3)
        (date(2025, 12, 31), 3, date(2026, 1, 6)),
        # Spring Festival: Sat Feb 14 make-up, Feb 15–23 off, Sat Feb 28 make-up.
        # from Fri Feb 13, N=1: Sat Feb 14 make-up (1)
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        # from Fri Feb 13, N=2: Sat Feb 14 (1), [Feb 15–23 off], Tue Feb 24 (2)
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        # from Thu Feb 12, N=5: Fri 13 (1), Sat 14 (2), Tue 24 (3), Wed 25 (4), Thu 26 (5)
        (date(2026, 2, 12), 5, date(2026, 2, 26)),
        # from Thu Feb 12, N=7: ... Thu 26 (5), Fri 27 (6), Sat Feb 28 make-up (7)
        (date(2026, 2, 12), 7, date(2026, 2, 28)),
        # from Thu Feb 12, N=8: ... Sat Feb 28 (7), [Sun Mar 1], Mon Mar 2 (8)
        (date(2026, 2, 12), 8, date(2026, 3, 2)),
        # Qingming: Apr 4–6 off. from Fri Apr 3, N=1: Tue Apr 7 (1)
        (date(2026, 4, 3), 1, date(2026, 4, 7)),
        # Labour Day: May 1–5 off, Sat May 9 make-up.
        # from Thu Apr 30, N=1: [May 1–5 off], Wed May 6 (1)
        (date(2026, 4, 30), 1, date(2026, 5, 6)),
        # from Thu Apr 30, N=4: Wed May 6 (1), Thu 7 (2), Fri 8 (3), Sat May 9 make-up (4)
        (date(2026, 4, 30), 4, date(2026, 5, 9)),
        # from Thu Apr 30, N=5: ... Sat May 9 (4), [Sun 10], Mon May 11 (5)
        (date(2026, 4, 30), 5, date(2026, 5, 11)),
        # Dragon Boat: Jun 19–21 off. from Thu Jun 18, N=1: Mon Jun 22 (1)
        (date(2026, 6, 18), 1, date(2026, 6, 22)),
        # Mid-Autumn: Sun Sep 20 make-up, Sep 25–27 off.
        # from Fri Sep 18, N=1: [Sat 19], Sun Sep 20 make-up (1)
        (date(2026, 9, 18), 1, date(2026, 9, 20)),
        # from Thu Sep 24, N=1: [Sep 25–27 off], Mon Sep 28 (1)
        (date(2026, 9, 24), 1, date(2026, 9, 28)),
        # National Day: Oct 1–7 off, Sat Oct 10 make-up.
        # spec example: from Wed Sep 30, N=3: Thu Oct 8 (1), Fri Oct 9 (2), Sat Oct 10 make-up (3)
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        # from Wed Sep 30, N=4: Oct 8 (1), 9 (2), Sat 10 (3), [Sun 11], Mon Oct 12 (4)
        (date(2026, 9, 30), 4, date(2026, 10, 12)),
        # from Tue Sep 29, N=2: Wed Sep 30 (1), [Oct 1–7 off], Thu Oct 8 (2)
        (date(2026, 9, 29), 2, date(2026, 10, 8)),
        # the OVERDUE example: red after due(3) from Fri 2026-06-05: Mon 8 (1), Tue 9 (2), Wed 10 (3)
        (date(2026, 6, 5), 3, date(2026, 6, 10)),
    ],
)
def test_add_workdays_across_2026_holidays(cal: WorkCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_workdays(start, n) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # the start day itself is never counted, whatever kind of day it is
        # from a holiday Sat Oct 3, N=1: Thu Oct 8 (1)
        (date(2026, 10, 3), 1, date(2026, 10, 8)),
        # from a make-up Sat Oct 10, N=1: [Sun 11], Mon Oct 12 (1)
        (date(2026, 10, 10), 1, date(2026, 10, 12)),
        # from an ordinary Sat Jun 6, N=1: [Sun 7], Mon Jun 8 (1)
        (date(2026, 6, 6), 1, date(2026, 6, 8)),
        # from an ordinary Wed Jun 3, N=1: Thu Jun 4 (1)
        (date(2026, 6, 3), 1, date(2026, 6, 4)),
    ],
)
def test_add_workdays_does_not_count_the_start_day(cal: WorkCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_workdays(start, n) == expected


# -- n = 0 and negative n ----------------------------------------------------------------------
@pytest.mark.parametrize("start", [date(2026, 6, 3), date(2026, 10, 3), date(2026, 6, 6), date(2026, 10, 10)])
def test_add_workdays_zero_returns_start_even_on_a_day_off(cal: WorkCalendar, start: date) -> None:
    assert cal.add_workdays(start, 0) == start


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # last working day before Thu Oct 8: [Oct 1–7 off], Wed Sep 30
        (date(2026, 10, 8), -1, date(2026, 9, 30)),
        # last working day before a holiday Sat Oct 3: Wed Sep 30
        (date(2026, 10, 3), -1, date(2026, 9, 30)),
        # last working day before Mon Oct 12: [Sun 11], Sat Oct 10 make-up
        (date(2026, 10, 12), -1, date(2026, 10, 10)),
        # before Tue Feb 24: [Feb 15–23 off], Sat Feb 14 make-up (-1), Fri Feb 13 (-2)
        (date(2026, 2, 24), -1, date(2026, 2, 14)),
        (date(2026, 2, 24), -2, date(2026, 2, 13)),
        # before Mon Jan 5: Sun Jan 4 make-up (-1), [Jan 1–3 off], Wed 2025-12-31 (-2)
        (date(2026, 1, 5), -1, date(2026, 1, 4)),
        (date(2026, 1, 5), -2, date(2025, 12, 31)),
        # before Thu Jun 4: Wed Jun 3 (-1); the DUE_SOON day of a case due 2026-06-04
        (date(2026, 6, 4), -1, date(2026, 6, 3)),
    ],
)
def test_add_workdays_negative_counts_backwards(cal: WorkCalendar, start: date, n: int, expected: date) -> None:
    assert cal.add_workdays(start, n) == expected


# -- workdays_between --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # (Sep 29, Oct 9]: Wed Sep 30, Thu Oct 8, Fri Oct 9 = 3
        (date(2026, 9, 29), date(2026, 10, 9), 3),
        # (Sep 30, Oct 7]: all holidays = 0
        (date(2026, 9, 30), date(2026, 10, 7), 0),
        # (Feb 13, Feb 28]: Sat 14, Tue 24, Wed 25, Thu 26, Fri 27, Sat 28 = 6
        (date(2026, 2, 13), date(2026, 2, 28), 6),
        # (Dec 31 2025, Jan 4]: Sun Jan 4 make-up = 1
        (date(2025, 12, 31), date(2026, 1, 4), 1),
        # same day and reversed: 0
        (date(2026, 6, 3), date(2026, 6, 3), 0),
        (date(2026, 6, 10), date(2026, 6, 3), 0),
    ],
)
def test_workdays_between_counts_after_start_up_to_end(cal: WorkCalendar, a: date, b: date, expected: int) -> None:
    assert cal.workdays_between(a, b) == expected


# -- sources: synced over built-in, fallback, reporting ---------------------------------------
def test_synced_year_overrides_builtin_data() -> None:
    extra = YearTable(2026, holidays=HOLIDAYS_2026 | {date(2026, 6, 22)}, workdays=MAKEUP_2026)
    c = WorkCalendar(synced=[extra])  # built-in data is on
    assert c.source(2026) is YearSource.SYNCED
    assert c.source(2025) is YearSource.BUILTIN
    assert not c.is_workday(date(2026, 6, 22))
    # from Thu Jun 18, N=1: [Jun 19–21 off, Mon Jun 22 off (synced)], Tue Jun 23 (1)
    assert c.add_workdays(date(2026, 6, 18), 1) == date(2026, 6, 23)
    # the built-in calendar alone still says Mon Jun 22
    assert WorkCalendar().add_workdays(date(2026, 6, 18), 1) == date(2026, 6, 22)


def test_synced_year_replaces_the_whole_builtin_year() -> None:
    c = WorkCalendar(synced=[YearTable(2026, holidays=frozenset({date(2026, 6, 22)}))])
    # Oct 1 (Thu) is a holiday only in the built-in data, which the synced year replaces
    assert c.is_workday(date(2026, 10, 1))
    assert not c.is_workday(date(2026, 10, 10))  # Sat, no make-up in the synced table


def test_from_records_builds_synced_years() -> None:
    c = WorkCalendar.from_records({2026: (HOLIDAYS_2026, MAKEUP_2026)})
    assert c.source(2026) is YearSource.SYNCED
    assert c.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)


@pytest.mark.parametrize(
    ("make", "year"),
    [
        # no synced 2027 and built-in data switched off
        (lambda: WorkCalendar(builtin=False, synced=[TABLE_2026]), 2027),
        # chinese_calendar has no data this far ahead
        (WorkCalendar, 2031),
    ],
)
def test_year_without_data_falls_back_to_weekends_and_is_reported(make: Callable[[], WorkCalendar], year: int) -> None:
    c: WorkCalendar = make()
    assert c.fallback_years == frozenset()
    assert c.source(year) is YearSource.FALLBACK
    # weekends only: Jan 1 is a working day unless it is a Saturday or Sunday
    jan1 = date(year, 1, 1)
    assert c.is_workday(jan1) == (jan1.weekday() < 5)
    assert c.fallback_years == frozenset({year})


def test_due_date_into_a_year_without_data_counts_weekends_only_and_reports_it() -> None:
    c = WorkCalendar(builtin=False, synced=[TABLE_2026])
    assert c.fallback_years == frozenset()
    # 2027-01-01 is a Friday. from Thu 2026-12-31, N=1: Fri 2027-01-01 (1) (no holiday known)
    assert c.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 1)
    # N=2: Fri Jan 1 (1), [Sat 2, Sun 3], Mon Jan 4 (2)
    assert c.add_workdays(date(2026, 12, 31), 2) == date(2027, 1, 4)
    assert c.fallback_years == frozenset({2027})
    assert c.source(2027) is YearSource.FALLBACK


def test_workdays_between_into_a_year_without_data_reports_it() -> None:
    c = WorkCalendar(builtin=False, synced=[TABLE_2026])
    # (Dec 31 2026, Jan 5 2027]: Fri Jan 1, Mon Jan 4, Tue Jan 5 = 3
    assert c.workdays_between(date(2026, 12, 31), date(2027, 1, 5)) == 3
    assert 2027 in c.fallback_years


@pytest.mark.parametrize("cal_kind", ["builtin", "synced"])
def test_years_only_built_into_the_cache_are_not_reported(cal_kind: str) -> None:
    c = builtin_calendar() if cal_kind == "builtin" else synced_calendar()
    # counting forward from 2026 prepares later years internally, but no answer used them
    assert c.add_workdays(date(2026, 6, 1), 5) == date(2026, 6, 8)  # Jun 2,3,4,5 (1-4), Mon 8 (5)
    assert c.workdays_between(date(2026, 6, 1), date(2026, 6, 8)) == 5
    assert c.is_workday(date(2026, 6, 8))
    assert c.fallback_years == frozenset()
    # asking about 2028 reports 2028 only, not 2027 that lies in the cache as well
    assert c.is_workday(date(2028, 3, 1))  # a Wednesday
    assert c.fallback_years == frozenset({2028})


def test_negative_count_into_earlier_cached_years_is_not_reported() -> None:
    c = synced_calendar()
    # prepares 2024–2026 internally; the answer lies in 2026
    assert c.add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert c.fallback_years == frozenset()


def test_year_table_rejects_dates_outside_its_year_and_double_listing() -> None:
    with pytest.raises(ValueError, match="2026-12-31"):
        YearTable(2027, holidays=frozenset({date(2026, 12, 31)}))
    with pytest.raises(ValueError, match="2026-10-10"):
        YearTable(2026, holidays=frozenset({date(2026, 10, 10)}), workdays=frozenset({date(2026, 10, 10)}))


# -- properties ------------------------------------------------------------------------------
DATES = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 12, 31))
COUNTS = st.integers(min_value=0, max_value=60)
BUILTIN = WorkCalendar()  # read-only queries; shared across examples


@st.composite
def year_tables(draw: st.DrawFn, year: int) -> YearTable:
    in_year = st.dates(min_value=date(year, 1, 1), max_value=date(year, 12, 31))
    holidays = draw(st.frozensets(in_year, max_size=40))
    weekends = in_year.filter(lambda d: d.weekday() >= 5)
    workdays = draw(st.frozensets(weekends, max_size=10)) - holidays
    return YearTable(year, holidays=holidays, workdays=workdays)


SYNCED_TABLES = st.tuples(year_tables(2024), year_tables(2025), year_tables(2026))


def _naive_is_workday(d: date, tables: dict[int, YearTable]) -> bool:
    t = tables.get(d.year)
    if t is not None and d in t.workdays:
        return True
    if t is not None and d in t.holidays:
        return False
    return d.weekday() < 5


def _naive_add(start: date, n: int, tables: dict[int, YearTable]) -> date:
    d = start
    while n > 0:
        d += timedelta(days=1)
        if _naive_is_workday(d, tables):
            n -= 1
    return d


@given(DATES, COUNTS, COUNTS)
def test_builtin_due_date_never_earlier_when_n_grows(start: date, n1: int, n2: int) -> None:
    lo, hi = sorted((n1, n2))
    assert BUILTIN.add_workdays(start, lo) <= BUILTIN.add_workdays(start, hi)
    if lo < hi:
        assert BUILTIN.add_workdays(start, lo) < BUILTIN.add_workdays(start, hi)


@given(DATES, COUNTS)
def test_builtin_workdays_between_inverts_add_workdays(start: date, n: int) -> None:
    assert BUILTIN.workdays_between(start, BUILTIN.add_workdays(start, n)) == n


@given(DATES, st.integers(min_value=1, max_value=60))
def test_builtin_add_workdays_lands_on_a_working_day_and_back(start: date, n: int) -> None:
    due = BUILTIN.add_workdays(start, n)
    assert BUILTIN.is_workday(due)
    # the last working day before the day after `due` is `due` itself
    assert BUILTIN.add_workdays(due + timedelta(days=1), -1) == due


@given(SYNCED_TABLES, DATES, COUNTS, COUNTS)
def test_synced_random_table_due_date_never_earlier_when_n_grows(
    tables: tuple[YearTable, ...], start: date, n1: int, n2: int
) -> None:
    c = WorkCalendar(builtin=False, synced=tables)
    lo, hi = sorted((n1, n2))
    assert c.add_workdays(start, lo) <= c.add_workdays(start, hi)


@given(SYNCED_TABLES, DATES, COUNTS)
def test_synced_random_table_workdays_between_inverts_add_workdays(
    tables: tuple[YearTable, ...], start: date, n: int
) -> None:
    c = WorkCalendar(builtin=False, synced=tables)
    assert c.workdays_between(start, c.add_workdays(start, n)) == n


@given(SYNCED_TABLES, DATES, COUNTS)
def test_synced_random_table_agrees_with_day_by_day_count(tables: tuple[YearTable, ...], start: date, n: int) -> None:
    by_year = {t.year: t for t in tables}
    c = WorkCalendar(builtin=False, synced=tables)
    assert c.add_workdays(start, n) == _naive_add(start, n, by_year)
    assert c.is_workday(start) == _naive_is_workday(start, by_year)
