"""The video relay's CPU for 1, 5 and 20 viewers of 4 cameras, and a viewer's time to its first frame.

    python -m benchmarks.relay_bench [--warmup 4] [--seconds 15] [--viewers 1,5,20]

Issue 15, "Relay CPU": 4 RTSP cameras at 1280×720, 25 fps (GStreamer's RTSP server, x264 ultrafast
at 2 Mb/s, a keyframe every second; the 4 mount points share one encoder to spare the machine). A
process running only the sources and the relay (``--serve``: 4 :class:`video.source.Source` and a
:class:`video.relay.RelayServer` muxing every camera all the time, as the relay service does —
``--lazy-mux``: only watched cameras — nothing else) serves them; N real viewers — ``ffmpeg -i
http://…/live/<cam>.ts -c copy -f null -`` — are spread over the cameras in turn (20 = 5 per camera).
For each N, after ``--warmup`` seconds, over ``--seconds``:

- the relay process's CPU (all its threads, from /proc), in cores;
- work on both sides: the packets the relay muxed and the bytes it sent per camera (its status), and
  the frames each viewer received (ffmpeg's progress). A viewer under 24 fps, or a relay that muxed
  less than the cameras sent, fails the run.

Targets: CPU(20) ≤ 1.3 × CPU(1); every viewer ≥ 24 fps. Then the time from a viewer opening a stream
(PyAV ``av.open``) to its first decoded frame, target ≤ 1.0 s, for a camera nobody watches and one
already watched: with FFmpeg's default probing, which waits for 20 frames to estimate the frame rate
of MPEG-TS, as ffplay does, and with ``fpsprobesize=0`` (the relay's own share: the cached GOP).
The relay process's CPU with no viewer is printed for reference.

The same viewers served by nginx-rtmp fed once by our push are measured by
``benchmarks.relay_nginx_bench``, which uses this module's relay process and viewers.

Prints JSON; exit 0 when every target is met and every side did its work, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from benchmarks.grid_bench import SYSTEM_PYTHON, _free_port, _process, _require

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
FPS = 25
CAMERAS = 4
WIDTH, HEIGHT, KBPS = 1280, 720, 2000
MIN_FPS = 24.0
TOKEN = "bench-token"

# Debian's python (gi): N mount points /cam1…/camN; with ``shared`` they share ONE live encoder.
_SERVER = r'''
import signal, sys
import gi
gi.require_version("Gst", "1.0"); gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

port, streams, width, height, fps, kbps, keyint, shared = (int(a) for a in sys.argv[1:9])
Gst.init(None)

class Factory(GstRtspServer.RTSPMediaFactory):
    def do_gen_key(self, url):
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


@contextlib.contextmanager
def camera_server(streams: int, width: int, height: int, kbps: int, *, keyint: int = FPS) -> Iterator[list[str]]:
    if not Path(SYSTEM_PYTHON).exists():
        raise SystemExit("the camera server needs Debian's python3 with python3-gi and gir1.2-gst-rtsp-server")
    port = _free_port()
    cmd = [SYSTEM_PYTHON, "-c", _SERVER, str(port), str(streams), str(width), str(height), str(FPS), str(kbps),
           str(keyint), "1"]
    with _process(cmd, ready=b"READY"):
        yield [f"rtsp://127.0.0.1:{port}/cam{i}" for i in range(1, streams + 1)]


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system, every thread) a running process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


# -- the relay process ----------------------------------------------------------------------------
def serve(urls: Sequence[str], port: int, linger: float | None = None) -> int:
    """Child mode: the sources and the relay only. Prints READY; answers "status" lines on stdin with
    the relay's status as JSON; ends at EOF."""
    import logging
    import resource

    from video.relay import Access, RelayedCamera, RelayServer, Unauthorized
    from video.source import Source, SourceOptions, SourceState

    logging.basicConfig(level=logging.WARNING)

    def access(token: str | None) -> Access:
        if token != TOKEN:
            raise Unauthorized("unknown token")
        return Access(None, "bench")

    sources = [Source(u, SourceOptions(), name=f"cam{i + 1}") for i, u in enumerate(urls)]
    for s in sources:
        s.start()
    relay = RelayServer(access, port=port, linger=linger)
    for i, s in enumerate(sources):
        relay.set_camera(RelayedCamera(f"cam{i + 1}", f"cam{i + 1}", None, s))
    relay.start()
    deadline = time.monotonic() + 20
    while not all(s.state is SourceState.LIVE for s in sources):
        if time.monotonic() > deadline:
            print("NOT LIVE", flush=True)
            return 1
        time.sleep(0.05)
    print("READY", flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "cpu":
                r = resource.getrusage(resource.RUSAGE_SELF)  # microseconds, not /proc's 10 ms ticks
                print(json.dumps(r.ru_utime + r.ru_stime), flush=True)
            elif line.strip() == "status":
                st = relay.status()
                print(json.dumps({c.camera_id: {"viewers": c.viewers, "bytes": c.bytes_sent, "packets": c.packets,
                                                "packets_dropped": c.packets_dropped, "drops": c.drops,
                                                "muxing": c.muxing} for c in st.cameras
                                 if c.stream == "main"}), flush=True)  # the viewers watch main streams
    finally:
        relay.stop(10)
        for s in sources:
            s.stop()
    return 0


class RelayProcess:
    def __init__(self, urls: Sequence[str], *, lazy: bool = False) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.relay_bench", "--serve", str(self.port),
                                      *(["--lazy-mux"] if lazy else []), *urls],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if b"READY" not in line:
            self.stop()
            raise SystemExit(f"the relay process did not start: {line!r}")
        self.base = f"http://127.0.0.1:{self.port}/live/"

    def _ask(self, what: bytes) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(what + b"\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def status(self) -> dict[str, dict[str, Any]]:
        return dict(self._ask(b"status"))

    def cpu(self) -> float:
        """The relay process's CPU seconds (getrusage: every thread, to the microsecond)."""
        return float(self._ask(b"cpu"))

    def stop(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


# -- viewers --------------------------------------------------------------------------------------
class Viewer:
    """``ffmpeg -i URL -c copy -f null -`` with its progress (frames over time) read on a thread."""

    def __init__(self, url: str) -> None:
        ffmpeg = _require("ffmpeg")
        self.proc = subprocess.Popen(
            [ffmpeg, "-nostdin", "-v", "error", "-nostats", "-progress", "pipe:1", "-stats_period", "0.5",
             "-i", url, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.samples: list[tuple[float, int]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="viewer-progress")
        self._thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(b"frame="):
                with self._lock:
                    self.samples.append((time.monotonic(), int(line[6:].strip() or 0)))

    def frames_at(self, t: float) -> int:
        with self._lock:
            return max((f for at, f in self.samples if at <= t), default=0)

    def cpu(self) -> float:
        try:
            return proc_cpu(self.proc.pid)
        except (FileNotFoundError, ProcessLookupError):
            return 0.0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._thread.join(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def measure(urls: Sequence[str], cpu: Callable[[], float], n: int, warmup: float, seconds: float,
            status: Callable[[], dict[str, dict[str, Any]]] | None = None) -> dict[str, Any]:
    """``n`` viewers spread over ``urls`` in turn; the server's CPU (``cpu()``) and the viewers' frames
    over ``seconds`` after ``warmup``."""
    viewers = [Viewer(urls[i % len(urls)]) for i in range(n)]
    try:
        time.sleep(warmup)
        s0 = status() if status else {}
        t0, c0 = time.monotonic(), cpu()
        v0 = sum(v.cpu() for v in viewers)
        time.sleep(seconds)
        t1, c1 = time.monotonic(), cpu()
        v1 = sum(v.cpu() for v in viewers)
        s1 = status() if status else {}
        # the progress lines come every 0.5 s: read the frames at window edges that have both sides' reports
        time.sleep(0.7)
        fps = [(v.frames_at(t1) - v.frames_at(t0)) / (t1 - t0) for v in viewers]
    finally:
        for v in viewers:
            v.stop()
    out: dict[str, Any] = {
        "viewers": n,
        "server_cores": round((c1 - c0) / (t1 - t0), 6),
        "viewers_cores": round((v1 - v0) / (t1 - t0), 4),
        "viewer_fps_min": round(min(fps), 2),
        "viewer_fps_mean": round(sum(fps) / len(fps), 2),
    }
    if status:
        out["relay"] = {
            cam: {
                "muxed_fps": round((s1[cam]["packets"] - s0[cam]["packets"]) / (t1 - t0), 2),
                "sent_mbit_s": round(8 * (s1[cam]["bytes"] - s0[cam]["bytes"]) / (t1 - t0) / 1e6, 3),
                "viewers": s1[cam]["viewers"],
                "viewer_drops": s1[cam]["drops"],
                "packets_dropped": s1[cam]["packets_dropped"] - s0[cam]["packets_dropped"],
            }
            for cam in s1 if s1[cam]["muxing"] and s1[cam]["viewers"]
        }
    return out


def first_frame_seconds(url: str, *, fps_probe: bool = True) -> float:
    """From opening ``url`` to its first decoded picture. ``fps_probe``: FFmpeg's default probing, which
    waits for 20 frames to estimate the frame rate of a stream that does not state it (MPEG-TS does
    not); without it (``fpsprobesize=0``) the player starts at the first keyframe's picture."""
    import av

    options = {} if fps_probe else {"fpsprobesize": "0"}
    t0 = time.monotonic()
    with av.open(url, timeout=10, options=options) as c:
        for _frame in c.decode(video=0):
            return time.monotonic() - t0
    raise RuntimeError("no frame")


# -- main -----------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warmup", type=float, default=8.0)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--viewers", default="1,5,20")
    p.add_argument("--lazy-mux", action="store_true",
                   help="mux a camera only while watched (10 s linger), not every relayed camera all the time "
                        "(the relay service's default)")
    p.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("urls", nargs="*", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve is not None:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        return serve(args.urls, args.serve, 10.0 if args.lazy_mux else None)
    _require("ffmpeg")
    counts = [int(n) for n in args.viewers.split(",")]
    result: dict[str, Any] = {"cameras": CAMERAS, "camera": f"{WIDTH}x{HEIGHT} H.264 {FPS} fps {KBPS} kb/s, keyint 1 s",
                              "ours": {}}
    ok = True
    with camera_server(CAMERAS, WIDTH, HEIGHT, KBPS) as cams:
        relay = RelayProcess(cams, lazy=args.lazy_mux)
        result["relay_mux"] = "watched cameras (10 s linger)" if args.lazy_mux else "every camera, always"
        try:
            urls = [f"{relay.base}cam{i}.ts?token={TOKEN}" for i in range(1, CAMERAS + 1)]
            time.sleep(args.warmup)
            t0, c0 = time.monotonic(), relay.cpu()
            time.sleep(min(args.seconds, 10))
            result["ours"]["0"] = {"viewers": 0, "server_cores": round((relay.cpu() - c0) / (time.monotonic() - t0), 4)}
            for n in counts:
                result["ours"][str(n)] = measure(urls, relay.cpu, n, args.warmup, args.seconds, relay.status)
                time.sleep(1.0)
            # time to the first frame: a camera whose mux has stopped (no viewer for the linger time) and one
            # being watched
            first: dict[str, list[float]] = {}
            for probe in (True, False):
                time.sleep(12 if args.lazy_mux else 0)  # past the 10 s linger: every mux has stopped
                name = "ffmpeg_default_probe" if probe else "fpsprobesize_0"
                first[f"{name}_camera_not_watched"] = [round(first_frame_seconds(u, fps_probe=probe), 3)
                                                       for u in urls]
                watcher = Viewer(urls[0])
                try:
                    time.sleep(2)
                    warm = []
                    for i in range(6):
                        time.sleep(0.17 * i)  # at different places in the GOP
                        warm.append(round(first_frame_seconds(urls[0], fps_probe=probe), 3))
                    first[f"{name}_camera_watched"] = warm
                finally:
                    watcher.stop()
            result["first_frame_s"] = first
        finally:
            relay.stop()
    ours = result["ours"]
    targets: dict[str, Any] = {}
    if "1" in ours and "20" in ours:
        ratio = ours["20"]["server_cores"] / ours["1"]["server_cores"]
        result["cpu20_over_cpu1"] = round(ratio, 3)
        targets["cpu20_le_1.3x_cpu1"] = ratio <= 1.3
        result["cpu_per_added_viewer_cores"] = round((ours["20"]["server_cores"] - ours["1"]["server_cores"]) / 19, 5)
    targets["every_viewer_ge_24fps"] = all(r["viewer_fps_min"] >= MIN_FPS for k, r in ours.items() if k != "0")
    first = result.get("first_frame_s", {})
    targets["first_frame_le_1s"] = bool(first) and max(x for v in first.values() for x in v) <= 1.0
    work = all(c["muxed_fps"] >= MIN_FPS and c["sent_mbit_s"] > 0 for k, r in ours.items() if k != "0"
               for c in r["relay"].values()) and all(
        len(r["relay"]) == min(int(k), CAMERAS) for k, r in ours.items() if k != "0")
    result["targets"] = targets
    result["both_sides_did_the_work"] = work and targets["every_viewer_ge_24fps"]
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = all(targets.values()) and result["both_sides_did_the_work"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
