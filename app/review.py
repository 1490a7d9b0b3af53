"""What a review window shows of one camera over a span, and where "show footage" opens (Qt-free).

The timeline of a camera is its recorded spans, the gaps between them with why there is no
footage, and the markers a reviewer jumps between (warnings by level, bookmarks, complaints, bad
reviews, evidence holds). The desktop paints these values; it never reads the store or the files
itself (loading runs on a worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["CameraTimeline", "FootageTarget", "Gap", "GapReason", "Marker", "MarkerKind", "Span"]


@dataclass(frozen=True, slots=True)
class Span:
    """Recorded footage that can be played, [start, end) in UTC."""

    start: datetime
    end: datetime


class GapReason(StrEnum):
    """Why there is no footage to play over a gap (the desktop words each one)."""

    CAMERA_DOWN = "camera_down"  # the camera was unreachable or sent nothing
    DISK_FULL = "disk_full"  # recording stopped for lack of space
    RECORDER_BEHIND = "recorder_behind"  # the recorder fell behind or was paused and dropped footage
    FILE_MISSING = "file_missing"  # a segment on record is gone from the disk
    CORRUPT = "corrupt"  # a segment on record cannot be read
    PRUNED = "pruned"  # retention removed it
    NOT_RECORDING = "not_recording"  # nothing was recording (terminal stopped, camera not configured)


@dataclass(frozen=True, slots=True)
class Gap:
    """A span without footage to play, [start, end) in UTC; ``detail`` is the recorder's own words (English,
    for a tooltip's second line and logs); ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None
    reason: GapReason
    detail: str = ""


class MarkerKind(StrEnum):
    WARNING = "warning"
    BOOKMARK = "bookmark"
    COMPLAINT = "complaint"
    BAD_REVIEW = "bad_review"  # an evaluation graded 2 or lower
    HOLD = "hold"  # an evidence hold (a span: ``end`` set)


@dataclass(frozen=True, slots=True)
class Marker:
    """Something a reviewer jumps to on a camera's timeline.

    ``at`` is the instant "show footage" opens for it (see :func:`footage_target`); holds also have
    ``end``. ``level`` is the warning's level ("notice", "yellow", "red"), else None. ``ref`` is the
    record's id (warning key, bookmark id, complaint id, evaluation id, hold id). ``code`` and
    ``params`` let the desktop word it (a warning's rule code, a bookmark's or hold's note, a
    complaint's or review's text).
    """

    kind: MarkerKind
    at: datetime
    ref: str
    end: datetime | None = None
    level: str | None = None
    code: str = ""
    text: str = ""


@dataclass(frozen=True, slots=True)
class CameraTimeline:
    """One camera's timeline over [start, end): spans and gaps in time order, markers by ``at``."""

    camera_id: str
    window_id: str | None
    start: datetime
    end: datetime
    spans: tuple[Span, ...]
    gaps: tuple[Gap, ...]
    markers: tuple[Marker, ...]


@dataclass(frozen=True, slots=True)
class FootageTarget:
    """Where "show footage" opens: the window's cameras (the first is the one to show) at an instant
    (None: the reviewer picks it, e.g. a complaint without ``about_at``)."""

    window_id: str | None
    camera_ids: tuple[str, ...]
    at: datetime | None
