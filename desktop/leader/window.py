"""The leader window (领导大屏): the whole jurisdiction at a glance on a big screen, read-only.

Left, always: the jurisdiction tree (province → city → county → township → hall) with each unit's
light and its undisposed reds and yellows. Right, pages a tour cycles through (every
``tour_seconds``; P or Space starts and stops it, ←/→ or 1–5 pick a page):

1. overview — the chosen unit's figures in large tiles (open cases, reds, yellows, on-time rate and
   satisfaction of the month, tickets waiting, longest wait) and its units below, each with its light;
2. ranking of halls and departments (score, on-time rate, satisfaction, cards of the month);
3. trends by day, week or month (pyqtgraph, plain widgets);
4. the reds in force with who did what about each, and how; the terminals in scope and whether
   they were heard from lately;
5. the video wall of the chosen hall's relayed cameras.

Nothing here acts: there is no acknowledge, dispose or bookmark anywhere (and the server refuses a
leader token's ``warning.*`` actions anyway). Figures are computed on the reader's worker
(:func:`app.leader.leader_figures`), never on the GUI thread. When the server or a relay cannot be
reached the window says so in a banner and keeps showing the last figures, with their time; both
recover by themselves. F11 toggles full screen; ``kiosk`` starts full screen with the tour running
and no menu bar. On the video page, Down and Up turn the wall's pages of a hall with more cameras
than it holds (they also turn by themselves).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QFont, QIcon, QKeyEvent, QKeySequence, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenuBar,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.leader import LeaderFigures, LeaderTerminal, RankRow, RedItem, TerminalInfo, TrendPoint, UnitFigures
from desktop.application import Localization
from desktop.i18n import fmt
from desktop.leader.wall import VideoWall
from desktop.operator.reader import Reader
from desktop.shell.menus import add_look_menus
from desktop.shell.status import sync_error_text
from desktop.theme import Palette, apply_theme, current_palette
from desktop.video.grid import TileDecoration
from desktop.words import code_text, level_text, measure_text, state_text
from video.source import SourceOptions

__all__ = ["PAGES", "LeaderWindow"]

log = logging.getLogger(__name__)

PAGES = ("overview", "ranking", "trends", "reds", "video")
REFRESH_S = 60.0  # figures recomputed at least this often (and after each new warning snapshot)
MIN_GAP_S = 10.0  # …but not more often than this: each pass reads the whole scope (seconds for a big city)
_LIGHT_RANK = {"green": 0, "notice": 1, "yellow": 2, "red": 3}
BASE_PT = 15  # the window's type: readable from three metres on a 1080p screen of 55"
TILE_VALUE_PT = 44
TILE_CAPTION_PT = 17
TITLE_PT = 26


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:.1f}%"


def _dot(color: str, size: int = 18) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(QColor(color))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(2, 2, size - 4, size - 4)
    p.end()
    return QIcon(pm)


class FigureTile(QFrame):
    """One big figure: a caption, the value, a line under it."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.setObjectName("figureTile")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.caption = QLabel()
        self.value = QLabel("–")
        self.sub = QLabel()
        self.caption.setObjectName("tileCaption")
        self.value.setObjectName("tileValue")
        self.sub.setObjectName("tileSub")
        for lab in (self.caption, self.value, self.sub):
            lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 8, 10, 8)
        box.addWidget(self.caption)
        box.addWidget(self.value, 1)
        box.addWidget(self.sub)

    def show_value(self, value: str, sub: str = "", color: str | None = None) -> None:
        self.value.setText(value)
        self.sub.setText(sub)
        self.value.setStyleSheet(f"color: {color};" if color else "")


class LeaderWindow(QMainWindow):
    """``terminal``: a started :class:`app.leader.LeaderTerminal` (or any object with its ``store``,
    ``tz``, ``token``, ``status()``, ``figures(session)`` and ``monitor``)."""

    quit_requested = Signal()
    #: a new set of figures is on screen
    figures_shown = Signal(object)

    def __init__(
        self,
        terminal: LeaderTerminal,
        localization: Localization,
        settings: QSettings,
        *,
        theme: str = "dark",
        demo_note: str | None = None,
        kiosk: bool = False,
        tour_seconds: float = 20.0,
        source_options: SourceOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.terminal = terminal
        self.localization = localization
        self.settings = settings
        self.theme = theme
        self.demo_note = demo_note
        self.kiosk = kiosk
        self.tour_seconds = tour_seconds
        self.tz = terminal.tz
        self._mono = clock
        self.figures: LeaderFigures | None = None
        self.unit_id: str | None = None
        self._asked_at = -1e9
        self._asked_generation = -1
        self._failed: str | None = None
        self.setObjectName("leaderWindow")
        f = QFont(self.font())
        f.setPointSize(BASE_PT)
        self.setFont(f)

        self.reader = Reader(terminal.store)
        self.net = Reader(terminal.store)  # the relays' questions: a slow relay never holds up the figures
        self.reader.start()
        self.net.start()

        # header
        self.title = QLabel()
        self.title.setObjectName("title")
        self.clock_label = QLabel()
        self.server_label = QLabel()
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.server_label)
        head.addSpacing(24)
        head.addWidget(self.clock_label)

        # the tree
        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setIconSize(QSize(20, 20))
        self.tree.setUniformRowHeights(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in (1, 2):
            self.tree.header().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(False)
        self.tree.currentItemChanged.connect(self._tree_chosen)
        self._items: dict[str, QTreeWidgetItem] = {}

        # pages
        self.tabs = QTabBar()
        self.tabs.setExpanding(False)
        for _ in PAGES:
            self.tabs.addTab("")
        self.pages = QStackedWidget()
        self.tabs.currentChanged.connect(self.pages.setCurrentIndex)
        self.pages.addWidget(self._overview_page())
        self.pages.addWidget(self._ranking_page())
        self.pages.addWidget(self._trends_page())
        self.pages.addWidget(self._reds_page())
        self.wall = VideoWall(self.net, terminal.token, terminals=self._terminals, decorations=self._decoration,
                              priority=self._window_rank, source_options=source_options)
        self.pages.addWidget(self.wall)
        self.tour_label = QLabel()
        tabs_row = QHBoxLayout()
        tabs_row.addWidget(self.tabs, 1)
        tabs_row.addWidget(self.tour_label)

        right = QWidget()
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(0, 0, 0, 0)
        rbox.addLayout(tabs_row)
        rbox.addWidget(self.pages, 1)
        self.splitter = QSplitter()
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([420, 1500])

        central = QWidget()
        box = QVBoxLayout(central)
        box.setContentsMargins(12, 8, 12, 8)
        box.addLayout(head)
        box.addWidget(self.banner)
        box.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self._tour = QTimer(self)
        self._tour.timeout.connect(self.next_page)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._menus_due = False
        self._make_actions()
        self._build_menus()
        self._retranslate()
        self._apply_palette()
        if kiosk:
            self.setCursor(Qt.CursorShape.BlankCursor)  # nobody points at a wall screen
            self.set_touring(True)
        self.resize(1600, 900)
        self._tick()

    # -- pages ---------------------------------------------------------------------------------------
    def _overview_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout()
        grid.setSpacing(10)
        self.tiles = {k: FigureTile(k) for k in ("open", "red", "yellow", "on_time", "satisfaction", "waiting",
                                                 "longest")}
        order = ("red", "yellow", "open", "on_time", "satisfaction", "waiting", "longest")
        for i, k in enumerate(order):
            if i < 3:
                grid.addWidget(self.tiles[k], 0, i * 4, 1, 4)
            else:
                grid.addWidget(self.tiles[k], 1, (i - 3) * 3, 1, 3)
        self.units_caption = QLabel()
        self.units_table = self._table(8, 0)
        self.top_reds_caption = QLabel()
        self.top_reds = self._table(4, 0)
        below = QGridLayout()
        below.addWidget(self.units_caption, 0, 0)
        below.addWidget(self.units_table, 1, 0)
        below.addWidget(self.top_reds_caption, 0, 1)
        below.addWidget(self.top_reds, 1, 1)
        below.setColumnStretch(0, 5)
        below.setColumnStretch(1, 4)
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        box.addLayout(grid, 3)
        box.addLayout(below, 2)
        return page

    def _ranking_page(self) -> QWidget:
        page = QWidget()
        self.halls_caption = QLabel()
        self.depts_caption = QLabel()
        self.halls_table = self._table(7, 1)
        self.depts_table = self._table(7, 1)
        lay = QGridLayout(page)
        lay.setContentsMargins(0, 6, 0, 0)
        lay.addWidget(self.halls_caption, 0, 0)
        lay.addWidget(self.depts_caption, 0, 1)
        lay.addWidget(self.halls_table, 1, 0)
        lay.addWidget(self.depts_table, 1, 1)
        return page

    def _trends_page(self) -> QWidget:
        page = QWidget()
        self.granularity = QComboBox()
        for g in ("day", "week", "month"):
            self.granularity.addItem(g, g)
        self.granularity.currentIndexChanged.connect(lambda _i: self._show_trends())
        self.granularity_label = QLabel()
        self.rates_plot = self._plot()
        self.cards_plot = self._plot()
        self.volume_plot = self._plot()
        bar = QHBoxLayout()
        bar.addWidget(self.granularity_label)
        bar.addWidget(self.granularity)
        bar.addStretch(1)
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        box.addLayout(bar)
        box.addWidget(self.rates_plot, 1)
        row = QHBoxLayout()
        row.addWidget(self.cards_plot, 1)
        row.addWidget(self.volume_plot, 1)
        box.addLayout(row, 1)
        return page

    def _reds_page(self) -> QWidget:
        page = QWidget()
        self.reds_caption = QLabel()
        self.reds_table = self._table(6, 5)
        self.reds_table.setWordWrap(True)
        self.terminals_caption = QLabel()
        self.terminals_table = self._table(5, 0)
        box = QVBoxLayout(page)
        box.setContentsMargins(0, 6, 0, 0)
        box.addWidget(self.reds_caption)
        box.addWidget(self.reds_table, 3)
        box.addWidget(self.terminals_caption)
        box.addWidget(self.terminals_table, 1)
        return page

    def _table(self, columns: int, stretch: int) -> QTableWidget:
        t = QTableWidget(0, columns)
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        t.verticalHeader().setVisible(False)
        t.setAlternatingRowColors(True)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        t.horizontalHeader().setStretchLastSection(False)
        t.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
        return t

    def _plot(self) -> pg.PlotWidget:
        w = pg.PlotWidget()
        w.setMenuEnabled(False)
        w.setMouseEnabled(x=False, y=False)
        w.hideButtons()
        w.showGrid(x=False, y=True, alpha=0.25)
        w.setMinimumSize(300, 200)
        # a big screen offers nothing to do with a chart: not even pyqtgraph's "Export..." scene menu
        scene = w.scene()
        for a in list(scene.contextMenu):
            a.setParent(None)
        scene.contextMenu = []
        w.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        return w

    # -- menus, words, colours -------------------------------------------------------------------------
    def _make_actions(self) -> None:
        """The window's few actions, made once (their texts follow the language): they are the
        window's own, so F11 and Ctrl+Q work in kiosk mode too, where the menu bar is hidden."""
        self.fullscreen_action = QAction(self)
        self.fullscreen_action.setShortcut(QKeySequence(Qt.Key.Key_F11))
        self.fullscreen_action.triggered.connect(self.toggle_fullscreen)
        self.tour_action = QAction(self)
        self.tour_action.setCheckable(True)
        self.tour_action.triggered.connect(lambda on: self.set_touring(bool(on)))
        self.quit_action = QAction(self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(self.close)
        self.addActions([self.fullscreen_action, self.quit_action])

    def _build_menus(self) -> None:
        """A new menu bar in the current language. Never called while a LanguageChange is being
        delivered (Qt hands the event on to the widgets it listed first: deleting menus then crashes),
        so a language switch schedules it; the old bar goes with deleteLater."""
        self._menus_due = False
        bar = QMenuBar(self)
        view = bar.addMenu(self.tr("&View"))
        view.addAction(self.fullscreen_action)
        view.addAction(self.tour_action)
        view.addSeparator()
        add_look_menus(view, bar, theme=self.theme, language=self.localization.language,
                       set_theme=self.set_theme, set_language=self.set_language)
        view.addSeparator()
        view.addAction(self.quit_action)
        self.setMenuBar(bar)
        if self.kiosk:
            bar.hide()

    def _menus_later(self) -> None:
        if not self._menus_due:
            self._menus_due = True
            QTimer.singleShot(0, self, self._build_menus)  # not after the window is gone

    def _retranslate(self) -> None:
        self.setWindowTitle(self._window_title())
        for i, text in enumerate((self.tr("Overview"), self.tr("Ranking"), self.tr("Trends"),
                                  self.tr("Red cards and terminals"), self.tr("Video wall"))):
            self.tabs.setTabText(i, f"{i + 1}  {text}")
        self.tree.setHeaderLabels([self.tr("Jurisdiction"), self.tr("Red"), self.tr("Yellow")])
        captions = {"open": self.tr("Open cases"), "red": self.tr("Red cards (undisposed)"),
                    "yellow": self.tr("Yellow cards (undisposed)"), "on_time": self.tr("On-time rate (this month)"),
                    "satisfaction": self.tr("Satisfaction (this month)"), "waiting": self.tr("Tickets waiting"),
                    "longest": self.tr("Longest wait")}
        for k, tile in self.tiles.items():
            tile.caption.setText(captions[k])
        self.units_table.setHorizontalHeaderLabels([
            self.tr("Unit"), self.tr("Red"), self.tr("Yellow"), self.tr("Open cases"), self.tr("On time"),
            self.tr("Satisfaction"), self.tr("Waiting"), self.tr("Longest wait")])
        rank_heads = [self.tr("#"), self.tr("Name"), self.tr("Score"), self.tr("On time"), self.tr("Satisfaction"),
                      self.tr("Yellow"), self.tr("Red")]
        self.halls_table.setHorizontalHeaderLabels(rank_heads)
        self.depts_table.setHorizontalHeaderLabels(rank_heads)
        self.halls_caption.setText(self.tr("Halls, this month"))
        self.depts_caption.setText(self.tr("Departments, this month"))
        for i, text in enumerate((self.tr("By day"), self.tr("By week"), self.tr("By month"))):
            self.granularity.setItemText(i, text)
        self.granularity_label.setText(self.tr("Trend"))
        self.top_reds.setHorizontalHeaderLabels([
            self.tr("Where"), self.tr("Warning"), self.tr("Red since"), self.tr("State")])
        self.reds_table.setHorizontalHeaderLabels([
            self.tr("Hall"), self.tr("Window"), self.tr("Warning"), self.tr("Red since"), self.tr("State"),
            self.tr("Who did what, and how")])
        self.terminals_table.setHorizontalHeaderLabels([
            self.tr("Terminal"), self.tr("Role"), self.tr("Video relay"), self.tr("Last heard"), self.tr("Online")])
        self.fullscreen_action.setText(self.tr("Full screen"))
        self.tour_action.setText(self.tr("Page tour"))
        self.quit_action.setText(self.tr("&Quit"))
        self._menus_later()
        if self.figures is not None:
            self._show(self.figures)
        else:
            self.units_caption.setText("")
            self.reds_caption.setText(self.tr("Red cards in force"))
            self.top_reds_caption.setText(self.tr("Red cards in force"))
            self.terminals_caption.setText(self.tr("Terminals"))
        self._tick()

    def _window_title(self) -> str:
        title = self.tr("HallWatch — Leader dashboard")
        if self.demo_note:
            title += " — " + fmt(self.tr("demo clock: %1"), self.demo_note)
        return title

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "wall"):
            self._retranslate()
        super().changeEvent(event)

    def _apply_palette(self) -> None:
        p = current_palette()
        # Sizes by style sheet: the application's sheet would otherwise win over a font set on a widget.
        self.setStyleSheet(
            f"#leaderWindow QWidget {{ font-size: {BASE_PT}pt; }}"
            f"#leaderWindow QLabel#title {{ font-size: {TITLE_PT}pt; font-weight: bold; }}"
            f"#leaderWindow QLabel#tileValue {{ font-size: {TILE_VALUE_PT}pt; font-weight: bold; }}"
            f"#leaderWindow QLabel#tileCaption, #leaderWindow QLabel#tileSub {{ font-size: {TILE_CAPTION_PT}pt; }}"
            f"QFrame#figureTile {{ background: {p.panel}; border: 1px solid {p.border}; border-radius: 6px; }}"
            f"QFrame#figureTile QLabel {{ background: transparent; border: none; }}"
            f"QLabel#wallNote {{ padding: 4px 8px; }}"
            f"QLabel#wallNote[bad=\"true\"] {{ background: {p.yellow}; color: #1b1b1b; font-weight: bold; }}"
            f"QTabBar::tab {{ padding: 8px 18px; }}"
        )
        for w in (self.rates_plot, self.cards_plot, self.volume_plot):
            w.setBackground(QColor(p.background))
            for name in ("left", "bottom"):
                ax = w.getAxis(name)
                ax.setPen(pg.mkPen(p.muted))
                ax.setTextPen(pg.mkPen(p.text))
                ax.setStyle(tickFont=QFont(self.font().family(), BASE_PT - 2))
        if self.figures is not None:
            self._show(self.figures)

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, theme)
        self.settings.setValue("ui/theme", theme)
        self._apply_palette()
        self.wall.grid.update()

    def set_language(self, language: str) -> None:
        if language == self.localization.language:
            return
        self.localization.switch(language)  # every widget hears LanguageChange (posted) and says itself again
        self.settings.setValue("ui/language", language)
        self._retranslate()  # at once: the event comes a moment later

    # -- pages and the tour ------------------------------------------------------------------------------
    def page(self) -> str:
        return PAGES[self.pages.currentIndex()]

    def show_page(self, name: str) -> None:
        self.tabs.setCurrentIndex(PAGES.index(name))

    def next_page(self) -> None:
        self.tabs.setCurrentIndex((self.tabs.currentIndex() + 1) % len(PAGES))

    def previous_page(self) -> None:
        self.tabs.setCurrentIndex((self.tabs.currentIndex() - 1) % len(PAGES))

    @property
    def touring(self) -> bool:
        return self._tour.isActive()

    def set_touring(self, on: bool) -> None:
        if on:
            self._tour.start(int(self.tour_seconds * 1000))
        else:
            self._tour.stop()
        self.tour_action.setChecked(on)
        self._say_tour()

    def _say_tour(self) -> None:
        self.tour_label.setText(fmt(self.tr("Tour: every %1 s (P stops)"), f"{self.tour_seconds:g}")
                                if self.touring else self.tr("Tour stopped (P starts)"))

    def toggle_fullscreen(self) -> None:
        if self.isFullScreen() and not self.kiosk:
            self.showNormal()
        else:
            self.showFullScreen()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_P, Qt.Key.Key_Space):
            self.set_touring(not self.touring)
        elif key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown):
            self.next_page()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp):
            self.previous_page()
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.pages.currentWidget() is self.wall:
            # the wall's own pages, for a hall with more cameras than it holds
            if key == Qt.Key.Key_Down:
                self.wall.next_page()
            else:
                self.wall.previous_page()
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_5:
            self.tabs.setCurrentIndex(int(key) - int(Qt.Key.Key_1))
        elif key == Qt.Key.Key_Escape and self.isFullScreen() and not self.kiosk:
            self.showNormal()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # -- refreshing --------------------------------------------------------------------------------------
    def _tick(self) -> None:
        st = self.terminal.status()
        self.clock_label.setText(st.at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S"))
        self._say_server(st)
        self._say_tour()
        gen = st.warnings.generation
        now = self._mono()
        # until the monitor's first judgement is on screen, follow it at once; then at most every MIN_GAP_S
        gap = MIN_GAP_S if self.figures is not None and self.figures.generation > 0 else 1.0
        due = now - self._asked_at >= REFRESH_S or (gen != self._asked_generation and now - self._asked_at >= gap)
        if due and not self.reader.pending("figures"):
            self.refresh()

    def refresh(self) -> None:
        """Compute the figures again (on the reader's slow worker)."""
        self._asked_at = self._mono()
        self._asked_generation = self.terminal.status().warnings.generation
        self.reader.submit("figures", self.terminal.figures, self._computed, self._compute_failed, slow=True)

    def _computed(self, figures: LeaderFigures) -> None:
        self._failed = None
        self._show(figures)
        self.figures_shown.emit(figures)

    def _compute_failed(self, words: str) -> None:
        self._failed = words
        self._tick()

    def _say_server(self, st: Any) -> None:
        sy = st.sync
        problem: str | None = None
        if sy is None:
            self.server_label.setText(self.tr("No server configured"))
            problem = self.tr("No server is configured ([server] url and token): the figures are what this "
                              "terminal's store holds.")
        else:
            # the engine's instants are the wall clock's (a demo clock may run elsewhere): say how long ago
            synced = self._ago(sy.last_success)
            if sy.state == "unauthorized":
                problem = self.tr("The supervision server refused this terminal's token: ask the administrator "
                                  "for a leader token.")
                self.server_label.setText(self.tr("Token refused"))
            elif sy.state == "offline" or (sy.last_error and sy.error_code == "unreachable"):
                words = sync_error_text(sy.error_code) or self.tr("cannot reach the server")
                problem = fmt(self.tr("The supervision server cannot be reached (%1) for %2. The figures shown "
                                      "were synced %3; this screen reconnects by itself."), words,
                              self._ago(sy.offline_since, ago=False), synced)
                self.server_label.setText(self.tr("Server unreachable"))
            elif sy.last_success is None:
                self.server_label.setText(self.tr("Connecting to the server…"))
            else:
                self.server_label.setText(fmt(self.tr("Server connected · synced %1"), synced))
        if self._failed is not None:
            problem = (problem + " " if problem else "") + self.tr(
                "The figures could not be computed; the log has the details.")
        if problem:
            self.banner.setText(problem)
            self.banner.show()
        else:
            self.banner.hide()

    def _ago(self, t: datetime | None, *, ago: bool = True) -> str:
        if t is None:
            return "—"
        s = max(0, int((datetime.now(UTC) - t).total_seconds()))
        span = (fmt(self.tr("%1 s"), s) if s < 120 else fmt(self.tr("%1 min"), s // 60) if s < 7200
                else fmt(self.tr("%1 h"), s // 3600))
        return fmt(self.tr("%1 ago"), span) if ago else span

    # -- showing the figures -----------------------------------------------------------------------------
    def _terminals(self) -> Sequence[TerminalInfo]:
        return self.figures.terminals if self.figures is not None else ()

    def _decoration(self, camera_id: str) -> TileDecoration:
        cam = self.wall._cameras.get(camera_id)
        if cam is None:
            return TileDecoration()
        light = self.terminal.monitor.snapshot().by_window.get(cam.config.window_id or "")
        return TileDecoration(window_name=cam.config.name, light=str(light) if light is not None else "green")

    def _window_rank(self, window_id: str | None) -> int:
        light = self.terminal.monitor.snapshot().by_window.get(window_id or "")
        return _LIGHT_RANK.get(str(light) if light is not None else "green", 0)

    def _show(self, fig: LeaderFigures) -> None:
        self.figures = fig
        root = fig.unit(fig.root) if fig.root else (fig.units[0] if fig.units else None)
        scope = root.name if root is not None else self.tr("(nothing synced yet)")
        self.title.setText(fmt(self.tr("%1 — electronic supervision"), scope))
        self._fill_tree(fig)
        if self.unit_id is None or fig.unit(self.unit_id) is None:
            self.unit_id = root.id if root is not None else None
        self._select_in_tree(self.unit_id)
        self._show_unit()
        self._fill_ranking(self.halls_table, fig.halls)
        self._fill_ranking(self.depts_table, fig.departments)
        self._show_trends()
        self._fill_terminals(fig)
        if self.wall.hall_id is None or self.wall.hall_id not in fig.hall_names:
            halls = fig.halls_below(self.unit_id) or [u.id for u in fig.units if u.level == "hall"]
            if halls:
                best = max(halls, key=lambda h: ((u := fig.unit(h)) is not None and u.red, -halls.index(h)))
                self.wall.set_hall(best, fig.hall_names.get(best, best))
            else:
                self.wall.set_hall(None)
        elif not self.wall.cameras():
            self.wall.refresh()

    def _light_color(self, light: str) -> str:
        p = current_palette()
        return {"red": p.red, "yellow": p.yellow, "notice": p.notice}.get(light, p.green)

    def _fill_tree(self, fig: LeaderFigures) -> None:
        ids = [u.id for u in fig.units]
        if list(self._items) != ids:
            self.tree.blockSignals(True)
            self.tree.clear()
            self._items = {}
            for u in fig.units:
                parent = self._items.get(u.parent_id or "")
                item = QTreeWidgetItem(parent) if parent is not None else QTreeWidgetItem(self.tree)
                item.setData(0, Qt.ItemDataRole.UserRole, u.id)
                self._items[u.id] = item
            self.tree.expandAll()
            self.tree.blockSignals(False)
        p = current_palette()
        for u in fig.units:
            item = self._items[u.id]
            item.setText(0, u.name)
            item.setIcon(0, _dot(self._light_color(u.light)))
            item.setToolTip(0, fmt(self.tr("%1 (%2): %3"), u.name, self._level_words(u.level), level_text(u.light)))
            item.setText(1, str(u.red))
            item.setText(2, str(u.yellow))
            item.setForeground(1, QColor(p.red if u.red else p.muted))
            item.setForeground(2, QColor(p.yellow if u.yellow else p.muted))
            for c in (1, 2):
                item.setTextAlignment(c, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _level_words(self, level: str) -> str:
        return {"province": self.tr("province"), "city": self.tr("city"), "county": self.tr("county"),
                "township": self.tr("township"), "hall": self.tr("hall")}.get(level, level)

    def _select_in_tree(self, unit_id: str | None) -> None:
        item = self._items.get(unit_id or "")
        if item is not None and self.tree.currentItem() is not item:
            self.tree.blockSignals(True)
            self.tree.setCurrentItem(item)
            self.tree.blockSignals(False)

    def _tree_chosen(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if current is None or self.figures is None:
            return
        self.choose_unit(str(current.data(0, Qt.ItemDataRole.UserRole)))

    def choose_unit(self, unit_id: str) -> None:
        """Show a unit's figures; a hall's cameras go on the wall (a unit above: its first hall)."""
        fig = self.figures
        if fig is None or fig.unit(unit_id) is None:
            return
        self.unit_id = unit_id
        self._select_in_tree(unit_id)
        self._show_unit()
        self._show_trends()  # the trends follow the chosen unit too
        halls = fig.halls_below(unit_id)
        if halls and self.wall.hall_id not in halls:
            self.wall.set_hall(halls[0], fig.hall_names.get(halls[0], halls[0]))

    def _wait_words(self, seconds: float) -> str:
        minutes = int(seconds // 60)
        if minutes >= 60:
            return fmt(self.tr("%1 h %2 min"), minutes // 60, minutes % 60)
        return fmt(self.tr("%1 min"), minutes)

    def _show_unit(self) -> None:
        fig = self.figures
        if fig is None:
            return
        u = fig.unit(self.unit_id)
        if u is None:
            return
        p = current_palette()
        at = fig.at.astimezone(self.tz).strftime("%H:%M:%S")
        self.tiles["red"].show_value(str(u.red), fmt(self.tr("%1 · as of %2"), u.name, at), p.red if u.red else None)
        self.tiles["yellow"].show_value(str(u.yellow), fmt(self.tr("%1 · as of %2"), u.name, at),
                                        p.yellow if u.yellow else None)
        self.tiles["open"].show_value(str(u.open_cases), fmt(self.tr("in %1 windows"), u.windows))
        self.tiles["on_time"].show_value(_pct(u.on_time_rate), fmt(self.tr("%1 cases completed"), u.completed))
        self.tiles["satisfaction"].show_value(_pct(u.satisfaction), fmt(self.tr("%1 evaluations"), u.evaluations))
        self.tiles["waiting"].show_value(str(u.waiting), self.tr("tickets in the queues now"))
        self.tiles["longest"].show_value(self._wait_words(u.longest_wait_s) if u.waiting else "–",
                                         self.tr("the longest a ticket has waited"))
        self._fill_reds(u)
        kids = fig.children(u.id)
        self.units_caption.setText(fmt(self.tr("Units under %1"), u.name) if kids else
                                   fmt(self.tr("%1 has no units under it"), u.name))
        t = self.units_table
        t.setRowCount(len(kids))
        for r, k in enumerate(kids):
            cells = [k.name, str(k.red), str(k.yellow), str(k.open_cases), _pct(k.on_time_rate), _pct(k.satisfaction),
                     str(k.waiting), self._wait_words(k.longest_wait_s) if k.waiting else "–"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setIcon(_dot(self._light_color(k.light)))
                else:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 1 and k.red:
                    item.setForeground(QColor(p.red))
                if c == 2 and k.yellow:
                    item.setForeground(QColor(p.yellow))
                t.setItem(r, c, item)

    def _fill_ranking(self, table: QTableWidget, rows: Sequence[RankRow]) -> None:
        p = current_palette()
        table.setRowCount(len(rows))
        bold = QFont(table.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            cells = [str(r + 1), row.name, f"{row.score:.0f}", _pct(row.on_time_rate), _pct(row.satisfaction),
                     str(row.yellow), str(row.red)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c != 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 2:
                    item.setFont(bold)
                if c == 5 and row.yellow:
                    item.setForeground(QColor(p.yellow))
                if c == 6 and row.red:
                    item.setForeground(QColor(p.red))
                table.setItem(r, c, item)

    def _show_trends(self) -> None:
        fig = self.figures
        if fig is None:
            return
        kind = str(self.granularity.currentData())
        points: Sequence[TrendPoint] = fig.trends_of(self.unit_id).get(kind, ())
        p = current_palette()
        labels = [self._bucket_label(kind, pt) for pt in points]
        ticks = [list(enumerate(labels))]
        xs = list(range(len(points)))
        self.rates_plot.clear()
        for attr, color in (("on_time_rate", p.notice), ("satisfaction", p.green)):
            px = [i for i in xs if getattr(points[i], attr) is not None]
            py = [getattr(points[i], attr) * 100 for i in px]
            if px:
                self.rates_plot.plot(px, py, pen=pg.mkPen(color, width=3), symbol="o", symbolSize=9,
                                     symbolBrush=QColor(color), symbolPen=None)
        self.rates_plot.setYRange(0, 105, padding=0)
        self.rates_plot.setXRange(-0.5, max(len(xs) - 0.5, 0.5), padding=0)
        self.rates_plot.getAxis("bottom").setTicks(ticks)
        shown = fig.unit(self.unit_id) or fig.unit(fig.root)
        scope = shown.name if shown is not None else ""
        # the words outside the f-strings: lupdate reads no f-string
        on_time, satisfaction = self.tr("On-time rate"), self.tr("Satisfaction")
        heading = (fmt(self.tr("%1: on-time rate and satisfaction (%)"), scope) if scope
                   else self.tr("On-time rate and satisfaction (%)"))  # nothing synced yet: no unit to name
        self.rates_plot.setTitle(
            heading
            + f" &nbsp; <span style='color:{p.notice}'>■</span> {on_time}"
            f" &nbsp; <span style='color:{p.green}'>■</span> {satisfaction}", color=p.text,
            size=f"{BASE_PT}pt")
        self.cards_plot.clear()
        if xs:
            self.cards_plot.addItem(pg.BarGraphItem(x=[x - 0.2 for x in xs], height=[pt.yellow for pt in points],
                                                    width=0.38, brush=QColor(p.yellow), pen=None))
            self.cards_plot.addItem(pg.BarGraphItem(x=[x + 0.2 for x in xs], height=[pt.red for pt in points],
                                                    width=0.38, brush=QColor(p.red), pen=None))
        top = max([1, *(pt.yellow for pt in points), *(pt.red for pt in points)])
        self.cards_plot.setYRange(0, top * 1.15, padding=0)
        self.cards_plot.setXRange(-0.6, max(len(xs) - 0.4, 0.6), padding=0)
        self.cards_plot.getAxis("bottom").setTicks(ticks)
        yellow, red = self.tr("Yellow"), self.tr("Red")
        self.cards_plot.setTitle(
            self.tr("Cards raised") + f" &nbsp; <span style='color:{p.yellow}'>■</span> {yellow}"
            f" &nbsp; <span style='color:{p.red}'>■</span> {red}", color=p.text, size=f"{BASE_PT}pt")
        self.volume_plot.clear()
        if xs:
            self.volume_plot.addItem(pg.BarGraphItem(x=xs, height=[pt.completed for pt in points], width=0.6,
                                                     brush=QColor(p.accent), pen=None))
        vtop = max([1, *(pt.completed for pt in points)])
        self.volume_plot.setYRange(0, vtop * 1.15, padding=0)
        self.volume_plot.setXRange(-0.6, max(len(xs) - 0.4, 0.6), padding=0)
        self.volume_plot.getAxis("bottom").setTicks(ticks)
        self.volume_plot.setTitle(self.tr("Cases completed"), color=p.text, size=f"{BASE_PT}pt")

    def _bucket_label(self, kind: str, pt: TrendPoint) -> str:
        if kind == "month":
            return fmt(self.tr("%1-%2"), pt.start.year, f"{pt.start.month:02d}")
        return pt.start.strftime("%m-%d")

    def _actions_words(self, actions: Sequence[Any]) -> str:
        lines = []
        for a in actions:
            when = a.at.astimezone(self.tz).strftime("%m-%d %H:%M") if a.at is not None else "—"
            what = measure_text(a.measure) if a.action == "warning.dispose" else state_text("acknowledged")
            line = fmt(self.tr("%1 %2: %3"), when, a.by or self.tr("(unnamed)"), what)
            if a.note:
                line += fmt(self.tr(" — “%1”"), a.note)
            lines.append(line)
        return "\n".join(lines) if lines else self.tr("nobody yet")

    def reds_shown(self) -> list[RedItem]:
        """The reds of the chosen unit (every red in scope at the top)."""
        fig = self.figures
        if fig is None:
            return []
        if self.unit_id is None or self.unit_id == fig.root:
            return list(fig.reds)
        halls = set(fig.halls_below(self.unit_id))
        return [r for r in fig.reds if r.hall_id in halls]

    def _state_color(self, state: str) -> QColor:
        p = current_palette()
        return QColor(p.red if state == "active" else p.yellow if state == "acknowledged" else p.green)

    def _fill_reds(self, unit: UnitFigures) -> None:
        reds = self.reds_shown()
        undisposed = sum(1 for r in reds if r.state != "disposed")
        caption = fmt(self.tr("Red cards in force in %1: %2, %3 not disposed yet"), unit.name, len(reds), undisposed)
        self.reds_caption.setText(caption)
        self.top_reds_caption.setText(caption)
        top = self.top_reds
        top.setRowCount(len(reds))
        for r, red in enumerate(reds):
            where = " · ".join(x for x in (red.window or red.department, red.hall) if x) or "—"  # the window first
            cells = [where, code_text(red.code), red.since.astimezone(self.tz).strftime("%m-%d %H:%M"),
                     state_text(red.state)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if c == 3:
                    item.setForeground(self._state_color(red.state))
                top.setItem(r, c, item)
        t = self.reds_table
        t.setRowCount(len(reds))
        for r, red in enumerate(reds):
            cells = [red.hall or "—", red.window or red.department or "—",
                     f"{code_text(red.code)} · {red.subject}", red.since.astimezone(self.tz).strftime("%m-%d %H:%M"),
                     state_text(red.state), self._actions_words(red.actions)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 4:
                    item.setForeground(self._state_color(red.state))
                t.setItem(r, c, item)
        t.resizeRowsToContents()

    def _fill_terminals(self, fig: LeaderFigures) -> None:
        p = current_palette()
        online = sum(1 for x in fig.terminals if x.online)
        self.terminals_caption.setText(fmt(self.tr("Terminals: %1 of %2 online"), online, len(fig.terminals)))
        t = self.terminals_table
        t.setRowCount(len(fig.terminals))
        for r, term in enumerate(fig.terminals):
            role = {"operator": self.tr("Supervision workstation"), "leader": self.tr("Leader terminal")}.get(
                term.role, term.role)
            relay = self.tr("relays video") if term.relay_url else "—"
            seen = term.last_seen.astimezone(self.tz).strftime("%m-%d %H:%M") if term.last_seen else "—"
            cells = [term.name, role, relay, seen, self.tr("online") if term.online else self.tr("not heard from")]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 4:
                    item.setForeground(QColor(p.green if term.online else p.red))
                    item.setIcon(_dot(p.green if term.online else p.red, 14))
                t.setItem(r, c, item)

    # -- for tests and the run module ----------------------------------------------------------------------
    def tile_text(self, key: str) -> str:
        return self.tiles[key].value.text()

    def table_rows(self, table: QTableWidget) -> list[list[str]]:
        return [[(it.text() if (it := table.item(r, c)) is not None else "") for c in range(table.columnCount())]
                for r in range(table.rowCount())]

    def palette_(self) -> Palette:
        return current_palette()

    # -- closing ---------------------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self._timer.stop()
        self._tour.stop()
        self.wall.shutdown()
        self.reader.stop()
        self.net.stop()
        log.info("leader window closed")
        self.quit_requested.emit()
        super().closeEvent(event)
