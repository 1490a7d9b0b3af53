"""A camera's packets remuxed into MPEG-TS once, for every viewer of the relay.

:class:`TsMuxer` turns each :class:`~video.source.MediaPacket` into the MPEG-TS bytes that carry
it, with PyAV and without re-encoding: one chunk per packet (``flush_packets``), and FFmpeg's
MPEG-TS muxer writes the PAT and PMT in front of every keyframe, so a viewer can start at any
keyframe's chunk. Timestamps are rebased onto 90 kHz and keep rising across reconnects (a new
connection of the camera starts a new muxer whose timestamps continue where the last ended).

:class:`CameraFeed` is the one consumer of a camera's :class:`~video.source.Source` for the relay:
its subscription (which starts with the source's cached GOP, keyframe first) and its muxer. One
:class:`FeedPool` thread pumps every feed a few times a second and hands all the chunks to the server
in one call, which fans them out to the viewers: the cost per camera is its packets' muxing, not
wake-ups.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from fractions import Fraction

import av
import av.error
import av.stream

from video.source import MediaPacket, Source, StreamInfo, Subscription

__all__ = ["CameraFeed", "Chunk", "FeedPool", "TsMuxer"]

log = logging.getLogger(__name__)

TS_CLOCK = Fraction(1, 90000)
Chunk = tuple[bytes, bool]  # the MPEG-TS bytes of one packet, and whether it starts at a keyframe


class _Sink:
    """The file object the muxer writes to: collects what one ``mux`` call wrote."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes | memoryview) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        parts, self.parts = self.parts, []
        return parts[0] if len(parts) == 1 else b"".join(parts)


class TsMuxer:
    """One stream's packets → MPEG-TS bytes, packet by packet, timestamps continuing across streams."""

    def __init__(self) -> None:
        self._sink = _Sink()
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._info: StreamInfo | None = None
        self._in_base = 0  # the current connection's first timestamp (its time base)
        self._out_base = 0  # where it starts on the output's 90 kHz clock
        self._last_dts: int | None = None
        self._frame = 3600  # one frame at 25 fps, until the stream says otherwise

    @property
    def info(self) -> StreamInfo | None:
        return self._info

    def feed(self, packet: MediaPacket) -> bytes:
        """The MPEG-TS bytes carrying ``packet`` (empty while a new stream waits for its keyframe)."""
        if packet.info is not self._info:
            if not packet.keyframe:
                return b""  # a new connection's stream: start it at a keyframe
            self._restart(packet)
        assert self._container is not None and self._stream is not None
        p = packet.to_av()
        tb = packet.info.time_base
        pts = None if packet.pts is None else self._out_base + _rescale(packet.pts - self._in_base, tb)
        dts = None if packet.dts is None else self._out_base + _rescale(packet.dts - self._in_base, tb)
        if dts is not None and self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1  # a camera repeating a timestamp must not stop the muxer
            if pts is not None and pts < dts:
                pts = dts
        if dts is not None:
            self._last_dts = dts
        p.pts, p.dts = pts, dts
        if packet.duration is not None:
            p.duration = _rescale(packet.duration, tb)
        p.time_base = TS_CLOCK
        p.stream = self._stream
        self._container.mux(p)
        return self._sink.take()

    def _restart(self, first: MediaPacket) -> None:
        info = first.info
        if self._container is not None:
            self._close_container()
            log.info("relay: a new stream (%s %dx%d), its timestamps continue the last", info.codec, info.width,
                     info.height)
        self._frame = round(90000 / info.fps) if info.fps else 3600
        start = first.dts if first.dts is not None else (first.pts or 0)
        self._in_base = start
        self._out_base = 0 if self._last_dts is None else self._last_dts + self._frame
        container = av.open(self._sink, "w", format="mpegts", buffer_size=256 * 1024,
                            options={"flush_packets": "1"})
        rate = Fraction(info.fps).limit_denominator(1001) if info.fps else None
        stream = container.add_mux_stream(info.codec, rate=rate, width=info.width, height=info.height)
        stream.time_base = TS_CLOCK
        self._container, self._stream, self._info = container, stream, info

    def _close_container(self) -> None:
        container, self._container, self._stream = self._container, None, None
        if container is not None:
            try:
                container.close()
            except (OSError, av.error.FFmpegError) as e:  # closing only flushes what no viewer needs
                log.debug("relay: closing a muxer: %r", e)
            self._sink.take()

    def close(self) -> None:
        self._close_container()
        self._info = None


def _rescale(value: int, tb: Fraction) -> int:
    if tb == TS_CLOCK:
        return value
    return round(value * tb * 90000)


class CameraFeed:
    """The relay's single consumer of one camera's source: its subscription and its muxer.

    :meth:`pump` (called by the :class:`FeedPool`'s thread) muxes whatever has arrived."""

    def __init__(self, camera_id: str, source: Source, *, queue_packets: int = 250, latency: float = 0.0) -> None:
        """``latency``: how late (seconds) packets may reach the viewers: the source may then read in batches."""
        self.camera_id = camera_id
        self.source = source
        self._lock = threading.Lock()
        # Subscribed now: the subscription starts with the source's cached GOP, keyframe first.
        self._sub: Subscription | None = source.subscribe(f"relay-{camera_id}", maxsize=queue_packets,
                                                          latency=latency)
        self._muxer = TsMuxer()
        self.packets = 0
        self._dropped = 0

    @property
    def dropped(self) -> int:
        """Packets the subscription dropped because the feed fell behind (resumed at a keyframe)."""
        sub = self._sub
        return sub.dropped if sub is not None else self._dropped

    def pump(self) -> list[Chunk]:
        """Mux every packet waiting: one chunk per packet."""
        with self._lock:
            sub = self._sub
            if sub is None:
                return []
            out: list[Chunk] = []
            for packet in sub.drain():
                try:
                    data = self._muxer.feed(packet)
                except (av.error.FFmpegError, ValueError) as e:
                    # A packet the muxer refuses: start over at the next keyframe; viewers stay.
                    log.warning("relay: camera %s: a packet could not be muxed (%s); resuming at the next keyframe",
                                self.camera_id, e)
                    self._muxer.close()
                    continue
                if data:
                    out.append((data, packet.keyframe))
            self.packets += len(out)
            return out

    def close(self) -> None:
        """Leave the source and close the muxer."""
        with self._lock:
            sub, self._sub = self._sub, None
            if sub is not None:
                self._dropped = sub.dropped
                sub.close()
            self._muxer.close()


Deliver = Callable[[list[tuple[CameraFeed, list[Chunk]]]], None]


class FeedPool:
    """One thread muxing every watched camera: every ``interval`` seconds it pumps each feed and hands
    everything muxed to ``deliver`` in one call (one wake-up of the server for all cameras).

    A feed added is pumped at once, so a new viewer's first picture does not wait for the interval."""

    def __init__(self, deliver: Deliver, *, interval: float = 0.2, name: str = "hallwatch-relay-mux") -> None:
        self._deliver = deliver
        self.interval = max(0.01, interval)
        self._name = name
        self._feeds: tuple[CameraFeed, ...] = ()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self._name)
        self._thread.start()

    def add(self, feed: CameraFeed) -> None:
        with self._lock:
            self._feeds = (*self._feeds, feed)
        self._wake.set()

    def remove(self, feed: CameraFeed) -> None:
        """Stop pumping ``feed`` and close it (its subscription ends)."""
        with self._lock:
            self._feeds = tuple(f for f in self._feeds if f is not feed)
        feed.close()

    def stop(self, timeout: float | None = None) -> bool:
        self._stop.set()
        self._wake.set()
        t, self._thread = self._thread, None
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                return False
        with self._lock:
            feeds, self._feeds = self._feeds, ()
        for f in feeds:
            f.close()
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)  # a feed added ends the wait at once
            self._wake.clear()
            if self._stop.is_set():
                break
            batch: list[tuple[CameraFeed, list[Chunk]]] = []
            for feed in self._feeds:
                try:
                    chunks = feed.pump()
                except Exception:
                    log.exception("relay: muxing camera %s failed", feed.camera_id)
                    continue
                if chunks:
                    batch.append((feed, chunks))
            if batch:
                try:
                    self._deliver(batch)
                except Exception:
                    log.exception("relay: delivering to the viewers failed")
