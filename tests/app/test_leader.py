"""The leader terminal's figures, from a real reference server through a real leader token.

The server holds the demo's two halls (the city hall under 鞍山市, the county hall under 铁东区)
and five working days of their activity; a leader token scoped to the city syncs them into the
leader's own store. Each figure is compared with a count made here independently, from the records
the server was given (open cases, tickets waiting, longest wait, satisfaction) or from the domain's
own evaluation of a province-wide copy (reds, yellows, on-time rate).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from app.leader import LeaderTerminal, RelayError, leader_figures, relay_cameras, stream_url
from supervision import performance as perf
from supervision.actions import new_action_id, warning_payload
from supervision.config import Config, ServerConfig
from supervision.rules import Level
from supervision.snapshot import load_evaluator
from supervision.store import Store, open_store
from sync.client import Forbidden
from sync.engine import SyncEngine
from tests.sync.conftest import (  # noqa: F401 - fixtures, found by pytest by name
    HALL,
    NOW,
    SH,
    activity_changes,
    central,
    central_template,
    fast_client,
    server,
)

OPEN = ("submitted", "accepted", "in_progress", "suspended")


def _sync(store: Store, url: str, token: str, name: str) -> None:
    engine = SyncEngine(store, fast_client(url, token), terminal=name, tz=SH, clock=lambda: NOW)
    try:
        report = engine.run_once()
        assert report.error is None, report.error
    finally:
        engine.client.close()


@pytest.fixture
def leader_store(tmp_path: Path, server: Any, central: Any) -> Iterator[Store]:  # noqa: F811
    store = open_store(tmp_path / "leader" / "hallwatch.db")
    _sync(store, server.url, central.add_terminal("leader-city", "leader", "org-anshan"), "leader-city")
    yield store
    store.close()


def _hall_of_window() -> dict[str, str]:
    body = json.loads(HALL.read_text(encoding="utf-8"))
    return {c["id"]: c["data"]["hall_id"] for c in body["changes"] if c["type"] == "window"}


def _latest(changes: list[dict[str, Any]], rtype: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for c in changes:
        if c["type"] == rtype:
            if c["op"] == "delete":
                out.pop(c["id"], None)
            else:
                out[c["id"]] = c["data"]
    return out


def _figures(store: Store) -> Any:
    from app.monitor import WarningMonitor

    monitor = WarningMonitor(store, SH, clock=lambda: NOW)
    monitor.process(NOW)
    snap = monitor.snapshot()
    with store.read() as s:
        return leader_figures(s, SH, NOW, snap.views, snap.by_window, generation=snap.generation)


def test_the_city_leader_sees_both_halls_rolled_up_and_each_figure_matches_an_independent_count(
    tmp_path: Path, leader_store: Store, server: Any, central: Any,  # noqa: F811
) -> None:
    fig = _figures(leader_store)
    # the tree: the scope's top is the city (the province is outside the token's scope)
    assert fig.root == "org-anshan"
    assert [(u.id, u.depth) for u in fig.units] == [
        ("org-anshan", 0), ("org-tiedong", 1), ("hall-tiedong", 2), ("hall-anshan", 1)]

    # independent counts from the records the server was given
    changes = activity_changes()
    hall_of = _hall_of_window()
    cases = _latest(changes, "case")
    open_by_hall = Counter(hall_of[c["window_id"]] for c in cases.values() if c["status"] in OPEN)
    tickets = _latest(changes, "ticket")
    waiting = [t for t in tickets.values() if t["status"] == "waiting"]
    waiting_by_hall = Counter(t["hall_id"] for t in waiting)
    longest = {h: max((NOW - datetime.fromisoformat(t["issued_at"])).total_seconds() for t in waiting
                      if t["hall_id"] == h) for h in waiting_by_hall}
    month_start = NOW.replace(day=1, hour=0, minute=0)
    evals = [e for e in _latest(changes, "evaluation").values()
             if month_start <= datetime.fromisoformat(e["at"]) < NOW]
    sat = {h: (sum(1 for e in evals if hall_of[e["window_id"]] == h and e["grade"] >= 4),
               sum(1 for e in evals if hall_of[e["window_id"]] == h)) for h in ("hall-anshan", "hall-tiedong")}
    assert sum(open_by_hall.values()) > 0 and waiting  # the data exercises what is compared

    # reds and yellows: the domain's evaluation over a province-wide copy of the same server
    province = open_store(tmp_path / "province" / "hallwatch.db")
    try:
        _sync(province, server.url, central.add_terminal("ws-province", "operator", "org-liaoning"), "ws-province")
        with province.read() as s:
            derived = load_evaluator(s, SH).evaluate(NOW)
            on_time = perf.compute_from_store(s, SH, month_start, NOW).org_units
    finally:
        province.close()
    cards: Counter[tuple[str, str]] = Counter()
    for d in derived:
        if d.level in (Level.RED, Level.YELLOW):
            wid = d.window_id or (cases[d.subject]["window_id"] if d.subject in cases else None)
            hall = hall_of[wid] if wid else tickets[d.subject]["hall_id"]
            cards[(hall, str(d.level))] += 1
    assert cards[("hall-anshan", "red")] > 0

    for hall in ("hall-anshan", "hall-tiedong"):
        u = fig.unit(hall)
        assert u is not None
        assert u.open_cases == open_by_hall[hall]
        assert u.waiting == waiting_by_hall[hall]
        assert u.longest_wait_s == pytest.approx(longest.get(hall, 0.0))
        assert u.red == cards[(hall, "red")]
        assert u.yellow == cards[(hall, "yellow")]
        good, n = sat[hall]
        assert u.evaluations == n and u.satisfaction == pytest.approx(good / n)
        assert u.on_time_rate == pytest.approx(on_time[hall].on_time_rate)
        assert u.light == ("red" if u.red else u.light)
    city = fig.unit("org-anshan")
    county = fig.unit("org-tiedong")
    assert city is not None and county is not None
    assert city.open_cases == sum(open_by_hall.values())
    assert city.red == cards[("hall-anshan", "red")] + cards[("hall-tiedong", "red")]
    assert city.waiting == len(waiting)
    assert city.longest_wait_s == pytest.approx(max(longest.values()))
    assert county.open_cases == open_by_hall["hall-tiedong"]
    assert city.light == "red"

    # ranking: both halls, best score first; departments of both halls
    assert {r.id for r in fig.halls} == {"hall-anshan", "hall-tiedong"}
    assert [r.score for r in fig.halls] == sorted((r.score for r in fig.halls), reverse=True)
    assert {r.name for r in fig.departments} >= {"市场监督管理局", "税务局"}
    # the red list: every red in force, with its hall
    assert len(fig.reds) == city.red
    assert all(r.hall_id in ("hall-anshan", "hall-tiedong") for r in fig.reds)
    # trends: the day buckets end today and count this month's completed cases
    day = fig.trends["day"]
    assert day[-1].start == NOW.date() and len(day) == 14
    assert sum(p.completed for p in fig.trends["month"][-1:]) == city.completed
    # each unit's own trends: same buckets; a hall's month counts its own completed cases, the two
    # halls' make up the whole scope's, and the top of the scope shows the whole scope's
    assert fig.trends_of("org-anshan") is fig.trends
    halls = [fig.trends_of(h) for h in ("hall-anshan", "hall-tiedong")]
    for kind, whole in fig.trends.items():
        for t in halls:
            assert [p.start for p in t[kind]] == [p.start for p in whole]
        for i, p in enumerate(whole):
            assert sum(t[kind][i].completed for t in halls) == p.completed
            # cards of a window count in its hall; a queue's cards (a ticket, no window) only in the whole
            assert sum(t[kind][i].red for t in halls) <= p.red and sum(t[kind][i].yellow for t in halls) <= p.yellow
    for h, t in zip(("hall-anshan", "hall-tiedong"), halls, strict=True):
        u = fig.unit(h)
        assert u is not None and t["month"][-1].completed == u.completed
    assert fig.trends_of("org-tiedong")["day"] == fig.trends_of("hall-tiedong")["day"]  # the county has one hall


def test_a_county_leader_sees_only_its_county(tmp_path: Path, server: Any, central: Any) -> None:  # noqa: F811
    store = open_store(tmp_path / "county" / "hallwatch.db")
    try:
        _sync(store, server.url, central.add_terminal("leader-county", "leader", "org-tiedong"), "leader-county")
        fig = _figures(store)
    finally:
        store.close()
    assert [u.id for u in fig.units] == ["org-tiedong", "hall-tiedong"]
    hall_of = _hall_of_window()
    expected = sum(1 for c in _latest(activity_changes(), "case").values()
                   if c["status"] in OPEN and hall_of[c["window_id"]] == "hall-tiedong")
    assert fig.units[0].open_cases == expected
    assert all(r.hall_id == "hall-tiedong" for r in fig.reds)


def test_the_red_list_says_who_disposed_what_and_how(
    tmp_path: Path, leader_store: Store, server: Any, central: Any,  # noqa: F811
) -> None:
    red = _figures(leader_store).reds[0]
    ws = fast_client(server.url, central.add_terminal("ws-01", "operator", "hall-anshan"))
    try:
        at = NOW
        res = ws.push("ws-01", [warning_payload(new_action_id(), "warning.dispose", red.key, by="监察员甲", at=at,
                                                note="已当面督办，限当日办结", measure="supervise", since=None)])
        assert res[0].status == "applied", res
    finally:
        ws.close()
    _sync(leader_store, server.url, central.add_terminal("leader-2", "leader", "org-anshan"), "leader-2")
    after = {r.key: r for r in _figures(leader_store).reds}[red.key]
    assert after.state == "disposed"
    assert [(a.action, a.measure, a.by, a.note, a.terminal) for a in after.actions] == [
        ("warning.dispose", "supervise", "监察员甲", "已当面督办，限当日办结", "ws-01")]
    # a disposed red leaves the undisposed count
    assert _figures(leader_store).unit("hall-anshan").red == len([r for r in _figures(leader_store).reds
                                                                   if r.state != "disposed"])


def test_the_server_refuses_leader_actions(leader_store: Store, server: Any, central: Any) -> None:  # noqa: F811
    red = _figures(leader_store).reds[0]
    client = fast_client(server.url, central.add_terminal("leader-x", "leader", "org-anshan"))
    try:
        for kind, extra in (("warning.dispose", {"measure": "supervise"}), ("warning.acknowledge", {"measure": None})):
            with pytest.raises(Forbidden) as caught:
                client.push("leader-x", [warning_payload(new_action_id(), kind, red.key, by="领导", at=NOW,
                                                         note="看看", since=None, **extra)])
            assert caught.value.status == 403
    finally:
        client.close()
    # and nothing changed on the server: the red is still undisposed for everyone
    assert not [c for c in central.current("disposition")]


def test_the_leader_terminal_syncs_heartbeats_and_opens_no_camera(
    tmp_path: Path, server: Any, central: Any,  # noqa: F811
) -> None:
    token = central.add_terminal("leader-hb", "leader", "org-anshan")
    cfg = Config().model_copy(update={"server": ServerConfig(url=server.url, token=SecretStr(token), interval=1)})
    terminal = LeaderTerminal(cfg, tmp_path / "leader-data", clock=lambda: NOW)
    terminal.start()
    try:
        deadline = time.monotonic() + 20
        fig = None
        while time.monotonic() < deadline:
            st = terminal.status()
            if st.sync is not None and st.sync.last_success is not None and st.warnings.generation > 0:
                with terminal.store.read() as s:
                    fig = terminal.figures(s)
                if any(t.name == "leader-hb" and t.online for t in fig.terminals):
                    break
            time.sleep(0.1)
        assert fig is not None and fig.root == "org-anshan"
        assert any(t.name == "leader-hb" and t.online and t.role == "leader" for t in fig.terminals)
        assert not hasattr(terminal, "cameras") and not hasattr(terminal, "dispose")
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_relay_urls_for_the_built_in_relay_hls_and_rtmp() -> None:
    assert stream_url("http://10.0.0.5:8088/live/", "cam A", "t/k", listed=True) == \
        "http://10.0.0.5:8088/live/cam%20A.ts?token=t%2Fk"
    assert stream_url("http://cdn.example/hls", "cam-1", "t", listed=False) == "http://cdn.example/hls/cam-1/index.m3u8"
    assert stream_url("rtmp://media.example/live", "cam-1", "t", listed=False) == "rtmp://media.example/live/cam-1"
    assert relay_cameras("rtmp://media.example/live", "t") is None
    # a pushed relay's template (app.relay_push): filled in, no list to ask, no token added
    assert stream_url("http://cdn.example/hls/{camera_id}/index.m3u8", "A 01", "t", listed=False) == \
        "http://cdn.example/hls/A%2001/index.m3u8"
    assert stream_url("rtmp://10.0.0.7/live/{camera_id}", "A01", "t", listed=False) == "rtmp://10.0.0.7/live/A01"
    assert relay_cameras("http://cdn.example/hls/{camera_id}/index.m3u8", "t") is None


def test_an_unreachable_relay_is_said_without_its_token(tmp_path: Path) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(RelayError) as caught:
        relay_cameras(f"http://127.0.0.1:{port}/live/", "secret-token-value", timeout=2)
    assert caught.value.code == "unreachable"
    assert "secret-token-value" not in str(caught.value)
