"""Bookmarks and evidence holds from the review window: :class:`BookmarkDialog` (a note at an
instant), :class:`HoldDialog` (a span with a required reason) and :func:`confirm_release` (asks
first). Each calls the backend's ``bookmark`` / ``hold`` / ``release_hold`` — the signatures of
:class:`app.terminal.Terminal`'s — and shows a rejected action's reason in words.

The backend's actions run on its executor thread; their outcome comes back to the GUI thread
through a queued signal. Nothing here touches the store or the files itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QObject, QTime, QTimeZone, Signal
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import fmt, translate
from desktop.words import action_error_text
from supervision.config import Config
from supervision.store import Store
from video.footage import FootageIndex

__all__ = [
    "BookmarkDialog", "EvidenceBackend", "HoldDialog", "confirm_release", "get_local", "hall_time_edit", "operator_of",
    "outcome_text", "set_local",
]


class EvidenceBackend(Protocol):
    """What the review's evidence actions need: :class:`app.terminal.Terminal` or the review's own backend."""

    store: Store
    index: FootageIndex
    tz: ZoneInfo
    cfg: Config
    data_dir: Path  # the signing key lives in DATA/keys

    def bookmark(self, camera_id: str, at: datetime, note: str, *, by: str,
                 on_done: Callable[[Any], None] | None = None) -> None: ...

    def hold(self, start: datetime, end: datetime, *, reason: str, by: str, camera_id: str | None = None,
             window_id: str | None = None, on_done: Callable[[Any], None] | None = None) -> None: ...

    def release_hold(self, hold_id: str, *, by: str, on_done: Callable[[Any], None] | None = None) -> None: ...


def operator_of(backend: Any) -> str:
    """Who acts: the configured operator, else the OS user."""
    from video.export import default_who

    cfg = getattr(backend, "cfg", None)
    name = getattr(getattr(cfg, "terminal", None), "operator", None)
    return str(name) if name else default_who()


def outcome_text(outcome: Any) -> str:
    """Why a bookmark, hold or release was not done, in words (``app.executor.Outcome``)."""
    error = str(getattr(outcome, "error", "") or "")
    code = getattr(outcome, "code", None)
    if "needs a reason" in error:
        return translate("Evidence", "an evidence hold needs a reason")
    if "needs a camera or a window" in error:
        return translate("Evidence", "choose a camera or a window to hold")
    if "end must come after" in error:
        return translate("Evidence", "the span's end must come after its start")
    if "no hold" in error:
        return translate("Evidence", "this hold does not exist (it may have been released already)")
    if "a bookmark needs a camera" in error:
        return translate("Evidence", "choose a camera to bookmark")
    return action_error_text(code, error)


class _Outcomes(QObject):
    """Carries an executor's ``on_done`` back to the GUI thread."""

    arrived = Signal(object)

    def callback(self) -> Callable[[Any], None]:
        def done(outcome: Any) -> None:
            self.arrived.emit(outcome)

        return done


def hall_time_edit(parent: QWidget) -> QDateTimeEdit:
    """A date-time edit holding the hall's wall time (see :func:`set_local` / :func:`get_local`)."""
    edit = QDateTimeEdit(parent)
    edit.setTimeZone(QTimeZone.utc())
    edit.setDisplayFormat("yyyy-MM-dd HH:mm:ss")
    edit.setCalendarPopup(True)
    return edit


def set_local(edit: QDateTimeEdit, at: datetime, tz: ZoneInfo) -> None:
    """Show ``at`` as the hall's wall time (the edit holds wall times, whatever the computer's zone)."""
    local = at.astimezone(tz).replace(tzinfo=None, microsecond=0)
    edit.setDateTime(QDateTime(QDate(local.year, local.month, local.day),
                               QTime(local.hour, local.minute, local.second), QTimeZone.utc()))


def get_local(edit: QDateTimeEdit, tz: ZoneInfo) -> datetime:
    """The edit's wall time in the hall's zone, as an aware instant."""
    d, t = edit.date(), edit.time()
    return datetime(d.year(), d.month(), d.day(), t.hour(), t.minute(), t.second(), tzinfo=tz)


class BookmarkDialog(QDialog):
    """A bookmark on ``camera_id`` at ``at`` with a note; on OK calls ``backend.bookmark``.

    Stays open showing the reason when the action is rejected; accepts when it is done.
    ``action_done`` is emitted with the outcome (on the GUI thread).
    """

    action_done = Signal(object)

    def __init__(self, backend: Any, camera_id: str, at: datetime, tz: ZoneInfo | None = None, *,
                 camera_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.camera_id, self.at = backend, camera_id, at
        self.tz = tz or backend.tz
        self._outcomes = _Outcomes(self)
        self._outcomes.arrived.connect(self._on_outcome)
        self.setWindowTitle(self.tr("Bookmark"))
        where = QLabel(fmt(self.tr("%1 at %2"), camera_name or camera_id,
                           at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S")), self)
        self.note = QPlainTextEdit(self)
        self.note.setPlaceholderText(self.tr("What is there to see (optional)"))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Bookmark"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(where)
        box.addWidget(QLabel(self.tr("Note"), self))
        box.addWidget(self.note)
        box.addWidget(self.message)
        box.addWidget(self.buttons)

    def submit(self) -> None:
        self.ok_button.setEnabled(False)
        self.message.setText(self.tr("Saving the bookmark…"))
        self.backend.bookmark(self.camera_id, self.at, self.note.toPlainText().strip(), by=operator_of(self.backend),
                              on_done=self._outcomes.callback())

    def _on_outcome(self, outcome: Any) -> None:
        self.action_done.emit(outcome)
        if getattr(outcome, "ok", False):
            self.accept()
            return
        self.ok_button.setEnabled(True)
        self.message.setText(fmt(self.tr("Not bookmarked: %1"), outcome_text(outcome)))


class HoldDialog(QDialog):
    """An evidence hold over a span of a camera (or a window's cameras) with a required reason; on OK
    calls ``backend.hold``. OK stays disabled until a reason is given and the span is not empty."""

    action_done = Signal(object)

    def __init__(self, backend: Any, start: datetime, end: datetime, tz: ZoneInfo | None = None, *,
                 camera_id: str | None = None, window_id: str | None = None, subject_name: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.camera_id, self.window_id = backend, camera_id, window_id
        self.tz = tz or backend.tz
        self._outcomes = _Outcomes(self)
        self._outcomes.arrived.connect(self._on_outcome)
        self.setWindowTitle(self.tr("Evidence hold"))
        self.start_edit, self.end_edit = hall_time_edit(self), hall_time_edit(self)
        set_local(self.start_edit, start, self.tz)
        set_local(self.end_edit, end, self.tz)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText(self.tr("Why the footage must be kept (required)"))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        form = QFormLayout()
        form.addRow(self.tr("Footage of"), QLabel(subject_name or camera_id or window_id or "", self))
        form.addRow(self.tr("From"), self.start_edit)
        form.addRow(self.tr("To"), self.end_edit)
        form.addRow(self.tr("Reason"), self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel,
                                        self)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Hold"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        note = QLabel(self.tr("Held footage is never pruned until the hold is released. The hold is audited."), self)
        note.setWordWrap(True)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(note)
        box.addWidget(self.message)
        box.addWidget(self.buttons)
        for signal in (self.reason.textChanged, self.start_edit.dateTimeChanged, self.end_edit.dateTimeChanged):
            signal.connect(self._update)
        self._update()

    def span(self) -> tuple[datetime, datetime]:
        return get_local(self.start_edit, self.tz), get_local(self.end_edit, self.tz)

    def _update(self) -> None:
        start, end = self.span()
        ok = bool(self.reason.text().strip()) and end > start
        self.ok_button.setEnabled(ok)
        if end <= start:
            self.message.setText(self.tr("The end must come after the start."))
        elif not self.reason.text().strip():
            self.message.setText(self.tr("A reason is required."))
        else:
            self.message.clear()

    def submit(self) -> None:
        if not self.ok_button.isEnabled():
            return
        start, end = self.span()
        self.ok_button.setEnabled(False)
        self.message.setText(self.tr("Holding…"))
        self.backend.hold(start, end, reason=self.reason.text().strip(), by=operator_of(self.backend),
                          camera_id=self.camera_id, window_id=self.window_id, on_done=self._outcomes.callback())

    def _on_outcome(self, outcome: Any) -> None:
        self.action_done.emit(outcome)
        if getattr(outcome, "ok", False):
            self.accept()
            return
        self._update()
        self.message.setText(fmt(self.tr("Not held: %1"), outcome_text(outcome)))


def confirm_release(backend: Any, hold_id: str, description: str = "", parent: QWidget | None = None, *,
                    on_done: Callable[[bool, str], None] | None = None) -> bool:
    """Ask whether to release the evidence hold ``hold_id`` (described by ``description``); when
    confirmed, call ``backend.release_hold``. Returns whether it was confirmed. ``on_done(ok, words)``
    is called on the GUI thread once the release is done or refused (without it, a refusal is shown
    in a message box)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(translate("Evidence", "Release the evidence hold"))
    box.setText(translate("Evidence", "Release this evidence hold?"))
    box.setInformativeText(
        (description + "\n\n" if description else "")
        + translate("Evidence", "Once released, the footage it covers may be pruned by retention. "
                                "The release is audited."))
    release = box.addButton(translate("Evidence", "Release"), QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    if box.clickedButton() is not release:
        return False
    carrier = _Outcomes(parent)

    def arrived(outcome: Any) -> None:
        ok = bool(getattr(outcome, "ok", False))
        words = translate("Evidence", "The hold was released.") if ok else outcome_text(outcome)
        if on_done is not None:
            on_done(ok, words)
        elif not ok:
            QMessageBox.warning(parent, translate("Evidence", "Release the evidence hold"),
                                fmt(translate("Evidence", "Not released: %1"), words))
        carrier.deleteLater()

    carrier.arrived.connect(arrived)
    backend.release_hold(hold_id, by=operator_of(backend), on_done=carrier.callback())
    return True
