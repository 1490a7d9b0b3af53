"""Warning monitor figures (issue 10): 100 000 cases in a real store (SQLite, a temporary folder).

    python -m benchmarks.monitor_bench [--cases 100000] [--tickets 10000] [--changed 1000] [--pages 3]

Measures, with the work counted on both sides:
- the reference: a full pass (every subject judged, reconciled, columns written) and a full
  evaluation of the store (``lifecycle.evaluate_store``, what ``warnings`` runs);
- the pass after a page of ``--changed`` changed cases (target ≤ 50 ms), wall and CPU time
  including taking those cases from the records the page applied (as the sync engine hands them
  over: ``apply_changes(records=True)``; none is read back), reconcile, the columns and the commit
  (synchronous=FULL), and its phases as the pass reports them (``PassReport.phases``: load,
  judge, write, publish); beside it, the CPU time applying the page took (the sync side);
- the work on both sides, counted: the changes the page applied and handed over with their
  records, and the cases the pass judged — every changed case; the benchmark exits 1 if either
  side did less;
- a timer pass with no deadline crossed (target ≤ 5 ms) and, for comparison, one at the next
  deadline;
- taking a snapshot (target ≤ 1 ms);
- beside each pass after a page, the WAL checkpoint the monitor's thread runs once the snapshot is
  out (SQLite; its commit does not checkpoint), and the pass and checkpoint CPU together;
- for comparison, the CPU time the rules alone take over the last page's cases (the floor under
  the pass: facts recomputed, judged, next change, due dates).
The incremental result is checked against a full evaluation at the same instant (warnings, states,
counts, the changed cases' columns); the benchmark exits 1 if they differ.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app.monitor import LEVEL_CODE, WarningMonitor
from app.runtime import init_process
from benchmarks.supervision_bench import NOW, TZ, case_change, case_type_change, case_types, make_case, make_ticket
from supervision.duedates import case_clock
from supervision.ingest import ChangedIds, apply_changes, validate_changes
from supervision.lifecycle import evaluate_store
from supervision.model import Case, Ticket
from supervision.rules import Evaluator, Subject, case_due_dates, case_due_dates_next_change
from supervision.snapshot import iter_cases, load_calendar, load_case_types, load_evaluator, load_rules
from supervision.store import Store, open_store
from supervision.store.models import CaseRow, WarningState


def _ticket_change(seq: int, t: Ticket) -> dict[str, Any]:
    return {
        "seq": seq,
        "type": "ticket",
        "id": t.id,
        "op": "upsert",
        "version": 1,
        "data": {
            "hall_id": t.hall_id,
            "number": t.number,
            "case_type_id": f"ct-{int(t.id[2:]) % 40}",
            "issued_at": t.issued_at.isoformat(),
            "status": t.status,
        },
    }


def _apply(store: Store, changes: list[dict[str, Any]]) -> ChangedIds:
    valid, _ = validate_changes(changes)
    with store.write() as s:
        return apply_changes(s, valid, records=True).changed  # as the sync engine applies a page


def build_store(path: Path, n_cases: int, n_tickets: int) -> tuple[Store, list[Case]]:
    rnd = random.Random(7)
    types = case_types()
    names = list(types)
    seq = 0
    changes: list[dict[str, Any]] = []
    for i, (cid, ct) in enumerate(types.items()):
        seq += 1
        changes.append(case_type_change(seq, i, cid, ct))
    cases = [make_case(i, rnd, names) for i in range(n_cases)]
    for c in cases:
        seq += 1
        changes.append(case_change(seq, c, 1))
    for i in range(n_tickets):
        seq += 1
        changes.append(_ticket_change(seq, make_ticket(i, rnd)))
    store = open_store(path)
    _apply(store, changes)
    return store, cases


def changed_page(cases: list[Case], n: int, page: int = 0) -> list[dict[str, Any]]:
    """``n`` cases spread over the store (another set for each ``page``), each changed: completed,
    moved to another window, or charged another fee."""
    step = max(1, len(cases) // n)
    out = []
    done = NOW - timedelta(minutes=5)
    for k, c in enumerate(cases[page % step :: step][:n]):
        if k % 3 == 0:
            later = [(s, done) for s in ("handled", "reviewed", "decided", "completed")]
            stages = (*c.stages, *later[len(c.stages) - 2 :])
            c = Case(c.id, c.case_type_id, "completed", c.submitted_at, c.window_id, stages, (), c.fee_charged, done)
        elif k % 3 == 1:
            c = Case(c.id, c.case_type_id, c.status, c.submitted_at, "win-0", c.stages, c.suspensions, c.fee_charged)
        else:
            fee = (c.fee_charged or Decimal(0)) + 1
            c = Case(c.id, c.case_type_id, c.status, c.submitted_at, c.window_id, c.stages, c.suspensions, fee)
        out.append(case_change(10_000_000 + page * n + k, c, 2))
    return out


def check(store: Store, monitor: WarningMonitor, at: datetime, case_ids: list[str]) -> dict[str, Any]:
    """The monitor's snapshot against a full evaluation at ``at``; raises AssertionError if they differ."""
    full = evaluate_store(store, at, TZ)
    snap = monitor.snapshot()
    if list(snap.views) != full.views:
        mine, theirs = {v.key: v for v in snap.views}, {v.key: v for v in full.views}
        diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        raise AssertionError(f"{len(diff)} warnings differ from a full evaluation, e.g. {diff[:3]}")
    counts = {"red": 0, "yellow": 0, "notice": 0}
    for v in full.views:
        counts[str(v.warning.level)] += 1
    if {k: snap.counts[k] for k in counts} != counts:
        raise AssertionError(f"counts {dict(snap.counts)} differ from a full evaluation {counts}")
    worst: dict[str, int] = {}
    for v in full.views:
        worst[v.warning.subject] = max(worst.get(v.warning.subject, 0), LEVEL_CODE[v.warning.level])
    with store.read() as s:
        ev = load_evaluator(s, TZ)
        rows = dict(
            (i, (p, lg, w))
            for i, p, lg, w in s.execute(
                select(CaseRow.id, CaseRow.promised_due, CaseRow.legal_due, CaseRow.worst_level).where(
                    CaseRow.id.in_(case_ids)
                )
            )
        )
        live = s.scalar(select(func.count()).select_from(WarningState).where(WarningState.state != "cleared"))
    for cid in case_ids:
        c = ev.case(cid)
        assert c is not None
        clock = case_clock(c, ev.case_types[c.case_type_id], ev.cal, TZ, at)
        if rows[cid] != (clock.promised_due, clock.legal_due, worst.get(cid, 0)):
            raise AssertionError(f"case {cid}: columns {rows[cid]} are not current")
    if live != len(full.views):
        raise AssertionError(f"{live} warning_states rows in force, {len(full.views)} warnings in force")
    return {"warnings": len(full.views), "states_in_force": live}


def rules_only(store: Store, case_ids: list[str], at: datetime) -> float:
    """The CPU time the rules alone take over a page's cases (facts recomputed, judged, next
    change, due dates), as the monitor's pass asks them (at the instant in UTC, as a pass judges):
    the floor under a pass that uses them. The best of three on a warmed evaluator; the cases are
    read beforehand (not counted)."""
    at = at.astimezone(UTC)
    with store.read() as s:
        ev = Evaluator(load_calendar(s), TZ, load_rules(s), load_case_types(s))
        page = list(iter_cases(s, case_ids))
    subjects = [Subject("case", c.id) for c in page]
    best = float("inf")
    for _ in range(3):
        ev.remove_cases([c.id for c in page])  # new to it: their facts worked out (a changed case may keep them)
        gc.collect()
        c0 = time.process_time()
        ev.set_cases(page)
        for subj in subjects:
            ev.judge(subj, at)
            ev.next_change(subj, at)
            f = ev.case_facts_of(subj.id)
            if f is not None:
                case_due_dates(f, at, ev.cal, TZ)
                case_due_dates_next_change(f, at, TZ)
        best = min(best, time.process_time() - c0)
    return best


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def bench(n_cases: int, n_tickets: int, n_changed: int, pages: int = 1) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": n_cases, "tickets": n_tickets}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, cases = build_store(Path(tmp) / "store.db", n_cases, n_tickets)
        out["store_build_s"] = round(time.perf_counter() - t0, 1)
        try:
            monitor = WarningMonitor(store, TZ, clock=lambda: NOW)
            gc.collect()
            t0, c0 = time.perf_counter(), time.process_time()
            first = monitor.process(NOW)
            out["full_pass_s"] = round(time.perf_counter() - t0, 3)
            out["full_pass_cpu_s"] = round(time.process_time() - c0, 3)
            out["full_pass_subjects"] = len(first.rejudged)
            t0 = time.perf_counter()
            full = evaluate_store(store, NOW, TZ)
            out["full_evaluation_s"] = round(time.perf_counter() - t0, 3)
            out["warnings"] = len(full.views)

            # the pass after a page of changes: the first one after the full pass, then more pages
            walls, cpus, judged, phases = [], [], [], []
            changed_cases: set[str] = set()
            ck_walls: list[float] = []
            ck_cpus: list[float] = []
            ck_frames: list[int | None] = []
            written: list[dict[str, int]] = []
            applied_cpus: list[float] = []
            given: list[int] = []
            cases_judged: list[int] = []
            for k in range(pages):
                page = changed_page(cases, n_changed, k)
                c0 = time.process_time()
                ids = _apply(store, page)
                applied_cpus.append(time.process_time() - c0)
                # the work on both sides: every change applied and handed over with its record...
                given.append(len(ids.records.get("case", {})))
                if len(ids) != n_changed or given[-1] != n_changed:
                    raise AssertionError(f"page {k}: {len(ids)} changes applied, {given[-1]} records handed over")
                at = NOW + timedelta(milliseconds=1 + k)
                monitor.changed(ids)
                gc.collect()
                t0, c0 = time.perf_counter(), time.process_time()
                rep = monitor.process(at)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                # what the monitor's thread does next, once the snapshot is out: the WAL checkpoint
                # its commit no longer does (counted here, beside the pass)
                t0, c0 = time.perf_counter(), time.process_time()
                frames = monitor.checkpoint()
                ck_walls.append(time.perf_counter() - t0)
                ck_cpus.append(time.process_time() - c0)
                ck_frames.append(None if frames is None else frames[1])
                judged.append(len(rep.rejudged))
                # ... and every changed case judged by the pass
                judged_cases = {subj.id for subj in rep.rejudged if subj.kind == "case"}
                cases_judged.append(len(judged_cases & ids.ids("case")))
                if cases_judged[-1] != n_changed:
                    raise AssertionError(f"page {k}: the pass judged {cases_judged[-1]} of {n_changed} changed cases")
                written.append(dict(rep.written))
                if not rep.written.get("states") or not rep.written.get("columns"):
                    raise AssertionError(f"the pass after a page wrote no rows: {dict(rep.written)}")
                phases.append({k: _ms(v) for k, v in rep.phases.items()})
                changed_cases |= ids.ids("case")
                assert rep.kind == "changes" and len(ids) == n_changed
            out["changes_page"] = n_changed
            out["changes_pass_ms"] = _ms(walls[0])
            out["changes_pass_cpu_ms"] = _ms(cpus[0])
            out["changes_pass_subjects"] = judged[0]
            out["changes_pass_records_given"] = given[0]
            out["changes_pass_changed_cases_judged"] = cases_judged[0]
            out["apply_page_cpu_ms"] = _ms(applied_cpus[0])
            out["changes_pass_phases_ms"] = phases[0]  # wall: load, judge, write (incl. commit), publish
            out["changes_pass_rows_written"] = written[0]
            out["checkpoint_after_pass_ms"] = _ms(ck_walls[0])
            out["checkpoint_after_pass_cpu_ms"] = _ms(ck_cpus[0])
            out["checkpoint_after_pass_frames"] = ck_frames[0]
            out["changes_pass_with_checkpoint_cpu_ms"] = _ms(cpus[0] + ck_cpus[0])
            if pages > 1:
                out["changes_passes_after_ms"] = [_ms(w) for w in walls[1:]]
                out["changes_passes_after_cpu_ms"] = [_ms(c) for c in cpus[1:]]
                out["changes_passes_after_subjects"] = judged[1:]
                out["changes_passes_after_records_given"] = given[1:]
                out["changes_passes_after_changed_cases_judged"] = cases_judged[1:]
                out["apply_pages_after_cpu_ms"] = [_ms(c) for c in applied_cpus[1:]]
                out["changes_passes_after_phases_ms"] = phases[1:]
                out["changes_passes_after_rows_written"] = written[1:]
                out["checkpoints_after_cpu_ms"] = [_ms(c) for c in ck_cpus[1:]]
                out["changes_passes_after_with_checkpoint_cpu_ms"] = [
                    _ms(a + b) for a, b in zip(cpus[1:], ck_cpus[1:], strict=True)
                ]
            out["target_changes_pass_ms"] = 50
            out["rules_only_page_cpu_ms"] = _ms(rules_only(store, sorted(ids.ids("case")), at))
            out["check_after_changes"] = check(store, monitor, at, sorted(changed_cases))

            # a timer pass with no deadline crossed, then one at the next deadline
            nxt = monitor.next_due()
            assert nxt is not None and nxt > at
            quiet = min(at + timedelta(seconds=5), nxt - timedelta(microseconds=1))
            runs = []
            for _ in range(20):
                t0 = time.perf_counter()
                rep = monitor.process(quiet)
                runs.append(time.perf_counter() - t0)
                assert rep.kind == "idle" and not rep.rejudged
            out["idle_timer_pass_ms"] = _ms(max(runs))
            out["idle_timer_pass_subjects"] = 0
            out["target_idle_timer_pass_ms"] = 5
            t0, c0 = time.perf_counter(), time.process_time()
            rep = monitor.process(nxt)
            out["crossing_timer_pass_ms"] = _ms(time.perf_counter() - t0)
            out["crossing_timer_pass_cpu_ms"] = _ms(time.process_time() - c0)
            out["crossing_timer_pass_subjects"] = len(rep.rejudged)
            out["check_after_timer"] = check(store, monitor, nxt, [s.id for s in rep.rejudged if s.kind == "case"])

            n = 100_000
            t0 = time.perf_counter()
            for _ in range(n):
                snap = monitor.snapshot()
            out["snapshot_ms"] = round((time.perf_counter() - t0) / n * 1000, 6)
            out["snapshot_views"] = len(snap.views)
            out["target_snapshot_ms"] = 1
        finally:
            store.close()
    out["ok"] = out["changes_pass_ms"] <= 50 and out["idle_timer_pass_ms"] <= 5 and out["snapshot_ms"] <= 1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--tickets", type=int, default=10_000)
    p.add_argument("--changed", type=int, default=1_000)
    p.add_argument("--pages", type=int, default=3, help="pages of changes, one pass each")
    a = p.parse_args(argv)
    init_process()  # the application's process settings (the GC's thresholds), as the terminal runs
    try:
        out = bench(a.cases, a.tickets, a.changed, a.pages)
    except AssertionError as e:
        print(f"monitor_bench: the incremental result differs from a full evaluation: {e}", file=sys.stderr)
        return 1
    load = [round(x, 1) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    json.dump(
        {"python": sys.version.split()[0], "loadavg": load, "cpus": os.cpu_count(), "monitor": out},
        sys.stdout,
        indent=1,
        default=str,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
