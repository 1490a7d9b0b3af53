"""Drawing staff-seat regions on a camera tile (the tile's "Edit seat regions…" mode).

A :class:`SeatEditor` lies over one tile of a :class:`~desktop.video.grid.CameraGrid` while the
operator edits: the live picture stays visible under it; each seat is a rectangle labelled with its
window's number. Drag on the picture to draw a seat for the window picked in the bar; click a seat
to select it (the bar then picks its window, and picking another window moves the seat there);
drag a seat to move it, drag a corner handle of the selected seat to resize it, or nudge it with
the arrow keys (a pixel; with Shift, ten); Delete removes it; Save stores the seats through the
terminal's writer thread (the analytics follow at once), Esc or Cancel leaves them as they were.
Regions are fractions of the picture (0-1, origin top left), whatever the tile's size. A camera
whose seats the config file sets is shown read-only, saying so.

The backend is the terminal (:meth:`app.terminal.Terminal.seat_regions` and
``save_seat_regions``): both run off the GUI thread and answer through a callback, re-posted here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QCursor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from app.seats import SeatRegions
from supervision.seats import Seat

__all__ = ["SeatBackend", "SeatEditor", "install_seat_editing"]

log = logging.getLogger(__name__)

_MIN_PX = 6  # a drag shorter than this is a click; a seat is never resized smaller than this
_HANDLE_PX = 7  # half the side of a corner handle of the selected seat
_ARROWS: dict[int, tuple[int, int]] = {int(Qt.Key.Key_Left): (-1, 0), int(Qt.Key.Key_Right): (1, 0),
                                       int(Qt.Key.Key_Up): (0, -1), int(Qt.Key.Key_Down): (0, 1)}
_SEAT = QColor("#4fc3f7")
_SELECTED = QColor("#ffd54f")
_DRAWING = QColor("#80cbc4")


class SeatBackend(Protocol):
    def seat_regions(self, camera_id: str, on_done: Callable[[Any], None] | None = None) -> None: ...

    def save_seat_regions(self, camera_id: str, seats: list[Seat], *, by: str,
                          on_done: Callable[[Any], None] | None = None) -> None: ...


class _Grid(Protocol):  # what the editor needs of the camera grid
    def tile_rect(self, index: int) -> QRect: ...
    def picture_rect(self, index: int) -> QRect: ...


class SeatEditor(QWidget):
    """The seat regions of one camera, drawn over its tile; closes itself when saved or cancelled."""

    saved = Signal(str)  # the camera id, once its seats are stored
    closed = Signal()
    _answer = Signal(object)  # (what, outcome) from the writer thread

    def __init__(self, grid: QWidget, index: int, camera_id: str, backend: SeatBackend, *, by: str = "") -> None:
        super().__init__(grid)
        self.grid = grid
        self.index = index
        self.camera_id = camera_id
        self.backend = backend
        self.by = by
        self.seats: list[Seat] = []
        self.selected: int | None = None
        self.configured = False
        self.loaded = False
        self._windows: list[tuple[str, str, str]] = []
        self._drag: tuple[QPointF, QPointF] | None = None
        self._edit: tuple[str, int, QPointF, Seat] | None = None  # ("move" or a corner, seat, press, seat then)
        self._answer.connect(self._on_answer)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)  # the cursor says what a drag would do
        self.setObjectName("seatEditor")

        self.bar = QFrame(self)
        self.bar.setAutoFillBackground(True)
        self.window_box = QComboBox(self.bar)
        self.window_box.currentIndexChanged.connect(self._window_picked)
        self.delete_button = QPushButton(QCoreApplication.translate("SeatEditor", "Delete seat"), self.bar)
        self.delete_button.clicked.connect(self.delete_selected)
        self.save_button = QPushButton(QCoreApplication.translate("SeatEditor", "Save"), self.bar)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton(QCoreApplication.translate("SeatEditor", "Cancel"), self.bar)
        self.cancel_button.clicked.connect(self.close)
        self.message = QLabel(QCoreApplication.translate("SeatEditor", "Loading the seats…"), self.bar)
        row = QHBoxLayout(self.bar)
        row.setContentsMargins(4, 2, 4, 2)
        row.addWidget(QLabel(QCoreApplication.translate("SeatEditor", "Window:"), self.bar))
        row.addWidget(self.window_box)
        row.addWidget(self.delete_button)
        row.addWidget(self.message, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.cancel_button)
        self._update_controls()

        # The tile moves with the grid's layout and its picture with the stream: follow both.
        grid.installEventFilter(self)
        for name in ("layoutChanged", "maximisedChanged"):
            sig = getattr(grid, name, None)
            if sig is not None:
                sig.connect(self._place)
        self._follow = QTimer(self)
        self._follow.setInterval(500)
        self._follow.timeout.connect(self._place)
        self._follow.start()
        self._place()
        backend.seat_regions(camera_id, on_done=lambda outcome: self._answer.emit(("load", outcome)))

    # -- geometry -----------------------------------------------------------------------------------
    def _grid(self) -> _Grid:
        return self.grid  # type: ignore[return-value]

    def _place(self) -> None:
        rect = self._grid().tile_rect(self.index)
        if rect != self.geometry():
            self.setGeometry(rect)
        hint = self.bar.sizeHint()
        self.bar.setGeometry(0, 0, self.width(), min(hint.height(), self.height()))
        self.update()

    def picture(self) -> QRectF:
        """The picture's rectangle in this widget's coordinates (where fractions 0-1 lie)."""
        pic = self._grid().picture_rect(self.index).translated(-self.x(), -self.y())
        return QRectF(pic)

    def to_widget(self, seat: Seat) -> QRectF:
        p = self.picture()
        return QRectF(p.x() + seat.x * p.width(), p.y() + seat.y * p.height(), seat.w * p.width(),
                      seat.h * p.height())

    def to_fractions(self, a: QPointF, b: QPointF, window_id: str) -> Seat | None:
        p = self.picture()
        if p.width() <= 0 or p.height() <= 0:
            return None

        def fx(v: float) -> float:
            return min(1.0, max(0.0, (v - p.x()) / p.width()))

        def fy(v: float) -> float:
            return min(1.0, max(0.0, (v - p.y()) / p.height()))

        x0, x1 = sorted((fx(a.x()), fx(b.x())))
        y0, y1 = sorted((fy(a.y()), fy(b.y())))
        if x1 - x0 <= 0 or y1 - y0 <= 0 or x0 >= 1.0 or y0 >= 1.0:
            return None
        return Seat(window_id, round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid and event.type() == QEvent.Type.Resize:
            QTimer.singleShot(0, self, self._place)
        return False

    def sizeHint(self) -> QSize:
        return self._grid().tile_rect(self.index).size()

    # -- answers from the writer thread -------------------------------------------------------------
    def _on_answer(self, msg: tuple[str, Any]) -> None:
        what, outcome = msg
        if what == "load":
            if not outcome.ok:
                self.message.setText(QCoreApplication.translate(
                    "SeatEditor", "Cannot read the seats: {error}").format(error=outcome.error))
                return
            regions: SeatRegions = outcome.value
            self.seats = list(regions.seats)
            self.configured = regions.configured
            self._windows = list(regions.windows)
            self.loaded = True
            self.window_box.blockSignals(True)
            self.window_box.clear()
            for wid, number, name in self._windows:
                self.window_box.addItem(f"{number} {name}".strip(), wid)
            first = regions.window_id if regions.window_id else None
            at = self.window_box.findData(first) if first else -1
            self.window_box.setCurrentIndex(at if at >= 0 else 0)
            self.window_box.blockSignals(False)
            if self.configured:
                self.message.setText(QCoreApplication.translate(
                    "SeatEditor", "The config file sets these seats ([[cameras]] seats): shown only"))
            else:
                self.message.setText(QCoreApplication.translate(
                    "SeatEditor", "Drag on the picture to draw the seat of the window picked"))
                self.message.setToolTip(QCoreApplication.translate(
                    "SeatEditor", "Drag on the picture to draw the seat of the window picked; drag a seat to "
                                  "move it, its corners to resize it; arrow keys nudge it (Shift: ten pixels)"))
            self._update_controls()
            self.update()
        elif what == "save":
            if outcome.ok:
                self.saved.emit(self.camera_id)
                self.close()
            else:
                self.save_button.setEnabled(True)
                self.message.setText(QCoreApplication.translate(
                    "SeatEditor", "Not saved: {error}").format(error=outcome.error))

    # -- editing ------------------------------------------------------------------------------------
    def _editable(self) -> bool:
        return self.loaded and not self.configured

    def _update_controls(self) -> None:
        editable = self._editable()
        self.window_box.setEnabled(editable and self.window_box.count() > 0)
        self.delete_button.setEnabled(editable and self.selected is not None)
        self.save_button.setEnabled(editable)

    def current_window(self) -> str | None:
        data = self.window_box.currentData()
        return data if isinstance(data, str) else None

    def select(self, i: int | None) -> None:
        self.selected = i
        if i is not None:
            at = self.window_box.findData(self.seats[i].window_id)
            if at >= 0:
                self.window_box.blockSignals(True)
                self.window_box.setCurrentIndex(at)
                self.window_box.blockSignals(False)
        self._update_controls()
        self.update()

    def _window_picked(self, _index: int) -> None:
        wid = self.current_window()
        if self.selected is None or wid is None or not self._editable():
            return
        seat = self.seats[self.selected]
        if seat.window_id == wid:
            return
        # One seat per window: a seat moved to a window that had one replaces it.
        self.seats = [s for j, s in enumerate(self.seats) if j == self.selected or s.window_id != wid]
        self.selected = next(j for j, s in enumerate(self.seats) if s is seat)
        self.seats[self.selected] = Seat(wid, seat.x, seat.y, seat.w, seat.h)
        self.update()

    def add(self, seat: Seat) -> None:
        """A seat drawn: it replaces the window's seat if it had one."""
        self.seats = [s for s in self.seats if s.window_id != seat.window_id] + [seat]
        self.select(len(self.seats) - 1)

    def delete_selected(self) -> None:
        if self.selected is None or not self._editable():
            return
        del self.seats[self.selected]
        self.select(None)

    def save(self) -> None:
        if not self._editable():
            return
        self.save_button.setEnabled(False)
        self.message.setText(QCoreApplication.translate("SeatEditor", "Saving…"))
        self.backend.save_seat_regions(self.camera_id, list(self.seats), by=self.by,
                                       on_done=lambda outcome: self._answer.emit(("save", outcome)))

    def seat_at(self, pos: QPointF) -> int | None:
        for i in range(len(self.seats) - 1, -1, -1):
            if self.to_widget(self.seats[i]).contains(pos):
                return i
        return None

    def handles(self, seat: Seat) -> dict[str, QRectF]:
        """The corner handles of a seat, in widget coordinates."""
        r = self.to_widget(seat)
        d = _HANDLE_PX
        points = {"tl": r.topLeft(), "tr": r.topRight(), "bl": r.bottomLeft(), "br": r.bottomRight()}
        return {k: QRectF(pt.x() - d, pt.y() - d, 2 * d, 2 * d) for k, pt in points.items()}

    def corner_at(self, pos: QPointF) -> str | None:
        """The corner handle of the selected seat under ``pos``."""
        if self.selected is None:
            return None
        hits = [(abs(r.center().x() - pos.x()) + abs(r.center().y() - pos.y()), k)
                for k, r in self.handles(self.seats[self.selected]).items() if r.contains(pos)]
        return min(hits)[1] if hits else None  # a small seat's handles overlap: the nearest corner

    def moved(self, seat: Seat, dx: float, dy: float) -> Seat:
        """``seat`` moved by (dx, dy) fractions, kept whole inside the picture."""
        x = min(max(0.0, seat.x + dx), 1.0 - seat.w)
        y = min(max(0.0, seat.y + dy), 1.0 - seat.h)
        return Seat(seat.window_id, round(x, 4), round(y, 4), seat.w, seat.h)

    def resized(self, seat: Seat, corner: str, dx: float, dy: float) -> Seat:
        """``seat`` with ``corner`` dragged by (dx, dy) fractions; the opposite corner stays, the
        seat stays inside the picture and at least a few pixels wide and high."""
        p = self.picture()
        min_w = _MIN_PX / p.width() if p.width() > 0 else 0.01
        min_h = _MIN_PX / p.height() if p.height() > 0 else 0.01
        x0, y0, x1, y1 = seat.x, seat.y, seat.x + seat.w, seat.y + seat.h
        if corner[1] == "l":
            x0 = min(max(0.0, x0 + dx), x1 - min_w)
        else:
            x1 = max(min(1.0, x1 + dx), x0 + min_w)
        if corner[0] == "t":
            y0 = min(max(0.0, y0 + dy), y1 - min_h)
        else:
            y1 = max(min(1.0, y1 + dy), y0 + min_h)
        return Seat(seat.window_id, round(x0, 4), round(y0, 4), round(x1 - x0, 4), round(y1 - y0, 4))

    def _cursor_for(self, pos: QPointF) -> Qt.CursorShape:
        if not self._editable():
            return Qt.CursorShape.ArrowCursor
        corner = self.corner_at(pos)
        if corner is not None:
            return Qt.CursorShape.SizeFDiagCursor if corner in ("tl", "br") else Qt.CursorShape.SizeBDiagCursor
        if self.seat_at(pos) is not None:
            return Qt.CursorShape.SizeAllCursor
        return Qt.CursorShape.CrossCursor if self.picture().contains(pos) else Qt.CursorShape.ArrowCursor

    # -- events -------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        pos = event.position()
        self.setFocus()
        self._drag = self._edit = None
        corner = self.corner_at(pos) if self._editable() else None
        if corner is not None and self.selected is not None:
            self._edit = (corner, self.selected, pos, self.seats[self.selected])
            return
        hit = self.seat_at(pos)
        if hit is not None:
            self.select(hit)
            if self._editable():
                self._edit = ("move", hit, pos, self.seats[hit])
            return
        if self._editable() and self.picture().contains(pos):
            self._drag = (pos, pos)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._edit is not None:
            what, i, press, before = self._edit
            p = self.picture()
            if p.width() <= 0 or p.height() <= 0 or i >= len(self.seats):
                return
            dx, dy = (pos.x() - press.x()) / p.width(), (pos.y() - press.y()) / p.height()
            self.seats[i] = self.moved(before, dx, dy) if what == "move" else self.resized(before, what, dx, dy)
            self.update()
        elif self._drag is not None:
            self._drag = (self._drag[0], pos)
            self.update()
        else:
            self.setCursor(QCursor(self._cursor_for(pos)))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._edit is not None:
            self._edit = None
            self.update()
            return
        drag, self._drag = self._drag, None
        if drag is None or event.button() != Qt.MouseButton.LeftButton:
            return
        a, b = drag[0], event.position()
        wid = self.current_window()
        if abs(a.x() - b.x()) < _MIN_PX or abs(a.y() - b.y()) < _MIN_PX:
            self.select(None)
            return
        if wid is None:
            self.message.setText(QCoreApplication.translate("SeatEditor", "Pick the window first"))
            return
        seat = self.to_fractions(a, b, wid)
        if seat is not None:
            self.add(seat)
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.close()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save()
        elif int(key) in _ARROWS and self.selected is not None and self._editable():
            p = self.picture()
            step = 10 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 1
            ax, ay = _ARROWS[int(key)]
            if p.width() > 0 and p.height() > 0:
                i = self.selected
                self.seats[i] = self.moved(self.seats[i], ax * step / p.width(), ay * step / p.height())
                self.update()
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event: Any) -> None:
        self._follow.stop()
        self.grid.removeEventFilter(self)
        self.closed.emit()
        super().closeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        pic = self.picture()
        p.setPen(QPen(QColor(255, 255, 255, 90), 1, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(pic.adjusted(0, 0, -1, -1))
        numbers = {wid: number for wid, number, _ in self._windows}
        for i, seat in enumerate(self.seats):
            r = self.to_widget(seat)
            colour = _SELECTED if i == self.selected else _SEAT
            fill = QColor(colour)
            fill.setAlpha(50)
            p.setPen(QPen(colour, 2))
            p.setBrush(fill)
            p.drawRect(r)
            # the window's number on a solid tab above the seat's corner: readable over any picture
            label = numbers.get(seat.window_id, seat.window_id)
            font = p.font()
            font.setBold(True)
            p.setFont(font)
            tab = QRectF(p.fontMetrics().boundingRect(label)).adjusted(-5, -2, 5, 2)
            # beside the selected seat's corner handle, not under it
            dx = _HANDLE_PX + 2 if i == self.selected and self._editable() else 0
            tab.moveTopLeft(r.topLeft() + QPointF(dx, -tab.height() if r.top() - tab.height() >= pic.top() else 0))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(colour)
            p.drawRect(tab)
            p.setPen(QColor(0, 0, 0) if colour.lightness() > 128 else QColor(255, 255, 255))
            p.drawText(tab, Qt.AlignmentFlag.AlignCenter, label)
        if self.selected is not None and self._editable() and self.selected < len(self.seats):
            p.setPen(QPen(QColor(0, 0, 0), 1))
            p.setBrush(_SELECTED)
            for h in self.handles(self.seats[self.selected]).values():
                p.drawRect(h)
        if self._drag is not None:
            a, b = self._drag
            p.setPen(QPen(_DRAWING, 2, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(a, b).normalized())
        p.end()


def install_seat_editing(grid: Any, backend: SeatBackend, *, by: str | Callable[[], str] = "") -> None:
    """Give the grid's tiles the "Edit seat regions…" mode (one editor at a time)."""
    current: list[SeatEditor] = []

    def edit(index: int, camera_id: str) -> SeatEditor:
        for old in current:
            old.close()
        current.clear()
        who = by() if callable(by) else by
        editor = SeatEditor(grid, index, camera_id, backend, by=who)
        current.append(editor)
        editor.closed.connect(lambda: current.remove(editor) if editor in current else None)
        editor.show()
        editor.raise_()
        editor.setFocus()
        return editor

    grid.set_seat_editing(edit)

