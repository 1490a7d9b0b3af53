"""The embedded demo's watched seats: some windows' synthetic cameras follow a scripted staff
schedule and get seat regions (kept when an operator redraws them); their analytics run on the
sub-streams; the simulator is told those windows are watched and invents no absence there."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from app.demo import EmbeddedDemo
from app.seats import DEMO_SEAT_WINDOWS
from supervision.config import Config
from supervision.seats import Seat, save_regions, stored_regions
from tests.video.waiting import wait_for


def test_the_demo_watches_the_seats_of_some_windows_and_the_simulator_leaves_them_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    demo = EmbeddedDemo(Config(), data, record=False)
    terminal = demo.start()
    try:
        cams = {f"cam-{label}" for label in DEMO_SEAT_WINDOWS}
        windows = {f"win-{label}" for label in DEMO_SEAT_WINDOWS}
        regions = stored_regions(terminal.store)
        assert set(regions) == cams and all(len(seats) == 1 for seats in regions.values())
        assert wait_for(lambda: {c.camera_id for c in terminal.seats.status().cameras} == cams, 20)
        assert {c.stream for c in terminal.seats.status().cameras} == {"sub"}
        assert demo.watched_windows() == windows  # what the simulator asks before each break
        operator_drawn = (Seat("win-A01", 0.1, 0.1, 0.3, 0.3),)
        save_regions(terminal.store, "cam-A01", operator_drawn, by="张三", at=datetime.now(UTC))
    finally:
        assert demo.stop(time.monotonic() + 10)
    again = EmbeddedDemo(Config(), data, record=False)
    terminal = again.start()
    try:
        assert stored_regions(terminal.store)["cam-A01"] == operator_drawn  # the demo keeps what was drawn
    finally:
        assert again.stop(time.monotonic() + 10)


def test_a_demo_given_its_seat_windows_tells_the_simulator_those_before_it_starts(tmp_path: Path) -> None:
    demo = EmbeddedDemo(Config(), tmp_path / "data", record=False, seat_windows=("A01", "B07", "C10"))
    try:
        assert demo.watched_windows() == {"win-A01", "win-B07", "win-C10"}
    finally:
        demo.central.close()
    default = EmbeddedDemo(Config(), tmp_path / "other", record=False)
    try:
        assert default.watched_windows() == {f"win-{label}" for label in DEMO_SEAT_WINDOWS}
    finally:
        default.central.close()
