"""Recording: a source's packets remuxed, never re-encoded, into crash-tolerant MPEG-TS segments.

A :class:`Recorder` is a fan-out consumer of one :class:`~video.source.Source`. It cuts a new
segment at the first keyframe after ``segment_seconds`` (default 60 s), and also whenever the
stream changes (a reconnect), the recorder had to drop packets, or the camera went quiet — each of
those leaves a gap row that says why. Every segment is indexed before its file is created and
hashed (SHA-256) when it closes; a segment left open by a crash is recovered on the next start
(:meth:`~video.footage.FootageIndex.recover`).

When writing fails because the disk is full, the recorder stops writing, reports it through
``on_problem`` (retention turns that into a red system warning) and waits; :meth:`resume` starts
it again at the next keyframe.
"""

from __future__ import annotations

import errno
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import av
import av.error

from video.footage import FootageIndex
from video.source import MediaPacket, Source, StreamInfo, Subscription

__all__ = ["Recorder", "RecorderOptions", "RecorderPool", "RecorderStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecorderOptions:
    segment_seconds: float = 60.0
    queue_packets: int = 1500  # about a minute at 25 fps: room for a slow disk, bounded
    idle_seconds: float = 5.0  # no packet for this long: the segment closes and a gap opens
    progress_seconds: float = 5.0  # how often the open segment's row is brought up to date
    batch_seconds: float = 0.2  # packets are written in batches this often (a crash loses at most this much more)
    # Seconds added to every capture time before it is indexed: 0 for real footage; the embedded demo
    # runs the whole terminal on a demo clock (its footage is placed on that clock, like its warnings).
    clock_offset: float = 0.0


@dataclass(frozen=True, slots=True)
class RecorderStatus:
    camera_id: str
    recording: bool  # a segment is open
    paused: str | None  # why writing is paused (disk full), or None
    segment: str | None  # the open segment's file name
    segments: int  # closed by this recorder since it started
    bytes: int  # written by this recorder since it started
    dropped: int  # packets the subscription dropped (the recorder fell behind)
    last_error: str | None


DISK_FULL = "the disk is full"  # why a recorder paused itself after a write failed for lack of space

ProblemListener = Callable[[str, str | None], None]  # (camera_id, message or None when resolved)


class _Segment:
    """One open output file."""

    def __init__(self, index: FootageIndex, camera_id: str, first: MediaPacket, clock_offset: float = 0.0) -> None:
        info = first.info
        self.info = info
        self._offset = clock_offset
        self.start = datetime.fromtimestamp((first.capture or first.wall) + clock_offset, UTC)
        self.first_seconds = first.seconds or 0.0
        self.base = first.dts if first.dts is not None else (first.pts or 0)
        self.frames = 0
        self.last_end_seconds = self.first_seconds
        self.id, self.path = index.open_segment(
            camera_id, self.start, codec=info.codec, width=info.width, height=info.height,
            # The file's own first timestamp: every file is rebased to start near zero.
            first_pts=float(((first.pts if first.pts is not None else self.base) - self.base) * info.time_base),
        )
        # An unbuffered file under a small muxer buffer: each 16 KB reaches the file as it fills (one
        # write call), so a crash loses at most that and the current batch — not FFmpeg's 256 KB.
        self._file = self.path.open("wb", buffering=0)
        self.container = av.open(self._file, "w", format="mpegts", buffer_size=16 * 1024)
        rate = Fraction(info.fps).limit_denominator(1001) if info.fps else None
        self.stream = self.container.add_mux_stream(info.codec, rate=rate, width=info.width, height=info.height)
        self.stream.time_base = info.time_base
        self._tick = info.tick
        self._frame = (1 / info.fps) if info.fps else 0.04
        self._last_dts: int | None = None
        self._last_capture_end: float | None = None

    def write(self, packet: MediaPacket) -> None:
        p = packet.to_av()
        # Timestamps start near zero in every file (no 33-bit wrap, no negative dts).
        pts = None if packet.pts is None else packet.pts - self.base
        dts = None if packet.dts is None else packet.dts - self.base
        if dts is not None and self._last_dts is not None and dts <= self._last_dts:
            dts = self._last_dts + 1  # a camera that repeats a timestamp must not stop the muxer
            if pts is not None and pts < dts:
                pts = dts
        self._last_dts = dts
        p.pts, p.dts = pts, dts
        p.stream = self.stream
        self.container.mux(p)
        self.frames += 1
        t = packet.seconds
        if t is not None:
            dur = packet.duration * self._tick if packet.duration else self._frame
            if t + dur >= self.last_end_seconds:
                self.last_end_seconds = t + dur
                self._last_capture_end = (packet.capture or packet.wall) + dur + self._offset

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_end_seconds - self.first_seconds)

    @property
    def end(self) -> datetime:
        """When the last frame ends, by the newest (best converged) capture-time estimate."""
        if self._last_capture_end is None:
            return self.start
        return datetime.fromtimestamp(self._last_capture_end, UTC)

    @property
    def placed_start(self) -> datetime:
        """The start consistent with :attr:`end`: the two differ by exactly the frames' duration."""
        return self.end - timedelta(seconds=self.seconds)

    @property
    def bytes_written(self) -> int:
        return self._file.tell() if not self._file.closed else self.path.stat().st_size

    def close(self) -> None:
        try:
            self.container.close()
        finally:
            self._file.close()


class Recorder:
    """Records one camera's source; start/stop are idempotent and stop returns within a second."""

    def __init__(
        self,
        source: Source,
        camera_id: str,
        index: FootageIndex,
        options: RecorderOptions | None = None,
        *,
        on_problem: ProblemListener | None = None,
        pool: RecorderPool | None = None,
    ) -> None:
        self.source = source
        self.camera_id = camera_id
        self.index = index
        self.options = options or RecorderOptions()
        self.on_problem = on_problem
        self._shared_pool = pool
        self._pool: RecorderPool | None = None
        self._service_lock = threading.Lock()  # the pool's thread and stop() take turns
        self._last_packet = 0.0
        self._last_progress = 0.0
        self._lock = threading.Lock()
        self._paused: str | None = None
        self._resume = False
        self._segment: _Segment | None = None
        self._segments = 0
        self._bytes = 0
        self._error: str | None = None
        self._dropped_seen = 0
        self._sub: Subscription | None = None
        self._finishing: list[threading.Event] = []  # segments handed to the pool's finisher, not yet indexed

    def start(self) -> None:
        if self._pool is not None:
            return
        self.index.recover(self.camera_id)
        # Packets wait up to a batch in the pool anyway: the source may read them in batches too.
        self._sub = self.source.subscribe(f"record-{self.camera_id}", maxsize=self.options.queue_packets,
                                          latency=self.options.batch_seconds)
        self._last_packet = self._last_progress = time.monotonic()
        pool = self._shared_pool
        if pool is None:  # a recorder on its own gets a pool of its own
            pool = RecorderPool(self.options.batch_seconds, name=f"hallwatch-record-{self.camera_id}")
        self._pool = pool
        pool.add(self)

    def stop(self) -> None:
        """Close the open segment (indexed and hashed) and leave the source."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        pool.remove(self)
        if pool is not self._shared_pool:
            pool.stop()
        with self._service_lock:
            sub = self._sub
            if sub is not None:
                for packet in sub.drain():  # what arrived before stop() is kept
                    self._handle(packet, sub)
            self._close("recording stopped", gap=False)
            if sub is not None:
                sub.close()
            self._sub = None
        with self._lock:
            finishing = list(self._finishing)
        deadline = time.monotonic() + 10
        for done in finishing:  # the segments cut before: indexed and hashed too when stop() returns
            done.wait(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pause(self, reason: str) -> None:
        """Stop writing (the disk is full of held footage); packets are dropped until :meth:`resume`."""
        with self._lock:
            self._paused = reason
            self._resume = False

    def resume(self) -> None:
        with self._lock:
            if self._paused is not None:
                self._resume = True

    @property
    def paused(self) -> str | None:
        return self._paused

    def status(self) -> RecorderStatus:
        seg = self._segment
        sub = self._sub
        return RecorderStatus(
            camera_id=self.camera_id,
            recording=seg is not None,
            paused=self._paused,
            segment=seg.path.name if seg is not None else None,
            segments=self._segments,
            bytes=self._bytes,
            dropped=sub.dropped if sub is not None else 0,
            last_error=self._error,
        )

    # -- the pool's thread ----------------------------------------------------------------------

    def _service(self) -> tuple[int, datetime, int, int, datetime | None] | None:
        """Write what arrived since the last call (from the pool's thread, every batch_seconds).

        Returns the open segment's progress when its index row is due for an update; the pool
        writes those of every camera in one transaction.
        """
        with self._service_lock:
            sub = self._sub
            if sub is None:
                return None
            o = self.options
            self._apply_pause()
            batch = sub.drain()
            now = time.monotonic()
            if not batch:
                if self._segment is not None and now - self._last_packet > o.idle_seconds:
                    self._close("no video from the camera")
                return None
            self._last_packet = now
            for packet in batch:
                self._handle(packet, sub)
            seg = self._segment
            if seg is not None and now - self._last_progress > o.progress_seconds:
                self._last_progress = now
                return (seg.id, seg.end, seg.bytes_written, seg.frames, seg.placed_start)
            return None

    def _handle(self, packet: MediaPacket, sub: Subscription) -> None:
        o = self.options
        if self._paused is not None:
            return
        if sub.dropped > self._dropped_seen:
            lost = sub.dropped - self._dropped_seen
            self._dropped_seen = sub.dropped
            self._close(f"the recorder fell behind and dropped {lost} packets")
        seg = self._segment
        if seg is not None and packet.info is not seg.info and _changed(seg.info, packet.info):
            self._close("the camera reconnected")
            seg = None
        elif seg is not None and packet.keyframe and (packet.seconds or 0) - seg.first_seconds >= o.segment_seconds:
            # The next file is opened before this one is finished (a muxer trailer and an index
            # write, which waits for the store under load): recording goes on, and says so.
            if not self._open(packet):
                return
            self._finish_later(seg)
            seg = self._segment
            assert seg is not None
        if seg is None:
            if not packet.keyframe:
                return  # a segment starts at a keyframe
            if not self._open(packet):
                return
            seg = self._segment
            assert seg is not None
        try:
            seg.write(packet)
            self._bytes += len(packet.data)
        except (OSError, av.error.FFmpegError) as e:
            self._failed(e)

    def _apply_pause(self) -> None:
        with self._lock:
            if self._resume:
                log.info("%s: recording resumes", self.camera_id)
                self._paused, self._resume = None, False
                self._error = None
                if self.on_problem is not None:
                    self.on_problem(self.camera_id, None)
            paused = self._paused
        if paused is not None and self._segment is not None:
            self._close(f"recording paused: {paused}")

    def _open(self, packet: MediaPacket) -> bool:
        try:
            self._segment = _Segment(self.index, self.camera_id, packet, self.options.clock_offset)
        except (OSError, av.error.FFmpegError) as e:
            self._failed(e)
            return False
        self.index.close_gap(self.camera_id, self._segment.start)
        log.debug("%s: segment %s", self.camera_id, self._segment.path.name)
        return True

    def _close(self, gap_reason: str | None, *, gap: bool = True) -> None:
        seg, self._segment = self._segment, None
        if seg is not None:
            self._finish(seg, gap_reason, gap=gap)

    def _finish_later(self, seg: _Segment) -> None:
        """Finish a segment the next one follows without a gap on the pool's finisher thread: its
        muxer trailer, fsync and hash wait on the disk — seconds on a busy one — and the pool's
        thread writes every camera's packets meanwhile."""
        pool = self._pool
        if pool is None:
            self._finish(seg, None)
            return
        done = threading.Event()
        with self._lock:
            self._finishing.append(done)

        def job() -> None:
            try:
                self._finish(seg, None)
            finally:
                done.set()
                with self._lock:
                    self._finishing.remove(done)

        pool.finish(job)

    def _finish(self, seg: _Segment, gap_reason: str | None, *, gap: bool = True) -> None:
        """Close ``seg``'s file and index it (hashed), opening a gap after it when ``gap_reason``."""
        problem: str | None = None
        try:
            seg.close()
        except (OSError, av.error.FFmpegError) as e:
            problem = f"closing failed: {_words(e)}"
        try:
            self.index.close_segment(seg.id, seg.end, seg.frames, seg.path, problem=problem,
                                     start=seg.placed_start)
            with self._lock:
                self._segments += 1
        except OSError as e:
            log.error("%s: could not finish %s: %s", self.camera_id, seg.path.name, _words(e))
        if gap and gap_reason:
            self.index.open_gap(self.camera_id, seg.end, gap_reason)

    def _failed(self, e: BaseException) -> None:
        message = _words(e)
        self._error = message
        full = (isinstance(e, OSError) and e.errno == errno.ENOSPC) or "No space" in str(e)
        log.error("%s: recording failed: %s", self.camera_id, message)
        self._close(f"recording failed: {message}")
        if full:
            self.pause(DISK_FULL)
        if self.on_problem is not None:
            self.on_problem(self.camera_id, message)


class RecorderPool:
    """One thread that writes for many recorders.

    Recording needs no low latency, so packets wait in each recorder's queue and are written in
    batches. One thread waking every ``batch_seconds`` for all cameras instead of one per camera
    matters on a machine where every wake-up costs a fraction of a millisecond: it was most of
    the recorders' CPU. Writing a batch is cheap (a few microseconds a packet, no re-encoding).
    """

    def __init__(self, batch_seconds: float = 0.2, *, name: str = "hallwatch-recorders") -> None:
        self.batch_seconds = batch_seconds
        self._recorders: list[Recorder] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name)
        self._started = False
        # Finishing a cut segment (trailer, fsync, hash, index row) waits on the disk: a thread of
        # its own, so that one camera's fsync never holds up every camera's writing.
        self._finish_jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._finisher = threading.Thread(target=self._finish_run, name=f"{name}-finish")
        self._finisher_started = False

    def add(self, recorder: Recorder) -> None:
        with self._lock:
            self._recorders.append(recorder)
            if not self._started:
                self._started = True
                self._thread.start()

    def remove(self, recorder: Recorder) -> None:
        with self._lock:
            if recorder in self._recorders:
                self._recorders.remove(recorder)

    def finish(self, job: Callable[[], None]) -> None:
        """Run ``job`` (a segment's finishing) on the finisher thread, in the order given."""
        with self._lock:
            if not self._finisher_started:
                self._finisher_started = True
                self._finisher.start()
        self._finish_jobs.put(job)

    def stop(self, timeout: float = 10.0) -> bool:
        """End the writer thread (a batch in progress finishes) and the finisher (the segments
        handed to it are finished first); True when both ended within ``timeout``."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        if self._started:
            self._thread.join(timeout)
        with self._lock:
            finisher = self._finisher_started
        if finisher:
            self._finish_jobs.put(None)
            self._finisher.join(max(0.0, deadline - time.monotonic()))
        return not self._thread.is_alive() and not self._finisher.is_alive()

    def _finish_run(self) -> None:
        while (job := self._finish_jobs.get()) is not None:
            try:
                job()
            except Exception:  # one segment's trouble must not stop the others' finishing
                log.exception("finishing a segment failed")

    def _run(self) -> None:
        while not self._stop.wait(self.batch_seconds):
            with self._lock:
                recorders = list(self._recorders)
            progress: dict[int, tuple[FootageIndex, list[tuple[int, datetime, int, int, datetime | None]]]] = {}
            for recorder in recorders:
                try:
                    due = recorder._service()
                except Exception:  # one camera's trouble must not stop the others' recording
                    log.exception("%s: writing failed", recorder.camera_id)
                    continue
                if due is not None:
                    progress.setdefault(id(recorder.index), (recorder.index, []))[1].append(due)
            for index, updates in progress.values():
                # One commit for every camera's open segment rather than one each.
                try:
                    index.progress_many(updates)
                except Exception:
                    log.exception("updating the open segments' index rows failed")


def _changed(a: StreamInfo, b: StreamInfo) -> bool:
    """Whether a new connection's stream needs a new file (any new connection does: timestamps restart)."""
    return a.connection != b.connection or (a.codec, a.width, a.height) != (b.codec, b.width, b.height)


def _words(e: BaseException) -> str:
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return DISK_FULL
    if isinstance(e, av.error.FFmpegError):
        return e.strerror or type(e).__name__
    return str(e) or type(e).__name__

