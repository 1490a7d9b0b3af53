"""The working-day calendar (supervision-rules.md, "Working-day calendar").

A date is a working day when it is Monday–Friday and not an official holiday, or a weekend day
that is an official make-up working day (调休上班). Sources, later wins: the built-in tables of
``chinese_calendar`` (State Council notices), then ``calendar`` records synced from the server,
each of which replaces the whole year it names. A year with data from neither source falls back
to weekends-only, and the calendar remembers that it did so the UI can say so.

Working days are kept as a sorted array of ordinals so that "the N-th working day after d" and
"working days between a and b" are binary searches: the rule engine asks this for every case.
"""

from __future__ import annotations

import logging
import threading
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

log = logging.getLogger(__name__)


class YearSource(StrEnum):
    """Where the calendar took a year's holidays from."""

    SYNCED = "synced"
    BUILTIN = "builtin"
    FALLBACK = "weekends-only"


@dataclass(frozen=True, slots=True)
class YearTable:
    """The official deviations from the weekend rule for one year."""

    year: int
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for d in self.holidays | self.workdays:
            if d.year != self.year:
                raise ValueError(f"calendar {self.year}: date {d.isoformat()} is not in that year")
        both = self.holidays & self.workdays
        if both:
            first = min(both).isoformat()
            raise ValueError(f"calendar {self.year}: {first} is listed both as a holiday and a workday")


def _builtin_year(year: int) -> YearTable | None:
    """The ``chinese_calendar`` table for a year, or None when the library has no data for it."""
    try:
        chinese_calendar.is_holiday(date(year, 1, 1))
    except NotImplementedError:
        return None
    hol = frozenset(d for d in chinese_calendar.holidays if d.year == year)
    work = frozenset(d for d in chinese_calendar.workdays if d.year == year)
    # The library lists weekend days inside holiday periods as holidays too; keep only what
    # deviates from the weekend rule so the table means the same as a synced one.
    return YearTable(year, frozenset(d for d in hol if d.weekday() < 5), frozenset(work))


class WorkCalendar:
    """Answers working-day questions for any date. Thread-safe; cheap to query."""

    # Ordinal arrays are built a few years at a time; a due date never lies further ahead than
    # this many years past the date it is counted from (legal limits are at most a few months).
    _SPAN_YEARS = 2

    def __init__(self, synced: Iterable[YearTable] = (), *, builtin: bool = True) -> None:
        self._synced: dict[int, YearTable] = {t.year: t for t in synced}
        self._builtin = builtin
        self._tables: dict[int, tuple[YearSource, YearTable]] = {}
        self._fallback_years: set[int] = set()
        self._checked_years: set[int] = set()
        self._memo: dict[tuple[date, int], date] = {}
        self._ords: list[int] = []
        self._first_year = 0
        self._last_year = -1
        self._lock = threading.Lock()

    @classmethod
    def from_records(cls, records: Mapping[int, tuple[Iterable[date], Iterable[date]]]) -> WorkCalendar:
        """Build from synced ``calendar`` records: ``{year: (holidays, workdays)}``."""
        return cls(YearTable(y, frozenset(h), frozenset(w)) for y, (h, w) in records.items())

    # -- per-year data ------------------------------------------------------------------------
    def _table(self, year: int) -> tuple[YearSource, YearTable]:
        got = self._tables.get(year)
        if got is not None:
            return got
        synced = self._synced.get(year)
        if synced is not None:
            got = (YearSource.SYNCED, synced)
        else:
            builtin = _builtin_year(year) if self._builtin else None
            if builtin is not None:
                got = (YearSource.BUILTIN, builtin)
            else:
                got = (YearSource.FALLBACK, YearTable(year))
        self._tables[year] = got
        return got

    def _used(self, first_year: int, last_year: int) -> None:
        """Note that an answer depended on these years; remember those counted weekends-only."""
        for y in range(first_year, last_year + 1):
            if y in self._checked_years:
                continue
            with self._lock:
                src = self._table(y)[0]
                if src is YearSource.FALLBACK:
                    self._fallback_years.add(y)
                self._checked_years.add(y)
            if src is YearSource.FALLBACK:
                log.info("no official holiday data for %d: counting weekends only", y)

    def source(self, year: int) -> YearSource:
        """Where the data for ``year`` comes from (FALLBACK: weekends only)."""
        with self._lock:
            return self._table(year)[0]

    @property
    def fallback_years(self) -> frozenset[int]:
        """Years this calendar had to count with weekends only, because nobody gave data."""
        with self._lock:
            return frozenset(self._fallback_years)

    def is_workday(self, d: date) -> bool:
        with self._lock:
            _, t = self._table(d.year)
        self._used(d.year, d.year)
        if d in t.workdays:
            return True
        if d in t.holidays:
            return False
        return d.weekday() < 5

    # -- ordinal array ----------------------------------------------------------------------
    def _ensure(self, first_year: int, last_year: int) -> list[int]:
        """Make the ordinal array cover [first_year, last_year]; returns it."""
        with self._lock:
            if self._last_year >= self._first_year and (
                first_year >= self._first_year and last_year <= self._last_year
            ):
                return self._ords
            lo = first_year if self._last_year < self._first_year else min(first_year, self._first_year)
            hi = last_year if self._last_year < self._first_year else max(last_year, self._last_year)
            ords: list[int] = []
            for y in range(lo, hi + 1):
                _, t = self._table(y)
                d = date(y, 1, 1)
                end = date(y, 12, 31)
                one = timedelta(days=1)
                while d <= end:
                    if d in t.workdays or (d.weekday() < 5 and d not in t.holidays):
                        ords.append(d.toordinal())
                    d += one
            self._ords, self._first_year, self._last_year = ords, lo, hi
            return ords

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself is not counted).

        ``n == 0`` gives ``start``. Negative ``n`` counts backwards: ``-1`` is the last working
        day before ``start``. Answers are memoised: the rule engine asks the same few thousand
        questions for a hundred thousand cases.
        """
        if n == 0:
            return start
        key = (start, n)
        got = self._memo.get(key)
        if got is not None:
            return got
        span = self._SPAN_YEARS + abs(n) // 200
        lo, hi = (start.year, start.year + span) if n > 0 else (start.year - span, start.year)
        ords = self._ensure(lo, hi)
        o = start.toordinal()
        i = bisect_right(ords, o) + n - 1 if n > 0 else bisect_right(ords, o - 1) + n
        if not 0 <= i < len(ords):  # pragma: no cover - spans are sized for any real limit
            raise ValueError(f"{n} working days from {start.isoformat()} is outside the calendar")
        result = date.fromordinal(ords[i])
        self._used(min(start.year, result.year), max(start.year, result.year))
        if len(self._memo) > 200_000:
            self._memo.clear()
        self._memo[key] = result
        return result

    def workdays_between(self, start: date, end: date) -> int:
        """How many working days ``d`` with ``start < d <= end`` (0 when ``end <= start``)."""
        if end <= start:
            return 0
        ords = self._ensure(start.year, end.year)
        self._used(start.year, end.year)
        return bisect_right(ords, end.toordinal()) - bisect_right(ords, start.toordinal())
