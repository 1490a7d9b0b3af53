"""The status bar's relay and seats lines (desktop/shell/status.py): what the relay serves and
pushes, and the seats watched, worked out from the terminal's status values, in both languages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from app.cameras import RegistryStatus
from app.relay_push import RelayPushStatus
from app.seats import CameraSeats, SeatsStatus
from app.terminal import TerminalStatus
from desktop.application import Localization
from desktop.shell.status import relay_text, seats_text
from supervision.seats import Seat
from video.analytics.consumer import OccupancyStatus
from video.analytics.occupancy import SeatState
from video.relay import RelayStatus
from video.relay.push import PushState, PushStatus
from video.relay.server import ChannelStatus


def status(**kw: Any) -> TerminalStatus:
    return TerminalStatus(at=datetime.now(UTC), cameras=RegistryStatus(()), recording=None, sync=None,
                          warnings=None, actions_pending=0, **kw)


@pytest.fixture
def loc(qtbot: Any) -> Iterator[Localization]:
    """The application's language, English for the test and Chinese (the default) again after it."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    loc = Localization(app)
    loc.switch("en")
    yield loc
    loc.switch("zh_CN")


def push(camera_id: str, kind: str, state: PushState, reason: str | None = None) -> PushStatus:
    return PushStatus(camera_id, kind, "rtmp://127.0.0.1/live", state, reason, 0, 0, 0, 0, "h264", time.time())


def test_the_relay_line_counts_viewers_and_live_pushes_and_its_tooltip_names_what_is_wrong(
    loc: Localization,
) -> None:
    relay = RelayStatus("http://127.0.0.1:8088/live/", True, (
        ChannelStatus("cam-1", 2, 10, 1, 5, 0, True),
        ChannelStatus("cam-1", 1, 10, 0, 5, 0, True, stream="sub"),
        ChannelStatus("cam-2", 0, 0, 0, 5, 0, True),
    ))
    pushes = RelayPushStatus("rtmp://127.0.0.1/live/{camera_id}", (
        push("cam-1", "rtmp", PushState.LIVE),
        push("cam-2", "rtmp", PushState.REFUSED, "H.265 cannot go over RTMP"),
    ))
    text, tip = relay_text(status(relay=relay, relay_push=pushes))
    assert text == "Relay viewers: 3 · pushed 1/2 live"
    lines = tip.splitlines()
    assert lines[0] == "Leaders open http://127.0.0.1:8088/live/"
    assert lines[1:3] == ["cam-1: 2 watching, 1 dropped for not reading",
                          "cam-1 (sub-stream): 1 watching, 0 dropped for not reading"]
    assert lines[3] == "cam-2 (RTMP): refused — H.265 cannot go over RTMP"
    assert relay_text(status()) == ("", "")  # no relay configured: the line is hidden
    loc.switch("zh_CN")
    text, _ = relay_text(status(relay=relay, relay_push=pushes))
    assert text == "转发：3 个观看 · 推流 1/2 正常"


def test_the_seats_line_counts_the_watched_and_the_empty_and_names_them(loc: Localization) -> None:
    seats = (Seat("win-A01", 0.1, 0.1, 0.2, 0.2), Seat("win-A02", 0.5, 0.1, 0.2, 0.2))
    occ = OccupancyStatus(10, None, {"win-A01": SeatState.EMPTY, "win-A02": SeatState.OCCUPIED}, True, 10, 0, 0)
    unknown = OccupancyStatus(0, None, {}, True, 0, 0, 0)
    st = SeatsStatus((CameraSeats("cam-1", "sub", seats, occ),
                      CameraSeats("cam-3", "sub", (Seat("win-A03", 0.1, 0.1, 0.2, 0.2),), unknown)), 1, 1, 0)
    label = {"win-A01": "A01 企业开办", "win-A02": "A02", "win-A03": "A03"}.__getitem__
    text, tip = seats_text(status(seats=st), label)
    assert text == "Seats: 3 watched, 1 empty"
    assert tip.splitlines() == ["Empty now: A01 企业开办",
                                "Not judged yet (the empty seat is still being learned): A03"]
    assert seats_text(status(seats=SeatsStatus((), 0, 0, 0)), label) == ("", "")
