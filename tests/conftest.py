"""Shared fixtures: every test gets its own data folder; nothing touches the user's."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ci import unavailable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


_FD_DIR = Path("/proc/self/fd")
_SETTLE_S = 5.0  # what a test's threads and files get to end after it (joins, closes in flight)


def _open_fds() -> set[tuple[int, str]]:
    """This process's open file descriptors, each with what it points at (empty where /proc is missing)."""
    if not _FD_DIR.is_dir():
        return set()
    out = set()
    for entry in os.listdir(_FD_DIR):
        try:
            out.add((int(entry), os.readlink(_FD_DIR / entry)))
        except OSError:  # closed meanwhile (the listing's own descriptor among them)
            continue
    return out


# Qt's own worker pools (image conversion and scaling run on a pool whose threads wait 30 s before
# they exit) keep an event-dispatcher eventfd pair per thread: the library's, not the test's.
_QT_POOL_FD = "anon_inode:[eventfd]"


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_files(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves any thread of its own running (daemon or not) or any file descriptor of
    its own open: every service, server, store and file a test starts must end within it.

    Defined first so it is set up before, and checked after, every other function-scoped fixture;
    what wider-scoped fixtures hold is already there when the test begins.
    """
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    deadline = time.monotonic() + _SETTLE_S
    threads = [t for t in threading.enumerate() if t not in threads_before]
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    threads = [t for t in threads if t.is_alive()]
    qt = "qapp" in request.fixturenames or "qtbot" in request.fixturenames

    def leaked() -> set[tuple[int, str]]:
        return {(fd, t) for fd, t in _open_fds() - fds_before if not (qt and t == _QT_POOL_FD)}

    fds = leaked()
    while fds and time.monotonic() < deadline:
        time.sleep(0.05)  # a close in flight on another thread (a server's socket after its join)
        fds = leaked()
    problems = []
    if threads:
        problems.append("threads still running: " + ", ".join(
            f"{t.name}{' (daemon)' if t.daemon else ''}" for t in threads))
    if fds:
        problems.append("file descriptors still open: " + ", ".join(f"{fd} -> {target}" for fd, target in sorted(fds)))
    assert not problems, "the test left " + "; ".join(problems)


@pytest.fixture(autouse=True)
def _isolated_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the user's data and config folders into the test's tmp folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    yield


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
