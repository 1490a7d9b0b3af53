"""``python main.py review``: the review window on its own, beside a running terminal on the same data
folder (or on a copy of it, for an offline reviewer).

It opens no camera, takes no terminal lock and does not sync: it reads the store and the footage,
and writes only through the store's normal paths (bookmarks into the outbox, which the running
terminal's sync pushes; holds audited like the terminal's).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QMessageBox

from app.cameras import cameras_from_store
from app.review import config_cameras
from desktop.application import Localization, SignalWatcher, show_and_run, start_gui
from desktop.i18n import fmt, translate
from desktop.operator.reader import Reader
from desktop.review.window import ReviewView
from desktop.shell.camera_tree import CameraRow
from desktop.shell.dialogs import AboutDialog, ShortcutsDialog
from desktop.shell.menus import add_look_menus
from desktop.theme import apply_theme, current_palette
from supervision.config import Config
from video.export import default_who

__all__ = ["ReviewOptions", "ReviewWindow", "camera_rows", "run_review"]

log = logging.getLogger(__name__)
STOP_DEADLINE_S = 5.0


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    camera: str | None = None
    at: datetime | None = None
    demo: bool = False
    language: str | None = None
    theme: str | None = None
    screenshot: Path | None = None
    after: float = 5.0
    size: tuple[int, int] | None = None


def camera_rows(store: Any, cfg: Config) -> list[CameraRow]:
    """Every camera known to the store and the config, by hall → window (on a reader thread)."""
    from desktop.operator.window import load_hall

    with store.read() as s:
        windows, halls = load_hall(s)
    rows = []
    for cam in cameras_from_store(store, config_cameras(cfg)):
        w = windows.get(cam.window_id or "")
        hall_id = w.hall_id if w is not None else None
        rows.append(CameraRow(cam.id, cam.name, hall_id, halls.get(hall_id or "", ""), cam.window_id,
                              w.label if w is not None else ""))
    return rows


class ReviewWindow(QMainWindow):
    """The standalone review window: a :class:`ReviewView` with menus; the language and theme switch live."""

    quit_requested = Signal()

    def __init__(self, backend: Any, localization: Localization, qsettings: QSettings, *, theme: str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        super().__init__()
        self.setObjectName("ReviewWindow")
        self.backend = backend
        self.localization = localization
        self.settings = qsettings
        self.theme = theme
        self.clock = clock
        self.reader = Reader(backend.store, self)
        self.reader.start()
        self.rows: list[CameraRow] = []
        self._build()
        geometry = self.settings.value("review/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1500, 900)

    def _build(self) -> None:
        self.setWindowTitle(self.tr("HallWatch — Footage review"))
        operator = self.backend.cfg.terminal.operator or default_who()
        self.view = ReviewView(self.backend, self.reader, self.backend.tz, current_palette(),
                               index=self.backend.index, operator=operator, clock=self.clock, parent=self)
        self.setCentralWidget(self.view)
        if self.rows:
            self.view.set_camera_rows(self.rows)
        self._build_menus()

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.clear()
        for old in bar.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly):
            old.deleteLater()

        def action(menu: QMenu, text: str, slot: Callable[[], Any], keys: str | None = None,
                   *, checkable: bool = False) -> QAction:
            a = QAction(text, self)
            a.setCheckable(checkable)
            if keys:
                a.setShortcut(QKeySequence(keys))
            a.triggered.connect(lambda _c=False: slot())
            menu.addAction(a)
            return a

        file = bar.addMenu(self.tr("&File"))
        action(file, self.tr("&Export…"), self.view.export, "Ctrl+E")
        action(file, self.tr("&Verify folder…"), self.view.verify_folder)
        file.addSeparator()
        action(file, self.tr("&Quit"), self.close, "Ctrl+Q")
        view = bar.addMenu(self.tr("&View"))
        action(view, self.tr("&One camera"), lambda: self.view.set_layout("1"), "Ctrl+1")
        action(view, self.tr("&Four cameras in sync"), lambda: self.view.set_layout("2x2"), "Ctrl+2")
        view.addSeparator()
        add_look_menus(view, self, theme=self.theme, language=self.localization.language,
                       set_theme=self.set_theme, set_language=self.set_language)
        helpm = bar.addMenu(self.tr("&Help"))
        action(helpm, self.tr("&Keyboard shortcuts"),
               lambda: ShortcutsDialog(self.view.shortcuts(), self).exec(), "F1")
        action(helpm, self.tr("&About HallWatch"), lambda: AboutDialog(self).exec())

    def load_cameras(self, then: Callable[[], None] | None = None) -> None:
        store, cfg = self.backend.store, self.backend.cfg

        def done(rows: list[CameraRow]) -> None:
            self.rows = rows
            self.view.set_camera_rows(rows)
            if then is not None:
                then()

        self.reader.submit("review.cameras", lambda _s: camera_rows(store, cfg), done,
                           lambda words: log.warning("cameras could not be read: %s", words))

    def open_initial(self, camera: str | None, at: datetime | None) -> None:
        """``--camera``/``--at``, else the cameras and place of the last session, else the newest footage."""
        if camera is None:
            saved = self.settings.value("review/cameras")
            ids = [c for c in json.loads(saved) if any(r.camera_id == c for r in self.rows)] \
                if isinstance(saved, str) and saved else []
            if not ids and self.rows:
                ids = [self.rows[0].camera_id]
        else:
            ids = [camera]
        if not ids:
            return
        index = self.backend.index

        def newest(_s: object) -> datetime | None:
            seg = index.readable_edge(ids[0], oldest=False)
            return None if seg is None else max(seg.start, seg.end - timedelta(minutes=1))

        def go(found: datetime | None) -> None:
            when = at or found or self.clock()
            self.view.open_at(ids, when, margin=timedelta(0), play=False)
            if len(ids) > 1:
                self.view.show_cameras(ids)

        if at is not None:
            go(at)
        else:
            self.reader.submit("review.newest", newest, go)

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.settings.setValue("ui/theme", theme)
        self.view.set_palette(current_palette())

    def set_language(self, language: str) -> None:
        """Rebuild in the new language; the cameras, the layout, the position and the timeline's span kept."""
        if language == self.localization.language:
            return
        ids, at, span = list(self.view.camera_ids), self.view.position(), self.view.timeline.view()
        self.localization.switch(language)
        self.settings.setValue("ui/language", language)
        old = self.takeCentralWidget()
        if isinstance(old, ReviewView):
            old.close_view()
            old.deleteLater()
        self._build()
        if ids and at is not None:
            self.view.timeline.set_view(*span)
            self.view.show_cameras(ids, at=at)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("review/geometry", self.saveGeometry())
        self.settings.setValue("review/cameras", json.dumps(self.view.camera_ids, ensure_ascii=False))
        self.settings.sync()
        self.view.close_view()
        self.reader.stop()
        self.quit_requested.emit()
        super().closeEvent(event)


def run_review(cfg: Config, data_dir: Path, options: ReviewOptions) -> int:
    """The standalone review window over the data folder (``--demo``: the demo's folder)."""
    from app.review import ReviewBackend

    app, qsettings, localization, theme = start_gui(cfg.ui.language, cfg.ui.theme, language=options.language,
                                                    theme=options.theme)
    folder = data_dir
    if options.demo:
        folder = data_dir / "demo"
        cfg = cfg.model_copy(update={"database": cfg.database.model_copy(update={"url": ""})})
    try:
        backend = ReviewBackend(cfg, folder)
        backend.start()
    except Exception as e:
        log.exception("the review could not start")
        if options.screenshot is None:
            QMessageBox.critical(None, "HallWatch", fmt(translate("Startup", "HallWatch could not start: %1"), str(e)))
        return 1
    window = ReviewWindow(backend, localization, qsettings, theme=theme)
    window.quit_requested.connect(app.quit)
    def on_signal(signum: int) -> None:
        log.info("signal %d: closing the review window", signum)
        window.close()

    watcher = SignalWatcher(on_signal)
    window.load_cameras(lambda: window.open_initial(options.camera, options.at))
    try:
        code = show_and_run(app, window, screenshot=options.screenshot, after=options.after, size=options.size)
    finally:
        watcher.close()
        if not backend.stop(time.monotonic() + STOP_DEADLINE_S):
            log.warning("the review backend did not stop within %.0f s", STOP_DEADLINE_S)
    return code
