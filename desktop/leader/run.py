"""Starting the leader terminal: its sync and warning monitor in the background (with progress on
screen), then the dashboard; closing it (Ctrl+Q, SIGTERM) stops everything within 5 s.

With ``demo``: the embedded demo runs its workstation headless (server, simulator, synthetic
cameras, recording and the relay), a leader token scoped to the city is made on the demo server,
and a leader terminal on ``DATA/demo/leader`` syncs with it. ``screenshot``: the same window
rendered offscreen after it has run a while."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.leader import LeaderTerminal
from desktop.application import SignalWatcher, show_and_run, start_gui
from desktop.i18n import fmt, translate
from desktop.operator.run import _start_in_background
from supervision.config import Config

__all__ = ["LeaderOptions", "run_leader"]

log = logging.getLogger(__name__)
STOP_DEADLINE_S = 5.0


@dataclass(frozen=True, slots=True)
class LeaderOptions:
    demo: bool = False
    kiosk: bool = False
    tour_seconds: float = 20.0
    language: str | None = None
    theme: str | None = None
    screenshot: Path | None = None
    after: float = 10.0
    size: tuple[int, int] | None = None
    page: str | None = None  # the page to open on (screenshots of each page)


def run_leader(cfg: Config, data_dir: Path, options: LeaderOptions) -> int:
    """The leader window over a leader terminal from the config, or over the embedded demo."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    from desktop.leader.window import LeaderWindow

    app, store_settings, localization, theme = start_gui(cfg.ui.language, cfg.ui.theme, language=options.language,
                                                         theme=options.theme)
    demo: Any = None
    demo_note: str | None = None
    terminal: LeaderTerminal | None = None
    if options.demo:
        from app.demo import EmbeddedDemo

        demo = EmbeddedDemo(cfg, data_dir)

        def start_demo() -> LeaderTerminal:
            demo.start()
            leader = LeaderTerminal(demo.leader_config(), demo.leader_folder, clock=demo.clock)
            leader.start()
            return leader

        label = translate("Startup", "Starting the demo: server, hall cameras, the relay and the leader terminal…")
        terminal, error = _start_in_background(app, start_demo, label)
        note = demo.demo_clock_note
        demo_note = note.strftime("%Y-%m-%d %H:%M") if note is not None else None
    else:
        made = LeaderTerminal(cfg, data_dir)
        _, error = _start_in_background(app, made.start, translate("Startup", "Starting sync…"))
        terminal = made if error is None else None
        if error is not None:
            made.stop()
    if error is not None or terminal is None:
        held = isinstance(error, str) and "in use by" in error
        if options.screenshot is None:
            QMessageBox.critical(None, "HallWatch", fmt(translate("Startup", "HallWatch could not start: %1"), error))
        log.error("start-up failed: %s", error)
        if demo is not None:
            demo.stop()
        return 2 if held else 1

    window = LeaderWindow(terminal, localization, store_settings, theme=theme, demo_note=demo_note,
                          kiosk=options.kiosk, tour_seconds=options.tour_seconds)
    if options.page is not None:
        window.show_page(options.page)
    stopped = threading.Event()

    def stop_all() -> None:
        if stopped.is_set():
            return
        stopped.set()
        began = time.monotonic()
        deadline = began + STOP_DEADLINE_S
        ok = terminal.stop(deadline)
        if demo is not None:
            ok = demo.stop(max(deadline, time.monotonic() + 2)) and ok
        if not ok:
            log.warning("not everything stopped within %.0f s", STOP_DEADLINE_S)
        log.info("stopped in %.2f s", time.monotonic() - began)

    window.quit_requested.connect(app.quit)

    def on_signal(signum: int) -> None:
        log.info("signal %d: closing the window", signum)
        window.close()

    watcher = SignalWatcher(on_signal)
    try:
        log.info("leader window shown%s", " (demo)" if demo is not None else "")
        size = options.size if options.screenshot is not None else None
        if options.kiosk and options.screenshot is None:
            window.setWindowState(Qt.WindowState.WindowFullScreen)  # show_and_run shows it so
        code = show_and_run(app, window, screenshot=options.screenshot, after=options.after, size=size)
    finally:
        watcher.close()
        stop_all()
    return code
