"""The terminal's relay: cameras of the registry served by scope, tokens checked with the real reference
server (the demo hall: 鞍山市 city with its own hall, 铁东区 county below it with another)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from app.relay import TokenChecker, cameras_in_scope, server_lookup
from app.terminal import Terminal
from supervision.config import Config, RelayConfig, ServerConfig
from supervision.ingest import import_page
from supervision.records import ChangesPage
from supervision.store import Store, open_store
from sync.server.store import CentralStore
from sync.server.testing import ServerThread
from tests.video.camera_servers import free_port
from tests.video.relay_viewers import probe
from tests.video.waiting import wait_for
from video.relay import RelayServer

ROOT = Path(__file__).resolve().parents[2]
CAMERAS = {"cam-A01", "cam-D01"}  # one in the city's hall (hall-anshan), one in the county's (hall-tiedong)
LOCAL = "wall-SECRET-local"


def small_demo_hall() -> list[dict[str, Any]]:
    """The demo hall's records with only two of its cameras (each camera connects: keep the test light)."""
    changes = json.loads((ROOT / "resources" / "demo" / "hall.json").read_text(encoding="utf-8"))["changes"]
    return [{"type": c["type"], "id": c["id"], "op": c["op"], "data": c.get("data")} for c in changes
            if c["type"] != "camera" or c["id"] in CAMERAS]


@pytest.fixture
def central(tmp_path: Path) -> Iterator[CentralStore]:
    store = CentralStore(str(tmp_path / "central.db"))
    try:
        store.publish(small_demo_hall())
        yield store
    finally:
        store.close()


@pytest.fixture
def server(central: CentralStore) -> Iterator[ServerThread]:
    with ServerThread(central) as srv:
        yield srv


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "terminal.db")
    try:
        page = {"epoch": "e", "changes": [dict(c, seq=i + 1, version=1) for i, c in enumerate(small_demo_hall())],
                "next_cursor": "c", "has_more": False, "server_time": "2026-11-25T10:30:00+08:00"}
        import_page(store, ChangesPage.model_validate(page), source="test")
        yield store
    finally:
        store.close()


def test_cameras_in_scope_follow_the_org_unit_tree(local_store: Store) -> None:
    assert cameras_in_scope(local_store, "org-liaoning") == CAMERAS
    assert cameras_in_scope(local_store, "org-anshan") == CAMERAS  # the city holds the county
    assert cameras_in_scope(local_store, "org-tiedong") == {"cam-D01"}
    assert cameras_in_scope(local_store, "hall-anshan") == {"cam-A01"}
    assert cameras_in_scope(local_store, "no-such-unit") == frozenset()
    # a camera only in the config is placed by its window's hall
    assert cameras_in_scope(local_store, "org-tiedong", {"cfg-cam": "win-D02"}) == {"cam-D01", "cfg-cam"}


def _status(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with requests.get(url, headers=headers, timeout=15, stream=True) as r:
        return r.status_code


def _ids(url: str, token: str) -> list[str]:
    r = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    assert r.status_code == 200, r.text
    return [c["id"] for c in r.json()]


def test_terminal_relays_its_cameras_by_scope_and_says_where_in_its_heartbeat(
    tmp_path: Path, server: ServerThread, central: CentralStore
) -> None:
    operator = central.add_terminal("ws-relay", "operator", "org-liaoning")
    tiedong = central.add_terminal("leader-tiedong", "leader", "org-tiedong")
    anshan = central.add_terminal("leader-anshan", "leader", "org-anshan")
    port = free_port()
    cfg = Config(
        server=ServerConfig(url=server.url, token=operator, interval=1.0),
        relay=RelayConfig.model_validate({"port": port, "tokens": [LOCAL]}),
    )
    terminal = Terminal(cfg, tmp_path / "data", command="test", record=False)
    base = f"http://127.0.0.1:{port}/live/"
    terminal.start()
    try:
        assert terminal.relay is not None and terminal.relay.url == base
        # the cameras arrive by sync; the relay follows the registry
        assert wait_for(lambda: {c.id for c in terminal.relay.server.cameras()} == CAMERAS, 30)  # type: ignore[union-attr]
        # the heartbeat told the server where the relay is
        assert wait_for(lambda: any(t["name"] == "ws-relay" and t["relay_url"] == base
                                    for t in central.terminals()), 30), central.terminals()
        assert _status(base) == 401
        assert _status(base + "cam-A01.ts") == 401
        assert _status(base + "cam-A01.ts", "not-a-token") == 401
        assert _status(base + "cam-A01.ts", tiedong) == 403  # the county does not see the city's hall
        assert _ids(base, tiedong) == ["cam-D01"]
        assert _ids(base, anshan) == sorted(CAMERAS)
        assert _ids(base, LOCAL) == sorted(CAMERAS)
        assert wait_for(lambda: all(c["live"] for c in requests.get(
            base, headers={"Authorization": f"Bearer {anshan}"}, timeout=15).json()), 20)
        assert probe(f"{base}cam-D01.ts?token={tiedong}") == {"codec_name": "h264", "width": 640, "height": 360}
        assert probe(f"{base}cam-A01.ts?token={anshan}")["codec_name"] == "h264"
        out = subprocess.run(["ffmpeg", "-v", "error", "-t", "1", "-i", f"{base}cam-A01.ts?token={LOCAL}", "-f",
                              "null", "-"], capture_output=True, text=True, timeout=30, check=False)
        assert out.returncode == 0, out.stderr
        # one upstream per camera: the registry camera's single main source, one relay subscription on it
        cam = terminal.cameras.get("cam-A01")
        assert cam is not None
        assert sum(1 for s in cam.main.subscriptions if s.name.startswith("relay-")) <= 1
    finally:
        assert terminal.stop()


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_server_unreachable_a_recently_confirmed_token_is_served_else_503(
    server: ServerThread, central: CentralStore, local_store: Store
) -> None:
    tiedong = central.add_terminal("leader-tiedong", "leader", "org-tiedong")
    other = central.add_terminal("leader-2", "leader", "org-tiedong")
    clock = Clock()
    lookup = server_lookup(Config(server=ServerConfig(url=server.url)))
    checker = TokenChecker([], local_store, lookup, clock=clock)
    relay = RelayServer(checker)
    relay.start()
    try:
        base = relay.address
        assert checker(tiedong).allows("cam-D01") and not checker(tiedong).allows("cam-A01")
        server.stop()  # the central server goes away
        clock.t += 61  # past the 60 s cache
        assert _status(base, tiedong) == 200  # confirmed a minute ago: still served
        r = requests.get(base, headers={"Authorization": f"Bearer {other}"}, timeout=15)
        assert r.status_code == 503  # never confirmed: cannot be checked
        message = r.json()["error"]["message"]
        assert "central server" in message and "refused" in message and other not in message
        clock.t += 3600  # the last confirmation is over an hour old
        assert _status(base, tiedong) == 503
    finally:
        relay.stop()


def test_tokens_are_cached_for_a_minute_and_a_revoked_token_is_refused_after(
    server: ServerThread, central: CentralStore, local_store: Store
) -> None:
    token = central.add_terminal("leader-anshan", "leader", "org-anshan")
    asked: list[str] = []
    lookup = server_lookup(Config(server=ServerConfig(url=server.url)))
    assert lookup is not None

    def counting(tok: str) -> Any:
        asked.append("x")
        return lookup(tok)

    clock = Clock()
    checker = TokenChecker([LOCAL], local_store, counting, clock=clock)
    assert checker(token).allows("cam-A01")
    clock.t += 30
    assert checker(token).allows("cam-A01")
    assert len(asked) == 1  # within the minute: not asked again
    assert checker(LOCAL).sees is None and len(asked) == 1  # a local token is never sent to the server
    with central.write() as tx:  # the administrator revokes the token
        from sync.server.schema import terminals

        tx.c.execute(terminals.delete().where(terminals.c.name == "leader-anshan"))
        tx.finish()
    clock.t += 31
    from video.relay import Unauthorized

    with pytest.raises(Unauthorized):
        checker(token)
    assert len(asked) == 2


def test_cameras_added_replaced_and_removed_by_the_registry_are_followed_live(tmp_path: Path) -> None:
    from supervision.ingest import import_page as imp
    from tests.supervision.records_factory import change, page

    data = tmp_path / "data"
    port = free_port()
    cfg = Config(relay=RelayConfig.model_validate({"port": port, "tokens": [LOCAL], "cameras": ["A", "B", "C"]}))
    terminal = Terminal(cfg, data, command="test", sync=False, record=False)

    def cam(cid: str, url: str, version: int) -> dict[str, object]:
        return change("camera", cid, {"hall_id": "h", "window_id": None, "name": cid, "stream_url": url,
                                      "sub_stream_url": None}, version=version)

    hall = [change("org_unit", "h", {"name": "厅", "parent_id": None, "level": "hall"})]
    imp(terminal.store, ChangesPage.model_validate(
        page([*hall, cam("A", "synthetic://window/A", 1), cam("B", "synthetic://window/B", 1),
              cam("X", "synthetic://window/X", 1)])), source="t")
    base = f"http://127.0.0.1:{port}/live/"
    terminal.start()
    try:
        assert terminal.relay is not None
        assert _ids(base, LOCAL) == ["A", "B"]  # X is not in [relay] cameras
        imp(terminal.store, ChangesPage.model_validate(
            page([cam("A", "synthetic://window/A2", 2), change("camera", "B", None, op="delete", version=2),
                  cam("C", "synthetic://window/C", 1)])), source="t")
        terminal.cameras.reload()
        assert _ids(base, LOCAL) == ["A", "C"]
        a = terminal.cameras.get("A")
        assert a is not None
        relayed = {c.id: c.source for c in terminal.relay.server.cameras()}
        assert relayed["A"] is a.main  # the replaced camera's new source, the registry's own
        assert probe(f"{base}A.ts?token={LOCAL}")["codec_name"] == "h264"
        assert _status(base + "B.ts", LOCAL) == 404
    finally:
        assert terminal.stop()
