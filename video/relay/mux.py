"""A camera's packets remuxed into MPEG-TS once, for every viewer of the relay.

:class:`TsMuxer` turns each :class:`~video.source.MediaPacket` into the MPEG-TS bytes that carry
it, with PyAV and without re-encoding: one chunk per packet (``flush_packets``), and FFmpeg's
MPEG-TS muxer writes the PAT and PMT in front of every keyframe, so a viewer can start at any
keyframe's chunk. Timestamps are rebased onto 90 kHz and keep rising across reconnects (a new
connection of the camera starts a new muxer whose timestamps continue where the last ended).

:class:`CameraFeed` is the one consumer of a camera's :class:`~video.source.Source` for the relay:
a thread that reads the subscription (which starts with the source's cached GOP, keyframe first),
muxes, and hands the chunks to ``deliver`` — the server fans them out to its viewers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from fractions import Fraction

import av
import av.error
import av.stream

from video.source import MediaPacket, Source, StreamInfo, Subscription

__all__ = ["CameraFeed", "Chunk", "TsMuxer"]

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


Deliver = Callable[[Sequence[Chunk]], None]


class CameraFeed:
    """The relay's single consumer of one camera's source: subscribe, mux, deliver; a joined thread."""

    def __init__(self, camera_id: str, source: Source, deliver: Deliver, *, queue_packets: int = 250) -> None:
        self.camera_id = camera_id
        self.source = source
        self._deliver = deliver
        self._queue_packets = queue_packets
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sub: Subscription | None = None
        self._dropped_closed = 0
        self.packets = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        # Subscribed here, not on the thread: the subscription's prefill (the cached GOP) is taken now.
        self._sub = self.source.subscribe(f"relay-{self.camera_id}", maxsize=self._queue_packets)
        self._thread = threading.Thread(target=self._run, name=f"hallwatch-relay-{self.camera_id}")
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        sub = self._sub
        if sub is not None:
            sub.close()  # wakes the thread at once

    def stop(self, timeout: float | None = None) -> bool:
        self.request_stop()
        t = self._thread
        if t is not None:
            t.join(timeout)
            if t.is_alive():
                return False
        self._thread = None
        return True

    @property
    def dropped(self) -> int:
        """Packets the subscription dropped because the feed fell behind (resumed at a keyframe)."""
        sub = self._sub
        return sub.dropped if sub is not None else 0

    def _run(self) -> None:
        sub = self._sub
        assert sub is not None
        muxer = TsMuxer()
        try:
            while not self._stop.is_set():
                first = sub.get(0.5)
                if first is None:
                    continue
                # Everything already waiting goes out in one delivery (one wake-up of the server).
                out: list[Chunk] = []
                for packet in (first, *sub.drain()):
                    try:
                        data = muxer.feed(packet)
                    except (av.error.FFmpegError, ValueError) as e:
                        # A packet the muxer refuses: start over at the next keyframe, viewers stay.
                        log.warning("relay: camera %s: a packet could not be muxed (%s); resuming at the next "
                                    "keyframe", self.camera_id, e)
                        muxer.close()
                        continue
                    if data:
                        out.append((data, packet.keyframe))
                self.packets += len(out)
                if out:
                    self._deliver(out)
        except Exception:
            log.exception("relay: the feed of camera %s failed", self.camera_id)
        finally:
            muxer.close()
