"""Plain, immutable domain values the rules work on (no ORM, no pydantic: cheap to build by
the hundred thousand, safe to hand between threads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from supervision.records import CaseData, CaseTypeData, SeatVacancyData, TicketData


@dataclass(frozen=True, slots=True)
class CaseType:
    id: str
    name: str
    department: str
    legal_days: int
    promised_days: int
    fee: Decimal
    immediate: bool = False
    stage_days: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_data(cls, id: str, d: CaseTypeData) -> CaseType:
        return cls(
            id=id,
            name=d.name,
            department=d.department,
            legal_days=d.legal_days,
            promised_days=d.promised_days,
            fee=d.fee,
            immediate=d.immediate,
            stage_days={str(k): v for k, v in d.stage_days.items()},
        )


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    case_type_id: str
    status: str
    submitted_at: datetime
    window_id: str | None = None
    stages: tuple[tuple[str, datetime], ...] = ()
    suspensions: tuple[tuple[datetime, datetime | None], ...] = ()
    fee_charged: Decimal | None = None
    completed_at: datetime | None = None

    @property
    def accepted_at(self) -> datetime | None:
        for stage, at in self.stages:
            if stage == "accepted":
                return at
        return None

    @classmethod
    def from_data(cls, id: str, d: CaseData) -> Case:
        return cls(
            id=id,
            case_type_id=d.case_type_id,
            status=str(d.status),
            submitted_at=d.submitted_at,
            window_id=d.window_id,
            stages=tuple((str(s.stage), s.at) for s in d.stages),
            suspensions=tuple((s.from_, s.to) for s in d.suspensions),
            fee_charged=d.fee_charged,
            completed_at=d.completed_at,
        )


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    hall_id: str
    number: str
    status: str
    issued_at: datetime
    called_at: datetime | None = None
    window_id: str | None = None
    case_type_id: str | None = None

    @classmethod
    def from_data(cls, id: str, d: TicketData) -> Ticket:
        return cls(
            id=id,
            hall_id=d.hall_id,
            number=d.number,
            status=str(d.status),
            issued_at=d.issued_at,
            called_at=d.called_at,
            window_id=d.window_id,
            case_type_id=d.case_type_id,
        )


@dataclass(frozen=True, slots=True)
class SeatVacancy:
    id: str
    window_id: str
    started_at: datetime
    ended_at: datetime | None = None

    @classmethod
    def from_data(cls, id: str, d: SeatVacancyData) -> SeatVacancy:
        return cls(id=id, window_id=d.window_id, started_at=d.started_at, ended_at=d.ended_at)
