"""The HTTP side of sync-protocol.md: one session to the central server, every call timed.

``SyncClient`` speaks the endpoints (``GET /changes``, ``POST /actions``, ``POST /heartbeat``, ``GET /me``)
and turns every way a call can go wrong into one typed error whose message says what happened in
words: ``Unauthorized`` (401: stop, no retry loop), ``Forbidden`` (403), ``Gone`` (410 with its code),
``TooLarge`` (413), ``RequestRejected`` (other 4xx), ``ServerError`` (5xx, 429 after the retries),
``Offline`` (connection refused, reset, timed out), ``CertificateError`` (TLS not trusted) and
``ProtocolError`` (a body that is not what the protocol says: malformed, truncated, wrongly typed,
too large — naming what is wrong).

Transport rules: connect and read timeouts on every request; TLS verified (a custom CA bundle is
passed as ``verify=`` on every request); ``Accept-Encoding: gzip``, request bodies above a few KB
gzipped; no redirects followed (a POST must not silently change its target); bodies read as a
stream and capped. Requests that are safe to repeat — every GET, ``POST /actions`` (the server keys
actions by id) and ``POST /heartbeat`` — are retried on connection errors, 5xx and 429 with jittered
exponential backoff, or after the server's ``Retry-After`` (seconds or an HTTP-date, capped, garbage
ignored) — all within ``total_timeout`` for the call (default twice the read timeout, at least 10 s),
which the error names when it is reached. Bytes that are not an HTTP answer are a
``ProtocolError`` (someone answered), not ``Offline``. The token is never logged, never put in an
error message and masked in ``repr``.
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from supervision.ingest import ChangeError, ValidChange, parse_page, validate_changes

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 2**20
GZIP_ABOVE_BYTES = 4 * 1024
MAX_PAGE_LIMIT = 5000
MAX_BATCH = 500
_CHUNK = 256 * 1024
USER_AGENT = "HallWatch-sync/1"

ActionStatus = Literal["applied", "duplicate", "rejected"]
_STATUSES: frozenset[str] = frozenset({"applied", "duplicate", "rejected"})


# -- errors ------------------------------------------------------------------------------------------
class SyncError(Exception):
    """Something kept a sync call from succeeding; ``str()`` says what in words."""


class Offline(SyncError):
    """The server could not be reached or did not answer in time (nothing is known to have happened)."""


class CertificateError(SyncError):
    """The server's TLS certificate is not trusted (wrong CA, wrong host name, expired)."""


class ProtocolError(SyncError):
    """The server answered something the protocol does not allow; the message names what.

    ``transient`` marks a body cut short in transit (worth repeating a safe request for)."""

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class HTTPStatusError(SyncError):
    """The server answered with an error status and (usually) a protocol error body."""

    def __init__(self, status: int, code: str, message: str, *, retry_after: float | None = None) -> None:
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"the server answered {self.status} {self.code}"
        return f"{text}: {self.message}" if self.message else text


class Unauthorized(HTTPStatusError):
    """401: the token is unknown or expired. Retrying will not help: the user must act."""

    def describe(self) -> str:
        return (
            "the server does not accept this terminal's token (401"
            + (f" {self.code}" if self.code else "")
            + "): ask the server's administrator for a new token and put it in the config or HALLWATCH_TOKEN"
        )


class Forbidden(HTTPStatusError):
    """403: this terminal's role may not do this (e.g. a leader token pushing warning actions)."""


class Gone(HTTPStatusError):
    """410: the cursor expired (``cursor_expired``) or the server's epoch changed (``epoch_mismatch``)."""


class TooLarge(HTTPStatusError):
    """413: the request (an actions batch) is larger than the server accepts."""


class RequestRejected(HTTPStatusError):
    """400, 404, 409, 422 …: the server refuses this request as it is; repeating it will not help."""


class ServerError(HTTPStatusError):
    """5xx, or 429 still after the retries: the server cannot serve now; try again later."""


# -- values ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One ``GET /changes`` page, checked: every known change validated, unknown types counted."""

    epoch: str
    changes: tuple[ValidChange, ...]
    received: int  # changes on the page, unknown types included
    unknown: Mapping[str, int]
    next_cursor: str | None
    has_more: bool
    server_time: datetime | None
    request_started: float  # time.monotonic() around the request, for the clock offset
    request_ended: float


@dataclass(frozen=True, slots=True)
class ActionResult:
    id: str
    status: ActionStatus
    code: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class ServerTime:
    """The server's clock and when (monotonic) the request went out and its answer came back."""

    at: datetime
    request_started: float
    request_ended: float


@dataclass(frozen=True, slots=True)
class Me:
    """``GET /me``: the terminal a token belongs to, its role and the org unit it sees."""

    terminal: str
    role: str
    scope: str


@dataclass(slots=True)
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes
    started: float
    ended: float


class _BearerAuth(requests.auth.AuthBase):
    """Sets the Authorization header per request; also stops ``~/.netrc`` from replacing it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self._token}"
        return r

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


def retry_after_seconds(value: str | None, *, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or an HTTP-date), at most ``cap``.

    None when the header is missing or unreadable (the caller falls back to its own backoff); a
    date in the past means "now" (0). ``now`` should be the server's ``Date`` when it sent one, so
    a wrong terminal clock does not stretch or shrink the wait.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return min(float(int(text)), cap)
    at = _http_date(text)
    if at is None:
        return None
    return min(max((at - now).total_seconds(), 0.0), cap)


def _server_date(headers: Mapping[str, str]) -> datetime | None:
    value = headers.get("Date")
    return _http_date(value) if value else None


def _http_date(value: str) -> datetime | None:
    """An HTTP-date as an aware instant (UTC when it names no zone); None if unreadable."""
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


NOT_HTTP = "the server answered something that is not HTTP"


def _connection_reason(exc: BaseException) -> str:
    """The root cause of a connection failure in a few words (no URL: it may carry a cursor)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and all(cur is not c for c in chain):
        chain.append(cur)
        nxt = cur.__cause__ or cur.__context__
        if nxt is None and isinstance(cur, urllib3.exceptions.MaxRetryError):
            nxt = cur.reason
        if nxt is None and cur.args and isinstance(cur.args[-1], BaseException):
            nxt = cur.args[-1]
        cur = nxt
    # urllib3's NewConnectionError is also a timeout class: look for the plain causes first.
    if any(isinstance(c, ConnectionRefusedError) or "Connection refused" in str(c) for c in chain):
        return "connection refused"
    if any(isinstance(c, ConnectionResetError) for c in chain):
        return "connection reset by the server"
    for c in chain:
        if isinstance(c, socket.gaierror):
            return f"cannot resolve the host name ({c.strerror})"
    if any(isinstance(c, TimeoutError | urllib3.exceptions.TimeoutError | requests.Timeout) for c in chain):
        return "timed out"
    if any(isinstance(c, http.client.RemoteDisconnected) for c in chain):
        return "the server closed the connection without answering"
    for c in chain:  # bytes came back, but not an HTTP answer (a status line, headers)
        if isinstance(c, http.client.HTTPException | urllib3.exceptions.HeaderParsingError):
            return NOT_HTTP
    if any("RemoteDisconnected" in repr(c) for c in chain):
        return "the server closed the connection without answering"
    if any("Connection aborted" in str(c) for c in chain):
        return "the connection was aborted"
    for c in chain:
        if isinstance(c, OSError) and c.strerror:
            return str(c.strerror)
    return type(exc).__name__


class SyncClient:
    """The central server's API for one terminal. Not thread-safe: one engine thread uses it."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        ca_bundle: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_retry_after: float = 60.0,
        retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        gzip_above: int = GZIP_ABOVE_BYTES,
        total_timeout: float | None = None,
    ) -> None:
        """``total_timeout``: the most one call may take, its retries and waits included (default:
        twice the read timeout, at least 10 s); when it is hit the error says so."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the server URL must be http(s)://host[:port][/path]")
        if parts.username or parts.password:
            raise ValueError("the server URL must not carry a user name or password")
        if not token or any(c in token for c in "\r\n"):
            raise ValueError("a token is required (one line)")
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.api_url = self.base_url + API_PREFIX
        self._token = token
        self._verify: str | bool = ca_bundle if ca_bundle else True
        self._timeout = (connect_timeout, read_timeout)
        self.total_timeout = total_timeout if total_timeout is not None else max(10.0, 2 * read_timeout)
        if self.total_timeout <= 0:
            raise ValueError("total_timeout must be positive")
        self.max_retry_after = max_retry_after
        self.retries = retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_body_bytes = max_body_bytes
        self.gzip_above = gzip_above
        self._stop = threading.Event()
        self._closed = threading.Event()  # close() was called: no request goes out any more
        self._session = requests.Session()
        self._session.auth = _BearerAuth(token)
        self._session.headers.update(
            {"Accept": "application/json", "Accept-Encoding": "gzip", "User-Agent": USER_AGENT}
        )
        # The environment's proxies (HTTP(S)_PROXY, NO_PROXY) and CA bundle (REQUESTS_CA_BUNDLE) are
        # read once here, not on every request: requests' per-request lookup scans os.environ and was
        # a third of an idle sync round's CPU.
        env = self._session.merge_environment_settings(self.api_url, {}, None, self._verify, None)
        self._session.trust_env = False
        self._session.proxies = dict(env["proxies"] or {})
        self._verify = env["verify"] if env["verify"] is not None else self._verify
        self._rng = random.Random()
        #: called with (attempt, seconds to wait, the error in words) before each wait between retries
        self.on_retry: Callable[[int, float, str], None] | None = None

    def __repr__(self) -> str:
        return f"SyncClient({self.base_url!r}, token=***)"

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """End waits between retries at once and release the connections. A call still under way
        on another thread (an engine whose request outlived its stop's wait) fails as offline and
        leaves no connection behind: a closed session would otherwise open a new pool for it."""
        self._closed.set()
        self._stop.set()
        self._session.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def interrupt(self) -> None:
        """Cut short any wait between retries (the engine is stopping); the call raises ``Offline``."""
        self._stop.set()

    def resume(self) -> None:
        self._stop.clear()

    # -- endpoints ---------------------------------------------------------------------------------
    def changes(self, cursor: str | None, limit: int = 500) -> ChangesPage:
        """One page of the change feed after ``cursor`` (None: from the beginning), validated."""
        if not 1 <= limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_PAGE_LIMIT}")
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        resp = self._call("GET", "/changes", params=params, idempotent=True)
        self._expect_json(resp, "the changes page")
        try:
            wire = parse_page(resp.body, source="the changes page")
            valid, unknown = validate_changes(wire.changes)
        except ChangeError as e:
            raise ProtocolError(str(e)) from None
        except RecursionError:
            raise ProtocolError("the changes page nests too deeply to be a protocol body") from None
        last = -1
        for i, raw in enumerate(wire.changes):
            seq = raw.get("seq")
            if isinstance(seq, int) and seq <= last:
                raise ProtocolError(f"the changes page is malformed: changes[{i}] seq {seq} does not follow {last}")
            if isinstance(seq, int):
                last = seq
        if wire.has_more and not wire.next_cursor:
            raise ProtocolError("the changes page says has_more but gives no next_cursor")
        if wire.has_more and not wire.changes:
            raise ProtocolError("the changes page is empty but says has_more (the feed would never end)")
        if not wire.epoch:
            raise ProtocolError("the changes page has an empty epoch")
        return ChangesPage(
            epoch=wire.epoch,
            changes=tuple(valid),
            received=len(wire.changes),
            unknown=dict(unknown),
            next_cursor=wire.next_cursor,
            has_more=wire.has_more,
            server_time=wire.server_time,
            request_started=resp.started,
            request_ended=resp.ended,
        )

    def push(self, terminal: str, actions: Sequence[Mapping[str, Any]]) -> list[ActionResult]:
        """Send up to 500 actions; one result per action, in order (checked)."""
        if not actions:
            return []
        if len(actions) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} actions a request")
        body = {"terminal": terminal, "actions": list(actions)}
        resp = self._call("POST", "/actions", body=body, idempotent=True)
        obj = self._json(resp, "the actions answer")
        results = obj.get("results") if isinstance(obj, dict) else None
        if not isinstance(results, list):
            raise ProtocolError("the actions answer has no 'results' list")
        if len(results) != len(actions):
            raise ProtocolError(f"the actions answer has {len(results)} results for {len(actions)} actions")
        out: list[ActionResult] = []
        for i, (res, act) in enumerate(zip(results, actions, strict=True)):
            if not isinstance(res, dict):
                raise ProtocolError(f"the actions answer: results[{i}] is not an object")
            rid, status = res.get("id"), res.get("status")
            if rid != act.get("id"):
                raise ProtocolError(f"the actions answer: results[{i}] is for {rid!r}, not {act.get('id')!r}")
            if status not in _STATUSES:
                raise ProtocolError(f"the actions answer: results[{i}] has unknown status {status!r}")
            code, message = res.get("code", ""), res.get("message", "")
            if not isinstance(code, str) or not isinstance(message, str):
                raise ProtocolError(f"the actions answer: results[{i}] code and message must be strings")
            if status == "rejected" and not code:
                code = "rejected"
            out.append(ActionResult(str(rid), cast(ActionStatus, status), code, self._scrub(message)))
        return out

    def heartbeat(self, payload: Mapping[str, Any]) -> ServerTime:
        """Report this terminal's state; returns the server's clock (for the offset estimate)."""
        resp = self._call("POST", "/heartbeat", body=dict(payload), idempotent=True)
        obj = self._json(resp, "the heartbeat answer")
        value = obj.get("server_time") if isinstance(obj, dict) else None
        if not isinstance(value, str):
            raise ProtocolError("the heartbeat answer has no 'server_time' string")
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise ProtocolError(f"the heartbeat answer's server_time is not ISO-8601: {value[:40]!r}") from None
        if at.tzinfo is None:
            raise ProtocolError("the heartbeat answer's server_time has no UTC offset")
        return ServerTime(at, resp.started, resp.ended)

    def me(self) -> Me:
        """Who this client's token belongs to (``Unauthorized`` for an unknown token)."""
        resp = self._call("GET", "/me", idempotent=True)
        obj = self._json(resp, "the /me answer")
        if not isinstance(obj, dict):
            raise ProtocolError("the /me answer is not an object")
        values = [obj.get(k) for k in ("terminal", "role", "scope")]
        for key, value in zip(("terminal", "role", "scope"), values, strict=True):
            if not isinstance(value, str) or not value:
                raise ProtocolError(f"the /me answer has no {key!r} string")
        if values[1] not in ("operator", "leader"):
            raise ProtocolError(f"the /me answer has an unknown role {str(values[1])[:40]!r}")
        return Me(*(str(v) for v in values))

    # -- machinery ---------------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        """A server may quote the token back in an error message: never pass it on."""
        return text.replace(self._token, "***") if self._token in text else text

    @staticmethod
    def _expect_json(resp: _Response, what: str) -> None:
        ctype = resp.headers.get("Content-Type", "")
        if ctype and "json" not in ctype.lower():
            raise ProtocolError(f"{what} is not JSON but {ctype.split(';')[0].strip()!r} ({len(resp.body)} bytes)")

    def _json(self, resp: _Response, what: str) -> Any:
        self._expect_json(resp, what)
        try:
            return json.loads(resp.body)
        except UnicodeDecodeError as e:
            raise ProtocolError(f"{what} is not UTF-8 text: {e.reason} at byte {e.start}") from None
        except json.JSONDecodeError as e:
            where = "the body ends early" if e.pos >= len(resp.body.rstrip()) else f"at byte {e.pos}"
            raise ProtocolError(f"{what} is not valid JSON: {e.msg} ({where}, {len(resp.body)} bytes)") from None
        except RecursionError:
            raise ProtocolError(f"{what} nests too deeply to be a protocol body") from None

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        idempotent: bool,
    ) -> _Response:
        data: bytes | None = None
        headers: dict[str, str] = {}
        if body is not None:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"
            if len(data) > self.gzip_above:
                data = gzip.compress(data, compresslevel=5)
                headers["Content-Encoding"] = "gzip"
        attempt = 0
        began = time.monotonic()
        deadline = began + self.total_timeout
        while True:
            error: SyncError
            retry_after: float | None = None
            try:
                resp = self._once(method, path, params, data, headers, deadline)
            except (Offline, ProtocolError) as e:
                # A truncated or cut body is a transport failure too: repeating a safe call is harmless.
                error = e
            else:
                if resp.status < 300:
                    return resp
                error = self._status_error(resp)
                if not isinstance(error, ServerError):
                    raise error
                retry_after = error.retry_after
            if isinstance(error, ProtocolError):
                retriable = idempotent and error.transient
            else:
                retriable = idempotent and not isinstance(error, CertificateError)
            if not retriable or attempt >= self.retries:
                raise error
            wait = retry_after if retry_after is not None else self._backoff(attempt)
            if time.monotonic() + wait >= deadline:  # no time left for another attempt
                raise _past_limit(error, time.monotonic() - began, self.total_timeout, attempt + 1)
            attempt += 1
            log.info("%s %s: %s; retry %d of %d in %.1f s", method, path, error, attempt, self.retries, wait)
            if self.on_retry is not None:
                self.on_retry(attempt, wait, str(error))
            if self._stop.wait(wait):
                raise Offline(f"stopped while waiting to retry: {error}")

    def _backoff(self, attempt: int) -> float:
        top = min(self.backoff_max, self.backoff_base * (2**attempt))
        return self._rng.uniform(top / 2, top)

    def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str | int] | None,
        data: bytes | None,
        headers: Mapping[str, str],
        deadline: float | None = None,
    ) -> _Response:
        if self._closed.is_set():
            raise Offline("the sync client was closed (the terminal is stopping)")
        url = self.api_url + path
        started = time.monotonic()
        connect, read = self._timeout
        if deadline is not None:  # the last attempt waits no longer than the call's limit allows
            left = max(0.05, deadline - started)
            connect, read = min(connect, left), min(read, left)
        try:
            r = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                timeout=(connect, read),
                verify=self._verify,
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.SSLError as e:
            raise CertificateError(
                f"the server's TLS certificate is not trusted ({_tls_reason(e)}); "
                "check [server] ca_bundle and the server's certificate"
            ) from None
        except requests.exceptions.InvalidHeader as e:
            raise ProtocolError(f"the server sent an invalid header: {e}") from None
        except (requests.ConnectionError, requests.Timeout) as e:
            reason = _connection_reason(e)
            if reason == NOT_HTTP:  # someone answered: not offline, and not the protocol
                raise ProtocolError(f"{reason} at {self.base_url} (is the URL the HallWatch server's?)") from None
            raise Offline(f"cannot reach the server at {self.base_url}: {reason}") from None
        except requests.RequestException as e:
            raise Offline(f"request to {self.base_url} failed: {_connection_reason(e)}") from None
        try:
            body = self._read_body(r)
        finally:
            r.close()
            if self._closed.is_set():  # closed while this call was under way: its connection goes too
                self._session.close()
        ended = time.monotonic()
        log.debug("%s %s -> %d (%d bytes, %.3f s)", method, path, r.status_code, len(body), ended - started)
        return _Response(r.status_code, r.headers, body, started, ended)

    def _read_body(self, r: requests.Response) -> bytes:
        declared = r.headers.get("Content-Length")
        encoded = r.headers.get("Content-Encoding", "identity").lower()
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise ProtocolError(f"the server sent an invalid Content-Length {declared[:20]!r}") from None
            if encoded == "identity" and size > self.max_body_bytes:
                raise ProtocolError(
                    f"the answer is {size / 2**20:.1f} MiB, above the {self.max_body_bytes / 2**20:.0f} MiB limit"
                )
        if encoded not in ("identity", "gzip", ""):
            raise ProtocolError(f"the server used content encoding {encoded!r}; only gzip was offered")
        chunks: list[bytes] = []
        total = 0
        try:
            for chunk in r.raw.stream(_CHUNK, decode_content=True):
                total += len(chunk)
                if total > self.max_body_bytes:
                    raise ProtocolError(
                        f"the answer is larger than the {self.max_body_bytes / 2**20:.0f} MiB limit (stopped reading)"
                    )
                chunks.append(chunk)
        except urllib3.exceptions.DecodeError:
            raise ProtocolError("the answer's gzip body is corrupt or truncated", transient=True) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.IncompleteRead) as e:
            got = f"got {total} bytes" + (f" of {declared}" if declared else "")
            if "IncompleteRead" in repr(e) or "InvalidChunkLength" in repr(e) or declared is not None:
                raise ProtocolError(
                    f"the answer was truncated: the connection ended early ({got})", transient=True
                ) from None
            raise Offline(f"the connection to {self.base_url} broke while reading the answer ({got})") from None
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise Offline(f"the server at {self.base_url} stopped sending in the middle of an answer") from None
        except (requests.ConnectionError, OSError) as e:
            raise Offline(f"the connection to {self.base_url} broke: {_connection_reason(e)}") from None
        return b"".join(chunks)

    def _status_error(self, resp: _Response) -> HTTPStatusError:
        code, message = "", ""
        try:
            obj = json.loads(resp.body) if resp.body else None
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
            err = obj["error"]
            code = err.get("code") if isinstance(err.get("code"), str) else ""
            message = err.get("message") if isinstance(err.get("message"), str) else ""
        elif isinstance(obj, dict) and isinstance(obj.get("detail"), str):
            message = obj["detail"]
        message = self._scrub(message)[:500]
        status = resp.status
        if 300 <= status < 400:
            where = resp.headers.get("Location", "?")
            return RequestRejected(status, "redirect", f"the server redirects to {where[:200]}; configure that URL")
        if status == 401:
            return Unauthorized(status, code or "unauthorized", message)
        if status == 403:
            return Forbidden(status, code or "forbidden", message)
        if status == 410:
            return Gone(status, code or "gone", message)
        if status == 413:
            return TooLarge(status, code or "too_large", message)
        if status == 429 or status >= 500:
            now = _server_date(resp.headers) or datetime.now(UTC)
            wait = retry_after_seconds(resp.headers.get("Retry-After"), now=now, cap=self.max_retry_after)
            return ServerError(
                status, code or ("rate_limited" if status == 429 else "server_error"), message, retry_after=wait
            )
        return RequestRejected(status, code or "rejected", message)


def _past_limit(error: SyncError, elapsed: float, limit: float, attempts: int) -> SyncError:
    """``error`` (the last attempt's), saying that the call's overall time limit was reached."""
    note = (f"; gave up after {elapsed:.1f} s and {attempts} attempt{'s' if attempts > 1 else ''}: "
            f"a call, its retries included, may take at most {limit:g} s")
    if isinstance(error, HTTPStatusError):
        return type(error)(error.status, error.code, error.message + note, retry_after=error.retry_after)
    if isinstance(error, ProtocolError):
        return ProtocolError(str(error) + note, transient=error.transient)
    return type(error)(str(error) + note)


def _tls_reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("certificate verify failed", "hostname mismatch", "certificate has expired", "wrong version number"):
        if marker in text:
            i = text.find(marker)
            end = text.find(")", i)
            return text[i : end if end > i else i + 80].strip(" :'\"")
    return "TLS handshake failed"


__all__ = [
    "API_PREFIX",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "ActionResult",
    "CertificateError",
    "ChangesPage",
    "Forbidden",
    "Gone",
    "HTTPStatusError",
    "Me",
    "Offline",
    "ProtocolError",
    "RequestRejected",
    "ServerError",
    "ServerTime",
    "SyncClient",
    "SyncError",
    "TooLarge",
    "Unauthorized",
    "retry_after_seconds",
]
