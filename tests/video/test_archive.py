"""The archive reader: frame-exact seeks and steps across segments and gaps, damaged footage, playback.

Footage is built without a camera: short synthetic clips (whose burnt-in clock starts at the
segment's start and advances 1/25 s a frame) written where the recorder would put them and indexed
like the recorder indexes them. The layout, 25 fps, one keyframe a second, across an hour's folder::

    S0 S1 S2 | 5 s without footage ("the camera reconnected") | S3 S4      (2 s each)
"""

from __future__ import annotations

import itertools
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from supervision.store import Store, open_store
from supervision.store.footage import Segment, SegmentStatus
from tests.video.waiting import wait_for
from video.archive import ArchiveFrame, ArchiveGap, ArchiveReader, Player
from video.display import Converter
from video.footage import FootageIndex, segment_relpath
from video.synthetic import SceneRenderer, write_file

CAM = "window/A01"
FPS = 25
FRAME = timedelta(microseconds=1_000_000 // FPS)
W, H = 640, 360
T0 = datetime(2026, 3, 2, 1, 59, 57, tzinfo=UTC)  # S1 crosses into the 02 hour folder
SEG_S = 2
OFFSETS = (0, 2, 4, 11, 13)  # seconds after T0
GAP = (T0 + timedelta(seconds=6), T0 + timedelta(seconds=11))
END = T0 + timedelta(seconds=15)
GAP_REASON = "the camera reconnected"


@dataclass(frozen=True)
class Footage:
    store: Store
    index: FootageIndex
    ids: list[int]  # segment ids in time order

    def path(self, k: int) -> Path:
        return self.index.root / segment_relpath(CAM, T0 + timedelta(seconds=OFFSETS[k]))

    def reader(self, *, width: int | None = None, height: int | None = None) -> ArchiveReader:
        return ArchiveReader(self.index, CAM, width=width, height=height)

    def status(self, k: int) -> tuple[str, str | None]:
        with self.store.read() as s:
            row = s.get(Segment, self.ids[k])
            assert row is not None
            return row.status, row.problem


# All frames, in order: (time, segment number, frame number within the segment).
FRAMES = [(T0 + timedelta(seconds=off) + i * FRAME, k, i) for k, off in enumerate(OFFSETS) for i in range(SEG_S * FPS)]
TIMES = [f[0] for f in FRAMES]


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    out = []
    for off in OFFSETS:
        path = folder / f"{off}.ts"
        write_file(path, seconds=SEG_S, start=T0 + timedelta(seconds=off), width=W, height=H, fps=FPS)
        out.append(path)
    return out


def build(folder: Path, clips: list[Path]) -> Footage:
    store = open_store(folder / "hallwatch.db")
    index = FootageIndex(store, folder / "footage")
    ids = []
    for clip, off in zip(clips, OFFSETS, strict=True):
        start = T0 + timedelta(seconds=off)
        seg_id, path = index.open_segment(CAM, start, codec="h264", width=W, height=H, first_pts=0.0)
        shutil.copyfile(clip, path)
        index.close_segment(seg_id, start + timedelta(seconds=SEG_S), SEG_S * FPS, path)
        ids.append(seg_id)
    index.open_gap(CAM, GAP[0], GAP_REASON)
    index.close_gap(CAM, GAP[1])
    return Footage(store, index, ids)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, clips: list[Path]) -> Iterator[Footage]:
    """Footage for tests that only read it."""
    footage = build(tmp_path_factory.mktemp("shared"), clips)
    yield footage
    footage.store.close()


@pytest.fixture
def footage(tmp_path: Path, clips: list[Path]) -> Iterator[Footage]:
    """Footage of this test's own, to damage."""
    f = build(tmp_path, clips)
    yield f
    f.store.close()


@pytest.fixture
def reader(shared: Footage) -> Iterator[ArchiveReader]:
    with shared.reader() as r:
        yield r


def expected_at(at: datetime) -> datetime | ArchiveGap:
    """The model: the time of the frame showing at ``at``, or the gap there."""
    if at < T0:
        return ArchiveGap(None, T0, "")
    if GAP[0] <= at < GAP[1]:
        return ArchiveGap(GAP[0], GAP[1], GAP_REASON)
    if at >= END:
        return ArchiveGap(END, None, "")
    i = max(i for i in range(len(TIMES)) if TIMES[i] <= at) if at < TIMES[-1] else len(TIMES) - 1
    return TIMES[i]


def check(result: ArchiveFrame | ArchiveGap, expected: datetime | ArchiveGap) -> None:
    if isinstance(expected, ArchiveGap):
        assert isinstance(result, ArchiveGap), f"expected a gap {expected}, got a frame at {result}"
        assert (result.start, result.end) == (expected.start, expected.end)
        assert result.next_footage == expected.end
        assert result.reason
        if expected.reason:
            assert result.reason == expected.reason
        return
    assert isinstance(result, ArchiveFrame), f"expected the frame at {expected}, got {result}"
    assert result.at == expected
    _, _, i = FRAMES[TIMES.index(expected)]
    assert result.pts == pytest.approx(i / FPS)  # written files start at pts 0
    assert result.keyframe == (i % FPS == 0)
    assert result.pixels.shape == (H, W, 3) and not result.pixels.flags.writeable


# ------------------------------------------------------------------------------- seeking and stepping


def test_seek_to_random_instants_gives_the_last_frame_at_or_before(reader: ArchiveReader) -> None:
    rnd = random.Random(20260302)
    span = (END - T0).total_seconds() + 2
    for _ in range(120):
        at = T0 - timedelta(seconds=1) + timedelta(microseconds=rnd.randrange(int(span * 1e6)))
        check(reader.seek(at), expected_at(at))


def test_seek_to_each_frames_own_time_and_just_before_it(reader: ArchiveReader) -> None:
    for at, _, i in FRAMES[45:110]:  # across a keyframe and the S1/S2 cut
        check(reader.seek(at), at)
        if i or at == TIMES[0]:
            check(reader.seek(at - timedelta(microseconds=1)), expected_at(at - timedelta(microseconds=1)))


@given(st.lists(st.one_of(
    st.tuples(st.just("seek"), st.integers(-1_500_000, 16_500_000)),
    st.tuples(st.just("step"), st.integers(-30, 30)),
), min_size=1, max_size=10))
@settings(max_examples=40, deadline=None, database=None)
def test_seeks_and_steps_follow_the_model(shared: Footage, ops: list[tuple[str, int]]) -> None:
    """Any run of seeks and steps on one reader (caches and all) agrees with the frame list."""
    with shared.reader() as r:
        model: datetime | ArchiveGap | None = None
        for op, arg in ops:
            if op == "seek":
                at = T0 + timedelta(microseconds=arg)
                model = expected_at(at)
                check(r.seek(at), model)
            else:
                model = step_model(model, arg)
                check(r.step(arg), model)


def step_model(pos: datetime | ArchiveGap | None, n: int) -> datetime | ArchiveGap:
    """Steps stop at a gap; the next step leaves it. Before any seek: from the oldest/newest footage."""
    if pos is None:
        pos = TIMES[0] if n >= 0 else TIMES[-1]
        n -= 1 if n > 0 else -1 if n < 0 else 0
    for _ in range(abs(n)):
        forward = n > 0
        if isinstance(pos, ArchiveGap):
            if forward:
                pos = pos if pos.end is None else pos.end
            else:
                pos = pos if pos.start is None else TIMES[TIMES.index(pos.start - FRAME)]
            if isinstance(pos, ArchiveGap):
                return pos
            continue
        i = TIMES.index(pos)
        j = i + (1 if forward else -1)
        if j < 0:
            return ArchiveGap(None, T0, "")
        if j >= len(TIMES):
            return ArchiveGap(END, None, "")
        if abs(TIMES[j] - pos) != FRAME:
            return ArchiveGap(GAP[0], GAP[1], GAP_REASON)
        pos = TIMES[j]
    return pos


def test_stepping_across_a_segment_boundary_is_exact(reader: ArchiveReader) -> None:
    last_of_s0 = T0 + timedelta(seconds=SEG_S) - FRAME
    first = reader.seek(last_of_s0 - 30 * FRAME)  # in S0's second GOP
    assert isinstance(first, ArchiveFrame)
    seen = [first]
    for _ in range(60):  # forward into S1
        f = reader.step(1)
        assert isinstance(f, ArchiveFrame)
        seen.append(f)
    for _ in range(60):  # and back, one frame at a time, into S0 again (re-decoding each GOP once)
        f = reader.step(-1)
        assert isinstance(f, ArchiveFrame)
        seen.append(f)
    times = [f.at for f in seen]
    assert all(b - a == FRAME for a, b in itertools.pairwise(times[:61]))
    assert all(a - b == FRAME for a, b in itertools.pairwise(times[60:]))
    assert times[-1] == times[0]
    assert {f.segment_id for f in seen} == {seen[0].segment_id, seen[60].segment_id} and seen[0].segment_id != seen[
        60].segment_id
    # Back-steps give the very pictures forward decoding gave.
    for k in range(1, 60):
        assert np.array_equal(seen[k].pixels, seen[120 - k].pixels)


def test_frames_are_the_recorded_pictures(shared: Footage, reader: ArchiveReader) -> None:
    """Checked two ways: against decoding the file independently, and against the burnt-in clock."""
    decoded = decode_all(shared.path(1))
    convert = Converter()
    renderer = SceneRenderer("A01", W, H)
    for i in (0, 1, 24, 25, 26, 37, 49):
        at = T0 + timedelta(seconds=OFFSETS[1]) + i * FRAME
        f = reader.seek(at + FRAME / 2)
        assert isinstance(f, ArchiveFrame) and f.at == at
        assert np.array_equal(f.pixels, convert.convert(decoded[i], W, H).copy())
        # The clock region matches the scene rendered at this instant better than at its neighbours.
        errors = {d: clock_error(f.pixels, renderer, at + d * FRAME) for d in (-1, 0, 1)}
        assert errors[0] < 0.8 * min(errors[-1], errors[1]), errors


def test_back_steps_through_a_gop_reuse_the_decoded_gops(reader: ArchiveReader) -> None:
    """Going to a segment's last frame and stepping back through it decodes each frame about once
    (re-decoding from the keyframe at every step would take some 600 decoder calls here)."""
    s3 = T0 + timedelta(seconds=OFFSETS[3])
    assert isinstance(reader.seek(s3), ArchiveFrame)  # the file is open

    def back_through_the_segment() -> None:
        assert isinstance(reader.seek(s3 + 49 * FRAME), ArchiveFrame)
        for k in range(48, -1, -1):
            f = reader.step(-1)
            assert isinstance(f, ArchiveFrame) and f.at == s3 + k * FRAME

    decodes = count_decodes(reader, back_through_the_segment)
    # Every one of the segment's 50 frames but the keyframe already shown is decoded at least once
    # (the counting sees the decoders' work), and none is decoded twice but for a few flushes.
    assert 2 * FPS - 1 <= decodes <= 2 * FPS + 5, decodes


def test_output_size_fits_the_box(shared: Footage) -> None:
    with shared.reader(width=320, height=320) as r:
        f = r.seek(T0 + timedelta(seconds=1))
        assert isinstance(f, ArchiveFrame) and (f.width, f.height) == (320, 180)
        r.set_size(160, 90)
        f = r.step(1)
        assert isinstance(f, ArchiveFrame) and (f.width, f.height) == (160, 90)


# ------------------------------------------------------------------------------------------------ gaps


def test_seek_into_a_gap_says_where_footage_resumes_and_why(reader: ArchiveReader) -> None:
    g = reader.seek(GAP[0] + timedelta(seconds=2))
    assert g == ArchiveGap(GAP[0], GAP[1], GAP_REASON)
    assert g.next_footage == GAP[1]
    f = reader.step(1)  # out of the gap: the first frame after it
    assert isinstance(f, ArchiveFrame) and f.at == GAP[1]
    assert reader.step(-1) == g
    f = reader.step(-1)
    assert isinstance(f, ArchiveFrame) and f.at == GAP[0] - FRAME


def test_before_the_oldest_and_after_the_newest_footage(reader: ArchiveReader) -> None:
    before = reader.seek(T0 - timedelta(hours=3))
    assert isinstance(before, ArchiveGap) and before.start is None and before.next_footage == T0
    after = reader.seek(END + timedelta(minutes=1))
    assert isinstance(after, ArchiveGap) and after.start == END and after.next_footage is None
    assert reader.step(1) == after  # nothing later: the reader stays in the gap
    last = reader.step(-1)
    assert isinstance(last, ArchiveFrame) and last.at == END - FRAME
    assert reader.next_frame() is None  # playback at the end: nothing more, and the reader stays put
    assert reader.current is last


def test_playback_order_crosses_cuts_and_reports_the_gap_once(reader: ArchiveReader) -> None:
    f = reader.seek(T0)
    items: list[ArchiveFrame | ArchiveGap] = []
    while (nxt := reader.next_frame()) is not None:
        items.append(nxt)
    assert isinstance(f, ArchiveFrame)
    frames = [f] + [i for i in items if isinstance(i, ArchiveFrame)]
    assert [x.at for x in frames] == TIMES
    assert [i for i in items if isinstance(i, ArchiveGap)] == [ArchiveGap(GAP[0], GAP[1], GAP_REASON)]


def test_keyframes_only_playback(reader: ArchiveReader) -> None:
    reader.seek(T0 + FRAME * 3)
    seen = []
    while (nxt := reader.next_frame(keyframes_only=True)) is not None:
        if isinstance(nxt, ArchiveFrame):
            assert nxt.keyframe
            seen.append(nxt.at)
    assert seen == [t for t, _, i in FRAMES if i % FPS == 0 and t > T0 + FRAME * 3]


# ------------------------------------------------------------------------------------- damaged footage


def test_a_deleted_file_is_a_gap_and_is_marked_missing(footage: Footage) -> None:
    footage.path(1).unlink()
    with footage.reader() as r:
        g = r.seek(T0 + timedelta(seconds=3))
        assert isinstance(g, ArchiveGap)
        assert (g.start, g.end) == (T0 + timedelta(seconds=2), T0 + timedelta(seconds=4))
        assert "missing" in g.reason and "gone" in g.reason
        assert footage.status(1) == ("missing", "the file is gone")
        # Stepping over it: S0's last frame, the gap, S2's first frame.
        f = r.seek(T0 + timedelta(seconds=2) - FRAME)
        assert isinstance(f, ArchiveFrame)
        assert r.step(1) == g
        nxt = r.step(1)
        assert isinstance(nxt, ArchiveFrame) and nxt.at == T0 + timedelta(seconds=4)


def test_a_file_deleted_while_playing_is_skipped(footage: Footage) -> None:
    with footage.reader() as r:
        assert isinstance(r.seek(T0 + timedelta(seconds=1)), ArchiveFrame)
        footage.path(1).unlink()
        footage.path(2).unlink()
        items = [r.next_frame() for _ in range(30)]
        gaps = [i for i in items if isinstance(i, ArchiveGap)]
        assert len(gaps) == 1 and "missing" in gaps[0].reason
        assert gaps[0].next_footage == GAP[1]  # both missing segments and the gap after them: one gap
        frames = [i for i in items if isinstance(i, ArchiveFrame)]
        assert frames[-1].at > GAP[1]
        assert footage.status(1)[0] == footage.status(2)[0] == "missing"


@pytest.mark.parametrize("damage", ["overwrite", "truncate"])
def test_a_corrupted_file_is_a_gap_and_is_marked_corrupt(footage: Footage, damage: str) -> None:
    path = footage.path(2)
    data = bytearray(path.read_bytes())
    if damage == "overwrite":
        middle = len(data) // 2
        data[middle : middle + 4096] = bytes(random.Random(1).randrange(256) for _ in range(4096))
    else:
        del data[len(data) // 2 :]
    path.write_bytes(bytes(data))
    with footage.reader() as r:
        g = r.seek(T0 + timedelta(seconds=5))
        assert isinstance(g, ArchiveGap) and g.reason.startswith("footage corrupt")
        assert g.start == T0 + timedelta(seconds=4) and g.next_footage == GAP[1]
        status, problem = footage.status(2)
        assert status == "corrupt" and problem and ("SHA-256" in problem or "bytes" in problem)


def test_pyav_errors_are_a_gap_too(footage: Footage) -> None:
    """A file the index agrees with (size, hash) that PyAV cannot read: only decoding finds out."""
    path = footage.path(3)
    path.write_bytes(bytes(random.Random(2).randrange(256) for _ in range(50_000)))
    footage.index.close_segment(footage.ids[3], T0 + timedelta(seconds=13), 50, path)  # re-hash the garbage
    with footage.reader() as r:
        g = r.seek(T0 + timedelta(seconds=12))
        assert isinstance(g, ArchiveGap) and g.reason.startswith("footage corrupt")
        assert g.next_footage == T0 + timedelta(seconds=13)
        assert footage.status(3)[0] == "corrupt"
        f = r.step(1)
        assert isinstance(f, ArchiveFrame) and f.at == T0 + timedelta(seconds=13)


def test_segments_already_marked_are_not_opened(footage: Footage) -> None:
    with footage.store.write() as s:
        s.execute(update(Segment).where(Segment.id == footage.ids[0]).values(
            status=SegmentStatus.CORRUPT.value, problem="the file's SHA-256 differs"))
    with footage.reader() as r:
        g = r.seek(T0 + timedelta(seconds=1))
        assert g == ArchiveGap(None, T0 + timedelta(seconds=2), "footage corrupt: the file's SHA-256 differs")


def test_no_footage_at_all(footage: Footage) -> None:
    with footage.reader() as r:
        r.camera_id = "window/none"
        assert r.step(1) == ArchiveGap(None, None, "no footage of this camera")
        assert r.next_frame() is None
        g = r.seek(T0)
        assert isinstance(g, ArchiveGap) and (g.start, g.end) == (None, None)


def test_at_most_two_files_are_open(shared: Footage) -> None:
    with shared.reader() as r:
        for k in (0, 1, 2, 3, 4, 0):
            assert isinstance(r.seek(T0 + timedelta(seconds=OFFSETS[k] + 1)), ArchiveFrame)
            assert len(r._files) <= 2


# -------------------------------------------------------------------------------------------- player


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds




def test_playback_at_4x_follows_the_clock(shared: Footage) -> None:
    clock = FakeClock()
    with shared.reader() as r, Player(r, speed=4, clock=clock) as p:
        start = T0 + timedelta(seconds=0.5)
        p.seek(start)
        assert wait_for(lambda: isinstance(p.latest(), ArchiveFrame))
        p.play()
        for step in range(1, 5):  # 4 × 0.25 s of wall time
            clock.advance(0.25)
            target = start + timedelta(seconds=step)  # 4× the clock
            assert p.position == target
            assert wait_for(lambda t=target: _at(p.latest()) == expected_at(t)), (p.latest(), target)
            assert p.status().keyframes_only is False
        p.pause()
        clock.advance(5)
        assert p.position == start + timedelta(seconds=4)  # paused: the position stays


def test_playback_never_shows_a_frame_ahead_of_the_clock(shared: Footage) -> None:
    clock = FakeClock()
    with shared.reader() as r, Player(r, speed=2, clock=clock) as p:
        p.seek(T0)
        assert wait_for(lambda: p.latest() is not None)
        p.play()
        shown: set[datetime] = set()
        for _ in range(20):
            clock.advance(0.05)
            pos = p.position
            assert pos is not None
            deadline = time.monotonic() + 5
            while True:  # every frame seen on the way to this position's frame is not ahead of it
                f = p.latest()
                assert isinstance(f, ArchiveFrame), f
                assert f.at <= pos, (f.at, pos)
                shown.add(f.at)
                if f.at == expected_at(pos) or time.monotonic() > deadline:
                    break
                time.sleep(0.005)
            assert f.at == expected_at(pos), (f.at, pos)
        assert len(shown) > 10, "playback moved through the frames it was checked on"


def test_16x_falls_back_to_keyframes_and_says_so(shared: Footage) -> None:
    clock = FakeClock()
    with shared.reader() as r, Player(r, speed=16, clock=clock) as p:
        p.seek(T0 + FRAME * 3)
        assert wait_for(lambda: p.latest() is not None)  # the seek is done: the clock counts from here
        p.play()
        clock.advance(0.1)  # 1.6 s of footage
        assert wait_for(lambda: p.status().keyframes_only)
        note = p.status().note
        assert note and "keyframes only" in note and "16×" in note
        assert wait_for(lambda: _at(p.latest()) == T0 + timedelta(seconds=1))
        latest = p.latest()
        assert isinstance(latest, ArchiveFrame) and latest.keyframe
        p.set_speed(2)  # 50 frames/s: every frame again
        clock.advance(0.2)
        assert wait_for(lambda: not p.status().keyframes_only)
        assert wait_for(lambda: (f := p.latest()) is not None and isinstance(f, ArchiveFrame) and not f.keyframe)


def test_playback_shows_a_gap_then_jumps_to_where_footage_resumes(shared: Footage) -> None:
    clock = FakeClock()
    with shared.reader() as r, Player(r, speed=8, clock=clock) as p:
        p.seek(GAP[0] - timedelta(seconds=0.5))
        assert wait_for(lambda: p.latest() is not None)
        p.play()
        clock.advance(0.1)  # 0.8 s of footage: into the gap
        assert wait_for(lambda: isinstance(p.latest(), ArchiveGap))
        assert p.latest() == ArchiveGap(GAP[0], GAP[1], GAP_REASON)
        # After showing it (up to a second of real time), playback goes on at the footage after it.
        assert wait_for(lambda: isinstance(p.latest(), ArchiveFrame))
        f = p.latest()
        assert isinstance(f, ArchiveFrame) and f.at >= GAP[1]


def test_playback_waits_at_the_end_of_the_footage(shared: Footage) -> None:
    clock = FakeClock()
    with shared.reader() as r, Player(r, speed=4, clock=clock) as p:
        p.seek(END - 5 * FRAME)
        assert wait_for(lambda: p.latest() is not None)
        p.play()
        clock.advance(1)
        assert wait_for(lambda: p.status().ended)
        status = p.status()
        assert status.playing and status.note and "end of the recorded footage" in status.note
        assert _at(p.latest()) == END - FRAME
        clock.advance(1)
        assert p.position == END - FRAME  # held at the last frame, not running on into nothing


def test_player_steps_from_the_frame_on_screen(shared: Footage) -> None:
    with shared.reader() as r, Player(r) as p:
        p.seek(T0 + timedelta(seconds=1))
        assert wait_for(lambda: _at(p.latest()) == T0 + timedelta(seconds=1))
        p.step(-3)
        assert wait_for(lambda: _at(p.latest()) == T0 + timedelta(seconds=1) - 3 * FRAME)
        assert p.position == T0 + timedelta(seconds=1) - 3 * FRAME
        p.set_size(320, 180)
        assert wait_for(lambda: (f := p.latest()) is not None and isinstance(f, ArchiveFrame) and f.width == 320)


def test_stop_leaves_no_thread(shared: Footage) -> None:
    with shared.reader() as r:
        p = Player(r, speed=16)
        p.seek(T0)
        p.play()
        assert wait_for(lambda: p.latest() is not None)
        p.stop()
        assert not [t for t in threading.enumerate() if t.name == "hallwatch-archive-player"]
        p.stop()  # idempotent


def test_speeds_outside_the_range_are_refused(shared: Footage) -> None:
    with shared.reader() as r, Player(r) as p:
        for bad in (0, -1, 32):
            with pytest.raises(ValueError, match="speed"):
                p.set_speed(bad)


# ------------------------------------------------------------------------------------------- helpers


def _at(item: ArchiveFrame | ArchiveGap | None) -> datetime | ArchiveGap | None:
    return item.at if isinstance(item, ArchiveFrame) else item


def decode_all(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return list(c.decode(c.streams.video[0]))


def clock_error(pixels: npt.NDArray[np.uint8], renderer: SceneRenderer, at: datetime) -> float:
    expected = renderer.render(at.timestamp(), at)
    box = (slice(0, 48), slice(0, 330))  # the burnt-in clock, top left
    return float(np.abs(pixels[box].astype(np.int16) - expected[box].astype(np.int16)).mean())


def count_decodes(reader: ArchiveReader, action: Callable[[], object]) -> int:
    """How many packets the reader's decoders are given while ``action`` runs."""
    calls = 0
    patched = []
    for f in reader._files.values():
        original = f.codec.decode

        def counting(packet: object = None, original: Callable[..., list[av.VideoFrame]] = original
                     ) -> list[av.VideoFrame]:
            nonlocal calls
            calls += 1
            return original(packet)

        patched.append((f, original))
        f.codec = _Wrapped(f.codec, counting)  # type: ignore[assignment]
    try:
        action()
    finally:
        for f, _ in patched:
            f.codec = f.codec._inner  # type: ignore[attr-defined]
    return calls


class _Wrapped:
    def __init__(self, inner: object, decode: Callable[..., list[av.VideoFrame]]) -> None:
        self._inner = inner
        self.decode = decode

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def test_a_gop_longer_than_the_cache_is_still_stepped_exactly(
    shared: Footage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for 8 pictures, a 25-frame GOP keeps only its newest; stepping back decodes again."""
    monkeypatch.setattr("video.archive.segment._CACHE_BYTES", 8 * W * H * 3 // 2)
    with shared.reader() as r:
        start = T0 + timedelta(seconds=OFFSETS[1] + 1.96)
        forward = []
        f = r.seek(start - 59 * FRAME)
        for _ in range(59):
            assert isinstance(f, ArchiveFrame)
            forward.append(f)
            f = r.step(1)
        assert isinstance(f, ArchiveFrame) and f.at == start
        for expected in reversed(forward):
            f = r.step(-1)
            assert isinstance(f, ArchiveFrame) and f.at == expected.at
            assert np.array_equal(f.pixels, expected.pixels)
        held = sum(g.held for file in r._files.values() for g in file._gops.values())
        assert held <= 8 * len(r._files)
