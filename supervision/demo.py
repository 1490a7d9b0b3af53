"""Synthetic demo data: one city hall and a few working days of its activity.

``resources/demo/hall.json`` holds the static records (org units, windows, cameras, case types, the
default rule set) as a ``GET /changes`` body. :func:`generate` adds tickets, cases, evaluations,
complaints and seat vacancies for the working days up to a given day, and plants one case (or
ticket, or vacancy) for each warning rule so that every light has something to show:

- DUE_SOON: open cases due today and on the next working day;
- OVERDUE yellow: open cases past the promised due date (last and second-last working day) but
  not the legal one; one completed case that finished a day late;
- OVERDUE red: an open case past its legal due date;
- FEE_MISMATCH: a completed case charged twice the standard fee;
- STAGE_SKIPPED: a case completed without ``reviewed`` (named in its type's ``stage_days``) and one
  completed without ``decided``;
- STAGE_LATE: ``handled`` recorded after its ``stage_days`` limit;
- SUSPENDED_LONG: a 补正 suspension open for 35 working days; also an ended 补正 suspension across
  a weekend or holiday and a short open 特别程序 one, neither of which warns;
- WAIT_LONG: tickets still waiting 36 and 47 minutes at "now";
- POST_LEFT: a seat empty for the last 25 minutes of office hours before now, still empty (and a
  20-minute absence on an earlier day); a 12:05–13:20 vacancy in the lunch break must not warn.

Dates are computed with the working-day calendar, so the conditions hold for any day. The output is
deterministic for a given day, seed and hall.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from importlib.resources import files
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from supervision.calendar import WorkCalendar
from supervision.model import CaseType
from supervision.records import CaseTypeData
from supervision.rules import DEFAULT_OFFICE_HOURS, RuleSet

log = logging.getLogger(__name__)

# The ``resources`` package as installed, read with importlib.resources (a wheel ships it as files).
HALL_PATH = Path(str(files("resources").joinpath("demo", "hall.json")))
DEFAULT_NOW = time(10, 30)

_AFTER_ACCEPT = ("handled", "reviewed", "decided", "completed")
_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶余"
    "潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_GIVEN = "丽伟静磊敏洋娜强艳军霞勇杰芳涛婷鹏颖超雪"
_COMPANIES = (
    "鞍山**商贸有限公司",
    "辽宁**建设集团有限公司",
    "鞍山市**餐饮管理有限公司",
    "鞍山**物流有限公司",
    "辽宁**医药连锁有限公司",
    "鞍山**房地产开发有限公司",
    "鞍山**科技有限公司",
    "鞍山**钢材加工有限公司",
)
_COMPANY_HINTS = (
    "企业",
    "经营",
    "施工",
    "资质",
    "规划",
    "预售",
    "用地",
    "医疗机构",
    "社会团体",
    "民办非企业",
    "一般纳税人",
    "公共场所",
    "竣工",
    "非住宅",
    "首次登记",
)
GRADES = (5, 4, 3, 2, 1)
GRADE_WEIGHTS = (74, 18, 4, 2, 2)  # how often each of GRADES is given: mostly 非常满意


def staff_name(index: int) -> str:
    """The (made-up) name of the clerk at the ``index``-th window of the hall file."""
    return f"{_SURNAMES[index * 7 % len(_SURNAMES)]}{_GIVEN[index % len(_GIVEN)]}"


def applicant_name(rng: random.Random, case_type_name: str) -> str:
    """A masked applicant: a company for business-like case types, else a person (王**)."""
    if any(h in case_type_name for h in _COMPANY_HINTS):
        return rng.choice(_COMPANIES)
    return f"{rng.choice(_SURNAMES)}**"


def reviewer_name(department: str) -> str:
    """The back-office official of a department (append 局长 for the one who decides)."""
    i = sum(map(ord, department))
    return f"{_SURNAMES[i % len(_SURNAMES)]}{_GIVEN[(i // 3) % len(_GIVEN)]}"


@dataclass(frozen=True, slots=True)
class _Window:
    id: str
    hall_id: str
    number: str
    department: str


@dataclass(frozen=True, slots=True)
class _Hall:
    windows: tuple[_Window, ...]
    types: tuple[CaseType, ...]
    office_hours: tuple[tuple[time, time], ...]


def load_hall(path: Path | None = None) -> dict[str, Any]:
    """The demo hall's ``GET /changes`` body (default: ``resources/demo/hall.json``)."""
    p = HALL_PATH if path is None else path
    with p.open(encoding="utf-8") as f:
        body: dict[str, Any] = json.load(f)
    return body


def write(path: Path, body: dict[str, Any]) -> None:
    """Write a body as UTF-8 JSON, atomically (a temporary file beside it, then a rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(body, f, ensure_ascii=False, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parse_hall(body: dict[str, Any]) -> _Hall:
    windows: list[_Window] = []
    types: list[CaseType] = []
    office = DEFAULT_OFFICE_HOURS
    for c in body["changes"]:
        d = c.get("data") or {}
        if c.get("op") != "upsert":
            continue
        if c["type"] == "window":
            windows.append(_Window(c["id"], d["hall_id"], d["number"], d["department"]))
        elif c["type"] == "case_type":
            types.append(CaseType.from_data(c["id"], CaseTypeData.model_validate(d)))
        elif c["type"] == "rule_set":
            office = RuleSet.from_record(d.get("rules", []), d.get("weights")).office_hours
    if not windows:
        raise ValueError("the hall has no windows")
    return _Hall(tuple(windows), tuple(types), office)


def generate(
    day: date,
    *,
    hall: dict[str, Any] | None = None,
    days: int = 5,
    seed: int | None = None,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> dict[str, Any]:
    """One ``GET /changes`` body: the hall's records, then the activity of the ``days`` working
    days up to and including ``day`` (or before it, when ``day`` is not a working day).

    ``now`` (default ``day`` at 10:30 local) is the instant the data describes: nothing happens
    after it, and tickets, cases and vacancies are cut off there.
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    zone = ZoneInfo(tz)
    if now is None:
        now = datetime.combine(day, DEFAULT_NOW, tzinfo=zone)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if now.astimezone(zone).date() < day:
        raise ValueError(f"now ({now.isoformat()}) is before {day.isoformat()}")
    hall_body = load_hall() if hall is None else hall
    gen = _Generator(_parse_hall(hall_body), day, now, zone, random.Random(day.toordinal() if seed is None else seed))
    records = gen.run(days)
    changes = copy.deepcopy(list(hall_body["changes"]))
    seq = max((int(c["seq"]) for c in changes), default=0)
    for _, rtype, rid, data in sorted(records, key=lambda r: r[0]):
        seq += 1
        changes.append({"seq": seq, "type": rtype, "id": rid, "op": "upsert", "version": 1, "data": data})
    log.info("demo data for %s: %d hall records, %d activity records", day, len(hall_body["changes"]), len(records))
    return {
        "epoch": str(hall_body.get("epoch", "demo")),
        "changes": changes,
        "next_cursor": None,
        "has_more": False,
        "server_time": gen.iso(now),
    }


class _Generator:
    def __init__(self, hall: _Hall, day: date, now: datetime, zone: ZoneInfo, rng: random.Random) -> None:
        self.hall, self.day, self.now, self.zone, self.rng = hall, day, now, zone, rng
        self.cal = WorkCalendar()
        self.records: list[tuple[datetime, str, str, dict[str, Any]]] = []
        self._counters: dict[tuple[str, date], int] = {}
        self._ticket_ids: set[str] = set()
        self.types_by_dept: dict[str, list[CaseType]] = {}
        for t in hall.types:
            self.types_by_dept.setdefault(t.department, []).append(t)
        self.windows_by_hall: dict[str, list[_Window]] = {}
        for w in hall.windows:
            self.windows_by_hall.setdefault(w.hall_id, []).append(w)
        # The hall with the most windows carries the planted scenarios.
        self.main_hall = max(self.windows_by_hall, key=lambda h: len(self.windows_by_hall[h]))
        self.staff = {w.id: staff_name(i) for i, w in enumerate(hall.windows)}
        self.long_waits: list[tuple[datetime, str]] = []  # (issued_at, window_id) on earlier days
        self.bad_reviews: list[tuple[datetime, str]] = []  # (at, window_id) on earlier days

    # -- small helpers -------------------------------------------------------------------------
    def iso(self, at: datetime) -> str:
        return at.astimezone(self.zone).isoformat(timespec="seconds")

    def at(self, d: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(d, time(hh, mm), tzinfo=self.zone)

    def wd(self, n: int) -> date:
        """The n-th working day after (n > 0) or before (n < 0) ``day``."""
        return self.cal.add_workdays(self.day, n)

    def office_time(self, d: date, end_margin: int = 20) -> datetime:
        """A random minute within office hours on ``d``, at least ``end_margin`` minutes before a
        session ends; mornings are busier."""
        segs = self.hall.office_hours
        seg = segs[0] if len(segs) == 1 or self.rng.random() < 0.6 else self.rng.choice(segs[1:])
        start = datetime.combine(d, seg[0], tzinfo=self.zone)
        span = (datetime.combine(d, seg[1]) - datetime.combine(d, seg[0])).seconds // 60 - end_margin
        return start + timedelta(minutes=self.rng.randint(0, max(span, 1)))

    def next_no(self, kind: str, d: date) -> int:
        n = self._counters.get((kind, d), 0) + 1
        self._counters[(kind, d)] = n
        return n

    def emit(self, rtype: str, rid: str, data: dict[str, Any], last: datetime) -> None:
        self.records.append((last, rtype, rid, data))

    def applicant(self, ct: CaseType) -> str:
        return applicant_name(self.rng, ct.name)

    def reviewer(self, dept: str) -> str:
        return reviewer_name(dept)

    def pick(self, scenario: str, want: Callable[[CaseType], bool]) -> tuple[CaseType, _Window] | None:
        """A case type satisfying ``want`` and a main-hall window of its department."""
        wins = self.windows_by_hall[self.main_hall]
        depts = {w.department for w in wins}
        cands = [t for t in self.hall.types if t.department in depts and want(t)]
        if not cands:
            log.warning("demo hall has no case type for scenario %s", scenario)
            return None
        ct = self.rng.choice(cands)
        return ct, self.rng.choice([w for w in wins if w.department == ct.department])

    # -- cases ---------------------------------------------------------------------------------
    def add_case(
        self,
        ct: CaseType,
        win: _Window,
        submitted: datetime,
        stages: Sequence[tuple[str, datetime]],
        *,
        ticket_id: str | None = None,
        suspensions: Iterable[tuple[datetime, datetime | None, str]] = (),
        fee_charged: Decimal | None = None,
        status: str | None = None,
    ) -> str | None:
        """Emit a case as it stands at ``now`` (later stages and suspension ends dropped)."""
        now = self.now
        if submitted > now:
            return None
        kept = [("submitted", submitted), *((s, t) for s, t in stages if t <= now)]
        susp = [(a, b if b is not None and b <= now else None, r) for a, b, r in suspensions if a <= now]
        done = next((t for s, t in kept if s == "completed"), None)
        if status is None:
            if done is not None:
                status = "completed"
            elif any(b is None for _, b, _ in susp):
                status = "suspended"
            elif len(kept) > 2:
                status = "in_progress"
            else:
                status = "accepted" if len(kept) == 2 else "submitted"
        local = submitted.astimezone(self.zone).date()
        cid = f"C-{local:%Y%m%d}-{self.next_no('case', local):04d}"
        applicant = self.applicant(ct)
        staff = self.staff[win.id]
        by = {
            "submitted": applicant,
            "reviewed": self.reviewer(ct.department),
            "decided": self.reviewer(ct.department + "局长"),
        }
        fee = ct.fee if fee_charged is None else fee_charged
        self.emit(
            "case",
            cid,
            {
                "case_type_id": ct.id,
                "window_id": win.id,
                "ticket_id": ticket_id,
                "applicant": applicant,
                "submitted_at": self.iso(submitted),
                "status": status,
                "stages": [{"stage": s, "at": self.iso(t), "by": by.get(s, staff)} for s, t in kept],
                "suspensions": [
                    {"from": self.iso(a), "to": None if b is None else self.iso(b), "reason": r} for a, b, r in susp
                ],
                "fee_charged": str(fee),
                "completed_at": None if done is None else self.iso(done),
            },
            max([t for _, t in kept] + [b or a for a, b, _ in susp]),
        )
        return cid

    def plan_stages(self, ct: CaseType, accepted: datetime) -> list[tuple[str, datetime]]:
        """Stages from acceptance to completion that keep every limit: the promised days, and each
        ``stage_days[s]`` counted from acceptance — which also keeps it counted from whichever
        earlier stage is the last one recorded while ``s`` is still missing."""
        rng = self.rng
        out = [("accepted", accepted)]
        prev_off, prev_t = 0, accepted
        used = (
            0
            if ct.immediate
            else (ct.promised_days if rng.random() < 0.1 else rng.randint(ct.promised_days // 3, ct.promised_days))
        )
        caps: dict[str, int] = {}  # the latest working-day offset from acceptance for each stage
        cap = used
        for s in reversed(_AFTER_ACCEPT):
            cap = min(cap, ct.stage_days.get(s, cap))
            caps[s] = cap
        acc_day = accepted.astimezone(self.zone).date()
        for s in _AFTER_ACCEPT:
            off = caps[s] if s == "completed" else rng.randint(prev_off, caps[s])
            if off == prev_off:
                t = prev_t + timedelta(minutes=rng.randint(2, 12) if ct.immediate else rng.randint(5, 40))
            else:
                t = self.office_time(self.cal.add_workdays(acc_day, off))
            out.append((s, t))
            prev_off, prev_t = off, t
        return out

    # -- a day in the halls --------------------------------------------------------------------
    def day_activity(self, d: date) -> None:
        rng, now = self.rng, self.now
        for hall_id, wins in self.windows_by_hall.items():
            plan: list[tuple[datetime, _Window, int]] = []  # (issued, window, wait minutes)
            for _ in range(sum(rng.randint(4, 8) for _ in wins)):
                r = rng.random()
                wait = rng.randint(1, 15) if r < 0.8 else rng.randint(16, 29) if r < 0.95 else rng.randint(31, 55)
                plan.append((self.office_time(d), rng.choice(wins), wait))
            if d == now.astimezone(self.zone).date() and hall_id == self.main_hall:
                # Two tickets nobody has called yet, 47 and 36 minutes after they were drawn.
                first = datetime.combine(d, self.hall.office_hours[0][0], tzinfo=self.zone)
                for back in (47, 36):
                    if now - timedelta(minutes=back) >= first:
                        plan.append((now - timedelta(minutes=back), rng.choice(wins), 240))
            plan.sort(key=lambda p: p[0])
            for issued, win, wait in plan:
                if issued <= now:
                    self.ticket(d, hall_id, issued, win, wait)

    def ticket(self, d: date, hall_id: str, issued: datetime, win: _Window, wait: int) -> None:
        rng, now = self.rng, self.now
        prefix = win.number[:1] or "A"
        number = f"{prefix}{self.next_no('ticket-' + hall_id + prefix, d):03d}"
        tid = f"T-{d:%Y%m%d}-{number}"
        if tid in self._ticket_ids:
            tid = f"{tid}-{hall_id}"
        self._ticket_ids.add(tid)
        types = self.types_by_dept.get(win.department, [])
        ct = rng.choice(types) if types else None
        called = issued + timedelta(minutes=wait)
        r = rng.random()
        outcome = "missed" if r < 0.03 else "transferred" if r < 0.04 else "served"
        case_id: str | None = None
        end = called + timedelta(minutes=rng.randint(2, 4))
        if outcome == "served" and ct is not None and rng.random() < 0.88:
            submitted = called + timedelta(minutes=rng.randint(1, 2))
            accepted = submitted + timedelta(minutes=rng.randint(3, 12))
            if not ct.stage_days and rng.random() < 0.02:  # 不予受理: materials do not qualify
                case_id = self.add_case(ct, win, submitted, [], ticket_id=tid, status="rejected")
                end = submitted + timedelta(minutes=6)
            else:
                stages = self.plan_stages(ct, accepted)
                case_id = self.add_case(ct, win, submitted, stages, ticket_id=tid)
                end = (stages[-1][1] if ct.immediate else accepted) + timedelta(minutes=rng.randint(2, 6))
        elif outcome == "served":
            end = called + timedelta(minutes=rng.randint(3, 10))  # a consultation
        if wait > 30 and called <= now:
            self.long_waits.append((issued, win.id))
        called_at: str | None = None
        window_id: str | None = None
        if called > now:
            status, last = "waiting", issued
        else:
            called_at, window_id = self.iso(called), win.id
            if end <= now:
                status = outcome if outcome != "served" else "done"
                last = end
            else:
                status = "called" if outcome != "served" or now < called + timedelta(minutes=1) else "serving"
                last = called
        self.emit(
            "ticket",
            tid,
            {
                "hall_id": hall_id,
                "number": number,
                "case_type_id": None if ct is None else ct.id,
                "issued_at": self.iso(issued),
                "called_at": called_at,
                "window_id": window_id,
                "status": status,
            },
            last,
        )
        if status == "done" and rng.random() < 0.8:
            at = end + timedelta(minutes=rng.randint(0, 2))
            if at <= now:
                grade = rng.choices(GRADES, GRADE_WEIGHTS)[0]
                self.evaluation(win.id, case_id, at, grade)

    def evaluation(self, window_id: str, case_id: str | None, at: datetime, grade: int) -> None:
        local = at.astimezone(self.zone).date()
        eid = f"E-{local:%Y%m%d}-{self.next_no('eval', local):04d}"
        self.emit(
            "evaluation", eid, {"window_id": window_id, "case_id": case_id, "at": self.iso(at), "grade": grade}, at
        )
        if grade <= 2 and local < self.day:
            self.bad_reviews.append((at, window_id))

    def vacancy(self, window_id: str, start: datetime, end: datetime | None) -> None:
        local = start.astimezone(self.zone).date()
        vid = f"SV-{local:%Y%m%d}-{self.next_no('vacancy', local):02d}"
        self.emit(
            "seat_vacancy",
            vid,
            {"window_id": window_id, "started_at": self.iso(start), "ended_at": None if end is None else self.iso(end)},
            end or start,
        )

    def vacancies(self, workdays: Sequence[date]) -> None:
        rng, now = self.rng, self.now
        main = self.windows_by_hall[self.main_hall]
        for d in workdays:
            for _ in range(rng.randint(1, 3)):  # short absences (fetching files, 补打 forms)
                start = self.office_time(d, end_margin=15)
                end = start + timedelta(minutes=rng.randint(3, 12))
                if end <= now:
                    self.vacancy(rng.choice(self.hall.windows).id, start, end)
        segs = self.hall.office_hours
        prev = self.wd(-1)
        if len(segs) > 1:  # lunch break: empty for 75 minutes, but not within office hours
            lunch = datetime.combine(prev, segs[0][1], tzinfo=self.zone) + timedelta(minutes=5)
            back = datetime.combine(prev, segs[1][0], tzinfo=self.zone) - timedelta(minutes=10)
            self.vacancy(rng.choice(main).id, lunch, back)
        earlier = self.wd(-2)
        start = datetime.combine(earlier, segs[-1][0], tzinfo=self.zone) + timedelta(minutes=95)
        self.vacancy(rng.choice(main).id, start, start + timedelta(minutes=20))
        # Today: the seat has been empty for 25 minutes and still is, when now is inside a session
        # (so POST_LEFT is in force at now); otherwise a 25-minute absence in the last session.
        if self.cal.is_workday(self.day) and now.astimezone(self.zone).date() == self.day:
            for seg_start, seg_end in reversed(segs):
                lo = datetime.combine(self.day, seg_start, tzinfo=self.zone)
                hi = datetime.combine(self.day, seg_end, tzinfo=self.zone)
                if lo + timedelta(minutes=20) <= now < hi:
                    self.vacancy(rng.choice(main).id, max(lo, now - timedelta(minutes=25)), None)
                    break
                end = min(now - timedelta(minutes=10), hi)
                if end - timedelta(minutes=25) >= lo:
                    self.vacancy(rng.choice(main).id, end - timedelta(minutes=25), end)
                    break

    # -- planted scenarios ---------------------------------------------------------------------
    def plain(self, t: CaseType) -> bool:
        return not t.immediate and not t.stage_days and t.promised_days >= 3 and t.legal_days >= t.promised_days + 2

    def simple_case(
        self, ct: CaseType, win: _Window, accepted_on: date, offsets: Sequence[tuple[str, int]], **kw: Any
    ) -> str | None:
        accepted = self.at(accepted_on, 9, self.rng.randint(0, 50))
        stages: list[tuple[str, datetime]] = [("accepted", accepted)]
        for s, off in offsets:
            d = self.cal.add_workdays(accepted_on, off)
            prev = stages[-1][1]
            t = (
                prev + timedelta(minutes=25)
                if prev.astimezone(self.zone).date() == d
                else self.at(d, 10, self.rng.randint(0, 50))
            )
            stages.append((s, t))
        return self.add_case(ct, win, accepted - timedelta(minutes=self.rng.randint(5, 20)), stages, **kw)

    def scenarios(self) -> dict[str, str | None]:
        """Plant one case per case rule; returns the case ids by scenario name."""
        cal, wd, plain = self.cal, self.wd, self.plain
        out: dict[str, str | None] = {}
        # DUE_SOON: promised due on the next working day (and today, when today is one).
        if got := self.pick("DUE_SOON", plain):
            ct, w = got
            out["due_soon_next"] = self.simple_case(ct, w, cal.add_workdays(wd(1), -ct.promised_days), [("handled", 1)])
        if cal.is_workday(self.day) and (got := self.pick("DUE_SOON", plain)):
            ct, w = got
            out["due_soon_today"] = self.simple_case(
                ct, w, cal.add_workdays(self.day, -ct.promised_days), [("handled", 1), ("reviewed", 2)]
            )
        # OVERDUE yellow: the promised due date passed (last / second-last working day), the legal
        # one did not, and the yellow is too recent to have turned red.
        for n in (1, 2):
            if got := self.pick("OVERDUE", plain):
                ct, w = got
                out[f"overdue_yellow_{n}"] = self.simple_case(
                    ct, w, cal.add_workdays(wd(-n), -ct.promised_days), [("handled", 1)]
                )
        # OVERDUE red: the legal due date was the second-last working day.
        if got := self.pick("OVERDUE", plain):
            ct, w = got
            out["overdue_red"] = self.simple_case(
                ct, w, cal.add_workdays(wd(-2), -ct.legal_days), [("handled", 2), ("reviewed", 5)]
            )
        # OVERDUE on a completed case: done one working day after the promised due date.
        if got := self.pick("OVERDUE", plain):
            ct, w = got
            p = ct.promised_days
            out["completed_late"] = self.simple_case(
                ct,
                w,
                cal.add_workdays(wd(-3), -p),
                [("handled", p), ("reviewed", p), ("decided", p + 1), ("completed", p + 1)],
            )
        # FEE_MISMATCH: twice the standard fee, otherwise a clean on-time case.
        if got := self.pick("FEE_MISMATCH", lambda t: plain(t) and t.fee > 0):
            ct, w = got
            out["fee_mismatch"] = self.simple_case(
                ct, w, wd(-3), [(s, 2) for s in _AFTER_ACCEPT], fee_charged=ct.fee * 2
            )
        # STAGE_SKIPPED: `reviewed`, named in the type's stage_days, missing (its own limit has not
        # passed, so this is not STAGE_LATE as well); and `completed` without `decided`.
        if got := self.pick(
            "STAGE_SKIPPED", lambda t: not t.immediate and "reviewed" in t.stage_days and t.promised_days >= 2
        ):
            ct, w = got
            h = min(ct.stage_days.get("handled", 2), 2)
            out["skipped_reviewed"] = self.simple_case(
                ct, w, wd(-(h + 1)), [("handled", h), ("decided", h), ("completed", h)]
            )
        if got := self.pick("STAGE_SKIPPED", plain):
            ct, w = got
            out["skipped_decided"] = self.simple_case(
                ct, w, wd(-4), [("handled", 1), ("reviewed", 2), ("completed", 3)]
            )
        # STAGE_LATE: `handled` recorded after its stage_days limit; the case still finishes on time.
        if got := self.pick(
            "STAGE_LATE",
            lambda t: not t.immediate and "handled" in t.stage_days and t.promised_days > t.stage_days["handled"],
        ):
            ct, w = got
            p = ct.promised_days
            h = min(ct.stage_days["handled"] + 2, p)
            out["stage_late"] = self.simple_case(
                ct, w, wd(-(p + 1)), [("handled", h), ("reviewed", h), ("decided", p), ("completed", p)]
            )
        # An ended 补正 suspension across a weekend or holiday; the case completes within its
        # promised days plus the two suspended working days.
        j = next((j for j in range(4, 15) if not cal.is_workday(wd(-j) + timedelta(days=1))), 4)
        s_from, s_to = wd(-j), cal.add_workdays(wd(-j), 2)
        if got := self.pick("suspension", plain):
            ct, w = got
            out["suspension_ended"] = self.simple_case(
                ct,
                w,
                cal.add_workdays(s_from, -2),
                [("handled", 1), ("reviewed", 4), ("decided", 5), ("completed", 5)],
                suspensions=[(self.at(s_from, 16, 10), self.at(s_to, 9, 20), "补正：申请人补充提交身份证明及委托书")],
            )
        # SUSPENDED_LONG: a 补正 suspension open for 35 working days.
        if got := self.pick("SUSPENDED_LONG", plain):
            ct, w = got
            long_from = wd(-35)
            out["suspended_long"] = self.simple_case(
                ct,
                w,
                cal.add_workdays(long_from, -2),
                [("handled", 1)],
                suspensions=[(self.at(long_from, 15, 0), None, "补正：申请人需补交经审查合格的设计文件")],
            )
        # A short open 特别程序 suspension: the clock is paused, nothing warns.
        if got := self.pick("suspension", plain):
            ct, w = got
            sp_from = wd(-2)
            out["special_procedure"] = self.simple_case(
                ct,
                w,
                cal.add_workdays(sp_from, -2),
                [("handled", 1)],
                suspensions=[(self.at(sp_from, 14, 30), None, "特别程序：组织专家评审")],
            )
        for name, cid in out.items():
            log.debug("scenario %s: %s", name, cid)
        return out

    def complaints(self, fee_case: str | None) -> None:
        rng, now, main = self.rng, self.now, self.main_hall
        items: list[tuple[datetime, dict[str, Any]]] = []
        if self.long_waits:
            issued, win = self.long_waits[0]
            items.append(
                (
                    issued + timedelta(hours=3),
                    {
                        "window_id": win,
                        "case_id": None,
                        "channel": "hotline",
                        "about_at": self.iso(issued),
                        "summary": "12345热线转办：群众反映取号后等候四十多分钟未被叫号，要求增开窗口",
                        "status": "handling",
                    },
                )
            )
        if fee_case is not None:
            case = next(r[3] for r in self.records if r[1] == "case" and r[2] == fee_case)
            items.append(
                (
                    self.at(self.wd(-1), 19, 42),
                    {
                        "window_id": case["window_id"],
                        "case_id": fee_case,
                        "channel": "web",
                        "about_at": case["stages"][1]["at"],
                        "summary": f"民心网留言：办理业务被收取{case['fee_charged']}元，与公示收费标准不符，要求退还",
                        "status": "open",
                    },
                )
            )
        if self.bad_reviews:
            at, win = self.bad_reviews[-1]
            items.append(
                (
                    at + timedelta(minutes=6),
                    {
                        "window_id": win,
                        "case_id": None,
                        "channel": "onsite",
                        "about_at": self.iso(at - timedelta(minutes=15)),
                        "summary": "现场反映窗口工作人员态度生硬，未一次性告知所需材料",
                        "status": "closed",
                    },
                )
            )
        items.append(
            (
                self.at(self.wd(-2), 14, rng.randint(0, 50)),
                {
                    "window_id": None,
                    "case_id": None,
                    "channel": "phone",
                    "about_at": None,
                    "summary": "来电询问社会保障卡申领进度，希望加快制卡",
                    "status": "closed",
                },
            )
        )
        for received, data in items:
            if received > now:
                continue
            local = received.astimezone(self.zone).date()
            qid = f"CP-{local:%Y%m%d}-{self.next_no('complaint', local):02d}"
            self.emit("complaint", qid, {"hall_id": main, **data, "received_at": self.iso(received)}, received)

    def run(self, days: int) -> list[tuple[datetime, str, str, dict[str, Any]]]:
        last = self.day if self.cal.is_workday(self.day) else self.wd(-1)
        workdays = [self.cal.add_workdays(last, -i) for i in range(days - 1, -1, -1)]
        for d in workdays:
            self.day_activity(d)
        self.vacancies(workdays)
        planted = self.scenarios()
        self.complaints(planted.get("fee_mismatch"))
        return self.records
