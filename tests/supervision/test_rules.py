"""The warning rules (supervision-rules.md, "Default rules") evaluated by ``Evaluator``.

Every threshold is checked at, just before and just after the instant it starts. Every expected
date and instant is worked out by hand against the 2026 holiday notice (the hand table in
``test_calendar``: 1–3 Jan, 15–23 Feb, 4–6 Apr, 1–5 May, 19–21 Jun, 25–27 Sep, 1–7 Oct off;
4 Jan, 14 Feb, 28 Feb, 9 May, 20 Sep, 10 Oct worked); the comment next to it shows the count.
Hall zone Asia/Shanghai; instants are handed to the code in UTC, as the store keeps them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from supervision.calendar import WorkCalendar
from supervision.model import Case, CaseType, SeatVacancy, Ticket
from supervision.rules import Code, DerivedWarning, Evaluator, Level, RuleSet, Subject
from tests.supervision.test_calendar import TABLE_2026

SH = ZoneInfo("Asia/Shanghai")
ONE_S = timedelta(seconds=1)


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    """An instant given in hall time, handed over in UTC like the database does."""
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH).astimezone(UTC)


def cal() -> WorkCalendar:
    return WorkCalendar(builtin=False, synced=[TABLE_2026])


def ctype(
    promised: int = 3,
    legal: int = 10,
    *,
    fee: str = "0",
    immediate: bool = False,
    stage_days: dict[str, int] | None = None,
) -> CaseType:
    return CaseType(
        id="t1",
        name="建设工程规划许可",
        department="规划局",
        legal_days=legal,
        promised_days=promised,
        fee=Decimal(fee),
        immediate=immediate,
        stage_days=stage_days or {},
    )


def case(
    accepted: datetime | None,
    *,
    id: str = "c1",
    stages: tuple[tuple[str, datetime], ...] | None = None,
    suspensions: tuple[tuple[datetime, datetime | None], ...] = (),
    completed_at: datetime | None = None,
    fee_charged: str | None = None,
    submitted_at: datetime | None = None,
) -> Case:
    if submitted_at is None:
        assert accepted is not None
        submitted_at = accepted - timedelta(minutes=5)
    if stages is None:
        stages = (("submitted", submitted_at),)
        if accepted is not None:
            stages += (("accepted", accepted),)
        if completed_at is not None:
            stages += (("handled", completed_at), ("reviewed", completed_at), ("decided", completed_at))
            stages += (("completed", completed_at),)
    status = "completed" if completed_at is not None else ("suspended" if suspensions else "in_progress")
    return Case(
        id=id,
        case_type_id="t1",
        status=status,
        submitted_at=submitted_at,
        window_id="w1",
        stages=stages,
        suspensions=suspensions,
        fee_charged=Decimal(fee_charged) if fee_charged is not None else None,
        completed_at=completed_at,
    )


def evaluator(*cases: Case, t: CaseType | None = None, rules: RuleSet | None = None) -> Evaluator:
    ev = Evaluator(cal(), SH, rules or RuleSet(), {"t1": t or ctype()})
    ev.set_cases(cases)
    return ev


def at(ev: Evaluator, instant: datetime) -> dict[str, DerivedWarning]:
    out = {w.key: w for w in ev.evaluate(instant)}
    assert len(out) == len(ev.evaluate(instant)), "one warning per key"
    return out


# The base case of this file: accepted Mon 2026-06-01 10:00, promised 3, legal 10.
# promised: Tue Jun 2 (1), Wed 3 (2), Thu Jun 4 (3) -> due Thu 2026-06-04 (the spec's example)
# legal: Jun 2 (1), 3 (2), 4 (3), 5 (4), 8 (5), 9 (6), 10 (7), 11 (8), 12 (9), Mon Jun 15 (10)
# escalation: yellow raised Fri Jun 5; due(3) from Jun 5: Mon 8 (1), Tue 9 (2), Wed Jun 10 (3)
ACCEPTED = local(2026, 6, 1, 10)
DUE_SOON_FROM = local(2026, 6, 3)  # the working day before Thu Jun 4 is Wed Jun 3
OVERDUE_FROM = local(2026, 6, 5)
ESCALATE_AT = local(2026, 6, 11)
LEGAL_RED_FROM = local(2026, 6, 16)
MUCH_LATER = local(2026, 12, 1, 12)


# -- DUE_SOON ----------------------------------------------------------------------------------
def test_due_soon_starts_at_midnight_of_the_working_day_before_the_promised_due() -> None:
    ev = evaluator(case(ACCEPTED))
    assert at(ev, local(2026, 6, 2, 23, 59, 59)) == {}
    w = at(ev, DUE_SOON_FROM)["c1/DUE_SOON"]
    assert (w.code, w.level, w.subject, w.since) == (Code.DUE_SOON, Level.NOTICE, "c1", DUE_SOON_FROM)
    assert set(at(ev, local(2026, 6, 4, 23, 59, 59))) == {"c1/DUE_SOON"}


def test_due_soon_counts_back_over_a_holiday() -> None:
    # accepted Tue Jun 16, promised 3: Wed 17 (1), Thu 18 (2), [Fri 19 Dragon Boat, 20, 21 off],
    # Mon Jun 22 (3). The working day before Mon Jun 22 is Thu Jun 18.
    ev = evaluator(case(local(2026, 6, 16, 10)))
    assert at(ev, local(2026, 6, 17, 23, 59, 59)) == {}
    assert at(ev, local(2026, 6, 18))["c1/DUE_SOON"].since == local(2026, 6, 18)
    assert set(at(ev, local(2026, 6, 20, 12))) == {"c1/DUE_SOON"}  # a holiday inside the notice
    assert set(at(ev, local(2026, 6, 22, 23, 59, 59))) == {"c1/DUE_SOON"}
    assert set(at(ev, local(2026, 6, 23))) == {"c1/OVERDUE"}


def test_due_soon_days_before_is_a_parameter() -> None:
    # due Thu Jun 4; two working days before: Wed Jun 3 (1), Tue Jun 2 (2)
    rules = RuleSet.from_record([{"code": "DUE_SOON", "params": {"days_before": 2}}, {"code": "OVERDUE"}])
    ev = evaluator(case(ACCEPTED), rules=rules)
    assert at(ev, local(2026, 6, 1, 23, 59, 59)) == {}
    assert at(ev, local(2026, 6, 2))["c1/DUE_SOON"].since == local(2026, 6, 2)


def test_due_soon_is_not_raised_before_acceptance_nor_after_completion() -> None:
    ev = evaluator(case(None, submitted_at=local(2026, 6, 1, 9)))
    assert at(ev, local(2026, 6, 30)) == {}  # never accepted: the clock never started
    done = case(ACCEPTED, completed_at=local(2026, 6, 3, 15))
    ev = evaluator(done)
    assert set(at(ev, local(2026, 6, 3, 14, 59, 59))) == {"c1/DUE_SOON"}
    assert at(ev, local(2026, 6, 3, 15)) == {}


# -- OVERDUE -----------------------------------------------------------------------------------
def test_overdue_yellow_from_midnight_after_the_promised_due_date() -> None:
    ev = evaluator(case(ACCEPTED))
    assert "c1/OVERDUE" not in at(ev, local(2026, 6, 4, 23, 59, 59))
    got = at(ev, OVERDUE_FROM)
    assert set(got) == {"c1/OVERDUE"}  # DUE_SOON ends where OVERDUE starts
    w = got["c1/OVERDUE"]
    assert (w.code, w.level, w.since, w.level_since) == (Code.OVERDUE, Level.YELLOW, OVERDUE_FROM, OVERDUE_FROM)


def test_overdue_never_disposed_turns_red_after_the_end_of_jun_10() -> None:
    # the spec's example: due 2026-06-04, never disposed -> red after the end of 2026-06-10
    ev = evaluator(case(ACCEPTED))
    assert at(ev, local(2026, 6, 10, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    w = at(ev, ESCALATE_AT)["c1/OVERDUE"]
    assert (w.level, w.since, w.level_since) == (Level.RED, OVERDUE_FROM, ESCALATE_AT)


def test_overdue_is_red_past_the_legal_due_date() -> None:
    # legal 4: Jun 2 (1), 3 (2), 4 (3), Fri Jun 5 (4) -> red from Sat Jun 6 00:00, before the
    # escalation deadline (Jun 11)
    ev = evaluator(case(ACCEPTED), t=ctype(3, 4))
    assert at(ev, local(2026, 6, 5, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    w = at(ev, local(2026, 6, 6))["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, local(2026, 6, 6))


def test_a_yellow_disposed_before_the_deadline_stays_yellow_until_the_legal_due_date() -> None:
    ev = evaluator(case(ACCEPTED))
    ev.disposed["c1/OVERDUE"] = [local(2026, 6, 10, 23, 59, 59)]  # the last second in time
    assert at(ev, ESCALATE_AT)["c1/OVERDUE"].level is Level.YELLOW
    assert at(ev, local(2026, 6, 15, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    w = at(ev, LEGAL_RED_FROM)["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, LEGAL_RED_FROM)


def test_a_disposal_after_the_deadline_does_not_undo_the_red() -> None:
    ev = evaluator(case(ACCEPTED))
    ev.disposed["c1/OVERDUE"] = [ESCALATE_AT]  # not disposed *by the end of* Jun 10
    w = at(ev, ESCALATE_AT)["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, ESCALATE_AT)


def test_escalation_deadline_counts_working_days_over_a_holiday() -> None:
    # accepted Tue Jun 16, promised 3 -> due Mon Jun 22 (see the DUE_SOON holiday test);
    # yellow from Tue Jun 23; due(3) from Jun 23: Wed 24 (1), Thu 25 (2), Fri Jun 26 (3)
    # legal 20 is far later (Jul 14), so the escalation decides.
    ev = evaluator(case(local(2026, 6, 16, 10)), t=ctype(3, 20))
    assert at(ev, local(2026, 6, 26, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    assert at(ev, local(2026, 6, 27))["c1/OVERDUE"].level is Level.RED


# -- completion ----------------------------------------------------------------------------------
def test_completed_in_the_last_second_of_the_promised_due_date_is_not_overdue() -> None:
    ev = evaluator(case(ACCEPTED, completed_at=local(2026, 6, 4, 23, 59, 59)))
    assert at(ev, MUCH_LATER) == {}


def test_completed_one_second_late_keeps_a_yellow_overdue_forever() -> None:
    ev = evaluator(case(ACCEPTED, completed_at=local(2026, 6, 5)))
    got = at(ev, MUCH_LATER)
    assert set(got) == {"c1/OVERDUE"}
    w = got["c1/OVERDUE"]
    # judged at completion: yellow, even though both the escalation deadline and the legal due
    # date have long passed since
    assert (w.level, w.since) == (Level.YELLOW, OVERDUE_FROM)


def test_completed_while_yellow_stays_yellow_long_after() -> None:
    ev = evaluator(case(ACCEPTED, completed_at=local(2026, 6, 8, 10)))
    assert at(ev, MUCH_LATER)["c1/OVERDUE"].level is Level.YELLOW


def test_completed_while_red_stays_red() -> None:
    ev = evaluator(case(ACCEPTED, completed_at=local(2026, 6, 12, 10)))
    w = at(ev, MUCH_LATER)["c1/OVERDUE"]
    assert (w.level, w.since, w.level_since) == (Level.RED, OVERDUE_FROM, ESCALATE_AT)


# -- --at in the past ------------------------------------------------------------------------------
def test_an_instant_in_the_past_sees_the_case_as_it_was_then() -> None:
    # submitted 09:55, accepted 10:00 on Jun 1; completed late on Fri Jun 12 10:00
    ev = evaluator(case(ACCEPTED, completed_at=local(2026, 6, 12, 10)))
    assert at(ev, local(2026, 6, 1, 9, 54)) == {}  # not submitted yet
    assert at(ev, local(2026, 6, 1, 9, 57)) == {}  # submitted, not accepted
    assert set(at(ev, local(2026, 6, 4, 12))) == {"c1/DUE_SOON"}
    w = at(ev, local(2026, 6, 8, 12))["c1/OVERDUE"]  # an open, overdue case then
    assert (w.level, w.since) == (Level.YELLOW, OVERDUE_FROM)
    assert at(ev, local(2026, 6, 11, 12))["c1/OVERDUE"].level is Level.RED
    assert "c1/STAGE_SKIPPED" not in at(ev, local(2026, 6, 11, 12))


def test_an_instant_before_a_stage_does_not_see_that_stage() -> None:
    # handled is recorded Jun 8 without accepted ever recorded: skipped from Jun 8 only
    stages = (("submitted", local(2026, 6, 1, 9)), ("handled", local(2026, 6, 8, 9)))
    ev = evaluator(case(None, stages=stages, submitted_at=local(2026, 6, 1, 9)))
    assert at(ev, local(2026, 6, 8, 8, 59, 59)) == {}
    assert at(ev, local(2026, 6, 8, 9))["c1/STAGE_SKIPPED"].since == local(2026, 6, 8, 9)


def test_evaluate_can_be_limited_to_some_cases() -> None:
    ev = evaluator(case(ACCEPTED), case(local(2026, 6, 16, 10), id="c2"))
    ev.set_tickets([Ticket("k1", "h1", "A001", "waiting", local(2026, 6, 5, 9))])
    assert {w.key for w in ev.evaluate(local(2026, 6, 5, 12), case_ids=["c2"])} == set()
    assert {w.key for w in ev.evaluate(local(2026, 6, 5, 12), case_ids=["c1"])} == {"c1/OVERDUE"}
    assert {w.key for w in ev.evaluate(local(2026, 6, 5, 12))} == {"c1/OVERDUE", "k1/WAIT_LONG"}


# -- suspensions ---------------------------------------------------------------------------------
def test_a_suspension_spanning_a_holiday_moves_the_due_date_by_its_working_days() -> None:
    # accepted Mon Jun 15, promised 5: Tue 16 (1), Wed 17 (2), Thu 18 (3), [19–21 off],
    # Mon 22 (4), Tue Jun 23 (5). Suspended Wed Jun 17 10:00 – Mon Jun 22 10:00: working days
    # d with Jun 17 < d <= Jun 22 are Thu 18 and Mon 22 (19 Fri holiday, 20, 21 off) = 2,
    # so due Wed Jun 24 (6), Thu Jun 25 (7). DUE_SOON from Wed Jun 24 00:00.
    susp = ((local(2026, 6, 17, 10), local(2026, 6, 22, 10)),)
    ev = evaluator(case(local(2026, 6, 15, 10), suspensions=susp), t=ctype(5, 20))
    assert at(ev, local(2026, 6, 23, 23, 59, 59)) == {}
    assert set(at(ev, local(2026, 6, 24))) == {"c1/DUE_SOON"}  # would be overdue without it
    assert set(at(ev, local(2026, 6, 25, 23, 59, 59))) == {"c1/DUE_SOON"}
    w = at(ev, local(2026, 6, 26))["c1/OVERDUE"]
    assert (w.level, w.since) == (Level.YELLOW, local(2026, 6, 26))
    # while it was open the clock was paused: nothing then
    assert at(ev, local(2026, 6, 22, 9, 59, 59)) == {}


def test_an_open_suspension_raises_neither_due_soon_nor_overdue() -> None:
    # base case (due Thu Jun 4) suspended from Wed Jun 3 09:00, still open
    ev = evaluator(case(ACCEPTED, suspensions=((local(2026, 6, 3, 9), None),)))
    assert set(at(ev, local(2026, 6, 3, 8, 59, 59))) == {"c1/DUE_SOON"}  # before it started
    assert at(ev, local(2026, 6, 3, 9)) == {}
    assert at(ev, local(2026, 6, 12, 12)) == {}


# SUSPENDED_LONG: suspended from Mon Jul 6 10:00 (no holidays in July/August 2026).
# Working days after Jul 6: Jul 7–10 (1–4), 13–17 (5–9), 20–24 (10–14), 27–31 (15–19),
# Aug 3–7 (20–24), Aug 10–14 (25–29), Mon Aug 17 (30), Tue Aug 18 (31).
def test_suspended_long_after_more_than_30_working_days() -> None:
    # accepted Thu Jul 2, promised 3: Fri 3 (1), Mon 6 (2), Tue Jul 7 (3)
    ev = evaluator(case(local(2026, 7, 2, 10), suspensions=((local(2026, 7, 6, 10), None),)))
    assert at(ev, local(2026, 8, 17, 23, 59, 59)) == {}  # open 30 working days
    got = at(ev, local(2026, 8, 18))  # open 31 working days
    assert set(got) == {"c1/SUSPENDED_LONG"}  # and no OVERDUE while suspended
    w = got["c1/SUSPENDED_LONG"]
    assert (w.code, w.level, w.since) == (Code.SUSPENDED_LONG, Level.YELLOW, local(2026, 8, 18))


def test_suspended_long_max_days_is_a_parameter_and_a_closed_suspension_never_raises_it() -> None:
    rules = RuleSet.from_record([{"code": "SUSPENDED_LONG", "params": {"max_days": 5}}])
    # 5 working days after Jul 6: Jul 7 (1), 8, 9, 10 (4), Mon Jul 13 (5), Tue Jul 14 (6)
    ev = evaluator(case(local(2026, 7, 2, 10), suspensions=((local(2026, 7, 6, 10), None),)), rules=rules)
    assert at(ev, local(2026, 7, 13, 23, 59, 59)) == {}
    assert set(at(ev, local(2026, 7, 14))) == {"c1/SUSPENDED_LONG"}
    closed = ((local(2026, 7, 6, 10), local(2026, 8, 31, 10)),)
    ev = evaluator(case(local(2026, 7, 2, 10), suspensions=closed), rules=rules)
    assert at(ev, local(2026, 9, 1)) == {}


# -- immediate (即办件) ---------------------------------------------------------------------------
def test_immediate_case_is_promised_on_its_acceptance_date_and_red_only_past_its_legal_due() -> None:
    # accepted Tue Jun 2 10:00, legal 20: promised Jun 2 itself. The working day before it is
    # before acceptance, so the notice starts at acceptance. Open overnight: yellow from Jun 3.
    # legal: Jun 3-5 (3), 8-12 (8), 15-18 (12; 19 Jun is a holiday), 22-26 (17), 29, 30 (19),
    # Wed Jul 1 (20) -> red from Jul 2 once the yellow was disposed in time.
    t = ctype(5, 20, immediate=True)
    ev = evaluator(case(local(2026, 6, 2, 10)), t=t)
    assert at(ev, local(2026, 6, 2, 9, 59, 59)) == {}
    assert at(ev, local(2026, 6, 2, 10))["c1/DUE_SOON"].since == local(2026, 6, 2, 10)
    assert set(at(ev, local(2026, 6, 2, 23, 59, 59))) == {"c1/DUE_SOON"}
    w = at(ev, local(2026, 6, 3))["c1/OVERDUE"]
    assert (w.level, w.since) == (Level.YELLOW, local(2026, 6, 3))
    assert w.detail == {"promised_due": "2026-06-02", "legal_due": "2026-07-01"}
    ev.disposed = {"c1/OVERDUE": [local(2026, 6, 4, 9)]}
    assert at(ev, local(2026, 7, 1, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    w = at(ev, local(2026, 7, 2))["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, local(2026, 7, 2))


def test_an_undisposed_immediate_yellow_escalates_like_any_other() -> None:
    # yellow raised Wed Jun 3; due(3) from Jun 3: Jun 4, 5, Mon Jun 8 -> red from Jun 9 00:00
    ev = evaluator(case(local(2026, 6, 2, 10)), t=ctype(5, 20, immediate=True))
    assert at(ev, local(2026, 6, 8, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    w = at(ev, local(2026, 6, 9))["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, local(2026, 6, 9))


def test_an_immediate_type_without_legal_days_is_red_overnight() -> None:
    ev = evaluator(case(local(2026, 6, 2, 10)), t=ctype(0, 0, immediate=True))
    w = at(ev, local(2026, 6, 3))["c1/OVERDUE"]
    assert (w.level, w.since, w.level_since) == (Level.RED, local(2026, 6, 3), local(2026, 6, 3))


def test_immediate_case_completed_the_same_day_raises_nothing() -> None:
    t = ctype(0, 0, immediate=True)
    # accepted Fri Jun 5 16:00, completed 23:30 that day
    ev = evaluator(case(local(2026, 6, 5, 16), completed_at=local(2026, 6, 5, 23, 30)), t=t)
    assert at(ev, MUCH_LATER) == {}
    # completed Sat Jun 6 00:00:00 instead: overdue
    ev = evaluator(case(local(2026, 6, 5, 16), completed_at=local(2026, 6, 6)), t=t)
    assert at(ev, MUCH_LATER)["c1/OVERDUE"].since == local(2026, 6, 6)


# -- FEE_MISMATCH --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("standard", "charged", "mismatch"),
    [
        ("0", "0.00", False),
        ("0.00", "0", False),
        ("80", "80.00", False),
        ("80.00", "80", False),
        ("80", "80.01", True),
        ("80.00", "79.99", True),
        ("0", "5", True),
    ],
)
def test_fee_mismatch_compares_decimal_values(standard: str, charged: str, mismatch: bool) -> None:
    ev = evaluator(case(ACCEPTED, fee_charged=charged), t=ctype(fee=standard))
    got = at(ev, local(2026, 6, 1, 12))
    if mismatch:
        w = got["c1/FEE_MISMATCH"]
        assert (w.level, w.since) == (Level.RED, ACCEPTED)
    else:
        assert "c1/FEE_MISMATCH" not in got


def test_fee_mismatch_is_kept_after_completion_and_absent_without_a_charge() -> None:
    ev = evaluator(case(ACCEPTED, fee_charged="80.01", completed_at=local(2026, 6, 3, 10)), t=ctype(fee="80"))
    assert set(at(ev, MUCH_LATER)) == {"c1/FEE_MISMATCH"}
    ev = evaluator(case(ACCEPTED), t=ctype(fee="80"))  # nothing charged (yet)
    assert at(ev, local(2026, 6, 1, 12)) == {}


# -- STAGE_SKIPPED ---------------------------------------------------------------------------------
def st(stage: str, day: int, hh: int = 10) -> tuple[str, datetime]:
    return (stage, local(2026, 6, day, hh))


FULL = (st("submitted", 1, 9), st("accepted", 1), st("handled", 2), st("reviewed", 2, 15), st("decided", 3))


@pytest.mark.parametrize(
    ("stages", "stage_days", "since"),
    [
        # out of order: handled after reviewed
        ((st("submitted", 1, 9), st("accepted", 1), st("reviewed", 2), st("handled", 3)), {}, local(2026, 6, 3, 10)),
        # a later stage without accepted
        ((st("submitted", 1, 9), st("handled", 2)), {}, local(2026, 6, 2, 10)),
        # completed without decided
        (
            (st("submitted", 1, 9), st("accepted", 1), st("handled", 2), st("reviewed", 2, 15), st("completed", 3)),
            {},
            local(2026, 6, 3, 10),
        ),
        # reviewed is named in stage_days and missing while decided (later) is present
        (
            (st("submitted", 1, 9), st("accepted", 1), st("handled", 2), st("decided", 3)),
            {"handled": 5, "reviewed": 5},
            local(2026, 6, 3, 10),
        ),
    ],
    ids=["out-of-order", "without-accepted", "completed-without-decided", "stage-days-stage-missing"],
)
def test_stage_skipped_is_red_from_the_offending_stage(
    stages: tuple[tuple[str, datetime], ...], stage_days: dict[str, int], since: datetime
) -> None:
    ev = evaluator(case(None, stages=stages, submitted_at=local(2026, 6, 1, 9)), t=ctype(10, 20, stage_days=stage_days))
    assert "c1/STAGE_SKIPPED" not in at(ev, since - ONE_S)
    w = at(ev, since)["c1/STAGE_SKIPPED"]
    assert (w.code, w.level, w.since) == (Code.STAGE_SKIPPED, Level.RED, since)


@pytest.mark.parametrize(
    ("stages", "stage_days"),
    [
        (FULL, {}),
        ((*FULL, st("completed", 3, 15)), {}),
        (FULL, {"handled": 5, "reviewed": 5, "decided": 5}),
        # reviewed is in stage_days but nothing later is recorded yet: not skipped (yet)
        (FULL[:3], {"reviewed": 5}),
        # reviewed is optional for a type that does not name it
        ((st("submitted", 1, 9), st("accepted", 1), st("handled", 2), st("decided", 3)), {"handled": 5}),
    ],
    ids=["full-order", "full-order-completed", "all-named", "named-but-nothing-later", "unnamed-optional"],
)
def test_stage_skipped_not_raised_for_the_normal_order(
    stages: tuple[tuple[str, datetime], ...], stage_days: dict[str, int]
) -> None:
    ev = evaluator(case(None, stages=stages, submitted_at=local(2026, 6, 1, 9)), t=ctype(10, 20, stage_days=stage_days))
    assert "c1/STAGE_SKIPPED" not in at(ev, local(2026, 6, 4, 12))


# -- STAGE_LATE ----------------------------------------------------------------------------------
# stage_days {"handled": 2}, accepted Mon Jun 1 10:00: due(2) from Jun 1 = Tue 2 (1), Wed Jun 3 (2)
# -> handled must be recorded by the end of Wed Jun 3.
def _late_case(handled: datetime | None) -> Evaluator:
    stages = (st("submitted", 1, 9), st("accepted", 1))
    if handled is not None:
        stages += (("handled", handled),)
    return evaluator(case(ACCEPTED, stages=stages), t=ctype(10, 20, stage_days={"handled": 2}))


def test_stage_recorded_on_its_last_allowed_day_is_not_late() -> None:
    ev = _late_case(local(2026, 6, 3, 23, 59, 59))
    assert "c1/STAGE_LATE" not in at(ev, local(2026, 6, 4, 12))


def test_stage_recorded_the_next_day_is_late_from_the_deadline() -> None:
    ev = _late_case(local(2026, 6, 4))
    w = at(ev, local(2026, 6, 4, 12))["c1/STAGE_LATE"]
    assert (w.code, w.level, w.since) == (Code.STAGE_LATE, Level.YELLOW, local(2026, 6, 4))


def test_a_missing_stage_is_late_once_its_deadline_passes() -> None:
    ev = _late_case(None)
    assert "c1/STAGE_LATE" not in at(ev, local(2026, 6, 3, 23, 59, 59))
    assert at(ev, local(2026, 6, 4))["c1/STAGE_LATE"].since == local(2026, 6, 4)


def test_stage_deadline_counts_from_the_stage_before_it_over_a_holiday() -> None:
    # handled Thu Jun 18 10:00, stage_days reviewed 2: [19–21 off], Mon 22 (1), Tue Jun 23 (2)
    stages = (st("submitted", 15, 9), st("accepted", 15), st("handled", 18))
    t = ctype(10, 20, stage_days={"reviewed": 2})
    ev = evaluator(case(local(2026, 6, 15, 10), stages=stages), t=t)
    assert "c1/STAGE_LATE" not in at(ev, local(2026, 6, 23, 23, 59, 59))
    assert at(ev, local(2026, 6, 24))["c1/STAGE_LATE"].since == local(2026, 6, 24)
    on_time = evaluator(case(local(2026, 6, 15, 10), stages=(*stages, st("reviewed", 23, 17))), t=t)
    assert "c1/STAGE_LATE" not in at(on_time, local(2026, 6, 30))


# -- WAIT_LONG -----------------------------------------------------------------------------------
ISSUED = local(2026, 6, 2, 9)


def _tickets(*tickets: Ticket, rules: RuleSet | None = None) -> Evaluator:
    ev = evaluator(rules=rules)
    ev.set_tickets(tickets)
    return ev


def test_wait_long_after_more_than_30_minutes_waiting() -> None:
    ev = _tickets(Ticket("k1", "h1", "A023", "waiting", ISSUED))
    assert at(ev, ISSUED - ONE_S) == {}
    assert at(ev, local(2026, 6, 2, 9, 30)) == {}  # exactly 30:00
    w = at(ev, local(2026, 6, 2, 9, 30, 1))["k1/WAIT_LONG"]  # 30:01
    assert (w.code, w.level, w.subject, w.subject_type, w.since) == (
        Code.WAIT_LONG,
        Level.YELLOW,
        "k1",
        "ticket",
        local(2026, 6, 2, 9, 30),
    )


def test_a_called_ticket_no_longer_waits() -> None:
    called = Ticket("k1", "h1", "A023", "called", ISSUED, called_at=local(2026, 6, 2, 9, 40), window_id="w1")
    ev = _tickets(called)
    assert "k1/WAIT_LONG" in at(ev, local(2026, 6, 2, 9, 39, 59))  # still waiting then
    assert at(ev, local(2026, 6, 2, 9, 40)) == {}
    assert at(ev, local(2026, 6, 2, 11)) == {}
    ev = _tickets(Ticket("k2", "h1", "A024", "missed", ISSUED))
    assert at(ev, local(2026, 6, 2, 11)) == {}


# -- POST_LEFT -----------------------------------------------------------------------------------
def _seats(*vacancies: SeatVacancy, rules: RuleSet | None = None) -> Evaluator:
    ev = evaluator(rules=rules)
    ev.set_vacancies(vacancies)
    return ev


def test_post_left_after_more_than_15_minutes_empty_in_office_hours() -> None:
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 9)))
    assert at(ev, local(2026, 6, 2, 9, 15)) == {}  # 15:00
    w = at(ev, local(2026, 6, 2, 9, 15, 1))["w1/POST_LEFT"]  # 15:01
    assert (w.code, w.level, w.subject, w.subject_type, w.since) == (
        Code.POST_LEFT,
        Level.YELLOW,
        "w1",
        "window",
        local(2026, 6, 2, 9, 15),
    )


def test_post_left_ignores_an_absence_over_the_lunch_break() -> None:
    # 12:05–13:20 lies wholly between 12:00 and 13:30
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 12, 5), local(2026, 6, 2, 13, 20)))
    for t in (local(2026, 6, 2, 12, 30), local(2026, 6, 2, 13, 19, 59), local(2026, 6, 2, 17)):
        assert at(ev, t) == {}
    # still empty: only office time from 13:30 counts -> more than 15 min after 13:45
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 12, 5)))
    assert at(ev, local(2026, 6, 2, 13, 45)) == {}
    assert at(ev, local(2026, 6, 2, 13, 45, 1))["w1/POST_LEFT"].since == local(2026, 6, 2, 13, 45)


def test_post_left_adds_office_time_on_both_sides_of_lunch() -> None:
    # empty from 11:55: 5 min to 12:00, then 10 min from 13:30 -> 15 min reached at 13:40:00,
    # more than 15 min from then on; since is 13:40:00
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 11, 55)))
    assert at(ev, local(2026, 6, 2, 13, 39, 59)) == {}
    assert at(ev, local(2026, 6, 2, 13, 40)) == {}  # exactly 15:00 of office time
    w = at(ev, local(2026, 6, 2, 13, 40, 1))["w1/POST_LEFT"]
    assert w.since == local(2026, 6, 2, 13, 40)
    # back at the seat at 13:40 sharp: empty exactly 15 min, never more
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 11, 55), local(2026, 6, 2, 13, 40)))
    for t in (local(2026, 6, 2, 13, 40), local(2026, 6, 2, 13, 41), local(2026, 6, 2, 17)):
        assert at(ev, t) == {}


def test_post_left_does_not_count_non_working_days() -> None:
    # Sat Jun 6 (weekend) and Fri Jun 19 (Dragon Boat holiday): empty all day, no warning
    for day in (6, 19):
        ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, day, 8)))
        assert at(ev, local(2026, 6, day, 17)) == {}
    # Sat May 9 is a make-up working day: counts
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 5, 9, 9)))
    assert at(ev, local(2026, 5, 9, 9, 15)) == {}
    assert at(ev, local(2026, 5, 9, 9, 15, 1))["w1/POST_LEFT"].since == local(2026, 5, 9, 9, 15)


def test_post_left_counts_across_a_weekend_and_before_opening() -> None:
    # empty from Fri Jun 5 17:25: 5 min to 17:30, [Sat, Sun], Mon Jun 8 from 08:30: 10 min -> 08:40
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 5, 17, 25)))
    assert at(ev, local(2026, 6, 8, 8, 40)) == {}
    assert at(ev, local(2026, 6, 8, 8, 40, 1))["w1/POST_LEFT"].since == local(2026, 6, 8, 8, 40)
    # empty from 07:00: office time only from 08:30 -> 08:45
    ev = _seats(SeatVacancy("v1", "w1", local(2026, 6, 2, 7)))
    assert at(ev, local(2026, 6, 2, 8, 45)) == {}
    assert at(ev, local(2026, 6, 2, 8, 45, 1))["w1/POST_LEFT"].since == local(2026, 6, 2, 8, 45)


def test_post_left_one_warning_per_window_from_the_earliest_vacancy() -> None:
    ev = _seats(
        SeatVacancy("v1", "w1", local(2026, 6, 2, 9)),
        SeatVacancy("v2", "w1", local(2026, 6, 2, 9, 5)),
    )
    got = ev.evaluate(local(2026, 6, 2, 10))
    assert [(w.key, w.since) for w in got] == [("w1/POST_LEFT", local(2026, 6, 2, 9, 15))]


# -- a synced rule set ---------------------------------------------------------------------------
def test_a_synced_rule_set_changes_parameters_and_levels_and_disables_unlisted_rules() -> None:
    rules = RuleSet.from_record(
        [
            {"code": "WAIT_LONG", "level": "red", "params": {"minutes": 10}},
            {"code": "POST_LEFT", "params": {"minutes": 5, "office_hours": [["09:00", "12:00"], ["14:00", "18:00"]]}},
            {"code": "NEW_RULE_FROM_A_NEWER_SERVER", "params": {"x": 1}},
        ]
    )
    assert rules.enabled == {Code.WAIT_LONG, Code.POST_LEFT}
    ev = evaluator(case(ACCEPTED, fee_charged="5"), rules=rules)  # overdue and a fee mismatch
    ev.set_tickets([Ticket("k1", "h1", "A001", "waiting", ISSUED)])
    ev.set_vacancies([SeatVacancy("v1", "w1", local(2026, 6, 2, 8))])
    assert at(ev, local(2026, 6, 2, 9, 5)) == {}  # seat: exactly 5 min of office time (from 09:00)
    assert set(at(ev, local(2026, 6, 2, 9, 10))) == {"w1/POST_LEFT"}  # ticket: exactly 10:00
    got = at(ev, local(2026, 6, 2, 9, 10, 1))
    assert set(got) == {"k1/WAIT_LONG", "w1/POST_LEFT"}  # no case rule is in force
    assert (got["k1/WAIT_LONG"].level, got["k1/WAIT_LONG"].since) == (Level.RED, local(2026, 6, 2, 9, 10))
    assert (got["w1/POST_LEFT"].level, got["w1/POST_LEFT"].since) == (Level.YELLOW, local(2026, 6, 2, 9, 5))
    # the case is overdue by then, but OVERDUE is not in the rule set
    assert set(at(ev, local(2026, 6, 12, 10))) == {"k1/WAIT_LONG", "w1/POST_LEFT"}


def test_a_synced_level_applies_to_case_rules_too() -> None:
    rules = RuleSet.from_record([{"code": "OVERDUE", "level": "red"}, {"code": "FEE_MISMATCH", "level": "yellow"}])
    ev = evaluator(case(ACCEPTED, fee_charged="1"), rules=rules)
    got = at(ev, OVERDUE_FROM)
    assert set(got) == {"c1/OVERDUE", "c1/FEE_MISMATCH"}  # DUE_SOON not listed: no notice before
    assert got["c1/OVERDUE"].level is Level.RED
    assert got["c1/FEE_MISMATCH"].level is Level.YELLOW
    assert at(ev, local(2026, 6, 4, 12)).keys() == {"c1/FEE_MISMATCH"}


def test_overdue_reply_days_is_a_parameter() -> None:
    # yellow raised Fri Jun 5; reply_days 1: Mon Jun 8 (1) -> red from Tue Jun 9 00:00
    rules = RuleSet.from_record([{"code": "OVERDUE", "params": {"reply_days": 1}}])
    ev = evaluator(case(ACCEPTED), rules=rules)
    assert at(ev, local(2026, 6, 8, 23, 59, 59))["c1/OVERDUE"].level is Level.YELLOW
    assert at(ev, local(2026, 6, 9))["c1/OVERDUE"].level is Level.RED


def test_default_rule_set_has_every_rule_and_the_spec_defaults() -> None:
    r = RuleSet()
    assert r.enabled == frozenset(Code)
    assert (r.due_soon_days_before, r.overdue_reply_days, r.suspended_max_days) == (1, 3, 30)
    assert (r.wait_minutes, r.post_left_minutes) == (30, 15)
    assert (r.weight_yellow, r.weight_red, r.weight_bad_review) == (2, 5, 1)
    assert {c: r.levels[c] for c in Code} == {
        Code.DUE_SOON: Level.NOTICE,
        Code.OVERDUE: Level.YELLOW,
        Code.STAGE_LATE: Level.YELLOW,
        Code.FEE_MISMATCH: Level.RED,
        Code.STAGE_SKIPPED: Level.RED,
        Code.SUSPENDED_LONG: Level.YELLOW,
        Code.WAIT_LONG: Level.YELLOW,
        Code.POST_LEFT: Level.YELLOW,
    }


@pytest.mark.parametrize(
    ("rule", "named"),
    [
        ({"code": "WAIT_LONG", "params": {"minutes": -1}}, "WAIT_LONG"),
        ({"code": "WAIT_LONG", "params": {"minutes": "10"}}, "WAIT_LONG"),
        ({"code": "WAIT_LONG", "params": {"minutes": True}}, "WAIT_LONG"),
        ({"code": "POST_LEFT", "params": {"minutes": None}}, "POST_LEFT"),
        ({"code": "POST_LEFT", "params": {"office_hours": [["12:00", "08:30"]]}}, "POST_LEFT"),
        ({"code": "POST_LEFT", "params": {"office_hours": [["8h", "12:00"]]}}, "POST_LEFT"),
        ({"code": "POST_LEFT", "params": {"office_hours": 5}}, "POST_LEFT"),
        ({"code": "DUE_SOON", "params": {"days_before": 1.5}}, "DUE_SOON"),
        ({"code": "DUE_SOON", "params": {"days_before": -1}}, "DUE_SOON"),
        ({"code": "OVERDUE", "params": {"reply_days": "3"}}, "OVERDUE"),
        ({"code": "SUSPENDED_LONG", "params": {"max_days": 30.0}}, "SUSPENDED_LONG"),
    ],
)
def test_a_bad_parameter_is_a_value_error_naming_the_rule(rule: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        RuleSet.from_record([{"code": "OVERDUE"}, rule])


def test_a_disposal_made_before_the_yellow_was_raised_does_not_stop_its_escalation() -> None:
    # The yellow of Jun 5 was disposed at Jun 5 10:00; then the server corrects the case with a
    # 补正 suspension Wed Jun 3 09:00 – Fri Jun 5 09:00: Thu 4, Fri 5 = 2 working days, so due
    # Thu Jun 4 -> Mon Jun 8 (Fri 5 (1), Mon 8 (2)). The yellow is now raised Tue Jun 9 00:00;
    # due(3) from Jun 9: Wed 10, Thu 11, Fri Jun 12 -> red from Sat Jun 13 00:00 unless disposed
    # by then. Nobody disposed *this* yellow (the lifecycle agrees: a disposal before `since`
    # leaves it active), yet the code keeps it yellow until the legal due date (Jun 16).
    susp = ((local(2026, 6, 3, 9), local(2026, 6, 5, 9)),)
    ev = evaluator(case(ACCEPTED, suspensions=susp))
    ev.disposed["c1/OVERDUE"] = [local(2026, 6, 5, 10)]
    w = at(ev, local(2026, 6, 12, 23, 59, 59))["c1/OVERDUE"]
    assert (w.level, w.since) == (Level.YELLOW, local(2026, 6, 9))
    w = at(ev, local(2026, 6, 13))["c1/OVERDUE"]
    assert (w.level, w.level_since) == (Level.RED, local(2026, 6, 13))


@pytest.mark.parametrize(
    ("later", "reused"),
    [
        # completed (stages recorded, its end): the due dates held, the end and the stage findings new
        (case(local(2026, 3, 2, 9), completed_at=local(2026, 3, 12, 15), fee_charged="5"), True),
        # a stage recorded late (STAGE_LATE against the type's stage days), still open
        (case(local(2026, 3, 2, 9), stages=(("submitted", local(2026, 3, 2, 8, 55)), ("accepted", local(2026, 3, 2, 9)),
                                            ("handled", local(2026, 3, 9, 10)))), True),
        # the fee alone changed (FEE_MISMATCH)
        (case(local(2026, 3, 2, 9), fee_charged="7"), True),
        # accepted at another instant: everything worked out again
        (case(local(2026, 3, 3, 9), fee_charged="5"), False),
        # a suspension closed: everything worked out again
        (case(local(2026, 3, 2, 9), suspensions=((local(2026, 3, 3, 9), local(2026, 3, 5, 9)),)), False),
    ],
)
def test_a_changed_cases_facts_taken_from_its_facts_before_are_those_worked_out_afresh(
    later: Case, reused: bool
) -> None:
    t = ctype(stage_days={"handled": 2})
    ev = evaluator(case(local(2026, 3, 2, 9), fee_charged="5"), t=t)
    ev.set_cases([later])
    assert ev.stats.recomputed == (1 if reused else 2)  # the first set worked them out
    fresh = evaluator(later, t=t)
    assert ev.case_facts_of("c1") == fresh.case_facts_of("c1")
    for at in (local(2026, 3, 4, 12), local(2026, 3, 20, 12), local(2026, 5, 1)):
        assert ev.judge(Subject("case", "c1"), at) == fresh.judge(Subject("case", "c1"), at)
        assert ev.next_change(Subject("case", "c1"), at) == fresh.next_change(Subject("case", "c1"), at)
