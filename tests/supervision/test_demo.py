"""The demo hall and the generated activity (supervision/demo.py).

The rule conditions are checked here from the records themselves, with the calendar and
``case_clock``, written out from supervision-rules.md — not with the rule engine — so that the demo
data is known to light every warning whatever the engine does.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision.calendar import WorkCalendar
from supervision.demo import HALL_PATH, generate, load_hall, write
from supervision.duedates import case_clock, end_of_day
from supervision.model import Case, CaseType
from supervision.records import DATA_MODELS, STAGE_ORDER, STAGE_RANK, CaseData, CaseTypeData, Change, ChangesPage

TZ = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()
OFFICE = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))

WEDNESDAY = date(2026, 11, 25)
SATURDAY = date(2026, 11, 28)
NATIONAL_DAY = date(2026, 10, 2)  # inside the 1–7 Oct holiday
AFTER_HOLIDAY = date(2026, 10, 9)  # first working days after it
MAKEUP_SUNDAY = date(2026, 1, 4)  # 调休上班
IN_2027 = date(2027, 3, 17)  # no official data: weekends only
ALL_DAYS = [WEDNESDAY, SATURDAY, NATIONAL_DAY, AFTER_HOLIDAY, MAKEUP_SUNDAY, IN_2027]
WORKDAYS = [d for d in ALL_DAYS if CAL.is_workday(d)]

EXPECTED_RULES = [
    {"code": "DUE_SOON", "level": "notice", "params": {"days_before": 1}},
    {"code": "OVERDUE", "level": "yellow", "params": {"reply_days": 3}},
    {"code": "STAGE_LATE", "level": "yellow", "params": {}},
    {"code": "FEE_MISMATCH", "level": "red", "params": {}},
    {"code": "STAGE_SKIPPED", "level": "red", "params": {}},
    {"code": "SUSPENDED_LONG", "level": "yellow", "params": {"max_days": 30}},
    {"code": "WAIT_LONG", "level": "yellow", "params": {"minutes": 30}},
    {
        "code": "POST_LEFT",
        "level": "yellow",
        "params": {"minutes": 15, "office_hours": [["08:30", "12:00"], ["13:30", "17:30"]]},
    },
]


@cache
def _body(day: date) -> dict[str, Any]:
    return generate(day)


def _by_type(body: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for c in body["changes"]:
        out.setdefault(c["type"], {})[c["id"]] = c["data"]
    return out


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _check_page(body: dict[str, Any]) -> None:
    page = ChangesPage.model_validate(body)
    assert page.epoch == "demo" and page.next_cursor is None and not page.has_more
    seqs = []
    for raw in page.changes:
        ch = Change.model_validate(raw)
        assert ch.op == "upsert" and ch.version == 1 and ch.data is not None
        DATA_MODELS[ch.type].model_validate(ch.data)
        seqs.append(ch.seq)
    assert all(a < b for a, b in pairwise(seqs)), "seq must strictly increase"
    ids = Counter((c["type"], c["id"]) for c in body["changes"])
    assert [k for k, n in ids.items() if n > 1] == []


def _instants(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _instants(v)]
    if isinstance(value, list):
        return [s for v in value for s in _instants(v)]
    if isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT", value):
        return [value]
    return []


# -- the hall file -----------------------------------------------------------------------------
def test_hall_file_validates_and_is_complete() -> None:
    assert HALL_PATH.is_file()
    body = load_hall()
    assert body == json.loads(HALL_PATH.read_text(encoding="utf-8"))
    _check_page(body)
    rec = _by_type(body)
    orgs = rec["org_unit"]
    assert orgs["org-liaoning"] == {"name": "辽宁省", "parent_id": None, "level": "province"}
    assert orgs["org-anshan"]["parent_id"] == "org-liaoning" and orgs["org-anshan"]["level"] == "city"
    assert orgs["hall-anshan"] == {"name": "鞍山市政务服务中心", "parent_id": "org-anshan", "level": "hall"}
    county_halls = [i for i, o in orgs.items() if o["level"] == "hall" and orgs[o["parent_id"]]["level"] == "county"]
    assert len(county_halls) == 1
    for o in orgs.values():
        assert o["parent_id"] is None or o["parent_id"] in orgs

    windows = rec["window"]
    per_hall = Counter(w["hall_id"] for w in windows.values())
    assert 28 <= per_hall["hall-anshan"] <= 32 and 3 <= per_hall[county_halls[0]] <= 4
    assert set(per_hall) <= {i for i, o in orgs.items() if o["level"] == "hall"}
    assert windows["win-A01"]["number"] == "A01"
    departments = {w["department"] for w in windows.values()}
    assert len(departments) >= 10

    cams = rec["camera"]
    assert sorted(c["window_id"] for c in cams.values() if c["window_id"]) == sorted(windows)
    overview = [c for c in cams.values() if c["window_id"] is None]
    assert len(overview) == 2
    assert cams["cam-A01"]["stream_url"] == "synthetic://window/A01"
    assert all(c["sub_stream_url"] == c["stream_url"] + "/sub" for c in cams.values())  # 320×180, as real ones

    types = {i: CaseTypeData.model_validate(d) for i, d in rec["case_type"].items()}
    assert 35 <= len(types) <= 45
    assert {t.department for t in types.values()} == departments
    immediate = [t for t in types.values() if t.immediate]
    assert 5 <= len(immediate) <= 8
    assert all(t.legal_days == 0 and t.promised_days == 0 for t in immediate)
    assert all(0 < t.promised_days < t.legal_days for t in types.values() if not t.immediate)
    assert any(t.stage_days for t in types.values())
    assert any(t.fee > 0 for t in types.values())
    assert len({t.code for t in types.values()}) == len(types)

    assert rec["rule_set"]["default"]["rules"] == EXPECTED_RULES


# -- the generated body ------------------------------------------------------------------------
@pytest.mark.parametrize("day", ALL_DAYS, ids=str)
def test_generated_body_validates_and_references_resolve(day: date) -> None:
    body = _body(day)
    _check_page(body)
    hall = load_hall()
    assert body["changes"][: len(hall["changes"])] == hall["changes"]
    assert body["changes"][len(hall["changes"])]["seq"] > hall["changes"][-1]["seq"]
    json.dumps(body, ensure_ascii=False)

    rec = _by_type(body)
    windows, types, halls = rec["window"], rec["case_type"], rec["org_unit"]
    cases, tickets = rec.get("case", {}), rec.get("ticket", {})
    assert len(cases) > 50 and len(tickets) > 100 and rec.get("evaluation")
    for cid, c in cases.items():
        assert re.fullmatch(r"C-\d{8}-\d{4}", cid)
        assert c["case_type_id"] in types and c["window_id"] in windows
        assert types[c["case_type_id"]]["department"] == windows[c["window_id"]]["department"]
        assert c["ticket_id"] is None or c["ticket_id"] in tickets
        assert re.fullmatch(r".\*\*.*", c["applicant"]) or "**" in c["applicant"]
    for tid, t in tickets.items():
        assert re.fullmatch(r"T-\d{8}-[A-Z]\d{3}", tid) and tid.endswith(t["number"])
        assert t["hall_id"] in halls and (t["window_id"] is None or t["window_id"] in windows)
        assert t["case_type_id"] is None or t["case_type_id"] in types
    for e in rec["evaluation"].values():
        assert e["window_id"] in windows and (e["case_id"] is None or e["case_id"] in cases)
    for q in rec.get("complaint", {}).values():
        assert q["hall_id"] in halls
        assert q["window_id"] is None or q["window_id"] in windows
        assert q["case_id"] is None or q["case_id"] in cases
    for v in rec["seat_vacancy"].values():
        assert v["window_id"] in windows

    now = _t(body["server_time"])
    for c in body["changes"]:
        for s in _instants(c["data"]):
            assert s.endswith("+08:00"), (c["id"], s)
            assert _t(s) <= now, (c["id"], s)


def test_generation_is_deterministic() -> None:
    a = generate(WEDNESDAY)
    assert a == generate(WEDNESDAY)
    assert a == generate(WEDNESDAY, seed=WEDNESDAY.toordinal())
    assert a != generate(WEDNESDAY, seed=7)
    assert a != generate(date(2026, 11, 26))


def test_grades_channels_and_statuses_look_like_a_hall() -> None:
    rec = _by_type(_body(WEDNESDAY))
    grades = Counter(e["grade"] for e in rec["evaluation"].values())
    assert grades[5] + grades[4] > 0.8 * sum(grades.values())
    assert grades[1] + grades[2] >= 1
    statuses = Counter(t["status"] for t in rec["ticket"].values())
    assert statuses["done"] > 0.8 * len(rec["ticket"]) and statuses["missed"] >= 1 and statuses["waiting"] >= 2
    channels = {q["channel"] for q in rec["complaint"].values()}
    assert {"hotline", "web", "onsite"} <= channels
    assert any(q["about_at"] for q in rec["complaint"].values())
    case_status = Counter(c["status"] for c in rec["case"].values())
    assert case_status["completed"] > 100 and case_status["in_progress"] > 0
    assert case_status["suspended"] >= 1


def test_days_and_now_parameters() -> None:
    one = _by_type(generate(WEDNESDAY, days=1))
    assert {t[2:10] for t in one["ticket"]} == {"20261125"}
    later = datetime(2026, 11, 25, 15, 0, tzinfo=TZ)
    body = generate(WEDNESDAY, now=later)
    assert body["server_time"] == "2026-11-25T15:00:00+08:00"
    assert all(_t(s) <= later for c in body["changes"] for s in _instants(c["data"]))
    empty = [v for v in _by_type(body)["seat_vacancy"].values() if v["ended_at"] is None]
    assert [v["started_at"] for v in empty] == ["2026-11-25T14:35:00+08:00"]
    lunch_now = generate(WEDNESDAY, now=datetime(2026, 11, 25, 12, 40, tzinfo=TZ))
    morning = [
        v for v in _by_type(lunch_now)["seat_vacancy"].values() if v["started_at"] == "2026-11-25T11:35:00+08:00"
    ]
    assert morning and morning[0]["ended_at"] == "2026-11-25T12:00:00+08:00"
    last_issued = max(_t(t["issued_at"]) for t in _by_type(body)["ticket"].values())
    assert last_issued > datetime(2026, 11, 25, 13, 30, tzinfo=TZ)
    with pytest.raises(ValueError):
        generate(WEDNESDAY, now=datetime(2026, 11, 24, 9, 0, tzinfo=TZ))
    with pytest.raises(ValueError):
        generate(WEDNESDAY, days=0)


def test_write_is_atomic_utf8(tmp_path: Path) -> None:
    body = generate(WEDNESDAY, days=1)
    target = tmp_path / "demo.json"
    target.write_text("old", encoding="utf-8")
    write(target, body)
    text = target.read_text(encoding="utf-8")
    assert "鞍山市政务服务中心" in text and json.loads(text) == body
    assert [p.name for p in tmp_path.iterdir()] == ["demo.json"]


# -- the planted rule conditions ---------------------------------------------------------------
@dataclass(frozen=True)
class Facts:
    now: datetime
    today: date
    cases: dict[str, tuple[Case, CaseType]]
    tickets: dict[str, dict[str, Any]]
    vacancies: dict[str, dict[str, Any]]


def _facts(body: dict[str, Any]) -> Facts:
    rec = _by_type(body)
    types = {i: CaseType.from_data(i, CaseTypeData.model_validate(d)) for i, d in rec["case_type"].items()}
    cases = {}
    for i, d in rec["case"].items():
        case = Case.from_data(i, CaseData.model_validate(d))
        cases[i] = (case, types[case.case_type_id])
    now = _t(body["server_time"])
    return Facts(now, now.astimezone(TZ).date(), cases, rec["ticket"], rec["seat_vacancy"])


def _open(case: Case) -> bool:
    return case.status not in ("completed", "rejected", "withdrawn")


def _local(at: datetime) -> date:
    return at.astimezone(TZ).date()


def _overdue_open(f: Facts, *, legal: bool) -> set[str]:
    out = set()
    for i, (case, ct) in f.cases.items():
        clock = case_clock(case, ct, CAL, TZ, f.now)
        if not _open(case) or not clock.running:
            continue
        assert clock.promised_due is not None and clock.legal_due is not None
        if legal and clock.legal_due < f.today:
            out.add(i)
        if not legal and clock.promised_due < f.today <= clock.legal_due:
            out.add(i)
    return out


def _due_soon(f: Facts) -> set[str]:
    out = set()
    for i, (case, ct) in f.cases.items():
        clock = case_clock(case, ct, CAL, TZ, f.now)
        due = clock.promised_due
        if _open(case) and clock.running and due is not None and CAL.add_workdays(due, -1) <= f.today <= due:
            out.add(i)
    return out


def _completed_late(f: Facts) -> set[str]:
    out = set()
    for i, (case, ct) in f.cases.items():
        if case.status == "completed" and case.completed_at is not None and case.accepted_at is not None:
            clock = case_clock(case, ct, CAL, TZ, f.now)
            assert clock.promised_due is not None
            if case.completed_at >= end_of_day(clock.promised_due, TZ):
                out.add(i)
    return out


def _fee_mismatch(f: Facts) -> set[str]:
    return {i for i, (case, ct) in f.cases.items() if case.fee_charged is not None and case.fee_charged != ct.fee}


def _stage_skipped(f: Facts) -> set[str]:
    out = set()
    for i, (case, ct) in f.cases.items():
        names = [s for s, _ in case.stages]
        ranks = [STAGE_RANK[s] for s in names]
        bad = any(a >= b for a, b in pairwise(ranks))
        bad |= any(STAGE_RANK[s] > STAGE_RANK["accepted"] for s in names) and "accepted" not in names
        bad |= "completed" in names and "decided" not in names
        top = max(ranks, default=-1)
        bad |= any(s not in names and STAGE_RANK[s] < top for s in ct.stage_days)
        if bad:
            out.add(i)
    return out


def _stage_late(f: Facts, *, from_last_recorded: bool = False) -> set[str]:
    """STAGE_LATE, counting ``stage_days[s]`` from the stage just before ``s`` in the fixed order
    (or, with ``from_last_recorded``, from the last stage recorded before it)."""
    out = set()
    for i, (case, ct) in f.cases.items():
        if case.accepted_at is None:
            continue
        judged = case.completed_at or f.now
        recorded = dict(case.stages)
        for s, n in ct.stage_days.items():
            if from_last_recorded:
                before = [at for name, at in case.stages if STAGE_RANK[name] < STAGE_RANK[s]]
            else:
                prev = STAGE_ORDER[STAGE_RANK[s] - 1]
                before = [recorded[prev]] if prev in recorded else []
            if not before:
                continue
            deadline = end_of_day(CAL.add_workdays(_local(before[-1]), n), TZ)
            at = recorded.get(s)
            if (at is not None and at >= deadline) or (at is None and judged >= deadline):
                out.add(i)
    return out


def _suspended_long(f: Facts) -> set[str]:
    return {
        i
        for i, (case, _) in f.cases.items()
        if any(to is None and CAL.workdays_between(_local(start), f.today) > 30 for start, to in case.suspensions)
    }


def _waiting_long(f: Facts) -> set[str]:
    return {
        i
        for i, t in f.tickets.items()
        if t["status"] == "waiting" and f.now - _t(t["issued_at"]) > timedelta(minutes=30)
    }


def _minutes_in_office(start: datetime, end: datetime) -> float:
    d = _local(start)
    if not CAL.is_workday(d):
        return 0.0
    total = 0.0
    for a, b in OFFICE:
        lo = max(start, datetime.combine(d, a, tzinfo=TZ))
        hi = min(end, datetime.combine(d, b, tzinfo=TZ))
        total += max((hi - lo).total_seconds() / 60, 0.0)
    return total


def _post_left(f: Facts, day: date | None = None) -> set[str]:
    out = set()
    for i, v in f.vacancies.items():
        start, end = _t(v["started_at"]), _t(v["ended_at"]) if v["ended_at"] else f.now
        if (day is None or _local(start) == day) and _minutes_in_office(start, end) > 15:
            out.add(i)
    return out


@pytest.mark.parametrize("day", ALL_DAYS, ids=str)
def test_case_rules_fire_exactly_for_the_planted_cases(day: date) -> None:
    f = _facts(_body(day))
    # Open, promised due date passed, legal one not: yellow (and one of them raised only today).
    yellow = _overdue_open(f, legal=False)
    assert len(yellow) == 2
    for i in yellow:
        case, ct = f.cases[i]
        clock = case_clock(case, ct, CAL, TZ, f.now)
        assert clock.promised_due is not None
        raised_on = clock.promised_due + timedelta(days=1)
        assert f.today <= CAL.add_workdays(raised_on, 3), "the yellow must not have turned red by reply_days"
    assert len(_overdue_open(f, legal=True)) == 1
    assert len(_completed_late(f)) == 1
    assert _due_soon(f)
    if CAL.is_workday(day):
        assert any(case_clock(*f.cases[i], CAL, TZ, f.now).promised_due == day for i in _due_soon(f))
    fee = _fee_mismatch(f)
    assert len(fee) == 1
    case, ct = f.cases[fee.pop()]
    assert case.fee_charged == ct.fee * 2 and ct.fee > Decimal(0)
    skipped = _stage_skipped(f)
    assert len(skipped) == 2
    assert {f.cases[i][0].status for i in skipped} == {"completed"}
    late = _stage_late(f)
    assert len(late) == 1 and late == _stage_late(f, from_last_recorded=True)
    assert not (late & skipped)
    assert len(_suspended_long(f)) == 1


@pytest.mark.parametrize("day", ALL_DAYS, ids=str)
def test_ended_suspension_spans_a_day_off_and_completes_on_time(day: date) -> None:
    f = _facts(_body(day))
    found = []
    for case, ct in f.cases.values():
        for start, end in case.suspensions:
            if end is None:
                continue
            a, b = _local(start), _local(end)
            between = [a + timedelta(days=k) for k in range(1, (b - a).days)]
            days_off = [d for d in between if not CAL.is_workday(d)]
            clock = case_clock(case, ct, CAL, TZ, f.now)
            assert clock.suspended_days == CAL.workdays_between(a, b)
            assert case.completed_at is not None and clock.promised_due is not None
            if days_off and case.completed_at < end_of_day(clock.promised_due, TZ):
                found.append(case.id)
    assert len(found) == 1
    # Exactly the two open suspensions: the long 补正 and a short 特别程序 that warns of nothing.
    open_susp = [c for c, _ in f.cases.values() if any(to is None for _, to in c.suspensions)]
    assert len(open_susp) == 2 and all(c.status == "suspended" for c in open_susp)


@pytest.mark.parametrize("day", WORKDAYS, ids=str)
def test_live_rules_fire_today(day: date) -> None:
    f = _facts(_body(day))
    assert f.now == datetime.combine(day, time(10, 30), tzinfo=TZ)
    assert len(_waiting_long(f)) >= 1
    today = _post_left(f, day)
    assert len(today) == 1
    v = f.vacancies[today.pop()]
    assert v["ended_at"] is None and f.now - _t(v["started_at"]) == timedelta(minutes=25), "still empty at now"
    # The lunch-break vacancy: long, but not within office hours.
    lunch = [
        v
        for v in f.vacancies.values()
        if v["ended_at"] and _t(v["ended_at"]) - _t(v["started_at"]) > timedelta(minutes=60)
    ]
    assert lunch and all(_minutes_in_office(_t(v["started_at"]), _t(v["ended_at"])) == 0 for v in lunch)
    assert _t(lunch[0]["started_at"]).time() == time(12, 5) and _t(lunch[0]["ended_at"]).time() == time(13, 20)


@pytest.mark.parametrize("day", [SATURDAY, NATIONAL_DAY], ids=str)
def test_a_day_off_has_no_activity_of_its_own(day: date) -> None:
    body = _body(day)
    rec = _by_type(body)
    stamp = f"{day:%Y%m%d}"
    assert not any(stamp in i for kind in ("ticket", "case", "evaluation", "seat_vacancy") for i in rec.get(kind, {}))
    f = _facts(body)
    assert not _waiting_long(f) and not any(t["status"] == "waiting" for t in f.tickets.values())
    assert not _post_left(f, day)


def test_no_tickets_left_waiting_on_earlier_days() -> None:
    f = _facts(_body(WEDNESDAY))
    assert all(_local(_t(t["issued_at"])) == WEDNESDAY for t in f.tickets.values() if t["status"] == "waiting")
    # Earlier POST_LEFT: one 20-minute absence two working days ago; everything else is short.
    earlier = _post_left(f) - _post_left(f, WEDNESDAY)
    assert len(earlier) == 1
