"""``python -m sync.server``: load, add-terminal (token on stdout, only its hash stored), new-epoch, serve."""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from supervision.demo import HALL_PATH
from sync.server.__main__ import main
from sync.server.store import CentralStore

ROOT = Path(__file__).resolve().parents[3]


def run(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sync.server", *args, "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def cli(capsys: pytest.CaptureFixture[str], *args: str, db: Path) -> tuple[int, str, str]:
    """The same command in this process (quicker than a subprocess)."""
    code = main([*args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def test_load_add_terminal_and_new_epoch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "server.db"
    code, out, _ = cli(capsys, "load", str(HALL_PATH), db=db)
    assert code == 0
    assert json.loads(out) == {"file": str(HALL_PATH), "published": 118, "last_seq": 118}

    r = run("add-terminal", "--name", "ws-01", "--role", "operator", "--scope", "org-liaoning", db=db)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert r.stdout == token + "\n" and len(token) >= 40
    assert token not in r.stderr
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("server.db"))
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored

    store = CentralStore(db)
    try:
        term = store.authenticate(token)
        assert term is not None and (term.name, term.role, term.scope) == ("ws-01", "operator", "org-liaoning")
        old = store.epoch
    finally:
        store.close()
    code, out, _ = cli(capsys, "new-epoch", db=db)
    assert code == 0
    assert out.strip() != old and len(out.strip()) == 32

    code, out, _ = cli(capsys, "add-terminal", "--name", "ws-02", "--role", "operator", "--scope", "org-x", db=db)
    assert code == 1 and out == ""
    assert "no org unit 'org-x'" in caplog.text
    with pytest.raises(SystemExit) as e:
        main(["add-terminal", "--name", "ws-02", "--role", "boss", "--scope", "org-liaoning"])
    assert e.value.code == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"changes": [{"type": "window", "id": "w", "op": "upsert", "data": {}}]}))
    code, _, _ = cli(capsys, "load", str(bad), db=db)
    assert code == 1 and "changes[0] (window 'w'): data.hall_id: Field required" in caplog.text


def test_serve_until_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "server.db"
    store = CentralStore(db)
    store.publish(json.loads(HALL_PATH.read_bytes())["changes"])
    store.close()
    token = run("add-terminal", "--name", "ws", "--role", "leader", "--scope", "org-anshan", db=db).stdout.strip()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "sync.server", "--db", str(db), "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:  # until the server listens (each probe closed at once: no socket left to the GC)
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        with requests.Session() as session:
            session.trust_env = False
            r = session.get(f"http://127.0.0.1:{port}/api/v1/changes",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert r.status_code == 200
        assert {c["id"] for c in r.json()["changes"] if c["type"] == "org_unit"} == {
            "org-anshan", "hall-anshan", "org-tiedong", "hall-tiedong"}
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == ""
    assert token not in err
