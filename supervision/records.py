"""The synced record types of ``sync-protocol.md`` and their validation.

Each record type's ``data`` is a pydantic model: unknown fields are ignored (forward
compatibility), wrong types, bad dates and missing fields are errors that name the field. Field
names are the wire names, and the store's columns carry the same names.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
)


class Stage(StrEnum):
    """The stages of a case, in the only order they may happen."""

    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    HANDLED = "handled"
    REVIEWED = "reviewed"
    DECIDED = "decided"
    COMPLETED = "completed"


STAGE_ORDER: tuple[Stage, ...] = tuple(Stage)
STAGE_RANK: dict[str, int] = {s.value: i for i, s in enumerate(STAGE_ORDER)}


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


ENDED_STATUSES = frozenset({CaseStatus.COMPLETED, CaseStatus.REJECTED, CaseStatus.WITHDRAWN})


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    MISSED = "missed"
    TRANSFERRED = "transferred"


def _money(v: Any) -> Any:
    """Money is a decimal string in yuan; an integer is accepted, a float is not (it rounds)."""
    if isinstance(v, (bool, float)):
        raise ValueError('money must be a decimal string such as "12.50"')
    if isinstance(v, int):
        return Decimal(v)
    if isinstance(v, str):
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {v!r}") from None
        if not d.is_finite():
            raise ValueError(f"not a finite amount: {v!r}")
        return d
    return v


def valid_text(v: str) -> str:
    """Text is stored as text: valid Unicode (no lone surrogate such as "\\ud800", which JSON
    escapes can carry) and no NUL character (PostgreSQL cannot hold one; SQLite would)."""
    if not v.isascii():
        try:
            v.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(f"not valid Unicode: a lone surrogate at position {e.start}") from None
    if "\x00" in v:
        raise ValueError(f"a NUL character at position {v.index(chr(0))} is not allowed")
    return v


Money = Annotated[Decimal, BeforeValidator(_money)]
Id = Annotated[StrictStr, Field(min_length=1, max_length=200), AfterValidator(valid_text)]
Text = Annotated[StrictStr, AfterValidator(valid_text)]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]
#: seq and version are 63-bit: they fit a signed 64-bit column in every store.
MAX_INT63 = 2**63 - 1
Int63 = Annotated[StrictInt, Field(ge=0, le=MAX_INT63)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=False)


class OrgUnitData(_Data):
    name: Text
    parent_id: Id | None = None
    level: Literal["province", "city", "county", "township", "hall"]


def _decimal_text(v: Any) -> Any:
    """A window number sent as a JSON integer is read as its decimal text (sync-protocol.md)."""
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return v


class WindowData(_Data):
    hall_id: Id
    number: Annotated[Text, BeforeValidator(_decimal_text)]
    name: Text
    department: Text


class CameraData(_Data):
    hall_id: Id
    window_id: Id | None = None
    name: Text
    stream_url: Text
    sub_stream_url: Text | None = None


class CaseTypeData(_Data):
    code: Text
    name: Text
    department: Text
    legal_days: Days
    promised_days: Days
    stage_days: dict[Stage, Days] = Field(default_factory=dict)
    fee: Money
    immediate: StrictBool = False

    @field_validator("stage_days", mode="before")
    @classmethod
    def _none_is_empty(cls, v: Any) -> Any:
        return {} if v is None else v


class StageEntry(_Data):
    stage: Stage
    at: AwareDatetime
    by: Text | None = None


class Suspension(_Data):
    from_: AwareDatetime = Field(alias="from")
    to: AwareDatetime | None = None
    reason: Text | None = None

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class CaseData(_Data):
    case_type_id: Id
    window_id: Id | None = None
    ticket_id: Id | None = None
    applicant: Text = ""
    submitted_at: AwareDatetime
    status: CaseStatus
    stages: list[StageEntry] = Field(default_factory=list)
    suspensions: list[Suspension] = Field(default_factory=list)
    fee_charged: Money | None = None
    completed_at: AwareDatetime | None = None


class TicketData(_Data):
    hall_id: Id
    number: Text
    case_type_id: Id | None = None
    issued_at: AwareDatetime
    called_at: AwareDatetime | None = None
    window_id: Id | None = None
    status: TicketStatus


class RuleData(_Data):
    code: Text
    level: Literal["notice", "yellow", "red"] | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class RuleSetData(_Data):
    rules: list[RuleData]
    # Score weights (supervision-rules.md "Performance"): optional, defaults apply.
    weights: dict[str, float] = Field(default_factory=dict)


class CalendarData(_Data):
    year: Annotated[StrictInt, Field(ge=1949, le=2200)]
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)


class EvaluationData(_Data):
    window_id: Id
    case_id: Id | None = None
    at: AwareDatetime
    grade: Annotated[StrictInt, Field(ge=1, le=5)]


class ComplaintData(_Data):
    hall_id: Id
    window_id: Id | None = None
    case_id: Id | None = None
    channel: Literal["hotline", "web", "onsite", "phone"]
    received_at: AwareDatetime
    about_at: AwareDatetime | None = None
    summary: Text = ""
    status: Literal["open", "handling", "closed"]


class DispositionData(_Data):
    warning: Text
    action: Text
    measure: Literal["supervise", "correct", "explain"] | None = None
    since: AwareDatetime | None = None  # the episode acted on: when the warning reached its level
    by: Text
    at: AwareDatetime
    note: Text = ""
    terminal: Text = ""


class BookmarkData(_Data):
    camera_id: Id
    at: AwareDatetime
    note: Text = ""
    by: Text = ""
    terminal: Text = ""


class TerminalData(_Data):
    name: Text
    role: Literal["operator", "leader"]
    relay_url: Text | None = None
    last_seen: AwareDatetime | None = None


class SeatVacancyData(_Data):
    """HallWatch extension: the staff seat at a window was seen empty (camera analytics).

    Written locally by analytics; also accepted in change feeds so a server (or the demo) can
    carry them. Other implementations ignore the unknown type, as the protocol requires.
    """

    window_id: Id
    camera_id: Id | None = None  # the camera whose analytics saw it (None from feeds that predate it)
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None


#: The references of a hall's structure that a file must not leave dangling: (field, type it names).
#: (Business records — cases, tickets, complaints… — may name windows or case types that arrive
#: later or lie outside the terminal's scope; they are not checked.)
REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "org_unit": (("parent_id", "org_unit"),),
    "window": (("hall_id", "org_unit"),),
    "camera": (("hall_id", "org_unit"), ("window_id", "window")),
}

DATA_MODELS: dict[str, type[_Data]] = {
    "org_unit": OrgUnitData,
    "window": WindowData,
    "camera": CameraData,
    "case_type": CaseTypeData,
    "case": CaseData,
    "ticket": TicketData,
    "rule_set": RuleSetData,
    "calendar": CalendarData,
    "evaluation": EvaluationData,
    "complaint": ComplaintData,
    "disposition": DispositionData,
    "bookmark": BookmarkData,
    "terminal": TerminalData,
    "seat_vacancy": SeatVacancyData,
}


class Change(BaseModel):
    """One entry of a ``GET /changes`` page (the envelope; ``data`` checked per type)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    seq: Int63
    type: Text
    id: Id
    op: Literal["upsert", "delete"]
    version: Int63
    data: dict[str, Any] | None = None


class ChangesPage(BaseModel):
    """A ``GET /changes`` response body. ``changes`` stay raw: each is checked on its own so
    an error can name the record it is in."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    epoch: Text
    # Any: each change is checked on its own (a million bad elements must not make a million errors).
    changes: list[Any]
    next_cursor: Text | None = None
    has_more: StrictBool = False
    server_time: AwareDatetime | None = None
