"""Performance (绩效评估) per window, department and org unit over a period
(supervision-rules.md, "Performance").

Every figure is worked out by hand; the comments show the counts. The period is June 2026 in hall
time, ``[2026-06-01 00:00, 2026-07-01 00:00)``. Org units: city Y ⊃ county X ⊃ hall H1 (windows
W1, W2 of 规划局) and city Y ⊃ hall H2 (window W3 of 市监局).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision.calendar import WorkCalendar
from supervision.ingest import apply_changes, validate_changes
from supervision.lifecycle import reconcile, warnings_at
from supervision.model import Case, CaseType
from supervision.performance import Performance, WarningRecord, compute, compute_from_store
from supervision.rules import Code, Evaluator, Level, RuleSet
from supervision.store import Store, open_store
from tests.supervision.test_calendar import HOLIDAYS_2026, MAKEUP_2026, TABLE_2026

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=SH).astimezone(UTC)


START = local(2026, 6, 1)
END = local(2026, 7, 1)
WEIGHTS = {"yellow": 3, "red": 10, "bad_review": 4}
DEPT = {"W1": "规划局", "W2": "规划局", "W3": "市监局"}
ORGS = {"W1": ["H1", "X", "Y"], "W2": ["H1", "X", "Y"], "W3": ["H2", "Y"]}

T5 = CaseType("t5", "建设工程规划许可", "规划局", legal_days=20, promised_days=5, fee=Decimal("0"))
TI = CaseType("ti", "个体户变更登记", "市监局", legal_days=0, promised_days=0, fee=Decimal("0"), immediate=True)


def case(
    id: str,
    window: str,
    accepted: datetime,
    completed: datetime | None,
    *,
    type_id: str = "t5",
    suspensions: tuple[tuple[datetime, datetime | None], ...] = (),
) -> Case:
    stages: tuple[tuple[str, datetime], ...] = (
        ("submitted", accepted - timedelta(minutes=5)),
        ("accepted", accepted),
    )
    if completed is not None:
        stages += tuple((s, completed) for s in ("handled", "reviewed", "decided", "completed"))
    return Case(
        id=id,
        case_type_id=type_id,
        status="completed" if completed is not None else "in_progress",
        submitted_at=accepted - timedelta(minutes=5),
        window_id=window,
        stages=stages,
        suspensions=suspensions,
        fee_charged=Decimal("0"),
        completed_at=completed,
    )


# T5: promised 5 working days. "used" = working days d with accepted date < d <= completed date,
# less suspended working days.
CASES = [
    # A: accepted Mon Jun 1; due Jun 2 (1), 3, 4, 5 (4), Mon Jun 8 (5). Completed Thu Jun 4: on
    # time; used Jun 2, 3, 4 = 3.
    case("A", "W1", local(2026, 6, 1, 10), local(2026, 6, 4, 15)),
    # B: same due Mon Jun 8; completed Tue Jun 9 09:00: late; used Jun 2, 3, 4, 5, 8, 9 = 6.
    case("B", "W1", local(2026, 6, 1, 10), local(2026, 6, 9, 9)),
    # C: accepted Mon Jun 15; suspended Wed Jun 17 10:00 – Mon Jun 22 10:00 = Thu 18, Mon 22 (Fri 19
    # Dragon Boat, 20, 21 off) = 2; due Jun 16 (1), 17, 18, 22, 23 (5), +2: 24, Thu Jun 25.
    # Completed Wed Jun 24: on time; used Jun 16, 17, 18, 22, 23, 24 = 6, less 2 suspended = 4.
    case(
        "C",
        "W2",
        local(2026, 6, 15, 10),
        local(2026, 6, 24, 11),
        suspensions=((local(2026, 6, 17, 10), local(2026, 6, 22, 10)),),
    ),
    # D: immediate, accepted and completed Tue Jun 2: on time; no promised days, none used.
    case("D", "W3", local(2026, 6, 2, 10), local(2026, 6, 2, 16), type_id="ti"),
    # F: open (never completed): not counted.
    case("F", "W1", local(2026, 6, 1, 10), None),
]
MORE_CASES = [
    # I: accepted Wed Jun 24; due 25 (1), 26 (2), 29 (3), 30 (4), Wed Jul 1 (5). Completed in the
    # last second of the period, Tue Jun 30 23:59:59: counted, on time; used 25, 26, 29, 30 = 4.
    case("I", "W3", local(2026, 6, 24, 10), local(2026, 6, 30, 23, 59, 59)),
    # J: due Mon Jun 8 (as A); completed Tue Jun 9 00:00:00, one second late; used 6.
    case("J", "W3", local(2026, 6, 1, 10), local(2026, 6, 9)),
    # K: completed at the very end of the period (exclusive): not counted.
    case("K", "W2", local(2026, 6, 24, 10), local(2026, 7, 1)),
    # L: completed Fri May 29, before the period: not counted.
    case("L", "W3", local(2026, 5, 25, 10), local(2026, 5, 29, 10)),
]
EVALUATIONS = [
    ("e1", "W1", local(2026, 6, 2, 11), 5),
    ("e2", "W1", local(2026, 6, 3, 11), 4),
    ("e3", "W1", local(2026, 6, 4, 11), 2),  # bad
    ("e4", "W1", local(2026, 6, 5, 11), 3),  # neither satisfied nor bad
    ("e5", "W2", local(2026, 6, 10, 11), 1),  # bad
    ("e6", "W2", local(2026, 7, 1), 1),  # after the period
    ("e7", "W3", local(2026, 5, 31, 23, 59, 59), 1),  # before the period
    ("e8", "W3", local(2026, 6, 20, 11), 5),
]


MID_JUNE = local(2026, 6, 10)


def rec(key: str, window: str, level: Level, since: datetime = MID_JUNE) -> WarningRecord:
    return WarningRecord(key, window, level, since)


WARNINGS = [
    rec("A/STAGE_LATE", "W1", Level.YELLOW),
    rec("B/OVERDUE", "W1", Level.YELLOW),
    rec("F/OVERDUE", "W1", Level.RED),
    rec("A/DUE_SOON", "W1", Level.NOTICE),
    rec("B/DUE_SOON", "W1", Level.NOTICE),
    rec("F/DUE_SOON", "W1", Level.NOTICE),
    rec("Z/OVERDUE", "W1", Level.RED, local(2026, 5, 31, 23, 59, 59)),  # raised before the period
    rec("Y/OVERDUE", "W1", Level.RED, END),  # raised after it
    rec("t1/WAIT_LONG", "W2", Level.YELLOW),
    rec("C/FEE_MISMATCH", "W2", Level.RED),
    rec("W2/POST_LEFT", "W2", Level.RED),
    rec("D/DUE_SOON", "W3", Level.NOTICE),
]


def evaluator(cases: list[Case], rules: RuleSet) -> Evaluator:
    ev = Evaluator(WorkCalendar(builtin=False, synced=[TABLE_2026]), SH, rules, {"t5": T5, "ti": TI})
    ev.set_cases(cases)
    return ev


def figures(p: Performance) -> dict[str, Any]:
    return {
        "completed": p.completed,
        "on_time": p.on_time,
        "promised_days": p.promised_days,
        "used_days": p.used_days,
        "evaluations": p.evaluations,
        "satisfied": p.satisfied,
        "bad_reviews": sorted(p.bad_reviews),
        "yellow": p.yellow,
        "red": p.red,
        "score": p.score,
    }


def test_rates_and_score_per_window_department_and_org_unit() -> None:
    rules = RuleSet.from_record([{"code": c.value} for c in Code], WEIGHTS)
    report = compute(
        evaluator(CASES, rules),
        START,
        END,
        evaluations=EVALUATIONS,
        warnings=WARNINGS,
        window_department=DEPT,
        window_org_units=ORGS,
    )
    w1, w2, w3 = report.windows["W1"], report.windows["W2"], report.windows["W3"]
    # W1: A on time, B late; promised 5 + 5, used 3 + 6; evaluations e1–e4, e3 bad;
    # 2 yellow + 1 red (notices free): 100 − 3×2 − 10×1 − 4×1 = 80
    assert figures(w1) == {
        "completed": 2,
        "on_time": 1,
        "promised_days": 10,
        "used_days": 9,
        "evaluations": 4,
        "satisfied": 2,
        "bad_reviews": ["e3"],
        "yellow": 2,
        "red": 1,
        "score": 80,
    }
    assert (w1.on_time_rate, w1.speedup_rate, w1.satisfaction) == (0.5, pytest.approx(0.1), 0.5)
    # W2: C on time, promised 5, used 4; e5 bad; 1 yellow + 2 red: 100 − 3 − 20 − 4 = 73
    assert figures(w2) == {
        "completed": 1,
        "on_time": 1,
        "promised_days": 5,
        "used_days": 4,
        "evaluations": 1,
        "satisfied": 0,
        "bad_reviews": ["e5"],
        "yellow": 1,
        "red": 2,
        "score": 73,
    }
    assert (w2.on_time_rate, w2.speedup_rate, w2.satisfaction) == (1.0, pytest.approx(0.2), 0.0)
    # W3: D (immediate) on time, no promised days; e8 satisfied; a notice only: 100
    assert figures(w3) == {
        "completed": 1,
        "on_time": 1,
        "promised_days": 0,
        "used_days": 0,
        "evaluations": 1,
        "satisfied": 1,
        "bad_reviews": [],
        "yellow": 0,
        "red": 0,
        "score": 100,
    }
    assert (w3.on_time_rate, w3.speedup_rate, w3.satisfaction) == (1.0, None, 1.0)

    # 规划局 = W1 + W2: 3 completed, 2 on time; (15 − 13) / 15; 2 of 5 satisfied;
    # 3 yellow, 3 red, 2 bad: 100 − 9 − 30 − 8 = 53 (not an average of the window scores)
    plan = report.departments["规划局"]
    assert (plan.completed, plan.on_time, plan.promised_days, plan.used_days) == (3, 2, 15, 13)
    assert (plan.on_time_rate, plan.speedup_rate, plan.satisfaction) == (
        pytest.approx(2 / 3),
        pytest.approx(2 / 15),
        0.4,
    )
    assert sorted(plan.bad_reviews) == ["e3", "e5"]
    assert (plan.yellow, plan.red, plan.score) == (3, 3, 53)
    assert figures(report.departments["市监局"]) == figures(w3)
    # org units: H1 and X hold W1 + W2; H2 holds W3; Y holds all three
    assert figures(report.org_units["H1"]) == figures(plan)
    assert figures(report.org_units["X"]) == figures(plan)
    assert figures(report.org_units["H2"]) == figures(w3)
    y = report.org_units["Y"]
    # 4 completed, 3 on time; (15 − 13) / 15; 3 of 6 satisfied; 3 yellow, 3 red, 2 bad -> 53
    assert (y.completed, y.on_time, y.promised_days, y.used_days) == (4, 3, 15, 13)
    assert (y.on_time_rate, y.satisfaction, y.score) == (0.75, 0.5, 53)
    assert set(report.org_units) == {"H1", "X", "H2", "Y"}


def test_completion_instants_at_the_edges_of_the_period_and_the_due_date() -> None:
    report = compute(
        evaluator(MORE_CASES, RuleSet()),
        START,
        END,
        evaluations=[],
        warnings=[],
        window_department=DEPT,
        window_org_units=ORGS,
    )
    # W3: I on time (promised 5, used 4), J one second late (promised 5, used 6); L before
    # the period. W2: K completed at the (exclusive) end: nothing.
    w3 = report.windows["W3"]
    assert (w3.completed, w3.on_time, w3.promised_days, w3.used_days) == (2, 1, 10, 10)
    assert (w3.on_time_rate, w3.speedup_rate) == (0.5, 0.0)
    assert "W2" not in report.windows


def test_score_uses_default_weights_and_is_floored_at_zero() -> None:
    # 21 reds at 5 and one bad review: 100 − 105 − 1 < 0 -> 0, in the window and every aggregate
    warnings = [rec(f"c{i}/OVERDUE", "W1", Level.RED) for i in range(21)]
    # 60 notices cost nothing: W3 keeps 100
    warnings += [rec(f"d{i}/DUE_SOON", "W3", Level.NOTICE) for i in range(60)]
    report = compute(
        evaluator([], RuleSet()),
        START,
        END,
        evaluations=[("e3", "W1", local(2026, 6, 4, 11), 2), ("e9", "W3", local(2026, 6, 4, 11), 4)],
        warnings=warnings,
        window_department=DEPT,
        window_org_units=ORGS,
    )
    assert (report.windows["W1"].red, report.windows["W1"].score) == (21, 0)
    assert report.departments["规划局"].score == 0
    assert report.org_units["Y"].score == 0
    assert (report.windows["W3"].yellow, report.windows["W3"].red, report.windows["W3"].score) == (0, 0, 100)
    assert report.departments["市监局"].score == 100
    # 4 yellow at 2 + 1 bad at 1 = 91 with the defaults
    report = compute(
        evaluator([], RuleSet()),
        START,
        END,
        evaluations=[("e3", "W1", local(2026, 6, 4, 11), 2)],
        warnings=[rec(f"c{i}/STAGE_LATE", "W1", Level.YELLOW) for i in range(4)],
        window_department=DEPT,
        window_org_units=ORGS,
    )
    assert report.windows["W1"].score == 91


def test_no_completed_cases_or_evaluations_leave_the_rates_undefined() -> None:
    p = Performance()
    assert (p.on_time_rate, p.speedup_rate, p.satisfaction, p.score) == (None, None, None, 100)


# -- from the store ------------------------------------------------------------------------------
def _iso(dt: datetime) -> str:
    return dt.astimezone(SH).isoformat()


def _case_record(c: Case) -> dict[str, Any]:
    return {
        "case_type_id": c.case_type_id,
        "window_id": c.window_id,
        "submitted_at": _iso(c.submitted_at),
        "status": c.status,
        "stages": [{"stage": s, "at": _iso(t)} for s, t in c.stages],
        "suspensions": [{"from": _iso(a), "to": _iso(b) if b else None} for a, b in c.suspensions],
        "fee_charged": str(c.fee_charged),
        "completed_at": _iso(c.completed_at) if c.completed_at else None,
    }


def _type_record(t: CaseType) -> dict[str, Any]:
    return {
        "code": t.id,
        "name": t.name,
        "department": t.department,
        "legal_days": t.legal_days,
        "promised_days": t.promised_days,
        "fee": str(t.fee),
        "immediate": t.immediate,
    }


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    seq = itertools.count(1)
    records: list[tuple[str, str, dict[str, Any]]] = [
        (
            "calendar",
            "cal-2026",
            {"year": 2026, "holidays": sorted(map(str, HOLIDAYS_2026)), "workdays": sorted(map(str, MAKEUP_2026))},
        ),
        ("rule_set", "rs-1", {"rules": [{"code": c.value} for c in Code], "weights": WEIGHTS}),
        ("org_unit", "Y", {"name": "市", "parent_id": None, "level": "city"}),
        ("org_unit", "X", {"name": "县", "parent_id": "Y", "level": "county"}),
        ("org_unit", "H1", {"name": "县政务服务中心", "parent_id": "X", "level": "hall"}),
        ("org_unit", "H2", {"name": "市政务服务中心", "parent_id": "Y", "level": "hall"}),
        ("window", "W1", {"hall_id": "H1", "number": "1", "name": "一号窗", "department": "规划局"}),
        ("window", "W2", {"hall_id": "H1", "number": "2", "name": "二号窗", "department": "规划局"}),
        ("window", "W3", {"hall_id": "H2", "number": "3", "name": "三号窗", "department": "市监局"}),
        ("case_type", "t5", _type_record(T5)),
        ("case_type", "ti", _type_record(TI)),
        *(("case", c.id, _case_record(c)) for c in CASES),
        *(("evaluation", e, {"window_id": w, "at": _iso(at), "grade": g}) for e, w, at, g in EVALUATIONS),
    ]
    raw = [{"seq": next(seq), "type": t, "id": i, "op": "upsert", "version": 1, "data": d} for t, i, d in records]
    st = open_store(tmp_path / "hallwatch.db")
    valid, _ = validate_changes(raw)
    with st.write() as s:
        apply_changes(s, valid)
    yield st
    st.close()


def test_performance_from_the_store_counts_each_warning_once_at_its_highest_level(store: Store) -> None:
    # What a terminal saw while watching: Fri Jun 5 12:00 notices B/DUE_SOON and F/DUE_SOON
    # (both due Mon Jun 8); Wed Jun 10 12:00 B/OVERDUE and F/OVERDUE yellow (from Tue Jun 9).
    for at in (local(2026, 6, 5, 12), local(2026, 6, 10, 12)):
        views = warnings_at(store, at, SH)
        with store.write() as s:
            reconcile(s, views, at)
    # At the end of the period F (never disposed) is red since the end of due(3) from Tue Jun 9
    # (Wed 10, Thu 11, Fri Jun 12); B completed Jun 9 while yellow and stays yellow.
    with store.read() as s:
        report = compute_from_store(s, SH, START, END)
    w1 = report.windows["W1"]
    # W1: 1 yellow (B), 1 red (F, not also its earlier yellow), notices free, bad e3:
    # 100 − 3 − 10 − 4 = 83
    assert (w1.completed, w1.on_time, w1.promised_days, w1.used_days) == (2, 1, 10, 9)
    assert (w1.yellow, w1.red, w1.bad_reviews, w1.score) == (1, 1, ["e3"], 83)
    assert (w1.evaluations, w1.satisfied) == (4, 2)
    w2 = report.windows["W2"]
    # W2: C on time, promised 5 used 4; e5 bad: 100 − 4 = 96
    assert (w2.completed, w2.on_time, w2.promised_days, w2.used_days, w2.score) == (1, 1, 5, 4, 96)
    w3 = report.windows["W3"]
    assert (w3.completed, w3.on_time, w3.evaluations, w3.satisfied, w3.score) == (1, 1, 1, 1, 100)
    # 规划局: 3 completed, 2 on time; 1 yellow, 1 red, 2 bad: 100 − 3 − 10 − 8 = 79
    plan = report.departments["规划局"]
    assert (plan.completed, plan.on_time, plan.yellow, plan.red, plan.score) == (3, 2, 1, 1, 79)
    assert report.departments["市监局"].score == 100
    # org chain from each window's hall up to the top
    assert set(report.org_units) == {"H1", "X", "Y", "H2"}
    assert report.org_units["X"].score == 79
    y = report.org_units["Y"]
    assert (y.completed, y.on_time, y.evaluations, y.satisfied, y.score) == (4, 3, 6, 3, 79)
    assert y.speedup_rate == pytest.approx(2 / 15)
