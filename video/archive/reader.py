"""The archive reader: one camera's recorded footage at any instant, frame-exact, across segments and gaps.

See :mod:`video.archive` for the whole picture. An :class:`ArchiveReader` is used from one thread at
a time; at most two segment files (:mod:`video.archive.segment`) are open at once.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final

import av
import av.container
import av.error
import numpy as np
import numpy.typing as npt

from supervision.store.footage import SegmentStatus
from video.archive.segment import _US, _Cursor, _File, _Unreadable, _words
from video.display import Converter, fit_size
from video.footage import READABLE_STATUSES, FootageIndex, SegmentInfo

log = logging.getLogger(__name__)

CONTIGUOUS: Final = timedelta(milliseconds=500)
"""Consecutive segments this close are one piece of footage: the last frame stays on screen across
the recorder's few milliseconds of timing jitter at a cut, instead of a flickering gap."""

_MAX_FILES: Final = 2  # the cursor's segment and its neighbour (stepping back and forth across a cut)
_EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)


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
class ArchiveGap:
    """A span without footage to show, and why (the camera was down, a segment missing or corrupt, pruned)."""

    start: datetime | None  # where the footage before it ends; None: there is no older footage
    end: datetime | None  # where footage resumes; None: there is no later footage (yet)
    reason: str

    @property
    def next_footage(self) -> datetime | None:
        return self.end


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
        self._gap: ArchiveGap | None = None
        self._shown: ArchiveFrame | None = None

    # -- public --------------------------------------------------------------------------------

    def set_size(self, width: int | None, height: int | None) -> None:
        """The output size from the next frame on (the review window was resized)."""
        self._box = _box(width, height)
        self._shown = None

    @property
    def current(self) -> ArchiveFrame | ArchiveGap | None:
        """Where the reader is: the frame last returned, the gap it is in, or None before the first seek."""
        if self._gap is not None:
            return self._gap
        return self._frame() if self._cursor is not None else None

    def seek(self, at: datetime, *, keyframe: bool = False) -> ArchiveFrame | ArchiveGap:
        """The frame showing at ``at`` (the last one whose time is at or before it), or the gap there.

        ``keyframe``: the keyframe at or before ``at`` instead, decoding only it (for scrubbing)."""
        r = self._seek(_utc(at), keyframe=keyframe)
        return r if isinstance(r, ArchiveGap) else self._frame()

    def step(self, n: int = 1) -> ArchiveFrame | ArchiveGap:
        """Move ``n`` frames forward (or back, if negative), across segment boundaries.

        Stops at a gap and returns it; the next step in either direction leaves it. Before any seek
        the reader starts at the oldest (forward) or newest (back) footage.
        """
        if n == 0 and (here := self.current) is not None:
            return here
        result: _Cursor | ArchiveGap | None = None
        for _ in range(max(1, abs(n))):
            result = self._move(forward=n >= 0)
            if isinstance(result, ArchiveGap):
                return result
        assert result is not None
        return self._frame()

    def next_frame(self, *, keyframes_only: bool = False) -> ArchiveFrame | ArchiveGap | None:
        """For playback: the next frame (or the next keyframe), a gap once when playback reaches one,
        or None when there is no later footage (yet): the reader stays on the last frame."""
        r = self._next(keyframes_only=keyframes_only)
        return r if r is None or isinstance(r, ArchiveGap) else self._frame()

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

    def _seek(self, at: datetime, *, keyframe: bool = False) -> _Cursor | ArchiveGap:
        where = self._locate(at)
        if isinstance(where, ArchiveGap):
            return self._enter(where)
        f = self._open(where)
        if f is None:
            return self._enter(self._gap_for_bad(where))
        if keyframe:
            return self._land(f, lambda: f.keyframe_at(f.pts_at(at)))
        return self._land(f, lambda: f.frame_at(f.pts_at(at)))

    def _move(self, *, forward: bool) -> _Cursor | ArchiveGap:
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
                return self._enter(ArchiveGap(None, None, "no footage of this camera"))
            return self._seek(edge)
        f = cur.file
        if forward:
            r = self._try(f, lambda: f.after(cur))
            return r if r is not None else self._cross_forward(f.info)
        r = self._try(f, lambda: f.before(cur))
        return r if r is not None else self._cross_back(f.info)

    def _next(self, *, keyframes_only: bool) -> _Cursor | ArchiveGap | None:
        cur = self._cursor
        if self._gap is not None or cur is None:
            before_gap = self._gap
            moved = self._move(forward=True)
            if isinstance(moved, ArchiveGap) and moved.end is None:
                self._gap = before_gap
                return None
            return moved
        f = cur.file
        found = self._try(f, (lambda: f.next_keyframe(cur)) if keyframes_only else (lambda: f.after(cur)))
        if found is not None:
            return found
        shown = self._shown
        crossed = self._cross_forward(f.info)
        if isinstance(crossed, ArchiveGap) and crossed.end is None:
            self._gap, self._cursor, self._shown = None, cur, shown  # stay on the last frame; more may come
            return None
        return crossed

    def _try(self, f: _File, op: Callable[[], _Cursor | None]) -> _Cursor | ArchiveGap | None:
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
            return self._enter(ArchiveGap(f.info.start, f.info.end, "this footage could not be shown (see the log)"))
        if found is not None:
            self._cursor, self._gap, self._shown = found, None, None
        return found

    def _land(self, f: _File, op: Callable[[], _Cursor | None]) -> _Cursor | ArchiveGap:
        """Like :meth:`_try` for a step that must find a frame: finding none is a defect of the file."""
        found = self._try(f, op)
        if found is None:
            self._condemn(f.info, SegmentStatus.CORRUPT, "no picture could be decoded")
            self._drop(f)
            return self._enter(self._gap_for_bad(f.info))
        return found

    def _cross_forward(self, seg: SegmentInfo) -> _Cursor | ArchiveGap:
        """From the last frame of ``seg`` to the first of the next segment, or the gap between.

        Consecutive segments that turn out unreadable are condemned and make one gap together.
        """
        cur, bad = seg, None
        while (nxt := self._neighbour(cur, forward=True)) is not None and nxt.status in READABLE_STATUSES and (
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

    def _cross_back(self, seg: SegmentInfo) -> _Cursor | ArchiveGap:
        """From the first frame of ``seg`` to the last of the segment before, or the gap between."""
        cur, bad = seg, None
        while (prev := self._neighbour(cur, forward=False)) is not None and prev.status in READABLE_STATUSES and (
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

    def _enter(self, gap: ArchiveGap) -> ArchiveGap:
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

    def _locate(self, at: datetime) -> SegmentInfo | ArchiveGap:
        """The readable segment showing ``at``, or the gap there."""
        index, cam = self.index, self.camera_id
        seg = index.last_started_by(cam, at)
        if seg is not None and seg.status in READABLE_STATUSES:
            if at < seg.end:
                return seg
            nxt = index.first_readable_started_after(cam, at)
            if nxt is not None and nxt.start - seg.end <= CONTIGUOUS:
                return seg
        start, end = index.readable_around(cam, at)
        return self._gap_over(start, end, probe=at)

    def _neighbour(self, seg: SegmentInfo, *, forward: bool) -> SegmentInfo | None:
        return self.index.neighbour(seg, forward=forward)

    def _first_readable_after(self, seg: SegmentInfo) -> datetime | None:
        found = self.index.neighbour(seg, forward=True, readable=True)
        return found.start if found is not None else None

    def _last_readable_end_before(self, seg: SegmentInfo) -> datetime | None:
        return self.index.readable_end_before(seg)

    def _resumed_after(self, t: datetime | None) -> datetime | None:
        """Footage recorded since a gap at the end was reported (the camera is back), if any."""
        found = self.index.first_readable_ending_after(self.camera_id, t or _EARLIEST)
        if found is None:
            return None
        return max(found.start, t) if t is not None else found.start

    def _edge(self, *, oldest: bool) -> datetime | None:
        found = self.index.readable_edge(self.camera_id, oldest=oldest)
        if found is None:
            return None
        return found.start if oldest else found.end - _US

    def _gap_for_bad(
        self, seg: SegmentInfo, *, start: datetime | None = None, end: datetime | None = None
    ) -> ArchiveGap:
        """The gap a condemned (or already bad) segment leaves, up to the readable footage around it."""
        if start is None:
            start = self._last_readable_end_before(seg)
        if end is None:
            end = self._first_readable_after(seg)
        fresh = self.index.segment(seg.id)
        return ArchiveGap(start, end, _bad_reason(fresh or seg))

    def _gap_over(
        self, start: datetime | None, end: datetime | None, *, probe: datetime, last: SegmentInfo | None = None
    ) -> ArchiveGap:
        """A gap over ``[start, end)`` and why: a bad segment there, else the recorder's gap row."""
        lo, hi = start or _EARLIEST, end or _LATEST
        bad = self.index.bad_overlapping(self.camera_id, lo, hi)
        if bad:
            covering = [b for b in bad if b.start <= probe < b.end]
            return ArchiveGap(start, end, _bad_reason((covering or bad)[0]))
        rows = self.index.gaps(self.camera_id, lo, hi)
        if rows:
            covering_rows = [r for r in rows if r[0] <= probe and (r[1] is None or probe < r[1])]
            return ArchiveGap(start, end, (covering_rows or rows)[0][2])
        if start is None:
            return ArchiveGap(start, end, "no older footage (never recorded, or pruned)")
        if end is None:
            if last is not None and last.status is SegmentStatus.OPEN:
                return ArchiveGap(start, end, "no more footage yet: the camera is still being recorded")
            return ArchiveGap(start, end, "no later footage")
        return ArchiveGap(start, end, "no footage recorded")


# ------------------------------------------------------------------------------------------ player


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
