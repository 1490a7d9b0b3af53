"""Staff seats watched by cameras: their regions and this terminal's own seat vacancies.

**Regions**: per camera, one rectangle per window's staff seat, in fractions of the picture (0-1,
origin top left). The operator draws them on the tile (``seat_regions`` rows); ``[[cameras]] seats``
in the config win over the rows for that camera (:func:`effective_regions`).

**Vacancies**: an empty spell the camera's analytics saw is written in one transaction as

- the ``seat_vacancy`` record of a new id (``origin`` "local", version 0 — the rules read it at once,
  offline too; the server's echo of the report replaces it, no duplicate since it has the same id),
- an ``own_vacancies`` row (the camera, the last judged frame while open, the snapshot), and
- the outbox action ``seat_vacancy.report`` (sync-protocol.md) — once when the spell starts, again
  under a new action id and the same ``vacancy_id`` when it ends.

After a crash an open vacancy is closed at the last frame judged while it was open
(:func:`close_interrupted`); the running service stores that instant about once a minute
(:func:`note_judged`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from supervision.actions import new_action_id
from supervision.store.db import Store
from supervision.store.models import AuditEntry, OutboxAction, OwnVacancy, SeatRegionRow, SeatVacancyRow

__all__ = [
    "REPORT_ACTION",
    "OpenVacancy",
    "Seat",
    "close_interrupted",
    "close_vacancy",
    "effective_regions",
    "forget_snapshots",
    "open_vacancies",
    "open_vacancy",
    "prunable_snapshots",
    "report_again",
    "save_regions",
    "snapshot_of",
    "stored_regions",
    "vacancy_payload",
    "waiting_vacancies",
]

log = logging.getLogger(__name__)

REPORT_ACTION = "seat_vacancy.report"
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Seat:
    """A window's staff seat in one camera's picture: fractions 0-1, origin top left."""

    window_id: str
    x: float
    y: float
    w: float
    h: float

    def problem(self) -> str | None:
        """What is wrong with this rectangle, in words (None: nothing)."""
        if not self.window_id:
            return "a seat needs its window"
        for name, v in (("x", self.x), ("y", self.y)):
            if not 0.0 <= v < 1.0:
                return f"{name} must lie in [0, 1): {v}"
        for name, v in (("w", self.w), ("h", self.h)):
            if not 0.0 < v <= 1.0:
                return f"{name} must lie in (0, 1]: {v}"
        if self.x + self.w > 1.0 + _EPS:
            return f"x + w must be at most 1: {self.x} + {self.w}"
        if self.y + self.h > 1.0 + _EPS:
            return f"y + h must be at most 1: {self.y} + {self.h}"
        return None


@dataclass(frozen=True, slots=True)
class OpenVacancy:
    id: str
    camera_id: str
    window_id: str
    started_at: datetime
    judged_at: datetime | None
    snapshot: str | None


# -- regions ---------------------------------------------------------------------------------------
def stored_regions(store: Store, camera_id: str | None = None) -> dict[str, tuple[Seat, ...]]:
    """The regions drawn on tiles, by camera (one camera's only when given)."""
    q = select(SeatRegionRow).order_by(SeatRegionRow.camera_id, SeatRegionRow.window_id)
    if camera_id is not None:
        q = q.where(SeatRegionRow.camera_id == camera_id)
    out: dict[str, list[Seat]] = {}
    with store.read() as s:
        for r in s.scalars(q):
            out.setdefault(r.camera_id, []).append(Seat(r.window_id, r.x, r.y, r.w, r.h))
    return {k: tuple(v) for k, v in out.items()}


def effective_regions(
    store: Store, configured: Mapping[str, Sequence[Seat] | None]
) -> dict[str, tuple[Seat, ...]]:
    """The regions in force by camera: the config's ``seats`` for a camera that has them (an empty
    list too: no seat watched), else the regions drawn on the tile. Cameras without any are left out."""
    out = {cid: seats for cid, seats in stored_regions(store).items() if configured.get(cid) is None}
    for cid, seats in configured.items():
        if seats is not None:
            out[cid] = tuple(seats)
    return {cid: seats for cid, seats in out.items() if seats}


def save_regions(store: Store, camera_id: str, seats: Sequence[Seat], *, by: str, at: datetime) -> None:
    """Replace one camera's drawn regions (an empty list removes them). ``ValueError`` names a bad one."""
    seen: set[str] = set()
    for seat in seats:
        problem = seat.problem()
        if problem is not None:
            raise ValueError(f"seat of window {seat.window_id!r}: {problem}")
        if seat.window_id in seen:
            raise ValueError(f"window {seat.window_id!r} has two seats on camera {camera_id!r}")
        seen.add(seat.window_id)
    with store.write() as s:
        s.execute(delete(SeatRegionRow).where(SeatRegionRow.camera_id == camera_id))
        for seat in seats:
            s.add(SeatRegionRow(camera_id=camera_id, window_id=seat.window_id, x=seat.x, y=seat.y, w=seat.w,
                                h=seat.h, updated_at=at, updated_by=by or None))
        s.add(AuditEntry(at=at, actor=by or "?", action="seats.regions", subject=camera_id,
                         detail={"seats": [[x.window_id, x.x, x.y, x.w, x.h] for x in seats]}))


# -- vacancies -------------------------------------------------------------------------------------
def vacancy_payload(
    action_id: str, vacancy_id: str, *, window_id: str, camera_id: str, started_at: datetime,
    ended_at: datetime | None, at: datetime
) -> dict[str, Any]:
    """``seat_vacancy.report`` as pushed to ``POST /actions``."""
    return {
        "id": action_id,
        "type": REPORT_ACTION,
        "vacancy_id": vacancy_id,
        "window_id": window_id,
        "camera_id": camera_id,
        "started_at": started_at.isoformat(),
        "ended_at": ended_at.isoformat() if ended_at is not None else None,
        "at": at.isoformat(),
    }


def _report(s: Session, v: OwnVacancy, now: datetime) -> str:
    aid = new_action_id()
    payload = vacancy_payload(aid, v.id, window_id=v.window_id, camera_id=v.camera_id, started_at=v.started_at,
                              ended_at=v.ended_at, at=v.ended_at or v.started_at)
    s.add(OutboxAction(id=aid, created_at=now, type=REPORT_ACTION, payload=payload, attempts=0))
    return aid


def open_vacancy(
    store: Store, *, camera_id: str, window_id: str, started_at: datetime, now: datetime,
    snapshot: str | None = None, vacancy_id: str | None = None
) -> str:
    """A camera saw the seat empty from ``started_at``: the local record, the own row and the report,
    in one transaction. Returns the vacancy id. A vacancy of the same camera and window still open
    is returned as it is (an event heard twice)."""
    with store.write() as s:
        same = s.scalar(select(OwnVacancy.id).where(OwnVacancy.camera_id == camera_id,
                                                    OwnVacancy.window_id == window_id,
                                                    OwnVacancy.ended_at.is_(None)))
        if same is not None:
            return same
        vid = vacancy_id or f"V-{new_action_id()}"
        v = OwnVacancy(id=vid, camera_id=camera_id, window_id=window_id, started_at=started_at, ended_at=None,
                       judged_at=started_at, snapshot=snapshot)
        s.add(v)
        s.add(SeatVacancyRow(id=vid, version=0, deleted=False, seq=None, window_id=window_id, camera_id=camera_id,
                             started_at=started_at, ended_at=None, origin="local"))
        _report(s, v, now)
    log.info("seat of window %s empty since %s (camera %s): vacancy %s", window_id, started_at.isoformat(),
             camera_id, vid)
    return vid


def close_vacancy(store: Store, vacancy_id: str, ended_at: datetime, *, now: datetime, why: str = "seen") -> bool:
    """The seat was taken again (``why`` "seen"), or watching it ended ("stop", "restart"): close the
    vacancy at ``ended_at`` (never before it began) and report it. False when it was not open."""
    with store.write() as s:
        v = s.get(OwnVacancy, vacancy_id)
        if v is None or v.ended_at is not None:
            return False
        _close(s, v, ended_at, now, why)
    return True


def _close(s: Session, v: OwnVacancy, ended_at: datetime, now: datetime, why: str) -> None:
    v.ended_at = max(ended_at, v.started_at)
    v.judged_at = v.ended_at
    v.closed_by = why
    row = s.get(SeatVacancyRow, v.id)
    if row is None:  # the record was removed (a full resync of a server that refused it): write it again
        s.add(SeatVacancyRow(id=v.id, version=0, deleted=False, seq=None, window_id=v.window_id,
                             camera_id=v.camera_id, started_at=v.started_at, ended_at=v.ended_at, origin="local"))
    else:
        row.ended_at = v.ended_at
        if row.deleted:
            row.deleted, row.window_id, row.camera_id, row.started_at = False, v.window_id, v.camera_id, v.started_at
    _report(s, v, now)
    log.info("seat of window %s taken again at %s (camera %s, vacancy %s, %s)", v.window_id,
             v.ended_at.isoformat(), v.camera_id, v.id, why)


def open_vacancies(store: Store, camera_id: str | None = None) -> list[OpenVacancy]:
    q = select(OwnVacancy).where(OwnVacancy.ended_at.is_(None)).order_by(OwnVacancy.started_at)
    if camera_id is not None:
        q = q.where(OwnVacancy.camera_id == camera_id)
    with store.read() as s:
        return [OpenVacancy(v.id, v.camera_id, v.window_id, v.started_at, v.judged_at, v.snapshot)
                for v in s.scalars(q)]


def note_judged(store: Store, camera_id: str, at: datetime) -> int:
    """Store the last judged frame of a camera in its open vacancies (where a restart closes them)."""
    with store.write() as s:
        result = s.execute(update(OwnVacancy).where(OwnVacancy.camera_id == camera_id, OwnVacancy.ended_at.is_(None))
                           .values(judged_at=at))
        return int(getattr(result, "rowcount", 0) or 0)


def close_interrupted(store: Store, *, now: datetime, camera_ids: Iterable[str] | None = None,
                      why: str = "restart") -> list[str]:
    """Close the vacancies left open (by a crash, or by a camera no longer watched) at the last frame
    judged while they were open; returns their ids."""
    closed: list[str] = []
    with store.write() as s:
        q = select(OwnVacancy).where(OwnVacancy.ended_at.is_(None))
        if camera_ids is not None:
            q = q.where(OwnVacancy.camera_id.in_(list(camera_ids)))
        for v in s.scalars(q):
            _close(s, v, v.judged_at or v.started_at, now, why)
            closed.append(v.id)
    return closed


def report_again(s: Session, vacancy_ids: Sequence[str], now: datetime) -> int:
    """Queue a new report of each of this terminal's own vacancies named (a restored server lost
    them); returns how many were queued."""
    n = 0
    for vid in vacancy_ids:
        v = s.get(OwnVacancy, vid)
        if v is None:
            continue
        _report(s, v, now)
        s.add(AuditEntry(at=now, actor="sync", action="sync.requeued", subject=vid,
                         detail={"type": REPORT_ACTION, "reason": "the restored server did not have it"}))
        n += 1
    s.flush()
    return n


def waiting_vacancies(s: Session) -> dict[str, dict[str, Any]]:
    """The vacancies with a report still in the outbox: their latest report's payload, by vacancy id."""
    out: dict[str, dict[str, Any]] = {}
    for payload in s.scalars(select(OutboxAction.payload).where(OutboxAction.type == REPORT_ACTION)
                             .order_by(OutboxAction.created_at, OutboxAction.id)):
        vid = payload.get("vacancy_id") if isinstance(payload, dict) else None
        if isinstance(vid, str):
            out[vid] = payload
    return out


def snapshot_of(s: Session, window_id: str, at: datetime, vacancy_id: str | None = None) -> str | None:
    """The snapshot (path relative to the data folder) kept with a vacancy: ``vacancy_id``'s (a
    ``POST_LEFT`` warning's detail names it), else that of this terminal's vacancy of the window
    open at ``at`` (the latest begun by then)."""
    if vacancy_id is not None:
        found = s.scalar(select(OwnVacancy.snapshot).where(OwnVacancy.id == vacancy_id))
        if found is not None:
            return found
    q = (select(OwnVacancy.snapshot)
         .where(OwnVacancy.window_id == window_id, OwnVacancy.started_at <= at, OwnVacancy.snapshot.is_not(None))
         .where((OwnVacancy.ended_at.is_(None)) | (OwnVacancy.ended_at > at))
         .order_by(OwnVacancy.started_at.desc()).limit(1))
    return s.scalar(q)


def prunable_snapshots(s: Session, before: datetime) -> list[tuple[str, str]]:
    """Snapshots (vacancy id, path) of vacancies that began before ``before`` and whose moment no
    evidence hold keeps: they go when their footage would (a held POST_LEFT keeps its picture)."""
    from supervision.store.footage import EvidenceHold

    held = (select(EvidenceHold.id).where(
        EvidenceHold.released_at.is_(None),
        (EvidenceHold.camera_id == OwnVacancy.camera_id)
        | (EvidenceHold.camera_id.is_(None) & (EvidenceHold.window_id == OwnVacancy.window_id)),
        EvidenceHold.start <= OwnVacancy.started_at, EvidenceHold.end > OwnVacancy.started_at,
    ).exists())
    q = (select(OwnVacancy.id, OwnVacancy.snapshot)
         .where(OwnVacancy.snapshot.is_not(None), OwnVacancy.started_at < before, OwnVacancy.ended_at.is_not(None))
         .where(~held))
    return [(vid, rel) for vid, rel in s.execute(q) if rel]


def forget_snapshots(store: Store, vacancy_ids: Sequence[str]) -> None:
    with store.write() as s:
        s.execute(update(OwnVacancy).where(OwnVacancy.id.in_(list(vacancy_ids))).values(snapshot=None))
