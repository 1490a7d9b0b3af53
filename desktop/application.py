"""The QApplication of every role: name, fonts, translations (zh_CN default, English live), theme,
settings, and SIGINT/SIGTERM seen by the GUI loop."""

from __future__ import annotations

import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QLibraryInfo,
    QLocale,
    QMessageLogContext,
    QObject,
    QSettings,
    QSocketNotifier,
    QTimer,
    QtMsgType,
    QTranslator,
    qInstallMessageHandler,
)
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication, QWidget

__all__ = [
    "GUI_GC_THRESHOLDS", "LANGUAGES", "Localization", "SignalWatcher", "create_application", "freeze_startup_heap",
    "settings", "show_and_run", "start_gui",
]

log = logging.getLogger(__name__)

LANGUAGES = ("zh_CN", "en")
ORGANIZATION = "HallWatch"
APPLICATION = "HallWatch"


def settings() -> QSettings:
    """The user's settings (window geometry, layouts, language and theme picked in the window)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


GUI_SWITCH_INTERVAL_S = 0.0002
"""Python's thread switch interval in a GUI process. The GUI thread shares the GIL with the
sync, the warning monitor, the panels' reader and the video threads; each time it comes back from
Qt it waits for the GIL, and while it runs Python it is made to hand the GIL over every interval
as soon as another thread asks (then waits its turn again among them): by default 5 ms each time,
so under a sync a paint of 16 tiles waited 100 ms and more. Issue 11's GUI-stall figure
(``benchmarks.gui_stalls``, 20 000 changes synced while 16 tiles play; alternating runs, same
code otherwise): with 0.5 ms p99 19.0-20.4 ms and 30-32 gaps over 20 ms a run, with 0.2 ms
16.3-17.9 ms and 14-20 gaps; 0.1 ms was no better (15 ms, max 107 ms in a run), and the
process's CPU stayed the same (0.62-0.65 cores). A thread nobody waits for is never interrupted,
so single-threaded work does not pay for it."""


GUI_GC_THRESHOLDS = (5_000, 5, 100)
"""The cyclic GC's thresholds in a GUI process (``app.runtime.GC_THRESHOLDS`` elsewhere). A
collection holds the GIL throughout, whichever thread runs it, so its length is a GUI-thread stall:
it scans the objects of the generations it collects, and with (20 000, 20, 100) a middle-generation
collection scanned up to 420 000 objects (51-67 ms; issue 11's GUI-stall figure,
``benchmarks.gui_stalls``). Here a young collection scans at most 5 000 objects and a middle one
30 000. The objects alive after start-up leave the collected generations
(:func:`freeze_startup_heap`), so an old-generation collection scans only what came since."""


def create_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (made once; later calls return it). Sets the process's thread switch
    interval for a responsive GUI thread (:data:`GUI_SWITCH_INTERVAL_S`) and the cyclic GC's
    thresholds (:data:`GUI_GC_THRESHOLDS`)."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    gc.set_threshold(*GUI_GC_THRESHOLDS)
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    qInstallMessageHandler(_qt_message)
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationDisplayName("HallWatch")
    app.setWindowIcon(QIcon(str(files("resources").joinpath("icons", "hallwatch.svg"))))
    _choose_font(app)
    return app


_frozen = False


def freeze_startup_heap() -> bool:
    """Once per process, when start-up is over (the window shows the monitor's first snapshot):
    move every object alive now out of the cyclic GC's generations (``gc.freeze``). They are the
    long-lived part of the heap (the store's hall, the monitor's state, Qt's wrappers); the GC would
    otherwise scan them again in every old-generation collection, holding the GIL — a GUI stall of
    hundreds of milliseconds with a million objects. Reference counting still frees them when they
    are dropped. True the first time."""
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.freeze()
    log.info("start-up heap frozen: %d objects leave the cyclic GC's generations", gc.get_freeze_count())
    return True


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO, QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR, QtMsgType.QtFatalMsg: logging.CRITICAL,
}
# Said by the offscreen platform whenever a window's size hints change; it means nothing to a user.
_QT_NOISE = ("This plugin does not support propagateSizeHints",)


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    """Qt's own messages go to the application's log (logger ``qt``), not to a console nobody reads."""
    level = _QT_LEVELS.get(kind, logging.WARNING)
    if level == logging.WARNING and message.startswith(_QT_NOISE):
        level = logging.DEBUG
    logging.getLogger("qt").log(level, "%s", message)


def _choose_font(app: QApplication) -> None:
    """A font with Chinese glyphs where the system has one (Chinese is the default language)."""
    families = set(QFontDatabase.families())
    for family in ("Microsoft YaHei UI", "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
                   "WenQuanYi Micro Hei", "WenQuanYi Zen Hei"):
        if family in families:
            font = QFont(family)
            font.setPointSizeF(max(app.font().pointSizeF(), 10.0))
            app.setFont(font)
            return


_installed: list[QTranslator] = []  # the application's translators now (one QApplication per process)


class Localization:
    """Installs the application's and Qt's own translations; ``switch`` changes language live."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.language = "en"
        self._translators = _installed

    def switch(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r} (zh_CN or en)")
        for t in self._translators:
            self.app.removeTranslator(t)
        self._translators.clear()
        self.language = language
        if language != "en":  # English is the source language of every string
            own = QTranslator(self.app)
            qm = files("resources").joinpath("i18n", f"hallwatch_{language}.qm")
            if own.load(str(qm)):
                self._translators.append(own)
            else:
                log.warning("the %s translation %s could not be loaded", language, qm)
            qt = QTranslator(self.app)
            if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                self._translators.append(qt)
        for t in self._translators:
            self.app.installTranslator(t)
        QLocale.setDefault(QLocale(QLocale.Language.Chinese if language == "zh_CN" else QLocale.Language.English,
                                   QLocale.Country.China if language == "zh_CN" else QLocale.Country.UnitedStates))


class SignalWatcher(QObject):
    """SIGINT/SIGTERM reach the Qt event loop (a socket the C-level handler writes to wakes it)."""

    def __init__(self, on_signal: Callable[[int], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._on_signal = on_signal
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._wake)

    def _wake(self) -> None:
        try:
            data = self._read.recv(64)
        except OSError:
            return
        for b in data:
            if b in (signal.SIGINT, signal.SIGTERM):
                self._on_signal(b)

    def close(self) -> None:
        self._notifier.setEnabled(False)
        signal.set_wakeup_fd(self._previous_fd)
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._read.close()
        self._write.close()


def start_gui(ui_language: str, ui_theme: str, *, language: str | None = None, theme: str | None = None
              ) -> tuple[QApplication, QSettings, Localization, str]:
    """The application in the user's language and theme: an explicit pick (``language``/``theme``,
    e.g. ``screenshot --lang``) wins over what the user picked in a window (saved), which wins over
    the config's ``[ui]``. Returns the application, the settings, its localization and the theme."""
    from desktop.theme import apply_theme

    app = create_application()
    saved = settings()
    lang = language or str(saved.value("ui/language", ui_language))
    if lang not in LANGUAGES:
        lang = ui_language
    chosen_theme = theme or str(saved.value("ui/theme", ui_theme))
    localization = Localization(app)
    localization.switch(lang)
    apply_theme(app, chosen_theme)
    return app, saved, localization, chosen_theme


def show_and_run(app: QApplication, window: QWidget, *, screenshot: Path | None = None, after: float = 10.0,
                 size: tuple[int, int] | None = None) -> int:
    """Show ``window`` and run the event loop until it closes (SIGTERM/SIGINT close it through a
    :class:`SignalWatcher`). With ``screenshot``: render it after ``after`` seconds, write the PNG and
    close; returns 1 when the PNG could not be written. ``size``: the window's size first."""
    if size is not None:
        window.resize(*size)
    window.show()
    if screenshot is None:
        app.exec()
        return 0
    shot: dict[str, bool] = {}

    def take() -> None:
        shot["ok"] = window.grab().save(str(screenshot))
        window.close()

    QTimer.singleShot(int(after * 1000), take)
    app.exec()
    return 0 if shot.get("ok") else 1
