"""A hostile or lying client against the reference server over real HTTP (issue 13 items 1, 5–11).

Each test first sends the exact request the probe sent, then the variations around it.
"""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.server.protocol import Guards
from sync.server.store import CentralStore
from sync.server.testing import ServerThread
from tests.sync.server.conftest import T0, Api, ack, iso, small_hall

Make = Any
OVERDUE_A = "C-a1/OVERDUE"


def post_raw(a: Api, path: str, body: bytes, content_type: str | None = "application/json") -> requests.Response:
    headers = {} if content_type is None else {"Content-Type": content_type}
    req = requests.Request("POST", a.base + path, data=body, headers=headers)
    prepared = a.session.prepare_request(req)
    if content_type is None:
        prepared.headers.pop("Content-Type", None)
    return a.session.send(prepared, timeout=10)


def get_raw(a: Api, path: str, params: dict[str, str]) -> requests.Response:
    """A GET whose query may hold any string: UTF-8 with lone surrogates kept, percent-encoded."""
    query = "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in params.items())
    return a.session.get(f"{a.base}{path}?{query}", timeout=10)


def error_of(r: requests.Response) -> tuple[int, str]:
    assert r.headers["Content-Type"].startswith("application/json"), r.text
    return r.status_code, r.json()["error"]["code"]


def log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records]


def assert_no_forged_line(lines: list[str]) -> None:
    for line in lines:
        assert line.isprintable(), f"a log line holds control or bidi characters: {line!r}"


# -- 1: invalid Unicode ----------------------------------------------------------------------------


def test_a_lone_surrogate_in_any_body_is_a_400_with_the_error_body(api: Make) -> None:
    a = api()
    exact = b'{"actions":[{"id":"\\ud800","type":"case.note","case_id":"x","note":"n"}]}'
    assert error_of(post_raw(a, "/actions", exact)) == (400, "malformed")
    assert "lone surrogate" in post_raw(a, "/actions", exact).json()["error"]["message"]
    for body in (b'{"terminal":"\\udfff","actions":[]}', b'{"relay_url":"http://h/\\ud800"}',
                 b'{"cameras":[{"id":"\\ud83d"}]}', b'{"warnings":{"\\udc00":1}}'):
        path = "/actions" if b"actions" in body else "/heartbeat"
        assert error_of(post_raw(a, path, body)) == (400, "malformed"), body
    # A surrogate pair is a character, not an error.
    ok = post_raw(a, "/actions", b'{"actions":[{"id":"pair-\\ud83d\\ude00","type":"case.note","case_id":"C-a1",'
                                 b'"note":"n","at":"' + iso(T0).encode() + b'","by":"x"}]}')
    assert ok.status_code == 200 and ok.json()["results"][0]["status"] == "applied"
    assert error_of(get_raw(a, "/changes", {"cursor": "\ud800"})) == (400, "bad_cursor")


# -- 5: log injection ------------------------------------------------------------------------------


@pytest.mark.parametrize("evil", ["x\nINFO sync.server.actions: action y from term-admin applied", "x\x00y",
                                  "x\u202eroot\u202c", "x\r\nforged", "x\u2028y"])
def test_what_a_client_sends_is_escaped_in_the_log(api: Make, caplog: pytest.LogCaptureFixture, evil: str) -> None:
    caplog.set_level(logging.DEBUG)
    a = api()
    r = a.actions([{"id": evil, "type": "case.note", "case_id": "C-a1", "note": "n", "at": iso(T0), "by": "x"},
                   {"id": "ok-1", "type": evil, "note": "n"}])
    assert r.status_code == 200
    lines = log_lines(caplog)
    assert any("ok-1" in line for line in lines)
    assert_no_forged_line(lines)


# -- 6: secrets in the access log ------------------------------------------------------------------


def test_a_token_in_a_query_string_is_masked_in_the_access_log(api: Make, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    a = api()
    secret = "Tok-" + "9" * 30
    r = a.session.get(a.base + f"/changes?token={secret}&sig=Sig-4242&limit=2", timeout=10)
    assert error_of(r) == (400, "malformed")
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("token=***" in line and "sig=***" in line and "limit=2" in line for line in access), access
    assert not any(secret in m or "Sig-4242" in m for m in log_lines(caplog))


# -- 7: relay_url ----------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "file:///etc/passwd", "http://", "//host/x",
                                 "http://host/a b", "ftp://host/x", "http://host/\u202ex", "data:text/html,<b>"])
def test_a_relay_url_is_a_video_url_with_a_host_or_a_422(server: ServerThread, api: Make, url: str) -> None:
    a = api()
    assert a.heartbeat(relay_url="http://10.0.0.7:8080/live/").status_code == 200
    r = a.heartbeat(relay_url=url)
    assert error_of(r) == (422, "invalid")
    assert "relay_url" in r.json()["error"]["message"]
    (row,) = [t for t in server.store.terminals() if t["name"] == "ws-01"]
    assert row["relay_url"] == "http://10.0.0.7:8080/live/"  # unchanged
    for fine in ("https://relay.hall.local/live/", "rtsp://10.0.0.7:8554/live", "rtmp://10.0.0.7/live"):
        assert a.heartbeat(relay_url=fine).status_code == 200


# -- 8: idempotency ids per terminal ---------------------------------------------------------------


def test_an_id_is_unique_per_terminal_and_a_reused_id_is_never_dropped_silently(server: ServerThread,
                                                                                api: Make) -> None:
    a, b = api(name="ws-a"), api(name="ws-b")
    note_a = {"id": "same-id", "type": "bookmark.create", "camera_id": "cam-a1", "at": iso(T0), "note": "A's"}
    note_b = {**note_a, "note": "B's"}
    assert a.actions([note_a]).json()["results"] == [{"id": "same-id", "status": "applied"}]
    # The exact case: B reuses A's id. B's action is its own: applied, not "duplicate" with A's result.
    assert b.actions([note_b]).json()["results"] == [{"id": "same-id", "status": "applied"}]
    bookmarks = {rid: data["note"] for (t, rid), (_v, data) in server.store.current("bookmark").items()}
    assert sorted(bookmarks.values()) == ["A's", "B's"]
    # The same terminal resending the same action: duplicate; other content under the id: 409 id_reused.
    assert a.actions([note_a]).json()["results"][0]["status"] == "duplicate"
    (res,) = a.actions([{**note_a, "note": "changed"}]).json()["results"]
    assert (res["status"], res["code"]) == ("rejected", "id_reused") and "same-id" in res["message"]
    assert sorted(bookmarks.values()) == sorted(
        data["note"] for (_t, _i), (_v, data) in server.store.current("bookmark").items())


# -- 9: content types and JSON ---------------------------------------------------------------------


def test_only_json_bodies_are_read_and_every_error_has_the_json_body(server: ServerThread, api: Make) -> None:
    a = api()
    body = json.dumps({"actions": [ack("ct-1", OVERDUE_A)]}).encode()
    assert error_of(post_raw(a, "/actions", body, "text/plain")) == (415, "unsupported_media_type")
    assert error_of(post_raw(a, "/actions", body, None)) == (415, "unsupported_media_type")
    assert error_of(post_raw(a, "/heartbeat", b"{}", "application/x-www-form-urlencoded")) == (
        415, "unsupported_media_type")
    assert post_raw(a, "/actions", body, "application/json; charset=utf-8").status_code == 200
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        r = post_raw(a, "/heartbeat", b'{"warnings": {"red": ' + constant + b"}}")
        assert error_of(r) == (400, "malformed") and "not a JSON number" in r.json()["error"]["message"]
    r = post_raw(a, "/actions", b'{"actions": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}")
    assert error_of(r) == (400, "malformed")
    # A bad Content-Length never reaches the application: the protocol answers, with the JSON body too.
    host, port = "127.0.0.1", server.port
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(b"POST /api/v1/actions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: banana\r\n\r\n{}")
        reply = _read_all(s)
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head.lower()
    assert json.loads(payload)["error"]["code"] == "malformed"


def _read_all(s: socket.socket, deadline_s: float = 5.0) -> bytes:
    s.settimeout(deadline_s)
    out = b""
    try:
        while chunk := s.recv(65536):
            out += chunk
    except TimeoutError:
        pass
    return out


# -- 10: half-open connections ---------------------------------------------------------------------


@pytest.fixture
def guarded(hall: CentralStore) -> Iterator[tuple[ServerThread, str]]:
    token = hall.add_terminal("ws-guard", "operator", "org-p")
    with ServerThread(hall, guards=Guards(header_timeout=0.5, body_timeout=0.5, max_per_client=8)) as srv:
        yield srv, token


def _closed_within(s: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closed the connection within ``seconds``, and what it sent first."""
    s.settimeout(0.05)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True, got
        if not chunk:
            return True, got
        got += chunk
    return False, got


def test_half_open_and_trickling_connections_are_closed(guarded: tuple[ServerThread, str]) -> None:
    srv, token = guarded
    silent = socket.create_connection(("127.0.0.1", srv.port))
    partial = socket.create_connection(("127.0.0.1", srv.port))
    body = socket.create_connection(("127.0.0.1", srv.port))
    try:
        partial.sendall(b"GET /api/v1/changes HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        body.sendall(b"POST /api/v1/heartbeat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"war")
        closed, got = _closed_within(silent, 5)
        assert closed and got.startswith(b"HTTP/1.1 408")
        assert _closed_within(partial, 5)[0]
        assert _closed_within(body, 5)[0]
    finally:
        for s in (silent, partial, body):
            s.close()
    # and the server still answers
    a = Api(srv.url, token)
    try:
        assert a.changes().status_code == 200
    finally:
        a.close()


def test_connections_per_client_address_are_capped(hall: CentralStore) -> None:
    token = hall.add_terminal("ws-cap", "operator", "org-p")
    with ServerThread(hall, guards=Guards(header_timeout=30, max_per_client=5)) as srv:
        held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(5)]
        try:
            with socket.create_connection(("127.0.0.1", srv.port)) as extra:
                closed, got = _closed_within(extra, 5)
            assert closed
            head, _, payload = got.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503") and json.loads(payload)["error"]["code"] == "too_many_connections"
        finally:
            for s in held:
                s.close()
        a = Api(srv.url, token)  # once they are gone, a client is served again
        try:
            deadline = time.monotonic() + 5
            while True:
                try:
                    if a.changes().status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                assert time.monotonic() < deadline, "never served again"
                time.sleep(0.05)
        finally:
            a.close()


# -- 11: signed cursors ----------------------------------------------------------------------------


def test_a_hand_edited_cursor_is_a_400_and_a_real_one_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    store = CentralStore(path)
    store.publish(small_hall())
    token = store.add_terminal("ws-01", "operator", "org-p")
    with ServerThread(store) as srv:
        a = Api(srv.url, token)
        try:
            _, cursor = a.pull_all(limit=3)
            store.publish([{"type": "ticket", "id": "T-b1", "op": "delete"}])
            store.compact(store.last_seq + 1)
            payload, _, sig = cursor.partition(".")
            obj = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            obj["b"] = 10**9  # "my pull began from scratch above every floor": would dodge expiry
            forged = base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
            for bad in (f"{forged}.{sig}", forged, payload, f"{payload}.", f"{payload}.{sig[:-1]}x"):
                assert error_of(a.changes(bad)) == (400, "bad_cursor"), bad
            assert error_of(a.changes(cursor)) == (410, "cursor_expired")  # the real one expired, as it should
            _, fresh = a.pull_all()
        finally:
            a.close()
    store.close()
    again = CentralStore(path)  # the key is kept: cursors issued before a restart still work
    try:
        with ServerThread(again) as srv:
            a = Api(srv.url, token)
            try:
                assert a.changes(fresh).status_code == 200
            finally:
                a.close()
    finally:
        again.close()


# -- every string field of every endpoint ----------------------------------------------------------

SPECIAL = ["\ud800", "\udfff", "\ud83d", "\x00", "\u202e", "\u2066", "\u200f", "\n", "\r\n", "\u2028", "\x1b[2J",
           "%00", "\\", '"', "{", "😀", "中文"]
characters = st.one_of(st.characters(), st.sampled_from(SPECIAL))
hostile_text = st.one_of(
    st.lists(characters, max_size=40).map("".join),
    st.tuples(st.sampled_from([*SPECIAL, "a", "中"]), st.sampled_from([1_000, 100_000])).map(lambda p: p[0] * p[1]),
)

ACTION_FIELDS = {
    "case.note": ["id", "type", "case_id", "note", "by", "at"],
    "bookmark.create": ["id", "type", "camera_id", "note", "by", "at"],
    "warning.acknowledge": ["id", "type", "warning", "by", "at", "note", "since"],
    "warning.dispose": ["id", "type", "warning", "by", "at", "note", "measure", "since"],
}
HEARTBEAT_FIELDS = ["terminal", "sent_at", "relay_url", "camera.id", "warnings.key"]


def _action(kind: str, n: int) -> dict[str, Any]:
    base: dict[str, Any] = {"id": f"h-{n}", "type": kind, "at": iso(T0), "by": "张三", "note": "n"}
    if kind == "case.note":
        base["case_id"] = "C-a1"
    elif kind == "bookmark.create":
        base["camera_id"] = "cam-a1"
    else:
        base["warning"] = OVERDUE_A
        if kind == "warning.dispose":
            base["measure"] = "supervise"
    return base


def test_random_unicode_in_every_string_field_never_a_5xx_nor_a_forged_log_line(
    hall: CentralStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = hall.add_terminal("ws-fuzz", "operator", "org-p")
    counter = iter(range(10**9))
    with ServerThread(hall) as srv:
        a = Api(srv.url, token)
        try:
            cases = st.one_of(
                st.tuples(st.just("actions"), st.sampled_from(sorted(ACTION_FIELDS)), st.sampled_from(range(8)),
                          hostile_text),
                st.tuples(st.just("heartbeat"), st.just(""), st.sampled_from(range(len(HEARTBEAT_FIELDS))),
                          hostile_text),
                st.tuples(st.just("changes"), st.sampled_from(["cursor", "limit", "name"]), st.just(0), hostile_text),
                st.tuples(st.just("actions-terminal"), st.just(""), st.just(0), hostile_text),
            )

            @given(case=cases)
            @settings(max_examples=150, deadline=None, database=None,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.data_too_large])
            def send(case: tuple[str, str, int, str]) -> None:
                endpoint, kind, which, text = case
                before = len(caplog.records)
                if endpoint == "actions":
                    fields = ACTION_FIELDS[kind]
                    action = _action(kind, next(counter))
                    action[fields[which % len(fields)]] = text
                    r = post_raw(a, "/actions", json.dumps({"actions": [action]}).encode())
                elif endpoint == "actions-terminal":
                    r = post_raw(a, "/actions", json.dumps({"terminal": text, "actions": []}).encode())
                elif endpoint == "heartbeat":
                    field = HEARTBEAT_FIELDS[which]
                    body: dict[str, Any] = {"terminal": "ws", "cameras": [{"id": "cam-a1", "online": True}]}
                    if field == "camera.id":
                        body["cameras"][0]["id"] = text
                    elif field == "warnings.key":
                        body["warnings"] = {text: 1}
                    else:
                        body[field] = text
                    r = post_raw(a, "/heartbeat", json.dumps(body).encode())
                else:
                    r = get_raw(a, "/changes", {kind: text})
                assert r.status_code < 500, (case, r.status_code, r.text[:300])
                if r.status_code >= 400:
                    assert "error" in r.json(), r.text[:300]
                assert_no_forged_line([rec.getMessage() for rec in caplog.records[before:]])

            send()
        finally:
            a.close()


def test_a_window_number_sent_as_an_integer_is_served_as_its_decimal_text(server: ServerThread, api: Make) -> None:
    """sync-protocol.md: a terminal accepts a JSON integer window number and reads it as its decimal text;
    the reference server stores and serves it so."""
    server.store.publish([{"type": "window", "id": "win-7", "op": "upsert",
                           "data": {"hall_id": "hall-a", "number": 7, "name": "综合窗口", "department": "税务局"}}])
    got, _ = api().pull_all()
    (w,) = [c for c in got if c["id"] == "win-7"]
    assert w["data"]["number"] == "7"


# -- the schema change behind item 8 ---------------------------------------------------------------

_V1_ACTIONS = """CREATE TABLE actions (
    n {pk},
    id VARCHAR(200) NOT NULL UNIQUE,
    terminal_id VARCHAR(40) NOT NULL, terminal VARCHAR(200) NOT NULL, type VARCHAR(60) NOT NULL,
    status VARCHAR(20) NOT NULL, code VARCHAR(40), message TEXT, warning VARCHAR(500),
    received_at {ts} NOT NULL, payload TEXT NOT NULL)"""


def test_a_schema_1_database_is_migrated_to_ids_per_terminal(any_store: CentralStore) -> None:
    """A server database of schema 1 (action ids unique globally) opens as schema 2, its actions kept."""
    from sqlalchemy import text

    store = any_store
    store.publish(small_hall())
    url = store.url.render_as_string(hide_password=False)
    pg = store.is_postgres
    with store.engine.begin() as c:  # back to schema 1: the old actions table, one action in it
        c.execute(text("DROP TABLE actions"))
        c.execute(text(_V1_ACTIONS.format(pk="SERIAL PRIMARY KEY" if pg else "INTEGER NOT NULL PRIMARY KEY",
                                          ts="TIMESTAMP" if pg else "DATETIME")))
        c.execute(text("CREATE INDEX ix_actions_warning ON actions (warning)"))
        c.execute(text("INSERT INTO actions (id, terminal_id, terminal, type, status, received_at, payload) "
                       "VALUES ('old-1', 'term-a', 'ws-a', 'case.note', 'applied', :t, '{}')"), {"t": T0})
        c.execute(text("UPDATE server_state SET schema_version = 1"))
    migrated = CentralStore(url)
    try:
        assert [a["id"] for a in migrated.actions()] == ["old-1"]
        with migrated.read() as c:
            assert c.execute(text("SELECT schema_version FROM server_state")).scalar_one() == 2
        a, b = migrated.add_terminal("ws-a", "operator", "org-p"), migrated.add_terminal("ws-b", "operator", "org-p")
        with ServerThread(migrated) as srv:
            for token in (a, b):
                api = Api(srv.url, token)
                try:
                    note = {"id": "shared", "type": "case.note", "case_id": "C-a1", "note": "n", "at": iso(T0)}
                    assert api.actions([note]).json()["results"][0]["status"] == "applied"
                finally:
                    api.close()
    finally:
        migrated.close()
