"""The change feed: paging, cursors, 410s, limits and scope — over HTTP on loopback."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import pytest

from sync.server.store import CentralStore, Refusal
from sync.server.testing import ServerThread
from tests.sync.server.conftest import TZ, Api, case, small_hall, up

Make = Any


def ids(changes: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(c["type"], c["id"]) for c in changes}


def test_pages_follow_the_cursor_and_seqs_increase(api: Make) -> None:
    a = api()
    seen: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        r = a.changes(cursor, limit=5)
        assert r.status_code == 200
        page = r.json()
        assert set(page) == {"epoch", "changes", "next_cursor", "has_more", "server_time"}
        assert len(page["changes"]) <= 5
        assert page["server_time"].endswith("+08:00")
        seen += page["changes"]
        cursor = page["next_cursor"]
        pages += 1
        if not page["has_more"]:
            break
    seqs = [c["seq"] for c in seen]
    assert seqs == sorted(set(seqs))
    assert pages == -(-len(seen) // 5)
    # everything published, plus this terminal's own `terminal` record
    assert ids(seen) == {(c["type"], c["id"]) for c in small_hall()} | {("terminal", seen[-1]["id"])}
    assert all(c["op"] == "upsert" and c["version"] == 1 and isinstance(c["data"], dict) for c in seen)
    # nothing new: an empty page, the same position
    again = a.changes(cursor).json()
    assert again["changes"] == [] and not again["has_more"]


def test_later_changes_arrive_after_the_cursor_with_higher_versions(server: ServerThread, api: Make) -> None:
    a = api()
    _, cursor = a.pull_all()
    server.store.publish([case("C-a1", "win-a1", datetime(2026, 11, 3, 9, 0, tzinfo=TZ))])
    server.store.publish([{"type": "ticket", "id": "T-a1", "op": "delete"}])
    got, _ = a.pull_all(cursor)
    assert [(c["type"], c["id"], c["op"], c["version"]) for c in got] == [
        ("case", "C-a1", "upsert", 2),
        ("ticket", "T-a1", "delete", 2),
    ]
    assert "data" not in got[1]


def test_cursor_errors(server: ServerThread, api: Make) -> None:
    a = api()
    _, cursor = a.pull_all()
    for bad in ("not-a-cursor", "", base64.urlsafe_b64encode(b'{"e": 1, "s": "x"}').decode(), "%%%"):
        r = a.changes(bad)
        assert r.status_code == 400, bad
        assert r.json()["error"]["code"] == "bad_cursor"
    ahead = server.store.encode_cursor(server.store.epoch, 10**9)  # signed (a backup restored, say)
    r = a.changes(ahead)
    assert r.status_code == 410 and r.json()["error"]["code"] == "cursor_expired"
    server.store.new_epoch()
    r = a.changes(cursor)
    assert r.status_code == 410 and r.json()["error"]["code"] == "epoch_mismatch"
    # from the beginning works, in the new epoch
    page = a.changes().json()
    assert page["epoch"] == server.store.epoch and page["changes"]


def test_compaction_expires_old_cursors_only(server: ServerThread, api: Make) -> None:
    a = api()
    _, old = a.pull_all()
    server.store.publish([{"type": "ticket", "id": "T-b1", "op": "delete"}])
    _, recent = a.pull_all(old)
    last = server.store.last_seq
    assert server.store.compact(last + 1) == 1  # the tombstone
    r = a.changes(old)
    assert r.status_code == 410 and r.json()["error"]["code"] == "cursor_expired"
    assert a.changes(recent).status_code == 200
    assert ("ticket", "T-b1") not in ids(a.pull_all()[0])


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "abc", "1.5"])
def test_limit_out_of_range_is_400(api: Make, limit: str) -> None:
    r = api().session.get(api().base + "/changes", params={"limit": limit}, timeout=10)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "malformed"


def test_limit_bounds_accepted(server: ServerThread, api: Make) -> None:
    a = api()
    assert len(a.changes(limit=1).json()["changes"]) == 1
    page = a.changes(limit=5000).json()
    assert not page["has_more"]
    assert len(page["changes"]) == len(small_hall()) + 1


def test_a_county_token_never_sees_another_countys_records(server: ServerThread, api: Make) -> None:
    a, b, city = api(scope="org-a"), api(scope="org-b"), api(scope="org-c")
    got_a = ids(a.pull_all()[0])
    got_b = ids(b.pull_all()[0])
    got_city = ids(city.pull_all()[0])
    globals_ = {("case_type", "ct-1"), ("rule_set", "default")}
    for mine, h, o in ((got_a, "a", "b"), (got_b, "b", "a")):
        assert {("org_unit", f"org-{h}"), ("org_unit", f"hall-{h}"), ("window", f"win-{h}1"),
                ("camera", f"cam-{h}1"), ("case", f"C-{h}1"), ("ticket", f"T-{h}1")} <= mine
        assert globals_ <= mine
        assert not {x for x in mine if x[1].endswith(f"-{o}1") or x[1] in (f"org-{o}", f"hall-{o}")}
        assert ("org_unit", "org-c") not in mine and ("org_unit", "org-p") not in mine
    assert (got_a | got_b) - {x for x in got_a | got_b if x[0] == "terminal"} <= got_city
    # each sees the terminals registered in its own subtree only
    assert len([x for x in got_a if x[0] == "terminal"]) == 1
    assert len([x for x in got_city if x[0] == "terminal"]) == 3


def test_moving_a_window_to_another_hall_deletes_it_and_its_cases_there(server: ServerThread, api: Make) -> None:
    a, b, city = api(scope="org-a"), api(scope="org-b"), api(scope="org-c")
    cur = {t: t.pull_all()[1] for t in (a, b, city)}
    server.store.publish([up("window", "win-a1", hall_id="hall-b", number="A01", name="综合窗口",
                             department="市场监督管理局")])
    got_a = a.pull_all(cur[a])[0]
    assert {(c["type"], c["id"], c["op"]) for c in got_a} == {("window", "win-a1", "delete"),
                                                             ("case", "C-a1", "delete")}
    got_b = b.pull_all(cur[b])[0]
    assert {(c["type"], c["id"], c["op"]) for c in got_b} == {("window", "win-a1", "upsert"),
                                                             ("case", "C-a1", "upsert")}
    assert all(c["version"] == 2 for c in got_a + got_b)
    # the city sees it in both places: a plain upsert, never a delete
    got_city = city.pull_all(cur[city])[0]
    assert {(c["type"], c["id"], c["op"]) for c in got_city} == {("window", "win-a1", "upsert"),
                                                                ("case", "C-a1", "upsert")}
    # and back again: county A gets it back with a version above the tombstone
    _, cur_a = a.pull_all(cur[a])
    server.store.publish([up("window", "win-a1", hall_id="hall-a", number="A01", name="综合窗口",
                             department="市场监督管理局")])
    back = a.pull_all(cur_a)[0]
    assert {(c["type"], c["id"], c["op"]) for c in back} == {("window", "win-a1", "upsert"),
                                                            ("case", "C-a1", "upsert")}
    assert all(c["version"] == 3 for c in back)


def test_moving_a_hall_to_another_county_moves_its_whole_subtree(server: ServerThread, api: Make) -> None:
    a, b = api(scope="org-a"), api(scope="org-b")
    cur_a, cur_b = a.pull_all()[1], b.pull_all()[1]
    server.store.publish([up("org_unit", "hall-a", name="铁东区政务服务中心", parent_id="org-b", level="hall")])
    gone = a.pull_all(cur_a)[0]
    assert {c["op"] for c in gone} == {"delete"}
    assert {(c["type"], c["id"]) for c in gone} >= {("org_unit", "hall-a"), ("window", "win-a1"),
                                                    ("camera", "cam-a1"), ("case", "C-a1"), ("ticket", "T-a1")}
    came = b.pull_all(cur_b)[0]
    assert {(c["type"], c["id"]) for c in came} == {(c["type"], c["id"]) for c in gone}
    assert {c["op"] for c in came} == {"upsert"}
    # a fresh pull by county A no longer has any of it
    assert not ids(a.pull_all()[0]) & ids(came)


def test_records_whose_anchor_comes_later_appear_when_it_does(server: ServerThread, api: Make) -> None:
    a = api(scope="org-a")
    _, cursor = a.pull_all()
    server.store.publish([case("C-late", "win-a9", datetime(2026, 11, 20, 9, 0, tzinfo=TZ))])
    got, cursor = a.pull_all(cursor)
    assert got == []  # its window is unknown: visible to nobody yet
    server.store.publish([up("window", "win-a9", hall_id="hall-a", number="A09", name="窗口", department="税务局")])
    got, _ = a.pull_all(cursor)
    assert {(c["type"], c["id"], c["op"]) for c in got} == {("window", "win-a9", "upsert"),
                                                           ("case", "C-late", "upsert")}


def test_unknown_token_is_401_and_nothing_else_is_said(server: ServerThread) -> None:
    a = Api(server.url, "not-a-token")
    try:
        r = a.changes()
        assert r.status_code == 401
        assert r.json() == {"error": {"code": "unauthorized", "message": "unknown or revoked token"}}
        assert r.headers["WWW-Authenticate"] == "Bearer"
        a.session.headers.pop("Authorization")
        r = a.changes()
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    finally:
        a.close()


def test_store_level_refusals(hall: CentralStore) -> None:
    token = hall.add_terminal("ws", "operator", "org-a")
    term = hall.authenticate(token)
    assert term is not None and term.scope == "org-a"
    with pytest.raises(Refusal) as e:
        hall.changes(term, None, 0)
    assert e.value.status == 400
    with pytest.raises(ValueError, match="no org unit 'org-x'"):
        hall.add_terminal("ws", "operator", "org-x")
    with pytest.raises(ValueError, match="role"):
        hall.add_terminal("ws", "admin", "org-a")
