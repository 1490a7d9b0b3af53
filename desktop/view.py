"""``main.py view URL …``: a bare video wall — the given cameras in a grid, nothing else.

No server, store or recording: for checking cameras by eye, and for benchmarks. Every tile decodes
at full rate unless ``mode`` is ``keyframes``. On exit — the window closed, SIGTERM/SIGINT, or after
``seconds`` — it prints one line per tile: ``tile I URL frames=N fps=F`` (I from 1, the URL masked,
N the frames painted, F the painted rate from the tile's first frame to its last).
``synthetic://window/A01`` addresses are served by synthetic cameras started here.
"""

from __future__ import annotations

import contextlib
import logging
import math
import sys
from collections.abc import Sequence
from typing import TextIO

from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.application import Localization, SignalWatcher, create_application
from desktop.video.grid import CameraGrid, TileStats
from desktop.video.layouts import Layout
from video.camera import Camera, CameraConfig
from video.display import DisplayMode
from video.synthetic import SyntheticCameraServer
from video.urls import SourceKind, kind_of, mask_url

__all__ = ["run_view", "tile_lines"]

log = logging.getLogger(__name__)

EXIT_OK, EXIT_NO_VIDEO = 0, 1


class _Wall(QWidget):
    """The window: the grid and nothing else; closing it shuts the grid down."""

    def __init__(self, grid: CameraGrid) -> None:
        super().__init__()
        self.grid = grid
        self.final: list[TileStats] | None = None
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(grid)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.final is None:
            self.final = self.grid.stats()  # before shutdown forgets the decoders
            self.grid.shutdown()
        super().closeEvent(event)


def _default_layout(count: int) -> Layout:
    side = max(1, math.ceil(math.sqrt(count)))
    return Layout.uniform(side, math.ceil(count / side))


def tile_lines(urls: Sequence[str], stats: Sequence[TileStats]) -> list[str]:
    """``tile I URL frames=N fps=F`` for every tile that shows a URL."""
    lines = []
    for s in stats:
        if s.index < len(urls):
            lines.append(f"tile {s.index + 1} {mask_url(urls[s.index])} frames={s.painted} fps={s.fps:.2f}")
    return lines


def _checked(
    urls: Sequence[str], grid: Layout | None, mode: str, seconds: float | None
) -> tuple[Layout, DisplayMode]:
    if not urls:
        raise ValueError("give at least one camera URL")
    layout = grid or _default_layout(len(urls))
    if len(urls) > layout.tiles:
        raise ValueError(f"{len(urls)} cameras do not fit a grid of {layout.tiles} tiles")
    if mode not in ("full", "keyframes"):
        raise ValueError(f"the mode is full or keyframes, not {mode!r}")
    for url in urls:
        kind_of(url)  # a clear ValueError for an address that names no kind of camera
    if seconds is not None and not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"seconds must be a positive number, not {seconds!r}")
    return layout, DisplayMode(mode)


def run_view(
    urls: Sequence[str],
    grid: Layout | None = None,
    mode: str = "full",
    seconds: float | None = None,
    *,
    size: tuple[int, int] = (1280, 720),
    out: TextIO | None = None,
    language: str = "zh_CN",
) -> int:
    """Show ``urls`` in a grid (default: the smallest square that holds them) until the window
    closes, a signal comes or ``seconds`` pass; write a line per tile to ``out`` (stdout). Returns
    0 when every tile painted video, 1 when one did not. Bad arguments: ValueError, saying which."""
    out = out or sys.stdout
    layout, display_mode = _checked(urls, grid, mode, seconds)
    app = create_application()
    localization = Localization(app)
    localization.switch(language)
    with contextlib.ExitStack() as stack:
        synthetic: SyntheticCameraServer | None = None
        if any(kind_of(u) is SourceKind.SYNTHETIC for u in urls):
            synthetic = stack.enter_context(SyntheticCameraServer({}))
        # One camera (one connection) per distinct URL, even when it fills several tiles.
        cameras: dict[str, Camera] = {}
        tiles: list[str] = []
        for url in urls:
            if url not in cameras:
                real = synthetic.resolve(url) if synthetic is not None else url
                cid = f"view-{len(cameras) + 1}"
                name = mask_url(url).split("://", 1)[-1]
                cameras[url] = Camera(CameraConfig(id=cid, name=name, url=real))
            tiles.append(cameras[url].id)
        by_id = {c.id: c for c in cameras.values()}
        for camera in cameras.values():
            camera.start()
            stack.callback(camera.stop)

        view = CameraGrid(by_id.get, layout=layout, mode_override=display_mode)
        view.set_cameras(tiles)
        wall = _Wall(view)
        wall.setWindowTitle(QCoreApplication.translate("VideoWall", "HallWatch video wall"))
        wall.resize(*size)
        stack.callback(view.shutdown)
        # SIGTERM/SIGINT close the window from inside the Qt loop, as closing it by hand does.
        watcher = SignalWatcher(lambda signum: QTimer.singleShot(0, wall.close))
        stack.callback(watcher.close)
        if seconds is not None:
            QTimer.singleShot(round(seconds * 1000), wall.close)
        wall.show()
        app.exec()
        final = wall.final if wall.final is not None else view.stats()
        view.shutdown()
    for line in tile_lines(urls, final):
        out.write(line + "\n")
    out.flush()
    shown = [s for s in final if s.index < len(urls)]
    return EXIT_OK if all(s.painted > 0 for s in shown) else EXIT_NO_VIDEO
