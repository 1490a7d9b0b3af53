"""Simulated hall traffic for the reference server (``python -m sync.server --simulate``).

The simulator plays the hall's business systems — the queue machine (排队叫号), the case system
(办件), the evaluation pads (好差评), the 12345/民心网 complaint desk and the seat analytics — and
publishes what they would report, as changes ``{"type", "id", "op", "data"}`` to a
:class:`Publisher` (the central store), which assigns versions and seqs.

- ``bootstrap`` publishes the demo hall (``resources/demo/hall.json``) and a few working days of
  history from :mod:`supervision.demo` when the store has no org units yet. It then *adopts* what the
  store holds: waiting tickets are called, open cases move on, open complaints are handled — so a
  restarted simulator carries on where the last one stopped.
- ``step(until)`` is a discrete-event simulation up to simulated time ``until``. The hall is open in
  the office hours of the rule set (08:30–12:00, 13:30–17:30 by default) on working days of the
  calendar; closed time costs nothing to skip. Tickets arrive as a Poisson process whose rate peaks
  mid-morning and early afternoon; each window calls its department's queue in order; tickets are
  called, served, missed or transferred; served tickets become cases that move through their stages
  over working days, some suspended for 补正, a few late, charged the wrong fee or with a stage
  skipped, so that every warning rule of supervision-rules.md fires: on top of the demo history
  within a simulated day; from an empty hall within three working days (the shortest stage limit is
  two), except SUSPENDED_LONG, which needs thirty.
  Nothing happens outside opening hours: tickets still waiting when a session ends are cleared
  (status ``missed``), seats are not watched. Windows whose seats a camera's analytics watch
  (``watched``) get no invented absences: the camera's staff is the truth there, and the vacancies
  terminals report (``camera_id`` set) are never taken over.
- ``run(stop)`` bootstraps, then every second of real time advances simulated time by
  ``speed`` × the real time elapsed.

The output depends only on the seed, the start time (``clock()`` at construction) and what the store
held: every random draw happens while processing an event, in event order, so stepping in one call
or in many gives the same changes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import random
import re
import threading
import time as _time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from supervision import demo
from supervision.calendar import WorkCalendar, YearTable
from supervision.duedates import DEFAULT_ZONE, suspended_workdays
from supervision.model import CaseType
from supervision.records import (
    STAGE_RANK,
    CalendarData,
    CaseData,
    CaseTypeData,
    ComplaintData,
    EvaluationData,
    RuleSetData,
    SeatVacancyData,
    TicketData,
    WindowData,
)
from supervision.rules import DEFAULT_OFFICE_HOURS, RuleSet

log = logging.getLogger(__name__)

__all__ = ["Publisher", "Simulator"]


class Publisher(Protocol):
    """Where the simulator publishes: the central store (or a test double)."""

    def publish(self, changes: Sequence[Mapping[str, Any]]) -> int:
        """Store changes ``{"type", "id", "op", "data"}`` in order, each as a new version."""
        ...

    def current(self, type: str | None = None) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        """The live records (of one type, or all): ``(type, id) → (version, data)``."""
        ...


# -- how the hall behaves (probabilities are per ticket / case / window unless said otherwise) --------
_TICK_S = 1.0  # run(): real seconds between steps
_CHUNK = timedelta(hours=1)  # run(): the most simulated time one step covers (so stop is seen promptly)
_BATCH = 1000  # changes per publish call
_ISSUE_STOP = timedelta(minutes=30)  # 取号截止: no tickets in the last half hour of a session
_CALL_STOP = timedelta(minutes=15)  # windows call nobody in the last quarter hour
_SERVICE_END_MARGIN = timedelta(minutes=1)  # a service is squeezed to end this long before closing
_MEAN_SERVICE_MIN = 16.0  # average minutes a window spends on a ticket (call, walk up, serve, wrap up)
_LOAD = 0.85  # arrivals at peak relative to capacity (popularity varies per department around it)
_P_CONSULT = 0.15  # served without a case (咨询)
_P_MISSED = 0.04  # called but never came (过号)
_P_TRANSFER = 0.02  # wrong queue: transferred to another department (转办)
_P_REJECT = 0.02  # 不予受理 at the window
_P_WITHDRAW_AT_WINDOW = 0.015  # the applicant takes the application back before it is accepted
# Red cards are kept on record, so these stay rare: a few a day in the demo hall.
_P_WRONG_FEE = 0.008
_P_IMMEDIATE_LATE = 0.02  # a 即办件 not finished the same day (red at once: its legal limit is 0 days too)
_P_IMMEDIATE_SKIP = 0.015  # a 即办件 completed without `decided`
_P_LATE = 0.07  # completed one or two working days after the promised due date
_P_VERY_LATE = 0.015  # four to six days after: the yellow turns red
_P_STAGE_LATE = 0.2  # of types with stage_days: `handled` recorded a day after its limit
_P_SKIP = 0.02
_P_SUSPEND = 0.1
_P_WITHDRAW = 0.012
_P_DENY = 0.02  # 不予许可 after `decided`
_P_EVAL_AT_WINDOW = 0.7
_P_EVAL_AT_COMPLETION = 0.3
_P_COMPLAIN_WAIT = 0.1  # of tickets that waited more than half an hour
_P_COMPLAIN_BAD = 0.15  # of 1–2 grades
_P_COMPLAIN_FEE = 0.3
_P_PHONE_PER_DAY = 0.5
_P_SHORT_BREAK = 0.25  # per window and session: 3–12 minutes away
_LONG_ABSENCE_PER_WINDOW = 0.02  # per hall and session, × windows (at most 0.7): 17–32 minutes away
_AFTER_ACCEPT = ("handled", "reviewed", "decided", "completed")
_ID_RE = re.compile(r"^(C|E|CP|SV)-(\d{8})-(\d+)$")
_NUMBER_RE = re.compile(r"^([A-Za-z]*)(\d+)$")

_CORRECTIONS = (
    "补正：申请人补充提交身份证明及委托书",
    "补正：申请材料不齐全，一次性告知补齐营业执照副本",
    "补正：申请表签章不完整，退回申请人补正",
    "补正：需补交经审查合格的设计文件",
    "补正：房屋权属证明与登记簿记载不一致，需补充材料",
)
_SPECIAL = (
    "特别程序：组织专家评审",
    "特别程序：现场核查",
    "特别程序：依申请举行听证",
)
_PHONE = (
    "来电询问社会保障卡申领进度，希望加快制卡",
    "来电咨询企业开办所需材料，建议在网上公开办事指南",
    "来电反映大厅停车位紧张，建议增设临时车位",
    "来电询问不动产登记证书领取时间",
)


def _iso(t: datetime, zone: ZoneInfo) -> str:
    return t.astimezone(zone).isoformat(timespec="seconds")


def _busyness(t: datetime) -> float:
    """Arrivals relative to the peak (1.0): highest around 10:00 and 14:45, quiet at opening,
    at noon and late in the afternoon."""
    h = t.hour + t.minute / 60
    return 0.3 + 0.7 * max(math.exp(-(((h - 10.0) / 1.1) ** 2)), math.exp(-(((h - 14.75) / 1.1) ** 2)))


# -- simulated state --------------------------------------------------------------------------------
@dataclass(slots=True)
class _Window:
    id: str
    hall_id: str
    number: str
    department: str
    staff: str
    state: str = "closed"  # closed | idle | wrapping (about to call) | busy | away
    ticket: str | None = None
    vacancy: str | None = None
    pending_break: int = 0  # minutes away to take when the current service ends


@dataclass(slots=True)
class _Ticket:
    id: str
    hall_id: str
    number: str
    department: str
    case_type_id: str | None
    issued_at: datetime
    status: str = "waiting"
    called_at: datetime | None = None
    window_id: str | None = None
    case_id: str | None = None
    steps: deque[tuple[datetime, str]] = field(default_factory=deque)  # the service still to come
    late_case: bool = False  # a 即办件 finished the next working day

    def data(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "hall_id": self.hall_id,
            "number": self.number,
            "case_type_id": self.case_type_id,
            "issued_at": _iso(self.issued_at, zone),
            "called_at": None if self.called_at is None else _iso(self.called_at, zone),
            "window_id": self.window_id,
            "status": self.status,
        }


@dataclass(slots=True)
class _Case:
    id: str
    ctype: CaseType
    window_id: str | None
    ticket_id: str | None
    applicant: str
    submitted_at: datetime
    status: str
    stages: list[tuple[str, datetime, str | None]] = field(default_factory=list)
    suspensions: list[tuple[datetime, datetime | None, str | None]] = field(default_factory=list)
    fee_charged: Decimal | None = None
    completed_at: datetime | None = None
    plan: deque[tuple[datetime, str, str]] = field(default_factory=deque)  # (at, action, argument)

    @property
    def accepted_at(self) -> datetime | None:
        return next((t for s, t, _ in self.stages if s == "accepted"), None)

    def derive_status(self) -> str:
        if self.status in ("rejected", "withdrawn"):
            return self.status
        names = [s for s, _, _ in self.stages]
        if "completed" in names:
            return "completed"
        if any(to is None for _, to, _ in self.suspensions):
            return "suspended"
        if len(names) > 2:
            return "in_progress"
        return "accepted" if "accepted" in names else "submitted"

    def data(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "case_type_id": self.ctype.id,
            "window_id": self.window_id,
            "ticket_id": self.ticket_id,
            "applicant": self.applicant,
            "submitted_at": _iso(self.submitted_at, zone),
            "status": self.status,
            "stages": [{"stage": s, "at": _iso(t, zone), "by": by} for s, t, by in self.stages],
            "suspensions": [
                {"from": _iso(a, zone), "to": None if b is None else _iso(b, zone), "reason": r}
                for a, b, r in self.suspensions
            ],
            "fee_charged": None if self.fee_charged is None else str(self.fee_charged),
            "completed_at": None if self.completed_at is None else _iso(self.completed_at, zone),
        }


@dataclass(slots=True)
class _Complaint:
    id: str
    hall_id: str
    window_id: str | None
    case_id: str | None
    channel: str
    received_at: datetime
    about_at: datetime | None
    summary: str
    status: str = "open"

    def data(self, zone: ZoneInfo) -> dict[str, Any]:
        return {
            "hall_id": self.hall_id,
            "window_id": self.window_id,
            "case_id": self.case_id,
            "channel": self.channel,
            "received_at": _iso(self.received_at, zone),
            "about_at": None if self.about_at is None else _iso(self.about_at, zone),
            "summary": self.summary,
            "status": self.status,
        }


@dataclass(slots=True)
class _Hall:
    id: str
    departments: list[str]  # sorted
    windows: dict[str, list[_Window]]  # department → its windows here, by number
    weights: list[float]  # arrival share of each department
    peak_per_s: float  # arrivals per second at the busiest moment
    letters: dict[str, str]  # department → queue letter
    shared_letters: frozenset[str]  # letters another hall uses too (ticket ids then name the hall)


_Event = tuple[datetime, int, Callable[..., None], tuple[Any, ...]]


_M = TypeVar("_M", bound=BaseModel)


def _parse(model: type[_M], rtype: str, rid: str, data: Any) -> _M | None:
    """The record's data, or None (logged) if it does not validate: one bad record in the store
    must not stop the simulation."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        log.warning("simulator ignores %s %s: %s", rtype, rid, e.errors(include_url=False)[0]["msg"])
        return None


class Simulator:
    """Simulated hall traffic, published to ``store``. See the module notes."""

    def __init__(
        self,
        store: Publisher,
        *,
        speed: float = 60.0,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        hall: Path | None = None,
        tz: str = DEFAULT_ZONE,
        watched: Callable[[], Collection[str]] | None = None,
    ) -> None:
        """``watched()``: the windows whose staff seats a camera's analytics watch — asked each time a
        break would begin; the simulator invents no absence there (the camera's staff is the truth)."""
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed}")
        self.store = store
        self.speed = float(speed)
        self.seed = seed
        self.zone = ZoneInfo(tz)
        self._clock: Callable[[], datetime] = clock if clock is not None else (lambda: datetime.now(UTC))
        start = self._clock()
        if start.tzinfo is None:
            raise ValueError("the clock must give timezone-aware instants")
        self.now: datetime = start.astimezone(self.zone).replace(microsecond=0)
        self._hall_path = hall
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._started = False
        self._events: list[_Event] = []
        self._order = itertools.count()
        self._pending: list[dict[str, Any]] = []
        self._counters: dict[tuple[Any, ...], int] = {}
        self._session: tuple[datetime, datetime] | None = None
        self.cal = WorkCalendar()
        self.hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
        self.halls: dict[str, _Hall] = {}
        self.windows: dict[str, _Window] = {}
        self.case_types: dict[str, CaseType] = {}
        self._types_by_dept: dict[str, list[CaseType]] = {}
        self._queues: dict[tuple[str, str], deque[str]] = {}
        self._tickets: dict[str, _Ticket] = {}  # open ones
        self._cases: dict[str, _Case] = {}  # open ones
        self._complaints: dict[str, _Complaint] = {}  # open ones
        self._vacancies: dict[str, tuple[str, datetime]] = {}  # open ones: id → (window, started)
        self._watched = watched

    # -- public API ----------------------------------------------------------------------------------
    def bootstrap(self) -> int:
        """Publish the demo hall and its history if the store has no org units yet; then take over
        the open records the store holds. Returns the number of changes published."""
        with self._lock:
            published = self._flush()
            if not self.store.current("org_unit"):
                body = demo.load_hall(self._hall_path)
                history = demo.generate(self.now.date(), hall=body, seed=self.seed, tz=self.zone.key, now=self.now)
                self._pending.extend(
                    {"type": c["type"], "id": c["id"], "op": c.get("op", "upsert"), "data": c.get("data")}
                    for c in history["changes"]
                )
                n = self._flush()
                log.info("simulator: published the demo hall and its history up to %s (%d changes)", self.now, n)
                published += n
            self._start()
            published += self._flush()
            return published

    def step(self, until: datetime) -> int:
        """Advance the simulated hall to ``until``, publishing every change in order; returns how
        many changes were published."""
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")
        with self._lock:
            self._start()
            published = self._flush()  # what a failed publish left behind
            until = until.astimezone(self.zone)
            events = self._events
            while events and events[0][0] <= until:
                at, _, fn, args = heapq.heappop(events)
                if at > self.now:
                    self.now = at
                fn(*args)
                if len(self._pending) >= _BATCH:
                    published += self._flush()
            if until > self.now:
                self.now = until
            published += self._flush()
            return published

    def run(self, stop: threading.Event) -> None:
        """Bootstrap, then advance ``speed`` × the real time elapsed, about every second, until
        ``stop`` is set. Errors are logged and retried on the next tick (nothing is lost: changes
        a failed publish did not take are published first next time)."""
        log.info("simulator: running at %g× simulated time from %s", self.speed, self.now.isoformat())
        delay = _TICK_S
        while not stop.is_set():
            try:
                self.bootstrap()
                break
            except Exception:
                log.exception("simulator: bootstrap failed; retrying in %.0f s", delay)
                if stop.wait(delay):
                    return
                delay = min(delay * 2, 60.0)
        last = _time.monotonic()
        delay = _TICK_S
        while not stop.wait(delay):
            now = _time.monotonic()
            target = self.now + timedelta(seconds=(now - last) * self.speed)
            last = now
            try:
                while self.now < target and not stop.is_set():
                    self.step(min(target, self.now + _CHUNK))
                delay = _TICK_S
            except Exception:
                log.exception("simulator: step to %s failed; retrying in %.0f s", target.isoformat(), delay)
                delay = min(delay * 2, 60.0)
        log.info("simulator: stopped at %s", self.now.isoformat())

    # -- publishing ----------------------------------------------------------------------------------
    def _emit(self, rtype: str, rid: str, data: dict[str, Any]) -> None:
        self._pending.append({"type": rtype, "id": rid, "op": "upsert", "data": data})

    def _flush(self) -> int:
        n = 0
        while self._pending:
            chunk = self._pending[:_BATCH]
            self.store.publish(chunk)
            del self._pending[: len(chunk)]
            n += len(chunk)
        return n

    # -- events --------------------------------------------------------------------------------------
    def _at(self, at: datetime, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._events, (max(at, self.now), next(self._order), fn, args))

    def _after(self, seconds: int, fn: Callable[..., None], *args: Any) -> None:
        self._at(self.now + timedelta(seconds=seconds), fn, *args)

    # -- calendar and opening hours --------------------------------------------------------------------
    def _local(self, t: datetime) -> date:
        return t.astimezone(self.zone).date()

    def _sessions(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.cal.is_workday(d):
            return []
        z = self.zone
        return [(datetime.combine(d, a, tzinfo=z), datetime.combine(d, b, tzinfo=z)) for a, b in self.hours]

    def _session_at(self, t: datetime) -> tuple[datetime, datetime] | None:
        for s, e in self._sessions(self._local(t)):
            if s <= t < e:
                return s, e
        return None

    def _next_session(self, t: datetime) -> tuple[datetime, datetime]:
        """The first session starting at or after ``t``."""
        d = self._local(t)
        for _ in range(400):
            for s, e in self._sessions(d):
                if s >= t:
                    return s, e
            d += timedelta(days=1)
        raise RuntimeError(f"no working day within 400 days of {t.isoformat()}")

    def _last_close(self, t: datetime) -> datetime:
        """The end of the session ``t`` is in, or of the last one before it."""
        d = self._local(t)
        for _ in range(400):
            ends = [e for s, e in self._sessions(d) if s <= t]
            if ends:
                return ends[-1]
            d -= timedelta(days=1)
        return t

    def _workday_on_or_after(self, d: date) -> date:
        return d if self.cal.is_workday(d) else self.cal.add_workdays(d, 1)

    def _office_add(self, t: datetime, minutes: int) -> datetime:
        """``t`` moved on by ``minutes`` of opening hours (skipping breaks, nights, holidays)."""
        left = timedelta(minutes=minutes)
        while True:
            cur = self._session_at(t)
            if cur is None:
                cur = self._next_session(t)
                t = cur[0]
            if t + left < cur[1]:
                return t + left
            left -= cur[1] - t
            t = cur[1]

    def _office_time(self, d: date, margin: int = 10) -> datetime:
        """A random second within the opening hours of working day ``d`` (or the next one), at least
        ``margin`` minutes before a session ends."""
        spans = self._sessions(self._workday_on_or_after(d))
        lengths = [max(1, int((e - s).total_seconds()) - margin * 60) for s, e in spans]
        k = self._rng.randrange(sum(lengths))
        for (s, _), n in zip(spans, lengths, strict=True):
            if k < n:
                return s + timedelta(seconds=k)
            k -= n
        raise AssertionError("unreachable")  # pragma: no cover

    # -- ids -----------------------------------------------------------------------------------------
    def _next_no(self, *key: Any) -> int:
        n = self._counters.get(key, 0) + 1
        self._counters[key] = n
        return n

    def _day_id(self, prefix: str, t: datetime, width: int) -> str:
        d = self._local(t)
        return f"{prefix}-{d:%Y%m%d}-{self._next_no(prefix, d):0{width}d}"

    # -- start: the hall and what the store holds ------------------------------------------------------
    def _start(self) -> None:
        if self._started:
            return
        self._load_hall()
        self._started = True
        self._adopt()
        cur = self._session_at(self.now)
        if cur is not None:
            self._at(self.now, self._open, cur[0], cur[1])
        else:
            s, e = self._next_session(self.now)
            self._at(s, self._open, s, e)

    def _load_hall(self) -> None:
        current = self.store.current
        windows = current("window")
        types = current("case_type")
        rule_sets = current("rule_set")
        calendars = current("calendar")
        if not windows or not types:
            log.warning("simulator: the store has no windows or case types; simulating the demo hall file")
            records: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
            for c in demo.load_hall(self._hall_path)["changes"]:
                if c.get("op", "upsert") == "upsert":
                    records[(c["type"], c["id"])] = (int(c.get("version", 1)), c["data"])
            windows = {k: v for k, v in records.items() if k[0] == "window"}
            types = {k: v for k, v in records.items() if k[0] == "case_type"}
            rule_sets = rule_sets or {k: v for k, v in records.items() if k[0] == "rule_set"}
        tables = []
        for (rtype, rid), (_, data) in sorted(calendars.items()):
            cd = _parse(CalendarData, rtype, rid, data)
            if cd is not None:
                tables.append(YearTable(cd.year, frozenset(cd.holidays), frozenset(cd.workdays)))
        self.cal = WorkCalendar(tables)
        if rule_sets:
            (rtype, rid), (_, data) = max(rule_sets.items(), key=lambda kv: (kv[1][0], kv[0][1]))
            rs = _parse(RuleSetData, rtype, rid, data)
            if rs is not None:
                try:
                    self.hours = RuleSet.from_record([r.model_dump() for r in rs.rules], rs.weights).office_hours
                except ValueError as e:
                    log.warning("simulator: rule set %s unusable (%s); default opening hours", rid, e)
        for (rtype, rid), (_, data) in sorted(types.items()):
            ctd = _parse(CaseTypeData, rtype, rid, data)
            if ctd is not None:
                ct = CaseType.from_data(rid, ctd)
                self.case_types[rid] = ct
                self._types_by_dept.setdefault(ct.department, []).append(ct)
        parsed: list[tuple[str, WindowData]] = []
        for (rtype, rid), (_, data) in sorted(windows.items()):
            wd = _parse(WindowData, rtype, rid, data)
            if wd is not None:
                parsed.append((rid, wd))
        for i, (rid, wd) in enumerate(parsed):
            self.windows[rid] = _Window(rid, wd.hall_id, wd.number, wd.department, demo.staff_name(i))
        by_hall: dict[str, dict[str, list[_Window]]] = {}
        for w in self.windows.values():
            by_hall.setdefault(w.hall_id, {}).setdefault(w.department, []).append(w)
        letters_of: dict[str, set[str]] = {}
        for hall_id in sorted(by_hall):
            depts = by_hall[hall_id]
            names = sorted(depts)
            letters: dict[str, str] = {}
            weights: list[float] = []
            for dept in names:
                depts[dept].sort(key=lambda w: w.number)
                m = _NUMBER_RE.match(depts[dept][0].number)
                letters[dept] = (m.group(1).upper() if m and m.group(1) else "A")[:2]
                letters_of.setdefault(letters[dept], set()).add(hall_id)
                weights.append(len(depts[dept]) * self._rng.uniform(0.8, 1.2))  # some departments are busier
                self._queues[(hall_id, dept)] = deque()
            peak = sum(weights) * _LOAD / (_MEAN_SERVICE_MIN * 60)
            self.halls[hall_id] = _Hall(hall_id, names, depts, weights, peak, letters, frozenset())
        shared = frozenset(letter for letter, halls in letters_of.items() if len(halls) > 1)
        for h in self.halls.values():
            h.shared_letters = shared
        log.info(
            "simulator: %d halls, %d windows, %d case types; open %s on working days",
            len(self.halls),
            len(self.windows),
            len(self.case_types),
            ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in self.hours),
        )

    def _adopt(self) -> None:
        """Take over the open tickets, cases, complaints and seat vacancies in the store, continue
        the numbering of today's ids, and start no earlier than the latest recorded instant."""
        current = self.store.current
        latest = self.now
        z = self.zone

        def seen(*ts: datetime | None) -> None:
            nonlocal latest
            for t in ts:
                if t is not None and t > latest:
                    latest = t

        def count_id(rid: str) -> None:
            m = _ID_RE.match(rid)
            if m:
                key = (m.group(1), datetime.strptime(m.group(2), "%Y%m%d").date())
                self._counters[key] = max(self._counters.get(key, 0), int(m.group(3)))

        tickets: list[tuple[str, TicketData]] = []
        for (rtype, rid), (_, data) in sorted(current("ticket").items()):
            td = _parse(TicketData, rtype, rid, data)
            if td is None:
                continue
            seen(td.issued_at, td.called_at)
            m = _NUMBER_RE.match(td.number)
            if m:
                key = ("T", td.hall_id, m.group(1).upper(), self._local(td.issued_at))
                self._counters[key] = max(self._counters.get(key, 0), int(m.group(2)))
            if td.status in ("waiting", "called", "serving"):
                tickets.append((rid, td))
        cases: list[tuple[str, CaseData]] = []
        for (rtype, rid), (_, data) in sorted(current("case").items()):
            count_id(rid)
            cd = _parse(CaseData, rtype, rid, data)
            if cd is None:
                continue
            seen(cd.submitted_at, cd.completed_at, *(s.at for s in cd.stages))
            seen(*(s.from_ for s in cd.suspensions), *(s.to for s in cd.suspensions))
            if cd.status not in ("completed", "rejected", "withdrawn"):
                cases.append((rid, cd))
        for (rtype, rid), (_, data) in sorted(current("evaluation").items()):
            count_id(rid)
            ed = _parse(EvaluationData, rtype, rid, data)
            if ed is not None:
                seen(ed.at)
        complaints: list[tuple[str, ComplaintData]] = []
        for (rtype, rid), (_, data) in sorted(current("complaint").items()):
            count_id(rid)
            qd = _parse(ComplaintData, rtype, rid, data)
            if qd is None:
                continue
            seen(qd.received_at, qd.about_at)
            if qd.status != "closed":
                complaints.append((rid, qd))
        vacancies: list[tuple[str, SeatVacancyData]] = []
        for (rtype, rid), (_, data) in sorted(current("seat_vacancy").items()):
            count_id(rid)
            vd = _parse(SeatVacancyData, rtype, rid, data)
            if vd is None:
                continue
            seen(vd.started_at, vd.ended_at)
            # A vacancy a terminal's camera reported is that terminal's to end, not the simulator's.
            if vd.ended_at is None and vd.camera_id is None:
                vacancies.append((rid, vd))
        if latest > self.now:
            log.info("simulator: the store has records up to %s; starting there", latest.astimezone(z).isoformat())
            self.now = latest.astimezone(z).replace(microsecond=0) + timedelta(seconds=1)
        session = self._session_at(self.now)
        tickets.sort(key=lambda x: (x[1].issued_at, x[0]))  # queues are first come, first served
        for rid, td in tickets:
            self._adopt_ticket(rid, td, session)
        for rid, cd in cases:
            self._adopt_case(rid, cd)
        for rid, qd in complaints:
            q = _Complaint(
                rid,
                qd.hall_id,
                qd.window_id,
                qd.case_id,
                qd.channel,
                qd.received_at,
                qd.about_at,
                qd.summary,
                qd.status,
            )
            self._complaints[rid] = q
            self._plan_complaint(q)
        for rid, vd in vacancies:
            win = self.windows.get(vd.window_id)
            self._vacancies[rid] = (vd.window_id, vd.started_at)
            if session is not None and win is not None and win.state == "closed" and vd.started_at >= session[0]:
                win.state, win.vacancy = "away", rid  # still away: back in a few minutes
                self._after(self._rng.randint(3, 20) * 60, self._break_end, win.id, rid)
            elif session is not None and vd.started_at >= session[0]:  # back: the window is serving
                self._end_vacancy(rid, self.now)
            else:  # from a session that is over: the seat watch stopped when the hall closed
                self._end_vacancy(rid, max(vd.started_at, self._last_close(vd.started_at)))
        log.info(
            "simulator: took over %d open tickets, %d open cases, %d open complaints, %d empty seats",
            len(tickets),
            len(self._cases),
            len(complaints),
            len(vacancies),
        )

    def _adopt_ticket(self, rid: str, td: TicketData, session: tuple[datetime, datetime] | None) -> None:
        """A ticket of the running session goes back into its queue (or stays at its window); one from
        a session that is over is closed, as the queue machine does at closing time."""
        hall = self.halls.get(td.hall_id)
        win = self.windows.get(td.window_id or "")
        ct = self.case_types.get(td.case_type_id or "")
        dept = win.department if win is not None else ct.department if ct is not None else None
        if hall is not None and dept not in hall.windows and hall.departments:
            m = _NUMBER_RE.match(td.number)
            letter = m.group(1).upper() if m else ""
            dept = next((d for d in hall.departments if hall.letters[d] == letter), hall.departments[0])
        t = _Ticket(
            rid,
            td.hall_id,
            td.number,
            dept or "",
            td.case_type_id,
            td.issued_at,
            str(td.status),
            td.called_at,
            td.window_id,
        )
        live = session is not None and hall is not None and dept is not None and td.issued_at >= session[0]
        if live and td.status != "waiting":
            live = win is not None and win.state == "closed"  # a window serves one ticket at a time
        if not live:
            t.status = "done" if td.status == "serving" else "missed"
            self._emit("ticket", rid, t.data(self.zone))
            return
        self._tickets[rid] = t
        if td.status == "waiting":
            self._queues[(td.hall_id, t.department)].append(rid)
            return
        assert win is not None
        win.state, win.ticket = "busy", rid
        if td.status == "called":
            self._after(self._rng.randint(20, 90), self._arrive, rid)
        else:
            t.steps.append((self.now + timedelta(seconds=self._rng.randint(60, 360)), "done"))
            self._at(t.steps[0][0], self._service, rid)

    def _adopt_case(self, rid: str, cd: CaseData) -> None:
        ct = self.case_types.get(cd.case_type_id)
        if ct is None:
            return
        c = _Case(
            rid,
            ct,
            cd.window_id,
            cd.ticket_id,
            cd.applicant,
            cd.submitted_at,
            str(cd.status),
            [(str(s.stage), s.at, s.by) for s in cd.stages],
            [(s.from_, s.to, s.reason) for s in cd.suspensions],
            cd.fee_charged,
            cd.completed_at,
        )
        self._cases[rid] = c
        if c.accepted_at is None:  # submitted, not yet accepted: accept (or turn down) at the next chance
            t = self._office_add(max(self.now, c.submitted_at), self._rng.randint(2, 15))
            if c.fee_charged is None:
                c.fee_charged = ct.fee
            c.plan.append((t, "reject" if self._rng.random() < _P_REJECT else "stage", "accepted"))
            self._at(t, self._case_step, rid)
            return
        self._plan_case(c, self.now, fresh=False)

    # -- sessions --------------------------------------------------------------------------------------
    def _open(self, s: datetime, e: datetime) -> None:
        rng, now = self._rng, self.now
        self._session = (s, e)
        first_of_day = s == self._sessions(self._local(s))[0][0]
        for hall in self.halls.values():
            self._after(self._gap(hall), self._arrival, hall.id, e)
            for wins in hall.windows.values():
                for w in wins:
                    if w.state == "closed":
                        w.state = "wrapping"
                        self._after(rng.randint(0, 180), self._ready, w.id)
            room = int((e - _CALL_STOP - now).total_seconds())
            if room > 600:
                for wins in hall.windows.values():
                    for w in wins:
                        if rng.random() < _P_SHORT_BREAK:
                            self._after(rng.randrange(room), self._break, w.id, rng.randint(3, 12))
                n = sum(len(ws) for ws in hall.windows.values())
                if rng.random() < min(0.7, _LONG_ABSENCE_PER_WINDOW * n) and room > 2400:
                    w = rng.choice([w for d in hall.departments for w in hall.windows[d]])
                    self._after(rng.randrange(room - 2400), self._break, w.id, rng.randint(17, 32))
        if first_of_day and rng.random() < _P_PHONE_PER_DAY and self.halls:
            hall_id = rng.choice(sorted(self.halls))
            t = self._office_time(self._local(s), margin=30)
            if t > now:
                self._at(t, self._complaint_new, hall_id, None, None, "phone", None, rng.choice(_PHONE))
        self._at(e, self._close, s, e)

    def _close(self, s: datetime, e: datetime) -> None:
        z = self.zone
        for (_, _), q in sorted(self._queues.items()):
            while q:
                t = self._tickets.pop(q.popleft(), None)
                if t is not None:
                    t.status = "missed"  # 清号: nobody called it before closing
                    self._emit("ticket", t.id, t.data(z))
        for w in self.windows.values():
            if w.ticket is not None:
                t = self._tickets.pop(w.ticket, None)
                if t is not None:
                    t.status = "done" if t.status == "serving" else "missed"
                    t.steps.clear()
                    self._emit("ticket", t.id, t.data(z))
            if w.vacancy is not None:
                self._end_vacancy(w.vacancy, self.now)
            w.state, w.ticket, w.pending_break = "closed", None, 0
        self._session = None
        ns, ne = self._next_session(e)
        self._at(ns, self._open, ns, ne)

    # -- the queue ---------------------------------------------------------------------------------------
    def _gap(self, hall: _Hall) -> int:
        return max(1, round(self._rng.expovariate(hall.peak_per_s))) if hall.peak_per_s > 0 else 10**9

    def _arrival(self, hall_id: str, e: datetime) -> None:
        if self._session is None or self._session[1] != e or self.now >= e - _ISSUE_STOP:
            return
        hall = self.halls[hall_id]
        rng = self._rng
        if rng.random() < _busyness(self.now):  # thinning: a Poisson process with a varying rate
            dept = rng.choices(hall.departments, hall.weights)[0]
            self._issue(hall, dept)
        self._after(self._gap(hall), self._arrival, hall_id, e)

    def _issue(self, hall: _Hall, dept: str) -> None:
        rng = self._rng
        letter = hall.letters[dept]
        d = self._local(self.now)
        number = f"{letter}{self._next_no('T', hall.id, letter, d):03d}"
        tid = f"T-{d:%Y%m%d}-{number}" + (f"-{hall.id}" if letter in hall.shared_letters else "")
        types = self._types_by_dept.get(dept, [])
        ct = rng.choices(types, [3 if t.immediate else 1 for t in types])[0] if types else None
        t = _Ticket(tid, hall.id, number, dept, None if ct is None else ct.id, self.now)
        self._tickets[tid] = t
        self._queues[(hall.id, dept)].append(tid)
        self._emit("ticket", tid, t.data(self.zone))
        self._dispatch(hall, dept)

    def _dispatch(self, hall: _Hall, dept: str) -> None:
        if self._session is None or self.now > self._session[1] - _CALL_STOP:
            return
        q = self._queues[(hall.id, dept)]
        idle = [w for w in hall.windows[dept] if w.state == "idle"]
        while q and idle:
            w = idle.pop(self._rng.randrange(len(idle)))
            self._call(w, q.popleft())

    def _ready(self, window_id: str) -> None:
        w = self.windows[window_id]
        if w.state != "wrapping":
            return
        if self._session is None:
            w.state = "closed"
            return
        if w.pending_break:
            minutes, w.pending_break = w.pending_break, 0
            self._start_break(w, minutes)
            return
        q = self._queues[(w.hall_id, w.department)]
        if q and self.now <= self._session[1] - _CALL_STOP:
            self._call(w, q.popleft())
        else:
            w.state = "idle"

    def _release(self, w: _Window) -> None:
        w.ticket = None
        w.state = "wrapping"
        self._after(self._rng.randint(10, 60), self._ready, w.id)

    def _call(self, w: _Window, tid: str) -> None:
        t = self._tickets[tid]
        rng, now = self._rng, self.now
        t.status, t.called_at, t.window_id = "called", now, w.id
        w.state, w.ticket = "busy", tid
        self._emit("ticket", tid, t.data(self.zone))
        if rng.random() < _P_MISSED:
            self._after(rng.randint(150, 240), self._no_show, tid)
        else:
            self._after(rng.randint(20, 120), self._arrive, tid)
        waited = (now - t.issued_at).total_seconds() / 60
        if waited > 30 and rng.random() < _P_COMPLAIN_WAIT:
            about = t.issued_at
            summary = f"12345热线转办：群众反映在{w.number}窗口取号后等候约{waited:.0f}分钟才被叫号，要求增开窗口"
            at = self._office_add(now, rng.randint(60, 300))
            self._at(at, self._complaint_new, t.hall_id, w.id, None, "hotline", about, summary)

    def _no_show(self, tid: str) -> None:
        t = self._tickets.get(tid)
        if t is None or t.status != "called":
            return
        t.status = "missed"
        self._emit("ticket", tid, t.data(self.zone))
        del self._tickets[tid]
        if t.window_id is not None:
            self._release(self.windows[t.window_id])

    def _arrive(self, tid: str) -> None:
        """The applicant reached the window: serving. Plan the service (squeezed to end before closing)."""
        t = self._tickets.get(tid)
        if t is None or t.status != "called" or self._session is None:
            return
        rng = self._rng
        t.status = "serving"
        self._emit("ticket", tid, t.data(self.zone))
        hall = self.halls[t.hall_id]
        ct = self.case_types.get(t.case_type_id or "")
        steps: list[tuple[int, str]]
        if rng.random() < _P_TRANSFER and len(hall.departments) > 1:
            steps = [(rng.randint(120, 300), "transfer")]
        elif ct is None or rng.random() < _P_CONSULT:
            steps = [(rng.randint(180, 480), "done")]
        else:
            steps = [(rng.randint(60, 120), "submit")]
            r = rng.random()
            if r < _P_REJECT:
                steps += [(rng.randint(180, 420), "reject"), (rng.randint(60, 180), "done")]
            elif r < _P_REJECT + _P_WITHDRAW_AT_WINDOW:
                steps += [(rng.randint(120, 300), "withdraw"), (rng.randint(30, 90), "done")]
            elif ct.immediate:
                steps += [(rng.randint(120, 420), "accepted"), (rng.randint(60, 240), "handled")]
                if rng.random() < _P_IMMEDIATE_LATE:
                    t.late_case = True
                else:
                    skip = rng.random() < _P_IMMEDIATE_SKIP
                    steps += [(rng.randint(60, 120), "reviewed")]
                    if not skip:
                        steps += [(rng.randint(60, 120), "decided")]
                    steps += [(rng.randint(60, 180), "completed")]
                steps += [(rng.randint(60, 150), "done")]
            else:
                steps += [(rng.randint(300, 900), "accepted"), (rng.randint(120, 300), "done")]
        total = sum(s for s, _ in steps)
        room = (self._session[1] - _SERVICE_END_MARGIN - self.now).total_seconds()
        scale = min(1.0, max(room, 10.0 * len(steps)) / total)
        at = self.now
        for secs, action in steps:
            at += timedelta(seconds=max(5, int(secs * scale)))
            t.steps.append((at, action))
        self._at(t.steps[0][0], self._service, tid)

    def _service(self, tid: str) -> None:
        t = self._tickets.get(tid)
        if t is None or t.status != "serving" or not t.steps:
            return
        _, action = t.steps.popleft()
        w = self.windows[t.window_id or ""]
        z, rng, now = self.zone, self._rng, self.now
        c = self._cases.get(t.case_id or "")
        if action == "submit":
            ct = self.case_types[t.case_type_id or ""]
            cid = self._day_id("C", now, 4)
            c = _Case(cid, ct, w.id, tid, demo.applicant_name(rng, ct.name), now, "submitted")
            c.stages.append(("submitted", now, c.applicant))
            self._cases[cid] = c
            t.case_id = cid
            self._emit("case", cid, c.data(z))
        elif action in ("reject", "withdraw") and c is not None:
            c.status = "rejected" if action == "reject" else "withdrawn"  # 不予受理: the materials do not qualify
            self._emit("case", c.id, c.data(z))
            del self._cases[c.id]
        elif action in STAGE_RANK and c is not None:
            if action == "accepted":
                c.fee_charged = self._fee(c)
            self._record_stage(c, action)
            if c.status == "completed":
                del self._cases[c.id]
            elif action == "accepted" and not c.ctype.immediate:
                self._plan_case(c, now, fresh=True)
            elif action == "handled" and t.late_case:
                self._plan_case(c, now, fresh=True, next_day=True)
        elif action == "transfer":
            t.status = "transferred"
            self._emit("ticket", tid, t.data(z))
            del self._tickets[tid]
            self._release(w)
            if rng.random() < 0.7:  # most go to the right queue; some give up
                hall = self.halls[t.hall_id]
                self._issue(hall, rng.choice([d for d in hall.departments if d != t.department]))
            return
        elif action == "done":
            t.status = "done"
            self._emit("ticket", tid, t.data(z))
            del self._tickets[tid]
            if rng.random() < _P_EVAL_AT_WINDOW:
                self._evaluate(w.id, t.case_id, t.hall_id)
            self._release(w)
            return
        if t.steps:
            self._at(t.steps[0][0], self._service, tid)

    def _fee(self, c: _Case) -> Decimal:
        fee = c.ctype.fee
        if self._rng.random() >= _P_WRONG_FEE:
            return fee
        wrong = fee * 2 if fee > 0 else Decimal("20.00")  # twice the fee, or a 工本费 on a free service
        if self._rng.random() < _P_COMPLAIN_FEE and c.window_id is not None:
            hall = self.windows[c.window_id].hall_id
            at = self._office_time(self.cal.add_workdays(self._local(self.now), 1), margin=30)
            summary = f"民心网留言：办理{c.ctype.name}被收取{wrong}元，与公示收费标准不符，要求退还"
            self._at(at, self._complaint_new, hall, c.window_id, c.id, "web", self.now, summary)
        return wrong

    def _evaluate(self, window_id: str, case_id: str | None, hall_id: str) -> None:
        rng, now = self._rng, self.now
        grade = rng.choices(demo.GRADES, demo.GRADE_WEIGHTS)[0]
        eid = self._day_id("E", now, 4)
        self._emit(
            "evaluation", eid, {"window_id": window_id, "case_id": case_id, "at": _iso(now, self.zone), "grade": grade}
        )
        if grade <= 2 and rng.random() < _P_COMPLAIN_BAD and self._session is not None:
            at = now + timedelta(minutes=rng.randint(3, 15))
            if at < self._session[1]:
                summary = "现场反映窗口工作人员态度生硬，未一次性告知所需材料"
                self._at(at, self._complaint_new, hall_id, window_id, case_id, "onsite", now, summary)

    # -- cases in the back office ---------------------------------------------------------------------------
    def _by(self, c: _Case, stage: str) -> str | None:
        dept = c.ctype.department
        if stage == "reviewed":
            return demo.reviewer_name(dept)
        if stage == "decided":
            return demo.reviewer_name(dept + "局长")
        w = self.windows.get(c.window_id or "")
        return None if w is None else w.staff

    def _record_stage(self, c: _Case, stage: str) -> None:
        now = self.now
        c.stages.append((stage, now, self._by(c, stage)))
        if stage == "completed":
            c.completed_at = now
        c.status = c.derive_status()
        self._emit("case", c.id, c.data(self.zone))

    def _plan_case(self, c: _Case, start: datetime, *, fresh: bool, next_day: bool = False) -> None:
        """Plan the rest of a case's life (stages, a suspension, withdrawal) from ``start`` on, and
        schedule its first step. ``fresh``: just accepted, so any of the variants may happen."""
        rng, cal, ct = self._rng, self.cal, c.ctype
        recorded = [s for s, _, _ in c.stages]
        last_rank = max((STAGE_RANK.get(s, -1) for s in recorded), default=-1)
        remaining = [s for s in _AFTER_ACCEPT if STAGE_RANK[s] > last_rank]
        if not remaining:
            return
        last_t = max([start, *(t for _, t, _ in c.stages), *(b or a for a, b, _ in c.suspensions)])
        today = self._local(last_t)
        accepted_on = self._local(c.accepted_at or last_t)
        closed = [(a, b) for a, b, _ in c.suspensions if b is not None]
        extra = suspended_workdays(closed, cal, self.zone, accepted_on) if closed else 0
        promised = cal.add_workdays(accepted_on, (0 if ct.immediate else ct.promised_days) + extra)
        actions: list[tuple[date, str, str]] = []
        begin = self._workday_on_or_after(today)
        open_from = next((a for a, b, _ in c.suspensions if b is None), None)
        if open_from is not None:
            from_day = self._local(open_from)
            resume = cal.add_workdays(from_day, rng.randint(1, 5))
            if resume <= today:  # the applicant has not come back yet
                resume = cal.add_workdays(today, rng.randint(3, 15))
            actions.append((resume, "resume", ""))
            promised = cal.add_workdays(promised, cal.workdays_between(from_day, resume))
            begin = resume
        if next_day:
            done = cal.add_workdays(begin, 1)
        elif promised < begin:  # already late: finish it soon
            done = cal.add_workdays(begin, rng.randint(0, 2))
        else:
            r = rng.random()
            if r < _P_LATE:
                done = cal.add_workdays(promised, rng.randint(1, 2))
            elif r < _P_LATE + _P_VERY_LATE:
                done = cal.add_workdays(promised, rng.randint(4, 6))
            else:
                span = cal.workdays_between(begin, promised)
                # a 承诺件 is not finished the day it is accepted; most take a good part of their days
                lo = max(min(span, 1) if fresh else 0, span // 3)
                done = promised if rng.random() < 0.1 else cal.add_workdays(begin, rng.randint(lo, span))
        ending = "completed"
        suspend_before: int | None = None
        stage_late = False
        if fresh and not next_day:
            if rng.random() < _P_SKIP and "completed" in remaining:
                if "reviewed" in ct.stage_days and "reviewed" in remaining and rng.random() < 0.5:
                    remaining.remove("reviewed")
                elif "decided" in remaining:
                    remaining.remove("decided")
            stage_late = "handled" in ct.stage_days and "handled" in remaining and rng.random() < _P_STAGE_LATE
            if rng.random() < _P_SUSPEND and len(remaining) >= 2:
                # mostly early: materials found missing on the first review (补正)
                suspend_before = min(rng.randrange(0, len(remaining) - 1), rng.randrange(0, 2))
            r = rng.random()
            if r < _P_WITHDRAW:
                cut = rng.randrange(0, len(remaining))
                remaining, ending = remaining[:cut], "withdraw"
            elif r < _P_WITHDRAW + _P_DENY and "decided" in remaining:
                remaining, ending = remaining[: remaining.index("decided") + 1], "deny"
        prev = begin
        prev_stage_day = max(self._local(t) for _, t, _ in c.stages) if c.stages else begin
        shift = 0  # working days a suspension planned here adds to the next stage's limit
        for i, s in enumerate(remaining):
            if i == suspend_before:
                special = rng.random() < 0.2
                length = rng.randint(4, 10) if special else rng.choices((1, 2, 3, 4, 5), (35, 30, 20, 10, 5))[0]
                reason = rng.choice(_SPECIAL if special else _CORRECTIONS)
                actions.append((prev, "suspend", reason))
                resume = cal.add_workdays(prev, length)
                actions.append((resume, "resume", ""))
                prev, shift = resume, length
                done = cal.add_workdays(done, length)
            n = ct.stage_days.get(s)
            if s == "completed":
                d = max(done, prev)
            elif stage_late and s == "handled" and n is not None:
                d = cal.add_workdays(prev_stage_day, n + shift + 1)
                done = max(done, d)
            else:
                cap = done
                if n is not None:
                    cap = min(cap, cal.add_workdays(prev_stage_day, n + shift))
                d = prev if cap <= prev else cal.add_workdays(prev, rng.randint(0, cal.workdays_between(prev, cap)))
            actions.append((d, "stage", s))
            prev = prev_stage_day = d
            shift = 0
        if ending == "withdraw":
            actions.append((cal.add_workdays(prev, rng.randint(0, 2)), "withdraw", ""))
        elif ending == "deny":
            actions.append((prev, "deny", ""))
        # Times: the next action of the same day an office hour or so later; else any time that day.
        t_prev = last_t
        for d, action, arg in actions:
            if d <= self._local(t_prev):
                t = self._office_add(t_prev, rng.randint(10, 90))
            else:
                t = max(self._office_time(d), self._office_add(t_prev, 5))
            c.plan.append((t, action, arg))
            t_prev = t
        self._at(c.plan[0][0], self._case_step, c.id)

    def _case_step(self, cid: str) -> None:
        c = self._cases.get(cid)
        if c is None or not c.plan:
            return
        _, action, arg = c.plan.popleft()
        now, z = self.now, self.zone
        if action == "stage":
            self._record_stage(c, arg)
            if arg == "accepted":
                self._plan_case(c, now, fresh=not c.ctype.immediate)
                return
        elif action == "suspend":
            c.suspensions.append((now, None, arg))
            c.status = c.derive_status()
            self._emit("case", cid, c.data(z))
        elif action == "resume":
            c.suspensions = [(a, now if b is None else b, r) for a, b, r in c.suspensions]
            c.status = c.derive_status()
            self._emit("case", cid, c.data(z))
        elif action in ("withdraw", "deny", "reject"):
            c.status = "withdrawn" if action == "withdraw" else "rejected"
            c.plan.clear()
            self._emit("case", cid, c.data(z))
        if c.status in ("completed", "rejected", "withdrawn"):
            del self._cases[cid]
            if c.status == "completed" and c.window_id is not None and self._rng.random() < _P_EVAL_AT_COMPLETION:
                self._evaluate(c.window_id, cid, self.windows[c.window_id].hall_id)
            return
        if c.plan:
            self._at(c.plan[0][0], self._case_step, cid)

    # -- seats ---------------------------------------------------------------------------------------------
    def _is_watched(self, window_id: str) -> bool:
        if self._watched is None:
            return False
        try:
            return window_id in self._watched()
        except Exception:  # the terminal's view is unavailable: invent as before
            log.exception("simulator: cannot tell which seats cameras watch")
            return False

    def _break(self, window_id: str, minutes: int) -> None:
        w = self.windows[window_id]
        if self._session is None or w.state in ("closed", "away") or self._is_watched(window_id):
            return
        if w.state == "idle":
            self._start_break(w, minutes)
        elif not w.pending_break:
            w.pending_break = minutes  # once the current applicant is served

    def _start_break(self, w: _Window, minutes: int) -> None:
        vid = self._day_id("SV", self.now, 2)
        w.state, w.vacancy = "away", vid
        self._vacancies[vid] = (w.id, self.now)
        self._emit("seat_vacancy", vid, {"window_id": w.id, "started_at": _iso(self.now, self.zone), "ended_at": None})
        self._after(minutes * 60, self._break_end, w.id, vid)

    def _end_vacancy(self, vid: str, at: datetime) -> None:
        window_id, started = self._vacancies.pop(vid)
        z = self.zone
        data = {"window_id": window_id, "started_at": _iso(started, z), "ended_at": _iso(at, z)}
        self._emit("seat_vacancy", vid, data)
        w = self.windows.get(window_id)
        if w is not None and w.vacancy == vid:
            w.vacancy = None

    def _break_end(self, window_id: str, vid: str) -> None:
        w = self.windows[window_id]
        if w.vacancy != vid:
            return  # the session closed meanwhile
        self._end_vacancy(vid, self.now)
        w.state = "wrapping"
        self._ready(w.id)

    # -- complaints ----------------------------------------------------------------------------------------
    def _complaint_new(
        self,
        hall_id: str,
        window_id: str | None,
        case_id: str | None,
        channel: str,
        about_at: datetime | None,
        summary: str,
    ) -> None:
        qid = self._day_id("CP", self.now, 2)
        q = _Complaint(qid, hall_id, window_id, case_id, channel, self.now, about_at, summary)
        self._complaints[qid] = q
        self._emit("complaint", qid, q.data(self.zone))
        self._plan_complaint(q)

    def _plan_complaint(self, q: _Complaint) -> None:
        rng = self._rng
        nxt = "handling" if q.status == "open" else "closed"
        days = rng.randint(0, 1) if nxt == "handling" else rng.randint(1, 3)
        d = self.cal.add_workdays(self._local(self.now), days)
        at = self._office_add(self.now, rng.randint(30, 120)) if days == 0 else self._office_time(d)
        self._at(at, self._complaint_step, q.id, nxt)

    def _complaint_step(self, qid: str, status: str) -> None:
        q = self._complaints.get(qid)
        if q is None:
            return
        q.status = status
        self._emit("complaint", qid, q.data(self.zone))
        if status == "closed":
            del self._complaints[qid]
        else:
            self._plan_complaint(q)
