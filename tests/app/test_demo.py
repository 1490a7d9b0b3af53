"""``main.py --demo --headless`` end to end, as a subprocess: warnings of two levels or more, live
cameras, SIGTERM ends it within 5 s, and the next start resumes the same folder."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^(\d+) warnings at .*: (\d+) red, (\d+) yellow, (\d+) notice$")
STATUS = re.compile(r"^\d\d:\d\d:\d\d cameras (\d+)/(\d+) live")
START_TIMEOUT = 240.0  # the first start builds the hall's history; a loaded machine is slow
STOP_LIMIT = 5.0


class Demo:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, name="demo-stdout")
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def until(self, pattern: re.Pattern[str], deadline: float, accept: object = None) -> re.Match[str]:
        """The first line after those read matching ``pattern`` (and ``accept(match)`` when given)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no line matching {pattern.pattern!r}; output:\n" + "\n".join(self.seen[-40:]))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the demo ended (rc={self.proc.wait()}); output:\n" + "\n".join(self.seen[-40:]))
            self.seen.append(line)
            m = pattern.match(line)
            if m and (accept is None or accept(m)):  # type: ignore[operator]
                return m

    def terminate(self) -> tuple[int, float]:
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        took = time.monotonic() - t0
        self._reader.join(10)
        while (line := self.lines.get_nowait() if not self.lines.empty() else None) is not None:
            self.seen.append(line)
        return rc, took


@contextmanager
def headless_demo(data: Path) -> Iterator[Demo]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--demo", "--headless", "--status-interval", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    demo = Demo(proc)
    try:
        yield demo
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        demo._reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()


def levels(m: re.Match[str]) -> int:
    return sum(1 for g in m.groups()[1:] if int(g) > 0)


@pytest.mark.slow
def test_headless_demo_warns_runs_its_cameras_stops_on_sigterm_and_resumes_its_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with headless_demo(data) as demo:
        deadline = time.monotonic() + START_TIMEOUT
        summary = demo.until(SUMMARY, deadline)
        assert levels(summary) >= 2, summary.group(0)  # the first table, after the first sync's judgement
        line = demo.until(STATUS, deadline, accept=lambda m: int(m.group(2)) > 0 and m.group(1) == m.group(2)).string
        # the relay serves (nobody watches) and the demo's seats are watched
        assert "; relay 0 viewers" in line and re.search(r"; seats [1-9]\d* watched, \d+ empty", line), line
        rc, took = demo.terminate()
        assert rc == 0, "\n".join(demo.seen[-20:])
        assert took <= STOP_LIMIT, f"SIGTERM took {took:.1f} s"
        assert demo.seen[-1].startswith("demo stopped") and "still closing" not in demo.seen[-1]
        stopped_at = [line[:8] for line in demo.seen if STATUS.match(line)][-1]

    server_db = data / "demo" / "server" / "hallwatch-server.db"
    token = (data / "demo" / "server" / "terminal.token").read_text(encoding="utf-8")
    inode = server_db.stat().st_ino
    assert (data / "demo" / "server" / "terminal.token").stat().st_mode & 0o077 == 0

    with headless_demo(data) as demo:  # the second start resumes: same token, same server database
        deadline = time.monotonic() + START_TIMEOUT
        summary = demo.until(SUMMARY, deadline)
        assert levels(summary) >= 2, summary.group(0)
        status = demo.until(STATUS, deadline, accept=lambda m: int(m.group(2)) > 0 and m.group(1) == m.group(2))
        # its clock does not go back over the first run's footage (the demo clock, or the wall clock)
        assert status.group(0)[:8] >= stopped_at or stopped_at > "23:50", (stopped_at, status.group(0))
        rc, took = demo.terminate()
        assert rc == 0 and took <= STOP_LIMIT, f"rc={rc}, SIGTERM took {took:.1f} s"
    assert (data / "demo" / "server" / "terminal.token").read_text(encoding="utf-8") == token
    assert server_db.stat().st_ino == inode
