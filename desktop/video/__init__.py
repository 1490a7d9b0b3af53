"""Live video in the desktop: the camera grid (one plain QWidget painting every tile), its layouts,
the painter interface and the tile states in words."""

from desktop.video.grid import CAMERA_MIME, CameraGrid, TileDecoration, TileStats
from desktop.video.layouts import LAYOUT_KEYS, LAYOUTS, Layout, layout_named, parse_grid
from desktop.video.painter import FramePainter, RasterFramePainter
from desktop.video.states import state_text

__all__ = [
    "CAMERA_MIME",
    "LAYOUTS",
    "LAYOUT_KEYS",
    "CameraGrid",
    "FramePainter",
    "Layout",
    "RasterFramePainter",
    "TileDecoration",
    "TileStats",
    "layout_named",
    "parse_grid",
    "state_text",
]
