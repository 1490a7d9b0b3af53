"""Evidence export from the review window: :class:`ExportDialog` (a span, one or several cameras, a
required reason, progress, cancel, then ``verify`` on the result), :class:`DossierDialog` (a
complaint's dossier, :func:`export_complaint_dossier`) and :class:`VerifyDialog` ("verify folder…").

Exports and verification run on a worker thread of the dialog (joined when the dialog closes);
progress and results come back through queued signals. A cancelled export leaves nothing behind
(``video.export`` removes what it wrote). The Qt-free work is ``video.export`` and ``app.dossier``.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.i18n import fmt, translate
from desktop.review.evidence import get_local, hall_time_edit, operator_of, set_local
from video.export import ExportError, ExportResult, FileCheck, FileState, VerifyResult

__all__ = ["DossierDialog", "ExportDialog", "ExportOutcome", "VerifyDialog", "export_complaint_dossier"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """What an export came to: the result and its verification, or the error's code and English words."""

    result: ExportResult | None
    verified: VerifyResult | None
    code: str | None = None  # ExportError.code: "cancelled", "no_footage", "source_changed", …
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.result is not None and self.verified is not None and self.verified.ok


class _Worker(QObject):
    """One job at a time on a (non-daemon) thread; ``finished`` carries its value or exception to the
    GUI thread. ``join`` waits for it (the dialog joins before it goes away)."""

    finished = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, job: Callable[[], object]) -> None:
        self.join()

        def work() -> None:
            try:
                value: object = job()
            except Exception as e:  # shown in words; the log has the details
                if not isinstance(e, ExportError):
                    log.exception("%s failed", self._name)
                value = e
            self.finished.emit(value)

        self._thread = threading.Thread(target=work, name=self._name)
        self._thread.start()

    def join(self, timeout: float | None = None) -> bool:
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        if t.is_alive():
            return False
        self._thread = None
        return True


_STEP = re.compile(r"^(?:camera (\d+) of (\d+): )?(.*)$")


def progress_text(words: str) -> str:
    """The exporter's progress words (English) in the user's language."""
    m = _STEP.match(words)
    cam, cams, rest = (m.group(1), m.group(2), m.group(3)) if m else (None, None, words)
    if rest.startswith("checking"):
        text = translate("Export", "checking the recorded footage")
    elif rest.startswith("copying"):
        text = translate("Export", "copying the footage")
    elif rest.startswith("hashing"):
        text = translate("Export", "hashing the exported video")
    elif rest.startswith("writing"):
        text = translate("Export", "writing the records")
    elif rest.startswith("signing"):
        text = translate("Export", "signing the manifest")
    elif rest.startswith("looking"):
        text = translate("Export", "looking up the footage")
    elif rest == "done":
        text = translate("Export", "done")
    else:
        text = translate("Export", "exporting")
    return fmt(translate("Export", "camera %1 of %2: %3"), cam, cams, text) if cam else text


def error_text(code: str | None, error: str) -> str:
    """Why an export was not made, in words (the English detail goes to the log)."""
    if code == "cancelled":
        return translate("Export", "Cancelled; nothing was left behind.")
    if code == "no_footage":
        return translate("Export", "There is no recorded footage of the chosen cameras in this span.")
    if code == "source_changed":
        return translate("Export", "Refused: a recorded segment is missing or differs from what was recorded "
                                   "(it is now marked so; details in the log).")
    if code == "span_required":
        return translate("Export", "The complaint does not say when it is about: choose the span.")
    if code == "not_found":
        return translate("Export", "The complaint is not in this terminal's data.")
    if "not empty" in error:
        return translate("Export", "The folder is not empty: evidence goes into a folder of its own.")
    if "exists and is not a folder" in error:
        return translate("Export", "A file of that name exists: choose another folder.")
    if "no camera of" in error:
        return translate("Export", "No camera of the complaint's window or hall is known.")
    return translate("Export", "The export failed; the log has the details.")


def file_state_text(check: FileCheck) -> str:
    s = check.state
    if s is FileState.OK:
        return translate("Export", "unchanged")
    if s is FileState.MISSING:
        return translate("Export", "missing")
    if s is FileState.CHANGED:
        return translate("Export", "changed")
    if s is FileState.NOT_REGULAR:
        return translate("Export", "not a file of the folder (a link or a folder)")
    if s is FileState.UNLISTED:
        return translate("Export", "not listed in the manifest (added later)")
    return translate("Export", "unreadable, or changed after it was signed")


def verify_headline(v: VerifyResult) -> str:
    if v.ok:
        return translate("Export", "Verified: every file is unchanged since it was exported and signed.")
    return fmt(translate("Export", "Verification FAILED: %1 problem(s) — the evidence was changed or is incomplete."),
               len(v.problems))


def manifest_lines(v: VerifyResult) -> list[str]:
    """A few translated lines of what the manifest says (cameras, span, who, why, when, signer)."""
    m = v.manifest
    if not isinstance(m, Mapping):
        return []
    try:
        ex = m["exported"]
        try:
            zone = ZoneInfo(str(ex.get("zone") or "UTC"))
        except (KeyError, ValueError):
            zone = ZoneInfo("UTC")

        def t(text: str) -> str:
            return datetime.fromisoformat(text).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

        parts = [m] if m.get("version") == 1 else list(m.get("cameras", []))
        cams = ", ".join(str(p["camera"]["id"]) for p in parts)
        lines = []
        subject = m.get("subject")
        if isinstance(subject, Mapping) and subject.get("complaint"):
            lines.append(fmt(translate("Export", "Dossier of complaint %1"), subject["complaint"]))
        lines += [
            fmt(translate("Export", "Cameras: %1"), cams),
            fmt(translate("Export", "Span: %1 – %2 (%3)"), t(m["requested"]["start"]), t(m["requested"]["end"]),
                zone),
            fmt(translate("Export", "Exported by %1 at %2 on terminal %3"), ex["by"], t(ex["at"]), ex["terminal"]),
            fmt(translate("Export", "Reason: %1"), ex["reason"] or "—"),
            fmt(translate("Export", "Signed with key %1"), v.fingerprint or "?"),
        ]
        return lines
    except (KeyError, TypeError, ValueError, AttributeError):
        return []


class ExportDialog(QDialog):
    """Export cameras' footage over a span as evidence, then verify it.

    ``backend``: anything with ``index`` (FootageIndex), ``tz``, ``cfg`` and ``data_dir`` (the
    signing key's folder) — the Terminal or the review's backend. ``cameras``: (id, name) pairs, all
    checked at first; ``start``/``end``: the in/out marks (None: the last five minutes), editable.
    OK stays disabled until a reason is given, a camera is checked and the span is not empty.
    ``finished_export`` carries the :class:`ExportOutcome`.
    """

    finished_export = Signal(object)
    progressed = Signal(float, str)  # fraction, words (translated)
    worker_progress = Signal(float, str)  # the same, raw (English words), emitted on the worker thread

    def __init__(self, backend: Any, cameras: Sequence[tuple[str, str]], start: datetime | None,
                 end: datetime | None, tz: ZoneInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.tz = backend, tz
        self.outcome: ExportOutcome | None = None
        self._written = False  # an export was written: the inputs stay as they were
        self._cancel = threading.Event()
        self._worker = _Worker("hallwatch-export", self)
        self._worker.finished.connect(self._on_finished)
        self.worker_progress.connect(self._on_progress)
        self.setWindowTitle(self.tr("Export evidence"))
        if end is None:
            end = datetime.now(UTC).replace(microsecond=0)
        if start is None:
            start = end - timedelta(minutes=5)
        self.start_edit, self.end_edit = hall_time_edit(self), hall_time_edit(self)
        set_local(self.start_edit, start, tz)
        set_local(self.end_edit, end, tz)
        self.camera_list = QListWidget(self)
        self.camera_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.camera_list.setMaximumHeight(8 * self.camera_list.fontMetrics().height() + 12)
        self.set_cameras(cameras)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText(self.tr("Why the footage is exported (required; it goes into the manifest)"))
        self.folder = QLineEdit(self)
        self.folder.setText(str(Path.home() / "HallWatch evidence" / f"evidence-{start.astimezone(tz):%Y%m%d-%H%M%S}"))
        choose = QPushButton(self.tr("Choose…"), self)
        choose.clicked.connect(self._choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(choose)
        self.form = QFormLayout()
        self.form.addRow(self.tr("From"), self.start_edit)
        self.form.addRow(self.tr("To"), self.end_edit)
        self.form.addRow(self.tr("Cameras"), self.camera_list)
        self.form.addRow(self.tr("Reason"), self.reason)
        self.form.addRow(self.tr("New folder"), folder_row)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.outcome_label = QLabel(self)
        self.outcome_label.setWordWrap(True)
        self.outcome_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(self)
        self.ok_button = self.buttons.addButton(self.tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.ok_button.clicked.connect(self.start_export)
        self.cancel_button.clicked.connect(self.cancel)
        self._inputs: list[QWidget] = [self.start_edit, self.end_edit, self.camera_list, self.reason, self.folder,
                                       choose]
        box = QVBoxLayout(self)
        box.addLayout(self.form)
        box.addWidget(self.progress)
        box.addWidget(self.status)
        box.addWidget(self.outcome_label)
        box.addWidget(self.buttons)
        for signal in (self.reason.textChanged, self.folder.textChanged, self.start_edit.dateTimeChanged,
                       self.end_edit.dateTimeChanged):
            signal.connect(self._update)
        self.camera_list.itemChanged.connect(lambda _i: self._update())
        self.resize(600, 480)
        self._update()

    # -- inputs -------------------------------------------------------------------------------------
    def set_cameras(self, cameras: Sequence[tuple[str, str]], *, checked: bool = True) -> None:
        self.camera_list.clear()
        for cid, name in cameras:
            item = QListWidgetItem(f"{name} ({cid})" if name and name != cid else cid, self.camera_list)
            item.setData(Qt.ItemDataRole.UserRole, cid)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def checked_cameras(self) -> list[str]:
        out = []
        for i in range(self.camera_list.count()):
            item = self.camera_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def span(self) -> tuple[datetime, datetime]:
        return get_local(self.start_edit, self.tz), get_local(self.end_edit, self.tz)

    def set_span(self, start: datetime, end: datetime) -> None:
        set_local(self.start_edit, start, self.tz)
        set_local(self.end_edit, end, self.tz)

    def out_dir(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def _choose_folder(self) -> None:
        parent = QFileDialog.getExistingDirectory(self, self.tr("Where to put the evidence folder"),
                                                  str(self.out_dir().parent))
        if parent:
            self.folder.setText(str(Path(parent) / self.out_dir().name))

    def missing(self) -> str:
        """What is still missing before the export can start, in words ("" when nothing)."""
        start, end = self.span()
        if end <= start:
            return self.tr("The end must come after the start.")
        if not self.checked_cameras():
            return self.tr("Check at least one camera.")
        if not self.reason.text().strip():
            return self.tr("A reason is required.")
        if not self.folder.text().strip():
            return self.tr("Choose a new folder for the evidence.")
        return ""

    def _update(self) -> None:
        if self._worker.busy or self._written:
            return
        missing = self.missing()
        self.ok_button.setEnabled(not missing)
        self.status.setText(missing)

    # -- the export ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker.busy

    def start_export(self) -> None:
        """Start the export on the worker (what OK does); nothing when something is missing."""
        if self.running or self.missing():
            return
        self.outcome = None
        self._cancel.clear()
        for w in self._inputs:
            w.setEnabled(False)
        self.ok_button.setEnabled(False)
        self.progress.setValue(0)
        self.outcome_label.clear()
        self.status.setText(self.tr("Exporting…"))
        job = self._job(self.out_dir(), self.reason.text().strip(), self._cancel.is_set, self.worker_progress.emit)
        self._worker.run(job)

    def _job(self, out: Path, reason: str, cancel: Callable[[], bool],
             progress: Callable[[float, str], None]) -> Callable[[], ExportOutcome]:
        """The work (run on the worker): export, then verify what was written."""
        from video.export import EvidenceRequest, export_evidence, load_or_create_key, verify

        backend, cameras, (start, end), tz = self.backend, tuple(self.checked_cameras()), self.span(), self.tz
        who, terminal = operator_of(backend), str(backend.cfg.terminal.name)

        def work() -> ExportOutcome:
            key = load_or_create_key(backend.data_dir)
            result = export_evidence(backend.index, EvidenceRequest(
                cameras, start, end, out, reason=reason, who=who, terminal=terminal, key=key, zone=tz,
                progress=progress, cancel=cancel))
            return ExportOutcome(result, verify(result.out_dir))

        return work

    def cancel(self) -> None:
        """Cancel the export under way (nothing is left behind), or close the dialog."""
        if self.running:
            self._cancel.set()
            self.status.setText(self.tr("Cancelling…"))
            self.cancel_button.setEnabled(False)
            return
        self.reject()

    def _on_progress(self, fraction: float, words: str) -> None:
        if self._cancel.is_set():
            return
        self.progress.setValue(round(fraction * 1000))
        text = progress_text(words)
        self.status.setText(text)
        self.progressed.emit(fraction, text)

    def _on_finished(self, value: object) -> None:
        self._worker.join()
        if isinstance(value, ExportOutcome):
            outcome = value
        elif isinstance(value, ExportError):
            outcome = ExportOutcome(None, None, value.code, str(value))
            log.info("evidence export not made: %s", value)
        else:
            outcome = ExportOutcome(None, None, "failed", str(value))
        self.outcome = outcome
        self.cancel_button.setEnabled(True)
        if outcome.result is not None and outcome.verified is not None:
            self._written = True
            r = outcome.result
            self.progress.setValue(1000)
            lines = [fmt(self.tr("Exported %1 file(s) into %2."), len(r.files) + 1, r.out_dir),
                     verify_headline(outcome.verified)]
            if r.missing:
                lines.append(fmt(self.tr("No footage of: %1"), ", ".join(c for c, _w in r.missing)))
            lines += [f"{c.name}: {c.problem}" for c in outcome.verified.files if not c.ok]
            self.outcome_label.setText("\n".join(lines))
            self.status.setText(self.tr("Done."))
            self.cancel_button.setText(self.tr("Close"))
        else:
            self.progress.setValue(0)
            for w in self._inputs:
                w.setEnabled(True)
            self.ok_button.setEnabled(not self.missing())
            self.status.setText(error_text(outcome.code, outcome.error))
        self.finished_export.emit(outcome)

    # -- closing: the worker is cancelled and joined ---------------------------------------------------
    def done(self, r: int) -> None:
        if self.running:
            self._cancel.set()
            self._worker.join()
        super().done(r)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.running:
            self._cancel.set()
            self._worker.join()
        super().closeEvent(event)


class DossierDialog(ExportDialog):
    """A complaint's dossier: every camera of its window (or hall) over ``about_at`` ± the hold margin,
    with the complaint, its case, ticket and evaluations. The plan is read on the worker; when the
    complaint has no ``about_at`` the reviewer picks the span (the dialog says so)."""

    planned = Signal(object)  # the DossierPlan, or the error

    def __init__(self, backend: Any, complaint_id: str, parent: QWidget | None = None) -> None:
        super().__init__(backend, [], None, None, backend.tz, parent)
        self.complaint_id = complaint_id
        self.plan: Any = None
        self.plan_error = ""  # why the dossier cannot be made, in words (the complaint is unknown…)
        self.span_required = False
        self._planned_span: tuple[datetime, datetime] | None = None
        self.setWindowTitle(fmt(self.tr("Dossier of complaint %1"), complaint_id))
        self.camera_list.setEnabled(False)
        self._inputs.remove(self.camera_list)
        self.folder.setText(str(Path.home() / "HallWatch evidence" / f"complaint-{_safe(complaint_id)}"))
        self.status.setText(self.tr("Reading the complaint…"))
        self.ok_button.setEnabled(False)
        self._planner = _Worker("hallwatch-dossier-plan", self)
        self._planner.finished.connect(self._on_planned)
        self._planner.run(self._plan_job())

    def _plan_job(self) -> Callable[[], object]:
        from app.commands import config_cameras
        from app.dossier import plan_dossier
        from video.export import SpanRequired

        backend, cid = self.backend, self.complaint_id
        margin = timedelta(minutes=backend.cfg.recording.hold_margin_minutes)
        cams = config_cameras(backend.cfg)
        fallback = self.span()

        def work() -> object:
            try:
                return plan_dossier(backend.store, cid, margin=margin, config_cameras=cams), False
            except SpanRequired:
                return plan_dossier(backend.store, cid, margin=margin, config_cameras=cams, start=fallback[0],
                                    end=fallback[1]), True

        return work

    def _on_planned(self, value: object) -> None:
        self._planner.join()
        if isinstance(value, tuple):
            plan, required = value
            self.plan, self.span_required = plan, bool(required)
            self.set_cameras([(c, c) for c in plan.cameras])
            if not required:
                self.set_span(plan.start, plan.end)
                self._planned_span = self.span()
            self.planned.emit(plan)
            self._update()
            if required:
                self.status.setText(self.tr("The complaint does not say when it is about: choose the span."))
            elif not plan.cameras:
                self.status.setText(self.tr("No camera of the complaint's window or hall is known."))
            return
        code = value.code if isinstance(value, ExportError) else "failed"
        self.plan_error = error_text(code, str(value))
        self._update()
        self.planned.emit(value)

    def missing(self) -> str:
        if getattr(self, "plan_error", ""):
            return self.plan_error
        if getattr(self, "plan", None) is None:
            return self.tr("Reading the complaint…")
        return super().missing()

    def _job(self, out: Path, reason: str, cancel: Callable[[], bool],
             progress: Callable[[float, str], None]) -> Callable[[], ExportOutcome]:
        from app.commands import config_cameras
        from app.dossier import export_dossier, plan_dossier
        from video.export import load_or_create_key, verify

        backend, cid, tz = self.backend, self.complaint_id, self.tz
        span = self.span()
        given = span if self.span_required or span != self._planned_span else (None, None)
        margin = timedelta(minutes=backend.cfg.recording.hold_margin_minutes)
        cams = config_cameras(backend.cfg)
        who, terminal = operator_of(backend), str(backend.cfg.terminal.name)

        def work() -> ExportOutcome:
            plan = plan_dossier(backend.store, cid, margin=margin, config_cameras=cams, start=given[0], end=given[1])
            key = load_or_create_key(backend.data_dir)
            result = export_dossier(backend.index, plan, out, reason=reason, who=who, terminal=terminal, key=key,
                                    zone=tz, progress=progress, cancel=cancel)
            return ExportOutcome(result, verify(result.out_dir))

        return work

    def done(self, r: int) -> None:
        self._planner.join()
        super().done(r)


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text)[:80] or "complaint"


def export_complaint_dossier(backend: Any, complaint_id: str, parent: QWidget | None = None) -> DossierDialog:
    """The complaint-dossier action: opens (modeless) the dossier dialog of ``complaint_id`` and returns it."""
    dlg = DossierDialog(backend, complaint_id, parent)
    dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dlg.show()
    return dlg


class VerifyDialog(QDialog):
    """"Verify folder…": pick an evidence folder (from here or elsewhere), verify it on a worker and show
    the verdict, each file's state and what the signed manifest says. ``verified`` carries the
    :class:`VerifyResult`."""

    verified = Signal(object)

    def __init__(self, parent: QWidget | None = None, folder: Path | None = None) -> None:
        super().__init__(parent)
        self.verify_result: VerifyResult | None = None
        self._worker = _Worker("hallwatch-verify", self)
        self._worker.finished.connect(self._on_finished)
        self.setWindowTitle(self.tr("Verify an evidence folder"))
        self.folder = QLineEdit(self)
        self.folder.setReadOnly(True)
        choose = QPushButton(self.tr("Choose folder…"), self)
        choose.clicked.connect(self._choose)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(choose)
        self.headline = QLabel(self)
        self.headline.setWordWrap(True)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("File"), self.tr("State")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(row)
        box.addWidget(self.headline)
        box.addWidget(self.table, 1)
        box.addWidget(self.details)
        box.addWidget(buttons)
        self.resize(620, 460)
        if folder is not None:
            self.verify_folder(folder)

    def _choose(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose an evidence folder"), self.folder.text())
        if path:
            self.verify_folder(Path(path))

    def verify_folder(self, folder: Path) -> None:
        """Verify ``folder`` on the worker (the result arrives through ``verified``)."""
        from video.export import verify

        if self._worker.busy:
            return
        self.verify_result = None
        self.folder.setText(str(folder))
        self.headline.setText(self.tr("Verifying…"))
        self.table.setRowCount(0)
        self.details.clear()
        self._worker.run(lambda: verify(folder))

    def _on_finished(self, value: object) -> None:
        self._worker.join()
        if not isinstance(value, VerifyResult):
            self.headline.setText(self.tr("The folder could not be verified; the log has the details."))
            return
        self.verify_result = value
        self.headline.setText(verify_headline(value))
        self.table.setRowCount(len(value.files))
        for i, check in enumerate(value.files):
            name = QTableWidgetItem(check.name)
            state = QTableWidgetItem(file_state_text(check))
            if check.problem:
                state.setToolTip(check.problem)
            self.table.setItem(i, 0, name)
            self.table.setItem(i, 1, state)
        self.details.setText("\n".join(manifest_lines(value)) if value.signature_valid else "")
        self.verified.emit(value)

    def done(self, r: int) -> None:
        self._worker.join()
        super().done(r)
