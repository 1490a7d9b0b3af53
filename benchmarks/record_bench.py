"""Recording benchmark: 16 cameras recorded in-process against 16 ``ffmpeg -c copy -f segment``.

    python -m benchmarks.record_bench [--streams 16] [--seconds 30]

Both record the same 16 live streams: a 640×360 H.264 clip served over HTTP by another process
(``benchmarks.paced_ts``), one frame at a time at 25 fps, as cameras send — so both sides are woken
by the network per frame. Both remux without re-encoding into MPEG-TS segments on the same disk
for the same wall time.

What each side recorded is measured, not assumed: the frames in our segments (the footage index),
and the video packets ffprobe counts in ffmpeg's segments, at 25 fps. Reported per side: CPU per
recorded stream-second over the whole recording (start-up included: it is recording work too), and
over the steady-state window after 5 s of start-up (the earlier figure); the share of the wall time
each side recorded; and the ratio of ours to ffmpeg's (target ≤ 1.0). A side that recorded under
95 % of its wall time fails the run (exit 1): its CPU per second would flatter it.
``--paced-files`` instead reads the clip from disk on both sides (our file sources paced at real
time; ffmpeg ``-re -stream_loop -1``). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from supervision.store import open_store
from video.footage import FootageIndex
from video.recorder import Recorder, RecorderOptions, RecorderPool
from video.source import Source, SourceOptions
from video.synthetic import write_file


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


FPS = 25  # the clip's frame rate: recorded seconds = frames / FPS on both sides
MIN_RECORDED = 0.95  # of the wall time, or the run fails


def ours(inputs: list[str], work: Path, seconds: float, segment: float, *, warmup: float) -> dict[str, float]:
    streams = len(inputs)
    store = open_store(work / "bench.db")
    index = FootageIndex(store, work / "footage")
    cpu_start, wall_start = _self_cpu(), time.monotonic()
    sources = [Source(url, SourceOptions(loop=True), name=f"bench-{i}") for i, url in enumerate(inputs)]
    pool = RecorderPool()  # as the recording service runs them: one writer thread for all cameras
    recorders = [Recorder(s, f"cam-{i:02d}", index, RecorderOptions(segment_seconds=segment), pool=pool)
                 for i, s in enumerate(sources)]
    for r in recorders:
        r.start()
    for s in sources:
        s.start()
    time.sleep(warmup)
    cpu0 = _self_cpu()
    time.sleep(seconds)
    cpu = _self_cpu() - cpu0
    wall = time.monotonic() - wall_start
    for s in sources:
        s.stop()
    for r in recorders:
        r.stop()
    pool.stop()
    cpu_total = _self_cpu() - cpu_start  # closing and hashing the last segments included
    frames = sum(seg.frames for i in range(streams) for seg in index.segments(f"cam-{i:02d}"))
    store.close()
    return _figures(streams, wall, frames, cpu_total, cpu, seconds)


def _figures(streams: int, wall: float, frames: int, cpu_total: float, cpu_window: float, seconds: float
             ) -> dict[str, float]:
    recorded = frames / FPS
    return {
        "wall_s": round(wall, 2),
        "frames_recorded": frames,
        "recorded_stream_s": round(recorded, 1),
        "recorded_share_of_wall": round(recorded / (streams * wall), 3),
        "cpu_s": round(cpu_total, 3),
        "cpu_ms_per_recorded_stream_second": round(1000 * cpu_total / recorded, 3) if recorded else float("inf"),
        "steady_window_cpu_ms_per_stream_second": round(1000 * cpu_window / (streams * seconds), 3),
    }


def _ffprobe_frames(ffprobe: str, path: Path) -> int:
    """Video packets in one of ffmpeg's segments, counted by ffprobe."""
    out = subprocess.run(
        [ffprobe, "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries",
         "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    # MPEG-TS lists the stream under its program as well: the same count twice, take one.
    counts = [line.split(",")[0] for line in out.stdout.split() if line.split(",")[0].isdigit()]
    return int(counts[0]) if out.returncode == 0 and counts else 0


def _proc_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def theirs(clip: Path, inputs: list[str], work: Path, seconds: float, segment: float, *, paced_files: bool,
           warmup: float) -> dict[str, float]:
    """16 ffmpeg processes; their CPU is read from /proc (whole run, and the steady-state window)."""
    ffmpeg, ffprobe = shutil.which("ffmpeg"), shutil.which("ffprobe")
    if ffmpeg is None or ffprobe is None:
        raise SystemExit("ffmpeg and ffprobe are the benchmark's reference (apt-get install ffmpeg)")
    procs = []
    wall_start = time.monotonic()
    for i, url in enumerate(inputs):
        out = work / f"ff-{i:02d}"
        out.mkdir()
        reading = ["-re", "-stream_loop", "-1", "-i", url] if paced_files else ["-i", url]
        procs.append(subprocess.Popen(
            [ffmpeg, "-nostdin", "-v", "error", *reading, "-t", str(seconds + warmup + 5),
             "-c", "copy", "-f", "segment", "-segment_time", str(segment), "-segment_format", "mpegts",
             str(out / "seg-%05d.ts")],
            stdout=subprocess.DEVNULL,
        ))
    time.sleep(warmup)  # start-up and probing: outside the steady-state window, inside the whole run
    cpu0 = sum(_proc_cpu(p.pid) for p in procs)
    time.sleep(seconds)
    cpu1 = sum(_proc_cpu(p.pid) for p in procs)
    wall = time.monotonic() - wall_start
    for p in procs:
        p.terminate()
    cpu_total = cpu1
    for p in procs:
        p.wait()
    # (the CPU of writing the last segment's end after SIGTERM is not readable from /proc once reaped;
    # it is a few packets' worth.)
    frames = sum(_ffprobe_frames(ffprobe, f) for f in sorted(work.glob("ff-*/seg-*.ts")))
    return _figures(len(inputs), wall, frames, cpu_total, cpu1 - cpu0, seconds)


def _start_server(clip: Path) -> tuple[subprocess.Popen[bytes], int]:
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.paced_ts", str(clip)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().split()
    if len(line) != 2 or line[0] != "READY":
        proc.kill()
        raise SystemExit("the paced MPEG-TS server did not start")
    return proc, int(line[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.record_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=125.0,
                        help="measured seconds (default 125: two 60 s segments closed and hashed on each side)")
    parser.add_argument("--segment", type=float, default=60.0,
                        help="segment length in seconds (default 60, the product's default)")
    parser.add_argument("--paced-files", action="store_true", help="read the clip from disk on both sides")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hallwatch-record-bench-") as tmp:
        work = Path(tmp)
        clip = work / "clip.ts"
        write_file(clip, seconds=(20 if args.paced_files else args.seconds + 20), label="A01", preset="veryfast")
        server = None
        if args.paced_files:
            inputs = [str(clip)] * args.streams
        else:
            server, port = _start_server(clip)
            inputs = [f"http://127.0.0.1:{port}/cam-{i:02d}.ts" for i in range(args.streams)]
        try:
            a = theirs(clip, inputs, work, args.seconds, args.segment, paced_files=args.paced_files, warmup=5.0)
            b = ours(inputs, work, args.seconds, args.segment, warmup=5.0)
        finally:
            if server is not None:
                server.terminate()
                server.wait(10)
                assert server.stdout is not None
                server.stdout.close()
    short = [name for name, side in (("ffmpeg", a), ("hallwatch", b)) if side["recorded_share_of_wall"] < MIN_RECORDED]
    result: dict[str, object] = {
        "streams": args.streams,
        "seconds": args.seconds,
        "segment_s": args.segment,
        "input": "640x360 H.264 High, 25 fps, ~1.1 Mbit/s, "
        + ("read from disk, paced as live" if args.paced_files else "live over HTTP from another process"),
        "ffmpeg_copy_segment": a,
        "hallwatch_recorder": b,
        "cpu_ratio": round(b["cpu_ms_per_recorded_stream_second"] / a["cpu_ms_per_recorded_stream_second"], 3),
        "steady_window_cpu_ratio": round(
            b["steady_window_cpu_ms_per_stream_second"] / a["steady_window_cpu_ms_per_stream_second"], 3),
        "target": 1.0,
        "failed": [f"{name} recorded under {MIN_RECORDED:.0%} of the wall time" for name in short],
    }
    print(json.dumps(result, indent=2))
    return 1 if short else 0


if __name__ == "__main__":
    raise SystemExit(main())
