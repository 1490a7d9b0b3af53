"""Archive seek latency over a day of footage (issue "Archive reader").

    python -m benchmarks.archive_seek [--hours 24] [--seeks 200] [--seed 7] [--data DIR]

Builds ``hours`` of indexed footage for one camera without a camera: ONE 60 s 1280×720 H.264 clip
(25 fps, a keyframe a second) hard-linked (copied where links fail) into the folders the recorder
uses, and one closed segment row per minute. Then one :class:`~video.archive.ArchiveReader` seeks to
``seeks`` random instants, each usually in a segment it has not opened yet: index look-up, open,
SHA-256 check, container seek to the keyframe before, decoding up to the instant, conversion to RGB
at the recorded size. Also measured: the same without the SHA-256 check; cold, beside warm: the
footage and the index dropped from the page cache (``posix_fadvise``) before every seek and a fresh
reader each time (every segment is the same inode here, so the warm figures flatter a real
archive); and stepping back one frame from a keyframe (decoding the previous GOP) and then on
through that GOP (cached). The target applies to warm and cold alike.

Prints JSON. Target: seek p95 ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import pagecache
from supervision.store import open_store
from supervision.store.footage import Segment, SegmentStatus
from video.archive import ArchiveFrame, ArchiveReader
from video.footage import FootageIndex, segment_relpath, sha256_file
from video.synthetic import write_file

CAMERA = "hall-1/window/A01"
START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
CLIP_SECONDS = 60
WIDTH, HEIGHT, FPS = 1280, 720, 25
TARGET_P95_MS = 250.0


def build(folder: Path, hours: float, cameras: tuple[str, ...] = (CAMERA,)
          ) -> tuple[FootageIndex, Path, dict[str, Any]]:
    """The clip, its links and the index (each camera the same footage); returns the index, the clip and
    what building took."""
    t0 = time.perf_counter()
    clip = folder / "clip.ts"
    write_file(clip, seconds=CLIP_SECONDS, start=START, width=WIDTH, height=HEIGHT, fps=FPS)
    written = time.perf_counter() - t0
    digest, size = sha256_file(clip), clip.stat().st_size
    store = open_store(folder / "hallwatch.db")
    index = FootageIndex(store, folder / "footage")
    count = round(hours * 3600 / CLIP_SECONDS)
    linked = copied = 0
    rows = []
    for cam in cameras:
        for k in range(count):
            start = START + timedelta(seconds=k * CLIP_SECONDS)
            rel = segment_relpath(cam, start)
            path = index.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(clip, path)
                linked += 1
            except OSError:
                shutil.copyfile(clip, path)
                copied += 1
            rows.append(Segment(
                camera_id=cam, start=start, end=start + timedelta(seconds=CLIP_SECONDS), path=rel, bytes=size,
                sha256=digest, status=SegmentStatus.CLOSED.value, frames=CLIP_SECONDS * FPS, first_pts=0.0,
                codec="h264", width=WIDTH, height=HEIGHT,
            ))
    with store.write() as s:
        s.add_all(rows)
    return index, clip, {
        "segments": count * len(cameras), "clip_bytes": size, "clip_write_s": round(written, 2), "hard_links": linked,
        "copies": copied, "build_s": round(time.perf_counter() - t0, 2),
    }


def figures(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50": round(statistics.median(ms), 1), "p95": round(p95, 1), "max": round(ms[-1], 1),
            "mean": round(statistics.fmean(ms), 1), "n": len(ms)}


def timed(action: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = action()
    return time.perf_counter() - t0, result


def expected(at: datetime) -> datetime:
    """The time of the frame showing at ``at`` (every segment starts on the minute, frames every 40 ms)."""
    frame = timedelta(seconds=1 / FPS)
    return START + (at - START) // frame * frame


def seeks(index: FootageIndex, instants: list[datetime], *, verify: bool,
          before: Callable[[], None] | None = None) -> tuple[list[float], int]:
    samples, frames = [], 0
    with ArchiveReader(index, CAMERA, verify_hashes=verify) as reader:
        for at in instants:
            if before is not None:
                before()
            t0 = time.perf_counter()
            result = reader.seek(at)
            samples.append(time.perf_counter() - t0)
            if isinstance(result, ArchiveFrame) and result.at == expected(at):
                frames += 1
    return samples, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--seeks", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="build here (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="archive-bench-", dir=args.data) as tmp:
        folder = Path(tmp)
        index, clip, built = build(folder, args.hours)
        span_us = int(args.hours * 3600 * 1_000_000)
        rnd = random.Random(args.seed)
        instants = [START + timedelta(microseconds=rnd.randrange(span_us)) for _ in range(args.seeks)]

        warm, found = seeks(index, instants, verify=True)
        no_verify, _ = seeks(index, instants, verify=False)
        # Cold: the footage and the index dropped from the page cache before every seek, and a fresh
        # reader each time (nothing open, no decoded picture kept): as the first seek of a review.
        db = folder / "hallwatch.db"
        cold: list[float] = []
        cold_found = 0
        for at in instants:
            pagecache.drop([clip, db])
            samples, ok = seeks(index, [at], verify=True)
            cold += samples
            cold_found += ok

        back_gop, back_cached = [], []
        with ArchiveReader(index, CAMERA) as reader:
            for at in instants[:40]:
                keyframe = at.replace(microsecond=0)  # a keyframe each second, on the second
                reader.seek(keyframe)
                seconds, _ = timed(lambda: reader.step(-1))
                back_gop.append(seconds)
                for _ in range(10):
                    seconds, _ = timed(lambda: reader.step(-1))
                    back_cached.append(seconds)
        index.store.close()

    seek = figures(warm)
    print(json.dumps({
        "footage": {"hours": args.hours, "camera": CAMERA, "size": f"{WIDTH}x{HEIGHT}", "fps": FPS,
                    "segment_seconds": CLIP_SECONDS, **built},
        "seeks": args.seeks,
        "frames_exact": found,
        "seek_ms": seek,
        "seek_without_hash_check_ms": figures(no_verify),
        "seek_cold_ms": figures(cold),
        "frames_exact_cold": cold_found,
        "step_back_across_keyframe_ms": figures(back_gop),
        "step_back_within_cached_gop_ms": figures(back_cached),
        "target_p95_ms": TARGET_P95_MS,
        "ok": seek["p95"] <= TARGET_P95_MS and figures(cold)["p95"] <= TARGET_P95_MS,
    }, indent=2))


if __name__ == "__main__":
    main()
