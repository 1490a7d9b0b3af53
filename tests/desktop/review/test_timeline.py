"""The review window's timeline: a click seeks to the instant under the pointer, the wheel, a pinch and
the keys zoom (a week to ten seconds) keeping the instant under the pointer or the playhead, a drag
pans without seeking, dragging the playhead scrubs (throttled), I/O and Shift+drag select, hovering
a gap says why there is no footage, a marker's click hands the marker over, and the day picker marks
the days with footage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QDate, QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QFont, QHelpEvent, QImage, QMouseEvent, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PySide6.QtWidgets import QApplication, QTableView, QToolTip, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from app.review import CameraTimeline, Gap, GapReason, Marker, MarkerKind, Span
from desktop.application import Localization
from desktop.review.timeline import (
    MAX_SPAN,
    MIN_SPAN,
    DayPicker,
    Timeline,
    _Levels,
    gap_reason_text,
    pixel_runs,
)
from desktop.theme import LIGHT

# the offscreen platform cannot size or raise a window (Qt's tooltip is one)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints",
                                       "This plugin does not support raise")

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
T0 = NOW - timedelta(hours=2)  # the data: two hours before now


def _timeline(cam: str = "cam-1", *, markers: tuple[Marker, ...] = ()) -> CameraTimeline:
    """An hour of footage, a 10-minute disk-full gap, another hour."""
    spans = (Span(T0, T0 + timedelta(minutes=55)), Span(T0 + timedelta(minutes=65), NOW))
    gaps = (Gap(T0 + timedelta(minutes=55), T0 + timedelta(minutes=65), GapReason.DISK_FULL, "free 0.4 GB of 2 GB"),)
    return CameraTimeline(cam, "A03", T0, NOW, spans, gaps, markers)


@pytest.fixture
def timeline(qtbot: QtBot) -> Iterator[Timeline]:
    tl = Timeline(TZ, clock=lambda: NOW)
    qtbot.addWidget(tl)
    tl.set_data([_timeline("cam-1"), _timeline("cam-2")])
    tl.resize(900, 140)
    tl.set_view(T0, NOW)
    tl.move(60, 300)  # room above for the hover preview
    tl.show()
    qtbot.waitExposed(tl)
    yield tl


def _seconds_per_pixel(tl: Timeline) -> float:
    start, end = tl.view()
    return (end - start).total_seconds() / tl.track_rect().width()


def _mid_y(tl: Timeline, row: int = 0) -> int:
    r = tl.row_rect(row)
    return r.top() + r.height() * 3 // 4  # below the marker glyphs


def _mouse(tl: Timeline, kind: QEvent.Type, x: float, y: float) -> None:
    """A pointer move with no button held (hover)."""
    assert kind == QEvent.Type.MouseMove
    pos = QPointF(x, y)
    QApplication.sendEvent(tl, QMouseEvent(kind, pos, QPointF(tl.mapToGlobal(pos)), Qt.MouseButton.NoButton,
                                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def _drag(tl: Timeline, x0: float, x1: float, y: float, *, steps: int = 8,
          modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    pos = QPointF(x0, y)
    QApplication.sendEvent(tl, QMouseEvent(QEvent.Type.MouseButtonPress, pos, QPointF(tl.mapToGlobal(pos)),
                                           Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, modifiers))
    for i in range(1, steps + 1):
        pos = QPointF(x0 + (x1 - x0) * i / steps, y)
        QApplication.sendEvent(tl, QMouseEvent(QEvent.Type.MouseMove, pos, QPointF(tl.mapToGlobal(pos)),
                                               Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton, modifiers))
    QApplication.sendEvent(tl, QMouseEvent(QEvent.Type.MouseButtonRelease, pos, QPointF(tl.mapToGlobal(pos)),
                                           Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton, modifiers))


def _wheel(tl: Timeline, x: float, y: float, notches: float, *, horizontal: bool = False) -> None:
    pos = QPointF(x, y)
    delta = QPoint(round(120 * notches), 0) if horizontal else QPoint(0, round(120 * notches))
    QApplication.sendEvent(tl, QWheelEvent(pos, QPointF(tl.mapToGlobal(pos)), QPoint(), delta,
                                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                                           Qt.ScrollPhase.NoScrollPhase, False))


def _span(tl: Timeline) -> float:
    start, end = tl.view()
    return (end - start).total_seconds()


# ---- the track maps instants to pixels ----------------------------------------------------------

def test_the_view_fills_the_track_from_its_left_to_its_right_edge(timeline: Timeline) -> None:
    start, end = timeline.view()
    track = timeline.track_rect()
    assert start == T0 and end == NOW
    assert timeline.x_of(start) == pytest.approx(track.left())
    assert timeline.x_of(end) == pytest.approx(track.left() + track.width())
    assert track.left() > 0 and track.left() + track.width() <= timeline.width()


def test_a_click_seeks_to_the_instant_under_the_pointer_within_one_pixel(qtbot: QtBot, timeline: Timeline) -> None:
    target = T0 + timedelta(minutes=37, seconds=12)
    x = round(timeline.x_of(target))
    with qtbot.waitSignal(timeline.seek_requested, timeout=1000) as sig:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x, _mid_y(timeline, 1)))
    got = sig.args[0]
    assert got.tzinfo is not None
    assert abs((got - target).total_seconds()) <= _seconds_per_pixel(timeline)
    assert timeline.position() == got  # the playhead moves at once, before the player answers


def test_a_click_after_now_seeks_to_now(qtbot: QtBot, timeline: Timeline) -> None:
    timeline.set_view(NOW - timedelta(minutes=30), NOW + timedelta(minutes=30))
    with qtbot.waitSignal(timeline.seek_requested, timeout=1000) as sig:
        qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton,
                         pos=QPoint(round(timeline.x_of(NOW + timedelta(minutes=20))), _mid_y(timeline)))
    assert sig.args[0] == NOW


# ---- zoom ---------------------------------------------------------------------------------------

def test_the_wheel_zooms_around_the_instant_under_the_pointer(qtbot: QtBot, timeline: Timeline) -> None:
    track = timeline.track_rect()
    for x in (track.left() + 40, track.left() + track.width() * 0.7):
        before = timeline.time_at(x)
        span = _span(timeline)
        _wheel(timeline, x, _mid_y(timeline), 1)
        assert _span(timeline) == pytest.approx(span / 1.25)
        assert abs((timeline.time_at(x) - before).total_seconds()) < 1e-3
        _wheel(timeline, x, _mid_y(timeline), -2)
        assert _span(timeline) == pytest.approx(span * 1.25)
        assert abs((timeline.time_at(x) - before).total_seconds()) < 1e-3


def test_zoom_stops_at_a_week_and_at_ten_seconds(qtbot: QtBot, timeline: Timeline) -> None:
    x = timeline.track_rect().center().x()
    for _ in range(80):
        _wheel(timeline, x, _mid_y(timeline), 1)
    assert _span(timeline) == pytest.approx(MIN_SPAN) == 10.0
    for _ in range(100):
        _wheel(timeline, x, _mid_y(timeline), -1)
    assert _span(timeline) == pytest.approx(MAX_SPAN) == 7 * 86400.0
    timeline.set_view(T0, T0 + timedelta(seconds=1))
    assert _span(timeline) == pytest.approx(MIN_SPAN)
    timeline.set_view(T0 - timedelta(days=30), NOW)
    assert _span(timeline) == pytest.approx(MAX_SPAN)


def test_a_pinch_zooms_around_its_centre(qtbot: QtBot, timeline: Timeline) -> None:
    x = timeline.track_rect().left() + 100.0
    before = timeline.time_at(x)
    span = _span(timeline)
    pos = QPointF(x, _mid_y(timeline))
    ev = QNativeGestureEvent(Qt.NativeGestureType.ZoomNativeGesture, QPointingDevice.primaryPointingDevice(), 2,
                             pos, pos, QPointF(timeline.mapToGlobal(pos)), 0.5, QPointF())
    QApplication.sendEvent(timeline, ev)
    assert _span(timeline) == pytest.approx(span / 1.5)
    assert abs((timeline.time_at(x) - before).total_seconds()) < 1e-3


def test_the_keys_zoom_around_the_playhead_and_keep_it_in_view(qtbot: QtBot, timeline: Timeline) -> None:
    at = T0 + timedelta(minutes=100)
    timeline.set_position(at)
    x = timeline.x_of(at)
    span = _span(timeline)
    qtbot.keyClick(timeline, Qt.Key.Key_Plus)
    assert _span(timeline) == pytest.approx(span / 2)
    assert timeline.x_of(at) == pytest.approx(x)
    qtbot.keyClick(timeline, Qt.Key.Key_Minus)
    assert _span(timeline) == pytest.approx(span)
    assert timeline.x_of(at) == pytest.approx(x)
    # a playhead out of view is brought into it
    timeline.set_view(T0 - timedelta(hours=6), T0 - timedelta(hours=5))
    qtbot.keyClick(timeline, Qt.Key.Key_Plus)
    start, end = timeline.view()
    assert start <= at <= end
    assert (end - start).total_seconds() == pytest.approx(1800)
    # at the closest zoom already: the playhead is still brought into view, and the owner told
    with qtbot.waitSignal(timeline.view_changed, timeout=1000):
        timeline.set_view(T0, T0 + timedelta(seconds=10))
    with qtbot.waitSignal(timeline.view_changed, timeout=1000) as sig:
        qtbot.keyClick(timeline, Qt.Key.Key_Plus)
    assert sig.args[0] <= at <= sig.args[1]
    assert (sig.args[1] - sig.args[0]).total_seconds() == pytest.approx(10)


def test_view_changed_comes_once_after_a_burst_of_zooming(qtbot: QtBot, timeline: Timeline) -> None:
    seen: list[tuple[datetime, datetime]] = []
    timeline.view_changed.connect(lambda a, b: seen.append((a, b)))
    x = timeline.track_rect().center().x()
    for _ in range(5):
        _wheel(timeline, x, _mid_y(timeline), 1)
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=2000)
    assert seen[0] == timeline.view()
    qtbot.wait(250)  # nothing more comes: the burst was one change (a wait for an absence)
    assert len(seen) == 1


# ---- pan, scrub ---------------------------------------------------------------------------------

def test_a_drag_pans_without_seeking(qtbot: QtBot, timeline: Timeline) -> None:
    seeks: list[datetime] = []
    timeline.seek_requested.connect(seeks.append)
    start, end = timeline.view()
    spp = _seconds_per_pixel(timeline)
    x0 = timeline.track_rect().left() + 300
    _drag(timeline, x0, x0 + 200, _mid_y(timeline))
    new_start, new_end = timeline.view()
    assert (start - new_start).total_seconds() == pytest.approx(200 * spp)
    assert (new_end - new_start) == (end - start)
    _drag(timeline, x0 + 200, x0 + 100, _mid_y(timeline))
    assert (start - timeline.view()[0]).total_seconds() == pytest.approx(100 * spp)
    assert seeks == []
    assert timeline.position() is None


def test_a_pan_stops_short_of_the_future(qtbot: QtBot, timeline: Timeline) -> None:
    x0 = timeline.track_rect().left() + 600
    _drag(timeline, x0, x0 - 500, _mid_y(timeline))
    end = timeline.view()[1]
    assert end > NOW  # "now" is in view, near the right edge …
    assert (end - NOW).total_seconds() == pytest.approx(0.1 * _span(timeline))  # … and no further


def test_the_horizontal_wheel_pans(qtbot: QtBot, timeline: Timeline) -> None:
    start = timeline.view()[0]
    _wheel(timeline, timeline.track_rect().center().x(), _mid_y(timeline), 1, horizontal=True)
    assert timeline.view()[0] < start
    assert _span(timeline) == pytest.approx((NOW - T0).total_seconds())


def test_dragging_the_playhead_scrubs_at_most_30_seeks_a_second_and_lands_on_the_release(
        qtbot: QtBot, timeline: Timeline) -> None:
    seeks: list[datetime] = []
    events: list[str] = []
    timeline.seek_requested.connect(seeks.append)
    timeline.scrub_started.connect(lambda: events.append("started"))
    timeline.scrub_finished.connect(lambda: events.append("finished"))
    at = T0 + timedelta(minutes=30)
    timeline.set_position(at)
    x = timeline.x_of(at)
    y = _mid_y(timeline)
    clock = datetime.now(UTC)
    pos = QPointF(x, y)
    QApplication.sendEvent(timeline, QMouseEvent(QEvent.Type.MouseButtonPress, pos, QPointF(timeline.mapToGlobal(pos)),
                                                 Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton,
                                                 Qt.KeyboardModifier.NoModifier))
    for i in range(1, 61):  # a steady drag over ~0.6 s, a move every 10 ms
        pos = QPointF(x + i * 4, y)
        QApplication.sendEvent(timeline, QMouseEvent(QEvent.Type.MouseMove, pos, QPointF(timeline.mapToGlobal(pos)),
                                                     Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                                                     Qt.KeyboardModifier.NoModifier))
        qtbot.wait(10)
        assert timeline.position() == timeline.time_at(pos.x())  # the playhead follows the pointer at once
    QApplication.sendEvent(timeline, QMouseEvent(QEvent.Type.MouseButtonRelease, pos,
                                                 QPointF(timeline.mapToGlobal(pos)), Qt.MouseButton.LeftButton,
                                                 Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    elapsed = (datetime.now(UTC) - clock).total_seconds()
    assert events == ["started", "finished"]
    assert 2 <= len(seeks) <= 30 * elapsed + 2  # continuous, throttled
    assert seeks[-1] == timeline.time_at(x + 240)
    assert timeline.position() == seeks[-1]
    # the player's own reports do not move the playhead while the user holds it; they do again after
    timeline.set_position(at)
    assert timeline.position() == at


def test_a_press_on_the_axis_seeks_there_and_scrubs(qtbot: QtBot, timeline: Timeline) -> None:
    seeks: list[datetime] = []
    timeline.seek_requested.connect(seeks.append)
    x = timeline.track_rect().left() + 250
    _drag(timeline, x, x + 100, 8)
    assert seeks and seeks[-1] == timeline.time_at(x + 100)
    assert timeline.view() == (T0, NOW)  # the axis scrubs; it does not pan


# ---- selection ----------------------------------------------------------------------------------

def test_i_and_o_mark_the_selection_at_the_playhead_and_esc_clears_it(qtbot: QtBot, timeline: Timeline) -> None:
    changes: list[tuple[datetime | None, datetime | None]] = []
    timeline.selection_changed.connect(lambda a, b: changes.append((a, b)))
    a, b = T0 + timedelta(minutes=10), T0 + timedelta(minutes=20)
    timeline.set_position(a)
    qtbot.keyClick(timeline, Qt.Key.Key_I)
    assert timeline.selection() == (a, None)
    timeline.set_position(b)
    qtbot.keyClick(timeline, Qt.Key.Key_O)
    assert timeline.selection() == (a, b)
    # an in mark after the out mark drops the out mark
    timeline.set_position(b + timedelta(minutes=5))
    timeline.mark_in()
    assert timeline.selection() == (b + timedelta(minutes=5), None)
    qtbot.keyClick(timeline, Qt.Key.Key_Escape)
    assert timeline.selection() == (None, None)
    assert changes == [(a, None), (a, b), (b + timedelta(minutes=5), None), (None, None)]


def test_shift_drag_selects_a_span_without_panning_or_seeking(qtbot: QtBot, timeline: Timeline) -> None:
    seeks: list[datetime] = []
    timeline.seek_requested.connect(seeks.append)
    x0 = timeline.track_rect().left() + 400
    _drag(timeline, x0, x0 - 150, _mid_y(timeline), modifiers=Qt.KeyboardModifier.ShiftModifier)
    start, end = timeline.selection()
    assert start == timeline.time_at(x0 - 150) and end == timeline.time_at(x0)
    assert timeline.view() == (T0, NOW)
    assert seeks == []


# ---- hover: gaps, markers, thumbnails -----------------------------------------------------------

def _tooltip(qtbot: QtBot, tl: Timeline, x: float, y: float, *, fresh: bool = True) -> str:
    """The tooltip Qt shows for a hover at (x, y) ("" for none); ``fresh``: after the last one has gone."""
    if fresh:
        QToolTip.hideText()
        qtbot.waitUntil(lambda: not QToolTip.isVisible(), timeout=2000)
    pos = QPoint(round(x), round(y))
    QApplication.sendEvent(tl, QHelpEvent(QEvent.Type.ToolTip, pos, tl.mapToGlobal(pos)))
    return QToolTip.text() if QToolTip.isVisible() else ""


def test_hovering_a_gap_says_why_there_is_no_footage_with_the_detail_on_a_second_line(
        qtbot: QtBot, timeline: Timeline) -> None:
    x = timeline.x_of(T0 + timedelta(minutes=60))
    text = _tooltip(qtbot, timeline, x, _mid_y(timeline))
    lines = text.splitlines()
    assert lines[0] == gap_reason_text(GapReason.DISK_FULL) == "Disk full: recording stopped for lack of space"
    assert lines[1] == "free 0.4 GB of 2 GB"
    assert "(10 min 0 s)" in lines[2]
    # over footage: no tooltip
    assert _tooltip(qtbot, timeline, timeline.x_of(T0 + timedelta(minutes=20)), _mid_y(timeline)) == ""


def test_a_gap_is_worded_in_chinese(qtbot: QtBot, timeline: Timeline) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    Localization(app).switch("zh_CN")
    text = _tooltip(qtbot, timeline, timeline.x_of(T0 + timedelta(minutes=60)), _mid_y(timeline))
    assert text.splitlines()[0] == "磁盘已满：因空间不足停止录像"
    assert "10 分 0 秒" in text


def test_every_gap_reason_has_its_own_words() -> None:
    texts = {gap_reason_text(r) for r in GapReason}
    assert len(texts) == len(GapReason)
    assert not texts & {str(r) for r in GapReason}
    assert gap_reason_text("from_a_newer_server") == "from_a_newer_server"


def test_clicking_a_marker_hands_it_over_without_seeking(qtbot: QtBot) -> None:
    red = Marker(MarkerKind.WARNING, T0 + timedelta(minutes=30), "w-1", level="red", code="POST_LEFT")
    note = Marker(MarkerKind.BOOKMARK, T0 + timedelta(minutes=31), "b-1", text="quarrel at A03")
    hold = Marker(MarkerKind.HOLD, T0 + timedelta(minutes=80), "h-1", end=T0 + timedelta(minutes=90), text="C-17")
    tl = Timeline(TZ, clock=lambda: NOW)
    qtbot.addWidget(tl)
    tl.set_data([_timeline("cam-1", markers=(red, note, hold))])
    tl.resize(900, 80)
    tl.set_view(T0, NOW)
    tl.show()
    qtbot.waitExposed(tl)
    seeks: list[datetime] = []
    tl.seek_requested.connect(seeks.append)
    top = tl.row_rect(0).top() + 3
    for marker in (red, note, hold):
        with qtbot.waitSignal(tl.marker_activated, timeout=1000) as sig:
            qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(round(tl.x_of(marker.at)), top))
        assert sig.args[0] is marker
    assert seeks == []
    text = _tooltip(qtbot, tl, tl.x_of(red.at), top)
    assert text.splitlines()[0] == "Red card: Post left"
    text = _tooltip(qtbot, tl, tl.x_of(hold.at + timedelta(minutes=5)), tl.row_rect(0).bottom() - 1)
    assert text.splitlines()[:2] == ["Evidence hold", "C-17"]


def test_hover_reports_the_camera_and_instant_and_shows_the_thumbnail_handed_back(qtbot: QtBot) -> None:
    window = QWidget()  # the video above, the timeline below: as in the review window
    qtbot.addWidget(window)
    layout = QVBoxLayout(window)
    video = QWidget()
    video.setMinimumHeight(240)
    layout.addWidget(video)
    timeline = Timeline(TZ, clock=lambda: NOW)
    timeline.set_data([_timeline("cam-1"), _timeline("cam-2")])
    layout.addWidget(timeline)
    window.resize(900, 400)
    timeline.set_view(T0, NOW)
    window.show()
    qtbot.waitExposed(window)
    at = T0 + timedelta(minutes=20)
    x, y = timeline.x_of(at), _mid_y(timeline, 1)
    with qtbot.waitSignal(timeline.hover, timeout=1000) as sig:
        _mouse(timeline, QEvent.Type.MouseMove, x, y)
    cam, when = sig.args
    assert cam == "cam-2"
    assert abs((when - at).total_seconds()) <= _seconds_per_pixel(timeline)
    preview = timeline._preview
    assert preview.isVisible() and preview.image is None  # the time at once, the picture when it comes
    image = QImage(320, 180, QImage.Format.Format_RGB32)
    image.fill(0x3366AA)
    timeline.set_thumbnail("cam-1", when, image)  # another camera's late answer is dropped
    assert preview.image is None
    timeline.set_thumbnail("cam-2", when, image)
    assert preview.image is image
    assert preview.height() > 108  # the picture and the time under it
    top_left = preview.mapToGlobal(QPoint(0, 0))
    assert top_left.y() + preview.height() <= timeline.mapToGlobal(QPoint(0, 0)).y()  # above the timeline
    assert top_left.x() < timeline.mapToGlobal(QPointF(x, y)).x() < top_left.x() + preview.width()  # at the pointer
    assert not preview.isWindow()
    with qtbot.waitSignal(timeline.hover, timeout=1000) as sig:
        QApplication.sendEvent(timeline, QEvent(QEvent.Type.Leave))
    assert sig.args == [None, None]
    assert not preview.isVisible()


# ---- data of every shape ------------------------------------------------------------------------

def test_pixel_runs_merge_spans_narrower_than_a_pixel() -> None:
    s = np.array([0.0, 1.2, 1.5, 10.0, 14.5, 30.0])
    e = np.array([1.0, 1.4, 3.0, 12.0, 20.0, 29.0])  # the last is empty (end before start)
    # one second per pixel: [0,1) and [1.2,1.4) and [1.5,3) touch pixels 0..2; 10..12 and 14.5..20 stay apart
    assert pixel_runs(s, e, 0.0, 1.0, 40) == [(0, 3), (10, 12), (14, 20)]
    # ten seconds per pixel: all but the empty one in pixels 0..1
    assert pixel_runs(s[:5], e[:5], 0.0, 10.0, 40) == [(0, 2)]
    # out of view, or nothing
    assert pixel_runs(s, e, 100.0, 1.0, 40) == []
    assert pixel_runs(np.array([]), np.array([]), 0.0, 1.0, 40) == []


@pytest.mark.parametrize("seed", range(5))
def test_the_coarser_copies_paint_the_same_pixels_as_every_interval(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5000
    starts = np.sort(rng.uniform(0, 7 * 86400, n))
    ends = starts + rng.exponential(rng.choice([5.0, 60.0, 600.0]), n) * rng.choice([1.0, -0.05], n, p=[0.95, 0.05])
    levels = _Levels(starts, ends)
    assert len(levels.levels) > 2
    for spp in (0.01, 0.5, 3.0, 9.0, 31.0, 200.0, 600.0, 5000.0):
        for v0 in (-1000.0, 12345.6, 3 * 86400.0):
            width = 997
            assert pixel_runs(*levels.for_pixel(spp), v0, spp, width) == pixel_runs(starts, ends, v0, spp, width), (
                spp, v0)


def test_empty_overlapping_and_odd_data_paint_without_error(qtbot: QtBot, timeline: Timeline) -> None:
    naive = datetime(2026, 12, 6, 9, 0)  # a naive instant is taken as UTC
    odd = CameraTimeline(
        "cam-odd", None, T0, NOW,
        spans=(Span(T0, T0 + timedelta(minutes=40)), Span(T0 + timedelta(minutes=20), T0 + timedelta(minutes=50)),
               Span(T0 + timedelta(minutes=70), T0 + timedelta(minutes=60)),  # end before start
               Span(naive, naive + timedelta(minutes=5)), Span(T0, T0)),
        gaps=(Gap(NOW - timedelta(minutes=10), None, GapReason.CAMERA_DOWN),  # still going on
              Gap(T0 + timedelta(minutes=30), T0 + timedelta(minutes=35), GapReason("corrupt"), "bad box size")),
        markers=(Marker(MarkerKind.HOLD, T0, "h", end=None), Marker(MarkerKind.WARNING, T0, "w", level=None),
                 Marker(MarkerKind.WARNING, T0, "w2", level="purple", code="NEW_RULE")),
    )
    empty = CameraTimeline("cam-empty", None, T0, NOW, (), (), ())
    for data in ([], [empty], [odd, empty, odd, empty], [odd]):
        timeline.set_data(data)
        for palette in (LIGHT, timeline.palette_):
            timeline.set_palette(palette)
            assert not timeline.grab().isNull()
        for x in range(timeline.track_rect().left() - 10, timeline.width(), 37):
            for y in (3, 30, 60, 100):
                _tooltip(qtbot, timeline, x, y, fresh=False)
                _mouse(timeline, QEvent.Type.MouseMove, x, y)
    text = _tooltip(qtbot, timeline, timeline.x_of(NOW - timedelta(minutes=5)), _mid_y(timeline))
    assert text.splitlines()[0] == gap_reason_text(GapReason.CAMERA_DOWN)
    assert "still going on" in text.splitlines()[-1]


def test_a_week_of_one_minute_spans_paints_as_a_few_runs(qtbot: QtBot, timeline: Timeline) -> None:
    start = NOW - timedelta(days=7)
    spans = tuple(Span(start + timedelta(minutes=i), start + timedelta(minutes=i + 1)) for i in range(7 * 1440)
                  if i % 1000 >= 30)  # a 30-minute hole every 1000 minutes (2.4 px at a week); shorter ones merge
    timeline.set_data([CameraTimeline(f"cam-{k}", None, start, NOW, spans, (), ()) for k in range(4)])
    timeline.set_view(start, NOW)
    row = timeline._rows[0]
    left, width = timeline.track_rect().left(), timeline.track_rect().width()
    runs = pixel_runs(row.span_s, row.span_e, start.timestamp(), _span(timeline) / width, width)
    assert len(runs) == 11  # the ten holes of the week split it
    assert not timeline.grab().isNull()
    assert left > 0


def test_the_rows_take_the_colours_of_the_theme(qtbot: QtBot, timeline: Timeline) -> None:
    from desktop.theme import DARK

    timeline.set_view(T0 - timedelta(hours=1), NOW)  # the first hour has no data: the row's background
    x_empty = round(timeline.x_of(T0 - timedelta(minutes=23, seconds=17)))  # off the grid lines
    x_footage = round(timeline.x_of(T0 + timedelta(minutes=21, seconds=17)))
    y = _mid_y(timeline)
    seen = {}
    for palette in (DARK, LIGHT):
        timeline.set_palette(palette)
        image = timeline.grab().toImage()
        assert image.pixelColor(x_empty, y).name() == palette.background
        footage = image.pixelColor(x_footage, y)
        assert footage.green() > footage.red() and footage.green() > footage.blue()  # footage is green
        seen[palette.name] = footage.name()
    assert seen["dark"] != seen["light"]


def test_the_view_turns_a_page_when_the_playhead_runs_off_its_right_edge(qtbot: QtBot, timeline: Timeline) -> None:
    timeline.set_view(T0, T0 + timedelta(minutes=10))
    timeline.set_position(T0 + timedelta(minutes=9, seconds=59))
    timeline.set_position(T0 + timedelta(minutes=10, seconds=1))  # playback went on
    start, end = timeline.view()
    assert start < T0 + timedelta(minutes=10, seconds=1) < end
    assert (end - start) == timedelta(minutes=10)
    timeline.follow = False
    timeline.set_position(end + timedelta(seconds=1))
    assert timeline.view() == (start, end)
    # a jump from out of view does not move the view (the reviewer looks elsewhere on purpose)
    timeline.follow = True
    timeline.set_position(end + timedelta(minutes=30))
    assert timeline.view() == (start, end)


def test_ticks_stay_on_the_local_clock_across_a_change_of_daylight_saving() -> None:
    from desktop.review.timeline import _ticks

    berlin = ZoneInfo("Europe/Berlin")  # 2026-03-29 02:00 CET -> 03:00 CEST
    v0 = datetime(2026, 3, 28, 22, 10, tzinfo=berlin).timestamp()
    v1 = datetime(2026, 3, 29, 6, 50, tzinfo=berlin).timestamp()
    hours = [datetime.fromtimestamp(t, berlin).strftime("%H:%M") for t in _ticks(v0, v1, 3600, berlin)]
    assert hours == ["23:00", "00:00", "01:00", "03:00", "04:00", "05:00", "06:00"]  # 02:00 did not exist
    two = [datetime.fromtimestamp(t, berlin).strftime("%H:%M") for t in _ticks(v0, v1, 7200, berlin)]
    assert two == ["00:00", "04:00", "06:00"]
    half = [datetime.fromtimestamp(t, berlin).strftime("%H:%M") for t in _ticks(v0, v1, 1800, berlin)]
    assert half[:8] == ["22:30", "23:00", "23:30", "00:00", "00:30", "01:00", "01:30", "03:00"]
    autumn0 = datetime(2026, 10, 24, 23, 10, tzinfo=berlin).timestamp()  # 25 Oct 03:00 CEST -> 02:00 CET
    autumn = [datetime.fromtimestamp(t, berlin).strftime("%H:%M%z") for t in _ticks(
        autumn0, autumn0 + 6 * 3600, 3600, berlin)]
    assert autumn == ["00:00+0200", "01:00+0200", "02:00+0200", "02:00+0100", "03:00+0100", "04:00+0100"]
    days = [datetime.fromtimestamp(t, berlin).strftime("%m-%d %H:%M")
            for t in _ticks(v0 - 3 * 86400, v1 + 86400, 86400, berlin)]
    assert days == ["03-26 00:00", "03-27 00:00", "03-28 00:00", "03-29 00:00", "03-30 00:00"]
    shanghai = [datetime.fromtimestamp(t, TZ).strftime("%H:%M:%S") for t in _ticks(
        T0.timestamp() + 0.4, T0.timestamp() + 10.4, 2, TZ)]
    assert shanghai == ["16:00:02", "16:00:04", "16:00:06", "16:00:08", "16:00:10"]


# ---- the day picker -----------------------------------------------------------------------------

def test_the_day_picker_marks_the_days_with_footage_and_reports_the_one_chosen(qtbot: QtBot) -> None:
    picker = DayPicker()
    qtbot.addWidget(picker)
    picker.setCurrentPage(2026, 12)
    days = frozenset({date(2026, 12, 1), date(2026, 12, 5), date(2026, 11, 30)})
    picker.set_days(days)
    for d in range(1, 32):
        bold = picker.dateTextFormat(QDate(2026, 12, d)).fontWeight() == QFont.Weight.Bold
        assert bold == (date(2026, 12, d) in days), d
    assert picker.dateTextFormat(QDate(2026, 11, 30)).fontWeight() == QFont.Weight.Bold  # shown on the page
    picker.setCurrentPage(2027, 1)  # to another page and back: still marked
    picker.setCurrentPage(2026, 12)
    assert picker.dateTextFormat(QDate(2026, 12, 5)).fontWeight() == QFont.Weight.Bold
    picker.set_days(frozenset())
    assert picker.dateTextFormat(QDate(2026, 12, 1)).fontWeight() != QFont.Weight.Bold
    picker.show()
    qtbot.waitExposed(picker)
    picker.setSelectedDate(QDate(2026, 12, 3))
    view = picker.findChild(QTableView)
    assert view is not None
    with qtbot.waitSignal(picker.day_chosen, timeout=1000) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Return)
    assert sig.args == [date(2026, 12, 3)]
