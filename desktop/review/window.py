"""The review window: recorded footage of one camera or 2×2 cameras in sync, on a timeline of
spans, gaps and markers; play, frame steps, speeds; bookmarks, evidence holds and export.

The same :class:`ReviewView` is a tab of the operator window (with "back to live") and the whole of
the standalone ``review`` window. It never touches a file or the store on the GUI thread: players
decode on their own threads, the timeline's data and the hover thumbnails come from the reader's
workers, writes go through the backend's executor (the running terminal, or the review backend).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QImage, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from app.review import CameraTimeline, Marker, MarkerKind, ThumbnailCache, config_cameras, footage_days, load_timeline
from desktop.i18n import fmt
from desktop.operator.reader import Reader
from desktop.review.evidence import confirm_release
from desktop.review.export_dialog import export_complaint_dossier
from desktop.review.screens import ReviewScreens
from desktop.review.timeline import DayPicker, PreparedRows, Timeline, marker_text, prepare_rows
from desktop.review.words import archive_gap_words
from desktop.shell.camera_tree import CameraRow, CameraTree
from desktop.theme import Palette
from supervision.config import Config
from supervision.store import Store
from video.archive import SPEEDS, ArchiveFrame, ArchiveReader
from video.archive.group import PlayerGroup
from video.footage import FootageIndex

__all__ = ["ReviewBackendLike", "ReviewView"]

log = logging.getLogger(__name__)

TICK_MS = 16  # the paint timer: at most one picture per screen refresh
DEFAULT_MARGIN = timedelta(seconds=30)
DEFAULT_VIEW = timedelta(minutes=10)
MIN_VIEW = timedelta(seconds=10)
MAX_VIEW = timedelta(days=7)


class ReviewBackendLike(Protocol):
    """What the review needs of the running terminal (or of the standalone review backend)."""

    store: Store
    cfg: Config

    @property
    def index(self) -> FootageIndex: ...
    @property
    def tz(self) -> ZoneInfo: ...
    def bookmark(self, camera_id: str, at: datetime, note: str, *, by: str,
                 on_done: Callable[[Any], None] | None = None) -> None: ...
    def hold(self, start: datetime, end: datetime, *, reason: str, by: str, camera_id: str | None = None,
             window_id: str | None = None, on_done: Callable[[Any], None] | None = None) -> None: ...
    def release_hold(self, hold_id: str, *, by: str, on_done: Callable[[Any], None] | None = None) -> None: ...


class ReviewView(QWidget):
    """Cameras by hall → window on the left; the pictures, the controls and the timeline on the right.

    ``live=True`` (inside the operator window) adds "back to live": ``live_requested(camera_id)``.
    """

    live_requested = Signal(str)
    position_changed = Signal(object)  # datetime | None, at most a few times a second

    def __init__(self, backend: ReviewBackendLike, reader: Reader, tz: ZoneInfo, palette: Palette, *,
                 index: FootageIndex, live: bool = False, operator: str = "",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReviewView")
        self.backend = backend
        self.reader = reader
        self.tz = tz
        self.index = index
        self.palette_ = palette
        self.live = live
        self.operator = operator
        self.clock = clock
        self.thumbnails = ThumbnailCache(index)
        self.rows: dict[str, CameraRow] = {}
        self.camera_ids: list[str] = []  # shown, in cell order
        self.group: PlayerGroup | None = None
        self.timelines: list[CameraTimeline] = []
        self._markers: list[Marker] = []  # of the shown cameras, by time
        self._marker_times: list[datetime] = []
        self._last_position: datetime | None = None
        self._last_status: tuple[Any, ...] | None = None
        self._loaded_span: tuple[datetime, datetime] | None = None
        self._scrubbing = False
        self._scrub_resume = False  # playing when the scrub began
        self._build()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._size_timer = QTimer(self)
        self._size_timer.setSingleShot(True)
        self._size_timer.setInterval(150)
        self._size_timer.timeout.connect(self._apply_size)

    # -- building ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.screens: ReviewScreens = ReviewScreens(self.tz, archive_gap_words, self)
        self.tree = CameraTree(self)
        self.tree.camera_activated.connect(lambda cid: self.set_camera(self.screens.lead, cid))
        self.screens.lead_changed.connect(self._lead_changed)
        self.screens.toggle_layout.connect(self._toggle_layout)
        self.screens.camera_dropped.connect(self.set_camera)
        self.timeline = Timeline(self.tz, palette=self.palette_, clock=self.clock, parent=self)
        self.timeline.seek_requested.connect(self._timeline_seek)
        self.timeline.scrub_started.connect(self._scrub_started)
        self.timeline.scrub_finished.connect(self._scrub_finished)
        self.timeline.view_changed.connect(lambda _s, _e: self._load_data())
        self.timeline.hover.connect(self._hover)
        self.timeline.marker_activated.connect(lambda m: self.seek(m.at))
        self.timeline.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.timeline.customContextMenuRequested.connect(self._timeline_menu)

        controls = QHBoxLayout()
        controls.setContentsMargins(6, 4, 6, 4)
        controls.setSpacing(4)

        def button(text: str, tip: str, slot: Callable[[], Any], *, checkable: bool = False,
                   icon: QStyle.StandardPixmap | None = None) -> QToolButton:
            b = QToolButton(self)
            b.setText(text)
            if icon is not None:
                b.setIcon(self.style().standardIcon(icon))
                b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            b.setToolTip(tip)
            b.setCheckable(checkable)
            b.setAutoRaise(True)
            b.clicked.connect(lambda _c=False: slot())
            controls.addWidget(b)
            return b

        self.one_button = button(self.tr("1"), self.tr("One camera"), lambda: self.set_layout("1"), checkable=True)
        self.quad_button = button("2×2", self.tr("Four cameras in sync"), lambda: self.set_layout("2x2"),
                                  checkable=True)
        layouts = QButtonGroup(self)
        layouts.addButton(self.one_button)
        layouts.addButton(self.quad_button)
        self.one_button.setChecked(True)
        controls.addSpacing(8)
        self.prev_marker_button = button("|◀◀", self.tr("Previous marker (Ctrl+←)"), self.previous_marker,
                                         icon=QStyle.StandardPixmap.SP_MediaSkipBackward)
        self.back_button = button("◀|", self.tr("One frame back (←)"), lambda: self.step(-1),
                                  icon=QStyle.StandardPixmap.SP_MediaSeekBackward)
        self.play_button = button("▶", self.tr("Play / pause (Space)"), self.toggle_play,
                                  icon=QStyle.StandardPixmap.SP_MediaPlay)
        self.forward_button = button("|▶", self.tr("One frame forward (→)"), lambda: self.step(1),
                                     icon=QStyle.StandardPixmap.SP_MediaSeekForward)
        self.next_marker_button = button("▶▶|", self.tr("Next marker (Ctrl+→)"), self.next_marker,
                                         icon=QStyle.StandardPixmap.SP_MediaSkipForward)
        self.speed_box = QComboBox(self)
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}×", s)
        self.speed_box.setToolTip(self.tr("Playback speed ([ and ])"))
        self.speed_box.currentIndexChanged.connect(self._speed_picked)
        controls.addWidget(self.speed_box)
        controls.addSpacing(8)
        self.position_label = QLabel(self)
        self.position_label.setObjectName("ReviewPosition")
        self.position_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls.addWidget(self.position_label)
        self.note_label = QLabel(self)
        self.note_label.setObjectName("ReviewNote")
        self.note_label.setStyleSheet("color: palette(placeholder-text)")
        controls.addWidget(self.note_label, 1)
        self.day_button = button(self.tr("Day…"), self.tr("Pick a day with footage"), self._pick_day)
        self.bookmark_button = button(self.tr("Bookmark…"), self.tr("Bookmark this instant with a note (B)"),
                                      self.add_bookmark)
        self.hold_button = button(self.tr("Hold…"), self.tr("Keep the selected span as evidence (H)"), self.add_hold)
        self.export_button = button(self.tr("Export…"), self.tr("Export the selected span as evidence (E)"),
                                    self.export)
        self.verify_button = button(self.tr("Verify folder…"), self.tr("Check an evidence folder"), self.verify_folder)
        self.live_button: QToolButton | None = None
        if self.live:
            self.live_button = button(self.tr("Back to live"), self.tr("The live picture of this camera (L)"),
                                      self._back_to_live)

        top = QWidget(self)
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.setSpacing(0)
        tl.addWidget(self.screens, 1)
        tl.addLayout(controls)
        # The pictures above, the timeline below: the reviewer drags the handle to give the timeline
        # more room (four cameras' rows, long spans).
        self.vsplit = QSplitter(Qt.Orientation.Vertical, self)
        self.vsplit.setChildrenCollapsible(False)
        self.vsplit.addWidget(top)
        self.vsplit.addWidget(self.timeline)
        self.vsplit.setStretchFactor(0, 1)
        self.vsplit.setSizes([700, 150])
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.vsplit)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([220, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        ctx = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (
            (Qt.Key.Key_Space, self.toggle_play),
            (Qt.Key.Key_Left, lambda: self.step(-1)),
            (Qt.Key.Key_Right, lambda: self.step(1)),
            (QKeySequence("Shift+Left"), lambda: self.jump(-10)),
            (QKeySequence("Shift+Right"), lambda: self.jump(10)),
            (QKeySequence("Ctrl+Left"), self.previous_marker),
            (QKeySequence("Ctrl+Right"), self.next_marker),
            (Qt.Key.Key_BracketLeft, lambda: self.change_speed(-1)),
            (Qt.Key.Key_BracketRight, lambda: self.change_speed(1)),
            (Qt.Key.Key_B, self.add_bookmark),
            (Qt.Key.Key_H, self.add_hold),
            (Qt.Key.Key_E, self.export),
            (Qt.Key.Key_I, self.timeline.mark_in),
            (Qt.Key.Key_O, self.timeline.mark_out),
        ):
            sc = QShortcut(QKeySequence(keys), self)
            sc.setContext(ctx)
            sc.activated.connect(slot)
        if self.live:
            sc = QShortcut(QKeySequence(Qt.Key.Key_L), self)
            sc.setContext(ctx)
            sc.activated.connect(self._back_to_live)
        self._update_buttons()

    def shortcuts(self) -> list[tuple[str, str]]:
        """(what, keys) for the help dialog."""
        out = [
            (self.tr("Play / pause"), "Space"), (self.tr("One frame back / forward"), "← / →"),
            (self.tr("10 s back / forward"), "Shift+← / Shift+→"),
            (self.tr("Previous / next marker"), "Ctrl+← / Ctrl+→"), (self.tr("Slower / faster"), "[ / ]"),
            (self.tr("Mark in / out"), "I / O"), (self.tr("Bookmark"), "B"), (self.tr("Evidence hold"), "H"),
            (self.tr("Export"), "E"), (self.tr("Zoom the timeline"), self.tr("wheel, + / −")),
        ]
        if self.live:
            out.append((self.tr("Back to live"), "L"))
        return out

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self.timeline.set_palette(palette)
        self.screens.update()

    # -- cameras ---------------------------------------------------------------------------------------
    def set_camera_rows(self, rows: Sequence[CameraRow]) -> None:
        """Every camera with footage to review, for the tree (hall → window → camera)."""
        self.rows = {r.camera_id: r for r in rows}
        self.tree.set_rows(list(rows))
        self.timeline.set_camera_names({r.camera_id: r.camera_name for r in rows})

    def camera_name(self, camera_id: str) -> str:
        r = self.rows.get(camera_id)
        return r.camera_name if r is not None else camera_id

    def layout_name(self) -> str:
        return "2x2" if len(self.camera_ids) > 1 else "1"

    def show_cameras(self, camera_ids: Sequence[str], *, at: datetime | None = None) -> None:
        """Show these cameras (one, or up to four in sync) at ``at`` (else where the review was)."""
        ids = list(dict.fromkeys(c for c in camera_ids if c))[:4]
        position = at if at is not None else self.position()
        lead_id = self.camera_ids[self.screens.lead] if self.camera_ids and self.screens.lead < len(
            self.camera_ids) else None
        self._close_group()
        self.camera_ids = ids
        if not ids:
            self.screens.set_cells([])
            self.timeline.set_data([])
            self._update_buttons()
            return
        width, height = self._player_size(len(ids))
        readers = [ArchiveReader(self.index, cid, width=width, height=height) for cid in ids]
        group = PlayerGroup(readers)
        self.group = group
        lead = ids.index(lead_id) if lead_id in ids else 0
        group.lead = lead
        self.screens.lead = lead
        self.screens.set_cells([(cid, self.camera_name(cid)) for cid in ids])
        self.one_button.setChecked(len(ids) == 1)
        self.quad_button.setChecked(len(ids) > 1)
        if position is not None:
            group.seek(position)
        self._last_position = None  # the next tick shows the position of the new cameras
        self._last_status = None
        if self.isVisible():  # else showEvent starts it
            self._timer.start(TICK_MS)
        self._load_data()
        self._update_buttons()

    def set_camera(self, index: int, camera_id: str) -> None:
        """Put a camera in cell ``index`` (the position is kept)."""
        ids = list(self.camera_ids)
        if camera_id in ids:
            self.screens.set_lead(ids.index(camera_id))
            self._lead_changed(ids.index(camera_id))
            return
        if not ids:
            ids = [camera_id]
        elif 0 <= index < len(ids):
            ids[index] = camera_id
        else:
            ids.append(camera_id)
        self.show_cameras(ids)

    def set_layout(self, name: str) -> None:
        """"1": the lead camera alone; "2x2": it and up to three more (the window's, then others')."""
        if not self.camera_ids:
            self._update_buttons()
            return
        lead = self.camera_ids[min(self.screens.lead, len(self.camera_ids) - 1)]
        if name == "1":
            self.show_cameras([lead])
            return
        ids = [lead, *(c for c in self.camera_ids if c != lead)]
        if len(ids) < 4:
            row = self.rows.get(lead)
            same = [c for c, r in self.rows.items() if row is not None and r.window_id == row.window_id]
            others = [c for c, r in self.rows.items() if row is not None and r.hall_id == row.hall_id]
            for c in [*same, *others, *self.rows]:
                if len(ids) >= 4:
                    break
                if c not in ids:
                    ids.append(c)
        self.show_cameras(ids)

    def _toggle_layout(self, index: int) -> None:
        if 0 <= index < len(self.camera_ids):
            self.screens.set_lead(index)
            self._lead_changed(index)
        self.set_layout("2x2" if len(self.camera_ids) == 1 else "1")

    def _lead_changed(self, index: int) -> None:
        if self.group is not None and 0 <= index < len(self.group.players):
            self.group.lead = index

    def lead_camera(self) -> str | None:
        if not self.camera_ids:
            return None
        return self.camera_ids[min(self.screens.lead, len(self.camera_ids) - 1)]

    # -- opening from elsewhere --------------------------------------------------------------------
    def open_at(self, camera_ids: Sequence[str], at: datetime, *, margin: timedelta = DEFAULT_MARGIN,
                play: bool = True) -> None:
        """"Show footage": these cameras (the first shown alone), ``margin`` before ``at``, the
        timeline around it with its markers loaded."""
        start = at - margin
        self.timeline.set_view(start - DEFAULT_VIEW / 2 + margin, start + DEFAULT_VIEW / 2 + margin)
        self.show_cameras(list(camera_ids)[:1], at=start)
        if play and self.group is not None:
            self.group.play()
        self._update_buttons()

    # -- playback ------------------------------------------------------------------------------------
    def position(self) -> datetime | None:
        if self.group is not None and self.group.position is not None:
            return self.group.position
        return self._last_position

    def seek(self, at: datetime) -> None:
        if self.group is None:
            return
        self.group.seek(at)
        self.timeline.set_position(at)
        self._tick()

    def _timeline_seek(self, at: datetime) -> None:
        if self._scrubbing and self.group is not None:
            # Dragging the playhead: each camera's keyframe at or before the instant (one decode a
            # picture, so the pictures keep up with the pointer); the exact frame when it stops.
            self.group.seek(at, keyframe=True)
            self.timeline.set_position(at)
            return
        self.seek(at)

    def _scrub_started(self) -> None:
        self._scrubbing = True
        self._scrub_resume = self.group is not None and self.group.playing
        self.pause()

    def _scrub_finished(self) -> None:
        self._scrubbing = False
        at = self.timeline.position()
        if at is not None:
            self.seek(at)
        if self._scrub_resume:
            self.play()

    def jump(self, seconds: float) -> None:
        at = self.position()
        if at is not None:
            self.seek(at + timedelta(seconds=seconds))

    def step(self, n: int) -> None:
        if self.group is not None:
            self.group.step(n)
            self._update_buttons()

    def toggle_play(self) -> None:
        if self.group is None:
            return
        if self.group.playing:
            self.group.pause()
        else:
            self.group.play()
        self._update_buttons()

    def play(self) -> None:
        if self.group is not None:
            self.group.play()
            self._update_buttons()

    def pause(self) -> None:
        if self.group is not None:
            self.group.pause()
            self._update_buttons()

    def set_speed(self, speed: float) -> None:
        i = self.speed_box.findData(speed)
        if i >= 0:
            self.speed_box.setCurrentIndex(i)

    def change_speed(self, delta: int) -> None:
        i = max(0, min(self.speed_box.count() - 1, self.speed_box.currentIndex() + delta))
        self.speed_box.setCurrentIndex(i)

    def _speed_picked(self, i: int) -> None:
        speed = self.speed_box.itemData(i)
        if self.group is not None and speed:
            self.group.set_speed(float(speed))

    def previous_marker(self) -> None:
        at = self.position()
        if at is None:
            return
        i = bisect.bisect_left(self._marker_times, at - timedelta(milliseconds=500))
        if i > 0:
            self.seek(self._marker_times[i - 1])

    def next_marker(self) -> None:
        at = self.position()
        if at is None:
            return
        i = bisect.bisect_right(self._marker_times, at + timedelta(milliseconds=500))
        if i < len(self._marker_times):
            self.seek(self._marker_times[i])

    def _back_to_live(self) -> None:
        cid = self.lead_camera()
        if cid is not None:
            self.live_requested.emit(cid)

    def _tick(self) -> None:
        group = self.group
        if group is None:
            return
        group.tick()
        self.screens.tick(group.pictures())
        at = group.position
        if at != self._last_position:
            self._last_position = at
            self.timeline.set_position(at)
            self.position_label.setText(_stamp(at.astimezone(self.tz)) if at is not None else "")
            self.position_changed.emit(at)
        st = group.status()
        key = (st.playing, st.speed, st.keyframes_only, st.ended)
        if key != self._last_status:
            self._last_status = key
            self._update_buttons()
            if st.keyframes_only:
                self.note_label.setText(fmt(self.tr("%1×: keyframes only — decoding every frame at this speed "
                                                    "is more than this machine or the playback budget allows"),
                                            f"{st.speed:g}"))
            elif st.ended:
                self.note_label.setText(self.tr("The end of the recorded footage: more plays as it is recorded"))
            else:
                self.note_label.setText("")

    def _update_buttons(self) -> None:
        has = self.group is not None
        playing = has and self.group is not None and self.group.playing
        self.play_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay))
        for b in (self.play_button, self.back_button, self.forward_button, self.prev_marker_button,
                  self.next_marker_button, self.bookmark_button, self.hold_button, self.export_button,
                  self.speed_box, self.day_button):
            b.setEnabled(has)
        if self.live_button is not None:
            self.live_button.setEnabled(has)

    # -- sizes ---------------------------------------------------------------------------------------
    def _player_size(self, n: int) -> tuple[int, int]:
        w, h = self.screens.width(), self.screens.height()
        cols = 1 if n <= 1 else 2
        rows = 1 if n <= 1 else (n + 1) // 2
        w, h = max(160, w // cols), max(90, h // rows)
        return _even(w), _even(h)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._size_timer.start()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.group is not None:
            self._timer.start(TICK_MS)

    def hideEvent(self, event: QHideEvent) -> None:
        """A hidden review (the operator window's Live tab shown, minimised) pauses and paints nothing."""
        super().hideEvent(event)
        self.pause()
        self._timer.stop()

    def _apply_size(self) -> None:
        if self.group is not None:
            self.group.set_size(*self._player_size(len(self.camera_ids)))

    # -- the timeline's data ---------------------------------------------------------------------------
    def _load_data(self) -> None:
        ids = list(self.camera_ids)
        if not ids:
            return
        start, end = self.timeline.view()
        span = end - start
        # The visible span and its neighbours (a pan shows data at once), and the whole local day
        # around the position, so previous/next marker reach beyond the view.
        lo, hi = start - span, end + span
        at = self.position()
        if at is not None:
            day = datetime.combine(at.astimezone(self.tz).date(), time(0), self.tz)
            lo, hi = min(lo, day.astimezone(UTC)), max(hi, (day + timedelta(days=1)).astimezone(UTC))
        store, index, now, tz = self.backend.store, self.index, self.clock(), self.tz
        cameras = config_cameras(self.backend.cfg)

        def load(_s: object) -> PreparedRows:
            return prepare_rows([load_timeline(store, index, cid, lo, hi, now=now, cameras=cameras, tz=tz)
                                 for cid in ids])

        def done(prepared: PreparedRows) -> None:
            if ids != self.camera_ids:
                return
            result = list(prepared.timelines)
            self._loaded_span = (lo, hi)
            self.timelines = result
            self.timeline.set_data(prepared)
            markers = sorted((m for t in result for m in t.markers), key=lambda m: m.at)
            self._markers = markers
            self._marker_times = [m.at for m in markers]

        self.reader.submit("review.timeline", load, done, self._data_failed)

    def reload(self) -> None:
        """Read the timeline's data again (after a bookmark, a hold, new footage)."""
        self._load_data()

    def _data_failed(self, words: str) -> None:
        log.warning("the review timeline could not be read: %s", words)
        self.note_label.setText(fmt(self.tr("The timeline could not be read: %1"), words))

    # -- thumbnails --------------------------------------------------------------------------------------
    def _hover(self, camera_id: object, at: object) -> None:
        if not isinstance(camera_id, str) or not isinstance(at, datetime):
            return
        thumbs = self.thumbnails

        def load(_s: object) -> ArchiveFrame | None:
            return thumbs.get(camera_id, at)

        def done(frame: ArchiveFrame | None) -> None:
            image = None
            if frame is not None:
                px = frame.pixels
                image = QImage(px.data, px.shape[1], px.shape[0], px.strides[0], QImage.Format.Format_RGB888).copy()
            self.timeline.set_thumbnail(camera_id, at, image)

        self.reader.submit("review.thumbnail", load, done, slow=True)

    # -- the day picker --------------------------------------------------------------------------------
    def _pick_day(self) -> None:
        cid = self.lead_camera()
        if cid is None:
            return
        menu = QMenu(self)
        picker = DayPicker(self.palette_, menu)
        at = self.position() or self.clock()
        local = at.astimezone(self.tz).date()
        picker.setSelectedDate(QDate(local.year, local.month, local.day))
        act = QWidgetAction(menu)
        act.setDefaultWidget(picker)
        menu.addAction(act)
        index, tz = self.index, self.tz
        first = local.replace(day=1) - timedelta(days=45)
        last = local + timedelta(days=45)

        def load(_s: object) -> frozenset[date]:
            return footage_days(index, cid, tz, first, last)

        self.reader.submit("review.days", load, picker.set_days)

        def chosen(d: date) -> None:
            menu.close()
            self.go_to_day(d)

        picker.day_chosen.connect(chosen)
        menu.exec(self.day_button.mapToGlobal(QPoint(0, self.day_button.height())))

    def go_to_day(self, d: date) -> None:
        """The timeline shows the whole local day; playback goes to its first footage."""
        start = datetime.combine(d, time(0), self.tz).astimezone(UTC)
        end = start + timedelta(days=1)
        self.timeline.set_view(start, end)
        cid = self.lead_camera()
        if cid is None:
            return
        index = self.index

        def load(_s: object) -> datetime | None:
            seg = index.first_readable_ending_after(cid, start)
            if seg is None or seg.start >= end:
                return None
            return max(seg.start, start)

        def done(at: datetime | None) -> None:
            if at is not None:
                self.seek(at)
            else:
                self.note_label.setText(self.tr("No footage of this camera on that day"))

        self.reader.submit("review.day", load, done)

    # -- evidence ------------------------------------------------------------------------------------
    def _span(self) -> tuple[datetime | None, datetime | None]:
        start, end = self.timeline.selection()
        if start is not None and end is not None and start < end:
            return start, end
        return None, None

    def add_bookmark(self) -> None:
        from desktop.review.evidence import BookmarkDialog

        cid, at = self.lead_camera(), self.position()
        if cid is None or at is None:
            return
        was_playing = self.group is not None and self.group.playing
        self.pause()
        dialog = BookmarkDialog(self.backend, cid, at, self.tz, camera_name=self.camera_name(cid), parent=self)
        if dialog.exec():
            self.reload()
        elif was_playing:
            self.play()

    def add_hold(self) -> None:
        from desktop.review.evidence import HoldDialog

        cid = self.lead_camera()
        if cid is None:
            return
        start, end = self._span()
        at = self.position()
        if start is None or end is None:
            if at is None:
                return
            start, end = at - timedelta(minutes=5), at + timedelta(minutes=5)
        dialog = HoldDialog(self.backend, start, end, self.tz, camera_id=cid, subject_name=self.camera_name(cid),
                            parent=self)
        if dialog.exec():
            self.reload()

    def export(self) -> None:
        from desktop.review.export_dialog import ExportDialog

        if not self.camera_ids:
            return
        start, end = self._span()
        at = self.position()
        if (start is None or end is None) and at is not None:
            start, end = at - timedelta(minutes=1), at + timedelta(minutes=1)
        cameras = [(cid, self.camera_name(cid)) for cid in self.camera_ids]
        ExportDialog(self.backend, cameras, start, end, self.tz, parent=self).exec()

    def verify_folder(self) -> None:
        from desktop.review.export_dialog import VerifyDialog

        VerifyDialog(parent=self).exec()

    def _timeline_menu(self, pos: QPoint) -> None:
        """Right-click on the timeline: bookmark here; on a hold, release it; on a complaint, its dossier."""
        menu = QMenu(self)
        at = self.timeline.time_at(pos.x())
        cid = self.timeline.row_camera(pos)
        if cid is not None:
            menu.addAction(self.tr("Go here"), lambda: self.seek(at))
        for m in self.timeline.markers_at(pos):
            if m.kind == MarkerKind.HOLD:
                what = marker_text(m, self.tz).splitlines()[0]
                menu.addAction(fmt(self.tr("Release the evidence hold “%1”…"), m.text or what),
                               self._later(self._release, m))
            elif m.kind == MarkerKind.COMPLAINT:
                menu.addAction(self.tr("Export the complaint's evidence dossier…"),
                               self._later(export_complaint_dossier, self.backend, m.ref, self))
        if menu.isEmpty():
            return
        menu.exec(self.timeline.mapToGlobal(pos))

    @staticmethod
    def _later(action: Callable[..., object], *args: Any) -> Callable[..., None]:
        """A menu entry's slot: ``action(*args)``, whatever the signal carries."""
        def run(*_signal: object) -> None:
            action(*args)
        return run

    def _release(self, marker: Marker) -> None:
        def done(ok: bool, words: str) -> None:
            if ok:
                self.reload()
            else:
                self.note_label.setText(words)

        confirm_release(self.backend, marker.ref, marker.text, self, on_done=done)

    # -- closing -------------------------------------------------------------------------------------
    def _close_group(self) -> None:
        group, self.group = self.group, None
        if group is not None:
            self._last_position = group.position or self._last_position
            group.stop()
        self._timer.stop()

    def close_view(self) -> None:
        """Stop the players and release the files (the window is closing)."""
        self._close_group()
        self._size_timer.stop()
        self.reader.cancel("review.timeline")
        self.reader.cancel("review.thumbnail")
        self.thumbnails.close()


def _stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") + f".{t.microsecond // 1000:03d}"


def _even(v: int) -> int:
    return max(2, v - v % 2)
