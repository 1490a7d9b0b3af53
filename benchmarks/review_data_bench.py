"""The review window's data (issue 14): timeline loading, the day picker, hover thumbnails.

    flock /tmp/hw-cpu.lock python -m benchmarks.review_data_bench [--days 14] [--cameras 4] [--runs 20]
        [--thumb-hours 24] [--hovers 200] [--seed 7] [--data DIR]

Timeline: a store with ``cameras`` cameras × ``days`` days of 1-minute segment rows (a camera outage
of 5 min a day with its gap row, a missing and a corrupt segment a day), and a year of records for
the recorded camera's window (3 000 case warnings with their cases, 1 000 ticket warnings, 3 000
evaluations, 300 complaints, 500 bookmarks, 100 holds, 200 seat absences). ``load_timeline`` over
the last week (10 080 segments in view) and the last day (1 440) of one camera, ``runs`` times
each; the reference, measured in the same run over the same span, is what the footage index offers
for the same question: ``FootageIndex.segments`` (ORM rows) plus ``FootageIndex.gaps``, without
markers. ``footage_days`` over the whole month.

Thumbnails: ``thumb-hours`` of 1280×720 footage for each of 4 cameras (one 60 s H.264 clip, 25 fps,
a keyframe a second, hard-linked into every minute's folder, as ``archive_seek`` builds it).
``ThumbnailCache.get`` at ``hovers`` random instants (each a miss, mostly in a file not open yet),
cold (footage and index dropped from the page cache before each), and a sweep of the pointer along
10 minutes in 0.5 s steps (2 s buckets: hits and misses in open files). The reference is the
archive reader asked for the same picture at the same size: ``ArchiveReader.seek`` (the exact
frame, not the keyframe before it), with and without its SHA-256 check.

Prints JSON. Targets: a week's timeline well under 100 ms, a day's under 30 ms; thumbnail miss
p95 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from app.review import ThumbnailCache, footage_days, load_timeline
from benchmarks import pagecache
from supervision.store import Store, open_store
from supervision.store.footage import EvidenceHold, FootageGap, Segment, SegmentStatus
from supervision.store.models import (
    BookmarkRow,
    CameraRow,
    CaseRow,
    ComplaintRow,
    EvaluationRow,
    SeatVacancyRow,
    TicketRow,
    WarningState,
    Window,
)
from video.archive import ArchiveFrame, ArchiveReader
from video.footage import FootageIndex, segment_relpath, sha256_file
from video.synthetic import write_file

TZ = ZoneInfo("Asia/Shanghai")
END = datetime(2026, 3, 30, 16, 0, tzinfo=UTC)  # midnight local: the footage ends here
WINDOW = "win-A01"
MINUTE = timedelta(minutes=1)
WEEK_TARGET_MS, DAY_TARGET_MS, THUMB_TARGET_MS = 100.0, 30.0, 100.0
WIDTH, HEIGHT, FPS, CLIP_SECONDS = 1280, 720, 25, 60


def figures(samples: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return {"p50": round(statistics.median(ms), 2), "p95": round(p95, 2), "max": round(ms[-1], 2), "n": len(ms)}


def timed(runs: int, action: Callable[[], Any]) -> tuple[list[float], Any]:
    samples, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = action()
        samples.append(time.perf_counter() - t0)
    return samples, result


def camera(k: int) -> str:
    return f"hall-1/window/A{k + 1:02d}"


# -- the timeline's store -------------------------------------------------------------------------
def build_timeline_store(folder: Path, cameras: int, days: int, rnd: random.Random) -> tuple[Store, dict[str, int]]:
    store = open_store(folder / "timeline.db")
    t0 = time.perf_counter()
    start = END - timedelta(days=days)
    counts = {"segments": 0, "gap_rows": 0}
    with store.write() as s:
        s.execute(insert(Window), [{"id": f"win-A{k + 1:02d}", "version": 1, "deleted": False, "hall_id": "h1",
                                    "number": f"A{k + 1:02d}"} for k in range(cameras)])
        s.execute(insert(CameraRow), [{"id": camera(k), "version": 1, "deleted": False, "hall_id": "h1",
                                       "window_id": f"win-A{k + 1:02d}", "stream_url": f"rtsp://cam{k}"}
                                      for k in range(cameras)])
        for k in range(cameras):
            cam = camera(k)
            rows, gaps = [], []
            for d in range(days):
                day = start + timedelta(days=d)
                outage = rnd.randrange(60, 1380)  # five minutes without footage, said by a gap row
                missing, corrupt = rnd.randrange(1440), rnd.randrange(1440)
                for m in range(1440):
                    if outage <= m < outage + 5:
                        continue
                    t = day + m * MINUTE
                    status = (SegmentStatus.MISSING if m == missing else SegmentStatus.CORRUPT if m == corrupt
                              else SegmentStatus.CLOSED)
                    rows.append({"camera_id": cam, "start": t + timedelta(milliseconds=rnd.randrange(3)),
                                 "end": t + MINUTE, "path": segment_relpath(cam, t), "bytes": 7_500_000,
                                 "sha256": "0" * 64, "status": status.value, "frames": 1500, "first_pts": 1.4,
                                 "codec": "h264", "width": 1280, "height": 720,
                                 "problem": None if status is SegmentStatus.CLOSED else "the file is gone"})
                gaps.append({"camera_id": cam, "start": day + outage * MINUTE, "end": day + (outage + 5) * MINUTE,
                             "reason": "no video from the camera"})
            s.execute(insert(Segment), rows)
            s.execute(insert(FootageGap), gaps)
            counts["segments"] += len(rows)
            counts["gap_rows"] += len(gaps)
        counts.update(seed_records(s, rnd))
    counts["build_ms"] = round((time.perf_counter() - t0) * 1000)
    return store, counts


def seed_records(s: Any, rnd: random.Random) -> dict[str, int]:
    """A year of records about the recorded camera's window."""
    year = timedelta(days=365)
    cam = camera(0)

    def when() -> datetime:
        return END - timedelta(seconds=rnd.randrange(int(year.total_seconds())))

    cases, states = [], []
    for i in range(3000):
        sub = when()
        stages = [{"stage": "submitted", "at": sub.isoformat()},
                  {"stage": "accepted", "at": (sub + 10 * MINUTE).isoformat()},
                  {"stage": "handled", "at": (sub + timedelta(days=2)).isoformat()}]
        cases.append({"id": f"C-{i}", "version": 1, "deleted": False, "case_type_id": "ct", "window_id": WINDOW,
                      "submitted_at": sub, "status": "in_progress", "stages": stages, "suspensions": []})
        code = ("OVERDUE", "FEE_MISMATCH", "DUE_SOON")[i % 3]
        states.append({"key": f"C-{i}/{code}", "code": code, "subject": f"C-{i}", "window_id": WINDOW,
                       "level": "yellow", "max_level": "yellow", "state": "cleared", "since": sub + timedelta(days=3),
                       "updated_at": sub + timedelta(days=3)})
    tickets = []
    for i in range(1000):
        issued = when()
        tickets.append({"id": f"T-{i}", "version": 1, "deleted": False, "hall_id": "h1", "number": f"A{i}",
                        "issued_at": issued, "called_at": issued + 40 * MINUTE, "window_id": WINDOW,
                        "status": "called"})
        states.append({"key": f"T-{i}/WAIT_LONG", "code": "WAIT_LONG", "subject": f"T-{i}", "window_id": WINDOW,
                       "level": "yellow", "max_level": "yellow", "state": "cleared",
                       "since": issued + 30 * MINUTE, "updated_at": issued + 40 * MINUTE})
    states.append({"key": f"{WINDOW}/POST_LEFT", "code": "POST_LEFT", "subject": WINDOW, "window_id": WINDOW,
                   "level": "yellow", "max_level": "yellow", "state": "cleared", "since": END - year,
                   "updated_at": END})
    s.execute(insert(CaseRow), cases)
    s.execute(insert(TicketRow), tickets)
    s.execute(insert(WarningState), states)
    s.execute(insert(EvaluationRow), [{"id": f"E-{i}", "version": 1, "deleted": False, "window_id": WINDOW,
                                       "at": when(), "grade": rnd.randint(1, 5)} for i in range(3000)])
    s.execute(insert(ComplaintRow), [{"id": f"K-{i}", "version": 1, "deleted": False, "hall_id": "h1",
                                      "window_id": WINDOW if i % 3 else None, "channel": "web",
                                      "received_at": (r := when()), "about_at": r - MINUTE if i % 2 else None,
                                      "summary": "x", "status": "open"} for i in range(300)])
    s.execute(insert(BookmarkRow), [{"id": f"B-{i}", "version": 1, "deleted": False, "camera_id": cam, "at": when(),
                                     "note": "n", "origin": "local"} for i in range(500)])
    s.execute(insert(EvidenceHold), [{"id": f"manual:{i}", "kind": "manual", "camera_id": cam if i % 2 else None,
                                      "window_id": None if i % 2 else WINDOW, "start": (h := when()),
                                      "end": h + 20 * MINUTE, "reason": "r", "created_at": h, "created_by": "x"}
                                     for i in range(100)])
    s.execute(insert(SeatVacancyRow), [{"id": f"V-{i}", "version": 1, "deleted": False, "window_id": WINDOW,
                                        "started_at": (v := when()), "ended_at": v + 20 * MINUTE}
                                       for i in range(200)])
    return {"cases": 3000, "tickets": 1000, "warning_states": len(states), "evaluations": 3000, "complaints": 300,
            "bookmarks": 500, "holds": 100, "seat_vacancies": 200}


def timeline_figures(store: Store, runs: int) -> dict[str, Any]:
    index = FootageIndex(store, Path("/nonexistent"))
    cam = camera(0)
    now = END + timedelta(hours=1)
    out: dict[str, Any] = {}
    for name, span, n in (("week", timedelta(days=7), runs), ("day", timedelta(days=1), runs * 2)):
        a, b = END - span, END
        load_timeline(store, index, cam, a, b, now=now, tz=TZ)  # warm the statement caches

        def ours_once(a: datetime = a, b: datetime = b) -> Any:
            return load_timeline(store, index, cam, a, b, now=now, tz=TZ)

        def reference_once(a: datetime = a, b: datetime = b) -> Any:
            return index.segments(cam, a, b), index.gaps(cam, a, b)

        ours, tl = timed(n, ours_once)
        ref, got = timed(n, reference_once)
        kinds: dict[str, int] = {}
        for m in tl.markers:
            kinds[m.kind.value] = kinds.get(m.kind.value, 0) + 1
        out[name] = {
            "load_timeline_ms": figures(ours),
            "reference_index_segments_and_gaps_ms": figures(ref),
            "segments_read": len(got[0]), "gap_rows_read": len(got[1]),
            "spans": len(tl.spans), "gaps": len(tl.gaps),
            "gap_reasons": sorted({g.reason.value for g in tl.gaps}), "markers": kinds,
        }
    out["week"]["target_ms"], out["day"]["target_ms"] = WEEK_TARGET_MS, DAY_TARGET_MS
    days, found = timed(runs, lambda: footage_days(index, cam, TZ, date(2026, 3, 1), date(2026, 3, 31)))
    out["footage_days_month_ms"] = figures(days)
    out["footage_days_found"] = len(found)
    return out


# -- thumbnails -------------------------------------------------------------------------------------
def build_footage(folder: Path, hours: float, cameras: int) -> tuple[FootageIndex, Path, dict[str, Any]]:
    t0 = time.perf_counter()
    clip = folder / "clip.ts"
    start = END - timedelta(hours=hours)
    write_file(clip, seconds=CLIP_SECONDS, start=start, width=WIDTH, height=HEIGHT, fps=FPS)
    written = time.perf_counter() - t0
    digest, size = sha256_file(clip), clip.stat().st_size
    store = open_store(folder / "footage.db")
    index = FootageIndex(store, folder / "footage")
    rows = []
    for k in range(cameras):
        cam = camera(k)
        for m in range(round(hours * 60)):
            t = start + m * MINUTE
            rel = segment_relpath(cam, t)
            path = index.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(clip, path)
            except OSError:
                shutil.copyfile(clip, path)
            rows.append({"camera_id": cam, "start": t, "end": t + MINUTE, "path": rel, "bytes": size,
                         "sha256": digest, "status": SegmentStatus.CLOSED.value, "frames": CLIP_SECONDS * FPS,
                         "first_pts": 0.0, "codec": "h264", "width": WIDTH, "height": HEIGHT})
    with store.write() as s:
        s.execute(insert(Segment), rows)
    return index, clip, {"segments": len(rows), "clip_bytes": size, "clip_write_s": round(written, 1),
                         "build_s": round(time.perf_counter() - t0, 1)}


def thumbnail_figures(folder: Path, hours: float, hovers: int, rnd: random.Random) -> dict[str, Any]:
    cameras = 4
    index, clip, built = build_footage(folder, hours, cameras)
    span_us = int(hours * 3600 * 1_000_000)
    start = END - timedelta(hours=hours)
    instants = [(camera(rnd.randrange(cameras)), start + timedelta(microseconds=rnd.randrange(span_us)))
                for _ in range(hovers)]
    out: dict[str, Any] = {"footage": {"hours": hours, "cameras": cameras, "size": f"{WIDTH}x{HEIGHT}", "fps": FPS,
                                       "keyframe_every_s": 1, **built}}
    with ThumbnailCache(index) as cache:
        cache.get(*instants[0])
        misses, near = [], 0
        for cam, at in instants:
            cache.clear()  # every hover a miss (the files stay open, at most 4)
            t0 = time.perf_counter()
            frame = cache.get(cam, at)
            misses.append(time.perf_counter() - t0)
            if frame is not None and timedelta(0) <= at - frame.at < timedelta(seconds=3):
                near += 1
        out["miss_ms"] = figures(misses)
        out["miss_frames_within_3s_before"] = near
        cold = []
        for cam, at in instants[: max(1, hovers // 4)]:
            cache.close()
            pagecache.drop([clip, folder / "footage.db"])
            t0 = time.perf_counter()
            cache.get(cam, at)
            cold.append(time.perf_counter() - t0)
        out["miss_cold_ms"] = figures(cold)
        cache.close()
        sweep_start = start + timedelta(hours=hours / 2)
        hits_before, misses_before = cache.hits, cache.misses
        sweep = []
        for i in range(1200):  # 10 minutes in 0.5 s steps
            t0 = time.perf_counter()
            cache.get(camera(0), sweep_start + timedelta(milliseconds=500 * i))
            sweep.append(time.perf_counter() - t0)
        out["sweep_ms"] = {**figures(sweep), "hits": cache.hits - hits_before, "misses": cache.misses - misses_before,
                           "open_files_max": cache.max_files}
    for name, verify in (("reference_archive_seek_ms", True), ("reference_archive_seek_no_hash_ms", False)):
        samples = []
        readers: dict[str, ArchiveReader] = {}
        try:
            for cam, at in instants:
                reader = readers.get(cam)
                if reader is None:
                    reader = readers[cam] = ArchiveReader(index, cam, width=192, height=108, verify_hashes=verify)
                t0 = time.perf_counter()
                got = reader.seek(at)
                samples.append(time.perf_counter() - t0)
                assert isinstance(got, ArchiveFrame)
        finally:
            for reader in readers.values():
                reader.close()
        out[name] = figures(samples)
    out["target_p95_ms"] = THUMB_TARGET_MS
    index.store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--thumb-hours", type=float, default=24.0)
    parser.add_argument("--hovers", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=None, help="build here (default: a temporary folder)")
    parser.add_argument("--skip-thumbnails", action="store_true")
    args = parser.parse_args()
    uptime_before = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    rnd = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="review-data-bench-", dir=args.data) as tmp:
        folder = Path(tmp)
        store, built = build_timeline_store(folder, args.cameras, args.days, rnd)
        timeline = timeline_figures(store, args.runs)
        store.close()
        thumbs = None if args.skip_thumbnails else thumbnail_figures(folder, args.thumb_hours, args.hovers, rnd)
    week, day = timeline["week"]["load_timeline_ms"]["p95"], timeline["day"]["load_timeline_ms"]["p95"]
    ok = week < WEEK_TARGET_MS and day < DAY_TARGET_MS
    if thumbs is not None:
        ok = ok and thumbs["miss_ms"]["p95"] <= THUMB_TARGET_MS
    print(json.dumps({
        "uptime_before": uptime_before,
        "store": {"cameras": args.cameras, "days": args.days, **built},
        "timeline": timeline,
        "thumbnails": thumbs,
        "ok": ok,
        "uptime_after": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
    }, indent=2, default=str))


if __name__ == "__main__":
    main()
