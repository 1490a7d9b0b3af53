"""The review window's data (issue 14): a camera's timeline over real recorded footage, where "show
footage" opens, the days with footage, hover thumbnails, and the standalone review's writes.

The footage is recorded once per module from the synthetic camera by the real recorder, placed (with
the recorder's clock offset) across local midnight in Asia/Shanghai, with a camera outage in the
middle::

    run 1 (3+ segments of 2 s) | the camera frozen: "no video from the camera" | run 2 (2+ segments)

Each test works on its own copy of the data folder (the store and the segment files).
"""

from __future__ import annotations

import itertools
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import numpy as np
import pytest
from sqlalchemy import select

from app.executor import Outcome
from app.review import (
    CameraTimeline,
    Gap,
    GapReason,
    MarkerKind,
    ReviewBackend,
    ThumbnailCache,
    classify_gap,
    footage_days,
    footage_target,
    load_timeline,
    window_cameras,
)
from supervision import lifecycle
from supervision.actions import create_bookmark
from supervision.config import CameraEntry, Config
from supervision.ingest import import_page
from supervision.records import ChangesPage
from supervision.store import Store, open_store
from supervision.store.footage import EvidenceHold, FootageGap
from supervision.store.models import AuditEntry, OutboxAction
from tests.supervision.records_factory import CASE_TYPE, case_data, change, page
from tests.video.waiting import wait_for
from video.camera import CameraConfig
from video.display import Converter, fit_size
from video.footage import FootageIndex, SegmentInfo
from video.recorder import DISK_FULL, Recorder, RecorderOptions
from video.retention import PRUNED_FOR_AGE, Retention, RetentionPolicy
from video.source import Source, SourceOptions
from video.synthetic import CameraSpec, SyntheticCameraServer

SHANGHAI = ZoneInfo("Asia/Shanghai")
MIDNIGHT = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 00:00 on Monday 2 March in Asia/Shanghai
CAM = "cam-1"
SEC = timedelta(seconds=1)
H = timedelta(hours=1)
MS = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Recorded:
    folder: Path  # a data folder: hallwatch.db and footage/
    first: tuple[SegmentInfo, ...]  # the segments before the outage
    second: tuple[SegmentInfo, ...]  # and after
    outage: tuple[datetime, datetime, str]  # the recorder's gap row
    now: datetime  # on the recorder's clock, just after it stopped


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    folder = tmp_path_factory.mktemp("recorded")
    store = open_store(folder / "hallwatch.db")
    index = FootageIndex(store, folder / "footage")
    offset = (MIDNIGHT - 6 * SEC).timestamp() - time.time()

    def closed() -> list[SegmentInfo]:
        return [s for s in index.segments(CAM) if s.status.value == "closed"]

    try:
        with SyntheticCameraServer({"window/A01": CameraSpec("A01")}) as server:
            src = Source(server.url("window/A01"), SourceOptions(stall_after=1.0, backoff_initial=0.2,
                                                                 open_timeout=4.0))
            rec = Recorder(src, CAM, index, RecorderOptions(segment_seconds=2, idle_seconds=1.0,
                                                            clock_offset=offset))
            rec.start()
            src.start()
            try:
                assert wait_for(lambda: len(closed()) >= 3, 30)
                server.freeze("window/A01", True)
                # The recorder closes the segment and opens a gap row saying why.
                assert wait_for(lambda: any(g[1] is None for g in index.gaps(CAM, MIDNIGHT - H, MIDNIGHT + H)), 10)
                before = len(index.segments(CAM))
                server.freeze("window/A01", False)
                assert wait_for(lambda: len(closed()) >= before + 2, 30)
            finally:
                rec.stop()
                src.stop()
        now = datetime.now(UTC) + timedelta(seconds=offset)
        segs = index.segments(CAM)
        rows = index.gaps(CAM, segs[0].start - SEC, now)
        # The outage: the longest gap row (the recorder may also cut a segment a few ms before it).
        longest = max(rows, key=lambda g: (g[1] or now) - g[0], default=None)
        with store.read() as s:
            every = [(g.start, g.end, g.reason) for g in s.scalars(select(FootageGap))]
        assert longest is not None and longest[1] is not None and longest[1] - longest[0] > 500 * MS, (
            [(x.start, x.end) for x in segs], every, now)
        g0, g1, reason = longest[0], longest[1], longest[2]
        first = tuple(s for s in segs if s.end <= g0 + MS)
        second = tuple(s for s in segs if s.start >= g1 - 10 * MS)
        assert len(first) >= 3 and len(second) >= 2 and len(first) + len(second) == len(segs), (segs, rows)
        assert first[0].start < MIDNIGHT < second[-1].end, "the footage runs across local midnight"
        return Recorded(folder, first, second, (g0, g1, reason), now)
    finally:
        store.close()


@dataclass
class Data:
    folder: Path
    store: Store
    index: FootageIndex


@pytest.fixture
def data(recorded: Recorded, tmp_path: Path) -> Iterator[Data]:
    """This test's own copy of the recorded data folder."""
    folder = tmp_path / "data"
    shutil.copytree(recorded.folder, folder)
    store = open_store(folder / "hallwatch.db")
    yield Data(folder, store, FootageIndex(store, folder / "footage"))
    store.close()


def timeline(d: Data, r: Recorded, *, now: datetime | None = None, pad: timedelta = 10 * SEC,
             **kw: Any) -> CameraTimeline:
    return load_timeline(d.store, d.index, CAM, r.first[0].start - pad, r.second[-1].end + pad,
                         now=now or r.now, **kw)


def contiguous(end: datetime, next_start: datetime) -> bool:
    return next_start - end <= 1.5 * timedelta(seconds=1 / 25)


def only(gaps: tuple[Gap, ...], reason: GapReason) -> list[Gap]:
    return [g for g in gaps if g.reason is reason]


# -- spans and gaps --------------------------------------------------------------------------------
def test_spans_merge_contiguous_segments_and_the_outage_is_a_camera_down_gap(data: Data, recorded: Recorded
                                                                              ) -> None:
    r = recorded
    tl = timeline(data, r)
    # The merging rule, from the segments as recorded: a segment starting within 1.5 frame intervals
    # (25 fps) of the previous one's end continues its span; the outage is the only wider hole.
    expected: list[list[datetime]] = []
    for seg in (*r.first, *r.second):
        if expected and contiguous(expected[-1][1], seg.start):
            expected[-1][1] = seg.end
        else:
            expected.append([seg.start, seg.end])
    assert [[s.start, s.end] for s in tl.spans] == expected
    assert expected[0] == [r.first[0].start, r.first[-1].end] and expected[-1][1] == r.second[-1].end
    down = only(tl.gaps, GapReason.CAMERA_DOWN)
    assert (r.first[-1].end, r.second[0].start) in [(g.start, g.end) for g in down]
    outage = next(g for g in down if g.start == r.first[-1].end)
    assert outage.detail == r.outage[2] and outage.detail in ("no video from the camera", "the camera reconnected")
    # Before the first footage nothing recorded; after `record` stopped (no gap row) neither, still now.
    assert tl.gaps[0] == Gap(tl.start, r.first[0].start, GapReason.NOT_RECORDING)
    assert tl.gaps[-1].reason is GapReason.NOT_RECORDING and tl.gaps[-1].start == r.second[-1].end
    assert tl.end > r.now and tl.gaps[-1].end is None  # it lasts: the view reaches past now
    assert {g.reason for g in tl.gaps[1:-1]} == {GapReason.CAMERA_DOWN}  # the recorder said why each time
    # Spans and gaps tile the span asked for up to now, in order.
    pieces = sorted([(s.start, s.end) for s in tl.spans] + [(g.start, g.end or r.now) for g in tl.gaps])
    assert pieces[0][0] == tl.start and pieces[-1][1] == r.now
    assert all(a[1] == b[0] for a, b in itertools.pairwise(pieces))


def test_a_gap_lasting_at_now_has_no_end_and_the_future_is_neither(data: Data, recorded: Recorded) -> None:
    r = recorded
    tl = timeline(data, r, now=r.second[-1].end + 3 * SEC)  # the view ends after now
    last = tl.gaps[-1]
    assert last.reason is GapReason.NOT_RECORDING and last.end is None
    assert all(g.start < r.second[-1].end + 3 * SEC for g in tl.gaps)


def test_a_view_inside_one_span_has_no_gap_and_is_clipped(data: Data, recorded: Recorded) -> None:
    r = recorded
    a, b = r.first[0].start + 500 * timedelta(milliseconds=1), r.first[-1].end - 500 * timedelta(milliseconds=1)
    tl = load_timeline(data.store, data.index, CAM, a, b, now=r.now)
    assert [(s.start, s.end) for s in tl.spans] == [(a, b)] and tl.gaps == ()


def test_a_deleted_segment_is_a_file_missing_gap_once_checked(data: Data, recorded: Recorded) -> None:
    f = recorded.first
    k = next(i for i in range(1, len(f) - 1)
             if contiguous(f[i - 1].end, f[i].start) and contiguous(f[i].end, f[i + 1].start))
    before, victim, after = f[k - 1], f[k], f[k + 1]
    (data.folder / "footage" / victim.path.relative_to(recorded.folder / "footage")).unlink()
    assert [s.id for s in data.index.check(CAM)] == [victim.id]
    tl = timeline(data, recorded)
    # From the footage before to the footage after (the recorder's milliseconds between cuts included).
    missing = only(tl.gaps, GapReason.FILE_MISSING)
    assert missing == [Gap(before.end, after.start, GapReason.FILE_MISSING, "the file is gone")]
    spans = [(s.start, s.end) for s in tl.spans]
    assert any(a < before.end and b == before.end for a, b in spans)
    assert any(a == after.start and b > after.start for a, b in spans)


def test_a_corrupted_segment_is_a_corrupt_gap_with_the_checks_words(data: Data, recorded: Recorded) -> None:
    victim = recorded.second[0]
    path = data.folder / "footage" / victim.path.relative_to(recorded.folder / "footage")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    data.index.check(CAM)
    tl = timeline(data, recorded)
    bad = only(tl.gaps, GapReason.CORRUPT)
    nxt = recorded.second[1]
    assert [(g.start, g.end) for g in bad] == [(victim.start, nxt.start if contiguous(victim.end, nxt.start)
                                                else victim.end)]
    assert "SHA-256" in bad[0].detail
    # The outage before it and the corrupt segment are two gaps, each with its own reason.
    down = only(tl.gaps, GapReason.CAMERA_DOWN)
    assert victim.start in [g.end for g in down]


def test_pruned_footage_is_a_pruned_gap(data: Data, recorded: Recorded) -> None:
    later = recorded.now + timedelta(days=40)
    report = Retention(data.index, RetentionPolicy(retention_days=30), clock=lambda: later).prune()
    assert report.pruned_for_age == len(recorded.first) + len(recorded.second)
    tl = timeline(data, recorded, now=later)
    assert tl.spans == ()
    pruned = only(tl.gaps, GapReason.PRUNED)
    assert pruned and all(g.detail == PRUNED_FOR_AGE for g in pruned)
    assert pruned[0].start == recorded.first[0].start and pruned[-1].end == recorded.second[-1].end


@pytest.mark.parametrize(("words", "reason"), [
    (f"recording paused: {DISK_FULL}", GapReason.DISK_FULL),
    (f"recording failed: {DISK_FULL}", GapReason.DISK_FULL),
    ("the recorder fell behind and dropped 12 packets", GapReason.RECORDER_BEHIND),
    ("recording failed: Input/output error", GapReason.RECORDER_BEHIND),
])
def test_the_recorders_other_gap_rows_give_their_reason_and_last_while_open(
    data: Data, recorded: Recorded, words: str, reason: GapReason
) -> None:
    end = recorded.second[-1].end
    data.index.open_gap(CAM, end, words)  # as the recorder leaves it while it cannot record
    tl = timeline(data, recorded, now=end + 5 * SEC, pad=20 * SEC)
    assert tl.gaps[-1] == Gap(end, None, reason, words)
    data.index.close_gap(CAM, end + 4 * SEC)
    tl = timeline(data, recorded, now=end + 5 * SEC, pad=20 * SEC)
    assert tl.gaps[-2:] == (Gap(end, end + 4 * SEC, reason, words),
                            Gap(end + 4 * SEC, None, GapReason.NOT_RECORDING))


def test_gap_words_of_the_recorder_and_retention_are_classified() -> None:
    assert classify_gap("no video from the camera") is GapReason.CAMERA_DOWN
    assert classify_gap("the camera reconnected") is GapReason.CAMERA_DOWN
    assert classify_gap(PRUNED_FOR_AGE) is GapReason.PRUNED
    assert classify_gap("pruned for space on 2026-03-01 UTC: 1234 bytes") is GapReason.PRUNED
    assert classify_gap("something new") is GapReason.NOT_RECORDING


def test_an_open_segment_is_recording_up_to_now_not_a_gap(data: Data, recorded: Recorded) -> None:
    start = recorded.second[-1].end + 2 * SEC
    seg_id, _ = data.index.open_segment(CAM, start, codec="h264", width=640, height=360, first_pts=0.0)
    data.index.progress(seg_id, start + 4 * SEC, 1000, 100)
    view = (start - SEC, start + 60 * SEC)
    tl = load_timeline(data.store, data.index, CAM, *view, now=start + 8 * SEC)
    assert (tl.spans[-1].start, tl.spans[-1].end) == (start, start + 4 * SEC)
    assert [g.end for g in tl.gaps] == [start]  # only the hole before it
    tl = load_timeline(data.store, data.index, CAM, *view, now=start + 50 * SEC)  # its row stopped growing
    assert tl.gaps[-1] == Gap(start + 4 * SEC, None, GapReason.NOT_RECORDING)


# -- markers and "show footage" ------------------------------------------------------------------
T = MIDNIGHT
M = timedelta(minutes=1)


def _iso(t: datetime) -> str:
    return t.isoformat()


def seed_records(store: Store) -> None:
    """A hall h1 with windows A01 (the recorded camera's) and B02, and records of each kind about them."""
    changes = [
        change("org_unit", "h1", {"name": "厅", "parent_id": None, "level": "hall"}),
        change("org_unit", "h2", {"name": "厅2", "parent_id": None, "level": "hall"}),
        change("window", "win-A01", {"hall_id": "h1", "number": "A01", "name": "A01", "department": "d"}),
        change("window", "win-B02", {"hall_id": "h1", "number": "B02", "name": "B02", "department": "d"}),
        change("window", "win-C03", {"hall_id": "h2", "number": "C03", "name": "C03", "department": "d"}),
        *(change("camera", cid, {"hall_id": hall, "window_id": win, "name": cid, "stream_url": url,
                                 "sub_stream_url": None})
          for cid, hall, win, url in [(CAM, "h1", "win-A01", "synthetic://window/A01"),
                                      ("cam-3", "h1", "win-B02", "synthetic://window/B02"),
                                      ("cam-4", "h2", "win-C03", "synthetic://window/C03"),
                                      ("cam-x", "h1", "win-A01", "")]),
        change("case_type", "ct-1", CASE_TYPE),
        # FEE_MISMATCH (charged 50, the fee is 0): dated at the acceptance, which charged it.
        change("case", "C-FEE", case_data(
            submitted_at=_iso(T - 10 * M), fee_charged="50",
            stages=[{"stage": "submitted", "at": _iso(T - 10 * M)}, {"stage": "accepted", "at": _iso(T - 5 * M)},
                    {"stage": "handled", "at": _iso(T + H)}])),
        # STAGE_SKIPPED (handled without accepted): another case warning, at the case's last stage.
        change("case", "C-SKIP", case_data(
            submitted_at=_iso(T - 20 * M),
            stages=[{"stage": "submitted", "at": _iso(T - 20 * M)}, {"stage": "handled", "at": _iso(T - 2 * M)}])),
        change("ticket", "TK-1", {"hall_id": "h1", "number": "A001", "issued_at": _iso(T - 45 * M),
                                  "called_at": _iso(T - 2 * M), "window_id": "win-A01", "status": "called"}),
        change("ticket", "TK-2", {"hall_id": "h1", "number": "A002", "issued_at": _iso(T - 3 * M),
                                  "window_id": None, "status": "waiting"}),
        # Seat absences on Monday morning (office hours from 08:30 local = 00:30 UTC): 40 min, 5 min, open.
        change("seat_vacancy", "V-1", {"window_id": "win-A01", "started_at": _iso(T + 9 * H),
                                       "ended_at": _iso(T + 9 * H + 40 * M)}),
        change("seat_vacancy", "V-2", {"window_id": "win-A01", "started_at": _iso(T + 10 * H),
                                       "ended_at": _iso(T + 10 * H + 5 * M)}),
        change("seat_vacancy", "V-3", {"window_id": "win-A01", "started_at": _iso(T + 11 * H), "ended_at": None}),
        change("evaluation", "E-1", {"window_id": "win-A01", "case_id": "C-FEE", "at": _iso(T + M), "grade": 1}),
        change("evaluation", "E-2", {"window_id": "win-A01", "at": _iso(T + 2 * M), "grade": 4}),
        change("evaluation", "E-3", {"window_id": "win-A01", "at": _iso(T + 3 * M), "grade": 2}),
        change("evaluation", "E-4", {"window_id": "win-B02", "at": _iso(T + 4 * M), "grade": 1}),
        change("complaint", "K-1", {"hall_id": "h1", "window_id": "win-A01", "channel": "hotline",
                                    "received_at": _iso(T + 5 * H), "about_at": _iso(T + 30 * SEC),
                                    "summary": "态度差", "status": "open"}),
        change("complaint", "K-2", {"hall_id": "h1", "window_id": None, "channel": "web",
                                    "received_at": _iso(T + 25 * H), "summary": "排队久", "status": "open"}),
        change("complaint", "K-3", {"hall_id": "h1", "window_id": "win-B02", "channel": "web",
                                    "received_at": _iso(T + 2 * H), "about_at": _iso(T + 40 * SEC),
                                    "summary": "x", "status": "open"}),
    ]
    import_page(store, ChangesPage.model_validate(page(changes)), source="test")
    # The warning monitor's record of what was raised: passes at 23:50 Sunday and 09:30 Monday (local).
    for at in (T - 10 * M, T + 9 * H + 30 * M):
        views = lifecycle.warnings_at(store, at, SHANGHAI)
        with store.write() as s:
            lifecycle.reconcile(s, views, at)


CONFIG_CAMERAS = [CameraConfig("cam-2", "cam-2", "synthetic://window/A01b", None, "win-A01"),
                  CameraConfig("cam-3", "cam-3", "synthetic://window/B02", None, "win-A01")]  # moved by the config


def test_markers_of_each_kind_are_at_the_instants_show_footage_uses(data: Data, recorded: Recorded) -> None:
    seed_records(data.store)
    bookmark = create_bookmark(data.store, CAM, T + 10 * SEC, note="看这里", by="审查员", terminal="ws")
    ret = Retention(data.index)
    held = ret.hold(T, T + M, reason="complaint K-1", by="审查员", camera_id=CAM)
    window_hold = ret.hold(T - H, T + H, reason="window", by="审查员", window_id="win-A01")
    ret.hold(T, T + M, reason="another camera", by="审查员", camera_id="cam-3")
    released = ret.hold(T, T + M, reason="released", by="审查员", camera_id=CAM)
    ret.release(released, by="审查员")
    tl = load_timeline(data.store, data.index, CAM, T - 2 * H, T + 12 * H, now=T + 24 * H, tz=SHANGHAI)
    assert tl.window_id == "win-A01"
    got = {(m.kind, m.ref, m.at) for m in tl.markers}
    assert got == {
        (MarkerKind.WARNING, "TK-1/WAIT_LONG", T - 15 * M),  # issued + 30 min: the limit crossed
        (MarkerKind.WARNING, "C-FEE/FEE_MISMATCH", T - 5 * M),  # the stage that charged
        (MarkerKind.WARNING, "C-SKIP/STAGE_SKIPPED", T - 2 * M),  # the case's last stage
        (MarkerKind.WARNING, "win-A01/POST_LEFT", T + 9 * H),  # the absences past the limit, from their start
        (MarkerKind.WARNING, "win-A01/POST_LEFT", T + 11 * H),
        (MarkerKind.BOOKMARK, bookmark, T + 10 * SEC),
        (MarkerKind.COMPLAINT, "K-1", T + 30 * SEC),  # about_at
        (MarkerKind.COMPLAINT, "K-2", T + H),  # no window, no about_at: the hall's cameras, the day before
        (MarkerKind.BAD_REVIEW, "E-1", T + M),
        (MarkerKind.BAD_REVIEW, "E-3", T + 3 * M),
        (MarkerKind.HOLD, held, T),
        (MarkerKind.HOLD, window_hold, T - H),
    }
    assert [m.at for m in tl.markers] == sorted(m.at for m in tl.markers)
    levels = {m.ref: m.level for m in tl.markers if m.kind is MarkerKind.WARNING}
    assert levels == {"TK-1/WAIT_LONG": "yellow", "C-FEE/FEE_MISMATCH": "red", "C-SKIP/STAGE_SKIPPED": "red",
                      "win-A01/POST_LEFT": "yellow"}
    holds = {m.ref: (m.at, m.end, m.text) for m in tl.markers if m.kind is MarkerKind.HOLD}
    assert holds[held] == (T, T + M, "complaint K-1")
    by_ref = {m.ref: m for m in tl.markers}
    assert (by_ref["E-1"].code, by_ref["K-1"].text, by_ref[bookmark].text) == ("1", "态度差", "看这里")
    # A narrower view holds only what falls in it.
    narrow = load_timeline(data.store, data.index, CAM, T, T + 2 * M, now=T + 24 * H, tz=SHANGHAI)
    assert {m.ref for m in narrow.markers} == {bookmark, "K-1", "E-1", held, window_hold}


def test_show_footage_targets_follow_the_issues_rules(data: Data) -> None:
    seed_records(data.store)
    s = data.store

    def target(kind: str, ref: str, **kw: Any) -> tuple[str | None, tuple[str, ...], datetime | None]:
        t = footage_target(s, kind, ref, tz=SHANGHAI, cameras=CONFIG_CAMERAS, **kw)
        return t.window_id, t.camera_ids, t.at

    window = ("win-A01", (CAM, "cam-3", "cam-2"))  # the store's, then the config's (which moved cam-3)
    assert window_cameras(s, CONFIG_CAMERAS, "win-A01") == window[1]
    assert window_cameras(s, (), "win-A01") == (CAM,)  # cam-x has no stream: not recorded
    assert target("stage", "C-FEE/1") == (*window, T - 5 * M)
    assert target("stage", "C-FEE/handled") == (*window, T + H)
    assert target("stage", "C-FEE/-1") == (*window, T + H)
    assert target("case", "C-FEE") == (*window, T + H)  # its last stage
    assert target("ticket", "TK-1") == (*window, T - 2 * M)  # called
    assert target("ticket", "TK-2") == (None, (CAM, "cam-3", "cam-2"), T - 3 * M)  # issued; no window: the hall's
    assert target("warning", "TK-1/WAIT_LONG") == (*window, T - 15 * M)
    assert target("warning", "C-FEE/FEE_MISMATCH") == (*window, T - 5 * M)
    assert target("warning", "C-SKIP/STAGE_SKIPPED") == (*window, T - 2 * M)
    assert target("warning", "win-A01/POST_LEFT", now=T + 9 * H + 30 * M) == (*window, T + 9 * H)
    assert target("warning", "win-A01/POST_LEFT", now=T + 24 * H) == (*window, T + 11 * H)  # the latest absence
    assert target("evaluation", "E-1") == (*window, T + M)
    assert target("complaint", "K-1") == (*window, T + 30 * SEC)
    assert target("complaint", "K-2") == (None, (CAM, "cam-3", "cam-2"), T + H)  # the day before; the hall's
    assert target("complaint", "K-3") == ("win-B02", (), T + 40 * SEC)  # its camera moved away by the config
    assert footage_target(s, "complaint", "K-3", tz=SHANGHAI).camera_ids == ("cam-3",)


@pytest.mark.parametrize(("kind", "ref", "words"), [
    ("film", "x", "unknown kind 'film'"),
    ("case", "C-NONE", "no case 'C-NONE'"),
    ("stage", "C-FEE/9", "case 'C-FEE' has no stage '9'"),
    ("stage", "C-FEE", "a stage is named"),
    ("ticket", "TK-9", "no ticket 'TK-9'"),
    ("warning", "C-NONE/OVERDUE", "no warning 'C-NONE/OVERDUE'"),
    ("evaluation", "E-9", "no evaluation"),
    ("complaint", "K-9", "no complaint"),
])
def test_show_footage_for_something_unknown_says_what(data: Data, kind: str, ref: str, words: str) -> None:
    seed_records(data.store)
    with pytest.raises(ValueError, match=words):
        footage_target(data.store, kind, ref, tz=SHANGHAI)


# -- the day picker ------------------------------------------------------------------------------
def test_footage_days_are_local_days_across_midnight(data: Data) -> None:
    mar1, mar2, mar3 = date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)
    assert footage_days(data.index, CAM, SHANGHAI, date(2026, 2, 27), mar3) == {mar1, mar2}
    assert footage_days(data.index, CAM, SHANGHAI, mar2, mar2) == {mar2}
    assert footage_days(data.index, CAM, ZoneInfo("UTC"), date(2026, 2, 27), mar3) == {mar1}
    assert footage_days(data.index, CAM, SHANGHAI, mar3, date(2026, 3, 9)) == frozenset()
    assert footage_days(data.index, "cam-none", SHANGHAI, mar1, mar3) == frozenset()
    assert footage_days(data.index, CAM, SHANGHAI, mar3, mar1) == frozenset()


def test_a_deleted_days_footage_is_not_a_footage_day(data: Data, recorded: Recorded) -> None:
    for seg in recorded.first:
        if seg.start < MIDNIGHT:
            (data.folder / "footage" / seg.path.relative_to(recorded.folder / "footage")).unlink()
    data.index.check(CAM)
    days = footage_days(data.index, CAM, SHANGHAI, date(2026, 2, 27), date(2026, 3, 3))
    assert days == {date(2026, 3, 2)}


# -- thumbnails ------------------------------------------------------------------------------------
def decoded(path: Path) -> dict[int, av.VideoFrame]:
    with av.open(str(path)) as c:
        return {f.pts: f for f in c.decode(c.streams.video[0]) if f.pts is not None}


def test_a_thumbnail_is_the_keyframe_at_or_before_the_instant_at_the_small_size(data: Data, recorded: Recorded
                                                                                ) -> None:
    seg = data.index.segments(CAM, ids=[recorded.first[1].id])[0]
    with ThumbnailCache(data.index) as cache:
        for at in (seg.start + 1500 * timedelta(milliseconds=1), seg.end - 100 * timedelta(milliseconds=1)):
            frame = cache.get(CAM, at)
            assert frame is not None and frame.keyframe and frame.segment_id == seg.id
            assert frame.at <= at and at - frame.at < 3 * SEC  # a 2 s bucket and a 1 s GOP at most
            assert (frame.width, frame.height) == (192, 108) and not frame.pixels.flags.writeable
            # The very picture decoded from the file at that keyframe.
            frames = decoded(seg.path)
            with av.open(str(seg.path)) as c:
                tb = c.streams.video[0].time_base
            assert tb is not None
            pts = round(frame.pts / float(tb))
            want = Converter("rgb24").convert(frames[pts], *fit_size(640, 360, 192, 108))
            assert np.array_equal(frame.pixels, want)


def test_thumbnails_come_from_the_cache_within_a_bucket_and_none_in_a_gap(data: Data, recorded: Recorded) -> None:
    at = recorded.first[0].start + SEC
    with ThumbnailCache(data.index, bucket=2 * SEC) as cache:
        a = cache.get(CAM, at)
        bucket_start = at - timedelta(microseconds=(at - datetime(1970, 1, 1, tzinfo=UTC))
                                      // timedelta(microseconds=1) % 2_000_000)
        # Later in the same bucket and the same segment: the same picture, not decoded again.
        b = cache.get(CAM, min(bucket_start + 1999 * MS, recorded.first[0].end - MS))
        assert a is not None and b is a and (cache.hits, cache.misses) == (1, 1)
        assert cache.get(CAM, recorded.outage[0] + (recorded.outage[1] - recorded.outage[0]) / 2) is None
        assert cache.get(CAM, recorded.first[0].start - 60 * SEC) is None
        assert cache.get("cam-none", at) is None
        # The recorder's milliseconds between one segment and the next are footage, not a gap.
        f = recorded.first
        one, two = next((x, y) for x, y in itertools.pairwise(f) if contiguous(x.end, y.start))
        cut = one.end + (two.start - one.end) / 2
        assert cache.get(CAM, cut) is not None


def test_thumbnails_keep_few_files_open_and_close_them(data: Data, recorded: Recorded) -> None:
    segs = [*recorded.first, *recorded.second]
    cache = ThumbnailCache(data.index, max_files=2, capacity=3)
    try:
        for seg in segs:
            assert cache.get(CAM, seg.start + (seg.end - seg.start) / 2) is not None
            assert cache.open_files <= 2
        assert len(cache._frames) == 3
    finally:
        cache.close()
    assert cache.open_files == 0


def test_a_thumbnail_of_a_deleted_file_is_none_not_an_error(data: Data, recorded: Recorded) -> None:
    seg = recorded.first[0]
    (data.folder / "footage" / seg.path.relative_to(recorded.folder / "footage")).unlink()
    with ThumbnailCache(data.index) as cache:
        assert cache.get(CAM, seg.start + SEC) is None


# -- the standalone review's writes --------------------------------------------------------------
def _wait(future_box: list[Outcome[Any]]) -> Outcome[Any]:
    assert wait_for(lambda: bool(future_box), 10)
    return future_box[0]


def test_review_backend_bookmarks_through_the_outbox_and_holds_need_a_reason(data: Data, recorded: Recorded
                                                                             ) -> None:
    data.store.close()  # the backend opens the data folder's store itself
    cfg = Config(cameras=[CameraEntry(id="cam-2", url="synthetic://window/A01b", window_id="win-A01")])
    backend = ReviewBackend(cfg, data.folder)
    backend.start()
    try:
        at = recorded.first[1].start + SEC
        done: list[Outcome[Any]] = []
        backend.bookmark(CAM, at, "争吵", by="审查员", on_done=done.append)
        bookmark = _wait(done)
        assert bookmark.ok and isinstance(bookmark.value, str)
        with backend.store.read() as s:
            outbox = list(s.scalars(select(OutboxAction)))
        assert [(o.type, o.id, o.payload["camera_id"]) for o in outbox] == [("bookmark.create", bookmark.value, CAM)]
        done.clear()
        backend.hold(at - M, at + M, reason="  ", by="审查员", camera_id=CAM, on_done=done.append)
        refused = _wait(done)
        assert (refused.ok, refused.code, refused.error) == (False, "rejected", "an evidence hold needs a reason")
        with backend.store.read() as s:
            assert list(s.scalars(select(EvidenceHold))) == []
        done.clear()
        backend.hold(at - M, at + M, reason="complaint by phone", by="审查员", camera_id=CAM, on_done=done.append)
        hold = _wait(done)
        assert hold.ok and isinstance(hold.value, str)
        tl = backend.timeline(CAM, at - H, at + H, now=recorded.now)
        assert {(m.kind, m.ref) for m in tl.markers} == {(MarkerKind.BOOKMARK, bookmark.value),
                                                         (MarkerKind.HOLD, hold.value)}
        done.clear()
        backend.release_hold(hold.value, by="组长", on_done=done.append)
        assert _wait(done).ok
        tl = backend.timeline(CAM, at - H, at + H, now=recorded.now)
        assert {m.kind for m in tl.markers} == {MarkerKind.BOOKMARK}
        with backend.store.read() as s:
            audit = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert audit == ["bookmark.create", "footage.hold", "footage.release"]
        assert backend.days(CAM, date(2026, 3, 1), date(2026, 3, 2)) == {date(2026, 3, 1), date(2026, 3, 2)}
    finally:
        assert backend.stop(time.monotonic() + 10)
    assert not [t for t in threading.enumerate() if t.name == "hallwatch-actions"]


def test_thumbnails_from_several_threads_at_once(data: Data, recorded: Recorded) -> None:
    segs = [*recorded.first, *recorded.second]
    instants = [seg.start + (seg.end - seg.start) * k / 4 for seg in segs for k in range(4)]
    got: dict[int, Any] = {}
    with ThumbnailCache(data.index, max_files=2) as cache:

        def hover(worker: int) -> None:
            for i in range(worker, len(instants), 3):
                got[i] = cache.get(CAM, instants[i])

        threads = [threading.Thread(target=hover, args=(w,), name=f"hover-{w}") for w in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        assert cache.open_files <= 2
    assert len(got) == len(instants)
    for i, at in enumerate(instants):
        frame = got[i]
        assert frame is not None and frame.at <= at and at - frame.at < 3 * SEC


def test_the_terminal_bookmarks_and_holds_through_the_same_code(tmp_path: Path) -> None:
    from app.terminal import Terminal

    terminal = Terminal(Config(), tmp_path / "data", command="test", record=False, sync=False)
    terminal.start()
    try:
        done: list[Outcome[Any]] = []
        terminal.bookmark(CAM, T, "看这里", by="值班员", on_done=done.append)
        assert _wait(done).ok
        done.clear()
        terminal.hold(T, T + M, reason="", by="值班员", camera_id=CAM, on_done=done.append)
        assert _wait(done).error == "an evidence hold needs a reason"
        with terminal.store.read() as s:
            assert [o.type for o in s.scalars(select(OutboxAction))] == ["bookmark.create"]
            assert list(s.scalars(select(EvidenceHold))) == []
    finally:
        assert terminal.stop()
