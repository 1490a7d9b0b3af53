"""One connection per camera: a demux thread, reconnects, a stall watchdog and packet fan-out.

A :class:`Source` owns the only connection to one camera stream. Its thread reads packets with
PyAV and hands each one, as an immutable :class:`MediaPacket`, to every :class:`Subscription` —
the display decoder, the recorder, the relay, analytics — through the subscription's own bounded
queue. The source never waits for a consumer: a consumer that falls behind loses the rest of the
current GOP (counted in its ``dropped``) and resumes at the next keyframe, so it can always decode
what it gets, and nobody's latency grows. A consumer that joins late is first given the current GOP,
keyframe first (go2rtc's per-consumer queues; Frigate's ``put_nowait`` and count).

A live source that ends its stream has disconnected (PyAV reports a dead server as a clean end of
stream). The source then retries with exponential backoff and jitter, about 1 s rising to 30 s;
subscriptions stay attached across reconnects and see the new connection's :class:`StreamInfo`
on the packets that follow. The watchdog is the read timeout: when no packet arrives for
``stall_after`` seconds (default 5 s) while the socket stays open, the source is ``stalled`` and
reconnects; packets that keep coming without video count as a stall too.

Every URL in a log line, a state or an error message is masked (see :mod:`video.urls`).
"""

from __future__ import annotations

import errno
import itertools
import logging
import random
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Literal

import av
import av.error
import av.stream

from video.nal import has_parameter_sets, is_annexb
from video.urls import SourceKind, file_path, kind_of, mask_url, redact

__all__ = [
    "MediaPacket",
    "Source",
    "SourceOptions",
    "SourceState",
    "SourceStatus",
    "StreamInfo",
    "Subscription",
]

log = logging.getLogger(__name__)

_ids = itertools.count(1)
# Batched reading (SourceOptions.max_read_delay): the thread wakes this long after the last packet
# of a batch is due, so that a camera's small delays do not make it wait on the socket.
_BATCH_MARGIN = 0.008
# A read that took this long waited for the network: the demuxer and the socket held nothing more,
# so the packet it returned is at the live edge (reads of what is already buffered take microseconds).
_LIVE_EDGE_S = 0.002


class SourceState(StrEnum):
    """Where a source's connection stands."""

    CONNECTING = "connecting"  # first attempt, nothing received yet
    LIVE = "live"  # video packets are arriving
    STALLED = "stalled"  # connected, but no video for stall_after seconds
    RECONNECTING = "reconnecting"  # lost; waiting out the backoff or trying again
    FAILED = "failed"  # an error retrying will not fix soon (wrong password, no such stream, file missing)
    ENDED = "ended"  # a file source reached its end (not looped)
    STOPPED = "stopped"  # stopped on purpose


@dataclass(frozen=True, slots=True)
class SourceOptions:
    """How a source connects. Defaults suit an IP camera on the hall's network."""

    transport: Literal["tcp", "udp"] = "tcp"  # RTSP only
    open_timeout: float = 10.0  # seconds to connect and read the stream's header
    stall_after: float = 5.0  # seconds without video before the source counts as stalled
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    jitter: float = 0.2  # ± fraction of each backoff delay, so a hall's cameras do not retry in step
    loop: bool = False  # files only: start again at the end
    realtime: bool = True  # files only: deliver packets at the pace of their timestamps
    gop_cache_packets: int = 500  # a longer GOP is not cached (late consumers then wait for a keyframe)
    gop_cache_bytes: int = 16 * 1024 * 1024
    # How much of a live stream FFmpeg may analyse before the first packet. None: 0.3 s for RTSP,
    # whose SDP already carries the codec parameters, and 1 s for the rest, which must find a keyframe.
    probe_seconds: float | None = None
    # The longest a source may hold back reading when every consumer accepts that much delay (the
    # recorder, a keyframes-only tile): the packets meanwhile wait in the socket's buffer and are
    # then read in one go, so the thread wakes a few times a second instead of once per frame.
    # 0 reads every packet as it arrives. Never used for RTSP over UDP (the socket buffer is small
    # and a datagram that does not fit is lost) nor for streams stamped by arrival (MJPEG).
    max_read_delay: float = 0.25


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """The video stream of one connection; a reconnect yields a new one (``connection`` + 1)."""

    codec: str  # FFmpeg's codec name: h264, hevc, mjpeg…
    width: int
    height: int
    fps: float | None  # the stream's nominal rate; None when it does not say
    time_base: Fraction
    pix_fmt: str | None
    extradata: bytes | None  # SPS/PPS etc., for a decoder or muxer created elsewhere
    profile: str | None
    container: str  # the demuxer: rtsp, mpegts, flv…
    connection: int  # 1 for the first connection, +1 for each reconnect
    tick: float = field(init=False, repr=False, compare=False, default=0.0)  # time_base as a float

    def __post_init__(self) -> None:
        # Per-packet arithmetic in floats: Fraction math costs microseconds on every packet.
        object.__setattr__(self, "tick", float(self.time_base))


@dataclass(frozen=True, slots=True)
class MediaPacket:
    """One compressed video packet, immutable, shared by every consumer."""

    data: bytes
    pts: int | None
    dts: int | None
    duration: int | None
    keyframe: bool
    info: StreamInfo
    wall: float  # time.time() when the packet arrived
    mono: float  # time.monotonic() when the packet arrived
    # time.time() at which the frame was taken, estimated from its timestamp: arrival times bunch up
    # (a server's GOP burst, network jitter) but timestamps do not. Used to place footage in time.
    capture: float = 0.0

    @property
    def seconds(self) -> float | None:
        """The presentation time in seconds on the stream's clock."""
        t = self.pts if self.pts is not None else self.dts
        return None if t is None else t * self.info.tick

    def to_av(self) -> av.Packet[av.stream.Stream]:
        """A new PyAV packet with this data and timing (consumers may set its stream freely)."""
        p = av.Packet(self.data)
        p.pts, p.dts = self.pts, self.dts
        if self.duration is not None:
            p.duration = self.duration
        p.time_base = self.info.time_base
        p.is_keyframe = self.keyframe
        return p


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A snapshot of a source, for the UI, ``probe`` and logs. ``url`` is masked."""

    url: str
    state: SourceState
    error: str | None  # the last error, in words; kept after recovery until the next one
    since: float  # time.time() when the state was entered
    info: StreamInfo | None
    packets: int  # video packets received, all connections
    bytes: int
    reconnects: int  # connection attempts after a loss (not the first attempt)
    first_frame_s: float | None  # from the start of the current connection attempt to its first video packet
    last_packet_age: float | None  # seconds since the last video packet
    dropped: int  # packets consumers dropped, summed (each subscription counts its own)
    consumers: int


class Subscription:
    """A consumer's bounded queue of packets from one source.

    ``get`` blocks the consumer's own thread; the source's ``_offer`` never blocks. When the queue
    is full the source drops what is queued and the rest of that GOP, so the consumer resumes
    decodable at the next keyframe; every packet not delivered is counted in ``dropped``.
    """

    def __init__(self, source: Source, name: str, maxsize: int, keyframes_only: bool, latency: float = 0.0) -> None:
        self.source = source
        self.name = name
        self.maxsize = maxsize
        self._latency = latency
        self._queue: deque[MediaPacket] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._keyframes_only = keyframes_only
        self._need_keyframe = True
        self._closed = False
        self.dropped = 0
        self.delivered = 0

    @property
    def keyframes_only(self) -> bool:
        return self._keyframes_only

    @keyframes_only.setter
    def keyframes_only(self, value: bool) -> None:
        with self._cond:
            if value and not self._keyframes_only:
                self.dropped += sum(1 for p in self._queue if not p.keyframe)
                self._queue = deque(p for p in self._queue if p.keyframe)
            elif not value and self._keyframes_only:
                self._need_keyframe = True  # full rate resumes at a keyframe
            self._keyframes_only = value

    @property
    def latency(self) -> float:
        """How late (seconds) this consumer accepts packets; the source reads in batches up to the least of these."""
        return self._latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._latency = max(0.0, value)
        self.source._consumers_changed()

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._queue)

    def _offer(self, packet: MediaPacket) -> None:
        """Called by the source's thread for every packet; never blocks."""
        with self._cond:
            if self._closed:
                return
            if self._keyframes_only:
                if not packet.keyframe:
                    return  # not wanted: not a drop
            elif self._need_keyframe:
                if not packet.keyframe:
                    self.dropped += 1
                    return
                self._need_keyframe = False
            if len(self._queue) >= self.maxsize:
                # Dropping one packet would break every packet after it until the next keyframe:
                # drop the backlog and the rest of the GOP instead, and start clean.
                self.dropped += len(self._queue) + 1
                self._queue.clear()
                if not self._keyframes_only:
                    self._need_keyframe = not packet.keyframe
                if not packet.keyframe:
                    return
            self._queue.append(packet)
            self._cond.notify()

    def _prefill(self, gop: list[MediaPacket]) -> None:
        """Start a late consumer on the current GOP (its first packet is the keyframe)."""
        with self._cond:
            if self._keyframes_only:
                self._queue.extend(gop[:1])
            elif len(gop) <= self.maxsize:
                self._queue.extend(gop)
                self._need_keyframe = False
            if self._queue:
                self._cond.notify()

    def get(self, timeout: float | None = None) -> MediaPacket | None:
        """The next packet, or None after ``timeout`` seconds or once closed."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            if self._queue:
                self.delivered += 1
                return self._queue.popleft()
            return None

    def drain(self) -> list[MediaPacket]:
        """Everything queued now, without waiting."""
        with self._cond:
            items = list(self._queue)
            self._queue.clear()
            self.delivered += len(items)
            return items

    def close(self) -> None:
        """Leave the source; a consumer blocked in ``get`` wakes with None."""
        self.source._unsubscribe(self)
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


StateListener = Callable[[SourceStatus], None]


class _Permanent(Exception):
    """An error retrying soon will not fix."""


@dataclass
class _Counters:
    packets: int = 0
    bytes: int = 0
    reconnects: int = 0
    dropped_closed: int = 0  # drops of subscriptions that have since closed
    first_frame_s: float | None = None
    last_packet_mono: float | None = None
    connection: int = 0
    attempt_started: float = field(default_factory=time.monotonic)


_UNTIMED_FORMATS = frozenset({"mpjpeg"})  # demuxers whose timestamps are only frame counters


class _CaptureClock:
    """Wall-clock time of capture from stream timestamps.

    The offset between arrival time and timestamp is smallest for the packet that waited least;
    its minimum over a connection is the best estimate of the stream's clock against ours. It is
    let rise slowly (1 ms/s) so that a camera clock running slow against ours is followed.
    """

    DRIFT = 0.001

    def __init__(self) -> None:
        self._offset: float | None = None
        self._at = 0.0

    def capture(self, arrival: float, seconds: float) -> float:
        candidate = arrival - seconds
        if self._offset is None or candidate < self._offset + self.DRIFT * (arrival - self._at):
            self._offset = candidate
        else:
            self._offset += self.DRIFT * (arrival - self._at)
        self._at = arrival
        return self._offset + seconds


class _AnnexB:
    """Hands out H.264/H.265 as Annex B with the parameter sets on every keyframe.

    Segments, relayed streams and late consumers start at a keyframe and must decode from it
    alone. FLV, RTMP and MP4 carry length-prefixed NAL units with the parameter sets only in the
    header (avcC/hvcC): FFmpeg's ``*_mp4toannexb`` filter rewrites them. Some RTSP cameras send the
    parameter sets only in the SDP: they are put in front of each keyframe that lacks them.
    """

    def __init__(self, video: av.VideoStream, codec: str, extradata: bytes | None) -> None:
        self._bsf: av.BitStreamFilterContext | None = None
        self._prefix: bytes | None = None
        self._codec = codec
        self.extradata = extradata  # what a decoder created elsewhere should be given
        if codec in ("h264", "hevc") and extradata:
            if is_annexb(extradata):
                self._prefix = extradata
            else:
                self._bsf = av.BitStreamFilterContext(f"{codec}_mp4toannexb", video)
                self.extradata = None  # the packets carry them now; avcC would mislead a decoder

    def reset(self) -> None:
        """Forget a held-back packet (after a seek)."""
        if self._bsf is not None:
            self._bsf.flush()

    def filter(self, packet: av.Packet[av.stream.Stream]) -> list[tuple[av.Packet[av.stream.Stream], bytes]]:
        """The packets to hand out for one demuxed packet (a filter may hold one back), with their data."""
        out = self._bsf.filter(packet) if self._bsf is not None else [packet]
        result = []
        for p in out:
            data = bytes(p)
            if self._prefix is not None and p.is_keyframe and not has_parameter_sets(data, self._codec):
                data = self._prefix + data
            result.append((p, data))
        return result


class Source:
    """The one connection to one camera stream, read by its own thread.

    ``start()`` returns at once; ``status()`` and state listeners tell what happens. ``stop()``
    returns within about a second when packets flow. A thread blocked inside FFmpeg on a silent
    server cannot be interrupted from outside: its wait is bounded by FFmpeg's socket timeout
    (``stall_after`` once connected, ``open_timeout`` while connecting), after which it sees the
    stop and ends. The thread is not a daemon: ``stop(timeout)`` says whether it ended in time, and
    many sources stop in parallel with :meth:`request_stop` first, then ``stop`` each.
    """

    def __init__(self, url: str, options: SourceOptions | None = None, *, name: str | None = None) -> None:
        self.url = url
        self.masked_url = mask_url(url)
        self.kind = kind_of(url)
        if self.kind is SourceKind.SYNTHETIC:
            raise ValueError(f"{self.masked_url}: resolve synthetic:// addresses to the demo server's URL first")
        self.options = options or SourceOptions()
        self.name = name or f"source-{next(_ids)}"
        self._lock = threading.Lock()
        # Replaced, never changed in place: the thread reads it once per packet without copying.
        self._subs: tuple[Subscription, ...] = ()
        self._listeners: list[StateListener] = []
        self._gop: list[MediaPacket] = []
        self._gop_bytes = 0
        self._gop_valid = False
        self._state = SourceState.STOPPED
        self._since = time.time()
        self._error: str | None = None
        self._info: StreamInfo | None = None
        self._c = _Counters()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._arrival_clock = False
        self._read_delay = 0.0  # see SourceOptions.max_read_delay; set from the consumers
        self._consumers_changed()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        t = self._thread
        if t is not None and t.is_alive():
            if not self._stop.is_set():
                return
            # asked to stop without waiting (``Camera.release(wait=False)``) and not ended yet: the
            # new run begins once that one has ended (within its socket timeouts)
            t.join()
        self._stop.clear()
        self._set_state(SourceState.CONNECTING)
        self._thread = threading.Thread(target=self._run, name=f"hallwatch-{self.name}")
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end without waiting (``stop`` then waits)."""
        self._stop.set()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the thread to end and wait up to ``timeout`` (default: the longest it can take).

        Returns whether the thread has ended.
        """
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(timeout if timeout is not None else self.options.open_timeout + self.options.stall_after + 1)
            if t.is_alive():
                log.warning("%s: still waiting on the network after stop; it will end on its own", self.masked_url)
                return False
        self._thread = None
        self._set_state(SourceState.STOPPED)
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Source:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- consumers ---------------------------------------------------------------------------

    def subscribe(
        self, name: str, *, maxsize: int = 100, keyframes_only: bool = False, latency: float = 0.0
    ) -> Subscription:
        """A new consumer queue. It starts with the current GOP (keyframe first) when there is one.

        ``latency``: how late, in seconds, the consumer accepts packets. While every consumer accepts
        some delay the source reads in batches (see ``SourceOptions.max_read_delay``); a consumer that
        shows live pictures at full rate subscribes with 0.
        """
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        sub = Subscription(self, name, maxsize, keyframes_only, max(0.0, latency))
        with self._lock:
            if self._gop_valid:
                sub._prefill(list(self._gop))
            self._subs = (*self._subs, sub)
        self._consumers_changed()
        return sub

    def _unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs = tuple(s for s in self._subs if s is not sub)
                self._c.dropped_closed += sub.dropped
        self._consumers_changed()

    def _consumers_changed(self) -> None:
        with self._lock:
            least = min((s.latency for s in self._subs), default=self.options.max_read_delay)
            self._read_delay = min(least, self.options.max_read_delay, self.options.stall_after / 4)

    @property
    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)

    def add_listener(self, listener: StateListener) -> None:
        """Call ``listener(status)`` on every state change, from the source's thread; keep it quick."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: StateListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- status ------------------------------------------------------------------------------

    def status(self) -> SourceStatus:
        with self._lock:
            c = self._c
            now = time.monotonic()
            return SourceStatus(
                url=self.masked_url,
                state=self._state,
                error=self._error,
                since=self._since,
                info=self._info,
                packets=c.packets,
                bytes=c.bytes,
                reconnects=c.reconnects,
                first_frame_s=c.first_frame_s,
                last_packet_age=None if c.last_packet_mono is None else now - c.last_packet_mono,
                dropped=c.dropped_closed + sum(s.dropped for s in self._subs),
                consumers=len(self._subs),
            )

    @property
    def state(self) -> SourceState:
        return self._state

    def _set_state(self, state: SourceState, error: str | None = None) -> None:
        with self._lock:
            changed = state is not self._state or (error is not None and error != self._error)
            if error is not None:
                self._error = error
            if not changed:
                return
            self._state = state
            self._since = time.time()
            listeners = list(self._listeners)
        if error and state in (SourceState.STALLED, SourceState.RECONNECTING, SourceState.FAILED):
            log.warning("%s: %s — %s", self.masked_url, state.value, error)
        elif error:
            log.info("%s: %s — %s", self.masked_url, state.value, error)
        else:
            log.info("%s: %s", self.masked_url, state.value)
        status = self.status()
        for listener in listeners:
            try:
                listener(status)
            except Exception:
                log.exception("%s: a state listener failed", self.masked_url)

    # -- the thread --------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        first = True
        while not self._stop.is_set():
            if not first:
                with self._lock:
                    self._c.reconnects += 1
            first = False
            with self._lock:
                self._c.attempt_started = time.monotonic()
                self._c.first_frame_s = None
            went_live = False
            try:
                went_live = self._connect_and_read()
                if self._stop.is_set():
                    break
                if self.kind is SourceKind.FILE:
                    self._set_state(SourceState.ENDED, "the file ended")
                    return
                state, message = SourceState.RECONNECTING, "the camera closed the stream"
            except _Permanent as e:
                state, message = SourceState.FAILED, str(e)
            except Exception as e:  # every error becomes a state with words, never a dead thread
                if isinstance(e, (OSError, av.error.FFmpegError)):  # FFmpeg's errors: the message says it all
                    log.debug("%s: connection ended: %s", self.masked_url, redact(repr(e), self.url))
                else:  # a bug: keep the traceback, without the secrets it may quote
                    log.error("%s: unexpected error\n%s", self.masked_url,
                              redact("".join(traceback.format_exception(e)), self.url))
                state, message = self._classify(e)
            finally:
                self._invalidate_gop()
            if self._stop.is_set():
                break
            if self.kind is SourceKind.FILE:
                # A file does not get better by reading it again.
                self._set_state(SourceState.FAILED, message)
                return
            failures = 1 if went_live else failures + 1
            self._set_state(state, message)
            if state is SourceState.STALLED:
                self._set_state(SourceState.RECONNECTING)
            delay = self._backoff(failures, permanent=state is SourceState.FAILED)
            log.info("%s: next attempt in %.1f s", self.masked_url, delay)
            if self._stop.wait(delay):
                break
        # stop() sets STOPPED once the thread is gone

    def _backoff(self, failures: int, *, permanent: bool) -> float:
        o = self.options
        base = o.backoff_max if permanent else min(o.backoff_max, o.backoff_initial * 2 ** max(0, failures - 1))
        return max(0.05, base * random.uniform(1 - o.jitter, 1 + o.jitter))

    def _open(self) -> av.container.InputContainer:
        o = self.options
        opts: dict[str, str] = {}
        url = self.url
        if self.kind is SourceKind.RTSP:
            opts["rtsp_transport"] = o.transport
            if o.transport == "udp":
                opts["rtsp_flags"] = "prefer_tcp"
        if self.kind is not SourceKind.FILE:
            # A live stream: analyse only what is needed to know the codec and size.
            probe = o.probe_seconds if o.probe_seconds is not None else 0.3 if self.kind is SourceKind.RTSP else 1.0
            opts["analyzeduration"] = str(int(probe * 1_000_000))
            opts["probesize"] = "1000000"
            # Not fflags=nobuffer: it throws away the packets read while probing, the first
            # keyframe among them, so nothing could be decoded until the next GOP.
            # The stall watchdog is FFmpeg's own socket timeout, not PyAV's read timeout: PyAV's
            # interrupt callback takes the GIL on every one of FFmpeg's many checks, which with a
            # wall of cameras was a large share of the demux threads' CPU. PyAV's timeout guards
            # only the open (where the callback then returns without the GIL).
            micros = str(int(o.stall_after * 1_000_000))
            opts["timeout" if self.kind is SourceKind.RTSP else "rw_timeout"] = micros
        else:
            path = file_path(url)
            if not path.exists():
                raise _Permanent(f"file not found: {path.name}")
            url = str(path)
        return av.open(url, "r", options=opts, timeout=(o.open_timeout, None))

    def _connect_and_read(self) -> bool:
        """One connection: open, then deliver packets until it ends. Returns whether video arrived."""
        container = self._open()
        went_live = False
        try:
            video = container.streams.video[0] if container.streams.video else None
            if video is None:
                raise _Permanent("the stream has no video")
            with self._lock:
                self._c.connection += 1
                connection = self._c.connection
            ctx = video.codec_context
            # MJPEG over HTTP carries no timestamps: FFmpeg numbers the frames at an assumed 25 fps.
            # Such a stream is stamped with its arrival times instead, and its rate is unknown.
            self._arrival_clock = container.format.name in _UNTIMED_FORMATS
            rate = None if self._arrival_clock else (video.average_rate or video.base_rate or video.guessed_rate)
            annexb = _AnnexB(video, ctx.name, bytes(ctx.extradata) if ctx.extradata else None)
            info = StreamInfo(
                codec=ctx.name,
                width=ctx.width,
                height=ctx.height,
                fps=float(rate) if rate else None,
                time_base=Fraction(1, 90000) if self._arrival_clock else (video.time_base or Fraction(1, 90000)),
                pix_fmt=ctx.pix_fmt,
                extradata=annexb.extradata,
                profile=ctx.profile,
                container=container.format.name,
                connection=connection,
            )
            with self._lock:
                self._info = info
            log.info(
                "%s: connected: %s %dx%d %s fps (%s)", self.masked_url, info.codec, info.width, info.height,
                f"{info.fps:.2f}" if info.fps else "?", info.container,
            )
            for packet in self._packets(container, video, info, annexb):
                if not went_live:
                    went_live = True
                    with self._lock:
                        self._c.first_frame_s = packet.mono - self._c.attempt_started
                    self._set_state(SourceState.LIVE)
                self._deliver(packet)
                if self._stop.is_set():
                    break
        finally:
            container.close()
        return went_live

    def _packets(
        self, container: av.container.InputContainer, video: av.VideoStream, info: StreamInfo, annexb: _AnnexB
    ) -> Iterator[MediaPacket]:
        o = self.options
        is_file = self.kind is SourceKind.FILE
        paced = is_file and o.realtime
        arrival_clock = self._arrival_clock
        offset = 0  # added to a looped file's timestamps so they keep rising
        first_ts: int | None = None
        frame_ticks = round(1 / (info.fps * info.time_base)) if info.fps else 1
        nominal_frame_s = 1 / info.fps if info.fps else 0.0
        tick = info.tick
        last_video = time.monotonic()
        clock = _CaptureClock()
        clock_origin = time.monotonic()
        # Reading in batches (see SourceOptions.max_read_delay) for live sources where it is safe.
        may_batch = not is_file and not arrival_clock and not (
            self.kind is SourceKind.RTSP and o.transport == "udp"
        )
        # When packets arrive at the live edge, by decoding timestamp (arrival order): to know when
        # the next one is due, so that the thread sleeps until a batch has arrived instead of
        # waiting on the socket for each packet.
        arrivals = _CaptureClock()
        live = False  # a read has waited for the network: the backlog of the open is drained
        while True:
            pace_start: float | None = None
            pace_origin = 0.0
            end = 0
            demuxed = container.demux()  # every stream, so that the watchdog sees packets without video
            while True:
                read_began = 0.0 if live else time.monotonic()  # reads are timed until one waited
                raw = next(demuxed, None)
                if raw is None:
                    break
                now_mono = time.monotonic()
                if not live:
                    live = now_mono - read_began >= _LIVE_EDGE_S
                if raw.stream.index != video.index or raw.size == 0:
                    if now_mono - last_video > o.stall_after:
                        raise TimeoutError("no video in the stream")
                    if self._stop.is_set():
                        return
                    continue
                last_video = now_mono
                next_due: float | None = None
                for p, data in annexb.filter(raw):
                    if arrival_clock:
                        arrived = round((now_mono - clock_origin) * 90000)
                        p.pts = p.dts = arrived
                        p.duration = 0
                    if first_ts is None:
                        first_ts = p.dts if p.dts is not None else p.pts
                    pts = None if p.pts is None else p.pts + offset
                    dts = None if p.dts is None else p.dts + offset
                    if paced:
                        t = dts if dts is not None else pts
                        if t is not None:
                            secs = t * tick
                            if pace_start is None:
                                pace_start, pace_origin = now_mono, secs
                            wait = pace_start + (secs - pace_origin) - now_mono
                            if wait > 0:
                                # Not due yet: sleep until it is, plus the delay the consumers accept
                                # (the packets due meanwhile then go out together). time.sleep costs
                                # less CPU per wake than Event.wait; waits are short, so stop() is
                                # still seen within a fraction of a second.
                                wait += self._read_delay
                                time.sleep(wait) if wait <= 0.3 else self._stop.wait(wait)
                                if self._stop.is_set():
                                    return
                            now_mono = time.monotonic()
                    if pts is not None:
                        end = max(end, pts + (p.duration or frame_ticks))
                    wall = time.time()
                    ts = pts if pts is not None else dts
                    capture = wall if ts is None else clock.capture(wall, ts * tick)
                    if may_batch and dts is not None:
                        frame_s = p.duration * tick if p.duration else nominal_frame_s
                        next_due = arrivals.capture(wall, dts * tick) + frame_s if frame_s > 0 else None
                    yield MediaPacket(
                        data=data,
                        pts=pts,
                        dts=dts,
                        duration=p.duration,
                        keyframe=p.is_keyframe,
                        info=info,
                        wall=wall,
                        mono=now_mono,
                        capture=capture,
                    )
                delay = self._read_delay
                # Only once a read has waited for the network (once per connection): what opening the
                # stream read ahead (probing, a server's GOP burst) is buffered until then, and packets
                # read from it look late. Sleeping on them kept that backlog for the whole connection —
                # every packet read, and placed in time, that much late (0.9-3.5 s were seen). After it,
                # the arrival estimate is fresh and each batch ends at the live edge by itself.
                if next_due is not None and delay > 0 and live:
                    wake = next_due + delay + _BATCH_MARGIN
                    now = time.time()
                    if next_due > now:
                        # Caught up with the camera (the next packet is not here yet), and every
                        # consumer accepts some delay: let the packets due meanwhile gather in the
                        # socket's buffer and read them together, one wake-up for the batch.
                        time.sleep(min(wake - now, 0.5))
                        if self._stop.is_set():
                            return
            if not (is_file and o.loop) or self._stop.is_set():
                return
            container.seek(0, stream=video)
            annexb.reset()
            offset = end - (first_ts or 0)

    def _deliver(self, packet: MediaPacket) -> None:
        with self._lock:
            c = self._c
            c.packets += 1
            c.bytes += len(packet.data)
            c.last_packet_mono = packet.mono
            self._update_gop(packet)
            subs = self._subs
        for sub in subs:
            sub._offer(packet)

    def _update_gop(self, packet: MediaPacket) -> None:
        o = self.options
        if packet.keyframe:
            self._gop = [packet]
            self._gop_bytes = len(packet.data)
            self._gop_valid = True
        elif self._gop_valid:
            self._gop.append(packet)
            self._gop_bytes += len(packet.data)
            if len(self._gop) > o.gop_cache_packets or self._gop_bytes > o.gop_cache_bytes:
                self._invalidate_gop_locked()

    def _invalidate_gop(self) -> None:
        with self._lock:
            self._invalidate_gop_locked()

    def _invalidate_gop_locked(self) -> None:
        self._gop = []
        self._gop_bytes = 0
        self._gop_valid = False

    def _classify(self, e: BaseException) -> tuple[SourceState, str]:
        """The state an error leads to and what to tell the operator, with no secrets in it."""
        o = self.options
        now = time.monotonic()
        with self._lock:
            connected = self._info is not None and self._c.connection > 0 and self._state is SourceState.LIVE
            silent_for = now - (self._c.last_packet_mono or 0.0) if connected else now - self._c.attempt_started
        # FFmpeg's RTSP client turns a timed-out read into "invalid data": judge a timeout by the clock.
        # Before the stream is up, whichever of the open timeout and the socket timeout is shorter ends it.
        waited = o.stall_after if connected else min(o.open_timeout, o.stall_after)
        timed_out = silent_for >= waited * 0.95
        if isinstance(e, av.error.HTTPUnauthorizedError):
            return SourceState.FAILED, "the camera refused the user name or password (401)"
        if isinstance(e, av.error.HTTPForbiddenError):
            return SourceState.FAILED, "the camera refused access (403)"
        if isinstance(e, av.error.HTTPNotFoundError):
            return SourceState.FAILED, "no stream at this address (404)"
        if timed_out or isinstance(e, (av.error.ExitError, TimeoutError, av.error.TimeoutError)):
            if connected:
                return SourceState.STALLED, f"no video for {o.stall_after:g} s"
            return SourceState.RECONNECTING, f"no answer within {waited:g} s"
        if isinstance(e, ConnectionRefusedError):
            host = self.masked_url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
            return SourceState.RECONNECTING, f"connection refused: nothing is listening at {host}"
        if isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            return SourceState.RECONNECTING, "the connection was cut"
        if connected and isinstance(e, OSError) and e.errno == errno.EIO:
            # FFmpeg's HTTP client ends a live stream the server closed with "Stream ends prematurely".
            return SourceState.RECONNECTING, "the camera closed the stream"
        if isinstance(e, av.error.InvalidDataError):
            return SourceState.RECONNECTING, "the server sent data that is not a video stream"
        if isinstance(e, (av.error.DemuxerNotFoundError, av.error.ProtocolNotFoundError)):
            return SourceState.FAILED, "this kind of stream is not supported"
        if isinstance(e, FileNotFoundError):
            return SourceState.FAILED, "file not found"
        if isinstance(e, av.error.FFmpegError):
            return SourceState.RECONNECTING, redact(e.strerror or type(e).__name__, self.url)
        return SourceState.RECONNECTING, redact(f"{type(e).__name__}: {e}", self.url)
