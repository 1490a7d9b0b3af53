"""The embedded demo's steady CPU with the default grid, tiles painting: the 1.2-core budget of issue 11.

    python -m benchmarks.demo_bench [--seconds 60] [--warmup 15] [--data DIR] [--reference]
                                    [--relay-viewers N] [--seats all]

Runs the whole ``--demo`` in this process as the application does — reference server, simulator,
terminal (sync, warnings, recording of every camera), the synthetic cameras — and its operator
window (offscreen Qt: the window is painted into its backing store like on a screen; no X server
is involved), with the grid it opens on a first start: 4×4, the first 16 cameras on their 320×180
sub-streams. After warm-up (every main stream looping its clip, every camera recorded, every tile
painting, then ``--warmup`` s) the process's CPU (``/proc/self/stat``, all threads) is read over
``--seconds``.

The work is counted, not assumed: the frames each tile **painted** (``grid.stats()``), the frames
each tile's sub-stream was sent by the synthetic server, and the cameras recorded. The run fails
(exit 1) when a tile painted under ``--min-fps`` (24) frames a second, when the CPU is above 1.2
cores (``--max-cores``), or when a camera was not recorded. A starved machine shows as sub-streams sent under 25 fps
(the load average is printed at both ends of the window); measure under the exclusive CPU lock.

The demo's sub-streams loop clips like its main streams; ``--live-subs`` encodes them live with the
clock burnt in instead (as the demo did before: about 0.6 of a core more, and tiles painting 19-21 fps
while their decoders published 25 — with 16 encoder threads busy, pictures reach the grid unevenly and
a tile paints only the newest one at each paint tick). ``--reference``: also the same demo with every main
stream encoded live (how the demo ran before the looping clips), measured the same way — on two cores
it is starved, and its fps say so.

``--relay-viewers N`` (issue 15): during the window N real viewers — ``ffmpeg -i
http://…/live/<camera>.ts?token=… -c copy -f null -``, separate processes — read the main streams of N
different cameras from the demo terminal's relay (which runs in this process, muxing every camera all
the time) with the demo leader's token, which the relay checks with the demo server (``/me``). The
frames each viewer received are counted (ffmpeg's progress); a viewer under ``--min-fps`` fails the
run. The viewers' own CPU is printed apart (``relay.viewers_cores``), not in the demo's.

``--seats all`` (issue 16): every window camera of the demo hall gets a scripted staff seat and its
region (:func:`app.seats.demo_seats`), so an occupancy consumer judges each one's sub-stream about once
a second (without it: windows A01–A04, the demo's own). The frames each consumer judged are counted
(the seats service's status); a consumer under ``--min-judged`` (0.8) a second fails the run. Seat
regions are stored in the demo folder: give ``--seats all`` a ``--data`` of its own.

Prints one JSON line last (``failed`` lists what failed); with ``--data`` the clips are cached there
between runs (the first run builds them).
"""

from __future__ import annotations

import argparse
import contextlib
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

TARGET_CORES = 1.2
FPS = 25
MIN_TILE_FPS = 24.0
MIN_JUDGED = 0.8  # frames a second each occupancy consumer judges at least (it aims at 1)
RECORD_GRACE_S = 30.0  # after the window, for writes the disk or the store held up (the queues hold a minute)


def _self_cpu() -> float:
    with open("/proc/self/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _threads_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of each thread of this process, by thread id, with its name (the kernel's for
    threads Python does not know: Qt's, FFmpeg's)."""
    out: dict[int, tuple[str, float]] = {}
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        fields = rest.split()
        name = names.get(int(task.name)) or f"({head.partition('(')[2]})"
        if int(task.name) == os.getpid():
            name = "MainThread (GUI)"
        out[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / tick)
    return out


def _by_group(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
              wall: float) -> dict[str, float]:
    """Cores per group of threads (names with the camera ids and numbers replaced by ``*``)."""
    groups: dict[str, float] = {}
    for tid, (name, cpu) in after.items():
        prev = before.get(tid, (name, 0.0))[1]
        key = re.sub(r"^Thread-\d+ ", "", re.sub(r"cam-[A-Za-z]*\d+", "*", re.sub(r"\[.*?\]", "[*]", name)))
        key = re.sub(r"\d+", "N", key)
        groups[key] = groups.get(key, 0.0) + (cpu - prev) / wall
    return {k: round(v, 3) for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v >= 0.005}


def _loadavg() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


@dataclass
class Run:
    name: str
    cores: float
    tile_fps: list[float]  # frames painted per second, each tile
    served_fps: list[float]  # frames the synthetic server sent each tile's stream per second
    published_fps: list[float]  # frames each tile's decoder published per second
    streams: dict[str, int]  # tiles per stream kind ("sub/full": 16)
    looping: int
    cameras: int
    recorded: int
    warmup_s: float
    load: tuple[str, str]
    threads: dict[str, float]
    judged: dict[str, float]  # frames judged per second, each camera's occupancy consumer
    seat_windows: int  # windows given a scripted seat
    relay: dict[str, Any] | None = None  # the relay's viewers: frames received, their CPU, what it muxed
    not_recorded: dict[str, str] | None = None  # camera → why it was not recorded through the window
    record_lag_s: float = 0.0  # after the window, until every recorder had written since its start

    @property
    def viewer_fps(self) -> list[float]:
        return [v["fps"] for v in self.relay["viewers"]] if self.relay else []

    def as_dict(self) -> dict[str, Any]:
        judged = list(self.judged.values())
        return {
            "cores": round(self.cores, 3),
            "tiles": len(self.tile_fps),
            "tile_streams": self.streams,
            "tile_painted_fps_min": round(min(self.tile_fps), 2) if self.tile_fps else None,
            "tile_painted_fps_mean": round(sum(self.tile_fps) / len(self.tile_fps), 2) if self.tile_fps else None,
            "decoder_published_fps_min": round(min(self.published_fps), 2) if self.published_fps else None,
            "decoder_published_fps_mean": (round(sum(self.published_fps) / len(self.published_fps), 2)
                                           if self.published_fps else None),
            "served_fps_min": round(min(self.served_fps), 2) if self.served_fps else None,
            "served_fps_mean": round(sum(self.served_fps) / len(self.served_fps), 2) if self.served_fps else None,
            "cameras": self.cameras,
            "recorded": self.recorded,
            "not_recorded": self.not_recorded or {},
            "record_lag_s": round(self.record_lag_s, 2),
            "main_streams_looping": self.looping,
            "warmup_s": round(self.warmup_s, 1),
            "loadavg_window_start": self.load[0],
            "loadavg_window_end": self.load[1],
            "cores_by_thread_group": self.threads,
            "seats": {
                "seat_windows": self.seat_windows,
                "consumers": len(judged),
                "judged_fps_min": round(min(judged), 3) if judged else None,
                "judged_fps_mean": round(sum(judged) / len(judged), 3) if judged else None,
                "judged_fps": {k: round(v, 3) for k, v in sorted(self.judged.items())},
            },
            **({"relay": self.relay} if self.relay is not None else {}),
        }


def hall_windows() -> tuple[str, ...]:
    """The labels (``A01``…) of every window camera of the demo hall (the demo terminal's scope)."""
    from app.demo import DEMO_SCOPE
    from supervision import demo as hall

    prefix = "synthetic://window/"
    return tuple(sorted(
        str(c["data"]["stream_url"]).removeprefix(prefix)
        for c in hall.load_hall()["changes"]
        if c["type"] == "camera" and c.get("op", "upsert") == "upsert" and c["data"].get("hall_id") == DEMO_SCOPE
        and c["data"].get("window_id") and str(c["data"].get("stream_url", "")).startswith(prefix)
    ))


def run(name: str, data: Path, *, looped: bool, seconds: float, warmup: float, sub_clips: bool = True,
        relay_viewers: int = 0, seats_all: bool = False) -> Run:
    from app.demo import EmbeddedDemo
    from app.seats import DEMO_SEAT_WINDOWS
    from benchmarks.gui_stalls import first_sync_done, operator_window, run_for, tile_modes, wait_until
    from benchmarks.relay_bench import Viewer, proc_cpu
    from supervision.config import Config

    seat_windows = hall_windows() if seats_all else DEMO_SEAT_WINDOWS
    demo = EmbeddedDemo(Config(), data, looped=looped, sub_clips=sub_clips, seat_windows=seat_windows)
    t_start = time.monotonic()
    terminal = demo.start()
    window = None
    viewers: list[Any] = []
    try:
        server = demo.synthetic
        assert server is not None
        window = operator_window(terminal, data, size=(1600, 1000))
        grid = window.grid
        wait_until(lambda: first_sync_done(terminal), 120, f"{name}: the first sync")
        cams = sorted(terminal.cameras.cameras(), key=lambda c: c.id)

        def looping() -> int:
            ids = [cid for cid in server.camera_ids() if not cid.endswith("/sub")]
            return sum(1 for cid in ids if server.stats(cid)["looping"])

        def recorded() -> int:
            rec = terminal.recording.status() if terminal.recording is not None else None
            return sum(1 for c in cams if rec is not None and rec.recording(c.id))

        def written() -> dict[str, int]:
            rec = terminal.recording.status() if terminal.recording is not None else None
            return {r.camera_id: r.bytes for r in rec.recorders} if rec is not None else {}

        def not_recorded(before: dict[str, int]) -> dict[str, str]:
            # A camera is recorded when its recorder wrote since the window began (in it or within
            # RECORD_GRACE_S after it) and has a segment open; otherwise, why not, in its own account.
            rec = terminal.recording.status() if terminal.recording is not None else None
            if rec is None:
                return {c.id: "no recording service" for c in cams}
            by_id = {r.camera_id: r for r in rec.recorders}
            out = {}
            for c in cams:
                r = by_id.get(c.id)
                if r is None:
                    out[c.id] = "no recorder"
                elif r.bytes <= before.get(c.id, 0):
                    out[c.id] = (f"nothing written in the window or {RECORD_GRACE_S:g} s after it "
                                 f"(camera {c.status().state.value})")
                elif not r.recording:
                    out[c.id] = (f"no open segment (segments {r.segments}, dropped {r.dropped}, "
                                 f"paused {r.paused}, error {r.last_error}, camera {c.status().state.value})")
            return out

        def shown() -> list[Any]:
            return [t for t in grid.stats() if t.camera_id]

        wait_until(lambda: all(c.status().state.value == "live" for c in cams), 120, f"{name}: every camera live")
        if looped:
            wait_until(lambda: looping() == len(cams), 900, f"{name}: every main stream looping its clip")
        wait_until(lambda: len(shown()) > 0 and all(t.painted > 0 for t in shown()), 60, f"{name}: every tile painting")
        wait_until(lambda: recorded() == len(cams), 60, f"{name}: every camera recorded")
        watched = [cid for cid in (f"cam-{label}" for label in seat_windows) if cid in {c.id for c in cams}]

        def judged() -> dict[str, int]:
            return {c.camera_id: int(c.consumer.frames_judged) for c in terminal.seats.status().cameras}

        wait_until(lambda: set(watched) <= set(judged()) and all(v > 0 for v in judged().values()), 120,
                   f"{name}: every seat camera's consumer judging")
        watching: list[str] = []
        if relay_viewers:
            relay = terminal.relay
            if relay is None:
                raise SystemExit(f"{name}: the demo terminal runs no relay")
            if relay_viewers > len(cams):
                raise SystemExit(f"{name}: {relay_viewers} viewers of different cameras, but {len(cams)} cameras")
            # the demo leader's token: the relay asks the demo server (/me) what it may watch
            secret = demo.leader_config().server.token
            assert secret is not None
            token = secret.get_secret_value()
            watching = [c.id for c in cams[:relay_viewers]]
            viewers.extend(Viewer(f"{relay.url}{cid}.ts?token={token}") for cid in watching)
            wait_until(lambda: all(v.frames_at(time.monotonic()) > 0 for v in viewers), 60,
                       f"{name}: every relay viewer receiving frames")
        run_for(int(warmup * 1000))
        warmed = time.monotonic() - t_start
        configs = terminal.cameras.configs()

        def served_id(t: Any) -> str:
            cfg = configs[t.camera_id]
            url = cfg.sub_url if t.stream == "sub" and cfg.sub_url else cfg.url
            return str(url).removeprefix("synthetic://")

        def published() -> list[int]:
            # What each tile's decoder converted and published (diagnosis: a tile paints the newest
            # picture of its one-slot mailbox at each paint tick; two pictures published closer than a
            # tick apart show as one painted). Read from the grid's tickets: not an API, analysis only.
            out = []
            for tile in grid._tiles[: len(shown())]:
                decoder = tile.ticket.decoder if tile.ticket is not None else None
                out.append(decoder.stats().published if decoder is not None else 0)
            return out

        if sub_clips:
            wait_until(lambda: all(server.stats(served_id(t))["looping"] for t in shown()), 300,
                       f"{name}: every shown stream looping its clip")
            run_for(int(warmup * 1000))
        tiles0 = shown()
        pub0 = published()
        ids = [served_id(t) for t in tiles0]
        served0 = [server.stats(s)["frames_encoded"] for s in ids]
        judged0 = judged()

        def relay_packets() -> dict[str, tuple[int, int, int]]:
            st = terminal.relay.status() if terminal.relay is not None else None
            return {c.camera_id: (c.packets, c.viewers, c.drops) for c in (st.cameras if st else ())
                    if c.camera_id in watching and c.stream == "main"}  # the viewers watch main streams

        def viewers_cpu() -> float:
            total = 0.0
            for v in viewers:
                with contextlib.suppress(OSError):
                    total += proc_cpu(v.proc.pid)
            return total

        relay0, vcpu0, written0 = relay_packets(), viewers_cpu(), written()
        load0 = _loadavg()
        th0, cpu0, t0 = _threads_cpu(), _self_cpu(), time.monotonic()
        run_for(int(seconds * 1000))
        th1, cpu1, t1 = _threads_cpu(), _self_cpu(), time.monotonic()
        tiles1 = shown()
        pub1 = published()
        served1 = [server.stats(s)["frames_encoded"] for s in ids]
        relay1, vcpu1 = relay_packets(), viewers_cpu()
        judged1 = judged()
        # What the cameras sent in the window is written by then or soon after: the recorders
        # write in batches and queue in memory (a minute's room) while the disk or the store is
        # busy — seconds at a time on a loaded CI machine, with nothing lost.
        def caught_up() -> bool:
            now_written = written()
            return all(now_written.get(c.id, 0) > written0.get(c.id, 0) for c in cams)

        t_wait = time.monotonic()
        with contextlib.suppress(TimeoutError):
            wait_until(caught_up, RECORD_GRACE_S, f"{name}: every camera's recorder writing")
        record_lag = time.monotonic() - t_wait
        missing = not_recorded(written0)
        wall = t1 - t0
        if [t.camera_id for t in tiles1] != [t.camera_id for t in tiles0]:
            raise SystemExit(f"{name}: the grid's cameras changed during the window")
        relay_out: dict[str, Any] | None = None
        if viewers:
            run_for(700)  # ffmpeg reports its progress every 0.5 s: wait for a report past the window's end
            got = [(v.frames_at(t1) - v.frames_at(t0)) for v in viewers]
            relay_out = {
                "viewers": [{"camera": cid, "frames": n, "fps": round(n / wall, 2),
                             "running": v.proc.poll() is None}
                            for cid, n, v in zip(watching, got, viewers, strict=True)],
                "viewer_fps_min": round(min(got) / wall, 2),
                "viewers_cores": round((vcpu1 - vcpu0) / wall, 4),  # their own processes: not the demo's
                "muxed_fps": {cid: round((relay1[cid][0] - relay0[cid][0]) / wall, 2)
                              for cid in watching if cid in relay0 and cid in relay1},
                "viewers_seen_by_relay": sum(relay1[cid][1] for cid in relay1),
                "viewers_dropped": sum(relay1[cid][2] - relay0.get(cid, (0, 0, 0))[2] for cid in relay1),
            }
        return Run(
            name, (cpu1 - cpu0) / wall,
            [(b.painted - a.painted) / wall for a, b in zip(tiles0, tiles1, strict=True)],
            [(b - a) / wall for a, b in zip(served0, served1, strict=True)],
            [(b - a) / wall for a, b in zip(pub0, pub1, strict=True)],
            tile_modes(window), looping(), len(cams), len(cams) - len(missing), warmed, (load0, _loadavg()),
            _by_group(th0, th1, wall),
            {cid: (judged1.get(cid, 0) - n) / wall for cid, n in judged0.items()},
            len(seat_windows), relay_out, missing, record_lag,
        )
    finally:
        for v in viewers:
            v.stop()
        if window is not None:
            window.close()
            run_for(200)
        t = time.monotonic()
        ok = demo.stop(time.monotonic() + 5)
        print(f"{name}: stopped in {time.monotonic() - t:.2f} s{'' if ok else ' (late)'}", file=sys.stderr)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--warmup", type=float, default=15.0)
    p.add_argument("--min-fps", type=float, default=MIN_TILE_FPS, help="a tile painting less fails (default 24)")
    p.add_argument("--max-cores", type=float, default=TARGET_CORES, help="more CPU fails (default 1.2, the budget)")
    p.add_argument("--data", type=Path, default=None, help="demo data folder (clips cached there)")
    p.add_argument("--reference", action="store_true", help="also run the demo with live-encoded main streams")
    p.add_argument("--live-subs", action="store_true",
                   help="sub-streams encoded live with the clock burnt in (the demo before its sub-stream clips)")
    p.add_argument("--relay-viewers", type=int, default=0, metavar="N",
                   help="N ffmpeg viewers of N cameras read from the demo's relay during the window")
    p.add_argument("--seats", choices=("demo", "all"), default="demo",
                   help="all: every window camera watches its staff seat (default: the demo's A01-A04)")
    p.add_argument("--min-judged", type=float, default=MIN_JUDGED,
                   help="a seat consumer judging fewer frames a second fails (default 0.8)")
    args = p.parse_args()
    if args.relay_viewers < 0:
        p.error("--relay-viewers must not be negative")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.runtime import init_process

    init_process()  # the application's process settings, as main.py sets them
    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="demo-bench-")
        args.data = Path(tmp.name)
    try:
        runs = [run("demo", args.data, looped=True, seconds=args.seconds, warmup=args.warmup,
                    sub_clips=not args.live_subs, relay_viewers=args.relay_viewers, seats_all=args.seats == "all")]
        if args.reference:
            runs.append(run("reference_live_main_streams", args.data, looped=False, seconds=args.seconds,
                            warmup=args.warmup))
    finally:
        if tmp is not None:
            tmp.cleanup()
    demo = runs[0]
    out: dict[str, Any] = {r.name: r.as_dict() for r in runs}
    out["target_cores"] = TARGET_CORES
    out["min_tile_fps"] = args.min_fps
    out["within_target"] = demo.cores <= TARGET_CORES and bool(demo.tile_fps) and min(demo.tile_fps) >= MIN_TILE_FPS
    out["relay_viewers"] = args.relay_viewers
    out["seats"] = args.seats
    if len(runs) > 1:
        out["demo_over_reference"] = round(demo.cores / runs[1].cores, 3) if runs[1].cores else None
    out["cpus"] = os.cpu_count()
    failed: list[str] = []
    slow = [i for i, f in enumerate(demo.tile_fps) if f < args.min_fps]
    starved = [i for i, s in enumerate(demo.served_fps) if s < args.min_fps]
    if len(demo.tile_fps) < 16:
        failed.append(f"only {len(demo.tile_fps)} tiles show a camera (the default grid has 16)")
    if slow:
        failed.append(f"tiles {slow} painted under {args.min_fps:g} fps (min {min(demo.tile_fps):.1f})"
                      + (f"; their server sent tiles {starved} under {args.min_fps:g} fps: a starved machine? "
                         f"load average {demo.load[0]} → {demo.load[1]}" if starved else ""))
    if demo.cores > args.max_cores:
        failed.append(f"{demo.cores:.2f} cores, above {args.max_cores:g}")
    if demo.recorded < demo.cameras:
        failed.append(f"{demo.cameras - demo.recorded} cameras not recorded: {demo.not_recorded}")
    if args.relay_viewers:
        low = [i for i, f in enumerate(demo.viewer_fps) if f < args.min_fps]
        if len(demo.viewer_fps) < args.relay_viewers:
            failed.append(f"{len(demo.viewer_fps)} relay viewers of {args.relay_viewers}")
        if low:
            failed.append(f"relay viewers {low} received under {args.min_fps:g} fps (min {min(demo.viewer_fps):.1f})")
    judged = list(demo.judged.values())
    if len(judged) < demo.seat_windows:
        failed.append(f"{len(judged)} seat consumers for {demo.seat_windows} windows with a seat")
    if judged and min(judged) < args.min_judged:
        failed.append(f"seat consumers {[c for c, f in demo.judged.items() if f < args.min_judged]} judged under "
                      f"{args.min_judged:g} frames a second (min {min(judged):.2f})")
    for f in failed:
        print(f"FAIL: {f}", file=sys.stderr)
    out["failed"] = failed
    print(json.dumps(out, ensure_ascii=False))  # one line, last
    print(f"demo: {demo.cores:.2f} cores (budget {TARGET_CORES}), tiles painted "
          f"{min(demo.tile_fps, default=0):.1f}–{max(demo.tile_fps, default=0):.1f} fps, "
          f"load average {demo.load[0]} → {demo.load[1]}"
          + (f"; relay viewers received {min(demo.viewer_fps, default=0):.1f} fps at least"
             if args.relay_viewers else "")
          + f"; {len(demo.judged)} seat consumers judged {min(demo.judged.values(), default=0):.2f}/s at least"
          + f"; every recorder had written {demo.record_lag_s:.1f} s after the window",
          file=sys.stderr)
    leftover = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if leftover:
        print(f"note: threads still running after stop: {leftover}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
