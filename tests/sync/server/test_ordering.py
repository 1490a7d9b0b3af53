"""No lower seq may become visible after a higher one was served — on SQLite and PostgreSQL.

Writer A takes its seq and holds its transaction open (the store's commit hook blocks it);
writer B publishes meanwhile and a reader polls the feed over HTTP. Were B allowed to commit its
higher seq first, the reader would be served it, move its cursor past A's seq and never see A's
change. The feed lock makes B wait for A: the reader sees nothing until A commits, then both, in
order, with no seq skipped.
"""

from __future__ import annotations

import threading
import time

from sync.server.store import CentralStore
from sync.server.testing import ServerThread
from tests.sync.server.conftest import Api, small_hall, up


def window(wid: str) -> dict[str, object]:
    return up("window", wid, hall_id="hall-a", number=wid, name="窗口", department="税务局")


def test_a_reader_never_skips_a_seq_held_by_an_open_transaction(any_store: CentralStore) -> None:
    any_store.publish(small_hall())
    token = any_store.add_terminal("ws-01", "operator", "org-p")
    held, release = threading.Event(), threading.Event()

    def hold_writer_a(_seq: int) -> None:
        if threading.current_thread().name == "writer-a":
            held.set()
            assert release.wait(20)

    # The same database through a store whose commits pass the injected hook.
    store = CentralStore(any_store.url.render_as_string(hide_password=False), commit_hook=hold_writer_a)
    errors: list[BaseException] = []

    def run(changes: list[dict[str, object]]) -> None:
        try:
            store.publish(changes)
        except BaseException as e:  # surfaced by the assertions below
            errors.append(e)

    with ServerThread(store) as srv:
        api = Api(srv.url, token)
        try:
            _, cursor = api.pull_all()
            base = store.last_seq
            a = threading.Thread(target=run, args=([window("win-held")],), name="writer-a")
            a.start()
            assert held.wait(10), "writer A never reached its commit"
            b = threading.Thread(target=run, args=([window("win-later")],), name="writer-b")
            b.start()
            seen: list[int] = []
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:  # the reader polls while A holds its seq
                page = api.changes(cursor).json()
                seen += [c["seq"] for c in page["changes"]]
                cursor = page["next_cursor"]
                time.sleep(0.02)
            assert b.is_alive(), "writer B committed while A still held a lower seq"
            assert seen == [], f"served {seen} while seq {base + 1} was uncommitted"
            release.set()
            a.join(20)
            b.join(20)
            assert not errors, errors
            got, _ = api.pull_all(cursor)
            seen += [c["seq"] for c in got]
            assert seen == [base + 1, base + 2]
            assert [c["id"] for c in got] == ["win-held", "win-later"]
        finally:
            release.set()
            api.close()
    store.close()
