"""The shape of the warning monitor's snapshot as the panels read it (``app.monitor.WarningSnapshot``).

A structural type, so the panels depend only on the fields they read; any object with them
(the monitor's frozen dataclass, or a test's) will do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from supervision.lifecycle import WarningView

__all__ = ["SnapshotLike", "SnapshotRelay", "lit_views", "unacknowledged_red_windows"]


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
    out = set()
    for v in snap.views:
        w = v.warning
        if str(w.level) == "red" and str(v.state) == "active" and w.window_id and \
                str(snap.by_window.get(w.window_id, "")) == "red":
            out.add(w.window_id)
    return frozenset(out)


class _Monitor(Protocol):
    def add_listener(self, cb: Callable[[Any], None]) -> None: ...
    def remove_listener(self, cb: Callable[[Any], None]) -> None: ...


class SnapshotRelay(QObject):
    """Brings the warning monitor's snapshots to the GUI thread: the monitor calls ``post`` on its
    own thread after each pass that published; ``snapshot(snap)`` is emitted, queued, on the GUI
    thread. Connect the lights board's and the warnings panel's ``set_snapshot`` to it. ``close()``
    detaches it from the monitor."""

    snapshot = Signal(object)

    def __init__(self, monitor: _Monitor | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._monitor = monitor
        if monitor is not None:
            monitor.add_listener(self.post)

    def post(self, snap: Any) -> None:
        """Any thread."""
        with contextlib.suppress(RuntimeError):  # the relay's QObject is gone (window closed)
            self.snapshot.emit(snap)

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.remove_listener(self.post)
            self._monitor = None
