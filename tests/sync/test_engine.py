"""The sync engine end to end: a terminal's store against the reference server over real HTTP on
127.0.0.1, with faults injected by the loopback proxy. Every fault test ends with the same oracle
(``tests.sync.oracle.assert_converged``): each action on the server exactly once, each applied or
visibly rejected, the terminal's records equal to the server's, the SQLite file intact."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from supervision import lifecycle
from supervision.lifecycle import Measure
from supervision.store import Store, open_store
from supervision.store.models import (
    AuditEntry,
    BookmarkRow,
    CaseRow,
    DispositionRow,
    OutboxAction,
    SyncState,
    WarningState,
)
from sync.client import MAX_BATCH
from sync.engine import HeartbeatInfo, SyncEngine, SyncStatus
from tests.sync.actions import queue_bookmarks
from tests.sync.conftest import NOW, SH, TOP_ORG, activity_changes, hall_changes
from tests.sync.fault_proxy import Fault, FaultProxy
from tests.sync.oracle import assert_converged, client_records

MakeEngine = Callable[..., SyncEngine]


@pytest.fixture
def proxy(server: Any) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as p:
        yield p


def warning_keys(store: Store, n: int = 3) -> list[str]:
    """Warnings in force at NOW on the terminal, reds and yellows first (for acting on)."""
    views = lifecycle.warnings_at(store, NOW, SH)
    return [v.key for v in views if v.key.split("/")[1] != "POST_LEFT"][:n]


def counts(store: Store, model: Any) -> int:
    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


# -- conformance ---------------------------------------------------------------------------------
def round_trip(central: Any, server_url: str, token: str, local: Store, make_engine: MakeEngine) -> None:
    engine = make_engine(local, server_url, token, bulk_page_limit=500)  # pages of 500 even when catching up
    first = engine.run_once()
    assert first.ok, first.error
    assert first.pages >= 5 and first.upserted == first.received and first.stale == 0
    assert_converged(central, local, token=token)
    again = engine.run_once()
    assert again.ok and again.received == 0 and again.upserted == 0

    keys = warning_keys(local)
    ack = lifecycle.acknowledge(local, keys[0], by="张三", terminal="ws-01", at=NOW, tz=SH)
    disp = lifecycle.dispose(local, keys[1], Measure.SUPERVISE, "已督办", by="张三", terminal="ws-01", at=NOW, tz=SH)
    [bookmark] = queue_bookmarks(local, 1, camera_id="cam-A01", at=NOW)
    third = engine.run_once()
    assert third.ok, third.error
    assert third.pushed == {"applied": 3}
    assert third.upserted >= 3  # the dispositions and the bookmark came back in the same round
    with local.read() as s:
        rows = {r.id: r for r in s.scalars(select(DispositionRow))}
        assert set(rows) == {ack, disp}  # the server's copies replaced the local ones: no duplicates
        assert {r.origin for r in rows.values()} == {"synced"} and all(r.version >= 1 for r in rows.values())
        b = s.get(BookmarkRow, bookmark)
        assert b is not None and b.origin == "synced"
        st = s.get(SyncState, 1)
        assert st is not None and st.cursor and st.epoch == central.epoch and st.last_success_at is not None
    status = engine.status()
    assert status.state == "idle" and status.pending_actions == 0 and status.last_error is None
    assert status.clock_offset_s is not None and abs(status.clock_offset_s) < 5 and not status.clock_warning
    states = assert_converged(central, local, [ack, disp, bookmark], token=token)
    assert set(states.values()) == {"applied"}


def test_round_trip_on_sqlite(central: Any, server: Any, token: str, local: Store, make_engine: MakeEngine) -> None:
    round_trip(central, server.url, token, local, make_engine)


def test_round_trip_on_postgresql(postgres_url: str, make_engine: MakeEngine) -> None:
    """The server's database and the terminal's store both on PostgreSQL."""
    from sqlalchemy import create_engine, text

    from sync.server.store import CentralStore
    from sync.server.testing import ServerThread

    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    terminal_db = postgres_url + "_terminal"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{terminal_db.rsplit("/", 1)[1]}"'))
    admin.dispose()
    central = CentralStore(postgres_url)
    local = open_store(terminal_db)
    try:
        central.publish(hall_changes())
        central.publish(activity_changes())
        token = central.add_terminal("ws-01", "operator", TOP_ORG)
        with ServerThread(central) as srv:
            round_trip(central, srv.url, token, local, make_engine)
    finally:
        local.close()
        central.close()


# -- (a) the answer lost after the server committed ------------------------------------------------
def test_push_answer_lost_after_commit(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token, client_kw={"retries": 0})
    assert engine.run_once().ok
    keys = warning_keys(local)
    ids = [lifecycle.acknowledge(local, k, by="张三", terminal="ws-01", at=NOW, tz=SH) for k in keys]
    ids += queue_bookmarks(local, 5, camera_id="cam-A01", at=NOW)
    proxy.add(Fault("drop", path="/api/v1/actions"))
    lost = engine.run_once()
    assert not lost.ok and lost.state == "offline" and "connection" in (lost.error or "")
    assert len(central.actions()) == len(ids)  # the server has them all …
    with local.read() as s:  # … the terminal still waits for an answer, and said it tried
        rows = list(s.scalars(select(OutboxAction)))
        assert len(rows) == len(ids) and all(r.attempts == 1 and r.last_error for r in rows)
    again = engine.run_once()
    assert again.ok and again.pushed == {"duplicate": len(ids)}
    assert_converged(central, local, ids, token=token)


def test_push_answer_lost_is_retried_within_the_round(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token)
    assert engine.run_once().ok
    ids = queue_bookmarks(local, 3, camera_id="cam-A01", at=NOW)
    proxy.add(Fault("drop", path="/api/v1/actions"), Fault("drop", path="/api/v1/changes"))
    report = engine.run_once()
    assert report.ok, report.error
    assert report.pushed == {"duplicate": 3}
    assert_converged(central, local, ids, token=token)


# -- (b) a long time offline ------------------------------------------------------------------------
@pytest.mark.slow  # ~15 s: the reference server applies 10 000 actions
def test_ten_thousand_actions_queued_offline_go_out_in_batches(
    central: Any, token: str, server: Any, local: Store, make_engine: MakeEngine
) -> None:
    with FaultProxy(server.url) as proxy:
        engine = make_engine(local, proxy.url, token, client_kw={"retries": 1})
        assert engine.run_once().ok
        keys = warning_keys(local, 3)
        ids = [lifecycle.acknowledge(local, k, by="张三", terminal="ws-01", at=NOW, tz=SH) for k in keys]
        ids += queue_bookmarks(local, 10_000, camera_id="cam-A01", at=NOW)
        proxy.add(Fault("cut", times=10**6))  # the network is gone
        down = engine.run_once()
        assert not down.ok and down.state == "offline"
        status = engine.status()
        assert status.state == "offline" and status.offline_since is not None and status.last_error
        assert status.pending_actions == len(ids)
        down2 = engine.run_once()
        assert engine.status().offline_since == status.offline_since  # offline since the first failure
        assert not down2.ok
        proxy.clear()
        back = engine.run_once()
        assert back.ok, back.error
        assert back.pushed == {"applied": len(ids)}
        posts = [e for e in proxy.requests_to("/api/v1/actions") if e.status == 200]
        assert len(posts) == -(-len(ids) // MAX_BATCH)
        batches = [json.loads(e.plain_request())["actions"] for e in posts]
        assert max(len(b) for b in batches) <= MAX_BATCH
        assert [a["id"] for b in batches for a in b] == ids  # every action once, oldest first
        assert engine.status().offline_since is None and engine.status().pending_actions == 0
        assert_converged(central, local, ids, token=token)


# -- (d) replayed and overlapping pages ------------------------------------------------------------
def test_replayed_and_overlapping_pages_change_nothing(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token, bulk_page_limit=500)
    assert engine.run_once().ok
    pages = [e.plain_response() for e in proxy.requests_to("/api/v1/changes")]
    # The server moves on: some cases change (version 2) …
    current = central.current("case")
    cases = sorted(k[1] for k in current)[:20]
    central.publish(
        [
            {"type": "case", "id": c, "op": "upsert", "data": {**current[("case", c)][1], "applicant": "王*"}}
            for c in cases
        ]
    )
    # … and the proxy answers the next pulls with old pages again: the first page (old versions),
    # then a page overlapping the previous one.
    proxy.add(
        Fault("body", path="/api/v1/changes", body=pages[0]), Fault("body", path="/api/v1/changes", body=pages[1])
    )
    report = engine.run_once()
    assert report.ok, report.error
    assert report.stale >= 1  # the replayed page's records were not newer: nothing went back
    with local.read() as s:
        assert {r.version for r in s.scalars(select(CaseRow).where(CaseRow.id.in_(cases)))} == {2}
    assert_converged(central, local, token=token)


# -- (e) deletes while offline, then 410 -------------------------------------------------------------
def test_deletes_while_offline_then_compaction_410(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    # The full pull fits one page (5000 while catching up): the reference server's compaction floor
    # also expires the cursors of a full pull that started after the compaction.
    engine = make_engine(local, proxy.url, token)
    assert engine.run_once().ok
    gone = sorted(k[1] for k in central.current("case"))[:30]
    pending = queue_bookmarks(local, 4, camera_id="cam-A01", at=NOW)
    # While the terminal is away: cases deleted, others changed, and the server compacts its history
    # (the tombstones are gone: a full pull cannot tell the terminal about the deletes).
    central.publish([{"type": "case", "id": cid, "op": "delete", "data": None} for cid in gone])
    tickets = list(central.current("ticket").items())[:50]
    central.publish(
        [
            {"type": "ticket", "id": tid, "op": "upsert", "data": {**data, "status": "done"}}
            for (_, tid), (_, data) in tickets
        ]
    )
    central.compact(central.last_seq + 1)
    # The push is refused this round (403) so the outbox is still full while the resync runs.
    proxy.add(Fault("status", path="/api/v1/actions", status=403, body=b'{"error":{"code":"forbidden","message":"x"}}'))
    report = engine.run_once()
    assert report.resync == "cursor_expired" and report.removed >= len(gone)
    assert not report.ok and report.state == "idle"  # the push was refused; the data is in step
    with local.read() as s:
        assert s.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.id.in_(gone))) == 0  # really gone
        assert s.scalar(select(func.count()).select_from(BookmarkRow).where(BookmarkRow.id.in_(pending))) == 4
        assert s.scalar(select(func.count()).select_from(OutboxAction)) == 4
        assert s.get(SyncState, 1).resync is None  # type: ignore[union-attr]
    final = engine.run_once()
    assert final.ok and final.pushed == {"applied": 4}
    assert_converged(central, local, pending, token=token)


def test_a_resync_cut_short_resumes_where_it_stopped(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token, bulk_page_limit=500, client_kw={"retries": 0})
    assert engine.run_once().ok
    # Records the terminal has from before a restore that the restored server does not have.
    lost = [f"C-LOST-{i}" for i in range(25)]
    with local.write() as s:
        for cid in lost:
            s.add(CaseRow(id=cid, version=3, deleted=False, seq=10**6, case_type_id="ct-scjg-001", status="accepted"))
    central.new_epoch()
    # GET /changes: the old cursor (410 from the server), the resync's first page, then the
    # network fails while the second page is fetched.
    proxy.add(
        Fault("delay", path="/api/v1/changes"),
        Fault("delay", path="/api/v1/changes"),
        Fault("cut", path="/api/v1/changes"),
    )
    report = engine.run_once()
    assert not report.ok and report.resync == "epoch_mismatch" and report.pages == 1
    with local.read() as s:
        st = s.get(SyncState, 1)
        assert st is not None and st.resync == "epoch_mismatch" and st.cursor is not None
        assert s.scalar(select(func.count()).select_from(CaseRow).where(CaseRow.id.in_(lost))) == len(lost)
    assert engine.status().resync == "epoch_mismatch"
    resumed = engine.run_once()  # goes on from the stored cursor, not from the beginning
    assert resumed.ok and resumed.resync == "epoch_mismatch" and resumed.removed == len(lost)
    assert resumed.received < len(central.current())  # it did not start over
    assert engine.status().resync is None
    assert_converged(central, local, token=token)


# -- (f) the server restored from a backup -----------------------------------------------------------
def test_server_restored_from_backup_new_epoch(
    tmp_path: Path, central: Any, token: str, local: Store, make_engine: MakeEngine
) -> None:
    import sqlite3

    from sync.server.store import CentralStore
    from sync.server.testing import ServerThread

    with ServerThread(central) as srv, FaultProxy(srv.url) as proxy:
        engine = make_engine(local, proxy.url, token)
        keys = warning_keys(local) if engine.run_once().ok else []
        before = [lifecycle.acknowledge(local, keys[0], by="张三", terminal="ws-01", at=NOW, tz=SH)]
        before += queue_bookmarks(local, 3, camera_id="cam-A01", at=NOW)
        assert engine.run_once().ok
        backup = tmp_path / "backup.db"
        src = sqlite3.connect(str(central.url.database))
        dst = sqlite3.connect(str(backup))
        src.backup(dst)
        src.close()
        dst.close()
        # After the backup: more activity, more actions (these the restore will lose).
        central.publish(
            [
                {"type": "case", "id": cid, "op": "upsert", "data": {**data, "applicant": "赵*"}}
                for (_, cid), (_, data) in list(central.current("case").items())[:40]
            ]
        )
        after = [
            lifecycle.dispose(local, keys[1], Measure.EXPLAIN, "已说明", by="张三", terminal="ws-01", at=NOW, tz=SH)
        ]
        after += queue_bookmarks(local, 3, camera_id="cam-A02", at=NOW + timedelta(minutes=1))
        assert engine.run_once().ok
        assert len(central.actions()) == 8
        with local.read() as s:
            newer = dict(s.execute(select(CaseRow.id, CaseRow.version).where(CaseRow.version > 1)).all())
        assert len(newer) == 40
    restored = CentralStore(backup)
    try:
        restored.new_epoch()
        assert len(restored.actions()) == 4
        with ServerThread(restored) as srv:
            engine.client.close()
            engine2 = make_engine(local, srv.url, token)
            report = engine2.run_once()
            assert report.ok, report.error
            assert report.resync == "epoch_mismatch"
            # The actions the restore lost were queued again under their ids and pushed in the same round.
            assert report.requeued == 4 and report.pushed == {"applied": 4}
            with local.read() as s:
                # Records the restored server has at lower versions replaced the terminal's newer ones.
                now = dict(s.execute(select(CaseRow.id, CaseRow.version).where(CaseRow.id.in_(newer))).all())
            assert all(now[c] < newer[c] for c in newer)
            assert_converged(restored, local, before + after, token=token)
    finally:
        restored.close()


# -- (g) statuses at the engine --------------------------------------------------------------------
def test_401_stops_the_engine_and_says_so(central: Any, server: Any, local: Store, make_engine: MakeEngine) -> None:
    engine = make_engine(local, server.url, "revoked-token", interval=0.05)
    seen: list[SyncStatus] = []
    engine.add_listener(seen.append)
    engine.start()
    deadline = time.monotonic() + 5
    while engine.is_running() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not engine.is_running()  # no retry loop
    status = engine.status()
    assert status.state == "unauthorized" and "new token" in (status.last_error or "")
    assert [s.state for s in seen] == ["idle", "syncing", "unauthorized"]
    engine.stop()
    assert engine.status().state == "unauthorized"


@pytest.mark.parametrize("retry_after", ["1", "date", "soon"])
def test_503_with_retry_after_then_the_round_completes(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine, retry_after: str
) -> None:
    import email.utils

    value = (
        email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=1), usegmt=True)
        if retry_after == "date"
        else retry_after
    )
    for path in ("/api/v1/changes", "/api/v1/heartbeat"):
        proxy.add(
            Fault(
                "status",
                path=path,
                status=503,
                headers={"Retry-After": value},
                body=b'{"error":{"code":"unavailable","message":"maintenance"}}',
            )
        )
    engine = make_engine(local, proxy.url, token)
    report = engine.run_once()
    assert report.ok, report.error
    assert_converged(central, local, token=token)


def test_a_malformed_page_writes_nothing_and_says_what_is_wrong(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token)
    assert engine.run_once().ok
    central.publish(activity_changes()[:10])
    before = client_records(local)
    with local.read() as s:
        cursor = s.get(SyncState, 1).cursor  # type: ignore[union-attr]
    bad = {
        "epoch": central.epoch,
        "changes": [
            {"seq": 10**6, "type": "case", "id": "C-X", "op": "upsert", "version": 9, "data": {"case_type_id": 5}}
        ],
        "next_cursor": "x",
        "has_more": False,
    }
    proxy.add(Fault("body", path="/api/v1/changes", body=json.dumps(bad).encode()))
    report = engine.run_once()
    assert not report.ok and report.state == "idle"  # the server answered: a bad page is not "offline"
    assert "case 'C-X'" in (report.error or "") and "case_type_id" in (report.error or "")
    assert report.error is not None and report.error.startswith("the server's answer was not understood")
    assert client_records(local) == before
    with local.read() as s:
        assert s.get(SyncState, 1).cursor == cursor  # type: ignore[union-attr]
    assert engine.run_once().ok
    assert_converged(central, local, token=token)


def test_unknown_types_and_fields_are_skipped_and_the_cursor_advances(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token)
    assert engine.run_once().ok
    central.publish(activity_changes()[:3])

    def future(body: bytes) -> bytes:  # a newer server: a record type and a field this client does not know
        page = json.loads(body)
        page["changes"][0]["data"]["colour"] = "blue"
        page["changes"].insert(
            1,
            {
                "seq": page["changes"][0]["seq"],
                "type": "queue_display",
                "id": "qd-1",
                "op": "upsert",
                "version": 1,
                "data": {"x": 1},
            },
        )
        for i, ch in enumerate(page["changes"]):
            ch["seq"] = i + 10**6 if ch["type"] == "queue_display" else ch["seq"]
        page["changes"].sort(key=lambda c: c["seq"])
        page["hint"] = "ignored"
        return json.dumps(page).encode()

    proxy.add(Fault("rewrite", path="/api/v1/changes", rewrite=future))
    report = engine.run_once()
    assert report.ok, report.error
    assert report.unknown == 1 and report.upserted == 3
    with local.read() as s:
        assert (
            s.get(SyncState, 1).cursor
            == json.loads(  # type: ignore[union-attr]
                proxy.requests_to("/api/v1/changes")[-1].plain_response()
            )["next_cursor"]
        )
    assert_converged(central, local, token=token)


def test_a_leader_token_may_not_push_warning_actions(
    central: Any, server: Any, local: Store, make_engine: MakeEngine
) -> None:
    leader = central.add_terminal("lead-01", "leader", TOP_ORG)
    engine = make_engine(local, server.url, leader, terminal="lead-01")
    assert engine.run_once().ok
    [key] = warning_keys(local, 1)
    ids = [lifecycle.acknowledge(local, key, by="领导", terminal="lead-01", at=NOW, tz=SH)]
    report = engine.run_once()
    assert not report.ok and report.state == "idle" and "403" in (report.error or "")
    with local.read() as s:  # kept, not lost: the token's role is an administrator's mistake to fix
        [row] = s.scalars(select(OutboxAction)).all()
        assert row.id == ids[0] and row.attempts == 1 and "403" in (row.last_error or "")
    assert central.actions() == []


def test_the_heartbeat_carries_cameras_warning_counts_and_relay(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    cameras = [{"id": "cam-A01", "online": True, "recording": True}, {"id": "cam-A02", "online": False}]
    engine = make_engine(
        local,
        proxy.url,
        token,
        heartbeat_info=lambda: HeartbeatInfo(cameras=cameras, relay_url="http://10.0.0.8:8080/live/"),
    )
    assert engine.run_once().ok
    with local.write() as s:
        lifecycle.reconcile(s, lifecycle.warnings_at(local, NOW, SH), NOW)
        red = s.scalar(select(func.count()).select_from(WarningState).where(WarningState.level == "red"))
    assert engine.run_once().ok
    sent = json.loads(proxy.requests_to("/api/v1/heartbeat")[-1].plain_request())
    assert sent["terminal"] == "ws-01" and sent["cameras"] == cameras
    assert sent["relay_url"] == "http://10.0.0.8:8080/live/"
    assert sent["warnings"]["red"] == red and red > 0  # counted from the store when not supplied
    assert datetime.fromisoformat(sent["sent_at"]).tzinfo is not None
    assert_converged(central, local, token=token)


# -- (i) a wrong terminal clock ---------------------------------------------------------------------
@pytest.mark.parametrize("skew_h", [3, -3])
def test_a_clock_three_hours_off_works_and_is_reported(
    central: Any, token: str, server: Any, local: Store, make_engine: MakeEngine, skew_h: int
) -> None:
    engine = make_engine(local, server.url, token, clock=lambda: datetime.now(UTC) + timedelta(hours=skew_h))
    keys = warning_keys(local) if engine.run_once().ok else []
    ids = [lifecycle.acknowledge(local, keys[0], by="张三", terminal="ws-01", at=NOW, tz=SH)]
    report = engine.run_once()
    assert report.ok and report.pushed == {"applied": 1}
    assert report.clock_offset_s == pytest.approx(-skew_h * 3600, abs=5)
    status = engine.status()
    assert status.clock_warning and status.clock_offset_s == report.clock_offset_s
    assert_converged(central, local, ids, token=token)


# -- (j) two operators, one warning ----------------------------------------------------------------
def test_two_operators_dispose_the_same_warning(
    tmp_path: Path, central: Any, server: Any, make_engine: MakeEngine
) -> None:
    t1 = central.add_terminal("ws-01", "operator", TOP_ORG)
    t2 = central.add_terminal("ws-02", "operator", TOP_ORG)
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    try:
        ea = make_engine(a, server.url, t1, terminal="ws-01")
        eb = make_engine(b, server.url, t2, terminal="ws-02")
        assert ea.run_once().ok and eb.run_once().ok
        key = warning_keys(a, 1)[0]
        for store in (a, b):  # both operators see the warning active and reconcile their lights
            with store.write() as s:
                lifecycle.reconcile(s, lifecycle.warnings_at(store, NOW, SH), NOW)
        first = lifecycle.dispose(a, key, Measure.SUPERVISE, "督办甲", by="张三", terminal="ws-01", at=NOW, tz=SH)
        second = lifecycle.dispose(
            b, key, Measure.CORRECT, "纠错乙", by="李四", terminal="ws-02", at=NOW + timedelta(minutes=1), tz=SH
        )
        ra = ea.run_once()
        rb = eb.run_once()
        assert ra.pushed == {"applied": 1} and rb.pushed == {"rejected": 1}
        with b.read() as s:
            assert s.get(DispositionRow, second) is None  # the local effect was taken back
            ws = s.get(WarningState, key)
            assert ws is not None and ws.rejected_code == "superseded" and ws.rejected_at is not None
            audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "sync.rejected")).one()
            assert audit.subject == key and audit.detail and audit.detail["code"] == "superseded"
            theirs = s.get(DispositionRow, first)
            assert theirs is not None and theirs.by == "张三"  # the operator sees who got there first
        [view] = [v for v in lifecycle.warnings_at(b, NOW + timedelta(minutes=2), SH) if v.key == key]
        assert view.state is lifecycle.State.DISPOSED and view.disposed and view.disposed[1] == "张三"
        assert ea.run_once().ok
        assert assert_converged(central, a, [first], token=t1) == {first: "applied"}
        assert assert_converged(central, b, [second], token=t2) == {second: "rejected"}
    finally:
        a.close()
        b.close()


def test_a_rejected_disposition_is_reported_as_changed_for_the_warning_monitor(
    tmp_path: Path, central: Any, server: Any, make_engine: MakeEngine
) -> None:
    """Taking back a rejected disposition changes the warning's state: ``on_applied`` names the
    disposition (the monitor re-judges its warning), even when no page brings it back."""
    t1 = central.add_terminal("ws-01", "operator", TOP_ORG)
    t2 = central.add_terminal("ws-02", "operator", TOP_ORG)
    a, b = open_store(tmp_path / "a.db"), open_store(tmp_path / "b.db")
    applied: list[tuple[frozenset[str], bool]] = []
    try:
        ea = make_engine(a, server.url, t1, terminal="ws-01")
        eb = make_engine(b, server.url, t2, terminal="ws-02",
                         on_applied=lambda report, resynced: applied.append(
                             (report.changed.ids("disposition"), resynced)))
        assert ea.run_once().ok and eb.run_once().ok
        key = warning_keys(a, 1)[0]
        first = lifecycle.dispose(a, key, Measure.SUPERVISE, "督办甲", by="张三", terminal="ws-01", at=NOW, tz=SH)
        second = lifecycle.dispose(
            b, key, Measure.CORRECT, "纠错乙", by="李四", terminal="ws-02", at=NOW + timedelta(minutes=1), tz=SH
        )
        assert ea.run_once().pushed == {"applied": 1}
        applied.clear()
        rb = eb.run_once()
        assert rb.pushed == {"rejected": 1}
        with b.read() as s:
            assert s.get(DispositionRow, second) is None
        named = set().union(*(ids for ids, _ in applied))
        assert second in named, applied  # the rejected one, not only the winner the pull brought
        assert first in named
        assert not any(resynced for _, resynced in applied)
    finally:
        a.close()
        b.close()


# -- the thread --------------------------------------------------------------------------------------
def test_the_worker_runs_rounds_on_trigger_and_stops_within_a_second(
    central: Any, token: str, server: Any, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, server.url, token, interval=60)
    rounds = threading.Semaphore(0)
    engine.add_listener(lambda st: rounds.release() if st.state == "idle" and st.last_success else None)
    engine.start()
    assert rounds.acquire(timeout=10)  # the first round runs at once
    ids = queue_bookmarks(local, 2, camera_id="cam-A01", at=NOW)
    engine.trigger()  # as the UI does right after a local action, long before the 60 s interval
    assert rounds.acquire(timeout=10)
    assert engine.status().pending_actions == 0 and len(central.actions()) == 2
    t0 = time.monotonic()
    engine.stop()
    assert time.monotonic() - t0 < 1.0 and not engine.is_running()
    assert engine.status().state == "stopped"
    assert_converged(central, local, ids, token=token)
