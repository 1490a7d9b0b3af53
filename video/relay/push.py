"""Handing a camera's stream once to a standard server: the common loop, and RTMP push.

A pusher is a fan-out consumer of one camera's :class:`~video.source.Source` (no connection of its
own to the camera) on its own thread. It starts at a keyframe, remuxes the camera's packets — never
re-encodes them — and writes them to the server; when the server goes away (restarted, killed,
unreachable) it drops what arrives meanwhile, waits out an exponential backoff (1 s rising to 30 s,
with jitter) and connects again at the next keyframe. The timestamps it writes follow one timeline
across camera reconnects and server restarts.

:class:`RtmpPush` publishes ``<push>/<camera_id>`` to an RTMP server (nginx-rtmp): FLV from PyAV's
muxer, sent by :class:`~video.relay.rtmp.RtmpPublisher`. RTMP (as nginx-rtmp speaks it) carries
H.264 only: a camera in any other codec is *refused* — its status says why, in words, and the log
says it once — never silently dropped. :class:`~video.relay.hls.HlsPush` writes HLS for any codec.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import ClassVar

import av
import av.error
import av.stream

from video.relay.rtmp import RtmpError, RtmpPublisher, RtmpTarget, parse_target
from video.source import MediaPacket, Source, StreamInfo, Subscription
from video.urls import mask_url

__all__ = ["PushOptions", "PushState", "PushStatus", "Pusher", "RtmpPush", "codec_words", "rtmp_refusal"]

log = logging.getLogger(__name__)

OUT_TIME_BASE = Fraction(1, 90000)


class PushState(StrEnum):
    WAITING = "waiting"  # no video from the camera yet, or waiting for its next keyframe
    CONNECTING = "connecting"
    LIVE = "live"  # the server takes the stream
    RETRYING = "retrying"  # the server is unreachable or failed: next attempt after a backoff
    REFUSED = "refused"  # this camera cannot go this way (its codec); the reason says why
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class PushOptions:
    timeout: float = 5.0  # seconds for the server to answer / take a write
    backoff_initial: float = 1.0
    backoff_max: float = 30.0
    jitter: float = 0.2
    idle_seconds: float = 5.0  # no video from the camera this long: the session closes, waiting resumes
    queue_packets: int = 250  # the subscription's bound (10 s at 25 fps)
    latency: float = 0.1  # how late the pusher accepts packets (the source may read in batches)


@dataclass(frozen=True, slots=True)
class PushStatus:
    camera_id: str
    kind: str  # "rtmp" | "hls"
    target: str  # where it goes, masked
    state: PushState
    reason: str | None  # why it is not live, in words (kept after recovery until the next problem)
    reconnects: int  # connections made after the first
    bytes: int  # video bytes the server took
    packets: int
    dropped: int  # packets lost: the subscription fell behind, or the server was away
    codec: str | None
    since: float  # time.time() when the state was entered


_CODEC_WORDS = {"h264": "H.264", "hevc": "H.265", "mjpeg": "MJPEG", "mpeg4": "MPEG-4"}


def codec_words(codec: str) -> str:
    return _CODEC_WORDS.get(codec, codec.upper())


def rtmp_refusal(info: StreamInfo) -> str | None:
    """Why a stream cannot be pushed over RTMP, in words (None when it can)."""
    if info.codec == "h264":
        return None
    return (f"{codec_words(info.codec)} cannot go over RTMP (nginx-rtmp carries H.264 only): "
            "use [relay] hls for this camera")


class _Timeline:
    """The output's timestamps (90 kHz): the camera's own, shifted so they keep rising across camera
    reconnects (a new connection starts one frame after the last packet written)."""

    def __init__(self) -> None:
        self._info: StreamInfo | None = None
        self._offset = 0
        self._last_dts: int | None = None
        self._frame = 3600

    def map(self, p: MediaPacket) -> tuple[int, int]:
        info = p.info
        scale = info.tick * 90000
        raw_dts = p.dts if p.dts is not None else p.pts
        raw_pts = p.pts if p.pts is not None else raw_dts
        dts = round((raw_dts or 0) * scale)
        pts = round((raw_pts or 0) * scale)
        if info is not self._info:
            start = 0 if self._last_dts is None else self._last_dts + self._frame
            self._offset = start - dts
            self._info = info
            self._frame = round(90000 / info.fps) if info.fps else 3600
        dts += self._offset
        pts += self._offset
        if self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1  # a camera that repeats a timestamp must not stop the muxer
        pts = max(pts, dts)
        self._last_dts = dts
        return pts, dts


def same_stream(a: StreamInfo, b: StreamInfo) -> bool:
    """Whether a new connection's stream can continue the old one's output as is."""
    return (a.codec, a.width, a.height, a.extradata) == (b.codec, b.width, b.height, b.extradata)


class PushFailed(Exception):
    """The server failed; the message says how, in words without secrets."""


class Pusher(ABC):
    """One camera to one server, on its own (non-daemon) thread; ``stop`` joins it."""

    kind: ClassVar[str]
    live_on_open: ClassVar[bool] = True  # False: the session is live once the server took something

    def __init__(self, source: Source, camera_id: str, target: str, options: PushOptions | None = None) -> None:
        self.source = source
        self.camera_id = camera_id
        self.target = target
        self.masked_target = mask_url(target)
        self.options = options or PushOptions()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._state = PushState.STOPPED
        self._reason: str | None = None
        self._since = time.time()
        self._reconnects = 0
        self._connections = 0
        self._bytes = 0
        self._packets = 0
        self._dropped_away = 0
        self._codec: str | None = None
        self._sub: Subscription | None = None
        self.on_change: Callable[[PushStatus], None] | None = None

    # -- lifecycle

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._sub = self.source.subscribe(f"push-{self.kind}-{self.camera_id}", maxsize=self.options.queue_packets,
                                          latency=self.options.latency)
        self._set(PushState.WAITING, None)
        self._thread = threading.Thread(target=self._run, name=f"hallwatch-push-{self.kind}-{self.camera_id}")
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        self._abort()
        sub = self._sub
        if sub is not None:
            sub.close()  # wakes a thread waiting for a packet

    def stop(self, timeout: float = 10.0) -> bool:
        """End the thread (closing the session cleanly when it can) within ``timeout``; True when it ended."""
        self.request_stop()
        t = self._thread
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                log.warning("%s: %s push still busy after stop", self.camera_id, self.kind)
                return False
        self._thread = None
        self._set(PushState.STOPPED, self._reason)
        return True

    def status(self) -> PushStatus:
        sub = self._sub
        with self._lock:
            return PushStatus(
                camera_id=self.camera_id, kind=self.kind, target=self.masked_target, state=self._state,
                reason=self._reason, reconnects=self._reconnects, bytes=self._bytes, packets=self._packets,
                dropped=self._dropped_away + (sub.dropped if sub is not None else 0), codec=self._codec,
                since=self._since,
            )

    # -- what each way does

    def refusal(self, info: StreamInfo) -> str | None:
        """Why this stream cannot go this way (None: it can)."""
        return None

    @abstractmethod
    def _open(self, first: MediaPacket) -> None:
        """Connect and begin a session with ``first`` (a keyframe) to come; raise PushFailed."""

    @abstractmethod
    def _write(self, packet: MediaPacket, pts: int, dts: int) -> int:
        """Write one packet (timestamps in 90 kHz); the bytes the server took so far; raise PushFailed."""

    def _idle(self) -> None:  # noqa: B027 (optional hook)
        """Called when no packet came for a while (keep the session alive); may raise PushFailed."""

    def _restream(self, old: StreamInfo, new: StreamInfo) -> bool:
        """The camera reconnected with ``new``: True when the session must end (it starts anew)."""
        return not same_stream(old, new)

    @abstractmethod
    def _close(self, *, clean: bool) -> None:
        """End the session (``clean``: the server is fine, say goodbye and finish what is pending)."""

    def _abort(self) -> None:  # noqa: B027 (optional hook)
        """From another thread: unblock the session's I/O at once."""

    def _went_live(self) -> None:
        """The server took the session's first upload (for ways that are not live on open)."""
        if self._state is not PushState.LIVE:
            self._set(PushState.LIVE, None)

    # -- the thread

    def _set(self, state: PushState, reason: str | None) -> None:
        with self._lock:
            changed = (state, reason) != (self._state, self._reason)
            if state is not self._state:
                self._since = time.time()
            self._state, self._reason = state, reason
        if changed and self.on_change is not None:
            self.on_change(self.status())

    def _backoff(self, failures: int) -> float:
        o = self.options
        base = min(o.backoff_max, o.backoff_initial * 2 ** max(0, failures - 1))
        return max(0.05, base * random.uniform(1 - o.jitter, 1 + o.jitter))  # type: ignore[no-any-return]

    def _run(self) -> None:
        sub = self._sub
        assert sub is not None
        o = self.options
        timeline = _Timeline()
        info: StreamInfo | None = None
        refused: str | None = None
        session = False
        failures = 0
        next_try = 0.0
        last_packet = time.monotonic()
        last_idle = last_packet
        base_bytes = 0
        try:
            while not self._stop.is_set():
                p = sub.get(timeout=0.25)
                if self._stop.is_set():
                    break
                now = time.monotonic()
                if p is None:
                    if session and now - last_packet > o.idle_seconds:
                        self._end(clean=True)
                        session = False
                        self._set(PushState.WAITING, "no video from the camera")
                    elif session and now - last_idle > 1.0:
                        last_idle = now
                        try:
                            self._idle()
                        except PushFailed as e:
                            session, failures = False, failures + 1
                            next_try = self._failed(e, failures, now)
                    continue
                last_packet = last_idle = now
                if p.info is not info:
                    previous, info = info, p.info
                    self._codec = info.codec
                    refused = self.refusal(info)
                    if refused is not None:
                        if session:
                            self._end(clean=True)
                            session = False
                        if self._reason != refused:
                            log.warning("%s: not pushed to %s: %s", self.camera_id, self.masked_target, refused)
                        self._set(PushState.REFUSED, refused)
                        continue
                    if session and previous is not None:
                        try:
                            restart = self._restream(previous, info)
                        except PushFailed as e:
                            session, failures = False, failures + 1
                            next_try = self._failed(e, failures, now)
                            restart = False
                        if restart:
                            self._end(clean=True)
                            session = False
                if refused is not None:
                    continue
                if not session:
                    if not p.keyframe:
                        continue
                    if now < next_try:
                        self._dropped_away += 1
                        continue
                    self._set(PushState.CONNECTING, self._reason)
                    try:
                        self._open(p)
                    except PushFailed as e:
                        failures += 1
                        next_try = self._failed(e, failures, now)
                        continue
                    session = True
                    base_bytes = self._bytes
                    with self._lock:
                        self._connections += 1
                        self._reconnects = max(0, self._connections - 1)
                    log.info("%s: pushing to %s (%s %dx%d)", self.camera_id, self.masked_target, info.codec,
                             info.width, info.height)
                    if self.live_on_open:
                        self._set(PushState.LIVE, None)
                try:
                    sent = self._write(p, *timeline.map(p))
                except PushFailed as e:
                    session = False
                    failures += 1
                    next_try = self._failed(e, failures, now)
                    continue
                if self._state is PushState.LIVE:  # HLS: once the server took an upload, not when muxed
                    failures = 0
                with self._lock:
                    self._packets += 1
                    self._bytes = base_bytes + sent
        except Exception:  # a bug: say so, with the traceback, and end in a state with words
            log.exception("%s: %s push failed", self.camera_id, self.kind)
            self._set(PushState.STOPPED, "stopped by an unexpected error (see the log)")
        finally:
            if session:
                self._end(clean=True)
            sub.close()

    def _failed(self, e: PushFailed, failures: int, now: float) -> float:
        try:
            self._close(clean=False)
        except Exception:
            log.debug("%s: closing after a failure failed too", self.camera_id, exc_info=True)
        delay = self._backoff(failures)
        reason = str(e)
        if failures == 1 or reason != self._reason:
            log.warning("%s: %s: %s; next attempt in %.1f s", self.camera_id, self.masked_target, reason, delay)
        else:
            log.info("%s: %s: %s; next attempt in %.1f s", self.camera_id, self.masked_target, reason, delay)
        self._set(PushState.RETRYING, reason)
        return now + delay

    def _end(self, *, clean: bool) -> None:
        try:
            self._close(clean=clean)
        except PushFailed as e:
            log.info("%s: closing the session: %s", self.camera_id, e)
        except Exception:
            log.exception("%s: closing the session failed", self.camera_id)


# -- RTMP -------------------------------------------------------------------------------------------


class _FlvTags:
    """What PyAV's FLV muxer writes → FLV tags, handed on as they complete."""

    def __init__(self, on_tag: Callable[[int, int, bytes], None]) -> None:
        self._on_tag = on_tag
        self._buf = bytearray()
        self._header_done = False

    def write(self, data: bytes) -> int:
        self._buf += data
        b = self._buf
        if not self._header_done:
            if len(b) < 9:
                return len(data)
            skip = int.from_bytes(b[5:9], "big") + 4  # the header and PreviousTagSize0
            if len(b) < skip:
                return len(data)
            del b[:skip]
            self._header_done = True
        while len(b) >= 11:
            size = int.from_bytes(b[1:4], "big")
            end = 11 + size + 4
            if len(b) < end:
                break
            ts = int.from_bytes(b[4:7], "big") | b[7] << 24
            tag_type, body = b[0] & 0x1F, bytes(b[11 : 11 + size])
            del b[:end]
            self._on_tag(tag_type, ts, body)
        return len(data)


class RtmpPush(Pusher):
    """``<push>/<camera_id>`` over RTMP, H.264 only (see the module's text)."""

    kind = "rtmp"

    def __init__(self, source: Source, camera_id: str, push_base: str, options: PushOptions | None = None) -> None:
        self.rtmp_target: RtmpTarget = parse_target(push_base, camera_id)  # ValueError: a bad address, said now
        base = push_base.split("?", 1)[0].rstrip("/")
        super().__init__(source, camera_id, f"{base}/{camera_id}", options)
        self._publisher: RtmpPublisher | None = None
        self._muxer: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._flv: _FlvTags | None = None
        self._sent = 0

    def refusal(self, info: StreamInfo) -> str | None:
        return rtmp_refusal(info)

    def _open(self, first: MediaPacket) -> None:
        publisher = RtmpPublisher(self.rtmp_target, timeout=self.options.timeout)
        self._publisher = publisher
        if self._stop.is_set():
            raise PushFailed("stopped")
        try:
            publisher.connect()
        except RtmpError as e:
            self._publisher = None
            publisher.close()
            raise PushFailed(str(e)) from None
        info = first.info
        self._flv = _FlvTags(publisher.send_tag)
        self._sent = 0
        try:
            # No duration or size in onMetaData (a live stream has neither); every packet reaches the
            # socket as it is muxed (no 32 KB buffer in between).
            self._muxer = av.open(self._flv, "w", format="flv", buffer_size=4096,
                                  options={"flvflags": "no_duration_filesize"},
                                  container_options={"flush_packets": "1"})
            rate = Fraction(info.fps).limit_denominator(1001) if info.fps else None
            stream = self._muxer.add_mux_stream(info.codec, rate=rate, width=info.width, height=info.height)
            stream.time_base = OUT_TIME_BASE
            self._stream = stream
        except (av.error.FFmpegError, ValueError) as e:
            self._close(clean=False)
            raise PushFailed(f"cannot make FLV of this stream: {e}") from None

    def _write(self, packet: MediaPacket, pts: int, dts: int) -> int:
        muxer, stream, publisher = self._muxer, self._stream, self._publisher
        assert muxer is not None and stream is not None and publisher is not None
        p = av.Packet(packet.data)
        p.pts, p.dts = pts, dts
        p.time_base = OUT_TIME_BASE
        p.is_keyframe = packet.keyframe
        p.stream = stream
        try:
            muxer.mux(p)
        except RtmpError as e:
            raise PushFailed(str(e)) from None
        except av.error.FFmpegError as e:
            cause = e.__cause__ or e.__context__
            if isinstance(cause, RtmpError):
                raise PushFailed(str(cause)) from None
            raise PushFailed(f"FLV muxing failed: {e}") from None
        return publisher.bytes_sent

    def _idle(self) -> None:
        publisher = self._publisher
        if publisher is not None:
            try:
                publisher.poll()
            except RtmpError as e:
                raise PushFailed(str(e)) from None

    def _close(self, *, clean: bool) -> None:
        muxer, self._muxer = self._muxer, None
        publisher, self._publisher = self._publisher, None
        self._stream = None
        if muxer is not None:
            with contextlib.suppress(av.error.FFmpegError, RtmpError, OSError):
                muxer.close()  # fails when the server is gone: nothing to finish then
        if publisher is not None:
            if not clean:
                publisher.abort()
            publisher.close()

    def _abort(self) -> None:
        publisher = self._publisher
        if publisher is not None:
            publisher.abort()
