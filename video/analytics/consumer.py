"""Seat occupancy as a fan-out consumer of a camera's :class:`~video.source.Source`.

An :class:`OccupancyConsumer` subscribes to a source (the camera's sub-stream when it has one — the
caller passes that source) and judges about ``fps`` pictures a second with an
:class:`~video.analytics.occupancy.OccupancyDetector` on its own thread:

- while the stream's keyframes come at most :data:`KEYFRAME_ONLY_GOP` seconds apart, it subscribes to
  keyframes only and decodes those it needs (one a second at most);
- with longer GOPs (real cameras send a keyframe every 2-10 s) it takes every packet, decodes the GOP
  (skipping what the codec lets it skip: non-reference frames) and converts only the pictures it
  judges.

Pictures are converted to BGR at most :data:`WORK_WIDTH` pixels wide. A picture's time is its packet's
capture time, placed on the caller's ``clock`` (the demo runs on a clock of its own): events carry
POSIX seconds of that clock. ``stop`` ends the open spells at the last judged picture and joins the
thread. ``on_event`` is called on the consumer's thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import av
import av.error
import av.video.reformatter
import numpy as np

from video.analytics.occupancy import OccupancyDetector, SeatEvent, SeatRegion, SeatState, Tuning
from video.source import MediaPacket, Source, StreamInfo, Subscription

__all__ = ["KEYFRAME_ONLY_GOP", "WORK_WIDTH", "OccupancyConsumer", "OccupancyStatus"]

log = logging.getLogger(__name__)

KEYFRAME_ONLY_GOP: Final = 2.2
"""Keyframes at most this many seconds apart: decoding keyframes only gives enough pictures."""
WORK_WIDTH: Final = 640
_QUEUE: Final = 400  # packets: a 10 s GOP at 25 fps and some
_LATENCY: Final = 1.0  # seconds of delay the consumer accepts (the source may read in batches)


def _local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True, slots=True)
class OccupancyStatus:
    frames_judged: int
    last_judged_at: datetime | None  # the capture time of the last judged picture, on the caller's clock
    states: Mapping[str, SeatState]
    keyframes_only: bool  # decoding keyframes only (the GOP is short enough)
    decoded: int  # pictures decoded
    dropped: int  # packets the subscription dropped (the consumer fell behind)
    errors: int  # packets the decoder rejected


class OccupancyConsumer:
    """Judges a source's seat regions about ``fps`` times a second on its own thread."""

    def __init__(
        self,
        source: Source,
        regions: Sequence[SeatRegion],
        on_event: Callable[[SeatEvent], None],
        *,
        fps: float = 1.0,
        clock: Callable[[], datetime] = _local_now,
        name: str = "",
        min_empty_seconds: float = 60.0,
        tuning: Tuning | None = None,
    ) -> None:
        if fps <= 0:
            raise ValueError(f"fps must be positive: {fps}")
        self.source = source
        self.name = name or f"occupancy-{source.name}"
        self._on_event = on_event
        self._period = 1.0 / fps
        self._clock = clock
        self._detector = OccupancyDetector(regions, min_empty_seconds=min_empty_seconds, tuning=tuning)
        self._lock = threading.Lock()
        self._pending_regions: list[SeatRegion] | None = None
        self._sub: Subscription | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._judged = 0
        self._decoded = 0
        self._errors = 0
        self._dropped_before = 0
        self._last_at: float | None = None
        self._states: Mapping[str, SeatState] = dict(self._detector.states())
        self._keyframes_only = False

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._sub = self.source.subscribe(self.name, maxsize=_QUEUE, latency=_LATENCY)
        self._thread = threading.Thread(target=self._run, name=f"hallwatch-{self.name}")
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Leave the source, end the open spells at the last judged picture, join the thread."""
        self._stop.set()
        with self._lock:
            sub = self._sub
        if sub is not None:
            sub.close()  # wakes the thread's get()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
            self._thread = None
        return True

    def set_regions(self, regions: Sequence[SeatRegion]) -> None:
        """New seat regions, taken at the next picture (a kept region keeps what it learned)."""
        regions = list(regions)
        OccupancyDetector(regions)  # bad regions fail here, in the caller's thread
        with self._lock:
            self._pending_regions = regions

    def status(self) -> OccupancyStatus:
        with self._lock:
            sub = self._sub
            last = self._last_at
            clock_now = None if last is None else self._clock()
        at = None if last is None or clock_now is None else datetime.fromtimestamp(last, clock_now.tzinfo)
        return OccupancyStatus(
            frames_judged=self._judged,
            last_judged_at=at,
            states=dict(self._states),
            keyframes_only=self._keyframes_only,
            decoded=self._decoded,
            dropped=self._dropped_before + (sub.dropped if sub is not None else 0),
            errors=self._errors,
        )

    # -- the thread ----------------------------------------------------------------------------

    def _emit(self, events: list[SeatEvent]) -> None:
        for e in events:
            try:
                self._on_event(e)
            except Exception:
                log.exception("%s: the seat event handler failed", self.name)

    def _run(self) -> None:
        codec: av.VideoCodecContext | None = None
        info: StreamInfo | None = None
        reformatter = av.video.reformatter.VideoReformatter()
        next_due = float("-inf")  # stream seconds of the next picture to judge
        last_key: float | None = None  # stream seconds of the last keyframe seen
        sub = self._sub
        assert sub is not None
        try:
            while not self._stop.is_set():
                packet = sub.get(timeout=1.0)
                with self._lock:
                    regions, self._pending_regions = self._pending_regions, None
                if regions is not None:
                    self._emit(self._detector.set_regions(regions, self._last_at))
                    self._states = dict(self._detector.states())
                if packet is None:
                    if sub.closed:
                        break
                    continue
                if codec is None or info is not packet.info:  # the first packet, or a new connection
                    if codec is None or info is None or (info.codec, info.extradata) != (
                            packet.info.codec, packet.info.extradata):
                        codec = self._decoder_for(packet.info)
                    info = packet.info
                    next_due = float("-inf")  # its timestamps start afresh
                    last_key = None
                secs = packet.seconds
                if secs is not None and secs < next_due - 10 * self._period:
                    next_due = float("-inf")  # the timestamps went back (a looped file, a camera's reset)
                if packet.keyframe and secs is not None:
                    if last_key is not None and secs > last_key:
                        self._choose_mode(sub, secs - last_key)
                    last_key = secs
                if sub.keyframes_only and secs is not None and secs < next_due - 0.1 * self._period:
                    continue  # a keyframe sooner than needed: not even decoded
                for frame in self._decode(codec, packet, keyframes=sub.keyframes_only):
                    self._decoded += 1
                    ft = secs if frame.pts is None or frame.time_base is None else float(frame.pts * frame.time_base)
                    if ft is not None and ft < next_due - 0.1 * self._period:
                        continue  # decoded for the ones after it, not judged
                    if ft is not None:  # on a grid of periods; after a gap, from this picture on
                        next_due = next_due + self._period if ft - next_due < self._period else ft + self._period
                    self._judge(frame, packet, ft, reformatter)
        finally:
            sub.close()  # (again, when stop() did): the source stops offering packets
            with self._lock:
                self._dropped_before += sub.dropped
                self._sub = None
            if self._last_at is not None:
                self._emit(self._detector.close(self._last_at))
            self._states = dict(self._detector.states())

    def _choose_mode(self, sub: Subscription, gop: float) -> None:
        want = gop <= KEYFRAME_ONLY_GOP
        if want != sub.keyframes_only:
            log.info("%s: keyframes %.1f s apart: decoding %s", self.name, gop,
                     "keyframes only" if want else "every frame")
            sub.keyframes_only = want
            self._keyframes_only = want

    def _judge(self, frame: av.VideoFrame, packet: MediaPacket, ft: float | None,
               reformatter: av.video.reformatter.VideoReformatter) -> None:
        w, h = frame.width, frame.height
        if w > WORK_WIDTH:
            w, h = WORK_WIDTH, max(2, round(frame.height * WORK_WIDTH / frame.width) & ~1)
        out = reformatter.reformat(frame, width=w, height=h, format="bgr24", interpolation="AREA", threads=1)
        bgr = np.asarray(out.to_ndarray(), dtype=np.uint8)
        capture = packet.capture
        if ft is not None and packet.seconds is not None:
            capture += ft - packet.seconds
        at = self._clock().timestamp() - (time.time() - capture)
        events = self._detector.feed(bgr, at)
        with self._lock:
            self._last_at = at
        self._judged += 1
        self._states = dict(self._detector.states())
        self._emit(events)

    def _decoder_for(self, info: StreamInfo) -> av.VideoCodecContext:
        ctx = av.CodecContext.create(info.codec, "r")
        assert isinstance(ctx, av.VideoCodecContext)
        if info.extradata:
            ctx.extradata = info.extradata
        ctx.thread_count = 1
        ctx.thread_type = "SLICE"
        ctx.skip_frame = "NONREF"  # B-frames nobody refers to are never judged-for
        return ctx

    def _decode(self, codec: av.VideoCodecContext, packet: MediaPacket, *, keyframes: bool) -> list[av.VideoFrame]:
        try:
            frames = codec.decode(packet.to_av())
            if keyframes and not frames:
                frames = codec.decode(None)  # a decoder with delay: drain it, start clean at the next keyframe
                codec.flush_buffers()
            return frames
        except av.error.FFmpegError as e:
            self._errors += 1
            log.debug("%s: decoding failed: %s", self.name, e.strerror or type(e).__name__)
            return []
