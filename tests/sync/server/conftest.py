"""Fixtures for the reference server: a small two-county hall, stores on SQLite (and PostgreSQL),
a server on loopback, and a thin HTTP client per terminal."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from supervision import demo
from sync.server.store import CentralStore
from sync.server.testing import ServerThread

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)  # a Wednesday; the instant the small hall describes


def iso(t: datetime) -> str:
    return t.isoformat()


def rule_set_data() -> dict[str, Any]:
    for c in demo.load_hall()["changes"]:
        if c["type"] == "rule_set":
            return copy.deepcopy(c["data"])
    raise AssertionError("the demo hall has no rule set")


def up(rtype: str, rid: str, **data: Any) -> dict[str, Any]:
    return {"type": rtype, "id": rid, "op": "upsert", "data": data}


def case(cid: str, window: str, accepted: datetime, *, case_type: str = "ct-1") -> dict[str, Any]:
    return up(
        "case",
        cid,
        case_type_id=case_type,
        window_id=window,
        ticket_id=None,
        applicant="王**",
        submitted_at=iso(accepted - timedelta(minutes=5)),
        status="in_progress",
        stages=[
            {"stage": "submitted", "at": iso(accepted - timedelta(minutes=5)), "by": "王**"},
            {"stage": "accepted", "at": iso(accepted), "by": "李丽"},
        ],
        suspensions=[],
        fee_charged="0",
        completed_at=None,
    )


def small_hall() -> list[dict[str, Any]]:
    """Province → city → counties A and B, one hall each; a window, camera, an overdue case and
    a long-waiting ticket in each hall (warnings in force at ``T0``)."""
    out = [
        up("org_unit", "org-p", name="辽宁省", parent_id=None, level="province"),
        up("org_unit", "org-c", name="鞍山市", parent_id="org-p", level="city"),
        up("org_unit", "org-a", name="铁东区", parent_id="org-c", level="county"),
        up("org_unit", "hall-a", name="铁东区政务服务中心", parent_id="org-a", level="hall"),
        up("org_unit", "org-b", name="铁西区", parent_id="org-c", level="county"),
        up("org_unit", "hall-b", name="铁西区政务服务中心", parent_id="org-b", level="hall"),
        up("case_type", "ct-1", code="X-1", name="企业设立登记", department="市场监督管理局",
           legal_days=20, promised_days=5, fee="0", immediate=False),
        up("rule_set", "default", **rule_set_data()),
    ]
    for h in ("a", "b"):
        out += [
            up("window", f"win-{h}1", hall_id=f"hall-{h}", number=f"{h.upper()}01", name="综合窗口",
               department="市场监督管理局"),
            up("camera", f"cam-{h}1", hall_id=f"hall-{h}", window_id=f"win-{h}1", name="窗口摄像机",
               stream_url=f"synthetic://window/{h}1", sub_stream_url=None),
            # accepted 2026-11-02: promised due 11-09, overdue from 11-10, legal due 11-30
            case(f"C-{h}1", f"win-{h}1", datetime(2026, 11, 2, 9, 0, tzinfo=TZ)),
            up("ticket", f"T-{h}1", hall_id=f"hall-{h}", number=f"{h.upper()}001", case_type_id="ct-1",
               issued_at=iso(T0 - timedelta(minutes=45)), called_at=None, window_id=None, status="waiting"),
        ]
    return out


def ack(aid: str, key: str, *, at: datetime = T0, by: str = "张三", note: str = "") -> dict[str, Any]:
    return {"id": aid, "type": "warning.acknowledge", "warning": key, "by": by, "at": iso(at), "note": note}


def dispose(aid: str, key: str, *, at: datetime = T0, by: str = "张三", measure: str = "supervise",
            note: str = "已督办") -> dict[str, Any]:
    return {"id": aid, "type": "warning.dispose", "warning": key, "by": by, "at": iso(at), "measure": measure,
            "note": note}


class Api:
    """One terminal talking to the server over HTTP."""

    def __init__(self, base: str, token: str, *, verify: bool | str = True) -> None:
        self.base = base + "/api/v1"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.verify = verify
        # REQUESTS_CA_BUNDLE and proxies from the environment would override `verify` and loopback
        self.session.trust_env = False

    def changes(self, cursor: str | None = None, limit: int | None = None) -> requests.Response:
        params: dict[str, Any] = {}
        if cursor is not None:
            params["cursor"] = cursor
        if limit is not None:
            params["limit"] = limit
        return self.session.get(self.base + "/changes", params=params, timeout=10)

    def pull_all(self, cursor: str | None = None, limit: int = 500) -> tuple[list[dict[str, Any]], str]:
        """Every change after ``cursor``, page by page; (changes, the last next_cursor)."""
        out: list[dict[str, Any]] = []
        while True:
            r = self.changes(cursor, limit)
            assert r.status_code == 200, r.text
            page = r.json()
            out += page["changes"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                assert cursor is not None
                return out, cursor

    def actions(self, actions: list[Any], terminal: str = "ws-01") -> requests.Response:
        return self.session.post(self.base + "/actions", json={"terminal": terminal, "actions": actions}, timeout=30)

    def heartbeat(self, **body: Any) -> requests.Response:
        return self.session.post(self.base + "/heartbeat", json={"terminal": "ws-01", **body}, timeout=10)

    def close(self) -> None:
        self.session.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CentralStore]:
    s = CentralStore(tmp_path / "server.db")
    yield s
    s.close()


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CentralStore]:
    """The store on SQLite, then on a fresh PostgreSQL database."""
    url = str(tmp_path / "server.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    s = CentralStore(url)
    yield s
    s.close()


@pytest.fixture
def hall(store: CentralStore) -> CentralStore:
    store.publish(small_hall())
    return store


@pytest.fixture
def server(hall: CentralStore) -> Iterator[ServerThread]:
    with ServerThread(hall) as srv:
        yield srv


@pytest.fixture
def api(server: ServerThread) -> Iterator[Any]:
    """``api(role, scope)`` → an ``Api`` for a new terminal; all closed at the end."""
    made: list[Api] = []

    def make(role: str = "operator", scope: str = "org-p", name: str = "ws-01") -> Api:
        a = Api(server.url, server.store.add_terminal(name, role, scope))
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()
