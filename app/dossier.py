"""A complaint's dossier (证据包): every camera of its window over the time it is about, with the
complaint, its case, ticket and evaluations as JSON, under one signed manifest (Qt-free).

:func:`plan_dossier` reads the store: which cameras (the complaint's window's; the hall's when no
window is known), which span (``about_at`` ± the hold margin, or the one given), which records.
:func:`export_dossier` writes the folder through :func:`video.export.export_evidence`.

Cameras are the store's camera records plus the config's ``[[cameras]]`` (which win for the same
id): a camera belongs to a window by its ``window_id``, to a hall by its ``hall_id`` or its window's
hall; a config camera without a window is this terminal's, so of the complaint's hall.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select

from supervision.store import Store
from supervision.store.models import CameraRow, CaseRow, ComplaintRow, EvaluationRow, RecordBase, TicketRow, Window
from video.export import EvidenceRequest, ExportResult, NotFound, SigningKey, SpanRequired, export_evidence
from video.export.manifest import iso_utc
from video.footage import FootageIndex

__all__ = ["ConfigCamera", "DossierPlan", "export_dossier", "plan_dossier", "record_json"]

log = logging.getLogger(__name__)


KIND = "complaint_dossier"


@dataclass(frozen=True, slots=True)
class ConfigCamera:
    """A camera of the config's ``[[cameras]]``, as far as a dossier cares (no address)."""

    id: str
    window_id: str | None


@dataclass(frozen=True, slots=True)
class DossierPlan:
    """What a complaint's dossier holds: ``cameras`` over ``[start, end)`` and ``records`` (file → JSON).

    ``span_from`` says how the span was chosen: "about_at" (± ``margin``) or "given". ``scope`` is
    "window" (its window's cameras) or "hall" (no window known) or "all" (neither known).
    """

    complaint_id: str
    window_id: str | None
    hall_id: str | None
    scope: str
    cameras: tuple[str, ...]
    start: datetime
    end: datetime
    span_from: str
    margin: timedelta
    records: Mapping[str, Any]
    about_at: datetime | None = None

    def subject(self) -> dict[str, Any]:
        """What the manifest says the dossier is about (signed with it)."""
        if self.span_from == "about_at":
            span = f"about_at ± {_minutes(self.margin)} min"
        else:
            span = "chosen by the reviewer" + (" (the complaint has no about_at)" if self.about_at is None else "")
        return {"complaint": self.complaint_id, "window_id": self.window_id, "hall_id": self.hall_id,
                "cameras_of": self.scope, "span": span}


def _minutes(d: timedelta) -> str:
    m = d.total_seconds() / 60
    return str(int(m)) if m == int(m) else f"{m:g}"


def record_json(row: RecordBase) -> dict[str, Any]:
    """A stored record as JSON: every column (instants in UTC ISO-8601 with Z, amounts as text) but the
    feed position."""
    out: dict[str, Any] = {"type": row.record_type}
    for col in row.__table__.columns:
        if col.key == "seq":
            continue
        v = getattr(row, col.key)
        if isinstance(v, datetime):
            v = iso_utc(v)
        elif isinstance(v, date):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = str(v)
        out[col.key] = v
    return out


def plan_dossier(
    store: Store,
    complaint_id: str,
    *,
    margin: timedelta,
    config_cameras: Iterable[ConfigCamera] = (),
    start: datetime | None = None,
    end: datetime | None = None,
) -> DossierPlan:
    """The dossier of ``complaint_id``: its cameras, span and records.

    The span is ``start``–``end`` when given (both aware), else ``about_at`` ± ``margin``. Raises
    :class:`~video.export.NotFound` when the store has no such complaint and
    :class:`~video.export.SpanRequired` when it has no ``about_at`` and no span is given.
    """
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    cfg_cams = list(config_cameras)
    with store.read() as s:
        c = s.get(ComplaintRow, complaint_id)
        if c is None or c.deleted:
            raise NotFound(f"no complaint {complaint_id} in the store")
        if start is not None and end is not None:
            span_from = "given"
        elif c.about_at is not None:
            start, end, span_from = c.about_at - margin, c.about_at + margin, "about_at"
            if margin <= timedelta(0):
                raise SpanRequired(f"complaint {complaint_id}: the hold margin is 0 minutes, so about_at gives no "
                                   "span; give the span (--from and --to)")
        else:
            raise SpanRequired(f"complaint {complaint_id} does not say when it is about (no about_at): "
                               "give the span (--from and --to)")
        assert start is not None and end is not None
        hall_id = c.hall_id
        if c.window_id:
            scope = "window"
            win = s.get(Window, c.window_id)
            hall_id = hall_id or (win.hall_id if win is not None else None)
            ids = list(s.scalars(select(CameraRow.id).where(CameraRow.window_id == c.window_id,
                                                             CameraRow.deleted.is_(False)).order_by(CameraRow.id)))
            ids += [k.id for k in cfg_cams if k.window_id == c.window_id]
        elif hall_id:
            scope = "hall"
            windows = select(Window.id).where(Window.hall_id == hall_id, Window.deleted.is_(False))
            ids = list(s.scalars(select(CameraRow.id).where(
                CameraRow.deleted.is_(False),
                or_(CameraRow.hall_id == hall_id, CameraRow.window_id.in_(windows))).order_by(CameraRow.id)))
            hall_windows = set(s.scalars(windows))
            ids += [k.id for k in cfg_cams if k.window_id is None or k.window_id in hall_windows]
        else:
            scope = "all"
            ids = list(s.scalars(select(CameraRow.id).where(CameraRow.deleted.is_(False)).order_by(CameraRow.id)))
            ids += [k.id for k in cfg_cams]
        records: dict[str, Any] = {"complaint.json": record_json(c)}
        case = s.get(CaseRow, c.case_id) if c.case_id else None
        if case is not None and not case.deleted:
            records["case.json"] = record_json(case)
            ticket = s.get(TicketRow, case.ticket_id) if case.ticket_id else None
            if ticket is not None and not ticket.deleted:
                records["ticket.json"] = record_json(ticket)
            evals = s.scalars(select(EvaluationRow).where(EvaluationRow.case_id == case.id,
                                                           EvaluationRow.deleted.is_(False))
                              .order_by(EvaluationRow.at, EvaluationRow.id))
        elif c.window_id:  # no case known: the window's evaluations over the span
            evals = s.scalars(select(EvaluationRow).where(
                EvaluationRow.window_id == c.window_id, EvaluationRow.deleted.is_(False),
                EvaluationRow.at >= start, EvaluationRow.at < end).order_by(EvaluationRow.at, EvaluationRow.id))
        else:
            evals = None
        records["evaluations.json"] = [record_json(e) for e in evals] if evals is not None else []
        window_id, about_at = c.window_id, c.about_at
    return DossierPlan(complaint_id, window_id, hall_id, scope, tuple(dict.fromkeys(ids)), start, end, span_from,
                       margin, records, about_at)


def export_dossier(
    index: FootageIndex,
    plan: DossierPlan,
    out_dir: Path,
    *,
    reason: str,
    who: str,
    terminal: str,
    key: SigningKey,
    zone: tzinfo | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ExportResult:
    """Write the plan's dossier into ``out_dir`` (new or empty): one MP4 per camera with footage, the
    records as JSON, one signed manifest (format 2) naming the complaint. Raises as
    :func:`video.export.export_evidence` does; a plan without cameras is an
    :class:`~video.export.ExportError` that says so."""
    from video.export import ExportError

    if not plan.cameras:
        where = {"window": f"window {plan.window_id}", "hall": f"hall {plan.hall_id}"}.get(plan.scope, "this terminal")
        raise ExportError(f"complaint {plan.complaint_id}: no camera of {where} is known")
    result = export_evidence(index, EvidenceRequest(
        plan.cameras, plan.start, plan.end, out_dir, reason=reason or f"dossier of complaint {plan.complaint_id}",
        who=who, terminal=terminal, key=key, zone=zone, progress=progress, cancel=cancel, kind=KIND,
        subject=plan.subject(), records=plan.records,
    ))
    log.info("dossier of complaint %s written to %s (%d cameras, %d records)", plan.complaint_id, out_dir,
             len(plan.cameras), len(plan.records))
    return result
