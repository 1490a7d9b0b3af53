"""Shared fixtures: every test gets its own data folder; nothing touches the user's."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ci import unavailable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the user's data and config folders into the test's tmp folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield


@pytest.fixture(autouse=True)
def _no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (every service must stop within the test)."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
    for t in leaked:
        t.join(timeout=2)
    leaked = [t for t in leaked if t.is_alive()]
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def postgres_base_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (skipped where the server is not installed)."""
    from tests.postgres import postgres_server

    try:
        cm = postgres_server()
        url = cm.__enter__()
    except FileNotFoundError as e:
        unavailable(str(e), "PostgreSQL")  # CI installs the server: missing is a failure there
    try:
        yield url
    finally:
        cm.__exit__(None, None, None)


@pytest.fixture
def postgres_url(postgres_base_url: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the session's server."""
    import re
    import uuid

    from sqlalchemy import create_engine, text

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    admin = create_engine(f"{postgres_base_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{postgres_base_url}/{name}"
