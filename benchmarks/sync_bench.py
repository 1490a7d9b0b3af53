"""Sync figures (issue "Sync"): a terminal's first sync and an incremental round, over loopback HTTP
against the reference server.

    python -m benchmarks.sync_bench [--cases 100000] [--tickets 20000] [--changed 1000] [--page-limit 500]
                                    [--server-db URL] [--terminal-db URL]

Publishes the demo hall plus N cases and M tickets on the reference server (not timed), then
times ``SyncEngine.run_once()`` on an empty terminal store (every page validated, applied and its
cursor stored in one transaction), then a round after K cases changed. The server runs as its own
process (``python -m sync.server``), as it would on its own machine; both share this one, so the
figures include both ends. Prints JSON. Targets: initial ≤ 30 s, incremental ≤ 1 s.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from supervision.store import Store, open_store
from supervision.store.models import RECORD_TABLES, CaseRow
from sync.client import SyncClient
from sync.engine import SyncEngine

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)
HALL = Path(__file__).resolve().parents[1] / "resources" / "demo" / "hall.json"
TARGET_INITIAL_S = 30.0
TARGET_INCREMENTAL_S = 1.0


def hall() -> list[dict[str, Any]]:
    changes = json.loads(HALL.read_text(encoding="utf-8"))["changes"]
    return [{"type": c["type"], "id": c["id"], "op": c["op"], "data": c.get("data")} for c in changes]


def case(i: int, rnd: random.Random, windows: list[str], types: list[str], note: str = "") -> dict[str, Any]:
    accepted = NOW - timedelta(days=rnd.randint(0, 40), minutes=rnd.randint(0, 600))
    stages = [
        {"stage": "submitted", "at": (accepted - timedelta(minutes=5)).isoformat()},
        {"stage": "accepted", "at": accepted.isoformat(), "by": "王五"},
    ]
    if rnd.random() < 0.5:
        stages.append({"stage": "handled", "at": (accepted + timedelta(days=1)).isoformat(), "by": "赵六"})
    return {
        "type": "case",
        "id": f"C-BENCH-{i:07d}",
        "op": "upsert",
        "data": {
            "case_type_id": types[i % len(types)],
            "window_id": windows[i % len(windows)],
            "ticket_id": None,
            "applicant": f"张*{note}",
            "submitted_at": stages[0]["at"],
            "status": "in_progress",
            "stages": stages,
            "suspensions": [],
            "fee_charged": "0",
            "completed_at": None,
        },
    }


def ticket(i: int, rnd: random.Random, windows: list[str], types: list[str]) -> dict[str, Any]:
    issued = NOW - timedelta(minutes=rnd.randint(0, 300))
    return {
        "type": "ticket",
        "id": f"T-BENCH-{i:06d}",
        "op": "upsert",
        "data": {
            "hall_id": "hall-anshan",
            "number": f"A{i % 1000:03d}",
            "case_type_id": types[i % len(types)],
            "issued_at": issued.isoformat(),
            "called_at": None,
            "window_id": None,
            "status": "waiting",
        },
    }


@contextlib.contextmanager
def server_process(db: str) -> Iterator[str]:
    """``python -m sync.server`` on a free port; yields its URL once it answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync.server", "--db", db, "--port", str(port), "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the reference server did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(30)


def missing(central: Any, local: Store) -> int:
    """Records the server holds that the terminal lacks or holds at another version (checked, not
    assumed: a sync that lost changes must not pass for a fast one)."""
    served = {key: version for key, (version, _) in central.current().items()}
    held: dict[tuple[str, str], int] = {}
    with local.read() as s:
        for rtype, cls in RECORD_TABLES.items():
            for rid, version in s.execute(select(cls.id, cls.version).where(cls.deleted.is_(False))):
                held[(rtype, rid)] = version
    return sum(1 for key, version in served.items() if held.get(key) != version)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from sync.server.store import CentralStore

    rnd = random.Random(11)
    base = hall()
    windows = [c["id"] for c in base if c["type"] == "window"]
    types = [c["id"] for c in base if c["type"] == "case_type"]
    with tempfile.TemporaryDirectory(prefix="hw-sync-bench-") as tmp:
        server_db = args.server_db or str(Path(tmp) / "server.db")
        central = CentralStore(server_db)
        local = open_store(args.terminal_db or Path(tmp) / "terminal.db")
        try:
            t0 = time.perf_counter()
            central.publish(base)
            records = [case(i, rnd, windows, types) for i in range(args.cases)]
            records += [ticket(i, rnd, windows, types) for i in range(args.tickets)]
            for start in range(0, len(records), 10_000):
                central.publish(records[start : start + 10_000])
            publish_s = time.perf_counter() - t0
            token = central.add_terminal("bench", "operator", "org-liaoning")
            with server_process(server_db) as url, SyncClient(url, token) as client:
                engine = SyncEngine(
                    local,
                    client,
                    terminal="bench",
                    page_limit=args.page_limit,
                    bulk_page_limit=args.bulk_page_limit,
                    tz=TZ,
                )
                t0 = time.perf_counter()
                first = engine.run_once()
                initial_s = time.perf_counter() - t0
                if not first.ok:
                    raise SystemExit(f"initial sync failed: {first.error}")
                initial_missing = missing(central, local)  # not timed
                changed = [case(i, rnd, windows, types, note="改") for i in rnd.sample(range(args.cases), args.changed)]
                central.publish(changed)
                t0 = time.perf_counter()
                second = engine.run_once()
                incremental_s = time.perf_counter() - t0
                if not second.ok:
                    raise SystemExit(f"incremental sync failed: {second.error}")
                incremental_missing = missing(central, local)
                with local.read() as s:
                    ids = [c["id"] for c in changed]
                    stale = len(ids) - int(s.scalar(
                        select(func.count()).select_from(CaseRow)
                        .where(CaseRow.id.in_(ids), CaseRow.applicant == "张*改")) or 0)
        finally:
            local.close()
            central.close()
    return {
        "cases": args.cases,
        "tickets": args.tickets,
        "page_limit": args.page_limit,
        "bulk_page_limit": args.bulk_page_limit,
        "server_db": "postgresql" if str(args.server_db or "").startswith("postgresql") else "sqlite",
        "terminal_db": "postgresql" if str(args.terminal_db or "").startswith("postgresql") else "sqlite",
        "publish_s": round(publish_s, 2),
        "initial": {
            "seconds": round(initial_s, 2),
            "pages": first.pages,
            "changes": first.received,
            "changes_per_s": round(first.received / initial_s),
            "published_records_missing_or_stale_on_the_terminal": initial_missing,
            "target_s": TARGET_INITIAL_S,
            "ok": initial_s <= TARGET_INITIAL_S and initial_missing == 0,
        },
        "incremental": {
            "seconds": round(incremental_s, 3),
            "pages": second.pages,
            "changes": second.received,
            "published_records_missing_or_stale_on_the_terminal": incremental_missing,
            "changed_cases_without_the_change": stale,
            "target_s": TARGET_INCREMENTAL_S,
            "ok": incremental_s <= TARGET_INCREMENTAL_S and incremental_missing == 0 and stale == 0,
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sync_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--tickets", type=int, default=20_000)
    p.add_argument("--changed", type=int, default=1_000)
    p.add_argument("--page-limit", type=int, default=500, help="page size of an incremental pull (default 500)")
    p.add_argument("--bulk-page-limit", type=int, default=5000, help="page size while catching up (default 5000)")
    p.add_argument("--server-db", default=None, help="server database URL (default: SQLite in a temp folder)")
    p.add_argument("--terminal-db", default=None, help="terminal store URL (default: SQLite in a temp folder)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    result = run(args)
    print(json.dumps(result, indent=1))
    return 0 if result["initial"]["ok"] and result["incremental"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
