"""A loopback HTTP proxy that injects faults between the sync client and the reference server.

Every request is forwarded to the upstream server unless a planned fault says otherwise; every
connection is closed after one answer (so a fault on one request never leaks into the next).
Faults are planned per request (method and path prefix) and used up in order:

- ``drop``: forward the request (the server commits), then close without answering — the
  response lost after the server committed;
- ``cut``: close without forwarding; ``delay``: wait, then forward;
- ``status``: answer a chosen status, headers and body (not forwarded unless ``forward``);
- ``truncate``: forward, then send the headers and only the first ``keep`` bytes of the body;
- ``corrupt``: forward, then flip bytes of the body (same length);
- ``body``: answer 200 with the given bytes (e.g. a replayed old page, a generated bad body);
- ``rewrite``: forward, then pass the (gunzipped) body through a function.

Answers are recorded (``responses``) so a test can replay one later.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import urlsplit

FaultKind = Literal["drop", "cut", "delay", "status", "truncate", "corrupt", "body", "rewrite"]
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "upgrade"}


@dataclass
class Fault:
    kind: FaultKind
    path: str = "/"  # prefix of the request path (query excluded)
    method: str | None = None
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    keep: int = 0
    forward: bool = False
    rewrite: Callable[[bytes], bytes] | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)


def header(headers: dict[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    return next((v for k, v in headers.items() if k.lower() == name.lower()), None)


@dataclass(frozen=True)
class Exchange:
    method: str
    target: str  # path and query
    request_headers: dict[str, str]
    request_body: bytes
    status: int | None  # what the client got (None: nothing)
    response_headers: dict[str, str]
    response_body: bytes  # as the upstream sent it (maybe gzipped)
    fault: str | None

    def plain_request(self) -> bytes:
        """The request body, gunzipped if it was sent gzipped."""
        gz = header(self.request_headers, "Content-Encoding") == "gzip"
        return gzip.decompress(self.request_body) if gz else self.request_body

    def plain_response(self) -> bytes:
        """The upstream's answer body, gunzipped if it came gzipped."""
        gz = header(self.response_headers, "Content-Encoding") == "gzip"
        return gzip.decompress(self.response_body) if gz else self.response_body


class FaultProxy:
    """``with FaultProxy(server_url) as proxy: SyncClient(proxy.url, ...)``."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname and parts.port
        self._upstream = (parts.hostname, parts.port)
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.exchanges: list[Exchange] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                proxy._handle(self)

            do_POST = do_GET
            do_PUT = do_GET
            do_DELETE = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy"
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, *faults: Fault) -> None:
        with self._lock:
            self._faults.extend(faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending_faults(self) -> int:
        with self._lock:
            return sum(f.times for f in self._faults)

    def requests_to(self, path: str, method: str | None = None) -> list[Exchange]:
        return [e for e in self.exchanges if e.target.startswith(path) and (method is None or e.method == method)]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- per request ---------------------------------------------------------------------------
    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.matches(method, path):
                    f.times -= 1
                    if f.times <= 0:
                        self._faults.remove(f)
                    return f
        return None

    def _forward(self, h: BaseHTTPRequestHandler, body: bytes) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
            headers["Connection"] = "close"
            conn.request(h.command, h.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            out = {k: v for k, v in resp.getheaders() if k.lower() not in _HOP}
            return resp.status, out, data
        finally:
            conn.close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        fault = self._take(h.command, path)
        kind = fault.kind if fault is not None else None

        def record(status: int | None, headers: dict[str, str], answer: bytes) -> None:
            # Recorded before the client can see the answer, so a test that got it finds it here.
            self.exchanges.append(
                Exchange(h.command, h.path, dict(h.headers.items()), body, status, headers, answer, kind)
            )

        try:
            if fault is not None and fault.kind == "cut":
                record(None, {}, b"")
                self._abort(h)
                return
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.delay)
            if fault is not None and fault.kind in ("status", "body"):
                if fault.kind == "status" and fault.forward:
                    self._forward(h, body)
                status = fault.status if fault.kind == "status" else 200
                headers = {"Content-Type": "application/json", **fault.headers}
                record(status, headers, fault.body)
                self._send(h, status, headers, fault.body)
                return
            status, headers, answer = self._forward(h, body)
            if fault is not None and fault.kind == "drop":
                record(None, headers, answer)
                self._abort(h)
                return
            record(status, headers, answer)
            keep = -1
            if fault is not None and fault.kind == "truncate":
                keep = fault.keep
            elif fault is not None and fault.kind == "corrupt":
                sent = bytearray(answer)
                for i in range(len(sent) // 3, len(sent), max(1, len(sent) // 7)):
                    sent[i] ^= 0x5A
                answer = bytes(sent)
            elif fault is not None and fault.kind == "rewrite" and fault.rewrite is not None:
                plain = gzip.decompress(answer) if header(headers, "Content-Encoding") == "gzip" else answer
                headers = {k: v for k, v in headers.items() if k.lower() != "content-encoding"}
                answer = fault.rewrite(plain)
            self._send(h, status, headers, answer, keep=keep)
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes, keep: int = -1) -> None:
        reason = http.client.responses.get(status, "Status")
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() not in _HOP]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        h.wfile.write("\r\n".join(lines).encode("latin-1"))
        h.wfile.write(body if keep < 0 else body[:keep])
        h.wfile.flush()
        if keep >= 0:
            FaultProxy._abort(h, reset=False)

    @staticmethod
    def _abort(h: BaseHTTPRequestHandler, *, reset: bool = True) -> None:
        """Close the client's connection at once: a reset, or (``reset=False``) a plain end of stream."""
        with contextlib.suppress(OSError):
            h.wfile.flush()
        sock = h.connection
        if reset:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
