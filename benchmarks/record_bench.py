"""Recording benchmark: 16 cameras recorded in-process against 16 ``ffmpeg -c copy -f segment``.

    python -m benchmarks.record_bench [--streams 16] [--seconds 30]

Both record the same 16 live streams: a 640×360 H.264 clip served over HTTP by another process
(``benchmarks.paced_ts``), one frame at a time at 25 fps, as cameras send — so both sides are woken
by the network per frame. Both remux without re-encoding into MPEG-TS segments on the same disk
for the same wall time. Reported: CPU of each side per recorded second of one stream, and the
ratio (target ≤ 1.0). CPU is counted over the same steady-state window on both sides (after 5 s of
start-up and probing), read from /proc for the ffmpeg processes.
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


def ours(inputs: list[str], work: Path, seconds: float, segment: float, *, warmup: float) -> dict[str, float]:
    streams = len(inputs)
    store = open_store(work / "bench.db")
    index = FootageIndex(store, work / "footage")
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
    packets0 = sum(s.status().packets for s in sources)
    time.sleep(seconds)
    cpu = _self_cpu() - cpu0
    packets = sum(s.status().packets for s in sources) - packets0
    for s in sources:
        s.stop()
    for r in recorders:
        r.stop()
    pool.stop()
    recorded = sum(seg.seconds for i in range(streams) for seg in index.segments(f"cam-{i:02d}"))
    store.close()
    return {"cpu_s": round(cpu, 3), "packets_in_window": packets, "recorded_stream_s_total": round(recorded, 1),
            "cpu_ms_per_stream_second": round(1000 * cpu / (streams * seconds), 3)}


def _proc_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (from /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def theirs(clip: Path, inputs: list[str], work: Path, seconds: float, segment: float, *, paced_files: bool,
           warmup: float) -> dict[str, float]:
    """16 ffmpeg processes; their CPU is read from /proc over the same steady-state window as ours."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("ffmpeg is not installed: it is the benchmark's reference (apt-get install ffmpeg)")
    procs = []
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
    time.sleep(warmup)  # start-up and probing are not recording work
    cpu0 = sum(_proc_cpu(p.pid) for p in procs)
    time.sleep(seconds)
    cpu = sum(_proc_cpu(p.pid) for p in procs) - cpu0
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    recorded = len(inputs) * seconds
    return {"cpu_s": round(cpu, 3), "recorded_stream_s": recorded,
            "cpu_ms_per_stream_second": round(1000 * cpu / recorded, 3)}


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
    result = {
        "streams": args.streams,
        "seconds": args.seconds,
        "segment_s": args.segment,
        "input": "640x360 H.264 High, 25 fps, ~1.1 Mbit/s, "
        + ("read from disk, paced as live" if args.paced_files else "live over HTTP from another process"),
        "ffmpeg_copy_segment": a,
        "hallwatch_recorder": b,
        "cpu_ratio": round(b["cpu_ms_per_stream_second"] / a["cpu_ms_per_stream_second"], 3),
        "target": 1.0,
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
