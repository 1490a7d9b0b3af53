"""Synthetic live cameras for the demo, the tests and the benchmarks.

A :class:`SceneRenderer` draws a service-hall window (wall, floor, counter, the staff seat, citizens
passing by, the window label and the wall clock burnt in); a :class:`SyntheticEncoder` turns the
frames into H.264/HEVC in MPEG-TS chunks; :func:`write_file` writes a file with the same pictures and
encoder settings; :class:`SyntheticCameraServer` serves live MPEG-TS over HTTP on 127.0.0.1, so the
synthetic cameras travel the same code path (FFmpeg's HTTP client and MPEG-TS demuxer) as real ones.

Scene time ``t`` is in seconds. The server and :func:`write_file` pass the POSIX timestamp of the
burnt-in wall clock, so the ground truth for a frame showing wall time ``w`` is
``SceneRenderer(...).staff_present(w.timestamp())``.

Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypedDict
from urllib.parse import quote, unquote, urlsplit

import av
import av.container
import cv2
import numpy as np
import numpy.typing as npt
from av.video.stream import VideoStream

__all__ = [
    "CameraSpec",
    "CameraStats",
    "SceneRenderer",
    "SyntheticCameraServer",
    "SyntheticEncoder",
    "TsChunk",
    "write_file",
]

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]

STAFF_BLOCK_S: Final = 300.0
"""Every block of this many seconds of scene time holds exactly one staff absence of 20-90 s."""

_MASK64: Final = (1 << 64) - 1


def _mix(*values: int) -> int:
    """A deterministic 64-bit hash of integers (splitmix64 steps), stable across runs and platforms."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK64)) & _MASK64
        h = (h + 0x9E3779B97F4A7C15) & _MASK64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
        h ^= h >> 31
    return h


def _unit(*values: int) -> float:
    """A deterministic number in [0, 1) from integers."""
    return (_mix(*values) >> 11) / float(1 << 53)


# --------------------------------------------------------------------------------------------- scene


class SceneRenderer:
    """Draws one service window of the hall as RGB frames; deterministic from ``seed`` and ``t``.

    The static background (wall, floor tiles, counter, empty chair, window label) is drawn once; a
    frame is that background plus light sensor noise (a window into a precomputed noise field, so
    the encoder sees a real camera's bitrate), the staff member when present, the citizens walking
    by and the clock. A 640×360 frame takes well under 2 ms.
    """

    _NOISE_PHASES: Final = 11
    _NOISE_LEVEL: Final = 10  # peak-to-peak grey levels of the sensor noise

    def __init__(self, label: str, width: int = 640, height: int = 360, seed: int = 0) -> None:
        if width < 64 or height < 36:
            raise ValueError(f"frame too small: {width}x{height}")
        self.label = label
        self.width = width
        self.height = height
        self.seed = seed
        self._s = min(width / 640.0, height / 360.0)  # drawing scale relative to the 640x360 design
        self._floor_y = int(height * 0.56)
        self._counter_top = int(height * 0.55)
        self._counter_bottom = int(height * 0.72)
        self._seat_x = int(width * 0.55)
        self._background = self._draw_background()
        self._noise, self._noise_step = self._make_noise()
        self._staff_cache: tuple[int, float, float] = (-1, 0.0, 0.0)

    # ---------------------------------------------------------------------------- ground truth

    def staff_away_interval(self, block: int) -> tuple[float, float]:
        """The staff absence ``[start, end)`` (scene seconds) inside block ``block`` of 300 s."""
        cached_block, start, end = self._staff_cache
        if cached_block == block:
            return start, end
        length = 20.0 + 70.0 * _unit(self.seed, block, 1)
        offset = (STAFF_BLOCK_S - length) * _unit(self.seed, block, 2)
        start = block * STAFF_BLOCK_S + offset
        end = start + length
        self._staff_cache = (block, start, end)
        return start, end

    def staff_away_intervals(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """All staff absences ``[start, end)`` that overlap scene time ``[t0, t1)``."""
        out = []
        block = int(t0 // STAFF_BLOCK_S)
        while block * STAFF_BLOCK_S < t1:
            start, end = self.staff_away_interval(block)
            if end > t0 and start < t1:
                out.append((start, end))
            block += 1
        return out

    def staff_present(self, t: float) -> bool:
        """Whether the staff member sits at the window at scene time ``t`` (the seat-occupancy truth).

        Every 300 s block of scene time holds one absence of 20-90 s, so the seat is occupied
        70-93 % of the time and any 10 minutes hold at least one absence.
        """
        start, end = self.staff_away_interval(int(t // STAFF_BLOCK_S))
        return not (start <= t < end)

    # ------------------------------------------------------------------------------- rendering

    def render(self, t: float, wall: datetime) -> Image:
        """The frame at scene time ``t`` with ``wall`` burnt in; H×W×3 uint8, RGB, a fresh array."""
        n = len(self._background.reshape(-1))
        k = _mix(self.seed, round(t * 1000.0)) % self._NOISE_PHASES
        off = k * self._noise_step
        noise = self._noise[off : off + n].reshape(self.height, self.width, 3)
        frame: Image = np.add(self._background, noise)  # the background leaves head-room: no overflow
        if self.staff_present(t):
            self._draw_staff(frame, t)
        self._draw_citizens(frame, t)
        self._draw_clock(frame, wall)
        return frame

    def _px(self, v: float) -> int:
        return max(1, round(v * self._s))

    def _make_noise(self) -> tuple[Image, int]:
        """A grey noise field; frame phase k reads it from offset ``k * step`` (a long diagonal shift)."""
        w, h = self.width, self.height
        step = (h // 7) * w + w // 5 + 1  # far outside any motion search range
        rng = np.random.default_rng(_mix(self.seed, 0x4E015E) & 0xFFFFFFFF)
        grey = rng.integers(0, self._NOISE_LEVEL + 1, size=w * h + self._NOISE_PHASES * step, dtype=np.uint8)
        return np.repeat(grey, 3), step * 3

    def _draw_background(self) -> Image:
        w, h = self.width, self.height
        rng = np.random.default_rng(_mix(self.seed, 0xBAC6) & 0xFFFFFFFF)
        img = np.empty((h, w, 3), np.uint8)
        fy = self._floor_y
        # wall: warm beige with a vertical gradient and panel seams
        grad = np.linspace(196, 170, fy, dtype=np.float32)[:, None, None]
        img[:fy] = (grad * np.array([1.0, 0.95, 0.84], np.float32)).astype(np.uint8)
        panel = max(8, w // 8)
        for x in range(panel, w, panel):
            cv2.line(img, (x, 0), (x, fy - 1), (150, 142, 128), self._px(1))
        cv2.rectangle(img, (0, fy - self._px(6)), (w, fy), (120, 112, 100), -1)  # skirting board
        # floor: grey tiles, each with its own shade, darker grout lines
        tile = max(8, w // 16)
        for row, y in enumerate(range(fy, h, tile // 2)):
            shift = (row % 2) * tile // 2
            for x in range(-shift, w, tile):
                g = int(118 + rng.integers(-14, 15))
                cv2.rectangle(img, (x, y), (x + tile - 1, y + tile // 2 - 1), (g, g, g + 4), -1)
                cv2.rectangle(img, (x, y), (x + tile - 1, y + tile // 2 - 1), (88, 88, 92), 1)
        # wall sign above the window and a queue display
        sx0, sx1 = int(w * 0.58), int(w * 0.96)
        sy0, sy1 = int(h * 0.05), int(h * 0.16)
        cv2.rectangle(img, (sx0, sy0), (sx1, sy1), (30, 70, 150), -1)
        cv2.rectangle(img, (sx0, sy0), (sx1, sy1), (230, 230, 230), self._px(2))
        text = f"WINDOW {self.label}"
        scale = 0.8 * self._s
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, self._px(2))
        cv2.putText(
            img,
            text,
            ((sx0 + sx1 - tw) // 2, (sy0 + sy1 + th) // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            self._px(2),
            cv2.LINE_AA,
        )
        # the empty office chair behind the counter
        cx = self._seat_x
        cv2.rectangle(
            img,
            (cx - self._px(26), self._counter_top - self._px(70)),
            (cx + self._px(26), self._counter_top),
            (40, 50, 70),
            -1,
        )
        cv2.rectangle(
            img,
            (cx - self._px(26), self._counter_top - self._px(70)),
            (cx + self._px(26), self._counter_top),
            (20, 25, 35),
            self._px(2),
        )
        # the counter: worktop, front panel with wood grain, a monitor and a name plate
        x0, x1 = int(w * 0.18), int(w * 0.92)
        top, bottom = self._counter_top, self._counter_bottom
        cv2.rectangle(img, (x0, top), (x1, bottom), (150, 104, 62), -1)
        for i, y in enumerate(range(top + self._px(8), bottom, self._px(5))):
            c = 130 + (i * 37) % 30
            cv2.line(img, (x0, y), (x1, y), (c, int(c * 0.7), int(c * 0.42)), 1)
        cv2.rectangle(img, (x0 - self._px(6), top - self._px(6)), (x1 + self._px(6), top), (210, 200, 185), -1)
        cv2.rectangle(img, (x0, top), (x1, bottom), (80, 55, 30), self._px(2))
        mx = cx + self._px(60)
        cv2.rectangle(img, (mx, top - self._px(46)), (mx + self._px(56), top - self._px(12)), (25, 25, 30), -1)
        cv2.rectangle(
            img, (mx + self._px(4), top - self._px(42)), (mx + self._px(52), top - self._px(16)), (60, 90, 120), -1
        )
        cv2.rectangle(
            img, (mx + self._px(24), top - self._px(12)), (mx + self._px(32), top - self._px(6)), (25, 25, 30), -1
        )
        cv2.rectangle(
            img, (cx - self._px(30), top + self._px(10)), (cx + self._px(30), top + self._px(26)), (240, 240, 235), -1
        )
        cv2.putText(
            img,
            self.label,
            (cx - self._px(16), top + self._px(23)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45 * self._s,
            (20, 20, 20),
            self._px(1),
            cv2.LINE_AA,
        )
        # the window label, large, bottom right (like a camera's name overlay)
        self._draw_text_box(img, self.label, (w - self._px(8), h - self._px(8)), 1.1 * self._s, right=True)
        # head-room for the noise: the brightest value plus the noise stays within uint8
        np.minimum(img, 255 - self._NOISE_LEVEL, out=img)
        return img

    def _draw_text_box(self, img: Image, text: str, anchor: tuple[int, int], scale: float, *, right: bool) -> None:
        """White text with a black outline on a dark box; ``anchor`` is the box's bottom-left (or -right)."""
        thick = self._px(2)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        pad = self._px(5)
        x = anchor[0] - tw - 2 * pad if right else anchor[0]
        y = anchor[1]
        cv2.rectangle(img, (x, y - th - base - 2 * pad), (x + tw + 2 * pad, y), (16, 16, 16), -1)
        org = (x + pad, y - pad - base // 2)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)

    def _draw_clock(self, img: Image, wall: datetime) -> None:
        text = wall.strftime("%Y-%m-%d %H:%M:%S") + f".{wall.microsecond // 1000:03d}"
        self._draw_text_box(img, text, (self._px(8), self._px(40)), 0.85 * self._s, right=False)

    def _draw_staff(self, img: Image, t: float) -> None:
        """The staff member seated behind the counter: head and shoulders above the worktop, swaying."""
        sway = 3.0 * np.sin(t * 0.7 + self.seed)
        cx = self._seat_x + round(sway * self._s)
        top = self._counter_top - self._px(6)
        head_y = top - self._px(62)
        cv2.ellipse(
            img,
            (cx, top),
            (self._px(34), self._px(50)),
            0,
            180,
            360,
            (28, 60, 120),  # dark blue uniform
            -1,
        )
        cv2.rectangle(
            img, (cx - self._px(5), head_y + self._px(10)), (cx + self._px(5), top - self._px(44)), (224, 186, 150), -1
        )
        cv2.line(img, (cx, top - self._px(44)), (cx, top), (230, 230, 230), self._px(3))  # shirt collar
        cv2.circle(img, (cx, head_y), self._px(16), (224, 186, 150), -1)
        cv2.ellipse(img, (cx, head_y - self._px(4)), (self._px(17), self._px(14)), 0, 180, 360, (30, 24, 20), -1)

    def _citizen(self, slot: int, t: float) -> tuple[float, float, RGB] | None:
        """Where citizen ``slot`` is at ``t``: (x, foot-y) in pixels and shirt colour, or None if away."""
        w = self.width
        period = 25.0 + 11.0 * slot + 10.0 * _unit(self.seed, slot, 7)
        phase = period * _unit(self.seed, slot, 8)
        cycle, into = divmod(t + phase, period)
        c = int(cycle)
        speed = w * (0.10 + 0.08 * _unit(self.seed, slot, c, 1))  # pixels per second: 5-10 s to cross
        visits = _unit(self.seed, slot, c, 2) < 0.6
        dwell = 4.0 + 14.0 * _unit(self.seed, slot, c, 3) if visits else 0.0
        left_to_right = _unit(self.seed, slot, c, 4) < 0.5
        margin = self._px(30)
        x_start, x_end = -float(margin), float(w + margin)
        # at the window, but beside the seat: the staff member stays visible while serving
        side = 1.0 if _unit(self.seed, slot, c, 5) < 0.5 else -1.0
        stop_x = self._seat_x + side * w * (0.13 + 0.06 * _unit(self.seed, slot, c, 10))
        if not left_to_right:
            x_start, x_end = x_end, x_start
        d1 = abs(stop_x - x_start) if visits else 0.0
        d_total = abs(x_end - x_start)
        walk1 = d1 / speed
        total = d_total / speed + dwell
        if into >= total:
            return None
        sign = 1.0 if left_to_right else -1.0
        if into < walk1:
            x = x_start + sign * speed * into
        elif into < walk1 + dwell:
            x = stop_x
        else:
            x = x_start + sign * (d1 + speed * (into - walk1 - dwell))
        depth = _unit(self.seed, slot, c, 6)
        foot_y = self.height * (0.88 + 0.09 * depth) if not visits else self.height * 0.86
        u = _mix(self.seed, slot, c, 9)
        colour = (int(40 + u % 200), int(40 + (u >> 8) % 200), int(40 + (u >> 16) % 200))
        return x, foot_y, colour

    def _draw_citizens(self, img: Image, t: float) -> None:
        people = [p for slot in range(4) if (p := self._citizen(slot, t)) is not None]
        people.sort(key=lambda p: p[1])  # the farther first
        for x, foot_y, colour in people:
            self._draw_person(img, x, foot_y, colour, t)

    def _draw_person(self, img: Image, x: float, foot_y: float, colour: RGB, t: float) -> None:
        s = self._s * (0.9 + 0.4 * (foot_y / self.height - 0.85))
        cx, fy = round(x), round(foot_y)

        def p(v: float) -> int:
            return max(1, round(v * s))

        hip = fy - p(62)
        shoulder = hip - p(62)
        step = round(np.sin(t * 6.0 + x * 0.05) * p(10))
        dark = (40, 40, 48)
        cv2.line(img, (cx, hip), (cx - step, fy), dark, p(9))
        cv2.line(img, (cx, hip), (cx + step, fy), dark, p(9))
        cv2.rectangle(img, (cx - p(19), shoulder), (cx + p(19), hip + p(4)), colour, -1)
        cv2.line(img, (cx - p(19), shoulder + p(4)), (cx - p(22) - step // 2, hip), colour, p(7))
        cv2.line(img, (cx + p(19), shoulder + p(4)), (cx + p(22) + step // 2, hip), colour, p(7))
        cv2.circle(img, (cx, shoulder - p(17)), p(16), (214, 172, 136), -1)
        cv2.ellipse(img, (cx, shoulder - p(21)), (p(17), p(13)), 0, 180, 360, (25, 20, 18), -1)


# ------------------------------------------------------------------------------------------- encoder


@dataclass(frozen=True, slots=True)
class TsChunk:
    """The MPEG-TS bytes of one encoded frame (whole 188-byte packets).

    A keyframe chunk starts with PAT/PMT and the IDR picture carries SPS/PPS (VPS for HEVC), so a
    client that starts reading at it decodes at once.
    """

    data: bytes
    keyframe: bool
    pts: int  # frame index (time base 1/fps)


class _Sink(io.RawIOBase):
    """A write-only in-memory file PyAV writes into; drained after each frame."""

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self._buf += b
        return len(b)

    def drain(self) -> bytes:
        data = bytes(self._buf)
        self._buf.clear()
        return data


_HEVC_NAMES: Final = frozenset({"hevc", "h265", "libx265"})
_H264_NAMES: Final = frozenset({"h264", "avc", "libx264"})


def _encoder_name(codec: str) -> str:
    name = codec.lower()
    if name in _H264_NAMES:
        return "libx264"
    if name in _HEVC_NAMES:
        return "libx265"
    raise ValueError(f"unsupported codec {codec!r} (h264 or hevc/h265)")


def _add_video_stream(
    container: av.container.OutputContainer,
    *,
    codec: str,
    width: int,
    height: int,
    fps: int,
    gop: int,
    bitrate: int,
    preset: str,
    threads: int,
) -> VideoStream:
    """A live-camera-like video stream: CBR-ish, keyframe every ``gop`` frames, no B-frames."""
    if width % 2 or height % 2:
        raise ValueError(f"width and height must be even: {width}x{height}")
    encoder = _encoder_name(codec)
    kbit = max(1, bitrate // 1000)
    params = {
        "keyint": str(gop),
        "min-keyint": str(gop),
        "scenecut": "0",
        "bframes": "0",
        "repeat-headers": "1",
        "vbv-maxrate": str(kbit * 3 // 2),
        "vbv-bufsize": str(kbit),
    }
    options = {"preset": preset, "tune": "zerolatency"}
    if encoder == "libx264":
        options["x264-params"] = ":".join(f"{k}={v}" for k, v in params.items())
    else:
        params["log-level"] = "error"
        params["pools"] = str(threads)
        params["frame-threads"] = str(threads)
        options["x265-params"] = ":".join(f"{k}={v}" for k, v in params.items())
    stream = container.add_stream(encoder, rate=fps)
    if not isinstance(stream, VideoStream):  # pragma: no cover - libx264/libx265 are video encoders
        raise TypeError(f"{encoder} did not give a video stream")
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    cc = stream.codec_context
    cc.time_base = Fraction(1, fps)
    cc.framerate = Fraction(fps, 1)
    cc.gop_size = gop
    cc.max_b_frames = 0
    cc.bit_rate = bitrate
    cc.thread_count = threads
    cc.options = options
    return stream


def _to_frame(rgb: Image, width: int, height: int, pts: int, fps: int) -> av.VideoFrame:
    if rgb.shape != (height, width, 3) or rgb.dtype != np.uint8:
        raise ValueError(f"expected a {height}x{width}x3 uint8 RGB frame, got {rgb.shape} {rgb.dtype}")
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)  # faster than swscale for this size
    frame = av.VideoFrame.from_ndarray(np.asarray(yuv, dtype=np.uint8), format="yuv420p")
    frame.pts = pts
    frame.time_base = Fraction(1, fps)
    return frame


class SyntheticEncoder:
    """Encodes RGB frames with libx264 (or libx265) into live MPEG-TS, one chunk per frame.

    Settings are a live camera's: ``tune=zerolatency`` (one frame in, one packet out), no B-frames
    (pts == dts), a keyframe every ``gop`` frames (default: one per second), SPS/PPS repeated on every
    keyframe, bitrate capped by a VBV of 1.5 × ``bitrate``. The MPEG-TS muxer writes PAT/PMT before
    every keyframe, so a client joining at a keyframe chunk needs nothing else.
    """

    def __init__(
        self,
        width: int,
        height: int,
        fps: int = 25,
        codec: str = "h264",
        gop: int | None = None,
        bitrate: int = 1_000_000,
        *,
        preset: str = "ultrafast",
        threads: int = 1,
    ) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self.codec = "hevc" if codec.lower() in _HEVC_NAMES else "h264"
        self.gop = gop if gop is not None else fps
        self.bitrate = bitrate
        self._next_pts = 0
        self._sink = _Sink()
        self._container = av.open(self._sink, "w", format="mpegts", options={"flush_packets": "1"})
        try:
            self._stream = _add_video_stream(
                self._container,
                codec=codec,
                width=width,
                height=height,
                fps=fps,
                gop=self.gop,
                bitrate=bitrate,
                preset=preset,
                threads=threads,
            )
        except BaseException:
            self._container.close()
            raise
        self._closed = False

    def encode(self, rgb: Image, pts: int | None = None) -> list[TsChunk]:
        """Encode one frame; ``pts`` (frame index, 1/fps) defaults to the one after the last frame."""
        if self._closed:
            raise RuntimeError("encoder is closed")
        if pts is None:
            pts = self._next_pts
        elif pts < self._next_pts:
            raise ValueError(f"pts {pts} not after the previous frame's ({self._next_pts - 1})")
        self._next_pts = pts + 1
        frame = _to_frame(rgb, self.width, self.height, pts, self.fps)
        return self._mux(self._stream.encode(frame))

    def close(self) -> list[TsChunk]:
        """Flush the encoder and the muxer; returns the last chunks (none with zerolatency)."""
        if self._closed:
            return []
        self._closed = True
        try:
            out = self._mux(self._stream.encode(None))
        finally:
            self._container.close()
        tail = self._sink.drain()
        if tail:
            out.append(TsChunk(tail, False, self._next_pts))
        return out

    def _mux(self, packets: list[av.Packet[VideoStream]]) -> list[TsChunk]:
        out = []
        for packet in packets:
            self._container.mux(packet)
            data = self._sink.drain()
            if data:
                pts = round(packet.pts * packet.time_base * self.fps) if packet.pts is not None else 0
                out.append(TsChunk(data, packet.is_keyframe, pts))
        return out

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_FORMATS: Final = {".ts": "mpegts", ".m2ts": "mpegts", ".mp4": "mp4", ".mkv": "matroska"}


def write_file(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    label: str = "A01",
    width: int = 640,
    height: int = 360,
    fps: int = 25,
    codec: str = "h264",
    start: datetime | None = None,
    seed: int = 0,
    bitrate: int = 1_000_000,
    preset: str = "ultrafast",
) -> None:
    """Write ``seconds`` of the synthetic camera to ``path`` (.ts MPEG-TS, .mp4 with faststart, .mkv).

    Same pictures and encoder settings as the live cameras. The burnt-in clock shows ``start``
    (default: now, local time) as given and advances exactly 1/fps per frame; scene time is the
    clock's POSIX timestamp, so ``SceneRenderer(label, width, height, seed).staff_present(
    (start + i / fps).timestamp())`` is the ground truth for frame ``i``.
    """
    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"unsupported container {target.suffix!r} (.ts, .mp4, .mkv)")
    if start is None:
        start = datetime.now().astimezone()
    frames = round(seconds * fps)
    renderer = SceneRenderer(label, width, height, seed)
    options = {"movflags": "+faststart"} if fmt == "mp4" else {}
    with av.open(str(target), "w", format=fmt, options=options) as container:
        stream = _add_video_stream(
            container,
            codec=codec,
            width=width,
            height=height,
            fps=fps,
            gop=fps,
            bitrate=bitrate,
            preset=preset,
            threads=1,
        )
        for i in range(frames):
            wall = start + timedelta(microseconds=round(i * 1_000_000 / fps))
            rgb = renderer.render(wall.timestamp(), wall)
            container.mux(stream.encode(_to_frame(rgb, width, height, i, fps)))
        container.mux(stream.encode(None))
    log.debug("wrote %s: %d frames %dx%d@%d %s", target, frames, width, height, fps, codec)


# -------------------------------------------------------------------------------------------- server


@dataclass(frozen=True, slots=True)
class CameraSpec:
    """One synthetic camera served by :class:`SyntheticCameraServer`."""

    label: str
    width: int = 640
    height: int = 360
    fps: int = 25
    codec: str = "h264"
    seed: int = 0


class CameraStats(TypedDict):
    frames_encoded: int
    bytes_encoded: int
    clients: int
    dropped_chunks: int
    encoding: bool
    frozen: bool


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
    ) -> None:
        self.id = camera_id
        self.spec = spec
        self._clock = clock
        self._stopping = stopping
        self._queue_size = queue_size
        self._bitrate = bitrate
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
                thread = threading.Thread(target=self._run, name=f"synthetic-camera[{self.id}]", daemon=True)
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
        try:
            if self._renderer is None:
                self._renderer = SceneRenderer(spec.label, spec.width, spec.height, spec.seed)
            renderer = self._renderer
            encoder = SyntheticEncoder(spec.width, spec.height, spec.fps, spec.codec, bitrate=self._bitrate)
        except Exception:
            log.exception("camera %s: cannot start the encoder", self.id)
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None
                for c in self._clients:
                    c.close()
            return
        log.info("camera %s: encoding %dx%d@%d %s", self.id, spec.width, spec.height, spec.fps, spec.codec)
        period = 1.0 / spec.fps
        t0 = time.monotonic()
        slot = 0
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
                wall = self._clock()
                chunks = encoder.encode(renderer.render(wall.timestamp(), wall), pts=slot)
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
            try:
                encoder.close()
            except Exception:
                log.exception("camera %s: closing the encoder failed", self.id)
            log.info("camera %s: encoder stopped after %d frames", self.id, self.frames_encoded)

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
    daemon_threads = True
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
    ) -> None:
        """``cameras`` maps camera ids to specs; ``clock`` gives the burnt-in wall time (default: now,
        local); ``queue_size`` is each client's queue in chunks (frames); ``send_buffer`` is the
        kernel send buffer per connection (None: the OS's autotuning, which on loopback absorbs
        seconds of video before the queue sees a slow client)."""
        self._host = host
        self._send_buffer = send_buffer
        self._requested_port = port
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now().astimezone())
        self._queue_size = queue_size
        self._bitrate = bitrate
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._cameras: dict[str, _Camera] = {}
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
            target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="synthetic-camera-server", daemon=True
        )
        self._serve_thread.start()
        log.info("synthetic cameras on http://%s:%d/ (%d cameras)", self._host, self.port, len(self._cameras))

    def stop(self) -> None:
        """Close every client connection and join all threads (within about a second)."""
        self._stopping.set()
        httpd, self._httpd = self._httpd, None
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

    def add_camera(self, camera_id: str, spec: CameraSpec) -> None:
        camera_id = camera_id.strip("/")
        if not camera_id:
            raise ValueError("empty camera id")
        with self._lock:
            if camera_id in self._cameras:
                raise ValueError(f"camera {camera_id!r} exists")
            self._cameras[camera_id] = _Camera(
                camera_id, spec, self._clock, self._stopping, self._queue_size, self._bitrate
            )

    def camera_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._cameras)

    def resolve(self, url: str) -> str:
        """``synthetic://window/A01`` → ``url("window/A01")``; other URLs are returned unchanged.

        An unknown id is added on the fly: label = the last path part, seed = a hash of the id (so
        the demo's windows do not all show the same schedule), other settings default.
        """
        parts = urlsplit(url)
        if parts.scheme.lower() != "synthetic":
            return url
        camera_id = unquote(parts.netloc + parts.path).strip("/")
        if not camera_id:
            raise ValueError(f"no camera id in {url!r}")
        with self._lock:
            if camera_id not in self._cameras:
                spec = CameraSpec(label=camera_id.rsplit("/", 1)[-1], seed=zlib.crc32(camera_id.encode()) & 0xFFFF)
                self._cameras[camera_id] = _Camera(
                    camera_id, spec, self._clock, self._stopping, self._queue_size, self._bitrate
                )
        return self.url(camera_id)

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
