"""The footage index: recorded segments, gaps where a camera was down, and evidence holds.

Segment files live under ``DATA/footage/<camera>/YYYY/MM/DD/HH/`` (UTC); these rows say what each
file holds. A segment is ``open`` while it is written, ``closed`` with its SHA-256 once finished,
``recovered`` when a restart found it open (after a crash) and indexed what was intact, and
``missing`` or ``corrupt`` when a check found the file gone or changed. Pruned segments are deleted
rows (their files go with them); the gap they leave is visible as the absence of footage.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from supervision.store.models import Base

__all__ = ["EvidenceHold", "FootageGap", "HoldKind", "Segment", "SegmentStatus"]


class SegmentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    RECOVERED = "recovered"
    MISSING = "missing"
    CORRUPT = "corrupt"


class Segment(Base):
    """One recorded file of one camera."""

    __tablename__ = "segments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime]  # wall-clock (UTC) of the first frame
    end: Mapped[datetime]  # wall-clock (UTC) just after the last frame; grows while open
    # Relative to the footage root, "/"-separated. Named after the first estimate of `start`, which is
    # refined when the segment closes: always use this column, never recompute the name.
    path: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))  # set when closed or recovered
    status: Mapped[str] = mapped_column(String(12), default=SegmentStatus.OPEN.value)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    first_pts: Mapped[float | None] = mapped_column(Float)  # the file's pts (s) of its first frame: maps to `start`
    codec: Mapped[str | None] = mapped_column(String(20))
    width: Mapped[int | None]
    height: Mapped[int | None]
    problem: Mapped[str | None] = mapped_column(Text)  # what a check found wrong, in words


class FootageGap(Base):
    """A span with no footage because the camera was down or the recorder could not keep up."""

    __tablename__ = "footage_gaps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime]
    end: Mapped[datetime | None]  # None while it lasts
    reason: Mapped[str] = mapped_column(Text)


class HoldKind(StrEnum):
    WARNING = "warning"  # a yellow or red warning of the camera's window, with a margin
    BOOKMARK = "bookmark"
    COMPLAINT = "complaint"
    MANUAL = "manual"  # an explicit hold placed by a reviewer


class EvidenceHold(Base):
    """Footage that must not be pruned: a camera (or every camera of a window) over a span."""

    __tablename__ = "evidence_holds"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)  # e.g. "warning:C-1/OVERDUE", "manual:<uuid>"
    kind: Mapped[str] = mapped_column(String(20))
    camera_id: Mapped[str | None] = mapped_column(String(200))  # None: every camera of window_id
    window_id: Mapped[str | None] = mapped_column(String(200))
    start: Mapped[datetime]
    end: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    created_by: Mapped[str]
    released_at: Mapped[datetime | None]  # a hold ends only when released on purpose
    released_by: Mapped[str | None]


Index("ix_segments_camera_start", Segment.camera_id, Segment.start)
Index("ix_segments_status", Segment.status)
Index("ix_gaps_camera_start", FootageGap.camera_id, FootageGap.start)
Index("ix_holds_camera", EvidenceHold.camera_id, EvidenceHold.start)
Index("ix_holds_window", EvidenceHold.window_id, EvidenceHold.start)
