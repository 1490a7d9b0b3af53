"""The operator workstation whole: the window over the embedded demo, its settings across a restart,
an unreachable server, and `python main.py --demo` as a user starts and stops it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from app.demo import EmbeddedDemo
from app.terminal import Terminal
from desktop.application import Localization
from desktop.operator.window import OperatorWindow
from supervision import demo
from supervision.config import Config, ServerConfig
from supervision.ingest import import_page
from supervision.records import ChangesPage
from supervision.store import open_store
from supervision.store.models import OutboxAction
from video.camera import CameraConfig

pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")

ROOT = Path(__file__).resolve().parents[2]
WAIT_MS = 60_000


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _window(qtbot: Any, terminal: Terminal, settings: QSettings, language: str = "zh_CN") -> OperatorWindow:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    loc = Localization(app)
    loc.switch(str(settings.value("ui/language", language)))
    w = OperatorWindow(terminal, loc, settings, theme=str(settings.value("ui/theme", "dark")))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    return w


class StallProbe:
    """A 10 ms GUI-thread timer that records the longest gap between its ticks (an event-loop stall)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.worst = 0.0
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)
        self.timer.start(10)

    def _tick(self) -> None:
        now = time.monotonic()
        self.worst = max(self.worst, now - self.last)
        self.last = now


@pytest.fixture
def demo_window(qtbot: Any, tmp_path: Path) -> Iterator[tuple[EmbeddedDemo, OperatorWindow]]:
    d = EmbeddedDemo(Config(), tmp_path / "data")
    terminal = d.start()
    window = _window(qtbot, terminal, _settings(tmp_path))
    try:
        yield d, window
    finally:
        window.close()
        assert d.stop(time.monotonic() + 10)


def test_the_demo_window_shows_moving_video_and_lights_of_two_levels(
    qtbot: Any, demo_window: tuple[EmbeddedDemo, OperatorWindow]
) -> None:
    _demo, window = demo_window
    probe = StallProbe()
    grid = window.grid
    qtbot.waitUntil(lambda: sum(1 for t in grid.stats() if t.painted >= 10) >= 4, timeout=WAIT_MS)
    first = grid.grab().toImage()
    qtbot.wait(1500)
    second = grid.grab().toImage()
    assert first != second, "the tiles' pictures move"
    # The lights: the hall's windows show at least two levels of warning.
    qtbot.waitUntil(lambda: len({window.lights.level_of(w) for w in window.windows} - {None}) >= 2,
                    timeout=WAIT_MS)
    assert window.warnings_panel.model.rowCount() > 0
    # The status bar says the relay is serving (nobody watches yet) and which seats are watched.
    bar = window.status_bar
    qtbot.waitUntil(lambda: bar.relay.text() == "转发：0 个观看" and bar.seats.text().startswith("座位：监看 "),
                    timeout=WAIT_MS)
    assert "领导端从 http://127.0.0.1:" in bar.relay.toolTip()
    assert _demo.terminal is not None
    watched = len(_demo.terminal.seats.watched_windows())
    assert watched > 0 and bar.seats.text().startswith(f"座位：监看 {watched} 个，空岗 ")
    assert probe.worst < 5.0, f"the GUI thread stalled for {probe.worst:.2f} s"  # nothing blocks; figures: benchmark
    # the performance tab, behind the warnings, has computed nothing; raised, it computes its figures
    assert window.reader is not None
    assert window.performance_panel.result is None and not window.reader.pending("performance")
    with qtbot.waitSignal(window.performance_panel.computed, timeout=WAIT_MS):
        window.performance_dock.raise_()
    # the cases behind another tab are not read again for every new snapshot, but when raised; seen,
    # they are read again with each snapshot
    reader, snap = window.reader, window.relay.latest()
    assert snap is not None and window.cases_panel.visibleRegion().isEmpty()
    qtbot.waitUntil(lambda: not reader.pending("cases.refresh"), timeout=WAIT_MS)
    window._warnings_changed(snap)
    assert not reader.pending("cases.refresh")
    # raised: read (a refresh; or the first page, when the hall's layout comes only now and sets the filter)
    with qtbot.waitSignal(reader.delivered, timeout=WAIT_MS,
                          check_params_cb=lambda ch, _ms: ch in ("cases.refresh", "cases")):
        window.cases_dock.raise_()
    window._warnings_changed(snap)
    assert reader.pending("cases.refresh")


def test_layout_cameras_and_language_survive_a_restart(qtbot: Any, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    cfg = Config.model_validate({"cameras": [{"id": f"cam-{i}", "url": f"synthetic://window/T{i}"}
                                             for i in range(3)]})
    terminal = Terminal(cfg, tmp_path / "data", command="test", record=False, sync=False)
    terminal.start()
    try:
        w = _window(qtbot, terminal, settings)
        qtbot.waitUntil(lambda: any(w.grid.cameras()), timeout=WAIT_MS)
        w.grid.set_layout("3x3")
        w.grid.set_camera(4, "cam-2")
        w.set_language("en")
        assert w.windowTitle() == "HallWatch — Electronic Supervision"
        w.close()
        again = _window(qtbot, terminal, settings)
        assert again.localization.language == "en"
        assert again.grid.layout_name == "3x3" and again.grid.cameras()[4] == "cam-2"
        again.set_language("zh_CN")
        assert again.windowTitle() == "HallWatch 政务大厅电子监察"
        again.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_the_camera_tree_dock_stays_wide_enough_to_read_whatever_the_dock_layout_asks(
    qtbot: Any, tmp_path: Path
) -> None:
    cfg = Config.model_validate({"cameras": [{"id": "cam-0", "url": "synthetic://window/T0"}]})
    terminal = Terminal(cfg, tmp_path / "data", command="test", record=False, sync=False)
    terminal.start()
    try:
        w = _window(qtbot, terminal, _settings(tmp_path))
        w.resize(1600, 900)
        qtbot.waitExposed(w)
        qtbot.wait(200)  # the first start's default dock sizes are in
        w.resizeDocks([w.tree_dock], [40], Qt.Orientation.Horizontal)
        qtbot.wait(50)
        readable = w.tree.fontMetrics().horizontalAdvance("M") * 15  # "A01 企业开办综合…"
        assert w.tree.width() >= readable
        w.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_a_grid_restored_before_the_registry_has_its_cameras_connects_them_when_they_come(
        qtbot: Any, tmp_path: Path) -> None:
    """The second start of a terminal whose cameras come from the server: the saved grid names cameras
    the registry gets only with the first sync. Each tile connects when its camera comes, and a tile
    whose camera is replaced (its address changed) shows the new one."""
    settings = _settings(tmp_path)
    cfg = Config.model_validate({"cameras": [{"id": "cam-0", "url": "synthetic://window/T0"}]})
    terminal = Terminal(cfg, tmp_path / "data", command="test", record=False, sync=False)
    terminal.start()
    try:
        w = _window(qtbot, terminal, settings)
        qtbot.waitUntil(lambda: w.grid.cameras()[0] == "cam-0", timeout=WAIT_MS)
        w.grid.set_cameras(["cam-0", "cam-1", "cam-2"])  # cam-1 and cam-2 came from the server last time
        w.close()
        again = _window(qtbot, terminal, settings)
        assert again.grid.cameras()[:3] == ["cam-0", "cam-1", "cam-2"]
        qtbot.waitUntil(lambda: again.grid.stats()[0].painted >= 3, timeout=WAIT_MS)
        assert [t.painted for t in again.grid.stats()[1:3]] == [0, 0]
        registry = terminal.cameras
        registry.extra += [CameraConfig("cam-1", "cam-1", "synthetic://window/T1"),
                           CameraConfig("cam-2", "cam-2", "synthetic://window/T2")]
        registry.reload()  # what the first sync's cameras do
        qtbot.waitUntil(lambda: all(t.painted >= 3 for t in again.grid.stats()[:3]), timeout=WAIT_MS)
        old = registry.get("cam-0")
        registry.extra[0] = CameraConfig("cam-0", "cam-0", "synthetic://window/T3")
        registry.reload()
        new = registry.get("cam-0")
        assert new is not None and new is not old
        painted = again.grid.stats()[0].painted
        qtbot.waitUntil(lambda: again.grid._tiles[0].ticket is not None
                        and again.grid._tiles[0].ticket.camera is new
                        and again.grid.stats()[0].painted >= painted + 3, timeout=WAIT_MS)
        again.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_an_unreachable_server_shows_the_offline_banner_and_actions_wait_in_the_outbox(
    qtbot: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    now = datetime.now(UTC)
    body = demo.generate(now.astimezone(Config().zone).date(), now=now)
    body["changes"] = [c for c in body["changes"] if c["type"] != "camera"]
    store = open_store(data / "hallwatch.db")
    import_page(store, ChangesPage.model_validate(body), source="demo")
    store.close()
    cfg = Config(server=ServerConfig.model_validate({"url": "http://127.0.0.1:9", "token": "t", "interval": 1}))
    terminal = Terminal(cfg, data, command="test", record=False)
    terminal.start()
    try:
        w = _window(qtbot, terminal, _settings(tmp_path))
        probe = StallProbe()
        qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=WAIT_MS)
        assert "离线" in w.banner.text()
        qtbot.waitUntil(lambda: w.warnings_panel.model.rowCount() > 0, timeout=WAIT_MS)
        key = w.warnings_panel.model.view(0).key
        assert w.warnings_panel.dispose(key, "explain", "窗口已说明情况")
        qtbot.waitUntil(lambda: _outbox(terminal) == 1, timeout=WAIT_MS)
        sync = terminal.sync
        assert sync is not None
        qtbot.waitUntil(lambda: sync.status().pending_actions == 1, timeout=WAIT_MS)
        try:
            qtbot.waitUntil(lambda: "待发送操作：1" in w.status_bar.sync.text(), timeout=5_000)
        except Exception:
            raise AssertionError(f"the status bar says {w.status_bar.sync.text()!r}") from None
        assert probe.worst < 5.0, f"the GUI thread stalled for {probe.worst:.2f} s"  # nothing blocks
        w.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)


def _outbox(terminal: Terminal) -> int:
    with terminal.store.read() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxAction)) or 0)


def test_main_demo_opens_the_window_and_stops_on_sigterm_within_5_s_leaving_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--data", str(tmp_path / "data"), "--demo"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, name="demo-output")
    reader.start()
    log = tmp_path / "data" / "logs" / "hallwatch.log"
    try:
        # running, not starting: the window shown and its first video painted (on a loaded 2-core
        # machine the start-up's first seconds can keep the GUI loop from seeing the signal)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            text = log.read_text(encoding="utf-8") if log.exists() else ""
            if "operator window shown" in text and ": first frame of camera " in text:
                break
            time.sleep(0.2)
        assert proc.poll() is None, "".join(lines)
        text = log.read_text(encoding="utf-8")
        assert "operator window shown" in text and ": first frame of camera " in text, "".join(lines)
        time.sleep(3)  # let it run: cameras, sync, recording
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        reader.join(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0, "".join(lines)
    assert took < 5.0, f"stopped in {took:.1f} s"
    text = log.read_text(encoding="utf-8")
    qt_warnings = [ln for ln in text.splitlines() if " WARNING " in ln and "qt" in ln.lower()]
    assert not qt_warnings, qt_warnings
    # Nothing left behind: no process of its session survives it.
    assert not _in_session(proc.pid), _in_session(proc.pid)


def _in_session(sid: int) -> list[int]:
    """Processes of session ``sid`` still alive (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # after the comm: state, ppid, pgrp, session
            found.append(int(stat.parent.name))
    return found


def test_a_real_rtsp_camera_in_a_tile_and_recorded_has_one_rtsp_session(
    qtbot: Any, tmp_path: Path, rtsp_camera_factory: Any
) -> None:
    camera = rtsp_camera_factory()
    cfg = Config.model_validate({"cameras": [{"id": "cam-1", "name": "A01", "url": camera.url}],
                                 "recording": {"segment_seconds": 2}})
    terminal = Terminal(cfg, tmp_path / "data", command="test", sync=False)
    terminal.start()
    try:
        w = _window(qtbot, terminal, _settings(tmp_path))
        qtbot.waitUntil(lambda: any(t.painted >= 10 for t in w.grid.stats()), timeout=WAIT_MS)
        assert terminal.recording is not None
        qtbot.waitUntil(lambda: len(terminal.recording.index.segments("cam-1")) >= 2, timeout=WAIT_MS)
        counts = []
        for _ in range(10):
            counts.append(camera.sessions())
            qtbot.wait(200)
        assert counts == [1] * 10, counts
        w.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)


def test_show_footage_opens_the_review_tab_a_margin_before_the_instant_and_back_to_live_returns(
        qtbot: Any, tmp_path: Path) -> None:
    from datetime import timedelta

    from video.archive import ArchiveFrame

    cfg = Config.model_validate({"cameras": [{"id": "cam-1", "name": "A01", "url": "synthetic://window/A01",
                                              "window_id": "W-A01"}], "recording": {"segment_seconds": 2}})
    terminal = Terminal(cfg, tmp_path / "data", command="test", sync=False)
    terminal.start()
    try:
        assert terminal.recording is not None
        index = terminal.recording.index
        qtbot.waitUntil(lambda: len(index.segments("cam-1")) >= 4, timeout=WAIT_MS)
        w = _window(qtbot, terminal, _settings(tmp_path))
        at = index.segments("cam-1")[0].start + timedelta(seconds=31)  # the review starts 30 s before
        w.show_footage("W-A01", at)
        assert w.tabs.currentIndex() == 1 and w.review is not None
        review = w.review
        assert review.camera_ids == ["cam-1"] and review.live_button is not None
        qtbot.waitUntil(lambda: isinstance(review.screens.shown(0), ArchiveFrame), timeout=WAIT_MS)
        first = review.position()
        assert first is not None and abs((first - (at - timedelta(seconds=30))).total_seconds()) < 2
        review.pause()
        paused_at = review.position()
        review.jump(+4)  # within the 8 s recorded
        assert paused_at is not None
        qtbot.waitUntil(lambda: isinstance(f := review.screens.shown(0), ArchiveFrame)
                        and f.at > paused_at + timedelta(seconds=3), timeout=WAIT_MS)
        review.live_button.click()  # back to live: the grid, with the camera shown
        assert w.tabs.currentIndex() == 0 and "cam-1" in w.grid.cameras()
        w.close()
    finally:
        assert terminal.stop(time.monotonic() + 10)
