"""The warning monitor on a real store filled with the demo hall (20 working days of activity).

Every pass is checked against a full evaluation of the store at the same instant
(``lifecycle.evaluate_store``): the warnings and their states, the counts, the lights (worked out
here from the full evaluation), the ``warning_states`` rows and the cases' columns (worked out
with ``duedates.case_clock``).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from app.monitor import EMPTY_SNAPSHOT, LEVEL_CODE, PassReport, WarningMonitor, WarningSnapshot
from supervision import demo
from supervision.duedates import case_clock, local_date
from supervision.ingest import ChangedIds, apply_changes, import_page, validate_changes
from supervision.lifecycle import State, WarningView, dispose, evaluate_store, reconcile
from supervision.records import ChangesPage
from supervision.rules import Level, Subject, case_due_dates_next_change
from supervision.snapshot import load_evaluator, window_departments
from supervision.store import Store, open_store
from supervision.store.models import CaseRow, WarningState

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 10)  # a Wednesday
NOW = datetime(2026, 6, 10, 10, 30, tzinfo=SH)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def demo_body() -> dict[str, Any]:
    return demo.generate(DAY, days=20, now=NOW)


@pytest.fixture
def store(tmp_path: Path, demo_body: dict[str, Any]) -> Iterator[Store]:
    s = open_store(tmp_path / "store.db")
    import_page(s, ChangesPage.model_validate(demo_body), source="demo")
    yield s
    s.close()


@pytest.fixture
def monitor(store: Store) -> WarningMonitor:
    m = WarningMonitor(store, SH, interval=0.05, clock=Clock(NOW))
    assert m.process(NOW).kind == "full"
    return m


# -- the full evaluation the monitor must match ---------------------------------------------------
def _rank(level: Level) -> int:
    return LEVEL_CODE[level]


def expected_lights(store: Store, views: list[WarningView], at: datetime) -> tuple[dict[str, Level], dict[str, Level]]:
    """The light rule applied to a full evaluation: the worst undisposed warning on an open
    subject or raised today; a ticket lights its business type's department."""
    with store.read() as s:
        ev = load_evaluator(s, SH)
        depts = window_departments(s)
    today = local_date(at, SH)
    windows: dict[str, Level] = {}
    departments: dict[str, Level] = {}
    for v in views:
        if v.state is State.DISPOSED:
            continue
        w = v.warning
        closed = False
        dept: str | None
        if w.subject_type == "case":
            f = ev.case_facts_of(w.subject)
            assert f is not None
            closed = f.ended_at is not None and f.ended_at <= at
            dept = f.ctype.department
        elif w.subject_type == "ticket":
            t = ev.tickets[w.subject]
            dept = ev.case_types[t.case_type_id].department if t.case_type_id in ev.case_types else None
        else:
            dept = depts.get(w.subject)
        raised = max(w.since, w.level_since or w.since)
        if closed and local_date(raised, SH) != today:
            continue
        for lights, name in ((windows, w.window_id), (departments, dept)):
            if name and (name not in lights or _rank(lights[name]) < _rank(w.level)):
                lights[name] = w.level
    return windows, departments


def assert_matches_full_evaluation(store: Store, snap: WarningSnapshot, at: datetime) -> list[WarningView]:
    full = evaluate_store(store, at, SH)
    assert snap.at <= at  # a pass that finds nothing new publishes nothing
    assert list(snap.views) == full.views
    assert snap.fallback_years == full.fallback_years
    counts = {
        "red": sum(v.warning.level is Level.RED for v in full.views),
        "yellow": sum(v.warning.level is Level.YELLOW for v in full.views),
        "notice": sum(v.warning.level is Level.NOTICE for v in full.views),
        "red_undisposed": sum(v.warning.level is Level.RED and v.state is not State.DISPOSED for v in full.views),
        "yellow_undisposed": sum(v.warning.level is Level.YELLOW and v.state is not State.DISPOSED for v in full.views),
    }
    assert dict(snap.counts) == counts
    windows, departments = expected_lights(store, full.views, at)
    assert dict(snap.by_window) == windows
    assert dict(snap.by_department) == departments
    assert_states_reconciled(store, full.views)
    assert_case_columns(store, full.views, at)
    return full.views


def assert_states_reconciled(store: Store, views: list[WarningView]) -> None:
    """Every warning in force has its row, at its level and state; no other row is in force."""
    with store.read() as s:
        rows = {r.key: r for r in s.scalars(select(WarningState))}
    for v in views:
        r = rows.get(v.key)
        assert r is not None, f"no warning_states row for {v.key}"
        assert (r.level, r.state) == (str(v.warning.level), str(v.state)), v.key
        assert r.since <= v.warning.since, v.key  # first raised (retention holds from there)
    in_force = {v.key for v in views}
    stray = [k for k, r in rows.items() if r.state != "cleared" and k not in in_force]
    assert not stray, f"rows in force for warnings not in force: {stray[:5]}"


def assert_case_columns(store: Store, views: list[WarningView], at: datetime) -> None:
    worst: dict[str, int] = {}
    for v in views:
        if v.warning.subject_type == "case":
            worst[v.warning.subject] = max(worst.get(v.warning.subject, 0), _rank(v.warning.level))
    with store.read() as s:
        ev = load_evaluator(s, SH)
        stored = {
            i: (p, lg, w)
            for i, p, lg, w in s.execute(
                select(CaseRow.id, CaseRow.promised_due, CaseRow.legal_due, CaseRow.worst_level).where(
                    CaseRow.deleted.is_(False)
                )
            )
        }
    wrong = []
    for cid, got in stored.items():
        c = ev.case(cid)
        assert c is not None
        clock = case_clock(c, ev.case_types[c.case_type_id], ev.cal, SH, at)
        want = (clock.promised_due, clock.legal_due, worst.get(cid, 0))
        if got != want:
            wrong.append((cid, got, want))
    assert not wrong, f"{len(wrong)} cases' columns are not current, e.g. {wrong[:3]}"


def apply(store: Store, changes: list[dict[str, Any]]) -> ChangedIds:
    valid, unknown = validate_changes(changes)
    assert not unknown
    with store.write() as s:
        return apply_changes(s, valid).changed


def iso(at: datetime) -> str:
    return at.astimezone(SH).isoformat()


# -- the page of 1 000 changes -----------------------------------------------------------------------
def thousand_changes(body: dict[str, Any], snap: WarningSnapshot) -> tuple[list[dict[str, Any]], set[Subject]]:
    """A page touching cases (completed, fee changed, moved, suspended, new, deleted), tickets,
    dispositions, seat vacancies and windows; and the subjects it names."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for ch in body["changes"]:
        by_type.setdefault(ch["type"], []).append(ch)
    out: list[dict[str, Any]] = []
    subjects: set[Subject] = set()
    seq = iter(range(10**6, 2 * 10**6))

    def add(rtype: str, rid: str, data: dict[str, Any] | None, version: int = 2, op: str = "upsert") -> None:
        ch: dict[str, Any] = {"seq": next(seq), "type": rtype, "id": rid, "op": op, "version": version}
        if data is not None:
            ch["data"] = data
        out.append(ch)

    cases = by_type["case"]
    open_cases = [c for c in cases if c["data"]["status"] == "in_progress"]
    assert len(open_cases) >= 100
    done = NOW - timedelta(minutes=10)
    for i, ch in enumerate(open_cases[:100] + [c for c in cases if c not in open_cases[:100]][:300]):
        d = copy.deepcopy(ch["data"])
        if d["status"] != "in_progress":
            d["fee_charged"] = "999.00" if i % 2 else d["fee_charged"]
            d["window_id"] = "win-A01"
        elif i % 4 == 0:
            have = {st["stage"] for st in d["stages"]}
            for stage in ("handled", "reviewed", "decided", "completed"):
                if stage not in have:
                    d["stages"].append({"stage": stage, "at": iso(done), "by": "张三"})
            d.update(status="completed", completed_at=iso(done))
        elif i % 4 == 1:
            d["fee_charged"] = "999.00"
        elif i % 4 == 2:
            d["window_id"] = "win-A01"
        else:
            d["suspensions"] = [{"from": iso(NOW - timedelta(days=1)), "to": None, "reason": "补正"}]
            d["status"] = "suspended"
        add("case", ch["id"], d)
        subjects.add(Subject("case", ch["id"]))
    template = open_cases[0]["data"]
    accepted = NOW - timedelta(days=30)
    for i in range(100):
        d = copy.deepcopy(template)
        d.update(submitted_at=iso(accepted - timedelta(minutes=5)), status="in_progress", completed_at=None)
        d["stages"] = [
            {"stage": "submitted", "at": iso(accepted - timedelta(minutes=5)), "by": "李四"},
            {"stage": "accepted", "at": iso(accepted + timedelta(minutes=i)), "by": "李四"},
        ]
        add("case", f"C-NEW-{i:04d}", d, version=1)
        subjects.add(Subject("case", f"C-NEW-{i:04d}"))
    for ch in cases[-50:]:
        add("case", ch["id"], None, op="delete")
        subjects.add(Subject("case", ch["id"]))
    for i, ch in enumerate(by_type["ticket"][:300]):
        d = copy.deepcopy(ch["data"])
        if d["status"] == "waiting":
            d.update(status="called", called_at=iso(NOW - timedelta(minutes=1)), window_id="win-B01")
        else:
            d.update(status="waiting", called_at=None, issued_at=iso(NOW - timedelta(minutes=31 + i % 20)))
        add("ticket", ch["id"], d)
        subjects.add(Subject("ticket", ch["id"]))
    in_force = snap.views
    assert len(in_force) >= 50
    for i in range(100):
        v = in_force[i % len(in_force)]
        act = "warning.dispose" if (i // len(in_force) + i) % 2 == 0 else "warning.acknowledge"
        data = {"warning": v.key, "action": act, "by": "王五", "at": iso(NOW - timedelta(minutes=1)), "note": "已督办"}
        if act == "warning.dispose":
            data["measure"] = "supervise"
        add("disposition", f"D-{i:04d}", data, version=1)
        subjects.add(Subject(v.warning.subject_type, v.warning.subject))
    windows = by_type["window"]
    for i, ch in enumerate(windows[:20]):
        started = NOW - timedelta(minutes=40 + i)
        add("seat_vacancy", f"V-NEW-{i:03d}", {"window_id": ch["id"], "started_at": iso(started)}, version=1)
        subjects.add(Subject("window", ch["id"]))
    for ch in windows[:30]:
        add("window", ch["id"], {**ch["data"], "department": "新部门"})
        subjects.add(Subject("window", ch["id"]))
    assert len(out) == 1000
    return out, subjects


def test_the_monitor_after_a_1000_change_page_rejudges_only_those_subjects_and_matches_a_full_evaluation(
    store: Store, monitor: WarningMonitor, demo_body: dict[str, Any]
) -> None:
    before = monitor.snapshot()
    assert_matches_full_evaluation(store, before, NOW)
    changes, named = thousand_changes(demo_body, before)
    with store.read() as s:
        ev_before = load_evaluator(s, SH)
    ids = apply(store, changes)
    assert len(ids) == 1000
    at = NOW + timedelta(seconds=1)
    # what would have been re-judged anyway at `at`: time-driven changes due by then
    with store.read() as s:
        ev = load_evaluator(s, SH)
    crossing = {s for s in ev.subjects() if (t := ev.next_change(s, NOW)) is not None and t <= at}
    # cases the page sends again as they were (already at that window, that fee): nothing to re-judge
    acted_on = {ch["data"]["warning"].rpartition("/")[0] for ch in changes if ch["type"] == "disposition"}
    unchanged = {
        s
        for s in named
        if s.id not in acted_on and ev_before.case(s.id) is not None and ev_before.case(s.id) == ev.case(s.id)
    }
    assert len(unchanged) < 100
    monitor.changed(ids)
    rep = monitor.process(at)
    assert rep.kind == "changes" and rep.published
    assert rep.rejudged == (named - unchanged) | crossing
    assert set(rep.phases) == {"load", "judge", "write", "publish"}
    assert all(t > 0 for t in rep.phases.values()) and sum(rep.phases.values()) <= rep.seconds
    assert len(rep.rejudged) < 1100 and monitor.status().subjects > 7000
    assert rep.written["states"] > 0 and rep.written["columns"] > 0
    # the pass's commit left the WAL to the checkpoint run once the snapshot is out, and gave its
    # connection back as it found it (SQLite checkpoints automatically on the other commits)
    frames = monitor.checkpoint()
    assert frames is not None and frames[0] > 0 and frames[1] == frames[0]
    assert monitor.checkpoint() is None
    with store.write() as s:
        assert s.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    after = monitor.snapshot()
    assert after.generation == before.generation + 1
    views = assert_matches_full_evaluation(store, after, at)
    # the page's effects are there to see
    states = {v.key: v.state for v in views}
    assert sum(s is State.DISPOSED for s in states.values()) >= 30
    assert any(v.warning.code == "FEE_MISMATCH" and v.warning.subject in {s.id for s in named} for v in views)
    assert after.by_department.get("新部门") is not None


def test_an_unchanged_warning_is_the_same_object_in_the_next_snapshot_and_a_changed_one_is_not(
    store: Store, monitor: WarningMonitor, demo_body: dict[str, Any]
) -> None:
    """The desktop diffs snapshots by identity: a view that did not change between two snapshots
    is the same object in both (after a change pass, a timer pass and a full pass); one that
    changed is another object."""

    def check(before: WarningSnapshot, after: WarningSnapshot) -> tuple[int, int]:
        old = {v.key: v for v in before.views}
        same = changed = 0
        for v in after.views:
            o = old.get(v.key)
            if o is None:
                continue
            if o == v:
                assert o is v, f"{v.key} did not change but is another object"
                same += 1
            else:
                assert o is not v
                changed += 1
        return same, changed

    before = monitor.snapshot()
    cases = {ch["id"]: ch for ch in demo_body["changes"] if ch["type"] == "case"}
    with_warnings = sorted({v.warning.subject for v in before.views if v.warning.subject in cases})
    assert len(with_warnings) > 20
    moved = next(v for v in before.views if v.warning.subject in cases and v.warning.window_id != "win-A01")
    page = []
    for n, cid in enumerate(with_warnings[:20]):  # sent again unchanged (re-judged: the same views)
        page.append(
            {"seq": 10**6 + n, "type": "case", "id": cid, "op": "upsert", "version": 2, "data": cases[cid]["data"]}
        )
    data = {**copy.deepcopy(cases[moved.warning.subject]["data"]), "window_id": "win-A01"}
    page.append(
        {"seq": 10**6 + 99, "type": "case", "id": moved.warning.subject, "op": "upsert", "version": 3, "data": data}
    )
    monitor.changed(apply(store, page))
    at = NOW + timedelta(seconds=1)
    rep = monitor.process(at)
    assert rep.kind == "changes" and Subject("case", moved.warning.subject) in rep.rejudged
    assert not {Subject("case", cid) for cid in with_warnings[:20]} - {Subject("case", moved.warning.subject)} & (
        rep.rejudged
    ), "a case sent again unchanged is not re-judged"
    after = monitor.snapshot()
    same, changed = check(before, after)
    assert changed >= 1 and same >= len(before.views) - 5
    assert next(v for v in after.views if v.key == moved.key) is not moved
    assert list(after.views) == list(after.views[:]) and after.views[-1] is list(after.views)[-1]

    first = monitor.next_due()
    assert first is not None
    assert monitor.process(first).kind == "timer"
    timer = monitor.snapshot()
    assert timer.generation == after.generation + 1
    same, changed = check(after, timer)
    assert same > 0

    monitor.refresh()
    assert monitor.process(first).kind == "full"
    full = monitor.snapshot()
    same, changed = check(timer, full)
    assert same == len(full.views) and changed == 0
    assert_matches_full_evaluation(store, full, first)


def test_a_timer_pass_rejudges_only_the_subjects_whose_change_has_come_and_matches_a_full_evaluation(
    store: Store, monitor: WarningMonitor
) -> None:
    with store.read() as s:
        ev = load_evaluator(s, SH)

    def next_of(subj: Subject, after: datetime) -> datetime | None:
        t = ev.next_change(subj, after)
        f = ev.case_facts_of(subj.id) if subj.kind == "case" else None
        d = case_due_dates_next_change(f, after, SH) if f is not None else None
        return min((x for x in (t, d) if x is not None), default=None)

    nothing = monitor.process(NOW + timedelta(microseconds=1))
    assert (nothing.kind, nothing.rejudged, nothing.published) == ("idle", frozenset(), False)
    first = monitor.next_due()
    assert first is not None and first > NOW
    crossed = {s for s in ev.subjects() if (t := next_of(s, NOW)) is not None and t <= first}
    rep = monitor.process(first)
    assert rep.kind == "timer" and rep.rejudged == crossed and 0 < len(crossed) < 50
    assert_matches_full_evaluation(store, monitor.snapshot(), first)

    # two days later at 09:00 (a new day: yesterday's warnings on closed subjects stop lighting)
    later = datetime(2026, 6, 12, 9, tzinfo=SH)
    crossed = {s for s in ev.subjects() if (t := next_of(s, first)) is not None and t <= later}
    rep = monitor.process(later)
    assert rep.kind == "timer" and rep.rejudged == crossed
    assert len(crossed) < monitor.status().subjects / 2
    assert_matches_full_evaluation(store, monitor.snapshot(), later)


def test_a_local_disposal_turns_its_light_off_and_keeps_the_warning_in_force(
    store: Store, monitor: WarningMonitor
) -> None:
    snap = monitor.snapshot()
    red = next(v for v in snap.views if v.warning.level is Level.RED and v.warning.window_id)
    window = red.warning.window_id
    assert window is not None and snap.by_window[window] is Level.RED
    at = NOW + timedelta(minutes=1)
    action = dispose(store, red.key, "supervise", "已督办", by="王五", terminal="ws-01", at=at, tz=SH)
    monitor.changed(ChangedIds.of({"disposition": [action]}))
    rep = monitor.process(at)
    assert Subject(red.warning.subject_type, red.warning.subject) in rep.rejudged and len(rep.rejudged) < 5
    after = monitor.snapshot()
    view = next(v for v in after.views if v.key == red.key)
    assert view.state is State.DISPOSED
    assert after.counts["red_undisposed"] == snap.counts["red_undisposed"] - 1
    assert after.by_window.get(window) != Level.RED or any(
        v.warning.window_id == window and v.warning.level is Level.RED and v.state is not State.DISPOSED
        for v in after.views
    )
    assert_matches_full_evaluation(store, after, at)


def test_a_changed_case_type_makes_the_pass_a_full_one(store: Store, monitor: WarningMonitor) -> None:
    with store.read() as s:
        ev = load_evaluator(s, SH)
    ct = next(iter(ev.case_types.values()))
    data = {
        "code": "X",
        "name": ct.name,
        "department": ct.department,
        "legal_days": ct.legal_days + 5,
        "promised_days": ct.promised_days + 1,
        "fee": str(ct.fee),
        "immediate": ct.immediate,
        "stage_days": dict(ct.stage_days),
    }
    ids = apply(
        store, [{"seq": 9_000_000, "type": "case_type", "id": ct.id, "op": "upsert", "version": 9, "data": data}]
    )
    monitor.changed(ids)
    rep = monitor.process(NOW + timedelta(seconds=2))
    assert rep.kind == "full" and len(rep.rejudged) == monitor.status().subjects - len(ev.vacancies) + len(
        {v.window_id for v in ev.vacancies.values()}
    )
    assert_matches_full_evaluation(store, monitor.snapshot(), NOW + timedelta(seconds=2))


def test_an_immediate_case_is_yellow_overnight_and_red_after_its_legal_due_date(tmp_path: Path) -> None:
    store = open_store(tmp_path / "imm.db")
    try:
        ct = {"code": "J", "name": "即办", "department": "税务局", "legal_days": 5, "promised_days": 0}
        accepted = datetime(2026, 6, 2, 10, tzinfo=SH)  # Tue; legal 5: Jun 3, 4, 5, 8, Tue Jun 9
        case = {
            "case_type_id": "imm",
            "window_id": "win-1",
            "submitted_at": iso(accepted - timedelta(minutes=5)),
            "status": "in_progress",
            "stages": [
                {"stage": "submitted", "at": iso(accepted - timedelta(minutes=5)), "by": "a"},
                {"stage": "accepted", "at": iso(accepted), "by": "a"},
            ],
        }
        dispo = {
            "warning": "C-1/OVERDUE",
            "action": "warning.dispose",
            "measure": "explain",
            "by": "b",
            "at": iso(datetime(2026, 6, 3, 9, tzinfo=SH)),
            "note": "已说明",
        }
        apply(
            store,
            [
                {
                    "seq": 1,
                    "type": "case_type",
                    "id": "imm",
                    "op": "upsert",
                    "version": 1,
                    "data": {**ct, "fee": "0", "immediate": True},
                },
                {"seq": 2, "type": "case", "id": "C-1", "op": "upsert", "version": 1, "data": case},
            ],
        )
        m = WarningMonitor(store, SH, clock=Clock(accepted))
        m.process(accepted + timedelta(hours=1))
        assert m.snapshot().counts["notice"] == 1  # DUE_SOON the same day
        rep = m.process(datetime(2026, 6, 3, tzinfo=SH))
        assert rep.kind == "timer" and rep.rejudged == {Subject("case", "C-1")}
        (v,) = m.snapshot().views
        assert (v.key, v.warning.level) == ("C-1/OVERDUE", Level.YELLOW)
        with store.read() as s:
            row = s.get(CaseRow, "C-1")
            assert row is not None
            assert (row.promised_due, row.legal_due, row.worst_level) == (date(2026, 6, 2), date(2026, 6, 9), 2)
        m.changed(
            apply(store, [{"seq": 3, "type": "disposition", "id": "D-1", "op": "upsert", "version": 1, "data": dispo}])
        )
        m.process(datetime(2026, 6, 3, 9, 30, tzinfo=SH))
        for at, level in (
            (datetime(2026, 6, 9, 23, 59, 59, tzinfo=SH), Level.YELLOW),
            (datetime(2026, 6, 10, tzinfo=SH), Level.RED),
        ):
            m.process(at)
            (v,) = m.snapshot().views
            assert v.warning.level is level, at
            assert_matches_full_evaluation(store, m.snapshot(), m.snapshot().at)
    finally:
        store.close()


# -- the service ----------------------------------------------------------------------------------------
def test_the_running_monitor_publishes_after_changed_and_stops_within_the_deadline(
    store: Store, demo_body: dict[str, Any]
) -> None:
    clock = Clock(NOW)
    m = WarningMonitor(store, SH, interval=0.05, clock=clock)
    got: list[WarningSnapshot] = []
    published = threading.Condition()

    def listener(snap: WarningSnapshot) -> None:
        assert threading.current_thread().name == "warnings"
        with published:
            got.append(snap)
            published.notify_all()

    def wait_for(pred: Any, timeout: float = 20.0) -> None:
        with published:
            assert published.wait_for(pred, timeout), "no snapshot published in time"

    m.add_listener(listener)
    assert m.snapshot().generation == 0
    m.start()
    try:
        wait_for(lambda: len(got) >= 1)
        assert got[0].generation == 1 and m.snapshot() is got[-1]
        t0 = time.perf_counter()
        for _ in range(1000):
            m.snapshot()
        assert (time.perf_counter() - t0) / 1000 < 1e-3
        ticket = next(c for c in demo_body["changes"] if c["type"] == "ticket" and c["data"]["status"] != "waiting")
        d = {**ticket["data"], "status": "waiting", "called_at": None, "issued_at": iso(NOW - timedelta(hours=1))}
        m.changed(
            apply(
                store,
                [{"seq": 5_000_000, "type": "ticket", "id": ticket["id"], "op": "upsert", "version": 2, "data": d}],
            )
        )
        wait_for(lambda: any(v.key == f"{ticket['id']}/WAIT_LONG" for v in got[-1].views))
        st = m.status()
        assert st.running and st.last_error is None and st.passes >= 2
    finally:
        t0 = time.monotonic()
        assert m.stop(time.monotonic() + 5)
        assert time.monotonic() - t0 < 5
    assert not m.status().running
    m.remove_listener(listener)


def test_stop_abandons_a_full_pass_under_way_within_the_deadline(store: Store) -> None:
    m = WarningMonitor(store, SH, interval=60, clock=Clock(NOW))
    m.start()  # its first pass is a full one over 7 000 subjects
    t0 = time.monotonic()
    assert m.stop(t0 + 3)
    assert time.monotonic() - t0 < 3
    assert not m.status().running


def test_a_listener_that_fails_does_not_stop_the_others(store: Store) -> None:
    m = WarningMonitor(store, SH, clock=Clock(NOW))
    seen: list[int] = []

    def bad(_: WarningSnapshot) -> None:
        raise RuntimeError("listener bug")

    m.add_listener(bad)
    m.add_listener(lambda snap: seen.append(snap.generation))
    rep: PassReport = m.process(NOW)
    assert rep.published and seen == [1]


def test_a_published_snapshot_cannot_be_changed(monitor: WarningMonitor) -> None:
    snap = monitor.snapshot()
    assert snap.views and snap.by_window
    with pytest.raises(FrozenInstanceError):
        snap.generation = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        snap.by_window["w"] = Level.RED  # type: ignore[index]
    with pytest.raises(TypeError):
        snap.counts["red"] = 0  # type: ignore[index]
    assert EMPTY_SNAPSHOT.generation == 0 and EMPTY_SNAPSHOT.at.tzinfo is UTC


def test_changes_no_warning_depends_on_rejudge_nothing(store: Store, monitor: WarningMonitor) -> None:
    gen = monitor.snapshot().generation
    monitor.changed(ChangedIds.of({"camera": ["cam-A01"], "evaluation": ["E-1"], "bookmark": ["B-1"]}))
    rep = monitor.process(NOW)
    assert (rep.kind, rep.rejudged, rep.published) == ("changes", frozenset(), False)
    assert monitor.snapshot().generation == gen


def test_a_pass_commits_its_derived_rows_with_synchronous_normal_and_gives_its_connection_back_at_full(
    store: Store, monitor: WarningMonitor, demo_body: dict[str, Any]
) -> None:
    # The monitor's rows are derived (its first pass, a full one, writes them again); everything
    # else the store commits keeps synchronous=FULL (2): every connection goes back to the pool so.
    case = next(ch for ch in demo_body["changes"] if ch["type"] == "case" and ch["data"]["status"] == "in_progress")
    data = {**copy.deepcopy(case["data"]), "fee_charged": "999.00"}
    ids = apply(store, [{"seq": 10**7, "type": "case", "id": case["id"], "op": "upsert", "version": 2, "data": data}])
    committed: list[int] = []
    returned: list[int] = []

    def on_commit(conn: Any) -> None:
        committed.append(conn.connection.driver_connection.execute("PRAGMA synchronous").fetchone()[0])

    def on_checkin(dbapi_conn: Any, _record: Any) -> None:
        if dbapi_conn is not None:
            returned.append(dbapi_conn.execute("PRAGMA synchronous").fetchone()[0])

    event.listen(store.engine, "commit", on_commit)
    event.listen(store.engine, "checkin", on_checkin)
    try:
        monitor.changed(ids)
        rep = monitor.process(NOW + timedelta(seconds=1))
        assert rep.kind == "changes" and rep.written["states"] + rep.written["columns"] > 0
        assert committed == [1] and returned and set(returned) == {2}
        with store.write() as s:
            s.execute(select(CaseRow.id).limit(1))
        assert committed == [1, 2]
    finally:
        event.remove(store.engine, "commit", on_commit)
        event.remove(store.engine, "checkin", on_checkin)


def test_the_rows_a_pass_writes_from_the_rows_it_keeps_are_those_a_full_reconcile_writes(
    store: Store, monitor: WarningMonitor, demo_body: dict[str, Any]
) -> None:
    """The monitor keeps the warning_states rows in force instead of reading them back: after a
    page and a local act (whose rows the act wrote itself), reconciling every warning from the
    store at the same instant finds nothing to change."""
    changes, _ = thousand_changes(demo_body, monitor.snapshot())
    at = NOW + timedelta(seconds=1)
    monitor.changed(apply(store, changes))
    monitor.process(at)
    red = next(v for v in monitor.snapshot().views if v.warning.level is Level.RED and v.state is State.ACTIVE)
    later = at + timedelta(minutes=1)
    action = dispose(store, red.key, "supervise", "已督办", by="王五", terminal="ws-01", at=later, tz=SH)
    monitor.changed(ChangedIds.of({"disposition": [action]}))
    monitor.process(later)

    def rows() -> dict[str, dict[str, Any]]:
        with store.read() as s:
            t = WarningState.__table__
            q = select(*(c for c in t.c if c.name != "updated_at"))
            return {r.key: dict(r._mapping) for r in s.execute(q)}

    before = rows()
    assert before[red.key]["state"] == "disposed"
    with store.write() as s:
        counts = reconcile(s, evaluate_store(store, later, SH).views, later)
    assert counts == {"raised": 0, "escalated": 0, "cleared": 0}
    assert rows() == before


def test_a_full_pass_reconciling_a_chunk_at_a_time_writes_what_one_reconcile_writes(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full pass reconciles warning_states a chunk of warnings at a time (memory): over many
    chunks, a stale row in force is cleared and every warning in force has its row, as one
    reconcile of everything at once has it."""
    import supervision.lifecycle as lifecycle

    monkeypatch.setattr(lifecycle, "_ALL_CHUNK", 7)
    with store.write() as s:
        s.add(WarningState(key="GONE-1/OVERDUE", code="OVERDUE", subject="GONE-1", window_id=None, level="yellow",
                           max_level="yellow", state="active", since=NOW - timedelta(days=3), updated_at=NOW))
    m = WarningMonitor(store, SH, clock=Clock(NOW))
    rep = m.process(NOW)
    assert rep.kind == "full" and rep.written["states"] > 7 * 10
    with store.read() as s:
        gone = s.get(WarningState, "GONE-1/OVERDUE")
        assert gone is not None and gone.state == "cleared" and gone.cleared_at == NOW
        in_force = s.scalars(select(WarningState.key).where(WarningState.state != "cleared")).all()
    assert sorted(in_force) == sorted(v.key for v in m.snapshot().views)
    with store.write() as s:
        assert reconcile(s, evaluate_store(store, NOW, SH).views, NOW) == {"raised": 0, "escalated": 0, "cleared": 0}


# -- the records a page applied, handed to the monitor ---------------------------------------------
_EDITS = ("complete", "fee", "window", "suspend", "resume", "resend", "new", "delete", "replace", "ticket")


@pytest.fixture(scope="module")
def small_store_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A few days of the demo hall (a few hundred cases and tickets), imported once."""
    body = demo.generate(DAY, days=3, now=NOW)
    path = tmp_path_factory.mktemp("small") / "store.db"
    s = open_store(path)
    import_page(s, ChangesPage.model_validate(copy.deepcopy(body)), source="demo")
    s.close()
    return path, body


def _page_of_edits(
    body: dict[str, Any], edits: list[tuple[str, int]], versions: dict[tuple[str, str], int],
    data: dict[tuple[str, str], dict[str, Any] | None], serial: Iterator[int],
) -> tuple[list[dict[str, Any]], list[str]]:
    """One page of changes from ``edits`` (kind, a number picking the record); the ids of the cases
    whose rows a resync replaces (deleted before the page is applied, as ``_replace_unseen`` does)."""
    cases = sorted(i for (t, i), d in data.items() if t == "case" and d is not None)
    tickets = sorted(i for (t, i), d in data.items() if t == "ticket" and d is not None)
    windows = sorted(ch["id"] for ch in body["changes"] if ch["type"] == "window")
    out: dict[tuple[str, str], dict[str, Any]] = {}
    replace: list[str] = []
    done = NOW - timedelta(minutes=10)
    for kind, n in edits:
        if kind == "ticket":
            tid = tickets[n % len(tickets)]
            d = copy.deepcopy(data["ticket", tid])
            assert d is not None
            if d["status"] == "waiting":
                called = iso(NOW - timedelta(minutes=1))
                d.update(status="called", called_at=called, window_id=windows[n % len(windows)])
            else:
                d.update(status="waiting", called_at=None, issued_at=iso(NOW - timedelta(minutes=31 + n % 20)))
            key = ("ticket", tid)
        elif kind == "new":
            template = next(t for c in cases if (t := data["case", c]) is not None and t["status"] == "in_progress")
            accepted = NOW - timedelta(days=n % 40, minutes=n % 600)
            d = {**copy.deepcopy(template), "status": "in_progress", "completed_at": None, "suspensions": [],
                 "submitted_at": iso(accepted - timedelta(minutes=5)), "window_id": windows[n % len(windows)]}
            d["stages"] = [{"stage": "submitted", "at": iso(accepted - timedelta(minutes=5)), "by": "李四"},
                           {"stage": "accepted", "at": iso(accepted), "by": "李四"}]
            key = ("case", f"C-P-{next(serial):05d}")
        else:
            cid = cases[n % len(cases)]
            key = ("case", cid)
            if key in out and out[key].get("op") == "delete":
                continue
            d = copy.deepcopy(out[key]["data"] if key in out else data[key])
            assert d is not None
            if kind == "delete":
                versions[key] += 1
                out[key] = {"seq": next(serial), "type": "case", "id": cid, "op": "delete", "version": versions[key]}
                data[key] = None
                continue
            if kind == "complete" and d["status"] == "in_progress":
                have = {st["stage"] for st in d["stages"]}
                d["stages"] += [{"stage": s, "at": iso(done), "by": "张三"}
                                for s in ("handled", "reviewed", "decided", "completed") if s not in have]
                d.update(status="completed", completed_at=iso(done))
            elif kind == "fee":
                d["fee_charged"] = "999.00" if d.get("fee_charged") != "999.00" else "0.00"
            elif kind == "window":
                d["window_id"] = windows[n % len(windows)]
            elif kind == "suspend" and d["status"] == "in_progress":
                d["suspensions"] = [{"from": iso(NOW - timedelta(days=1 + n % 12)), "to": None, "reason": "补正"}]
                d["status"] = "suspended"
            elif kind == "resume" and d["status"] == "suspended":
                d["suspensions"] = [{**sp, "to": sp["to"] or iso(NOW - timedelta(hours=1))} for sp in d["suspensions"]]
                d["status"] = "in_progress"
            elif kind == "replace" and cid not in replace:
                replace.append(cid)
            # anything else: sent again as it was (a field no warning reads, or nothing)
        versions[key] = versions.get(key, 0) + 1
        data[key] = d
        out[key] = {"seq": next(serial), "type": key[0], "id": key[1], "op": "upsert", "version": versions[key],
                    "data": d}
    return list(out.values()), replace


def _apply_page(store: Store, changes: list[dict[str, Any]], replace: list[str], *, records: bool) -> ChangedIds:
    from sqlalchemy import delete

    valid, _ = validate_changes(changes)
    with store.write() as s:
        if replace:  # a resync: the local rows it replaces go first, their derived columns with them
            s.execute(delete(CaseRow).where(CaseRow.id.in_(replace)))
        return apply_changes(s, valid, records=records).changed


def _state_rows(store: Store) -> dict[str, tuple[Any, ...]]:
    with store.read() as s:
        return {r[0]: tuple(r) for r in s.execute(select(*WarningState.__table__.c))}


def _case_columns(store: Store) -> dict[str, tuple[Any, ...]]:
    with store.read() as s:
        q = select(CaseRow.id, CaseRow.deleted, CaseRow.promised_due, CaseRow.legal_due, CaseRow.worst_level)
        return {r[0]: tuple(r) for r in s.execute(q)}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pages=st.lists(
        st.lists(st.tuples(st.sampled_from(_EDITS), st.integers(0, 10**6)), min_size=1, max_size=30),
        min_size=1,
        max_size=3,
    ),
    merged=st.booleans(),
    read_back=st.lists(st.integers(0, 10**6), max_size=3),
)
def test_the_pass_given_the_applied_records_writes_and_publishes_what_reading_them_back_and_a_full_pass_do(
    small_store_file: tuple[Path, dict[str, Any]], pages: list[list[tuple[str, int]]], merged: bool,
    read_back: list[int],
) -> None:
    """The monitor told of a page with its records as applied (what the sync engine hands it) does
    not read them back; over any pages (cases completed, suspended, resumed, moved, charged, new,
    deleted, sent again, their rows replaced by a resync; tickets called and waiting), passed one
    by one or merged, some cases also named without their record: its snapshot, warning_states and
    case columns are those of a monitor that reads every change back, match a full evaluation, and
    a full pass at the same instant then finds nothing to write."""
    import shutil
    import tempfile

    path, body = small_store_file
    versions = {(ch["type"], ch["id"]): ch["version"] for ch in body["changes"]}
    data: dict[tuple[str, str], dict[str, Any] | None] = {
        (ch["type"], ch["id"]): ch["data"] for ch in body["changes"] if ch["type"] in ("case", "ticket")
    }
    serial = iter(range(10**6, 2 * 10**6))
    with tempfile.TemporaryDirectory() as tmp:
        stores = []
        for name in ("given", "read"):
            for f in path.parent.glob(path.name + "*"):
                shutil.copy(f, Path(tmp) / f.name.replace("store", name))
            stores.append(open_store(Path(tmp) / f"{name}.db"))
        given, read = stores
        try:
            mg, mr = WarningMonitor(given, SH, clock=Clock(NOW)), WarningMonitor(read, SH, clock=Clock(NOW))
            mg.process(NOW)
            mr.process(NOW)
            cases = sorted(i for (t, i), d in data.items() if t == "case" and d is not None)
            at = NOW
            for k, edits in enumerate(pages):
                changes, replace = _page_of_edits(body, edits, versions, data, serial)
                ids = _apply_page(given, changes, replace, records=True)
                assert set(ids.records.get("case", {})) == ids.ids("case")
                assert _apply_page(read, changes, replace, records=False) == ChangedIds.of(ids.by_type)
                mg.changed(ids)
                mr.changed(ChangedIds.of(ids.by_type))
                if k < len(read_back):  # a case named without its record (as a local act would): read back
                    mg.changed(ChangedIds.of({"case": [cases[read_back[k] % len(cases)]]}))
                if merged and k < len(pages) - 1:
                    continue
                at += timedelta(seconds=1)
                rg, rr = mg.process(at), mr.process(at)
                assert rg.kind == rr.kind == "changes"
                sg, sr = mg.snapshot(), mr.snapshot()
                assert [repr(v) for v in sg.views] == [repr(v) for v in sr.views]  # instants in the same zones too
                assert (dict(sg.by_window), dict(sg.by_department), dict(sg.counts)) == (
                    dict(sr.by_window), dict(sr.by_department), dict(sr.counts))
                assert _state_rows(given) == _state_rows(read)
                assert _case_columns(given) == _case_columns(read)
            assert_matches_full_evaluation(given, mg.snapshot(), at)
            before = mg.snapshot()
            mg.refresh()
            full = mg.process(at)
            assert full.kind == "full" and dict(full.written) == {"states": 0, "columns": 0}
            after = mg.snapshot()
            assert list(after.views) == list(before.views)
            assert (dict(after.by_window), dict(after.by_department), dict(after.counts)) == (
                dict(before.by_window), dict(before.by_department), dict(before.counts))
        finally:
            for s in stores:
                s.close()
