"""The relay's HTTP server: relayed cameras as continuous MPEG-TS to any number of viewers.

``GET /live/`` lists the cameras the caller may see as JSON; ``GET /live/<camera_id>.ts`` streams
one (``video/mp2t``, no end), and ``GET /live/<camera_id>.ts?stream=sub`` its sub-stream when the
camera has one relayed (its listing entry then says ``"sub": true``: a video wall of small tiles
decodes that, as the operator's grid does) — the camera's own packets, muxed once per camera by a
:class:`~video.relay.mux.CameraFeed` and fanned out to every viewer, starting at the cached GOP's
keyframe so a player shows a picture at once. A camera is muxed only while someone watches it (and
for ``linger`` seconds after, so a video wall switching pages does not reconnect).

One asyncio loop on its own thread serves every connection: a chunk is written to each viewer's
socket without waiting, and what the socket does not take waits in that viewer's own buffer. A
viewer whose buffer passes ``max_queue_bytes`` has stopped reading: it is dropped and logged; the
others never wait for it.

Access is not decided here: ``access(token)`` (run on a worker thread, it may ask a server) returns
an :class:`Access` or raises :class:`Unauthorized` (401), :class:`Forbidden` (403) or
:class:`Unavailable` (503). The token comes from ``Authorization: Bearer`` or ``?token=``; it never
reaches a log (query strings are masked in the access log).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from urllib.parse import parse_qs, unquote, urlsplit

from video.relay.mux import CameraFeed, Chunk, FeedPool
from video.source import Source, SourceState

__all__ = [
    "Access",
    "AccessCheck",
    "AccessDenied",
    "ChannelStatus",
    "Forbidden",
    "RelayServer",
    "RelayStatus",
    "RelayedCamera",
    "Unauthorized",
    "Unavailable",
]

log = logging.getLogger(__name__)
access_log = logging.getLogger("video.relay.access")

_ids = itertools.count(1)
_TOKEN_IN_QUERY = re.compile(r"(?i)(^|[?&;])(token|access_token)=[^&;]*")
MAX_REQUEST_BYTES = 16 * 1024
REQUEST_TIMEOUT = 10.0
SEND_BUFFER = 256 * 1024  # each viewer socket's kernel buffer: bounded, so the queue below is what counts


# -- access ------------------------------------------------------------------------------------------
class AccessDenied(Exception):
    """A viewer may not have what it asked for; ``str()`` says why (no token in it)."""

    status = 403
    code = "forbidden"


class Unauthorized(AccessDenied):
    status = 401
    code = "unauthorized"


class Forbidden(AccessDenied):
    status = 403
    code = "forbidden"


class Unavailable(AccessDenied):
    """The token cannot be checked now (the server that knows it is unreachable)."""

    status = 503
    code = "unavailable"


@dataclass(frozen=True, slots=True)
class Access:
    """What a token may watch: every relayed camera (``sees`` None), or those ``sees(camera_id)`` allows."""

    sees: Callable[[str], bool] | None = None
    who: str = ""  # for the log: a terminal name, "local token" — never the token

    def allows(self, camera_id: str) -> bool:
        return self.sees is None or self.sees(camera_id)


AccessCheck = Callable[[str | None], Access]  # token (None: none given) → Access, or raises AccessDenied


@dataclass(frozen=True, slots=True)
class RelayedCamera:
    """A camera the relay serves: its id, what the listing shows, the source it reads, and its
    sub-stream's source when that is relayed too (``?stream=sub``)."""

    id: str
    name: str
    window_id: str | None
    source: Source
    sub: Source | None = None


# -- status ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ChannelStatus:
    camera_id: str
    viewers: int
    bytes_sent: int  # to all its viewers since the relay started
    drops: int  # viewers dropped because they stopped reading
    packets: int  # packets muxed
    packets_dropped: int  # packets the relay's feed lost because it fell behind the camera
    muxing: bool
    stream: str = "main"  # "main" (/live/<id>.ts) or "sub" (?stream=sub)


@dataclass(frozen=True, slots=True)
class RelayStatus:
    address: str  # http://host:port/live/ as bound
    running: bool
    cameras: tuple[ChannelStatus, ...]

    @property
    def viewers(self) -> int:
        return sum(c.viewers for c in self.cameras)

    def camera(self, camera_id: str, stream: str = "main") -> ChannelStatus | None:
        return next((c for c in self.cameras if c.camera_id == camera_id and c.stream == stream), None)


# -- the loop's state ------------------------------------------------------------------------------
@dataclass(eq=False)
class _Viewer:
    number: int
    peer: str
    writer: asyncio.StreamWriter
    who: str
    need_key: bool = True
    sent: int = 0
    opened: float = field(default_factory=time.monotonic)
    dropped: bool = False


_Key = tuple[str, str]  # (camera id, "main" | "sub")


@dataclass(eq=False)
class _Channel:
    camera: RelayedCamera  # for a sub-stream's channel: source is the camera's sub-stream
    stream: str = "main"
    viewers: set[_Viewer] = field(default_factory=set)
    gop: list[bytes] = field(default_factory=list)
    gop_bytes: int = 0
    feed: CameraFeed | None = None
    idle_since: float | None = None
    bytes_sent: int = 0
    drops: int = 0
    packets: int = 0
    packets_dropped: int = 0  # of feeds that have ended


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 408: "Request Timeout", 413: "Request Too Large", 500: "Internal Server Error",
            503: "Service Unavailable"}


def mask_target(target: str) -> str:
    """A request target fit for a log: tokens in the query replaced by ``***``, control characters escaped."""
    masked = _TOKEN_IN_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", target)
    return masked.encode("unicode_escape", "backslashreplace").decode("ascii")[:300]


class RelayServer:
    """Serves relayed cameras over HTTP; ``start()`` binds and returns when it listens, ``stop()`` joins."""

    def __init__(
        self,
        access: AccessCheck,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_queue_bytes: int = 4 * 2**20,
        linger: float | None = 10.0,
        gop_cache_bytes: int = 16 * 2**20,
        auth_workers: int = 4,
        latency: float = 0.1,
    ) -> None:
        """``port`` 0: any free port (see :attr:`port`). ``max_queue_bytes``: how much may wait for one
        viewer before it counts as not reading. ``linger``: seconds a camera stays muxed without viewers
        (None: every camera is muxed all the time, whether watched or not).
        ``latency``: how late a packet may reach the viewers — the camera's packets are then read, muxed
        and sent in batches (a player buffers more than this anyway; 0: each packet as it comes)."""
        self.latency = latency
        self._access = access
        self.host = host
        self.port = port
        self.max_queue_bytes = max_queue_bytes
        self.linger = linger
        self.gop_cache_bytes = gop_cache_bytes
        self._lock = threading.Lock()
        self._channels: dict[_Key, _Channel] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._auth_workers = auth_workers
        self._ready = threading.Event()
        self._closing = False
        self._pool: FeedPool | None = None
        self._feed_channels: dict[CameraFeed, _Channel] = {}  # on the loop thread

    # -- cameras (any thread) ------------------------------------------------------------------------
    def set_camera(self, camera: RelayedCamera) -> None:
        """Add a camera, or update one (a new source: its viewers stay and continue on the new stream)."""
        streams: list[tuple[str, RelayedCamera | None]] = [
            ("main", camera), ("sub", replace(camera, source=camera.sub) if camera.sub is not None else None)]
        for stream, cam in streams:
            key = (camera.id, stream)
            if cam is None:
                with self._lock:
                    gone = self._channels.pop(key, None)
                if gone is not None:
                    self._call(self._close_channel, gone)
                continue
            with self._lock:
                ch = self._channels.get(key)
                if ch is None:
                    self._channels[key] = _Channel(cam, stream)
                    if self.linger is None:
                        self._call(self._ensure_feed, key)
                    continue
                old = ch.camera
                ch.camera = cam
            if old.source is not cam.source:
                self._call(self._resubscribe, key)

    def remove_camera(self, camera_id: str) -> None:
        """Stop relaying a camera: its viewers are disconnected."""
        with self._lock:
            chans = [self._channels.pop(k) for k in [(camera_id, "main"), (camera_id, "sub")] if k in self._channels]
        for ch in chans:
            self._call(self._close_channel, ch)

    def cameras(self) -> list[RelayedCamera]:
        with self._lock:
            return [ch.camera for ch in self._channels.values() if ch.stream == "main"]

    # -- lifecycle ---------------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/live/"

    def start(self) -> None:
        """Bind and serve; raises OSError with the address when it cannot listen."""
        if self._thread is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(128)
            sock.setblocking(False)
        except OSError as e:
            sock.close()
            raise OSError(e.errno, f"the relay cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        self.port = sock.getsockname()[1]
        self._executor = ThreadPoolExecutor(self._auth_workers, thread_name_prefix="hallwatch-relay-auth")
        self._pool = FeedPool(self._deliver, interval=self.latency)
        self._pool.start()
        self._closing = False
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, args=(sock,), name="hallwatch-relay")
        self._thread.start()
        if not self._ready.wait(10) or self._server is None:
            self.stop(5)
            raise OSError(f"the relay did not start listening on {self.host}:{self.port}")
        if self.linger is None:
            for key in list(self._channels):
                self._call(self._ensure_feed, key)
        log.info("relay listening at %s", self.address)

    def request_stop(self) -> None:
        loop = self._loop
        if loop is not None and not self._closing:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(self._begin_close)

    def stop(self, timeout: float = 5.0) -> bool:
        """Close every viewer and the listening socket, stop the feeds and join every thread."""
        deadline = time.monotonic() + timeout
        self.request_stop()
        ok = True
        t, self._thread = self._thread, None
        if t is not None:
            t.join(max(0.0, deadline - time.monotonic()))
            ok = not t.is_alive()
        with self._lock:
            for ch in self._channels.values():
                if ch.feed is not None:
                    ch.packets += ch.feed.packets
                    ch.packets_dropped += ch.feed.dropped
                ch.feed = None
                ch.gop, ch.gop_bytes = [], 0
        pool, self._pool = self._pool, None
        if pool is not None:
            ok = pool.stop(max(0.0, deadline - time.monotonic())) and ok
        self._feed_channels.clear()
        ex, self._executor = self._executor, None
        if ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)
        return ok

    def status(self) -> RelayStatus:
        with self._lock:
            chans = list(self._channels.values())
        return RelayStatus(
            self.address,
            self._thread is not None,
            tuple(
                ChannelStatus(
                    ch.camera.id, len(ch.viewers), ch.bytes_sent, ch.drops,
                    ch.packets + (ch.feed.packets if ch.feed is not None else 0),
                    ch.packets_dropped + (ch.feed.dropped if ch.feed is not None else 0),
                    ch.feed is not None, ch.stream,
                )
                for ch in chans
            ),
        )

    # -- the loop thread -----------------------------------------------------------------------------
    def _call(self, fn: Callable[..., object], *args: object) -> None:
        loop = self._loop
        if loop is None or self._closing:
            return  # not serving: no viewers, no feeds
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(fn, *args)

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(sock))
        except Exception:
            log.exception("the relay's loop failed")
        finally:
            try:
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
                self._loop = None
                self._server = None
                self._ready.set()

    async def _serve(self, sock: socket.socket) -> None:
        self._stop_event = asyncio.Event()
        self._server = await asyncio.start_server(self._client, sock=sock, limit=MAX_REQUEST_BYTES)
        self._ready.set()
        janitor = asyncio.get_running_loop().create_task(self._janitor())
        try:
            await self._stop_event.wait()
        finally:
            janitor.cancel()
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=2)
            await self._server.wait_closed()

    def _begin_close(self) -> None:
        self._closing = True
        with self._lock:
            channels = list(self._channels.values())
        for ch in channels:
            for v in list(ch.viewers):
                v.writer.transport.abort()
        self._stop_event.set()

    async def _janitor(self) -> None:
        """Once a second: feeds of cameras nobody watched for ``linger`` seconds stop."""
        linger = self.linger
        if linger is None:
            return
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            with self._lock:
                idle = [ch for ch in self._channels.values()
                        if ch.feed is not None and not ch.viewers and ch.idle_since is not None
                        and now - ch.idle_since >= linger]
            for ch in idle:
                self._stop_feed(ch)

    def _stop_feed(self, ch: _Channel) -> None:
        feed, ch.feed = ch.feed, None
        ch.gop, ch.gop_bytes = [], 0
        if feed is None:
            return
        self._feed_channels.pop(feed, None)
        if self._pool is not None:
            self._pool.remove(feed)
        else:
            feed.close()
        ch.packets += feed.packets
        ch.packets_dropped += feed.dropped
        log.info("relay: camera %s%s no longer muxed", ch.camera.id, _label(ch))

    def _resubscribe(self, key: _Key) -> None:
        with self._lock:
            ch = self._channels.get(key)
        if ch is None or ch.feed is None:
            return
        self._stop_feed(ch)
        for v in ch.viewers:
            v.need_key = True
        self._start_feed(ch)

    def _ensure_feed(self, key: _Key) -> None:
        with self._lock:
            ch = self._channels.get(key)
        if ch is not None and ch.feed is None and not self._closing:
            self._start_feed(ch)

    def _close_channel(self, ch: _Channel) -> None:
        for v in list(ch.viewers):
            v.writer.transport.abort()
        self._stop_feed(ch)

    def _start_feed(self, ch: _Channel) -> None:
        pool = self._pool
        if pool is None:
            return
        name = ch.camera.id if ch.stream == "main" else f"{ch.camera.id}-{ch.stream}"
        feed = CameraFeed(name, ch.camera.source, latency=self.latency)
        ch.feed = feed
        self._feed_channels[feed] = ch
        pool.add(feed)
        log.info("relay: camera %s%s muxed", ch.camera.id, _label(ch))

    def _deliver(self, batch: list[tuple[CameraFeed, list[Chunk]]]) -> None:  # on the pool's thread
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has ended: nobody to send to
                loop.call_soon_threadsafe(self._fanout_batch, batch)

    def _fanout_batch(self, batch: list[tuple[CameraFeed, list[Chunk]]]) -> None:
        for feed, chunks in batch:
            ch = self._feed_channels.get(feed)
            if ch is not None and ch.feed is feed:  # not a feed replaced or stopped meanwhile
                self._fanout(ch, chunks)

    def _fanout(self, ch: _Channel, chunks: Sequence[Chunk]) -> None:
        for data, key in chunks:
            if key:
                ch.gop, ch.gop_bytes = [data], len(data)
            elif ch.gop:
                ch.gop.append(data)
                ch.gop_bytes += len(data)
                if ch.gop_bytes > self.gop_cache_bytes:
                    ch.gop, ch.gop_bytes = [], 0
        joined: bytes | None = None
        for v in list(ch.viewers):
            if v.need_key:
                # Starts at the first keyframe of this delivery (or waits for the next one).
                first = next((i for i, (_, key) in enumerate(chunks) if key), None)
                if first is None:
                    continue
                v.need_key = False
                self._send(ch, v, b"".join(d for d, _ in chunks[first:]))
            else:
                if joined is None:
                    joined = chunks[0][0] if len(chunks) == 1 else b"".join(d for d, _ in chunks)
                self._send(ch, v, joined)

    def _send(self, ch: _Channel, v: _Viewer, data: bytes) -> None:
        transport = v.writer.transport
        if transport.is_closing():
            return
        transport.write(data)
        v.sent += len(data)
        ch.bytes_sent += len(data)
        waiting = transport.get_write_buffer_size()
        if waiting > self.max_queue_bytes:
            v.dropped = True
            ch.drops += 1
            log.warning("relay: viewer %d (%s) of camera %s%s dropped: it stopped reading (%d bytes waiting)",
                        v.number, v.peer, ch.camera.id, _label(ch), waiting)
            transport.abort()

    # -- one connection ------------------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer_addr = writer.get_extra_info("peername")
        peer = f"{peer_addr[0]}:{peer_addr[1]}" if isinstance(peer_addr, tuple) else "?"
        method, target = "-", "-"
        status = 0
        try:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise _BadRequest(413, "too_large", "the request head is too large") from None
            except asyncio.IncompleteReadError:
                return  # the client went away
            except TimeoutError:
                raise _BadRequest(408, "timeout", "the request did not arrive in time") from None
            method, target, headers = _parse_head(head)
            status = await self._respond(method, target, headers, reader, writer, peer)
        except _BadRequest as e:
            status = e.status
            await self._error(writer, e.status, e.code, str(e))
        except asyncio.CancelledError:
            pass
        except (ConnectionError, OSError):
            pass
        except Exception:
            log.exception("relay: a request failed")
            status = 500
            with contextlib.suppress(Exception):
                await self._error(writer, 500, "internal", "the relay failed unexpectedly")
        finally:
            if status:
                access_log.info('%s "%s %s" %d', peer, method, mask_target(target), status)
            writer.close()
            self._tasks.discard(task)

    async def _error(self, writer: asyncio.StreamWriter, status: int, code: str, message: str,
                     extra: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(body))}
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="hallwatch-relay"'
        if status == 503:
            headers["Retry-After"] = "10"
        headers.update(extra or {})
        writer.write(_head(status, headers) + body)
        with contextlib.suppress(ConnectionError, OSError):
            async with asyncio.timeout(5):
                await writer.drain()

    async def _respond(self, method: str, target: str, headers: dict[str, str], reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter, peer: str) -> int:
        if method not in ("GET", "HEAD"):
            raise _BadRequest(405, "method_not_allowed", "only GET is served")
        parts = urlsplit(target)
        path = unquote(parts.path)
        token = _token(headers, parts.query)
        if path in ("/live", "/live/"):
            access = await self._check(token)
            body = json.dumps(self._listing(access), ensure_ascii=False).encode()
            writer.write(_head(200, {"Content-Type": "application/json; charset=utf-8",
                                     "Content-Length": str(len(body)), "Cache-Control": "no-store"})
                         + (body if method == "GET" else b""))
            await writer.drain()
            return 200
        if not (path.startswith("/live/") and path.endswith(".ts")) or "/" in path[6:-3] or len(path) <= 9:
            raise _BadRequest(404, "not_found", "no such path: use /live/ or /live/<camera_id>.ts")
        camera_id = path[6:-3]
        stream = (parse_qs(parts.query).get("stream") or ["main"])[0]
        if stream not in ("main", "sub"):
            raise _BadRequest(400, "bad_stream", f"stream must be main or sub, not {stream[:20]!r}")
        access = await self._check(token)
        with self._lock:
            ch = self._channels.get((camera_id, stream))
            relayed = (camera_id, "main") in self._channels
        if ch is None:
            raise _BadRequest(404, "not_found", f"camera {camera_id!r} has no sub-stream relayed here" if relayed
                              else f"camera {camera_id!r} is not relayed here")
        if not access.allows(camera_id):
            raise _BadRequest(403, "forbidden", f"camera {camera_id!r} is outside this token's scope")
        writer.write(_head(200, {"Content-Type": "video/mp2t", "Cache-Control": "no-cache, no-store",
                                 "Connection": "close"}))
        if method == "HEAD":
            await writer.drain()
            return 200
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        viewer = _Viewer(next(_ids), peer, writer, access.who)
        self._join(ch, viewer)
        log.info("relay: viewer %d (%s, %s) opened camera %s%s", viewer.number, peer, access.who or "?", camera_id,
                 _label(ch))
        try:
            while not self._closing:  # anything the viewer sends is read and ignored; EOF ends it
                if not await reader.read(4096):
                    break
        finally:
            self._leave(ch, viewer)
            log.info("relay: viewer %d of camera %s%s closed after %.0f s, %d bytes%s", viewer.number, camera_id,
                     _label(ch), time.monotonic() - viewer.opened, viewer.sent, " (dropped)" if viewer.dropped else "")
        return 200

    async def _check(self, token: str | None) -> Access:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._access, token)
        except AccessDenied as e:
            raise _BadRequest(e.status, e.code, str(e) or e.code) from None

    def _listing(self, access: Access) -> list[dict[str, object]]:
        with self._lock:
            cams = [ch.camera for ch in self._channels.values() if ch.stream == "main"]
            subs = {cid for cid, stream in self._channels if stream == "sub"}
        out: list[dict[str, object]] = []
        for cam in sorted(cams, key=lambda c: c.id):
            if not access.allows(cam.id):
                continue
            st = cam.source.status()
            info = st.info
            entry: dict[str, object] = {
                "id": cam.id, "name": cam.name, "window_id": cam.window_id,
                "codec": info.codec if info else None, "width": info.width if info else None,
                "height": info.height if info else None, "live": st.state is SourceState.LIVE,
            }
            if cam.id in subs:
                entry["sub"] = True  # GET /live/<id>.ts?stream=sub
            out.append(entry)
        return out

    def _join(self, ch: _Channel, v: _Viewer) -> None:
        with self._lock:
            ch.viewers.add(v)
            ch.idle_since = None
        if ch.feed is None:
            self._start_feed(ch)  # its subscription starts with the source's GOP: the viewer waits for none
        elif ch.gop:
            v.need_key = False
            self._send(ch, v, b"".join(ch.gop))

    def _leave(self, ch: _Channel, v: _Viewer) -> None:
        with self._lock:
            ch.viewers.discard(v)
            if not ch.viewers:
                ch.idle_since = time.monotonic()


def _label(ch: _Channel) -> str:
    return "" if ch.stream == "main" else f" ({ch.stream}-stream)"


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}", "Server: HallWatch-relay"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if "Connection" not in headers:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise _BadRequest(400, "malformed", "the request is not HTTP") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed", "the request line is not HTTP/1.x")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest(400, "malformed", "a header line has no colon")
        headers[name.strip().lower()] = value.strip()
    return parts[0], parts[1], headers


def _token(headers: dict[str, str], query: str) -> str | None:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    values = parse_qs(query).get("token")
    if values and values[0]:
        return values[0]
    return None
