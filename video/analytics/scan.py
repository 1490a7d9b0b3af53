"""The ``seats`` command's work: the occupancy detector over a file or a live camera.

:func:`parse_region` reads ``X,Y,W,H`` (pixels of the source picture). :func:`scan_file` reads a file as
fast as it decodes — keyframes only while they come at most :data:`~video.analytics.consumer.KEYFRAME_ONLY_GOP`
seconds apart, else every frame — and judges about ``fps`` pictures a second; times are seconds from
the start of the file (its first picture's timestamp). :func:`scan_live` runs a
:class:`~video.source.Source` and an :class:`~video.analytics.consumer.OccupancyConsumer` until
stopped; times are seconds from when it started. Both give the empty spells of each region lasting
at least ``min_seconds`` (a spell still open at the end ends there).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error
import numpy as np

from video.analytics.consumer import KEYFRAME_ONLY_GOP, WORK_WIDTH, OccupancyConsumer
from video.analytics.occupancy import OccupancyDetector, SeatEvent, SeatRegion
from video.source import Source, SourceOptions, SourceState
from video.urls import SourceKind, file_path, kind_of, mask_url, redact

__all__ = ["PixelRegion", "ScanError", "ScanResult", "SpellFound", "parse_region", "scan_file", "scan_live"]

log = logging.getLogger(__name__)


class ScanError(Exception):
    """The source cannot be read or a region does not fit it; the message says which."""


@dataclass(frozen=True, slots=True)
class PixelRegion:
    x: int
    y: int
    w: int
    h: int


def parse_region(text: str) -> PixelRegion:
    """``X,Y,W,H`` in pixels (whole numbers, width and height above 0); ValueError in words."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4:
        raise ValueError(f"a region is X,Y,W,H in pixels, e.g. 280,50,90,90 — not {text!r}")
    try:
        x, y, w, h = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"a region is four whole numbers X,Y,W,H (pixels) — not {text!r}") from None
    if x < 0 or y < 0:
        raise ValueError(f"region {text!r}: X and Y must not be negative")
    if w <= 0 or h <= 0:
        raise ValueError(f"region {text!r}: W and H must be above 0")
    return PixelRegion(x, y, w, h)


def _fractions(regions: Sequence[PixelRegion], width: int, height: int) -> list[SeatRegion]:
    out = []
    for i, r in enumerate(regions):
        if r.x + r.w > width or r.y + r.h > height:
            raise ScanError(f"region {i} ({r.x},{r.y},{r.w},{r.h}) is outside the {width}x{height} picture")
        out.append(SeatRegion(str(i), r.x / width, r.y / height, r.w / width, r.h / height))
    return out


@dataclass(frozen=True, slots=True)
class SpellFound:
    region: int
    start_s: float
    end_s: float


@dataclass(slots=True)
class ScanResult:
    width: int = 0
    height: int = 0
    seconds: float = 0.0  # how much of the source was judged (last picture's time)
    judged: int = 0  # pictures judged
    decoded: int = 0  # pictures decoded
    spells: list[SpellFound] = field(default_factory=list)


class _Collector:
    def __init__(self, origin: float = 0.0) -> None:
        self.origin = origin
        self.open: dict[str, float] = {}
        self.spells: list[SpellFound] = []
        self.lock = threading.Lock()

    def __call__(self, e: SeatEvent) -> None:
        with self.lock:
            if e.kind == "empty_started":
                self.open[e.key] = e.at
            else:
                start = self.open.pop(e.key, e.at)
                self.spells.append(SpellFound(int(e.key), start - self.origin, e.at - self.origin))

    def result(self) -> list[SpellFound]:
        with self.lock:
            return sorted(self.spells, key=lambda s: (s.start_s, s.region))


def scan_file(
    path: str | Path,
    regions: Sequence[PixelRegion],
    *,
    fps: float = 1.0,
    min_seconds: float = 60.0,
    progress: Callable[[float], None] | None = None,
) -> ScanResult:
    """Judge a video file's regions at about ``fps`` pictures a second, as fast as it decodes."""
    if fps <= 0:
        raise ScanError(f"--fps must be above 0, not {fps:g}")
    name = Path(path).name
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as e:
        raise ScanError(f"cannot read {name}: {getattr(e, 'strerror', None) or type(e).__name__}") from None
    result = ScanResult()
    collect = _Collector()
    try:
        if not container.streams.video:
            raise ScanError(f"{name} has no video")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = 1
        ctx.thread_type = "SLICE"
        ctx.skip_frame = "NONREF"
        result.width, result.height = ctx.width, ctx.height
        detector = OccupancyDetector(_fractions(regions, ctx.width, ctx.height), min_empty_seconds=min_seconds)
        tb = float(stream.time_base or 0) or 1 / 90000
        period = 1.0 / fps
        origin: float | None = None
        next_due = float("-inf")
        last_key: float | None = None
        keys_only = False
        last_t = 0.0
        w, h = ctx.width, ctx.height
        if w > WORK_WIDTH:
            w, h = WORK_WIDTH, max(2, round(ctx.height * WORK_WIDTH / ctx.width) & ~1)
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                ts = packet.pts if packet.pts is not None else packet.dts
                secs = None if ts is None else ts * tb
                if packet.is_keyframe and secs is not None:
                    if last_key is not None and secs > last_key:
                        keys_only = secs - last_key <= KEYFRAME_ONLY_GOP
                    last_key = secs
                if keys_only and (not packet.is_keyframe or (secs is not None and secs < next_due - 0.1 * period)):
                    continue
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue  # a damaged packet: the next keyframe recovers
                for frame in frames:
                    result.decoded += 1
                    ft = secs if frame.pts is None else frame.pts * tb
                    if ft is None or ft < next_due - 0.1 * period:
                        continue
                    if origin is None:
                        origin = ft
                    next_due = next_due + period if ft - next_due < period else ft + period  # a grid
                    bgr = np.asarray(frame.to_ndarray(format="bgr24", width=w, height=h), dtype=np.uint8)
                    last_t = ft - origin
                    for event in detector.feed(bgr, last_t):
                        collect(event)
                    result.judged += 1
                    if progress is not None and result.judged % 600 == 0:
                        progress(last_t)
        except av.error.FFmpegError as e:
            log.warning("%s: reading stopped: %s", name, e.strerror or type(e).__name__)
        for event in detector.close(last_t):
            collect(event)
        result.seconds = last_t
    finally:
        container.close()
    if result.judged == 0:
        raise ScanError(f"{name}: no picture could be decoded")
    result.spells = collect.result()
    return result


def scan_live(
    url: str,
    regions: Sequence[PixelRegion],
    stop: threading.Event,
    *,
    fps: float = 1.0,
    min_seconds: float = 60.0,
    seconds: float | None = None,
    options: SourceOptions | None = None,
) -> ScanResult:
    """Judge a live camera (or a file at its own pace) until ``stop`` is set or ``seconds`` pass."""
    if fps <= 0:
        raise ScanError(f"--fps must be above 0, not {fps:g}")
    try:
        kind = kind_of(url)
    except ValueError as e:
        raise ScanError(str(e)) from None
    if kind is SourceKind.SYNTHETIC:
        raise ScanError("synthetic:// addresses live in the demo; give a file or a camera URL")
    if kind is SourceKind.FILE and not file_path(url).exists():
        raise ScanError(f"file not found: {file_path(url).name}")
    source = Source(url, options or SourceOptions(), name="seats")
    source.start()
    result = ScanResult()
    consumer: OccupancyConsumer | None = None
    started = time.time()
    collect = _Collector(started)
    deadline = None if seconds is None else time.monotonic() + seconds
    try:
        # the picture's size comes with the first packet: the regions are checked against it
        while consumer is None and not stop.is_set():
            st = source.status()
            if st.info is not None:
                result.width, result.height = st.info.width, st.info.height
                consumer = OccupancyConsumer(source, _fractions(regions, st.info.width, st.info.height), collect,
                                             fps=fps, name="seats-occupancy",
                                             min_empty_seconds=min_seconds)
                consumer.start()
                break
            if st.state in (SourceState.FAILED, SourceState.ENDED):
                raise ScanError(f"{mask_url(url)}: {redact(st.error or st.state.value, url)}")
            if deadline is not None and time.monotonic() >= deadline:
                raise ScanError(f"{mask_url(url)}: no picture within {seconds:g} s")
            stop.wait(0.1)
        while not stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if source.state in (SourceState.ENDED, SourceState.FAILED):
                break
            stop.wait(0.2)
    finally:
        if consumer is not None:
            consumer.stop(5.0)
            status = consumer.status()
            result.judged, result.decoded = status.frames_judged, status.decoded
            if status.last_judged_at is not None:
                result.seconds = status.last_judged_at.timestamp() - started
        source.stop()
    result.spells = collect.result()
    return result
