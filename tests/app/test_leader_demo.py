"""``--demo --role leader``: the embedded demo's workstation relays its cameras, a leader token scoped to
the city is made on the demo server, and a leader terminal syncing with it sees both halls and the relay.
Also ``main.py --demo --role leader screenshot`` end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app.demo import DEMO_LEADER_SCOPE, DEMO_TERMINAL, EmbeddedDemo
from app.leader import LeaderTerminal, relay_cameras
from supervision.config import Config

ROOT = Path(__file__).resolve().parents[2]


def test_the_demo_leader_syncs_the_city_and_finds_the_workstations_relay(tmp_path: Path) -> None:
    demo = EmbeddedDemo(Config(), tmp_path / "data", record=False)
    demo.start()
    leader: LeaderTerminal | None = None
    try:
        cfg = demo.leader_config()
        token = cfg.server.effective_token()
        assert token is not None
        who = demo.central.authenticate(token.get_secret_value())
        assert who is not None and who.role == "leader" and who.scope == DEMO_LEADER_SCOPE == "org-anshan"
        assert demo.leader_config().server.token == cfg.server.token  # kept, not made again
        assert demo.terminal is not None and demo.terminal.relay is not None  # the workstation relays
        leader = LeaderTerminal(cfg, demo.leader_folder, clock=demo.clock)
        leader.start()
        deadline = time.monotonic() + 60
        fig = None
        while time.monotonic() < deadline:
            if leader.status().warnings.generation > 0:
                with leader.store.read() as s:
                    fig = leader.figures(s)
                if any(t.name == DEMO_TERMINAL and t.relay_url for t in fig.terminals):
                    break
            time.sleep(0.2)
        assert fig is not None and fig.root == "org-anshan"
        assert {u.id for u in fig.units} == {"org-anshan", "org-tiedong", "hall-anshan", "hall-tiedong"}
        (ws,) = [t for t in fig.terminals if t.name == DEMO_TERMINAL]
        assert ws.online and ws.relay_url == demo.terminal.relay.url
        # the relay lets the leader's token see the city hall's cameras (it asks the server's /me)
        want = len(demo.terminal.cameras.cameras())
        listed = relay_cameras(ws.relay_url, token.get_secret_value())
        while listed is not None and len(listed) < want and time.monotonic() < deadline + 30:
            time.sleep(0.5)  # the relay takes the cameras on as the registry connects them
            listed = relay_cameras(ws.relay_url, token.get_secret_value())
        assert listed is not None and len(listed) == want > 0
    finally:
        if leader is not None:
            assert leader.stop(time.monotonic() + 10)
        assert demo.stop(time.monotonic() + 10)


def test_main_renders_the_demo_leader_window(tmp_path: Path) -> None:
    out = tmp_path / "leader.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--data", str(tmp_path / "data"), "--demo", "--role", "leader",
         "screenshot", str(out), "--after", "6", "--size", "1280x720", "--lang", "en", "--page", "reds"],
        capture_output=True, text=True, timeout=240, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert out.stat().st_size > 10_000 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = subprocess.run([sys.executable, str(ROOT / "main.py"), "--role", "leader", "--tour", "0"],
                         capture_output=True, text=True, timeout=60, env=env, cwd=ROOT)
    assert bad.returncode == 2 and "--tour" in bad.stderr
