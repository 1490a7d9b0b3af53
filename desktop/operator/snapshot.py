"""The shape of the warning monitor's snapshot as the panels read it (``app.monitor.WarningSnapshot``).

A structural type, so the panels depend only on the fields they read; any object with them
(the monitor's frozen dataclass, or a test's) will do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from supervision.lifecycle import WarningView

__all__ = ["SnapshotLike", "lit_views", "unacknowledged_red_windows"]


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
