"""Resident memory of the operator window with 16 tiles playing and 100 000 cases (issue 11).

    python -m benchmarks.operator_memory [--minutes 30] [--cases 100000] [--tiles 16] [--interval 10]

The parts are the product's: an ``app.terminal.Terminal`` (recording, the warning monitor, the sync
engine) under a ``desktop.operator.window.OperatorWindow`` (offscreen Qt, 1600×1000, the 4×4 grid it
picks for 16 cameras). Its store holds the demo hall and ``--cases`` cases, written as the case
table's tests write them (``tests/desktop/test_panels_cases.py``: rows inserted directly, due dates
and worst levels filled); the terminal syncs every 3 s (as the demo) with the reference server on
127.0.0.1 (in a child process: its memory is not the window's) running the demo hall's simulator
live at speed 1 (on the demo clock outside office hours). The 16 cameras are synthetic clips of
``video.synthetic`` (H.264, 25 fps, a keyframe a second; a 640×360 main stream, recorded, and a
320×180 sub-stream, shown in the 4×4 tiles) served live over HTTP by other processes
(``benchmarks.paced_ts``); each connection plays its clip (``--clip-seconds``) and the camera
reconnects at its end.

The resident memory is also taken at each stage of the start (before the terminal; after its
first warning pass; with the window shown and the tiles playing). Every ``--interval`` seconds:
the process's resident memory (VmRSS), the frames each tile painted since the last sample, the
memory blocks Python's allocator holds (``sys.getallocatedblocks``: not ``gc.get_objects()``,
which can show another thread a tuple being built and make its ``tuple()`` fail), and the load
average. Reported: the peak of the samples (target ≤ 600 MB; the process's high-water mark,
start-up included, is reported beside it), and the slope of a least-squares line through the
second half's samples, in MB per minute (flat: ≤ 1 MB/min, i.e. under 30 MB over 30 minutes —
this benchmark's reading of "flat"); the run fails (exit 1) when either is missed. Work counted:
every tile must keep painting (each at ``--min-fps`` or more over the run) and the store must
still hold every case at the end, or the run fails too. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.gui_stalls import (
    RemoteDemo,
    camera_entries,
    operator_window,
    painted,
    run_for,
    start_cameras,
    stop_process,
    tile_modes,
    wait_until,
)
from benchmarks.record_compare import demo_clock, loadavg, rss_mb

TARGET_MB = 600.0
FLAT_MB_PER_MIN = 1.0
PREFIX = "C-MEM-"
APPLICANTS = ("王**", "李**", "张**", "鞍山**商贸有限公司", "辽宁**建设集团有限公司", "刘**", "陈**")


def build_store(path: Path, n: int, seed: int = 7) -> float:
    """The demo hall (its cameras left out) and ``n`` cases, as the case table's tests build them."""
    from sqlalchemy import insert

    from supervision import demo
    from supervision.ingest import import_page
    from supervision.records import ChangesPage
    from supervision.snapshot import load_case_types
    from supervision.store import open_store
    from supervision.store.models import CaseRow

    t0 = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path)
    try:
        body = demo.load_hall()
        body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
        import_page(store, ChangesPage.model_validate(body), source="hall")
        rnd = random.Random(seed)
        with store.read() as s:
            types = list(load_case_types(s))
        windows = [f"win-{a}{i:02d}" for a in "ABC" for i in range(1, 11)]
        statuses = ("accepted", "in_progress", "in_progress", "suspended", "completed", "completed", "rejected")
        now = demo_now()
        base = now.astimezone(UTC)
        day = now.date()
        rows = []
        for i in range(n):
            sub = base - timedelta(days=rnd.randint(0, 120), minutes=rnd.randint(0, 600))
            status = rnd.choice(statuses)
            promised = day + timedelta(days=rnd.randint(-20, 25))
            rows.append({
                "id": f"{PREFIX}{i:06d}", "version": 1, "deleted": False, "seq": 0,
                "case_type_id": rnd.choice(types), "window_id": rnd.choice(windows), "ticket_id": None,
                "applicant": rnd.choice(APPLICANTS), "submitted_at": sub, "status": status,
                "stages": [{"stage": "submitted", "at": sub.isoformat(), "by": "a"},
                           {"stage": "accepted", "at": (sub + timedelta(minutes=9)).isoformat(), "by": "b"}],
                "suspensions": [], "fee_charged": "0",
                "completed_at": sub + timedelta(days=3) if status == "completed" else None,
                "promised_due": promised if rnd.random() > 0.02 else None,
                "legal_due": promised + timedelta(days=rnd.randint(0, 20)),
                "worst_level": rnd.choices((0, 1, 2, 3), (80, 8, 9, 3))[0],
            })
            if len(rows) == 10_000:
                with store.engine.begin() as conn:
                    conn.execute(insert(CaseRow), rows)
                rows = []
        if rows:
            with store.engine.begin() as conn:
                conn.execute(insert(CaseRow), rows)
    finally:
        store.close()
    return time.monotonic() - t0


def demo_now() -> Any:
    """The demo clock's now in the hall's zone (the cases are dated around it)."""
    from zoneinfo import ZoneInfo

    return demo_clock()().astimezone(ZoneInfo("Asia/Shanghai"))


def count_cases(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10) as c:
        return int(c.execute("SELECT count(*) FROM cases WHERE id >= ? AND id < ?",
                             (PREFIX, PREFIX + "\uffff")).fetchone()[0])


def high_water_mb() -> float:
    """The process's peak resident memory so far (VmHWM), start-up included: between samples too."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y) points."""
    if len(points) < 2:
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else None


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except TimeoutError as e:
        print(f"FAILED: {e}")
        print(json.dumps({"failed": [str(e)], "loadavg": loadavg()}))
        return 1


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.operator_memory", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--tiles", type=int, default=16)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples (default 10)")
    parser.add_argument("--clip-seconds", type=float, default=300.0,
                        help="the cameras' clip; each connection plays it once, then the tile reconnects")
    parser.add_argument("--flat-mb-per-min", type=float, default=FLAT_MB_PER_MIN,
                        help=f"the second half's slope that still counts as flat (default {FLAT_MB_PER_MIN:g}; a "
                             "run of a few seconds has no meaningful slope, so its smoke test raises this)")
    parser.add_argument("--min-fps", type=float, default=12.0,
                        help="each tile keeps playing at this rate over the run at least (default 12)")
    args = parser.parse_args(argv)

    from app.runtime import init_process
    from app.terminal import Terminal
    from supervision.config import Config

    init_process()
    failed: list[str] = []
    samples: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hallwatch-operator-memory-") as tmp:
        work = Path(tmp)
        db = work / "data" / "hallwatch.db"
        store_s = build_store(db, args.cases)
        print(f"store with {args.cases} cases built in {store_s:.1f} s", flush=True)
        camera_procs, port, sub_port = start_cameras(work, seconds=args.clip_seconds)
        demo = RemoteDemo(work / "server", simulate=True)  # its memory is not the window's
        terminal = None
        window = None
        try:
            cfg = Config.model_validate({
                "server": {"url": demo.url, "token": demo.token, "interval": 3},
                "cameras": camera_entries(demo, args.tiles, port, sub_port),
            })
            stages = {"before_terminal": round(rss_mb(os.getpid()), 1)}
            terminal = Terminal(cfg, work / "data", command="bench")
            terminal.start()
            deadline = time.monotonic() + 300  # no Qt application yet: a plain wait
            while terminal.warnings().generation == 0:
                if time.monotonic() > deadline:
                    raise TimeoutError("the warning monitor's first pass: not within 300 s")
                time.sleep(0.2)
            stages["terminal_and_first_warning_pass"] = round(rss_mb(os.getpid()), 1)
            warnings_in_force = len(terminal.warnings().views)
            window = operator_window(terminal, work)
            wait_until(lambda: len(painted(window)) >= args.tiles and min(painted(window)) > 0, 120,
                       f"{args.tiles} tiles painting")
            stages["window_and_tiles_playing"] = round(rss_mb(os.getpid()), 1)
            t0 = time.monotonic()
            end = t0 + args.minutes * 60
            last = painted(window)
            first_frames = list(last)
            last_t = t0
            while True:
                now = time.monotonic()
                frames = painted(window)
                fps = [round((b - a) / (now - last_t), 1) if now > last_t else 0.0
                       for a, b in zip(last, frames, strict=False)]
                sample = {"t_min": round((now - t0) / 60, 3), "rss_mb": round(rss_mb(os.getpid()), 1),
                          "py_blocks": sys.getallocatedblocks(), "fps_min": min(fps) if fps else 0.0,
                          "fps_median": statistics.median(fps) if fps else 0.0, "loadavg": loadavg()}
                samples.append(sample)
                print(json.dumps(sample), flush=True)
                last, last_t = frames, now
                if now >= end:
                    break
                run_for(int(min(args.interval, max(0.0, end - now)) * 1000) or 1)
            span = time.monotonic() - t0
            total_fps = [round((b - a) / span, 1) for a, b in zip(first_frames, painted(window), strict=False)]
            modes = tile_modes(window)
            hwm = high_water_mb()
        finally:
            if window is not None:
                window.close()
                run_for(200)
            if terminal is not None:
                terminal.stop(time.monotonic() + 10)
            demo.stop()
            for proc in camera_procs:
                stop_process(proc)
        kept = count_cases(db)
    if kept < args.cases:
        failed.append(f"the store holds {kept} of the {args.cases} cases")
    slow = [i for i, f in enumerate(total_fps) if f < args.min_fps]
    if len(total_fps) < args.tiles or slow:
        failed.append(f"tiles under {args.min_fps:g} fps over the run: {slow}" if slow
                      else f"only {len(total_fps)} tiles")
    half = [(s["t_min"], s["rss_mb"]) for s in samples if s["t_min"] >= args.minutes / 2]
    peak = max(s["rss_mb"] for s in samples)
    growth = slope(half)
    if peak > TARGET_MB:
        failed.append(f"resident memory reached {peak:.0f} MB (target ≤ {TARGET_MB:g} MB)")
    flat = args.flat_mb_per_min
    if growth is None or growth > flat:
        failed.append(f"resident memory grows {growth:.2f} MB/min over the second half (flat: ≤ {flat:g})"
                      if growth is not None else "too few samples in the second half for a slope")
    result = {
        "minutes": args.minutes,
        "cases": args.cases,
        "cases_kept": kept,
        "tiles": len(total_fps),
        "painted_fps_per_tile": total_fps,
        "tile_modes": modes,
        "samples": len(samples),
        "rss_by_stage_mb": stages,
        "warnings_in_force": warnings_in_force,
        "rss_first_mb": samples[0]["rss_mb"],
        "rss_after_5_min_mb": next((s["rss_mb"] for s in samples if s["t_min"] >= 5), None),
        "rss_last_mb": samples[-1]["rss_mb"],
        "rss_peak_mb": peak,
        "rss_high_water_mb": hwm,
        "second_half_slope_mb_per_min": round(growth, 3) if growth is not None else None,
        "py_blocks_first": samples[0]["py_blocks"],
        "py_blocks_last": samples[-1]["py_blocks"],
        "target_peak_mb": TARGET_MB,
        "flat_if_slope_under_mb_per_min": flat,
        "meets_peak": peak <= TARGET_MB,
        "meets_flat": growth is not None and growth <= flat,
        "loadavg_start": samples[0]["loadavg"],
        "loadavg_end": samples[-1]["loadavg"],
        "cpus": os.cpu_count(),
        "store_build_s": round(store_s, 1),
        "trace": [(s["t_min"], s["rss_mb"]) for s in samples],
        "failed": failed,
    }
    print(f"RSS {result['rss_first_mb']} → {result['rss_last_mb']} MB, peak {peak} MB (target ≤ {TARGET_MB:g}; "
          f"high-water mark {hwm} MB); "
          f"second-half slope {result['second_half_slope_mb_per_min']} MB/min (flat: ≤ {flat:g}); "
          f"{len(total_fps)} tiles at {min(total_fps) if total_fps else 0}–{max(total_fps) if total_fps else 0} fps; "
          f"{kept} cases kept; load {result['loadavg_start']} → {result['loadavg_end']}")
    for f in failed:
        print(f"FAILED: {f}")
    print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
