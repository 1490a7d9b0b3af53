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
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass
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
_GATHER_S = 0.3  # how long the library waits for more requests before building


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
    staff: str = ""  # "present" / "absent": the staff member always / never in the seat ("": the default schedule)

    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", self.label)[:40]
        staff = f"-{self.staff}" if self.staff else ""
        return (
            f"{safe}-s{self.seed}-{self.width}x{self.height}-{self.fps}fps-{self.codec}-{self.seconds}s-"
            f"{self.bitrate // 1000}k{staff}-f{CLIP_FORMAT}.ts"
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
    if key.staff not in ("", "present", "absent"):
        raise ValueError(f"staff is 'present', 'absent' or empty, not {key.staff!r}")
    always = key.staff == "present"
    renderer = SceneRenderer(key.label, key.width, key.height, key.seed,
                             schedule=(lambda _t: always) if key.staff else None)
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
    the library's thread loads it from the cache, or has it built.

    Missing clips are built by one child process at a time (:func:`_build_main`),
    so the encoding neither waits for this process's interpreter lock nor slows its threads; the
    thread loads each clip as its file appears. ``stop`` ends the child (a clip half-made is
    dropped) and joins the thread.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._clips: dict[ClipKey, Clip] = {}
        self._wanted: list[ClipKey] = []
        self._failed: set[ClipKey] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._worker: subprocess.Popen[bytes] | None = None
        self._worker_keys: list[ClipKey] = []
        self.built = 0  # clips the children built
        self.loaded = 0  # clips loaded (cached or built)

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
        """Stop building (the child is terminated) and join the thread."""
        with self._lock:
            self._stop.set()
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def _run(self) -> None:
        try:
            while True:
                with self._lock:
                    if not self._stop.is_set() and (not self._wanted or self._worker is not None):
                        self._wake.wait(0.5 if self._worker is not None else None)
                    if self._stop.is_set():
                        return
                    wanted = list(self._wanted)
                if self._worker is None and self._stop.wait(_GATHER_S):  # one child for the cameras asking now
                    return
                with self._lock:
                    wanted = list(self._wanted)
                ready = [k for k in wanted if (self.folder / k.filename()).is_file()]
                for key in ready:
                    self._load(key)
                self._tend_worker([k for k in wanted if k not in ready])
        finally:
            self._end_worker()

    def _load(self, key: ClipKey) -> None:
        path = self.folder / key.filename()
        try:
            clip = load_clip(path, key)
        except (OSError, ValueError) as e:
            log.warning("synthetic clip %s unusable, the camera stays live: %s", path.name, e)
            with contextlib.suppress(OSError):
                path.unlink()
            with self._lock:
                self._failed.add(key)
                self._wanted.remove(key)
            return
        with self._lock:
            self._clips[key] = clip
            self._wanted.remove(key)
            self.loaded += 1

    def _tend_worker(self, missing: list[ClipKey]) -> None:
        worker = self._worker
        if worker is not None:
            rc = worker.poll()
            if rc is None:
                return
            self._worker = None
            missing = [k for k in missing if not (self.folder / k.filename()).is_file()]  # made meanwhile
            gave_up = [k for k in self._worker_keys if k in missing]
            self.built += len(self._worker_keys) - len(gave_up)
            if gave_up:  # the child ended without making them: they stay live
                log.warning("building %d synthetic clips failed (exit %s); those cameras stay live", len(gave_up), rc)
                with self._lock:
                    self._failed.update(gave_up)
                    self._wanted = [k for k in self._wanted if k not in gave_up]
                missing = [k for k in missing if k not in gave_up]
        if not missing:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the video package
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        spec = json.dumps([asdict(k) for k in missing])
        try:
            self._worker = subprocess.Popen(
                [sys.executable, "-c", _WORKER, str(self.folder), spec],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            )
        except OSError as e:
            log.warning("cannot start building synthetic clips (%s); the cameras stay live", e)
            with self._lock:
                self._failed.update(missing)
                self._wanted = [k for k in self._wanted if k not in missing]
            return
        self._worker_keys = missing
        log.info("building %d synthetic clips in process %d", len(missing), self._worker.pid)

    def _end_worker(self) -> None:
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if worker.poll() is None:
            worker.terminate()  # it drops the clip it was making
            try:
                worker.wait(1.5)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


def _end_with_parent() -> None:
    """On Linux, SIGTERM this process when its parent dies (even by SIGKILL): nothing is left behind."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


_WORKER = "import sys; from video.synthetic.clips import _build_main; sys.exit(_build_main(sys.argv[1:]))"


def _build_main(argv: list[str]) -> int:
    """The child's work (``FOLDER KEYS_JSON``): build the missing clips, one by one."""
    folder, keys = Path(argv[0]), [ClipKey(**k) for k in json.loads(argv[1])]
    stop = threading.Event()
    parent = os.getppid()
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the parent ends it
    _end_with_parent()
    if os.getppid() != parent:  # the parent died before that took effect
        return 1
    for key in keys:
        path = folder / key.filename()
        if not path.is_file() and not build_clip(path, key, stop):
            return 1
    return 0

