"""The synthetic cameras' server: live MPEG-TS over HTTP on 127.0.0.1, encoding only while watched.

Addresses: ``synthetic://<id>`` is served at ``GET /<id>`` (ids may contain ``/``). An id ending in
``/sub`` is the sub-stream of the camera without it — ``synthetic://window/A01/sub`` is the
320×180 sub-stream of ``synthetic://window/A01`` (same scene and seed, smaller, 250 kb/s), as real
cameras have. With a clip folder, main streams added by :meth:`SyntheticCameraServer.resolve` are
served from pre-encoded looping clips (see :mod:`video.synthetic.clips`); sub-streams are encoded
live, with the clock burnt in — or loop clips too with ``sub_clips`` (the embedded demo's choice).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self, TypedDict
from urllib.parse import quote, unquote, urlsplit

from video.synthetic.clips import Clip, ClipKey, ClipLibrary, TsRemuxer
from video.synthetic.encoder import SyntheticEncoder, TsChunk
from video.synthetic.scene import SceneRenderer

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One synthetic camera served by :class:`SyntheticCameraServer`."""

    label: str
    width: int = 640
    height: int = 360
    fps: int = 25
    codec: str = "h264"
    seed: int = 0
    bitrate: int | None = None  # None: the server's
    looped: bool = False  # served from a pre-encoded looping clip when the server has a clip folder
    # Whether the staff member is in the seat at a POSIX wall time (e.g. DailySchedule(script).present);
    # None: the scene's own schedule. A looped camera then alternates between a clip with the staff
    # member and one without, switching at keyframes.
    schedule: Callable[[float], bool] | None = field(default=None, compare=False)


_WAITING_STEP = 5

SUB_SUFFIX = "/sub"
SUB_SIZE = (320, 180)
SUB_BITRATE = 250_000


class CameraStats(TypedDict):
    frames_encoded: int  # frames sent to clients, encoded live or from the clip
    bytes_encoded: int
    clients: int
    dropped_chunks: int
    encoding: bool  # its thread runs (it has clients)
    frozen: bool
    looping: bool  # serving its pre-encoded clip (not encoding)


class _ClientQueue:
    """One client's bounded chunk queue. On overflow the queued chunks are dropped (counted) and the
    client resumes at the next keyframe: a slow reader jumps back to live and never stalls the
    encoder or the other clients."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._items: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._need_key = False
        self._count_waiting = False
        self.dropped = 0
        self.closed = False

    def prime(self, chunks: list[TsChunk]) -> None:
        """Start with ``chunks`` (a GOP, keyframe first) or, if empty, at the next keyframe."""
        with self._cond:
            if chunks:
                self._items.extend(c.data for c in chunks[-self.maxsize :])
                self._cond.notify()
            else:
                self._need_key, self._count_waiting = True, False

    def resync(self) -> None:
        """Receive nothing until the next keyframe (not counted as drops)."""
        with self._cond:
            self._need_key, self._count_waiting = True, False

    def offer(self, chunk: TsChunk) -> None:
        with self._cond:
            if self.closed:
                return
            if self._need_key:
                if not chunk.keyframe:
                    self.dropped += self._count_waiting
                    return
                self._need_key = False
            if len(self._items) >= self.maxsize:
                self.dropped += len(self._items)
                self._items.clear()
                if not chunk.keyframe:
                    self.dropped += 1
                    self._need_key, self._count_waiting = True, True
                    return
            self._items.append(chunk.data)
            self._cond.notify()

    def get(self, timeout: float) -> bytes | None:
        with self._cond:
            if not self._items and not self.closed:
                self._cond.wait(timeout)
            return self._items.popleft() if self._items else None

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._items.clear()
            self._cond.notify_all()

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)


class _Camera:
    """One camera: its clients and the encoder thread that runs while it has any."""

    def __init__(
        self,
        camera_id: str,
        spec: CameraSpec,
        clock: Callable[[], datetime],
        stopping: threading.Event,
        queue_size: int,
        bitrate: int,
        clips: ClipLibrary | None = None,
        clip_seconds: int = 16,
    ) -> None:
        self.id = camera_id
        self.spec = spec
        self._clock = clock
        self._stopping = stopping
        self._queue_size = queue_size
        self._bitrate = spec.bitrate or bitrate
        self._clips = clips if spec.looped else None
        self._clip_key = ClipKey(spec.label, spec.seed, spec.width, spec.height, spec.fps, spec.codec,
                                 seconds=clip_seconds)
        if spec.bitrate:  # a main stream's clips keep ClipKey's default
            self._clip_key = replace(self._clip_key, bitrate=spec.bitrate)
        self._away_key = replace(self._clip_key, staff="absent")
        if spec.schedule is not None:
            self._clip_key = replace(self._clip_key, staff="present")
        # A watched sub-stream waiting for its clip is encoded live at full rate; a main stream (recorded,
        # rarely watched) at a fifth of it.
        self._waiting_step = 1 if camera_id.endswith(SUB_SUFFIX) else _WAITING_STEP
        self.looping = False
        self._lock = threading.Lock()
        self._clients: set[_ClientQueue] = set()
        self._thread: threading.Thread | None = None
        self._threads: list[threading.Thread] = []
        self._gop: list[TsChunk] = []
        self._renderer: SceneRenderer | None = None
        self.frozen = False
        self.frames_encoded = 0
        self.bytes_encoded = 0
        self._dropped_gone = 0  # by clients that left

    def attach(self) -> _ClientQueue:
        client = _ClientQueue(self._queue_size)
        if self._stopping.is_set():  # a connection that raced stop(): its handler ends at once
            client.close()
            return client
        with self._lock:
            if self.frozen:
                client.resync()
            else:
                client.prime(list(self._gop))
            self._clients.add(client)
            if self._thread is None and not self._stopping.is_set():
                thread = threading.Thread(target=self._run, name=f"synthetic-camera[{self.id}]")
                self._thread = thread
                self._threads = [t for t in self._threads if t.is_alive()] + [thread]
                thread.start()
        log.debug("camera %s: client joined (%d)", self.id, len(self._clients))
        return client

    def detach(self, client: _ClientQueue) -> None:
        client.close()
        with self._lock:
            self._clients.discard(client)
            self._dropped_gone += client.dropped
            n = len(self._clients)
        log.debug("camera %s: client left (%d)", self.id, n)

    def set_frozen(self, frozen: bool) -> None:
        with self._lock:
            if self.frozen and not frozen:
                for c in self._clients:
                    c.resync()  # resume at the next keyframe
            self.frozen = frozen

    def close_clients(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for c in clients:
            c.close()

    def join(self, timeout: float) -> None:
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def stats(self) -> CameraStats:
        with self._lock:
            return CameraStats(
                frames_encoded=self.frames_encoded,
                bytes_encoded=self.bytes_encoded,
                clients=len(self._clients),
                dropped_chunks=self._dropped_gone + sum(c.dropped for c in self._clients),
                encoding=self._thread is not None,
                frozen=self.frozen,
                looping=self.looping,
            )

    def _should_run(self) -> bool:
        """Called by the encoder thread: False (and the thread deregistered) when it should end."""
        with self._lock:
            if self._clients and not self._stopping.is_set():
                return True
            if self._thread is threading.current_thread():
                self._thread = None
                self._gop = []
            return False

    def _run(self) -> None:
        spec = self.spec
        # A camera waiting for its clip is encoded live at a fifth of its rate (a keyframe a second
        # still): the first start of a demo, with every clip still to build, stays affordable.
        step = self._waiting_step if self._clips is not None and spec.fps % self._waiting_step == 0 else 1
        encoder: SyntheticEncoder | None = None
        remuxer: TsRemuxer | None = None
        clip: Clip | None = None
        try:
            if self._clips is not None:  # loaded already when the camera was resolved and its clip cached
                clip = self._clip()
            if clip is None:
                if self._renderer is None:
                    self._renderer = SceneRenderer(spec.label, spec.width, spec.height, spec.seed,
                                                   schedule=spec.schedule)
                encoder = SyntheticEncoder(spec.width, spec.height, spec.fps, spec.codec,
                                           gop=spec.fps // step, bitrate=self._bitrate)
        except Exception:
            log.exception("camera %s: cannot start the encoder", self.id)
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                for c in self._clients:
                    c.close()
            return
        log.info("camera %s: %s %dx%d@%d %s", self.id, "encoding" if clip is None else "looping its clip",
                 spec.width, spec.height, spec.fps, spec.codec)
        period = 1.0 / spec.fps
        t0 = time.monotonic()
        slot = 0
        index = 0  # the next clip packet
        try:
            while self._should_run():
                delay = t0 + slot * period - time.monotonic()
                if delay > 0:
                    if self._stopping.wait(delay):
                        continue
                elif delay < -0.5:  # fell behind (a stalled machine): skip to now, as a camera would
                    skipped = int(-delay / period)
                    log.debug("camera %s: %d frames late, skipping", self.id, skipped)
                    slot += skipped
                if clip is None and self._clips is not None and slot % spec.fps == 0:
                    clip = self._clip()
                    if clip is not None and encoder is not None:  # from now on the clip, keyframe first
                        encoder.close()
                        encoder = None
                if clip is not None:
                    if remuxer is None:
                        remuxer = TsRemuxer(clip)
                        self.looping = True
                    if spec.schedule is not None and clip.keyframes[index]:  # at a keyframe: the schedule's clip
                        clip = self._clip() or clip
                    # the clip's packets stay in order even when slots were skipped: each refers to the last
                    chunks = [remuxer.mux(clip.packets[index], clip.keyframes[index], slot)]
                    index = (index + 1) % len(clip)
                else:
                    assert encoder is not None and self._renderer is not None
                    if slot % step:  # (after skipping late frames) on to the next frame it encodes
                        slot += step - slot % step
                        continue
                    wall = self._clock()
                    chunks = encoder.encode(self._renderer.render(wall.timestamp(), wall), pts=slot)
                slot += 1
                self._publish(chunks)
        except Exception:
            log.exception("camera %s: encoder failed", self.id)
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                    self._gop = []
                for c in self._clients:
                    c.close()
        finally:
            self.looping = False
            try:
                if encoder is not None:
                    encoder.close()
                if remuxer is not None:
                    remuxer.close()
            except Exception:
                log.exception("camera %s: closing the encoder failed", self.id)
            log.info("camera %s: stopped after %d frames", self.id, self.frames_encoded)

    def _clip(self) -> Clip | None:
        """The clip to serve now (with a schedule: with or without the staff member), once loaded."""
        assert self._clips is not None
        if self.spec.schedule is None:
            return self._clips.get(self._clip_key)
        present, away = self._clips.get(self._clip_key), self._clips.get(self._away_key)
        if present is None or away is None:
            return None
        return present if self.spec.schedule(self._clock().timestamp()) else away

    def _publish(self, chunks: list[TsChunk]) -> None:
        with self._lock:
            for chunk in chunks:
                self.frames_encoded += 1
                self.bytes_encoded += len(chunk.data)
                if chunk.keyframe:
                    self._gop = [chunk]
                elif self._gop and len(self._gop) < self._queue_size:
                    self._gop.append(chunk)
                else:
                    self._gop = []  # a GOP longer than a queue: late joiners wait for a keyframe
                if not self.frozen:
                    for c in self._clients:
                        c.offer(chunk)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # stop() shuts every connection and joins its thread
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, owner: SyntheticCameraServer, address: tuple[str, int]) -> None:
        self.owner = owner
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "HallWatchSynthetic/1.0"

    def do_GET(self) -> None:
        owner = self.server.owner
        camera_id = unquote(urlsplit(self.path).path).strip("/")
        camera = owner._camera(camera_id)
        if camera is None:
            self.send_error(404, f"no synthetic camera {camera_id!r}")
            return
        client = camera.attach()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "video/mp2t")
            self.send_header("Cache-Control", "no-cache, no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            while not client.closed:
                data = client.get(timeout=0.25)
                if data is not None:
                    self.wfile.write(data)
        except OSError as e:  # the client went away, or stop() shut the socket
            log.debug("camera %s: client connection ended: %s", camera_id, e)
        finally:
            camera.detach(client)
            self.close_connection = True

    def setup(self) -> None:
        super().setup()
        owner = self.server.owner
        if owner._send_buffer is not None:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, owner._send_buffer)
        owner._track(self.connection, True)

    def finish(self) -> None:
        self.server.owner._track(self.connection, False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class SyntheticCameraServer:
    """Live synthetic cameras as MPEG-TS over HTTP: ``GET /<camera_id>`` (ids may contain ``/``).

    One encoder thread per camera runs, paced at real time, while at least one client is
    connected. Each client has its own bounded queue: a new client first gets the current GOP
    (keyframe first, with PAT/PMT), so it decodes at once; a slow client drops chunks (counted) and
    resynchronises on the next keyframe without stalling the encoder or other clients.
    """

    def __init__(
        self,
        cameras: Mapping[str, CameraSpec],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        clock: Callable[[], datetime] | None = None,
        queue_size: int = 50,
        bitrate: int = 1_000_000,
        send_buffer: int | None = 256 * 1024,
        clip_dir: Path | None = None,
        clip_seconds: int = 16,
        sub_clips: bool = False,
    ) -> None:
        """``cameras`` maps camera ids to specs; ``clock`` gives the burnt-in wall time (default: now,
        local); ``queue_size`` is each client's queue in chunks (frames); ``send_buffer`` is the
        kernel send buffer per connection (None: the OS's autotuning, which on loopback absorbs
        seconds of video before the queue sees a slow client); ``clip_dir``: where the looping clips
        of main streams resolved from ``synthetic://`` addresses are cached (None: every camera is
        encoded live); ``clip_seconds``: their length; ``sub_clips``: with a clip folder, sub-streams loop
        clips too (320×180, no clock burnt in) instead of being encoded live with the clock."""
        self._host = host
        self._send_buffer = send_buffer
        self._requested_port = port
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now().astimezone())
        self._queue_size = queue_size
        self._bitrate = bitrate
        self._clips = ClipLibrary(clip_dir) if clip_dir is not None else None
        self._clip_seconds = clip_seconds
        self._sub_clips = sub_clips
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._cameras: dict[str, _Camera] = {}
        self._schedules: dict[str, Callable[[float], bool] | None] = {}
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._httpd: _HTTPServer | None = None
        self._serve_thread: threading.Thread | None = None
        for camera_id, spec in cameras.items():
            self.add_camera(camera_id, spec)

    # ------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        if self._httpd is not None:
            return
        if self._stopping.is_set():
            raise RuntimeError("a stopped server cannot be restarted")
        httpd = _HTTPServer(self, (self._host, self._requested_port))
        self._httpd = httpd
        self._serve_thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="synthetic-camera-server"
        )
        self._serve_thread.start()
        log.info("synthetic cameras on http://%s:%d/ (%d cameras)", self._host, self.port, len(self._cameras))

    def stop(self) -> None:
        """Close every client connection and join all threads (within about a second)."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
        if self._clips is not None:
            self._clips.stop(2.0)
        if httpd is None:
            return
        httpd.shutdown()  # returns once serve_forever has left its loop
        if self._serve_thread is not None:
            self._serve_thread.join(2.0)
        httpd.server_close()
        with self._lock:
            cameras = list(self._cameras.values())
            connections = dict(self._connections)
        for camera in cameras:
            camera.close_clients()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)  # unblocks a handler stuck in send()
        deadline = time.monotonic() + 2.0
        for thread in connections.values():
            thread.join(max(0.0, deadline - time.monotonic()))
        for camera in cameras:
            camera.join(max(0.0, deadline - time.monotonic()))
        log.info("synthetic camera server stopped")

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------ api

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    def url(self, camera_id: str) -> str:
        return f"http://{self._host}:{self.port}/{quote(camera_id, safe='/')}"

    def disconnect(self, urls: Iterable[str]) -> None:
        """End the connections of the cameras at ``urls`` (this server's ``url()``s; others are
        ignored) without stopping the cameras: a client stopping while FFmpeg still reads the first
        second of the stream to probe it then ends at once instead of after its probe."""
        prefix = self.url("")
        with self._lock:
            cameras = [c for u in urls if u.startswith(prefix)
                       and (c := self._cameras.get(unquote(u[len(prefix):]).strip("/"))) is not None]
        for camera in cameras:
            camera.close_clients()

    def add_camera(self, camera_id: str, spec: CameraSpec) -> None:
        camera_id = camera_id.strip("/")
        if not camera_id:
            raise ValueError("empty camera id")
        with self._lock:
            if camera_id in self._cameras:
                raise ValueError(f"camera {camera_id!r} exists")
            self._cameras[camera_id] = self._new_camera(camera_id, spec)

    def _new_camera(self, camera_id: str, spec: CameraSpec) -> _Camera:
        return _Camera(camera_id, spec, self._clock, self._stopping, self._queue_size, self._bitrate,
                       self._clips, self._clip_seconds)

    def camera_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._cameras)

    def resolve(self, url: str) -> str:
        """``synthetic://window/A01`` → ``url("window/A01")``; other URLs are returned unchanged.

        An unknown id is added on the fly: label = the last path part, seed = a hash of the id (so
        the demo's windows do not all show the same schedule), other settings default; with a clip
        folder it loops its clip (loaded or built from now on). An id ending in ``/sub`` is the
        sub-stream of the id without it: same label and seed, 320×180 at 250 kb/s, live with the clock
        (with ``sub_clips`` and a clip folder: its looping clip).
        """
        parts = urlsplit(url)
        if parts.scheme.lower() != "synthetic":
            return url
        camera_id = unquote(parts.netloc + parts.path).strip("/")
        if not camera_id:
            raise ValueError(f"no camera id in {url!r}")
        with self._lock:
            camera = self._cameras.get(camera_id)
            if camera is None:
                camera = self._cameras[camera_id] = self._new_camera(camera_id, self._spec_for(camera_id))
        if camera._clips is not None:
            camera._clips.get(camera._clip_key)  # load (or build) its clip before a client asks
            if camera.spec.schedule is not None:
                camera._clips.get(camera._away_key)
        return self.url(camera_id)

    def _spec_for(self, camera_id: str) -> CameraSpec:
        main_id = camera_id.removesuffix(SUB_SUFFIX) if camera_id.endswith(SUB_SUFFIX) else None
        if main_id:
            main = self._cameras.get(main_id)
            base = main.spec if main is not None else self._spec_for(main_id)
            w, h = SUB_SIZE
            return replace(base, width=w, height=h, bitrate=SUB_BITRATE,
                           looped=self._clips is not None and self._sub_clips)
        return CameraSpec(label=camera_id.rsplit("/", 1)[-1], seed=zlib.crc32(camera_id.encode()) & 0xFFFF,
                          looped=self._clips is not None, schedule=self._schedules.get(camera_id))

    def set_schedule(self, camera_id: str, schedule: Callable[[float], bool] | None) -> None:
        """The staff schedule (POSIX wall time → in the seat) of camera ``camera_id`` and its sub-stream,
        for cameras resolved from now on (set it before the camera is first resolved or added)."""
        with self._lock:
            self._schedules[camera_id.strip("/")] = schedule

    def freeze(self, camera_id: str, frozen: bool) -> None:
        """While frozen, clients stay connected but receive nothing; afterwards they resume at a keyframe."""
        self._require(camera_id).set_frozen(frozen)

    def stats(self, camera_id: str) -> CameraStats:
        return self._require(camera_id).stats()

    # ------------------------------------------------------------------------------- internals

    def _camera(self, camera_id: str) -> _Camera | None:
        with self._lock:
            return self._cameras.get(camera_id)

    def _require(self, camera_id: str) -> _Camera:
        camera = self._camera(camera_id.strip("/"))
        if camera is None:
            raise KeyError(camera_id)
        return camera

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections[conn] = threading.current_thread()
            else:
                self._connections.pop(conn, None)
