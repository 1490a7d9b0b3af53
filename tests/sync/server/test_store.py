"""CentralStore without HTTP: publishing rules, validation messages, oracles, PostgreSQL parity, speed."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from sync.server.store import CentralStore, FeedPage, Terminal
from tests.sync.server.conftest import TZ, case, small_hall, up


def page_changes(page: FeedPage) -> list[dict[str, Any]]:
    body = json.loads(page.to_json("2026-11-25T10:30:00.000+08:00"))
    assert body["next_cursor"] == page.next_cursor
    changes: list[dict[str, Any]] = body["changes"]
    return changes


def pull(store: CentralStore, term: Terminal, cursor: str | None = None) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    while True:
        page = store.changes(term, cursor, 500)
        out += page_changes(page)
        cursor = page.next_cursor
        if not page.has_more:
            return out, cursor


def terminal(store: CentralStore, scope: str, role: str = "operator") -> Terminal:
    t = store.authenticate(store.add_terminal(f"t-{scope}", role, scope))
    assert t is not None
    return t


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("nope", "changes[0]: a change must be an object, not str"),
        ({"type": "widget", "id": "w", "data": {}}, "changes[0] (widget 'w'): type: unknown record type 'widget'"),
        ({"type": "window", "id": "", "data": {}}, "changes[0] (window ''): id: must be a string of 1 to 200"),
        ({"type": "window", "id": "w", "op": "merge", "data": {}}, "op: must be 'upsert' or 'delete'"),
        ({"type": "window", "id": "w", "op": "upsert"}, "changes[0] (window 'w'): data: an upsert needs its data"),
        (up("window", "w", hall_id="h", number=1.5, name="n", department="d"), "changes[0] (window 'w'): data.number:"),
        (up("case", "c", case_type_id="t", submitted_at="2026-11-25T10:00", status="accepted"),
         "changes[0] (case 'c'): data.submitted_at: Input should have timezone info"),
        (up("rule_set", "r", rules=[{"code": "WAIT_LONG", "params": {"minutes": -5}}]),
         "changes[0] (rule_set 'r'): data: rule WAIT_LONG parameter minutes=-5"),
        (up("calendar", "2026", year=2026, holidays=["2025-10-01"]),
         "changes[0] (calendar '2026'): data: calendar 2026: date 2025-10-01 is not in that year"),
        (up("org_unit", "x", name="X", parent_id="x", level="county"), "changes[0] (org_unit 'x'): org unit 'x'"),
    ],
)
def test_publish_refuses_bad_changes_naming_change_and_field(store: CentralStore, change: Any, message: str) -> None:
    with pytest.raises(ValueError) as e:
        store.publish([change])
    assert message in str(e.value)
    assert store.last_seq == 0 and store.current() == {}  # all or nothing


def test_a_bad_change_later_in_a_batch_publishes_nothing(store: CentralStore) -> None:
    with pytest.raises(ValueError, match=r"changes\[1\] \(org_unit 'b'\)"):
        store.publish([up("org_unit", "a", name="A", parent_id="b", level="city"),
                       up("org_unit", "b", name="B", parent_id="a", level="city")])
    assert store.current() == {}


def test_versions_tombstones_and_resurrection(store: CentralStore) -> None:
    hall = small_hall()
    assert store.publish(hall) == len(hall)
    assert store.publish([]) == len(hall)
    store.publish([case("C-a1", "win-a1", datetime(2026, 11, 3, 9, 0, tzinfo=TZ))])
    assert store.current("case")[("case", "C-a1")][0] == 2
    before = store.last_seq
    assert store.publish([{"type": "case", "id": "C-zz", "op": "delete"}]) == before  # nothing to delete
    store.publish([{"type": "case", "id": "C-a1", "op": "delete"}])
    store.publish([{"type": "case", "id": "C-a1", "op": "delete"}])  # already gone: no new change
    assert store.last_seq == before + 1
    assert ("case", "C-a1") not in store.current()
    store.publish([case("C-a1", "win-a1", datetime(2026, 11, 3, 9, 0, tzinfo=TZ))])
    assert store.current("case")[("case", "C-a1")][0] == 4


def test_data_is_normalised_and_unknown_fields_kept(store: CentralStore) -> None:
    store.publish(small_hall())
    store.publish([up("case_type", "ct-2", code="X-2", name="n", department="d", legal_days=3, promised_days=1,
                      fee=12, stage_days=None, color="blue")])
    (_, data), = [v for k, v in store.current("case_type").items() if k[1] == "ct-2"]
    assert data["fee"] == "12" and data["stage_days"] == {} and data["immediate"] is False
    assert data["color"] == "blue"  # a newer publisher's field reaches newer clients


def test_a_terminal_record_published_by_hand_is_global(store: CentralStore) -> None:
    store.publish(small_hall())
    store.publish([up("terminal", "relay-demo", name="demo relay", role="operator", relay_url="http://x/live/",
                      last_seen=None)])
    county = terminal(store, "org-a")
    assert ("terminal", "relay-demo") in {(c["type"], c["id"]) for c in pull(store, county)[0]}


def test_epoch_survives_reopening(tmp_path: Path) -> None:
    s = CentralStore(tmp_path / "s.db")
    epoch = s.epoch
    s.close()
    s = CentralStore(f"sqlite:///{tmp_path / 's.db'}")
    try:
        assert s.epoch == epoch
        assert s.new_epoch() != epoch and s.epoch != epoch
    finally:
        s.close()
    with pytest.raises(ValueError, match="in-memory"):
        CentralStore("sqlite://")


def test_scope_and_moves_on_both_databases(any_store: CentralStore) -> None:
    store = any_store
    store.publish(small_hall())
    a, b = terminal(store, "org-a"), terminal(store, "org-b")
    got_a, cur_a = pull(store, a)
    got_b, cur_b = pull(store, b)
    assert not {c["id"] for c in got_a} & {"win-b1", "C-b1", "T-b1", "hall-b", "org-b"}
    assert not {c["id"] for c in got_b} & {"win-a1", "C-a1", "T-a1", "hall-a", "org-a"}
    store.publish([up("window", "win-a1", hall_id="hall-b", number="A01", name="综合窗口", department="税务局")])
    moved_a, _ = pull(store, a, cur_a)
    moved_b, _ = pull(store, b, cur_b)
    assert {(c["id"], c["op"]) for c in moved_a} == {("win-a1", "delete"), ("C-a1", "delete")}
    assert {(c["id"], c["op"]) for c in moved_b} == {("win-a1", "upsert"), ("C-a1", "upsert")}
    seqs = [c["seq"] for c in moved_a + moved_b]
    assert len(seqs) == len(set(seqs))


def test_a_page_of_5000_records_is_served_quickly(store: CentralStore) -> None:
    store.publish(small_hall())
    tickets = [up("ticket", f"T-{i:05d}", hall_id="hall-a", number=f"A{i:03d}", case_type_id="ct-1",
                  issued_at="2026-11-25T08:31:00+08:00", called_at="2026-11-25T08:40:00+08:00",
                  window_id="win-a1", status="done") for i in range(6000)]
    t0 = time.perf_counter()
    store.publish(tickets)
    publish_s = time.perf_counter() - t0
    root = terminal(store, "org-p")
    t0 = time.thread_time()  # this thread's CPU (SQLite runs in it): not the machine's other load
    page = store.changes(root, None, 5000)
    body = page.to_json("2026-11-25T10:30:00.000+08:00")
    serve_s = time.thread_time() - t0
    assert page.has_more and len(json.loads(body)["changes"]) == 5000
    assert serve_s < 0.5, f"a 5000-record page took {serve_s:.3f} s"
    assert publish_s < 10, f"publishing 6000 tickets took {publish_s:.1f} s"


def test_order_within_one_batch_is_kept(store: CentralStore) -> None:
    store.publish(small_hall())
    county = terminal(store, "org-a")
    _, cursor = pull(store, county)
    accepted = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    store.publish([
        case("C-new", "win-a7", accepted),  # its window comes later in the same batch
        up("window", "win-a7", hall_id="hall-a", number="A07", name="窗口", department="税务局"),
        {"type": "case", "id": "C-a1", "op": "delete"},
        case("C-a1", "win-a1", accepted),  # deleted and back again
        {"type": "ticket", "id": "T-a1", "op": "delete"},
    ])
    got, _ = pull(store, county, cursor)
    last = {c["id"]: (c["op"], c["version"]) for c in got}
    assert last == {"win-a7": ("upsert", 1), "C-new": ("upsert", 2), "C-a1": ("upsert", 3),
                    "T-a1": ("delete", 2)}
    live = store.current()
    assert live[("case", "C-a1")][0] == 3 and ("ticket", "T-a1") not in live


def test_an_org_unit_whose_parent_comes_later_joins_the_tree(store: CentralStore) -> None:
    store.publish(small_hall())
    province = terminal(store, "org-p")
    _, cursor = pull(store, province)
    store.publish([up("org_unit", "hall-n", name="新区中心", parent_id="org-n", level="hall"),
                   up("window", "win-n1", hall_id="hall-n", number="N01", name="窗口", department="税务局")])
    assert pull(store, province, cursor)[0] == []  # below an org unit nobody knows yet
    store.publish([up("org_unit", "org-n", name="新区", parent_id="org-c", level="county")])
    got, _ = pull(store, province, cursor)
    assert {(c["id"], c["op"]) for c in got} == {("org-n", "upsert"), ("hall-n", "upsert"), ("win-n1", "upsert")}
    assert {c["id"] for c in pull(store, terminal(store, "org-n"))[0] if c["type"] != "terminal"} >= {
        "org-n", "hall-n", "win-n1"}


def test_a_full_pull_longer_than_a_page_completes_after_a_compaction(tmp_path: Path) -> None:
    """Cursors of a pull that began from scratch stay valid below the floor it began under."""
    store = CentralStore(str(tmp_path / "central.db"))
    try:
        store.publish(small_hall())
        store.publish([up("window", f"win-x{i}", hall_id="hall-a", number=f"X{i:02d}", name="窗口",
                          department="局") for i in range(30)])
        store.publish([{"type": "window", "id": "win-x0", "op": "delete"}])
        floor_seq = store.last_seq
        assert store.compact(floor_seq + 1) == 1
        term = terminal(store, "org-a")
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:  # pages of 5, all of them below the floor
            page = store.changes(term, cursor, 5)
            seen += page_changes(page)
            cursor = page.next_cursor
            if not page.has_more:
                break
        assert {c["id"] for c in seen} >= {f"win-x{i}" for i in range(1, 30)}
        # A compaction during a pull from scratch expires it: a tombstone it needed may be gone.
        first = store.changes(term, None, 5)
        store.publish([{"type": "window", "id": "win-x1", "op": "delete"}])
        store.compact(store.last_seq + 1)
        with pytest.raises(Exception, match="older than the kept history"):
            store.changes(term, first.next_cursor, 5)
    finally:
        store.close()
