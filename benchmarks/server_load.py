"""Load on the reference server: fifty terminals polling, heartbeating and pushing actions.

    python -m benchmarks.server_load [--db URL] [--terminals 50] [--seconds 30] [--interval 15] [--speed 10]

The server runs as its own process (``python -m sync.server``) on 127.0.0.1, on SQLite (a
temporary file) and, when ``--db`` names a PostgreSQL database, on PostgreSQL too. The demo city
hall with five working days of activity is loaded first; while the clients run, a publisher
writes hall traffic (``--publish-rate`` changes per second, in small batches) into the same
database, as the simulator does.

Each terminal first pulls everything from the beginning (pages of 500), then every round: pulls
its changes until ``has_more`` is false, sends a heartbeat and — operators, on a third of the
rounds — pushes one to three actions (acknowledging or disposing warnings in force, which other
operators often got to first, bookmarks, case notes). A terminal's round comes every
``--interval`` seconds (the client's default, 15 s) divided by ``--speed`` (time compression: the
same request mix, ``speed`` times as often, so a 30-second run sees as many rounds as five
minutes of real traffic). Rounds start at random offsets, as real terminals do.

Prints JSON: per database and endpoint, the count and p50/p95/p99/max latency in milliseconds
(time to the full response body; JSON parsing on the client excluded), errors, and the request
rate. The initial full pulls (all terminals at once, as after a new epoch) are a phase of their
own; the steady state is measured after them, for ``--seconds``. Target: p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from supervision import demo
from supervision.snapshot import evaluator_from_changes
from sync.server.store import CentralStore

TZ = ZoneInfo("Asia/Shanghai")
SCOPES = ("org-liaoning", "org-anshan", "hall-anshan", "org-tiedong")


def warnings_in_force(body: dict[str, Any], at: datetime) -> list[str]:
    """The warning keys a terminal derives from the demo body at ``at``."""
    return sorted(w.key for w in evaluator_from_changes(body["changes"], TZ).evaluate(at))


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.outcomes: dict[str, int] = defaultdict(int)

    def timed(self, name: str, session: requests.Session, method: str, url: str, **kw: Any) -> requests.Response | None:
        t0 = time.perf_counter()
        try:
            r = session.request(method, url, timeout=30, **kw)
            _ = r.content
        except requests.RequestException:
            with self.lock:
                self.errors[name] += 1
            return None
        dt = time.perf_counter() - t0
        with self.lock:
            self.latencies[name].append(dt)
            if r.status_code != 200:
                self.errors[f"{name} {r.status_code}"] += 1
        return r

    def summary(self, seconds: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        total = 0
        for name, xs in sorted(self.latencies.items()):
            xs = sorted(xs)
            total += len(xs)

            def q(p: float, xs: list[float] = xs) -> float:
                return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1)

            out[name] = {"count": len(xs), "p50_ms": q(0.50), "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": q(1.0)}
        out["requests_per_s"] = round(total / seconds, 1)
        out["errors"] = dict(self.errors)
        out["action_results"] = dict(self.outcomes)
        return out


def terminal_loop(
    rec: Recorder,
    base: str,
    token: str,
    role: str,
    name: str,
    round_s: float,
    warnings: list[str],
    cameras: list[str],
    cases: list[str],
    stop: threading.Event,
    rng: random.Random,
    pulled: threading.Barrier,
) -> None:
    s = requests.Session()
    s.trust_env = False
    s.headers["Authorization"] = f"Bearer {token}"
    api = base + "/api/v1"
    cursor: str | None = None
    n = 0

    def pull(label: str) -> None:
        nonlocal cursor
        while not stop.is_set():
            params = {"limit": 500} if cursor is None else {"cursor": cursor, "limit": 500}
            r = rec.timed(label, s, "GET", api + "/changes", params=params)
            if r is None or r.status_code != 200:
                return
            page = r.json()
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return

    try:
        pull("changes (initial full pull)")
        try:
            pulled.wait(timeout=120)  # steady state is measured once every terminal is in sync
        except threading.BrokenBarrierError:
            return
        if stop.wait(rng.uniform(0, round_s)):
            return
        while not stop.is_set():
            t0 = time.monotonic()
            pull("changes (poll)")
            rec.timed("heartbeat", s, "POST", api + "/heartbeat", json={
                "terminal": name, "sent_at": datetime.now(UTC).isoformat(),
                "cameras": [{"id": c, "online": True, "recording": True} for c in cameras[:4]],
                "warnings": {"yellow": 3, "red": 1},
                "relay_url": f"http://10.0.0.{abs(hash(name)) % 250}:8080/live/" if role == "operator" else None})
            if role == "operator" and rng.random() < 1 / 3:
                now = datetime.now(UTC).astimezone(TZ).isoformat()
                batch: list[dict[str, Any]] = []
                for _ in range(rng.randint(1, 3)):
                    n += 1
                    aid = f"{name}-{n}"
                    kind = rng.random()
                    if kind < 0.6 and warnings:
                        key = rng.choice(warnings)
                        if rng.random() < 0.5:
                            batch.append({"id": aid, "type": "warning.acknowledge", "warning": key, "by": name,
                                          "at": now, "note": ""})
                        else:
                            batch.append({"id": aid, "type": "warning.dispose", "warning": key, "by": name,
                                          "at": now, "measure": "supervise", "note": "已督办"})
                    elif kind < 0.85:
                        batch.append({"id": aid, "type": "bookmark.create", "camera_id": rng.choice(cameras),
                                      "at": now, "note": "标记"})
                    else:
                        batch.append({"id": aid, "type": "case.note", "case_id": rng.choice(cases), "at": now,
                                      "note": "已电话联系申请人"})
                r = rec.timed("actions", s, "POST", api + "/actions", json={"terminal": name, "actions": batch})
                if r is not None and r.status_code == 200:
                    with rec.lock:
                        for x in r.json()["results"]:
                            rec.outcomes[x["status"] + (f" {x['code']}" if x.get("code") else "")] += 1
            stop.wait(max(0.0, round_s - (time.monotonic() - t0)))
    finally:
        s.close()


def publisher_loop(url: str, rate: float, body: dict[str, Any], stop: threading.Event, counter: list[int]) -> None:
    """Hall traffic: tickets issued and called, cases moving on — ``rate`` changes a second."""
    store = CentralStore(url)
    rng = random.Random(7)
    tickets = [c for c in body["changes"] if c["type"] == "ticket"]
    cases = [c for c in body["changes"] if c["type"] == "case"]
    try:
        i = 0
        while not stop.wait(0.25):
            batch = []
            for _ in range(max(1, round(rate / 4))):
                i += 1
                src = rng.choice(tickets if i % 2 else cases)
                data = dict(src["data"])
                if src["type"] == "ticket":
                    data["status"] = rng.choice(["called", "serving", "done"])
                else:
                    data["applicant"] = f"王*{i % 10}"
                batch.append({"type": src["type"], "id": src["id"], "op": "upsert", "data": data})
            store.publish(batch)
            counter[0] += len(batch)
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_one(url: str, args: argparse.Namespace, body: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    store = CentralStore(url)
    t0 = time.perf_counter()
    store.publish(body["changes"])
    load_s = time.perf_counter() - t0
    rng = random.Random(1)
    terms = []
    for i in range(args.terminals):
        role = "leader" if i % 5 == 4 else "operator"
        scope = SCOPES[i % len(SCOPES)]
        terms.append((f"{role}-{i:02d}", role, store.add_terminal(f"{role}-{i:02d}", role, scope), scope))
    store.close()
    cameras_of: dict[str, list[str]] = defaultdict(list)
    for c in body["changes"]:
        if c["type"] == "camera":
            cameras_of[c["data"]["hall_id"]].append(c["id"])
    cases = [c["id"] for c in body["changes"] if c["type"] == "case"]
    # bookmarks on cameras the terminal can see (hall-anshan's own, or hall-tiedong's from above it)
    clients = [(n, r, t, cameras_of["hall-anshan" if sc == "hall-anshan" else "hall-tiedong"]) for n, r, t, sc in terms]
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "sync.server", "--db", url, "--port", str(port), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)
        rec = Recorder()
        stop = threading.Event()
        published = [0]
        pub = threading.Thread(target=publisher_loop, args=(url, args.publish_rate, body, stop, published))
        round_s = args.interval / args.speed
        pulled = threading.Barrier(len(clients) + 1)
        threads = [
            threading.Thread(
                target=terminal_loop,
                args=(rec, base, token, role, name, round_s, warnings, cameras, cases, stop,
                      random.Random(rng.random()), pulled),
                name=name,
            )
            for name, role, token, cameras in clients
        ]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        pulled.wait(timeout=120)
        initial_s = time.perf_counter() - t0
        start = time.perf_counter()
        pub.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join(timeout=60)
        pub.join(timeout=60)
        elapsed = time.perf_counter() - start
    finally:
        if sys.platform == "win32":
            server.terminate()
        else:
            server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
    out = rec.summary(elapsed)
    out["initial_full_pulls_s"] = round(initial_s, 2)
    out["load_demo_s"] = round(load_s, 2)
    out["published_changes"] = published[0]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", help="also run on this PostgreSQL URL (postgresql+psycopg://…); an SQLite path replaces "
                   "the temporary SQLite file")
    p.add_argument("--terminals", type=int, default=50)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--interval", type=float, default=15.0, help="a terminal's sync interval (real seconds)")
    p.add_argument("--speed", type=float, default=10.0, help="time compression: rounds come this many times faster")
    p.add_argument("--publish-rate", type=float, default=20.0, help="hall traffic, changes per second")
    args = p.parse_args()

    now = datetime.now(UTC).astimezone(TZ)
    body = demo.generate(now.date(), now=now)
    warnings = warnings_in_force(body, now)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="hw-load-") as tmp:
        sqlite_url = str(Path(tmp) / "server.db")
        targets = [("sqlite", sqlite_url)]
        if args.db:
            if args.db.startswith("postgresql"):
                targets.append(("postgresql", args.db))
            else:
                targets = [("sqlite", args.db)]
        for label, url in targets:
            results[label] = run_one(url, args, body, warnings)
    print(json.dumps({
        "terminals": args.terminals,
        "seconds": args.seconds,
        "round_s": round(args.interval / args.speed, 2),
        "compression": f"{args.speed:g}x: each terminal syncs every {args.interval / args.speed:g} s instead of "
                       f"{args.interval:g} s",
        "demo_records": len(body["changes"]),
        "warnings_in_force": len(warnings),
        "publish_rate_per_s": args.publish_rate,
        "at": (now - timedelta(microseconds=now.microsecond)).isoformat(),
        "results": results,
    }, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
