"""The archive reader: any camera's recorded footage at any instant, frame-exact, across segments and gaps.

A review window drives an :class:`ArchiveReader` (or a :class:`Player` wrapping one) and never
touches a file itself:

- :meth:`ArchiveReader.seek` gives the frame showing at an instant — the last frame whose time is at
  or before it — by seeking the segment's container to the keyframe before and decoding forward;
- :meth:`ArchiveReader.step` moves whole frames forward or back, across segment boundaries, and
  stops at a :class:`Gap` (no footage: the camera was down, a segment is missing or corrupt, or was
  pruned). Stepping back is exact: the GOP is decoded again from its keyframe, and the decoded GOPs
  of the open segment are cached so that a run of back-steps decodes each GOP once;
- :class:`Player` plays on its own thread at 1/2/4/8/16×, paced by the wall clock, into a one-slot
  "latest frame" mailbox like :mod:`video.display`; when full decoding would need more frames per
  second than the machine (or the budget) allows it shows keyframes only and says so.

A frame's time is ``segment.start + (pts - first pts of the file)``: the recorder rebases every
file's timestamps to start near zero, so only differences within a file mean anything.

Footage that cannot be read never raises to the caller: a segment whose file is gone, has the wrong
size or SHA-256, or that PyAV fails on is reported as a :class:`Gap` with the reason, marked in the
index (:meth:`~video.footage.FootageIndex.mark`) and skipped.

An :class:`ArchiveReader` is used from one thread at a time (a :class:`Player` owns its reader
until :meth:`Player.stop`). At most two segment files are open at once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import partial
from typing import Final

import av
import av.container
import av.error
import numpy as np
import numpy.typing as npt
from av.video.stream import VideoStream
from sqlalchemy import and_, func, or_, select

from supervision.store.footage import Segment, SegmentStatus
from video.display import Converter, fit_size
from video.footage import FootageIndex, SegmentInfo, sha256_file

__all__ = ["MAX_DECODE_RATE", "SPEEDS", "ArchiveFrame", "ArchiveReader", "Gap", "Player", "PlayerStatus"]

log = logging.getLogger(__name__)

SPEEDS: Final = (1.0, 2.0, 4.0, 8.0, 16.0)
"""The playback speeds a review window offers (any speed in (0, 16] is accepted)."""

MAX_DECODE_RATE: Final = 240.0
"""Frames per second a player decodes at most before it falls back to keyframes: 8× of a 25/30 fps
camera decodes every frame, 16× shows keyframes. A screen shows 60 pictures a second at best; more
decoding only costs a core that live tiles need."""

CONTIGUOUS: Final = timedelta(milliseconds=500)
"""Consecutive segments this close are one piece of footage: the last frame stays on screen across
the recorder's few milliseconds of timing jitter at a cut, instead of a flickering gap."""

GAP_HOLD_SECONDS: Final = 1.0
"""How long playback shows a gap (at most) before it jumps to where the footage resumes."""

PUBLISH_INTERVAL: Final = 1 / 60
"""A player publishes at most one picture per screen refresh; frames due in between are decoded
(the next ones depend on them) but not converted."""

_READABLE: Final = (SegmentStatus.CLOSED.value, SegmentStatus.RECOVERED.value, SegmentStatus.OPEN.value)
_BAD: Final = (SegmentStatus.MISSING.value, SegmentStatus.CORRUPT.value)
_MAX_FILES: Final = 2  # the cursor's segment and its neighbour (stepping back and forth across a cut)
_CACHE_BYTES: Final = 96 << 20  # decoded pictures kept per open segment (720p: ~70 frames, 1080p: ~30)
_SEEK_END: Final = 1 << 60  # "seek to the end": lands on the file's last packet
_US: Final = timedelta(microseconds=1)
_EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True, eq=False)
class ArchiveFrame:
    """A recorded picture ready to paint. Immutable: ``pixels`` is read-only and never written again.

    Compared by identity: a painter tells a new frame by ``is not``.
    """

    pixels: npt.NDArray[np.uint8]  # height × width × 3, RGB, at the reader's output size
    at: datetime  # wall-clock (UTC) of this frame: segment start + (pts - the file's first pts)
    pts: float  # seconds on the file's clock
    segment_id: int
    keyframe: bool

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


@dataclass(frozen=True, slots=True)
class Gap:
    """A span without footage to show, and why (the camera was down, a segment missing or corrupt, pruned)."""

    start: datetime | None  # where the footage before it ends; None: there is no older footage
    end: datetime | None  # where footage resumes; None: there is no later footage (yet)
    reason: str

    @property
    def next_footage(self) -> datetime | None:
        return self.end


@dataclass(frozen=True, slots=True)
class PlayerStatus:
    playing: bool
    speed: float
    keyframes_only: bool  # playback shows only keyframes (full decoding cannot keep up)
    ended: bool  # playback reached the newest footage and waits for more
    note: str | None  # why keyframes only, or that the footage ended, in words
    position: datetime | None
    shown: int  # pictures (and gaps) published
    skipped: int  # frames decoded but not shown: a newer one was due before the screen could show them
    last_error: str | None


# ------------------------------------------------------------------------------- one segment file


class _Unreadable(Exception):
    """A segment file that cannot be used, and what the index should say about it."""

    def __init__(self, status: SegmentStatus, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem


class _Gop:
    """The decoded frames of one GOP, in presentation order (possibly only the first few).

    A GOP longer than the cache's budget keeps only its newest frames: the older ones are set to
    None (indices never shift under a cursor) and decoded again if they are stepped back to.
    """

    __slots__ = ("complete", "end", "first", "frames", "kf", "pts")

    def __init__(self, kf: int) -> None:
        self.kf = kf  # the keyframe's pts
        self.frames: list[av.VideoFrame | None] = []
        self.pts: list[int] = []
        self.first = 0  # frames before this index were let go
        self.complete = False  # every frame up to ``end`` has been decoded
        self.end: int | None = None  # the next keyframe's pts (None: the file ends)

    @property
    def held(self) -> int:
        return len(self.frames) - self.first

    def covers(self, t: int | None) -> bool:
        """Whether the last frame at or before ``t`` (None: the file's last frame) is held here."""
        if self.held <= 0:
            return False
        if t is None:
            return self.complete and self.end is None
        if t < self.pts[self.first]:
            return False
        return t <= self.pts[-1] or (self.complete and (self.end is None or t < self.end))

    def let_go(self, n: int) -> int:
        """Drop the ``n`` oldest frames held (never the newest); returns how many went."""
        n = min(n, self.held - 1)
        for i in range(self.first, self.first + max(0, n)):
            self.frames[i] = None
        self.first += max(0, n)
        return max(0, n)

    def index(self, t: int | None) -> int:
        if t is None:
            return len(self.pts) - 1
        lo, hi = 0, len(self.pts)
        while lo < hi:  # bisect_right over a short list
            mid = (lo + hi) // 2
            if self.pts[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        return max(0, lo - 1)


@dataclass(frozen=True, slots=True)
class _Cursor:
    """A decoded frame of an open file."""

    file: _File
    gop: _Gop
    index: int

    @property
    def pts(self) -> int:
        return self.gop.pts[self.index]

    @property
    def frame(self) -> av.VideoFrame | None:
        """The decoded picture (None if the cache let it go)."""
        return self.gop.frames[self.index]

    @property
    def at(self) -> datetime:
        return self.file.wall(self.pts)

    @property
    def keyframe(self) -> bool:
        return self.pts == self.gop.kf


class _File:
    """One open segment file: its container, its decoder (reused throughout) and its decoded GOPs.

    ``container.seek`` on MPEG-TS lands on the packet at or before the target whether or not it is a
    keyframe (FFmpeg's TS index marks every packet a keyframe), so a seek here looks back one GOP
    (doubling while no keyframe shows up) and starts decoding at the last keyframe at or before the
    target.
    """

    def __init__(self, info: SegmentInfo, *, verify: bool) -> None:
        self.info = info
        path = info.path
        if not path.exists():
            raise _Unreadable(SegmentStatus.MISSING, "the file is gone")
        if info.status in (SegmentStatus.CLOSED, SegmentStatus.RECOVERED):
            size = path.stat().st_size
            if size != info.bytes:
                raise _Unreadable(SegmentStatus.CORRUPT, f"the file has {size} bytes, {info.bytes} were recorded")
            if verify and info.sha256 and sha256_file(path) != info.sha256:
                raise _Unreadable(
                    SegmentStatus.CORRUPT, "the file's SHA-256 differs from the one recorded when it was closed"
                )
        try:
            self.container: av.container.InputContainer = av.open(str(path))
        except av.error.FFmpegError as e:
            raise _Unreadable(SegmentStatus.CORRUPT, f"unreadable: {_words(e)}") from e
        try:
            if not self.container.streams.video:
                raise _Unreadable(SegmentStatus.CORRUPT, "no video in the file")
            self.stream: VideoStream = self.container.streams.video[0]
            self.codec = self.stream.codec_context
            # One thread: latency over throughput (frame threading holds frames back per thread).
            self.codec.thread_count = 1
            self.codec.thread_type = "SLICE"
            self.tb = self.stream.time_base or Fraction(1, 90_000)
            rate = self.stream.average_rate or self.stream.guessed_rate
            self.fps = float(rate) if rate else 25.0
            self._gop_ticks = max(1, round(2 / self.tb))  # looked back on a seek; grows to the longest GOP seen
            self._budget = 0  # frames the cache holds, once the picture size is known
            self._focus: tuple[int | None] | None = None  # (the pts asked for, None: the last frame)
            self._gops: OrderedDict[int, _Gop] = OrderedDict()
            self._reset_head()
            first = self._next_packet()
            if first is None:
                raise _Unreadable(SegmentStatus.CORRUPT, "no frames in the file")
            self._replay.append(first)
            self.first_pts = first.pts if first.pts is not None else (first.dts or 0)
        except BaseException:
            self.container.close()
            raise

    def close(self) -> None:
        self._gops.clear()
        self._head.clear()
        self._replay.clear()
        self.container.close()

    # -- time --------------------------------------------------------------------------------

    def wall(self, pts: int) -> datetime:
        """Wall-clock of a frame; rounded up to the microsecond so that ``pts_at(wall(p)) == p``."""
        us = math.ceil((pts - self.first_pts) * self.tb * 1_000_000)
        return self.info.start + timedelta(microseconds=us)

    def pts_at(self, at: datetime) -> int:
        us = (at - self.info.start) // _US
        return self.first_pts + math.floor(Fraction(us, 1_000_000) / self.tb)

    # -- the head: where demuxing and decoding go on ---------------------------------------

    def _reset_head(self) -> None:
        self._packets: Iterator[av.Packet[VideoStream]] = iter(self.container.demux(self.stream))
        self._replay: deque[av.Packet[VideoStream]] = deque()  # packets demuxed but not yet decoded
        self._eof = False
        self._head: list[_Gop] = []  # GOPs the decoder is filling (more than one only with reordering)
        self._last_pts: int | None = None  # the newest frame the head decoded
        self._last_dts: int | None = None  # the newest packet the head demuxed
        self._head_kf: int | None = None

    def _next_packet(self) -> av.Packet[VideoStream] | None:
        if self._replay:
            return self._replay.popleft()
        if self._eof:
            return None
        for p in self._packets:
            if p.size == 0:  # PyAV's flush packet: the end of the file
                break
            if p.pts is None and p.dts is None:
                continue
            self._last_dts = p.dts if p.dts is not None else p.pts
            return p
        self._eof = True
        return None

    def _pull(self) -> bool:
        """Decode one more packet at the head; False at the end of the file (everything drained)."""
        p = self._next_packet()
        if p is None:
            if self._head:
                self._add(self.codec.decode(None))
            self.codec.flush_buffers()
            if self._head:
                last = self._head[-1]
                last.complete, last.end = True, None
            self._head = []
            return False
        if p.is_keyframe and p.pts is not None:
            if self._head_kf is not None and p.pts > self._head_kf:
                self._gop_ticks = max(self._gop_ticks, p.pts - self._head_kf)
            self._head_kf = p.pts
            gop = _Gop(p.pts)
            self._head.append(gop)
            self._remember(gop)
        elif not self._head:
            return True  # no keyframe yet since the seek: not decodable
        self._add(self.codec.decode(p))
        return True

    def _add(self, frames: list[av.VideoFrame]) -> None:
        for f in frames:
            pts = f.pts
            if pts is None or not self._head:
                continue
            i = len(self._head) - 1
            while i > 0 and self._head[i].kf > pts:
                i -= 1
            gop = self._head[i]
            for older in self._head[:i]:  # a frame of a newer GOP: the older ones are done
                older.complete, older.end = True, gop.kf
            del self._head[:i]
            gop.frames.append(f)
            gop.pts.append(pts)
            self._last_pts = pts
            if not self._budget:
                self._budget = max(8, _CACHE_BYTES // max(1, f.width * f.height * 3 // 2))
        self._evict()

    def _remember(self, gop: _Gop) -> None:
        self._gops.pop(gop.kf, None)
        self._gops[gop.kf] = gop
        self._evict()

    def _evict(self) -> None:
        """Keep the decoded pictures within the budget: first whole GOPs, least recently used first,
        but neither the one holding the frame asked for nor those being decoded; then the oldest
        frames of those (a long GOP, a small budget), oldest GOP first."""
        held = sum(g.held for g in self._gops.values())
        if not self._budget or held <= self._budget:
            return
        focus = self._focus

        def kept(gop: _Gop) -> bool:
            return any(gop is h for h in self._head) or (focus is not None and gop.covers(focus[0]))

        for kf in list(self._gops):
            gop = self._gops[kf]
            if gop.held <= 0 or kept(gop):
                continue
            held -= gop.held
            del self._gops[kf]
            if held <= self._budget:
                return
        for gop in sorted(self._gops.values(), key=lambda g: g.kf):
            held -= gop.let_go(held - self._budget)
            if held <= self._budget:
                return

    def _decode_through(self, t: int) -> None:
        """Decode at the head until a frame after ``t`` is out (or the file ends)."""
        while (self._last_pts is None or self._last_pts <= t) and self._pull():
            pass

    def _cached(self, t: int | None) -> _Cursor | None:
        best: _Gop | None = None
        for gop in self._gops.values():
            if gop.covers(t) and (best is None or gop.kf > best.kf):
                best = gop
        if best is None:
            return None
        self._gops.move_to_end(best.kf)
        return _Cursor(self, best, best.index(t))

    def _seek_to_keyframe(self, t: int | None) -> bool:
        """Position the head on the last keyframe at or before ``t`` (None: the file's last).

        False if the file holds no keyframe at or before ``t``; the head is then at the file's start.
        """
        back = self._gop_ticks
        aim = _SEEK_END if t is None else t - back
        end_ref: int | None = None
        while True:
            at_start = aim <= self.first_pts
            self.container.seek(max(aim, self.first_pts), stream=self.stream, backward=True, any_frame=False)
            self._reset_head()
            gop: list[av.Packet[VideoStream]] | None = None
            landing: int | None = None
            while (p := self._next_packet()) is not None:
                dts = self._last_dts
                assert dts is not None
                if landing is None:
                    landing = dts
                if t is not None and dts > t:
                    self._replay.append(p)  # past the target: decoded later, after the GOP
                    break
                if p.is_keyframe:
                    gop = [p]
                elif gop is not None:
                    gop.append(p)
            if gop is not None:
                self._replay.extendleft(reversed(gop))
                return True
            if at_start or landing is None:
                self.container.seek(self.first_pts, stream=self.stream, backward=True, any_frame=False)
                self._reset_head()
                return False
            if t is None and end_ref is None:
                end_ref = landing
            back *= 2
            aim = (end_ref if t is None and end_ref is not None else (t or 0)) - back

    # -- what the reader asks ----------------------------------------------------------------

    def frame_at(self, t: int | None) -> _Cursor | None:
        """The last frame at or before ``t`` (None: the last frame of the file).

        Before the first decodable frame, the first one. None if nothing in the file decodes.
        """
        self._focus = (t,)
        hit = self._cached(t)
        if hit is not None:
            return hit
        if t is not None and not self._eof:
            # A little way ahead of the decoder (or near the start of a fresh file): go on, no seek.
            going = bool(self._head) and self._last_pts is not None and self._head[0].kf <= t <= (
                self._last_pts + self._gop_ticks)
            fresh = not self._gops and self._last_pts is None and t <= self.first_pts + self._gop_ticks
            if going or fresh:
                self._decode_through(t)
                hit = self._cached(t)
                if hit is not None:
                    return hit
        self._seek_to_keyframe(t)
        if t is None:
            while self._pull():
                pass
        else:
            self._decode_through(t)
        hit = self._cached(t)
        if hit is None and self._gops:  # t is before the first decodable frame
            first = min(self._gops.values(), key=lambda g: g.kf)
            if first.held > 0 and (t is None or first.pts[first.first] > t):
                hit = _Cursor(self, first, first.first)
        return hit

    def after(self, cur: _Cursor) -> _Cursor | None:
        """The next frame (None at the end of the file)."""
        gop, i, p = cur.gop, cur.index, cur.pts
        self._focus = (p,)
        if i + 1 >= len(gop.frames) and not gop.complete:
            if not self._head or self._head[-1] is not gop:
                # The decoder has moved on (or skipped ahead for keyframes): decode this GOP again.
                if not self._seek_to_keyframe(p):
                    return None
                self._decode_through(p)
                again = self._cached(p)
                if again is None:
                    return None
                gop, i = again.gop, again.index
            else:
                self._decode_through(p)
        if i + 1 < len(gop.frames):
            if gop.frames[i + 1] is None:
                return self.frame_at(gop.pts[i + 1])
            return _Cursor(self, gop, i + 1)
        if gop.complete and gop.end is not None:
            return self.frame_at(gop.end)
        return None

    def before(self, cur: _Cursor) -> _Cursor | None:
        """The previous frame (None at the start of the file)."""
        if cur.index > cur.gop.first:
            return _Cursor(self, cur.gop, cur.index - 1)
        p = cur.pts
        if p <= self.first_pts:
            return None
        prev = self.frame_at(p - 1)
        return prev if prev is not None and prev.pts < p else None

    def next_keyframe(self, cur: _Cursor) -> _Cursor | None:
        """The next keyframe, decoding nothing else (None at the end of the file)."""
        gop, p = cur.gop, cur.pts
        self._focus = (p,)
        if gop.complete:
            if gop.end is None:
                return None
            known = self._gops.get(gop.end)
            if known is not None and known.first == 0 and known.pts:
                return _Cursor(self, known, 0)
        if gop.complete or not self._head or self._head[-1] is not gop:
            # Demuxing goes on from the head only while it is in this GOP (no keyframe passed yet).
            self.container.seek(max(p, self.first_pts), stream=self.stream, backward=True, any_frame=False)
            self._reset_head()
        self._head = []  # packets are skipped below: the decoder's state no longer follows them
        while (pkt := self._next_packet()) is not None:
            if not pkt.is_keyframe or pkt.pts is None or pkt.pts <= p:
                continue
            self._head_kf = pkt.pts
            known = self._gops.get(pkt.pts)
            if known is not None and known.first == 0 and known.pts:
                self._gops.move_to_end(pkt.pts)
                return _Cursor(self, known, 0)
            self.codec.flush_buffers()
            frames = self.codec.decode(pkt)
            drained = not frames
            if drained:  # a decoder with reordering delay: drain it, start clean at the next keyframe
                frames = self.codec.decode(None)
                self.codec.flush_buffers()
            if not frames:
                continue
            kf = _Gop(pkt.pts)
            self._remember(kf)
            if not drained:
                self._head = [kf]  # the decoder holds this keyframe: full decoding can go on from here
            kf.frames.append(frames[0])
            kf.pts.append(frames[0].pts if frames[0].pts is not None else pkt.pts)
            self._last_pts = kf.pts[-1]
            return _Cursor(self, kf, 0)
        self.codec.flush_buffers()
        return None


# ------------------------------------------------------------------------------------------ reader


class ArchiveReader:
    """Reads one camera's footage for a review window: seek, step, play forward (see the module doc).

    ``width``/``height`` bound the output size (the picture is fitted, never enlarged, like the
    live display); None is the recorded size. ``verify_hashes`` checks a closed segment's SHA-256
    the first time this reader opens it (about 1 ms per MB), so footage changed on disk is never
    shown as if it were the recording.
    """

    def __init__(
        self,
        index: FootageIndex,
        camera_id: str,
        *,
        width: int | None = None,
        height: int | None = None,
        verify_hashes: bool = True,
    ) -> None:
        self.index = index
        self.camera_id = camera_id
        self.verify_hashes = verify_hashes
        self._box = _box(width, height)
        self._files: OrderedDict[int, _File] = OrderedDict()
        self._verified: set[int] = set()  # segments whose SHA-256 matched (checked once per reader)
        self._converter = Converter()
        self._cursor: _Cursor | None = None
        self._gap: Gap | None = None
        self._shown: ArchiveFrame | None = None

    # -- public --------------------------------------------------------------------------------

    def set_size(self, width: int | None, height: int | None) -> None:
        """The output size from the next frame on (the review window was resized)."""
        self._box = _box(width, height)
        self._shown = None

    @property
    def current(self) -> ArchiveFrame | Gap | None:
        """Where the reader is: the frame last returned, the gap it is in, or None before the first seek."""
        if self._gap is not None:
            return self._gap
        return self._frame() if self._cursor is not None else None

    def seek(self, at: datetime) -> ArchiveFrame | Gap:
        """The frame showing at ``at`` (the last one whose time is at or before it), or the gap there."""
        r = self._seek(_utc(at))
        return r if isinstance(r, Gap) else self._frame()

    def step(self, n: int = 1) -> ArchiveFrame | Gap:
        """Move ``n`` frames forward (or back, if negative), across segment boundaries.

        Stops at a gap and returns it; the next step in either direction leaves it. Before any seek
        the reader starts at the oldest (forward) or newest (back) footage.
        """
        if n == 0 and (here := self.current) is not None:
            return here
        result: _Cursor | Gap | None = None
        for _ in range(max(1, abs(n))):
            result = self._move(forward=n >= 0)
            if isinstance(result, Gap):
                return result
        assert result is not None
        return self._frame()

    def next_frame(self, *, keyframes_only: bool = False) -> ArchiveFrame | Gap | None:
        """For playback: the next frame (or the next keyframe), a gap once when playback reaches one,
        or None when there is no later footage (yet): the reader stays on the last frame."""
        r = self._next(keyframes_only=keyframes_only)
        return r if r is None or isinstance(r, Gap) else self._frame()

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()
        self._cursor = None
        self._shown = None

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- moving the cursor (shared with the player, which converts only what it shows) ------------

    def _seek(self, at: datetime) -> _Cursor | Gap:
        where = self._locate(at)
        if isinstance(where, Gap):
            return self._enter(where)
        f = self._open(where)
        if f is None:
            return self._enter(self._gap_for_bad(where))
        return self._land(f, lambda: f.frame_at(f.pts_at(at)))

    def _move(self, *, forward: bool) -> _Cursor | Gap:
        if self._gap is not None:
            gap = self._gap
            if forward:
                resume = gap.end if gap.end is not None else self._resumed_after(gap.start)
                return self._seek(resume) if resume is not None else gap
            return self._seek(gap.start - _US) if gap.start is not None else gap
        cur = self._cursor
        if cur is None:
            edge = self._edge(oldest=forward)
            if edge is None:
                return self._enter(Gap(None, None, "no footage of this camera"))
            return self._seek(edge)
        f = cur.file
        if forward:
            r = self._try(f, lambda: f.after(cur))
            return r if r is not None else self._cross_forward(f.info)
        r = self._try(f, lambda: f.before(cur))
        return r if r is not None else self._cross_back(f.info)

    def _next(self, *, keyframes_only: bool) -> _Cursor | Gap | None:
        cur = self._cursor
        if self._gap is not None or cur is None:
            before_gap = self._gap
            moved = self._move(forward=True)
            if isinstance(moved, Gap) and moved.end is None:
                self._gap = before_gap
                return None
            return moved
        f = cur.file
        found = self._try(f, (lambda: f.next_keyframe(cur)) if keyframes_only else (lambda: f.after(cur)))
        if found is not None:
            return found
        shown = self._shown
        crossed = self._cross_forward(f.info)
        if isinstance(crossed, Gap) and crossed.end is None:
            self._gap, self._cursor, self._shown = None, cur, shown  # stay on the last frame; more may come
            return None
        return crossed

    def _try(self, f: _File, op: Callable[[], _Cursor | None]) -> _Cursor | Gap | None:
        """Run a decoding step on ``f`` and move there; None if it found no frame (the file's edge).

        A PyAV error condemns the segment and gives the gap it leaves.
        """
        try:
            found = op()
        except (av.error.FFmpegError, OSError) as e:
            self._condemn(f.info, SegmentStatus.CORRUPT, f"reading failed: {_words(e)}")
            self._drop(f)
            return self._enter(self._gap_for_bad(f.info))
        except Exception:  # a bug here must not take the review window down
            log.exception("archive %s: reading %s failed", self.camera_id, f.info.path.name)
            self._drop(f)
            return self._enter(Gap(f.info.start, f.info.end, "this footage could not be shown (see the log)"))
        if found is not None:
            self._cursor, self._gap, self._shown = found, None, None
        return found

    def _land(self, f: _File, op: Callable[[], _Cursor | None]) -> _Cursor | Gap:
        """Like :meth:`_try` for a step that must find a frame: finding none is a defect of the file."""
        found = self._try(f, op)
        if found is None:
            self._condemn(f.info, SegmentStatus.CORRUPT, "no picture could be decoded")
            self._drop(f)
            return self._enter(self._gap_for_bad(f.info))
        return found

    def _cross_forward(self, seg: SegmentInfo) -> _Cursor | Gap:
        """From the last frame of ``seg`` to the first of the next segment, or the gap between.

        Consecutive segments that turn out unreadable are condemned and make one gap together.
        """
        cur, bad = seg, None
        while (nxt := self._neighbour(cur, forward=True)) is not None and nxt.status.value in _READABLE and (
            nxt.start - cur.end <= CONTIGUOUS
        ):
            f = self._open(nxt)
            if f is not None:
                if bad is None:
                    return self._land(f, partial(f.frame_at, f.first_pts))
                return self._enter(self._gap_for_bad(bad, start=seg.end, end=nxt.start))
            cur = bad = nxt
        if bad is not None:
            return self._enter(self._gap_for_bad(bad, start=seg.end))
        resume = self._first_readable_after(seg)
        return self._enter(self._gap_over(seg.end, resume, probe=seg.end, last=seg))

    def _cross_back(self, seg: SegmentInfo) -> _Cursor | Gap:
        """From the first frame of ``seg`` to the last of the segment before, or the gap between."""
        cur, bad = seg, None
        while (prev := self._neighbour(cur, forward=False)) is not None and prev.status.value in _READABLE and (
            cur.start - prev.end <= CONTIGUOUS
        ):
            f = self._open(prev)
            if f is not None:
                if bad is None:
                    return self._land(f, partial(f.frame_at, None))
                return self._enter(self._gap_for_bad(bad, start=prev.end, end=seg.start))
            cur = bad = prev
        if bad is not None:
            return self._enter(self._gap_for_bad(bad, end=seg.start))
        before = self._last_readable_end_before(seg)
        return self._enter(self._gap_over(before, seg.start, probe=seg.start - _US))

    def _enter(self, gap: Gap) -> Gap:
        self._gap, self._cursor, self._shown = gap, None, None
        return gap

    def _frame(self) -> ArchiveFrame:
        if self._shown is None:
            assert self._cursor is not None
            self._shown = self._materialise(self._cursor)
        return self._shown

    def _materialise(self, cur: _Cursor) -> ArchiveFrame:
        frame = cur.frame
        # The cache lets go of the oldest frames only, never the newest few: a cursor just reached holds its frame.
        assert frame is not None, "a cursor's frame was let go"
        size = (frame.width, frame.height) if self._box is None else fit_size(frame.width, frame.height, *self._box)
        return ArchiveFrame(
            pixels=self._converter.convert(frame, *size),
            at=cur.at,
            pts=float((cur.pts) * cur.file.tb),
            segment_id=cur.file.info.id,
            keyframe=cur.keyframe,
        )

    def _fps(self) -> float:
        return self._cursor.file.fps if self._cursor is not None else 25.0

    # -- files -------------------------------------------------------------------------------

    def _open(self, info: SegmentInfo) -> _File | None:
        f = self._files.get(info.id)
        if f is not None:
            self._files.move_to_end(info.id)
            return f
        try:
            f = _File(info, verify=self.verify_hashes and info.id not in self._verified)
        except _Unreadable as e:
            self._condemn(info, e.status, e.problem)
            return None
        except OSError as e:
            self._condemn(info, SegmentStatus.CORRUPT, f"the file cannot be read: {_words(e)}")
            return None
        self._files[info.id] = f
        self._verified.add(info.id)
        keep = {info.id} | ({self._cursor.file.info.id} if self._cursor is not None else set())
        for old_id in [i for i in self._files if i not in keep][: max(0, len(self._files) - _MAX_FILES)]:
            self._files.pop(old_id).close()
        return f

    def _drop(self, f: _File) -> None:
        self._files.pop(f.info.id, None)
        if self._cursor is not None and self._cursor.file is f:
            self._cursor = None
        f.close()

    def _condemn(self, info: SegmentInfo, status: SegmentStatus, problem: str) -> None:
        log.warning("footage %s: %s", info.path.name, problem)
        if info.status in (SegmentStatus.CLOSED, SegmentStatus.RECOVERED):
            # An open segment belongs to the recorder writing it; what is wrong with it is transient.
            self.index.mark(info.id, status, problem)

    # -- the index -----------------------------------------------------------------------------

    def _query(self, *where: object, order: tuple[object, ...], limit: int = 1) -> list[SegmentInfo]:
        with self.index.store.read() as s:
            q = select(Segment).where(Segment.camera_id == self.camera_id, *where)  # type: ignore[arg-type]
            rows = list(s.scalars(q.order_by(*order).limit(limit)))  # type: ignore[arg-type]
            return [self.index.segment_info(r) for r in rows]

    def _locate(self, at: datetime) -> SegmentInfo | Gap:
        """The readable segment showing ``at``, or the gap there."""
        found = self._query(Segment.start <= at, order=(Segment.start.desc(), Segment.id.desc()))
        seg = found[0] if found else None
        if seg is not None and seg.status.value in _READABLE:
            if at < seg.end:
                return seg
            nxt = self._query(Segment.start > at, Segment.status.in_(_READABLE), order=(Segment.start, Segment.id))
            if nxt and nxt[0].start - seg.end <= CONTIGUOUS:
                return seg
        with self.index.store.read() as s:
            start = s.scalar(select(func.max(Segment.end)).where(
                Segment.camera_id == self.camera_id, Segment.start <= at, Segment.status.in_(_READABLE)))
            end = s.scalar(select(func.min(Segment.start)).where(
                Segment.camera_id == self.camera_id, Segment.start > at, Segment.status.in_(_READABLE)))
        return self._gap_over(start, end, probe=at)

    def _neighbour(self, seg: SegmentInfo, *, forward: bool) -> SegmentInfo | None:
        if forward:
            after = or_(Segment.start > seg.start, and_(Segment.start == seg.start, Segment.id > seg.id))
            found = self._query(after, order=(Segment.start, Segment.id))
        else:
            before = or_(Segment.start < seg.start, and_(Segment.start == seg.start, Segment.id < seg.id))
            found = self._query(before, order=(Segment.start.desc(), Segment.id.desc()))
        return found[0] if found else None

    def _first_readable_after(self, seg: SegmentInfo) -> datetime | None:
        after = or_(Segment.start > seg.start, and_(Segment.start == seg.start, Segment.id > seg.id))
        found = self._query(after, Segment.status.in_(_READABLE), order=(Segment.start, Segment.id))
        return found[0].start if found else None

    def _last_readable_end_before(self, seg: SegmentInfo) -> datetime | None:
        before = or_(Segment.start < seg.start, and_(Segment.start == seg.start, Segment.id < seg.id))
        with self.index.store.read() as s:
            end = s.scalar(select(func.max(Segment.end)).where(
                Segment.camera_id == self.camera_id, before, Segment.status.in_(_READABLE)))
        return end

    def _resumed_after(self, t: datetime | None) -> datetime | None:
        """Footage recorded since a gap at the end was reported (the camera is back), if any."""
        found = self._query(Segment.end > (t or _EARLIEST), Segment.status.in_(_READABLE),
                            order=(Segment.start, Segment.id))
        if not found:
            return None
        return max(found[0].start, t) if t is not None else found[0].start

    def _edge(self, *, oldest: bool) -> datetime | None:
        order = (Segment.start, Segment.id) if oldest else (Segment.start.desc(), Segment.id.desc())
        found = self._query(Segment.status.in_(_READABLE), order=order)
        if not found:
            return None
        return found[0].start if oldest else found[0].end - _US

    def _gap_for_bad(self, seg: SegmentInfo, *, start: datetime | None = None, end: datetime | None = None) -> Gap:
        """The gap a condemned (or already bad) segment leaves, up to the readable footage around it."""
        if start is None:
            start = self._last_readable_end_before(seg)
        if end is None:
            end = self._first_readable_after(seg)
        fresh = self._query(Segment.id == seg.id, order=(Segment.id,))
        return Gap(start, end, _bad_reason(fresh[0] if fresh else seg))

    def _gap_over(
        self, start: datetime | None, end: datetime | None, *, probe: datetime, last: SegmentInfo | None = None
    ) -> Gap:
        """A gap over ``[start, end)`` and why: a bad segment there, else the recorder's gap row."""
        lo, hi = start or _EARLIEST, end or _LATEST
        bad = self._query(Segment.start < hi, Segment.end > lo, Segment.status.in_(_BAD),
                          order=(Segment.start, Segment.id), limit=20)
        if bad:
            covering = [b for b in bad if b.start <= probe < b.end]
            return Gap(start, end, _bad_reason((covering or bad)[0]))
        rows = self.index.gaps(self.camera_id, lo, hi)
        if rows:
            covering_rows = [r for r in rows if r[0] <= probe and (r[1] is None or probe < r[1])]
            return Gap(start, end, (covering_rows or rows)[0][2])
        if start is None:
            return Gap(start, end, "no older footage (never recorded, or pruned)")
        if end is None:
            if last is not None and last.status is SegmentStatus.OPEN:
                return Gap(start, end, "no more footage yet: the camera is still being recorded")
            return Gap(start, end, "no later footage")
        return Gap(start, end, "no footage recorded")


# ------------------------------------------------------------------------------------------ player


class Player:
    """Plays a reader on its own thread, paced by the wall clock × speed, into a one-slot mailbox.

    The GUI reads :meth:`latest` on its paint timer (no per-frame signals) and :attr:`position` for
    the timeline. At most one picture per screen refresh is converted and published; frames due in
    between are decoded but not converted (``skipped``).
    When full decoding needs more frames per second than ``max_decode_rate`` or than the measured
    decoding speed allows, only keyframes are decoded (:class:`PlayerStatus` says so). A gap is shown
    for up to a second, then playback goes on where the footage resumes.

    The reader belongs to the player from the first command until :meth:`stop`; ``clock`` (seconds,
    monotonic) is for tests.
    """

    def __init__(
        self,
        reader: ArchiveReader,
        *,
        speed: float = 1.0,
        max_decode_rate: float = MAX_DECODE_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        _check_speed(speed)
        self.reader = reader
        self.max_decode_rate = max_decode_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._commands: deque[tuple[str, object]] = deque()  # ("seek", datetime) ("step", int) ("size", (w, h))
        self._speed = speed
        self._playing = False
        self._frozen = True  # the position does not move (paused, a gap on screen, the end of footage)
        self._anchor: datetime | None = None
        self._anchor_clock = clock()
        self._latest: ArchiveFrame | Gap | None = None
        self._keyframes = False
        self._note: str | None = None  # why keyframes only
        self._ended = False
        self._cost: float | None = None  # seconds per frame of full decoding (a moving average)
        self._shown = self._skipped = 0
        self._published_at = -math.inf  # time.monotonic() of the last publication (the screen's time, not the clock's)
        self._error: str | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def play(self) -> None:
        with self._lock:
            if not self._playing:
                self._playing, self._frozen = True, False
                self._anchor_clock = self._clock()
        self._start()

    def pause(self) -> None:
        with self._lock:
            self._anchor = self._position_locked()
            self._playing, self._frozen = False, True
        self._wake.set()

    def set_speed(self, speed: float) -> None:
        _check_speed(speed)
        with self._lock:
            self._anchor = self._position_locked()
            self._anchor_clock = self._clock()
            self._speed = speed
        self._wake.set()

    def seek(self, at: datetime) -> None:
        at = _utc(at)
        with self._lock:
            self._anchor, self._anchor_clock = at, self._clock()
            self._commands.append(("seek", at))
        self._start()

    def step(self, n: int = 1) -> None:
        """Pause and move ``n`` frames from the one on screen."""
        with self._lock:
            self._anchor = self._position_locked()
            self._playing, self._frozen = False, True
            self._commands.append(("step", n))
        self._start()

    def set_size(self, width: int | None, height: int | None) -> None:
        with self._lock:
            self._commands.append(("size", (width, height)))
        self._wake.set()

    def latest(self) -> ArchiveFrame | Gap | None:
        """What to paint now: the newest frame, or the gap on screen (None before the first seek)."""
        return self._latest

    @property
    def position(self) -> datetime | None:
        """The instant playback is at (between frames while playing); None before the first seek."""
        with self._lock:
            return self._position_locked()

    @property
    def speed(self) -> float:
        return self._speed

    def status(self) -> PlayerStatus:
        with self._lock:
            return PlayerStatus(
                playing=self._playing, speed=self._speed, keyframes_only=self._keyframes, ended=self._ended,
                note=_ENDED if self._ended else self._note, position=self._position_locked(), shown=self._shown,
                skipped=self._skipped, last_error=self._error,
            )

    def stop(self) -> None:
        """End the thread (within a second). The reader is the caller's again; it is not closed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        self._wake.set()
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="hallwatch-archive-player", daemon=True)
            self._thread.start()

    def _position_locked(self) -> datetime | None:
        if self._anchor is None or self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=(self._clock() - self._anchor_clock) * self._speed)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        pending: _Cursor | Gap | None = None  # decoded, not yet due
        while not self._stop.is_set():
            try:
                if self._commands:
                    pending = self._command(pending)
                    continue
                with self._lock:
                    playing = self._playing
                if not playing:
                    self._wait(0.5)
                    continue
                pending = self._play(pending)
            except Exception as e:  # never leave the GUI with a dead player and no word why
                log.exception("archive %s: playback failed", self.reader.camera_id)
                with self._lock:
                    self._error = f"playback failed: {e}"
                    self._anchor = self._position_locked()
                    self._playing, self._frozen = False, True
                pending = None

    def _command(self, pending: _Cursor | Gap | None) -> _Cursor | Gap | None:
        with self._lock:
            kind, arg = self._commands.popleft()
        reader = self.reader
        if kind == "size":
            assert isinstance(arg, tuple)
            reader.set_size(*arg)
            shown = self._latest
            if isinstance(shown, ArchiveFrame):
                self._publish(reader.seek(shown.at))  # the same frame at the new size (cached GOP)
            return None
        if kind == "seek":
            assert isinstance(arg, datetime)
            r = reader.seek(arg)
            self._publish(r)
            with self._lock:
                if self._anchor == arg:
                    self._anchor_clock = self._clock()  # the seek's own time does not count
            return r if isinstance(r, Gap) else None  # playing from a gap: show it, then jump
        assert isinstance(arg, int)
        shown = self._latest
        if isinstance(shown, ArchiveFrame):
            reader._seek(shown.at)  # from the frame on screen: while playing, the reader runs a frame ahead
        r = reader.step(arg)
        self._publish(r)
        with self._lock:
            self._anchor = r.at if isinstance(r, ArchiveFrame) else (r.start or r.end or self._anchor)
        return None

    def _play(self, pending: _Cursor | Gap | None) -> _Cursor | Gap | None:
        self._choose_mode()  # the speed may have changed
        if pending is None:
            pending = self._decode_next()
        if pending is None:  # no later footage: hold the position at the end, look again later
            with self._lock:
                if not self._ended:
                    shown = self._latest
                    self._anchor = shown.at if isinstance(shown, ArchiveFrame) else self._position_locked()
                    self._frozen = self._ended = True
            self._wait(0.5)
            return None
        with self._lock:
            if self._ended:  # more footage was recorded: play on
                self._ended = self._frozen = False
                self._anchor_clock = self._clock()
        if isinstance(pending, Gap):
            self._publish(pending)
            with self._lock:
                here = self._position_locked()
                self._anchor, self._frozen = here, True
                speed = self._speed
            span = (pending.end - here).total_seconds() if pending.end is not None and here is not None else 0.0
            self._wait(min(GAP_HOLD_SECONDS, max(0.0, span) / speed))
            with self._lock:
                if pending.end is not None:
                    self._anchor, self._anchor_clock = pending.end, self._clock()
                self._frozen = not self._playing
            return None
        with self._lock:
            now = self._position_locked()
            speed = self._speed
        assert now is not None
        due = pending.at
        ahead = (due - now).total_seconds()
        if ahead > 10.0:  # a jump in the footage's timestamps: play on from the frame
            with self._lock:
                self._anchor, self._anchor_clock = due, self._clock()
            ahead = 0.0
        if ahead > 0:
            self._wait(min(ahead / speed, 0.1))
            return pending
        since = time.monotonic() - self._published_at
        if since < PUBLISH_INTERVAL:  # the screen has not shown the last one yet
            self._wait(PUBLISH_INTERVAL - since)
            return pending
        # Due: decode on through the frames that are due too, converting only the newest of them.
        started = time.perf_counter()
        while time.perf_counter() - started < 0.05:
            nxt = self._decode_next()
            if not isinstance(nxt, _Cursor) or nxt.at > now:
                self._publish_cursor(pending)
                return nxt
            self._skipped += 1
            pending = nxt
        self._publish_cursor(pending)
        return None

    def _decode_next(self) -> _Cursor | Gap | None:
        t0 = time.perf_counter()
        r = self.reader._next(keyframes_only=self._keyframes)
        cost = time.perf_counter() - t0
        if isinstance(r, _Cursor) and not self._keyframes:
            self._cost = cost if self._cost is None else 0.9 * self._cost + 0.1 * cost
        return r

    def _choose_mode(self) -> None:
        with self._lock:
            speed = self._speed
        needed = self.reader._fps() * speed
        capacity = 1 / self._cost if self._cost else math.inf
        if self._keyframes:
            if needed <= min(self.max_decode_rate, 0.6 * capacity):
                self._keyframes, self._note = False, None
                log.info("archive %s: %g×: decoding every frame again", self.reader.camera_id, speed)
            return
        if needed > self.max_decode_rate:
            note = (f"{speed:g}× needs {needed:.0f} decoded frames/s, more than the budget of "
                    f"{self.max_decode_rate:.0f}/s: showing keyframes only")
        elif needed > 0.8 * capacity:
            note = (f"{speed:g}× needs {needed:.0f} decoded frames/s; decoding manages about "
                    f"{capacity:.0f}/s: showing keyframes only")
        else:
            return
        with self._lock:
            self._keyframes, self._note = True, note
        log.info("archive %s: %s", self.reader.camera_id, note)

    def _publish_cursor(self, cur: _Cursor) -> None:
        self._publish(self.reader._materialise(cur))

    def _publish(self, item: ArchiveFrame | Gap) -> None:
        self._latest = item
        self._shown += 1
        self._published_at = time.monotonic()

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self._wake.wait(seconds):
            self._wake.clear()


# ------------------------------------------------------------------------------------------ helpers


_ENDED: Final = "the end of the recorded footage: playback goes on if more is recorded"


def _check_speed(speed: float) -> None:
    if not 0 < speed <= SPEEDS[-1]:
        raise ValueError(f"speed {speed!r} is outside (0, {SPEEDS[-1]:g}]")


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give it a zone")
    return at.astimezone(UTC)


def _box(width: int | None, height: int | None) -> tuple[int, int] | None:
    if width is None and height is None:
        return None
    return (width or 1 << 16, height or 1 << 16)


def _bad_reason(seg: SegmentInfo) -> str:
    return f"footage {seg.status.value}: {seg.problem or 'no details recorded'}"


def _words(e: BaseException) -> str:
    if isinstance(e, av.error.FFmpegError):
        return e.strerror or type(e).__name__
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e) or type(e).__name__
