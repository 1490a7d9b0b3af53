"""The review window's timeline and day picker.

:class:`Timeline` is one plain QWidget painting, per camera, a row of recorded spans (solid), gaps
(hatched; the hover says why there is no footage) and markers (warnings by level, bookmarks,
complaints, bad reviews; evidence holds as a band over their span), under a time axis whose ticks
adapt from a week to ten seconds in the hall's zone, with the playhead and the "now" line.

The reviewer zooms with the wheel (around the pointer), a pinch or the keys + and - (around the
playhead, which stays in view), pans by dragging a row, seeks by clicking, scrubs by dragging the
playhead or along the axis, selects a span with Shift+drag or the keys I and O (Esc clears it), and
sees a thumbnail of the picture under the pointer (the owner decodes it on a worker when
:attr:`Timeline.hover` fires and hands it back with :meth:`Timeline.set_thumbnail`).

Nothing here reads the store or the files: the owner loads :class:`app.review.CameraTimeline`
values on a worker for the span :attr:`Timeline.view_changed` names and calls
:meth:`Timeline.set_data`. Painting stays cheap for a week of one-minute spans per row: spans and
gaps are reduced to pixel runs with numpy (spans narrower than a pixel merge) before anything is
drawn.

Instants in and out are aware datetimes in UTC (a naive one is taken as UTC).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QDate,
    QElapsedTimer,
    QEvent,
    QLineF,
    QLocale,
    QObject,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QShowEvent,
    QTextCharFormat,
    QWheelEvent,
)
from PySide6.QtWidgets import QCalendarWidget, QGestureEvent, QPinchGesture, QToolTip, QWidget

from app.review import CameraTimeline, Gap, GapReason, Marker, MarkerKind
from desktop.i18n import fmt, translate
from desktop.theme import Palette, current_palette
from desktop.words import code_text, level_text

__all__ = [
    "MAX_SPAN", "MIN_SPAN", "DayPicker", "PreparedRows", "Timeline", "gap_reason_text", "marker_text", "prepare_rows",
]

log = logging.getLogger(__name__)

MIN_SPAN = 10.0  # seconds: the closest zoom
MAX_SPAN = 7 * 86400.0  # a week: the widest zoom
AXIS_H = 26  # the time axis strip
ROW_MIN_H, ROW_MAX_H, ROW_SPACING = 14, 44, 2
LABEL_MIN_W, LABEL_MAX_W = 56, 132  # the camera names' column
RIGHT_PAD = 6
MARKER_HIT = 6  # pixels either side of a marker's glyph that still hit it
PLAYHEAD_HIT = 5
DRAG_START = 4  # pixels a press moves before it is a drag, not a click
SIGNAL_INTERVAL_MS = 34  # seeks while scrubbing and hover reports: at most ~30 a second
VIEW_DEBOUNCE_MS = 100
KEY_ZOOM = 2.0
WHEEL_ZOOM = 1.25  # per wheel notch (120 eighths of a degree)
WHEEL_PAN_PX = 60  # per horizontal wheel notch
FUTURE_MARGIN = 0.1  # a pan stops when "now" is this fraction of the view from the right edge
THUMB_W, THUMB_H = 192, 108
# Steps of the axis' labelled ticks (seconds), smallest first; the first whose labels do not collide is used.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)
# Marker hues the theme palette does not have (a warning is coloured by its level from the palette).
_EXTRA = {
    "dark": {"complaint": "#f0883e", "bad_review": "#d45fc8", "hold": "#a48bf5"},
    "light": {"complaint": "#c8641a", "bad_review": "#ad3f9f", "hold": "#6d4fd0"},
}
# Gap reasons that are a fault (painted in the red of the palette); the rest (pruned, not recording) are grey.
_FAULTS = frozenset({GapReason.CAMERA_DOWN, GapReason.DISK_FULL, GapReason.RECORDER_BEHIND, GapReason.FILE_MISSING,
                     GapReason.CORRUPT})

FloatArray = npt.NDArray[np.float64]


def _ts(at: datetime) -> float:
    """Seconds since the epoch (a naive datetime is taken as UTC)."""
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


# ---- words -------------------------------------------------------------------------------------

def gap_reason_text(reason: GapReason | str) -> str:
    """Why there is no footage, in the user's language (an unknown reason is shown as itself)."""
    match str(reason):
        case GapReason.CAMERA_DOWN:
            return translate("Timeline", "Camera down: it could not be reached or sent no picture")
        case GapReason.DISK_FULL:
            return translate("Timeline", "Disk full: recording stopped for lack of space")
        case GapReason.RECORDER_BEHIND:
            return translate("Timeline", "Recorder fell behind: footage was dropped")
        case GapReason.FILE_MISSING:
            return translate("Timeline", "File missing: the recorded file is gone from the disk")
        case GapReason.CORRUPT:
            return translate("Timeline", "File corrupt: the recorded file cannot be read")
        case GapReason.PRUNED:
            return translate("Timeline", "Deleted by the retention period")
        case GapReason.NOT_RECORDING:
            return translate("Timeline", "Not recording")
    return str(reason)


def _duration_text(seconds: float) -> str:
    s = max(0, round(seconds))
    if s < 60:
        return fmt(translate("Timeline", "%1 s"), s)
    if s < 3600:
        return fmt(translate("Timeline", "%1 min %2 s"), s // 60, s % 60)
    if s < 86400:
        return fmt(translate("Timeline", "%1 h %2 min"), s // 3600, s % 3600 // 60)
    return fmt(translate("Timeline", "%1 d %2 h"), s // 86400, s % 86400 // 3600)


def _local(t: float, tz: ZoneInfo, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    return datetime.fromtimestamp(t, tz).strftime(pattern)


def _span_text(start: float, end: float | None, tz: ZoneInfo) -> str:
    if end is None:
        return fmt(translate("Timeline", "since %1 (still going on)"), _local(start, tz))
    same_day = _local(start, tz, "%Y-%m-%d") == _local(end, tz, "%Y-%m-%d")
    return fmt(translate("Timeline", "%1 – %2 (%3)"), _local(start, tz),
               _local(end, tz, "%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S"), _duration_text(end - start))


def marker_text(marker: Marker, tz: ZoneInfo) -> str:
    """A marker in words, for its tooltip: what it is, its note, when."""
    match str(marker.kind):
        case MarkerKind.WARNING:
            title = fmt(translate("Timeline", "%1: %2"), level_text(marker.level), code_text(marker.code)) \
                if marker.code else level_text(marker.level)
        case MarkerKind.BOOKMARK:
            title = translate("Timeline", "Bookmark")
        case MarkerKind.COMPLAINT:
            title = translate("Timeline", "Complaint")
        case MarkerKind.BAD_REVIEW:
            title = translate("Timeline", "Bad review")
        case MarkerKind.HOLD:
            title = translate("Timeline", "Evidence hold")
        case _:
            title = str(marker.kind)
    lines = [title]
    if marker.text:
        lines.append(marker.text)
    if marker.end is not None:
        lines.append(_span_text(_ts(marker.at), _ts(marker.end), tz))
    else:
        lines.append(_local(_ts(marker.at), tz))
    return "\n".join(lines)


# ---- the rows' data ----------------------------------------------------------------------------

_PRIORITY = {"warning:red": 7, "warning:yellow": 6, "complaint": 5, "bad_review": 4, "warning:notice": 3,
             "bookmark": 2, "hold": 1}


def _glyph_key(m: Marker) -> str:
    kind = str(m.kind)
    if kind == MarkerKind.WARNING:
        return "warning:" + (m.level if m.level in ("notice", "yellow", "red") else "notice")
    return kind


def _priority(m: Marker) -> int:
    """Markers closer than a glyph show one glyph: the worst warning, then complaints, reviews, notices,
    bookmarks, holds."""
    return _PRIORITY.get(_glyph_key(m), 0)

@dataclass(slots=True)
class _Row:
    camera_id: str
    span_s: FloatArray
    span_e: FloatArray
    gap_s: FloatArray
    gap_e: FloatArray  # +inf while a gap lasts (painted up to now)
    gaps: tuple[Gap, ...]
    fault: npt.NDArray[np.bool_]  # per gap: a fault (red) or not (grey)
    marker_at: FloatArray  # sorted
    markers: list[Marker]  # in the order of marker_at (holds among them, at their start)
    priority: npt.NDArray[np.int64]  # per marker: which glyph wins where several share a place
    holds: list[tuple[float, float, Marker]] = field(default_factory=list)
    # for painting: spans, fault gaps and other gaps, merged coarser and coarser
    painted: tuple[_Levels, _Levels, _Levels] | None = None

    @staticmethod
    def of(tl: CameraTimeline) -> _Row:
        spans = [(s, e) for s, e in ((_ts(x.start), _ts(x.end)) for x in tl.spans) if e > s]
        gaps = [g for g in tl.gaps if g.end is None or _ts(g.end) > _ts(g.start)]
        markers = sorted(tl.markers, key=lambda m: _ts(m.at))
        holds = [(_ts(m.at), _ts(m.end), m) for m in markers
                 if m.kind == MarkerKind.HOLD and m.end is not None and _ts(m.end) > _ts(m.at)]
        return _Row(
            camera_id=tl.camera_id,
            span_s=np.array([s for s, _ in spans], dtype=np.float64),
            span_e=np.array([e for _, e in spans], dtype=np.float64),
            gap_s=np.array([_ts(g.start) for g in gaps], dtype=np.float64),
            gap_e=np.array([_ts(g.end) if g.end is not None else math.inf for g in gaps], dtype=np.float64),
            gaps=tuple(gaps),
            fault=np.array([g.reason in _FAULTS for g in gaps], dtype=np.bool_),
            marker_at=np.array([_ts(m.at) for m in markers], dtype=np.float64),
            markers=markers,
            priority=np.array([_priority(m) for m in markers], dtype=np.int64),
            holds=holds,
        ).prepared()

    def prepared(self) -> _Row:
        self.painted = (_Levels(self.span_s, self.span_e), _Levels(self.gap_s[self.fault], self.gap_e[self.fault]),
                        _Levels(self.gap_s[~self.fault], self.gap_e[~self.fault]))
        return self


MERGE_LEVELS = (2.0, 8.0, 30.0, 120.0, 480.0, 1800.0, 7200.0)  # seconds


def merged(starts: FloatArray, ends: FloatArray, closer_than: float) -> tuple[FloatArray, FloatArray]:
    """The intervals sorted, with those that overlap or are less than ``closer_than`` seconds apart joined."""
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    if starts.size == 0:
        return starts, ends
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    new = np.empty(s.size, dtype=np.bool_)
    new[0] = True
    new[1:] = s[1:] > reach[:-1] + closer_than
    idx = np.flatnonzero(new)
    return s[idx], np.maximum.reduceat(e, idx)


class _Levels:
    """Intervals ready to paint at any zoom: joined where they overlap, and coarser copies with the holes
    shorter than 2 s, 8 s … 2 h closed. A hole shorter than a pixel's time is never seen (the pixels either
    side of it are painted), so a view uses the coarsest copy whose holes are all shorter than one pixel
    — the same picture from a few intervals instead of a week's ten thousand."""

    def __init__(self, starts: FloatArray, ends: FloatArray) -> None:
        s, e = merged(starts, ends, 0.0)
        self.levels: list[tuple[float, FloatArray, FloatArray]] = [(0.0, s, e)]
        for closer in MERGE_LEVELS:
            if self.levels[-1][1].size < 32:
                break
            s, e = merged(s, e, closer)
            self.levels.append((closer, s, e))

    def for_pixel(self, spp: float) -> tuple[FloatArray, FloatArray]:
        best = self.levels[0]
        for level in self.levels:
            if level[0] < spp:
                best = level
        return best[1], best[2]


def pixel_runs(starts: FloatArray, ends: FloatArray, v0: float, spp: float, width: int) -> list[tuple[int, int]]:
    """The pixel runs ``[x0, x1)`` of a ``width``-pixel track starting at instant ``v0`` (``spp`` seconds per
    pixel) that any interval ``[starts[i], ends[i])`` touches: every visible interval is at least a
    pixel wide, and intervals closer than a pixel merge (a week of one-minute spans is a few runs)."""
    return runs(coverage(starts, ends, v0, spp, width))


def coverage(starts: FloatArray, ends: FloatArray, v0: float, spp: float, width: int) -> npt.NDArray[np.bool_]:
    """Per pixel of the track: does any interval touch it (see :func:`pixel_runs`)."""
    if starts.size == 0 or width <= 0:
        return np.zeros(max(0, width), dtype=np.bool_)
    v1 = v0 + spp * width
    visible = (ends > v0) & (starts < v1) & (ends > starts)
    if not visible.any():
        return np.zeros(width, dtype=np.bool_)
    x0 = np.clip(np.floor((starts[visible] - v0) / spp), 0, width - 1).astype(np.int64)
    x1 = np.clip(np.ceil((np.minimum(ends[visible], v1) - v0) / spp), 0, width).astype(np.int64)
    x1 = np.maximum(x1, x0 + 1)
    depth = np.cumsum(np.bincount(x0, minlength=width + 1) - np.bincount(x1, minlength=width + 1))[:width]
    covered: npt.NDArray[np.bool_] = depth > 0
    return covered


def runs(covered: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """The runs ``[x0, x1)`` of True in a row of pixels."""
    if not covered.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], covered.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def _ticks(v0: float, v1: float, step: int, tz: ZoneInfo) -> list[float]:
    """Instants of a tick every ``step`` seconds on the local clock of ``tz`` within [v0, v1]."""
    out: list[float] = []
    if step >= 86400:
        days = step // 86400
        d = datetime.fromtimestamp(v0, tz).date()
        d -= timedelta(days=(d.toordinal() % days))
        while len(out) < 500:
            t = datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()
            if t > v1:
                break
            if t >= v0:
                out.append(t)
            d += timedelta(days=days)
        return out

    o0 = (datetime.fromtimestamp(v0, tz).utcoffset() or timedelta()).total_seconds()
    o1 = (datetime.fromtimestamp(v1, tz).utcoffset() or timedelta()).total_seconds()
    if o0 == o1 or step < 3600:
        # evenly spaced from the first tick on the local grid; a step under an hour divides an hour, so a
        # change of offset (DST, whole or half hours) keeps it on the grid
        first = math.ceil((v0 + o0) / step) * step - o0
        return [first + i * step for i in range(min(2000, max(0, math.floor((v1 - first) / step) + 1)))]
    # hours across a change of daylight saving: every wall-clock time of the step that exists, in order
    # (a skipped 02:00 has no tick, a repeated 02:00 has two)
    d = datetime.fromtimestamp(v0, tz).date()
    last = datetime.fromtimestamp(v1, tz).date()
    while d <= last:
        for k in range(0, 86400, step):
            wall = datetime(d.year, d.month, d.day) + timedelta(seconds=k)
            for fold in (0, 1):
                t = wall.replace(tzinfo=tz, fold=fold).timestamp()
                if datetime.fromtimestamp(t, tz).replace(tzinfo=None) != wall:
                    continue  # this wall-clock time does not exist that day
                if v0 <= t <= v1 and (not out or t > out[-1]):
                    out.append(t)
        d += timedelta(days=1)
    return out


class _Throttle(QObject):
    """Calls ``fire`` at most once per ``interval_ms``; a request inside the interval is delivered at its end
    (the newest state: ``fire`` reads it), so the last one is never lost."""

    def __init__(self, interval_ms: int, fire: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._interval = interval_ms
        self._fire_cb = fire
        self._clock = QElapsedTimer()
        self._clock.start()
        self._last = -10**9
        self._pending = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._due)

    def request(self) -> None:
        wait = self._last + self._interval - self._clock.elapsed()
        if wait <= 0 and not self._timer.isActive():
            self._fire()
        else:
            self._pending = True
            if not self._timer.isActive():
                self._timer.start(max(1, wait))

    def flush(self) -> None:
        """Deliver a pending request now."""
        if self._pending:
            self._timer.stop()
            self._fire()

    def cancel(self) -> None:
        self._timer.stop()
        self._pending = False

    def _due(self) -> None:
        if self._pending:
            self._fire()

    def _fire(self) -> None:
        self._pending = False
        self._last = self._clock.elapsed()
        self._fire_cb()


class _Preview(QWidget):
    """The thumbnail above the pointer: the picture (when the owner has one) and the instant. A child of the
    timeline's window laid over it (above the timeline, where the video usually is), not a window of its
    own: no window manager placement, focus or stacking to go wrong."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()
        self.image: QImage | None = None
        self.text = ""
        self.palette_: Palette = current_palette()

    def set_content(self, image: QImage | None, text: str, palette: Palette) -> None:
        self.image, self.text, self.palette_ = image, text, palette
        fm = QFontMetrics(self.font())
        tw = fm.horizontalAdvance(text) + 12
        if image is not None and not image.isNull():
            size = image.size().scaled(THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio)
            self.resize(max(size.width() + 6, tw), size.height() + fm.height() + 10)
        else:
            self.resize(tw, fm.height() + 6)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        pal = self.palette_
        p.fillRect(self.rect(), pal.color("panel"))
        p.setPen(pal.color("border"))
        p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        fm = p.fontMetrics()
        text_top = 3
        if self.image is not None and not self.image.isNull():
            size = self.image.size().scaled(THUMB_W, THUMB_H, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect((self.width() - size.width()) // 2, 3, size.width(), size.height())
            p.drawImage(target, self.image)
            text_top = target.bottom() + 4
        p.setPen(pal.color("text"))
        p.drawText(QRect(0, text_top, self.width(), fm.height() + 2), Qt.AlignmentFlag.AlignCenter, self.text)
        p.end()


# ---- the timeline ------------------------------------------------------------------------------

class PreparedRows:
    """Cameras' timelines made ready to paint (:func:`prepare_rows`, any thread)."""

    __slots__ = ("rows", "timelines")

    def __init__(self, timelines: Sequence[CameraTimeline]) -> None:
        self.timelines = tuple(timelines)
        self.rows = tuple(_Row.of(tl) for tl in self.timelines)


def prepare_rows(timelines: Sequence[CameraTimeline]) -> PreparedRows:
    """What :meth:`Timeline.set_data` does with the data before painting — pure computation, so a
    worker thread can do it and the GUI thread only swaps the rows in."""
    return PreparedRows(timelines)


class Timeline(QWidget):
    """One row per camera of recorded spans, gaps and markers, under an adaptive time axis.

    Signals (instants are aware UTC datetimes):

    - ``seek_requested(datetime)``: a click on a row or the axis, or the playhead dragged (scrubbing:
      at most ~30 a second, the last one always delivered). Never later than now.
    - ``scrub_started()`` / ``scrub_finished()``: around a drag of the playhead (or along the axis).
    - ``view_changed(datetime, datetime)``: the visible span changed (zoom, pan, ``set_view``, the
      playhead followed); debounced ~100 ms — the owner loads the data for it.
    - ``hover(str | None, datetime | None)``: the camera and instant under the pointer (None, None when it
      leaves the rows); at most ~30 a second. The owner answers with :meth:`set_thumbnail`.
    - ``selection_changed(datetime | None, datetime | None)``: the in and out marks.
    - ``marker_activated(Marker)``: a marker's glyph was clicked (the widget does not seek by itself).
    """

    seek_requested = Signal(object)
    scrub_started = Signal()
    scrub_finished = Signal()
    view_changed = Signal(object, object)
    hover = Signal(object, object)
    selection_changed = Signal(object, object)
    marker_activated = Signal(object)

    def __init__(self, tz: ZoneInfo, *, palette: Palette | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.palette_ = palette or current_palette()
        self._clock = clock
        self._rows: list[_Row] = []
        self._names: dict[str, str] = {}
        now = _ts(clock())
        self._v0, self._span = now - 3600.0 + 3600.0 * FUTURE_MARGIN, 3600.0  # the last hour
        self._position: float | None = None
        self._sel: tuple[float | None, float | None] = (None, None)
        self.follow = True  # the view follows a playhead that runs off its right edge (playback)
        # pointer state
        self._mode: str | None = None  # "press" | "pan" | "scrub" | "select"
        self._press = QPointF()
        self._press_v0 = 0.0
        self._press_marker: Marker | None = None
        self._sel_anchor = 0.0
        self._scrub_at = 0.0
        self._scrub_sent: float | None = None
        self._hover_pos: QPointF | None = None
        self._hover_key: tuple[str | None, float | None] = (None, None)
        self._hover_sent: tuple[str | None, float | None] = (None, None)
        self._thumb: tuple[str, float, QImage | None] | None = None
        self._pinch_last = 1.0
        self._drawn_now: int | None = None
        # what is drawn once per view, size and data: the rows and the axis (overlays go on top each frame)
        self._label_w_cache: int | None = None
        self._tick_widths: dict[int, int] | None = None
        self._glyphs: dict[tuple[str, int], QPixmap] = {}
        self._layer = QPixmap()
        self._layer_key: tuple[object, ...] | None = None

        self._scrub_throttle = _Throttle(SIGNAL_INTERVAL_MS, self._send_scrub, self)
        self._hover_throttle = _Throttle(SIGNAL_INTERVAL_MS, self._send_hover, self)
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(VIEW_DEBOUNCE_MS)
        self._view_timer.timeout.connect(lambda: self.view_changed.emit(*self.view()))
        self._now_timer = QTimer(self)  # moves the "now" line while it is in view
        self._now_timer.setInterval(1000)
        self._now_timer.timeout.connect(self._tick_now)
        self._preview = _Preview(self)
        self.destroyed.connect(self._preview.deleteLater)  # it may live in the window, laid over its widgets

        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.grabGesture(Qt.GestureType.PinchGesture)

    # ---- data in ---------------------------------------------------------------------------

    def set_data(self, timelines: Sequence[CameraTimeline] | PreparedRows) -> None:
        """One row per camera, in the order given (replaces what was shown). A week of rows takes
        tens of milliseconds to prepare: a worker can do that part with :func:`prepare_rows`."""
        self._rows = list(timelines.rows) if isinstance(timelines, PreparedRows) else [
            _Row.of(tl) for tl in timelines]
        self._changed()

    def set_camera_names(self, names: Mapping[str, str]) -> None:
        """The names shown at the left of the rows (a camera without one shows its id)."""
        self._names = dict(names)
        self._changed()

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self._preview.palette_ = palette
        self._changed()
        self._preview.update()

    def set_position(self, at: datetime | None) -> None:
        """The playhead (the player's position). Ignored while the user drags the playhead. When ``follow`` is
        on and the playhead runs off the right edge of a view it was in, the view turns a page."""
        if self._mode == "scrub":
            return
        old = self._position
        self._position = _ts(at) if at is not None else None
        p = self._position
        if (self.follow and p is not None and old is not None and self._mode is None
                and self._v0 <= old <= self._v1 and not self._v0 <= p <= self._v1):
            self._set_view(p - self._span * 0.1, self._span)
        self.update()

    def position(self) -> datetime | None:
        return _dt(self._position) if self._position is not None else None

    def set_view(self, start: datetime, end: datetime) -> None:
        """Show [start, end) (widened or narrowed to the zoom limits around its middle)."""
        s, e = _ts(start), _ts(end)
        if e < s:
            s, e = e, s
        span = min(max(e - s, MIN_SPAN), MAX_SPAN)
        self._set_view((s + e) / 2 - span / 2, span)

    def view(self) -> tuple[datetime, datetime]:
        return _dt(self._v0), _dt(self._v1)

    def set_thumbnail(self, camera_id: str, at: datetime, image: QImage | None) -> None:
        """The picture of ``camera_id`` at ``at`` for the hover preview (None: there is none). Kept only while
        the pointer is still over that camera's row."""
        if self._hover_key[0] != camera_id:
            return
        self._thumb = (camera_id, _ts(at), image)
        self._show_preview()

    # ---- selection -------------------------------------------------------------------------

    def selection(self) -> tuple[datetime | None, datetime | None]:
        a, b = self._sel
        return (_dt(a) if a is not None else None, _dt(b) if b is not None else None)

    def set_selection(self, start: datetime | None, end: datetime | None) -> None:
        a = _ts(start) if start is not None else None
        b = _ts(end) if end is not None else None
        if a is not None and b is not None and b < a:
            a, b = b, a
        self._set_selection(a, b)

    def mark_in(self) -> None:
        """The selection starts at the playhead (an out mark before it is dropped)."""
        if self._position is None:
            return
        a, b = self._position, self._sel[1]
        self._set_selection(a, b if b is not None and b > a else None)

    def mark_out(self) -> None:
        """The selection ends at the playhead (an in mark after it is dropped)."""
        if self._position is None:
            return
        a, b = self._sel[0], self._position
        self._set_selection(a if a is not None and a < b else None, b)

    def clear_selection(self) -> None:
        self._set_selection(None, None)

    def _set_selection(self, a: float | None, b: float | None) -> None:
        if (a, b) == self._sel:
            return
        self._sel = (a, b)
        self.update()
        self.selection_changed.emit(*self.selection())

    # ---- zoom and pan ----------------------------------------------------------------------

    @property
    def _v1(self) -> float:
        return self._v0 + self._span

    def zoom(self, factor: float, anchor: datetime | None = None) -> None:
        """Zoom in (factor > 1) or out around ``anchor`` (default: the playhead if in view, else the middle)."""
        t = _ts(anchor) if anchor is not None else self._key_anchor()
        self._zoom_at(t, self._span / factor)

    def _key_anchor(self) -> float:
        p = self._position
        if p is None:
            return self._v0 + self._span / 2
        if not self._v0 <= p <= self._v1:  # bring the playhead into view first
            self._set_view(p - self._span / 2, self._span)
        return p

    def _zoom_at(self, t: float, span: float) -> None:
        span = min(max(span, MIN_SPAN), MAX_SPAN)
        frac = (t - self._v0) / self._span if self._span > 0 else 0.5
        self._set_view(t - frac * span, span)

    def _set_view(self, v0: float, span: float) -> None:
        span = min(max(span, MIN_SPAN), MAX_SPAN)
        if v0 == self._v0 and span == self._span:
            return
        self._v0, self._span = v0, span
        self._view_timer.start()
        self.update()
        if self._hover_pos is not None:
            self._hover_moved(self._hover_pos)

    def _pan_to(self, v0: float) -> None:
        """A pan by the user: it stops when "now" nears the right edge (beyond it there is nothing to show)."""
        limit = _ts(self._clock()) + self._span * FUTURE_MARGIN - self._span
        if v0 > self._v0:
            v0 = min(v0, max(limit, self._v0))
        self._set_view(v0, self._span)

    # ---- geometry --------------------------------------------------------------------------

    def _label_w(self) -> int:
        if self._label_w_cache is None:
            fm = self.fontMetrics()
            w = max((fm.horizontalAdvance(self._names.get(r.camera_id, r.camera_id)) for r in self._rows), default=0)
            date_w = fm.horizontalAdvance("2026-12-06")
            self._label_w_cache = min(max(w + 12, date_w + 12, LABEL_MIN_W), LABEL_MAX_W)
        return self._label_w_cache

    def _changed(self) -> None:
        """Something the rows paint changed (data, names, palette, language, font): draw them again."""
        self._label_w_cache = None
        self._tick_widths = None
        self._glyphs.clear()
        self._layer_key = None
        self.updateGeometry()
        self.update()

    def _track(self) -> tuple[int, int]:
        """Left x and width of the time track."""
        left = self._label_w()
        return left, max(1, self.width() - left - RIGHT_PAD)

    def _row_h(self) -> int:
        n = max(1, len(self._rows))
        return max(ROW_MIN_H, min(ROW_MAX_H, (self.height() - AXIS_H - ROW_SPACING * n) // n))

    def _row_rect(self, i: int) -> QRect:
        left, width = self._track()
        h = self._row_h()
        return QRect(left, AXIS_H + ROW_SPACING + i * (h + ROW_SPACING), width, h)

    def _row_at(self, y: float) -> int | None:
        h = self._row_h()
        i = math.floor((y - AXIS_H - ROW_SPACING) / (h + ROW_SPACING))
        if 0 <= i < len(self._rows) and y < AXIS_H + ROW_SPACING + i * (h + ROW_SPACING) + h:
            return i
        return None

    def row_rect(self, index: int) -> QRect:
        """Where row ``index`` (the camera at that place in ``set_data``) paints its track."""
        return self._row_rect(index)

    def track_rect(self) -> QRect:
        """The time track: from the left edge of the rows (the view's start) to their right edge (its end)."""
        left, width = self._track()
        return QRect(left, 0, width, self.height())

    def time_at(self, x: float) -> datetime:
        """The instant under x (widget coordinates)."""
        return _dt(self._t_at(x))

    def x_of(self, at: datetime) -> float:
        """The x (widget coordinates) of an instant."""
        return self._x(_ts(at))

    def _t_at(self, x: float) -> float:
        left, width = self._track()
        return self._v0 + (x - left) * self._span / width

    def _x(self, t: float) -> float:
        left, width = self._track()
        return left + (t - self._v0) * width / self._span

    def _glyph(self) -> int:
        return max(6, min(10, self._row_h() // 2 - 1))

    def _marker_hit(self, row: int, pos: QPointF) -> Marker | None:
        """The marker whose glyph is under pos (the nearest one), if any."""
        r = self._row_rect(row)
        if pos.y() > r.top() + self._glyph() + 4:
            return None
        data = self._rows[row]
        spp = self._span / self._track()[1]
        t = self._t_at(pos.x())
        lo = int(np.searchsorted(data.marker_at, t - MARKER_HIT * spp, "left"))
        hi = int(np.searchsorted(data.marker_at, t + MARKER_HIT * spp, "right"))
        if lo >= hi:
            return None
        # the glyph shown wins (the highest priority there), then the nearest
        best = min(range(lo, hi), key=lambda k: (-int(data.priority[k]), abs(float(data.marker_at[k]) - t)))
        return data.markers[best]

    def markers_at(self, pos: QPoint | QPointF) -> list[Marker]:
        """What a right-click at ``pos`` is about: the marker whose glyph is there, and the evidence
        holds whose span covers the instant there, on that row."""
        p = QPointF(pos)
        row = self._row_at(p.y())
        if row is None:
            return []
        out: list[Marker] = []
        hit = self._marker_hit(row, p)
        if hit is not None:
            out.append(hit)
        at = self.time_at(p.x())
        for m in self._rows[row].markers:
            if m.kind == MarkerKind.HOLD and m.end is not None and m.at <= at < m.end and m is not hit:
                out.append(m)
        return out

    def row_camera(self, pos: QPoint | QPointF) -> str | None:
        """The camera of the row at ``pos`` (None: not on a row)."""
        row = self._row_at(QPointF(pos).y())
        return self._rows[row].camera_id if row is not None else None

    def _near_playhead(self, x: float) -> bool:
        return self._position is not None and abs(self._x(self._position) - x) <= PLAYHEAD_HIT

    def _gap_at(self, row: int, x: float) -> Gap | None:
        """The gap painted under x (footage wins a pixel it shares with a gap, as painted)."""
        data = self._rows[row]
        spp = self._span / self._track()[1]
        t0 = self._t_at(math.floor(x))
        t1 = t0 + spp
        if data.span_s.size and bool(((data.span_s < t1) & (data.span_e > t0)).any()):
            return None
        if not data.gap_s.size:
            return None
        now = _ts(self._clock())
        ends = np.where(np.isinf(data.gap_e), now, data.gap_e)
        hits = np.flatnonzero((data.gap_s < t1) & (ends > t0) & (ends > data.gap_s))
        if not hits.size:
            return None
        faults = hits[data.fault[hits]]  # painted over the others, as in the picture
        return data.gaps[int(faults[0] if faults.size else hits[0])]

    def tooltip_at(self, pos: QPoint | QPointF) -> str:
        """What the tooltip says at pos: a marker, a hold, a gap's reason, a camera's id; "" for nothing."""
        p = QPointF(pos)
        row = self._row_at(p.y())
        if row is None:
            return ""
        if p.x() < self._track()[0]:
            return self._rows[row].camera_id
        marker = self._marker_hit(row, p)
        if marker is not None:
            text = marker_text(marker, self.tz)
            return text
        r = self._row_rect(row)
        t = self._t_at(p.x())
        if p.y() >= r.bottom() - 5:
            for s, e, m in self._rows[row].holds:
                if s <= t < e:
                    return marker_text(m, self.tz)
        gap = self._gap_at(row, p.x())
        if gap is not None:
            lines = [gap_reason_text(gap.reason)]
            if gap.detail:
                lines.append(gap.detail)
            lines.append(_span_text(_ts(gap.start), _ts(gap.end) if gap.end is not None else None, self.tz))
            return "\n".join(lines)
        return ""

    # ---- Qt sizes and events ---------------------------------------------------------------

    def sizeHint(self) -> QSize:
        n = max(1, len(self._rows))
        return QSize(720, AXIS_H + n * (30 + ROW_SPACING) + ROW_SPACING)

    def minimumSizeHint(self) -> QSize:
        n = max(1, len(self._rows))
        return QSize(240, AXIS_H + n * (ROW_MIN_H + ROW_SPACING) + ROW_SPACING)

    def showEvent(self, event: QShowEvent) -> None:
        self._now_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        self._now_timer.stop()
        self._preview.hide()

    def _tick_now(self) -> None:
        x = round(self._x(_ts(self._clock())))
        if x != self._drawn_now and -1 <= x <= self.width() + 1:
            self.update()

    def event(self, e: QEvent) -> bool:
        t = e.type()
        if t == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            text = self.tooltip_at(e.pos())
            if text:
                QToolTip.showText(e.globalPos(), text, self)
            else:
                QToolTip.hideText()
                e.ignore()
            return True
        if (t == QEvent.Type.NativeGesture and isinstance(e, QNativeGestureEvent)
                and e.gestureType() == Qt.NativeGestureType.ZoomNativeGesture):
            self._zoom_at(self._t_at(e.position().x()), self._span / max(0.05, 1.0 + e.value()))
            return True
        if t == QEvent.Type.Gesture and isinstance(e, QGestureEvent):
            g = e.gesture(Qt.GestureType.PinchGesture)
            if isinstance(g, QPinchGesture):
                if g.state() == Qt.GestureState.GestureStarted:
                    self._pinch_last = 1.0
                total = g.totalScaleFactor()
                step = total / self._pinch_last if self._pinch_last > 0 else 1.0
                self._pinch_last = total
                if step > 0:
                    centre = self.mapFromGlobal(g.centerPoint().toPoint())
                    self._zoom_at(self._t_at(centre.x()), self._span / step)
                e.accept(g)
                return True
        if t in (QEvent.Type.LanguageChange, QEvent.Type.FontChange, QEvent.Type.LocaleChange):
            self._changed()
        return super().event(e)

    def wheelEvent(self, e: QWheelEvent) -> None:
        d = e.angleDelta()
        if abs(d.x()) > abs(d.y()):  # a horizontal wheel or a sideways swipe pans
            self._pan_to(self._v0 - d.x() / 120 * WHEEL_PAN_PX * self._span / self._track()[1])
        elif d.y():
            factor = WHEEL_ZOOM ** (d.y() / 120)
            self._zoom_at(self._t_at(e.position().x()), self._span / factor)
        e.accept()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        k = e.key()
        if k in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(KEY_ZOOM)
        elif k in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom(1 / KEY_ZOOM)
        elif k == Qt.Key.Key_I and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.mark_in()
        elif k == Qt.Key.Key_O and not e.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.mark_out()
        elif k == Qt.Key.Key_Escape and self._sel != (None, None):
            self.clear_selection()
        else:
            super().keyPressEvent(e)
            return
        e.accept()

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(e)
            return
        pos = e.position()
        self._press = pos
        self._press_v0 = self._v0
        self._hide_hover()
        left = self._track()[0]
        if e.modifiers() & Qt.KeyboardModifier.ShiftModifier and pos.x() >= left:
            self._mode = "select"
            self._sel_anchor = self._t_at(pos.x())
            return
        if pos.x() >= left and (pos.y() < AXIS_H or self._near_playhead(pos.x())):
            self._start_scrub(pos.x())
            return
        row = self._row_at(pos.y())
        self._press_marker = self._marker_hit(row, pos) if row is not None and pos.x() >= left else None
        self._mode = "press"

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        pos = e.position()
        mode = self._mode
        if mode is None:
            self._hover_moved(pos)
            cursor = Qt.CursorShape.SizeHorCursor if pos.x() >= self._track()[0] and (
                pos.y() < AXIS_H or self._near_playhead(pos.x())) else Qt.CursorShape.ArrowCursor
            self.setCursor(cursor)
            return
        if mode == "press" and (pos - self._press).manhattanLength() >= DRAG_START:
            self._mode = mode = "pan"
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        if mode == "pan":
            spp = self._span / self._track()[1]
            self._pan_to(self._press_v0 - (pos.x() - self._press.x()) * spp)
        elif mode == "scrub":
            self._scrub_to(pos.x())
        elif mode == "select":
            t = self._clamp_now(self._t_at(pos.x()))
            a, b = sorted((self._sel_anchor, t))
            self._set_selection(a, b)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if e.button() != Qt.MouseButton.LeftButton or self._mode is None:
            super().mouseReleaseEvent(e)
            return
        mode, self._mode = self._mode, None
        pos = e.position()
        self.setCursor(Qt.CursorShape.ArrowCursor)
        if mode == "scrub":
            self._scrub_to(pos.x())
            self._scrub_throttle.flush()
            if self._scrub_sent != self._scrub_at:
                self._send_scrub()
            self.scrub_finished.emit()
        elif mode == "press":
            marker = self._press_marker
            self._press_marker = None
            if marker is not None:
                self.marker_activated.emit(marker)
            elif self._row_at(pos.y()) is not None and pos.x() >= self._track()[0]:
                t = self._clamp_now(self._t_at(pos.x()))
                self._position = t
                self.update()
                self.seek_requested.emit(_dt(t))
        self._hover_moved(pos)

    def leaveEvent(self, event: QEvent) -> None:
        self._hover_pos = None
        self._hide_hover()
        self.update()

    # ---- scrubbing and hover ---------------------------------------------------------------

    def _clamp_now(self, t: float) -> float:
        return min(t, _ts(self._clock()))

    def _start_scrub(self, x: float) -> None:
        self._mode = "scrub"
        self._scrub_sent = None
        self.scrub_started.emit()
        self._scrub_to(x)

    def _scrub_to(self, x: float) -> None:
        left, width = self._track()
        x = min(max(x, left), left + width)
        t = self._clamp_now(self._t_at(x))
        self._scrub_at = t
        self._position = t
        self.update()
        self._scrub_throttle.request()

    def _send_scrub(self) -> None:
        self._scrub_sent = self._scrub_at
        self.seek_requested.emit(_dt(self._scrub_at))

    def _hover_moved(self, pos: QPointF) -> None:
        self._hover_pos = pos
        row = self._row_at(pos.y())
        if row is None or pos.x() < self._track()[0]:
            key: tuple[str | None, float | None] = (None, None)
        else:
            key = (self._rows[row].camera_id, self._t_at(pos.x()))
        if key[0] != self._hover_key[0]:
            self._thumb = None
        self._hover_key = key
        if key != self._hover_sent:
            self._hover_throttle.request()
        self._show_preview()
        self.update()

    def _send_hover(self) -> None:
        self._hover_sent = self._hover_key
        cam, t = self._hover_key
        self.hover.emit(cam, _dt(t) if t is not None else None)

    def _hide_hover(self) -> None:
        self._preview.hide()
        self._thumb = None
        self._hover_key = (None, None)
        if self._hover_sent != (None, None):
            self._hover_throttle.request()

    def _show_preview(self) -> None:
        pos = self._hover_pos
        cam, t = self._hover_key
        if pos is None or cam is None or t is None or self._mode is not None:
            self._preview.hide()
            return
        row = self._row_at(pos.y())
        if row is None or self._marker_hit(row, pos) is not None or self._gap_at(row, pos.x()) is not None:
            self._preview.hide()  # the tooltip says what is there
            return
        pattern = "%H:%M:%S" if self._span <= 86400 else "%m-%d %H:%M:%S"
        text = _local(t, self.tz, pattern)
        image = self._thumb[2] if self._thumb is not None and self._thumb[0] == cam else None
        self._preview.set_content(image, text, self.palette_)
        # laid over the timeline's window above the whole timeline (covering no row), centred on the pointer;
        # below it where the window has no room above, and over the rows where it has none either
        host = self.window()
        preview = self._preview
        if preview.parentWidget() is not host:
            preview.setParent(host)
        pw, ph = preview.width(), preview.height()
        at = self.mapTo(host, QPoint(round(pos.x()) - pw // 2, -ph - 4)) if host is not self else QPoint(
            round(pos.x()) - pw // 2, -ph - 4)
        y = at.y()
        if y < 0:
            below = (self.mapTo(host, QPoint(0, self.height())).y() if host is not self else self.height()) + 4
            y = below if below + ph <= host.height() else 0
        preview.move(min(max(at.x(), 0), max(0, host.width() - pw)), y)
        preview.raise_()
        preview.show()

    # ---- painting --------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        try:
            self._paint(p)
        finally:
            p.end()

    def _colors(self) -> dict[str, QColor]:
        pal = self.palette_
        extra = _EXTRA.get(pal.name, _EXTRA["dark"])
        c = {name: pal.color(name) for name in ("background", "base", "panel", "border", "text", "muted", "accent",
                                                  "text_on_accent", "green", "notice", "yellow", "red")}
        c.update({k: QColor(v) for k, v in extra.items()})
        return c

    def _paint(self, p: QPainter) -> None:
        c = self._colors()
        left, width = self._track()
        rects = [self._row_rect(i) for i in range(len(self._rows))] or [self._row_rect(0)]
        bottom = rects[-1].bottom() + 1
        now = _ts(self._clock())
        x_now = self._x(now)
        self._drawn_now = round(x_now)
        dpr = self.devicePixelRatioF()
        key = (self.width(), self.height(), dpr, self._v0, self._span, self._drawn_now)
        if self._layer_key != key:
            layer = QPixmap(math.ceil(self.width() * dpr), math.ceil(self.height() * dpr))
            layer.setDevicePixelRatio(dpr)
            lp = QPainter(layer)
            lp.setFont(self.font())
            try:
                step = self._tick_step(lp.fontMetrics(), width)
                majors = _ticks(self._v0 - step, self._v1, step, self.tz)
                self._paint_rows(lp, c, left, width, rects, now, majors)
                self._paint_axis(lp, c, left, width, step, majors)
            finally:
                lp.end()
            self._layer, self._layer_key = layer, key
        p.drawPixmap(0, 0, self._layer)

        # the future: nothing can be there
        if x_now < left + width:
            fx = max(float(left), x_now)
            future = QColor(c["panel"])
            future.setAlpha(150)
            p.fillRect(QRectF(fx, AXIS_H, left + width - fx, bottom - AXIS_H), future)
            if fx == x_now:
                p.fillRect(QRectF(x_now, AXIS_H, 1, bottom - AXIS_H), c["muted"])

        # the selection
        a, b = self._sel
        if a is not None or b is not None:
            sel_fill = QColor(c["accent"])
            sel_fill.setAlpha(60)
            xa = self._x(a) if a is not None else None
            xb = self._x(b) if b is not None else None
            if xa is not None and xb is not None:
                x0, x1 = max(xa, left), min(xb, left + width)
                if x1 > x0:
                    p.fillRect(QRectF(x0, AXIS_H, max(1.0, x1 - x0), bottom - AXIS_H), sel_fill)
            for x, sign in ((xa, 1), (xb, -1)):
                if x is not None and left <= x <= left + width:  # an edge with a bracket on the axis
                    p.fillRect(QRectF(x - 1, AXIS_H - 6, 2, bottom - AXIS_H + 6), c["accent"])
                    p.fillRect(QRectF(x if sign > 0 else x - 6, AXIS_H - 6, 6, 2), c["accent"])

        # the pointer's instant
        hp = self._hover_pos
        if hp is not None and self._mode is None and hp.x() >= left and hp.y() < bottom:
            hover = QColor(c["text"])
            hover.setAlpha(110)
            p.fillRect(QRectF(math.floor(hp.x()), AXIS_H, 1, bottom - AXIS_H), hover)

        self._paint_playhead(p, c, left, width, bottom, p.fontMetrics())

    def _paint_rows(self, p: QPainter, c: dict[str, QColor], left: int, width: int, rects: list[QRect],
                    now: float, majors: list[float]) -> None:
        """The static layer's rows: backgrounds, gaps, spans, holds, markers, names."""
        w, h = self.width(), self.height()
        spp = self._span / width
        v0, v1 = self._v0, self._v1
        p.fillRect(0, 0, w, h, c["base"])
        p.fillRect(0, 0, w, AXIS_H, c["panel"])
        p.fillRect(0, AXIS_H, left, h - AXIS_H, c["panel"])
        for r in rects:
            p.fillRect(r, c["background"])
        # the grid under the data (opaque one-pixel rectangles: the raster engine's fastest fill)
        grid = QColor(c["border"])
        for t in majors:
            x = round(left + (t - v0) / spp)
            if left <= x < left + width:
                for r in rects:
                    p.fillRect(x, r.top(), 1, r.height(), grid)
        if not self._rows:
            p.setPen(c["muted"])
            p.drawText(rects[0], Qt.AlignmentFlag.AlignCenter, self.tr("No camera chosen"))
            return
        fault = QColor(c["red"])
        fault.setAlpha(170)
        grey = QColor(c["muted"])
        gap_brushes = (QBrush(fault, Qt.BrushStyle.BDiagPattern), QBrush(grey, Qt.BrushStyle.BDiagPattern))
        gap_fill = QColor(c["red"])
        gap_fill.setAlpha(28)
        hold = QColor(c["hold"])
        hold_band = QColor(hold)
        hold_band.setAlpha(55)
        footage = QColor(c["green"])
        footage.setAlpha(200)
        glyph = self._glyph()
        fm = p.fontMetrics()
        p.setPen(Qt.PenStyle.NoPen)
        for data, r in zip(self._rows, rects, strict=False):
            top, rh = r.top(), r.height()
            p.setBrushOrigin(0, top)
            # gaps: a fault hatched red, pruned or not recording hatched grey; footage painted over them
            assert data.painted is not None
            spans, faults, others = data.painted
            footage_px = coverage(*spans.for_pixel(spp), v0, spp, width)
            if data.gap_s.size:
                taken = footage_px  # footage wins a pixel it shares with a gap; a fault wins over the others
                for is_fault, brush, levels in ((True, gap_brushes[0], faults), (False, gap_brushes[1], others)):
                    gs, ge = levels.for_pixel(spp)
                    gap_px = coverage(gs, np.where(np.isinf(ge), max(now, v0), ge), v0, spp, width) & ~taken
                    taken = taken | gap_px
                    gap_runs = runs(gap_px)
                    if gap_runs:
                        boxes = [QRect(left + a, top, b - a, rh) for a, b in gap_runs]
                        if is_fault:
                            p.setBrush(gap_fill)
                            p.drawRects(boxes)
                        p.setBrush(brush)
                        p.drawRects(boxes)
            span_runs = runs(footage_px)
            if span_runs:
                p.setBrush(footage)
                span_top = top + glyph // 2 + 2 if rh >= 24 else top
                p.drawRects([QRect(left + a, span_top, b - a, top + rh - span_top) for a, b in span_runs])
            # holds: a band over their span, solid along the bottom
            for hs, he, _m in data.holds:
                if he <= v0 or hs >= v1:
                    continue
                x0 = max(float(left), self._x(hs))
                x1 = min(float(left + width), self._x(he))
                p.fillRect(QRectF(x0, top, max(1.0, x1 - x0), rh), hold_band)
                p.fillRect(QRectF(x0, top + rh - 4, max(1.0, x1 - x0), 4), hold)
            self._paint_markers(p, data, r, c, glyph)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(c["text"])
        for data, r in zip(self._rows, rects, strict=False):
            name = self._names.get(data.camera_id, data.camera_id)
            p.drawText(QRect(6, r.top(), left - 10, r.height()),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                       fm.elidedText(name, Qt.TextElideMode.ElideRight, left - 10))

    def _paint_markers(self, p: QPainter, data: _Row, r: QRect, c: dict[str, QColor], g: int) -> None:
        """One glyph per place: markers closer than a glyph (at an absolute grid, steady while panning) show
        the one of the highest priority; glyphs are blitted from pixmaps drawn once."""
        if not data.marker_at.size:
            return
        left, width = self._track()
        spp = self._span / width
        lo = int(np.searchsorted(data.marker_at, self._v0 - g * spp, "left"))
        hi = int(np.searchsorted(data.marker_at, self._v1 + g * spp, "right"))
        if lo >= hi:
            return
        at = data.marker_at[lo:hi]
        cell = np.floor(at / ((g + 2) * spp)).astype(np.int64)
        order = np.lexsort((-data.priority[lo:hi], cell))  # by place, the highest priority first
        placed = cell[order]
        first = np.ones(order.size, dtype=np.bool_)
        first[1:] = placed[1:] != placed[:-1]
        xs = left + (at - self._v0) / spp
        top = r.top() + 1
        for k in order[first].tolist():
            m = data.markers[lo + k]
            pm = self._glyph_pixmap(_glyph_key(m), g, c)
            p.drawPixmap(QPointF(round(float(xs[k])) - (g + 4) / 2, top), pm)

    def _glyph_pixmap(self, key: str, g: int, c: dict[str, QColor]) -> QPixmap:
        cached = self._glyphs.get((key, g))
        if cached is not None:
            return cached
        dpr = self.devicePixelRatioF()
        size = g + 4
        pm = QPixmap(math.ceil(size * dpr), math.ceil((g + 3) * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(QPen(c["background"], 1))
        x, top, half = size / 2, 0.5, g / 2
        if key.startswith("warning:"):
            p.setBrush(c[key.split(":", 1)[1]])
            p.drawPolygon(QPolygonF([QPointF(x - half - 1, top), QPointF(x + half + 1, top), QPointF(x, top + g)]))
        elif key == MarkerKind.BOOKMARK:
            p.setBrush(c["accent"])
            path = QPainterPath(QPointF(x, top))
            path.lineTo(x + half + 1, top + g * 0.3)
            path.lineTo(x, top + g * 0.6)
            path.closeSubpath()
            p.drawPath(path)
            p.setPen(QPen(c["accent"], 1.5))
            p.drawLine(QLineF(x, top, x, top + g + 1))
        elif key == MarkerKind.COMPLAINT:
            p.setBrush(c["complaint"])
            p.drawEllipse(QPointF(x, top + half), half, half)
        elif key == MarkerKind.BAD_REVIEW:
            p.setBrush(c["bad_review"])
            p.drawPolygon(QPolygonF([QPointF(x, top), QPointF(x + half, top + half), QPointF(x, top + g),
                                     QPointF(x - half, top + half)]))
        elif key == MarkerKind.HOLD:
            p.setBrush(c["hold"])
            p.drawRect(QRectF(x - 1, top, half + 1, g))
        else:
            p.setBrush(c["muted"])
            p.drawEllipse(QPointF(x, top + half), half / 2, half / 2)
        p.end()
        self._glyphs[(key, g)] = pm
        return pm

    def _tick_step(self, fm: QFontMetrics, width: int) -> int:
        """The smallest step whose labels do not collide (label widths measured once per font and language)."""
        if self._tick_widths is None:
            day = fm.horizontalAdvance(self._day_label(datetime(2026, 12, 30, tzinfo=self.tz)))
            self._tick_widths = {step: (fm.horizontalAdvance("00:00:00") if step < 60 else
                                        fm.horizontalAdvance("00:00") if step < 86400 else day) + 18
                                 for step in STEPS}
        px_per_s = width / self._span
        return next((step for step in STEPS if step * px_per_s >= self._tick_widths[step]), STEPS[-1])

    def _day_label(self, local: datetime) -> str:
        return QLocale().toString(QDate(local.year, local.month, local.day), "MM-dd ddd")

    def _paint_axis(self, p: QPainter, c: dict[str, QColor], left: int, width: int, step: int,
                    majors: list[float]) -> None:
        fm = p.fontMetrics()
        v0, v1 = self._v0, self._v1
        minor = next((s for s in STEPS if s < step and step % s == 0 and s * width / self._span >= 7), None)
        # lines as one-pixel rectangles: the raster engine fills those far faster than it strokes lines
        p.fillRect(0, AXIS_H - 1, self.width(), 1, c["border"])
        if minor is not None:
            xs = np.round(left + (np.array(_ticks(v0, v1, minor, self.tz)) - v0) * (width / self._span))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(c["border"])
            p.drawRects([QRect(x, AXIS_H - 5, 1, 4) for x in xs.astype(np.int64).tolist()])
            p.setBrush(Qt.BrushStyle.NoBrush)
        bold = QFont(p.font())
        bold.setBold(True)
        normal = p.font()
        fm_bold = QFontMetrics(bold)
        spp = self._span / width
        muted, text = c["muted"], c["text"]
        p.setPen(muted)
        for t in majors:
            x = left + (t - v0) / spp
            local = datetime.fromtimestamp(t, self.tz)
            midnight = local.hour == 0 and local.minute == 0 and local.second == 0
            if step >= 86400 or midnight:
                label = self._day_label(local)
            elif step < 60:
                label = local.strftime("%H:%M:%S")
            else:
                label = local.strftime("%H:%M")
            if x >= left:
                p.fillRect(round(x), AXIS_H - 9, 1, 8, c["border"])
            emphasis = midnight and step < 86400
            tx = x + 3
            if tx < left or tx + (fm_bold if emphasis else fm).horizontalAdvance(label) > left + width:
                continue  # a label cut by an edge is left out (the next one says it)
            if emphasis:  # a new day in an hours' view: the date, bold
                p.setFont(bold)
                p.setPen(text)
                p.drawText(QPointF(tx, AXIS_H - 10), label)
                p.setFont(normal)
                p.setPen(muted)
            else:
                p.drawText(QPointF(tx, AXIS_H - 10), label)
        # the date of the view, above the names
        p.setPen(c["text"])
        day0 = datetime.fromtimestamp(v0, self.tz).date()
        day1 = datetime.fromtimestamp(v1 - 1e-3, self.tz).date()
        # one day: its date; more: the axis names the days, the corner the year(s)
        corner = day0.isoformat() if day0 == day1 else (
            str(day0.year) if day0.year == day1.year else f"{day0.year}–{day1.year}")
        p.drawText(QRect(6, 0, left - 8, AXIS_H - 2), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(corner, Qt.TextElideMode.ElideRight, left - 8))

    def _paint_playhead(self, p: QPainter, c: dict[str, QColor], left: int, width: int, bottom: int,
                        fm: QFontMetrics) -> None:
        pos = self._position
        if pos is None:
            return
        x = self._x(pos)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if x < left or x > left + width:  # out of view: an arrow at the edge it is beyond
            edge = left + 2 if x < left else left + width - 2
            d = 1 if x < left else -1
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(c["accent"])
            y = AXIS_H // 2
            p.drawPolygon(QPolygonF([QPointF(edge, y), QPointF(edge + 8 * d, y - 6), QPointF(edge + 8 * d, y + 6)]))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            return
        p.fillRect(QRectF(x - 1, AXIS_H - 2, 2, bottom - AXIS_H + 2), c["accent"])
        pattern = "%H:%M:%S"
        label = _local(pos, self.tz, pattern)
        if self._span <= 60:
            label += f".{round(pos * 1000) % 1000:03d}"
        tw = fm.horizontalAdvance(label) + 10
        bx = min(max(x - tw / 2, float(left)), float(left + width - tw))
        box = QRectF(bx, 2, tw, AXIS_H - 6)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c["accent"])
        p.drawRoundedRect(box, 3, 3)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(c["text_on_accent"])
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)


# ---- the day picker ----------------------------------------------------------------------------

class DayPicker(QCalendarWidget):
    """A month calendar: days with footage bold in the green of footage, the others grey. ``day_chosen(date)``
    when the reviewer clicks or presses Enter on a day. The owner loads the days of the month shown
    (``currentPageChanged(year, month)``) and calls :meth:`set_days`."""

    day_chosen = Signal(object)

    def __init__(self, palette: Palette | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.palette_ = palette or current_palette()
        self._days: frozenset[date] = frozenset()
        self.setGridVisible(False)
        self.setVerticalHeaderFormat(QCalendarWidget.VerticalHeaderFormat.NoVerticalHeader)
        self.clicked.connect(self._chosen)
        self.activated.connect(self._chosen)
        self.currentPageChanged.connect(lambda _y, _m: self._format())

    def set_days(self, days: frozenset[date]) -> None:
        """The days that have footage (in the hall's zone)."""
        self._days = frozenset(days)
        self._format()

    def days(self) -> frozenset[date]:
        return self._days

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self._format()

    def _chosen(self, d: QDate) -> None:
        self.day_chosen.emit(date(d.year(), d.month(), d.day()))

    def _format(self) -> None:
        self.setDateTextFormat(QDate(), QTextCharFormat())  # a null date clears every day's format
        first = QDate(self.yearShown(), self.monthShown(), 1)
        start = first.addDays(-(first.dayOfWeek() % 7) - 7)
        with_footage = QTextCharFormat()
        with_footage.setFontWeight(QFont.Weight.Bold)
        with_footage.setForeground(self.palette_.color("green"))  # the colour of footage on the timeline
        without = QTextCharFormat()
        without.setForeground(self.palette_.color("muted"))
        for i in range(7 * 8):  # the six weeks shown and a week either side
            d = start.addDays(i)
            has = date(d.year(), d.month(), d.day()) in self._days
            self.setDateTextFormat(d, with_footage if has else without)
