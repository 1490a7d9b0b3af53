"""HLS written with HTTP ``PUT``: any web server or CDN that accepts uploads serves any number of viewers.

:class:`HlsPush` is a :class:`~video.relay.push.Pusher`: it cuts the camera's own packets — remuxed
into MPEG-TS, never re-encoded, any codec (H.264 and H.265) — into segments that start at a keyframe,
the first keyframe after ``target_seconds`` (2 s), and keeps a rolling playlist per camera::

    <hls>/<camera_id>/index.m3u8
    <hls>/<camera_id>/<n>.ts        n: the segment's media sequence number

Each finished segment is ``PUT``, then the playlist (the last ``list_size`` segments); a segment that
left the playlist ``list_size`` segments ago is ``DELETE``\\ d (players still reading an older playlist
find it meanwhile). Numbers start from the clock (tenths of a second), so they keep rising across
restarts of the terminal and names never repeat. When an upload fails (the server restarted, is
unreachable) the segment is dropped, the pusher waits out its backoff and starts again at the next
keyframe; the playlist then marks the gap with ``#EXT-X-DISCONTINUITY``.

A query in the ``hls`` address (a CDN's upload token) goes on every request; a user and password in
it are sent as HTTP basic auth. Neither reaches a log.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import io
import logging
import math
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import av
import av.error

from video.relay.push import OUT_TIME_BASE, Pusher, PushFailed, PushOptions, same_stream
from video.source import MediaPacket, Source, StreamInfo

__all__ = ["HlsOptions", "HlsPush", "playlist_url"]

log = logging.getLogger(__name__)

PLAYLIST = "index.m3u8"


@dataclass(frozen=True, slots=True)
class HlsOptions:
    target_seconds: float = 2.0  # a segment ends at the first keyframe after this long
    list_size: int = 6  # segments in the playlist
    delete_after: int = 6  # a segment is deleted this many segments after it left the playlist


@dataclass(frozen=True, slots=True)
class _Entry:
    number: int
    name: str
    seconds: float
    discontinuity: bool  # a gap (or a new stream) before this segment


def _split_base(base: str) -> tuple[str, str]:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https"):
        raise ValueError("the hls address must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the hls address has no host")
    netloc = parts.netloc.rsplit("@", 1)[-1]  # a user and password go in the Authorization header
    prefix = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return prefix, parts.query


def playlist_url(base: str, camera_id: str) -> str:
    """``<hls>/<camera_id>/index.m3u8`` without the base's query (what leaders open)."""
    prefix, _ = _split_base(base)
    return f"{prefix}/{quote(camera_id, safe='')}/{PLAYLIST}"


class _Segment:
    """One MPEG-TS segment, muxed in memory."""

    def __init__(self, info: StreamInfo, discontinuity: bool) -> None:
        self.info = info
        self.first_dts: int | None = None  # set by the first packet
        self.last_end = 0
        self.discontinuity = discontinuity
        self.packets = 0
        self._buf = io.BytesIO()
        self._muxer = av.open(self._buf, "w", format="mpegts")
        rate = Fraction(info.fps).limit_denominator(1001) if info.fps else None
        self._stream = self._muxer.add_mux_stream(info.codec, rate=rate, width=info.width, height=info.height)
        self._stream.time_base = OUT_TIME_BASE
        self._frame = round(90000 / info.fps) if info.fps else 3600

    def write(self, packet: MediaPacket, pts: int, dts: int) -> None:
        p = av.Packet(packet.data)
        p.pts, p.dts = pts, dts
        p.time_base = OUT_TIME_BASE
        p.is_keyframe = packet.keyframe
        p.stream = self._stream
        self._muxer.mux(p)
        self.packets += 1
        if self.first_dts is None:
            self.first_dts = self.last_end = dts
        dur = round(packet.duration * packet.info.tick * 90000) if packet.duration else self._frame
        self.last_end = max(self.last_end, dts + dur)

    def seconds(self, until: int | None = None) -> float:
        if self.first_dts is None:
            return 0.0
        end = until if until is not None else self.last_end
        return max(0.0, (end - self.first_dts) / 90000)

    def finish(self) -> bytes:
        self._muxer.close()
        return self._buf.getvalue()

    def discard(self) -> None:
        with contextlib.suppress(av.error.FFmpegError, OSError):
            self._muxer.close()


class HlsPush(Pusher):
    """A camera as HLS on a web server that accepts ``PUT`` and ``DELETE`` (see the module's text)."""

    kind = "hls"
    live_on_open = False  # live once a segment and the playlist are on the server

    def __init__(
        self,
        source: Source,
        camera_id: str,
        hls_base: str,
        options: PushOptions | None = None,
        *,
        hls: HlsOptions | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._prefix, self._query = _split_base(hls_base)  # ValueError: a bad address, said now
        self._folder = f"{self._prefix}/{quote(camera_id, safe='')}"
        super().__init__(source, camera_id, f"{self._folder}/{PLAYLIST}", options)
        self.hls = hls or HlsOptions()
        self._http = _Http(hls_base, self.options.timeout)
        self._next_number = int(clock() * 10)  # rises across restarts: names never repeat
        self._entries: deque[_Entry] = deque()
        self._leaving: deque[_Entry] = deque()  # out of the playlist, deleted later
        self._undeleted: list[str] = []  # deletes that failed, tried again at the next segment
        self._discontinuity_seq = 0
        self._segment: _Segment | None = None
        self._gap = False  # the next segment follows a gap
        self._uploaded = 0
        self._target_duration = max(1, math.ceil(self.hls.target_seconds))

    # -- the pusher's hooks

    def _open(self, first: MediaPacket) -> None:
        self._uploaded = 0  # bytes the server took in this session
        self._start_segment(first)

    def _restream(self, old: StreamInfo, new: StreamInfo) -> bool:
        if not same_stream(old, new):
            self._gap = True  # a new stream: the next segment says so (the session goes on)
            seg = self._segment
            if seg is not None:
                self._finish_segment(seg, None)
                self._segment = None
        return False

    def _write(self, packet: MediaPacket, pts: int, dts: int) -> int:
        seg = self._segment
        if seg is not None and packet.keyframe and seg.seconds(dts) >= self.hls.target_seconds:
            self._segment = None
            self._finish_segment(seg, dts)
            seg = None
        if seg is None:
            if not packet.keyframe:
                return self._uploaded
            seg = self._start_segment(packet)
        try:
            seg.write(packet, pts, dts)
        except av.error.FFmpegError as e:
            raise PushFailed(f"MPEG-TS muxing failed: {e}") from None
        return self._uploaded

    def _close(self, *, clean: bool) -> None:
        seg, self._segment = self._segment, None
        self._gap = True  # whatever comes next follows an interruption
        if seg is None:
            return
        if clean and not self._stop.is_set() and seg.packets:
            self._finish_segment(seg, None)
        else:
            seg.discard()

    def start(self) -> None:
        self._http.reset()
        super().start()

    def _abort(self) -> None:
        self._http.abort()

    def stop(self, timeout: float = 10.0) -> bool:
        ok = super().stop(timeout)
        self._http.close()
        return ok

    # -- segments

    def _start_segment(self, first: MediaPacket) -> _Segment:
        try:
            seg = _Segment(first.info, self._gap)
        except (av.error.FFmpegError, ValueError) as e:
            raise PushFailed(f"cannot make MPEG-TS of this stream: {e}") from None
        self._gap = False
        self._segment = seg
        return seg

    def _finish_segment(self, seg: _Segment, until: int | None) -> None:
        seconds = seg.seconds(until)
        try:
            data = seg.finish()
        except (av.error.FFmpegError, OSError) as e:
            self._gap = True
            raise PushFailed(f"MPEG-TS muxing failed: {e}") from None
        if not data or seconds <= 0:
            return
        number = self._next_number
        entry = _Entry(number, f"{number}.ts", seconds, seg.discontinuity)
        try:
            self._put(entry.name, data, "video/mp2t")
        except PushFailed:
            self._gap = True
            raise
        self._next_number += 1
        self._uploaded += len(data)
        self._entries.append(entry)
        while len(self._entries) > self.hls.list_size:
            gone = self._entries.popleft()
            if gone.discontinuity:
                self._discontinuity_seq += 1
            self._leaving.append(gone)
        self._target_duration = max(self._target_duration, math.ceil(seconds))
        try:
            self._put(PLAYLIST, self._playlist().encode(), "application/vnd.apple.mpegurl")
        except PushFailed:
            self._gap = True
            raise
        self._went_live()
        while len(self._leaving) > self.hls.delete_after:
            self._undeleted.append(self._leaving.popleft().name)
        self._delete_old()

    def _playlist(self) -> str:
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{self._target_duration}",
            f"#EXT-X-MEDIA-SEQUENCE:{self._entries[0].number if self._entries else self._next_number}",
            f"#EXT-X-DISCONTINUITY-SEQUENCE:{self._discontinuity_seq}",
        ]
        for i, e in enumerate(self._entries):
            if e.discontinuity and i > 0:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXTINF:{e.seconds:.3f},")
            lines.append(e.name)
        return "\n".join(lines) + "\n"

    # -- HTTP

    def _url(self, name: str) -> str:
        return f"{self._folder}/{name}" + (f"?{self._query}" if self._query else "")

    def _put(self, name: str, data: bytes, content_type: str) -> None:
        if self._stop.is_set():
            raise PushFailed("stopped")
        self._request("PUT", name, data, {"Content-Type": content_type})

    def _delete_old(self) -> None:
        names, self._undeleted = self._undeleted[-100:], []
        for name in names:
            if self._stop.is_set():
                return
            try:
                self._request("DELETE", name)
            except PushFailed as e:
                log.debug("%s: could not delete %s: %s", self.camera_id, name, e)
                self._undeleted.append(name)

    def _request(self, method: str, name: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> None:
        status = self._http.request(method, self._url(name), body, headers or {})
        if method == "DELETE" and status == 404:
            return  # gone already (the server was restarted with an empty folder)
        if status >= 300:
            raise PushFailed(_http_words(method, status))


class _Http:
    """One kept-alive HTTP(S) connection to the upload server, which :meth:`abort` can cut from any thread
    (a blocked send or read then ends at once, not at its timeout)."""

    def __init__(self, base: str, timeout: float) -> None:
        parts = urlsplit(base)
        self.tls = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.tls else 80)
        self.timeout = timeout
        self._auth: str | None = None
        if parts.username is not None:
            raw = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._auth = "Basic " + base64.b64encode(raw).decode()
        self._conn: http.client.HTTPConnection | None = None
        self._aborted = threading.Event()
        self._lock = threading.Lock()

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def request(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> int:
        """The response's status; :class:`PushFailed` when the server cannot be reached or the connection breaks."""
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers)
        if self._auth is not None:
            headers["Authorization"] = self._auth
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile is opened again once
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, target, body=body, headers=headers)
                r = conn.getresponse()
                r.read()
                if r.will_close:
                    self._drop(conn)
                return r.status
            except (OSError, http.client.HTTPException) as e:
                self._drop(conn)
                if self._aborted.is_set():
                    raise PushFailed("stopped") from None
                if reused and attempt == 1 and isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                                               ConnectionResetError)):
                    continue
                raise PushFailed(self._words(e)) from None
        raise PushFailed("the server closed the connection")  # not reached

    def _connection(self) -> http.client.HTTPConnection:
        with self._lock:
            if self._aborted.is_set():
                raise PushFailed("stopped")
            if self._conn is None:
                if self.tls:
                    self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                                             context=ssl.create_default_context())
                else:
                    self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            return self._conn

    def _drop(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if self._conn is conn:
                self._conn = None
        conn.close()

    def _words(self, e: BaseException) -> str:
        if isinstance(e, ConnectionRefusedError):
            return f"connection refused: nothing is listening at {self.address}"
        if isinstance(e, TimeoutError):
            return f"no answer from {self.address} within {self.timeout:g} s"
        if isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)):
            return "the server closed the connection"
        if isinstance(e, ssl.SSLError):
            return f"TLS with {self.address} failed: {e.reason or type(e).__name__}"
        if isinstance(e, OSError):
            return f"cannot reach {self.address}: {e.strerror or type(e).__name__}"
        return f"the server's answer was not HTTP ({type(e).__name__})"

    def abort(self) -> None:
        self._aborted.set()
        with self._lock:
            conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        self._aborted.clear()

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _http_words(method: str, status: int) -> str:
    if status in (401, 403):
        return f"the server refused the {method} ({status}): check the upload's credentials"
    if status == 405:
        return f"the server does not accept {method} (405): enable WebDAV uploads (dav_methods PUT DELETE)"
    if status == 409:
        return f"the server has no folder for the camera ({status}): allow it to create one (create_full_put_path on)"
    if status == 413:
        return f"the server refused a segment as too large ({status}): raise its upload limit (client_max_body_size)"
    return f"the server answered {method} with HTTP {status}"
