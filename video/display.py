"""Display decoding: decode a camera only while a tile shows it, at the rate and size the tile needs.

A :class:`DisplayDecoder` is the display's consumer of a :class:`~video.source.Source`. Its own
thread decodes the packets and converts the newest picture to BGRA at the tile's pixel size (swscale,
one scaler per decoder), into a buffer of its own, and publishes it as an immutable :class:`Frame`
in a one-slot "latest frame" mailbox; a published buffer is never written again. The GUI thread
reads the mailbox on its paint timer; nothing queues up between the decoder and the screen, so
latency stays bounded under overload:

- packets the decoder cannot keep up with are dropped by the subscription up to the next keyframe
  (``dropped``);
- pictures decoded but superseded before conversion are not converted (``skipped``).

Packets that come in bursts — a relay or a server sending what it has every 100 ms, a player's
cached GOP at the start — are played at their own pace, not as one picture per burst: each
picture is published when its timestamp says, at the stream's largest recent delay
(:class:`_Pacer`, a jitter buffer of at most :data:`PACE_MAX_HOLD` a picture); a picture whose
successor is already due is skipped as before, so a decoder behind the camera still catches up.

:func:`choose_display` picks the stream (main or sub) and :class:`DisplayMode` from the tile's size
and the number of tiles on screen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import av
import av.error
import av.video.reformatter
import numpy as np
import numpy.typing as npt

from supervision.foreground import give_way
from video.source import MediaPacket, Source, StreamInfo, Subscription

__all__ = [
    "Converter",
    "DisplayChoice",
    "DisplayDecoder",
    "DisplayMode",
    "DisplayStats",
    "Frame",
    "choose_display",
    "fit_size",
    "snap_size",
]

log = logging.getLogger(__name__)

# A tile smaller than this (in device pixels) gets keyframes only when there is no sub-stream; 10 %
# under it still counts (a 4×4 grid of 1280×720 less the gaps between tiles is 318×178).
SMALL_TILE_PIXELS = 320 * 180
SMALL_TILE_TOLERANCE = 0.9
MANY_TILES = 16
# A keyframes-only tile shows about one picture a second: it accepts pictures this late (seconds),
# which lets the source read in batches when nothing else needs every packet at once.
KEYFRAME_LATENCY = 0.2
# A full-rate tile accepts pictures two frames (at 25 fps) late: the source then reads two packets
# per wake-up instead of one. The pacer below plays them out evenly at that constant extra delay,
# and a wall of 16 tiles on 2 cores spends about a sixth less CPU (half the source threads' wake-ups,
# and less waiting for the GIL by everyone): measured by benchmarks.grid_bench.
FULL_RATE_LATENCY = 0.08
# Pacing (full rate): the delay a picture is played at is the largest (arrival - timestamp) of the
# last PACE_WINDOW seconds of packets; a picture is never held longer than PACE_MAX_HOLD, and a
# jump of the delay by more than PACE_RESET (a new stream clock: a reconnect) starts afresh.
PACE_WINDOW = 2.0
PACE_MAX_HOLD = 0.3
PACE_RESET = 1.0


class DisplayMode(StrEnum):
    FULL = "full"  # every frame
    KEYFRAMES = "keyframes"  # one picture per GOP (about 1 fps): a small fraction of the CPU
    OFF = "off"  # not decoding at all


@dataclass(frozen=True, slots=True)
class DisplayChoice:
    stream: Literal["main", "sub"]
    mode: DisplayMode


def choose_display(
    tile_width: int,
    tile_height: int,
    tiles_shown: int,
    *,
    has_sub: bool,
    maximised: bool = False,
    override: DisplayMode | None = None,
) -> DisplayChoice:
    """Which stream a tile shows and how it is decoded.

    A maximised tile shows the main stream at full rate. Otherwise a camera with a sub-stream shows
    it at full rate (it is cheap by design); without one, a small tile or a grid of more than 16
    tiles gets keyframes only. ``override`` (the operator's choice) sets the mode; the stream still
    follows the layout.
    """
    stream: Literal["main", "sub"] = "sub" if has_sub and not maximised else "main"
    if override is not None:
        return DisplayChoice(stream, override)
    if tile_width <= 0 or tile_height <= 0:
        return DisplayChoice(stream, DisplayMode.OFF)
    if maximised or has_sub:
        return DisplayChoice(stream, DisplayMode.FULL)
    if tiles_shown > MANY_TILES or tile_width * tile_height < SMALL_TILE_TOLERANCE * SMALL_TILE_PIXELS:
        return DisplayChoice(stream, DisplayMode.KEYFRAMES)
    return DisplayChoice(stream, DisplayMode.FULL)


def fit_size(width: int, height: int, box_width: int, box_height: int, *, upscale: bool = False) -> tuple[int, int]:
    """The largest even size with ``width:height``'s aspect that fits the box; never larger than the
    source unless ``upscale`` (a tile shows a small stream filling the tile: made at tile size here,
    painted 1:1)."""
    if width <= 0 or height <= 0:
        return max(2, box_width) & ~1, max(2, box_height) & ~1
    scale = min(box_width / width, box_height / height)
    if not upscale:
        scale = min(scale, 1.0)
    return max(2, int(width * scale) & ~1), max(2, int(height * scale) & ~1)


# swscale converts at an exact 1:1 or 1:2 (1:4) scale in about two thirds of the time of any
# other ratio (640×360 → 320×180: 118 µs; → 316×178: 184 µs, measured here). A tile within this
# fraction of such a size gets it; the painter crops or letterboxes the difference (a pixel or two).
SNAP_FRACTION = 0.025


def snap_size(width: int, height: int, fitted: tuple[int, int]) -> tuple[int, int]:
    """``fitted`` moved to ``width × height`` divided by 1, 2 or 4 when that is within
    :data:`SNAP_FRACTION` of it (and even), else ``fitted`` unchanged."""
    fw, fh = fitted
    for div in (1, 2, 4):
        w, h = width // div, height // div
        if w * div != width or h * div != height or w % 2 or h % 2:
            continue
        if abs(w - fw) <= SNAP_FRACTION * fw and abs(h - fh) <= SNAP_FRACTION * fh:
            return w, h
    return fitted


@dataclass(frozen=True, slots=True, eq=False)  # equal only to itself: comparing pixel arrays is no answer
class Frame:
    """A picture ready to paint. Immutable for real: its buffer is made for this frame alone and
    nothing ever writes it again, so a painter may wrap it (a ``QImage``) for as long as it holds
    the frame.

    ``rows`` is the whole buffer, ``height`` rows of ``bytes_per_line`` bytes (swscale pads a row to
    its SIMD alignment); ``pixels`` is the picture in it, ``height × width × 4``, BGRA byte order —
    ``QImage.Format_RGB32`` on a little-endian machine (alpha is 255).
    """

    rows: npt.NDArray[np.uint8]  # height × bytes_per_line, read-only, C-contiguous
    pixels: npt.NDArray[np.uint8]  # height × width × 4 (B, G, R, A), a read-only view into rows
    pts: float | None  # seconds on the stream's clock
    wall: float  # time.time() when its packet arrived from the camera
    capture: float  # time.time() at which the camera took it (estimated from its timestamp)
    decoded: float  # time.time() when it was ready
    keyframe: bool
    number: int  # counts up per published frame, so a painter can tell a new one

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def bytes_per_line(self) -> int:
        return int(self.rows.shape[1])


@dataclass(frozen=True, slots=True)
class DisplayStats:
    mode: DisplayMode
    decoded: int  # pictures decoded
    published: int  # pictures converted and published
    skipped: int  # decoded but superseded before conversion
    dropped: int  # packets the subscription dropped because the decoder fell behind
    errors: int  # packets the decoder rejected
    last_error: str | None


_FULL_RANGE = av.video.reformatter.ColorRange.JPEG
_LIMITED_RANGE = av.video.reformatter.ColorRange.MPEG


class Converter:
    """YUV → RGB at tile size with swscale (PyAV's ``VideoReformatter``), one per stream.

    The reformatter keeps its scaler context between calls (``frame.reformat()`` would build a new
    one every time) and scales and converts in one pass on the calling thread. Every call returns
    a new buffer — the output frame swscale writes into is allocated for that call and never
    reused — so a published picture is immutable: nothing writes it again, whoever still holds it.
    Full-range ("JPEG", ``yuvj420p``) pictures keep their levels: the source's range is passed on.

    ``pixel_format``: ``"bgra"`` (the display: ``QImage.Format_RGB32``) or ``"rgb24"``.
    """

    def __init__(self, pixel_format: Literal["bgra", "rgb24"] = "rgb24") -> None:
        self.pixel_format = pixel_format
        self._channels = 4 if pixel_format == "bgra" else 3
        self._reformatter = av.video.reformatter.VideoReformatter()

    def convert(self, frame: av.VideoFrame, width: int, height: int) -> npt.NDArray[np.uint8]:
        """The picture at ``width × height``: ``height × width × channels``, read-only."""
        pixels = self.convert_rows(frame, width, height)[1]
        if self._channels == 3 and not pixels.flags.c_contiguous:
            pixels = np.ascontiguousarray(pixels)  # RGB users (the archive) index a packed array
            pixels.flags.writeable = False
        return pixels

    def convert_rows(
        self, frame: av.VideoFrame, width: int, height: int
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8]]:
        """The converted buffer as ``(rows, pixels)``: ``height × bytes_per_line`` and the
        ``height × width × channels`` view into it; both read-only, never written again."""
        full = frame.format.name.startswith("yuvj") or frame.color_range == _FULL_RANGE
        out = self._reformatter.reformat(
            frame,
            width=width,
            height=height,
            format=self.pixel_format,
            interpolation="BILINEAR",
            src_color_range=_FULL_RANGE if full else _LIMITED_RANGE,
            dst_color_range=_FULL_RANGE,
            threads=1,  # each display decoder has its own thread already
        )
        plane = out.planes[0]
        # The array holds the plane, which holds the frame and its buffer: alive as long as it is.
        rows = np.frombuffer(memoryview(plane), np.uint8)[: height * plane.line_size].reshape(height, plane.line_size)
        if out is frame:  # "nothing to do" hands back the caller's own frame: publish a copy
            rows = rows.copy()
        rows.flags.writeable = False
        pixels = rows[:, : width * self._channels].reshape(height, width, self._channels)
        return rows, pixels


class _Pacer:
    """When each picture of a stream is due on the wall clock: its timestamp plus the largest delay
    (arrival - timestamp) of the last :data:`PACE_WINDOW` seconds, so a burst is spread out again
    over the time it was captured in. The first picture is due on arrival."""

    def __init__(self) -> None:
        # (arrival, arrival - timestamp), the delays decreasing from the front: the front is the
        # window's largest (a delay that a later, larger one outlasts can never be the largest again)
        self._delays: deque[tuple[float, float]] = deque()

    def due(self, arrival: float, seconds: float | None) -> float | None:
        if seconds is None:
            return None
        delay = arrival - seconds
        delays = self._delays
        if delays and abs(delay - delays[0][1]) > PACE_RESET:
            delays.clear()
        while delays and delays[-1][1] <= delay:
            delays.pop()
        delays.append((arrival, delay))
        while delays[0][0] < arrival - PACE_WINDOW:
            delays.popleft()
        return seconds + delays[0][1]


class DisplayDecoder:
    """Decodes one source for one tile. Thread-safe setters; ``latest()`` is cheap for the GUI thread."""

    def __init__(
        self,
        source: Source,
        *,
        width: int,
        height: int,
        mode: DisplayMode = DisplayMode.FULL,
        queue_size: int = 50,
        name: str = "display",
    ) -> None:
        self.source = source
        self.name = name
        self._queue_size = queue_size
        self._box = (width, height)
        self._mode = mode
        self._lock = threading.Lock()
        self._latest: Frame | None = None
        self._number = 0
        self._sub: Subscription | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoded = self._published = self._skipped = self._errors = self._dropped_before = 0
        self._last_error: str | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._resubscribe()
        # Not a daemon: stop() joins it (it never blocks on anything stop() does not wake).
        self._thread = threading.Thread(target=self._run, name=f"hallwatch-{self.name}")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            sub, self._sub = self._sub, None
        if sub is not None:
            self._dropped_before += sub.dropped
            sub.close()
        if self._thread is not None:
            # Closing the subscription wakes its get(); what is left is one batch of decoding.
            self._thread.join()
            self._thread = None

    def __enter__(self) -> DisplayDecoder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def mode(self) -> DisplayMode:
        return self._mode

    def set_mode(self, mode: DisplayMode) -> None:
        """Switch between full rate, keyframes only and off, without a new connection."""
        with self._lock:
            if mode is self._mode:
                return
            self._mode = mode
        if self._thread is not None:
            self._resubscribe()
        self._wake.set()

    def set_size(self, width: int, height: int) -> None:
        """The tile's new size in device pixels; the next picture is converted to fit it."""
        with self._lock:
            self._box = (width, height)

    def latest(self) -> Frame | None:
        """The newest picture (or None before the first)."""
        return self._latest

    def stats(self) -> DisplayStats:
        with self._lock:
            sub = self._sub
        return DisplayStats(
            mode=self._mode,
            decoded=self._decoded,
            published=self._published,
            skipped=self._skipped,
            dropped=self._dropped_before + (sub.dropped if sub is not None else 0),
            errors=self._errors,
            last_error=self._last_error,
        )

    def _resubscribe(self) -> None:
        with self._lock:
            mode = self._mode
            old = self._sub
            if old is not None and mode is DisplayMode.KEYFRAMES:
                old.keyframes_only = True
                old.latency = KEYFRAME_LATENCY
                return
            # To full rate: a new subscription starts on the source's cached GOP at once,
            # rather than waiting up to a GOP for the next keyframe.
            self._sub = None
        if old is not None:
            self._dropped_before += old.dropped
            old.close()
        if mode is not DisplayMode.OFF:
            sub = self.source.subscribe(
                f"{self.name}", maxsize=self._queue_size, keyframes_only=mode is DisplayMode.KEYFRAMES,
                latency=KEYFRAME_LATENCY if mode is DisplayMode.KEYFRAMES else FULL_RATE_LATENCY,
            )
            with self._lock:
                self._sub = sub

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        codec: av.VideoCodecContext | None = None
        info: StreamInfo | None = None
        converter = Converter("bgra")  # one per decoder: its scaler context is kept
        pacer = _Pacer()
        while not self._stop.is_set():
            with self._lock:
                sub = self._sub
            if sub is None:
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            packet = sub.get()  # no timeout (no timer to wake for); stop() and mode changes close it
            if packet is None:
                continue
            # Decode everything that is waiting; convert a picture when it is due, unless the next one
            # is due already (then it is superseded: skipped).
            batch = [packet, *sub.drain()]
            pictures: list[tuple[av.VideoFrame, MediaPacket, float | None]] = []
            keyframes = sub.keyframes_only
            for p in batch:
                give_way()  # a packet at a time: the GUI thread painting the wall goes first (bounded)
                if codec is None or info is not p.info:
                    if info is not None and codec is not None and (info.codec, info.extradata) == (
                        p.info.codec,
                        p.info.extradata,
                    ):
                        info = p.info  # a reconnect with the same stream: keep the decoder
                    else:
                        codec, info = self._decoder_for(p.info), p.info
                for frame in self._decode(codec, p, keyframes=keyframes):
                    self._decoded += 1
                    # keyframes only: one picture a GOP, shown as it comes
                    pictures.append((frame, p, None if keyframes else pacer.due(p.wall, p.seconds)))
            for i, (frame, p, due) in enumerate(pictures):
                now = time.time()
                # the mode changed meanwhile (keyframes only, off): the rest of a full-rate batch is not shown
                changed = sub.keyframes_only is not keyframes or self._sub is not sub
                if changed and not keyframes and not p.keyframe:
                    self._skipped += 1
                    continue
                if i + 1 < len(pictures):
                    following = pictures[i + 1][2]
                    if following is None or following <= now:
                        self._skipped += 1
                        continue
                if (due is not None and due > now and not changed
                        and self._stop.wait(min(due - now, PACE_MAX_HOLD))):
                    break
                self._publish(frame, p, converter)

    def _decoder_for(self, info: StreamInfo) -> av.VideoCodecContext:
        ctx = av.CodecContext.create(info.codec, "r")
        assert isinstance(ctx, av.VideoCodecContext)
        if info.extradata:
            ctx.extradata = info.extradata
        # One thread per decoder: a wall of tiles already keeps every core busy, and frame
        # threading would add a frame of latency per thread.
        ctx.thread_count = 1
        ctx.thread_type = "SLICE"
        return ctx

    def _decode(self, codec: av.VideoCodecContext, packet: MediaPacket, *, keyframes: bool) -> list[av.VideoFrame]:
        try:
            frames = codec.decode(packet.to_av())
            if keyframes and not frames:
                # A decoder with reordering delay holds the picture until the next packet, a
                # second away in this mode: drain it now and start clean for the next keyframe.
                frames = codec.decode(None)
                codec.flush_buffers()
            return frames
        except av.error.FFmpegError as e:
            self._errors += 1
            self._last_error = f"decoding failed: {e.strerror or type(e).__name__}"
            log.debug("%s: %s", self.source.masked_url, self._last_error)
            return []

    def _publish(self, frame: av.VideoFrame, packet: MediaPacket, converter: Converter) -> None:
        with self._lock:
            box = self._box
        width, height = snap_size(frame.width, frame.height, fit_size(frame.width, frame.height, *box, upscale=True))
        rows, pixels = converter.convert_rows(frame, width, height)
        self._number += 1
        self._latest = Frame(
            rows=rows,
            pixels=pixels,
            pts=packet.seconds,
            wall=packet.wall,
            capture=packet.capture,
            decoded=time.time(),
            keyframe=packet.keyframe,
            number=self._number,
        )
        self._published += 1
