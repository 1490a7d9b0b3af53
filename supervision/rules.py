"""The warning rules (supervision-rules.md, "Default rules") and their evaluation.

Warnings are derived, never stored as facts: the same records give the same warnings on every
terminal and on the server. A warning's key is ``<subject id>/<code>``.

Evaluation is split so that a terminal can re-evaluate often and cheaply:

* ``case_facts`` turns one case into the instants at which its warnings start (due ends,
  escalation deadline, stage deadlines, …). These depend on the case, its type, the calendar and
  the rules — not on the clock — and are cached per case by ``Evaluator``.
* ``Evaluator.evaluate(at)`` then only compares instants. Asking about an instant earlier than a
  case's last event (``--at`` in the past) views the case as it stood then and computes afresh.
* ``Evaluator.next_change(subject, after)`` gives the first instant after ``after`` at which a
  subject's warnings may change by time alone (a due date passing, an escalation, a wait or an
  absence crossing its limit, a recorded event the clock has not reached yet), so that a monitor
  re-judges a subject only when that instant has come. It may be early (a re-judge that finds
  nothing new), never late: between ``after`` and it the subject's warnings are those at ``after``.

Thresholds: "more than N minutes/days" is strictly more; "past the end of day d" is from 00:00 of
the next day on.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from supervision.calendar import WorkCalendar
from supervision.duedates import case_clock, end_of_day, local_date, suspended_workdays
from supervision.model import Case, CaseType, SeatVacancy, Ticket
from supervision.records import ENDED_STATUSES, STAGE_RANK

log = logging.getLogger(__name__)


class Level(StrEnum):
    NOTICE = "notice"
    YELLOW = "yellow"
    RED = "red"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {Level.NOTICE: 0, Level.YELLOW: 1, Level.RED: 2}


class Code(StrEnum):
    DUE_SOON = "DUE_SOON"
    OVERDUE = "OVERDUE"
    STAGE_LATE = "STAGE_LATE"
    FEE_MISMATCH = "FEE_MISMATCH"
    STAGE_SKIPPED = "STAGE_SKIPPED"
    SUSPENDED_LONG = "SUSPENDED_LONG"
    WAIT_LONG = "WAIT_LONG"
    POST_LEFT = "POST_LEFT"


DEFAULT_LEVELS: dict[Code, Level] = {
    Code.DUE_SOON: Level.NOTICE,
    Code.OVERDUE: Level.YELLOW,
    Code.STAGE_LATE: Level.YELLOW,
    Code.FEE_MISMATCH: Level.RED,
    Code.STAGE_SKIPPED: Level.RED,
    Code.SUSPENDED_LONG: Level.YELLOW,
    Code.WAIT_LONG: Level.YELLOW,
    Code.POST_LEFT: Level.YELLOW,
}

DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))


def _office_hours(value: Any) -> tuple[tuple[time, time], ...]:
    spans = []
    for pair in value:
        a, b = (time.fromisoformat(str(x)) for x in pair)
        if b <= a:
            raise ValueError(f"office hours {a:%H:%M}–{b:%H:%M}: the end must be after the start")
        spans.append((a, b))
    return tuple(sorted(spans))


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules in force with their levels and parameters."""

    enabled: frozenset[Code] = frozenset(Code)
    levels: Mapping[Code, Level] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    due_soon_days_before: int = 1
    overdue_reply_days: int = 3
    suspended_max_days: int = 30
    wait_minutes: float = 30
    post_left_minutes: float = 15
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
    # Score weights (supervision-rules.md "Performance").
    weight_yellow: float = 2
    weight_red: float = 5
    weight_bad_review: float = 1

    @classmethod
    def from_record(cls, rules: Iterable[Mapping[str, Any]], weights: Mapping[str, Any] | None = None) -> RuleSet:
        """Build from a synced ``rule_set``: the rules it lists are the ones in force.

        Unknown codes are ignored (a newer server may know more rules); a bad parameter is a
        ``ValueError`` naming the code and parameter.
        """
        enabled: set[Code] = set()
        levels = dict(DEFAULT_LEVELS)
        kw: dict[str, Any] = {}
        params_of = {
            Code.DUE_SOON: {"days_before": "due_soon_days_before"},
            Code.OVERDUE: {"reply_days": "overdue_reply_days"},
            Code.SUSPENDED_LONG: {"max_days": "suspended_max_days"},
            Code.WAIT_LONG: {"minutes": "wait_minutes"},
            Code.POST_LEFT: {"minutes": "post_left_minutes", "office_hours": "office_hours"},
        }
        for r in rules:
            try:
                code = Code(str(r["code"]))
            except ValueError:
                log.info("rule set names unknown rule %r: ignored", r.get("code"))
                continue
            enabled.add(code)
            if r.get("level"):
                levels[code] = Level(str(r["level"]))
            for pname, value in (r.get("params") or {}).items():
                attr = params_of.get(code, {}).get(pname)
                if attr is None:
                    continue
                try:
                    if attr == "office_hours":
                        kw[attr] = _office_hours(value)
                    elif attr.endswith("_days") or attr == "due_soon_days_before":
                        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                            raise ValueError("must be a whole number of days ≥ 0")
                        kw[attr] = value
                    else:
                        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                            raise ValueError("must be a number ≥ 0")
                        kw[attr] = float(value)
                except (ValueError, TypeError) as e:
                    raise ValueError(f"rule {code} parameter {pname}={value!r}: {e}") from None
        w = weights or {}
        for key, attr in (("yellow", "weight_yellow"), ("red", "weight_red"), ("bad_review", "weight_bad_review")):
            if key in w:
                kw[attr] = float(w[key])
        return cls(enabled=frozenset(enabled), levels=levels, **kw)


_NO_DETAIL: Mapping[str, Any] = MappingProxyType({})


class DerivedWarning(NamedTuple):
    """A warning in force at some instant, as the rules derive it. (A named tuple: immutable,
    and the cheapest value to build by the hundred thousand.)"""

    key: str
    code: Code
    level: Level
    subject: str
    subject_type: str  # "case", "ticket" or "window"
    since: datetime
    window_id: str | None = None
    level_since: datetime | None = None  # when it reached its current level
    detail: Mapping[str, Any] = _NO_DETAIL


# -- cases ---------------------------------------------------------------------------------------
class CaseFacts(NamedTuple):
    """The instants at which a case's warnings start; independent of the clock."""

    case: Case
    ctype: CaseType
    last_event: datetime  # facts hold for any instant at or after this
    ended_at: datetime | None  # completed (or rejected/withdrawn) at
    accepted_at: datetime | None
    promised_due: date | None = None
    legal_due: date | None = None
    open_suspension_from: datetime | None = None
    due_soon_from: datetime | None = None
    overdue_from: datetime | None = None  # past the promised due date
    escalate_at: datetime | None = None  # an undisposed yellow turns red here
    legal_overdue_from: datetime | None = None
    suspended_long_from: datetime | None = None
    static: tuple[tuple[Code, datetime, Mapping[str, Any]], ...] = ()  # STAGE_*, FEE_MISMATCH


def _case_as_of(case: Case, at: datetime) -> Case | None:
    """The case as it stood at ``at`` (None if it did not exist yet)."""
    if case.submitted_at > at:
        return None
    stages = tuple(s for s in case.stages if s[1] <= at)
    susp = tuple((a, b if b is not None and b <= at else None) for a, b in case.suspensions if a <= at)
    status, completed = case.status, case.completed_at
    if status in ENDED_STATUSES:
        ended = completed or (max(t for _, t in case.stages) if case.stages else case.submitted_at)
        if ended > at:
            status, completed = "in_progress", None
    return replace(case, stages=stages, suspensions=susp, completed_at=completed, status=status)


def _last_event(case: Case) -> datetime:
    t = case.submitted_at
    for _, at in case.stages:
        if at > t:  # max(t, at), without the call
            t = at
    for a, b in case.suspensions:
        e = a if b is None else b
        if e > t:
            t = e
    done = case.completed_at
    if done is not None and done > t:
        t = done
    return t


_ACCEPTED, _DECIDED, _COMPLETED = STAGE_RANK["accepted"], STAGE_RANK["decided"], STAGE_RANK["completed"]
_ONE_DAY = timedelta(days=1)


_EOD_UTC: dict[tuple[date, ZoneInfo], datetime] = {}


def _end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """``duedates.end_of_day`` in UTC (memoised): the facts' instants, the store's and the
    monitor's clock share one ``tzinfo`` object, so comparing them asks neither for its offset
    (a zone's is a look-up in its transitions, and the rules compare instants many times)."""
    key = (d, tz)
    got = _EOD_UTC.get(key)
    if got is None:
        if len(_EOD_UTC) > 100_000:
            _EOD_UTC.clear()
        got = _EOD_UTC[key] = end_of_day(d, tz).astimezone(UTC)
    return got


def _start_of_day(d: date, tz: ZoneInfo) -> datetime:
    return _end_of_day(d - _ONE_DAY, tz)


def _stage_findings(
    case: Case, ctype: CaseType, ended_at: datetime | None, cal: WorkCalendar, tz: ZoneInfo, rules: RuleSet
) -> list[tuple[Code, datetime, Mapping[str, Any]]]:
    out: list[tuple[Code, datetime, Mapping[str, Any]]] = []
    stages = case.stages
    ranks = [STAGE_RANK.get(st, -1) for st, _ in stages]
    in_order = all(a <= b for a, b in itertools.pairwise(ranks))
    has_accepted = _ACCEPTED in ranks
    later_than_accepted = bool(ranks) and max(ranks) > _ACCEPTED
    completed_without_decided = _COMPLETED in ranks and _DECIDED not in ranks
    first_at: dict[str, datetime] = {}
    if completed_without_decided or ctype.stage_days:  # the only checks that look stages up by name
        for st, at in stages:
            first_at.setdefault(st, at)

    if Code.STAGE_SKIPPED in rules.enabled and stages:
        skipped_at: datetime | None = None
        why = ""
        if not in_order:
            for (st, at), r, prev in zip(stages[1:], ranks[1:], ranks, strict=False):
                if r < prev:
                    skipped_at, why = at, f"{st} recorded after a later stage"
                    break
        if skipped_at is None and not has_accepted and later_than_accepted:
            for (st, at), r in zip(stages, ranks, strict=False):
                if r > _ACCEPTED:
                    skipped_at, why = at, f"{st} recorded without accepted"
                    break
        if skipped_at is None and completed_without_decided:
            skipped_at, why = first_at["completed"], "completed without decided"
        if skipped_at is None and ctype.stage_days:
            for st in ctype.stage_days:
                if st in first_at:
                    continue
                r = STAGE_RANK.get(st, -1)
                later = [at for (_, at), rk in zip(stages, ranks, strict=False) if rk > r]
                if later:
                    skipped_at, why = min(later), f"{st} missing"
                    break
        if skipped_at is not None:
            out.append((Code.STAGE_SKIPPED, skipped_at, {"reason": why}))

    if Code.STAGE_LATE in rules.enabled and ctype.stage_days:
        late: list[tuple[datetime, str]] = []
        for s, n in ctype.stage_days.items():
            rank = STAGE_RANK.get(s)
            if rank is None or rank == 0:
                continue
            # The stage before it: the nearest earlier stage in the order that was recorded.
            prev_at: datetime | None = None
            for pr in range(rank - 1, -1, -1):
                for st, at in stages:
                    if STAGE_RANK.get(st) == pr:
                        prev_at = at
                        break
                if prev_at is not None:
                    break
            if prev_at is None:
                continue
            done_at = first_at.get(s)
            start_day = local_date(prev_at, tz)
            relevant = [(a, b) for a, b in case.suspensions if a >= prev_at and (done_at is None or a < done_at)]
            end_day = local_date(done_at, tz) if done_at is not None else None
            extra = suspended_workdays(relevant, cal, tz, end_day or start_day) if relevant else 0
            deadline = _end_of_day(cal.add_workdays(start_day, n + extra), tz)
            if done_at is not None:
                if done_at >= deadline:
                    late.append((deadline, s))
            elif ended_at is None or ended_at >= deadline:
                late.append((deadline, s))
        if late:
            late.sort()
            out.append((Code.STAGE_LATE, late[0][0], {"stages": [s for _, s in late]}))

    fee = _fee_finding(case, ctype, rules)
    if fee is not None:
        out.append(fee)
    return out


def _fee_finding(case: Case, ctype: CaseType, rules: RuleSet) -> tuple[Code, datetime, Mapping[str, Any]] | None:
    """FEE_MISMATCH, the last of a case's static findings (the only one its fee drives)."""
    if Code.FEE_MISMATCH in rules.enabled and case.fee_charged is not None and case.fee_charged != ctype.fee:
        at = case.accepted_at or case.submitted_at
        return (Code.FEE_MISMATCH, at, {"fee": str(ctype.fee), "fee_charged": str(case.fee_charged)})
    return None


def _facts_reused(
    f: CaseFacts, old: Case, case: Case, ctype: CaseType, cal: WorkCalendar, tz: ZoneInfo, rules: RuleSet
) -> CaseFacts | None:
    """``case_facts(case, …)`` from the facts ``f`` of ``old`` (the same case before a change),
    when the change left what drives its instants as it was: only its window (which a warning
    carries from ``f.case``) or its fee (which drives FEE_MISMATCH alone) changed; or, for an
    accepted case with no open suspension, neither its acceptance nor its suspensions changed
    (a stage recorded, the case completed): its due dates and their instants hold, only its end,
    last event and stage findings are worked out again. None: work them all out again."""
    if f.ctype is not ctype or old.submitted_at != case.submitted_at or old.case_type_id != case.case_type_id:
        return None
    if old.status != case.status or old.completed_at != case.completed_at or old.stages != case.stages:
        if f.accepted_at is None or f.open_suspension_from is not None or old.suspensions != case.suspensions:
            return None
        accepted_at = case.accepted_at
        if accepted_at != f.accepted_at:
            return None
        # as case_facts works them out; the due dates and their instants (f[5:-1]) depend only on
        # the acceptance, the (closed) suspensions, the type, the calendar and the rules
        ended_at = _ended_at(case)
        static = tuple(_stage_findings(case, ctype, ended_at, cal, tz, rules))
        return CaseFacts._make((case, ctype, _last_event(case), ended_at, accepted_at, *f[5:-1], static))
    if old.suspensions != case.suspensions:
        return None
    if old.fee_charged == case.fee_charged:
        return CaseFacts._make((case, *f[1:]))  # f._replace(case=case) without its per-field calls
    findings = [x for x in f.static if x[0] is not Code.FEE_MISMATCH]
    fee = _fee_finding(case, ctype, rules)
    if fee is not None:
        findings.append(fee)
    return CaseFacts._make((case, *f[1:-1], tuple(findings)))  # f._replace(case=…, static=…)


def _ended_at(case: Case) -> datetime | None:
    """When an ended case ended: its completion, else its last stage, else its submission (None: open)."""
    if case.status not in ENDED_STATUSES:
        return None
    return case.completed_at or (max(at for _, at in case.stages) if case.stages else case.submitted_at)


def case_facts(case: Case, ctype: CaseType, cal: WorkCalendar, tz: ZoneInfo, rules: RuleSet) -> CaseFacts:
    """Work out when each of the case's warnings starts (see the module notes)."""
    ended_at = _ended_at(case)
    accepted_at = case.accepted_at
    static = tuple(_stage_findings(case, ctype, ended_at, cal, tz, rules))
    last = _last_event(case)
    open_from = next((a for a, b in case.suspensions if b is None), None)
    if accepted_at is None:
        return CaseFacts(case, ctype, last, ended_at, None, static=static)
    accepted_on = local_date(accepted_at, tz)
    if open_from is not None:
        long_from = None
        if Code.SUSPENDED_LONG in rules.enabled:
            long_from = _start_of_day(cal.add_workdays(local_date(open_from, tz), rules.suspended_max_days + 1), tz)
        return CaseFacts(
            case,
            ctype,
            last,
            ended_at,
            accepted_at,
            open_suspension_from=open_from,
            suspended_long_from=long_from,
            static=static,
        )
    closed = [(a, b) for a, b in case.suspensions if b is not None]
    extra = suspended_workdays(closed, cal, tz, accepted_on) if closed else 0
    # Immediate (即办件): promised the same day; the legal limit still counts its days.
    promised = cal.add_workdays(accepted_on, (0 if ctype.immediate else ctype.promised_days) + extra)
    legal = cal.add_workdays(accepted_on, ctype.legal_days + extra)
    overdue_from = _end_of_day(promised, tz)
    due_soon_from = None
    if Code.DUE_SOON in rules.enabled:
        soon_day = cal.add_workdays(promised, -rules.due_soon_days_before) if rules.due_soon_days_before else promised
        due_soon_from = max(_start_of_day(soon_day, tz), accepted_at)
    escalate_at = _end_of_day(cal.add_workdays(local_date(overdue_from, tz), rules.overdue_reply_days), tz)
    return CaseFacts(
        case,
        ctype,
        last,
        ended_at,
        accepted_at,
        promised_due=promised,
        legal_due=legal,
        due_soon_from=due_soon_from,
        overdue_from=overdue_from,
        escalate_at=escalate_at,
        legal_overdue_from=_end_of_day(legal, tz),
        static=static,
    )


# A warning key's tail for each code ("/" and its value): ``f"{cid}/{code}"`` formats the enum
# through Enum.__format__, a Python call per warning.
_SLASH_CODE: Mapping[Code, str] = {c: "/" + c.value for c in Code}
_ISO_DAYS: dict[date, str] = {}


def _iso_day(d: date | None) -> str | None:
    """``d.isoformat()`` (None for None), memoised: the same few hundred due dates, over and over."""
    if d is None:
        return None
    text = _ISO_DAYS.get(d)
    if text is None:
        if len(_ISO_DAYS) > 100_000:
            _ISO_DAYS.clear()
        text = _ISO_DAYS[d] = d.isoformat()
    return text


def case_warnings(
    f: CaseFacts, at: datetime, rules: RuleSet, disposed: Mapping[str, Sequence[datetime]]
) -> list[DerivedWarning]:
    """The warnings of a case in force at ``at`` (``at >= f.last_event``)."""
    case = f.case
    ended = f.ended_at is not None and f.ended_at <= at
    judge = f.ended_at if ended and f.ended_at is not None else at
    out: list[DerivedWarning] = []
    levels = rules.levels
    cid = case.id
    if f.open_suspension_from is not None:
        if f.suspended_long_from is not None and not ended and at >= f.suspended_long_from:
            out.append(
                DerivedWarning(
                    f"{cid}/SUSPENDED_LONG",
                    Code.SUSPENDED_LONG,
                    levels[Code.SUSPENDED_LONG],
                    cid,
                    "case",
                    f.suspended_long_from,
                    case.window_id,
                    detail={"suspended_since": f.open_suspension_from.isoformat()},
                )
            )
    elif f.overdue_from is not None:
        if judge >= f.overdue_from:
            if Code.OVERDUE in rules.enabled:
                key = f"{cid}/OVERDUE"
                level = levels[Code.OVERDUE]
                level_since = f.overdue_from
                red_at: datetime | None = None
                if f.legal_overdue_from is not None and judge >= f.legal_overdue_from:
                    red_at = f.legal_overdue_from
                esc = f.escalate_at
                if esc is not None and judge >= esc:
                    # Only a disposal of this yellow — after it was raised, before the deadline —
                    # stops the escalation.
                    raised = f.overdue_from
                    handled = any(raised <= d < esc for d in disposed.get(key, ()))
                    if not handled and (red_at is None or esc < red_at):
                        red_at = esc
                if red_at is not None and level is not Level.RED:
                    level, level_since = Level.RED, red_at
                out.append(
                    DerivedWarning(
                        key,
                        Code.OVERDUE,
                        level,
                        cid,
                        "case",
                        f.overdue_from,
                        case.window_id,
                        level_since,
                        {
                            "promised_due": _iso_day(f.promised_due),
                            "legal_due": _iso_day(f.legal_due),
                        },
                    )
                )
        elif not ended and f.due_soon_from is not None and at >= f.due_soon_from:
            out.append(
                DerivedWarning(
                    f"{cid}/DUE_SOON",
                    Code.DUE_SOON,
                    levels[Code.DUE_SOON],
                    cid,
                    "case",
                    f.due_soon_from,
                    case.window_id,
                    detail={"promised_due": _iso_day(f.promised_due)},
                )
            )
    for code, since, detail in f.static:
        if since <= judge:
            out.append(
                DerivedWarning(
                    cid + _SLASH_CODE[code], code, levels[code], cid, "case", since, case.window_id, None, detail
                )
            )
    return out


# -- tickets and seats -----------------------------------------------------------------------------
def ticket_warning(t: Ticket, at: datetime, rules: RuleSet) -> DerivedWarning | None:
    if Code.WAIT_LONG not in rules.enabled or t.issued_at > at:
        return None
    waiting = (t.called_at > at) if t.called_at is not None else t.status == "waiting"
    if not waiting:
        return None
    since = t.issued_at + timedelta(minutes=rules.wait_minutes)
    if at <= since:
        return None
    return DerivedWarning(
        f"{t.id}/WAIT_LONG",
        Code.WAIT_LONG,
        rules.levels[Code.WAIT_LONG],
        t.id,
        "ticket",
        since,
        t.window_id,
        detail={"number": t.number, "issued_at": t.issued_at.isoformat()},
    )


def office_crossing(
    start: datetime,
    end: datetime,
    limit_s: float,
    cal: WorkCalendar,
    tz: ZoneInfo,
    hours: tuple[tuple[time, time], ...],
) -> datetime | None:
    """The instant at which the office-hours time inside [start, end] first exceeds ``limit_s``
    seconds, or None if it does not by ``end``."""
    total = 0.0
    d = local_date(start, tz)
    last = local_date(end, tz)
    while d <= last:
        if cal.is_workday(d):
            for a, b in hours:
                lo = max(start, datetime.combine(d, a, tzinfo=tz))
                hi = min(end, datetime.combine(d, b, tzinfo=tz))
                if hi <= lo:
                    continue
                span = (hi - lo).total_seconds()
                if total + span > limit_s:
                    return lo + timedelta(seconds=limit_s - total)
                total += span
        d += timedelta(days=1)
    return None


def seat_warning(
    v: SeatVacancy, at: datetime, rules: RuleSet, cal: WorkCalendar, tz: ZoneInfo
) -> DerivedWarning | None:
    if Code.POST_LEFT not in rules.enabled or v.started_at > at:
        return None
    if v.ended_at is not None and v.ended_at <= at:
        return None
    since = office_crossing(v.started_at, at, rules.post_left_minutes * 60, cal, tz, rules.office_hours)
    if since is None or since >= at:
        return None
    return DerivedWarning(
        f"{v.window_id}/POST_LEFT",
        Code.POST_LEFT,
        rules.levels[Code.POST_LEFT],
        v.window_id,
        "window",
        since,
        v.window_id,
        detail={"empty_since": v.started_at.isoformat(), "vacancy_id": v.id},
    )


# -- when warnings change by time alone ------------------------------------------------------------
_TICK = timedelta(microseconds=1)  # "more than N" starts at the first instant after the limit
# How far ahead an absence's office-hours crossing is looked for; past it, the window is simply
# looked at again (the crossing is days away at most under any real office hours).
_SEAT_HORIZON = timedelta(days=60)


def _earliest(after: datetime, candidates: Iterable[datetime | None]) -> datetime | None:
    best: datetime | None = None
    for t in candidates:
        if t is not None and t > after and (best is None or t < best):
            best = t
    return best


def _case_events(case: Case) -> Iterator[datetime | None]:
    yield case.submitted_at
    for _, t in case.stages:
        yield t
    for a, b in case.suspensions:
        yield a
        yield b
    yield case.completed_at


def case_next_change(f: CaseFacts, after: datetime, cal: WorkCalendar, tz: ZoneInfo, rules: RuleSet) -> datetime | None:
    """The first instant after ``after`` at which the case's warnings may differ from those at
    ``after`` (None: never by time alone). Before the case's last event the case is viewed as it
    stood at ``after``, and its next recorded event is a change too."""
    nxt = _earliest(after, _case_events(f.case)) if after < f.last_event else None
    if after < f.last_event:
        past = _case_as_of(f.case, after)
        if past is None:
            return nxt
        f = case_facts(past, f.ctype, cal, tz, rules)
    cands = [f.due_soon_from, f.overdue_from, f.escalate_at, f.legal_overdue_from, f.suspended_long_from, nxt]
    cands.extend(since for _, since, _ in f.static)
    return _earliest(after, cands)


def case_due_dates(f: CaseFacts, at: datetime, cal: WorkCalendar, tz: ZoneInfo) -> tuple[date | None, date | None]:
    """The case's promised and legal due dates as of ``at``: while a suspension is open they move
    with its working days (counted up to the day of ``at``), as ``duedates.case_clock`` has it."""
    if f.open_suspension_from is None and at >= f.last_event:
        return f.promised_due, f.legal_due
    clock = case_clock(f.case, f.ctype, cal, tz, at)
    return clock.promised_due, clock.legal_due


def case_due_dates_next_change(f: CaseFacts, after: datetime, tz: ZoneInfo) -> datetime | None:
    """When ``case_due_dates`` may next give other dates by time alone: the next local midnight
    while a suspension is open (its days move them), the case's next recorded event before that."""
    nxt = _earliest(after, _case_events(f.case)) if after < f.last_event else None
    paused = any(a <= after and (b is None or b > after) for a, b in f.case.suspensions)
    if paused and f.accepted_at is not None:
        return _earliest(after, (nxt, _end_of_day(local_date(after, tz), tz)))
    return nxt


def ticket_next_change(t: Ticket, after: datetime, rules: RuleSet) -> datetime | None:
    """The first instant after ``after`` at which the ticket's WAIT_LONG may start or end."""
    if Code.WAIT_LONG not in rules.enabled:
        return None
    since = t.issued_at + timedelta(minutes=rules.wait_minutes)
    if (t.called_at is None and t.status != "waiting") or (t.called_at is not None and t.called_at <= since):
        return None  # never waits past the limit
    return _earliest(after, (since + _TICK, t.called_at))


def seat_next_change(
    v: SeatVacancy, after: datetime, rules: RuleSet, cal: WorkCalendar, tz: ZoneInfo
) -> datetime | None:
    """The first instant after ``after`` at which the vacancy's POST_LEFT may start or end."""
    if Code.POST_LEFT not in rules.enabled:
        return None
    if v.ended_at is not None and v.ended_at <= after:
        return None
    horizon = max(after, v.started_at) + _SEAT_HORIZON
    if v.ended_at is not None:
        horizon = min(horizon, v.ended_at)
    crossing = office_crossing(v.started_at, horizon, rules.post_left_minutes * 60, cal, tz, rules.office_hours)
    if crossing is None:  # ends before the limit, or not within the horizon: look again then
        return None if horizon == v.ended_at else _earliest(after, (horizon,))
    return _earliest(after, (crossing + _TICK, v.ended_at))


class Subject(NamedTuple):
    """What warnings are about: a case, a ticket or a window (its seat)."""

    kind: str  # "case", "ticket" or "window"
    id: str


# -- the evaluator ----------------------------------------------------------------------------------
@dataclass(slots=True)
class EvalStats:
    cases: int = 0
    recomputed: int = 0
    orphans: int = 0  # cases whose type is unknown here


class Evaluator:
    """Keeps per-case facts and evaluates warnings at any instant.

    ``set_cases`` / ``remove_cases`` update the cached facts of changed cases only; ``evaluate``
    compares instants for everything, or only for the subjects asked for.
    """

    def __init__(self, cal: WorkCalendar, tz: ZoneInfo, rules: RuleSet, case_types: Mapping[str, CaseType]) -> None:
        self.cal = cal
        self.tz = tz
        self.rules = rules
        self.case_types = dict(case_types)
        self._facts: dict[str, CaseFacts] = {}
        self._cases: dict[str, Case] = {}
        self.tickets: dict[str, Ticket] = {}
        self.vacancies: dict[str, SeatVacancy] = {}
        self._window_vacancies: dict[str, set[str]] = {}
        self.disposed: dict[str, list[datetime]] = {}  # key -> times of warning.dispose actions
        self.stats = EvalStats()

    def set_cases(self, cases: Iterable[Case]) -> None:
        self._set_cases(cases)

    def _set_cases(self, cases: Iterable[Case]) -> None:
        facts, types, cal, tz, rules, kept = self._facts, self.case_types, self.cal, self.tz, self.rules, self._cases
        for c in cases:
            old = kept.get(c.id)
            kept[c.id] = c
            ct = types.get(c.case_type_id)
            if ct is None:
                facts.pop(c.id, None)
                self.stats.orphans += 1
                continue
            if old is not None:  # a changed case: its facts hold when what drives its instants did not change
                f = facts.get(c.id)
                reused = None if f is None else _facts_reused(f, old, c, ct, cal, tz, rules)
                if reused is not None:
                    facts[c.id] = reused
                    continue
            facts[c.id] = case_facts(c, ct, cal, tz, rules)
            self.stats.recomputed += 1
        self.stats.cases = len(self._cases)

    def facts(self) -> Iterable[CaseFacts]:
        """The cached facts of every case (for reports built on the same view)."""
        return self._facts.values()

    def remove_cases(self, ids: Iterable[str]) -> None:
        for i in ids:
            self._cases.pop(i, None)
            self._facts.pop(i, None)
        self.stats.cases = len(self._cases)

    def set_tickets(self, tickets: Iterable[Ticket]) -> None:
        for t in tickets:
            self.tickets[t.id] = t

    def remove_tickets(self, ids: Iterable[str]) -> None:
        for i in ids:
            self.tickets.pop(i, None)

    def set_vacancies(self, vacancies: Iterable[SeatVacancy]) -> None:
        for v in vacancies:
            old = self.vacancies.get(v.id)
            if old is not None and old.window_id != v.window_id:
                self._window_vacancies.get(old.window_id, set()).discard(v.id)
            self.vacancies[v.id] = v
            self._window_vacancies.setdefault(v.window_id, set()).add(v.id)

    def remove_vacancies(self, ids: Iterable[str]) -> None:
        for i in ids:
            old = self.vacancies.pop(i, None)
            if old is not None:
                self._window_vacancies.get(old.window_id, set()).discard(i)

    # -- one subject at a time (the monitor's passes) ------------------------------------------
    def case(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def case_facts_of(self, case_id: str) -> CaseFacts | None:
        """The cached facts of one case (None: unknown, or its type is unknown here)."""
        return self._facts.get(case_id)

    def vacancy_window(self, vacancy_id: str) -> str | None:
        v = self.vacancies.get(vacancy_id)
        return None if v is None else v.window_id

    def subjects(self) -> Iterator[Subject]:
        """Every subject that can have warnings: cases of a known type, tickets, windows with a
        recorded vacancy."""
        for cid in self._facts:
            yield Subject("case", cid)
        for tid in self.tickets:
            yield Subject("ticket", tid)
        for wid, vids in self._window_vacancies.items():
            if vids:
                yield Subject("window", wid)

    def subjects_named(self, subject_id: str) -> list[Subject]:
        """The subjects with this id (a warning key names its subject by id alone)."""
        out = []
        if subject_id in self._facts:
            out.append(Subject("case", subject_id))
        if subject_id in self.tickets:
            out.append(Subject("ticket", subject_id))
        if self._window_vacancies.get(subject_id):
            out.append(Subject("window", subject_id))
        return out

    def judge(self, subject: Subject, at: datetime) -> list[DerivedWarning]:
        """The warnings of one subject in force at ``at`` (what ``evaluate`` gives for it)."""
        kind, sid = subject
        if kind == "case":
            f = self._facts.get(sid)
            if f is None or f.case.submitted_at > at:
                return []
            return self._one_case(f, at)
        if kind == "ticket":
            t = self.tickets.get(sid)
            w = None if t is None else ticket_warning(t, at, self.rules)
            return [] if w is None else [w]
        best: tuple[tuple[datetime, datetime, str], DerivedWarning] | None = None
        for vid in self._window_vacancies.get(sid, ()):
            v = self.vacancies[vid]
            w = seat_warning(v, at, self.rules, self.cal, self.tz)
            if w is not None:
                rank = (w.since, v.started_at, v.id)
                if best is None or rank < best[0]:
                    best = (rank, w)
        return [] if best is None else [best[1]]

    def next_change(self, subject: Subject, after: datetime) -> datetime | None:
        """The first instant after ``after`` at which ``judge(subject, ·)`` may give something
        else than at ``after``, by time alone (None: never)."""
        kind, sid = subject
        if kind == "case":
            f = self._facts.get(sid)
            return None if f is None else case_next_change(f, after, self.cal, self.tz, self.rules)
        if kind == "ticket":
            t = self.tickets.get(sid)
            return None if t is None else ticket_next_change(t, after, self.rules)
        return _earliest(
            after,
            (
                seat_next_change(self.vacancies[vid], after, self.rules, self.cal, self.tz)
                for vid in self._window_vacancies.get(sid, ())
            ),
        )

    def _one_case(self, f: CaseFacts, at: datetime) -> list[DerivedWarning]:
        if at >= f.last_event:
            return case_warnings(f, at, self.rules, self.disposed)
        past = _case_as_of(f.case, at)
        if past is None:
            return []
        return case_warnings(case_facts(past, f.ctype, self.cal, self.tz, self.rules), at, self.rules, self.disposed)

    def evaluate(self, at: datetime, *, case_ids: Iterable[str] | None = None) -> list[DerivedWarning]:
        """Every warning in force at ``at`` (or those of the given cases only)."""
        return self._evaluate(at, case_ids)

    def _evaluate(self, at: datetime, case_ids: Iterable[str] | None) -> list[DerivedWarning]:
        out: list[DerivedWarning] = []
        facts = self._facts
        one = self._one_case
        if case_ids is not None:
            for cid in case_ids:
                f = facts.get(cid)
                if f is not None:
                    out.extend(one(f, at))
            return out
        for f in facts.values():
            if f.case.submitted_at <= at:
                out.extend(one(f, at))
        rules = self.rules
        for t in self.tickets.values():
            w = ticket_warning(t, at, rules)
            if w is not None:
                out.append(w)
        seats: dict[str, tuple[tuple[datetime, datetime, str], DerivedWarning]] = {}
        for v in self.vacancies.values():
            w = seat_warning(v, at, rules, self.cal, self.tz)
            if w is not None:
                rank = (w.since, v.started_at, v.id)  # the earliest absence; ties decided the same way
                if w.key not in seats or rank < seats[w.key][0]:
                    seats[w.key] = (rank, w)
        out.extend(w for _, w in seats.values())
        return out
