"""A warning action the central server refuses shows the server's reason in the warnings list.

Real parts throughout: the reference server on 127.0.0.1 with the demo hall (the sync tests'
fixtures), a terminal's store filled by a real sync engine, a real terminal for the monitor and
the executor, and a second terminal that disposes the warning on the server first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from app.terminal import Terminal
from desktop.operator.alarm import Alarm
from desktop.operator.reader import Reader
from desktop.operator.snapshot import SnapshotRelay
from desktop.operator.warnings import WarningsModel, WarningsPanel
from supervision.actions import new_action_id, warning_payload
from supervision.config import Config
from supervision.store import Store, open_store
from sync.engine import SyncEngine
from tests.sync.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    NOW,
    SH,
    TOP_ORG,
    central,
    central_template,
    fast_client,
    make_engine,
    server,
    token,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
WAIT_MS = 20_000


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "terminal" / "hallwatch.db")
    yield store
    store.close()


def test_a_rejected_action_shows_the_servers_reason(
    qtbot: Any, tmp_path: Path, local: Store, server: Any, central: Any, token: str,  # noqa: F811 - fixtures
    make_engine: Callable[..., SyncEngine],  # noqa: F811
) -> None:
    terminal = Terminal(Config(), tmp_path / "data", command="test", record=False, sync=False, lock=False,
                        store=local, clock=lambda: NOW)
    terminal.start()
    reader = Reader(local)
    reader.start()
    relay = SnapshotRelay(terminal.monitor)
    try:
        engine = make_engine(local, server.url, token, clock=lambda: NOW)
        assert engine.run_once().error is None
        terminal.monitor.refresh()  # the first sync filled the store
        panel = WarningsPanel(reader, terminal, SH, operator="监察员甲", alarm=Alarm(player=lambda _p: None))
        qtbot.addWidget(panel)
        relay.snapshot.connect(panel.set_snapshot)
        panel.refresh()
        qtbot.waitUntil(lambda: panel.model.rowCount() > 0 and any(
            str(v.state) == "active" for v in panel.model.views), timeout=WAIT_MS)
        view = next(v for v in panel.model.views if str(v.state) == "active" and v.warning.subject_type == "case")
        key = view.key

        # another terminal disposes of it on the server first
        other = fast_client(server.url, str(central.add_terminal("ws-02", "operator", TOP_ORG)))
        try:
            res = other.push("ws-02", [warning_payload(new_action_id(), "warning.dispose", key, by="监察员乙",
                                                       at=NOW, note="已当面督办", measure="supervise", since=None)])
        finally:
            other.close()
        assert res[0].status == "applied", res

        # this terminal, not yet synced, acknowledges it: queued in the outbox
        with qtbot.waitSignal(panel.action_finished, timeout=WAIT_MS) as sig:
            panel.acknowledge(key)
        assert sig.args[1] is True

        def push_text() -> str:
            row = panel.model.row_of(key)
            return "" if row is None else str(panel.model.data(panel.model.index(row, WarningsModel.PUSH)))

        qtbot.waitUntil(lambda: push_text() == "Queued", timeout=WAIT_MS)

        # the next round pushes it: the server refuses it (superseded); the list says why
        report = engine.run_once()
        assert report.pushed.get("rejected") == 1, report
        panel.refresh()  # the lead calls it after each sync round
        qtbot.waitUntil(lambda: push_text().startswith("Rejected"), timeout=WAIT_MS)
        assert push_text() == "Rejected: another terminal acted first, or the warning rose since"
        row = panel.model.row_of(key)
        assert row is not None
        tip = panel.model.data(panel.model.index(row, WarningsModel.PUSH), 3)  # ToolTipRole
        assert "superseded" in tip
    finally:
        relay.close()
        assert reader.stop(10)
        assert terminal.stop(time.monotonic() + 10)
