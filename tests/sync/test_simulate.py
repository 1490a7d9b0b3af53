"""The traffic simulator (sync/server/simulate.py), publishing into the reference server's real
central store, on SQLite and on PostgreSQL (every test that publishes runs on both)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision.calendar import WorkCalendar
from supervision.demo import load_hall
from supervision.duedates import case_clock
from supervision.ingest import apply_changes, validate_changes
from supervision.lifecycle import warnings_at
from supervision.model import Case, CaseType
from supervision.records import STAGE_RANK, CaseData, CaseTypeData
from supervision.rules import DEFAULT_OFFICE_HOURS
from supervision.snapshot import load_evaluator
from supervision.store import Store, open_store
from sync.server.simulate import Publisher, Simulator
from sync.server.store import CentralStore

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
START = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)  # a Wednesday, mid-morning
END = datetime(2026, 11, 26, 18, 0, tzinfo=TZ)  # Thursday evening: Thursday is a full simulated day
STEP = timedelta(minutes=20)
SEED = 7
ALL_CODES = {
    "DUE_SOON", "OVERDUE", "STAGE_LATE", "FEE_MISMATCH", "STAGE_SKIPPED", "SUSPENDED_LONG", "WAIT_LONG", "POST_LEFT",
}  # fmt: skip

_ID_FORMATS = {
    "ticket": r"T-\d{8}-[A-Z]\d{3}",
    "case": r"C-\d{8}-\d{4}",
    "evaluation": r"E-\d{8}-\d{4}",
    "complaint": r"CP-\d{8}-\d{2,}",
    "seat_vacancy": r"SV-\d{8}-\d{2,}",
}
# The queue machine's transitions: which ticket status may follow which, version to version.
_TICKET_NEXT = {
    "waiting": {"called", "missed"},
    "called": {"serving", "missed"},
    "serving": {"done", "transferred"},
}


class CentralLog:
    """The reference server's real store (SQLite or PostgreSQL) taking every change — it validates
    each with the record models and assigns versions and seqs — plus the log of every change it took,
    in order (its feed keeps each record's latest version only; these tests read the history)."""

    def __init__(self, central: CentralStore) -> None:
        self.central = central
        self.log: list[dict[str, Any]] = []
        self._versions: dict[tuple[str, str], int] = {}

    def publish(self, changes: Sequence[Mapping[str, Any]]) -> int:
        for raw in changes:
            assert set(raw) == {"type", "id", "op", "data"}, raw
        n = self.central.publish(changes)  # all or nothing: raises on the first invalid change
        seq = self.central.last_seq - len(changes)  # the store numbers the changes it took in order
        for raw in changes:
            key = (raw["type"], raw["id"])
            self._versions[key] = self._versions.get(key, 0) + 1
            seq += 1
            data = json.loads(json.dumps(raw["data"], ensure_ascii=False))  # what goes over the wire
            self.log.append({"seq": seq, "type": raw["type"], "id": raw["id"], "op": raw["op"],
                             "version": self._versions[key], "data": data})
        return n

    def current(self, type: str | None = None) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        return self.central.current(type)

    @property
    def records(self) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        return self.central.current()


NewCentral = Callable[[], CentralLog]


class _Backend:
    """Makes empty central stores on one database kind; closes those it made when told."""

    def __init__(self, folder: Path, base: str | None) -> None:
        self.folder, self.base = folder, base
        self.n = 0

    def make(self, into: list[CentralStore]) -> CentralLog:
        self.n += 1
        if self.base is None:
            central = CentralStore(str(self.folder / f"central-{self.n}.db"))
        else:
            from sqlalchemy import create_engine, text

            name = f"sim_{uuid.uuid4().hex[:10]}"
            admin = create_engine(f"{self.base}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            central = CentralStore(f"{self.base}/{name}")
        into.append(central)
        return CentralLog(central)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> _Backend:
    """The module's database kind: every test that publishes runs on SQLite and on PostgreSQL."""
    base = request.getfixturevalue("postgres_base_url") if request.param == "postgresql" else None
    return _Backend(tmp_path_factory.mktemp("central"), base)


@pytest.fixture
def new_central(backend: _Backend) -> Iterator[NewCentral]:
    """``make() -> CentralLog``: a new, empty central store; those made are closed when the test ends."""
    made: list[CentralStore] = []
    try:
        yield lambda: backend.make(made)
    finally:
        for central in made:
            central.close()


def _publisher(central: CentralStore) -> Publisher:  # the central store satisfies the protocol (mypy)
    return central


@dataclass
class Run:
    pub: CentralLog
    sim: Simulator
    history: int  # changes published by bootstrap
    steps: list[tuple[datetime, datetime, int]]  # (from, to, changes published)

    @property
    def changes(self) -> list[dict[str, Any]]:
        return self.pub.log[self.history :]


def _simulate(pub: CentralLog, seed: int = SEED, step: timedelta | None = STEP, end: datetime = END) -> Run:
    sim = Simulator(pub, speed=3600, seed=seed, clock=lambda: START)
    history = sim.bootstrap()
    assert history == len(pub.log)
    steps = []
    t = sim.now
    while t < end:
        nxt = min(end, t + step) if step else end
        steps.append((t, nxt, sim.step(nxt)))
        t = nxt
    return Run(pub, sim, history, steps)


@pytest.fixture(scope="module")
def day(backend: _Backend) -> Iterator[Run]:
    """A simulated day on the module's database kind, kept (and its store open) for the module."""
    made: list[CentralStore] = []
    try:
        yield _simulate(backend.make(made))
    finally:
        for central in made:
            central.close()


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _instants(value: Any) -> set[str]:
    if isinstance(value, dict):
        return {s for v in value.values() for s in _instants(v)}
    if isinstance(value, list):
        return {s for v in value for s in _instants(v)}
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        return {value}
    return set()


def _open(at: datetime) -> bool:
    """Within the opening hours of a working day (both ends included)."""
    local = at.astimezone(TZ)
    return CAL.is_workday(local.date()) and any(a <= local.time() <= b for a, b in DEFAULT_OFFICE_HOURS)


def _versions(changes: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    out: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in changes:
        out[(c["type"], c["id"])].append(c["data"])
    return out


def _case_types() -> dict[str, CaseType]:
    return {
        c["id"]: CaseType.from_data(c["id"], CaseTypeData.model_validate(c["data"]))
        for c in load_hall()["changes"]
        if c["type"] == "case_type"
    }


def _load(store: Store, changes: list[dict[str, Any]]) -> None:
    valid, unknown = validate_changes(changes)
    assert not unknown
    with store.write() as s:
        apply_changes(s, valid)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(tmp_path / "hallwatch.db")
    yield st
    st.close()


# -- bootstrap ---------------------------------------------------------------------------------------
def test_bootstrap_publishes_the_demo_hall_and_history_once(day: Run) -> None:
    hist = day.pub.log[: day.history]
    kinds = Counter(c["type"] for c in hist)
    assert kinds["org_unit"] == 5 and kinds["window"] == 34 and kinds["case_type"] == 42 and kinds["rule_set"] == 1
    assert kinds["ticket"] > 100 and kinds["case"] > 100 and kinds["evaluation"] > 100
    assert max(_t(s) for c in hist for s in _instants(c["data"])) <= START
    # Nothing again on a store that has org units; a second simulator carries on instead.
    again = Simulator(day.pub, seed=1, clock=lambda: START)
    before = len(day.pub.log)
    assert again.bootstrap() == 0 and len(day.pub.log) == before
    assert again.now >= END - timedelta(hours=1)  # starts no earlier than the latest record


def test_rejects_naive_times_and_bad_speed(new_central: NewCentral) -> None:
    pub = new_central()
    with pytest.raises(ValueError):
        Simulator(pub, clock=lambda: datetime(2026, 11, 25, 9, 0))
    with pytest.raises(ValueError):
        Simulator(pub, speed=0)
    sim = Simulator(pub, clock=lambda: START)
    with pytest.raises(ValueError):
        sim.step(datetime(2026, 11, 25, 12, 0))


# -- what a simulated day holds ----------------------------------------------------------------------
def test_a_day_has_tickets_cases_evaluations_in_every_status(day: Run) -> None:
    changes = day.changes
    assert len(changes) > 2000
    tickets = Counter(c["data"]["status"] for c in changes if c["type"] == "ticket")
    assert set(tickets) == {"waiting", "called", "serving", "done", "missed", "transferred"}
    issued = {c["id"] for c in changes if c["type"] == "ticket" and c["data"]["status"] == "waiting"}
    records = day.pub.records
    final = Counter(records[("ticket", t)][1]["status"] for t in issued)
    assert len(issued) > 500 and final["done"] > 0.85 * len(issued)
    cases = Counter(c["data"]["status"] for c in changes if c["type"] == "case")
    assert set(cases) == {"submitted", "accepted", "in_progress", "suspended", "completed", "rejected", "withdrawn"}
    grades = Counter(c["data"]["grade"] for c in changes if c["type"] == "evaluation")
    assert grades[5] + grades[4] > 0.8 * grades.total() and grades[1] + grades[2] >= 1
    assert any(c["type"] == "complaint" for c in changes)
    assert any(c["type"] == "seat_vacancy" and c["data"]["ended_at"] for c in changes)

    # Completed late (judged by completed_at against the promised due date), suspended and resumed.
    types = _case_types()
    late = resumed = same_day = 0
    for c in changes:
        if c["type"] != "case":
            continue
        d = CaseData.model_validate(c["data"])
        if d.status == "completed":
            assert d.completed_at is not None
            case = Case.from_data(c["id"], d)
            clock = case_clock(case, types[d.case_type_id], CAL, TZ, d.completed_at)
            assert clock.promised_due is not None
            late += d.completed_at.astimezone(TZ).date() > clock.promised_due
            if types[d.case_type_id].immediate and d.stages[0].at.astimezone(TZ).date() == d.completed_at.date():
                same_day += 1
        resumed += any(s.to is not None and s.to > START for s in d.suspensions)
    assert late >= 1 and resumed >= 1 and same_day >= 50


def test_cases_come_from_served_tickets_at_their_department(day: Run) -> None:
    hall = {(c["type"], c["id"]): c["data"] for c in load_hall()["changes"]}
    by_id = _versions(day.pub.log)
    for c in day.changes:
        if c["type"] != "case" or c["data"]["status"] != "submitted":
            continue
        d = c["data"]
        assert d["ticket_id"] is not None, c["id"]
        ticket = by_id[("ticket", d["ticket_id"])]
        assert any(t["status"] == "serving" and t["window_id"] == d["window_id"] for t in ticket)
        window, ctype = hall[("window", d["window_id"])], hall[("case_type", d["case_type_id"])]
        assert window["department"] == ctype["department"]
        assert ticket[0]["case_type_id"] == d["case_type_id"]


def _creates(c: dict[str, Any]) -> bool:
    """Whether a change is the one that creates its record (each happens once per record)."""
    d = c["data"]
    return bool(
        {
            "ticket": d.get("status") == "waiting",
            "case": d.get("status") == "submitted",
            "evaluation": True,
            "complaint": d.get("status") == "open",
            "seat_vacancy": "ended_at" in d and d["ended_at"] is None,
        }.get(c["type"], False)
    )


def test_every_change_validates_and_ids_are_unique(day: Run) -> None:
    # The publisher validated every change on the way in; here: formats, and nothing created twice.
    created: Counter[tuple[str, str]] = Counter()
    for c in day.pub.log:
        fmt = _ID_FORMATS.get(c["type"])
        if fmt is not None:
            assert re.fullmatch(fmt, c["id"]), c["id"]
        if _creates(c):
            created[(c["type"], c["id"])] += 1
    assert [k for k, n in created.items() if n > 1] == []
    for c in day.changes:
        if c["type"] == "ticket":
            assert c["id"].endswith(c["data"]["number"]) and c["id"][2:10] == c["data"]["issued_at"][:10].replace(
                "-", ""
            )


def test_times_are_monotone_per_record(day: Run) -> None:
    for (rtype, rid), versions in _versions(day.pub.log).items():
        latest = ""
        previous: list[dict[str, Any] | None] = [None, *versions]
        for prev, cur in zip(previous, versions, strict=False):  # (None, v1), (v1, v2), …
            inst = sorted(_t(s) for s in _instants(cur))
            if inst:
                assert not latest or inst[-1] >= _t(latest), (rid, cur)
                latest = inst[-1].isoformat()
            if rtype == "ticket":
                assert cur["called_at"] is None or _t(cur["called_at"]) >= _t(cur["issued_at"])
                if prev is not None:
                    assert cur["issued_at"] == prev["issued_at"] and cur["number"] == prev["number"]
                    assert cur["status"] in _TICKET_NEXT.get(prev["status"], set()), (rid, prev, cur)
            elif rtype == "case":
                stages = cur["stages"]
                ranks = [STAGE_RANK[s["stage"]] for s in stages]
                assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), (rid, stages)
                assert [_t(s["at"]) for s in stages] == sorted(_t(s["at"]) for s in stages), rid
                assert stages[0]["stage"] == "submitted" and stages[0]["at"] == cur["submitted_at"]
                if cur["status"] == "completed":
                    assert stages[-1]["stage"] == "completed" and stages[-1]["at"] == cur["completed_at"]
                for sp in cur["suspensions"]:
                    assert sp["to"] is None or _t(sp["to"]) > _t(sp["from"])
                if prev is not None:
                    assert stages[: len(prev["stages"])] == prev["stages"], rid  # stages only ever added
                    assert prev["status"] not in ("completed", "rejected", "withdrawn"), rid
            elif rtype == "seat_vacancy":
                assert cur["ended_at"] is None or _t(cur["ended_at"]) >= _t(cur["started_at"])


def test_nothing_happens_while_the_hall_is_closed_or_ahead_of_time(day: Run) -> None:
    versions: dict[tuple[str, str], dict[str, Any]] = {}
    for c in day.pub.log[: day.history]:
        versions[(c["type"], c["id"])] = c["data"]
    changes = iter(day.changes)
    for _, until, n in day.steps:
        for _ in range(n):
            c = next(changes)
            key = (c["type"], c["id"])
            new = _instants(c["data"]) - _instants(versions.get(key, {}))
            versions[key] = c["data"]
            for s in new:
                assert _open(_t(s)), (c["id"], s)
                assert _t(s) <= until, (c["id"], s, until)
    # Steps entirely within closed time (lunch, the night) publish nothing.
    for a, b, n in day.steps:
        if not _open(a) and not _open(b) and (b - a) <= STEP and a.date() == b.date():
            assert n == 0, (a, b, n)
    assert sum(n for _, _, n in day.steps) == len(day.changes)


def test_holidays_are_skipped_quickly(new_central: NewCentral) -> None:
    pub = new_central()
    before = datetime(2026, 9, 30, 16, 0, tzinfo=TZ)
    sim = Simulator(pub, seed=3, clock=lambda: before)
    sim.bootstrap()
    h = len(pub.log)
    started = time.monotonic()
    assert sim.step(datetime(2026, 10, 8, 8, 0, tzinfo=TZ)) > 0  # the afternoon of the 30th
    assert time.monotonic() - started < 5  # not a minute-by-minute walk through the week
    assert all(_t(s) < datetime(2026, 10, 1, tzinfo=TZ) for c in pub.log[h:] for s in _instants(c["data"])), (
        "something happened during the National Day holiday"
    )
    assert sim.step(datetime(2026, 10, 8, 12, 0, tzinfo=TZ)) > 100
    assert sim.now == datetime(2026, 10, 8, 12, 0, tzinfo=TZ)


def test_same_seed_same_changes_whatever_the_steps(day: Run, new_central: NewCentral) -> None:
    once = _simulate(new_central(), step=None)  # one step instead of 20-minute ones
    assert [(c["type"], c["id"], c["data"]) for c in once.pub.log] == [
        (c["type"], c["id"], c["data"]) for c in day.pub.log
    ]
    other = _simulate(new_central(), seed=SEED + 1, step=None, end=START + timedelta(hours=3))
    assert [c["data"] for c in other.changes] != [c["data"] for c in day.changes[: len(other.changes)]]


def test_a_second_simulator_carries_on_where_the_first_stopped(new_central: NewCentral) -> None:
    day = _simulate(new_central())  # its own store: this test adds to it
    pub = day.pub
    open_before = {rid for (t, rid), (_, d) in pub.records.items() if t == "case" and d["status"] == "in_progress"}
    nxt = Simulator(pub, seed=99, clock=lambda: START)  # the clock is behind: the store is not
    assert nxt.bootstrap() == 0
    begin = len(pub.log)
    friday = datetime(2026, 11, 27, 12, 0, tzinfo=TZ)
    assert nxt.step(friday) > 500
    created = Counter(
        (c["type"], c["id"])
        for c in pub.log
        if (c["type"] == "ticket" and c["data"]["status"] == "waiting") or c["type"] == "evaluation"
    )
    assert [k for k, n in created.items() if n > 1] == []
    # Cases left open by the first simulator move on.
    moved = {c["id"] for c in pub.log[begin:] if c["type"] == "case" and c["data"]["status"] != "submitted"}
    assert len(moved & open_before) > 20


# -- run() -------------------------------------------------------------------------------------------
def test_run_advances_with_real_time_and_stops_promptly(new_central: NewCentral) -> None:
    pub = new_central()
    sim = Simulator(pub, speed=1800, seed=2, clock=lambda: START)
    stop = threading.Event()
    thread = threading.Thread(target=sim.run, args=(stop,), name="simulator")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while sim.now < START + timedelta(minutes=30) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        stopped = time.monotonic()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - stopped < 1.5
    assert sim.now >= START + timedelta(minutes=30)
    assert any(c["type"] == "ticket" and _t(c["data"]["issued_at"]) > START for c in pub.log)


def test_run_keeps_what_a_failed_publish_did_not_take(new_central: NewCentral) -> None:
    class Flaky(CentralLog):
        fail = False

        def publish(self, changes: Sequence[Mapping[str, Any]]) -> int:
            if self.fail:
                raise OSError("database is locked")
            return super().publish(changes)

    pub = Flaky(new_central().central)
    sim = Simulator(pub, seed=4, clock=lambda: START)
    sim.bootstrap()
    pub.fail = True
    with pytest.raises(OSError):
        sim.step(START + timedelta(hours=1))
    pub.fail = False
    n = sim.step(START + timedelta(hours=2))
    ref = new_central()
    twin = Simulator(ref, seed=4, clock=lambda: START)
    twin.bootstrap()
    twin.step(START + timedelta(hours=2))
    assert n > 0 and [c["data"] for c in pub.log] == [c["data"] for c in ref.log]


# -- the warnings a terminal derives from the simulated records ----------------------------------------
def _transient_codes(store: Store, since: datetime, until: datetime, new: set[str]) -> set[str]:
    """Codes of ticket and seat warnings (they come and go within a day) in force at some instant
    of opening time in [since, until), every 5 minutes, on subjects the simulator created."""
    with store.read() as s:
        ev = load_evaluator(s, TZ)
    ev.remove_cases([f.case.id for f in list(ev.facts())])  # cases: judged once, at the end
    seen: set[str] = set()
    t = since
    while t < until:
        if _open(t):
            seen |= {str(w.code) for w in ev.evaluate(t) if w.subject in new}
        t += timedelta(minutes=5)
    return seen


def _codes_at(store: Store, at: datetime, new: set[str]) -> set[str]:
    return {str(v.warning.code) for v in warnings_at(store, at, TZ) if v.warning.subject in new}


def test_warnings_of_every_rule_on_the_simulated_records(day: Run, store: Store) -> None:
    _load(store, day.pub.log)
    codes = {str(v.warning.code) for v in warnings_at(store, END, TZ)}
    assert ALL_CODES - {"WAIT_LONG", "POST_LEFT"} <= codes  # the hall is closed at END: no queue, no seats
    # On the simulator's own records: cases it created, tickets it issued, seats it saw empty.
    new = {c["id"] for c in day.changes if _creates(c)}
    new |= {c["data"]["window_id"] for c in day.changes if c["type"] == "seat_vacancy"}
    own = _codes_at(store, END, new)
    assert "DUE_SOON" in own and own & {"OVERDUE", "FEE_MISMATCH", "STAGE_SKIPPED"}  # reds are rare: any one
    assert {"WAIT_LONG", "POST_LEFT"} <= _transient_codes(store, START, END, new)


def test_simulation_alone_raises_the_rules_within_three_days(store: Store, new_central: NewCentral) -> None:
    """Without the demo history (the store holds only the hall), three simulated working days light
    every rule but SUSPENDED_LONG, which takes thirty working days. (STAGE_LATE needs three: the
    shortest stage limit in the hall is two working days, passed at 00:00 of the third.)"""
    pub = new_central()
    pub.publish([{k: c[k] for k in ("type", "id", "op", "data")} for c in load_hall()["changes"]])
    monday = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
    sim = Simulator(pub, seed=11, clock=lambda: monday)
    assert sim.bootstrap() == 0
    end = datetime(2026, 11, 26, 8, 0, tzinfo=TZ)  # Monday to Wednesday
    sim.step(end)
    _load(store, pub.log)
    new = {c["id"] for c in pub.log} | set(sim.windows)
    codes = _codes_at(store, end, new) | _transient_codes(store, monday, end, new)
    assert ALL_CODES - {"SUSPENDED_LONG"} <= codes, ALL_CODES - codes


# -- the reference server's store -----------------------------------------------------------------------
def test_against_the_central_store(new_central: NewCentral) -> None:
    central = new_central().central
    sim = Simulator(central, seed=5, clock=lambda: START)
    n = sim.bootstrap()
    assert n > 2000 and len(central.current("org_unit")) == 5
    # The rest of the morning: every change taken (the store validates each with supervision.records).
    m = sim.step(datetime(2026, 11, 25, 12, 10, tzinfo=TZ))
    assert m > 500 and central.last_seq == n + m
    live = central.current()
    statuses = Counter(d["status"] for (t, _), (_, d) in live.items() if t == "ticket")
    assert statuses["done"] > 100 and statuses["waiting"] == 0  # the queue was cleared at noon
    assert max(v for v, _ in live.values()) >= 4  # cases went through several versions
    # A simulator started on the same store later carries on after its latest record.
    latest = max(_t(s) for _, d in live.values() for s in _instants(d))
    again = Simulator(central, seed=6, clock=lambda: START)
    assert again.bootstrap() == 0 and again.now > latest > START
    assert again.step(datetime(2026, 11, 25, 14, 0, tzinfo=TZ)) > 50


def test_the_store_holds_the_latest_of_every_change_it_took(day: Run) -> None:
    """The log these tests read is what the store took: its live records are the log's latest
    versions, version numbers included."""
    latest = {(c["type"], c["id"]): (c["version"], c["data"]) for c in day.pub.log}
    stored = day.pub.current()
    assert set(stored) == set(latest)
    assert day.pub.central.last_seq == len(day.pub.log) == day.pub.log[-1]["seq"]
    wrong = [k for k, (v, _) in latest.items() if stored[k][0] != v]
    assert wrong == [], wrong[:3]
