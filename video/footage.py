"""The footage index and the segment files it describes.

Segments are MPEG-TS files under ``<root>/<camera>/YYYY/MM/DD/HH/`` (UTC hour of their start).
MPEG-TS is append-only and self-synchronising: after a crash everything up to the last complete
188-byte packet is readable, so the open segment can be recovered rather than lost.

:class:`FootageIndex` is the one place that reads and writes the index rows; the recorder,
retention, the archive reader and export all go through it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import av
import av.error
from sqlalchemy import ColumnElement, CursorResult, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from supervision.store import Store
from supervision.store.footage import FootageGap, Segment, SegmentStatus

__all__ = ["FootageIndex", "SegmentInfo", "recover_file", "segment_relpath", "sha256_file"]

log = logging.getLogger(__name__)

TS_PACKET = 188
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(camera_id: str) -> str:
    """A camera id as a folder name (ids may hold slashes or Chinese; keep them apart and readable)."""
    cleaned = _UNSAFE.sub("_", camera_id)
    if cleaned != camera_id:
        cleaned += "-" + hashlib.sha1(camera_id.encode()).hexdigest()[:8]
    return cleaned


def segment_relpath(camera_id: str, start: datetime) -> str:
    """Where a segment starting at ``start`` lives, relative to the footage root."""
    t = start.astimezone(UTC)
    name = safe_name(camera_id)
    return f"{name}/{t:%Y/%m/%d/%H}/{name}-{t:%Y%m%dT%H%M%S}.{t.microsecond // 1000:03d}Z.ts"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file and its folder entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    id: int
    camera_id: str
    start: datetime
    end: datetime
    path: Path  # absolute
    bytes: int
    sha256: str | None
    status: SegmentStatus
    frames: int
    codec: str | None
    width: int | None
    height: int | None
    problem: str | None

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a scan of a segment left open by a crash found."""

    frames: int
    seconds: float  # from the first frame's start to the last complete frame's end
    bytes: int  # the file's size after cutting off the incomplete tail


def recover_file(path: Path, fps_hint: float | None = None) -> Recovered:
    """Cut an MPEG-TS file after its last complete frame and say what it holds.

    The tail of a file written when the process died may hold a partial 188-byte packet and a
    frame whose packets were not all written: both are cut off (the frame at the last
    payload-unit start of the video PID).
    """
    size = path.stat().st_size
    whole = size - size % TS_PACKET
    cut = whole
    video_pid: int | None = None
    last_start: int | None = None
    with path.open("rb") as f:
        data = f.read(whole)
    for off in range(0, whole, TS_PACKET):
        if data[off] != 0x47:
            cut = off  # lost sync: keep what came before
            break
        pid = ((data[off + 1] & 0x1F) << 8) | data[off + 2]
        pusi = bool(data[off + 1] & 0x40)
        if pid in (0, 0x11, 0x1FFF) or (video_pid is None and pid < 0x20):
            continue
        if video_pid is None and pusi and data[off + 4 : off + 7] == b"\x00\x00\x01" and 0xE0 <= data[off + 7] <= 0xEF:
            video_pid = pid
        if pid == video_pid and pusi:
            last_start = off
    if last_start is not None and last_start < cut:
        cut = last_start  # the last frame may be incomplete: it goes
    if cut < size:
        with path.open("r+b") as f:
            f.truncate(cut)
            f.flush()
            os.fsync(f.fileno())
    frames, seconds = 0, 0.0
    if cut > 0:
        try:
            with av.open(str(path)) as c:
                v = c.streams.video[0]
                tb = v.time_base or 0
                rate = float(v.average_rate or 0) or (fps_hint or 25.0)
                first = last = None
                for p in c.demux(v):
                    if p.size == 0 or p.pts is None:
                        continue
                    frames += 1
                    first = p.pts if first is None else min(first, p.pts)
                    last = p.pts if last is None else max(last, p.pts)
                if first is not None and last is not None:
                    seconds = float((last - first) * tb) + 1 / rate
        except (av.error.FFmpegError, IndexError) as e:
            log.warning("%s: nothing readable after a crash: %s", path.name, e)
    return Recovered(frames=frames, seconds=seconds, bytes=cut)


class FootageIndex:
    """Segment, gap and hold rows, and the files they point to."""

    def __init__(self, store: Store, root: Path) -> None:
        self.store = store
        self.root = root
        # The segment opened last per camera (id, start), and for a segment whose opening closed a
        # gap, where that gap ends now (camera, end): only those gaps move with a segment's start,
        # so a progress of any other segment (every camera, every few seconds) reads nothing.
        self._opened: dict[str, tuple[int, datetime]] = {}
        self._gap_ends: dict[int, tuple[str, datetime]] = {}

    # -- segments ----------------------------------------------------------------------------

    def open_segment(
        self, camera_id: str, start: datetime, *, codec: str, width: int, height: int, first_pts: float | None
    ) -> tuple[int, Path]:
        """Index a new segment (before its file exists, so a crash never leaves a file unindexed)."""
        rel = segment_relpath(camera_id, start)
        with self.store.write() as s:
            row = Segment(
                camera_id=camera_id, start=start, end=start, path=rel, bytes=0, sha256=None,
                status=SegmentStatus.OPEN.value, frames=0, first_pts=first_pts, codec=codec, width=width,
                height=height,
            )
            s.add(row)
            s.flush()
            seg_id = row.id
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        self._opened[camera_id] = (seg_id, start)
        return seg_id, path

    def progress(self, seg_id: int, end: datetime, nbytes: int, frames: int, *, start: datetime | None = None) -> None:
        self.progress_many([(seg_id, end, nbytes, frames, start)])

    def progress_many(self, updates: Sequence[tuple[int, datetime, int, int, datetime | None]]) -> None:
        """Several open segments brought up to date in one transaction: (id, end, bytes, frames, start)."""
        if not updates:
            return
        with self.store.write() as s:
            for seg_id, end, nbytes, frames, start in updates:
                values: dict[str, object] = {"end": end, "bytes": nbytes, "frames": frames}
                if start is not None:
                    values["start"] = start
                    self._move_gap_end(s, seg_id, start)
                s.execute(update(Segment).where(Segment.id == seg_id).values(**values))

    def close_segment(self, seg_id: int, end: datetime, frames: int, path: Path,
                      status: SegmentStatus = SegmentStatus.CLOSED, problem: str | None = None,
                      start: datetime | None = None) -> str | None:
        """Hash the finished file and mark the row closed; returns the SHA-256 (None if no file)."""
        digest: str | None = None
        nbytes = 0
        if path.exists():
            fsync_path(path)
            digest = sha256_file(path)
            nbytes = path.stat().st_size
        with self.store.write() as s:
            if nbytes == 0:
                s.execute(update(Segment).where(Segment.id == seg_id).values(
                    status=SegmentStatus.MISSING.value, problem=problem or "nothing was written", end=end))
                path.unlink(missing_ok=True)
            else:
                values: dict[str, object] = {"end": end, "bytes": nbytes, "frames": frames, "sha256": digest,
                                             "status": status.value, "problem": problem}
                if start is not None:
                    values["start"] = start
                    self._move_gap_end(s, seg_id, start)
                s.execute(update(Segment).where(Segment.id == seg_id).values(**values))
        self._gap_ends.pop(seg_id, None)
        return digest

    def recover(self, camera_id: str | None = None) -> list[SegmentInfo]:
        """Index what survived of segments a crash left open: cut, measure, hash, mark recovered."""
        with self.store.read() as s:
            q = select(Segment).where(Segment.status == SegmentStatus.OPEN.value)
            if camera_id is not None:
                q = q.where(Segment.camera_id == camera_id)
            rows = list(s.scalars(q))
        done: list[SegmentInfo] = []
        for row in rows:
            path = self.root / row.path
            if not path.exists() or path.stat().st_size == 0:
                with self.store.write() as s:
                    s.execute(update(Segment).where(Segment.id == row.id).values(
                        status=SegmentStatus.MISSING.value, problem="the recorder stopped before writing it"))
                path.unlink(missing_ok=True)
                continue
            rec = recover_file(path)
            end = row.start + timedelta(seconds=rec.seconds)
            digest = sha256_file(path)
            with self.store.write() as s:
                s.execute(update(Segment).where(Segment.id == row.id).values(
                    status=SegmentStatus.RECOVERED.value, end=end, bytes=rec.bytes, frames=rec.frames, sha256=digest,
                    problem="recovered after the recorder stopped unexpectedly"))
            log.info("recovered %s: %d frames, %.1f s", row.path, rec.frames, rec.seconds)
            done += self.segments(row.camera_id, row.start, end + timedelta(microseconds=1), ids=[row.id])
        return done

    def segments(
        self, camera_id: str, start: datetime | None = None, end: datetime | None = None, *,
        ids: Sequence[int] | None = None, readable_only: bool = False,
    ) -> list[SegmentInfo]:
        """Segments of a camera overlapping ``[start, end)``, oldest first."""
        with self.store.read() as s:
            q = select(Segment).where(Segment.camera_id == camera_id)
            if start is not None:
                q = q.where(Segment.end > start)
            if end is not None:
                q = q.where(Segment.start < end)
            if ids is not None:
                q = q.where(Segment.id.in_(list(ids)))
            if readable_only:
                q = q.where(Segment.status.in_([SegmentStatus.CLOSED.value, SegmentStatus.RECOVERED.value,
                                                SegmentStatus.OPEN.value]))
            rows = list(s.scalars(q.order_by(Segment.start, Segment.id)))
        return [self.segment_info(r) for r in rows]

    def segment_info(self, r: Segment) -> SegmentInfo:
        """A row as the value the readers use (its path made absolute)."""
        return SegmentInfo(
            id=r.id, camera_id=r.camera_id, start=r.start, end=r.end, path=self.root / r.path, bytes=r.bytes,
            sha256=r.sha256, status=SegmentStatus(r.status), frames=r.frames, codec=r.codec, width=r.width,
            height=r.height, problem=r.problem,
        )

    def check(self, camera_id: str | None = None) -> list[SegmentInfo]:
        """Compare finished segments with their files; mark those gone or changed. Returns the bad ones."""
        with self.store.read() as s:
            q = select(Segment).where(Segment.status.in_([SegmentStatus.CLOSED.value, SegmentStatus.RECOVERED.value]))
            if camera_id is not None:
                q = q.where(Segment.camera_id == camera_id)
            rows = list(s.scalars(q))
        bad: list[SegmentInfo] = []
        for r in rows:
            path = self.root / r.path
            problem: str | None = None
            status = SegmentStatus.CORRUPT
            if not path.exists():
                status, problem = SegmentStatus.MISSING, "the file is gone"
            elif path.stat().st_size != r.bytes:
                problem = f"the file has {path.stat().st_size} bytes, {r.bytes} were recorded"
            elif r.sha256 and sha256_file(path) != r.sha256:
                problem = "the file's SHA-256 differs from the one recorded when it was closed"
            if problem is not None:
                with self.store.write() as s:
                    s.execute(update(Segment).where(Segment.id == r.id).values(status=status.value, problem=problem))
                log.warning("footage %s: %s", r.path, problem)
                bad.append(self.segment_info(r))
        return bad

    def mark(self, seg_id: int, status: SegmentStatus, problem: str) -> None:
        with self.store.write() as s:
            s.execute(update(Segment).where(Segment.id == seg_id).values(status=status.value, problem=problem))

    # -- navigation: the archive reader's questions, one camera, ordered by (start, id) -------

    def _found(self, camera_id: str, *where: ColumnElement[bool], newest: bool = False, limit: int = 1
               ) -> list[SegmentInfo]:
        order = (Segment.start.desc(), Segment.id.desc()) if newest else (Segment.start, Segment.id)
        with self.store.read() as s:
            rows = list(s.scalars(select(Segment).where(Segment.camera_id == camera_id, *where)
                                  .order_by(*order).limit(limit)))
            return [self.segment_info(r) for r in rows]

    def segment(self, seg_id: int) -> SegmentInfo | None:
        """One segment as the index has it now (None once it is gone)."""
        with self.store.read() as s:
            row = s.get(Segment, seg_id)
            return self.segment_info(row) if row is not None else None

    def last_started_by(self, camera_id: str, at: datetime) -> SegmentInfo | None:
        """The newest segment (of any status) that started at or before ``at``."""
        found = self._found(camera_id, Segment.start <= at, newest=True)
        return found[0] if found else None

    def first_readable_started_after(self, camera_id: str, at: datetime) -> SegmentInfo | None:
        found = self._found(camera_id, Segment.start > at, _READABLE)
        return found[0] if found else None

    def readable_around(self, camera_id: str, at: datetime) -> tuple[datetime | None, datetime | None]:
        """Where readable footage started at or before ``at`` ends at the latest, and where the next
        readable footage after ``at`` starts (None: none)."""
        with self.store.read() as s:
            before = s.scalar(select(func.max(Segment.end)).where(
                Segment.camera_id == camera_id, Segment.start <= at, _READABLE))
            after = s.scalar(select(func.min(Segment.start)).where(
                Segment.camera_id == camera_id, Segment.start > at, _READABLE))
        return before, after

    def neighbour(self, seg: SegmentInfo, *, forward: bool, readable: bool = False) -> SegmentInfo | None:
        """The segment just after (or before) ``seg`` in (start, id) order; ``readable``: the nearest readable one."""
        where = [_after(seg) if forward else _before(seg)]
        if readable:
            where.append(_READABLE)
        found = self._found(seg.camera_id, *where, newest=not forward)
        return found[0] if found else None

    def readable_end_before(self, seg: SegmentInfo) -> datetime | None:
        """Where the readable footage before ``seg`` (in (start, id) order) ends at the latest."""
        with self.store.read() as s:
            end: datetime | None = s.scalar(select(func.max(Segment.end)).where(
                Segment.camera_id == seg.camera_id, _before(seg), _READABLE))
        return end

    def first_readable_ending_after(self, camera_id: str, t: datetime) -> SegmentInfo | None:
        found = self._found(camera_id, Segment.end > t, _READABLE)
        return found[0] if found else None

    def readable_edge(self, camera_id: str, *, oldest: bool) -> SegmentInfo | None:
        """The oldest (or newest) readable segment."""
        found = self._found(camera_id, _READABLE, newest=not oldest)
        return found[0] if found else None

    def bad_overlapping(self, camera_id: str, start: datetime, end: datetime, *, limit: int = 20
                        ) -> list[SegmentInfo]:
        """Missing or corrupt segments overlapping ``[start, end)``, oldest first."""
        return self._found(camera_id, Segment.start < end, Segment.end > start, _BAD, limit=limit)

    # -- retention's questions: sizes, finished segments, pruning -------------------------------

    def total_bytes(self) -> int:
        """The bytes of every indexed segment."""
        with self.store.read() as s:
            return int(s.scalar(select(func.coalesce(func.sum(Segment.bytes), 0))) or 0)

    def largest_segment_bytes(self, since: datetime) -> dict[str, int]:
        """Per camera, the largest segment that started at or after ``since``."""
        with self.store.read() as s:
            rows = s.execute(select(Segment.camera_id, func.max(Segment.bytes))
                             .where(Segment.start >= since).group_by(Segment.camera_id)).all()
        return {cam: int(b or 0) for cam, b in rows}

    def finished(self, *, ended_before: datetime | None = None, ended_from: datetime | None = None
                 ) -> list[SegmentInfo]:
        """Segments no recorder is writing any more (every camera), oldest first; ``ended_before`` /
        ``ended_from`` bound their end."""
        with self.store.read() as s:
            q = select(Segment).where(Segment.status != SegmentStatus.OPEN.value)
            if ended_before is not None:
                q = q.where(Segment.end < ended_before)
            if ended_from is not None:
                q = q.where(Segment.end >= ended_from)
            rows = list(s.scalars(q.order_by(Segment.start)))
            return [self.segment_info(r) for r in rows]

    def forget(self, seg: SegmentInfo, reason: str, *, merge: Callable[[str], str | None] | None = None) -> None:
        """Remove a pruned segment's row; its span becomes a gap row saying ``reason``, in the same
        transaction. The gap the camera has just before (ending where the segment starts) grows
        instead when it says the same, or when ``merge(its reason)`` gives the merged words:
        pruning goes oldest first, so a day pruned for age is one row, not 1 440."""
        with self.store.write() as s:
            s.execute(delete(Segment).where(Segment.id == seg.id))
            prev = s.scalars(select(FootageGap).where(
                FootageGap.camera_id == seg.camera_id, FootageGap.end.is_not(None),
                FootageGap.end >= seg.start - timedelta(seconds=1), FootageGap.end <= seg.end,
                FootageGap.start <= seg.start).order_by(FootageGap.end.desc()).limit(1)).first()
            if prev is not None:
                merged = merge(prev.reason) if merge is not None else (reason if prev.reason == reason else None)
                if merged is not None:
                    prev.end, prev.reason = seg.end, merged
                    return
            s.add(FootageGap(camera_id=seg.camera_id, start=seg.start, end=seg.end, reason=reason))

    # -- gaps --------------------------------------------------------------------------------

    def open_gap(self, camera_id: str, start: datetime, reason: str) -> None:
        with self.store.write() as s:
            open_ = s.scalars(select(FootageGap).where(FootageGap.camera_id == camera_id,
                                                      FootageGap.end.is_(None))).first()
            if open_ is None:
                s.add(FootageGap(camera_id=camera_id, start=start, end=None, reason=reason))

    def _move_gap_end(self, s: Session, seg_id: int, start: datetime) -> None:
        """A segment's start placed again (by a better capture-time estimate: the recorder's first
        packet may have come out of a connection's read-ahead): the gap its opening closed ends there
        too, so that the gap and the footage after it neither overlap nor leave a sliver between them
        (never before the gap's own start)."""
        moved = self._gap_ends.get(seg_id)
        if moved is None or moved[1] == start:
            return
        camera_id, end = moved
        for gap in s.scalars(select(FootageGap).where(FootageGap.camera_id == camera_id, FootageGap.end == end)):
            gap.end = end = max(start, gap.start)
        self._gap_ends[seg_id] = (camera_id, end)

    def close_gap(self, camera_id: str, end: datetime) -> None:
        with self.store.write() as s:
            result = s.execute(update(FootageGap).where(FootageGap.camera_id == camera_id, FootageGap.end.is_(None))
                               .values(end=end))
            closed = cast(CursorResult[Any], result).rowcount
        opened = self._opened.get(camera_id)
        if closed and opened is not None and opened[1] == end:  # the opening of that segment closed it
            self._gap_ends[opened[0]] = (camera_id, end)

    def gaps(self, camera_id: str, start: datetime, end: datetime) -> list[tuple[datetime, datetime | None, str]]:
        with self.store.read() as s:
            rows = s.scalars(select(FootageGap).where(
                FootageGap.camera_id == camera_id,
                FootageGap.start < end,
                or_(FootageGap.end.is_(None), and_(FootageGap.end.is_not(None), FootageGap.end > start)),
            ).order_by(FootageGap.start))
            return [(g.start, g.end, g.reason) for g in rows]


READABLE_STATUSES = (SegmentStatus.CLOSED, SegmentStatus.RECOVERED, SegmentStatus.OPEN)
BAD_STATUSES = (SegmentStatus.MISSING, SegmentStatus.CORRUPT)
_READABLE = Segment.status.in_([st.value for st in READABLE_STATUSES])
_BAD = Segment.status.in_([st.value for st in BAD_STATUSES])


def _after(seg: SegmentInfo) -> ColumnElement[bool]:
    return or_(Segment.start > seg.start, and_(Segment.start == seg.start, Segment.id > seg.id))


def _before(seg: SegmentInfo) -> ColumnElement[bool]:
    return or_(Segment.start < seg.start, and_(Segment.start == seg.start, Segment.id < seg.id))
