"""Starting the operator workstation: the terminal (or the embedded demo) in the background with
progress on screen, then the window; closing it (or Ctrl+Q, SIGTERM) stops everything within 5 s.
Also ``screenshot``: the same window rendered offscreen after it has run a while."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from app.terminal import Terminal
from desktop.application import SignalWatcher, freeze_startup_heap, show_and_run, start_gui
from desktop.i18n import fmt, translate
from supervision.config import Config

__all__ = ["OperatorOptions", "run_operator"]

log = logging.getLogger(__name__)
STOP_DEADLINE_S = 5.0


@dataclass(frozen=True, slots=True)
class OperatorOptions:
    demo: bool = False
    language: str | None = None  # overrides the saved pick and the config (screenshot --lang)
    theme: str | None = None
    screenshot: Path | None = None
    after: float = 10.0
    size: tuple[int, int] | None = None


def _start_in_background(app: QApplication, start: Callable[[], Any], label: str) -> tuple[Any, str | None]:
    """Run ``start`` on a worker thread while a progress dialog keeps the window alive."""
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["value"] = start()
        except Exception as e:
            log.exception("start-up failed")
            result["error"] = str(e) or type(e).__name__

    t = threading.Thread(target=work, name="hallwatch-startup")
    t.start()
    dialog = QProgressDialog(label, "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setMinimumDuration(400)
    dialog.setWindowTitle("HallWatch")
    while t.is_alive():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        t.join(0.05)
    dialog.close()
    dialog.deleteLater()
    return result.get("value"), result.get("error")


def run_operator(cfg: Config, data_dir: Path, options: OperatorOptions) -> int:
    """The operator window over a terminal from the config, or over the embedded demo."""
    from desktop.operator.window import OperatorWindow

    app, store_settings, localization, theme = start_gui(cfg.ui.language, cfg.ui.theme, language=options.language,
                                                         theme=options.theme)

    demo = None
    demo_note: str | None = None
    if options.demo:
        from app.demo import EmbeddedDemo

        demo = EmbeddedDemo(cfg, data_dir)
        label = translate("Startup", "Starting the demo hall: server, cameras and recording…")
        terminal, error = _start_in_background(app, demo.start, label)
        note = demo.demo_clock_note
        demo_note = note.strftime("%Y-%m-%d %H:%M") if note is not None else None
    else:
        terminal = Terminal(cfg, data_dir, command="operator")
        _, error = _start_in_background(app, terminal.start,
                                        translate("Startup", "Starting cameras, recording and sync…"))
    if error is not None or terminal is None:
        held = isinstance(error, str) and "in use by" in error
        if options.screenshot is None:
            QMessageBox.critical(None, "HallWatch", fmt(translate("Startup", "HallWatch could not start: %1"), error))
        log.error("start-up failed: %s", error)
        if demo is not None:
            demo.stop()
        elif isinstance(terminal, Terminal):
            terminal.stop()
        return 2 if held else 1

    window = OperatorWindow(terminal, localization, store_settings, theme=theme, demo_note=demo_note)
    window.first_snapshot_shown.connect(freeze_startup_heap)
    stopped = threading.Event()

    def stop_all() -> None:
        if stopped.is_set():
            return
        stopped.set()
        began = time.monotonic()
        deadline = began + STOP_DEADLINE_S
        ok = demo.stop(deadline) if demo is not None else terminal.stop(deadline)
        if not ok:
            log.warning("not everything stopped within %.0f s", STOP_DEADLINE_S)
        log.info("stopped in %.2f s", time.monotonic() - began)

    window.quit_requested.connect(app.quit)
    def on_signal(signum: int) -> None:
        log.info("signal %d: closing the window", signum)
        window.close()

    watcher = SignalWatcher(on_signal)
    try:
        log.info("operator window shown%s", " (demo)" if demo is not None else "")
        code = show_and_run(app, window, screenshot=options.screenshot, after=options.after,
                            size=options.size if options.screenshot is not None else None)
    finally:
        watcher.close()
        stop_all()
    return code
