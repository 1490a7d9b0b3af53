"""Transport: gzip both ways, body limits, error bodies, tokens kept out of logs, TLS."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from sync.server.store import CentralStore
from sync.server.testing import ServerThread
from tests.ci import unavailable
from tests.sync.server.conftest import T0, Api, ack, small_hall

Make = Any


def test_responses_are_gzipped_when_accepted(api: Make) -> None:
    a = api()
    r = a.session.get(a.base + "/changes", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert r.headers["Content-Encoding"] == "gzip"
    raw = r.raw.read(decode_content=False)
    r.close()
    page = json.loads(gzip.decompress(raw))
    assert len(page["changes"]) == len(small_hall()) + 1
    r = a.session.get(a.base + "/changes", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in r.headers and r.json()["changes"]


def test_gzip_request_bodies_are_accepted(api: Make) -> None:
    a = api()
    body = gzip.compress(json.dumps({"terminal": "ws-01", "actions": [ack("gz-1", "T-a1/WAIT_LONG")]}).encode())
    r = a.session.post(a.base + "/actions", data=body, timeout=10,
                       headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json()["results"] == [{"id": "gz-1", "status": "applied"}]
    hb = gzip.compress(json.dumps({"relay_url": "http://x/live/"}).encode())
    r = a.session.post(a.base + "/heartbeat", data=hb, timeout=10,
                       headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert r.status_code == 200


def test_bad_bodies(tmp_path: Path) -> None:
    store = CentralStore(tmp_path / "s.db")
    store.publish(small_hall())
    token = store.add_terminal("ws", "operator", "org-p")
    with ServerThread(store, max_body_bytes=64 * 1024) as srv:
        a = Api(srv.url, token)
        h = {"Content-Type": "application/json"}
        try:
            def post(data: bytes, **headers: str) -> requests.Response:
                return a.session.post(a.base + "/actions", data=data, headers={**h, **headers}, timeout=10)

            r = post(b'{"actions": [')
            assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed")
            r = post(json.dumps({"actions": [{"id": "x" * 100, "note": "y" * 1000}] * 100}).encode())
            assert (r.status_code, r.json()["error"]["code"]) == (413, "too_large")
            bomb = gzip.compress(b'{"actions": [], "pad": "' + b" " * (1024 * 1024) + b'"}')
            assert len(bomb) < 64 * 1024
            r = post(bomb, **{"Content-Encoding": "gzip"})
            assert (r.status_code, r.json()["error"]["code"]) == (413, "too_large")
            r = post(b"not gzip at all", **{"Content-Encoding": "gzip"})
            assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed")
            r = post(gzip.compress(b'{"actions": []}')[:-6], **{"Content-Encoding": "gzip"})
            assert r.status_code == 400
            r = post(b'{"actions": []}', **{"Content-Encoding": "br"})
            assert r.status_code == 415
            r = post(b'{"actions": "all"}')
            assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid")
            assert "actions" in r.json()["error"]["message"]
            r = a.session.get(srv.url + "/api/v1/nowhere", timeout=10)
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
            r = a.session.delete(a.base + "/changes", timeout=10)
            assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
            assert "GET" in r.headers["Allow"]
        finally:
            a.close()
    store.close()


def test_tokens_never_reach_the_logs(hall: CentralStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = hall.add_terminal("ws-secret", "operator", "org-p")
    bad = "bad-" + token[::-1]
    with ServerThread(hall) as srv:
        good, wrong = Api(srv.url, token), Api(srv.url, bad)
        try:
            good.pull_all()
            good.actions([ack("log-1", "C-a1/OVERDUE"), ack("log-2", "nope/OVERDUE")])
            good.heartbeat(relay_url="http://x/live/")
            assert wrong.changes().status_code == 401
            assert wrong.actions([]).status_code == 401
        finally:
            good.close()
            wrong.close()
    text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "expected some log output"
    assert "uvicorn.access" in {r.name for r in caplog.records}
    assert token not in text and bad not in text


def test_tls_with_a_self_signed_certificate(hall: CentralStore, tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        unavailable("needs the openssl command", "openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    token = hall.add_terminal("ws", "operator", "org-p")
    with ServerThread(hall, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        assert srv.url.startswith("https://127.0.0.1:")
        a = Api(srv.url, token, verify=str(cert))
        try:
            changes, _ = a.pull_all()
            assert len(changes) == len(small_hall()) + 1
            assert a.actions([ack("tls-1", "T-a1/WAIT_LONG", at=T0)]).json()["results"][0]["status"] == "applied"
        finally:
            a.close()
        unverified = requests.Session()
        unverified.trust_env = False
        try:
            with pytest.raises(requests.exceptions.SSLError):
                unverified.get(srv.url + "/api/v1/changes", timeout=10)  # not trusted without the CA bundle
        finally:
            unverified.close()


def test_failures_inside_answer_with_an_error_body(
    hall: CentralStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy.exc import OperationalError

    token = hall.add_terminal("ws", "operator", "org-p")

    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    def busy(*_: Any, **__: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    with ServerThread(hall) as srv:
        a = Api(srv.url, token)
        try:
            monkeypatch.setattr(hall, "changes", broken)
            with caplog.at_level(logging.CRITICAL):  # the traceback logged is expected here
                for _ in range(20):  # on the same keep-alive connection: never reset after a failure
                    r = a.changes()
                    assert r.status_code == 500
                    assert r.json()["error"]["code"] == "internal"
            monkeypatch.setattr(hall, "changes", busy)
            r = a.changes()
            assert r.status_code == 503 and r.headers["Retry-After"] == "2"
            assert r.json()["error"]["code"] == "unavailable"
        finally:
            a.close()


def test_docs_and_schema_are_served(server: ServerThread) -> None:
    s = requests.Session()
    s.trust_env = False
    try:
        assert "swagger" in s.get(server.url + "/docs", timeout=10).text.lower()
        schema = s.get(server.url + "/openapi.json", timeout=10).json()
        assert set(schema["paths"]) == {"/api/v1/changes", "/api/v1/actions", "/api/v1/heartbeat", "/api/v1/me"}
        assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    finally:
        s.close()


def test_server_thread_stops_within_a_second_despite_open_connections(hall: CentralStore) -> None:
    token = hall.add_terminal("ws", "operator", "org-p")
    srv = ServerThread(hall).start()
    a = Api(srv.url, token)
    try:
        assert a.changes().status_code == 200  # leaves a keep-alive connection open
        t0 = time.monotonic()
        srv.stop()
        assert time.monotonic() - t0 < 1.5
    finally:
        a.close()
        srv.stop()
