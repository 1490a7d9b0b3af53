"""`record` today (monitor, retention and sync running) against `record` before the running-terminal
issue (issue 10): CPU of the same 16 cameras, same inputs, same run.

    python -m benchmarks.record_compare [--streams 16] [--seconds 120] [--warmup 15] [--before DIR]

The inputs: 16 live 640×360 H.264 streams (a synthetic clip, a keyframe a second) served over HTTP
one frame at a time at 25 fps by another process (``benchmarks.paced_ts``), as cameras send them,
given to both sides as ``[[cameras]]`` (the demo hall's first 16 camera ids and windows). A
reference server (``sync.server.testing.ServerThread``) runs on 127.0.0.1 in this process with the
demo hall bootstrapped and its simulator live at speed 1 — on the demo clock (the last working day
at 10:00) outside office hours, so that cases and tickets keep changing; the demo hall's own
``synthetic://`` camera records are deleted on the server, so both sides record exactly the 16
configured cameras. Our side gets ``[server]`` (a terminal token made with ``add_terminal``) and
syncs, judges warnings and holds footage around them; the other side is ``main.py record`` of the
commit before the issue (default ``dfd042e``, a git worktree: ``git worktree add /tmp/hw-before
dfd042e``) with the same config minus ``[server]`` and ``[warnings]``, which it does not know.

Both processes run side by side over the same wall time, each with its own data folder (store
``hallwatch.db``, ``footage/``). CPU of each process (and any child) is read from /proc over the
same window after the warm-up. The work is counted, not assumed: the frames each side's segments
index holds (``segments.frames``), as stream-seconds at 25 fps; a side that recorded under 95 % of
its wall time (from its "recording …" line to the stop) fails the run (exit 1). Printed: ms CPU per
stream-second of each side (the window's CPU over streams × window seconds), the ratio ours/before
(target ≤ 1.05), what our sync did (rounds, changes applied, from the status), and the load average
at the start and end of the window. Prints JSON last.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from benchmarks.record_bench import _start_server

ROOT = Path(__file__).resolve().parents[1]
FPS = 25
MIN_RECORDED = 0.95
TARGET_RATIO = 1.05
DEMO_SCOPE = "hall-anshan"


# Run main.py with a daemon thread that writes, every second, the CPU time of each Python thread
# (by name) and of the whole process: where a side's CPU goes (``--threads``; same on both sides).
THREADS_WRAPPER = r"""
import json, os, re, runpy, sys, threading, time
out = os.environ["HW_BENCH_THREADS"]
def group(name):
    return re.sub(r"\d+", "N", re.sub(r"cam-[A-Za-z0-9]+", "cam-*", name))
def sample():
    with open(out, "a", encoding="utf-8") as f:
        while True:
            res = {}
            for t in threading.enumerate():
                try:
                    cpu = time.clock_gettime(time.pthread_getcpuclockid(t.ident))
                except (OSError, TypeError, OverflowError):
                    continue
                res[group(t.name)] = res.get(group(t.name), 0.0) + cpu
            f.write(json.dumps({"t": time.monotonic(), "process": time.process_time(), "threads": res}) + "\n")
            f.flush()
            time.sleep(1.0)
threading.Thread(target=sample, name="bench-thread-sampler", daemon=True).start()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def thread_cpu(path: Path, t0: float, t1: float) -> dict[str, float]:
    """Per thread group, the CPU seconds between the first and last samples in [t0, t1]; "(native and
    ended threads)" is the process's CPU not in a live Python thread (FFmpeg's own threads...)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(rows) < 2:
        return {}
    inside = [r for r in rows if t0 <= r["t"] <= t1]  # never a sample of the stop (threads gone)
    if len(inside) < 2:
        return {}
    a, b = inside[0], inside[-1]
    out = {name: round(cpu - a["threads"].get(name, 0.0), 3) for name, cpu in b["threads"].items()}
    out["(native and ended threads)"] = round(b["process"] - a["process"] - sum(out.values()), 3)
    out["(sampled span s)"] = round(b["t"] - a["t"], 1)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


# -- /proc -------------------------------------------------------------------------------------------
def _tick() -> int:
    return os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds so far) of a live process; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _tick()


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` and its live descendants (threads are counted in their process)."""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = proc_stat(int(entry))
            if st is not None:
                parents[int(entry)], cpu[int(entry)] = st
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0.0)
        todo.extend(c for c, pp in parents.items() if pp == p)
    return total


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def loadavg() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# -- the reference server with the demo hall ---------------------------------------------------------
def demo_clock(tz: str = "Asia/Shanghai") -> Callable[[], datetime]:
    """The embedded demo's clock (``app.democlock``): the wall clock in office hours, else the last
    working day at 10:00, running."""
    from zoneinfo import ZoneInfo

    from app.democlock import DemoClock, demo_start
    from supervision.calendar import WorkCalendar

    zone = ZoneInfo(tz)
    return DemoClock(zone, demo_start(datetime.now(UTC), WorkCalendar(), zone))


class DemoServer:
    """The reference server on 127.0.0.1 with the demo hall, its simulator live; no camera records."""

    def __init__(self, folder: Path, *, speed: float = 1.0, simulate: bool = True) -> None:
        from sync.server.simulate import Simulator
        from sync.server.store import CentralStore
        from sync.server.testing import ServerThread

        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "central.db"
        self.central = CentralStore(self.path)
        self.clock = demo_clock()
        self.sim = Simulator(self.central, speed=speed, clock=self.clock)
        self.bootstrapped = self.sim.bootstrap()
        cams = self.central.current("camera")
        self.demo_cameras = {rid: data for (_t, rid), (_v, data) in cams.items()}
        if cams:
            self.central.publish([{"type": "camera", "id": rid, "op": "delete", "data": None} for (_t, rid) in cams])
        self.token = self.central.add_terminal("bench-ws", "operator", DEMO_SCOPE)
        self.server = ServerThread(self.central).start()
        self.url = self.server.url
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if simulate:
            self._thread = threading.Thread(target=self.sim.run, args=(self._stop,), name="bench-simulator")
            self._thread.start()

    def seq(self) -> int:
        """The server's last seq (what the simulator has published so far)."""
        with sqlite3.connect(self.path) as c:
            return int(c.execute("SELECT max(seq) FROM records").fetchone()[0] or 0)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        self.server.stop()
        self.central.close()


# -- the two sides -----------------------------------------------------------------------------------
def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def write_config(path: Path, cameras: list[tuple[str, str, str]], *, segment: float,
                 server: tuple[str, str, float] | None, warnings_interval: float | None) -> None:
    lines = ["[logging]", 'level = "INFO"', "", "[recording]", f"segment_seconds = {segment}", ""]
    if server is not None:
        url, token, interval = server
        lines += ["[server]", f"url = {_toml_str(url)}", f"token = {_toml_str(token)}", f"interval = {interval}", ""]
    if warnings_interval is not None:
        lines += ["[warnings]", f"interval_seconds = {warnings_interval}", ""]
    for cid, window, url in cameras:
        lines += ["[[cameras]]", f"id = {_toml_str(cid)}", f"url = {_toml_str(url)}",
                  f"window_id = {_toml_str(window)}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


class Side:
    def __init__(self, name: str, root: Path, data: Path, config: Path, *, threads: bool = False) -> None:
        self.name, self.root, self.data, self.config = name, root, data, config
        env = dict(os.environ, PYTHONPATH=str(root), PYTHONUNBUFFERED="1")
        env.pop("HALLWATCH_TOKEN", None)
        self.threads_file: Path | None = None
        wrapper: list[str] = []
        if threads:
            self.threads_file = data.parent / f"{name}.threads.jsonl"
            env["HW_BENCH_THREADS"] = str(self.threads_file)
            wrapper = ["-c", THREADS_WRAPPER]
        self.err = open(data.parent / f"{name}.stderr", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, *wrapper, str(root / "main.py"), "--data", str(data), "--config", str(config), "record"],
            cwd=str(root), env=env, stdout=subprocess.PIPE, stderr=self.err, text=True,
        )
        self.started: float | None = None
        self.stopped: float | None = None
        self.out: list[str] = []
        self._reader = threading.Thread(target=self._read, name=f"read-{name}")
        self._reader.start()
        self._ready = threading.Event()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))
            if line.startswith("recording ") and self.started is None:
                self.started = time.monotonic()
                self._ready.set()
        self._ready.set()

    def wait_ready(self, timeout: float) -> None:
        if not self._ready.wait(timeout) or self.started is None:
            raise SystemExit(f"{self.name}: `record` did not start within {timeout:.0f} s; stderr in "
                             f"{self.err.name}: {Path(self.err.name).read_text(errors='replace')[-2000:]}")

    def cpu(self) -> float:
        return tree_cpu(self.proc.pid)

    def signal_stop(self) -> None:
        self.stopped = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        self._reader.join(10)
        self.err.close()
        return code

    def frames(self) -> tuple[int, int]:
        """(frames, segments) in this side's footage index."""
        with sqlite3.connect(self.data / "hallwatch.db") as c:
            frames, n = c.execute("SELECT coalesce(sum(frames), 0), count(*) FROM segments").fetchone()
        return int(frames), int(n)


SYNCED = ("cases", "tickets", "complaints", "evaluations", "seat_vacancies", "windows")


def _sync_counts(data: Path, since_seq: int) -> dict[str, int]:
    """What our side's sync brought in: records per table, and those with a seq after ``since_seq``
    (changes the server published during the window); the other side has none."""
    out: dict[str, int] = {}
    with sqlite3.connect(data / "hallwatch.db") as c:
        for table in SYNCED:
            try:
                out[table] = int(c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                out["changed_in_window"] = out.get("changed_in_window", 0) + int(
                    c.execute(f"SELECT count(*) FROM {table} WHERE seq > ?", (since_seq,)).fetchone()[0])
            except sqlite3.Error:
                pass
        out["warning_states"] = int(c.execute("SELECT count(*) FROM warning_states").fetchone()[0])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.record_compare", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=120.0, help="measured window (default 120 s)")
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds after both print 'recording' (default 15)")
    parser.add_argument("--segment", type=float, default=60.0, help="segment_seconds on both sides (default 60)")
    parser.add_argument("--sync-interval", type=float, default=15.0,
                        help="our [server] interval (default 15 s, the product's default)")
    parser.add_argument("--before", type=Path, default=Path("/tmp/hw-before"),
                        help="worktree of the commit before issue 10 (default /tmp/hw-before, at dfd042e)")
    parser.add_argument("--min-recorded", type=float, default=MIN_RECORDED,
                        help="a side recording less of its wall time fails (default 0.95; a seconds-long run "
                        "spends a larger share connecting)")
    parser.add_argument("--threads", action="store_true",
                        help="also sample each side's CPU per Python thread (a sampler thread in each: analysis)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    if not (args.before / "main.py").exists():
        print(f"error: no worktree of the commit before the issue at {args.before} "
              f"(cd /work/main && git worktree add {args.before} dfd042e)", file=sys.stderr)
        return 2
    from video.synthetic import write_file

    tmp = None
    if args.keep is not None:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="hallwatch-record-compare-")
        work = Path(tmp.name)
    clip = work / "clip.ts"
    total = args.seconds + args.warmup + 30  # start-up and stop inside the clip: no reconnect
    t0 = time.monotonic()
    write_file(clip, seconds=total, label="A01", preset="veryfast")
    print(f"clip of {total:.0f} s written in {time.monotonic() - t0:.1f} s", flush=True)
    paced, port = _start_server(clip)
    demo = DemoServer(work / "server")
    sides: list[Side] = []
    result: dict[str, Any] = {}
    failed: list[str] = []
    try:
        cams = sorted(demo.demo_cameras.items())[: args.streams]
        if len(cams) < args.streams:
            cams += [(f"cam-X{i:02d}", {"window_id": None}) for i in range(len(cams), args.streams)]
        cameras = [(cid, str(d.get("window_id") or ""), f"http://127.0.0.1:{port}/{cid}.ts")
                   for cid, d in cams]
        for name in ("ours", "before"):
            (work / name).mkdir(exist_ok=True)
        write_config(work / "ours" / "config.toml", cameras, segment=args.segment,
                     server=(demo.url, demo.token, args.sync_interval), warnings_interval=5)
        write_config(work / "before" / "config.toml", cameras, segment=args.segment, server=None,
                     warnings_interval=None)
        ours = Side("ours", ROOT, work / "ours" / "data", work / "ours" / "config.toml", threads=args.threads)
        before = Side("before", args.before.resolve(), work / "before" / "data", work / "before" / "config.toml",
                      threads=args.threads)
        sides = [ours, before]
        for s in sides:
            s.wait_ready(120)
        time.sleep(args.warmup)
        load0 = loadavg()
        seq0 = demo.seq()
        cpu0 = {s.name: s.cpu() for s in sides}
        w0 = time.monotonic()
        time.sleep(args.seconds)
        cpu1 = {s.name: s.cpu() for s in sides}
        w1 = time.monotonic()
        window = w1 - w0
        load1 = loadavg()
        seq1 = demo.seq()
        rss = {s.name: round(rss_mb(s.proc.pid), 1) for s in sides}
        for s in sides:
            s.signal_stop()
        codes = {s.name: s.wait(60) for s in sides}
        for s in sides:
            frames, segments = s.frames()
            assert s.started is not None and s.stopped is not None
            wall = s.stopped - s.started
            recorded = frames / FPS
            cpu = cpu1[s.name] - cpu0[s.name]
            result[s.name] = {
                "exit_code": codes[s.name],
                "wall_s": round(wall, 1),
                "frames": frames,
                "segments": segments,
                "recorded_stream_s": round(recorded, 1),
                "recorded_share_of_wall": round(recorded / (args.streams * wall), 3),
                "window_cpu_s": round(cpu, 2),
                "cpu_share_of_a_core": round(cpu / window, 3),
                "cpu_ms_per_stream_second": round(1000 * cpu / (args.streams * window), 3),
                "rss_mb": rss[s.name],
                "last_lines": s.out[-2:],
            }
            if s.threads_file is not None:
                result[s.name]["threads_cpu_s"] = thread_cpu(s.threads_file, w0, w1)
            if result[s.name]["recorded_share_of_wall"] < args.min_recorded:
                failed.append(f"{s.name} recorded under {args.min_recorded:.0%} of its wall time")
            if codes[s.name] != 0:
                failed.append(f"{s.name} exited {codes[s.name]}")
        result["ours"]["store"] = _sync_counts(ours.data, seq0)
        if not result["ours"]["store"].get("cases"):
            failed.append("ours synced no cases from the reference server (is sync running?)")
        ratio = result["ours"]["cpu_ms_per_stream_second"] / result["before"]["cpu_ms_per_stream_second"]
        result.update({
            "streams": args.streams,
            "window_s": round(window, 1),
            "warmup_s": args.warmup,
            "segment_s": args.segment,
            "sync_interval_s": args.sync_interval,
            "server_changes_published_in_window": seq1 - seq0,
            "loadavg_window_start": load0,
            "loadavg_window_end": load1,
            "cpus": os.cpu_count(),
            "ratio_ours_to_before": round(ratio, 3),
            "target_ratio": TARGET_RATIO,
            "meets_target": ratio <= TARGET_RATIO,
            "failed": failed,
        })
    finally:
        for s in sides:
            if s.proc.poll() is None:
                s.proc.kill()
                s.wait(10)
        demo.stop()
        paced.terminate()
        paced.wait(10)
        if paced.stdout is not None:
            paced.stdout.close()
        if tmp is not None:
            tmp.cleanup()
    for name in ("ours", "before"):
        r = cast(dict[str, Any], result[name])
        print(f"{name:>6}: {r['cpu_ms_per_stream_second']:.3f} ms CPU per stream-second "
              f"({r['cpu_share_of_a_core']:.2f} of a core), recorded {r['recorded_share_of_wall']:.1%} of "
              f"{args.streams} × {r['wall_s']} s, RSS {r['rss_mb']} MB")
    print(f" ratio: {result['ratio_ours_to_before']:.3f} (target ≤ {TARGET_RATIO}); load average "
          f"{result['loadavg_window_start']} → {result['loadavg_window_end']} on {os.cpu_count()} CPUs")
    for f in failed:
        print(f"FAILED: {f}")
    print(json.dumps(result, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
