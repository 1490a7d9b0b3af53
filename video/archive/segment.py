"""One segment file of the archive: its container and decoder, the GOP cache, and decoded-frame cursors.

Internal to :mod:`video.archive`: an :class:`~video.archive.reader.ArchiveReader` keeps at most two
of these open. ``container.seek`` on MPEG-TS lands on the packet at or before the target whether or
not it is a keyframe, so a seek looks back one GOP and decodes forward from the last keyframe.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Final

import av
import av.container
import av.error
from av.video.stream import VideoStream

from supervision.store.footage import SegmentStatus
from video.footage import SegmentInfo, sha256_file

log = logging.getLogger(__name__)

_CACHE_BYTES: Final = 96 << 20  # decoded pictures kept per open segment (720p: ~70 frames, 1080p: ~30)
_SEEK_END: Final = 1 << 60  # "seek to the end": lands on the file's last packet
_US: Final = timedelta(microseconds=1)


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

    def keyframe_at(self, t: int) -> _Cursor | None:
        """The keyframe at or before ``t``, decoding only it when it is not cached (scrubbing: one
        decoder call per picture instead of up to a GOP's worth)."""
        self._focus = (t,)
        best: _Gop | None = None
        for gop in self._gops.values():
            if gop.kf <= t and gop.first == 0 and gop.pts and gop.pts[0] == gop.kf and (
                    gop.end is None or t < gop.end or not gop.complete) and (best is None or gop.kf > best.kf):
                best = gop
        if best is not None and ((best.complete and (best.end is None or t < best.end)) or best.pts[-1] >= t):
            self._gops.move_to_end(best.kf)
            return _Cursor(self, best, 0)
        if not self._seek_to_keyframe(t) or not self._replay:
            return self.frame_at(t)  # before the file's first keyframe: its first decodable frame
        kf = self._replay[0].pts
        if kf is None:
            return self.frame_at(t)
        while (landed := self._gops.get(kf)) is None or not landed.frames:
            if not self._pull():
                break
        landed = self._gops.get(kf)
        if landed is None or not landed.frames or landed.pts[0] != landed.kf:
            return self.frame_at(t)
        return _Cursor(self, landed, 0)

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


def _words(e: BaseException) -> str:
    if isinstance(e, av.error.FFmpegError):
        return e.strerror or type(e).__name__
    if isinstance(e, OSError):
        return e.strerror or str(e)
    return str(e) or type(e).__name__
