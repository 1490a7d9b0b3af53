"""The status bar and the offline banner: sync, cameras, recording and disk, clock, calendar.

Everything comes from :meth:`app.terminal.Terminal.status` — values in memory, no database or
network on the GUI thread — read once a second.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.terminal import TerminalStatus
from video.source import SourceState

__all__ = ["OfflineBanner", "StatusBar", "source_state_text", "sync_error_text", "sync_state_text"]


def _tr(text: str, disambiguation: str | None = None, n: int = -1) -> str:
    return QCoreApplication.translate("Status", text, disambiguation, n)


def source_state_text(state: SourceState) -> str:
    return {
        SourceState.CONNECTING: _tr("connecting"),
        SourceState.LIVE: _tr("live"),
        SourceState.STALLED: _tr("stalled"),
        SourceState.RECONNECTING: _tr("reconnecting"),
        SourceState.FAILED: _tr("failed"),
        SourceState.ENDED: _tr("ended"),
        SourceState.STOPPED: _tr("stopped"),
    }[state]


def sync_state_text(state: str) -> str:
    return {
        "idle": _tr("in step"), "syncing": _tr("syncing"), "offline": _tr("offline"), "stopped": _tr("stopped"),
        "unauthorized": _tr("token refused"),
    }.get(state, state)


def sync_error_text(code: str | None) -> str:
    """The last sync error in words (the engine's English detail goes to the tooltip and the log)."""
    return {
        "unreachable": _tr("cannot reach the server"),
        "certificate": _tr("the server's certificate is not trusted"),
        "unauthorized": _tr("the server refused this terminal's token: ask the administrator for a new one"),
        "server_error": _tr("the server had an error; retrying"),
        "too_large": _tr("the server refused a request as too large"),
        "protocol": _tr("the server's answer was not understood"),
        "rejected": _tr("the server refused a request"),
        "internal": _tr("an internal error in this terminal (see the log)"),
    }.get(code or "", "")


def _local(t: datetime | None, tz: ZoneInfo, fmt: str = "%H:%M:%S") -> str:
    return t.astimezone(tz).strftime(fmt) if t is not None else "—"


class StatusBar(QStatusBar):
    def __init__(self, tz: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.sync = QLabel(self)
        self.cameras = QLabel(self)
        self.recording = QLabel(self)
        self.clock = QLabel(self)
        self.calendar = QLabel(self)
        self.addWidget(self.sync, 1)
        for w in (self.calendar, self.clock, self.cameras, self.recording):
            self.addPermanentWidget(w)

    def show_status(self, st: TerminalStatus) -> None:
        tz = self.tz
        sy = st.sync
        if sy is None:
            self.sync.setText(_tr("Sync: no server configured"))
            self.sync.setToolTip("")
        else:
            parts = [_tr("Sync: %1").replace("%1", sync_state_text(sy.state))]
            parts.append(_tr("last success %1").replace("%1", _local(sy.last_success, tz)))
            parts.append(_tr("%n action(s) waiting", None, sy.pending_actions))
            if sy.offline_since is not None:
                parts.append(_tr("offline since %1").replace("%1", _local(sy.offline_since, tz)))
            words = sync_error_text(sy.error_code) if sy.last_error else ""
            if words:
                parts.append(words)
            self.sync.setText(" · ".join(parts))
            self.sync.setToolTip(sy.last_error or "")
        cams = st.cameras
        self.cameras.setText(
            _tr("Cameras %1/%2 live").replace("%1", str(cams.live)).replace("%2", str(len(cams.cameras)))
        )
        failing = [f"{c.name}: {source_state_text(c.main.state)}" + (f" — {c.main.error}" if c.main.error else "")
                   for c in cams.cameras if not c.online]
        self.cameras.setToolTip("\n".join(failing) if failing else _tr("Every camera is live"))
        rec = st.recording
        if rec is None:
            self.recording.setText("")
        else:
            n = sum(1 for r in rec.recorders if r.recording)
            free = "" if rec.free_percent is None else _tr(", %1% disk free").replace("%1", f"{rec.free_percent:.0f}")
            text = _tr("Recording %1/%2").replace("%1", str(n)).replace("%2", str(len(rec.recorders))) + free
            if rec.system_warning is not None:
                text = _tr("Recording stopped: the disk is full of held footage")
            self.recording.setText(text)
            self.recording.setToolTip(rec.system_warning.message if rec.system_warning is not None else "")
        offset = sy.clock_offset_s if sy is not None else None
        if offset is not None and abs(offset) > 300:
            self.clock.setText(_tr("Clock off by %1 min").replace("%1", f"{offset / 60:+.0f}"))
            self.clock.setToolTip(_tr("This computer's clock differs from the server's; have it corrected."))
        else:
            self.clock.setText("")
        years = sorted(st.warnings.fallback_years) if st.warnings is not None else []
        if years:
            self.calendar.setText(_tr("No holiday data for %1: Monday–Friday counted").replace(
                "%1", ", ".join(str(y) for y in years)))
        else:
            self.calendar.setText("")


class OfflineBanner(QLabel):
    """A red line across the window while the server has been unreachable for over one interval."""

    def __init__(self, tz: ZoneInfo, interval: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.interval = interval
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.hide()

    def show_status(self, st: TerminalStatus) -> None:
        sy = st.sync
        if sy is None or sy.offline_since is None or sy.state != "offline":
            self.hide()
            return
        if (st.at - sy.offline_since).total_seconds() < self.interval:
            self.hide()
            return
        self.setText(
            _tr("Offline since %1: %2. Warnings are still judged here and actions are kept; they are sent when the "
                "server is back.").replace("%1", _local(sy.offline_since, self.tz, "%H:%M")).replace(
                "%2", sync_error_text(sy.error_code) or _tr("cannot reach the server"))
        )
        self.setToolTip(sy.last_error or "")
        self.show()
