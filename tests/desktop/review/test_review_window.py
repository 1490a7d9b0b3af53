"""The review window over real recorded footage of the synthetic camera (its wall clock burnt in):
markers seek to the frame of their instant, frame steps cross segment boundaries and gaps, zoom and
pan keep the place, 2×2 stays in sync at 4×, damaged footage shows as a gap with its reason."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.review import GapReason, MarkerKind, ReviewBackend
from desktop.operator.reader import Reader
from desktop.review.timeline import gap_reason_text
from desktop.review.window import ReviewView
from desktop.review.words import archive_gap_words
from desktop.shell.camera_tree import CameraRow as TreeRow
from desktop.theme import DARK
from supervision.config import Config
from supervision.store.models import BookmarkRow, CameraRow, Window
from tests.video.footage_builder import FRAME, back_to_back, lay, write_clip
from video.archive import ArchiveFrame, ArchiveGap
from video.footage import segment_relpath
from video.synthetic import SceneRenderer

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

T0 = datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)  # 10:00 in the hall
NOW = T0 + timedelta(minutes=10)
CAM, CAM2, CAM3, CAM4 = "hall-1/A01", "hall-1/A02", "hall-1/A03", "hall-1/A04"
SEG = 4.0
GAP = (T0 + timedelta(seconds=8), T0 + timedelta(seconds=14))  # CAM: no footage (the camera reconnected)
W, H = 640, 360


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "c.ts", seconds=SEG, start=T0)


@pytest.fixture
def backend(tmp_path: Path, clip: Path) -> Iterator[ReviewBackend]:
    """CAM: 0-8 s and 14-22 s, each segment its own clip (the burnt-in clock is the footage's time);
    CAM2-4: 0-256 s, copies of one clip (for playback in sync)."""
    data = tmp_path / "data"
    data.mkdir()
    b = ReviewBackend(Config(), data, clock=lambda: NOW)
    b.start()
    with b.store.write() as w:
        w.add(Window(id="W-A01", version=1, deleted=False, hall_id="hall-1", number="A01", name="不动产登记"))
        for cid in (CAM, CAM2, CAM3, CAM4):
            w.add(CameraRow(id=cid, version=1, deleted=False, hall_id="hall-1",
                            window_id="W-A01" if cid == CAM else None, name=cid[-3:]))
        w.add(BookmarkRow(id="bm-1", version=1, deleted=False, camera_id=CAM, at=at(5.52), note="争吵",
                          by="审查员", terminal="t1"))
    lay(b.index, CAM, None, [at(0), at(4), at(14), at(18)], seconds=SEG, fresh=True)
    b.index.open_gap(CAM, GAP[0], "the camera reconnected")
    b.index.close_gap(CAM, GAP[1])
    for cid in (CAM2, CAM3, CAM4):
        lay(b.index, cid, clip, back_to_back(T0, 64, SEG), seconds=SEG)  # 256 s: a minute at 4×
    yield b
    assert b.stop(time.monotonic() + 10)


@pytest.fixture
def view(qtbot: Any, backend: ReviewBackend) -> Iterator[ReviewView]:
    reader = Reader(backend.store)
    reader.start()
    v = ReviewView(backend, reader, backend.tz, DARK, index=backend.index, clock=lambda: NOW)
    qtbot.addWidget(v)
    v.set_camera_rows([TreeRow(c, c[-3:], "hall-1", "市民中心", "W-A01" if c == CAM else None,
                               "A01 不动产登记" if c == CAM else "") for c in (CAM, CAM2, CAM3, CAM4)])
    v.resize(1700, 1000)  # a cell of 640×360 or more: the players decode at the recorded size
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.close_view()
    reader.stop()


def shown(view: ReviewView, i: int = 0) -> ArchiveFrame | ArchiveGap | None:
    return view.screens.shown(i)


def wait_frame(qtbot: Any, view: ReviewView, pred: Any, i: int = 0, timeout: int = 10_000) -> ArchiveFrame:
    qtbot.waitUntil(lambda: isinstance(f := shown(view, i), ArchiveFrame) and pred(f), timeout=timeout)
    f = shown(view, i)
    assert isinstance(f, ArchiveFrame)
    return f


def clock_error(pixels: npt.NDArray[np.uint8], when: datetime) -> float:
    """How far the burnt-in clock region is from the scene rendered at ``when`` (0 = the same picture)."""
    expected = SceneRenderer("A01", W, H).render(when.timestamp(), when.astimezone(Config().zone))
    box = (slice(0, 48), slice(0, 330))
    return float(np.abs(pixels[box].astype(np.int16) - expected[box].astype(np.int16)).mean())


def burnt_in_time(f: ArchiveFrame, around: datetime) -> datetime:
    """The instant whose rendered clock matches the frame best, among the frames near ``around``."""
    candidates = [around + k * FRAME for k in range(-3, 4)]
    return min(candidates, key=lambda c: clock_error(f.pixels, c))


def test_a_click_on_a_marker_shows_the_frame_whose_burnt_in_time_is_the_markers(
        qtbot: Any, view: ReviewView) -> None:
    view.open_at([CAM], at(1), margin=timedelta(0), play=False)
    view.timeline.set_view(at(-2), at(30))
    qtbot.waitUntil(lambda: any(m.kind == MarkerKind.BOOKMARK for t in view.timelines for m in t.markers),
                    timeout=10_000)
    marker = next(m for t in view.timelines for m in t.markers if m.kind == MarkerKind.BOOKMARK)
    tl = view.timeline
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(round(tl.x_of(marker.at)), tl.row_rect(0).top() + 3))
    f = wait_frame(qtbot, view, lambda f: abs((f.at - marker.at).total_seconds()) < 0.2)
    assert f.pixels.shape == (H, W, 3)
    # The frame on screen is the one showing at the marker's instant: the last frame at or before it,
    # and its burnt-in clock says so (within one frame).
    assert f.at <= marker.at < f.at + FRAME
    assert abs(burnt_in_time(f, f.at) - marker.at) <= FRAME


def test_frame_steps_cross_a_segment_boundary_and_a_gap(qtbot: Any, view: ReviewView) -> None:
    view.open_at([CAM], at(4) - 2 * FRAME, margin=timedelta(0), play=False)
    f = wait_frame(qtbot, view, lambda f: f.at == at(4) - 2 * FRAME)
    view.screens.setFocus()
    seen = [f.at]
    for _ in range(4):  # across the 4 s boundary between two segments
        qtbot.keyClick(view.screens, Qt.Key.Key_Right)
        f = wait_frame(qtbot, view, lambda f, last=seen[-1]: f.at != last)
        seen.append(f.at)
    assert seen == [at(4) + k * FRAME for k in range(-2, 3)]
    assert burnt_in_time(f, f.at) == f.at
    for _ in range(4):
        qtbot.keyClick(view.screens, Qt.Key.Key_Left)
        f = wait_frame(qtbot, view, lambda f, last=seen[-1]: f.at != last)
        seen.append(f.at)
    assert seen[-1] == at(4) - 2 * FRAME
    # Into the gap at 8 s and out of it, one step each.
    view.seek(GAP[0] - FRAME)
    wait_frame(qtbot, view, lambda f: f.at == GAP[0] - FRAME)
    qtbot.keyClick(view.screens, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: isinstance(shown(view), ArchiveGap), timeout=5000)
    gap = shown(view)
    assert isinstance(gap, ArchiveGap) and (gap.start, gap.end) == GAP
    view.screens.grab()  # paints the gap and its words
    assert archive_gap_words(gap) == gap_reason_text(GapReason.CAMERA_DOWN)  # "the camera reconnected"
    qtbot.keyClick(view.screens, Qt.Key.Key_Right)
    wait_frame(qtbot, view, lambda f: f.at == GAP[1])
    qtbot.keyClick(view.screens, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: isinstance(shown(view), ArchiveGap), timeout=5000)
    qtbot.keyClick(view.screens, Qt.Key.Key_Left)
    wait_frame(qtbot, view, lambda f: f.at == GAP[0] - FRAME)


def test_zoom_and_pan_keep_the_position(qtbot: Any, view: ReviewView) -> None:
    view.open_at([CAM], at(6), margin=timedelta(0), play=False)
    wait_frame(qtbot, view, lambda f: f.at <= at(6) < f.at + FRAME)
    tl = view.timeline
    before = view.position()
    start0, end0 = tl.view()
    centre = QPointF(tl.track_rect().center())
    for _ in range(3):  # wheel in
        QApplication.sendEvent(tl, QWheelEvent(centre, tl.mapToGlobal(centre), QPoint(0, 0), QPoint(0, 120),
                                               Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                               Qt.ScrollPhase.NoScrollPhase, False))
    start1, end1 = tl.view()
    assert end1 - start1 < (end0 - start0) * 0.75
    y = tl.row_rect(0).center().y()
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, pos=QPoint(300, y))
    for x in range(300, 500, 20):
        qtbot.mouseMove(tl, QPoint(x, y))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, pos=QPoint(500, y))
    assert tl.view()[0] < start1  # panned back in time
    qtbot.keyClick(tl, Qt.Key.Key_Plus)
    qtbot.wait(300)
    assert view.position() == before
    f = shown(view)
    assert isinstance(f, ArchiveFrame) and f.at <= at(6) < f.at + FRAME


def test_switching_cameras_and_layouts_keeps_the_position(qtbot: Any, view: ReviewView) -> None:
    view.open_at([CAM2], at(20), margin=timedelta(0), play=False)
    wait_frame(qtbot, view, lambda f: f.at <= at(20) < f.at + FRAME)
    view.set_layout("2x2")
    assert len(view.camera_ids) == 4 and view.layout_name() == "2x2"
    for i in range(4):
        wait_frame(qtbot, view, lambda f: f.at <= at(20) < f.at + FRAME or f.at == GAP[1], i)
    view.set_camera(0, CAM3)
    view.set_layout("1")
    assert view.camera_ids == [CAM3]
    wait_frame(qtbot, view, lambda f: f.at <= at(20) < f.at + FRAME)
    assert view.position() == at(20)


def test_2x2_at_4x_stays_in_sync_within_a_frame_over_60_s_of_playback(qtbot: Any, view: ReviewView) -> None:
    view.show_cameras([CAM2, CAM3, CAM4, CAM], at=at(1))
    for i in range(3):
        wait_frame(qtbot, view, lambda f: True, i)
    view.set_speed(4.0)
    view.play()
    qtbot.wait(250)  # the cameras' first pictures after "play" come a refresh or two apart; measured from then
    spreads: list[float] = []
    keyframe_samples = 0
    deadline = time.monotonic() + 60.0  # a minute of 4× playback: four minutes of footage
    while time.monotonic() < deadline:
        qtbot.wait(16)  # what the screen shows at each refresh
        frames = [shown(view, i) for i in range(3)]  # CAM (4th) has its gap in the span
        if all(isinstance(f, ArchiveFrame) for f in frames):
            ats = [f.at for f in frames if isinstance(f, ArchiveFrame)]
            spreads.append((max(ats) - min(ats)).total_seconds())
            if view.group is not None and view.group.status().keyframes_only:
                keyframe_samples += 1
    position = view.position()
    view.pause()
    assert position is not None and position > at(200)
    assert len(spreads) > 750  # a refresh every 16 ms is ~3 500; a loaded machine samples less often
    # Every refresh shows the four cameras at the same instant: within one frame (on one keyframe
    # each when playback fell back to keyframes, which are aligned in this footage too).
    assert max(spreads) <= FRAME.total_seconds(), (sorted(spreads)[-5:], keyframe_samples)


def test_a_deleted_or_corrupt_segment_shows_a_gap_with_its_reason(
        qtbot: Any, view: ReviewView, backend: ReviewBackend) -> None:
    missing = backend.index.root / segment_relpath(CAM, at(4))
    corrupt = backend.index.root / segment_relpath(CAM, at(14))
    missing.unlink()
    data = bytearray(corrupt.read_bytes())
    data[188 * 40: 188 * 400] = bytes(len(data[188 * 40: 188 * 400]))
    corrupt.write_bytes(bytes(data))
    view.open_at([CAM], at(5), margin=timedelta(0), play=False)
    qtbot.waitUntil(lambda: isinstance(shown(view), ArchiveGap), timeout=10_000)
    gap = shown(view)
    assert isinstance(gap, ArchiveGap)
    assert "missing" in archive_gap_words(gap).lower(), gap.reason
    view.seek(at(15))

    def in_the_damaged_one() -> bool:
        g = shown(view)
        return isinstance(g, ArchiveGap) and g.start is not None and g.end is not None and g.start <= at(15) < g.end

    qtbot.waitUntil(in_the_damaged_one, timeout=10_000)
    gap = shown(view)
    assert isinstance(gap, ArchiveGap)
    assert "corrupt" in archive_gap_words(gap).lower(), (gap, archive_gap_words(gap))
    view.reload()
    view.timeline.set_view(at(-2), at(30))

    def reasons() -> set[GapReason]:
        return {g.reason for t in view.timelines for g in t.gaps}

    qtbot.waitUntil(lambda: {GapReason.FILE_MISSING, GapReason.CORRUPT} <= reasons(), timeout=10_000)
    tips = [view.timeline.tooltip_at(QPoint(round(view.timeline.x_of(t)), view.timeline.row_rect(0).center().y()))
            for t in (at(5), at(15))]
    assert "missing" in tips[0].lower() and "corrupt" in tips[1].lower(), tips
    # Playing across them goes on past both.
    view.seek(at(2))
    view.set_speed(4.0)
    view.play()
    wait_frame(qtbot, view, lambda f: f.at >= at(18), timeout=20_000)


def test_the_review_command_opens_a_camera_at_an_instant_beside_the_data_and_takes_no_lock(
        backend: ReviewBackend, tmp_path: Path) -> None:
    """``main.py review --camera --at`` over a data folder: the window shows that camera's footage
    (rendered offscreen to a PNG), and it holds no terminal lock (a running terminal keeps it)."""
    import os
    import subprocess
    import sys

    from PySide6.QtGui import QImage

    out = tmp_path / "review.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"),
               HOME=str(tmp_path / "home"))
    root = Path(__file__).resolve().parents[3]
    proc = subprocess.run(
        [sys.executable, str(root / "main.py"), "--data", str(backend.data_dir), "review", "--camera", CAM,
         "--at", at(6).isoformat(), "--lang", "en", "--screenshot", str(out), "--size", "1280x800",
         "--after", "3"], env=env, capture_output=True, text=True, timeout=120, cwd=root)
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = QImage(str(out))
    assert image.width() == 1280 and image.height() == 800
    assert not (backend.data_dir / "terminal.lock").exists()
    # The screen's middle shows footage (the synthetic hall's wall), not the empty black of no picture.
    centre = image.pixelColor(700, 300)
    assert centre.red() + centre.green() + centre.blue() > 150, centre.name()


def test_a_right_click_on_an_evidence_hold_offers_its_release(
        qtbot: Any, view: ReviewView, backend: ReviewBackend) -> None:
    done: list[Any] = []
    backend.hold(at(2), at(6), reason="投诉 C-17 核查", by="审查员", camera_id=CAM, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=10_000)
    view.open_at([CAM], at(3), margin=timedelta(0), play=False)
    view.timeline.set_view(at(-2), at(30))
    qtbot.waitUntil(lambda: any(m.kind == MarkerKind.HOLD for t in view.timelines for m in t.markers),
                    timeout=10_000)
    tl = view.timeline
    pos = QPoint(round(tl.x_of(at(4))), tl.row_rect(0).bottom() - 2)
    found = tl.markers_at(pos)
    assert [m.kind for m in found] == [MarkerKind.HOLD] and found[0].ref == done[0].value
    assert tl.row_camera(pos) == CAM
    assert tl.markers_at(QPoint(round(tl.x_of(at(12))), pos.y())) == []
