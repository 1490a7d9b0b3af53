"""How a tile's picture reaches the screen, behind one small interface.

:class:`RasterFramePainter` (the default) wraps the worker's immutable BGRA :class:`~video.display.Frame`
in a ``QImage`` — no copy, no conversion on the GUI thread — and draws it at 1:1 in device pixels
with ``QPainter`` on the grid's plain ``QWidget`` (no OpenGL: without a GPU every GL path runs on
llvmpipe and costs several times more, see DESIGN.md "Threads"). A GPU painter (a ``QQuickView``
with ``VideoOutput`` items fed YUV frames) can implement :class:`FramePainter` later.
"""

from __future__ import annotations

import sys
from typing import Protocol

from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter

from video.display import Frame

__all__ = ["FramePainter", "RasterFramePainter"]

# The worker's BGRA bytes read as 32-bit pixels 0xAARRGGBB: Format_RGB32 on a little-endian
# machine (alpha is 255). On a big-endian one the bytes mean ARGB: Qt's byte-ordered format.
_FORMAT = QImage.Format.Format_RGB32 if sys.byteorder == "little" else QImage.Format.Format_RGBA8888


class FramePainter(Protocol):
    """Draws one tile's picture; called on the GUI thread from the grid's paint event."""

    def draw(self, painter: QPainter, target: QRect, frame: Frame, device_pixel_ratio: float) -> QRect:
        """Draw ``frame`` centred in ``target`` (logical pixels) at 1:1 device pixels; return the
        rectangle it covered (the grid fills the rest of the tile)."""
        ...


class RasterFramePainter:
    """``QPainter.drawImage`` of a ``QImage`` wrapping the frame's own buffer (kept alive by it)."""

    def draw(self, painter: QPainter, target: QRect, frame: Frame, device_pixel_ratio: float) -> QRect:
        image = QImage(frame.rows.data, frame.width, frame.height, frame.bytes_per_line, _FORMAT)
        image.setDevicePixelRatio(device_pixel_ratio)
        w = round(frame.width / device_pixel_ratio)
        h = round(frame.height / device_pixel_ratio)
        at = QPoint(target.x() + (target.width() - w) // 2, target.y() + (target.height() - h) // 2)
        if w <= target.width() and h <= target.height():
            painter.drawImage(at, image)
            return QRect(at.x(), at.y(), w, h)
        # A picture a pixel or two larger than the tile (video.display.snap_size): its middle, 1:1.
        shown = QRect(at.x(), at.y(), w, h).intersected(target)
        dpr = device_pixel_ratio
        source = QRect(round((shown.x() - at.x()) * dpr), round((shown.y() - at.y()) * dpr),
                       round(shown.width() * dpr), round(shown.height() * dpr))
        painter.drawImage(shown.topLeft(), image, source)
        return shown
