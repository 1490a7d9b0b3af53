"""The status bar and the offline banner: sync, cameras, recording and disk, the relay and its
viewers, the seats watched, clock, calendar.

Everything comes from :meth:`app.terminal.Terminal.status` — values in memory, no database or
network on the GUI thread — read once a second.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from app.terminal import TerminalStatus
from desktop.i18n import fmt, translate
from desktop.video.states import state_text

__all__ = ["OfflineBanner", "StatusBar", "push_state_text", "relay_text", "seats_text", "sync_error_text",
           "sync_state_text"]


def sync_state_text(state: str) -> str:
    return {
        "idle": translate("Status", "in step"),
        "syncing": translate("Status", "syncing"),
        "offline": translate("Status", "offline"),
        "stopped": translate("Status", "stopped"),
        "unauthorized": translate("Status", "token refused"),
    }.get(state, state)


def sync_error_text(code: str | None) -> str:
    """The last sync error in words (the engine's English detail goes to the tooltip and the log)."""
    return {
        "unreachable": translate("Status", "cannot reach the server"),
        "certificate": translate("Status", "the server's certificate is not trusted"),
        "unauthorized": translate(
            "Status", "the server refused this terminal's token: ask the administrator for a new one"
        ),
        "server_error": translate("Status", "the server had an error; retrying"),
        "too_large": translate("Status", "the server refused a request as too large"),
        "protocol": translate("Status", "the server's answer was not understood"),
        "rejected": translate("Status", "the server refused a request"),
        "internal": translate("Status", "an internal error in this terminal (see the log)"),
    }.get(code or "", "")


def _local(t: datetime | None, tz: ZoneInfo, fmt: str = "%H:%M:%S") -> str:
    return t.astimezone(tz).strftime(fmt) if t is not None else "—"


def push_state_text(state: str) -> str:
    return {
        "waiting": translate("Status", "waiting for a keyframe"),
        "connecting": translate("Status", "connecting"),
        "live": translate("Status", "live"),
        "retrying": translate("Status", "retrying"),
        "refused": translate("Status", "refused"),
        "stopped": translate("Status", "stopped"),
    }.get(state, state)


def relay_text(st: TerminalStatus) -> tuple[str, str]:
    """The relay's line and its tooltip: viewers of the built-in relay, pushes to nginx that are live,
    and per camera what is not right (a viewer dropped, a push refused or retrying, with its reason)."""
    parts: list[str] = []
    tips: list[str] = []
    names = {c.id: c.name for c in st.cameras.cameras}
    relay = st.relay
    if relay is not None:
        if relay.running:
            parts.append(fmt(translate("Status", "Relay viewers: %1"), relay.viewers))
            tips.append(fmt(translate("Status", "Leaders open %1"), relay.address))
        else:
            parts.append(translate("Status", "Relay stopped"))
        for c in relay.cameras:
            if c.viewers or c.drops:
                name = names.get(c.camera_id, c.camera_id)
                if c.stream == "sub":
                    sub = translate("Status", "sub-stream")
                    name = f"{name} ({sub})"
                tips.append(fmt(translate("Status", "%1: %2 watching, %3 dropped for not reading"),
                                name, c.viewers, c.drops))
    push = st.relay_push
    if push is not None and push.pushes:
        parts.append(fmt(translate("Status", "pushed %1/%2 live"), push.live, len(push.pushes)))
        for p in push.pushes:
            if p.state.value != "live":
                line = f"{names.get(p.camera_id, p.camera_id)} ({p.kind.upper()}): {push_state_text(p.state.value)}"
                tips.append(f"{line} — {p.reason}" if p.reason else line)
    return " · ".join(parts), "\n".join(tips)


def seats_text(st: TerminalStatus, label: Callable[[str], str]) -> tuple[str, str]:
    """The seats line (how many are watched, how many are empty now) and the tooltip naming the
    empty windows and the seats not learned yet; empty when no camera watches a seat."""
    seats = st.seats
    if seats is None or not seats.cameras:
        return "", ""
    states = seats.seat_states()
    empty = sorted(label(w) for w, v in states.items() if v == "empty")
    unknown = sorted(label(w) for w, v in states.items() if v == "unknown")
    text = fmt(translate("Status", "Seats: %1 watched, %2 empty"), len(states), len(empty))
    tips = []
    if empty:
        tips.append(fmt(translate("Status", "Empty now: %1"), ", ".join(empty)))
    if unknown:
        tips.append(fmt(translate("Status", "Not judged yet (the empty seat is still being learned): %1"),
                        ", ".join(unknown)))
    if not tips:
        tips.append(translate("Status", "Every watched seat is taken"))
    return text, "\n".join(tips)


class StatusBar(QStatusBar):
    def __init__(self, tz: ZoneInfo, parent: QWidget | None = None,
                 window_label: Callable[[str], str] | None = None) -> None:
        super().__init__(parent)
        self.tz = tz
        self.window_label = window_label or (lambda window_id: window_id)
        self.sync = QLabel(self)
        self.cameras = QLabel(self)
        self.recording = QLabel(self)
        self.relay = QLabel(self)
        self.seats = QLabel(self)
        self.clock = QLabel(self)
        self.calendar = QLabel(self)
        self.addWidget(self.sync, 1)
        for w in (self.calendar, self.clock, self.seats, self.relay, self.cameras, self.recording):
            self.addPermanentWidget(w)

    def show_status(self, st: TerminalStatus) -> None:
        tz = self.tz
        sy = st.sync
        if sy is None:
            self.sync.setText(translate("Status", "Sync: no server configured"))
            self.sync.setToolTip("")
        else:
            parts = [fmt(translate("Status", "Sync: %1"), sync_state_text(sy.state))]
            parts.append(fmt(translate("Status", "last success %1"), _local(sy.last_success, tz)))
            parts.append(fmt(translate("Status", "actions waiting: %1"), sy.pending_actions))
            if sy.offline_since is not None:
                parts.append(fmt(translate("Status", "offline since %1"), _local(sy.offline_since, tz)))
            words = sync_error_text(sy.error_code) if sy.last_error else ""
            if words:
                parts.append(words)
            self.sync.setText(" · ".join(parts))
            self.sync.setToolTip(sy.last_error or "")
        cams = st.cameras
        self.cameras.setText(fmt(translate("Status", "Cameras %1/%2 live"), str(cams.live), str(len(cams.cameras))))
        failing = [f"{c.name}: {state_text(c.main.state, c.main.error)}" for c in cams.cameras if not c.online]
        self.cameras.setToolTip("\n".join(failing) if failing else translate("Status", "Every camera is live"))
        rec = st.recording
        if rec is None:
            self.recording.setText("")
        else:
            n = sum(1 for r in rec.recorders if r.recording)
            free = (
                ""
                if rec.free_percent is None
                else fmt(translate("Status", ", %1% disk free"), f"{rec.free_percent:.0f}")
            )
            text = fmt(translate("Status", "Recording %1/%2"), str(n), str(len(rec.recorders))) + free
            if rec.system_warning is not None:
                text = translate("Status", "Recording stopped: the disk is full of held footage")
            self.recording.setText(text)
            self.recording.setToolTip(rec.system_warning.message if rec.system_warning is not None else "")
        text, tip = relay_text(st)
        self.relay.setText(text)
        self.relay.setToolTip(tip)
        self.relay.setVisible(bool(text))
        text, tip = seats_text(st, self.window_label)
        self.seats.setText(text)
        self.seats.setToolTip(tip)
        self.seats.setVisible(bool(text))
        offset = sy.clock_offset_s if sy is not None else None
        if offset is not None and abs(offset) > 300:
            self.clock.setText(fmt(translate("Status", "Clock off by %1 min"), f"{offset / 60:+.0f}"))
            self.clock.setToolTip(
                translate("Status", "This computer's clock differs from the server's; have it corrected.")
            )
        else:
            self.clock.setText("")
        years = sorted(st.warnings.fallback_years) if st.warnings is not None else []
        if years:
            self.calendar.setText(
                fmt(translate("Status", "No holiday data for %1: Monday–Friday counted"), ", ".join(map(str, years)))
            )
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
        text = translate(
            "Status",
            "Offline since %1: %2. Warnings are still judged here and actions are kept; "
            "they are sent when the server is back.",
        )
        words = sync_error_text(sy.error_code) or translate("Status", "cannot reach the server")
        self.setText(fmt(text, _local(sy.offline_since, self.tz, "%H:%M"), words))
        self.setToolTip(sy.last_error or "")
        self.show()
