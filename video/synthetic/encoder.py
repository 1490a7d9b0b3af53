"""The synthetic cameras' encoder: scene frames to H.264/HEVC in MPEG-TS, live chunks or a file.
"""

from __future__ import annotations

import io
import logging
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Final, Self

import av
import av.container
import cv2
import numpy as np
from av.video.stream import VideoStream

from video.synthetic.scene import Image, SceneRenderer

log = logging.getLogger(__name__)


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
