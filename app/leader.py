"""The leader terminal (领导端): the figures of a token's scope, and a terminal that keeps them current.

A leader terminal syncs with a ``leader`` token, whose scope is one org unit: the server sends only
the records inside it. :class:`LeaderTerminal` is the slim composition a leader runs — its own
store, the sync engine and the warning monitor; no camera is opened (a leader cannot reach the hall
cameras: it watches what the workstations relay), nothing records and no action can be taken (the
server would refuse a leader's ``warning.*`` anyway).

:func:`leader_figures` reads the store once (on a worker: seconds over a city's cases) and gives a
frozen :class:`LeaderFigures`: for every org unit of the jurisdiction tree (province → city →
county → township → hall, each rolled up from the halls below it) the open cases, the undisposed
reds and yellows in force (from the monitor's snapshot), the on-time rate and satisfaction of the
month (``supervision.performance``, the scores the operator's panel shows), the tickets waiting and
the longest wait, and the unit's light; the ranking of halls and departments; trends by day, week and
month; the reds in force with every action taken on them (who, when, how); and the terminals in
scope with whether they were heard from lately.

The relay helpers (:func:`relay_cameras`, :func:`stream_url`) find the cameras a workstation relays:
``GET <relay_url>`` lists them (the built-in relay); an HLS base (``<base>/<id>/index.m3u8``) or an
RTMP base (``rtmp://…/<id>``) has no list, so the hall's camera records name them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app import runtime
from app.lock import TerminalLock
from app.relay_push import CAMERA_ID
from app.relay_push import stream_url as pushed_stream_url
from app.service import ServiceGroup
from app.sync import SyncService, make_client, make_engine
from supervision import performance as perf
from supervision.config import Config
from supervision.duedates import end_of_day, local_date
from supervision.ingest import ApplyReport
from supervision.lifecycle import State, WarningView
from supervision.rules import DerivedWarning, Evaluator, Level
from supervision.store import Store
from supervision.store.models import (
    CameraRow,
    CaseRow,
    CaseTypeRow,
    DispositionRow,
    EvaluationRow,
    OrgUnit,
    TerminalRow,
    TicketRow,
    Window,
)
from sync.engine import HeartbeatInfo, SyncStatus

__all__ = [
    "LEVELS",
    "ONLINE_WITHIN",
    "Action",
    "HallCamera",
    "LeaderFigures",
    "LeaderStatus",
    "LeaderTerminal",
    "RankRow",
    "RedItem",
    "RelayCamera",
    "RelayError",
    "TerminalInfo",
    "TrendPoint",
    "UnitFigures",
    "hall_cameras",
    "leader_figures",
    "relay_cameras",
    "stream_url",
]

log = logging.getLogger(__name__)

LEVELS = ("province", "city", "county", "township", "hall")
OPEN_STATUSES = ("submitted", "accepted", "in_progress", "suspended")
ONLINE_WITHIN = timedelta(minutes=3)  # the server republishes a terminal's record every minute it is heard
TREND_BUCKETS = {"day": 14, "week": 12, "month": 12}
CHUNK = 5_000  # cases read and judged at a time
_LIGHT_RANK = {"green": 0, "notice": 1, "yellow": 2, "red": 3}


# -- the figures -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One org unit of the jurisdiction tree, its figures rolled up from every hall below it."""

    id: str
    name: str
    level: str  # province, city, county, township, hall (or "" when the record says none)
    parent_id: str | None  # None at the top of the scope
    depth: int  # 0 at the top of the scope
    open_cases: int
    red: int  # undisposed reds in force
    yellow: int  # undisposed yellows in force
    completed: int  # cases completed this month
    on_time_rate: float | None  # of the cases completed this month
    evaluations: int
    satisfaction: float | None  # share of this month's evaluations graded 4 or 5
    score: float
    waiting: int  # tickets waiting now
    longest_wait_s: float
    light: str  # green, notice, yellow, red: the worst light of its windows
    windows: int


@dataclass(frozen=True, slots=True)
class RankRow:
    id: str  # org unit id, or the department's name
    name: str
    score: float
    on_time_rate: float | None
    satisfaction: float | None
    yellow: int  # cards raised this month
    red: int
    completed: int


@dataclass(frozen=True, slots=True)
class TrendPoint:
    start: date  # the bucket's first local day
    completed: int
    on_time_rate: float | None
    evaluations: int
    satisfaction: float | None
    yellow: int  # cards first raised in the bucket
    red: int


@dataclass(frozen=True, slots=True)
class Action:
    """One accepted action on a warning (a ``disposition`` record)."""

    action: str  # warning.acknowledge, warning.dispose
    measure: str | None  # supervise, correct, explain
    by: str
    at: datetime | None
    note: str
    terminal: str


@dataclass(frozen=True, slots=True)
class RedItem:
    """A red in force: what, where, since when, its state and everything done about it."""

    key: str
    code: str
    subject: str
    subject_type: str
    window: str  # "A01 企业开办综合窗口" or ""
    department: str
    hall_id: str
    hall: str
    since: datetime
    state: str  # active, acknowledged, disposed
    actions: tuple[Action, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class TerminalInfo:
    id: str
    name: str
    role: str
    relay_url: str | None
    last_seen: datetime | None
    online: bool


@dataclass(frozen=True, slots=True)
class LeaderFigures:
    """Everything the leader's screen shows, computed at ``at``; a value, safe across threads."""

    at: datetime
    month_start: date
    root: str | None  # the top of the scope (None: nothing synced yet)
    units: tuple[UnitFigures, ...]  # the tree, depth first (a parent before its children)
    halls: tuple[RankRow, ...]  # best score first
    departments: tuple[RankRow, ...]
    trends: Mapping[str, tuple[TrendPoint, ...]]  # "day", "week", "month": oldest first
    reds: tuple[RedItem, ...]  # undisposed first, then oldest first
    terminals: tuple[TerminalInfo, ...]
    generation: int  # of the warning snapshot the counts come from
    hall_names: Mapping[str, str] = field(default_factory=dict)
    unit_trends: Mapping[str, Mapping[str, tuple[TrendPoint, ...]]] = field(default_factory=dict)  # per unit

    def trends_of(self, unit_id: str | None) -> Mapping[str, tuple[TrendPoint, ...]]:
        """The trends of a unit of the tree (the top of the scope, or an unknown unit: the whole scope's)."""
        if unit_id is None or unit_id == self.root:
            return self.trends
        return self.unit_trends.get(unit_id, self.trends)

    def unit(self, unit_id: str | None) -> UnitFigures | None:
        for u in self.units:
            if u.id == unit_id:
                return u
        return None

    def children(self, unit_id: str | None) -> list[UnitFigures]:
        return [u for u in self.units if u.parent_id == unit_id]

    def halls_below(self, unit_id: str | None) -> list[str]:
        """The halls in the subtree of ``unit_id`` (itself when it is one)."""
        out: list[str] = []
        todo = [unit_id]
        while todo:
            uid = todo.pop()
            u = self.unit(uid)
            if u is not None and u.level == "hall":
                out.append(u.id)
            todo.extend(c.id for c in self.children(uid))
        return out


class _Tally:
    __slots__ = ("light", "longest", "open", "red", "waiting", "windows", "yellow")

    def __init__(self) -> None:
        self.open = self.red = self.yellow = self.waiting = self.windows = 0
        self.longest = 0.0
        self.light = "green"

    def add(self, o: _Tally) -> None:
        self.open += o.open
        self.red += o.red
        self.yellow += o.yellow
        self.waiting += o.waiting
        self.windows += o.windows
        self.longest = max(self.longest, o.longest)
        if _LIGHT_RANK[o.light] > _LIGHT_RANK[self.light]:
            self.light = o.light


def _buckets(kind: str, today: date, n: int) -> list[date]:
    """The first days of the last ``n`` buckets up to the one holding ``today`` (oldest first)."""
    if kind == "day":
        return [today - timedelta(days=i) for i in range(n - 1, -1, -1)]
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return [monday - timedelta(weeks=i) for i in range(n - 1, -1, -1)]
    out, y, m = [], today.year, today.month
    for _ in range(n):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _total(report: perf.Report) -> perf.Performance:
    t = perf.Performance()
    for p in report.windows.values():
        t.completed += p.completed
        t.on_time += p.on_time
        t.evaluations += p.evaluations
        t.satisfied += p.satisfied
        t.bad_reviews.extend(p.bad_reviews)
        t.yellow += p.yellow
        t.red += p.red
    return t


def _light_name(level: Any) -> str:
    name = str(level) if level is not None else "green"
    return name if name in _LIGHT_RANK else "green"


def leader_figures(
    s: Session,
    tz: ZoneInfo,
    now: datetime,
    views: Sequence[WarningView],
    by_window: Mapping[str, Any],
    *,
    wall_now: datetime | None = None,
    generation: int = 0,
    chunk: int = CHUNK,
) -> LeaderFigures:
    """The scope's figures from the store at ``now`` (the terminal's clock); ``views`` and
    ``by_window`` from the warning monitor's snapshot; ``wall_now``: the server's time as this
    terminal estimates it, against which terminals' ``last_seen`` is judged (default ``now``)."""
    wall = wall_now or now
    today = local_date(now, tz)
    month_start = today.replace(day=1)

    # -- the tree ---------------------------------------------------------------------------------
    orgs = {o.id: o for o in s.scalars(sa.select(OrgUnit).where(OrgUnit.deleted.is_(False)))}
    windows = {w.id: w for w in s.scalars(sa.select(Window).where(Window.deleted.is_(False)))}
    children: dict[str | None, list[str]] = {}
    for o in orgs.values():
        parent = o.parent_id if o.parent_id in orgs else None
        children.setdefault(parent, []).append(o.id)
    level_order = {lvl: i for i, lvl in enumerate(LEVELS)}
    for kids in children.values():
        kids.sort(key=lambda i: (level_order.get(orgs[i].level or "", 9), orgs[i].name or i, i))
    roots = children.get(None, [])
    root = roots[0] if len(roots) == 1 else None

    def hall_of_window(wid: str | None) -> str | None:
        w = windows.get(wid or "")
        return w.hall_id if w is not None and w.hall_id in orgs else None

    own: dict[str | None, _Tally] = {}  # per hall (None: in scope, hall unknown)

    def at_unit(uid: str | None) -> _Tally:
        t = own.get(uid)
        if t is None:
            t = own[uid] = _Tally()
        return t

    for w in windows.values():
        t = at_unit(hall_of_window(w.id))
        t.windows += 1
        light = _light_name(by_window.get(w.id))
        if _LIGHT_RANK[light] > _LIGHT_RANK[t.light]:
            t.light = light

    # open cases per window
    for wid, n in s.execute(sa.select(CaseRow.window_id, sa.func.count()).where(
            CaseRow.deleted.is_(False), CaseRow.status.in_(OPEN_STATUSES)).group_by(CaseRow.window_id)):
        at_unit(hall_of_window(wid)).open += int(n)

    # tickets waiting, per hall
    ticket_hall: dict[str, str | None] = {}
    for tid, hall, issued in s.execute(sa.select(TicketRow.id, TicketRow.hall_id, TicketRow.issued_at).where(
            TicketRow.deleted.is_(False), TicketRow.status == "waiting")):
        t = at_unit(hall if hall in orgs else None)
        t.waiting += 1
        if issued is not None:
            t.longest = max(t.longest, (now - issued).total_seconds())
        ticket_hall[tid] = hall

    # reds and yellows in force, undisposed
    case_window: dict[str, str | None] = {}
    need_cases = [v.warning.subject for v in views if v.warning.subject_type == "case" and v.warning.window_id is None]
    for i in range(0, len(need_cases), 500):
        q = sa.select(CaseRow.id, CaseRow.window_id).where(CaseRow.id.in_(need_cases[i:i + 500]))
        for cid, wid in s.execute(q):
            case_window[cid] = wid
    need_tickets = [v.warning.subject for v in views
                    if v.warning.subject_type == "ticket" and v.warning.window_id is None
                    and v.warning.subject not in ticket_hall]
    for i in range(0, len(need_tickets), 500):
        q = sa.select(TicketRow.id, TicketRow.hall_id).where(TicketRow.id.in_(need_tickets[i:i + 500]))
        for tid, hall in s.execute(q):
            ticket_hall[tid] = hall

    def hall_of_warning(w: DerivedWarning) -> str | None:
        if w.window_id is not None:
            return hall_of_window(w.window_id)
        if w.subject_type == "ticket":
            h = ticket_hall.get(w.subject)
            return h if h in orgs else None
        if w.subject_type == "case":
            return hall_of_window(case_window.get(w.subject))
        return hall_of_window(w.subject)  # a window

    reds: list[WarningView] = []
    for v in views:
        lvl = v.warning.level
        if lvl is Level.RED:
            reds.append(v)
        if v.state is State.DISPOSED or lvl is Level.NOTICE:
            continue
        t = at_unit(hall_of_warning(v.warning))
        if lvl is Level.RED:
            t.red += 1
        else:
            t.yellow += 1

    # roll the tallies up the tree
    rolled: dict[str | None, _Tally] = {}

    def roll(uid: str) -> _Tally:
        t = _Tally()
        mine = own.get(uid)
        if mine is not None:
            t.add(mine)
        for c in children.get(uid, []):
            t.add(roll(c))
        rolled[uid] = t
        return t

    for r in roots:
        roll(r)
    stray = own.get(None)  # in scope, but on no known hall: counted at the top
    if stray is not None and root is not None:
        rolled[root].add(stray)

    # -- performance: this month, and the trends ------------------------------------------------------
    first_days = {kind: _buckets(kind, today, n) for kind, n in TREND_BUCKETS.items()}
    earliest = min(min(d[0] for d in first_days.values()), month_start)
    keep_from = end_of_day(earliest - timedelta(days=1), tz)
    t_end = end_of_day(today, tz)
    ev, best = perf.judge_in_chunks(s, tz, now, keep_from, t_end, chunk=chunk)
    dept = {wid: w.department or "" for wid, w in windows.items()}
    chains: dict[str, list[str]] = {}
    for wid, w in windows.items():
        chain: list[str] = []
        node, seen = w.hall_id, set()
        while node is not None and node in orgs and node not in seen:
            seen.add(node)
            chain.append(node)
            node = orgs[node].parent_id
        chains[wid] = chain
    evals = [(r.id, r.window_id or "", r.at, r.grade or 0)
             for r in s.scalars(sa.select(EvaluationRow).where(EvaluationRow.deleted.is_(False))) if r.at is not None]
    records = list(best.values())

    def report(a: date, b: date) -> perf.Report:
        """Performance over the local days ``[a, b)``, up to now."""
        return perf.compute(ev, end_of_day(a - timedelta(days=1), tz), min(end_of_day(b - timedelta(days=1), tz), now),
                            evaluations=evals, warnings=records, window_department=dept, window_org_units=chains)

    month = report(month_start, today + timedelta(days=1))
    trends: dict[str, tuple[TrendPoint, ...]] = {}
    by_unit: dict[str, dict[str, list[TrendPoint]]] = {}  # unit → kind → points (units with some activity)
    for kind, starts in first_days.items():
        points = []
        for i, a in enumerate(starts):
            b = starts[i + 1] if i + 1 < len(starts) else today + timedelta(days=1)
            rep = report(a, b)
            points.append(_point(a, _total(rep)))
            for uid, p in rep.org_units.items():
                series = by_unit.setdefault(uid, {}).setdefault(kind, [_point(d) for d in starts])
                series[i] = _point(a, p)
        trends[kind] = tuple(points)

    # -- the units --------------------------------------------------------------------------------
    units: list[UnitFigures] = []

    def emit(uid: str, depth: int) -> None:
        o = orgs[uid]
        t = rolled.get(uid) or _Tally()
        p = month.org_units.get(uid) or perf.Performance()
        if depth == 0:
            p = _total(month)  # the top: every case in scope, on a known hall or not
            perf_score(p, ev)
        units.append(UnitFigures(
            id=uid, name=o.name or uid, level=o.level or "", parent_id=o.parent_id if depth else None,
            depth=depth, open_cases=t.open, red=t.red, yellow=t.yellow, completed=p.completed,
            on_time_rate=p.on_time_rate, evaluations=p.evaluations, satisfaction=p.satisfaction, score=p.score,
            waiting=t.waiting, longest_wait_s=t.longest, light=t.light, windows=t.windows))
        for c in children.get(uid, []):
            emit(c, depth + 1)

    for r in roots:
        emit(r, 0)

    def rank(rows: Iterable[RankRow]) -> tuple[RankRow, ...]:
        return tuple(sorted(rows, key=lambda r: (-r.score, -(r.on_time_rate or 0), r.name)))

    halls = rank(
        RankRow(u.id, u.name, p.score, p.on_time_rate, p.satisfaction, p.yellow, p.red, p.completed)
        for u in units if u.level == "hall"
        for p in (month.org_units.get(u.id) or perf.Performance(),)
    )
    departments = rank(
        RankRow(d, d, p.score, p.on_time_rate, p.satisfaction, p.yellow, p.red, p.completed)
        for d, p in month.departments.items() if d
    )

    # -- the red list -----------------------------------------------------------------------------
    keys = [v.key for v in reds]
    acts: dict[str, list[Action]] = {}
    for i in range(0, len(keys), 500):
        dq = sa.select(DispositionRow).where(DispositionRow.deleted.is_(False),
                                             DispositionRow.warning.in_(keys[i:i + 500]))
        for d in s.scalars(dq):
            acts.setdefault(d.warning or "", []).append(
                Action(d.action or "", d.measure, d.by or "", d.at, d.note or "", d.terminal or ""))
    type_dept = dict(s.execute(sa.select(CaseTypeRow.id, CaseTypeRow.department)).all())
    case_type = {}
    case_ids = [v.warning.subject for v in reds if v.warning.subject_type == "case"]
    for i in range(0, len(case_ids), 500):
        case_type.update(dict(s.execute(sa.select(CaseRow.id, CaseRow.case_type_id).where(
            CaseRow.id.in_(case_ids[i:i + 500]))).all()))
    red_items = []
    for v in reds:
        dw = v.warning
        hall = hall_of_warning(dw) or ""
        win = windows.get(dw.window_id or "")
        department = (win.department if win is not None else "") or ""
        if not department and dw.subject_type == "case":
            department = type_dept.get(case_type.get(dw.subject) or "") or ""
        history = sorted(acts.get(dw.key, []), key=lambda a: a.at or datetime.min.replace(tzinfo=UTC))
        red_items.append(RedItem(
            key=dw.key, code=str(dw.code), subject=dw.subject, subject_type=dw.subject_type,
            window=f"{win.number or win.id} {win.name or ''}".strip() if win is not None else "",
            department=department, hall_id=hall, hall=(orgs[hall].name or hall) if hall in orgs else "",
            since=dw.level_since or dw.since, state=str(v.state), actions=tuple(history)))
    red_items.sort(key=lambda r: (r.state == "disposed", r.since, r.key))

    # -- terminals --------------------------------------------------------------------------------
    terminals = tuple(sorted(
        (TerminalInfo(t.id, t.name or t.id, t.role or "", t.relay_url or None, t.last_seen,
                      t.last_seen is not None and wall - t.last_seen <= ONLINE_WITHIN)
         for t in s.scalars(sa.select(TerminalRow).where(TerminalRow.deleted.is_(False)))),
        key=lambda t: (not t.online, t.role != "operator", t.name)))

    # every unit's own trends (the whole scope's are ``trends``); a unit quiet in a period has zeros
    unit_trends = {u.id: {kind: tuple(by_unit.get(u.id, {}).get(kind) or [_point(d) for d in starts])
                          for kind, starts in first_days.items()}
                   for u in units}
    return LeaderFigures(
        at=now, month_start=month_start, root=root, units=tuple(units), halls=halls, departments=departments,
        trends=trends, reds=tuple(red_items), terminals=terminals, generation=generation,
        hall_names={u.id: u.name for u in units if u.level == "hall"}, unit_trends=unit_trends)


def _point(start: date, p: perf.Performance | None = None) -> TrendPoint:
    if p is None:
        return TrendPoint(start, 0, None, 0, None, 0, 0)
    return TrendPoint(start, p.completed, p.on_time_rate, p.evaluations, p.satisfaction, p.yellow, p.red)


def perf_score(p: perf.Performance, ev: Evaluator) -> None:
    """The score of a total (``supervision.performance``'s formula and the rule set's weights)."""
    r = ev.rules
    p.score = max(0.0, 100 - r.weight_yellow * p.yellow - r.weight_red * p.red
                  - r.weight_bad_review * len(p.bad_reviews))


# -- the hall's cameras and the relays ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class HallCamera:
    id: str
    name: str
    window_id: str | None


def hall_cameras(s: Session, hall_id: str) -> list[HallCamera]:
    """The camera records of a hall (what an HLS or RTMP relay base serves), by id."""
    q = sa.select(CameraRow).where(CameraRow.deleted.is_(False), CameraRow.hall_id == hall_id).order_by(CameraRow.id)
    return [HallCamera(c.id, c.name or c.id, c.window_id) for c in s.scalars(q)]


@dataclass(frozen=True, slots=True)
class RelayCamera:
    """A camera a relay serves (``GET /live/`` of the built-in relay)."""

    id: str
    name: str
    window_id: str | None
    codec: str
    width: int
    height: int
    live: bool
    sub: bool = False  # its sub-stream is relayed too (``?stream=sub``: see :func:`stream_url`)


class RelayError(Exception):
    """A relay could not be asked. ``code``: unreachable, unauthorized, forbidden, unavailable, bad_answer;
    the message is English, for the log (never the token)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def relay_kind(relay_url: str) -> str:
    """``"template"`` for a pushed relay's URL template (``{camera_id}`` in it: ``app.relay_push``),
    ``"rtmp"`` for an RTMP base, else ``"relay"`` (the built-in relay, or an HLS base: see
    :func:`relay_cameras`)."""
    if CAMERA_ID in relay_url:
        return "template"
    return "rtmp" if urlsplit(relay_url).scheme.lower() in ("rtmp", "rtmps") else "relay"


def relay_cameras(relay_url: str, token: str, *, timeout: float = 5.0,
                  get: Callable[..., Any] | None = None) -> list[RelayCamera] | None:
    """The cameras the built-in relay at ``relay_url`` lets ``token`` see; None when the URL is a
    base without a list (RTMP, or an HLS web server that does not answer with the JSON list).
    Raises :class:`RelayError` when the relay cannot be asked or refuses."""
    import requests

    if relay_kind(relay_url) != "relay":
        return None  # a pushed relay (nginx-rtmp, an HLS web server or CDN): no list to ask
    fetch = get or requests.get
    try:
        r = fetch(relay_url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout)
    except requests.RequestException as e:
        raise RelayError("unreachable", f"relay {_host(relay_url)} unreachable: {type(e).__name__}") from None
    if r.status_code == 401:
        raise RelayError("unauthorized", f"relay {_host(relay_url)} does not know this terminal's token")
    if r.status_code == 403:
        raise RelayError("forbidden", f"relay {_host(relay_url)} refuses this terminal")
    if r.status_code in (502, 503, 504):
        raise RelayError("unavailable", f"relay {_host(relay_url)} answered {r.status_code}")
    if r.status_code >= 400:
        if r.status_code in (404, 405):
            return None  # a plain web server: an HLS base
        raise RelayError("bad_answer", f"relay {_host(relay_url)} answered {r.status_code}")
    try:
        body = r.json()
    except ValueError:
        return None  # a directory listing or a page: an HLS base
    if not isinstance(body, list):
        raise RelayError("bad_answer", f"relay {_host(relay_url)} sent something other than a camera list")
    out = []
    for item in body:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        out.append(RelayCamera(
            id=item["id"], name=str(item.get("name") or item["id"]),
            window_id=item.get("window_id") if isinstance(item.get("window_id"), str) else None,
            codec=str(item.get("codec") or ""), width=_int(item.get("width")), height=_int(item.get("height")),
            live=bool(item.get("live", True)), sub=item.get("sub") is True))
    return out


def _int(v: object) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or "?" if parts.port is None else f"{parts.hostname}:{parts.port}"


def stream_url(relay_url: str, camera_id: str, token: str, *, listed: bool, stream: str = "main") -> str:
    """Where a camera of ``relay_url`` plays: a pushed relay's template filled in
    (``app.relay_push.stream_url``), ``<relay_url><id>.ts?token=…`` from the built-in relay
    (``listed``: it answered with its list; ``stream="sub"``: its sub-stream, ``&stream=sub``, for a
    camera listed with ``"sub": true``), ``<base>/<id>/index.m3u8`` from an HLS base,
    ``<base>/<id>`` from an RTMP base."""
    kind = relay_kind(relay_url)
    if kind == "template":
        return pushed_stream_url(relay_url, camera_id)
    cid = quote(camera_id, safe="")
    if kind == "rtmp":
        return relay_url.rstrip("/") + "/" + cid
    if listed:
        base = relay_url if relay_url.endswith("/") else relay_url + "/"
        return f"{base}{cid}.ts?token={quote(token, safe='')}" + ("&stream=sub" if stream == "sub" else "")
    return relay_url.rstrip("/") + f"/{cid}/index.m3u8"


# -- the terminal ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LeaderStatus:
    at: datetime
    sync: SyncStatus | None
    warnings: Any  # WarningSnapshot


class LeaderTerminal:
    """A leader's running terminal: its store, the sync engine (a leader token) and the warning
    monitor — no camera, no recording, no action. Holds ``DATA/terminal.lock`` while it runs."""

    def __init__(
        self,
        cfg: Config,
        data_dir: Path,
        *,
        lock: bool = True,
        store: Store | None = None,
        clock: Callable[[], datetime] | None = None,
        sync: bool = True,
    ) -> None:
        from app.monitor import WarningMonitor

        self.cfg = cfg
        self.data_dir = data_dir
        self.command = "leader"
        self.tz = cfg.zone
        self._lock = TerminalLock(data_dir, "leader") if lock else None
        self._own_store = store is None
        self.store: Store = store if store is not None else runtime.open_store(data_dir, cfg)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.monitor = WarningMonitor(self.store, self.tz, interval=cfg.warnings.interval_seconds, clock=self.clock)
        self.sync: SyncService | None = None
        token = cfg.server.effective_token()
        self.token: str | None = token.get_secret_value() if token is not None else None
        if sync and cfg.server.enabled:
            engine = make_engine(cfg, self.store, make_client(cfg), heartbeat_info=self.heartbeat_info,
                                 on_applied=self._applied, tz=self.tz)
            self.sync = SyncService(engine)
        self.services = ServiceGroup([self.monitor])
        if self.sync is not None:
            self.services.add(self.sync)
        self._started = False

    def start(self) -> None:
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.services.start()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._started = True
        log.info("leader terminal started")

    def stop(self, deadline: float | None = None) -> bool:
        deadline = deadline if deadline is not None else time.monotonic() + 10
        ok = self.services.stop(deadline) if self._started else True
        self._started = False
        if self._own_store:
            self.store.close()
        if self._lock is not None:
            self._lock.release()
        return ok

    def __enter__(self) -> LeaderTerminal:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> LeaderStatus:
        """From memory only (GUI-thread safe)."""
        return LeaderStatus(self.clock(), self.sync.status() if self.sync is not None else None,
                            self.monitor.snapshot())

    def wall_now(self) -> datetime:
        """The server's time as this terminal estimates it (``last_seen`` is the server's): the
        engine's clock (the wall clock) plus the offset it measured against the server's — right
        whatever clock the server runs on (an embedded demo's runs on the demo clock)."""
        st = self.sync.status() if self.sync is not None else None
        offset = st.clock_offset_s if st is not None and st.clock_offset_s is not None else 0.0
        return datetime.now(UTC) + timedelta(seconds=offset)

    def heartbeat_info(self) -> HeartbeatInfo:
        counts = self.monitor.snapshot().counts
        return HeartbeatInfo(cameras=[], warnings={"yellow": int(counts.get("yellow_undisposed", 0)),
                                                   "red": int(counts.get("red_undisposed", 0))}, relay_url=None)

    def _applied(self, report: ApplyReport, resynced: bool) -> None:
        if resynced:
            self.monitor.refresh()
        else:
            self.monitor.changed(report.changed)

    def trigger_sync(self) -> None:
        if self.sync is not None:
            self.sync.trigger()

    def figures(self, s: Session) -> LeaderFigures:
        """The scope's figures now (run it on a reader: it reads the whole store)."""
        snap = self.monitor.snapshot()
        return leader_figures(s, self.tz, self.clock(), snap.views, snap.by_window, wall_now=self.wall_now(),
                              generation=snap.generation)
