"""Warnings as the operator sees them (supervision-rules.md, "A warning's key …" and the lifecycle
``active → acknowledged → disposed``, ``cleared``), on a real store in a temporary folder.

Records come in as a ``GET /changes`` page would carry them (sync-protocol.md). Every expected
instant is worked out by hand against the 2026 holiday notice. The case used throughout:
accepted Mon 2026-06-01 10:00 (hall time), promised 3, legal 10 working days:
- promised: Tue Jun 2 (1), Wed 3 (2), Thu Jun 4 (3) -> DUE_SOON from Wed Jun 3 00:00,
  OVERDUE yellow from Fri Jun 5 00:00;
- escalation: due(3) from Fri Jun 5 = Mon 8 (1), Tue 9 (2), Wed Jun 10 (3) -> red from Jun 11
  00:00 unless disposed before;
- legal: Jun 2, 3, 4, 5, 8, 9, 10, 11, 12, Mon Jun 15 (10) -> red from Tue Jun 16 00:00.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from supervision import lifecycle
from supervision.ingest import apply_changes, validate_changes
from supervision.lifecycle import ActionRejected, State, acknowledge, dispose, reconcile, warnings_at
from supervision.rules import Code, Level
from supervision.store import Store, open_store
from supervision.store.models import AuditEntry, DispositionRow, OutboxAction, WarningState
from tests.supervision.test_calendar import HOLIDAYS_2026, MAKEUP_2026

SH = ZoneInfo("Asia/Shanghai")
KEY = "C1/OVERDUE"


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH).astimezone(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(SH).isoformat()


class Feed:
    """Builds ``GET /changes`` entries and loads them the way ``import`` does."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.seq = itertools.count(1)

    def load(self, *changes: tuple[str, str, dict[str, Any], int]) -> None:
        raw = [
            {"seq": next(self.seq), "type": t, "id": i, "op": "upsert", "version": v, "data": data}
            for t, i, data, v in changes
        ]
        valid, unknown = validate_changes(raw)
        assert not unknown
        with self.store.write() as s:
            apply_changes(s, valid)


def calendar_2026() -> dict[str, Any]:
    return {
        "year": 2026,
        "holidays": sorted(d.isoformat() for d in HOLIDAYS_2026),
        "workdays": sorted(d.isoformat() for d in MAKEUP_2026),
    }


def case_data(*, fee_charged: str = "80", completed_at: datetime | None = None) -> dict[str, Any]:
    stages = [
        {"stage": "submitted", "at": iso(local(2026, 6, 1, 9, 50))},
        {"stage": "accepted", "at": iso(local(2026, 6, 1, 10)), "by": "王五"},
    ]
    if completed_at is not None:
        stages += [{"stage": s, "at": iso(completed_at)} for s in ("handled", "reviewed", "decided", "completed")]
    return {
        "case_type_id": "T3",
        "window_id": "W1",
        "ticket_id": None,
        "applicant": "张*",
        "submitted_at": iso(local(2026, 6, 1, 9, 50)),
        "status": "completed" if completed_at else "in_progress",
        "stages": stages,
        "suspensions": [],
        "fee_charged": fee_charged,
        "completed_at": iso(completed_at) if completed_at else None,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(tmp_path / "hallwatch.db")
    yield st
    st.close()


@pytest.fixture
def feed(store: Store) -> Feed:
    f = Feed(store)
    f.load(
        ("calendar", "cal-2026", calendar_2026(), 1),
        ("org_unit", "H1", {"name": "市民中心", "parent_id": None, "level": "hall"}, 1),
        ("window", "W1", {"hall_id": "H1", "number": "1", "name": "规划窗口", "department": "规划局"}, 1),
        (
            "case_type",
            "T3",
            {
                "code": "GH-001",
                "name": "建设工程规划许可",
                "department": "规划局",
                "legal_days": 10,
                "promised_days": 3,
                "fee": "80.00",
                "immediate": False,
            },
            1,
        ),
        ("case", "C1", case_data(), 1),
    )
    return f


def sync_reconcile(store: Store, at: datetime) -> dict[str, int]:
    views = warnings_at(store, at, SH)
    with store.write() as s:
        return reconcile(s, views, at)


def row(store: Store, key: str) -> WarningState:
    with store.read() as s:
        r = s.get(WarningState, key)
        assert r is not None
        return r


def written(store: Store) -> tuple[int, int, int]:
    """(outbox rows, disposition rows, audit entries)."""
    with store.read() as s:
        return (
            s.scalar(select(func.count()).select_from(OutboxAction)) or 0,
            s.scalar(select(func.count()).select_from(DispositionRow)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def view(store: Store, at: datetime, key: str = KEY) -> lifecycle.WarningView:
    got = {v.key: v for v in warnings_at(store, at, SH)}
    return got[key]


# -- reading warnings ------------------------------------------------------------------------------
def test_imported_records_give_the_warnings_in_force_at_an_instant(store: Store, feed: Feed) -> None:
    assert warnings_at(store, local(2026, 6, 2, 23, 59, 59), SH) == []
    views = warnings_at(store, local(2026, 6, 3, 12), SH)
    assert [(v.key, v.warning.level, v.state) for v in views] == [("C1/DUE_SOON", Level.NOTICE, State.ACTIVE)]
    js = views[0].as_json(SH)
    assert {k: js[k] for k in ("key", "code", "level", "subject", "state", "since")} == {
        "key": "C1/DUE_SOON",
        "code": "DUE_SOON",
        "level": "notice",
        "subject": "C1",
        "state": "active",
        "since": "2026-06-03T00:00:00+08:00",
    }
    views = warnings_at(store, local(2026, 6, 5), SH)
    assert [(v.key, v.warning.level, v.warning.since) for v in views] == [(KEY, Level.YELLOW, local(2026, 6, 5))]


# -- reconcile -----------------------------------------------------------------------------------
def test_reconcile_persists_states_and_marks_ended_warnings_cleared(store: Store, feed: Feed) -> None:
    assert sync_reconcile(store, local(2026, 6, 3, 12)) == {"raised": 1, "escalated": 0, "cleared": 0}
    r = row(store, "C1/DUE_SOON")
    assert (r.state, r.level, r.max_level, r.code, r.subject, r.window_id) == (
        "active",
        "notice",
        "notice",
        "DUE_SOON",
        "C1",
        "W1",
    )
    assert r.since == local(2026, 6, 3)
    # Fri Jun 5 09:00: DUE_SOON has ended, OVERDUE is raised
    assert sync_reconcile(store, local(2026, 6, 5, 9)) == {"raised": 1, "escalated": 0, "cleared": 1}
    r = row(store, "C1/DUE_SOON")
    assert (r.state, r.cleared_at) == ("cleared", local(2026, 6, 5, 9))
    r = row(store, KEY)
    assert (r.state, r.level, r.max_level, r.since, r.red_since) == (
        "active",
        "yellow",
        "yellow",
        local(2026, 6, 5),
        None,
    )
    # nothing changed: a second pass counts nothing
    assert sync_reconcile(store, local(2026, 6, 5, 10)) == {"raised": 0, "escalated": 0, "cleared": 0}


def test_reconcile_scoped_to_some_subjects_leaves_the_other_subjects_rows_alone(store: Store, feed: Feed) -> None:
    feed.load(("case", "C2", case_data(), 1))
    sync_reconcile(store, local(2026, 6, 5, 9))  # C1 and C2 OVERDUE yellow
    # C1 completes on time... as far as this pass knows, C1 has nothing in force; C2 is not in scope
    with store.write() as s:
        counts = reconcile(s, [], local(2026, 6, 5, 10), subjects=["C1"])
    assert counts == {"raised": 0, "escalated": 0, "cleared": 1}
    assert row(store, KEY).state == "cleared"
    assert row(store, "C2/OVERDUE").state == "active"
    # a view of C2 brought in scope by its warning alone
    c2 = view(store, local(2026, 6, 11), "C2/OVERDUE")
    with store.write() as s:
        assert reconcile(s, [c2], local(2026, 6, 11), subjects=[]) == {"raised": 0, "escalated": 1, "cleared": 0}
    assert (row(store, "C2/OVERDUE").level, row(store, KEY).state) == ("red", "cleared")
    # nothing changed: nothing written, nothing counted
    with store.write() as s:
        assert reconcile(s, [c2], local(2026, 6, 11, 1), subjects=["C2"]) == {"raised": 0, "escalated": 0, "cleared": 0}
    assert row(store, "C2/OVERDUE").updated_at == local(2026, 6, 11)


def test_an_undisposed_yellow_turns_red_and_stays_red_after_the_case_completes(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    assert sync_reconcile(store, local(2026, 6, 11)) == {"raised": 0, "escalated": 1, "cleared": 0}
    r = row(store, KEY)
    assert (r.level, r.max_level, r.red_since) == ("red", "red", local(2026, 6, 11))
    # completed Fri Jun 12 10:00, while red
    feed.load(("case", "C1", case_data(completed_at=local(2026, 6, 12, 10)), 2))
    assert sync_reconcile(store, local(2026, 6, 20)) == {"raised": 0, "escalated": 0, "cleared": 0}
    r = row(store, KEY)
    assert (r.state, r.level, r.max_level, r.red_since) == ("active", "red", "red", local(2026, 6, 11))
    v = view(store, local(2026, 12, 1))
    assert (v.warning.level, v.warning.level_since) == (Level.RED, local(2026, 6, 11))


def test_a_red_that_ends_is_cleared_but_its_max_level_stays_red(store: Store, feed: Feed) -> None:
    feed.load(("case", "C1", case_data(fee_charged="80.01"), 2))
    sync_reconcile(store, local(2026, 6, 2, 12))
    r = row(store, "C1/FEE_MISMATCH")
    assert (r.level, r.max_level, r.red_since) == ("red", "red", local(2026, 6, 1, 10))
    # the fee is corrected (80.00 is the standard 80.00): the mismatch ends
    feed.load(("case", "C1", case_data(fee_charged="80.00"), 3))
    assert sync_reconcile(store, local(2026, 6, 2, 13)) == {"raised": 0, "escalated": 0, "cleared": 1}
    r = row(store, "C1/FEE_MISMATCH")
    assert (r.state, r.cleared_at, r.max_level) == ("cleared", local(2026, 6, 2, 13), "red")


def test_a_level_that_falls_back_keeps_max_level_red(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    sync_reconcile(store, local(2026, 6, 11, 12))  # red: nobody disposed it (as far as we knew)
    # a disposal another terminal made offline on Jun 10 arrives late: it was disposed in time
    feed.load(
        (
            "disposition",
            "D-7",
            {
                "warning": KEY,
                "action": "warning.dispose",
                "measure": "supervise",
                "by": "李四",
                "at": iso(local(2026, 6, 10, 15)),
                "note": "已督办",
                "terminal": "ws-02",
            },
            1,
        )
    )
    assert view(store, local(2026, 6, 11, 13)).warning.level is Level.YELLOW
    sync_reconcile(store, local(2026, 6, 11, 13))
    r = row(store, KEY)
    assert (r.level, r.max_level, r.state) == ("yellow", "red", "disposed")


# -- acknowledge and dispose ---------------------------------------------------------------------
def test_acknowledge_then_dispose_write_one_outbox_row_disposition_and_audit_entry_each(
    store: Store, feed: Feed
) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    assert written(store) == (0, 0, 0)

    ack_at = local(2026, 6, 5, 9, 5)
    ack_id = acknowledge(store, KEY, by="张三", terminal="ws-01", at=ack_at)
    assert written(store) == (1, 1, 1)
    r = row(store, KEY)
    assert (r.state, r.acknowledged_at, r.acknowledged_by) == ("acknowledged", ack_at, "张三")
    with store.read() as s:
        ob = s.get(OutboxAction, ack_id)
        assert ob is not None
        assert (ob.type, ob.payload["type"], ob.payload["warning"], ob.payload["by"]) == (
            "warning.acknowledge",
            "warning.acknowledge",
            KEY,
            "张三",
        )
        assert ob.payload["id"] == ack_id
        assert datetime.fromisoformat(ob.payload["at"]) == ack_at
        d = s.get(DispositionRow, ack_id)
        assert d is not None
        assert (d.warning, d.action, d.by, d.at, d.terminal, d.origin) == (
            KEY,
            "warning.acknowledge",
            "张三",
            ack_at,
            "ws-01",
            "local",
        )
        a = s.scalars(select(AuditEntry)).one()
        assert (a.action, a.actor, a.subject, a.at) == ("warning.acknowledge", "张三", KEY, ack_at)
        assert a.detail is not None and a.detail["id"] == ack_id
    v = view(store, local(2026, 6, 5, 9, 10))
    assert v.state is State.ACKNOWLEDGED
    assert v.acknowledged == (ack_at, "张三")

    dis_at = local(2026, 6, 5, 9, 20)
    dis_id = dispose(store, KEY, "supervise", "已督办承办人，今日办结", by="张三", terminal="ws-01", at=dis_at)
    assert dis_id != ack_id
    assert written(store) == (2, 2, 2)
    r = row(store, KEY)
    assert (r.state, r.disposed_at, r.disposed_by, r.measure, r.note) == (
        "disposed",
        dis_at,
        "张三",
        "supervise",
        "已督办承办人，今日办结",
    )
    with store.read() as s:
        ob = s.get(OutboxAction, dis_id)
        assert ob is not None
        assert (ob.type, ob.payload["warning"], ob.payload["measure"], ob.payload["note"]) == (
            "warning.dispose",
            KEY,
            "supervise",
            "已督办承办人，今日办结",
        )
        d = s.get(DispositionRow, dis_id)
        assert d is not None and (d.action, d.measure, d.note) == (
            "warning.dispose",
            "supervise",
            "已督办承办人，今日办结",
        )
    v = view(store, local(2026, 6, 5, 9, 30))
    assert v.state is State.DISPOSED
    assert v.disposed == (dis_at, "张三", "supervise", "已督办承办人，今日办结")
    # reconcile agrees with what the actions wrote
    sync_reconcile(store, local(2026, 6, 5, 9, 30))
    assert row(store, KEY).state == "disposed"


def test_dispose_is_allowed_straight_from_active(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    dispose(store, KEY, "explain", "申请人补充材料延误", by="张三", terminal="ws-01", at=local(2026, 6, 5, 9, 1))
    assert row(store, KEY).state == "disposed"
    assert written(store) == (1, 1, 1)


def test_invalid_transitions_are_rejected_and_write_nothing(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 3, 12))  # DUE_SOON
    sync_reconcile(store, local(2026, 6, 5, 9))  # DUE_SOON cleared, OVERDUE active
    t = local(2026, 6, 5, 9, 5)

    def rejected(fn: Any, *args: Any, **kw: Any) -> None:
        before = written(store), row(store, KEY).state
        with pytest.raises(ActionRejected):
            fn(store, *args, terminal="ws-01", at=t, **kw)
        assert (written(store), row(store, KEY).state) == before

    rejected(dispose, KEY, "supervise", "", by="张三")  # no note
    rejected(dispose, KEY, "supervise", "   ", by="张三")
    rejected(dispose, "C9/OVERDUE", "supervise", "督办", by="张三")  # not in force
    rejected(acknowledge, "C1/DUE_SOON", by="张三")  # cleared
    rejected(dispose, "C1/DUE_SOON", "supervise", "督办", by="张三")
    rejected(acknowledge, KEY, by=" ")  # nobody named
    with pytest.raises(ValueError):
        dispose(store, KEY, "punish", "督办", by="张三", terminal="ws-01", at=t)  # not a measure
    assert written(store) == (0, 0, 0)

    acknowledge(store, KEY, by="张三", terminal="ws-01", at=t)
    rejected(acknowledge, KEY, by="张三")  # twice
    rejected(acknowledge, KEY, by="李四")
    dispose(store, KEY, "correct", "已纠正", by="张三", terminal="ws-01", at=t)
    rejected(dispose, KEY, "supervise", "再次督办", by="张三")  # twice
    rejected(acknowledge, KEY, by="张三")  # after disposal
    assert written(store) == (2, 2, 2)


def test_an_action_is_written_in_one_transaction(store: Store, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))

    def audit_fails(**_: Any) -> AuditEntry:
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "AuditEntry", audit_fails)
    with pytest.raises(RuntimeError, match="disk full"):
        acknowledge(store, KEY, by="张三", terminal="ws-01", at=local(2026, 6, 5, 9, 5))
    # neither the local effect, nor the disposition, nor the outbox row survived
    assert written(store) == (0, 0, 0)
    assert row(store, KEY).state == "active"


def test_a_yellow_disposed_in_time_stays_yellow_until_the_legal_due_date(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    dispose(store, KEY, "supervise", "已督办", by="张三", terminal="ws-01", at=local(2026, 6, 10, 23, 59, 59))
    v = view(store, local(2026, 6, 11))
    assert (v.warning.level, v.state) == (Level.YELLOW, State.DISPOSED)
    v = view(store, local(2026, 6, 15, 23, 59, 59))
    assert (v.warning.level, v.state) == (Level.YELLOW, State.DISPOSED)


def test_a_level_rise_after_disposal_makes_the_warning_active_again(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    acknowledge(store, KEY, by="张三", terminal="ws-01", at=local(2026, 6, 5, 9, 5))
    dispose(store, KEY, "supervise", "已督办", by="张三", terminal="ws-01", at=local(2026, 6, 5, 9, 20))
    # past the legal due date (end of Mon Jun 15): red, and the red has not been looked at
    v = view(store, local(2026, 6, 16))
    assert (v.warning.level, v.warning.level_since, v.state) == (Level.RED, local(2026, 6, 16), State.ACTIVE)
    assert v.disposed is None and v.acknowledged is None
    assert sync_reconcile(store, local(2026, 6, 16)) == {"raised": 0, "escalated": 1, "cleared": 0}
    r = row(store, KEY)
    assert (r.state, r.level, r.max_level, r.red_since) == ("active", "red", "red", local(2026, 6, 16))
    # so it can be acknowledged and disposed again
    acknowledge(store, KEY, by="李四", terminal="ws-01", at=local(2026, 6, 16, 9))
    assert row(store, KEY).state == "acknowledged"
    dispose(store, KEY, "correct", "已纠错", by="李四", terminal="ws-01", at=local(2026, 6, 16, 9, 30))
    assert view(store, local(2026, 6, 16, 10)).state is State.DISPOSED
    assert written(store) == (4, 4, 4)


def test_actions_are_judged_against_the_live_warning_not_a_stale_state_row(store: Store, feed: Feed) -> None:
    # No reconcile has run since the disposal; the warning has since turned red.
    sync_reconcile(store, local(2026, 6, 5, 9))
    dispose(store, KEY, "supervise", "已督办", by="张三", terminal="ws-01", at=local(2026, 6, 5, 9, 20))
    assert row(store, KEY).state == "disposed"
    acknowledge(store, KEY, by="李四", terminal="ws-01", at=local(2026, 6, 16, 9))
    r = row(store, KEY)
    assert (r.state, r.level, r.max_level) == ("acknowledged", "red", "red")
    # and a warning never reconciled on this terminal can be acted on while it is in force
    with store.write() as s:
        s.delete(s.get(WarningState, KEY))
    dispose(store, KEY, "explain", "已说明", by="李四", terminal="ws-01", at=local(2026, 6, 16, 10))
    assert row(store, KEY).state == "disposed"


# -- dispositions from other terminals -------------------------------------------------------------
def _disposition(action: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"warning": KEY, "action": action, "by": "李四", "at": iso(at), "note": "", "terminal": "ws-02", **extra}


def test_a_synced_disposition_from_another_terminal_sets_the_state(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    at = local(2026, 6, 5, 10)
    feed.load(("disposition", "D-1", _disposition("warning.dispose", at, measure="explain", note="已说明原因"), 1))
    assert view(store, local(2026, 6, 5, 9, 59, 59)).state is State.ACTIVE  # as it was before
    v = view(store, local(2026, 6, 5, 12))
    assert v.state is State.DISPOSED
    assert v.disposed == (at, "李四", "explain", "已说明原因")
    sync_reconcile(store, local(2026, 6, 5, 12))
    r = row(store, KEY)
    assert (r.state, r.disposed_at, r.disposed_by, r.measure, r.note) == (
        "disposed",
        at,
        "李四",
        "explain",
        "已说明原因",
    )
    with pytest.raises(ActionRejected):
        dispose(store, KEY, "supervise", "督办", by="张三", terminal="ws-01", at=local(2026, 6, 5, 13))
    with pytest.raises(ActionRejected):
        acknowledge(store, KEY, by="张三", terminal="ws-01", at=local(2026, 6, 5, 13))
    # it was disposed before the escalation deadline: still yellow on Jun 11
    assert view(store, local(2026, 6, 11, 12)).warning.level is Level.YELLOW


def test_a_synced_acknowledgement_sets_acknowledged(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    at = local(2026, 6, 5, 10)
    feed.load(("disposition", "D-2", _disposition("warning.acknowledge", at), 1))
    v = view(store, local(2026, 6, 5, 12))
    assert (v.state, v.acknowledged) == (State.ACKNOWLEDGED, (at, "李四"))
    sync_reconcile(store, local(2026, 6, 5, 12))
    assert row(store, KEY).state == "acknowledged"
    # an acknowledgement is not a disposal: the yellow escalates at the deadline
    w = view(store, local(2026, 6, 11)).warning
    assert (w.code, w.level, w.level_since) == (Code.OVERDUE, Level.RED, local(2026, 6, 11))


def test_a_red_on_record_survives_the_warning_being_raised_again(store: Store, feed: Feed) -> None:
    sync_reconcile(store, local(2026, 6, 5, 9))
    sync_reconcile(store, local(2026, 6, 11, 9))  # red since Jun 11 00:00 (never disposed)
    assert row(store, KEY).max_level == "red"
    # a 补正 suspension recorded late: Tue Jun 2 10:00 – Tue Jun 9 10:00 = Jun 3, 4, 5, 8, 9 = 5
    # working days, so due Thu Jun 4 -> Fri 5 (1), Mon 8 (2), Tue 9 (3), Wed 10 (4), Thu Jun 11 (5)
    data = case_data()
    data["suspensions"] = [{"from": iso(local(2026, 6, 2, 10)), "to": iso(local(2026, 6, 9, 10)), "reason": "补正"}]
    feed.load(("case", "C1", data, 2))
    sync_reconcile(store, local(2026, 6, 11, 12))  # not overdue any more: cleared, red on record
    r = row(store, KEY)
    assert (r.state, r.max_level) == ("cleared", "red")
    # overdue again from Fri Jun 12 00:00 (yellow): the same key is raised again
    sync_reconcile(store, local(2026, 6, 12, 9))
    r = row(store, KEY)
    assert (r.state, r.level) == ("active", "yellow")
    assert r.max_level == "red"  # "a raised red is kept on record (for performance scoring)"
