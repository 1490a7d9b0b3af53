"""The terminal's staff-seat analytics (app/seats.py) on a real synthetic camera: the staff member
leaves on a script, the occupancy consumer on the camera's sub-stream sees it, the terminal writes
its own vacancy with the JPEG of the moment and reports it, closes it when the seat is taken again,
and follows regions changed live; a restart after a crash closes what was left open."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.seats import SNAPSHOT_DIR, OccupancyService, seat_consumer
from app.terminal import Terminal
from supervision.config import CameraEntry, Config, SeatEntry
from supervision.seats import REPORT_ACTION, open_vacancies, open_vacancy
from supervision.store.models import OutboxAction, OwnVacancy, SeatVacancyRow
from tests.video.waiting import FAST, wait_for
from video.camera import Camera
from video.synthetic import CameraSpec, SyntheticCameraServer
from video.synthetic.staffing import ScriptedScene, SeatScript

PRESENT_S, AWAY_S = 8.0, 60.0  # the staff member sits, leaves for a minute, comes back


class Script:
    """In the seat except for ``[away_from, away_to)`` (POSIX wall seconds): the truth."""

    def __init__(self, start: float) -> None:
        self.away_from = start + PRESENT_S
        self.away_to = self.away_from + AWAY_S

    def __call__(self, wall: float) -> bool:
        return not (self.away_from <= wall < self.away_to)


def seat_fractions() -> tuple[float, float, float, float]:
    return ScriptedScene(SeatScript(duration=1.0), width=640, height=360).seat_region()


def sub_running(cam: Camera) -> bool:
    return cam.sub is not None and cam.sub.running


@pytest.fixture
def scripted() -> Iterator[tuple[SyntheticCameraServer, Script]]:
    script = Script(time.time())
    specs = {
        "w/main": CameraSpec("A01", width=640, height=360, fps=5, seed=3, schedule=script),
        "w/main/sub": CameraSpec("A01", width=320, height=180, fps=5, seed=3, schedule=script),
    }
    with SyntheticCameraServer(specs) as server:
        yield server, script


def test_a_real_camera_s_empty_seat_becomes_a_reported_vacancy_with_its_snapshot(
    tmp_path: Path, scripted: tuple[SyntheticCameraServer, Script]
) -> None:
    server, script = scripted
    x, y, w, h = seat_fractions()
    cfg = Config(cameras=[CameraEntry(id="cam-A01", name="A01", url=server.url("w/main"),
                                      sub_url=server.url("w/main/sub"), window_id="win-A01",
                                      seats=[SeatEntry(window_id="win-A01", x=x, y=y, w=w, h=h)])])
    data = tmp_path / "data"
    terminal = Terminal(cfg, data, command="test", record=False, sync=False, lock=False, source_options=FAST,
                        seat_consumer=seat_consumer(fps=1.0, min_empty_seconds=20.0))
    terminal.start()
    try:
        cam = terminal.cameras.get("cam-A01")
        assert cam is not None and cam.sub is not None
        # Analytics run on the sub-stream, kept connected without any tile showing it.
        assert wait_for(lambda: len(terminal.seats.status().cameras) == 1, 10)
        [watch] = terminal.seats.status().cameras
        assert watch.stream == "sub" and cam.sub.running
        assert terminal.seats.watched_windows() == {"win-A01"}

        def ended() -> list[OwnVacancy]:
            with terminal.store.read() as s:
                return list(s.scalars(select(OwnVacancy).where(OwnVacancy.ended_at.is_not(None))))

        assert wait_for(lambda: bool(ended()), timeout=PRESENT_S + AWAY_S + 60, interval=0.5), \
            f"no vacancy ended; status {terminal.seats.status()}"
        [v] = ended()
        truth_from = datetime.fromtimestamp(script.away_from, UTC)
        truth_to = datetime.fromtimestamp(script.away_to, UTC)
        assert abs((v.started_at - truth_from).total_seconds()) <= 20, (v.started_at, truth_from)
        assert v.ended_at is not None and abs((v.ended_at - truth_to).total_seconds()) <= 20, (v.ended_at, truth_to)
        assert (v.camera_id, v.window_id, v.closed_by) == ("cam-A01", "win-A01", "seen")
        # The snapshot of the moment: a JPEG under DATA/, named by the vacancy.
        assert v.snapshot is not None and v.snapshot.startswith(SNAPSHOT_DIR + "/") and v.id in v.snapshot
        assert (data / v.snapshot).read_bytes()[:2] == b"\xff\xd8"
        with terminal.store.read() as s:
            row = s.get(SeatVacancyRow, v.id)
            assert row is not None and (row.origin, row.ended_at) == ("local", v.ended_at)
            reports = [o.payload for o in s.scalars(select(OutboxAction).where(OutboxAction.type == REPORT_ACTION)
                                                    .order_by(OutboxAction.created_at))]
        assert [(r["vacancy_id"], r["ended_at"] is None) for r in reports] == [(v.id, True), (v.id, False)]

        # Regions removed on the tile (here: the config's camera cannot be edited)…
        with pytest.raises(ValueError, match="config file"):
            terminal.seats.save_regions("cam-A01", [], by="张三")
    finally:
        assert terminal.stop(time.monotonic() + 10)
    assert not cam.sub.running


def test_regions_drawn_take_effect_live_and_stopping_closes_what_is_open(
    tmp_path: Path, scripted: tuple[SyntheticCameraServer, Script]
) -> None:
    from supervision.seats import Seat

    server, _ = scripted
    cfg = Config(cameras=[CameraEntry(id="cam-A01", name="A01", url=server.url("w/main"),
                                      sub_url=server.url("w/main/sub"), window_id="win-A01")])
    terminal = Terminal(cfg, tmp_path / "data", command="test", record=False, sync=False, lock=False,
                        source_options=FAST)
    terminal.start()
    try:
        cam = terminal.cameras.get("cam-A01")
        assert cam is not None and cam.sub is not None
        sub = cam.sub
        assert len(terminal.seats.status().cameras) == 0 and not sub_running(cam)
        x, y, w, h = seat_fractions()
        terminal.seats.save_regions("cam-A01", [Seat("win-A01", x, y, w, h)], by="张三")
        assert [c.camera_id for c in terminal.seats.status().cameras] == ["cam-A01"] and sub_running(cam)
        assert wait_for(lambda: terminal.seats.status().cameras[0].consumer.frames_judged >= 2, 15)
        # A vacancy open when the seat stops being watched is closed at the last judged frame.
        now = datetime.now(UTC)
        vid = open_vacancy(terminal.store, camera_id="cam-A01", window_id="win-A01",
                           started_at=now - timedelta(minutes=3), now=now)
        terminal.seats.save_regions("cam-A01", [], by="张三")
        assert terminal.seats.status().cameras == () and terminal.seats.watched_windows() == frozenset()
        assert wait_for(lambda: not sub.running, 10)
        assert open_vacancies(terminal.store) == []
        with terminal.store.read() as s:
            own = s.get(OwnVacancy, vid)
            assert own is not None and own.closed_by == "stop" and own.ended_at is not None
            assert own.ended_at >= now - timedelta(minutes=3)
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_a_start_after_a_crash_closes_open_vacancies_at_the_last_judged_frame(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Terminal(Config(), data, command="test", record=False, sync=False, lock=False)
    t0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    vid = open_vacancy(first.store, camera_id="cam-A01", window_id="win-A01", started_at=t0, now=t0)
    from supervision.seats import note_judged

    note_judged(first.store, "cam-A01", t0 + timedelta(minutes=4))
    first.store.close()  # the process died here, the vacancy open
    again = Terminal(Config(), data, command="test", record=False, sync=False, lock=False)
    again.start()
    try:
        with again.store.read() as s:
            own = s.get(OwnVacancy, vid)
            assert own is not None and own.ended_at == t0 + timedelta(minutes=4) and own.closed_by == "restart"
        assert isinstance(again.seats, OccupancyService)
    finally:
        assert again.stop(time.monotonic() + 10)


def test_snapshots_go_with_their_footage_unless_a_hold_keeps_their_moment(tmp_path: Path) -> None:
    from supervision.store.footage import EvidenceHold

    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    data = tmp_path / "data"
    terminal = Terminal(Config(), data, command="test", record=False, sync=False, lock=False, clock=lambda: now)
    try:
        service, store = terminal.seats, terminal.store
        made = {}
        for name, days, window in (("old", 40, "win-A01"), ("held", 40, "win-A02"), ("recent", 3, "win-A01")):
            at = now - timedelta(days=days)
            rel = service.snapshots.write(f"V-{name}", at, b"\xff\xd8jpeg")
            vid = open_vacancy(store, camera_id="cam-A01", window_id=window, started_at=at, now=at, snapshot=rel,
                               vacancy_id=f"V-{name}")
            from supervision.seats import close_vacancy

            assert close_vacancy(store, vid, at + timedelta(minutes=20), now=at)
            made[name] = data / rel
        with store.write() as s:  # a POST_LEFT's hold on window A02 around the moment it emptied
            s.add(EvidenceHold(id="warning:win-A02/POST_LEFT", kind="warning", camera_id=None, window_id="win-A02",
                               start=now - timedelta(days=40, minutes=10), end=now - timedelta(days=39),
                               reason="yellow warning", created_at=now, created_by="system"))
        assert service.prune_snapshots() == 1  # the retention days of the footage: 30
        assert not made["old"].exists() and made["held"].exists() and made["recent"].exists()
        with store.read() as s:
            assert s.get(OwnVacancy, "V-old").snapshot is None  # type: ignore[union-attr]
            assert s.get(OwnVacancy, "V-held").snapshot is not None  # type: ignore[union-attr]
        assert service.prune_snapshots() == 0
    finally:
        terminal.store.close()
