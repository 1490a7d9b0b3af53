"""The leader window over a real leader terminal syncing with the reference server.

The server holds the demo's two halls and five working days of activity; a leader token scoped to
the city (鞍山市) syncs them into the leader's own store and the window shows the scope's figures:
compared here with counts made independently from the records the server was given. The window
offers no action at all (no acknowledge, dispose or bookmark), and the server would refuse one.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from pydantic import SecretStr
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractButton, QApplication, QMenu

from app.leader import LeaderTerminal
from desktop.application import Localization, settings
from desktop.leader.window import PAGES, LeaderWindow
from supervision.config import Config, ServerConfig
from tests.sync.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    HALL,
    NOW,
    activity_changes,
    central,
    central_template,
    server,
)

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
WAIT_MS = 30_000
OPEN = ("submitted", "accepted", "in_progress", "suspended")


@pytest.fixture
def leader(tmp_path: Path, server: Any, central: Any) -> Iterator[LeaderTerminal]:  # noqa: F811
    token = central.add_terminal("leader-city", "leader", "org-anshan")
    cfg = Config().model_copy(update={"server": ServerConfig(url=server.url, token=SecretStr(token), interval=1)})
    terminal = LeaderTerminal(cfg, tmp_path / "leader", clock=lambda: NOW)
    terminal.start()
    yield terminal
    assert terminal.stop(time.monotonic() + 10)


def _window(qtbot: Any, terminal: LeaderTerminal, language: str = "en") -> LeaderWindow:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    loc = Localization(app)
    loc.switch(language)
    w = LeaderWindow(terminal, loc, settings(), tour_seconds=1.0)
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    return w


def _expected() -> tuple[dict[str, int], dict[str, int]]:
    body = json.loads(HALL.read_text(encoding="utf-8"))
    hall_of = {c["id"]: c["data"]["hall_id"] for c in body["changes"] if c["type"] == "window"}
    cases: dict[str, dict[str, Any]] = {}
    tickets: dict[str, dict[str, Any]] = {}
    for c in activity_changes():
        if c["type"] == "case":
            cases[c["id"]] = c["data"]
        elif c["type"] == "ticket":
            tickets[c["id"]] = c["data"]
    open_cases = Counter(hall_of[c["window_id"]] for c in cases.values() if c["status"] in OPEN)
    waiting = Counter(t["hall_id"] for t in tickets.values() if t["status"] == "waiting")
    return dict(open_cases), dict(waiting)


def test_the_window_shows_the_scopes_figures_from_the_server(qtbot: Any, leader: LeaderTerminal) -> None:
    w = _window(qtbot, leader)
    try:
        open_cases, waiting = _expected()
        total = sum(open_cases.values())
        # the first sync and the monitor's first pass come in on their own; the window follows
        qtbot.waitUntil(lambda: w.figures is not None and w.figures.generation > 0
                        and w.tile_text("open") == str(total), timeout=WAIT_MS)
        assert w.tile_text("waiting") == str(sum(waiting.values()))
        fig = w.figures
        assert fig is not None
        snap = leader.monitor.snapshot()
        assert w.tile_text("red") == str(snap.counts["red_undisposed"]) != "0"
        assert w.tile_text("yellow") == str(snap.counts["yellow_undisposed"])
        # the tree: the city, its county and both halls, each with its reds
        items = {w.tree.topLevelItem(0).text(0)}
        root = w.tree.topLevelItem(0)
        assert root.text(0) == "鞍山市" and root.text(1) == w.tile_text("red")
        stack = [root]
        while stack:
            it = stack.pop()
            items.add(it.text(0))
            stack.extend(it.child(i) for i in range(it.childCount()))
        assert items == {"鞍山市", "铁东区", "铁东区政务服务中心", "鞍山市政务服务中心"}
        # choosing the county hall shows its own figures
        w.choose_unit("hall-tiedong")
        assert w.tile_text("open") == str(open_cases["hall-tiedong"])
        assert w.tile_text("waiting") == str(waiting.get("hall-tiedong", 0))
        assert w.wall.hall_id == "hall-tiedong"
        # the red list follows the chosen unit: the county hall's own, then every red of the city
        assert len(w.table_rows(w.reds_table)) == len([r for r in fig.reds if r.hall_id == "hall-tiedong"])
        w.choose_unit("org-anshan")
        # ranking: both halls; the red list: every red in force, with its hall
        assert {r[1] for r in w.table_rows(w.halls_table)} == {"鞍山市政务服务中心", "铁东区政务服务中心"}
        assert len(w.table_rows(w.top_reds)) == snap.counts["red"]
        reds = w.table_rows(w.reds_table)
        assert len(reds) == snap.counts["red"]
        assert all(r[0] in ("鞍山市政务服务中心", "铁东区政务服务中心") for r in reds)
        # the page tour moves on by itself, and stops on P
        w.set_touring(True)
        first = w.page()
        qtbot.waitUntil(lambda: w.page() != first, timeout=5_000)
        w.set_touring(False)
        assert w.page() in PAGES
    finally:
        w.close()


def test_no_action_is_reachable_from_the_leader_window(qtbot: Any, leader: LeaderTerminal) -> None:
    w = _window(qtbot, leader)
    try:
        qtbot.waitUntil(lambda: w.figures is not None, timeout=WAIT_MS)
        for page in PAGES:
            w.show_page(page)
        words = []
        actions: list[QAction] = list(w.findChildren(QAction))
        for menu in w.findChildren(QMenu):
            actions.extend(menu.actions())
        words += [a.text().replace("&", "").lower() for a in actions]
        words += [b.text().replace("&", "").lower() for b in w.findChildren(QAbstractButton)]
        assert words  # the menus are there (view, theme, language, quit)
        for forbidden in ("acknowledge", "dispose", "supervise", "correct", "explain", "bookmark", "hold",
                          "export"):
            assert not [x for x in words if forbidden in x], forbidden
        # nothing in the window can reach the terminal's writer: it has none
        for name in ("acknowledge", "dispose", "bookmark", "actions"):
            assert not hasattr(leader, name)
        # the wall's grid has no menu and accepts no drop
        assert not w.wall.grid.acceptDrops()
    finally:
        w.close()


def test_the_window_speaks_chinese_and_switches_live(qtbot: Any, leader: LeaderTerminal) -> None:
    w = _window(qtbot, leader, "zh_CN")
    try:
        qtbot.waitUntil(lambda: w.figures is not None, timeout=WAIT_MS)
        assert w.tabs.tabText(0) == "1  总览"
        assert w.tiles["open"].caption.text() == "在办件"
        w.set_language("en")
        assert w.tabs.tabText(0) == "1  Overview"
        assert w.tiles["open"].caption.text() == "Open cases"
        w.set_theme("light")
        w.set_theme("dark")
    finally:
        w.close()


def test_an_unreachable_server_is_said_plainly_and_the_window_recovers_by_itself(
    qtbot: Any, leader: LeaderTerminal, server: Any, central: Any,  # noqa: F811
) -> None:
    from sync.server.testing import ServerThread

    w = _window(qtbot, leader)
    try:
        qtbot.waitUntil(lambda: w.figures is not None and w.figures.generation > 0 and w.banner.isHidden()
                        and w.tile_text("open") != "–", timeout=WAIT_MS)
        shown = w.tile_text("open")
        server.stop()
        qtbot.waitUntil(lambda: not w.banner.isHidden(), timeout=WAIT_MS)
        assert "cannot be reached" in w.banner.text() and "reconnects by itself" in w.banner.text()
        assert w.server_label.text() == "Server unreachable"
        assert w.tile_text("open") == shown  # the last figures stay, with their time
        again = ServerThread(central, port=server.port).start()
        try:
            qtbot.waitUntil(lambda: w.banner.isHidden(), timeout=WAIT_MS)
            assert w.server_label.text().startswith("Server connected")
        finally:
            again.stop()
    finally:
        w.close()
