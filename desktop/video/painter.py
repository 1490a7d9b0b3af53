"""How a tile's picture reaches the screen, behind one small interface.

:class:`RasterFramePainter` (the default) wraps the worker's immutable BGRA :class:`~video.display.Frame`
in a ``QImage`` — no copy, no conversion on the GUI thread — and draws it at 1:1 in device pixels
with ``QPainter`` on the grid's plain ``QWidget`` (no OpenGL: without a GPU every GL path runs on
llvmpipe and costs several times more, see DESIGN.md "Threads"). A GPU painter (a ``QQuickView``
with ``VideoOutput`` items fed YUV frames) can implement :class:`FramePainter` later.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter

from video.display import Frame

__all__ = ["FramePainter", "Placement", "RasterFramePainter"]

# The worker's BGRA bytes read as 32-bit pixels 0xAARRGGBB: Format_RGB32 on a little-endian
# machine (alpha is 255). On a big-endian one the bytes mean ARGB: Qt's byte-ordered format.
_FORMAT = QImage.Format.Format_RGB32 if sys.byteorder == "little" else QImage.Format.Format_RGBA8888


class FramePainter(Protocol):
    """Draws one tile's picture; called on the GUI thread from the grid's paint event."""

    def draw(self, painter: QPainter, target: QRect, frame: Frame, device_pixel_ratio: float) -> QRect:
        """Draw ``frame`` centred in ``target`` (logical pixels) at 1:1 device pixels; return the
        rectangle it covered (the grid fills the rest of the tile)."""
        ...


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a picture of one size goes in one target, worked out once (:meth:`RasterFramePainter.place`)
    and kept by the caller while the target, the picture's size and the pixel ratio stay."""

    width: int  # the picture, device pixels
    height: int
    bytes_per_line: int
    device_pixel_ratio: float
    at: QPoint  # its top left, logical pixels
    source: QRect | None  # the part of the picture drawn (None: all of it)
    covered: QRect  # what it covers of the target, logical pixels


class RasterFramePainter:
    """``QPainter.drawImage`` of a ``QImage`` wrapping the frame's own buffer (kept alive by it)."""

    def draw(self, painter: QPainter, target: QRect, frame: Frame, device_pixel_ratio: float) -> QRect:
        place = self.place(target, frame.width, frame.height, frame.bytes_per_line, device_pixel_ratio)
        self.draw_placed(painter, place, frame)
        return place.covered

    @staticmethod
    def place(target: QRect, width: int, height: int, bytes_per_line: int, device_pixel_ratio: float) -> Placement:
        """Centred in ``target`` at 1:1 device pixels; a picture a pixel or two larger than the tile
        (video.display.snap_size) shows its middle."""
        dpr = device_pixel_ratio
        w = round(width / dpr)
        h = round(height / dpr)
        at = QPoint(target.x() + (target.width() - w) // 2, target.y() + (target.height() - h) // 2)
        if w <= target.width() and h <= target.height():
            return Placement(width, height, bytes_per_line, dpr, at, None, QRect(at.x(), at.y(), w, h))
        shown = QRect(at.x(), at.y(), w, h).intersected(target)
        source = QRect(round((shown.x() - at.x()) * dpr), round((shown.y() - at.y()) * dpr),
                       round(shown.width() * dpr), round(shown.height() * dpr))
        return Placement(width, height, bytes_per_line, dpr, shown.topLeft(), source, shown)

    @staticmethod
    def draw_placed(painter: QPainter, place: Placement, frame: Frame) -> None:
        """Draw ``frame`` (of ``place``'s size) where ``place`` says: the per-frame work of a paint,
        a few calls (each paint of a video wall runs it for every new frame on the GUI thread)."""
        image = QImage(frame.rows.data, place.width, place.height, place.bytes_per_line, _FORMAT)
        if place.device_pixel_ratio != 1.0:
            image.setDevicePixelRatio(place.device_pixel_ratio)
        if place.source is None:
            painter.drawImage(place.at, image)
        else:
            painter.drawImage(place.at, image, place.source)
