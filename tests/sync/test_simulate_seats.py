"""The simulator and watched seats: no invented absences where a camera watches the seat, and the
vacancies terminals reported are theirs to end (sync/server/simulate.py, ``watched``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sync.server.simulate import Simulator
from sync.server.store import CentralStore

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)  # a Wednesday, mid-morning
END = datetime(2026, 11, 26, 18, 0, tzinfo=TZ)


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralStore]:
    store = CentralStore(str(tmp_path / "central.db"))
    yield store
    store.close()


def vacancies(central: CentralStore) -> dict[str, dict[str, object]]:
    return {rid: data for (_, rid), (_, data) in central.current("seat_vacancy").items()}


def test_windows_whose_seats_a_camera_watches_get_no_invented_absences(central: CentralStore) -> None:
    watched: set[str] = set()
    asked: list[str] = []

    def watched_now() -> set[str]:  # asked live: the demo's regions may change while it runs
        asked.append("x")
        return watched

    sim = Simulator(central, speed=3600, seed=7, clock=lambda: START, watched=watched_now)
    sim.bootstrap()  # the demo's history (its absences included)
    windows = sorted(sim.windows)
    watched.update(windows[: len(windows) // 2])
    before = set(vacancies(central))
    t = sim.now
    while t < END:
        t = min(END, t + timedelta(minutes=30))
        sim.step(t)
    new = {rid: d for rid, d in vacancies(central).items() if rid not in before}
    assert asked, "the simulator never asked which seats are watched"
    assert new, "the windows nobody watches still take breaks"
    assert {d["window_id"] for d in new.values()} <= set(windows) - watched


def test_a_vacancy_a_terminal_reported_is_not_taken_over(central: CentralStore) -> None:
    first = Simulator(central, speed=3600, seed=7, clock=lambda: START)
    first.bootstrap()
    central.publish([{"type": "seat_vacancy", "id": "V-cam", "op": "upsert",
                      "data": {"window_id": "win-A01", "camera_id": "cam-A01",
                               "started_at": (START - timedelta(minutes=5)).isoformat(), "ended_at": None}}])
    second = Simulator(central, speed=3600, seed=8, clock=lambda: START + timedelta(minutes=1))
    second.bootstrap()
    second.step(START + timedelta(hours=2))
    assert vacancies(central)["V-cam"]["ended_at"] is None
