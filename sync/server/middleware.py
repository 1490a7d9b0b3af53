"""Pure ASGI middleware: request bodies, and unexpected failures.

:class:`RequestBodyMiddleware`: the body is read up to the limit (413 beyond it, before the rest
is read), unpacked with the same limit on the unpacked size (a small gzip bomb cannot fill
memory), checked (a body is JSON: 415 for another content type or none; 400 for invalid JSON,
``NaN``, or a lone surrogate in any string — see ``sync.server.hostile``), and handed on as
one message with the encoding header removed.

:class:`InternalErrorMiddleware`: an unexpected exception becomes a 500 with an error body, and the
connection stays usable. (Starlette's handler for ``Exception`` answers too, but then re-raises to
the server, which closes the connection at once: a client could see the reset instead of the
answer.)
"""

from __future__ import annotations

import json
import logging
import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sync.server.hostile import BodyRefused, parse_json_body

DEFAULT_MAX_BODY = 16 * 1024 * 1024

log = logging.getLogger(__name__)


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def gunzip(data: bytes, limit: int) -> bytes:
    """Unpack a gzip body; ``_TooLarge`` beyond ``limit`` bytes, ``ValueError`` if not gzip."""
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as e:
        raise ValueError(str(e)) from None
    if len(out) > limit:
        raise _TooLarge
    if not d.eof:
        raise ValueError("truncated gzip data")
    return out


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        encoding = b""
        content_type = b""
        length: int | None = None
        for k, v in headers:
            if k == b"content-encoding":
                encoding = v.strip().lower()
            elif k == b"content-type":
                content_type = v
            elif k == b"content-length":
                try:
                    length = int(v)
                except ValueError:
                    length = None
        limit = self.max_bytes
        if length is not None and length > limit:
            await send_error(send, 413, "too_large", f"request body of {length} bytes: the limit is {limit}")
            return
        if encoding not in (b"", b"identity", b"gzip"):
            await send_error(send, 415, "unsupported_encoding", "request bodies may be gzip-encoded, nothing else")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await send_error(send, 413, "too_large", f"request body above the limit of {limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if encoding == b"gzip" and body:
            try:
                body = gunzip(body, limit)
            except _TooLarge:
                await send_error(send, 413, "too_large", f"unpacked request body above the limit of {limit} bytes")
                return
            except ValueError as e:
                await send_error(send, 400, "malformed", f"the gzip-encoded body cannot be unpacked: {e}")
                return
            headers = [(k, v) for k, v in headers if k not in (b"content-encoding", b"content-length")]
            headers.append((b"content-length", str(len(body)).encode()))
            scope = {**scope, "headers": headers}
        if body or scope.get("method") in ("POST", "PUT", "PATCH"):
            if not _is_json(content_type):
                shown = content_type.decode("latin-1")[:100] or "none"
                await send_error(send, 415, "unsupported_media_type",
                                 f"request bodies are JSON: send Content-Type: application/json (not {shown!r})")
                return
            if body:
                try:
                    parse_json_body(body)
                except BodyRefused as e:
                    await send_error(send, 400, "malformed", str(e))
                    return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: wait for the disconnect, as Starlette expects

        await self.app(scope, replay, send)


def _is_json(content_type: bytes) -> bool:
    """``application/json`` or ``application/<something>+json``, with any parameters."""
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class InternalErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except Exception as exc:
            if started:  # too late for an error body: the server ends the connection
                raise
            log.error("unexpected failure: %r", exc, exc_info=exc)
            await send_error(send, 500, "internal", "the server failed unexpectedly; retry later")
