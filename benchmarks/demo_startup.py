"""Time to the first painted video frame: `python main.py --demo` started cold, and a camera dropped
on a tile (issue 11).

    python -m benchmarks.demo_startup [--runs 2] [--drops 10] [--skip-demo] [--skip-drop]

1. ``--demo``: ``python main.py --data DIR --demo`` as a subprocess (offscreen Qt, its own settings
   folder through ``XDG_CONFIG_HOME``), first on a fresh data folder, then resumed on the same one
   (``--runs`` pairs). The time is from starting the process to the log line the grid writes when
   a tile paints its first frame (``DATA/logs/hallwatch.log``, "tile N: first frame of camera …
   painted"; read from the log's own timestamp, and also as seen by polling the file every 20 ms).
   Also shown: when the window was shown, and how long the process took to exit after SIGTERM.
   Target ≤ 5 s.
2. A camera dropped on a tile, in-process: a terminal (recording, as the operator's runs) with two
   synthetic cameras (``synthetic://``, 640×360, a keyframe every second: the default encoder's
   GOP), an ``OperatorWindow`` in the one-tile layout, and a real ``QDropEvent`` (the camera tree's
   MIME type) on the tile, alternating the cameras ``--drops`` times (``--no-record``: no recording,
   and each drop a camera not connected before: connecting is part of the time); the figure is the tile's
   ``grid.stats().first_frame_s`` (from putting the camera on the tile to its first painted frame).
   Target ≤ 1.5 s (each drop).

Work counted: every start must paint a frame, every drop must paint a frame, or the run fails
(exit 1). Prints figures, the load average and JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from benchmarks.gui_stalls import operator_window, run_for, wait_until
from benchmarks.record_compare import loadavg

ROOT = Path(__file__).resolve().parents[1]
TARGET_DEMO_S = 5.0
TARGET_DROP_S = 1.5
FIRST_FRAME = re.compile(r"^(\S+ \S+) INFO .*tile (\d+): first frame of camera (\S+) painted")
SHOWN = re.compile(r"^(\S+ \S+) INFO .*operator window shown")
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
# Where the time goes: the first log line matching each (seconds from starting the process).
MILESTONES = (
    ("first_log_line", re.compile(r"")),
    ("server_listening", re.compile(r"sync\.server\.testing: server listening")),
    ("terminal_started", re.compile(r"app\.terminal: terminal started")),
    ("window_shown", re.compile(r"operator window shown")),
    ("first_camera_added", re.compile(r"app\.cameras: camera \S+ added")),
    ("first_source_live", re.compile(r"video\.source: .*: live$")),
    ("first_sync_round_done", re.compile(r"sync\.engine: sync round")),
    ("first_frame_painted", re.compile(r"first frame of camera \S+ painted")),
)


def _log_time(stamp: str) -> float:
    """A log line's asctime ('2026-12-06 08:47:01,123', the process's local time) as a POSIX time."""
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def demo_start(data: Path, config_home: Path, timeout: float) -> dict[str, Any]:
    """One ``main.py --demo`` until its first painted frame; then SIGTERM and the time to exit."""
    log_path = data / "logs" / "hallwatch.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(config_home), PYTHONPATH=str(ROOT))
    fresh = not (data / "demo").exists()
    wall0, t0 = time.time(), time.monotonic()
    err_path = data.parent / f"{data.name}.stderr"
    with open(err_path, "wb") as err_file:
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--data", str(data), "--demo"],
                                cwd=str(ROOT), env=env, stdout=subprocess.DEVNULL, stderr=err_file)
    first: tuple[float, float, str] | None = None  # (by the log's stamp, as seen, camera)
    milestones: dict[str, float] = {}
    shown: float | None = None
    buf = ""
    try:
        while time.monotonic() - t0 < timeout and proc.poll() is None:
            if log_path.exists():
                with open(log_path, encoding="utf-8", errors="replace") as f:
                    f.seek(offset)
                    chunk = f.read()
                    offset = f.tell()
                buf += chunk
                *lines, buf = buf.split("\n")
                seen = time.monotonic() - t0
                for line in lines:
                    stamp = STAMP.match(line)
                    for name, pattern in MILESTONES:
                        if stamp and name not in milestones and pattern.search(line):
                            milestones[name] = round(_log_time(stamp.group(1)) - wall0, 3)
                    if shown is None and (m := SHOWN.match(line)):
                        shown = _log_time(m.group(1)) - wall0
                    if first is None and (m := FIRST_FRAME.match(line)):
                        first = (_log_time(m.group(1)) - wall0, seen, m.group(3))
            if first is not None:
                break
            time.sleep(0.02)
    finally:
        s0 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait(10)
        stop_s = time.monotonic() - s0
        err = err_path.read_text(encoding="utf-8", errors="replace")
    return {
        "folder": "fresh" if fresh else "resumed",
        "first_frame_s": round(first[0], 3) if first else None,
        "first_frame_seen_s": round(first[1], 3) if first else None,
        "camera": first[2] if first else None,
        "window_shown_s": round(shown, 3) if shown is not None else None,
        "exit_after_sigterm_s": round(stop_s, 2),
        "milestones_s": milestones,
        "exit_code": code,
        "stderr_tail": err.strip().splitlines()[-3:] if first is None else [],
    }


def drops(work: Path, n: int, record: bool) -> dict[str, Any]:
    """``n`` drops of two synthetic cameras, alternating, on the one tile of an operator window."""
    from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
    from PySide6.QtGui import QDropEvent

    from app.terminal import Terminal
    from desktop.video.grid import CAMERA_MIME
    from supervision.config import Config

    count = 2 if record else max(n, 1)  # cold: each drop a camera nobody has connected yet
    cfg = Config.model_validate({"cameras": [
        {"id": f"cam-D{i}", "name": f"D{i}", "url": f"synthetic://window/D{i}"} for i in range(count)]})
    terminal = Terminal(cfg, work / "drop-data", command="bench", record=record, sync=False)
    terminal.start()
    window = None
    times: list[float | None] = []
    try:
        window = operator_window(terminal, work, size=(1280, 800))
        grid = window.grid
        wait_until(lambda: any(grid.cameras()), 60, "the grid filled with the registry's cameras")
        grid.set_layout("1")
        grid.set_camera(0, None)
        if not record:  # the grid filled itself: wait until those decoders are let go
            run_for(2500)
        if record:  # every camera connected and recording before the drops, as in the operator's runs
            wait_until(lambda: all(c.online for c in terminal.cameras.status().cameras), 60, "cameras online")
        run_for(1500)
        for k in range(n):
            cid = f"cam-D{k % count}"
            mime = QMimeData()
            mime.setData(CAMERA_MIME, QByteArray(cid.encode("utf-8")))
            centre = QPointF(grid.tile_rect(0).center())
            event = QDropEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                               Qt.KeyboardModifier.NoModifier)
            grid.dropEvent(event)
            try:
                wait_until(lambda: grid.stats()[0].first_frame_s is not None, 10, f"drop {k}: a first frame",
                           step_ms=10)
                times.append(grid.stats()[0].first_frame_s)
            except TimeoutError:
                times.append(None)
            run_for(700)  # a moment of playing, then the other camera comes
    finally:
        if window is not None:
            window.close()
            run_for(200)
        terminal.stop(time.monotonic() + 10)
    got = [t for t in times if t is not None]
    return {
        "drops": n,
        "painted": len(got),
        "recording": record,
        "first_frame_s": [round(t, 3) if t is not None else None for t in times],
        "median_s": round(statistics.median(got), 3) if got else None,
        "max_s": round(max(got), 3) if got else None,
        "keyframe_interval_s": 1.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.demo_startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="fresh + resumed pairs of --demo starts (default 2)")
    parser.add_argument("--drops", type=int, default=10)
    parser.add_argument("--timeout", type=float, default=120.0, help="for a start's first frame (default 120 s)")
    parser.add_argument("--no-record", action="store_true", help="drops onto cameras nobody records (cold)")
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument("--skip-drop", action="store_true")
    args = parser.parse_args(argv)
    failed: list[str] = []
    result: dict[str, Any] = {"loadavg_start": loadavg(), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="hallwatch-demo-startup-") as tmp:
        work = Path(tmp)
        if not args.skip_demo:
            starts = []
            for r in range(args.runs):
                data = work / f"data-{r}"
                for _ in ("fresh", "resumed"):
                    s = demo_start(data, work / f"config-{r}", args.timeout)
                    s["loadavg"] = loadavg()
                    starts.append(s)
                    print(f"--demo ({s['folder']}): first frame {s['first_frame_s']} s (window shown "
                          f"{s['window_shown_s']} s), exit {s['exit_after_sigterm_s']} s after SIGTERM; "
                          f"load {s['loadavg']}", flush=True)
                    if s["first_frame_s"] is None:
                        failed.append(f"--demo ({s['folder']}) painted no frame within {args.timeout:g} s")
            got = [s["first_frame_s"] for s in starts if s["first_frame_s"] is not None]
            result["demo"] = {
                "starts": starts,
                "max_s": max(got) if got else None,
                "target_s": TARGET_DEMO_S,
                "meets_target": bool(got) and len(got) == len(starts) and max(got) <= TARGET_DEMO_S,
            }
        if not args.skip_drop:
            d = drops(work, args.drops, record=not args.no_record)
            d["target_s"] = TARGET_DROP_S
            d["meets_target"] = d["painted"] == d["drops"] and d["max_s"] is not None and d["max_s"] <= TARGET_DROP_S
            result["drop"] = d
            print(f"drop: {d['painted']}/{d['drops']} painted; first frame median {d['median_s']} s, max "
                  f"{d['max_s']} s (target ≤ {TARGET_DROP_S}): {d['first_frame_s']}", flush=True)
            if d["painted"] < d["drops"]:
                failed.append(f"{d['drops'] - d['painted']} drops painted no frame within 10 s")
    result["loadavg_end"] = loadavg()
    result["failed"] = failed
    print(f"load average {result['loadavg_start']} → {result['loadavg_end']} on {os.cpu_count()} CPUs")
    for f in failed:
        print(f"FAILED: {f}")
    print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
