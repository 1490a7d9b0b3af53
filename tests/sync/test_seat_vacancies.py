"""``seat_vacancy.report`` end to end: a terminal's own vacancies through the outbox to the reference
server over real HTTP, published as ``seat_vacancy`` records and back, judged into ``POST_LEFT`` on
both sides without duplicates; a full resync keeps the reports still waiting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from supervision import lifecycle
from supervision.actions import new_action_id
from supervision.seats import close_vacancy, open_vacancy, vacancy_payload
from supervision.store import Store
from supervision.store.models import OutboxAction, SeatVacancyRow
from sync.engine import SyncEngine
from tests.sync.conftest import NOW, SH
from tests.sync.fault_proxy import Fault, FaultProxy
from tests.sync.oracle import assert_converged

MakeEngine = Callable[..., SyncEngine]
WINDOW, CAMERA = "win-B05", "cam-B05"


@pytest.fixture
def proxy(server: Any) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as p:
        yield p


def post_left(store: Store, window: str = WINDOW) -> list[lifecycle.WarningView]:
    return [v for v in lifecycle.warnings_at(store, NOW, SH) if v.key == f"{window}/POST_LEFT"]


def outbox_ids(store: Store) -> list[str]:
    with store.read() as s:
        return list(s.scalars(select(OutboxAction.id).order_by(OutboxAction.created_at)))


def test_a_vacancy_is_reported_published_and_comes_back_as_one_record(
    central: Any, server: Any, token: str, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, server.url, token)
    assert engine.run_once().ok
    assert post_left(local) == []  # the demo's activity leaves this window's seat alone at NOW
    vid = open_vacancy(local, camera_id=CAMERA, window_id=WINDOW, started_at=NOW - timedelta(minutes=30),
                       now=NOW - timedelta(minutes=29))
    # Judged at once, offline: more than 15 office-hours minutes empty.
    [local_warning] = post_left(local)
    assert local_warning.warning.detail["vacancy_id"] == vid
    assert local_warning.warning.since == NOW - timedelta(minutes=15)
    started = outbox_ids(local)

    report = engine.run_once()
    assert report.ok, report.error
    assert report.pushed == {"applied": 1}
    version, data = central.current("seat_vacancy")[("seat_vacancy", vid)]
    assert data["window_id"] == WINDOW and data["camera_id"] == CAMERA and data["ended_at"] is None
    with local.read() as s:
        rows = list(s.scalars(select(SeatVacancyRow).where(SeatVacancyRow.window_id == WINDOW)))
        assert [(r.id, r.origin, r.version) for r in rows] == [(vid, "synced", version)]  # replaced, not doubled
    [again] = post_left(local)
    assert again.warning.detail["vacancy_id"] == vid and again.warning.since == local_warning.warning.since

    # The server judges POST_LEFT from the published record too: an acknowledgement is applied.
    ack = lifecycle.acknowledge(local, f"{WINDOW}/POST_LEFT", by="张三", terminal="ws-01", at=NOW, tz=SH)
    assert close_vacancy(local, vid, NOW + timedelta(minutes=5), now=NOW + timedelta(minutes=5))
    ended = outbox_ids(local)
    report = engine.run_once()
    assert report.ok and report.pushed == {"applied": 2}, report
    _, data = central.current("seat_vacancy")[("seat_vacancy", vid)]
    assert data["ended_at"] is not None
    states = assert_converged(central, local, started + ended, token=token)
    assert set(states.values()) == {"applied"} and ack in ended


def test_the_server_checks_each_report(
    central: Any, server: Any, token: str, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, server.url, token)
    start, end = NOW - timedelta(minutes=20), NOW - timedelta(minutes=2)

    def report(vid: str, *, window: str = WINDOW, ended: Any = None, begun: Any = start) -> dict[str, Any]:
        return vacancy_payload(new_action_id(), vid, window_id=window, camera_id=CAMERA, started_at=begun,
                               ended_at=ended, at=ended or begun)

    first, closing = report("V-1"), report("V-1", ended=end)
    late_start = report("V-1")  # the start sent again after the end (a resend under a new id)
    results = engine.client.push("ws-01", [
        first, closing, late_start,
        report("V-2", ended=start - timedelta(minutes=1)),  # ends before it began
        report("V-3", window="win-nowhere"),
        report("V-1", window="win-B06", ended=end),  # the same vacancy id for another window
        {**report("V-4"), "started_at": "yesterday"},
    ])
    got = [(r.status, r.code or None) for r in results]
    assert got == [("applied", None), ("applied", None), ("applied", None), ("rejected", "invalid"),
                   ("rejected", "unknown_window"), ("rejected", "invalid"), ("rejected", "invalid")]
    version, data = central.current("seat_vacancy")[("seat_vacancy", "V-1")]
    assert version == 2 and data["ended_at"] is not None  # the late start reopened nothing
    assert ("seat_vacancy", "V-2") not in central.current("seat_vacancy")


def test_a_full_resync_keeps_the_vacancies_still_waiting_in_the_outbox(
    central: Any, token: str, proxy: FaultProxy, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, proxy.url, token)
    assert engine.run_once().ok
    vid = open_vacancy(local, camera_id=CAMERA, window_id=WINDOW, started_at=NOW - timedelta(minutes=40),
                       now=NOW - timedelta(minutes=40))
    assert engine.run_once().pushed == {"applied": 1}  # the server has it open
    # Then, unpushed: it ends; another window's seat empties.
    assert close_vacancy(local, vid, NOW - timedelta(minutes=10), now=NOW - timedelta(minutes=10))
    other = open_vacancy(local, camera_id="cam-B06", window_id="win-B06", started_at=NOW - timedelta(minutes=25),
                         now=NOW - timedelta(minutes=25))
    pending = outbox_ids(local)
    assert len(pending) == 2
    # While the terminal is away the server changes and compacts its history: 410, a full resync.
    [case_id] = sorted(k[1] for k in central.current("case"))[:1]
    central.publish([{"type": "case", "id": case_id, "op": "delete", "data": None}])
    central.compact(central.last_seq + 1)
    proxy.add(Fault("status", path="/api/v1/actions", status=403, body=b'{"error":{"code":"forbidden","message":"x"}}'))
    report = engine.run_once()
    assert report.resync == "cursor_expired" and not report.ok
    with local.read() as s:
        rows = {r.id: r for r in s.scalars(select(SeatVacancyRow).where(SeatVacancyRow.id.in_([vid, other])))}
        assert set(rows) == {vid, other} and {r.origin for r in rows.values()} == {"local"}
        # The server's copy (still open) did not undo the end waiting to be pushed.
        assert rows[vid].ended_at == NOW - timedelta(minutes=10) and rows[other].ended_at is None
        assert s.scalar(select(func.count()).select_from(OutboxAction)) == 2
    assert [v.warning.detail["vacancy_id"] for v in post_left(local, "win-B06")] == [other]
    assert post_left(local) == []
    final = engine.run_once()
    assert final.ok and final.pushed == {"applied": 2}
    assert_converged(central, local, pending, token=token)


def test_a_server_restored_from_a_backup_gets_the_reports_it_lost_again(
    tmp_path: Any, central: Any, token: str, local: Store, make_engine: MakeEngine
) -> None:
    import sqlite3

    from sync.server.store import CentralStore
    from sync.server.testing import ServerThread

    with ServerThread(central) as srv:
        engine = make_engine(local, srv.url, token)
        assert engine.run_once().ok
        kept = open_vacancy(local, camera_id=CAMERA, window_id=WINDOW, started_at=NOW - timedelta(minutes=50),
                            now=NOW - timedelta(minutes=50))
        assert engine.run_once().pushed == {"applied": 1}
        backup = tmp_path / "backup.db"
        src, dst = sqlite3.connect(str(central.url.database)), sqlite3.connect(str(backup))
        src.backup(dst)
        src.close()
        dst.close()
        # After the backup: the first vacancy ends, another one comes and goes (the restore loses both).
        assert close_vacancy(local, kept, NOW - timedelta(minutes=20), now=NOW - timedelta(minutes=20))
        gone = open_vacancy(local, camera_id="cam-B06", window_id="win-B06", started_at=NOW - timedelta(minutes=19),
                            now=NOW - timedelta(minutes=19))
        assert close_vacancy(local, gone, NOW - timedelta(minutes=2), now=NOW - timedelta(minutes=2))
        assert engine.run_once().pushed == {"applied": 3}
    engine.client.close()
    restored = CentralStore(backup)
    try:
        restored.new_epoch()
        assert restored.current("seat_vacancy")[("seat_vacancy", kept)][1]["ended_at"] is None
        with ServerThread(restored) as srv:
            report = make_engine(local, srv.url, token).run_once()
            assert report.ok, report.error
            assert report.resync == "epoch_mismatch" and report.requeued == 2 and report.pushed == {"applied": 2}
            now = restored.current("seat_vacancy")
            assert now[("seat_vacancy", kept)][1]["ended_at"] is not None
            assert now[("seat_vacancy", gone)][1]["ended_at"] is not None
            assert post_left(local) == []  # both ended: the restored server's open copy did not bring it back
            assert_converged(restored, local, token=token)
    finally:
        restored.close()
