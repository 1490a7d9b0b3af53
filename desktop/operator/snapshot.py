"""The shape of the warning monitor's snapshot as the panels read it (``app.monitor.WarningSnapshot``),
and how a snapshot reaches the GUI thread with its difference to the previous one worked out.

A structural type, so the panels depend only on the fields they read; any object with them
(the monitor's frozen dataclass, or a test's) will do.

The warnings list holds some ten thousand rows; rebuilding it for every snapshot stalls the GUI
thread. So :class:`SnapshotRelay` works out, on the monitor's thread, what a new snapshot changes
against the one it posted before (:func:`diff_views`: rows removed, inserted, changed — by key,
and by identity: the monitor keeps the SAME view object for a warning whose view did not change)
and what the panels would otherwise compute per row (the windows that blink, the new reds, the
windows named). The panels apply only that difference.
"""

from __future__ import annotations

import bisect
import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from supervision import foreground
from supervision.lifecycle import WarningView

__all__ = [
    "RelayedSnapshot",
    "RowChanges",
    "SnapshotLike",
    "SnapshotRelay",
    "active_reds",
    "diff_views",
    "lit_views",
    "new_reds",
    "relay_snapshot",
    "row_numbers",
    "unacknowledged_red_windows",
]


class SnapshotLike(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def views(self) -> Sequence[WarningView]: ...
    @property
    def by_window(self) -> Mapping[str, str]: ...
    @property
    def by_department(self) -> Mapping[str, str]: ...
    @property
    def counts(self) -> Mapping[str, int]: ...
    @property
    def fallback_years(self) -> frozenset[int]: ...
    @property
    def generation(self) -> int: ...


def lit_views(snap: SnapshotLike) -> list[WarningView]:
    """The warnings that can light a window: undisposed ones."""
    return [v for v in snap.views if str(v.state) in ("active", "acknowledged")]


def unacknowledged_red_windows(snap: SnapshotLike) -> frozenset[str]:
    """Windows whose light is red because of a red nobody has acknowledged yet (they blink)."""
    if isinstance(snap, RelayedSnapshot):
        return snap.blinking
    return _blinking(snap.views, snap.by_window)


def _blinking(views: Sequence[WarningView], by_window: Mapping[str, str]) -> frozenset[str]:
    out = set()
    for v in views:
        w = v.warning
        if w.level == "red" and v.state == "active" and w.window_id and str(by_window.get(w.window_id, "")) == "red":
            out.add(w.window_id)
    return frozenset(out)


def active_reds(views: Sequence[WarningView]) -> dict[str, WarningView]:
    """The red cards nobody acknowledged yet, by key (no new object per red: a snapshot can hold
    tens of thousands, and every snapshot gets its map)."""
    return {v.key: v for v in views if v.warning.level == "red" and v.state == "active"}


def new_reds(reds: Mapping[str, WarningView], known: Mapping[str, WarningView]) -> list[WarningView]:
    """The reds of ``reds`` not among ``known``: new keys, and reds that cleared and rose again (a
    later time they became red)."""
    out = []
    for k, v in reds.items():
        was = known.get(k)
        if was is None or (was is not v and _red_since(was) != _red_since(v)):
            out.append(v)
    return out


def _red_since(v: WarningView) -> datetime:
    return v.warning.level_since or v.warning.since


# -- the difference between two lists of views ---------------------------------------------------------
Range = tuple[int, int]  # first, last (inclusive), as Qt's row signals take them


@dataclass(frozen=True, slots=True)
class RowChanges:
    """How to turn the rows of ``old`` into those of ``new`` (two lists of views in display order):
    remove ``removed`` (ranges of old rows, last first), then insert ``inserted`` (ranges of new
    rows, first first), then the rows of ``changed`` (ranges of new rows) show a new view of the
    same warning. A warning that changed place is removed and inserted. ``row_of``: each new
    view's row by key."""

    removed: tuple[Range, ...]
    inserted: tuple[Range, ...]
    changed: tuple[Range, ...]
    row_of: Mapping[str, int]

    @property
    def operations(self) -> int:
        """Row signals the change costs (a model resets instead above some number)."""
        return len(self.removed) + len(self.inserted) + len(self.changed)

    @property
    def empty(self) -> bool:
        return not (self.removed or self.inserted or self.changed)


def _ranges(rows: Sequence[int]) -> list[Range]:
    """Ascending row numbers as runs of consecutive rows."""
    out: list[Range] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out


_ROWS: list[int] = []  # 0, 1, 2 … as one object each, shared by every row map and list of rows
_ROWS_LOCK = threading.Lock()


def row_numbers(n: int) -> list[int]:
    """The row numbers 0, 1, 2 … (at least ``n``; only ever grows, any thread), each the same int
    object every time: a row map of ~100 000 warnings made per snapshot would otherwise make as
    many new int objects (small blocks scattered through the heap, left behind in partly used
    memory arenas when freed)."""
    if len(_ROWS) < n:
        with _ROWS_LOCK:
            if len(_ROWS) < n:
                _ROWS.extend(range(len(_ROWS), n))
    return _ROWS


def _kept_in_order(positions: Sequence[int]) -> set[int] | None:
    """Indices into ``positions`` (distinct old rows, in new order) of a longest increasing run:
    the rows that can stay where they are while the others move. None: all of them."""
    if all(positions[i] < positions[i + 1] for i in range(len(positions) - 1)):
        return None
    rows = row_numbers(len(positions))
    tails: list[int] = []  # smallest last old row of an increasing run of each length
    tail_at: list[int] = []  # its index in positions
    back = [-1] * len(positions)
    for i, p in zip(rows, positions, strict=False):
        j = bisect.bisect_left(tails, p)
        back[i] = tail_at[j - 1] if j else -1
        if j == len(tails):
            tails.append(p)
            tail_at.append(i)
        else:
            tails[j], tail_at[j] = p, i
    keep: set[int] = set()
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep.add(rows[i])
        i = back[i]
    return keep


def diff_views(old: Sequence[WarningView], new: Sequence[WarningView],
               old_row_of: Mapping[str, int] | None = None) -> RowChanges:
    """The row changes from ``old`` to ``new`` (pure; any thread). A view is unchanged when it is
    the same object (``is``) or equal. ``old_row_of``: ``old``'s rows by key when known."""
    rows = row_numbers(max(len(old), len(new)))
    if old_row_of is None:
        old_row_of = dict(zip((v.key for v in old), rows, strict=False))
    row_of = dict(zip((v.key for v in new), rows, strict=False))
    common_new: list[int] = []  # new rows of warnings in both lists, in new order
    positions: list[int] = []  # their old rows
    inserted: list[int] = []
    for i, v in zip(rows, new, strict=False):
        j = old_row_of.get(v.key)
        if j is None:
            inserted.append(i)
        else:
            common_new.append(i)
            positions.append(j)
    keep = _kept_in_order(positions)
    changed: list[int] = []
    moved = False
    for n, (i, j) in enumerate(zip(common_new, positions, strict=True)):
        if keep is None or n in keep:
            a, b = old[j], new[i]
            if a is not b and a != b:
                changed.append(i)
        else:
            inserted.append(i)  # moved: removed from its old row, inserted at its new one
            moved = True
    if moved:
        inserted.sort()
    if keep is None:
        kept_old: set[int] | None = None if len(positions) == len(old) else set(positions)
    else:
        kept_old = {positions[n] for n in keep}
    removed = [] if kept_old is None else [j for j in rows[: len(old)] if j not in kept_old]
    return RowChanges(tuple(reversed(_ranges(removed))), tuple(_ranges(inserted)), tuple(_ranges(changed)),
                      row_of)


# -- the relay -------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RelayedSnapshot:
    """A snapshot as the relay posts it: the snapshot's fields, and what was worked out on the
    monitor's thread — ``changes`` from ``base`` (the views of the snapshot posted before, None
    for the first), the windows that blink, the unacknowledged reds and the windows named."""

    snapshot: Any
    base: Sequence[WarningView] | None
    changes: RowChanges
    blinking: frozenset[str]
    reds: Mapping[str, WarningView]
    window_ids: frozenset[str]
    new_reds: tuple[WarningView, ...] = ()  # unacknowledged reds not among ``base``'s

    def touched(self) -> list[WarningView]:
        """The views new or changed since ``base`` (every view when there was none)."""
        views = self.snapshot.views
        if self.base is None:
            return list(views)
        return [views[i] for first, last in (*self.changes.inserted, *self.changes.changed)
                for i in range(first, last + 1)]

    @property
    def at(self) -> datetime:
        return self.snapshot.at  # type: ignore[no-any-return]

    @property
    def views(self) -> Sequence[WarningView]:
        return self.snapshot.views  # type: ignore[no-any-return]

    @property
    def by_window(self) -> Mapping[str, str]:
        return self.snapshot.by_window  # type: ignore[no-any-return]

    @property
    def by_department(self) -> Mapping[str, str]:
        return self.snapshot.by_department  # type: ignore[no-any-return]

    @property
    def counts(self) -> Mapping[str, int]:
        return self.snapshot.counts  # type: ignore[no-any-return]

    @property
    def fallback_years(self) -> frozenset[int]:
        return self.snapshot.fallback_years  # type: ignore[no-any-return]

    @property
    def generation(self) -> int:
        return self.snapshot.generation  # type: ignore[no-any-return]


def relay_snapshot(snap: SnapshotLike, before: RelayedSnapshot | None) -> RelayedSnapshot:
    """``snap`` with its difference to ``before`` worked out (pure; call it off the GUI thread)."""
    if isinstance(snap, RelayedSnapshot):
        snap = snap.snapshot
    views = snap.views
    base = before.views if before is not None else None
    changes = diff_views(base or (), views, before.changes.row_of if before is not None else None)
    reds = active_reds(views)
    known = before.reds if before is not None else {}
    return RelayedSnapshot(
        snapshot=snap, base=base, changes=changes, blinking=_blinking(views, snap.by_window), reds=reds,
        window_ids=frozenset(v.warning.window_id for v in views if v.warning.window_id),
        new_reds=tuple(new_reds(reds, known)))


class _Monitor(Protocol):
    def add_listener(self, cb: Callable[[Any], None]) -> None: ...
    def remove_listener(self, cb: Callable[[Any], None]) -> None: ...


class SnapshotRelay(QObject):
    """Brings the warning monitor's snapshots to the GUI thread: the monitor calls ``post`` on its
    own thread after each pass that published; ``post`` works out there what the snapshot changes
    against the one the GUI thread was given last (:func:`relay_snapshot`), and
    ``snapshot(RelayedSnapshot)`` is emitted on the GUI thread. Connect the lights board's and the
    warnings panel's ``set_snapshot`` to it. ``close()`` detaches it from the monitor.

    ``min_interval_ms``: snapshots are handed over at most this often; one that comes sooner
    waits, and a newer one replaces it (worked out again against what the GUI thread has), so a
    burst of passes during a sync costs the GUI thread one apply per interval."""

    snapshot = Signal(object)
    _ready = Signal()  # a snapshot waits to be handed over (queued from the monitor's thread)

    def __init__(self, monitor: _Monitor | None = None, parent: QObject | None = None, *,
                 min_interval_ms: int = 0) -> None:
        super().__init__(parent)
        self._monitor = monitor
        self._last: RelayedSnapshot | None = None  # the last handed to the GUI thread
        self._pending: RelayedSnapshot | None = None  # worked out against _last, not handed over yet
        self._lock = threading.Lock()
        self._min_interval = min_interval_ms / 1000
        self._handed_at = -1e9
        self.handed = 0  # snapshots handed over (the others were replaced while waiting)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._hand_over)
        self._ready.connect(self._hand_over)
        if monitor is not None:
            monitor.add_listener(self.post)

    def post(self, snap: Any) -> None:
        """Any thread. The work is done here, not on the GUI thread."""
        while True:
            with self._lock:
                base = self._last
            relayed = relay_snapshot(snap, base)
            with self._lock:
                if self._last is base:  # else the GUI thread took another meanwhile: again against it
                    self._pending = relayed
                    break
        with contextlib.suppress(RuntimeError):  # the relay's QObject is gone (window closed)
            self._ready.emit()

    def _hand_over(self) -> None:
        """GUI thread: emit the snapshot waiting, unless the last one was handed over too recently."""
        with self._lock:
            relayed = self._pending
            if relayed is None:
                return
            wait = self._handed_at + self._min_interval - time.monotonic()
            if wait > 0:
                if not self._timer.isActive():
                    self._timer.start(max(1, int(wait * 1000)))
                return
            self._last, self._pending = relayed, None
        self._handed_at = time.monotonic()
        self.handed += 1
        with foreground.gui_busy():  # the panels take it: background threads give way meanwhile
            self.snapshot.emit(relayed)

    def latest(self) -> RelayedSnapshot | None:
        """The newest snapshot posted (with its changes), or None."""
        with self._lock:
            return self._pending or self._last

    def close(self) -> None:
        self._timer.stop()
        if self._monitor is not None:
            self._monitor.remove_listener(self.post)
            self._monitor = None
