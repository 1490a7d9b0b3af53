"""Fixtures for the sync tests: the reference server on 127.0.0.1 over real HTTP, with the demo
hall (and a few days of its activity) published, and a terminal's own store."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supervision import demo
from supervision.store import Store, open_store
from sync.client import SyncClient
from sync.engine import SyncEngine

ROOT = Path(__file__).resolve().parents[2]
HALL = ROOT / "resources" / "demo" / "hall.json"
SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=SH)  # the instant the demo activity describes
TOP_ORG = "org-liaoning"  # the province: a terminal scoped here sees every record


def publishable(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A changes body's entries as ``CentralStore.publish`` takes them (the server assigns seq/version)."""
    return [{"type": c["type"], "id": c["id"], "op": c["op"], "data": c.get("data")} for c in changes]


def hall_changes() -> list[dict[str, Any]]:
    return publishable(json.loads(HALL.read_text(encoding="utf-8"))["changes"])


def activity_changes() -> list[dict[str, Any]]:
    """Five working days of the demo hall's activity up to DAY 10:30 (the hall itself excluded)."""
    hall = {(c["type"], c["id"]) for c in hall_changes()}
    return [c for c in publishable(demo.generate(DAY, now=NOW)["changes"]) if (c["type"], c["id"]) not in hall]


@pytest.fixture(scope="session")
def central_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A server database with the demo hall and its activity published, made once and copied per test."""
    from sync.server.store import CentralStore

    path = tmp_path_factory.mktemp("central") / "template.db"
    store = CentralStore(str(path))
    try:
        store.publish(hall_changes())
        store.publish(activity_changes())
    finally:
        store.close()
    return path


@pytest.fixture
def central(tmp_path: Path, central_template: Path) -> Iterator[Any]:
    """The reference server's store (SQLite): the demo hall and five days of its activity."""
    from sync.server.store import CentralStore

    target = tmp_path / "central.db"
    src, dst = sqlite3.connect(central_template), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    store = CentralStore(str(target))
    try:
        yield store
    finally:
        store.close()


@pytest.fixture
def server(central: Any) -> Iterator[Any]:
    from sync.server.testing import ServerThread

    with ServerThread(central) as srv:
        yield srv


@pytest.fixture
def token(central: Any) -> str:
    return str(central.add_terminal("ws-01", "operator", TOP_ORG))


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Store]:
    store = open_store(tmp_path / "terminal" / "hallwatch.db")
    try:
        yield store
    finally:
        store.close()


def fast_client(url: str, token: str, **kw: Any) -> SyncClient:
    """A client with the production rules but test-sized waits."""
    kw.setdefault("backoff_base", 0.02)
    kw.setdefault("backoff_max", 0.2)
    kw.setdefault("connect_timeout", 2.0)
    kw.setdefault("read_timeout", 10.0)
    return SyncClient(url, token, **kw)


@pytest.fixture
def make_engine() -> Iterator[Callable[..., SyncEngine]]:
    """``make_engine(store, url, token, **engine_kw)``; clients are closed and engines stopped after."""
    made: list[SyncEngine] = []

    def make(store: Store, url: str, token: str, *, client_kw: dict[str, Any] | None = None, **kw: Any) -> SyncEngine:
        kw.setdefault("terminal", "ws-01")
        kw.setdefault("tz", SH)
        engine = SyncEngine(store, fast_client(url, token, **(client_kw or {})), **kw)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.stop()
        engine.client.close()
