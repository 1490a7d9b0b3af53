"""The camera grid measured whole — decoding, conversion, painting, X — against a real player.

    python -m benchmarks.grid_bench [--streams 16] [--warmup 10] [--seconds 20] [--rounds 1] [--out FILE]

Issue 11, "Grid CPU vs. a real player": N RTSP streams from GStreamer's RTSP server (640×360 at
25 fps, H.264 by x264 ultrafast at 800 kb/s, a keyframe every 2 s); under Xvfb, in turn:

- ours: ``main.py view`` of all N in a 1280×720 window (4×4, full rate);
- mpv: ``mpv --no-config --no-audio --rtsp-transport=tcp --vo=x11``, one window of 320×180 per stream;
- the ffmpeg decode floor: ``ffmpeg -threads 1 -rtsp_transport tcp -i URL -f null -`` per stream.

Each side's CPU is its process tree's (all threads; Xvfb and the camera server excluded) over
``--seconds`` after ``--warmup``. Both sides' painted frames are counted (ours: view's own lines;
mpv: its displayed frame number minus its dropped frames, over IPC; ffmpeg: its progress) and a
side that did less work than the cameras sent fails the run. Targets: ours ≤ 0.7 × mpv's CPU,
every tile ≥ 24 fps. With ``--rounds N`` ours and mpv run N times each, alternately (ours first
in odd rounds, mpv first in even ones, so a drift in the machine's load falls on both), and the ratio
judged is the pooled one: all of ours' CPU over all of mpv's; each round's ratio is printed too.
Then the time from dropping a camera on a tile to its first painted frame,
with a keyframe every second (target ≤ 1.5 s), for a camera already connected (recorded) and for
one whose stream connects on the drop (a sub-stream); and the GUI thread's stalls (a 10 ms probe
timer's lateness, target p99 ≤ 20 ms, max ≤ 100 ms) while the grid plays them. The camera server's N mount points share
one encoder (the viewers' work is the same; the machine is spared N encoders).

Prints JSON; exit 0 when every target is met and both sides did the work, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
FPS = 25
TICK = os.sysconf("SC_CLK_TCK")

# Run by Debian's python (gi); serves N mount points /cam1…/camN sharing ONE live encoder.
_SERVER = r'''
import signal, sys
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

port, streams, width, height, fps, kbps, keyint, shared = (int(a) for a in sys.argv[1:9])
Gst.init(None)

class Factory(GstRtspServer.RTSPMediaFactory):
    def do_gen_key(self, url):  # every mount point gets the same media: one encoder for all
        return "one" if shared else url.abspath

launch = (
    f"( videotestsrc is-live=true pattern=smpte horizontal-speed=2 "
    f"! video/x-raw,format=I420,width={width},height={height},framerate={fps}/1 "
    f"! x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbps} key-int-max={keyint} "
    f"! rtph264pay name=pay0 pt=96 config-interval=-1 )"
)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(str(port))
factory = Factory()
factory.set_launch(launch)
factory.set_shared(True)
for i in range(1, streams + 1):
    server.get_mount_points().add_factory(f"/cam{i}", factory)
server.attach(None)
loop = GLib.MainLoop()
for s in (signal.SIGTERM, signal.SIGINT):
    GLib.unix_signal_add(GLib.PRIORITY_HIGH, s, lambda *_: (loop.quit(), False)[1])
print(f"READY {port}", flush=True)
loop.run()
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise SystemExit(f"{tool} is not installed; the benchmark needs it")
    return path


@contextlib.contextmanager
def _process(cmd: Sequence[str], *, env: dict[str, str] | None = None, ready: bytes | None = None,
             log: Path | None = None) -> Iterator[subprocess.Popen[bytes]]:
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE if ready else out, stderr=out)
    try:
        if ready is not None:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if ready not in line:
                raise SystemExit(f"{cmd[0]} did not start: {line!r}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if log is not None and hasattr(out, "close"):
            out.close()


@contextlib.contextmanager
def xvfb(width: int = 1920, height: int = 1080) -> Iterator[str]:
    _require("Xvfb")
    for number in range(140, 200):
        if not Path(f"/tmp/.X11-unix/X{number}").exists() and not Path(f"/tmp/.X{number}-lock").exists():
            break
    display = f":{number}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists():
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("Xvfb did not start")
            time.sleep(0.05)
        yield display
    finally:
        proc.terminate()
        proc.wait(5)


@contextlib.contextmanager
def camera_server(streams: int, keyint: int, *, shared: bool = True) -> Iterator[list[str]]:
    if not Path(SYSTEM_PYTHON).exists():
        raise SystemExit("the camera server needs Debian's python3 with python3-gi and gir1.2-gst-rtsp-server")
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="grid-bench-") as tmp:
        script = Path(tmp) / "server.py"
        script.write_text(_SERVER, encoding="utf-8")
        cmd = [SYSTEM_PYTHON, str(script), str(port), str(streams), "640", "360", str(FPS), "800", str(keyint),
               "1" if shared else "0"]
        with _process(cmd, ready=b"READY"):
            yield [f"rtsp://127.0.0.1:{port}/cam{i}" for i in range(1, streams + 1)]


# -- CPU of a process tree ------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds of all its threads) from /proc/PID/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(roots: Sequence[int]) -> float:
    """CPU seconds of ``roots`` and all their living descendants."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            s = _stat(int(entry.name))
            if s is not None:
                stats[int(entry.name)] = s
    members = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in stats.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return sum(stats[p][1] for p in members if p in stats)


def _measure(roots: Sequence[int], warmup: float, seconds: float, started: float) -> tuple[float, float, float]:
    """Sleep to the end of the warm-up, then CPU over ``seconds``: (cores, t0, t1) on time.monotonic()."""
    time.sleep(max(0.0, started + warmup - time.monotonic()))
    t0, c0 = time.monotonic(), tree_cpu(roots)
    time.sleep(seconds)
    t1, c1 = time.monotonic(), tree_cpu(roots)
    return (c1 - c0) / (t1 - t0), t0, t1


# -- the three sides ----------------------------------------------------------------------------


def run_ours(urls: list[str], display: str, warmup: float, seconds: float, work: Path) -> dict[str, Any]:
    env = {**os.environ, "DISPLAY": display, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "xcb"}
    cmd = [sys.executable, str(ROOT / "main.py"), "--data", str(work / "data"), "view", *urls,
           "--grid", "4x4", "--size", "1280x720", "--seconds", str(warmup + seconds + 1)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        cores, _t0, _t1 = _measure([proc.pid], warmup, seconds, started)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    tiles = []
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "tile":
            tiles.append({"tile": int(parts[1]), "frames": int(parts[3].split("=")[1]),
                          "fps": float(parts[4].split("=")[1])})
    if len(tiles) != len(urls):
        raise SystemExit(f"view printed {len(tiles)} tile lines for {len(urls)} streams; stderr:\n{stderr[-2000:]}")
    return {"cpu_cores": round(cores, 3), "tiles": tiles, "min_fps": min(t["fps"] for t in tiles),
            "fps_total": round(sum(t["fps"] for t in tiles), 1), "exit_code": proc.returncode}


def _mpv_get(sock: Path, prop: str) -> float | None:
    """A numeric property over mpv's JSON IPC (events that arrive before the reply are skipped)."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(sock))
            s.sendall(json.dumps({"command": ["get_property", prop], "request_id": 1}).encode() + b"\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
                *lines, data = data.split(b"\n")
                for line in lines:
                    reply = json.loads(line)
                    if reply.get("request_id") == 1 and "error" in reply:
                        value = reply.get("data")
                        return float(value) if reply["error"] == "success" and value is not None else None
    except (OSError, ValueError):
        return None


def _mpv_shown(sock: Path) -> float | None:
    """Frames mpv put on screen so far: its displayed frame number less the frames it dropped."""
    shown = _mpv_get(sock, "estimated-frame-number")
    if shown is None:
        return None
    dropped = (_mpv_get(sock, "frame-drop-count") or 0) + (_mpv_get(sock, "decoder-frame-drop-count") or 0)
    return shown - dropped


def run_mpv(urls: list[str], display: str, warmup: float, seconds: float, work: Path) -> dict[str, Any]:
    mpv = _require("mpv")
    env = {**os.environ, "DISPLAY": display}
    procs, socks = [], []
    for i, url in enumerate(urls):
        sock = work / f"mpv-{i}.sock"
        socks.append(sock)
        x, y = 320 * (i % 4), 180 * (i // 4)
        procs.append(subprocess.Popen(
            [mpv, "--no-config", "--no-audio", "--rtsp-transport=tcp", "--vo=x11", f"--geometry=320x180+{x}+{y}",
             "--no-border", "--force-window=yes", "--really-quiet", f"--input-ipc-server={sock}", url],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    started = time.monotonic()
    try:
        time.sleep(max(0.0, started + warmup - time.monotonic()))
        before = [_mpv_shown(s) for s in socks]
        c0, t0 = tree_cpu([p.pid for p in procs]), time.monotonic()
        time.sleep(seconds)
        c1, t1 = tree_cpu([p.pid for p in procs]), time.monotonic()
        after = [_mpv_shown(s) for s in socks]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    fps = [round((a - b) / (t1 - t0), 2) if a is not None and b is not None else 0.0 for a, b in zip(after, before,
                                                                                                     strict=True)]
    unanswered = sum(1 for v in (*before, *after) if v is None)  # not playing yet, or IPC failed: counted as 0
    return {"cpu_cores": round((c1 - c0) / (t1 - t0), 3), "fps": fps, "min_fps": min(fps),
            "fps_total": round(sum(fps), 1), "ipc_unanswered": unanswered}


def _progress_frames(path: Path) -> int:
    frames = 0
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            if line.startswith("frame="):
                frames = int(line.split("=", 1)[1] or 0)
    return frames


def run_ffmpeg(urls: list[str], warmup: float, seconds: float, work: Path) -> dict[str, Any]:
    ffmpeg = _require("ffmpeg")
    procs, progress = [], []
    for i, url in enumerate(urls):
        prog = work / f"ffmpeg-{i}.progress"
        progress.append(prog)
        procs.append(subprocess.Popen(
            [ffmpeg, "-nostdin", "-v", "error", "-threads", "1", "-rtsp_transport", "tcp", "-i", url, "-an",
             "-f", "null", "-", "-progress", str(prog), "-stats_period", "0.5"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    started = time.monotonic()
    try:
        time.sleep(max(0.0, started + warmup - time.monotonic()))
        before = [_progress_frames(p) for p in progress]
        c0, t0 = tree_cpu([p.pid for p in procs]), time.monotonic()
        time.sleep(seconds)
        c1, t1 = tree_cpu([p.pid for p in procs]), time.monotonic()
        after = [_progress_frames(p) for p in progress]
    finally:
        for p in procs:
            p.send_signal(signal.SIGINT)
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    fps = [round((a - b) / (t1 - t0), 2) for a, b in zip(after, before, strict=True)]
    return {"cpu_cores": round((c1 - c0) / (t1 - t0), 3), "fps": fps, "min_fps": min(fps),
            "fps_total": round(sum(fps), 1)}


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One side over several rounds of equal length: its mean CPU (the pooled figure), its worst
    tile's rate and its lowest total rate over all rounds, and the last round's details."""
    pooled = dict(runs[-1])
    pooled["cpu_cores"] = round(statistics.fmean(r["cpu_cores"] for r in runs), 3)
    pooled["cpu_cores_each_round"] = [r["cpu_cores"] for r in runs]
    pooled["min_fps"] = min(r["min_fps"] for r in runs)
    pooled["fps_total"] = min(r["fps_total"] for r in runs)
    return pooled


def gui_stalls(streams: int, seconds: float, warmup: float = 3.0) -> dict[str, Any]:
    """The GUI thread while a 4×4 grid plays ``streams`` cameras (offscreen, in this process): how
    late a 10 ms probe timer fires (an event-loop stall shows as lateness), and the GUI thread's CPU."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.video.grid import CameraGrid
    from video.camera import Camera, CameraConfig

    app = QApplication.instance() or QApplication(["grid_bench"])
    late: list[float] = []
    with camera_server(streams, 2 * FPS) as urls:
        cameras = {f"c{i}": Camera(CameraConfig(f"c{i}", f"c{i}", u)) for i, u in enumerate(urls)}
        for c in cameras.values():
            c.start()
        grid = CameraGrid(cameras.get, layout="4x4")
        grid.resize(1280, 720)
        grid.set_cameras(list(cameras))
        grid.show()
        probe = QTimer()
        probe.setTimerType(Qt.TimerType.PreciseTimer)
        last = [time.monotonic()]
        measuring = [False]

        def tick() -> None:
            now = time.monotonic()
            if measuring[0]:
                late.append(now - last[0] - 0.010)
            last[0] = now

        probe.timeout.connect(tick)
        probe.start(10)
        marks: dict[str, float] = {}

        def start() -> None:
            marks["painted0"] = sum(s.painted for s in grid.stats())
            marks["cpu0"], marks["t0"] = time.thread_time(), time.monotonic()
            measuring[0], last[0] = True, time.monotonic()

        def stop() -> None:
            marks["cpu1"], marks["t1"] = time.thread_time(), time.monotonic()
            measuring[0] = False
            marks["painted"] = sum(s.painted for s in grid.stats()) - marks["painted0"]
            app.quit()

        QTimer.singleShot(round(warmup * 1000), start)
        QTimer.singleShot(round((warmup + seconds) * 1000), stop)
        try:
            app.exec()  # the real event loop: the probe sees what a user would
        finally:
            probe.stop()
            grid.shutdown()
            grid.close()
            for c in cameras.values():
                c.stop()
    t0, t1, painted = marks["t0"], marks["t1"], marks["painted"]
    cpu0, cpu1 = marks["cpu0"], marks["cpu1"]
    late.sort()

    def ms(q: float) -> float:
        return round(1000 * late[min(len(late) - 1, int(q * (len(late) - 1)))], 2) if late else float("nan")

    return {"tiles": streams, "painted_fps_total": round(painted / (t1 - t0), 1),
            "gui_thread_cpu_cores": round((cpu1 - cpu0) / (t1 - t0), 3),
            "probe_late_ms": {"p50": ms(0.5), "p99": ms(0.99), "max": ms(1.0)},
            "target_ms": {"p99": 20, "max": 100}}


def first_frame_after_drop(repeats: int = 5) -> dict[str, Any]:
    """A camera dropped on a tile (the real drop event, offscreen): seconds to its first painted
    frame, with a keyframe every second; for a connected camera and for one connecting on the drop."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from desktop.video.grid import CAMERA_MIME, CameraGrid
    from video.camera import Camera, CameraConfig
    from video.source import Source

    app = QApplication.instance() or QApplication(["grid_bench"])
    results: dict[str, list[float]] = {"connected": [], "connecting_on_drop": []}
    with camera_server(2, FPS, shared=False) as urls:
        main = Camera(CameraConfig("main", "main", urls[0]))
        main.start()  # connected and recorded, as in the operator's terminal
        sub = Camera(CameraConfig("sub", "sub", urls[0], sub_url=urls[1]))  # the sub connects when shown
        sub.start()
        # Another client keeps the sub mount's encoder running, as a camera's always does: a new
        # connection then joins mid-GOP and waits for the next keyframe (a fresh pipeline would
        # start on one).
        anchor = Source(urls[1], name="anchor")
        anchor.start()
        cameras = {"main": main, "sub": sub}
        grid = CameraGrid(cameras.get, layout="4x4")  # tiles of 320×180: the sub-camera shows its sub-stream
        grid.resize(1280, 720)
        grid.show()
        try:
            deadline = time.monotonic() + 15
            while main.status().state.value != "live" and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            for attempt in range(repeats):
                for kind, camera_id in (("connected", "main"), ("connecting_on_drop", "sub")):
                    tile = attempt % 16
                    grid.set_camera(tile, None)
                    end = time.monotonic() + 3
                    while not grid.settled() and time.monotonic() < end:
                        app.processEvents()
                        time.sleep(0.01)
                    time.sleep(0.37 * (attempt + 1) % 1.0)  # drop at a different point of the GOP each time
                    mime = QMimeData()
                    mime.setData(CAMERA_MIME, QByteArray(camera_id.encode()))
                    pos = QPointF(grid.tile_rect(tile).center())
                    acts = Qt.DropAction.CopyAction
                    QApplication.sendEvent(grid, QDragEnterEvent(pos.toPoint(), acts, mime, Qt.MouseButton.LeftButton,
                                                                 Qt.KeyboardModifier.NoModifier))
                    QApplication.sendEvent(grid, QDropEvent(pos, acts, mime, Qt.MouseButton.LeftButton,
                                                            Qt.KeyboardModifier.NoModifier))
                    end = time.monotonic() + 10
                    while grid.stats()[tile].first_frame_s is None and time.monotonic() < end:
                        app.processEvents()
                        time.sleep(0.002)
                    stats = grid.stats()[tile]
                    if stats.stream != ("main" if camera_id == "main" else "sub"):
                        raise SystemExit(f"the {kind} drop showed the {stats.stream} stream")
                    first = stats.first_frame_s
                    results[kind].append(round(first, 3) if first is not None else float("inf"))
                    grid.set_camera(tile, None)
        finally:
            grid.shutdown()
            grid.close()
            main.stop()
            sub.stop()
            anchor.stop()
    return {k: {"seconds": v, "median": statistics.median(v), "max": max(v), "target": 1.5}
            for k, v in results.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.grid_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=1,
                        help="players: run ours and mpv this many times each, alternately; the pooled ratio is judged")
    parser.add_argument("--only", choices=("all", "players", "drop", "gui"), default="all",
                        help="players: the CPU comparison alone; drop: the first frame after a drop alone; "
                        "gui: the GUI thread's stalls alone")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_before": os.getloadavg()},
        "setup": {"streams": args.streams, "source": "640x360@25 H.264 x264 ultrafast 800 kb/s, keyframe every 2 s",
                  "warmup_s": args.warmup, "measured_s": args.seconds},
    }
    if args.only in ("all", "players"):
        # Each side of each round gets a camera server of its own: GStreamer's RTSP server has been
        # seen to die after several rounds of 16 sessions set up and torn down at once on one media.
        with tempfile.TemporaryDirectory(prefix="grid-bench-") as tmp, xvfb() as display:
            work = Path(tmp)
            rounds: list[dict[str, Any]] = []
            for n in range(max(1, args.rounds)):
                sides = {}
                order = ("ours", "mpv") if n % 2 == 0 else ("mpv", "ours")
                for side in order:
                    run = run_ours if side == "ours" else run_mpv
                    with camera_server(args.streams, 2 * FPS) as urls:
                        sides[side] = run(urls, display, args.warmup, args.seconds, work)
                rounds.append(sides)
            result["ours_view_4x4_1280x720"] = _pooled([r["ours"] for r in rounds])
            result["mpv_x11_16x320x180"] = _pooled([r["mpv"] for r in rounds])
            result["rounds"] = [
                {"first": "ours" if n % 2 == 0 else "mpv", "ours_cpu_cores": r["ours"]["cpu_cores"],
                 "mpv_cpu_cores": r["mpv"]["cpu_cores"],
                 "ours_over_mpv": round(r["ours"]["cpu_cores"] / r["mpv"]["cpu_cores"], 3)
                 if r["mpv"]["cpu_cores"] else None,
                 "ours_min_fps": r["ours"]["min_fps"], "mpv_min_fps": r["mpv"]["min_fps"]}
                for n, r in enumerate(rounds)]
            with camera_server(args.streams, 2 * FPS) as urls:
                result["ffmpeg_decode_floor"] = run_ffmpeg(urls, args.warmup, args.seconds, work)
    if args.only in ("all", "drop"):
        result["first_frame_after_drop_keyframe_1s"] = first_frame_after_drop()
    if args.only in ("all", "gui"):
        result["gui_thread_16_tiles"] = gui_stalls(args.streams, args.seconds)
    result["machine"]["load_after"] = os.getloadavg()

    failures = []
    if "ours_view_4x4_1280x720" in result:
        ours, mpv = result["ours_view_4x4_1280x720"], result["mpv_x11_16x320x180"]
        floor = result["ffmpeg_decode_floor"]
        expected = FPS * args.streams
        for name, side in (("ours", ours), ("mpv", mpv), ("ffmpeg", floor)):
            if side["fps_total"] < 0.95 * expected:
                failures.append(f"{name} did less: {side['fps_total']} frames/s of the {expected} sent")
        ratio = round(ours["cpu_cores"] / mpv["cpu_cores"], 3) if mpv["cpu_cores"] else None
        result["ratios"] = {
            "ours_over_mpv": ratio, "target": 0.7,
            "ours_over_ffmpeg_floor": round(ours["cpu_cores"] / floor["cpu_cores"], 3) if floor["cpu_cores"] else None,
            "mpv_over_ffmpeg_floor": round(mpv["cpu_cores"] / floor["cpu_cores"], 3) if floor["cpu_cores"] else None,
        }
        if ratio is None or ratio > 0.7:
            failures.append(f"ours / mpv CPU = {ratio} (target ≤ 0.7)")
        if ours["min_fps"] < 24:
            failures.append(f"a tile painted {ours['min_fps']} fps (target ≥ 24)")
    gui = result.get("gui_thread_16_tiles")
    if gui is not None and (gui["probe_late_ms"]["p99"] > 20 or gui["probe_late_ms"]["max"] > 100):
        failures.append(f"GUI thread stalls: {gui['probe_late_ms']} (target p99 ≤ 20 ms, max ≤ 100 ms)")
    for kind, fig in result.get("first_frame_after_drop_keyframe_1s", {}).items():
        if fig["max"] > 1.5:
            failures.append(f"first frame after a drop ({kind}) took up to {fig['max']} s (target ≤ 1.5)")
    result["failures"] = failures
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
