"""Is a warning in force? The server asks the same rules the terminals use, on its own records.

A ``warning.*`` action names a warning by key. The server evaluates that key's subject with
``supervision.rules`` at the instant the operator acted (the action's ``at``: the terminal derived
the warning from the same records at that instant) and learns when the warning reached its
current level — the *episode* the action belongs to (a yellow that turned red, or a seat left
empty again, is a new episode that starts from active again, as on the terminals).

``POST_LEFT`` comes from camera analytics that may run only on the terminal: when the server has
no ``seat_vacancy`` records that show it, the warning cannot be checked and is accepted if its
window exists (``Verdict.checked`` is then False).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, select

from supervision.calendar import WorkCalendar, YearTable
from supervision.duedates import DEFAULT_ZONE
from supervision.model import Case, CaseType, SeatVacancy, Ticket
from supervision.records import CalendarData, CaseData, CaseTypeData, RuleSetData, SeatVacancyData, TicketData
from supervision.rules import Code, DerivedWarning, Evaluator, RuleSet, seat_warning, ticket_warning
from supervision.snapshot import is_dispose
from sync.server.schema import records
from sync.server.scope import split_warning_key, subject_types

log = logging.getLogger(__name__)

TZ = ZoneInfo(DEFAULT_ZONE)


@dataclass(frozen=True, slots=True)
class Verdict:
    subject_type: str | None  # None: no such subject on the server
    subject_path: str | None
    in_force: bool  # the rules raise it at that instant (or it cannot be checked: see ``checked``)
    checked: bool
    level_since: datetime | None = None


def year_table(data: CalendarData) -> YearTable:
    return YearTable(data.year, frozenset(data.holidays), frozenset(data.workdays))


def rule_set(data: RuleSetData) -> RuleSet:
    return RuleSet.from_record([r.model_dump() for r in data.rules], data.weights)


class Judge:
    """Evaluates single warnings against the server's records. Thread-safe."""

    def __init__(self, tz: ZoneInfo = TZ) -> None:
        self.tz = tz
        self._lock = threading.Lock()
        self._basis_key: tuple[Any, ...] | None = None
        self._basis: tuple[WorkCalendar, RuleSet] | None = None

    # -- calendar and rules, rebuilt only when their records change ----------------------------
    def basis(self, s: Connection) -> tuple[WorkCalendar, RuleSet]:
        rows = s.execute(
            select(records.c.type, records.c.id, records.c.version, records.c.deleted, records.c.data)
            .where(records.c.type.in_(("calendar", "rule_set")))
            .order_by(records.c.type, records.c.id)
        ).all()
        key = tuple((r.type, r.id, r.version, r.deleted) for r in rows)
        with self._lock:
            if self._basis is not None and key == self._basis_key:
                return self._basis
        tables = []
        rules = RuleSet()
        newest: tuple[int, str] | None = None
        for r in rows:
            if r.deleted or r.data is None:
                continue
            if r.type == "calendar":
                tables.append(year_table(CalendarData.model_validate_json(r.data)))
            # The rule set in force is the newest by version (then id), as on the terminals.
            elif newest is None or (-r.version, r.id) < newest:
                newest = (-r.version, r.id)
                rules = rule_set(RuleSetData.model_validate_json(r.data))
        built = (WorkCalendar(tables), rules)
        with self._lock:
            self._basis_key, self._basis = key, built
        return built

    # -- one warning ------------------------------------------------------------------------------
    def judge(self, s: Connection, key: str, at: datetime) -> Verdict:
        subject, code = split_warning_key(key)
        found: tuple[str, str, str] | None = None  # type, path, data
        for rtype in subject_types(code):
            row = s.execute(
                select(records.c.path, records.c.data).where(
                    and_(records.c.type == rtype, records.c.id == subject, records.c.deleted.is_(False))
                )
            ).first()
            if row is not None and row.path is not None and row.data is not None:
                found = (rtype, row.path, row.data)
                break
        if found is None:
            return Verdict(None, None, False, True)
        rtype, path, data = found
        try:
            c = Code(code)
        except ValueError:
            return Verdict(rtype, path, False, True)
        cal, rules = self.basis(s)
        warning: DerivedWarning | None = None
        if rtype == "case":
            warning = self._case_warning(s, subject, path, data, key, at, cal, rules)
        elif rtype == "ticket" and c is Code.WAIT_LONG:
            warning = ticket_warning(Ticket.from_data(subject, TicketData.model_validate_json(data)), at, rules)
        elif rtype == "window" and c is Code.POST_LEFT:
            if c not in rules.enabled:
                return Verdict(rtype, path, False, True)
            warning = self._seat_warning(s, path, at, cal, rules)
            if warning is None:
                # The server may not see the analytics that raised it: accept, unchecked.
                return Verdict(rtype, path, True, False)
        if warning is None or warning.key != key:
            return Verdict(rtype, path, False, True)
        return Verdict(rtype, path, True, True, warning.level_since or warning.since)

    def _case_warning(
        self,
        s: Connection,
        case_id: str,
        path: str,
        data: str,
        key: str,
        at: datetime,
        cal: WorkCalendar,
        rules: RuleSet,
    ) -> DerivedWarning | None:
        case = Case.from_data(case_id, CaseData.model_validate_json(data))
        ct_row = s.execute(
            select(records.c.data).where(
                and_(records.c.type == "case_type", records.c.id == case.case_type_id, records.c.deleted.is_(False))
            )
        ).first()
        if ct_row is None or ct_row.data is None:
            return None
        ctype = CaseType.from_data(case.case_type_id, CaseTypeData.model_validate_json(ct_row.data))
        ev = Evaluator(cal, self.tz, rules, {ctype.id: ctype})
        ev.set_cases([case])
        ev.disposed = self._disposal_times(s, path, key)
        for w in ev.evaluate(at, case_ids=[case_id]):
            if w.key == key:
                return w
        return None

    @staticmethod
    def _disposal_times(s: Connection, path: str, key: str) -> dict[str, list[datetime]]:
        """When ``warning.dispose`` actions on ``key`` happened (they stop an escalation)."""
        times: list[datetime] = []
        for (data,) in s.execute(
            select(records.c.data).where(
                and_(records.c.type == "disposition", records.c.path == path, records.c.deleted.is_(False))
            )
        ):
            d: Mapping[str, Any] = json.loads(data) if data else {}
            if d.get("warning") == key and is_dispose(d.get("action")) and isinstance(d.get("at"), str):
                times.append(datetime.fromisoformat(d["at"]))
        return {key: sorted(times)} if times else {}

    def _seat_warning(
        self, s: Connection, window_path: str, at: datetime, cal: WorkCalendar, rules: RuleSet
    ) -> DerivedWarning | None:
        best: DerivedWarning | None = None
        for rid, data in s.execute(
            select(records.c.id, records.c.data).where(
                and_(records.c.type == "seat_vacancy", records.c.path == window_path, records.c.deleted.is_(False))
            )
        ):
            v = SeatVacancy.from_data(rid, SeatVacancyData.model_validate_json(data))
            w = seat_warning(v, at, rules, cal, self.tz)
            if w is not None and (best is None or w.since < best.since):
                best = w
        return best
