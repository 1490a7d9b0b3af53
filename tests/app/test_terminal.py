"""The running terminal: one connection per camera, holds for warnings without an operator, one
terminal per data folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from app.cameras import ChangeKind
from app.lock import LockHeld, TerminalLock
from app.terminal import Terminal
from supervision.config import CameraEntry, Config, RecordingConfig
from tests.supervision.records_factory import CASE_TYPE, case_data, change, page
from tests.video.camera_servers import CameraFactory
from tests.video.waiting import wait_for
from video.footage import FootageIndex

ROOT = Path(__file__).resolve().parents[2]


def test_a_real_rtsp_camera_displayed_and_recorded_by_one_terminal_has_one_rtsp_session(
    tmp_path: Path, rtsp_camera_factory: CameraFactory
) -> None:
    camera = rtsp_camera_factory()
    cfg = Config(
        cameras=[CameraEntry(id="cam-1", name="A01", url=camera.url, window_id="W-1")],
        recording=RecordingConfig(segment_seconds=2),
    )
    terminal = Terminal(cfg, tmp_path / "data", command="test", sync=False)
    terminal.start()
    try:
        cam = terminal.cameras.get("cam-1")
        assert cam is not None
        decoder = cam.display(320, 180, 1)  # a tile showing it, as the grid asks
        try:
            assert wait_for(lambda: decoder.latest() is not None, 20), "the tile got a picture"
            assert terminal.recording is not None
            index = terminal.recording.index
            assert wait_for(lambda: len(index.segments("cam-1")) >= 2, 20), "the recorder wrote segments"
            # Displayed and recorded, for several seconds: always one session at the camera.
            counts = []
            for _ in range(10):
                counts.append(camera.sessions())
                time.sleep(0.2)
            assert counts == [1] * 10, counts
            assert cam.main.status().consumers == 2  # the display's and the recorder's subscriptions
        finally:
            cam.release(decoder)
    finally:
        assert terminal.stop()
    assert wait_for(lambda: camera.sessions() == 0, 10)


def test_a_camera_record_changed_by_sync_reconnects_only_that_camera(tmp_path: Path) -> None:
    from supervision.ingest import import_page
    from supervision.records import ChangesPage

    data = tmp_path / "data"
    terminal = Terminal(Config(), data, command="test", sync=False, record=True)

    def cam(cid: str, url: str, version: int) -> dict[str, object]:
        return change("camera", cid, {"hall_id": "h", "window_id": f"win-{cid}", "name": cid, "stream_url": url,
                                      "sub_stream_url": None}, version=version)

    hall = [change("org_unit", "h", {"name": "厅", "parent_id": None, "level": "hall"})] + [
        change("window", f"win-{c}", {"hall_id": "h", "number": c, "name": c, "department": "d"}) for c in "ABC"
    ]
    import_page(terminal.store, ChangesPage.model_validate(
        page([*hall, cam("A", "synthetic://window/A", 1), cam("B", "synthetic://window/B", 1)])), source="t")
    terminal.start()
    try:
        a, b = terminal.cameras.get("A"), terminal.cameras.get("B")
        assert a is not None and b is not None
        import_page(terminal.store, ChangesPage.model_validate(
            page([cam("A", "synthetic://window/A2", 2), change("camera", "B", None, op="delete", version=2),
                  cam("C", "synthetic://window/C", 1)])), source="t")
        changes = {c.camera_id: c.kind for c in terminal.cameras.reload()}
        assert changes == {"A": ChangeKind.REPLACED, "B": ChangeKind.REMOVED, "C": ChangeKind.ADDED}
        assert terminal.cameras.get("A") is not a and terminal.cameras.get("B") is None
        assert terminal.recording is not None
        assert set(terminal.recording.service.recorders) == {"A", "C"}
        assert terminal.recording.service.recorders["A"].source is terminal.cameras.get("A").main  # type: ignore[union-attr]
        assert not b.main.running and not a.main.running
        assert terminal.cameras.reload() == []  # nothing changed: nothing reconnects
    finally:
        assert terminal.stop()


# -- the `record` command ------------------------------------------------------------------------
def _write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def _red_case_file(tmp_path: Path) -> Path:
    """A case at window W-A charged the wrong fee: a red FEE_MISMATCH in force from its acceptance."""
    now = time.time()
    accepted = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now - 3600))
    body = page([
        change("case_type", "ct-1", CASE_TYPE),
        change("case", "C-RED", case_data(window_id="W-A", fee_charged="50", submitted_at=accepted,
                                          stages=[{"stage": "submitted", "at": accepted, "by": "a"},
                                                  {"stage": "accepted", "at": accepted, "by": "a"}])),
    ])
    p = tmp_path / "red.json"
    p.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return p


def _main(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "--data", str(data), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120, check=False)


@pytest.fixture
def start_record(tmp_path: Path) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def start(data: Path, config: Path) -> tuple[subprocess.Popen[str], list[str]]:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--data", str(data), "--config", str(config), "record",
             ], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )
        procs.append(proc)
        lines: list[str] = []

        def read(out: IO[str]) -> None:
            for line in out:
                lines.append(line)

        assert proc.stdout is not None
        threading.Thread(target=read, args=(proc.stdout,), name="record-output").start()
        return proc, lines

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait(30)
        if p.stdout is not None:
            p.stdout.close()


def test_record_holds_the_footage_of_a_red_window_and_prunes_the_other_camera(
    tmp_path: Path, start_record: object
) -> None:
    data = tmp_path / "data"
    assert _main("import", str(_red_case_file(tmp_path)), data=data).returncode == 0
    config = _write_config(tmp_path / "hw.toml", """
[recording]
segment_seconds = 2
retention_days = 0.0002          # 17 s
min_free_percent = 0
hold_margin_minutes = 1
prune_interval_seconds = 1

[warnings]
interval_seconds = 1

[[cameras]]
id = "cam-A"
url = "synthetic://window/A"
window_id = "W-A"

[[cameras]]
id = "cam-B"
url = "synthetic://window/B"
window_id = "W-B"
""")
    proc, lines = start_record(data, config)  # type: ignore[operator]
    assert wait_for(lambda: any("recording 2 cameras" in x for x in lines), 30), "".join(lines)
    from supervision.store import open_store

    store = open_store(data / "hallwatch.db")
    try:
        index = FootageIndex(store, data / "footage")
        assert wait_for(lambda: len(index.segments("cam-A")) >= 2 and len(index.segments("cam-B")) >= 2, 30)
        first_a, first_b = index.segments("cam-A")[0], index.segments("cam-B")[0]
        # Older than the retention: B's first segment goes; A's stays, held by the red warning.
        assert wait_for(lambda: not index.segments("cam-B", ids=[first_b.id]), 60), "B's old footage pruned"
        assert time.time() - first_a.end.timestamp() > 17.28
        assert index.segments("cam-A", ids=[first_a.id]), "the red window's footage is kept"
        from sqlalchemy import select

        from supervision.store.footage import EvidenceHold

        with store.read() as s:
            holds = [h.id for h in s.scalars(select(EvidenceHold))]
        assert holds == ["warning:C-RED/FEE_MISMATCH"]
    finally:
        store.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, "".join(lines)


def test_a_second_record_on_the_same_folder_exits_2_naming_the_first_and_kill_9_frees_it(
    tmp_path: Path, start_record: object
) -> None:
    data = tmp_path / "data"
    config = _write_config(tmp_path / "hw.toml", """
[[cameras]]
id = "cam-A"
url = "synthetic://window/A"
""")
    first, lines = start_record(data, config)  # type: ignore[operator]
    assert wait_for(lambda: any("recording 1 cameras" in x for x in lines), 30), "".join(lines)
    second = _main("--config", str(config), "record", data=data)
    assert second.returncode == 2
    assert f"pid {first.pid}" in second.stderr and "(record)" in second.stderr, second.stderr
    assert "one running terminal per data folder" in second.stderr
    # Read-only commands still work beside it.
    assert _main("warnings", "--json", data=data).returncode == 0
    os.kill(first.pid, signal.SIGKILL)
    first.wait(30)
    started = time.monotonic()
    third, lines3 = start_record(data, config)  # type: ignore[operator]
    assert wait_for(lambda: any("recording 1 cameras" in x for x in lines3), 30), "".join(lines3)
    assert time.monotonic() - started < 15  # at once: no stale lock to wait out
    third.send_signal(signal.SIGTERM)
    assert third.wait(30) == 0


def test_the_lock_names_its_holder_and_is_freed_on_release(tmp_path: Path) -> None:
    with TerminalLock(tmp_path, "record"):
        with pytest.raises(LockHeld) as e:
            TerminalLock(tmp_path, "sync").acquire()
        assert f"pid {os.getpid()} (record)" in str(e.value)
    with TerminalLock(tmp_path, "sync") as lock:
        assert lock.held
