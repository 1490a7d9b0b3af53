"""``python main.py sync --once`` as an admin or a script runs it, and (c): the process killed at
every step of a round (push, heartbeat, pull, resync) and run again — nothing lost, nothing twice.

``tests/sync/paused_sync.py`` runs the same round with the engine's injected checkpoint blocking at a
named step and saying so on stderr; the test then SIGKILLs it there, mid-transaction where the step
is inside one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from supervision import lifecycle
from supervision.store import open_store
from sync.client import SyncClient
from sync.engine import STEPS, SyncEngine
from tests.sync.actions import queue_bookmarks
from tests.sync.conftest import NOW, SH
from tests.sync.oracle import assert_converged

ROOT = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, url: str, *, token: str | None = None) -> Path:
    p = tmp_path / "hallwatch.toml"
    text = f'[terminal]\nname = "ws-01"\noperator = "张三"\n\n[server]\nurl = "{url}"\ninterval = 1\n'
    if token is not None:
        text += f'token = "{token}"\n'
    p.write_text(text, encoding="utf-8")
    return p


def sync_once(data: Path, cfg: Path, token: str | None, *extra: str, pause: str | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "HALLWATCH_TOKEN"}
    if token is not None:
        env["HALLWATCH_TOKEN"] = token
    if pause is not None:
        command = [sys.executable, "-m", "tests.sync.paused_sync", pause, "--data", str(data), "--config", str(cfg)]
    else:
        command = [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--config", str(cfg), "sync", "--once",
                   *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_sync_once_reports_what_it_did(tmp_path: Path, central: Any, server: Any, token: str) -> None:
    data = tmp_path / "data"
    code, out, err = finish(sync_once(data, config(tmp_path, server.url), token))
    assert code == 0, err
    assert "pulled " in out and " upserted" in out and "pushed 0 actions" in out and "clock offset: " in out
    assert token not in out + err
    log = (data / "logs" / "hallwatch.log").read_text(encoding="utf-8")
    assert "sync round" in log and token not in log
    store = open_store(data / "hallwatch.db")
    try:
        ids = queue_bookmarks(store, 3, camera_id="cam-A01", at=NOW)
    finally:
        store.close()
    code, out, err = finish(sync_once(data, config(tmp_path, server.url, token=token), None, "--json"))
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] and report["pushed"] == {"applied": 3} and report["pending_actions"] == 0
    store = open_store(data / "hallwatch.db")
    try:
        assert_converged(central, store, ids, token=token)
    finally:
        store.close()


def test_sync_once_usage_and_failure_exit_codes(tmp_path: Path, central: Any, server: Any, token: str) -> None:
    data = tmp_path / "data"
    no_server = tmp_path / "empty.toml"
    no_server.write_text("", encoding="utf-8")
    code, _, err = finish(sync_once(data, no_server, token))
    assert code == 2 and "no server configured" in err
    code, _, err = finish(sync_once(data, config(tmp_path, server.url), None))
    assert code == 2 and "HALLWATCH_TOKEN" in err
    code, out, err = finish(sync_once(data, config(tmp_path, server.url), "wrong-token"))
    assert code == 1 and "new token" in err and "wrong-token" not in out + err
    code, _, err = finish(sync_once(data, config(tmp_path, "http://127.0.0.1:9"), token))
    assert code == 1 and "cannot reach the server" in err and token not in err


CASES = [(step, False) for step in STEPS if step != "resync.marked"] + [
    ("resync.marked", True),
    ("pull.applying", True),
    ("pull.committed", True),
]


@pytest.mark.parametrize(("step", "restored"), CASES, ids=[f"{s}{'-resync' if r else ''}" for s, r in CASES])
def test_killed_at_a_step_then_run_again(
    tmp_path: Path, central: Any, server: Any, token: str, step: str, restored: bool
) -> None:
    data = tmp_path / "data"
    cfg = config(tmp_path, server.url)
    store = open_store(data / "hallwatch.db")
    try:  # the first sync in this process: the subprocesses are for the kill and the rerun
        with SyncClient(server.url, token) as client:
            assert SyncEngine(store, client, terminal="ws-01", tz=SH).run_once().ok
    finally:
        store.close()
    # Work waiting on both sides: actions in the outbox, changes on the server (and maybe a new epoch).
    store = open_store(data / "hallwatch.db")
    try:
        keys = [v.key for v in lifecycle.warnings_at(store, NOW, SH) if not v.key.endswith("POST_LEFT")][:2]
        ids = [lifecycle.acknowledge(store, k, by="张三", terminal="ws-01", at=NOW, tz=SH) for k in keys]
        ids += queue_bookmarks(store, 3, camera_id="cam-A01", at=NOW)
    finally:
        store.close()
    tickets = list(central.current("ticket").items())[:600]  # two pages of changes
    central.publish(
        [{"type": "ticket", "id": t, "op": "upsert", "data": {**d, "status": "done"}} for (_, t), (_, d) in tickets]
    )
    if restored:
        central.new_epoch()

    proc = sync_once(data, cfg, token, pause=step)
    paused = threading.Event()
    lines: list[str] = []

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if f"sync paused at step {step}" in line:
                paused.set()

    reader = threading.Thread(target=watch, name="stderr-reader")
    reader.start()
    try:
        assert paused.wait(60), f"never reached {step}: {''.join(lines)[-2000:]}"
    finally:
        proc.kill()
        proc.wait(30)
        reader.join(10)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == -9

    code, out, err = finish(sync_once(data, cfg, token))
    assert code == 0, err + out
    store = open_store(data / "hallwatch.db")
    try:
        assert_converged(central, store, ids, token=token)
    finally:
        store.close()
