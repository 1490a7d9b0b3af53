"""The sync client over real HTTP against the reference server, with faults injected by a loopback
proxy: every status of the protocol, Retry-After in its three forms, timeouts, lost, truncated,
corrupt, malformed and huge answers, gzip both ways, TLS with a wrong CA, and no token in logs."""

from __future__ import annotations

import email.utils
import gzip
import json
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.client import (
    CertificateError,
    Forbidden,
    Gone,
    HTTPStatusError,
    Offline,
    ProtocolError,
    RequestRejected,
    ServerError,
    TooLarge,
    Unauthorized,
    retry_after_seconds,
)
from tests.sync.conftest import NOW, TOP_ORG, fast_client
from tests.sync.fault_proxy import Fault, FaultProxy

SECRET_TOKEN_PREFIX = "hwtok"


@pytest.fixture
def proxy(server: Any) -> Iterator[FaultProxy]:
    with FaultProxy(server.url) as p:
        yield p


@pytest.fixture
def published(central: Any) -> int:
    """How many changes the first page of a pull from the beginning brings (500 a page)."""
    return min(500, len(central.current()))


def error_body(code: str, message: str = "") -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


# -- Retry-After -------------------------------------------------------------------------------------
BASE = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        ("120", 60.0),  # capped
        (email.utils.format_datetime(BASE + timedelta(seconds=30), usegmt=True), 30.0),
        (email.utils.format_datetime(BASE + timedelta(hours=2), usegmt=True), 60.0),
        (email.utils.format_datetime(BASE - timedelta(seconds=30), usegmt=True), 0.0),
        ("Wed, 25 Nov 2026 00:00:10 +0000", 10.0),
        ("soon", None),
        ("-3", None),
        ("1.5", None),
        ("", None),
        (None, None),
        ("Wed, 99 Foo 2026 99:00:00 GMT", None),
    ],
)
def test_retry_after_is_seconds_or_a_date_capped_and_garbage_is_ignored(value: str | None, expected: float) -> None:
    assert retry_after_seconds(value, now=BASE, cap=60.0) == expected


# -- statuses ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "code", "error", "retried"),
    [
        (400, "malformed", RequestRejected, False),
        (401, "unauthorized", Unauthorized, False),
        (403, "forbidden", Forbidden, False),
        (404, "not_found", RequestRejected, False),
        (409, "conflict", RequestRejected, False),
        (410, "cursor_expired", Gone, False),
        (410, "epoch_mismatch", Gone, False),
        (413, "too_large", TooLarge, False),
        (422, "semantic", RequestRejected, False),
        (429, "rate_limited", ServerError, True),
        (500, "internal", ServerError, True),
        (502, "bad_gateway", ServerError, True),
        (503, "unavailable", ServerError, True),
        (504, "timeout", ServerError, True),
    ],
)
def test_every_status_of_the_protocol_is_its_own_error(
    proxy: FaultProxy, token: str, status: int, code: str, error: type[HTTPStatusError], retried: bool
) -> None:
    proxy.add(Fault("status", path="/api/v1/changes", status=status, body=error_body(code, "said so"), times=99))
    with fast_client(proxy.url, token, retries=2) as client, pytest.raises(error) as e:
        client.changes(None)
    assert e.value.status == status and e.value.code == code
    assert str(e.value)  # in words
    # 401 and every other definite answer is not repeated; 429/5xx are, up to `retries` times.
    assert len(proxy.requests_to("/api/v1/changes")) == (3 if retried else 1)


def test_unauthorized_says_what_to_do(proxy: FaultProxy, token: str) -> None:
    proxy.add(Fault("status", status=401, body=error_body("unauthorized", "unknown token")))
    with fast_client(proxy.url, token) as client, pytest.raises(Unauthorized) as e:
        client.changes(None)
    assert "new token" in str(e.value)


def test_a_real_401_from_the_server(server: Any) -> None:
    with fast_client(server.url, "not-a-token") as client, pytest.raises(Unauthorized):
        client.changes(None)


def test_a_closed_client_sends_nothing_and_keeps_no_connection(server: Any, token: str) -> None:
    """A terminal stopping closes its client while an engine's request may outlive the stop's wait:
    nothing goes out after close(), and a call under way when it came leaves no connection open
    (a closed requests session opens a new pool for the next request, kept until collected)."""
    client = fast_client(server.url, token)
    client.changes(None)
    pools = client._session.get_adapter(server.url).poolmanager.pools
    assert len(pools) == 1  # the kept-alive connection
    client.close()
    assert len(pools) == 0
    with pytest.raises(Offline, match="closed"):
        client.changes(None)
    assert len(pools) == 0
    # closed while a call is under way (here: as the call signs its request, before it connects)
    racing = fast_client(server.url, token)
    sign = racing._session.auth
    assert sign is not None

    def close_then_sign(r: Any) -> Any:
        racing.close()
        return sign(r)

    racing._session.auth = close_then_sign
    racing.changes(None)  # the call under way ends as it would have
    assert len(racing._session.get_adapter(server.url).poolmanager.pools) == 0


@pytest.mark.parametrize("form", ["seconds", "date", "garbage"])
@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_then_the_call_succeeds(
    proxy: FaultProxy, token: str, published: int, form: str, status: int
) -> None:
    server_now = datetime.now(UTC).replace(microsecond=0)
    headers = {"Date": email.utils.format_datetime(server_now, usegmt=True)}
    if form == "seconds":
        headers["Retry-After"] = "1"
    elif form == "date":
        headers["Retry-After"] = email.utils.format_datetime(server_now + timedelta(seconds=1), usegmt=True)
    else:
        headers["Retry-After"] = "in a little while"
    proxy.add(Fault("status", path="/api/v1/changes", status=status, headers=headers, body=error_body("busy")))
    waits: list[float] = []
    with fast_client(proxy.url, token) as client:
        client.on_retry = lambda attempt, wait, why: waits.append(wait)
        t0 = time.monotonic()
        page = client.changes(None)
        elapsed = time.monotonic() - t0
    assert page.received == published
    assert len(waits) == 1
    if form == "garbage":
        assert waits[0] <= 0.2  # the client's own (test-sized) backoff
    else:
        assert waits[0] == pytest.approx(1.0, abs=0.01)
        assert elapsed >= 0.95


def test_retry_after_is_capped(proxy: FaultProxy, token: str, published: int) -> None:
    proxy.add(Fault("status", status=503, headers={"Retry-After": "3600"}, body=error_body("busy")))
    waits: list[float] = []
    with fast_client(proxy.url, token, max_retry_after=0.3) as client:
        client.on_retry = lambda attempt, wait, why: waits.append(wait)
        client.changes(None)
    assert waits == [0.3]


def test_connection_refused_is_offline_after_the_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    with fast_client(f"http://127.0.0.1:{port}", "tok", retries=2) as client:
        client.on_retry = lambda attempt, wait, why: waits.append(wait)
        with pytest.raises(Offline) as e:
            client.changes(None)
    assert "connection refused" in str(e.value)
    assert len(waits) == 2
    assert all(0 < w <= 0.2 for w in waits)


def test_a_slow_server_is_a_timeout(proxy: FaultProxy, token: str) -> None:
    proxy.add(Fault("delay", delay=1.5))
    with fast_client(proxy.url, token, read_timeout=0.3, retries=0) as client, pytest.raises(Offline) as e:
        client.changes(None)
    assert "timed out" in str(e.value)


def test_a_cut_connection_is_offline_and_retried(proxy: FaultProxy, token: str, published: int) -> None:
    proxy.add(Fault("cut", path="/api/v1/changes"))
    with fast_client(proxy.url, token) as client:
        assert client.changes(None).received == published
    assert len(proxy.requests_to("/api/v1/changes")) == 2


def test_a_lost_answer_to_a_push_is_resent_and_the_server_says_duplicate(
    proxy: FaultProxy, central: Any, token: str, published: int
) -> None:
    action = {
        "id": "0193a000-0000-7000-8000-000000000001",
        "type": "bookmark.create",
        "camera_id": "cam-A01",
        "at": NOW.isoformat(),
        "note": "",
        "by": "张三",
    }
    proxy.add(Fault("drop", path="/api/v1/actions"))  # the server commits, the answer never arrives
    with fast_client(proxy.url, token) as client:
        results = client.push("ws-01", [action])
    assert [r.status for r in results] == ["duplicate"]
    assert [a["id"] for a in central.actions()] == [action["id"]]


def test_large_request_bodies_are_gzipped_and_answers_may_be(
    proxy: FaultProxy, central: Any, token: str, published: int
) -> None:
    action = {
        "id": "0193a000-0000-7000-8000-000000000002",
        "type": "bookmark.create",
        "camera_id": "cam-A01",
        "at": NOW.isoformat(),
        "note": "长备注" * 3000,
        "by": "张三",
    }
    with fast_client(proxy.url, token) as client:
        assert [r.status for r in client.push("ws-01", [action])] == ["applied"]
        client.changes(None, limit=5000)
    post = proxy.requests_to("/api/v1/actions")[0]
    assert post.request_headers.get("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(post.request_body))["actions"][0]["note"] == action["note"]
    get = proxy.requests_to("/api/v1/changes")[0]
    assert get.request_headers.get("Accept-Encoding") == "gzip"
    small = {**action, "id": "0193a000-0000-7000-8000-000000000003", "note": "短"}
    with fast_client(proxy.url, token) as client:
        client.push("ws-01", [small])
    assert "Content-Encoding" not in proxy.requests_to("/api/v1/actions")[-1].request_headers


# -- bodies the protocol does not allow --------------------------------------------------------------
def test_a_truncated_page_is_retried_then_named(proxy: FaultProxy, token: str, published: int) -> None:
    proxy.add(Fault("truncate", path="/api/v1/changes", keep=100, times=3))
    with fast_client(proxy.url, token, retries=2) as client, pytest.raises(ProtocolError) as e:
        client.changes(None)
    assert "truncated" in str(e.value)
    proxy.add(Fault("truncate", path="/api/v1/changes", keep=100))
    with fast_client(proxy.url, token, retries=2) as client:
        assert client.changes(None).received == published  # once is a glitch: the retry gets it


def test_a_corrupt_body_is_a_protocol_error(proxy: FaultProxy, token: str, published: int) -> None:
    proxy.add(Fault("corrupt", path="/api/v1/changes", times=99))  # once would be retried as a glitch
    with fast_client(proxy.url, token) as client, pytest.raises(ProtocolError):
        client.changes(None)


def test_an_html_page_is_not_taken_for_json(proxy: FaultProxy, token: str) -> None:
    proxy.add(Fault("body", headers={"Content-Type": "text/html; charset=utf-8"}, body=b"<html>login</html>"))
    with fast_client(proxy.url, token) as client, pytest.raises(ProtocolError) as e:
        client.changes(None)
    assert "'text/html'" in str(e.value)


def test_a_huge_body_is_refused_without_reading_it_all(proxy: FaultProxy, token: str) -> None:
    huge = b'{"epoch": "e", "changes": [' + b'{"seq": 1},' * 200_000 + b"]}"
    proxy.add(Fault("body", body=huge))
    with fast_client(proxy.url, token, max_body_bytes=1 << 20) as client, pytest.raises(ProtocolError) as e:
        client.changes(None)
    assert "limit" in str(e.value)
    bomb = gzip.compress(b" " * (8 << 20))  # 8 MiB of blanks in a few KB
    proxy.add(Fault("body", headers={"Content-Encoding": "gzip"}, body=bomb))
    with fast_client(proxy.url, token, max_body_bytes=1 << 20) as client, pytest.raises(ProtocolError) as e:
        client.changes(None)
    assert "larger than" in str(e.value)


def test_an_actions_answer_that_does_not_match_is_refused(proxy: FaultProxy, token: str) -> None:
    action = {"id": "a-1", "type": "case.note", "case_id": "C-1", "note": "x", "by": "张三", "at": NOW.isoformat()}
    answers = [
        {"results": []},
        {"results": [{"id": "a-2", "status": "applied"}]},
        {"results": [{"id": "a-1", "status": "accepted"}]},
        {"result": []},
        [1, 2],
    ]
    with fast_client(proxy.url, token) as client:
        for body in answers:
            proxy.add(Fault("body", path="/api/v1/actions", body=json.dumps(body).encode()))
            with pytest.raises(ProtocolError):
                client.push("ws-01", [action])


VALID_PAGE: dict[str, Any] = {
    "epoch": "e1",
    "changes": [
        {
            "seq": 1,
            "type": "org_unit",
            "id": "org-x",
            "op": "upsert",
            "version": 1,
            "data": {"name": "X", "parent_id": None, "level": "province"},
        },
        {"seq": 2, "type": "case", "id": "C-1", "op": "delete", "version": 2},
    ],
    "next_cursor": "c2",
    "has_more": False,
    "server_time": "2026-11-25T08:00:00+08:00",
}

# Where a page can be wrong, and values that are wrong there.
_WRONG: list[tuple[tuple[Any, ...], st.SearchStrategy[Any]]] = [
    (("epoch",), st.one_of(st.integers(), st.none(), st.lists(st.text(), max_size=2), st.booleans())),
    (
        ("changes",),
        st.one_of(st.text(), st.integers(), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)),
    ),
    (("has_more",), st.one_of(st.text(min_size=1), st.integers(min_value=2), st.lists(st.none(), max_size=1))),
    (("next_cursor",), st.one_of(st.integers(), st.lists(st.text(), min_size=1, max_size=2))),
    (("server_time",), st.one_of(st.just("yesterday"), st.just("2026-11-25T08:00:00"), st.lists(st.none()))),
    (("changes", 0, "seq"), st.one_of(st.text(), st.floats(allow_nan=False), st.integers(max_value=-1))),
    (("changes", 0, "version"), st.one_of(st.text(), st.none(), st.integers(max_value=-1))),
    (("changes", 0, "op"), st.text().filter(lambda t: t not in ("upsert", "delete"))),
    (("changes", 0, "id"), st.one_of(st.integers(), st.none(), st.just(""))),
    (("changes", 0, "data"), st.one_of(st.text(), st.integers(), st.lists(st.integers(), max_size=2))),
    (
        ("changes", 0, "data", "level"),
        st.text().filter(lambda t: t not in ("province", "city", "county", "township", "hall")),
    ),
    (("changes", 0, "data", "name"), st.one_of(st.integers(), st.none(), st.booleans())),
    (("changes", 1, "seq"), st.integers(min_value=0, max_value=1)),  # not after the first change
]


@st.composite
def bad_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "field", "cut"]))
    if kind == "bytes":
        raw = draw(st.binary(max_size=200))
        return raw if raw.strip() else b"\x00"
    if kind == "json":  # valid JSON that is not a page object
        value = draw(st.one_of(st.integers(), st.text(), st.lists(st.integers(), max_size=3), st.none()))
        return json.dumps(value).encode()
    text = json.dumps(VALID_PAGE).encode()
    if kind == "cut":
        return text[: draw(st.integers(min_value=1, max_value=len(text) - 1))]
    path, values = draw(st.sampled_from(_WRONG))
    page = json.loads(text)
    where = page
    for key in path[:-1]:
        where = where[key]
    where[path[-1]] = draw(values)
    return json.dumps(page).encode()


def test_generated_malformed_bodies_are_named_protocol_errors(proxy: FaultProxy, token: str) -> None:
    # The proxy serves each generated body as a 200 application/json answer to GET /changes.
    with fast_client(proxy.url, token, retries=0) as client:
        proxy.add(Fault("body", body=json.dumps(VALID_PAGE).encode()))
        assert client.changes(None).received == 2  # the template itself is fine

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(bad_bodies())
        def check(body: bytes) -> None:
            proxy.clear()
            proxy.add(Fault("body", body=body))
            with pytest.raises(ProtocolError) as e:
                client.changes(None)
            assert str(e.value).strip()

        check()


# -- TLS ---------------------------------------------------------------------------------------------
def make_cert(folder: Path, name: str) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed to make a test certificate")
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_tls_is_verified_a_wrong_ca_is_refused_and_the_right_one_works(
    tmp_path: Path, central: Any, token: str
) -> None:
    from sync.server.testing import ServerThread

    cert, key = make_cert(tmp_path, "server")
    other, _ = make_cert(tmp_path, "other-ca")
    with ServerThread(central, ssl_certfile=str(cert), ssl_keyfile=str(key)) as srv:
        assert srv.url.startswith("https://")
        with fast_client(srv.url, token) as client, pytest.raises(CertificateError) as e:
            client.changes(None)  # the system's CAs do not know a self-signed certificate
        assert "not trusted" in str(e.value)
        with fast_client(srv.url, token, ca_bundle=str(other)) as client, pytest.raises(CertificateError):
            client.changes(None)
        with fast_client(srv.url, token, ca_bundle=str(cert)) as client:
            assert client.changes(None).received > 0


# -- secrets -----------------------------------------------------------------------------------------
def test_the_token_never_reaches_a_log_an_error_or_a_repr(
    proxy: FaultProxy, central: Any, caplog: pytest.LogCaptureFixture
) -> None:
    secret = central.add_terminal("ws-09", "operator", TOP_ORG)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    proxy.add(
        Fault("status", status=401, body=error_body("unauthorized", f"token {secret} is unknown")),
        Fault("status", status=503, headers={"Retry-After": "0"}, body=error_body("busy", f"for {secret}")),
        Fault("status", status=400, body=error_body("malformed", f"bad {secret}")),
        Fault("drop"),
    )
    with fast_client(proxy.url, secret) as client:
        texts.append(repr(client))
        raised: list[type[Exception]] = []
        for _ in range(3):
            try:
                client.changes(None)
            except Exception as e:
                raised.append(type(e))
                texts += [str(e), repr(e)]
        # 401, then 503 retried into a 400, then a dropped connection retried into success
        assert raised == [Unauthorized, RequestRejected], raised
        client.changes(None)
        client.heartbeat(
            {
                "terminal": "ws-09",
                "sent_at": NOW.isoformat(),
                "cameras": [],
                "warnings": {"yellow": 0, "red": 0},
                "relay_url": None,
            }
        )
    assert proxy.requests_to("/api/v1/changes")[0].request_headers["Authorization"] == f"Bearer {secret}"
    text = "\n".join(texts) + "\n" + caplog.text
    assert any("urllib3" in r.name for r in caplog.records)  # the libraries' debug logs were captured too
    assert secret not in text
