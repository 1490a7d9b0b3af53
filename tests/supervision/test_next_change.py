"""``Evaluator.next_change``: the first instant a subject's warnings may change by time alone.

Checked against full evaluations: between ``after`` and the instant given, every subject's
warnings are those at ``after`` (it is never late), and judging subjects one by one gives what a
full evaluation gives. A few hand cases pin that the instants are the rules' own (not merely
early).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervision.model import Case, CaseType, SeatVacancy, Ticket
from supervision.rules import (
    DerivedWarning,
    Evaluator,
    RuleSet,
    Subject,
    case_due_dates,
    case_due_dates_next_change,
)
from tests.supervision.test_rules import (
    ACCEPTED,
    DUE_SOON_FROM,
    ESCALATE_AT,
    LEGAL_RED_FROM,
    OVERDUE_FROM,
    SH,
    cal,
    case,
    ctype,
    evaluator,
    local,
)

START = local(2026, 5, 25, 8)
TICK = timedelta(microseconds=1)
STAGES = ("submitted", "accepted", "handled", "reviewed", "decided", "completed")


def _minutes(lo: int, hi: int) -> st.SearchStrategy[timedelta]:
    return st.integers(lo, hi).map(lambda m: timedelta(minutes=m))


@st.composite
def cases(draw: st.DrawFn, i: int) -> Case:
    submitted = START + draw(_minutes(0, 60 * 24 * 30))
    t = submitted
    stages: list[tuple[str, datetime]] = []
    names = draw(st.sampled_from([STAGES[:1], STAGES[:2], STAGES[:3], STAGES[:4], STAGES, ("submitted", "handled")]))
    for name in names:
        stages.append((name, t))
        t += draw(_minutes(1, 60 * 24 * 6))
    suspensions: list[tuple[datetime, datetime | None]] = []
    if draw(st.booleans()) and len(stages) > 1:
        a = stages[1][1] + draw(_minutes(1, 60 * 24 * 5))
        b = draw(st.none() | _minutes(1, 60 * 24 * 20).map(lambda d: a + d))
        suspensions.append((a, b))
    completed = stages[-1][1] if stages[-1][0] == "completed" else None
    status = (
        "completed" if completed else ("suspended" if suspensions and suspensions[-1][1] is None else "in_progress")
    )
    return Case(
        f"c{i}",
        draw(st.sampled_from(["t1", "ti", "ts"])),
        status,
        submitted,
        f"w{i % 3}",
        tuple(stages),
        tuple(suspensions),
        None,
        completed,
    )


@st.composite
def tickets(draw: st.DrawFn, i: int) -> Ticket:
    issued = START + draw(_minutes(0, 60 * 24 * 30))
    called = draw(st.none() | _minutes(0, 120).map(lambda d: issued + d))
    status = "called" if called else draw(st.sampled_from(["waiting", "missed"]))
    return Ticket(f"k{i}", "h1", f"A{i:03d}", status, issued, called, f"w{i % 3}", "t1")


@st.composite
def vacancies(draw: st.DrawFn, i: int) -> SeatVacancy:
    start = START + draw(_minutes(0, 60 * 24 * 30))
    end = draw(st.none() | _minutes(1, 600).map(lambda d: start + d))
    return SeatVacancy(f"v{i}", f"w{draw(st.integers(0, 2))}", start, end)


TYPES = {
    "t1": ctype(3, 10),
    "ti": CaseType("ti", "即办", "市监局", 5, 0, ctype().fee, immediate=True),
    "ts": CaseType("ts", "分段", "规划局", 10, 4, ctype().fee, stage_days={"handled": 1, "reviewed": 1}),
}


@st.composite
def worlds(draw: st.DrawFn) -> Evaluator:
    rules = RuleSet(overdue_reply_days=draw(st.integers(0, 3)), suspended_max_days=draw(st.integers(1, 5)))
    ev = Evaluator(cal(), SH, rules, TYPES)
    ev.set_cases([draw(cases(i)) for i in range(draw(st.integers(0, 4)))])
    ev.set_tickets([draw(tickets(i)) for i in range(draw(st.integers(0, 3)))])
    ev.set_vacancies([draw(vacancies(i)) for i in range(draw(st.integers(0, 3)))])
    ev.disposed = {f"c{i}/OVERDUE": [START + draw(_minutes(0, 60 * 24 * 45))] for i in range(4) if draw(st.booleans())}
    return ev


def _bag(ws: list[DerivedWarning]) -> list[DerivedWarning]:
    return sorted(ws, key=lambda w: w.key)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), _minutes(0, 60 * 24 * 50), st.floats(0.0, 1.0, exclude_max=True))
def test_next_change_is_never_late_and_subjects_add_up_to_a_full_evaluation(
    ev: Evaluator, offset: timedelta, frac: float
) -> None:
    after = START + offset
    by_subject = {s: ev.judge(s, after) for s in ev.subjects()}
    assert _bag([w for ws in by_subject.values() for w in ws]) == _bag(ev.evaluate(after))
    for s, before in by_subject.items():
        nxt = ev.next_change(s, after)
        assert nxt is None or nxt > after
        # an instant strictly before the next change, and the last one (or long after, when there
        # is none)
        span = (nxt - after) if nxt is not None else timedelta(days=90)
        last = nxt - TICK if nxt is not None else after + span
        for t in (min(after + span * frac, last), last):
            if t > after:
                assert ev.judge(s, t) == before, (s, after, t, nxt)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds(), _minutes(0, 60 * 24 * 50), st.floats(0.0, 1.0, exclude_max=True))
def test_case_due_dates_hold_until_their_next_change(ev: Evaluator, offset: timedelta, frac: float) -> None:
    after = START + offset
    for s in ev.subjects():
        f = ev.case_facts_of(s.id) if s.kind == "case" else None
        if f is None:
            continue
        dates = case_due_dates(f, after, ev.cal, SH)
        nxt = case_due_dates_next_change(f, after, SH)
        span = (nxt - after) if nxt is not None else timedelta(days=90)
        t = max(after, min(after + span * frac, (nxt - TICK) if nxt is not None else after + span))
        assert case_due_dates(f, t, ev.cal, SH) == dates


def test_an_open_case_changes_at_due_soon_overdue_escalation_and_legal_red_then_never() -> None:
    ev = evaluator(case(ACCEPTED))
    c1 = Subject("case", "c1")
    steps = [ACCEPTED]
    while (nxt := ev.next_change(c1, steps[-1])) is not None:
        steps.append(nxt)
    assert steps[1:] == [DUE_SOON_FROM, OVERDUE_FROM, ESCALATE_AT, LEGAL_RED_FROM]


def test_a_ticket_changes_just_past_its_wait_limit_and_when_called() -> None:
    ev = evaluator()
    issued = local(2026, 6, 2, 9)
    ev.set_tickets([Ticket("k1", "h1", "A001", "called", issued, called_at=local(2026, 6, 2, 10))])
    k1 = Subject("ticket", "k1")
    assert ev.next_change(k1, issued) == local(2026, 6, 2, 9, 30) + TICK
    assert ev.next_change(k1, local(2026, 6, 2, 9, 30) + TICK) == local(2026, 6, 2, 10)
    assert ev.next_change(k1, local(2026, 6, 2, 10)) is None


def test_a_window_changes_when_its_absence_crosses_15_office_minutes_and_when_it_ends() -> None:
    ev = evaluator()
    # empty from 11:55: 5 min to 12:00, 10 more from 13:30 -> crosses at 13:40; back at 16:00
    ev.set_vacancies([SeatVacancy("v1", "w1", local(2026, 6, 2, 11, 55), local(2026, 6, 2, 16))])
    w1 = Subject("window", "w1")
    assert ev.next_change(w1, local(2026, 6, 2, 12)) == local(2026, 6, 2, 13, 40) + TICK
    assert ev.next_change(w1, local(2026, 6, 2, 14)) == local(2026, 6, 2, 16)
    assert ev.next_change(w1, local(2026, 6, 2, 16)) is None
    ev.remove_vacancies(["v1"])
    assert list(ev.subjects()) == []


def test_a_paused_case_moves_its_due_dates_at_each_midnight() -> None:
    c = case(ACCEPTED, suspensions=((local(2026, 6, 2, 10), None),))
    ev = evaluator(c)
    f = ev.case_facts_of("c1")
    assert f is not None
    mon = case_due_dates(f, local(2026, 6, 3, 12), ev.cal, SH)
    assert case_due_dates_next_change(f, local(2026, 6, 3, 12), SH) == local(2026, 6, 4)
    assert case_due_dates(f, local(2026, 6, 4, 12), ev.cal, SH) != mon
