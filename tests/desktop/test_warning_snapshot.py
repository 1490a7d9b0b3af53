"""A POST_LEFT's detail shows the snapshot the seat analytics kept of the moment the seat became
empty: the event goes through the terminal's seat service (file under DATA/, referenced from the
vacancy), the warning is judged by the monitor, and selecting it in the warnings list shows the
picture (read off the GUI thread); another warning shows none."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from app.terminal import Terminal
from desktop.operator.alarm import Alarm
from desktop.operator.reader import Reader
from desktop.operator.snapshot import SnapshotRelay
from desktop.operator.warnings import WarningsPanel
from supervision.config import Config
from supervision.seats import open_vacancies
from supervision.store import Store, open_store
from supervision.store.models import OrgUnit, TicketRow, Window
from tests.video.waiting import wait_for
from video.analytics import SeatEvent

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SH = ZoneInfo("Asia/Shanghai")
EMPTIED = datetime(2026, 11, 25, 10, 0, tzinfo=SH)  # a working Wednesday morning
NOW = EMPTIED + timedelta(minutes=30)
WAIT_MS = 15_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "store.db")
    with s.write() as w:
        w.add(OrgUnit(id="hall-1", version=1, deleted=False, name="大厅", level="hall"))
        w.add(Window(id="win-A01", version=1, deleted=False, hall_id="hall-1", number="A01", name="综合窗口"))
        w.add(TicketRow(id="T-1", version=1, deleted=False, hall_id="hall-1", number="A001", window_id="win-A01",
                        issued_at=NOW - timedelta(minutes=50), status="waiting"))  # a WAIT_LONG beside it
    yield s
    s.close()


@pytest.fixture
def terminal(tmp_path: Path, store: Store) -> Iterator[Terminal]:
    t = Terminal(Config(), tmp_path / "data", command="test", record=False, sync=False, lock=False, store=store,
                 clock=lambda: NOW)
    t.start()
    yield t
    assert t.stop(time.monotonic() + 10)


def jpeg() -> bytes:
    picture = np.zeros((90, 160, 3), np.uint8)
    picture[20:70, 40:120] = (40, 160, 220)
    ok, data = cv2.imencode(".jpg", picture)
    assert ok
    return bytes(data)


def test_the_post_left_detail_shows_the_seat_when_it_became_empty(
    qtbot: Any, terminal: Terminal, store: Store, tmp_path: Path
) -> None:
    terminal.seats.handle_event("cam-A01", SeatEvent("win-A01", "empty_started", EMPTIED.timestamp(), jpeg()))
    assert wait_for(lambda: bool(open_vacancies(store)), 10)
    [v] = open_vacancies(store)
    assert v.snapshot is not None and (tmp_path / "data" / v.snapshot).read_bytes() == jpeg()

    reader = Reader(store)
    reader.start()
    relay = SnapshotRelay(terminal.monitor)
    panel = WarningsPanel(reader, terminal, SH, operator="监察员甲", alarm=Alarm(player=lambda _p: None))
    try:
        qtbot.addWidget(panel)
        relay.snapshot.connect(panel.set_snapshot)
        panel.resize(1200, 600)
        panel.show()
        # the service told the monitor which vacancy it wrote: judged without a full pass
        qtbot.waitUntil(lambda: {"win-A01/POST_LEFT", "T-1/WAIT_LONG"} <= {v.key for v in terminal.warnings().views},
                        timeout=WAIT_MS)
        relay.post(terminal.warnings())
        qtbot.waitUntil(lambda: panel.model.row_of("win-A01/POST_LEFT") is not None
                        and panel.model.row_of("T-1/WAIT_LONG") is not None, timeout=WAIT_MS)

        assert panel.select_key("win-A01/POST_LEFT")
        qtbot.waitUntil(lambda: panel.snapshot.isVisible(), timeout=WAIT_MS)
        pixmap = panel.snapshot.pixmap()
        assert (pixmap.width(), pixmap.height()) == (160, 90)
        assert panel.snapshot.toolTip()

        assert panel.select_key("T-1/WAIT_LONG")  # not a seat: no picture
        qtbot.waitUntil(lambda: not panel.snapshot.isVisible(), timeout=WAIT_MS)
    finally:
        relay.close()
        panel.close_panel()
        assert reader.stop(10)
