"""The review window's evidence dialogs over a real terminal (executor, retention, store) and real
footage files: export (several cameras, reason required, cancel, verify shown), the complaint
dossier, "verify folder…", bookmark, hold (reason required) and release (asks first)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from app.terminal import Terminal
from desktop.review.evidence import BookmarkDialog, HoldDialog, confirm_release, get_local
from desktop.review.export_dialog import ExportDialog, ExportOutcome, VerifyDialog, export_complaint_dossier
from supervision.config import Config
from supervision.store import Store, open_store
from supervision.store.footage import EvidenceHold
from supervision.store.models import BookmarkRow, CameraRow, ComplaintRow, OutboxAction, Window
from video.export import MANIFEST, verify
from video.footage import FootageIndex
from video.synthetic import write_file

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

SH = Config().zone
T0 = datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)  # 09:00:00 in the hall
CAM, CAM2 = "hall-1/A01", "hall-1/overview"
WAIT_MS = 20_000


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


class ReviewTerminal(Terminal):
    """The terminal with its footage index (what the review backends offer)."""

    @property
    def index(self) -> FootageIndex:
        return FootageIndex(self.store, self.data_dir / "footage")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    data = tmp_path / "data"
    data.mkdir()
    s = open_store(data / "hallwatch.db")
    index = FootageIndex(s, data / "footage")
    with s.write() as w:
        w.add(Window(id="W-A01", version=1, deleted=False, hall_id="hall-1", number="A01", name="不动产登记"))
        w.add(CameraRow(id=CAM, version=1, deleted=False, hall_id="hall-1", window_id="W-A01", name="A01"))
        w.add(CameraRow(id=CAM2, version=1, deleted=False, hall_id="hall-1", name="大厅全景"))
        w.add(ComplaintRow(id="c-1", version=1, deleted=False, hall_id="hall-1", window_id="W-A01", channel="12345",
                           received_at=at(3600), about_at=at(3), summary="态度差", status="open"))
        w.add(ComplaintRow(id="c-2", version=1, deleted=False, hall_id="hall-1", channel="onsite",
                           received_at=at(3600), summary="无时间", status="open"))
    for cam, starts in ((CAM, (0, 2, 4)), (CAM2, (0, 2))):
        for offset in starts:
            seg_id, path = index.open_segment(cam, at(offset), codec="h264", width=160, height=90, first_pts=0.0)
            write_file(path, seconds=2, start=at(offset), width=160, height=90, fps=10, label=cam[-3:])
            index.close_segment(seg_id, at(offset + 2), 20, path)
    yield s
    s.close()


@pytest.fixture
def backend(tmp_path: Path, store: Store) -> Iterator[ReviewTerminal]:
    cfg = Config.model_validate({"terminal": {"operator": "王审查"}, "recording": {"hold_margin_minutes": 0.03}})
    t = ReviewTerminal(cfg, tmp_path / "data", command="test", record=False, sync=False, lock=False, store=store)
    t.start()
    yield t
    assert t.stop(time.monotonic() + 10)


def finish(qtbot: Any, dlg: ExportDialog) -> ExportOutcome:
    with qtbot.waitSignal(dlg.finished_export, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    outcome = blocker.args[0]
    assert isinstance(outcome, ExportOutcome)
    return outcome


def test_the_export_dialog_writes_a_folder_that_verify_passes(
    qtbot: Any, backend: ReviewTerminal, tmp_path: Path
) -> None:
    dlg = ExportDialog(backend, [(CAM, "A01"), (CAM2, "大厅全景")], at(1), at(3.5), SH)
    qtbot.addWidget(dlg)
    assert get_local(dlg.start_edit, SH) == at(1) and dlg.checked_cameras() == [CAM, CAM2]
    dlg.folder.setText(str(tmp_path / "out" / "evidence"))
    assert not dlg.ok_button.isEnabled()  # no reason yet
    dlg.reason.setText("   ")
    assert not dlg.ok_button.isEnabled()
    dlg.reason.setText("投诉 17 核查")
    assert dlg.ok_button.isEnabled()
    threads: set[str] = set()
    dlg.worker_progress.connect(lambda _f, _w: threads.add(threading.current_thread().name),
                                Qt.ConnectionType.DirectConnection)
    outcome = finish(qtbot, dlg)
    assert outcome.ok and outcome.result is not None
    assert threads == {"hallwatch-export"}  # never on the GUI thread
    assert [v.camera_id for v in outcome.result.videos] == [CAM, CAM2]
    v = verify(tmp_path / "out" / "evidence")
    assert v.ok and v.manifest is not None and v.manifest["exported"]["by"] == "王审查"
    assert "Verified" in dlg.outcome_label.text() and dlg.progress.value() == 1000
    assert not dlg.ok_button.isEnabled()


def test_cancel_in_the_export_dialog_leaves_nothing(qtbot: Any, backend: ReviewTerminal, tmp_path: Path) -> None:
    dlg = ExportDialog(backend, [(CAM, "A01"), (CAM2, "大厅全景")], at(0), at(6), SH)
    qtbot.addWidget(dlg)
    out = tmp_path / "out" / "evidence"
    dlg.folder.setText(str(out))
    dlg.reason.setText("核查")
    reached, gate = threading.Event(), threading.Event()

    def hold_the_worker(_f: float, words: str) -> None:  # the worker waits at its first copy step
        if "copying" in words and not reached.is_set():
            reached.set()
            gate.wait(10)

    dlg.worker_progress.connect(hold_the_worker, Qt.ConnectionType.DirectConnection)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(reached.is_set, timeout=WAIT_MS)
    assert dlg.running and out.exists()  # half-written
    with qtbot.waitSignal(dlg.finished_export, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
        gate.set()
    assert blocker.args[0].code == "cancelled"
    assert not out.exists() and list((tmp_path / "out").iterdir()) == []
    assert dlg.status.text() == "Cancelled; nothing was left behind."
    assert dlg.ok_button.isEnabled()  # it can be tried again


def test_an_export_refusal_is_said_in_words(qtbot: Any, backend: ReviewTerminal, tmp_path: Path) -> None:
    dlg = ExportDialog(backend, [(CAM, "A01")], at(100), at(110), SH)
    qtbot.addWidget(dlg)
    dlg.folder.setText(str(tmp_path / "x"))
    dlg.reason.setText("核查")
    outcome = finish(qtbot, dlg)
    assert outcome.code == "no_footage" and not (tmp_path / "x").exists()
    assert dlg.status.text() == "There is no recorded footage of the chosen cameras in this span."


def test_the_complaint_dossier_dialog(qtbot: Any, backend: ReviewTerminal, tmp_path: Path) -> None:
    dlg = export_complaint_dossier(backend, "c-1")
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.plan is not None, timeout=WAIT_MS)
    assert dlg.checked_cameras() == [CAM] and not dlg.span_required
    assert dlg.span() == (at(1), at(4))  # about_at 09:00:03 ± 1.8 s, shown to the second
    dlg.folder.setText(str(tmp_path / "dossier"))
    dlg.reason.setText("投诉 c-1")
    outcome = finish(qtbot, dlg)
    assert outcome.ok, outcome
    names = {p.name for p in (tmp_path / "dossier").iterdir()}
    assert {"complaint.json", "evaluations.json", MANIFEST} <= names
    assert outcome.verified is not None and outcome.verified.manifest is not None
    m = outcome.verified.manifest
    assert m["subject"]["complaint"] == "c-1" and m["subject"]["span"] == "about_at ± 0.03 min"
    assert (m["requested"]["start"], m["requested"]["end"]) == ("2026-03-02T01:00:01.200Z", "2026-03-02T01:00:04.800Z")
    dlg.close()

    dlg2 = export_complaint_dossier(backend, "c-2")  # no about_at: the reviewer picks the span
    qtbot.addWidget(dlg2)
    qtbot.waitUntil(lambda: dlg2.plan is not None, timeout=WAIT_MS)
    assert dlg2.span_required and dlg2.status.text().startswith("The complaint does not say when it is about")
    assert dlg2.checked_cameras() == [CAM, CAM2]  # no window: the hall's cameras
    dlg2.set_span(at(1), at(3))
    dlg2.folder.setText(str(tmp_path / "dossier2"))
    dlg2.reason.setText("投诉 c-2")
    outcome = finish(qtbot, dlg2)
    assert outcome.ok and outcome.verified is not None and outcome.verified.manifest is not None
    assert outcome.verified.manifest["requested"]["start"] == "2026-03-02T01:00:01.000Z"
    dlg2.close()

    dlg3 = export_complaint_dossier(backend, "nope")
    qtbot.addWidget(dlg3)
    qtbot.waitUntil(lambda: bool(dlg3.plan_error), timeout=WAIT_MS)
    dlg3.reason.setText("r")
    assert dlg3.status.text() == "The complaint is not in this terminal's data." and not dlg3.ok_button.isEnabled()
    dlg3.close()


def cell(vd: VerifyDialog, row: int, col: int) -> str:
    item = vd.table.item(row, col)
    assert item is not None
    return item.text()


def test_verify_folder_shows_each_file(qtbot: Any, backend: ReviewTerminal, tmp_path: Path) -> None:
    dlg = ExportDialog(backend, [(CAM, "A01"), (CAM2, "")], at(0), at(2), SH)
    qtbot.addWidget(dlg)
    dlg.folder.setText(str(tmp_path / "ev"))
    dlg.reason.setText("r")
    assert finish(qtbot, dlg).ok
    vd = VerifyDialog()
    qtbot.addWidget(vd)
    with qtbot.waitSignal(vd.verified, timeout=WAIT_MS):
        vd.verify_folder(tmp_path / "ev")
    rows = [(cell(vd, i, 0), cell(vd, i, 1)) for i in range(vd.table.rowCount())]
    assert len(rows) == 3 and all(state == "unchanged" for _n, state in rows)
    assert vd.headline.text().startswith("Verified")
    assert "王审查" in vd.details.text() and CAM2 in vd.details.text()
    video = next((tmp_path / "ev").glob("*.mp4"))
    raw = bytearray(video.read_bytes())
    raw[len(raw) // 2] ^= 1
    video.write_bytes(bytes(raw))
    (tmp_path / "ev" / "added.txt").write_text("x")
    with qtbot.waitSignal(vd.verified, timeout=WAIT_MS):
        vd.verify_folder(tmp_path / "ev")
    states = {cell(vd, i, 0): cell(vd, i, 1) for i in range(vd.table.rowCount())}
    assert states[video.name] == "changed" and states["added.txt"] == "not listed in the manifest (added later)"
    assert states[MANIFEST] == "unchanged" and vd.headline.text().startswith("Verification FAILED: 2 problem")


def test_bookmark_dialog(qtbot: Any, backend: ReviewTerminal) -> None:
    dlg = BookmarkDialog(backend, CAM, at(3), camera_name="A01")
    qtbot.addWidget(dlg)
    dlg.note.setPlainText("递交材料时争执")
    with qtbot.waitSignal(dlg.action_done, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok and dlg.result() == 1
    with backend.store.read() as s:
        (b,) = s.scalars(select(BookmarkRow)).all()
        assert (b.camera_id, b.note, b.by) == (CAM, "递交材料时争执", "王审查")
        assert s.scalars(select(OutboxAction).where(OutboxAction.type == "bookmark.create")).first() is not None
    bad = BookmarkDialog(backend, "", at(3))  # refused: said in words, the dialog stays open
    qtbot.addWidget(bad)
    bad.show()
    with qtbot.waitSignal(bad.action_done, timeout=WAIT_MS):
        qtbot.mouseClick(bad.ok_button, Qt.MouseButton.LeftButton)
    assert bad.message.text() == "Not bookmarked: choose a camera to bookmark" and bad.isVisible()


def test_hold_dialog_requires_a_reason(qtbot: Any, backend: ReviewTerminal) -> None:
    dlg = HoldDialog(backend, at(0), at(4), camera_id=CAM)
    qtbot.addWidget(dlg)
    assert not dlg.ok_button.isEnabled() and dlg.message.text() == "A reason is required."
    dlg.reason.setText("投诉 17")
    assert dlg.ok_button.isEnabled()
    dlg.end_edit.setDateTime(dlg.start_edit.dateTime())
    assert not dlg.ok_button.isEnabled() and dlg.message.text() == "The end must come after the start."
    dlg.end_edit.setDateTime(dlg.start_edit.dateTime().addSecs(4))
    with qtbot.waitSignal(dlg.action_done, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0].ok
    with backend.store.read() as s:
        (h,) = s.scalars(select(EvidenceHold).where(EvidenceHold.kind == "manual")).all()
        assert (h.camera_id, h.reason, h.created_by, h.start, h.end) == (CAM, "投诉 17", "王审查", at(0), at(4))


def _answer(qtbot: Any, button: str) -> None:
    """Click ``button`` ("release" or "cancel") of the message box about to be shown modally."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        if button == "cancel":
            box.button(QMessageBox.StandardButton.Cancel).click()
        else:
            (b,) = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole]
            b.click()

    QTimer.singleShot(0, click)


def test_release_asks_to_confirm(qtbot: Any, backend: ReviewTerminal) -> None:
    hold_id = backend._retention().hold(at(0), at(4), reason="r", by="x", camera_id=CAM)

    def released() -> bool:
        with backend.store.read() as s:
            h = s.get(EvidenceHold, hold_id)
            return h is not None and h.released_at is not None

    _answer(qtbot, "cancel")
    assert confirm_release(backend, hold_id, "A01 09:00–09:04") is False
    assert not released()
    done: list[tuple[bool, str]] = []
    _answer(qtbot, "release")
    assert confirm_release(backend, hold_id, "A01 09:00–09:04", on_done=lambda ok, w: done.append((ok, w))) is True
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert done == [(True, "The hold was released.")] and released()
    with backend.store.read() as s:
        h = s.get(EvidenceHold, hold_id)
        assert h is not None and h.released_by == "王审查"
    _answer(qtbot, "release")  # a hold that does not exist: refused, in words
    done.clear()
    assert confirm_release(backend, "manual:nope", on_done=lambda ok, w: done.append((ok, w)))
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert done == [(False, "this hold does not exist (it may have been released already)")]


def test_the_dialogs_speak_chinese(qtbot: Any, backend: ReviewTerminal) -> None:
    from desktop.application import Localization

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    Localization(app).switch("zh_CN")
    dlg = ExportDialog(backend, [(CAM, "A01")], at(0), at(2), SH)
    qtbot.addWidget(dlg)
    assert (dlg.windowTitle(), dlg.ok_button.text(), dlg.status.text()) == ("导出证据", "导出", "必须填写原因。")
    hold = HoldDialog(backend, at(0), at(2), camera_id=CAM)
    qtbot.addWidget(hold)
    assert (hold.windowTitle(), hold.ok_button.text()) == ("证据保全", "保全")
