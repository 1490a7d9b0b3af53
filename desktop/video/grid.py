"""The camera grid: one plain QWidget painting every tile from its decoder's latest frame.

Threads (DESIGN.md "Threads"): each shown camera has a :class:`~video.display.DisplayDecoder` whose
own thread decodes and converts the newest picture to BGRA at the tile's device-pixel size and
leaves it in a one-slot mailbox. Nothing is signalled per frame: a GUI-thread timer (60 Hz) looks
at each visible tile's mailbox and repaints the tiles whose frame is new, drawing each at 1:1
through a :class:`~desktop.video.painter.FramePainter`. Decoders are acquired and released by one
worker thread (``camera.display`` / ``camera.release``: releasing the last user of a sub-stream
joins its connection's thread), so the GUI never waits on video. A hidden or minimised grid
releases every decoder; showing it acquires them again.
"""

from __future__ import annotations

import functools
import logging
import math
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QMimeData,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QApplication, QMenu, QSizePolicy, QToolTip, QWidget

from desktop.i18n import fmt
from desktop.video.layouts import LAYOUT_KEYS, MAX_TILES, Layout, layout_named
from desktop.video.painter import FramePainter, Placement, RasterFramePainter
from desktop.video.states import light_text, mode_text, reason_text, state_text
from supervision import foreground
from video.camera import Camera
from video.display import DisplayDecoder, DisplayMode, Frame, choose_display
from video.source import SourceState

__all__ = ["CAMERA_MIME", "CameraGrid", "TileDecoration", "TileStats"]

log = logging.getLogger(__name__)

CAMERA_MIME = "application/x-hallwatch-camera"  # the camera id as UTF-8 (the camera tree drags it)
_TILE_MIME = "application/x-hallwatch-grid-tile"  # a tile dragged inside one grid: its index
STATE_VERSION = 1

CameraLookup = Callable[[str], Camera | None]


@dataclass(frozen=True, slots=True)
class TileDecoration:
    """What the rest of the application tells a tile about its camera (from the store/monitor)."""

    window_name: str | None = None  # the service window the camera watches, e.g. "A01 综合受理"
    light: str | None = None  # "green", "notice", "yellow", "red" or None (no window / unknown)
    recording: bool = False


DecorationProvider = Callable[[str], TileDecoration]


@dataclass(frozen=True, slots=True)
class TileStats:
    index: int
    camera_id: str | None
    painted: int  # frames painted since the camera was put on the tile
    first_frame_s: float | None  # from putting the camera on the tile to its first painted frame
    playing_s: float  # from the first painted frame to the last
    stream: Literal["main", "sub"] | None
    mode: DisplayMode | None
    state: SourceState | None

    @property
    def fps(self) -> float:
        """Painted frames per second while playing (0 before two frames)."""
        return (self.painted - 1) / self.playing_s if self.painted > 1 and self.playing_s > 0 else 0.0


# -- decoders, acquired and released off the GUI thread ----------------------------------------


@dataclass(eq=False)
class _Ticket:
    """One decoder for one tile: requested by the GUI, made and let go by the broker's thread."""

    camera: Camera
    stream: Literal["main", "sub"]
    mode: DisplayMode
    size: tuple[int, int]
    tiles_shown: int
    maximised: bool
    override: DisplayMode | None
    zoomed: bool = False  # for a maximised tile (maximised above may also mean "larger than the sub-stream")
    decoder: DisplayDecoder | None = None  # set by the broker once made (an atomic attribute write)
    adopted: bool = False  # the GUI has brought it up to date with what the tile wants now
    failed: str | None = None


class _Broker:
    """One non-daemon thread running ``camera.display`` / ``camera.release`` in request order.

    The thread starts with the first request and ends after a second with nothing to do (so a grid
    dropped without :meth:`CameraGrid.shutdown` never holds up the interpreter's exit), or on
    :meth:`shutdown`, which carries out every request made before it.
    """

    IDLE_EXIT = 1.0  # seconds

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple[str, _Ticket] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._lock = threading.Lock()

    def acquire(self, ticket: _Ticket) -> None:
        self._put(("acquire", ticket))

    def release(self, ticket: _Ticket) -> None:
        self._put(("release", ticket))

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def _put(self, item: tuple[str, _Ticket]) -> None:
        with self._lock:  # the thread decides to end under this lock, seeing an empty queue
            self._pending += 1
            self._queue.put(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="hallwatch-grid-decoders")
                self._thread.start()

    def shutdown(self) -> None:
        """Carry out every request made so far (releases included), then end the thread."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._queue.put(None)
        thread.join()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.IDLE_EXIT)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            if item is None:
                with self._lock:
                    self._thread = None
                return
            what, ticket = item
            try:
                if what == "acquire":
                    w, h = ticket.size
                    ticket.decoder = ticket.camera.display(
                        w, h, ticket.tiles_shown, maximised=ticket.maximised, override=ticket.override
                    )
                elif ticket.decoder is not None:
                    ticket.camera.release(ticket.decoder)
            except Exception as e:  # a camera that cannot be shown must not end the thread
                log.exception("camera %s: %s of a display decoder failed", ticket.camera.id, what)
                ticket.failed = f"{type(e).__name__}: {e}"
            finally:
                with self._lock:
                    self._pending -= 1


def _release_all(broker: _Broker, tiles: list[_Tile]) -> None:
    """Give back every tile's decoder and wait for it (shutdown, or the widget destroyed without it).

    The requests already made are carried out in order first; then every decoder still held is
    released side by side (each release joins a decoder thread: sixteen in turn took seconds of a
    window's close). A sub-stream nobody shows any more is asked to disconnect, not waited for: one
    still opening ends only after FFmpeg's probe of its first second; the camera's ``stop`` (the
    terminal's) waits for it."""
    tickets = [tile.ticket for tile in tiles if tile.ticket is not None]
    for tile in tiles:
        tile.ticket = None
        tile.frame = None
    broker.shutdown()
    held = [t for t in tickets if t.decoder is not None]

    def release(ticket: _Ticket) -> None:
        try:
            if ticket.decoder is not None:
                ticket.camera.release(ticket.decoder, wait=False)  # the terminal's stop waits for the sub-stream
        except Exception:
            log.exception("camera %s: release of a display decoder failed", ticket.camera.id)

    if len(held) == 1:
        release(held[0])
    elif held:
        with ThreadPoolExecutor(max_workers=len(held), thread_name_prefix="hallwatch-grid-release") as pool:
            list(pool.map(release, held))


# -- tiles -------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Tile:
    index: int
    camera_id: str | None = None
    rect: QRect = field(default_factory=QRect)
    ticket: _Ticket | None = None
    frame: Frame | None = None  # the newest frame taken from the mailbox (painted or due)
    painted_number: int = 0
    painted: int = 0
    assigned_at: float = 0.0
    first_painted_at: float | None = None
    last_painted_at: float | None = None
    state: SourceState | None = None
    error: str | None = None
    frozen: int | None = None  # seconds without a new picture while "live" (see _frozen_for)
    override: DisplayMode | None = None  # the operator's "keyframes only" for this tile (context menu)
    decoration: TileDecoration = field(default_factory=TileDecoration)
    overlay_key: tuple[Any, ...] = ()  # what the overlay images show; () when to be made again
    overlay_top: QImage | None = None
    overlay_bottom: QImage | None = None
    overlay_bottom_at: QPoint | None = None
    # where pictures of the last frame's size go in this tile, and the letterbox bars around them
    placement: Placement | None = None
    placed_shape: tuple[Any, ...] = ()
    bars: tuple[QRect, ...] = ()

    def reset_counts(self) -> None:
        self.frame = None
        self.painted_number = self.painted = 0
        self.assigned_at = time.monotonic()
        self.first_painted_at = self.last_painted_at = None
        self.state = self.error = self.frozen = self.override = None
        self.overlay_key = ()


_LIGHT_COLOURS = {
    "green": QColor("#27ae60"),
    "notice": QColor("#2f80ed"),
    "yellow": QColor("#f2c94c"),
    "red": QColor("#eb5757"),
}
_BACKGROUND = QColor("#111418")
_EMPTY_TILE = QColor("#1c2026")
_GAP = 2  # logical pixels between tiles
_ACCENT = QColor("#3daee9")
_SELECTED_UNFOCUSED = QColor("#5c6773")
_BAR = QColor(0, 0, 0, 150)
_DIM = QColor(0, 0, 0, 140)  # over a picture that is not live: never a frozen picture that looks live
_FROZEN_AFTER = 3.0  # seconds without a new picture at full rate while the connection is live
_FROZEN_AFTER_KEYFRAMES = 12.0  # keyframes only: one picture per GOP, up to 10 s on some cameras


# A tile more than this much larger than the sub-stream (either side) shows the main stream, as
# Nx Witness switches up at ×1.34, and goes back below ×1.15 (no flapping while a window is
# resized across one size); a sub-stream whose size is not known yet counts as 320×180.
_SUB_OUTGROWN = 1.34
_SUB_FITS_AGAIN = 1.15
_SUB_ASSUMED = (320, 180)
_MANY_TILES = 16  # above this every tile stays on the sub-stream (Nx: "more than 16 items: all low")


def _outgrows_sub(camera: Camera, width: int, height: int, tiles_shown: int, *, on_main: bool = False) -> bool:
    if camera.sub is None or tiles_shown > _MANY_TILES:
        return False
    info = camera.sub.status().info
    sub_w, sub_h = (info.width, info.height) if info is not None else _SUB_ASSUMED
    factor = _SUB_FITS_AGAIN if on_main else _SUB_OUTGROWN
    return width > sub_w * factor or height > sub_h * factor


def _rects(region: QRegion) -> Iterable[QRect]:
    return cast("Iterable[QRect]", region)  # PySide6 iterates a QRegion's rectangles; its stubs do not say so


def _no_decoration(_camera_id: str) -> TileDecoration:
    return TileDecoration()


class CameraGrid(QWidget):
    """A wall of camera tiles in one of the standard layouts (see :mod:`desktop.video.layouts`).

    ``camera_lookup(camera_id)`` gives the :class:`video.Camera` to show (started by its owner: the
    terminal's camera registry, or ``view``); ``decorations(camera_id)`` gives the window's name,
    its light and whether the camera records (called on the GUI thread about once a second per
    visible tile: keep it a lookup). ``mode_override`` forces a display mode on every tile
    (``view --mode``); otherwise :func:`video.display.choose_display` decides from the tile's size.
    """

    layoutChanged = Signal(str)  # the layout's name: "2x2", "1+5", …
    stateChanged = Signal()  # something state() holds changed (persist it)
    selectionChanged = Signal(int, str)  # tile index, its camera id ("" for none)
    maximisedChanged = Signal(int)  # the maximised tile's index, -1 when back to the layout
    tourChanged = Signal(bool)  # the tour started (True) or stopped

    def __init__(
        self,
        camera_lookup: CameraLookup,
        *,
        decorations: DecorationProvider | None = None,
        layout: str | Layout = "2x2",
        mode_override: DisplayMode | None = None,
        painter: FramePainter | None = None,
        paint_hz: float = 60.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._lookup = camera_lookup
        self._decorations = decorations or _no_decoration
        self._override = mode_override
        self._painter: FramePainter = painter or RasterFramePainter()
        # the raster painter's placements are kept per tile (see _paint_tile); another painter draws alone
        self._raster = self._painter if isinstance(self._painter, RasterFramePainter) else None
        self._broker = _Broker()
        self._layout: Layout = layout if isinstance(layout, Layout) else layout_named(layout)
        self._tiles = [_Tile(i) for i in range(MAX_TILES)]
        self._maximised: int | None = None
        self._selected = 0
        self._drop_target: int | None = None
        self._press: tuple[QPoint, int] | None = None
        self._named: dict[str, dict[str, Any]] = {}
        self._tour_names: list[str] = []
        self._tour_seconds = 10.0
        self._tour_at = 0
        self._gaps = QRegion()
        self._shut = False
        self._quiet = False  # set_cameras: one stateChanged at the end

        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # every pixel is painted by us
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.setMouseTracking(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self._frame_timer = QTimer(self)
        self._frame_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._frame_timer.setInterval(max(1, round(1000 / paint_hz)))
        self._frame_timer.timeout.connect(self._take_frames)
        self._status_timer = QTimer(self)
        self._status_timer.setInterval(500)
        self._status_timer.timeout.connect(self._refresh_status)
        self._tour_timer = QTimer(self)
        self._tour_timer.timeout.connect(self._tour_step)
        self._sync_timer = QTimer(self)  # coalesces changes into one decoder pass
        self._sync_timer.setSingleShot(True)
        self._sync_timer.setInterval(0)
        self._sync_timer.timeout.connect(self._sync_decoders)
        self._watched_window: QWidget | None = None
        self._seat_editing: Callable[[int, str], object] | None = None  # the tile's seat edit mode
        # Destroyed without shutdown(): still give every decoder back (the closure holds no widget).
        self.destroyed.connect(functools.partial(_release_all, self._broker, self._tiles))
        self._place_tiles()

    # -- public: layouts and cameras ---------------------------------------------------------

    @property
    def layout_name(self) -> str:
        return self._layout.name

    @staticmethod
    def layouts() -> list[str]:
        """The standard layouts, in the order of their digit keys."""
        return list(LAYOUT_KEYS)

    def set_layout(self, layout: str | Layout) -> None:
        """Switch layout; the first tiles keep their cameras (a tile beyond the new count is kept
        for when the layout grows again, but decodes nothing)."""
        new = layout if isinstance(layout, Layout) else layout_named(layout)
        if new == self._layout:
            return
        self._layout = new
        if self._maximised is not None and self._maximised >= new.tiles:
            self._set_maximised(None)
        self._selected = min(self._selected, new.tiles - 1)
        self._place_tiles()
        self.layoutChanged.emit(new.name)
        self.stateChanged.emit()

    def cameras(self) -> list[str | None]:
        """The camera on each tile of the current layout (None: empty)."""
        return [t.camera_id for t in self._tiles[: self._layout.tiles]]

    def set_camera(self, index: int, camera_id: str | None) -> None:
        """Put a camera on a tile (None empties it). Its first frame shows within about a second."""
        if not 0 <= index < MAX_TILES:
            raise IndexError(f"no tile {index} (0…{MAX_TILES - 1})")
        tile = self._tiles[index]
        if tile.camera_id == camera_id:
            return
        self._drop_ticket(tile)
        tile.camera_id = camera_id
        tile.reset_counts()
        self._schedule_sync()
        self.update(tile.rect)
        if index == self._selected:
            self.selectionChanged.emit(index, camera_id or "")
        if not self._quiet:
            self.stateChanged.emit()

    def set_cameras(self, camera_ids: Sequence[str | None]) -> None:
        """Fill the tiles in order; the rest are emptied (one stateChanged for all)."""
        before = self._camera_list()
        self._quiet = True
        try:
            for i in range(MAX_TILES):
                self.set_camera(i, camera_ids[i] if i < len(camera_ids) else None)
        finally:
            self._quiet = False
        if self._camera_list() != before:
            self.stateChanged.emit()

    def tile_at(self, pos: QPoint) -> int | None:
        for tile in self._visible_tiles():
            if tile.rect.contains(pos):
                return tile.index
        return None

    def tile_rect(self, index: int) -> QRect:
        return QRect(self._tiles[index].rect)

    @property
    def maximised(self) -> int | None:
        return self._maximised

    def maximise(self, index: int | None) -> None:
        """Show one tile over the whole grid, from the camera's main stream (None: back)."""
        if index is not None and not (0 <= index < self._layout.tiles and self._tiles[index].camera_id):
            return
        self._set_maximised(index)
        self.stateChanged.emit()

    @property
    def selected(self) -> int:
        return self._selected

    def select(self, index: int) -> None:
        index = max(0, min(index, self._layout.tiles - 1))
        if index != self._selected:
            old = self._tiles[self._selected].rect
            self._selected = index
            self.update(old)
            self.update(self._tiles[index].rect)
            self.selectionChanged.emit(index, self._tiles[index].camera_id or "")

    def stats(self) -> list[TileStats]:
        """Per tile of the current layout: frames painted, time to the first one, stream, state."""
        out = []
        for tile in self._tiles[: self._layout.tiles]:
            t = tile.ticket
            first = None if tile.first_painted_at is None else tile.first_painted_at - tile.assigned_at
            playing = 0.0
            if tile.first_painted_at is not None and tile.last_painted_at is not None:
                playing = tile.last_painted_at - tile.first_painted_at
            out.append(TileStats(
                index=tile.index, camera_id=tile.camera_id, painted=tile.painted, first_frame_s=first,
                playing_s=playing, stream=t.stream if t else None, mode=t.mode if t else None, state=tile.state,
            ))
        return out

    def status_text(self, index: int) -> str:
        """What tile ``index`` says about its camera, in words: the state (with the reason when not
        live) and how it is decoded when not every frame; "" for an empty tile."""
        tile = self._tiles[index]
        if not tile.camera_id:
            return ""
        parts = [state_text(tile.state, tile.error) if tile.state is not None else self._placeholder(tile)]
        if tile.frozen is not None:
            parts = [self._frozen_text(tile)]
        words = mode_text(tile.ticket.mode) if tile.ticket is not None else None
        if words:
            parts.append(words)
        return " · ".join(parts)

    def set_keyframes_only(self, index: int, on: bool) -> None:
        """The operator's choice for one tile: one picture per GOP (about 1 fps, little CPU), or back
        to what the tile's size decides. Kept until another camera is put on the tile."""
        tile = self._tiles[index]
        tile.override = DisplayMode.KEYFRAMES if on else None
        tile.overlay_key = ()
        self._schedule_sync()
        self.update(tile.rect)

    def keyframes_only(self, index: int) -> bool:
        return self._tiles[index].override is DisplayMode.KEYFRAMES

    def decoding(self) -> int:
        """How many tiles hold a display decoder now (acquired or being acquired)."""
        return sum(1 for t in self._tiles if t.ticket is not None)

    def settled(self) -> bool:
        """Every decoder request made so far has been carried out."""
        return self._broker.idle

    def lookup_changed(self) -> None:
        """The camera lookup's answers changed (the registry added, replaced or removed a camera):
        tiles whose camera was not there yet connect, tiles whose camera was replaced reconnect to
        the new one, tiles whose camera went away let go (on the next event-loop pass)."""
        self._schedule_sync()

    def refresh_decorations(self) -> None:
        """Ask the decoration provider again now (lights, window names, recording changed)."""
        for tile in self._visible_tiles():
            if tile.camera_id:
                decoration = self._decoration(tile.camera_id)
                if decoration != tile.decoration:
                    tile.decoration = decoration
                    tile.overlay_key = ()
                    self.update(tile.rect)

    # -- public: named layouts, the tour, persistence -----------------------------------------

    def named_layouts(self) -> list[str]:
        return sorted(self._named)

    def save_named_layout(self, name: str) -> None:
        """Remember the current layout and its cameras under ``name`` (replacing one of that name)."""
        name = name.strip()
        if not name:
            raise ValueError("a named layout needs a name")
        self._named[name] = {"layout": self._layout.name, "cameras": self._camera_list()}
        self.stateChanged.emit()

    def remove_named_layout(self, name: str) -> None:
        if self._named.pop(name, None) is not None:
            self._tour_names = [n for n in self._tour_names if n != name]
            self.stateChanged.emit()

    def apply_named_layout(self, name: str) -> None:
        entry = self._named.get(name)
        if entry is None:
            raise KeyError(f"no named layout {name!r}")
        self._set_maximised(None)
        self.set_layout(entry["layout"])
        self.set_cameras(entry["cameras"])

    @property
    def touring(self) -> bool:
        return self._tour_timer.isActive()

    def start_tour(self, names: Sequence[str] | None = None, seconds: float = 10.0) -> None:
        """Cycle named layouts (default: all, by name) every ``seconds``; stops on any hand change."""
        chosen = [n for n in (names if names is not None else self.named_layouts()) if n in self._named]
        if not chosen:
            raise ValueError("a tour needs at least one named layout")
        if seconds < 1:
            raise ValueError("a tour shows each layout for at least 1 s")
        self._tour_names, self._tour_seconds, self._tour_at = chosen, float(seconds), 0
        self.apply_named_layout(chosen[0])
        self._tour_timer.start(round(seconds * 1000))
        self.tourChanged.emit(True)
        self.stateChanged.emit()

    def stop_tour(self) -> None:
        if self._tour_timer.isActive():
            self._tour_timer.stop()
            self.tourChanged.emit(False)
            self.stateChanged.emit()

    def state(self) -> dict[str, Any]:
        """Everything to restore the grid later, JSON-able (the window keeps it in QSettings)."""
        return {
            "version": STATE_VERSION,
            "layout": self._layout.name,
            "cameras": self._camera_list(),
            "maximised": self._maximised,
            "named": {k: {"layout": v["layout"], "cameras": list(v["cameras"])} for k, v in self._named.items()},
            "tour": {"layouts": list(self._tour_names), "seconds": self._tour_seconds, "running": self.touring},
        }

    def restore(self, state: object) -> list[str]:
        """Restore what :meth:`state` gave. A part that is not understood is skipped (and named in
        the returned list, in English for the log); the rest is restored."""
        problems: list[str] = []
        if not isinstance(state, dict):
            return [f"grid state is not a mapping: {type(state).__name__}"]
        named = state.get("named", {})
        if isinstance(named, dict):
            for name, entry in named.items():
                checked = self._checked_entry(entry, f"named layout {name!r}", problems)
                if isinstance(name, str) and name.strip() and checked is not None:
                    self._named[name] = checked
        else:
            problems.append("named layouts: not a mapping")
        current = self._checked_entry(state, "current layout", problems)
        self.stop_tour()
        self._set_maximised(None)
        if current is not None:
            self.set_layout(current["layout"])
            self.set_cameras(current["cameras"])
        maximised = state.get("maximised")
        if isinstance(maximised, int) and not isinstance(maximised, bool):
            self.maximise(maximised)
        elif maximised is not None:
            problems.append(f"maximised: not a tile number: {maximised!r}")
        tour = state.get("tour")
        if isinstance(tour, dict):
            names = [n for n in tour.get("layouts", []) if isinstance(n, str) and n in self._named]
            seconds = tour.get("seconds", 10.0)
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds) \
                    or seconds < 1:
                problems.append(f"tour: seconds not a number of at least 1: {seconds!r}")
                seconds = 10.0
            self._tour_names, self._tour_seconds = names, float(seconds)
            if tour.get("running") and names:
                self.start_tour(names, seconds)
        self.stateChanged.emit()
        for p in problems:
            log.warning("restoring the camera grid: %s (skipped)", p)
        return problems

    def shortcuts(self) -> list[tuple[str, str]]:
        """The grid's keys and what they do, translated (for the help dialog)."""
        return [
            ("1 … 7", QCoreApplication.translate("CameraGrid", "layouts 1, 2×2, 3×3, 4×4, 5×5, 1+5, 1+7")),
            (QCoreApplication.translate("CameraGrid", "Arrow keys"),
             QCoreApplication.translate("CameraGrid", "select a tile")),
            (QCoreApplication.translate("CameraGrid", "Enter / double-click"),
             QCoreApplication.translate("CameraGrid", "maximise the tile (main stream) and back")),
            ("Esc", QCoreApplication.translate("CameraGrid", "back from a maximised tile")),
            (QCoreApplication.translate("CameraGrid", "Delete"),
             QCoreApplication.translate("CameraGrid", "take the camera off the tile")),
            ("T", QCoreApplication.translate("CameraGrid", "start or stop the tour of named layouts")),
        ]

    def shutdown(self) -> None:
        """Release every decoder and join the grid's thread (call before the window goes away)."""
        if self._shut:
            return
        self._shut = True
        for timer in (self._frame_timer, self._status_timer, self._tour_timer, self._sync_timer):
            timer.stop()
        _release_all(self._broker, self._tiles)

    # -- decoders --------------------------------------------------------------------------------

    def _shown(self) -> bool:
        if self._shut or not self.isVisible() or self.width() <= 0 or self.height() <= 0:
            return False
        return not self.window().isMinimized()

    def _visible_tiles(self) -> list[_Tile]:
        if self._maximised is not None:
            return [self._tiles[self._maximised]]
        return self._tiles[: self._layout.tiles]

    def _schedule_sync(self) -> None:
        if not self._shut:
            self._sync_timer.start()

    def _sync_decoders(self) -> None:
        """Bring every tile's decoder in line with what is shown: acquire, resize, switch, release."""
        shown = self._shown()
        visible = {t.index for t in self._visible_tiles()} if shown else set()
        tiles_shown = 1 if self._maximised is not None else self._layout.tiles
        dpr = self.devicePixelRatioF()
        for tile in self._tiles:
            camera = self._lookup(tile.camera_id) if tile.index in visible and tile.camera_id else None
            if camera is None:
                self._drop_ticket(tile)
                continue
            w, h = max(2, round(tile.rect.width() * dpr)), max(2, round(tile.rect.height() * dpr))
            # The main stream for a maximised tile, and for one much larger than the sub-stream
            # (the big tile of 1+5): "maximised" is what asks Camera.display for the main stream.
            zoomed = self._maximised == tile.index
            prev = tile.ticket  # on the main stream for its size (not for a maximise): hysteresis applies
            on_main = prev is not None and prev.camera is camera and prev.stream == "main" and not prev.zoomed
            maximised = zoomed or _outgrows_sub(camera, w, h, tiles_shown, on_main=on_main)
            override = tile.override or self._override
            choice = choose_display(w, h, tiles_shown, has_sub=camera.has_sub, maximised=maximised,
                                    override=override)
            t = tile.ticket
            if t is not None and (t.camera is not camera or t.stream != choice.stream):
                self._drop_ticket(tile)
                t = None
            if t is None:
                tile.ticket = _Ticket(camera, choice.stream, choice.mode, (w, h), tiles_shown, maximised, override,
                                      zoomed=zoomed)
                self._broker.acquire(tile.ticket)
                continue
            if t.mode != choice.mode:
                tile.overlay_key = ()  # the status line names the mode
            t.size, t.mode, t.tiles_shown, t.zoomed = (w, h), choice.mode, tiles_shown, zoomed
            if t.decoder is not None and t.adopted:
                t.decoder.set_size(w, h)
                t.decoder.set_mode(choice.mode)
        if shown:
            self._frame_timer.start()
            self._status_timer.start()
        else:
            self._frame_timer.stop()
            self._status_timer.stop()

    def _drop_ticket(self, tile: _Tile) -> None:
        if tile.ticket is not None:
            self._broker.release(tile.ticket)
            tile.ticket = None
            tile.frame = None  # the picture shown stays as painted until the tile repaints

    def _take_frames(self) -> None:
        """The paint timer: repaint the visible tiles whose decoder has a new frame."""
        dirty = QRegion()
        for tile in self._visible_tiles():
            t = tile.ticket
            if t is None or t.decoder is None:
                continue
            d = t.decoder
            if not t.adopted:  # made with the size and mode asked for then: bring it up to date
                t.adopted = True
                d.set_size(*t.size)
                d.set_mode(t.mode)
            f = d.latest()
            if f is not None and f is not tile.frame:
                tile.frame = f
                dirty += tile.rect
        if not dirty.isEmpty():
            self.update(dirty)

    def _refresh_status(self) -> None:
        """Twice a second: each visible tile's connection state and decoration; repaint changed overlays."""
        dpr = self.devicePixelRatioF()
        for tile in self._visible_tiles():
            if not tile.camera_id:
                continue
            camera = tile.ticket.camera if tile.ticket is not None else self._lookup(tile.camera_id)
            if camera is None:
                continue
            on_sub = tile.ticket is not None and tile.ticket.stream == "sub" and camera.sub is not None
            source = camera.sub if on_sub and camera.sub is not None else camera.main
            status = source.status()
            decoration = self._decoration(tile.camera_id)
            frozen = self._frozen_for(tile, status.state)
            if (status.state, status.error, decoration, frozen) != (tile.state, tile.error, tile.decoration,
                                                                     tile.frozen):
                tile.state, tile.error, tile.decoration, tile.frozen = status.state, status.error, decoration, frozen
                self.update(tile.rect)
            if tile.overlay_key and self._check_overlay(tile, dpr):  # e.g. the decoder could not be made
                self.update(tile.rect)

    @staticmethod
    def _frozen_for(tile: _Tile, state: SourceState) -> int | None:
        """Whole seconds the picture has not changed while the connection says live (a decoder that
        cannot decode what arrives), past what the display mode explains; else None."""
        t, frame = tile.ticket, tile.frame
        if state is not SourceState.LIVE or t is None or t.decoder is None or frame is None:
            return None
        age = time.time() - frame.decoded
        limit = _FROZEN_AFTER if t.mode is DisplayMode.FULL else _FROZEN_AFTER_KEYFRAMES
        return int(age) if age > limit else None

    def _decoration(self, camera_id: str) -> TileDecoration:
        try:
            return self._decorations(camera_id)
        except Exception:
            log.exception("the tile decorations for camera %s failed", camera_id)
            return TileDecoration()

    # -- layout geometry ------------------------------------------------------------------------

    def _place_tiles(self) -> None:
        full = self.rect()
        for tile in self._tiles:
            tile.rect = QRect()
        if self._maximised is not None:
            self._tiles[self._maximised].rect = QRect(full)
        else:
            lay = self._layout
            xs = [round(c * full.width() / lay.columns) for c in range(lay.columns + 1)]
            ys = [round(r * full.height() / lay.rows) for r in range(lay.rows + 1)]
            for tile, cell in zip(self._tiles, lay.cells, strict=False):
                x0, x1 = xs[cell.column], xs[cell.column + cell.columns]
                y0, y1 = ys[cell.row], ys[cell.row + cell.rows]
                # A gap on the right and bottom of every tile but the last column and row.
                right = _GAP if cell.column + cell.columns < lay.columns else 0
                bottom = _GAP if cell.row + cell.rows < lay.rows else 0
                tile.rect = QRect(x0, y0, max(1, x1 - x0 - right), max(1, y1 - y0 - bottom))
        gaps = QRegion(full)
        for tile in self._tiles:
            tile.overlay_key = ()
            tile.placement = None
        for tile in self._visible_tiles():
            gaps -= QRegion(tile.rect)
        self._gaps = gaps
        self._schedule_sync()
        self.update()

    def _set_maximised(self, index: int | None) -> None:
        if index == self._maximised:
            return
        self._maximised = index
        if index is not None:
            self._selected = index
        self._place_tiles()
        self.maximisedChanged.emit(-1 if index is None else index)

    def _camera_list(self) -> list[str | None]:
        cams: list[str | None] = [t.camera_id for t in self._tiles]
        while cams and cams[-1] is None:
            cams.pop()
        return cams

    def _checked_entry(self, entry: object, what: str, problems: list[str]) -> dict[str, Any] | None:
        if not isinstance(entry, dict):
            problems.append(f"{what}: not a mapping")
            return None
        name = entry.get("layout")
        try:
            layout = layout_named(name) if isinstance(name, str) else None
        except ValueError:
            layout = None
        if layout is None:
            problems.append(f"{what}: unknown layout {name!r}")
            return None
        cameras = entry.get("cameras", [])
        if not isinstance(cameras, list) or not all(c is None or isinstance(c, str) for c in cameras):
            problems.append(f"{what}: cameras must be a list of camera ids")
            cameras = []
        return {"layout": layout.name, "cameras": list(cameras[:MAX_TILES])}

    def _tour_step(self) -> None:
        names = [n for n in self._tour_names if n in self._named]
        if not names:
            self.stop_tour()
            return
        self._tour_at = (self._tour_at + 1) % len(names)
        self.apply_named_layout(names[self._tour_at])

    # -- Qt events ----------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(1280, 720)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_tiles()
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        window = self.window()
        if window is not self._watched_window:
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self)
            window.installEventFilter(self)  # minimised and restored: WindowStateChange on the window
            self._watched_window = window
        self._schedule_sync()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._sync_decoders()  # hidden: nothing decodes (released now, not on the next loop pass)
        super().hideEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._watched_window and event.type() == QEvent.Type.WindowStateChange:
            self._schedule_sync()
        return False

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        index = self.tile_at(event.pos())
        if index is None or not self._tiles[index].camera_id:
            return
        self.select(index)
        menu = QMenu(self)
        if self._maximised is None:
            maximise = menu.addAction(QCoreApplication.translate("CameraGrid", "Maximise (main stream)"))
            maximise.triggered.connect(lambda: self._by_hand(self.maximise, index))
        else:
            restore = menu.addAction(QCoreApplication.translate("CameraGrid", "Back to the layout"))
            restore.triggered.connect(lambda: self.maximise(None))
        keyframes = menu.addAction(QCoreApplication.translate("CameraGrid", "Keyframes only (saves CPU)"))
        keyframes.setCheckable(True)
        keyframes.setChecked(self.keyframes_only(index))
        keyframes.toggled.connect(lambda on: self.set_keyframes_only(index, on))
        if self._seat_editing is not None:
            edit_seats = menu.addAction(QCoreApplication.translate("CameraGrid", "Edit seat regions…"))
            camera_id = self._tiles[index].camera_id
            edit_seats.triggered.connect(lambda: self._edit_seats(index, camera_id))
        menu.addSeparator()
        remove = menu.addAction(QCoreApplication.translate("CameraGrid", "Take the camera off this tile"))
        remove.triggered.connect(lambda: self._by_hand(self.set_camera, index, None))
        menu.exec(event.globalPos())
        menu.deleteLater()

    def set_seat_editing(self, edit: Callable[[int, str], object] | None) -> None:
        """Offer "Edit seat regions…" in a tile's menu: ``edit(tile index, camera id)`` opens the
        editor (``desktop.video.seats.install_seat_editing``)."""
        self._seat_editing = edit

    def _edit_seats(self, index: int, camera_id: str | None) -> None:
        if self._seat_editing is not None and camera_id:
            self.stop_tour()  # the tour would move the camera away under the editor
            self._seat_editing(index, camera_id)

    def picture_rect(self, index: int) -> QRect:
        """Where the tile's picture lies (the tile less its letterbox bars; the whole tile, centred
        16:9, before the first frame)."""
        tile = self._tiles[index]
        rect = tile.rect
        frame = tile.frame
        if frame is not None:
            dpr = self.devicePixelRatioF()
            w, h = round(frame.width / dpr), round(frame.height / dpr)
        else:
            w, h = rect.width(), rect.height()
            if w * 9 > h * 16:
                w = h * 16 // 9
            else:
                h = w * 9 // 16
        w, h = min(w, rect.width()), min(h, rect.height())
        return QRect(rect.x() + (rect.width() - w) // 2, rect.y() + (rect.height() - h) // 2, w, h)

    def _by_hand(self, action: Callable[..., None], *args: object) -> None:
        """A change made by hand ends the tour (it would undo it at the next step)."""
        self.stop_tour()
        action(*args)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.update(self._tiles[self._selected].rect)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update(self._tiles[self._selected].rect)
        super().focusOutEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.LanguageChange):
            for tile in self._tiles:
                tile.overlay_key = ()
            self.update()
        super().changeEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        index = self.tile_at(event.position().toPoint())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(index)
            self._press = (event.position().toPoint(), index)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        press = self._press
        if press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - press[0]).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        camera_id = self._tiles[press[1]].camera_id
        if not camera_id or self._maximised is not None:
            return
        mime = QMimeData()
        mime.setData(CAMERA_MIME, QByteArray(camera_id.encode("utf-8")))
        mime.setData(_TILE_MIME, QByteArray(str(press[1]).encode("ascii")))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction, Qt.DropAction.MoveAction)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        index = self.tile_at(event.position().toPoint())
        if index is None or event.button() != Qt.MouseButton.LeftButton:
            return
        self.stop_tour()
        self.maximise(None if self._maximised is not None else index)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = Qt.Key(event.key())
        digits = {Qt.Key.Key_1: 0, Qt.Key.Key_2: 1, Qt.Key.Key_3: 2, Qt.Key.Key_4: 3, Qt.Key.Key_5: 4,
                  Qt.Key.Key_6: 5, Qt.Key.Key_7: 6}
        if key in digits and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.stop_tour()
            self._set_maximised(None)
            self.set_layout(LAYOUT_KEYS[digits[key]])
        elif key == Qt.Key.Key_Escape and self._maximised is not None:
            self.maximise(None)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.stop_tour()
            self.maximise(None if self._maximised is not None else self._selected)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down) and self._maximised is None:
            self._move_selection(key)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.stop_tour()
            self.set_camera(self._selected, None)
        elif key == Qt.Key.Key_T:
            if self.touring:
                self.stop_tour()
            elif self._named:
                self.start_tour(self._tour_names or None, self._tour_seconds)
        else:
            super().keyPressEvent(event)

    def _move_selection(self, key: Qt.Key) -> None:
        here = self._tiles[self._selected].rect.center()
        step = {Qt.Key.Key_Left: QPoint(-1, 0), Qt.Key.Key_Right: QPoint(1, 0), Qt.Key.Key_Up: QPoint(0, -1),
                Qt.Key.Key_Down: QPoint(0, 1)}[key]
        best: tuple[int, int] | None = None
        for tile in self._visible_tiles():
            d = tile.rect.center() - here
            along = d.x() * step.x() + d.y() * step.y()
            if along <= 0:
                continue
            across = abs(d.x() * step.y()) + abs(d.y() * step.x())
            score = along + 2 * across
            if best is None or score < best[0]:
                best = (score, tile.index)
        if best is not None:
            self.select(best[1])

    def _dropped_camera(self, mime: QMimeData) -> str | None:
        if not mime.hasFormat(CAMERA_MIME):
            return None
        try:
            camera_id = bytes(mime.data(CAMERA_MIME).data()).decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        return camera_id if camera_id and self._lookup(camera_id) is not None else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_camera(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        index = self.tile_at(event.position().toPoint())
        if index != self._drop_target:
            for i in (self._drop_target, index):
                if i is not None:
                    self.update(self._tiles[i].rect)
            self._drop_target = index
        if index is None:
            event.ignore()
        else:
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        if self._drop_target is not None:
            self.update(self._tiles[self._drop_target].rect)
        self._drop_target = None

    def dropEvent(self, event: QDropEvent) -> None:
        target = self.tile_at(event.position().toPoint())
        self.dragLeaveEvent(QDragLeaveEvent())
        camera_id = self._dropped_camera(event.mimeData())
        if target is None or camera_id is None:
            event.ignore()
            return
        self.stop_tour()
        source_tile: int | None = None
        if event.source() is self and event.mimeData().hasFormat(_TILE_MIME):
            try:
                source_tile = int(bytes(event.mimeData().data(_TILE_MIME).data()).decode("ascii"))
            except ValueError:
                source_tile = None
        if source_tile is not None and source_tile != target and 0 <= source_tile < MAX_TILES:
            displaced = self._tiles[target].camera_id  # moved inside the grid: the two tiles swap
            self.set_camera(source_tile, None)
            self.set_camera(target, camera_id)
            self.set_camera(source_tile, displaced)
            event.setDropAction(Qt.DropAction.MoveAction)
        else:
            self.set_camera(target, camera_id)
            event.setDropAction(Qt.DropAction.CopyAction)
        self.select(target)
        event.accept()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            index = self.tile_at(event.pos())
            text = self._tooltip(index) if index is not None else None
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def _tooltip(self, index: int) -> str | None:
        tile = self._tiles[index]
        if not tile.camera_id:
            return None
        lines = [self._title(tile)]
        light = light_text(tile.decoration.light)
        if light:
            lines.append(light)
        if tile.state is not None:
            lines.append(state_text(tile.state, tile.error))
        if tile.decoration.recording:
            lines.append(QCoreApplication.translate("CameraGrid", "recording"))
        if tile.ticket is not None:
            stream = (QCoreApplication.translate("CameraGrid", "sub-stream") if tile.ticket.stream == "sub"
                      else QCoreApplication.translate("CameraGrid", "main stream"))
            lines.append(stream)
        return "\n".join(lines)

    # -- painting -------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        region = event.region()
        now = time.monotonic()
        dpr = self.devicePixelRatioF()
        p = QPainter(self)
        try:
            with foreground.gui_busy():  # painting the wall: background threads give way meanwhile
                for r in _rects(self._gaps):
                    if region.intersects(r):
                        p.fillRect(r, _BACKGROUND)
                for tile in self._visible_tiles():
                    if region.intersects(tile.rect):
                        self._paint_tile(p, tile, dpr, now)
        finally:
            p.end()

    def _paint_tile(self, p: QPainter, tile: _Tile, dpr: float, now: float) -> None:
        # Runs for every new frame of every tile on the GUI thread, each Python step of it a chance
        # to wait for the GIL: what does not change with the frame is worked out once and kept.
        rect = tile.rect
        frame = tile.frame
        if frame is not None:
            raster = self._raster
            if raster is not None:
                shape = (frame.pixels.shape, frame.rows.shape)
                place = tile.placement
                if place is None or shape != tile.placed_shape or place.device_pixel_ratio != dpr:
                    place = tile.placement = raster.place(rect, frame.width, frame.height, frame.bytes_per_line, dpr)
                    tile.placed_shape = shape
                    tile.bars = (tuple(_rects(QRegion(rect) - QRegion(place.covered)))
                                 if place.covered != rect else ())
                raster.draw_placed(p, place, frame)
                covered = place.covered
                for bar in tile.bars:  # letterbox bars, never the whole tile twice
                    p.fillRect(bar, _BACKGROUND)
            else:
                covered = self._painter.draw(p, rect, frame, dpr)
                if covered != rect:
                    for bar in _rects(QRegion(rect) - QRegion(covered)):
                        p.fillRect(bar, _BACKGROUND)
            if frame.number != tile.painted_number:
                tile.painted_number = frame.number
                tile.painted += 1
                tile.last_painted_at = now
                if tile.first_painted_at is None:
                    tile.first_painted_at = now
                    log.info("tile %d: first frame of camera %s painted", tile.index, tile.camera_id)
            if (tile.state is not None and tile.state is not SourceState.LIVE) or tile.frozen is not None:
                p.fillRect(covered, _DIM)
        else:
            p.fillRect(rect, _EMPTY_TILE if not tile.camera_id else _BACKGROUND)
            message = self._placeholder(tile)
            if message:
                colour = {SourceState.FAILED: "#ff8a80", SourceState.RECONNECTING: "#ffd54f",
                          SourceState.STALLED: "#ffd54f"}.get(tile.state or SourceState.LIVE, "#9aa4b1")
                p.setPen(QColor(colour))
                p.drawText(rect.adjusted(8, 8, -8, -8), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           message)
        if tile.camera_id:
            if not tile.overlay_key:
                self._check_overlay(tile, dpr)
            if tile.overlay_top is not None:
                p.drawImage(rect.topLeft(), tile.overlay_top)
            if tile.overlay_bottom is not None and tile.overlay_bottom_at is not None:
                p.drawImage(tile.overlay_bottom_at, tile.overlay_bottom)
        if tile.index == self._drop_target:
            p.setPen(QPen(_ACCENT, 3, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect.adjusted(1, 1, -2, -2))
        elif tile.index == self._selected and self._maximised is None and self._layout.tiles > 1:
            # Where a camera picked in the tree goes: always marked, brighter while the grid has focus.
            p.setPen(QPen(_ACCENT if self.hasFocus() else _SELECTED_UNFOCUSED, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect.adjusted(1, 1, -1, -1))

    def _placeholder(self, tile: _Tile) -> str:
        if not tile.camera_id:
            return QCoreApplication.translate("CameraGrid", "Drag a camera here")
        if self._lookup(tile.camera_id) is None:
            return fmt(QCoreApplication.translate("CameraGrid", "Unknown camera %1"), tile.camera_id)
        if tile.ticket is not None and tile.ticket.failed:
            return QCoreApplication.translate("CameraGrid", "This camera cannot be shown (details in the log)")
        if tile.state in (None, SourceState.LIVE, SourceState.CONNECTING):
            return QCoreApplication.translate("CameraGrid", "connecting…")
        return state_text(tile.state, tile.error)

    @staticmethod
    def _frozen_text(tile: _Tile) -> str:
        text = fmt(QCoreApplication.translate("CameraGrid", "no new picture for %1 s"), tile.frozen)
        decoder = tile.ticket.decoder if tile.ticket is not None else None
        reason = reason_text(decoder.stats().last_error) if decoder is not None else None
        if reason:
            text = fmt(QCoreApplication.translate("CameraGrid", "%1: %2"), text, reason)
        return text

    def _title(self, tile: _Tile) -> str:
        camera = self._lookup(tile.camera_id) if tile.camera_id else None
        name = camera.config.name if camera is not None else (tile.camera_id or "")
        window = tile.decoration.window_name
        return f"{name} · {window}" if window and window != name else name

    def _status_line(self, tile: _Tile) -> tuple[str, QColor] | None:
        parts: list[str] = []
        colour = QColor("#ffffff")
        if tile.state is not None and tile.state is not SourceState.LIVE:
            if tile.frame is None:
                return None  # said in the middle of the empty tile
            parts.append(state_text(tile.state, tile.error))
            colour = QColor("#ff8a80") if tile.state is SourceState.FAILED else QColor("#ffd54f")
        elif tile.frozen is not None:
            parts.append(self._frozen_text(tile))
            colour = QColor("#ffd54f")
        elif tile.state is SourceState.LIVE and tile.ticket is not None:
            words = mode_text(tile.ticket.mode)
            if words:
                parts.append(words)
        if tile.ticket is not None and tile.ticket.failed:
            parts.append(reason_text(tile.ticket.failed) or "")
        return (" · ".join(p for p in parts if p), colour) if parts else None

    def _check_overlay(self, tile: _Tile, dpr: float) -> bool:
        """Make the tile's overlay images again when what they show changed (the title, the light,
        recording, the status line, the size, the font); True when they changed. Called when the
        overlay was marked stale and with each status refresh, not per frame."""
        rect = tile.rect
        title = self._title(tile)
        status = self._status_line(tile)
        key = (rect.size().toTuple(), dpr, title, tile.decoration.light, tile.decoration.recording,
               status[0] if status else None, status[1].name() if status else None, self.font().key())
        if key == tile.overlay_key:
            return False
        tile.overlay_key = key
        tile.overlay_top = self._render_bar(rect.width(), dpr, title, tile.decoration, None)
        tile.overlay_bottom = (self._render_bar(rect.width(), dpr, status[0], None, status[1])
                               if status else None)
        if tile.overlay_bottom is not None:
            h = round(tile.overlay_bottom.height() / dpr)
            tile.overlay_bottom_at = QPoint(rect.left(), rect.bottom() + 1 - h)
        return True

    def _render_bar(
        self, width: int, dpr: float, text: str, decoration: TileDecoration | None, colour: QColor | None
    ) -> QImage:
        """A translucent strip with text (and, on the title bar, the light and recording dots), made
        once per change and drawn over the video on every frame."""
        fm = QFontMetrics(self.font())
        height = fm.height() + 6
        image = QImage(round(width * dpr), round(height * dpr), QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        image.fill(Qt.GlobalColor.transparent)
        q = QPainter(image)
        try:
            q.setRenderHint(QPainter.RenderHint.Antialiasing)
            q.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            q.fillRect(QRect(0, 0, width, height), _BAR)
            x, right = 6, width - 6
            dot = max(8, fm.height() // 2)
            y_dot = (height - dot) // 2
            if decoration is not None and decoration.light in _LIGHT_COLOURS:
                q.setPen(QPen(QColor(0, 0, 0, 160), 1))
                q.setBrush(QBrush(_LIGHT_COLOURS[decoration.light]))
                q.drawEllipse(QRect(x, y_dot, dot, dot))
                x += dot + 6
            if decoration is not None and decoration.recording:
                rec = QCoreApplication.translate("CameraGrid", "REC")
                rec_w = fm.horizontalAdvance(rec)
                q.setPen(QColor("#ffffff"))
                q.drawText(QRect(right - rec_w, 0, rec_w, height), Qt.AlignmentFlag.AlignVCenter, rec)
                right -= rec_w + 4
                q.setPen(Qt.PenStyle.NoPen)
                q.setBrush(QBrush(QColor("#e53935")))
                q.drawEllipse(QRect(right - dot, y_dot, dot, dot))
                right -= dot + 6
            q.setPen(colour or QColor("#ffffff"))
            elided = fm.elidedText(text, Qt.TextElideMode.ElideRight, max(0, right - x))
            q.drawText(QRect(x, 0, max(0, right - x), height), Qt.AlignmentFlag.AlignVCenter, elided)
        finally:
            q.end()
        return image

