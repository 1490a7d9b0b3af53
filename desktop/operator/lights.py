"""The warning lights board: every window of the hall and every department as a light.

Laid out like the hall floor: each hall, then its areas (the letter prefix of a window's number:
A, B, C …) in rows, windows by number; the departments below. A light is green, notice (blue),
yellow or red — the worst undisposed warning on an open subject or raised today, as the warning
monitor's snapshot gives it (``by_window`` / ``by_department``). A window red because of a red
nobody acknowledged blinks. A click selects a window (``window_selected(window_id)``) and a second
click, or a click on empty floor, clears it (``window_selected(None)``).

The window list comes from the store through the reader (``refresh()``); the levels come from
the snapshot (``set_snapshot``) — nothing here touches the database on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFont,
    QFontMetrics,
    QHelpEvent,
    QHideEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import QScrollArea, QToolTip, QWidget

from desktop.operator.common import ink_on
from desktop.operator.queries import HallLayout, WindowInfo, hall_layout
from desktop.operator.reader import Reader
from desktop.operator.snapshot import SnapshotLike, unacknowledged_red_windows
from desktop.theme import DARK, Palette
from desktop.words import level_text

__all__ = ["LightsBoard"]

TILE_W, TILE_H, GAP, MARGIN = 86, 54, 8, 12
# tile sizes tried, largest first, until the floor fits the height it is given (a short dock
# gets number-only tiles rather than a scroll bar)
SIZES = ((TILE_W, TILE_H), (72, 44), (58, 30), (46, 24))
SUBTITLE_MIN_H = 44
BLINK_MS = 500
_LEVELS = ("notice", "yellow", "red")


@dataclass(slots=True)
class _Tile:
    kind: str  # "window" | "department"
    id: str
    title: str
    subtitle: str
    rect: QRect


class _Floor(QWidget):
    """The painted floor plan; the board (a scroll area) holds it."""

    def __init__(self, board: LightsBoard) -> None:
        super().__init__(board)
        self.board = board
        self.tiles: list[_Tile] = []
        self.labels: list[tuple[QRect, str, bool]] = []  # rect, text, is a heading
        self.strip = False  # too short for the floor plan: one flow of lights
        # The floor as painted, per blink phase: a blink or an expose only draws a pixmap; the floor
        # is drawn again only when something it shows changed (levels, selection, size, palette).
        self._cache: dict[bool, QPixmap] = {}
        self.setMouseTracking(True)

    def invalidate(self) -> None:
        """Something shown changed: draw the floor again on the next paint."""
        self._cache.clear()
        self.update()

    # layout: positions for the current width, tiles as large as the height allows
    def relayout(self) -> None:
        width = max(self.width(), 160)
        room = self.board.viewport().height()
        self.strip = False
        for tw, th in SIZES:
            tiles, labels, height = self._place(width, tw, th)
            if height <= room:
                break
        else:  # not even the smallest floor plan fits: one strip of lights, no headings
            strip = self._strip(width, *SIZES[-1])
            if strip[2] < height:
                tiles, labels, height = strip
                self.strip = True
        self.tiles, self.labels = tiles, labels
        self.setMinimumHeight(height)
        self.invalidate()

    def _strip(self, width: int, tw: int, th: int) -> tuple[list[_Tile], list[tuple[QRect, str, bool]], int]:
        """Every window in one flow (area letters inline), then the departments: for a dock too
        short for the floor plan."""
        b = self.board
        fm = QFontMetrics(self.font())
        gap = GAP // 2
        tiles: list[_Tile] = []
        labels: list[tuple[QRect, str, bool]] = []
        x, y = MARGIN, MARGIN // 2
        letter_w = fm.horizontalAdvance("MM")

        def room_for(w: int) -> None:
            nonlocal x, y
            if x + w > width - MARGIN and x > MARGIN:
                x, y = MARGIN, y + th + gap

        for _hall_id, _name, areas in b.floor():
            for area, windows in areas:
                room_for(letter_w + tw)
                labels.append((QRect(x, y, letter_w, th), area, False))
                x += letter_w
                for w in windows:
                    room_for(tw)
                    tiles.append(_Tile("window", w.id, w.number, w.name, QRect(x, y, tw, th)))
                    x += tw + gap
                x += gap * 2
        dw = max(fm.horizontalAdvance("人力资源和社会保障局") + 16, int(tw * 1.6))
        for dept in b.departments():
            room_for(dw)
            tiles.append(_Tile("department", dept, dept, "", QRect(x, y, dw, th)))
            x += dw + gap
        return tiles, labels, y + th + MARGIN // 2

    def _place(self, width: int, tw: int, th: int) -> tuple[list[_Tile], list[tuple[QRect, str, bool]], int]:
        """Tiles of ``tw``×``th`` flowed over ``width``: the legend, each hall with its areas in
        rows (hall headings left out when the tiles are small), and the departments — beside the
        windows when the width allows, else below them. Returns the tiles, the labels and the
        height used."""
        b = self.board
        fm = QFontMetrics(self.font())
        line = fm.height()
        compact = th < SUBTITLE_MIN_H
        gap = GAP if not compact else GAP // 2
        tiles: list[_Tile] = []
        labels: list[tuple[QRect, str, bool]] = []
        top = MARGIN // 2 + line + gap  # below the legend's line
        area_w = fm.horizontalAdvance("MM") + 8
        floor = b.floor()
        per_row = max((len(ws) for _h, _n, areas in floor for _a, ws in areas), default=0)
        block_w = area_w + per_row * (tw + gap)
        dw = max(fm.horizontalAdvance("人力资源和社会保障局") + 16, int(tw * 1.6))
        dh = max(line + 8, th // 2 + 8)
        beside = bool(b.departments()) and width - (MARGIN + block_w + 3 * gap) >= 2 * (dw + gap) + MARGIN
        right = MARGIN + block_w if beside else width - MARGIN
        y = top
        for hall_id, hall_name, areas in floor:
            if not compact or (len(floor) > 1 and not beside):
                labels.append((QRect(MARGIN, y, right - MARGIN, line + 2), hall_name or hall_id, True))
                y += line + 2 + gap // 2
            for area, windows in areas:
                labels.append((QRect(MARGIN, y, area_w, th), area, False))
                x = MARGIN + area_w
                for w in windows:
                    if x + tw > right and x > MARGIN + area_w:
                        x = MARGIN + area_w
                        y += th + gap
                    tiles.append(_Tile("window", w.id, w.number, w.name, QRect(x, y, tw, th)))
                    x += tw + gap
                y += th + gap
        windows_end = y
        if b.departments():
            x0 = MARGIN + block_w + 3 * gap if beside else MARGIN
            y = top if beside else y
            heading = QCoreApplication.translate("LightsBoard", "Departments")
            labels.append((QRect(x0, y, width - MARGIN - x0, line + 2), heading, True))
            y += line + 2 + gap // 2
            x = x0
            for dept in b.departments():
                if x + dw > width - MARGIN and x > x0:
                    x = x0
                    y += dh + gap
                tiles.append(_Tile("department", dept, dept, "", QRect(x, y, dw, dh)))
                x += dw + gap
            y += dh + gap
        return tiles, labels, max(windows_end, y) + MARGIN // 2

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.relayout()

    def sizeHint(self) -> QSize:
        return QSize(MARGIN * 2 + 40 + 10 * (TILE_W + GAP), self.minimumHeight())

    def tile_at(self, pos: QPoint) -> _Tile | None:
        for t in self.tiles:
            if t.rect.contains(pos):
                return t
        return None

    def paintEvent(self, event: QPaintEvent) -> None:
        if self.width() <= 0 or self.height() <= 0:
            return
        phase = self.board.blink_on or not self.board.blinking()
        ratio = self.devicePixelRatioF()
        pixmap = self._cache.get(phase)
        if pixmap is None or pixmap.size() != self.size() * ratio:
            pixmap = QPixmap(self.size() * ratio)
            pixmap.setDevicePixelRatio(ratio)
            painter = QPainter(pixmap)
            self._draw(painter)
            painter.end()
            self._cache[phase] = pixmap
        p = QPainter(self)
        p.drawPixmap(0, 0, pixmap)
        p.end()

    def _draw(self, p: QPainter) -> None:
        b = self.board
        pal = b.palette_
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), pal.color("background"))
        base = self.font()
        fm = QFontMetrics(base)
        # legend: one swatch per level (not in a one-strip board: the tooltips say the level)
        x = MARGIN
        y = MARGIN // 2
        for lvl in () if self.strip else (None, *_LEVELS):
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.level_color(lvl))
            p.drawEllipse(QRectF(x, y + 2, fm.height() - 4, fm.height() - 4))
            x += fm.height()
            text = level_text(lvl)
            p.setPen(pal.color("text"))
            p.drawText(QPoint(x, y + fm.ascent()), text)
            x += fm.horizontalAdvance(text) + 16
        bold = QFont(base)
        bold.setBold(True)
        for rect, text, heading in self.labels:
            p.setFont(bold if heading else base)
            p.setPen(pal.color("text" if heading else "muted"))
            flags = Qt.AlignmentFlag.AlignVCenter | (
                Qt.AlignmentFlag.AlignLeft if heading else Qt.AlignmentFlag.AlignHCenter)
            p.drawText(rect, int(flags), text)
        small = QFont(base)
        small.setPointSizeF(max(6.0, base.pointSizeF() * 0.8))
        sfm = QFontMetrics(small)
        for t in self.tiles:
            level = b.level_of(t.id) if t.kind == "window" else b.department_level(t.id)
            fill_role = str(level) if level in _LEVELS else "green"
            blinking = t.kind == "window" and t.id in b.blinking() and not b.blink_on
            r = QRectF(t.rect).adjusted(1, 1, -1, -1)
            selected = t.kind == "window" and t.id == b.selected
            if blinking:
                p.setBrush(pal.color("base"))
                p.setPen(QPen(pal.color("red"), 3))
            else:
                p.setBrush(pal.color(fill_role))
                p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(r, 6, 6)
            if selected:
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.setPen(QPen(pal.color("text"), 3))
                p.drawRoundedRect(r.adjusted(-1, -1, 1, 1), 7, 7)
            ink = pal.color("red") if blinking else ink_on(pal.color(fill_role))
            p.setPen(ink)
            if t.kind == "window" and t.rect.height() < SUBTITLE_MIN_H:
                p.setFont(bold)
                p.drawText(t.rect, int(Qt.AlignmentFlag.AlignCenter), t.title)
            elif t.kind == "window":
                p.setFont(bold)
                p.drawText(t.rect.adjusted(4, 4, -4, -t.rect.height() // 2),
                           int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), t.title)
                p.setFont(small)
                sub = sfm.elidedText(t.subtitle, Qt.TextElideMode.ElideRight, t.rect.width() - 8)
                p.drawText(t.rect.adjusted(4, t.rect.height() // 2, -4, -4),
                           int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter), sub)
            else:
                p.setFont(base)
                text = fm.elidedText(t.title, Qt.TextElideMode.ElideRight, t.rect.width() - 10)
                p.drawText(t.rect, int(Qt.AlignmentFlag.AlignCenter), text)
        if not self.tiles:
            p.setFont(base)
            p.setPen(pal.color("muted"))
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter),
                       QCoreApplication.translate("LightsBoard", "No windows yet"))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        t = self.tile_at(event.position().toPoint())
        if t is None or t.kind != "window":
            self.board.choose(None)
        else:
            self.board.choose(None if t.id == self.board.selected else t.id)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()  # the press chose; the release is ours too

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ToolTip and isinstance(e, QHelpEvent):
            t = self.tile_at(e.pos())
            if t is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(e.globalPos(), self.board.tooltip(t), self)
            return True
        return super().event(e)


class LightsBoard(QScrollArea):
    """The hall floor with a light per window and per department.

    ``reader``: the panels' :class:`Reader` (the window list is read through it on ``refresh()``);
    ``palette``: colours. Feed ``set_snapshot`` with each new warning snapshot.
    """

    #: the clicked window's id, or None when the selection was cleared
    window_selected = Signal(object)

    def __init__(self, reader: Reader | None, palette: Palette = DARK, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = reader
        self.palette_ = palette
        self.selected: str | None = None
        self.blink_on = True
        self._layout = HallLayout((), (), {})
        self._by_window: dict[str, str] = {}
        self._by_department: dict[str, str] = {}
        self._blinking: frozenset[str] = frozenset()
        self._generation = -1
        self.redraws = 0  # floors drawn again for a snapshot that changed a light (for tests)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.floor_widget = _Floor(self)
        self.setWidget(self.floor_widget)
        self._blink = QTimer(self)
        self._blink.setInterval(BLINK_MS)
        self._blink.timeout.connect(self._toggle_blink)
        self.setMinimumSize(QSize(SIZES[-1][0] * 6, SIZES[-1][1] * 3))

    # -- input -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the windows and departments (after a sync that may have changed them)."""
        if self.reader is not None:
            self.reader.submit("lights.layout", hall_layout, self.set_layout)

    def set_layout(self, layout: HallLayout) -> None:
        self._layout = layout
        if self.selected is not None and layout.window(self.selected) is None:
            self.choose(None)
        self.floor_widget.relayout()

    def set_snapshot(self, snap: SnapshotLike) -> None:
        """Take the levels of a warning snapshot (GUI thread). The window list is read again when
        the snapshot names a window the board does not know (the first sync brought the hall)."""
        known = {w.id for w in self._layout.windows}
        if self.reader is not None and not self.reader.pending("lights.layout") and (
                not known or any(w not in known for w in snap.by_window)):
            self.refresh()
        self._generation = snap.generation
        by_window = {k: str(v) for k, v in snap.by_window.items()}
        by_department = {k: str(v) for k, v in snap.by_department.items()}
        blinking = unacknowledged_red_windows(snap)  # worked out by the relay, off this thread
        if (by_window, by_department, blinking) == (self._by_window, self._by_department, self._blinking):
            return  # the same lights: the floor as drawn stays
        self._by_window, self._by_department, self._blinking = by_window, by_department, blinking
        if self._blinking and not self._blink.isActive():
            self._blink.start()
        elif not self._blinking:
            self._blink.stop()
            self.blink_on = True
        self.redraws += 1
        self.floor_widget.invalidate()

    def set_palette(self, palette: Palette) -> None:
        self.palette_ = palette
        self.floor_widget.invalidate()

    def select_window(self, window_id: str | None) -> None:
        """Show ``window_id`` as selected without emitting (when the selection came from elsewhere)."""
        self.selected = window_id
        self.floor_widget.invalidate()

    # -- what it shows (also for tests) ----------------------------------------------------------
    def layout_(self) -> HallLayout:
        return self._layout

    def level_of(self, window_id: str) -> str | None:
        """The light of a window: "notice", "yellow", "red", or None for green."""
        return self._by_window.get(window_id)

    def department_level(self, department: str) -> str | None:
        return self._by_department.get(department)

    def blinking(self) -> frozenset[str]:
        """Windows red for an unacknowledged red (they blink)."""
        return self._blinking

    def windows(self) -> tuple[WindowInfo, ...]:
        return self._layout.windows

    def departments(self) -> tuple[str, ...]:
        return self._layout.departments

    def floor(self) -> list[tuple[str, str, list[tuple[str, list[WindowInfo]]]]]:
        """Halls (by their first window number), each with its areas in order."""
        halls: dict[str, tuple[str, dict[str, list[WindowInfo]]]] = {}
        for w in self._layout.windows:
            halls.setdefault(w.hall_id, (w.hall_name, {}))[1].setdefault(w.area, []).append(w)
        out = []
        for hall_id, (name, areas) in halls.items():
            out.append((hall_id, name, sorted(areas.items())))
        out.sort(key=lambda h: min((a for a, _ in h[2]), default=""))
        return out

    def tile_rect(self, window_id: str) -> QRect | None:
        for t in self.floor_widget.tiles:
            if t.kind == "window" and t.id == window_id:
                return QRect(t.rect)
        return None

    def tooltip(self, t: _Tile) -> str:
        if t.kind == "department":
            return f"{t.title}\n{level_text(self.department_level(t.id))}"
        w = self._layout.window(t.id)
        lines = [f"{t.title} {t.subtitle}"]
        if w is not None:
            lines.append(" · ".join(x for x in (w.hall_name, w.department) if x))
        lines.append(level_text(self.level_of(t.id)))
        if t.id in self._blinking:
            lines.append(self.tr("A red card is not acknowledged yet"))
        return "\n".join(lines)

    def choose(self, window_id: str | None) -> None:
        if window_id == self.selected:
            return
        self.selected = window_id
        self.floor_widget.invalidate()
        self.window_selected.emit(window_id)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.floor_widget.relayout()  # the height changed: maybe other tile sizes fit

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.floor_widget.relayout()  # headings and the legend are words
        super().changeEvent(event)

    def _toggle_blink(self) -> None:
        self.blink_on = not self.blink_on
        self.floor_widget.update()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._blink.stop()  # nothing blinks unseen

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._blinking:
            self._blink.start()
