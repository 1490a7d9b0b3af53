"""uvicorn's HTTP/1.1 protocol (h11) with the guards a server on a network needs.

- **Read timeouts.** A request's headers must arrive within ``header_timeout`` seconds of its
  first byte (or of the connection), and its body within ``body_timeout`` seconds of the
  headers; otherwise the connection is closed (a half-open or trickling client would otherwise
  hold it for ever — uvicorn times out only idle keep-alive connections).
- **Connections per client address.** At most ``max_per_client`` open connections from one
  address; the next is answered 503 ``too_many_connections`` and closed.
- **Error bodies.** What h11 cannot parse (a bad ``Content-Length``, a malformed request line) is
  answered 400 with the JSON error body every other error has, not uvicorn's plain text.

:func:`guarded_protocol` makes the class for ``uvicorn.Config(http=...)``; each call makes a new
class, so each server counts its own connections.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["Guards", "guarded_protocol"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Guards:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_per_client: int = 256


def _error_bytes(status: int, reason: bytes, code: str, message: str) -> tuple[h11.Response, bytes]:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    return h11.Response(status_code=status, headers=headers, reason=reason), body


def guarded_protocol(guards: Guards | None = None) -> type[H11Protocol]:
    """An ``H11Protocol`` subclass enforcing ``guards`` (one per server: it counts connections)."""
    g = guards or Guards()
    open_by_address: dict[str, int] = {}

    class GuardedH11Protocol(H11Protocol):
        _guard_timer: asyncio.TimerHandle | None = None
        _guard_kind = ""
        _guard_address: str | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            address = self.client[0] if self.client else "?"
            n = open_by_address.get(address, 0)
            if n >= g.max_per_client:
                log.warning("refused a connection from %s: %d already open (the limit per address)", address, n)
                self._answer_and_close(503, b"Service Unavailable", "too_many_connections",
                                       f"at most {g.max_per_client} open connections per client address")
                return
            open_by_address[address] = n + 1
            self._guard_address = address
            self._arm("header", g.header_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            address, self._guard_address = self._guard_address, None
            if address is not None:
                left = open_by_address.get(address, 1) - 1
                if left > 0:
                    open_by_address[address] = left
                else:
                    open_by_address.pop(address, None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.transport.is_closing():
                return
            state = self.conn.their_state
            if state is h11.IDLE:  # (part of) the next request's headers
                if self._guard_kind != "header":
                    self._arm("header", g.header_timeout)
            elif state is h11.SEND_BODY:
                if self._guard_kind != "body":
                    self._arm("body", g.body_timeout)
            else:  # the request is complete: the application has it
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            # Between requests the keep-alive timeout governs; a pipelined request re-arms below.
            if self.conn.their_state is h11.SEND_BODY:
                self._arm("body", g.body_timeout)
            elif self.conn.their_state is not h11.IDLE:
                self._disarm()

        def send_400_response(self, msg: str) -> None:
            self._disarm()
            self._answer_and_close(400, b"Bad Request", "malformed",
                                   "the request is not valid HTTP/1.1 (its request line, a header or the "
                                   "Content-Length cannot be read)")

        # -- helpers ------------------------------------------------------------------------------
        def _arm(self, kind: str, seconds: float) -> None:
            self._disarm()
            self._guard_kind = kind
            self._guard_timer = self.loop.call_later(seconds, self._timed_out, kind)

        def _disarm(self) -> None:
            if self._guard_timer is not None:
                self._guard_timer.cancel()
            self._guard_timer, self._guard_kind = None, ""

        def _timed_out(self, kind: str) -> None:
            self._guard_timer, self._guard_kind = None, ""
            if self.transport.is_closing():
                return
            seconds = g.header_timeout if kind == "header" else g.body_timeout
            log.info("closed a connection from %s: the request's %s did not arrive within %g s",
                     self.client[0] if self.client else "?", "headers" if kind == "header" else "body", seconds)
            if kind == "header" and self.conn.our_state is h11.IDLE and self.conn.their_state is h11.IDLE:
                self._answer_and_close(408, b"Request Timeout", "timeout",
                                       f"the request's headers did not arrive within {g.header_timeout:g} s")
            else:
                self.transport.close()  # the application sees the disconnect

        def _answer_and_close(self, status: int, reason: bytes, code: str, message: str) -> None:
            event, body = _error_bytes(status, reason, code, message)
            try:
                out = self.conn.send(event) or b""
                out += self.conn.send(h11.Data(data=body)) or b""
                out += self.conn.send(h11.EndOfMessage()) or b""
            except h11.LocalProtocolError:  # h11 is past the point of answering: raw bytes then
                out = (b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
                       b"connection: close\r\n\r\n" % (status, reason, len(body))) + body
            self.transport.write(out)
            self.transport.close()

    GuardedH11Protocol.__name__ = GuardedH11Protocol.__qualname__ = "GuardedH11Protocol"
    return GuardedH11Protocol


def protocol_config(guards: Guards | None = None) -> dict[str, Any]:
    """The ``uvicorn.Config`` keyword arguments that install the guarded protocol."""
    return {"http": guarded_protocol(guards)}
