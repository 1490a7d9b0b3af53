"""The review window's pictures: one camera, or 2×2 cameras played in sync, on one plain widget.

Each cell paints its player's newest picture (read on the paint timer, never a signal per frame)
with the camera's name and the frame's own time; a gap says why there is no footage. A click
selects the lead camera (the one the timeline, frame steps and bookmarks follow); a double-click
switches between that camera alone and 2×2; a camera dragged from the tree onto a cell replaces it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from desktop.shell.camera_tree import CAMERA_MIME
from desktop.theme import current_palette
from video.archive import ArchiveFrame, ArchiveGap

__all__ = ["ReviewScreens"]

Picture = ArchiveFrame | ArchiveGap | None


class _Cell:
    __slots__ = ("camera_id", "image", "name", "shown")

    def __init__(self, camera_id: str, name: str) -> None:
        self.camera_id = camera_id
        self.name = name
        self.shown: ArchiveFrame | ArchiveGap | None = None
        self.image: QImage | None = None


class ReviewScreens(QWidget):
    """1 or 2×2 cells; ``lead_changed(index)``, ``toggle_layout(index)`` (double-click),
    ``camera_dropped(index, camera_id)``."""

    lead_changed = Signal(int)
    toggle_layout = Signal(int)
    camera_dropped = Signal(int, str)

    def __init__(self, tz: ZoneInfo, gap_words: Callable[[ArchiveGap], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self._gap_words = gap_words
        self._cells: list[_Cell] = []
        self.lead = 0
        self.setAcceptDrops(True)
        self.setMinimumSize(320, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    # -- content ---------------------------------------------------------------------------------
    def set_cells(self, cells: Sequence[tuple[str, str]]) -> None:
        """(camera id, name) per cell, in order."""
        self._cells = [_Cell(cid, name) for cid, name in cells]
        self.lead = min(self.lead, max(0, len(self._cells) - 1))
        self.update()

    def cell_count(self) -> int:
        return len(self._cells)

    def columns(self) -> int:
        return 1 if len(self._cells) <= 1 else 2

    def cell_size(self) -> tuple[int, int]:
        """The pixel size of one cell (the players convert to it)."""
        cols = self.columns()
        rows = (len(self._cells) + cols - 1) // cols if self._cells else 1
        return max(16, self.width() // cols), max(16, self.height() // max(1, rows))

    def set_lead(self, index: int) -> None:
        if 0 <= index < len(self._cells) and index != self.lead:
            self.lead = index
            self.update()

    def shown(self, index: int) -> ArchiveFrame | ArchiveGap | None:
        """What cell ``index`` paints now (for tests and figures)."""
        return self._cells[index].shown if 0 <= index < len(self._cells) else None

    def tick(self, pictures: Sequence[Picture]) -> bool:
        """Take each cell's picture (``PlayerGroup.pictures()``); repaint when one changed. Returns
        whether one did."""
        changed = False
        for cell, latest in zip(self._cells, pictures, strict=False):
            if latest is not cell.shown:
                cell.shown = latest
                if isinstance(latest, ArchiveFrame):
                    px = latest.pixels
                    cell.image = QImage(px.data, px.shape[1], px.shape[0], px.strides[0], QImage.Format.Format_RGB888)
                else:
                    cell.image = None
                changed = True
        if changed:
            self.update()
        return changed

    # -- geometry ---------------------------------------------------------------------------------
    def _rect(self, i: int) -> QRect:
        cols = self.columns()
        rows = (len(self._cells) + cols - 1) // cols if self._cells else 1
        w, h = self.width() // cols, self.height() // max(1, rows)
        return QRect((i % cols) * w, (i // cols) * h, w, h)

    def _index_at(self, pos: QPointF) -> int:
        for i in range(len(self._cells)):
            if self._rect(i).contains(pos.toPoint()):
                return i
        return -1

    # -- painting ---------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        pal = current_palette()
        p = QPainter(self)
        p.fillRect(self.rect(), pal.color("video_background"))
        font = QFont(self.font())
        font.setPointSizeF(max(8.0, font.pointSizeF()))
        p.setFont(font)
        if not self._cells:
            p.setPen(pal.color("muted"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self.tr("Pick a camera in the tree, or drag one here"))
            p.end()
            return
        for i, cell in enumerate(self._cells):
            r = self._rect(i).adjusted(1, 1, -1, -1)
            self._paint_cell(p, r, cell)
            if len(self._cells) > 1 and i == self.lead:
                p.setPen(QPen(pal.color("accent"), 2))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(r.adjusted(1, 1, -1, -1))
        p.end()

    def _paint_cell(self, p: QPainter, r: QRect, cell: _Cell) -> None:
        pal = current_palette()
        shown = cell.shown
        if cell.image is not None and isinstance(shown, ArchiveFrame):
            img = cell.image
            scale = min(r.width() / img.width(), r.height() / img.height())
            w, h = img.width() * scale, img.height() * scale
            p.drawImage(QRectF(r.x() + (r.width() - w) / 2, r.y() + (r.height() - h) / 2, w, h), img)
            stamp = shown.at.astimezone(self.tz)
            caption = f"{cell.name}   {_clock(stamp)}"
        else:
            p.setPen(pal.color("muted"))
            if isinstance(shown, ArchiveGap):
                text = self._gap_words(shown)
            else:
                text = self.tr("Loading footage…")
            p.drawText(r.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            caption = cell.name
        # The caption on a dark band at the bottom: readable over any picture, in both themes.
        fm = p.fontMetrics()
        band = QRect(r.x(), r.bottom() - fm.height() - 6, r.width(), fm.height() + 6)
        p.fillRect(band, QColor(0, 0, 0, 150))
        p.setPen(QColor("#ffffff"))
        p.drawText(band.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   fm.elidedText(caption, Qt.TextElideMode.ElideRight, band.width() - 16))

    # -- input ------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        i = self._index_at(event.position())
        if i >= 0 and i != self.lead:
            self.lead = i
            self.lead_changed.emit(i)
            self.update()
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        i = self._index_at(event.position())
        if i >= 0:
            self.toggle_layout.emit(i)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if event.mimeData().hasFormat(CAMERA_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        cid = bytes(event.mimeData().data(CAMERA_MIME).data()).decode("utf-8")
        i = self._index_at(event.position())
        if cid and i >= 0:
            self.camera_dropped.emit(i, cid)
            event.acceptProposedAction()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)


def _clock(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") + f".{t.microsecond // 1000:03d}"

