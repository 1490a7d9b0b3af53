"""Retention: prune old footage and keep free space, never touching evidence.

Footage is pruned when it is older than ``retention_days`` (default 30) or, oldest first, while
the disk has less than ``min_free_percent`` free (default 10 %) plus **headroom**: room for one more
segment of every camera (the largest each recorded in the last day), so recording until the next
pass never runs into the floor. Each pruned span leaves a gap row saying why and when (an export
over it says "pruned for space", not "no footage"). **Evidence holds** are never pruned: those the
warnings, bookmarks and complaints call for (which, and over what span, is the domain's policy:
:mod:`supervision.holds`; ``margin`` defaults to 10 min), and any span a reviewer holds explicitly.
Retention only applies them; the segment and gap rows it changes go through the footage index.

A hold ends only when someone releases it on purpose. When only held footage is left and the disk
is still too full, recording stops, a red system warning says why, everything is kept, and
recording resumes when space returns.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path

from sqlalchemy import insert, select, update

from supervision.holds import WantedHold, iter_evidence_holds
from supervision.store.footage import EvidenceHold, HoldKind
from supervision.store.models import AuditEntry, CameraRow
from video.footage import FootageIndex, SegmentInfo

__all__ = ["PruneReport", "Retention", "RetentionPolicy", "SystemWarning"]

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    retention_days: float = 30.0
    min_free_percent: float = 10.0
    hold_margin: timedelta = timedelta(minutes=10)
    quota_bytes: int | None = None  # optional cap on the footage folder's size, besides free space


@dataclass(frozen=True, slots=True)
class SystemWarning:
    """A warning about the terminal itself (not derived from cases), shown with the others.

    ``message`` is English for the log; ``params`` are the facts behind it, for a translated text.
    """

    code: str  # e.g. DISK_FULL
    level: str  # red
    message: str
    since: datetime
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass
class PruneReport:
    pruned_for_age: int = 0
    pruned_for_space: int = 0
    bytes_freed: int = 0
    held_kept: int = 0  # old segments kept because a hold covers them
    bytes_freed_for_space: int = 0
    held_segments: int = 0  # finished segments kept under holds while space was short
    held_bytes: int = 0
    headroom_percent: float = 0.0  # pruning for space goes on until the floor plus this is free
    full: bool = False  # only held footage left (or none) and still short of space
    free_percent: float = 100.0
    problems: list[str] = field(default_factory=list)


PRUNED_FOR_AGE = "pruned: older than the retention period"
_SPACE_REASON = re.compile(r"^pruned for space on (\d{4}-\d{2}-\d{2}) UTC: (\d+) bytes$")
HEADROOM_WINDOW = timedelta(days=1)  # a camera's segment size is the largest it recorded in this window


def space_reason(day: str, freed: int) -> str:
    """The gap reason for footage pruned to make space: the day (UTC) and how many bytes went."""
    return f"pruned for space on {day} UTC: {freed} bytes"


DiskUsage = Callable[[Path], tuple[int, int, int]]  # total, used, free (like shutil.disk_usage)


def _disk_usage(path: Path) -> tuple[int, int, int]:
    u = shutil.disk_usage(path)
    return u.total, u.used, u.free


_SYNC_CHUNK = 500  # holds read and written at a time by Retention.sync_holds


class Retention:
    """Holds and pruning over one footage index. Thread-safe; ``run`` is a background loop."""

    def __init__(
        self,
        index: FootageIndex,
        policy: RetentionPolicy | None = None,
        *,
        camera_windows: dict[str, str | None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        disk_usage: DiskUsage = _disk_usage,
        on_full: Callable[[SystemWarning | None], None] | None = None,
    ) -> None:
        self.index = index
        self.store = index.store
        self.policy = policy or RetentionPolicy()
        self.clock = clock
        self.disk_usage = disk_usage
        self.on_full = on_full
        self._extra_windows = dict(camera_windows or {})
        self._lock = threading.Lock()
        self._warning: SystemWarning | None = None
        # Pruned for space since space was last sufficient: segments, bytes, the latest when.
        self._space_pruned: tuple[int, int, datetime | None] = (0, 0, None)

    def set_camera_window(self, camera_id: str, window_id: str | None) -> None:
        """The window a camera watches (for cameras the store does not know: the config's)."""
        self._extra_windows = {**self._extra_windows, camera_id: window_id}  # replaced, never changed in place

    # -- holds -------------------------------------------------------------------------------

    def hold(
        self, start: datetime, end: datetime, *, reason: str, by: str, camera_id: str | None = None,
        window_id: str | None = None,
    ) -> str:
        """An explicit hold on a camera or a window's cameras; returns its id."""
        if camera_id is None and window_id is None:
            raise ValueError("a hold needs a camera or a window")
        if end <= start:
            raise ValueError("a hold's end must come after its start")
        hold_id = f"manual:{uuid.uuid4()}"
        now = self.clock()
        with self.store.write() as s:
            s.add(EvidenceHold(id=hold_id, kind=HoldKind.MANUAL.value, camera_id=camera_id, window_id=window_id,
                               start=start, end=end, reason=reason, created_at=now, created_by=by))
            s.add(AuditEntry(at=now, actor=by, action="footage.hold", subject=camera_id or window_id,
                             detail={"hold": hold_id, "start": start.isoformat(), "end": end.isoformat(),
                                     "reason": reason}))
        return hold_id

    def release(self, hold_id: str, *, by: str) -> None:
        """End a hold on purpose (the only way a hold ends)."""
        now = self.clock()
        with self.store.write() as s:
            row = s.get(EvidenceHold, hold_id)
            if row is None:
                raise KeyError(f"no hold {hold_id!r}")
            if row.released_at is None:
                row.released_at, row.released_by = now, by
                s.add(AuditEntry(at=now, actor=by, action="footage.release", subject=row.camera_id or row.window_id,
                                 detail={"hold": hold_id}))

    def holds(self, *, active: bool = True) -> list[EvidenceHold]:
        with self.store.read() as s:
            q = select(EvidenceHold)
            if active:
                q = q.where(EvidenceHold.released_at.is_(None))
            rows = list(s.scalars(q.order_by(EvidenceHold.start)))
            s.expunge_all()
            return rows

    def sync_holds(self) -> int:
        """Create or extend the holds the warnings, bookmarks and complaints call for (the policy is
        :func:`supervision.holds.evidence_holds`). Returns how many changed.

        Runs every pass over every yellow and red warning (tens of thousands in a large hall), so
        it reads and writes plain rows, a chunk at a time: no ORM object per hold, and the holds
        wanted are streamed, a few thousand synced at a time in a short write transaction each
        (those passes were the terminal's largest allocation burst, once a minute)."""
        now = self.clock()
        changed = 0
        with self.store.read() as rs:  # the wanted holds streamed, a write transaction per few thousand
            held = iter_evidence_holds(rs, now, self.policy.hold_margin)
            while part := list(islice(held, _SYNC_CHUNK * 10)):
                changed += self._sync_part({h.id: h for h in part}, now)
        return changed

    def _sync_part(self, wanted: Mapping[str, WantedHold], now: datetime) -> int:
        """Create or extend the holds of ``wanted`` (one write transaction); how many changed."""
        changed = 0
        ids = list(wanted)
        table = EvidenceHold.__table__
        with self.store.write() as s:
            for i in range(0, len(ids), _SYNC_CHUNK):
                part = ids[i : i + _SYNC_CHUNK]
                existing = {r[0]: r for r in s.execute(
                    select(table.c.id, table.c.start, table.c.end, table.c.released_at).where(table.c.id.in_(part)))}
                new: list[dict[str, object]] = []
                grown: list[dict[str, object]] = []
                for hold_id in part:
                    h = wanted[hold_id]
                    row = existing.get(hold_id)
                    if row is None:
                        new.append({"id": hold_id, "kind": h.kind.value, "camera_id": h.camera_id,
                                    "window_id": h.window_id, "start": h.start, "end": h.end + h.ahead,
                                    "reason": h.reason, "created_at": now, "created_by": "system"})
                    elif row[3] is None and (h.start < row[1] or h.end > row[2]):
                        # A hold only ever grows until released: a warning that clears keeps what it held.
                        # One whose end moves with the clock is written ``ahead`` (once per that, not per pass).
                        grown.append({"id": hold_id, "start": min(row[1], h.start),
                                      "end": max(row[2], h.end + h.ahead)})
                if new:
                    s.execute(insert(EvidenceHold), new)
                if grown:
                    s.execute(update(EvidenceHold), grown)  # by primary key, executemany
                changed += len(new) + len(grown)
        return changed

    # -- pruning -----------------------------------------------------------------------------

    def _windows(self) -> dict[str, str | None]:
        with self.store.read() as s:
            found: dict[str, str | None] = {c.id: c.window_id for c in s.scalars(select(CameraRow))}
        found.update(self._extra_windows)
        return found

    def _held(self, holds: Sequence[EvidenceHold], windows: dict[str, str | None], seg: SegmentInfo) -> bool:
        window = windows.get(seg.camera_id)
        for h in holds:
            if h.camera_id is not None and h.camera_id != seg.camera_id:
                continue
            if h.camera_id is None and (window is None or h.window_id != window):
                continue
            if h.start < seg.end and seg.start < h.end:
                return True
        return False

    def free_percent(self, footage_bytes: int | None = None) -> float:
        """Free space in percent: the disk's, or what the quota leaves when that is less.

        ``footage_bytes``: the index's total, when the caller already knows it.
        """
        total, _used, free = self.disk_usage(self.index.root)
        pct = 100.0 * free / total if total else 100.0
        quota = self.policy.quota_bytes
        if quota:
            used = self._footage_bytes() if footage_bytes is None else footage_bytes
            pct = min(pct, 100.0 * max(0, quota - used) / quota)
        return pct

    def _footage_bytes(self) -> int:
        return self.index.total_bytes()

    def prune(self) -> PruneReport:
        """One pass: age first, then space; raises or clears the disk-full system warning."""
        with self._lock:
            return self._prune()

    def headroom_bytes(self, now: datetime | None = None) -> int:
        """Room for one more segment of every camera: the largest each recorded in the last day."""
        since = (now or self.clock()) - HEADROOM_WINDOW
        return sum(self.index.largest_segment_bytes(since).values())

    def _headroom_percent(self, now: datetime) -> float:
        room = self.headroom_bytes(now)
        if not room:
            return 0.0
        total, _used, _free = self.disk_usage(self.index.root)
        pct = 100.0 * room / total if total else 0.0
        if self.policy.quota_bytes:
            pct = max(pct, 100.0 * room / self.policy.quota_bytes)
        # Never so much that keeping it would prune everything on a disk smaller than a few segments.
        return min(pct, max(0.0, (100.0 - self.policy.min_free_percent) / 2))

    def _prune(self) -> PruneReport:
        now = self.clock()
        rep = PruneReport()
        self.index.root.mkdir(parents=True, exist_ok=True)
        self.sync_holds()
        windows = self._windows()
        loaded: list[Sequence[EvidenceHold]] = []  # the holds in force, read once a segment is to be judged

        def held(seg: SegmentInfo) -> bool:
            if not loaded:
                loaded.append(self.holds())
            return self._held(loaded[0], windows, seg)

        cutoff = now - timedelta(days=self.policy.retention_days)
        for seg in self.index.finished(ended_before=cutoff):
            if held(seg):
                rep.held_kept += 1
            else:
                self._delete(seg, PRUNED_FOR_AGE, rep)
                rep.pruned_for_age += 1
        used = self._footage_bytes() if self.policy.quota_bytes else None  # summed once, then kept up to date
        rep.free_percent = self.free_percent(used)
        floor = self.policy.min_free_percent
        rep.headroom_percent = self._headroom_percent(now) if floor > 0 else 0.0
        target = floor + rep.headroom_percent
        # The rest of the footage is read only when space is short (most passes it is not).
        short = rep.free_percent < target
        for seg in self.index.finished(ended_from=cutoff) if short else ():
            if rep.free_percent >= target:
                break
            if held(seg):
                rep.held_segments += 1
                rep.held_bytes += seg.bytes
                continue
            freed = rep.bytes_freed
            self._delete(seg, space_reason(f"{now:%Y-%m-%d}", seg.bytes), rep, space=True)
            rep.pruned_for_space += 1
            rep.bytes_freed_for_space += rep.bytes_freed - freed
            if used is not None:
                used -= rep.bytes_freed - freed
            rep.free_percent = self.free_percent(used)
        if rep.pruned_for_space:
            n, b, _ = self._space_pruned
            self._space_pruned = (n + rep.pruned_for_space, b + rep.bytes_freed_for_space, now)
        elif not short:
            self._space_pruned = (0, 0, None)
        rep.full = rep.free_percent < floor
        self._set_full(rep, now)
        if rep.pruned_for_age or rep.pruned_for_space:
            log.info("retention: pruned %d old and %d for space (%.1f MB); %d old kept under holds; %.1f %% free",
                     rep.pruned_for_age, rep.pruned_for_space, rep.bytes_freed / 2**20, rep.held_kept,
                     rep.free_percent)
        return rep

    def _delete(self, seg: SegmentInfo, why: str, rep: PruneReport, *, space: bool = False) -> None:
        """Delete a segment's file and row; its span becomes a gap that says ``why``."""
        path = seg.path
        rel = path.relative_to(self.index.root).as_posix() if path.is_relative_to(self.index.root) else str(path)
        try:
            path.unlink(missing_ok=True)
        except OSError as e:
            rep.problems.append(f"{rel}: cannot delete: {e.strerror}")
            return
        self.index.forget(seg, why, merge=partial(_merged_space_reason, why, seg.bytes) if space else None)
        rep.bytes_freed += seg.bytes
        log.debug("pruned %s (%s)", rel, why)
        _remove_empty_parents(path.parent, self.index.root)

    def _disk_full_warning(self, rep: PruneReport, now: datetime) -> SystemWarning:
        """DISK_FULL in words that say what happened: what was pruned for space, what is held, what fills the disk."""
        pruned, pruned_bytes, last = self._space_pruned
        footage = self._footage_bytes()
        total, used, _free = self.disk_usage(self.index.root)
        floor = self.policy.min_free_percent
        params: dict[str, object] = {
            "free_percent": round(rep.free_percent, 1), "floor_percent": floor,
            "pruned_segments": pruned, "pruned_bytes": pruned_bytes,
            "pruned_last": last.isoformat() if last else None,
            "held_segments": rep.held_segments, "held_bytes": rep.held_bytes,
            "footage_bytes": footage, "other_bytes": max(0, used - footage), "disk_bytes": total,
        }
        parts = [f"Recording stopped: the footage disk has {rep.free_percent:.1f} % free (the floor is {floor:g} %)."]
        if pruned and last is not None:
            parts.append(f"{pruned} segment{'s' if pruned != 1 else ''} ({_mb(pruned_bytes)}) "
                         f"{'were' if pruned != 1 else 'was'} pruned for space, the last at "
                         f"{last.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC.")
        else:
            parts.append("Nothing was pruned: no footage could be.")
        if rep.held_segments:
            parts.append(f"The remaining {rep.held_segments} segment{'s' if rep.held_segments != 1 else ''} "
                         f"({_mb(rep.held_bytes)}) {'are' if rep.held_segments != 1 else 'is'} held as evidence "
                         "and kept.")
        else:
            parts.append("No footage is held as evidence" + (" and none is left to prune." if not footage else "."))
        if self.policy.quota_bytes:
            parts.append(f"Footage takes {_mb(footage)} of its {_mb(self.policy.quota_bytes)} quota.")
        else:
            parts.append(f"Footage takes {_mb(footage)} of the disk's {_mb(total)}; other files take "
                         f"{_mb(max(0, used - footage))}.")
        advice = ["release holds that are no longer needed"] if rep.held_segments else []
        advice.append("free or add disk space")
        parts.append(f"{' or '.join(advice).capitalize()}; recording resumes by itself.")
        return SystemWarning("DISK_FULL", "red", " ".join(p for p in parts if p), now, params)

    def _set_full(self, rep: PruneReport, now: datetime) -> None:
        before = self._warning
        if rep.full and before is None:
            self._warning = warning = self._disk_full_warning(rep, now)
            log.error("%s", warning.message)
            reason = "disk full of held footage" if rep.held_segments else "disk full"
            with self.store.write() as s:
                s.add(AuditEntry(at=now, actor="system", action="recording.stopped", subject="footage",
                                 detail={"reason": reason, **warning.params}))
        elif not rep.full and before is not None:
            self._warning = None
            log.warning("recording resumes: %.1f %% free", rep.free_percent)
            with self.store.write() as s:
                s.add(AuditEntry(at=now, actor="system", action="recording.resumed", subject="footage",
                                 detail={"free_percent": rep.free_percent}))
        if self._warning is not before and self.on_full is not None:
            self.on_full(self._warning)

    @property
    def system_warning(self) -> SystemWarning | None:
        return self._warning

    def run(self, stop: threading.Event, interval: float = 60.0) -> None:
        """Prune every ``interval`` seconds until ``stop`` is set (Frigate's service loop)."""
        while True:
            try:
                self.prune()
            except Exception:
                log.exception("retention pass failed; trying again in %.0f s", interval)
            if stop.wait(interval):
                return


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB"


def _merged_space_reason(why: str, freed: int, before: str) -> str | None:
    """The gap just before, pruned for space the same day, grows by this segment's bytes (None: a new gap)."""
    m, here = _SPACE_REASON.match(before), _SPACE_REASON.match(why)
    if m and here and m.group(1) == here.group(1):
        return space_reason(m.group(1), int(m.group(2)) + freed)
    return None


def _remove_empty_parents(folder: Path, root: Path) -> None:
    try:
        while folder != root and root in folder.parents and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent
    except OSError:
        pass
