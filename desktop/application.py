"""The QApplication of every role: name, fonts, translations (zh_CN default, English live), theme,
settings, and SIGINT/SIGTERM seen by the GUI loop."""

from __future__ import annotations

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
    "LANGUAGES", "Localization", "SignalWatcher", "create_application", "settings", "show_and_run", "start_gui",
]

log = logging.getLogger(__name__)

LANGUAGES = ("zh_CN", "en")
ORGANIZATION = "HallWatch"
APPLICATION = "HallWatch"


def settings() -> QSettings:
    """The user's settings (window geometry, layouts, language and theme picked in the window)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


GUI_SWITCH_INTERVAL_S = 0.0005
"""Python's thread switch interval in a GUI process. The GUI thread shares the GIL with the
sync, the warning monitor and the panels' reader; each time it comes back from Qt it waits for
the GIL, by default up to 5 ms each time, so under a sync a paint of 16 tiles waited 100 ms and
more. With 0.5 ms it gets the GIL back sooner (issue 11's GUI-stall figure: benchmarks.gui_stalls;
a thread nobody waits for is never interrupted, so single-threaded work does not pay for it)."""


def create_application(argv: list[str] | None = None) -> QApplication:
    """The one QApplication (made once; later calls return it). Sets the process's thread switch
    interval for a responsive GUI thread (:data:`GUI_SWITCH_INTERVAL_S`)."""
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
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
