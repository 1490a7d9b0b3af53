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

The load is open-loop: every round is issued at its scheduled time whatever the latency of the
ones before (a slow server gets more concurrent requests, not fewer, as with real terminals whose
timers keep firing), and a round's first request is timed from its schedule, so time spent waiting
to be issued counts. Only requests issued inside the measured window count. A failed request
(no answer within ``--timeout``, a broken connection, or a status other than 200) counts in the
percentiles at the timeout, and the failure rate is reported.

Prints JSON: per database and endpoint, the count and p50/p95/p99/max latency in milliseconds
(time to the full response body; JSON parsing on the client excluded), failures, and the request
rate. The initial full pulls (all terminals at once, as after a new epoch) are a phase of their
own; the steady state is measured after them, for ``--seconds``. Target: p99 ≤ 200 ms.
"""

from __future__ import annotations

import argparse
import heapq
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
from concurrent.futures import ThreadPoolExecutor
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
    """Latencies of the requests issued inside the window ``[start, end)`` (``time.perf_counter``)."""

    def __init__(self, timeout: float) -> None:
        self.lock = threading.Lock()
        self.timeout = timeout
        self.start = float("-inf")  # until set: every request counts (the initial pulls' recorder)
        self.end = float("inf")
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.issued: dict[str, int] = defaultdict(int)
        self.failures: dict[str, int] = defaultdict(int)
        self.failure_kinds: dict[str, int] = defaultdict(int)
        self.outcomes: dict[str, int] = defaultdict(int)
        self.issue_lag: list[float] = []  # how late rounds were issued after their schedule

    def timed(self, name: str, session: requests.Session, method: str, url: str, *, since: float | None = None,
              **kw: Any) -> requests.Response | None:
        """One request, timed from ``since`` (its scheduled time) or from now; None when it failed."""
        issued = time.perf_counter()
        t0 = issued if since is None else since
        counted = self.start <= t0 < self.end
        failure: str | None = None
        r: requests.Response | None = None
        try:
            r = session.request(method, url, timeout=self.timeout, **kw)
            _ = r.content
            if r.status_code != 200:
                failure = f"status {r.status_code}"
        except requests.RequestException as e:
            failure = type(e).__name__
        dt = time.perf_counter() - t0
        with self.lock:
            if counted:
                self.issued[name] += 1
                if since is not None:
                    self.issue_lag.append(issued - since)
                if failure is None:
                    self.latencies[name].append(dt)
                else:  # in the percentiles at the timeout: a failure is never fast
                    self.latencies[name].append(max(dt, self.timeout))
                    self.failures[name] += 1
                    self.failure_kinds[f"{name}: {failure}"] += 1
        return r if failure is None else None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seconds = self.end - self.start
        for name, xs in sorted(self.latencies.items()):
            xs = sorted(xs)

            def q(p: float, xs: list[float] = xs) -> float:
                return round(xs[min(len(xs) - 1, int(p * len(xs)))] * 1000, 1)

            out[name] = {"count": len(xs), "failures": self.failures.get(name, 0), "p50_ms": q(0.50),
                         "p95_ms": q(0.95), "p99_ms": q(0.99), "max_ms": q(1.0)}
        total = sum(self.issued.values())
        failed = sum(self.failures.values())
        lag = sorted(self.issue_lag)
        out["requests_issued_in_window"] = total
        out["requests_per_s"] = round(total / seconds, 1) if seconds != float("inf") else None
        out["failure_rate"] = round(failed / total, 4) if total else None
        out["failures"] = dict(self.failure_kinds)
        out["round_issue_lag_p99_ms"] = round(lag[min(len(lag) - 1, int(0.99 * len(lag)))] * 1000, 1) if lag else None
        out["action_results"] = dict(self.outcomes)
        return out


class Terminal:
    """One simulated terminal: its token, its cursor and its rounds (which may overlap when the
    server is slow — each round takes a session of its own from the terminal's pool)."""

    def __init__(self, rec: Recorder, initial: Recorder, base: str, token: str, role: str, name: str,
                 warnings: list[str], cameras: list[str], cases: list[str], rng: random.Random) -> None:
        self.initial = initial  # the initial full pulls: a phase of their own
        self.rec, self.api, self.token, self.role, self.name = rec, base + "/api/v1", token, role, name
        self.warnings, self.cameras, self.cases, self.rng = warnings, cameras, cases, rng
        self.cursor: str | None = None
        self.n = 0
        self.lock = threading.Lock()
        self.sessions: list[requests.Session] = []
        self.all_sessions: list[requests.Session] = []

    def _session(self) -> requests.Session:
        with self.lock:
            if self.sessions:
                return self.sessions.pop()
        s = requests.Session()
        s.trust_env = False
        s.headers["Authorization"] = f"Bearer {self.token}"
        with self.lock:
            self.all_sessions.append(s)
        return s

    def close(self) -> None:
        for s in self.all_sessions:
            s.close()

    def pull(self, rec: Recorder, s: requests.Session, label: str, since: float | None = None) -> bool:
        with self.lock:
            cursor = self.cursor
        while True:
            params = {"limit": 500} if cursor is None else {"cursor": cursor, "limit": 500}
            r = rec.timed(label, s, "GET", self.api + "/changes", since=since, params=params)
            since = None  # the pages after the first are issued when the one before is in
            if r is None:
                return False
            page = r.json()
            cursor = page["next_cursor"]
            with self.lock:
                self.cursor = cursor
            if not page["has_more"]:
                return True

    def initial_pull(self) -> bool:
        s = self._session()
        try:
            return self.pull(self.initial, s, "changes (initial full pull)")
        finally:
            with self.lock:
                self.sessions.append(s)

    def round(self, scheduled: float) -> None:
        """One round, due at ``scheduled``: poll, heartbeat and (operators, a third of the time) actions."""
        s = self._session()
        try:
            self._round(s, scheduled)
        finally:
            with self.lock:
                self.sessions.append(s)

    def _round(self, s: requests.Session, scheduled: float) -> None:
        rng, name, rec = self.rng, self.name, self.rec
        self.pull(rec, s, "changes (poll)", since=scheduled)
        rec.timed("heartbeat", s, "POST", self.api + "/heartbeat", json={
            "terminal": name, "sent_at": datetime.now(UTC).isoformat(),
            "cameras": [{"id": c, "online": True, "recording": True} for c in self.cameras[:4]],
            "warnings": {"yellow": 3, "red": 1},
            "relay_url": f"http://10.0.0.{abs(hash(name)) % 250}:8080/live/" if self.role == "operator" else None})
        with self.lock:
            act = self.role == "operator" and rng.random() < 1 / 3
            kinds = [(rng.random(), rng.random()) for _ in range(rng.randint(1, 3))] if act else []
            first = self.n + 1
            self.n += len(kinds)
        if not act:
            return
        now = datetime.now(UTC).astimezone(TZ).isoformat()
        batch: list[dict[str, Any]] = []
        for j, (kind, half) in enumerate(kinds):
            aid = f"{name}-{first + j}"
            if kind < 0.6 and self.warnings:
                key = self.warnings[int(half * 1e6) % len(self.warnings)]
                if half < 0.5:
                    batch.append({"id": aid, "type": "warning.acknowledge", "warning": key, "by": name,
                                  "at": now, "note": ""})
                else:
                    batch.append({"id": aid, "type": "warning.dispose", "warning": key, "by": name,
                                  "at": now, "measure": "supervise", "note": "已督办"})
            elif kind < 0.85:
                batch.append({"id": aid, "type": "bookmark.create",
                              "camera_id": self.cameras[int(half * 1e6) % len(self.cameras)], "at": now,
                              "note": "标记"})
            else:
                batch.append({"id": aid, "type": "case.note", "case_id": self.cases[int(half * 1e6) % len(self.cases)],
                              "at": now, "note": "已电话联系申请人"})
        r = rec.timed("actions", s, "POST", self.api + "/actions", json={"terminal": name, "actions": batch})
        if r is not None:
            with rec.lock:
                for x in r.json()["results"]:
                    rec.outcomes[x["status"] + (f" {x['code']}" if x.get("code") else "")] += 1


def schedule_rounds(terminals: list[Terminal], round_s: float, until: float, pool: ThreadPoolExecutor,
                    rng: random.Random) -> None:
    """Issue every terminal's rounds on schedule (open loop) until ``until`` (``perf_counter``)."""
    t0 = time.perf_counter()
    due = [(t0 + rng.uniform(0, round_s), i) for i in range(len(terminals))]
    heapq.heapify(due)
    while due:
        at, i = heapq.heappop(due)
        if at >= until:
            break
        wait = at - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        pool.submit(terminals[i].round, at)
        heapq.heappush(due, (at + round_s, i))


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
        rec = Recorder(args.timeout)
        initial_rec = Recorder(args.timeout)
        stop = threading.Event()
        published = [0]
        pub = threading.Thread(target=publisher_loop, args=(url, args.publish_rate, body, stop, published))
        round_s = args.interval / args.speed
        terminals = [Terminal(rec, initial_rec, base, token, role, name, warnings, cameras, cases,
                              random.Random(rng.random()))
                     for name, role, token, cameras in clients]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(terminals), thread_name_prefix="initial-pull") as initial:
            pulled = list(initial.map(Terminal.initial_pull, terminals))
        initial_s = time.perf_counter() - t0
        if not all(pulled):
            raise RuntimeError(f"{pulled.count(False)} terminals could not finish their initial pull")
        pub.start()
        # Enough workers that rounds never wait for one: at most every terminal's round in flight
        # for the whole timeout.
        workers = max(8, int(len(terminals) * (1 + args.timeout / round_s)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="round") as pool:
            rec.start = time.perf_counter()
            rec.end = rec.start + args.seconds
            schedule_rounds(terminals, round_s, rec.end, pool, random.Random(2))
        elapsed = time.perf_counter() - rec.start  # the rounds issued in the window have all answered
        stop.set()
        pub.join(timeout=60)
        for t in terminals:
            t.close()
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
    out = rec.summary()
    out["initial_full_pulls"] = initial_rec.summary()
    out["window_s"] = args.seconds
    out["drained_s"] = round(elapsed - args.seconds, 2)
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
    p.add_argument("--timeout", type=float, default=5.0,
                   help="a request without an answer after this many seconds failed; failures count at it")
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
