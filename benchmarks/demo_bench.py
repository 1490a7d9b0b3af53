"""The embedded demo's steady CPU with the default grid: the 1.2-core budget of issue 11.

    python -m benchmarks.demo_bench [--seconds 60] [--warmup 15] [--tiles 16] [--data DIR] [--no-reference]

Runs the whole demo in this process — reference server, simulator, terminal (sync, warnings,
recording of every camera), the synthetic cameras — and decodes ``--tiles`` sub-streams as the grid
would (``video.DisplayDecoder`` on ``camera.display(320, 180, 16)`` of that many cameras; painting
is the desktop's and not counted here). After warm-up (every main stream looping its clip, every
camera recorded, then ``--warmup`` s) the process's CPU (``/proc/self/stat``, all threads) is read
over ``--seconds``. Also measured: the frames each tile's decoder converted and published, and the
seconds every recorder wrote (from the recorders' status) — the work both sides do.

Reference, same run, same work: the demo with every main stream encoded live (``looped=False``,
how the demo ran before), measured the same way. On a shared machine the reference may be starved
(it asks for about two cores): its fps says so.

Fails (exit 1) when a tile published under 90 % of the frames its sub-stream sent, when a
sub-stream sent under 90 % of 25 fps (a starved machine: the load average is printed), or when a
camera was not recorded. Prints JSON. With ``--data`` the clips are cached there between runs
(the first run builds them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.demo import EmbeddedDemo
from supervision.config import Config
from video.display import DisplayDecoder

TARGET_CORES = 1.2
FPS = 25
MIN_FPS_SHARE = 0.9


def _self_cpu() -> float:
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of each thread of this process, by thread id, with its name."""
    out: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text(encoding="ascii")
        except OSError:
            continue
        name = names.get(int(task.name)) or "(not a Python thread)"
        fields = stat.rsplit(")", 1)[1].split()
        out[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def _by_group(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
              wall: float) -> dict[str, float]:
    """Cores per group of threads (names with the camera ids replaced by ``*``)."""
    groups: dict[str, float] = {}
    for tid, (name, cpu) in after.items():
        prev = before.get(tid, (name, 0.0))[1]
        key = re.sub(r"^Thread-\d+ ", "", re.sub(r"cam-[A-Za-z]*\d+", "*", re.sub(r"\[.*?\]", "[*]", name)))
        groups[key] = groups.get(key, 0.0) + (cpu - prev) / wall
    return {k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v >= 0.005}


@dataclass
class Run:
    name: str
    cores: float
    tile_fps: list[float]
    served_fps: list[float]  # what the synthetic server sent each tile's sub-stream
    looping: int
    cameras: int
    recorded: int
    warmup_s: float
    threads: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "cores": round(self.cores, 3),
            "tiles": len(self.tile_fps),
            "tile_fps_min": round(min(self.tile_fps), 2) if self.tile_fps else None,
            "tile_fps_mean": round(sum(self.tile_fps) / len(self.tile_fps), 2) if self.tile_fps else None,
            "served_fps_min": round(min(self.served_fps), 2) if self.served_fps else None,
            "served_fps_mean": round(sum(self.served_fps) / len(self.served_fps), 2) if self.served_fps else None,
            "cameras": self.cameras,
            "recorded": self.recorded,
            "main_streams_looping": self.looping,
            "warmup_s": round(self.warmup_s, 1),
            "cores_by_thread_group": self.threads,
        }


def _wait(cond: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.5)
    return bool(cond())


def run(name: str, data: Path, *, looped: bool, seconds: float, warmup: float, tiles: int) -> Run:
    demo = EmbeddedDemo(Config(), data, looped=looped)
    t_start = time.monotonic()
    terminal = demo.start()
    decoders: list[tuple[Any, DisplayDecoder]] = []
    try:
        if not demo.wait_judged(threading.Event(), 120):
            print(f"{name}: no first sync within 120 s", file=sys.stderr)
        cams = sorted(terminal.cameras.cameras(), key=lambda c: c.id)
        server = demo.synthetic
        assert server is not None

        def looping() -> int:
            ids = [cid for cid in server.camera_ids() if not cid.endswith("/sub")]
            return sum(1 for cid in ids if server.stats(cid)["looping"])

        def recorded() -> int:
            rec = terminal.recording.status() if terminal.recording is not None else None
            return sum(1 for c in cams if rec is not None and rec.recording(c.id))

        if not _wait(lambda: all(c.status().state.value == "live" for c in cams), 120):
            print(f"{name}: not every camera went live", file=sys.stderr)
        if looped and not _wait(lambda: looping() == len(cams), 600):
            print(f"{name}: only {looping()}/{len(cams)} main streams loop their clips", file=sys.stderr)
        configs = terminal.cameras.configs()
        subs = [str(configs[c.id].sub_url).removeprefix("synthetic://") for c in cams[:tiles]]
        for cam in cams[:tiles]:
            decoders.append((cam, cam.display(320, 180, 16)))
        _wait(lambda: recorded() == len(cams), 60)
        time.sleep(warmup)
        warmed = time.monotonic() - t_start
        before = [d.stats().published for _, d in decoders]
        served0 = [server.stats(s)["frames_encoded"] for s in subs]
        th0, cpu0, t0 = _threads_cpu(), _self_cpu(), time.monotonic()
        time.sleep(seconds)
        th1, cpu1, t1 = _threads_cpu(), _self_cpu(), time.monotonic()
        after = [d.stats().published for _, d in decoders]
        served1 = [server.stats(s)["frames_encoded"] for s in subs]
        wall = t1 - t0
        return Run(name, (cpu1 - cpu0) / wall, [(b - a) / wall for a, b in zip(before, after, strict=True)],
                   [(b - a) / wall for a, b in zip(served0, served1, strict=True)],
                   looping(), len(cams), recorded(), warmed, _by_group(th0, th1, wall))
    finally:
        for cam, d in decoders:
            cam.release(d)
        t = time.monotonic()
        ok = demo.stop(time.monotonic() + 5)
        print(f"{name}: stopped in {time.monotonic() - t:.2f} s{'' if ok else ' (late)'}", file=sys.stderr)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--warmup", type=float, default=15.0)
    p.add_argument("--tiles", type=int, default=16)
    p.add_argument("--data", type=Path, default=None, help="demo data folder (clips cached there)")
    p.add_argument("--no-reference", action="store_true", help="skip the live-encoding reference run")
    args = p.parse_args()
    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="demo-bench-")
        args.data = Path(tmp.name)
    try:
        runs = [run("demo", args.data, looped=True, seconds=args.seconds, warmup=args.warmup, tiles=args.tiles)]
        if not args.no_reference:
            runs.append(run("reference_live_main_streams", args.data, looped=False, seconds=args.seconds,
                            warmup=args.warmup, tiles=args.tiles))
    finally:
        if tmp is not None:
            tmp.cleanup()
    demo = runs[0]
    out: dict[str, Any] = {r.name: r.as_dict() for r in runs}
    out["target_cores"] = TARGET_CORES
    out["within_target"] = demo.cores <= TARGET_CORES
    if len(runs) > 1:
        out["demo_over_reference"] = round(demo.cores / runs[1].cores, 3) if runs[1].cores else None
    out["cpus"] = os.cpu_count()
    out["loadavg"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    failed = []
    # A tile must show what its stream brought (the decoder's work), and the stream must be a
    # camera's 25 fps (the server's): on a starved machine the second fails, and says so.
    behind = [i for i, (f, s) in enumerate(zip(demo.tile_fps, demo.served_fps, strict=True)) if f < s * MIN_FPS_SHARE]
    starved = [i for i, s in enumerate(demo.served_fps) if s < FPS * MIN_FPS_SHARE]
    if len(demo.tile_fps) < args.tiles:
        failed.append(f"only {len(demo.tile_fps)} tiles of {args.tiles}")
    if behind:
        failed.append(f"tiles {behind} published under 90 % of the frames their sub-stream sent")
    if starved:
        failed.append(f"sub-streams of tiles {starved} sent under {FPS * MIN_FPS_SHARE:.1f} fps "
                      f"(the machine's load: {os.getloadavg()[0]:.1f})")
    if demo.recorded < demo.cameras:
        failed.append(f"{demo.cameras - demo.recorded} cameras not recorded")
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    leftover = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if leftover:
        print(f"note: threads still running after stop: {leftover}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
