"""Rule evaluation and import figures (issue "Foundation").

    python -m benchmarks.supervision_bench [--cases 100000] [--tickets 10000] [--changed 1000]

Prints JSON: full pass (the calendar's build, facts and evaluation) over N open cases and M waiting
tickets (the calendar's build also on its own), a pass with
facts cached, an incremental pass after K changed cases, and `import` of a page with N cases. One
core: the work is single-threaded Python. Targets: full ≤ 1.0 s, incremental ≤ 50 ms, import ≤ 15 s.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.runtime import init_process
from supervision.calendar import WorkCalendar
from supervision.ingest import import_file
from supervision.model import Case, CaseType, Ticket
from supervision.rules import Evaluator, RuleSet
from supervision.store import open_store

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 30, tzinfo=TZ)


def case_types(n: int = 40) -> dict[str, CaseType]:
    out = {}
    for i in range(n):
        stage_days = {"handled": 2, "reviewed": 2} if i % 4 == 0 else {}
        out[f"ct-{i}"] = CaseType(
            f"ct-{i}",
            f"type {i}",
            f"dept {i % 10}",
            20,
            3 + i % 8,
            Decimal("80.00") if i % 5 == 0 else Decimal(0),
            i % 7 == 0,
            stage_days,
        )
    return out


def make_case(i: int, rnd: random.Random, types: list[str]) -> Case:
    accepted = NOW - timedelta(days=rnd.randint(0, 40), minutes=rnd.randint(0, 600))
    stages: list[tuple[str, datetime]] = [("submitted", accepted - timedelta(minutes=5)), ("accepted", accepted)]
    if rnd.random() < 0.5:
        stages.append(("handled", accepted + timedelta(days=1)))
    susp: tuple[tuple[datetime, datetime | None], ...] = ()
    r = rnd.random()
    if r < 0.05:
        susp = ((accepted + timedelta(days=1), None),)
    elif r < 0.15:
        susp = ((accepted + timedelta(hours=3), accepted + timedelta(days=4)),)
    ct = types[i % len(types)]
    fee = Decimal("80.00") if i % 5 == 0 else Decimal(0)
    if i % 997 == 0:
        fee += 1
    return Case(f"C-{i:07d}", ct, "in_progress", stages[0][1], f"win-{i % 30}", tuple(stages), susp, fee)


def make_ticket(i: int, rnd: random.Random) -> Ticket:
    return Ticket(f"T-{i:06d}", "hall", f"A{i % 1000:03d}", "waiting", NOW - timedelta(minutes=rnd.randint(0, 90)))


def bench_rules(n_cases: int, n_tickets: int, n_changed: int) -> dict[str, Any]:
    rnd = random.Random(7)
    types = case_types()
    names = list(types)
    cases = [make_case(i, rnd, names) for i in range(n_cases)]
    tickets = [make_ticket(i, rnd) for i in range(n_tickets)]
    gc.collect()
    # The calendar's tables are built once per process, on its first question: a first pass pays
    # for them, so they are timed (and shown on their own).
    t0 = time.process_time()
    cal = WorkCalendar()
    cal.add_workdays(NOW.date(), 1)
    build = time.process_time() - t0
    t0 = time.process_time()
    ev = Evaluator(cal, TZ, RuleSet(), types)
    ev.set_cases(cases)
    ev.set_tickets(tickets)
    warnings = ev.evaluate(NOW)
    full = time.process_time() - t0 + build
    t0 = time.process_time()
    again = ev.evaluate(NOW + timedelta(minutes=1))
    cached = time.process_time() - t0
    changed = [make_case(i * (n_cases // n_changed), rnd, names) for i in range(n_changed)]
    t0 = time.process_time()
    ev.set_cases(changed)
    delta = ev.evaluate(NOW, case_ids=[c.id for c in changed])
    incremental = time.process_time() - t0
    return {
        "cases": n_cases,
        "tickets": n_tickets,
        "warnings": len(warnings),
        "calendar_build_ms": round(build * 1000, 2),
        "full_pass_s": round(full, 3),  # the calendar's build included
        "full_pass_without_calendar_build_s": round(full - build, 3),
        "cached_pass_s": round(cached, 3),
        "cached_pass_warnings": len(again),
        "changed": n_changed,
        "incremental_pass_ms": round(incremental * 1000, 1),
        "incremental_warnings": len(delta),
        "target_full_s": 1.0,
        "target_incremental_ms": 50,
    }


def case_type_change(seq: int, i: int, cid: str, ct: CaseType) -> dict[str, Any]:
    """A ``case_type`` upsert of the wire for one of :func:`case_types`."""
    return {
        "seq": seq,
        "type": "case_type",
        "id": cid,
        "op": "upsert",
        "version": 1,
        "data": {
            "code": f"X{i}",
            "name": ct.name,
            "department": ct.department,
            "legal_days": ct.legal_days,
            "promised_days": ct.promised_days,
            "fee": str(ct.fee),
            "immediate": ct.immediate,
            "stage_days": dict(ct.stage_days),
        },
    }


def case_change(seq: int, c: Case, version: int = 1) -> dict[str, Any]:
    """A ``case`` upsert of the wire for a case of :func:`make_case` (or one changed from it)."""
    return {
        "seq": seq,
        "type": "case",
        "id": c.id,
        "op": "upsert",
        "version": version,
        "data": {
            "case_type_id": c.case_type_id,
            "window_id": c.window_id,
            "ticket_id": None,
            "applicant": "张**",
            "submitted_at": c.submitted_at.isoformat(),
            "status": c.status,
            "stages": [{"stage": s, "at": at.isoformat(), "by": "受理员"} for s, at in c.stages],
            "suspensions": [
                {"from": a.isoformat(), "to": b.isoformat() if b else None, "reason": "补正"} for a, b in c.suspensions
            ],
            "fee_charged": str(c.fee_charged),
            "completed_at": c.completed_at.isoformat() if c.completed_at else None,
        },
    }


def bench_import(n_cases: int) -> dict[str, Any]:
    rnd = random.Random(11)
    changes: list[dict[str, Any]] = []
    seq = 0
    for i, (cid, ct) in enumerate(case_types().items()):
        seq += 1
        changes.append(case_type_change(seq, i, cid, ct))
    names = list(case_types())
    for i in range(n_cases):
        c = make_case(i, rnd, names)
        seq += 1
        changes.append(case_change(seq, c))
    body = {
        "epoch": "bench",
        "changes": changes,
        "next_cursor": "x",
        "has_more": False,
        "server_time": datetime.now(UTC).isoformat(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.json"
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        size = path.stat().st_size
        store = open_store(Path(tmp) / "store.db")
        t0 = time.perf_counter()
        rep = import_file(store, path)
        wall = time.perf_counter() - t0
        store.close()
    return {
        "cases": n_cases,
        "file_mb": round(size / 2**20, 1),
        "import_s": round(wall, 2),
        "applied": rep.report.applied,
        "target_s": 15,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--tickets", type=int, default=10_000)
    p.add_argument("--changed", type=int, default=1_000)
    p.add_argument("--skip-import", action="store_true")
    a = p.parse_args(argv)
    init_process()  # the application's process settings (the GC's thresholds)
    out: dict[str, Any] = {"python": sys.version.split()[0], "rules": bench_rules(a.cases, a.tickets, a.changed)}
    if not a.skip_import:
        out["import"] = bench_import(a.cases)
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
