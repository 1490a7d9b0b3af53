"""POST /heartbeat: server time, and the `terminal` record republished only when it matters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from sync.server.schema import terminals
from sync.server.testing import ServerThread

Make = Any


def test_heartbeat_answers_server_time_and_publishes_sparingly(server: ServerThread, api: Make) -> None:
    a = api(name="ws-07")
    leader = api(role="leader", name="leader-1")
    _, cursor = leader.pull_all()
    before = datetime.now(UTC)
    r = a.heartbeat(sent_at=before.isoformat(), cameras=[{"id": "cam-a1", "online": True, "recording": True}],
                    warnings={"yellow": 2, "red": 1}, relay_url="http://10.0.0.7:8080/live/")
    assert r.status_code == 200
    t = datetime.fromisoformat(r.json()["server_time"])
    assert t.utcoffset() == timedelta(hours=8)
    assert abs((t - before).total_seconds()) < 5
    got, cursor = leader.pull_all(cursor)
    (rec,) = [c for c in got if c["type"] == "terminal"]
    assert rec["data"]["name"] == "ws-07" and rec["data"]["role"] == "operator"
    assert rec["data"]["relay_url"] == "http://10.0.0.7:8080/live/"
    assert rec["data"]["last_seen"] is not None
    # polling again within the minute, relay unchanged (or not mentioned): nothing published
    for body in ({"relay_url": "http://10.0.0.7:8080/live/"}, {}, {"warnings": {"red": 3}}):
        assert a.heartbeat(**body).status_code == 200
    assert leader.pull_all(cursor)[0] == []
    # the relay moves: published at once
    a.heartbeat(relay_url=None)
    got, cursor = leader.pull_all(cursor)
    assert [(c["type"], c["data"]["relay_url"]) for c in got] == [("terminal", None)]
    # a minute later last_seen is refreshed
    with server.store.write() as tx:
        tx.c.execute(update(terminals).values(published_at=datetime.now(UTC) - timedelta(seconds=61)))
    a.heartbeat()
    got, _ = leader.pull_all(cursor)
    assert [c["type"] for c in got] == ["terminal"]
    assert got[0]["version"] == rec["version"] + 2
    (row,) = [t for t in server.store.terminals() if t["name"] == "ws-07"]
    assert row["last_seen"] is not None and row["relay_url"] is None


def test_bad_heartbeats(api: Make) -> None:
    a = api()
    for body in ({"sent_at": "yesterday"}, {"cameras": "none"}, {"warnings": {"red": "3"}},
                 {"sent_at": "2026-11-25T10:30:00"}):
        r = a.heartbeat(**body)
        assert r.status_code == 422, body
        assert r.json()["error"]["code"] == "invalid"


def test_a_terminals_first_heartbeat_is_published_at_once(api: Make) -> None:
    """Leaders judge "online" from last_seen: a terminal's first heartbeat must not wait out the minute."""
    a = api(name="ws-08")
    leader = api(role="leader", name="leader-2")
    _, cursor = leader.pull_all()
    assert a.heartbeat().status_code == 200  # no relay, just made: still published
    got, cursor = leader.pull_all(cursor)
    (rec,) = [c for c in got if c["type"] == "terminal" and c["data"]["name"] == "ws-08"]
    assert rec["data"]["last_seen"] is not None
    assert a.heartbeat().status_code == 200  # and then sparingly again
    assert [c for c in leader.pull_all(cursor)[0] if c["data"]["name"] == "ws-08"] == []
