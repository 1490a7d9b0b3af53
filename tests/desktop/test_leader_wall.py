"""The leader's video wall paints live frames relayed by a workstation's real relay.

Real parts: the reference server on 127.0.0.1 (the demo hall), a workstation terminal with
``[relay]`` serving two synthetic cameras of the city hall (its relay checks the leader's token
with the server's ``GET /api/v1/me``), its heartbeat naming the relay on the server, and a leader
terminal (token scoped to the city) whose window finds the relay in the ``terminal`` records and
plays the hall's cameras through it. Then the relay goes away: the wall says so in words.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")
pytest.importorskip("app.relay")

from pydantic import SecretStr
from PySide6.QtWidgets import QApplication

from app.leader import LeaderTerminal, TerminalInfo
from app.terminal import Terminal
from desktop.application import Localization, settings
from desktop.leader.window import LeaderWindow
from supervision.config import Config, RelayConfig, ServerConfig
from supervision.ingest import import_file
from supervision.store import open_store
from sync.server.store import Terminal as ServerTerminal
from tests.sync.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    HALL,
    NOW,
    central,
    central_template,
    server,
)
from video.synthetic import CameraSpec, SyntheticCameraServer

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
WAIT_MS = 30_000
CAMERAS = ("cam-A01", "cam-A02")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def relaying_workstation(tmp_path: Path, server: Any, central: Any,  # noqa: F811
                         relay: RelayConfig) -> Iterator[Terminal]:
    """A relaying workstation with two of the city hall's cameras (its store: the hall, those two)."""
    body = json.loads(HALL.read_text(encoding="utf-8"))
    keep = [c for c in body["changes"] if c["type"] in ("org_unit", "window", "rule_set", "case_type")
            or c["id"] in CAMERAS]
    path = tmp_path / "ws-hall.json"
    path.write_text(json.dumps({**body, "changes": keep}, ensure_ascii=False), encoding="utf-8")
    store = open_store(tmp_path / "ws" / "hallwatch.db")
    try:
        import_file(store, path)
    except BaseException:
        store.close()
        raise
    token = central.add_terminal("ws-relay", "operator", "hall-anshan")
    cfg = Config().model_copy(update={
        "server": ServerConfig(url=server.url, token=SecretStr(token), interval=1),
        "relay": relay,
    })
    cams = SyntheticCameraServer({f"window/{c[4:]}": CameraSpec(c[4:], width=320, height=180) for c in CAMERAS})
    cams.start()
    terminal = Terminal(cfg, tmp_path / "ws", command="test", record=False, sync=False, lock=False, store=store,
                        synthetic=cams, clock=lambda: NOW)
    terminal.start()
    try:
        # its heartbeat names the relay in its terminal record (what the sync engine sends)
        who = central.authenticate(token)
        assert isinstance(who, ServerTerminal)
        central.heartbeat(who, relay_url=terminal.heartbeat_info().relay_url, relay_given=True, status={})
        yield terminal
    finally:
        terminal.stop(time.monotonic() + 10)
        cams.stop()
        store.close()


@pytest.fixture
def workstation(tmp_path: Path, server: Any, central: Any) -> Iterator[Terminal]:  # noqa: F811
    with relaying_workstation(tmp_path, server, central, RelayConfig(bind="127.0.0.1", port=_free_port())) as ws:
        assert ws.relay is not None
        yield ws


@contextmanager
def leader_window(qtbot: Any, tmp_path: Path, server: Any, central: Any) -> Iterator[LeaderWindow]:  # noqa: F811
    token = central.add_terminal("leader-city", "leader", "org-anshan")
    cfg = Config().model_copy(update={"server": ServerConfig(url=server.url, token=SecretStr(token), interval=1)})
    leader = LeaderTerminal(cfg, tmp_path / "leader", clock=lambda: NOW)
    leader.start()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    loc = Localization(app)
    loc.switch("en")
    w = LeaderWindow(leader, loc, settings())
    qtbot.addWidget(w)
    try:
        w.resize(1600, 900)
        w.show()
        qtbot.waitUntil(lambda: w.figures is not None and any(t.relay_url for t in w.figures.terminals),
                        timeout=WAIT_MS)
        w.choose_unit("hall-anshan")
        w.show_page("video")
        w.wall.refresh()
        yield w
    finally:
        w.close()
        assert leader.stop(time.monotonic() + 10)


def _painted(w: LeaderWindow, frames: int = 5) -> bool:
    stats = [s for s in w.wall.grid.stats() if s.camera_id in CAMERAS]
    return len(stats) == len(CAMERAS) and all(s.painted >= frames for s in stats)


def test_the_wall_plays_the_halls_cameras_from_the_relay_and_says_when_it_is_gone(
    qtbot: Any, tmp_path: Path, server: Any, central: Any, workstation: Terminal,  # noqa: F811
) -> None:
    with leader_window(qtbot, tmp_path, server, central) as w:
        qtbot.waitUntil(lambda: sorted(w.wall.cameras()) == list(CAMERAS), timeout=WAIT_MS)
        assert all(".ts?token=" in w.wall._urls[c] for c in CAMERAS)  # the built-in relay, by its list
        qtbot.waitUntil(lambda: _painted(w), timeout=WAIT_MS)
        words, bad = w.wall.state_words()
        assert "2 of 32 cameras relayed by ws-relay" in words and not bad  # the hall has 32

        # the relay goes away: the wall says so, in words, and keeps asking
        assert workstation.relay is not None
        workstation.relay.stop(time.monotonic() + 5)
        w.wall.refresh()
        qtbot.waitUntil(lambda: w.wall.state_words()[1], timeout=WAIT_MS)
        words, _ = w.wall.state_words()
        assert "Relay unreachable: ws-relay" in words
        assert w.terminal.token is not None and w.terminal.token not in words


@pytest.mark.parametrize("way", ["hls", "rtmp"])
def test_the_wall_plays_cameras_pushed_to_nginx(
    qtbot: Any, tmp_path: Path, server: Any, central: Any, way: str,  # noqa: F811
) -> None:
    """Scale-out: the workstation pushes each camera once to nginx (HLS by PUT, or RTMP); its relay_url is
    the pull template, and the wall plays the hall's cameras from nginx."""
    from tests.video.nginx_dav import running_dav_server

    with running_dav_server(tmp_path / "nginx", rtmp=way == "rtmp") as nginx:
        relay = (RelayConfig(serve=False, hls=nginx.base) if way == "hls"
                 else RelayConfig(serve=False, push=nginx.rtmp_base))
        with relaying_workstation(tmp_path, server, central, relay) as ws, \
                leader_window(qtbot, tmp_path, server, central) as w:
            assert ws.relay is None and ws.relay_push is not None
            # a pushed relay has no list: the hall's camera records name the streams (the first nine shown)
            qtbot.waitUntil(lambda: set(CAMERAS) <= set(w.wall.cameras()), timeout=WAIT_MS)
            expected = (f"{nginx.base}/cam-A01/index.m3u8" if way == "hls" else f"{nginx.rtmp_base}/cam-A01")
            assert w.wall._urls["cam-A01"] == expected
            qtbot.waitUntil(lambda: _painted(w), timeout=60_000)
            words, bad = w.wall.state_words()
            assert "32 cameras relayed by ws-relay" in words and not bad


def test_a_hall_with_more_cameras_than_the_wall_holds_is_shown_page_by_page_reds_first(
    qtbot: Any, tmp_path: Path
) -> None:
    """The demo hall's 32 cameras pushed to an RTMP server: the wall holds 9, so 4 pages, turned by
    hand or by the wall's timer; the red window's camera leads the first page. (The RTMP server is
    down: the tiles say so; paging is about which cameras are asked for.)"""
    from desktop.leader.wall import WALL_MAX, VideoWall
    from desktop.operator.reader import Reader

    store = open_store(tmp_path / "leader.db")
    import_file(store, HALL)
    reader = Reader(store)
    reader.start()
    relay = TerminalInfo("ws-1", "ws-1", "operator", "rtmp://127.0.0.1:9/live", NOW, True)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    Localization(app).switch("en")
    wall = VideoWall(reader, "token", terminals=lambda: [relay],
                     priority=lambda window_id: 2 if window_id == "win-C07" else 0)
    qtbot.addWidget(wall)
    try:
        wall.resize(1200, 700)
        wall.show()
        wall.set_hall("hall-anshan", "Anshan")
        qtbot.waitUntil(lambda: wall.plan is not None and bool(wall.cameras()), timeout=WAIT_MS)
        assert wall.plan is not None
        order = [w.camera_id for w in wall.plan.streams]
        assert len(order) == 32 and wall.pages() == 4
        first = wall.cameras()
        assert len(first) == WALL_MAX and first[0] == "cam-C07"  # the red window first, then the hall's order
        assert first[1:] == [c for c in order if c != "cam-C07"][:WALL_MAX - 1]
        words, _ = wall.state_words()
        assert "32 of 32 cameras relayed by ws-1" in words and "Page 1 of 4" in words
        seen = set(first)
        for page in (2, 3, 4):
            wall.next_page()
            assert f"Page {page} of 4" in wall.state_words()[0]
            shown = wall.cameras()
            assert not seen & set(shown)
            seen |= set(shown)
        assert len(shown) == 32 - 3 * WALL_MAX and seen == set(order)  # the last page: the rest
        assert wall.grid.layout_name == "3x3"
        wall.next_page()  # after the last, the first again
        assert wall.cameras() == first
        wall.previous_page()
        assert wall.page == 3
        # the timer turns the pages by itself while the wall is seen
        wall._pager.setInterval(200)
        wall._pager.start()
        qtbot.waitUntil(lambda: wall.page == 0, timeout=5_000)
        assert wall.cameras() == first
    finally:
        wall.shutdown()
        reader.stop()
        store.close()
        Localization(app).switch("zh_CN")


def test_a_relayed_camera_whose_address_changes_plays_from_the_new_address(qtbot: Any, tmp_path: Path) -> None:
    """A relay that moved (a new port, a new relaying workstation): the wall's camera of that id is a
    new connection, and its tile shows the new one, not the stopped old one."""
    from desktop.leader.wall import VideoWall, WallStream
    from desktop.operator.reader import Reader

    store = open_store(tmp_path / "hallwatch.db")
    net = Reader(store)
    specs = {"old": CameraSpec("A01", width=320, height=180), "new": CameraSpec("A01", width=320, height=180, seed=3)}
    with SyntheticCameraServer(specs) as cams:
        wall = VideoWall(net, None, terminals=lambda: [])
        qtbot.addWidget(wall)
        try:
            wall.resize(640, 360)
            wall.show()
            wall._apply([WallStream("cam-A01", "A01", None, cams.url("old"), "ws-1")])
            qtbot.waitUntil(lambda: wall.grid.stats()[0].painted >= 3, timeout=WAIT_MS)
            old = wall._cameras["cam-A01"]
            wall._apply([WallStream("cam-A01", "A01", None, cams.url("new"), "ws-2")])
            new = wall._cameras["cam-A01"]
            assert new is not old
            painted = wall.grid.stats()[0].painted
            tile = wall.grid._tiles[0]
            qtbot.waitUntil(lambda: tile.ticket is not None and tile.ticket.camera is new
                            and wall.grid.stats()[0].painted >= painted + 3, timeout=WAIT_MS)
        finally:
            wall.shutdown()
            net.stop()
            store.close()
