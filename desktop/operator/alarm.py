"""The alarm for a new red card: a chime and a system-tray message, mutable.

The chime is ``resources/alarm.wav``. PySide6-Essentials has no QtMultimedia (``QSoundEffect``
lives in PySide6-Addons, ~200 MB more to install and ship for one sound), so it is played the
way each OS already offers: ``winsound`` from the standard library on Windows (asynchronous, no
child process), ``afplay`` on macOS, and on Linux ``paplay`` (PulseAudio/PipeWire) or ``aplay``
(ALSA) as a ``QProcess`` the alarm owns (reaped when it ends, killed on ``close()``). Without any
of them the alarm falls back to ``QApplication.beep()`` and says so once in the log.
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Callable, Iterable
from importlib.resources import files
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

__all__ = ["ALARM_WAV", "Alarm", "system_player"]

log = logging.getLogger(__name__)

ALARM_WAV = Path(str(files("resources").joinpath("alarm.wav")))

Player = Callable[[Path], None]


def system_player(parent: QObject | None = None) -> Player:
    """A function that plays a WAV file without waiting, with what this OS offers."""
    if sys.platform == "win32":
        import winsound

        def play_windows(path: Path) -> None:
            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC | winsound.SND_NODEFAULT)

        return play_windows
    tool = shutil.which("afplay") if sys.platform == "darwin" else (shutil.which("paplay") or shutil.which("aplay"))
    if tool is None:
        log.info("no sound player found (paplay, aplay, afplay): the alarm beeps instead")

        def beep(_path: Path) -> None:
            QApplication.beep()

        return beep
    procs: list[QProcess] = []

    def play(path: Path) -> None:
        for p in [p for p in procs if p.state() == QProcess.ProcessState.NotRunning]:
            procs.remove(p)
            p.deleteLater()
        if len(procs) >= 2:  # a chime is still playing: do not pile them up
            return
        proc = QProcess(parent)
        args = ["-q", str(path)] if tool.endswith("aplay") else [str(path)]
        proc.start(tool, args)
        procs.append(proc)

    def close() -> None:
        for p in procs:
            if p.state() != QProcess.ProcessState.NotRunning:
                p.kill()
                p.waitForFinished(1000)
        procs.clear()

    play.close = close  # type: ignore[attr-defined]
    return play


class Alarm(QObject):
    """Rings for each NEW red card: a chime (unless muted) and a tray message (when a tray is given).

    ``player`` plays a WAV file (default :func:`system_player`); ``tray`` is the window's tray
    icon, if any. ``notify(keys_and_texts)`` is called with the reds that are new.
    """

    muted_changed = Signal(bool)
    #: the title and text of the message shown (also without a tray)
    rang = Signal(str, str)

    def __init__(self, *, player: Player | None = None, tray: QSystemTrayIcon | None = None,
                 sound: Path = ALARM_WAV, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player = player if player is not None else system_player(self)
        self.tray = tray
        self.sound = sound
        self._muted = False
        self.rings = 0

    @property
    def muted(self) -> bool:
        return self._muted

    def set_muted(self, muted: bool) -> None:
        if muted != self._muted:
            self._muted = muted
            self.muted_changed.emit(muted)

    def notify(self, reds: Iterable[str], total: int | None = None) -> None:
        """Ring once for these new reds (texts already worded). ``total``: how many new reds there
        are when ``reds`` words only the first few (default: as many as ``reds``)."""
        items = list(reds)
        if not items:
            return
        n = max(total or 0, len(items))
        self.rings += 1
        title = self.tr("New red card", None, n) if n == 1 else self.tr("%n new red cards", None, n)
        body = "\n".join(items[:5]) + ("\n…" if n > 5 else "")
        if not self._muted:
            try:
                self._player(self.sound)
            except Exception:
                log.exception("the alarm sound could not be played")
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, body, QSystemTrayIcon.MessageIcon.Warning, 10_000)
        self.rang.emit(title, body)

    def close(self) -> None:
        close = getattr(self._player, "close", None)
        if callable(close):
            close()
