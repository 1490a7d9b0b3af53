"""POST /actions: results per action, idempotency, the warning state machine, roles, scope."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any

import pytest

from supervision import demo
from supervision.snapshot import evaluator_from_changes
from sync.server.actions import apply_actions
from sync.server.store import CentralStore, Refusal
from sync.server.testing import ServerThread
from tests.sync.server.conftest import T0, TZ, Api, ack, dispose, small_hall

Make = Any
OVERDUE_A = "C-a1/OVERDUE"
WAIT_A = "T-a1/WAIT_LONG"


def statuses(r: Any) -> list[tuple[str, str | None]]:
    assert r.status_code == 200, r.text
    return [(x["status"], x.get("code")) for x in r.json()["results"]]


def test_applied_then_duplicate_then_superseded(server: ServerThread, api: Make) -> None:
    a = api()
    _, cursor = a.pull_all()
    r = a.actions([ack("a-1", OVERDUE_A), ack("a-1", OVERDUE_A), ack("a-2", OVERDUE_A, by="李四"),
                   dispose("a-3", OVERDUE_A), dispose("a-4", OVERDUE_A), ack("a-5", WAIT_A)])
    assert statuses(r) == [("applied", None), ("duplicate", None), ("rejected", "superseded"),
                           ("applied", None), ("rejected", "superseded"), ("applied", None)]
    results = r.json()["results"]
    assert [x["id"] for x in results] == ["a-1", "a-1", "a-2", "a-3", "a-4", "a-5"]
    assert "张三" in results[2]["message"]
    assert results[1]["original"] == {"status": "applied"}
    # resending the whole batch changes nothing
    again = statuses(a.actions([ack("a-1", OVERDUE_A), ack("a-2", OVERDUE_A, by="李四")]))
    assert again == [("duplicate", None), ("duplicate", None)]
    assert a.actions([ack("a-2", OVERDUE_A, by="李四")]).json()["results"][0]["original"] == {
        "status": "rejected", "code": "superseded"}
    # applied warning actions reach the feed as dispositions (id = action id)
    got, _ = a.pull_all(cursor)
    disp = {c["id"]: c["data"] for c in got if c["type"] == "disposition"}
    assert set(disp) == {"a-1", "a-3", "a-5"}
    assert disp["a-3"] == {"warning": OVERDUE_A, "action": "warning.dispose", "measure": "supervise", "by": "张三",
                           "at": T0.isoformat(), "note": "已督办", "terminal": "ws-01",
                           "since": disp["a-3"]["since"]}
    assert disp["a-3"]["since"] == disp["a-1"]["since"]  # the episode both acted on
    assert "measure" not in disp["a-1"]
    # the audit keeps every received action, the rejected ones too
    log = {x["id"]: x for x in server.store.actions()}
    assert set(log) == {"a-1", "a-2", "a-3", "a-4", "a-5"}
    assert (log["a-2"]["status"], log["a-2"]["code"], log["a-2"]["terminal"]) == ("rejected", "superseded", "ws-01")
    assert log["a-1"]["received_at"].tzinfo is not None


@pytest.mark.parametrize(
    ("action", "field"),
    [
        ({"type": "warning.acknowledge", "warning": OVERDUE_A, "by": "张三"}, "at"),
        ({"type": "warning.acknowledge", "warning": OVERDUE_A, "by": "", "at": T0.isoformat()}, "by"),
        ({"type": "warning.acknowledge", "warning": "no-code", "by": "张三", "at": T0.isoformat()}, "warning"),
        ({"type": "warning.acknowledge", "warning": OVERDUE_A, "by": "张三", "at": "2026-11-25T10:30"}, "at"),
        ({"type": "warning.dispose", "warning": OVERDUE_A, "by": "张三", "at": T0.isoformat(), "measure": "scold",
          "note": "x"}, "measure"),
        ({"type": "warning.dispose", "warning": OVERDUE_A, "by": "张三", "at": T0.isoformat(),
          "measure": "explain", "note": "  "}, "note"),
        ({"type": "bookmark.create", "at": T0.isoformat()}, "camera_id"),
        ({"type": "case.note", "case_id": "C-a1", "at": T0.isoformat(), "note": ""}, "note"),
        ({"type": "warning.escalate", "warning": OVERDUE_A, "by": "张三", "at": T0.isoformat()}, "type"),
        ({"type": "warning.acknowledge", "warning": OVERDUE_A, "by": "张三", "at": "2099-01-01T00:00:00+08:00"},
         "at"),
    ],
)
def test_invalid_actions_are_rejected_naming_the_field(api: Make, action: dict[str, Any], field: str) -> None:
    r = api().actions([{"id": "x-1", **action}])
    (res,) = r.json()["results"]
    assert (res["status"], res["code"]) == ("rejected", "invalid")
    assert res["message"].startswith(field)


def test_actions_without_an_id_are_rejected_but_answered_in_place(api: Make) -> None:
    a = api()
    r = a.actions([{"type": "case.note"}, {"id": 7, "type": "case.note"}, {"id": "", "type": "case.note"},
                   ack("ok-1", WAIT_A)])
    res = r.json()["results"]
    assert [(x["id"], x["status"], x.get("code")) for x in res] == [
        (None, "rejected", "invalid"), (None, "rejected", "invalid"), ("", "rejected", "invalid"),
        ("ok-1", "applied", None)]
    # an action that is not even an object makes the request malformed
    r = a.actions([ack("ok-2", WAIT_A), 5])
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"


def test_unknown_and_out_of_scope_subjects(api: Make) -> None:
    county_a = api(scope="org-a")
    r = county_a.actions([
        ack("u-1", "C-nope/OVERDUE"),
        ack("u-2", "C-a1/DUE_SOON"),  # the case exists, the warning is not in force
        ack("u-3", "C-a1/NOT_A_RULE"),
        ack("u-4", OVERDUE_A, at=datetime(2026, 11, 5, 10, 0, tzinfo=TZ)),  # not yet overdue then
        ack("u-5", "C-b1/OVERDUE"),  # county B's case
        {"id": "u-6", "type": "bookmark.create", "camera_id": "cam-b1", "at": T0.isoformat(), "note": ""},
        {"id": "u-7", "type": "bookmark.create", "camera_id": "cam-zz", "at": T0.isoformat(), "note": ""},
        {"id": "u-8", "type": "case.note", "case_id": "C-b1", "at": T0.isoformat(), "note": "n"},
        {"id": "u-9", "type": "case.note", "case_id": "C-zz", "at": T0.isoformat(), "note": "n"},
        {"id": "u-10", "type": "case.note", "case_id": "C-a1", "at": T0.isoformat(), "note": "材料已补齐"},
        {"id": "u-11", "type": "bookmark.create", "camera_id": "cam-a1", "at": T0.isoformat(), "note": "争执"},
    ])
    assert statuses(r) == [
        ("rejected", "unknown_warning"), ("rejected", "unknown_warning"), ("rejected", "unknown_warning"),
        ("rejected", "unknown_warning"), ("rejected", "forbidden"), ("rejected", "forbidden"),
        ("rejected", "unknown_camera"), ("rejected", "forbidden"), ("rejected", "unknown_case"),
        ("applied", None), ("applied", None)]
    marks = [c for c in county_a.pull_all()[0] if c["type"] == "bookmark"]
    assert [(c["id"], c["data"]["camera_id"], c["data"]["note"]) for c in marks] == [("u-11", "cam-a1", "争执")]


def test_leader_gets_403_for_warning_actions_and_may_bookmark(server: ServerThread, api: Make) -> None:
    leader = api(role="leader", name="leader-1")
    bm = {"id": "l-2", "type": "bookmark.create", "camera_id": "cam-a1", "at": T0.isoformat(), "note": ""}
    r = leader.actions([bm, ack("l-1", OVERDUE_A)])
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    assert server.store.actions() == []  # refused as a whole: nothing applied
    assert statuses(leader.actions([bm])) == [("applied", None)]


def test_more_than_500_actions_is_413_and_500_is_fine(server: ServerThread, api: Make) -> None:
    a = api()
    note = {"type": "case.note", "case_id": "C-a1", "at": T0.isoformat(), "note": "n"}
    r = a.actions([{"id": f"n-{i}", **note} for i in range(501)])
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_many_actions"
    assert server.store.actions() == []
    r = a.actions([{"id": f"n-{i}", **note} for i in range(500)])
    assert r.status_code == 200 and len(r.json()["results"]) == 500


def test_two_operators_disposing_the_same_warning_exactly_one_applies(any_store: CentralStore) -> None:
    any_store.publish(small_hall())
    tokens = [any_store.add_terminal(f"ws-{i}", "operator", "org-p") for i in range(6)]
    with ServerThread(any_store) as srv:
        apis = [Api(srv.url, t) for t in tokens]
        results: dict[int, list[Any]] = {}
        start = threading.Barrier(len(apis))

        def push(i: int) -> None:
            start.wait()
            r = apis[i].actions([dispose(f"d-{i}", OVERDUE_A, by=f"operator {i}")])
            results[i] = r.json()["results"]

        threads = [threading.Thread(target=push, args=(i,)) for i in range(len(apis))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        for a in apis:
            a.close()
    outcomes = sorted((r[0]["status"], r[0].get("code")) for r in results.values())
    assert outcomes == [("applied", None)] + [("rejected", "superseded")] * 5
    disp = any_store.current("disposition")
    assert len(disp) == 1


def test_a_risen_warning_starts_a_new_episode(api: Make) -> None:
    """OVERDUE on C-a1 is yellow from 11-10 and red from 11-14 (undisposed for 3 working days):
    acknowledging the yellow does not stop acknowledging the red; a late action on the yellow
    after the red was handled is superseded."""
    a = api()
    yellow_at = datetime(2026, 11, 11, 9, 0, tzinfo=TZ)
    r = a.actions([ack("e-1", OVERDUE_A, at=yellow_at), ack("e-2", OVERDUE_A, at=T0),
                   dispose("e-3", OVERDUE_A, at=T0), dispose("e-4", OVERDUE_A, at=yellow_at)])
    assert statuses(r) == [("applied", None), ("applied", None), ("applied", None), ("rejected", "superseded")]


def _demo_warnings(body: dict[str, Any], at: datetime) -> list[str]:
    """The warnings a terminal derives from the demo body at ``at`` (the terminal's own code path)."""
    return sorted(w.key for w in evaluator_from_changes(body["changes"], TZ).evaluate(at))


def test_the_demos_planted_warnings_are_accepted(store: CentralStore) -> None:
    day = date(2026, 11, 25)
    now = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)
    body = demo.generate(day, now=now)
    store.publish(body["changes"])
    keys = _demo_warnings(body, now)
    codes = {k.rpartition("/")[2] for k in keys}
    assert codes == {"DUE_SOON", "OVERDUE", "STAGE_LATE", "FEE_MISMATCH", "STAGE_SKIPPED", "SUSPENDED_LONG",
                     "WAIT_LONG", "POST_LEFT"}
    term = store.authenticate(store.add_terminal("ws-01", "operator", "org-liaoning"))
    assert term is not None
    acks = [ack(f"ack-{i}", k, at=now) for i, k in enumerate(keys)]
    res = apply_actions(store, term, acks)
    assert [(x["id"], x["status"]) for x in res] == [(a["id"], "applied") for a in acks], res
    later = now + timedelta(minutes=2)
    res = apply_actions(store, term, [dispose(f"disp-{i}", k, at=later) for i, k in enumerate(keys)])
    assert {x["status"] for x in res} == {"applied"}, res
    assert len(store.current("disposition")) == 2 * len(keys)


def test_store_refuses_whole_batches(hall: CentralStore) -> None:
    leader = hall.authenticate(hall.add_terminal("l", "leader", "org-p"))
    assert leader is not None
    with pytest.raises(Refusal) as e:
        apply_actions(hall, leader, [ack("x", OVERDUE_A)])
    assert (e.value.status, e.value.code) == (403, "forbidden")
