"""What a review window shows of one camera over a span, and where "show footage" opens (Qt-free).

The timeline of a camera is its recorded spans, the gaps between them with why there is no
footage, and the markers a reviewer jumps between (warnings by level, bookmarks, complaints, bad
reviews, evidence holds). The desktop paints these values; it never reads the store or the files
itself (loading runs on a worker).

- :func:`load_timeline`: one camera over any span (ten seconds to weeks) — spans merged from the
  readable segments, gaps classified from the recorder's gap rows and the segments' statuses
  (:func:`classify_gap`), markers at the instants "show footage" uses;
- :func:`footage_target`: where "show footage" opens for a stage, case, ticket, warning, evaluation
  or complaint (issue 14, item 7; :func:`warning_instant` for warnings) and the cameras to show;
- :func:`footage_days`: the local days with footage, for the day picker;
- :class:`ThumbnailCache`: the small picture under the pointer (the keyframe at or before it);
- :class:`ReviewBackend`: the standalone ``review`` command's store, index and writes, with
  :class:`FootageActions` (bookmark, hold, release) shared with :class:`app.terminal.Terminal`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import av
import av.container
import av.error
from av.video.stream import VideoStream
from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    and_,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from app import runtime
from app.cameras import cameras_from_store
from app.executor import ActionExecutor, Outcome
from supervision.config import Config
from supervision.holds import COMPLAINT_LOOKBACK
from supervision.rules import Code, office_crossing
from supervision.snapshot import load_calendar, load_rules
from supervision.store import Store
from supervision.store.footage import EvidenceHold, FootageGap, Segment, SegmentStatus
from supervision.store.models import (
    BookmarkRow,
    CameraRow,
    CaseRow,
    ComplaintRow,
    EvaluationRow,
    SeatVacancyRow,
    TicketRow,
    WarningState,
    Window,
)
from video.archive import ArchiveFrame
from video.camera import CameraConfig
from video.display import Converter, fit_size
from video.footage import READABLE_STATUSES, FootageIndex, SegmentInfo

if TYPE_CHECKING:
    from video.retention import Retention

__all__ = [
    "BAD_REVIEW_GRADE",
    "CameraTimeline",
    "FootageActions",
    "FootageTarget",
    "Gap",
    "GapReason",
    "Marker",
    "MarkerKind",
    "ReviewBackend",
    "Span",
    "ThumbnailCache",
    "classify_gap",
    "config_cameras",
    "footage_days",
    "footage_target",
    "load_timeline",
    "warning_instant",
    "window_cameras",
]

log = logging.getLogger(__name__)

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


# -- cameras and their windows --------------------------------------------------------------------
BAD_REVIEW_GRADE: Final = 2
"""An evaluation graded this or lower is a bad review (a marker)."""


def config_cameras(cfg: Config) -> list[CameraConfig]:
    """The config's ``[[cameras]]`` as the registry takes them (they win over the store's records)."""
    return [CameraConfig(c.id, c.name or c.id, c.url, c.sub_url, c.window_id) for c in cfg.cameras]


@dataclass(frozen=True, slots=True)
class _Place:
    window_id: str | None
    hall_id: str | None


def _places(store: Store, cameras: Iterable[CameraConfig]) -> dict[str, _Place]:
    """Every camera the terminal records (the registry's rule: the store's cameras with a stream, then
    the config's, which win) with the window it watches and its hall (the camera record's, else its
    window's), in the registry's order."""
    plans = cameras_from_store(store, cameras)
    with store.read() as s:
        cam_halls: dict[str, str | None] = {
            cid: hall for cid, hall in s.execute(select(CameraRow.id, CameraRow.hall_id)
                                                 .where(CameraRow.deleted.is_(False)))}
        windows = sorted({p.window_id for p in plans if p.window_id})
        win_halls: dict[str, str | None] = {
            wid: hall for wid, hall in s.execute(select(Window.id, Window.hall_id).where(Window.id.in_(windows)))
        } if windows else {}
    return {p.id: _Place(p.window_id, (win_halls.get(p.window_id) if p.window_id else None) or cam_halls.get(p.id))
            for p in plans}


def window_cameras(store: Store, cameras: Iterable[CameraConfig], window_id: str) -> tuple[str, ...]:
    """The cameras watching a window (the store's camera records and the config's ``cameras``, the
    config winning for the same id), in the registry's order: the first is the one to show."""
    return tuple(cid for cid, p in _places(store, cameras).items() if p.window_id == window_id)


def hall_cameras(store: Store, cameras: Iterable[CameraConfig], hall_id: str) -> tuple[str, ...]:
    """The cameras of a hall (their record's hall, else their window's)."""
    return tuple(cid for cid, p in _places(store, cameras).items() if p.hall_id == hall_id)


def _camera_place(store: Store, cameras: Iterable[CameraConfig], camera_id: str) -> _Place:
    place = _places(store, cameras).get(camera_id)
    if place is not None:
        return place
    with store.read() as s:  # a camera no longer recorded (deleted, no stream) still has its footage
        row = s.get(CameraRow, camera_id)
        if row is None:
            return _Place(None, None)
        hall = row.hall_id
        if row.window_id and hall is None:
            hall = s.scalar(select(Window.hall_id).where(Window.id == row.window_id))
        return _Place(row.window_id, hall)


# -- gaps: why there is no footage ----------------------------------------------------------------
def classify_gap(reason: str) -> GapReason:
    """The kind of a gap row's reason, as the recorder (:mod:`video.recorder`) and retention
    (:mod:`video.retention`) word them."""
    t = reason.lower()
    if t.startswith("pruned"):
        return GapReason.PRUNED
    if "disk is full" in t or "disk full" in t or "no space" in t:
        return GapReason.DISK_FULL
    if "fell behind" in t or "dropped" in t or "paused" in t or "behind" in t or "recording failed" in t:
        return GapReason.RECORDER_BEHIND
    if "camera" in t:
        return GapReason.CAMERA_DOWN
    return GapReason.NOT_RECORDING


MERGE_FRAMES: Final = 1.5
"""Segments closer than this many frame intervals are one recorded span."""
_DEFAULT_FRAME: Final = 0.04
SLACK: Final = timedelta(milliseconds=500)
"""A sliver of a gap that no recorder row explains, shorter than this, belongs to its neighbour:
a gap row is placed on the recorder's first estimate of the next segment's start, refined later."""
OPEN_LAG: Final = timedelta(seconds=15)
"""An open segment's row is brought up to date every few seconds: up to this much after its end
is being recorded, not a gap."""
_BAD = {SegmentStatus.MISSING.value: GapReason.FILE_MISSING, SegmentStatus.CORRUPT.value: GapReason.CORRUPT}
_READABLE_VALUES = frozenset(st.value for st in READABLE_STATUSES)
_DEFAULT_TOLERANCE: Final = timedelta(seconds=MERGE_FRAMES * _DEFAULT_FRAME)
_RAW_START = type_coerce(Segment.start, String)  # SQLite: the stored text (PostgreSQL: a datetime)
_RAW_END = type_coerce(Segment.end, String)


def _dt(v: Any) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite gives the text, PostgreSQL a datetime)."""
    if isinstance(v, str):
        return datetime.fromisoformat(v).replace(tzinfo=UTC)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at.isoformat()}: give it a zone")
    return at.astimezone(UTC)


_READABLE_SQL = Segment.status.in_(sorted(_READABLE_VALUES))
_SEGMENTS_SQLITE = (
    "SELECT start, \"end\", frames, status FROM segments WHERE camera_id = ? AND start >= ? AND start < ? "
    f"AND status IN ({', '.join(repr(v) for v in sorted(_READABLE_VALUES))}) ORDER BY start, id"
)


def _sqlite_text(at: datetime) -> str:
    """An instant as SQLAlchemy stores it in SQLite (naive UTC text): comparable with the column."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _readable_rows(s: Session, camera_id: str, start: datetime, end: datetime
                   ) -> list[tuple[datetime, datetime, int, str]]:
    """The camera's readable segments overlapping [start, end) by start, as naive UTC datetimes: those
    starting in it (an index range) and the few just before that reach into it (segments of a camera
    follow each other). SQLite rows are read with the driver's cursor: a week is 10 000 rows, and
    SQLAlchemy's row and type processing was most of the time."""
    before = s.execute(select(Segment.start, Segment.end, Segment.frames, Segment.status)
                       .where(Segment.camera_id == camera_id, Segment.start < start, _READABLE_SQL)
                       .order_by(Segment.start.desc(), Segment.id.desc()).limit(4)).all()
    out = [(a.replace(tzinfo=None), b.replace(tzinfo=None), int(n or 0), st)
           for a, b, n, st in reversed(before) if b > start]
    if s.get_bind().dialect.name == "sqlite":
        cursor = s.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            raw = cursor.execute(_SEGMENTS_SQLITE, (camera_id, _sqlite_text(start), _sqlite_text(end))).fetchall()
        finally:
            cursor.close()
        iso = datetime.fromisoformat
        out.extend((iso(a), iso(b), n or 0, st) for a, b, n, st in raw)
    else:
        rows = s.execute(select(Segment.start, Segment.end, Segment.frames, Segment.status)
                         .where(Segment.camera_id == camera_id, Segment.start >= start, Segment.start < end,
                                _READABLE_SQL).order_by(Segment.start, Segment.id)).all()
        out.extend((a.astimezone(UTC).replace(tzinfo=None), b.astimezone(UTC).replace(tzinfo=None), int(n or 0), st)
                   for a, b, n, st in rows)
    return out


def _spans(s: Session, camera_id: str, start: datetime, end: datetime
           ) -> tuple[list[list[datetime]], SegmentStatus | None]:
    """The camera's readable segments overlapping [start, end) merged into spans (a segment starting
    within MERGE_FRAMES frame intervals of the previous one's end continues its span), and the status
    of the newest one."""
    spans: list[list[datetime]] = []
    tol = timedelta(0)
    last: str | None = None
    for s0, e0, frames, status in _readable_rows(s, camera_id, start, end):
        if e0 <= s0:
            continue
        if spans and s0 <= spans[-1][1] + tol:
            if e0 > spans[-1][1]:
                spans[-1][1] = e0
        else:
            spans.append([s0, e0])
        tol = (e0 - s0) * (MERGE_FRAMES / frames) if frames > 0 else _DEFAULT_TOLERANCE
        last = status
    for span in spans:
        span[0], span[1] = span[0].replace(tzinfo=UTC), span[1].replace(tzinfo=UTC)
    return spans, SegmentStatus(last) if last is not None else None


_Cause = tuple[datetime, datetime | None, GapReason, str]  # start, end (None: lasts), reason, detail


def _causes(s: Session, camera_id: str, start: datetime, end: datetime) -> list[_Cause]:
    """What explains missing footage: missing or corrupt segments first, then the recorder's gap rows."""
    bad = s.execute(select(Segment.start, Segment.end, Segment.status, Segment.problem).where(
        Segment.camera_id == camera_id, Segment.status.in_(sorted(_BAD)), Segment.start < end, Segment.end > start)
        .order_by(Segment.start, Segment.id)).all()
    out: list[_Cause] = [(s0, e0, _BAD[st], problem or "") for s0, e0, st, problem in bad]
    gaps = s.execute(select(FootageGap.start, FootageGap.end, FootageGap.reason).where(
        FootageGap.camera_id == camera_id, FootageGap.start < end,
        or_(FootageGap.end.is_(None), FootageGap.end > start)).order_by(FootageGap.start, FootageGap.id)).all()
    out.extend((g0, g1, classify_gap(text), text) for g0, g1, text in gaps)
    return out


def _explain(a: datetime, b: datetime, causes: Sequence[_Cause]) -> list[tuple[datetime, datetime, GapReason, str]]:
    """The hole [a, b) cut into pieces by cause (earlier causes in the list win where they overlap);
    what nothing explains is NOT_RECORDING, except slivers shorter than SLACK next to a cause."""
    cuts = {a, b}
    here: list[_Cause] = []
    for c in causes:
        c0, c1 = c[0], c[1] if c[1] is not None else b
        if c0 < b and c1 > a:
            here.append(c)
            cuts.update(t for t in (c0, c1) if a < t < b)
    points = sorted(cuts)
    pieces: list[list[Any]] = []
    for p0, p1 in itertools.pairwise(points):
        reason, detail = GapReason.NOT_RECORDING, ""
        for h0, h1, r, d in here:
            if h0 <= p0 and (h1 is None or h1 >= p1):
                reason, detail = r, d
                break
        if pieces and pieces[-1][2] is reason and pieces[-1][3] == detail:
            pieces[-1][1] = p1
        else:
            pieces.append([p0, p1, reason, detail])
    if len(pieces) > 1:  # slivers nothing explains go to their neighbour
        kept: list[list[Any]] = []
        for i, p in enumerate(pieces):
            if p[2] is GapReason.NOT_RECORDING and p[1] - p[0] < SLACK:
                if kept:
                    kept[-1][1] = p[1]
                    continue
                if i + 1 < len(pieces):
                    pieces[i + 1][0] = p[0]
                    continue
            if kept and kept[-1][2] is p[2] and kept[-1][3] == p[3]:
                kept[-1][1] = p[1]
            else:
                kept.append(p)
        pieces = kept
    return [(p[0], p[1], p[2], p[3]) for p in pieces]


def _gaps(spans: Sequence[Sequence[datetime]], newest: SegmentStatus | None, causes: Sequence[_Cause],
          start: datetime, end: datetime, now: datetime) -> list[Gap]:
    limit = min(end, now)
    if limit <= start:
        return []
    holes: list[tuple[datetime, datetime]] = []
    t = start
    for s0, e0 in spans:
        if s0 > t:
            holes.append((t, min(s0, limit)))
        t = max(t, e0)
        if t >= limit:
            break
    if t < limit:
        # An open segment is being written beyond its row's end: not a gap.
        recording = newest is SegmentStatus.OPEN and bool(spans) and limit == now and now - spans[-1][1] <= OPEN_LAG
        if not recording:
            holes.append((t, limit))
    out: list[Gap] = []
    for a, b in holes:
        if b <= a:
            continue
        for p0, p1, reason, detail in _explain(a, b, causes):
            lasting = p1 == now and now <= end and reason not in (GapReason.PRUNED, GapReason.FILE_MISSING,
                                                                   GapReason.CORRUPT)
            out.append(Gap(p0, None if lasting else p1, reason, detail))
    return out


# -- warnings: the instant "show footage" opens -------------------------------------------------
def warning_instant(
    code: str,
    since: datetime,
    *,
    stages: Sequence[tuple[str, datetime]] = (),
    submitted_at: datetime | None = None,
    issued_at: datetime | None = None,
    wait_minutes: float | None = None,
    vacancy_start: datetime | None = None,
) -> datetime:
    """The instant a warning's footage is about (issue 14, item 7), from what is known of its subject:

    - ``WAIT_LONG``: when the wait crossed the limit (``issued_at`` + the rule's minutes);
    - ``POST_LEFT``: when the seat became empty (``vacancy_start``);
    - ``FEE_MISMATCH``: the stage that charged the fee (accepted; the submission without one), as
      :mod:`supervision.rules` dates it;
    - any other case warning: the case's last stage (its submission when it has none).

    ``since`` (when the warning was raised) stands in for what is not known.
    """
    if code == Code.WAIT_LONG:
        if issued_at is not None and wait_minutes is not None:
            return issued_at + timedelta(minutes=wait_minutes)
        return since
    if code == Code.POST_LEFT:
        return vacancy_start if vacancy_start is not None else since
    if code == Code.FEE_MISMATCH:
        accepted = next((at for st, at in stages if st == "accepted"), None)
        return accepted or submitted_at or since
    if stages:
        return stages[-1][1]
    return submitted_at or since


def _stages(raw: Any) -> tuple[tuple[str, datetime], ...]:
    out = []
    for st in raw or ():
        try:
            out.append((str(st["stage"]), _utc(datetime.fromisoformat(str(st["at"])))))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def _crossed_vacancies(s: Session, window_id: str, start: datetime | None, end: datetime | None, now: datetime,
                       tz: ZoneInfo) -> list[tuple[str, datetime]]:
    """The window's absences that started in [start, end) and lasted past POST_LEFT's limit by ``now``:
    (vacancy id, when the seat became empty), oldest first."""
    rules = load_rules(s)
    if Code.POST_LEFT not in rules.enabled:
        return []
    q = select(SeatVacancyRow.id, SeatVacancyRow.started_at, SeatVacancyRow.ended_at).where(
        SeatVacancyRow.window_id == window_id, SeatVacancyRow.deleted.is_(False),
        SeatVacancyRow.started_at.is_not(None), SeatVacancyRow.started_at <= now)
    if start is not None:
        q = q.where(SeatVacancyRow.started_at >= start)
    if end is not None:
        q = q.where(SeatVacancyRow.started_at < end)
    rows = s.execute(q.order_by(SeatVacancyRow.started_at)).all()
    if not rows:
        return []
    cal = load_calendar(s)
    out = []
    for vid, started, ended in rows:
        if started is None:
            continue
        until = min(ended, now) if ended is not None else now
        if office_crossing(started, until, rules.post_left_minutes * 60, cal, tz, rules.office_hours) is not None:
            out.append((vid, started))
    return out


_SLACK_SQL: Final = timedelta(seconds=1)  # SQL narrows the rows with this much to spare; Python decides exactly


def _last_stage_at(s: Session) -> ColumnElement[Any]:
    """SQL for the instant of a case's last stage (NULL without stages), comparable with :func:`_sql_instant`."""
    if s.get_bind().dialect.name == "sqlite":
        return func.julianday(func.json_extract(CaseRow.stages, "$[#-1].at"))
    return cast(literal_column("(cases.stages -> -1 ->> 'at')"), DateTime(timezone=True))


def _sql_instant(s: Session, at: datetime) -> ColumnElement[Any]:
    if s.get_bind().dialect.name == "sqlite":
        return func.julianday(at.isoformat())
    return literal(at, DateTime(timezone=True))


def _warning_markers(s: Session, window_id: str, start: datetime, end: datetime, now: datetime,
                     tz: ZoneInfo) -> list[Marker]:
    """The window's warnings at the instants "show footage" uses for them (see :func:`warning_instant`).

    The instant of a case warning is one of its case's stages: SQL keeps the rows whose last stage
    (or, for FEE_MISMATCH, whose span from submission to last stage) meets the view, so a year of
    warnings costs an index range and a JSON look-up each in SQL, not a row each in Python."""
    ws = WarningState
    last = _last_stage_at(s)
    lo, hi = _sql_instant(s, start - _SLACK_SQL), _sql_instant(s, end + _SLACK_SQL)
    cases = s.execute(
        select(ws.key, ws.code, ws.subject, ws.max_level, ws.since, CaseRow.stages, CaseRow.submitted_at)
        .select_from(ws)
        .outerjoin(CaseRow, CaseRow.id == ws.subject)
        .where(ws.window_id == window_id, ws.code.not_in((Code.WAIT_LONG, Code.POST_LEFT)),
               or_(and_(CaseRow.id.is_(None), ws.since >= start, ws.since < end),
                   and_(last.is_(None), CaseRow.submitted_at >= start, CaseRow.submitted_at < end),
                   and_(ws.code != Code.FEE_MISMATCH, last >= lo, last < hi),
                   # FEE_MISMATCH: the acceptance, between the submission and the last stage
                   and_(ws.code == Code.FEE_MISMATCH, CaseRow.submitted_at < end, last >= lo)))
    ).all()
    out: list[Marker] = []
    for key, code, subject, level, since, stages, submitted in cases:
        at = warning_instant(code, since, stages=_stages(stages), submitted_at=submitted)
        if start <= at < end:
            out.append(Marker(MarkerKind.WARNING, at, key, level=level, code=code, text=subject))
    wait = load_rules(s).wait_minutes
    limit = timedelta(minutes=wait)
    tickets = s.execute(
        select(ws.key, ws.code, ws.subject, ws.max_level, ws.since, TicketRow.issued_at)
        .select_from(ws)
        .outerjoin(TicketRow, TicketRow.id == ws.subject)
        .where(ws.window_id == window_id, ws.code == Code.WAIT_LONG,
               or_(and_(TicketRow.issued_at.is_(None), ws.since >= start, ws.since < end),
                   and_(TicketRow.issued_at >= start - limit - _SLACK_SQL,
                        TicketRow.issued_at < end - limit + _SLACK_SQL)))
    ).all()
    for key, code, subject, level, since, issued in tickets:
        at = warning_instant(code, since, issued_at=issued, wait_minutes=wait)
        if start <= at < end:
            out.append(Marker(MarkerKind.WARNING, at, key, level=level, code=code, text=subject))
    post_level = s.scalar(select(ws.max_level).where(ws.key == f"{window_id}/{Code.POST_LEFT}"))
    if post_level is not None:
        for _vid, started in _crossed_vacancies(s, window_id, start, end, now, tz):
            out.append(Marker(MarkerKind.WARNING, started, f"{window_id}/{Code.POST_LEFT}", level=post_level,
                              code=Code.POST_LEFT, text=window_id))
    return out


def _markers(s: Session, camera_id: str, place: _Place, start: datetime, end: datetime, now: datetime,
             tz: ZoneInfo) -> list[Marker]:
    out: list[Marker] = []
    window_id = place.window_id
    if window_id is not None:
        out += _warning_markers(s, window_id, start, end, now, tz)
        for eid, at, grade, case_id in s.execute(
            select(EvaluationRow.id, EvaluationRow.at, EvaluationRow.grade, EvaluationRow.case_id).where(
                EvaluationRow.window_id == window_id, EvaluationRow.deleted.is_(False),
                EvaluationRow.grade <= BAD_REVIEW_GRADE, EvaluationRow.at >= start, EvaluationRow.at < end)):
            if at is None:
                continue
            out.append(Marker(MarkerKind.BAD_REVIEW, at, eid, code=str(grade), text=case_id or ""))
    for bid, at, note in s.execute(select(BookmarkRow.id, BookmarkRow.at, BookmarkRow.note).where(
            BookmarkRow.camera_id == camera_id, BookmarkRow.deleted.is_(False), BookmarkRow.at >= start,
            BookmarkRow.at < end)):
        if at is None:
            continue
        out.append(Marker(MarkerKind.BOOKMARK, at, bid, text=note or ""))
    about = [ComplaintRow.window_id == window_id] if window_id is not None else []
    if place.hall_id is not None:  # a complaint about no window in particular: every camera of its hall
        about.append(and_(ComplaintRow.window_id.is_(None), ComplaintRow.hall_id == place.hall_id))
    if about:
        c = ComplaintRow
        for cid, about_at, received, channel, summary in s.execute(
            select(c.id, c.about_at, c.received_at, c.channel, c.summary).where(
                c.deleted.is_(False), or_(*about),
                or_(and_(c.about_at.is_not(None), c.about_at >= start, c.about_at < end),
                    and_(c.about_at.is_(None), c.received_at >= start + COMPLAINT_LOOKBACK,
                         c.received_at < end + COMPLAINT_LOOKBACK)))):
            at = about_at if about_at is not None else received - COMPLAINT_LOOKBACK if received else None
            if at is None:
                continue
            out.append(Marker(MarkerKind.COMPLAINT, at, cid, code=channel or "", text=summary or ""))
    h = EvidenceHold
    whose = [h.camera_id == camera_id]
    if window_id is not None:
        whose.append(and_(h.camera_id.is_(None), h.window_id == window_id))
    for hid, h0, h1, kind, reason in s.execute(select(h.id, h.start, h.end, h.kind, h.reason).where(
            h.released_at.is_(None), h.start < end, h.end > start, or_(*whose))):
        out.append(Marker(MarkerKind.HOLD, h0, hid, end=h1, code=kind, text=reason))
    out.sort(key=lambda m: (m.at, m.kind, m.ref))
    return out


def load_timeline(
    store: Store,
    index: FootageIndex,
    camera_id: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    cameras: Iterable[CameraConfig] = (),
    tz: ZoneInfo | None = None,
) -> CameraTimeline:
    """One camera's timeline over [start, end) as of ``now``: recorded spans, the gaps between them
    (up to ``now``) with why, and the markers (see the module notes). Spans and gaps are clipped to
    the span asked for; a gap still lasting at ``now`` has no end.

    ``cameras``: the config's cameras (:func:`config_cameras`; they win over the store's records for
    the camera's window); ``tz``: the hall's zone (POST_LEFT counts office hours; default the
    config's default zone). Blocking (a few indexed queries): call it on a worker.
    """
    start, end, now = _utc(start), _utc(end), _utc(now)
    if end <= start:
        raise ValueError("a timeline's end must come after its start")
    zone = tz or ZoneInfo(Config().hall.timezone)
    place = _camera_place(store, cameras, camera_id)
    with index.store.read() as s:
        spans, newest = _spans(s, camera_id, start, end)
        causes = _causes(s, camera_id, start, end)
    with store.read() as s:
        markers = _markers(s, camera_id, place, start, end, now, zone)
    gaps = _gaps(spans, newest, causes, start, end, now)
    return CameraTimeline(
        camera_id=camera_id,
        window_id=place.window_id,
        start=start,
        end=end,
        spans=tuple(Span(max(a, start), min(b, end)) for a, b in spans if a < end and b > start),
        gaps=tuple(gaps),
        markers=tuple(markers),
    )


# -- the day picker -------------------------------------------------------------------------------
_LONGEST_SEGMENT: Final = timedelta(hours=2)  # segment_seconds is at most an hour: bounds the index range
def footage_days(index: FootageIndex, camera_id: str, tz: ZoneInfo, start: date, end: date) -> frozenset[date]:
    """The local days in [start, end] (inclusive) on which the camera has readable footage.

    One query: readable segments grouped by their UTC hour, each group's first start and last end
    (a group reaching past local midnight has footage on both sides of it).
    """
    if end < start:
        return frozenset()
    lo = datetime.combine(start, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    store = index.store
    hour = (func.substr(_RAW_START, 1, 13) if store.is_sqlite else func.date_trunc("hour", Segment.start))
    q = (select(func.min(_RAW_START), func.max(_RAW_END))
         .where(Segment.camera_id == camera_id, Segment.start >= lo - _LONGEST_SEGMENT, Segment.start < hi,
                Segment.end > lo,
                Segment.status.in_(list(_READABLE_VALUES)), Segment.end > Segment.start)
         .group_by(hour))
    days: set[date] = set()
    with store.read() as s:
        for a, b in s.execute(q):
            first, last = max(_dt(a), lo), min(_dt(b), hi)
            if last <= first:
                continue
            d = first.astimezone(tz).date()
            final = (last - timedelta(microseconds=1)).astimezone(tz).date()
            while d <= final:
                days.add(d)
                d += timedelta(days=1)
    return frozenset(d for d in days if start <= d <= end)


# -- "show footage" -------------------------------------------------------------------------------
TARGET_KINDS: Final = ("stage", "case", "ticket", "warning", "evaluation", "complaint")


def footage_target(store: Store, kind: str, ref: str, *, tz: ZoneInfo, cameras: Iterable[CameraConfig] = (),
                   now: datetime | None = None) -> FootageTarget:
    """Where "show footage" opens for a record (issue 14, item 7).

    ``kind`` and ``ref``: "stage" ("<case id>/<position in its stages, from 0, or a stage name: its
    last entry>"), "case", "ticket", "warning" (its key), "evaluation", "complaint" (their ids). The
    cameras are the window's (the store's records and ``cameras``, the config's, which win); for a
    record without a window, those of its hall. A ``ValueError`` names what is wrong with the
    request (an unknown kind, no such record).
    """
    moment = _utc(now) if now is not None else datetime.now(UTC)
    with store.read() as s:
        window_id, hall_id, at = _target(s, kind, ref, tz, moment)
    places = _places(store, cameras)
    if window_id is not None:
        ids = tuple(cid for cid, p in places.items() if p.window_id == window_id)
    elif hall_id is not None:
        ids = tuple(cid for cid, p in places.items() if p.hall_id == hall_id)
    else:
        ids = ()
    return FootageTarget(window_id=window_id, camera_ids=ids, at=at)


def _case(s: Session, case_id: str) -> CaseRow:
    row = s.get(CaseRow, case_id)
    if row is None or row.deleted:
        raise ValueError(f"no case {case_id!r}")
    return row


def _case_last(row: CaseRow) -> datetime | None:
    stages = _stages(row.stages)
    return stages[-1][1] if stages else row.submitted_at


def _target(s: Session, kind: str, ref: str, tz: ZoneInfo, now: datetime
            ) -> tuple[str | None, str | None, datetime | None]:
    """(window, hall, instant) of a record."""
    if kind == "stage":
        case_id, _, which = ref.rpartition("/")
        if not case_id or not which:
            raise ValueError(f"a stage is named '<case id>/<stage>', not {ref!r}")
        row = _case(s, case_id)
        stages = _stages(row.stages)
        found: datetime | None = None
        if which.lstrip("-").isdigit():
            i = int(which)
            if -len(stages) <= i < len(stages):
                found = stages[i][1]
        else:
            found = next((at for st, at in reversed(stages) if st == which), None)
        if found is None:
            raise ValueError(f"case {case_id!r} has no stage {which!r}")
        return row.window_id, None, found
    if kind == "case":
        row = _case(s, ref)
        return row.window_id, None, _case_last(row)
    if kind == "ticket":
        t = s.get(TicketRow, ref)
        if t is None or t.deleted:
            raise ValueError(f"no ticket {ref!r}")
        return t.window_id, t.hall_id, t.called_at or t.issued_at
    if kind == "evaluation":
        e = s.get(EvaluationRow, ref)
        if e is None or e.deleted:
            raise ValueError(f"no evaluation {ref!r}")
        return e.window_id, None, e.at
    if kind == "complaint":
        c = s.get(ComplaintRow, ref)
        if c is None or c.deleted:
            raise ValueError(f"no complaint {ref!r}")
        at = c.about_at if c.about_at is not None else (
            c.received_at - COMPLAINT_LOOKBACK if c.received_at is not None else None)
        return c.window_id, c.hall_id, at
    if kind == "warning":
        return _warning_target(s, ref, tz, now)
    raise ValueError(f"unknown kind {kind!r} (one of {', '.join(TARGET_KINDS)})")


def _warning_target(s: Session, key: str, tz: ZoneInfo, now: datetime
                    ) -> tuple[str | None, str | None, datetime | None]:
    state = s.get(WarningState, key)
    subject, _, code = key.rpartition("/")
    if not subject or not code:
        raise ValueError(f"a warning key is '<subject>/<code>', not {key!r}")
    since = state.since if state is not None else None
    window_id = state.window_id if state is not None else None
    if code == Code.WAIT_LONG:
        t = s.get(TicketRow, subject)
        if t is None or t.issued_at is None:
            if since is None:
                raise ValueError(f"no warning {key!r}")
            return window_id, None, since
        at = warning_instant(code, since or t.issued_at, issued_at=t.issued_at,
                             wait_minutes=load_rules(s).wait_minutes)
        return window_id or t.window_id, t.hall_id, at
    if code == Code.POST_LEFT:
        crossed = _crossed_vacancies(s, subject, None, None, now, tz)
        if not crossed and since is None:
            raise ValueError(f"no warning {key!r}")
        # The latest absence that crossed the limit (the warning's current episode) — at or before
        # ``since`` when the warning is on record and nothing newer crossed.
        at = warning_instant(code, since or now, vacancy_start=crossed[-1][1] if crossed else None)
        return subject, None, at
    row = s.get(CaseRow, subject)
    if row is None or row.deleted:
        if since is None:
            raise ValueError(f"no warning {key!r}")
        return window_id, None, since
    at = warning_instant(code, since or row.submitted_at or now, stages=_stages(row.stages),
                         submitted_at=row.submitted_at)
    return window_id or row.window_id, None, at


# -- thumbnails -----------------------------------------------------------------------------------
class _ThumbFile:
    """One open segment file, for keyframes only."""

    def __init__(self, info: SegmentInfo) -> None:
        self.info = info
        path = info.path
        if info.status in (SegmentStatus.CLOSED, SegmentStatus.RECOVERED) and path.stat().st_size != info.bytes:
            raise OSError(f"{path.name} has another size than recorded")
        self.container: av.container.InputContainer = av.open(str(path))
        try:
            if not self.container.streams.video:
                raise ValueError(f"{path.name}: no video")
            self.stream: VideoStream = self.container.streams.video[0]
            self.codec = self.stream.codec_context
            self.codec.thread_count = 1
            self.codec.thread_type = "SLICE"
            self.tb = self.stream.time_base or Fraction(1, 90_000)
            self.gop = max(1, round(2 / self.tb))  # looked back on a seek; grows while no keyframe shows up
            first: int | None = None
            for p in self.container.demux(self.stream):
                if p.size and (p.pts is not None or p.dts is not None):
                    first = p.pts if p.pts is not None else p.dts
                    break
            if first is None:
                raise ValueError(f"{path.name}: no frames")
            self.first_pts = first
        except BaseException:
            self.container.close()
            raise

    def close(self) -> None:
        self.container.close()

    def keyframe(self, at: datetime) -> tuple[av.VideoFrame, int] | None:
        """The decoded keyframe at or before ``at`` (the file's first keyframe when ``at`` is before it)."""
        us = (at - self.info.start) // timedelta(microseconds=1)
        t = self.first_pts + int(Fraction(us, 1_000_000) / self.tb)
        back = self.gop
        while True:
            aim = max(t - back, self.first_pts)
            self.container.seek(aim, stream=self.stream, backward=True, any_frame=False)
            best: av.Packet[VideoStream] | None = None
            first_kf: av.Packet[VideoStream] | None = None
            for p in self.container.demux(self.stream):
                if p.size == 0:
                    break
                ts = p.pts if p.pts is not None else p.dts
                if ts is None:
                    continue
                if p.dts is not None and p.dts > t and (best is not None or aim > self.first_pts):
                    break
                if p.is_keyframe:
                    if ts <= t:
                        best = p
                    elif first_kf is None:
                        first_kf = p
                        if aim <= self.first_pts:
                            break
            if best is None and aim <= self.first_pts:
                best = first_kf
            if best is not None or aim <= self.first_pts:
                break
            back *= 2
            self.gop = back
        if best is None or best.pts is None:
            return None
        self.codec.flush_buffers()
        frames = self.codec.decode(best)
        if not frames:  # a decoder that holds frames back: drain it
            frames = self.codec.decode(None)
        self.codec.flush_buffers()
        if not frames:
            return None
        return frames[0], best.pts

    def wall(self, pts: int) -> datetime:
        us = -((-(pts - self.first_pts) * self.tb * 1_000_000) // 1)  # ceil, as the archive reader
        return self.info.start + timedelta(microseconds=int(us))


_Key = tuple[str, int]


class ThumbnailCache:
    """Small pictures of a camera's footage for hovering over a timeline: the keyframe at or before
    an instant, decoded and scaled to fit ``width`` × ``height``; thread-safe (decodes one at a
    time), least recently used first out.

    Instants are quantised to ``bucket`` (the keyframe at or before the bucket's start, or the
    segment's first when the segment starts inside the bucket, is the picture of the whole bucket
    within that segment), so moving the pointer within a bucket costs nothing; an instant in a gap
    has no picture. At most
    ``max_files`` segment files stay open (closed as others are needed and by :meth:`close`).
    """

    def __init__(self, index: FootageIndex, *, width: int = 192, height: int = 108, capacity: int = 512,
                 bucket: timedelta = timedelta(seconds=2), max_files: int = 4) -> None:
        if width < 2 or height < 2 or capacity < 1 or max_files < 1 or bucket <= timedelta(0):
            raise ValueError("a thumbnail cache needs a size of at least 2×2, capacity and files ≥ 1, a bucket > 0")
        self.index = index
        self.width = width
        self.height = height
        self.capacity = capacity
        self.max_files = max_files
        self._bucket_us = bucket // timedelta(microseconds=1)
        self._frames: OrderedDict[_Key, tuple[ArchiveFrame, datetime, datetime]] = OrderedDict()
        self._files: OrderedDict[int, _ThumbFile] = OrderedDict()
        self._lock = threading.Lock()  # the cache
        self._decode = threading.Lock()  # the open files and the converter
        self._converter = Converter("rgb24")
        self.hits = 0
        self.misses = 0

    def get(self, camera_id: str, at: datetime) -> ArchiveFrame | None:
        """The picture for ``at``, or None where there is no readable footage. Blocking: call on a worker."""
        at = _utc(at)
        us = (at - _EPOCH) // timedelta(microseconds=1)
        bucket = us - us % self._bucket_us
        key = (camera_id, bucket)
        hit = self._cached(key, at)
        if hit is not None:
            return hit
        with self._decode:
            hit = self._cached(key, at)
            if hit is not None:
                return hit
            seg = self.index.last_started_by(camera_id, at)
            # The milliseconds between a segment and the next are the same footage (see MERGE_FRAMES).
            if seg is None or seg.status not in READABLE_STATUSES or at >= seg.end + _tolerance(seg):
                return None  # a gap
            self.misses += 1
            # The bucket's picture, within the segment the instant is in (a file starts with a keyframe).
            frame = self._picture(seg, max(_EPOCH + timedelta(microseconds=bucket), seg.start))
        if frame is not None:
            with self._lock:
                self._frames[key] = (frame, seg.start, seg.end + _tolerance(seg))
                self._frames.move_to_end(key)
                while len(self._frames) > self.capacity:
                    self._frames.popitem(last=False)
        return frame

    def _cached(self, key: _Key, at: datetime) -> ArchiveFrame | None:
        with self._lock:
            entry = self._frames.get(key)
            if entry is None or not entry[1] <= at < entry[2]:  # none, or of another segment of the bucket
                return None
            self._frames.move_to_end(key)
            self.hits += 1
            return entry[0]

    def _picture(self, seg: SegmentInfo, at: datetime) -> ArchiveFrame | None:
        f = self._file(seg)
        if f is None:
            return None
        try:
            got = f.keyframe(at)
        except av.error.FFmpegError as e:
            log.warning("thumbnail of %s at %s: %s", seg.camera_id, at.isoformat(), e)
            self._drop(seg.id)
            return None
        if got is None:
            return None
        frame, pts = got
        size = fit_size(frame.width, frame.height, self.width, self.height)
        return ArchiveFrame(pixels=self._converter.convert(frame, *size), at=f.wall(pts),
                            pts=float(pts * f.tb), segment_id=seg.id, keyframe=True)

    def _file(self, seg: SegmentInfo) -> _ThumbFile | None:
        f = self._files.get(seg.id)
        if f is not None and f.info.end >= seg.end and f.info.status is seg.status:
            self._files.move_to_end(seg.id)
            return f
        if f is not None:  # the open segment grew, or its status changed: open it again
            self._drop(seg.id)
        try:
            f = _ThumbFile(seg)
        except (OSError, ValueError, av.error.FFmpegError) as e:
            log.info("no thumbnail from %s: %s", seg.path.name, e)
            return None
        self._files[seg.id] = f
        while len(self._files) > self.max_files:
            _, old = self._files.popitem(last=False)
            old.close()
        return f

    def _drop(self, seg_id: int) -> None:
        f = self._files.pop(seg_id, None)
        if f is not None:
            f.close()

    @property
    def open_files(self) -> int:
        return len(self._files)

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()

    def close(self) -> None:
        """Close every open file and forget the pictures (the cache can be used again after)."""
        with self._decode:
            for f in self._files.values():
                f.close()
            self._files.clear()
        self.clear()

    def __enter__(self) -> ThumbnailCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _tolerance(seg: SegmentInfo) -> timedelta:
    frame = seg.seconds / seg.frames if seg.frames > 0 and seg.seconds > 0 else _DEFAULT_FRAME
    return timedelta(seconds=MERGE_FRAMES * frame)


# -- writing: bookmarks and holds (the terminal and the standalone review) -----------------------
class FootageActions:
    """``bookmark``, ``hold`` and ``release_hold``, the same for the running terminal
    (:class:`app.terminal.Terminal`) and the standalone review (:class:`ReviewBackend`): each runs
    on the owner's :class:`~app.executor.ActionExecutor` and calls ``on_done`` there."""

    store: Store
    cfg: Config
    actions: ActionExecutor
    clock: Callable[[], datetime]

    def trigger_sync(self) -> None:
        """Push the outbox soon (a terminal with sync); nothing by default."""

    def _retention(self) -> Retention:
        raise NotImplementedError

    def bookmark(self, camera_id: str, at: datetime, note: str, *, by: str,
                 on_done: Callable[[Outcome[str]], None] | None = None) -> None:
        """A bookmark on a camera's footage (``bookmark.create`` through the outbox)."""
        from supervision.actions import create_bookmark

        def work() -> str:
            aid = create_bookmark(self.store, camera_id, at, note=note, by=by, terminal=self.cfg.terminal.name,
                                  now=self.clock())
            self.trigger_sync()
            return aid

        self.actions.submit("bookmark.create", work, on_done)

    def hold(self, start: datetime, end: datetime, *, reason: str, by: str, camera_id: str | None = None,
             window_id: str | None = None, on_done: Callable[[Outcome[str]], None] | None = None) -> None:
        """An evidence hold over a span (audited); retention never prunes what it covers."""
        retention = self._retention()

        def work() -> str:
            if not reason.strip():
                raise ValueError("an evidence hold needs a reason")
            return retention.hold(start, end, reason=reason, by=by, camera_id=camera_id, window_id=window_id)

        self.actions.submit("hold.create", work, on_done)

    def release_hold(self, hold_id: str, *, by: str, on_done: Callable[[Outcome[None]], None] | None = None) -> None:
        retention = self._retention()
        self.actions.submit("hold.release", lambda: retention.release(hold_id, by=by), on_done)


class ReviewBackend(FootageActions):
    """What the standalone ``review`` command runs on: the store, the footage index and an executor
    for writes. It takes no terminal lock, opens no camera and does not sync: it runs beside a
    running terminal on the same data folder (whose sync pushes the outbox), or on a copy of it."""

    name = "review"

    def __init__(self, cfg: Config, data_dir: Path, *, store: Store | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        """``store``: one the caller opened (else the config's, closed on stop)."""
        from video.retention import Retention, RetentionPolicy

        self.cfg = cfg
        self.data_dir = data_dir
        self.tz = cfg.zone
        self._own_store = store is None
        self.store = store if store is not None else runtime.open_store(data_dir, cfg)
        self.index = FootageIndex(self.store, runtime.footage_root(data_dir, cfg))
        self.clock = clock or (lambda: datetime.now(UTC))
        self.cameras = config_cameras(cfg)
        self.actions = ActionExecutor()
        policy = RetentionPolicy(hold_margin=timedelta(minutes=cfg.recording.hold_margin_minutes))
        self._holds = Retention(self.index, policy, camera_windows={c.id: c.window_id for c in self.cameras},
                                clock=self.clock)

    def _retention(self) -> Retention:
        return self._holds

    def start(self) -> None:
        self.actions.start()

    def stop(self, deadline: float | None = None) -> bool:
        """Finish the writes already submitted, then close the store (if it opened it); True when in time."""
        ok = self.actions.stop(deadline if deadline is not None else time.monotonic() + 10)
        if self._own_store:
            self.store.close()
        return ok

    def __enter__(self) -> ReviewBackend:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # conveniences for the review window (blocking: call on a worker)
    def timeline(self, camera_id: str, start: datetime, end: datetime, *, now: datetime | None = None
                 ) -> CameraTimeline:
        return load_timeline(self.store, self.index, camera_id, start, end, now=now or self.clock(),
                             cameras=self.cameras, tz=self.tz)

    def target(self, kind: str, ref: str) -> FootageTarget:
        return footage_target(self.store, kind, ref, tz=self.tz, cameras=self.cameras, now=self.clock())

    def days(self, camera_id: str, start: date, end: date) -> frozenset[date]:
        return footage_days(self.index, camera_id, self.tz, start, end)
