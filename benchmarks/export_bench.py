"""Evidence export benchmark: 10 minutes of one 1280×720 camera (ten 60 s segments) to a signed MP4.

    python -m benchmarks.export_bench [--segments 10] [--seconds 60] [--bitrate 2000000] [--runs 3]

Writes one synthetic clip (H.264, 25 fps, a keyframe each second, as cameras send), copies it as
consecutive segments into a fresh store's footage index, then exports the whole span (every source
hashed again, remuxed without re-encoding, MP4 hashed, manifest signed) and verifies the result.
Each of ``--runs`` rounds times a cold export (the segments and the index dropped from the page
cache first) and a warm one. Prints JSON; the target is an export in at most 3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import pagecache
from supervision.store import open_store
from video.export import ExportRequest, SigningKey, export, verify
from video.footage import FootageIndex
from video.synthetic import write_file

TARGET_S = 3.0
CAMERA = "bench/A01"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--segments", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of each segment")
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--bitrate", type=int, default=2_000_000, help="bits per second of the synthetic camera")
    ap.add_argument("--runs", type=int, default=3, help="cold and warm exports timed (each into a fresh folder)")
    args = ap.parse_args(argv)

    t0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="hallwatch-export-bench-") as tmp:
        data = Path(tmp)
        clip = data / "clip.ts"
        began = time.perf_counter()
        write_file(clip, seconds=args.seconds, start=t0, width=args.width, height=args.height, bitrate=args.bitrate)
        write_s = time.perf_counter() - began

        store = open_store(data / "hallwatch.db")
        try:
            index = FootageIndex(store, data / "footage")
            frames = round(args.seconds * 25)
            for i in range(args.segments):
                start = t0 + timedelta(seconds=i * args.seconds)
                seg_id, path = index.open_segment(
                    CAMERA, start, codec="h264", width=args.width, height=args.height, first_pts=0.0
                )
                shutil.copyfile(clip, path)
                index.close_segment(seg_id, start + timedelta(seconds=args.seconds), frames, path)
            end = t0 + timedelta(seconds=args.segments * args.seconds)
            key = SigningKey.generate()
            times: list[float] = []
            cpu: list[float] = []
            verify_times: list[float] = []
            cold: list[float] = []
            result = None
            sources = sorted((data / "footage").rglob("*.ts"))
            for run in range(2 * args.runs):
                warm = run % 2 == 1  # cold, warm, cold, warm…: a warm run follows the read of a cold one
                out = data / f"out-{run}"
                if not warm:  # the segments and the index read from the disk, not the page cache
                    pagecache.drop([*sources, data / "hallwatch.db"])
                began, cpu_began = time.perf_counter(), time.process_time()
                result = export(index, ExportRequest(CAMERA, t0, end, out, reason="benchmark", who="bench",
                                                     terminal="bench", key=key))
                if not warm:
                    cold.append(time.perf_counter() - began)
                    continue
                times.append(time.perf_counter() - began)
                cpu.append(time.process_time() - cpu_began)
                began = time.perf_counter()
                checked = verify(out)
                verify_times.append(time.perf_counter() - began)
                if not checked.ok:
                    print(json.dumps({"error": list(checked.problems)}), file=sys.stderr)
                    return 1
        finally:
            store.close()
        assert result is not None
        source_bytes = args.segments * clip.stat().st_size
        median = statistics.median(times)
        report = {
            "what": f"export {args.segments} × {args.seconds:g} s of one {args.width}×{args.height} H.264 camera "
                    f"({args.bitrate / 1e6:g} Mbit/s) to a signed MP4, no re-encoding",
            "span_s": args.segments * args.seconds,
            "source_bytes": source_bytes,
            "mp4_bytes": result.video_bytes,
            "frames": result.frames,
            "export_s": [round(t, 3) for t in times],
            "export_median_s": round(median, 3),
            # The sources dropped from the page cache first (as footage from hours ago would be).
            "export_cold_cache_s": [round(t, 3) for t in cold],
            "export_cold_cache_median_s": round(statistics.median(cold), 3),
            "export_cpu_s": [round(t, 3) for t in cpu],  # the rest of the wall time is waiting for the disk
            "export_mb_per_s": round(source_bytes / median / 1e6, 1),
            "realtime_factor": round(args.segments * args.seconds / median),
            "verify_median_s": round(statistics.median(verify_times), 3),
            "target_s": TARGET_S,
            "meets_target": median <= TARGET_S,
            "meets_target_cold": statistics.median(cold) <= TARGET_S,
            "clip_write_s": round(write_s, 1),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
