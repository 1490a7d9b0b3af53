"""Recording: stream copy into indexed segments, crash recovery, retention and evidence holds."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from supervision.store import Store, open_store
from supervision.store.footage import EvidenceHold, FootageGap, Segment, SegmentStatus
from supervision.store.models import CameraRow, WarningState
from tests.ci import unavailable
from tests.video.camera_servers import CameraFactory
from tests.video.conftest import LiveCamera
from tests.video.tmpfs import fill, small_disk
from tests.video.waiting import FAST, wait_for
from video.footage import FootageIndex, sha256_file
from video.recorder import Recorder, RecorderOptions, RecorderPool
from video.retention import Retention, RetentionPolicy
from video.service import RecordingService
from video.source import MediaPacket, Source, SourceOptions
from video.synthetic import CameraSpec, SyntheticCameraServer

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "hallwatch.db")
    yield s
    s.close()


def _file_packets(path: Path) -> tuple[list[bytes], float, dict[str, object]]:
    """The file's frames, the span of their timestamps plus one frame, and its codec parameters."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        ctx = v.codec_context
        params = {"codec": ctx.name, "width": ctx.width, "height": ctx.height, "profile": ctx.profile}
        packets = [p for p in c.demux(v) if p.size]
        data = [bytes(p) for p in packets]
        pts = sorted(float(p.pts * v.time_base) for p in packets if p.pts is not None and v.time_base)
    span = pts[-1] - pts[0] + (pts[-1] - pts[0]) / max(1, len(pts) - 1) if len(pts) > 1 else 0.0
    return data, span, params


@pytest.mark.parametrize(("codec", "name"), [("h264", "h264"), ("h265", "hevc")])
def test_recording_an_rtsp_camera_copies_packets_into_indexed_segments(
    codec: str, name: str, rtsp_camera_factory: CameraFactory, store: Store, tmp_path: Path
) -> None:
    cam = rtsp_camera_factory(codec, width=640, height=360)
    index = FootageIndex(store, tmp_path / "footage")
    src = Source(cam.url)
    tap = src.subscribe("tap", maxsize=10_000)
    rec = Recorder(src, "cam-1", index, RecorderOptions(segment_seconds=2))
    rec.start()
    src.start()
    try:
        assert wait_for(lambda: len(index.segments("cam-1")) >= 4, 30), index.segments("cam-1")
    finally:
        rec.stop()
        src.stop()
        sent: list[MediaPacket] = tap.drain()
        tap.close()
    segs = index.segments("cam-1")
    assert all(s.status is SegmentStatus.CLOSED for s in segs)
    source_bytes = {p.data for p in sent}
    recorded = 0
    for seg in segs:
        assert seg.path.stat().st_size == seg.bytes and sha256_file(seg.path) == seg.sha256, "index matches file"
        data, span, params = _file_packets(seg.path)
        assert params["codec"] == name and (params["width"], params["height"]) == (640, 360)
        assert params["profile"] == sent[0].info.profile
        assert len(data) == seg.frames
        # No re-encoding: every frame in the file is a packet the camera sent, byte for byte
        # (the muxer may add an access unit delimiter in front).
        assert all(d in source_bytes or d[6:] in source_bytes or any(d.endswith(s) for s in source_bytes)
                   for d in data[:5])
        recorded += len(data)
        assert seg.seconds == pytest.approx(span, abs=0.05), "the index's duration is the file's"
    assert recorded >= 3 * 45
    total = sum(s.seconds for s in segs)
    assert total == pytest.approx((segs[-1].end - segs[0].start).total_seconds(), abs=0.2), "durations add up"
    for a, b in itertools.pairwise(segs):
        assert abs((b.start - a.end).total_seconds()) < 0.1, "consecutive segments line up"
        assert a.seconds >= 1.9, "cut at the first keyframe after segment_seconds"


def test_a_camera_that_drops_leaves_a_gap_with_a_reason(store: Store, tmp_path: Path, live_camera: LiveCamera) -> None:
    index = FootageIndex(store, tmp_path / "footage")
    src = Source(live_camera.url, SourceOptions(stall_after=1.5, backoff_initial=0.2, open_timeout=4.0))
    rec = Recorder(src, "cam-1", index, RecorderOptions(segment_seconds=60, idle_seconds=1.0))
    rec.start()
    src.start()
    try:
        assert wait_for(lambda: rec.status().recording, 10)
        assert wait_for(lambda: rec.status().bytes > 50_000, 10)  # some video in the first segment
        live_camera.freeze(True)
        assert wait_for(lambda: not rec.status().recording, 5)
        live_camera.freeze(False)
        assert wait_for(lambda: rec.status().recording, 20)
    finally:
        rec.stop()
        src.stop()
    segs = index.segments("cam-1")
    assert len(segs) == 2
    gaps = index.gaps("cam-1", segs[0].start, segs[-1].end)
    assert len(gaps) == 1
    start, end, reason = gaps[0]
    assert reason in ("no video from the camera", "the camera reconnected")
    assert end is not None and start < end



class _SlowIndex(FootageIndex):
    """A busy disk or store: finishing a segment (its fsync, its hash, its index row) takes ``delay``."""

    def __init__(self, store: Store, root: Path, delay: float) -> None:
        super().__init__(store, root)
        self.delay = delay

    def close_segment(self, *args: object, **kwargs: object) -> str | None:  # type: ignore[override]
        time.sleep(self.delay)
        return super().close_segment(*args, **kwargs)  # type: ignore[arg-type]


def test_a_recorder_cutting_its_next_segment_is_recording_all_along(store: Store, tmp_path: Path) -> None:
    """A segment's end is not a stop: the camera stays "recording" while the old file is finished."""
    index = _SlowIndex(store, tmp_path / "footage", 0.4)
    with SyntheticCameraServer({"a": CameraSpec("A01")}) as server:
        src = Source(server.url("a"))
        rec = Recorder(src, "cam-1", index, RecorderOptions(segment_seconds=1))
        rec.start()
        src.start()
        seen: list[bool] = []
        try:
            assert wait_for(lambda: rec.status().recording, 20)
            deadline = time.monotonic() + 30
            while rec.status().segments < 3 and time.monotonic() < deadline:
                seen.append(rec.status().recording)
                time.sleep(0.005)
        finally:
            rec.stop()
            src.stop()
    assert rec.status().segments >= 3, rec.status()
    assert all(seen), f"not recording in {seen.count(False)} of {len(seen)} looks while segments were cut"
    segs = index.segments("cam-1")
    assert len(segs) >= 4 and all(s.status is SegmentStatus.CLOSED for s in segs)
    for a, b in itertools.pairwise(segs):
        assert abs((b.start - a.end).total_seconds()) < 0.1, "consecutive segments line up"
    assert not index.gaps("cam-1", segs[0].start, segs[-1].end)


def test_one_camera_finishing_a_segment_on_a_slow_disk_does_not_hold_up_the_others(
        store: Store, tmp_path: Path) -> None:
    """The recorders share one writing thread: a segment cut is finished beside it, so every
    camera's packets keep reaching their files while another camera's fsync waits on the disk."""
    index = _SlowIndex(store, tmp_path / "footage", 1.2)
    pool = RecorderPool(0.2, name="test-recorders")
    specs = {"a": CameraSpec("A01"), "b": CameraSpec("B01", seed=1)}
    with SyntheticCameraServer(specs) as server:
        sources = [Source(server.url(k)) for k in specs]
        recs = [Recorder(src, f"cam-{k}", index, RecorderOptions(segment_seconds=1), pool=pool)
                for src, k in zip(sources, specs, strict=True)]
        for rec, src in zip(recs, sources, strict=True):
            rec.start()
            src.start()
        longest = [0.0, 0.0]
        try:
            assert wait_for(lambda: all(r.status().bytes > 0 for r in recs), 20)
            last = [r.status().bytes for r in recs]
            since = [time.monotonic()] * 2
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                time.sleep(0.02)
                now = time.monotonic()
                for i, r in enumerate(recs):
                    b = r.status().bytes
                    if b != last[i]:
                        longest[i] = max(longest[i], now - since[i])
                        last[i], since[i] = b, now
        finally:
            for rec, src in zip(recs, sources, strict=True):
                rec.stop()
                src.stop()
            assert pool.stop()
    assert all(r.status().segments >= 3 for r in recs), [r.status() for r in recs]
    assert max(longest) < 0.8, f"a camera's writing stood still for {max(longest):.2f} s"
    segs = index.segments("cam-a") + index.segments("cam-b")
    assert all(s.status is SegmentStatus.CLOSED for s in segs), "stop() waits for the segments being finished"
    for seg in segs:
        assert sha256_file(seg.path) == seg.sha256

@pytest.mark.parametrize("kind", ["synthetic", "rtsp"])
def test_kill_9_then_restart_recovers_the_open_segment(tmp_path: Path, kind: str, request: pytest.FixtureRequest
                                                        ) -> None:
    url = "synthetic://window/A01" if kind == "synthetic" else request.getfixturevalue("rtsp_camera_factory")().url
    data = tmp_path / "data"
    config = tmp_path / "hallwatch.toml"
    config.write_text(
        f'[recording]\nsegment_seconds = 2\n\n[[cameras]]\nid = "cam-A01"\nurl = "{url}"\n',
        encoding="utf-8",
    )
    cmd = [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--config", str(config), "record"]
    log = tmp_path / "record.err"
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    try:
        db = data / "hallwatch.db"

        def closed_and_open() -> bool:
            if not db.exists():
                return False
            peek = open_store(db, migrate=False)
            try:
                with peek.read() as s:
                    rows = list(s.scalars(select(Segment)))
            except OperationalError:  # the recorder is still creating its tables
                return False
            finally:
                peek.close()
            return sum(r.status == "closed" for r in rows) >= 2 and any(r.status == "open" for r in rows)

        def well_into_the_open_segment() -> bool:
            """The open segment's index row says it holds 0.5 to 1.5 s of its 2 s (its end grows)."""
            peek = open_store(db, migrate=False)
            try:
                with peek.read() as s:
                    rows = list(s.scalars(select(Segment).where(Segment.status == "open")))
            finally:
                peek.close()
            return any(0.5 <= (r.end - r.start).total_seconds() <= 1.5 for r in rows)

        assert wait_for(closed_and_open, 40), log.read_text()
        assert wait_for(well_into_the_open_segment, 10), log.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    store = open_store(data / "hallwatch.db")
    try:
        index = FootageIndex(store, data / "footage")
        before = index.segments("cam-A01")
        open_ = [s for s in before if s.status is SegmentStatus.OPEN]
        assert len(open_) == 1
        for seg in before:
            if seg.status is SegmentStatus.CLOSED:
                assert sha256_file(seg.path) == seg.sha256, "closed segments are intact"
                data_, _v, _p = _file_packets(seg.path)
                assert len(data_) == seg.frames
        # The next start recovers it (the record command does this first thing).
        recovered = index.recover()
        assert [s.id for s in recovered] == [open_[0].id]
        seg = index.segments("cam-A01", ids=[open_[0].id])[0]
        assert seg.status is SegmentStatus.RECOVERED
        assert seg.frames > 5 and seg.sha256 == sha256_file(seg.path) and seg.bytes == seg.path.stat().st_size
        assert seg.bytes % 188 == 0
        with av.open(str(seg.path)) as c:
            frames = sum(1 for _ in c.decode(c.streams.video[0]))
        assert frames >= seg.frames - 1
        _data, span, _params = _file_packets(seg.path)
        assert seg.seconds == pytest.approx(span, abs=0.05)  # what the file's own timestamps span
        if kind == "synthetic":  # a camera that never misses a beat: exactly 25 fps
            assert seg.seconds == pytest.approx(seg.frames / 25, abs=0.05)
    finally:
        store.close()


def test_deleted_or_corrupted_segments_are_reported_by_the_index(store: Store, tmp_path: Path) -> None:
    index = FootageIndex(store, tmp_path / "footage")
    with SyntheticCameraServer({"a": CameraSpec("A01")}) as server:
        src = Source(server.url("a"))
        rec = Recorder(src, "cam-1", index, RecorderOptions(segment_seconds=1))
        rec.start()
        src.start()
        try:
            assert wait_for(lambda: len(index.segments("cam-1")) >= 4, 15)
        finally:
            rec.stop()
            src.stop()
    segs = index.segments("cam-1")
    segs[0].path.unlink()
    with segs[1].path.open("r+b") as f:
        f.seek(1000)
        f.write(b"\xff\x00\xff")
    bad = {s.id for s in index.check()}
    assert bad == {segs[0].id, segs[1].id}
    after = {s.id: s for s in index.segments("cam-1")}
    assert after[segs[0].id].status is SegmentStatus.MISSING and after[segs[0].id].problem == "the file is gone"
    assert after[segs[1].id].status is SegmentStatus.CORRUPT
    assert "SHA-256" in (after[segs[1].id].problem or "")
    assert after[segs[2].id].status is SegmentStatus.CLOSED


# -- retention ---------------------------------------------------------------------------------


def _fake_segments(index: FootageIndex, camera: str, start: datetime, n: int, *, size: int = 100_000) -> list[int]:
    """Index n one-minute segments with files of ``size`` bytes (retention does not read them)."""
    ids = []
    for i in range(n):
        t = start + timedelta(minutes=i)
        seg_id, path = index.open_segment(camera, t, codec="h264", width=640, height=360, first_pts=0.0)
        path.write_bytes(b"\x47" * size)
        index.close_segment(seg_id, t + timedelta(minutes=1), 1500, path)
        ids.append(seg_id)
    return ids


def test_age_pruning_spares_footage_under_a_warning_a_bookmark_and_an_explicit_hold(
    store: Store, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    index = FootageIndex(store, tmp_path / "footage")
    old = now - timedelta(days=40)
    _fake_segments(index, "cam-A01", old, 120)  # two hours, 40 days ago
    with store.write() as s:
        s.add(CameraRow(id="cam-A01", version=1, deleted=False, window_id="W-A01", hall_id="H"))
        s.add(WarningState(key="C-1/OVERDUE", code="OVERDUE", subject="C-1", window_id="W-A01", level="red",
                           max_level="red", state="cleared", since=old + timedelta(minutes=30),
                           red_since=old + timedelta(minutes=30), cleared_at=old + timedelta(minutes=35),
                           updated_at=now))
        s.add(WarningState(key="C-2/DUE_SOON", code="DUE_SOON", subject="C-2", window_id="W-A01", level="notice",
                           max_level="notice", state="cleared", since=old + timedelta(minutes=90),
                           cleared_at=old + timedelta(minutes=95), updated_at=now))
    ret = Retention(index, RetentionPolicy(retention_days=30, min_free_percent=0), clock=lambda: now)
    hold = ret.hold(old + timedelta(minutes=100), old + timedelta(minutes=102), reason="complaint by phone",
                    by="reviewer", camera_id="cam-A01")
    report = ret.prune()
    kept = index.segments("cam-A01")
    minutes = sorted(int((s.start - old).total_seconds() // 60) for s in kept)
    # The red warning (30–35) with its 10-minute margin holds minutes 20–44; the explicit hold 100–101.
    # A notice holds nothing.
    assert minutes == [*range(20, 45), 100, 101]
    assert report.pruned_for_age == 120 - len(minutes) and report.held_kept == len(minutes)
    assert all(s.path.exists() for s in kept)
    # Holds end only on purpose.
    ret.release(hold, by="reviewer")
    ret.prune()
    assert sorted(int((s.start - old).total_seconds() // 60) for s in index.segments("cam-A01")) == list(range(20, 45))
    with store.read() as s:
        assert s.scalar(select(EvidenceHold).where(EvidenceHold.id == "warning:C-1/OVERDUE")) is not None


def test_full_disk_prunes_oldest_unheld_then_stops_recording_with_a_red_warning(
    store: Store, tmp_path: Path
) -> None:
    """A quota the code honours stands in for the disk (fast and exact); the recorder is real."""
    root = tmp_path / "footage"
    with SyntheticCameraServer({"a": CameraSpec("A01")}) as server:
        service = RecordingService(
            store, root,
            recorder_options=RecorderOptions(segment_seconds=1),
            policy=RetentionPolicy(min_free_percent=20, quota_bytes=1_500_000),
            retention_interval=0.3,
        )
        source = Source(server.url("a"))
        service.start()
        service.add("cam-1", source, "W-1")
        source.start()
        try:
            index = service.index
            assert wait_for(lambda: len(index.segments("cam-1")) >= 1, 40)  # a slow first connect on a busy machine
            first = index.segments("cam-1")[0]
            # The quota fills: the oldest unheld segments go, recording goes on. (Not "three segments at
            # once": when the camera's segments come out large, the quota may hold only two at a time.)
            assert wait_for(lambda: not index.segments("cam-1", ids=[first.id]), 40), "oldest pruned"
            assert wait_for(lambda: any(s.start > first.start for s in index.segments("cam-1")), 10), "goes on"
            assert service.system_warning is None
            # Now hold everything recorded so far and to come: nothing can go, recording must stop.
            hold = service.retention.hold(first.start - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1),
                                          reason="investigation", by="reviewer", window_id="W-1")
            assert wait_for(lambda: service.system_warning is not None, 30)
            warning = service.system_warning
            assert warning is not None and warning.level == "red" and "held as evidence" in warning.message
            assert wait_for(lambda: all(r.status().paused for r in service.recorders.values()), 5)
            held = {s.id for s in index.segments("cam-1")}
            time.sleep(1.5)
            assert {s.id for s in index.segments("cam-1")} >= held, "nothing held is deleted"
            assert all(s.path.exists() for s in index.segments("cam-1") if s.status is SegmentStatus.CLOSED)
            # Space returns (the hold is released): recording resumes by itself.
            service.retention.release(hold, by="reviewer")
            assert wait_for(lambda: service.system_warning is None, 10)
            assert wait_for(lambda: all(r.status().paused is None for r in service.recorders.values()), 5)
        finally:
            service.stop()
            source.stop()
    with store.read() as s:
        from supervision.store.models import AuditEntry

        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "recording.stopped" in actions and "recording.resumed" in actions


def test_real_full_disk_pauses_the_recorder_and_says_why(tmp_path: Path, store: Store) -> None:
    """A tmpfs the size of a few segments: the write fails with ENOSPC, nothing is lost or crashes."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        unavailable("mounting a tmpfs needs root", "a tmpfs the tests can mount")
    try:
        index = FootageIndex(store, mnt / "footage")
        problems: list[str | None] = []
        with SyntheticCameraServer({"a": CameraSpec("A01")}, bitrate=4_000_000) as server:
            src = Source(server.url("a"))
            rec = Recorder(src, "cam-1", index, RecorderOptions(segment_seconds=1),
                           on_problem=lambda cam, msg: problems.append(msg))
            rec.start()
            src.start()
            try:
                assert wait_for(lambda: rec.status().paused is not None, 30), rec.status()
            finally:
                rec.stop()
                src.stop()
        assert rec.status().paused == "the disk is full"
        assert problems and problems[0] == "the disk is full"
        segs = index.segments("cam-1")
        assert segs and all(s.status in (SegmentStatus.CLOSED, SegmentStatus.MISSING) for s in segs)
        for seg in segs:
            if seg.status is SegmentStatus.CLOSED:
                assert sha256_file(seg.path) == seg.sha256
        with store.read() as s:
            assert s.scalar(select(Segment).where(Segment.status == "open")) is None
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


# -- small disks (issue 13 items 13 and 14) ----------------------------------------------------


def _gap_rows(store: Store, camera: str) -> list[FootageGap]:
    with store.read() as s:
        rows = list(s.scalars(select(FootageGap).where(FootageGap.camera_id == camera).order_by(FootageGap.start)))
        s.expunge_all()
    return rows


def test_a_small_disk_is_pruned_ahead_of_the_recorder_and_recording_resumes_within_a_segment(
    tmp_path: Path, store: Store
) -> None:
    """A 20 MB tmpfs, mostly taken by someone else's file: retention keeps room for the next segment,
    so the recorder never meets a full disk; when the disk is filled and freed again, recording
    resumes within one segment length (retention runs every segment, not every minute)."""
    with small_disk(tmp_path / "small", "20m") as mnt:
        other = mnt / "someone-elses.bin"
        fill(other, leave=6 * 2**20)
        root = mnt / "footage"
        with SyntheticCameraServer({"a": CameraSpec("A01")}, bitrate=4_000_000) as server:
            service = RecordingService(
                store, root, recorder_options=RecorderOptions(segment_seconds=1),
            )  # the default retention interval (60 s) and floor (10 %)
            assert service.retention_interval == 1
            source = Source(server.url("a"), FAST)
            service.start()
            recorder = service.add("cam-1", source, "W-1")
            source.start()
            try:
                # ~0.5 MB a segment into 6 MB: without pruning ahead the disk is full within ~10 s.
                assert wait_for(lambda: any(g.reason.startswith("pruned for space") for g in _gap_rows(store, "cam-1"))
                                and len(service.index.segments("cam-1")) >= 3, 40)
                pruned_at = time.monotonic()
                assert wait_for(lambda: time.monotonic() - pruned_at > 6, 10)  # record on the full disk a while
                assert recorder.status().last_error is None, recorder.status()
                assert recorder.status().paused is None
                assert not [g.reason for g in _gap_rows(store, "cam-1") if "disk is full" in g.reason]
                assert service.system_warning is None

                # Someone else fills the disk: recording stops; when they free it, it resumes in a segment.
                # (retention prunes the footage to make room, so they fill what that frees too)
                files = (mnt / f"another-{i}.bin" for i in itertools.count())
                assert wait_for(lambda: fill(next(files)) >= 0 and service.system_warning is not None, 30)
                assert wait_for(lambda: recorder.status().paused is not None, 10)
                for f in mnt.glob("another-*.bin"):
                    f.unlink()
                freed = time.monotonic()
                assert wait_for(lambda: recorder.status().paused is None and recorder.status().recording, 10)
                # the next retention pass (1 s), the next keyframe (1 s GOP) and the reader's batch (0.25 s),
                # with a loaded machine's slack; without the disk watch it waited for a 60 s pass
                assert time.monotonic() - freed < 4.0, "resumes within a segment (1 s) and its keyframe"
            finally:
                service.stop()
                source.stop()


def test_disk_full_says_what_was_pruned_held_and_what_fills_the_disk(tmp_path: Path, store: Store) -> None:
    """Someone else's file fills a 20 MB tmpfs; retention prunes the two segments there are and no
    footage is held: the warning says so, not "all remaining footage is held. Nothing was deleted"."""
    with small_disk(tmp_path / "small", "20m") as mnt:
        index = FootageIndex(store, mnt / "footage")
        now = datetime.now(UTC)
        _fake_segments(index, "cam-A01", now - timedelta(minutes=10), 2, size=1_000_000)
        fill(mnt / "someone-elses.bin")
        ret = Retention(index, RetentionPolicy(), clock=lambda: now)
        report = ret.prune()
        assert report.full and report.pruned_for_space == 2 and report.bytes_freed_for_space == 2_000_000
        warning = ret.system_warning
        assert warning is not None and warning.code == "DISK_FULL"
        assert "held as evidence and kept" not in warning.message and "Nothing was deleted" not in warning.message
        assert "2 segments (1.9 MB) were pruned for space, the last at " in warning.message
        assert "No footage is held as evidence and none is left to prune." in warning.message
        assert "other files take 1" in warning.message  # the tmpfs's ~19 MB that are not footage
        assert warning.params["pruned_segments"] == 2 and warning.params["held_segments"] == 0
        # With footage held, the warning says how much is held.
        (mnt / "someone-elses.bin").unlink()
        ret2 = Retention(index, RetentionPolicy(), clock=lambda: now)
        assert ret2.prune().full is False
        _fake_segments(index, "cam-A01", now - timedelta(minutes=5), 2, size=1_000_000)
        ret2.hold(now - timedelta(minutes=6), now, reason="complaint", by="reviewer", camera_id="cam-A01")
        fill(mnt / "someone-elses.bin")
        assert ret2.prune().full
        assert ret2.system_warning is not None
        assert "The remaining 2 segments (1.9 MB) are held as evidence and kept." in ret2.system_warning.message
        assert "Release holds that are no longer needed or free or add disk space" in ret2.system_warning.message


def test_pruned_footage_leaves_a_gap_that_says_so(tmp_path: Path, store: Store) -> None:
    """Footage pruned for space (or age) is a gap saying when and how much, merged per camera."""
    index = FootageIndex(store, tmp_path / "footage")
    now = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    _fake_segments(index, "cam-A01", now - timedelta(days=40), 3)
    _fake_segments(index, "cam-A01", now - timedelta(hours=1), 5)
    Retention(index, RetentionPolicy(min_free_percent=90, quota_bytes=1_000_000), clock=lambda: now).prune()
    rows = [(g.start, g.end, g.reason) for g in _gap_rows(store, "cam-A01")]
    old, recent = now - timedelta(days=40), now - timedelta(hours=1)
    assert rows[0] == (old, old + timedelta(minutes=3), "pruned: older than the retention period")
    assert rows[1][0] == recent and rows[1][2].startswith("pruned for space on 2026-12-06 UTC: ")
    assert len(rows) == 2
