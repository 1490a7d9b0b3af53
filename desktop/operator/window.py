"""The operator workstation: the hall's cameras beside its warning lights, warnings, queue, cases
and performance; the status bar says how sync, cameras and recording are doing.

The window drives :class:`app.terminal.Terminal` and never wires parts itself. Nothing here waits
on the network, the disk or a long query: the terminal's status and the warning snapshot are
values in memory, read on timers; store reads run on background threads.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QInputDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSystemTrayIcon,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.terminal import Terminal, TerminalStatus
from desktop.application import Localization
from desktop.i18n import fmt
from desktop.operator.cases import CasesPanel
from desktop.operator.lights import LightsBoard
from desktop.operator.performance import PerformancePanel
from desktop.operator.queue import QueuePanel
from desktop.operator.reader import Reader
from desktop.operator.snapshot import SnapshotRelay
from desktop.operator.warnings import WarningsPanel
from desktop.shell.camera_tree import CameraRow, CameraTree
from desktop.shell.dialogs import AboutDialog, ShortcutsDialog
from desktop.shell.menus import add_look_menus
from desktop.shell.status import OfflineBanner, StatusBar
from desktop.theme import apply_theme, current_palette
from desktop.video.grid import CameraGrid, TileDecoration
from desktop.video.seats import install_seat_editing
from desktop.video.states import state_words
from supervision.store.models import OrgUnit, Window
from video.export import default_who

__all__ = ["OperatorWindow", "WindowInfo"]

log = logging.getLogger(__name__)
SNAPSHOT_INTERVAL_MS = 1000  # the panels take a new warning snapshot at most this often (a sync brings bursts)


@dataclass(frozen=True, slots=True)
class WindowInfo:
    """A service window as the screen names it."""

    id: str
    hall_id: str | None
    number: str
    name: str
    department: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.name}".strip()


def load_hall(s: Session) -> tuple[dict[str, WindowInfo], dict[str, str]]:
    """Windows by id and hall names by id (on the panels' reader thread)."""
    windows = {
        w.id: WindowInfo(w.id, w.hall_id, w.number or "", w.name or "", w.department or "")
        for w in s.scalars(select(Window).where(Window.deleted.is_(False)))
    }
    halls = {o.id: o.name or o.id for o in s.scalars(select(OrgUnit).where(OrgUnit.level == "hall"))}
    return windows, halls


class GridWindow(QWidget):
    """The grid on its own top-level window (a second monitor, full screen); closing it docks it back."""

    closed = Signal()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closed.emit()
        super().closeEvent(event)


class OperatorWindow(QMainWindow):
    """The supervision room's main window over a running terminal."""

    quit_requested = Signal()
    cameras_changed = Signal()  # the registry added, replaced or removed a camera (emitted from any thread)
    #: the panels show the warning monitor's first snapshot: start-up is over (the runner freezes the
    #: start-up heap then: desktop.application.freeze_startup_heap)
    first_snapshot_shown = Signal()

    def __init__(
        self,
        terminal: Terminal,
        localization: Localization,
        settings: QSettings,
        *,
        theme: str,
        demo_note: str | None = None,
    ) -> None:
        super().__init__()
        self.terminal = terminal
        self.localization = localization
        self.settings = settings
        self.theme = theme
        self.demo_note = demo_note
        self.tz = terminal.tz
        self.windows: dict[str, WindowInfo] = {}
        self.halls: dict[str, str] = {}
        self._status: TerminalStatus | None = None
        self._generation = -1
        self._first_shown = False
        self._window_filter: str | None = None
        self._grid_window: GridWindow | None = None
        self.review: Any = None  # the review tab's ReviewView, made when first needed
        self.reader: Reader | None = None
        self._tray: QSystemTrayIcon | None = None
        self.setObjectName("OperatorWindow")
        # Snapshots come through the relay, their row changes worked out on the monitor's thread.
        self.relay = SnapshotRelay(terminal.monitor, self, min_interval_ms=SNAPSHOT_INTERVAL_MS)
        self.relay.snapshot.connect(self._snapshot_posted)
        self._build()
        self._restore()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._timer.start(1000)
        self._tick()
        # A first sync adds dozens of cameras one by one: read the hall once for the whole burst.
        self._hall_timer = QTimer(self)
        self._hall_timer.setSingleShot(True)
        self._hall_timer.setInterval(300)
        self._hall_timer.timeout.connect(self._reload_hall)
        self.cameras_changed.connect(self._cameras_changed)
        terminal.cameras.add_listener(self._registry_changed)
        self._reload_hall()

    def _registry_changed(self, _change: object) -> None:  # on the thread that changed the registry
        self.cameras_changed.emit()

    def _cameras_changed(self) -> None:
        self._hall_timer.start()
        # Tiles restored from the settings before the registry had their cameras connect now; a
        # replaced camera's tile reconnects (the grid coalesces a burst of changes).
        self.grid.lookup_changed()

    def _reload_hall(self) -> None:
        if self.reader is not None:
            self.reader.submit("window.hall", load_hall, self._hall_loaded, self._hall_failed)

    # -- building ---------------------------------------------------------------------------------
    def _build(self) -> None:
        """Every widget and action, in the current language (rebuilt on a language switch)."""
        self.setWindowTitle(self._title())
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        self.banner = OfflineBanner(self.tz, self.terminal.cfg.server.interval, central)
        outer.addWidget(self.banner)
        # Live cameras and recorded footage as two tabs of the centre: "show footage" anywhere
        # opens the review tab; "back to live" there returns to the grid.
        self.tabs = QTabWidget(central)
        self.tabs.setObjectName("CentreTabs")
        self.tabs.setDocumentMode(True)
        live = QWidget(self.tabs)
        layout = QVBoxLayout(live)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.grid = CameraGrid(self.terminal.cameras.get, decorations=self._decoration, layout="2x2", parent=live)
        self.grid.stateChanged.connect(self._save_grid)
        install_seat_editing(self.grid, self.terminal,
                             by=lambda: self.terminal.cfg.terminal.operator or default_who())  # "Edit seat regions…"
        layout.addWidget(self.grid, 1)
        self._grid_holder = layout
        self.tabs.addTab(live, self.tr("Live"))
        self._review_holder = QWidget(self.tabs)
        QVBoxLayout(self._review_holder).setContentsMargins(0, 0, 0, 0)
        self.tabs.addTab(self._review_holder, self.tr("Review footage"))
        self.tabs.currentChanged.connect(self._tab_changed)
        outer.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.tree = CameraTree(self)
        self.tree.camera_activated.connect(self._show_camera)
        self.tree.set_state_provider(self._camera_state_words)
        self.tree_dock = self._dock("cameras", self.tr("Cameras"), self.tree, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._build_panels()

        status = StatusBar(self.tz, self, window_label=self._window_label)
        self.status_bar = status
        self.setStatusBar(status)
        self._build_menus()

    def _build_panels(self) -> None:
        """The data panels: the lights board (top), the warnings list (right), and queue, cases and
        performance as tabs below the grid. They read the store through one background reader."""
        palette = current_palette()
        if self.reader is None:
            self.reader = Reader(self.terminal.store, self)
            self.reader.start()
        operator = self.terminal.cfg.terminal.operator or default_who()
        self.lights = LightsBoard(self.reader, palette, self)
        self.lights.window_selected.connect(self.filter_window)
        self.lights_dock = self._dock("lights", self.tr("Warning lights"), self.lights,
                                      Qt.DockWidgetArea.TopDockWidgetArea)
        self.warnings_panel = WarningsPanel(self.reader, self.terminal, self.tz, operator=operator, palette=palette,
                                            parent=self)
        self.warnings_panel.action_finished.connect(self._action_finished)
        self.warnings_panel.footage_requested.connect(lambda key: self.show_footage_for("warning", key))
        alarm = self.warnings_panel.alarm
        alarm.set_muted(str(self.settings.value("operator/muted", "false")).lower() == "true")
        alarm.muted_changed.connect(lambda muted: self.settings.setValue("operator/muted", bool(muted)))
        if QSystemTrayIcon.isSystemTrayAvailable():  # a new red's message also in the tray
            if self._tray is None:
                self._tray = QSystemTrayIcon(QApplication.windowIcon(), self)
                self._tray.setToolTip("HallWatch")
                self._tray.show()
            alarm.tray = self._tray
        self.warnings_dock = self._dock("warnings", self.tr("Warnings"), self.warnings_panel,
                                        Qt.DockWidgetArea.RightDockWidgetArea)
        self.queue_panel = QueuePanel(self.reader, self.tz, clock=self.terminal.clock, palette=palette, parent=self)
        self.cases_panel = CasesPanel(self.reader, self.tz, clock=self.terminal.clock, palette=palette, parent=self)
        self.cases_panel.footage_requested.connect(lambda wid, at: self.show_footage(wid or None, at))
        self.cases_panel.record_footage_requested.connect(self.show_footage_for)
        self.cases_panel.dossier_requested.connect(self._dossier)
        self.performance_panel = PerformancePanel(self.reader, self.tz, clock=self.terminal.clock, palette=palette,
                                                  parent=self)
        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.queue_dock = self._dock("queue", self.tr("Queue"), self.queue_panel, right)
        self.cases_dock = self._dock("cases", self.tr("Cases"), self.cases_panel, right)
        self.performance_dock = self._dock("performance", self.tr("Performance"), self.performance_panel, right)
        self.performance_dock.visibilityChanged.connect(self.performance_panel.seen)  # computed when first seen
        # the queue and the cases read the store again after each snapshot only while seen; a panel
        # behind another tab (or closed) is read again when it shows (see _refresh_seen)
        self._stale: set[QueuePanel | CasesPanel] = set()
        for which, dock in ((self.queue_panel, self.queue_dock), (self.cases_panel, self.cases_dock)):
            dock.visibilityChanged.connect(lambda visible, which=which: self._panel_seen(which, visible))
        for dock in (self.queue_dock, self.cases_dock, self.performance_dock):
            self.tabifyDockWidget(self.warnings_dock, dock)
        self.warnings_dock.raise_()
        for panel in (self.lights, self.queue_panel, self.cases_panel):  # the performance panel: when first shown
            panel.refresh()
        self.warnings_panel.refresh()

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()
        bar.clear()
        for old in bar.findChildren(QMenu, options=Qt.FindChildOption.FindDirectChildrenOnly):
            old.deleteLater()  # the menus of the previous language
        self._shortcuts: list[tuple[str, str]] = []

        def action(menu: QMenu, text: str, slot: Callable[[], Any], keys: QKeySequence | str | None = None,
                   *, checkable: bool = False) -> QAction:
            a = QAction(text, self)
            a.setCheckable(checkable)
            if keys is not None:
                seq = QKeySequence(keys)
                a.setShortcut(seq)
                a.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
                self._shortcuts.append((text.replace("&", ""), seq.toString(QKeySequence.SequenceFormat.NativeText)))
            a.triggered.connect(lambda _checked=False: slot())
            menu.addAction(a)
            return a

        file = bar.addMenu(self.tr("&File"))
        action(file, self.tr("&Quit"), self.close, "Ctrl+Q")

        view = bar.addMenu(self.tr("&View"))
        layouts = view.addMenu(self.tr("Grid &layout"))
        names = {"1": self.tr("1 camera"), "2x2": "2 × 2", "3x3": "3 × 3", "4x4": "4 × 4", "5x5": "5 × 5",
                 "1+5": "1 + 5", "1+7": "1 + 7"}
        for i, name in enumerate(CameraGrid.layouts()):
            action(layouts, names.get(name, name), functools.partial(self._set_layout, name), f"Ctrl+{i + 1}")
        self.named_menu = view.addMenu(self.tr("&Named layouts"))
        self.named_menu.aboutToShow.connect(self._fill_named_menu)
        action(view, self.tr("&Save layout as…"), self._save_named_layout, "Ctrl+S")
        self.tour_action = action(view, self.tr("&Tour named layouts"), self._toggle_tour, "Ctrl+T", checkable=True)
        view.addSeparator()
        action(view, self.tr("&Review footage"), self._toggle_review, "Ctrl+R")
        action(view, self.tr("&Full screen"), self._toggle_fullscreen, "F11")
        # Ctrl+Shift+D: plain Ctrl+D is the warnings list's "supervise" (one key for two actions fires neither)
        self.detach_action = action(view, self.tr("&Detach grid to its own window"), self._toggle_detach,
                                    "Ctrl+Shift+D", checkable=True)
        view.addSeparator()
        for dock in (self.tree_dock, *self._extra_docks()):
            view.addAction(dock.toggleViewAction())
        view.addSeparator()
        add_look_menus(view, self, theme=self.theme, language=self.localization.language,
                       set_theme=self.set_theme, set_language=self.set_language)

        helpm = bar.addMenu(self.tr("&Help"))
        action(helpm, self.tr("&Keyboard shortcuts"), self._show_shortcuts, "F1")
        action(helpm, self.tr("&About HallWatch"), lambda: AboutDialog(self).exec())

    def _set_layout(self, name: str) -> None:
        self.grid.set_layout(name)

    def _extra_docks(self) -> list[QDockWidget]:
        return [self.lights_dock, self.warnings_dock, self.queue_dock, self.cases_dock, self.performance_dock]

    def _title(self) -> str:
        title = self.tr("HallWatch — Electronic Supervision")
        if self.demo_note:
            title += " — " + fmt(self.tr("demo clock: %1"), self.demo_note)
        return title

    # -- live settings ------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        """Switch the theme now; the user's pick is saved and wins over the config."""
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.settings.setValue("ui/theme", theme)
        for panel in (self.lights, self.warnings_panel, self.queue_panel, self.cases_panel, self.performance_panel):
            panel.set_palette(current_palette())
        if self.review is not None:
            self.review.set_palette(current_palette())
        self.grid.update()

    def set_language(self, language: str) -> None:
        """Switch the language now: every widget is rebuilt in it, the layout and cameras kept."""
        if language == self.localization.language:
            return
        self._save()
        self.localization.switch(language)
        self.settings.setValue("ui/language", language)
        self.warnings_panel.close_panel()
        self._teardown_widgets()
        self._build()
        self._restore()
        if self.windows:
            self._hall_loaded((self.windows, self.halls))
        self._generation = -1
        self._tick()

    def _teardown_widgets(self) -> None:
        self._close_review()
        self._close_grid_window()
        self.grid.shutdown()
        for dock in self.findChildren(QDockWidget):
            self.removeDockWidget(dock)
            dock.deleteLater()
        old = self.takeCentralWidget()
        if old is not None:
            old.deleteLater()

    # -- state kept across restarts -----------------------------------------------------------------
    def _save_grid(self) -> None:
        self.settings.setValue("operator/grid", json.dumps(self.grid.state(), ensure_ascii=False))

    def _save(self) -> None:
        self.settings.setValue("operator/geometry", self.saveGeometry())
        self.settings.setValue("operator/docks", self.saveState())
        self._save_grid()
        self.settings.sync()

    def _restore(self) -> None:
        geometry = self.settings.value("operator/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1600, 960)
        docks = self.settings.value("operator/docks")
        if not (isinstance(docks, QByteArray) and not docks.isEmpty() and self.restoreState(docks)):
            QTimer.singleShot(0, self, self._default_docks)  # once the window has its size
        raw = self.settings.value("operator/grid")
        restored = False
        if isinstance(raw, str) and raw:
            try:
                self.grid.restore(json.loads(raw))
                restored = True
            except ValueError:
                log.warning("the saved camera grid is unreadable; starting from the default")
        if not restored or not any(self.grid.cameras()):
            self._default_cameras()

    def _default_docks(self) -> None:
        """A first start: the grid gets most of the screen; the lights on top, the tree left, and
        warnings, queue, cases and performance as tabs on the right."""
        width, height = max(self.width(), 1200), max(self.height(), 800)
        self.resizeDocks([self.tree_dock, self.warnings_dock], [int(width * 0.13), int(width * 0.36)],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.lights_dock], [int(height * 0.22)], Qt.Orientation.Vertical)

    def _default_cameras(self) -> None:
        """A first start: the first cameras of the registry in a 2×2 grid (then 3×3 for more)."""
        def order(cam: Any) -> tuple[str, str]:
            w = self.windows.get(cam.config.window_id or "")
            return (w.label if w is not None else "~", cam.config.name)

        cams = [c.id for c in sorted(self.terminal.cameras.cameras(), key=order)]
        if not cams:
            return
        layout = "2x2" if len(cams) <= 4 else "3x3" if len(cams) <= 9 else "4x4"
        self.grid.set_layout(layout)
        self.grid.set_cameras(cams[:16])

    # -- timers ---------------------------------------------------------------------------------------
    def _tick(self) -> None:
        st = self.terminal.status()
        self._status = st
        self.status_bar.show_status(st)
        self.banner.show_status(st)
        self.tree.refresh_states()
        if self._generation < 0:  # the panels have not had a snapshot yet (at start, after a rebuild)
            latest = self.relay.latest()
            snap = latest if latest is not None else st.warnings
            if snap is not None and snap.generation > 0:
                self._generation = snap.generation
                self._warnings_changed(snap)
        self.grid.refresh_decorations()

    def _snapshot_posted(self, snapshot: Any) -> None:
        """The relay brought a new snapshot (GUI thread)."""
        if snapshot.generation <= self._generation:
            return  # had it already (the first tick may take the monitor's before the relay brings it)
        self._generation = snapshot.generation
        self._warnings_changed(snapshot)

    def _warnings_changed(self, snapshot: Any) -> None:
        """A new warning snapshot (after a sync page, a local act or a time-driven change): the
        lights and the warnings list take it; the queue and the cases read the store again."""
        self.lights.set_snapshot(snapshot)
        self.warnings_panel.set_snapshot(snapshot)
        self._refresh_seen(self.queue_panel)
        self._refresh_seen(self.cases_panel)
        self.performance_panel.store_changed()
        if not self._first_shown:  # on the next loop pass: a snapshot may come inside the constructor
            self._first_shown = True
            QTimer.singleShot(0, self, self.first_snapshot_shown.emit)

    def _refresh_seen(self, panel: QueuePanel | CasesPanel) -> None:
        """Read a panel's rows again now if it is seen, else when it shows: during a sync every
        snapshot (one a second) would have the reader query the queue and the cases, and the GUI
        thread apply the answers, for panels behind another tab (the reader's queries hold the
        GIL the GUI thread needs)."""
        if not panel.visibleRegion().isEmpty():  # (a dock tabbed behind another is "visible", unseen)
            panel.refresh()
        else:
            self._stale.add(panel)

    def _panel_seen(self, panel: QueuePanel | CasesPanel, visible: bool) -> None:
        if visible and panel in self._stale:
            self._stale.discard(panel)
            panel.refresh()

    def _action_finished(self, key: str, ok: bool, words: str) -> None:
        """An acknowledgement or disposal ended: a refusal is said in the status bar too."""
        if not ok:
            self.statusBar().showMessage(words, 8000)

    # -- the hall ------------------------------------------------------------------------------------
    def _hall_failed(self, words: str) -> None:
        log.warning("the hall's windows could not be read: %s", words)

    def _hall_loaded(self, result: tuple[dict[str, WindowInfo], dict[str, str]]) -> None:
        self.windows, self.halls = result
        rows = []
        for cam in self.terminal.cameras.cameras():
            w = self.windows.get(cam.config.window_id or "")
            hall_id = w.hall_id if w is not None else None
            rows.append(CameraRow(cam.id, cam.config.name, hall_id, self.halls.get(hall_id or "", ""),
                                  cam.config.window_id, w.label if w is not None else ""))
        self.tree.set_rows(rows)
        self._camera_rows = rows
        if self.review is not None:
            self.review.set_camera_rows(rows)
        if not any(self.grid.cameras()):
            self._default_cameras()
        self.grid.refresh_decorations()

    def _decoration(self, camera_id: str) -> TileDecoration:
        cam = self.terminal.cameras.get(camera_id)
        if cam is None:
            return TileDecoration()
        wid = cam.config.window_id
        w = self.windows.get(wid or "")
        st = self._status
        light: str | None = None
        recording = False
        if st is not None:
            if wid:
                level = st.warnings.by_window.get(wid) if st.warnings is not None else None
                light = str(level) if level is not None else "green"
            if st.recording is not None:
                recording = st.recording.recording(camera_id)
        return TileDecoration(window_name=w.label if w is not None else None, light=light, recording=recording)

    def _window_label(self, window_id: str) -> str:
        w = self.windows.get(window_id)
        return w.label if w is not None else window_id

    def _camera_state_words(self, camera_id: str) -> str:
        cam = self.terminal.cameras.get(camera_id)
        if cam is None:
            return ""
        state = cam.status().state
        return "" if state.value == "live" else state_words(state)

    def _show_camera(self, camera_id: str) -> None:
        """Put a camera on the selected tile (double-click in the tree)."""
        self.grid.set_camera(self.grid.selected, camera_id)

    def filter_window(self, window_id: str | None) -> None:
        """A light was clicked: cameras, warnings, queue and cases show that window only."""
        self._window_filter = window_id
        self.tree.filter_window(window_id)
        self.warnings_panel.set_window(window_id)
        self.queue_panel.set_window(window_id)
        self.cases_panel.set_window(window_id)
        if window_id is not None:
            cams = [c.id for c in self.terminal.cameras.cameras() if c.config.window_id == window_id]
            if cams:
                self.grid.set_camera(self.grid.selected, cams[0])

    # -- footage ------------------------------------------------------------------------------------
    def _ensure_review(self) -> Any:
        """The review tab's view, made the first time it is needed (it opens nothing until asked)."""
        if self.review is None:
            from desktop.review.window import ReviewView

            assert self.reader is not None
            operator = self.terminal.cfg.terminal.operator or default_who()
            view = ReviewView(self.terminal, self.reader, self.tz, current_palette(), index=self.terminal.index,
                              live=True, operator=operator, clock=self.terminal.clock, parent=self._review_holder)
            view.live_requested.connect(self.back_to_live)
            view.set_camera_rows(getattr(self, "_camera_rows", []))
            layout = self._review_holder.layout()
            assert layout is not None
            layout.addWidget(view)
            self.review = view
        return self.review

    def _dossier(self, complaint_id: str) -> None:
        """A complaint's evidence dossier (证据包): its window's cameras around the incident, with the
        complaint, its case, ticket and evaluations, under one signed manifest."""
        from desktop.review.export_dialog import export_complaint_dossier

        export_complaint_dossier(self.terminal, complaint_id, self)

    def _close_review(self) -> None:
        view, self.review = self.review, None
        if view is not None:
            view.close_view()
            view.deleteLater()

    def _tab_changed(self, index: int) -> None:
        if index == 1:
            view = self._ensure_review()
            if not view.camera_ids:
                cid = self.grid.cameras()[self.grid.selected] if self.grid.cameras() else None
                if cid:
                    view.open_at([cid], self.terminal.clock() - timedelta(minutes=1), margin=timedelta(0),
                                 play=False)

    def _toggle_review(self) -> None:
        self.tabs.setCurrentIndex(0 if self.tabs.currentIndex() == 1 else 1)

    def back_to_live(self, camera_id: str) -> None:
        """"Back to live" in the review: the grid, with that camera on the selected tile (unless shown)."""
        self.tabs.setCurrentIndex(0)
        if camera_id not in self.grid.cameras():
            self.grid.set_camera(self.grid.selected, camera_id)

    def show_footage(self, window_id: str | None, at: datetime, camera_id: str | None = None) -> None:
        """The window's camera at an instant (a margin before it), in the review tab."""
        if camera_id is None:
            cams = [c.id for c in self.terminal.cameras.cameras() if window_id and c.config.window_id == window_id]
            if not cams:
                QMessageBox.information(self, self.tr("No camera"),
                                        self.tr("No camera watches this window, so there is no footage to show."))
                return
        else:
            cams = [camera_id]
        self.tabs.setCurrentIndex(1)
        self._ensure_review().open_at(cams, at, margin=timedelta(seconds=30))

    def show_footage_for(self, kind: str, ref: str) -> None:
        """"Show footage" of a record (a warning, case, stage, ticket, evaluation or complaint): the
        instant and cameras are worked out on the reader (see ``app.review.footage_target``)."""
        from app.review import config_cameras, footage_target

        if self.reader is None:
            return
        store, tz, now = self.terminal.store, self.tz, self.terminal.clock()
        cameras = config_cameras(self.terminal.cfg)

        def done(target: Any) -> None:
            if not target.camera_ids:
                QMessageBox.information(self, self.tr("No camera"),
                                        self.tr("No camera watches this window, so there is no footage to show."))
                return
            self.tabs.setCurrentIndex(1)
            view = self._ensure_review()
            if target.at is None:  # e.g. a complaint that does not say when: the reviewer picks the span
                view.open_at(list(target.camera_ids), now - timedelta(hours=1), margin=timedelta(0), play=False)
                self.statusBar().showMessage(self.tr("This record does not say when it happened: pick the instant "
                                                     "on the timeline."), 10000)
                return
            view.open_at(list(target.camera_ids), target.at, margin=timedelta(seconds=30))

        def failed(words: str) -> None:
            QMessageBox.information(self, self.tr("No footage"), fmt(self.tr("The footage cannot be found: %1"), words))

        self.reader.submit("window.footage", lambda _s: footage_target(store, kind, ref, tz=tz, cameras=cameras,
                                                                        now=now), done, failed)

    # -- grid actions ------------------------------------------------------------------------------
    def _fill_named_menu(self) -> None:
        self.named_menu.clear()
        names = self.grid.named_layouts()
        if not names:
            a = self.named_menu.addAction(self.tr("(none saved yet)"))
            a.setEnabled(False)
        for name in names:
            a = self.named_menu.addAction(name)
            a.triggered.connect(lambda _c=False, n=name: self.grid.apply_named_layout(n))

    def _save_named_layout(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("Save layout"), self.tr("Name of this layout:"))
        if ok and name.strip():
            self.grid.save_named_layout(name.strip())

    def _toggle_tour(self) -> None:
        if self.grid.touring:
            self.grid.stop_tour()
        elif len(self.grid.named_layouts()) < 2:
            QMessageBox.information(self, self.tr("Tour"),
                                    self.tr("Save at least two named layouts first (View → Save layout as…)."))
        else:
            self.grid.start_tour(seconds=10.0)
        self.tour_action.setChecked(self.grid.touring)

    def _toggle_fullscreen(self) -> None:
        target: QWidget = self._grid_window if self._grid_window is not None else self
        if target.isFullScreen():
            target.showNormal()
        else:
            target.showFullScreen()

    def _toggle_detach(self) -> None:
        if self._grid_window is not None:
            self._close_grid_window()
            return
        win = GridWindow()
        win.setWindowTitle(self.tr("HallWatch — cameras"))
        lay = QVBoxLayout(win)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.grid)
        win.closed.connect(self._close_grid_window)
        win.resize(1280, 760)
        win.show()
        self._grid_window = win
        self.detach_action.setChecked(True)

    def _close_grid_window(self) -> None:
        win, self._grid_window = self._grid_window, None
        if win is None:
            return
        self._grid_holder.addWidget(self.grid, 1)
        self.detach_action.setChecked(False)
        win.closed.disconnect(self._close_grid_window)
        win.close()
        win.deleteLater()

    def _show_shortcuts(self) -> None:
        review = self._ensure_review().shortcuts()
        ShortcutsDialog([*self._shortcuts, *self.grid.shortcuts(), *review], self).exec()

    # -- closing ------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.terminal.cameras.remove_listener(self._registry_changed)
        self._save()
        self._timer.stop()
        self._close_review()
        self._close_grid_window()
        self.grid.shutdown()
        self.warnings_panel.close_panel()
        self.relay.close()
        if self.reader is not None:
            self.reader.stop()
        log.info("window closed")
        self.quit_requested.emit()
        super().closeEvent(event)
