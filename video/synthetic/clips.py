"""Pre-encoded looping clips for synthetic cameras that many clients record but few watch.

A clip is ``seconds`` of a camera's scene (no clock burnt in: a loop must not show a time it is
not), encoded once like a live camera (H.264/HEVC, a keyframe every second, no B-frames) and cached
as an MPEG-TS file. A :class:`ClipLibrary` loads a clip from its cache or builds it, one at a time
on its own thread; a camera serves a loaded clip with :class:`TsRemuxer`, which re-stamps each
packet on the camera's continuous timeline — costing a few microseconds a frame instead of a
live encoder's milliseconds.

The cache file's name holds every parameter of the picture and the encoder plus a format
version, so a changed setting makes a new clip; files are written under a temporary name and
renamed when complete, so a half-written clip is never used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from video.synthetic.encoder import TsChunk, _add_video_stream, _encoder_name, _Sink, _to_frame
from video.synthetic.scene import SceneRenderer

__all__ = ["CLIP_FORMAT", "Clip", "ClipKey", "ClipLibrary", "TsRemuxer", "build_clip", "load_clip"]

log = logging.getLogger(__name__)

CLIP_FORMAT = 1
"""Bumped when the clips' pictures or encoding change: old cache files are then ignored."""

_TS_CLOCK = 90_000


@dataclass(frozen=True, slots=True)
class ClipKey:
    """Everything a clip's picture and encoding depend on."""

    label: str
    seed: int
    width: int = 640
    height: int = 360
    fps: int = 25
    codec: str = "h264"
    seconds: int = 16
    bitrate: int = 800_000

    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", self.label)[:40]
        return (
            f"{safe}-s{self.seed}-{self.width}x{self.height}-{self.fps}fps-{self.codec}-{self.seconds}s-"
            f"{self.bitrate // 1000}k-f{CLIP_FORMAT}.ts"
        )


@dataclass(frozen=True, slots=True)
class Clip:
    """A loaded clip: its packets in order (the first a keyframe) and the file they came from."""

    key: ClipKey
    path: Path
    packets: tuple[bytes, ...]
    keyframes: tuple[bool, ...]

    def __len__(self) -> int:
        return len(self.packets)


def build_clip(path: Path, key: ClipKey, stop: threading.Event | None = None) -> bool:
    """Encode ``key``'s clip into ``path`` (atomically); False when ``stop`` was set first."""
    if key.seconds < 1:
        raise ValueError(f"a clip lasts at least a second, not {key.seconds}")
    _encoder_name(key.codec)  # an unsupported codec fails here, before any file is made
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.part")
    renderer = SceneRenderer(key.label, key.width, key.height, key.seed)
    frames = key.seconds * key.fps
    try:
        with av.open(str(tmp), "w", format="mpegts") as container:
            stream = _add_video_stream(container, codec=key.codec, width=key.width, height=key.height,
                                       fps=key.fps, gop=key.fps, bitrate=key.bitrate, preset="ultrafast", threads=1)
            for i in range(frames):
                if stop is not None and stop.is_set():
                    break
                rgb = renderer.render(i / key.fps, None)
                container.mux(stream.encode(_to_frame(rgb, key.width, key.height, i, key.fps)))
            container.mux(stream.encode(None))
        if stop is not None and stop.is_set():
            return False
        os.replace(tmp, path)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def load_clip(path: Path, key: ClipKey) -> Clip:
    """Read a clip's packets; ValueError when the file is not a whole clip of ``key``."""
    packets: list[bytes] = []
    keys: list[bool] = []
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if (stream.codec_context.width, stream.codec_context.height) != (key.width, key.height):
                raise ValueError(f"{path.name}: {stream.codec_context.width}x{stream.codec_context.height}, "
                                 f"not {key.width}x{key.height}")
            for packet in container.demux(stream):
                if packet.size:
                    packets.append(bytes(packet))
                    keys.append(bool(packet.is_keyframe))
    except (av.FFmpegError, IndexError) as e:
        raise ValueError(f"{path.name}: not a clip ({e})") from e
    want = key.seconds * key.fps
    if len(packets) != want or not keys[0]:
        raise ValueError(f"{path.name}: {len(packets)} frames, want {want} starting with a keyframe")
    return Clip(key, path, tuple(packets), tuple(keys))


class TsRemuxer:
    """A clip's packets re-stamped on a live timeline, as MPEG-TS chunks (one per frame)."""

    def __init__(self, clip: Clip) -> None:
        self.fps = clip.key.fps
        self._sink = _Sink()
        self._container = av.open(self._sink, "w", format="mpegts", options={"flush_packets": "1"})
        try:
            with av.open(str(clip.path)) as template:
                self._stream = self._container.add_stream_from_template(template.streams.video[0])
            self._stream.time_base = Fraction(1, _TS_CLOCK)
        except BaseException:
            self._container.close()
            raise

    def mux(self, data: bytes, keyframe: bool, pts: int) -> TsChunk:
        """One frame as TS bytes; ``pts`` is the frame index on the camera's timeline (1/fps)."""
        packet = av.Packet(data)
        ticks = pts * _TS_CLOCK // self.fps
        packet.pts = packet.dts = ticks
        packet.time_base = Fraction(1, _TS_CLOCK)
        packet.stream = self._stream
        packet.is_keyframe = keyframe
        self._container.mux(packet)
        return TsChunk(self._sink.drain(), keyframe, pts)

    def close(self) -> None:
        with contextlib.suppress(av.FFmpegError):
            self._container.close()


class ClipLibrary:
    """Clips cached under ``folder``: :meth:`get` answers at once — the loaded clip, or None while
    one thread loads it from the cache or builds it (one clip at a time, cached ones first)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._clips: dict[ClipKey, Clip] = {}
        self._wanted: list[ClipKey] = []
        self._failed: set[ClipKey] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.built = 0
        self.loaded = 0

    def get(self, key: ClipKey) -> Clip | None:
        with self._lock:
            clip = self._clips.get(key)
            if clip is not None or key in self._failed or self._stop.is_set():
                return clip
            if key not in self._wanted:
                self._wanted.append(key)
                self._wake.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="synthetic-clips")
                self._thread.start()
        return None

    def stop(self, timeout: float) -> bool:
        """Stop building (a clip half-made is dropped) and join the thread."""
        with self._lock:
            self._stop.set()
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _next(self) -> ClipKey | None:
        with self._lock:
            while not self._wanted and not self._stop.is_set():
                self._wake.wait()
            if self._stop.is_set():
                return None
            cached = [k for k in self._wanted if (self.folder / k.filename()).is_file()]
            key = cached[0] if cached else self._wanted[0]
            self._wanted.remove(key)
            return key

    def _run(self) -> None:
        while (key := self._next()) is not None:
            path = self.folder / key.filename()
            try:
                if not path.is_file():
                    if not build_clip(path, key, self._stop):
                        return
                    self.built += 1
                    log.debug("clip %s built", path.name)
                else:
                    self.loaded += 1
                clip = load_clip(path, key)
            except (OSError, ValueError, av.FFmpegError) as e:
                log.warning("synthetic clip %s unusable, the camera stays live: %s", path.name, e)
                with contextlib.suppress(OSError):
                    path.unlink()
                with self._lock:
                    self._failed.add(key)
                continue
            with self._lock:
                self._clips[key] = clip
