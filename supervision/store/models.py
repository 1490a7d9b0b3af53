"""The tables. Synced record types mirror ``sync-protocol.md`` column for column (same names as
the wire fields), each with its ``version`` and a tombstone flag; the terminal's own tables hold
warning states, the outbox, the sync cursor and the audit log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from supervision.store.types import DecimalText, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: DecimalText(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        str: String(200),
    }


class RecordBase(Base):
    """A synced record: its id, version and tombstone. Data columns are nullable because a
    tombstone for a record this terminal never saw carries no data."""

    __abstract__ = True
    record_type: str = ""

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    seq: Mapped[int | None] = mapped_column(BigInteger)  # the feed position it last came with
    # Data columns whose values are JSON (lists, maps).
    json_fields: frozenset[str] = frozenset()
    # Columns this terminal derives and keeps current itself (never written by sync).
    derived_fields: frozenset[str] = frozenset()


class OrgUnit(RecordBase):
    __tablename__ = "org_units"
    record_type = "org_unit"
    name: Mapped[str | None]
    parent_id: Mapped[str | None] = mapped_column(String(200), index=True)
    level: Mapped[str | None] = mapped_column(String(20))


class Window(RecordBase):
    __tablename__ = "windows"
    record_type = "window"
    hall_id: Mapped[str | None] = mapped_column(String(200), index=True)
    number: Mapped[str | None]
    name: Mapped[str | None]
    department: Mapped[str | None]


class CameraRow(RecordBase):
    __tablename__ = "cameras"
    record_type = "camera"
    hall_id: Mapped[str | None] = mapped_column(String(200), index=True)
    window_id: Mapped[str | None]
    name: Mapped[str | None]
    stream_url: Mapped[str | None] = mapped_column(Text)
    sub_stream_url: Mapped[str | None] = mapped_column(Text)


class CaseTypeRow(RecordBase):
    __tablename__ = "case_types"
    record_type = "case_type"
    json_fields = frozenset({"stage_days"})
    code: Mapped[str | None]
    name: Mapped[str | None]
    department: Mapped[str | None]
    legal_days: Mapped[int | None]
    promised_days: Mapped[int | None]
    stage_days: Mapped[dict[str, Any] | None]
    fee: Mapped[Decimal | None]
    immediate: Mapped[bool | None]


class CaseRow(RecordBase):
    __tablename__ = "cases"
    record_type = "case"
    json_fields = frozenset({"stages", "suspensions"})
    case_type_id: Mapped[str | None] = mapped_column(String(200), index=True)
    window_id: Mapped[str | None] = mapped_column(String(200), index=True)
    ticket_id: Mapped[str | None]
    applicant: Mapped[str | None]
    submitted_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(20), index=True)
    stages: Mapped[list[Any] | None]
    suspensions: Mapped[list[Any] | None]
    fee_charged: Mapped[Decimal | None]
    completed_at: Mapped[datetime | None]
    # Kept current by the warning monitor (app/monitor.py), for the cases table to sort and filter
    # on: the due dates as of now (hall dates) and the worst level of the case's warnings in force
    # (0 none, 1 notice, 2 yellow, 3 red).
    derived_fields = frozenset({"promised_due", "legal_due", "worst_level"})
    promised_due: Mapped[date | None] = mapped_column(Date, index=True)
    legal_due: Mapped[date | None] = mapped_column(Date, index=True)
    worst_level: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0, server_default="0", index=True)


class TicketRow(RecordBase):
    __tablename__ = "tickets"
    record_type = "ticket"
    hall_id: Mapped[str | None] = mapped_column(String(200), index=True)
    number: Mapped[str | None]
    case_type_id: Mapped[str | None]
    issued_at: Mapped[datetime | None] = mapped_column(index=True)
    called_at: Mapped[datetime | None]
    window_id: Mapped[str | None]
    status: Mapped[str | None] = mapped_column(String(20), index=True)


class RuleSetRow(RecordBase):
    __tablename__ = "rule_sets"
    record_type = "rule_set"
    json_fields = frozenset({"rules", "weights"})
    rules: Mapped[list[Any] | None]
    weights: Mapped[dict[str, Any] | None]


class CalendarRow(RecordBase):
    __tablename__ = "calendars"
    record_type = "calendar"
    json_fields = frozenset({"holidays", "workdays"})
    year: Mapped[int | None]
    holidays: Mapped[list[Any] | None]
    workdays: Mapped[list[Any] | None]


class EvaluationRow(RecordBase):
    __tablename__ = "evaluations"
    record_type = "evaluation"
    window_id: Mapped[str | None] = mapped_column(String(200), index=True)
    case_id: Mapped[str | None]
    at: Mapped[datetime | None] = mapped_column(index=True)
    grade: Mapped[int | None]


class ComplaintRow(RecordBase):
    __tablename__ = "complaints"
    record_type = "complaint"
    hall_id: Mapped[str | None] = mapped_column(String(200), index=True)
    window_id: Mapped[str | None]
    case_id: Mapped[str | None]
    channel: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime | None]
    about_at: Mapped[datetime | None]
    summary: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str | None] = mapped_column(String(20))


class DispositionRow(RecordBase):
    """Accepted ``warning.*`` actions from any terminal; this terminal's own ones are written
    here at once (``origin`` "local", version 0) and replaced when the server sends them back."""

    __tablename__ = "dispositions"
    record_type = "disposition"
    warning: Mapped[str | None] = mapped_column(String(300), index=True)
    action: Mapped[str | None] = mapped_column(String(40))
    measure: Mapped[str | None] = mapped_column(String(20))
    since: Mapped[datetime | None]  # the episode acted on (when the warning reached its level)
    by: Mapped[str | None]
    at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    terminal: Mapped[str | None]
    origin: Mapped[str] = mapped_column(String(10), default="synced", server_default="synced")


class BookmarkRow(RecordBase):
    __tablename__ = "bookmarks"
    record_type = "bookmark"
    camera_id: Mapped[str | None] = mapped_column(String(200), index=True)
    at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str | None]
    terminal: Mapped[str | None]
    origin: Mapped[str] = mapped_column(String(10), default="synced", server_default="synced")


class TerminalRow(RecordBase):
    __tablename__ = "terminals"
    record_type = "terminal"
    name: Mapped[str | None]
    role: Mapped[str | None] = mapped_column(String(20))
    relay_url: Mapped[str | None] = mapped_column(Text)
    last_seen: Mapped[datetime | None]


class SeatVacancyRow(RecordBase):
    """The staff seat at a window seen empty by a camera's analytics (this terminal's own ones are
    written here at once, ``origin`` "local", version 0, and replaced when the server sends them back)."""

    __tablename__ = "seat_vacancies"
    record_type = "seat_vacancy"
    window_id: Mapped[str | None] = mapped_column(String(200), index=True)
    camera_id: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    origin: Mapped[str] = mapped_column(String(10), default="synced", server_default="synced")


RECORD_TABLES: dict[str, type[RecordBase]] = {
    cls.record_type: cls
    for cls in (
        OrgUnit,
        Window,
        CameraRow,
        CaseTypeRow,
        CaseRow,
        TicketRow,
        RuleSetRow,
        CalendarRow,
        EvaluationRow,
        ComplaintRow,
        DispositionRow,
        BookmarkRow,
        TerminalRow,
        SeatVacancyRow,
    )
}


# -- the terminal's own tables ------------------------------------------------------------------
class WarningState(Base):
    """What this terminal knows of a warning over time: when it was first raised, the highest
    level it reached (a red is kept on record), and its lifecycle."""

    __tablename__ = "warning_states"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200), index=True)
    # not indexed (migration 0007): no query filters on them (an index is one more B-tree to
    # write for every row the warning monitor inserts and every change of state)
    window_id: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(10))
    max_level: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20))  # active/acknowledged/disposed/cleared
    since: Mapped[datetime]
    red_since: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None]
    disposed_at: Mapped[datetime | None]
    disposed_by: Mapped[str | None]
    measure: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    cleared_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The server refused this terminal's last action on it (e.g. "superseded"): shown to the operator.
    rejected_at: Mapped[datetime | None]
    rejected_code: Mapped[str | None] = mapped_column(String(40))
    rejected_message: Mapped[str | None] = mapped_column(Text)


class OutboxAction(Base):
    """A local action waiting for a definite answer from the server."""

    __tablename__ = "outbox"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # UUIDv7, the idempotency key
    created_at: Mapped[datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class SyncState(Base):
    """Where this terminal is in the server's change feed (one row)."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str | None]
    cursor: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None]
    offline_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # Why a full resync is under way (cursor_expired / epoch_mismatch) until its last page is in.
    resync: Mapped[str | None] = mapped_column(String(20))


class AuditEntry(Base):
    """Who did what, when: local actions, imports, answers that rejected an action."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str]
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any] | None]


class SeatRegionRow(Base):
    """A window's staff seat as seen by one camera, drawn by the operator on the tile: a rectangle in
    fractions of the picture (0-1, origin top left). ``[[cameras]] seats`` in the config win over
    these rows for a camera."""

    __tablename__ = "seat_regions"
    camera_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    x: Mapped[float] = mapped_column(Float)
    y: Mapped[float] = mapped_column(Float)
    w: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None]


class OwnVacancy(Base):
    """A seat vacancy this terminal's analytics saw (the ``seat_vacancy`` record of the same id
    carries what is synced): the camera, whether it is still open, the last frame judged while it
    is (a restart after a crash closes it there) and the snapshot of the moment it began."""

    __tablename__ = "own_vacancies"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(200), index=True)
    window_id: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    judged_at: Mapped[datetime | None]  # the last frame judged while open
    snapshot: Mapped[str | None] = mapped_column(Text)  # JPEG, relative to the data folder ("/"-separated)
    closed_by: Mapped[str | None] = mapped_column(String(20))  # "seen" (the seat was taken again), "restart", "stop"


Index("ix_own_vacancies_open", OwnVacancy.ended_at)
Index("ix_dispositions_warning_at", DispositionRow.warning, DispositionRow.at)
Index("ix_cases_open", CaseRow.status, CaseRow.deleted)

__all__ = [
    "RECORD_TABLES",
    "AuditEntry",
    "Base",
    "BookmarkRow",
    "CalendarRow",
    "CameraRow",
    "CaseRow",
    "CaseTypeRow",
    "ComplaintRow",
    "DispositionRow",
    "EvaluationRow",
    "OrgUnit",
    "OutboxAction",
    "OwnVacancy",
    "RecordBase",
    "RuleSetRow",
    "SeatRegionRow",
    "SeatVacancyRow",
    "SyncState",
    "TerminalRow",
    "TicketRow",
    "WarningState",
    "Window",
]
