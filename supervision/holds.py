"""Which records hold footage as evidence: domain policy (``video.retention`` only applies the holds).

- a yellow or red warning of a window holds that window's cameras from ``margin`` before it was
  raised to ``margin`` after it cleared (while it lasts, up to now); a ``POST_LEFT`` from
  ``margin`` before the seat became empty (it is raised only once it has been empty a while);
- a bookmark holds its camera ``margin`` either side;
- a complaint holds its window's (or, without one, its hall's) cameras around the incident
  (``about_at``), or for the day before it was received when the incident time is unknown.

A reviewer's explicit holds are not derived from records; retention places them directly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from supervision.store.footage import HoldKind
from supervision.store.models import BookmarkRow, CameraRow, ComplaintRow, SeatVacancyRow, WarningState

__all__ = ["HELD_LEVELS", "IN_FORCE_AHEAD", "WantedHold", "evidence_holds", "iter_evidence_holds"]

HELD_LEVELS = ("yellow", "red")
"""The warning levels whose footage is evidence (a notice is not)."""

IN_FORCE_AHEAD = timedelta(minutes=15)
"""How far past now + margin the hold of a warning in force is written (``WantedHold.ahead``)."""

COMPLAINT_LOOKBACK = timedelta(days=1)
"""Held before a complaint's receipt when the time of the incident is not known."""


@dataclass(frozen=True, slots=True)
class WantedHold:
    """A hold a record calls for: a camera (or every camera of a window) over ``[start, end)``."""

    id: str  # stable per record: "warning:<key>", "bookmark:<id>", "complaint:<id>[:<camera>]"
    kind: HoldKind
    camera_id: str | None  # None: every camera of window_id
    window_id: str | None
    start: datetime
    end: datetime
    reason: str  # English, for the hold's row and the log
    # A hold whose end moves with the clock (a warning in force: up to now + margin) is written
    # this much further ahead, so that it is rewritten once per ``ahead``, not on every retention
    # pass (tens of thousands of rows a minute in a large hall). It never shrinks: a warning that
    # clears meanwhile keeps up to ``ahead`` more footage than its margin.
    ahead: timedelta = timedelta(0)


def evidence_holds(s: Session, now: datetime, margin: timedelta) -> list[WantedHold]:
    """The holds the warnings, bookmarks and complaints in the store call for at ``now``."""
    return list(iter_evidence_holds(s, now, margin))


def iter_evidence_holds(s: Session, now: datetime, margin: timedelta, *, chunk: int = 1000) -> Iterator[WantedHold]:
    """:func:`evidence_holds` one at a time, the warnings read ``chunk`` rows at a time: every
    yellow and red warning (tens of thousands in a large hall) on every retention pass, so neither
    their rows nor their holds are all in memory at once."""
    # Columns, not ORM objects, streamed (an ORM session's result is otherwise read whole first).
    q = select(WarningState.key, WarningState.code, WarningState.window_id, WarningState.since,
               WarningState.cleared_at, WarningState.max_level).where(WarningState.max_level.in_(HELD_LEVELS))
    for part in s.execute(q.execution_options(yield_per=chunk)).partitions():
        for key, code, window_id, since, cleared_at, max_level in part:
            if window_id is None:
                continue
            start = since
            if code == "POST_LEFT":  # raised once the seat was empty long enough: hold from when it emptied
                start = _seat_emptied(s, window_id, since) or since
            yield WantedHold(f"warning:{key}", HoldKind.WARNING, None, window_id, start - margin,
                             (cleared_at or now) + margin, f"{max_level} warning {key}",
                             IN_FORCE_AHEAD if cleared_at is None else timedelta(0))
    out: list[WantedHold] = []
    for b in s.scalars(select(BookmarkRow).where(BookmarkRow.deleted.is_(False))):
        if b.camera_id and b.at:
            out.append(WantedHold(f"bookmark:{b.id}", HoldKind.BOOKMARK, b.camera_id, None, b.at - margin,
                                  b.at + margin, f"bookmark by {b.by or '?'}: {b.note or ''}".strip()))
    for c in s.scalars(select(ComplaintRow).where(ComplaintRow.deleted.is_(False))):
        if c.about_at is not None:
            start, end = c.about_at - margin, c.about_at + margin
        elif c.received_at is not None:
            start, end = c.received_at - COMPLAINT_LOOKBACK, c.received_at + margin
        else:
            continue
        reason = f"complaint {c.id}"
        if c.window_id:
            out.append(WantedHold(f"complaint:{c.id}", HoldKind.COMPLAINT, None, c.window_id, start, end, reason))
        elif c.hall_id:
            cameras = s.scalars(select(CameraRow.id).where(CameraRow.hall_id == c.hall_id,
                                                           CameraRow.deleted.is_(False)))
            out.extend(WantedHold(f"complaint:{c.id}:{cam}", HoldKind.COMPLAINT, cam, None, start, end, reason)
                       for cam in cameras)
    yield from out


def _seat_emptied(s: Session, window_id: str, since: datetime) -> datetime | None:
    """When the seat of a window became empty for the absence a ``POST_LEFT`` raised at ``since``
    is about: the earliest vacancy of the window still open at ``since``."""
    return s.scalar(
        select(func.min(SeatVacancyRow.started_at)).where(
            SeatVacancyRow.window_id == window_id, SeatVacancyRow.deleted.is_(False),
            SeatVacancyRow.started_at <= since,
            or_(SeatVacancyRow.ended_at.is_(None), SeatVacancyRow.ended_at >= since))
    )
