"""The embedded demo: a reference server with simulated hall traffic, a terminal token it creates,
synthetic cameras for the demo hall and a terminal recording them — nothing to configure.

Everything lives in ``DATA/demo`` and is resumed on the next start: the server's database
(``server/hallwatch-server.db``), the terminal's token (``server/terminal.token``, mode 0600), the
terminal's store (``hallwatch.db``) and a day of footage (``footage/``). The server listens on
127.0.0.1 only, on a free port; the terminal syncs with it every few seconds like any other.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from app.service import join_until, remaining
from app.terminal import Terminal
from supervision.config import Config, RecordingConfig, ServerConfig

if TYPE_CHECKING:
    from sync.server.testing import ServerThread

__all__ = ["DEMO_TERMINAL", "EmbeddedDemo"]

log = logging.getLogger(__name__)

DEMO_TERMINAL = "demo-ws"
DEMO_SCOPE = "hall-anshan"  # the demo hall: the operator's token sees it whole
SYNC_INTERVAL = 3.0  # seconds between sync rounds: the lights follow the simulator closely


class EmbeddedDemo:
    """Starts and owns the demo's server, simulator, cameras and terminal; ``stop`` ends them all."""

    name = "demo"

    def __init__(
        self,
        cfg: Config,
        data_dir: Path,
        *,
        record: bool = True,
        speed: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        retention_interval: float | None = None,
    ) -> None:
        from sync.server.store import CentralStore

        self.folder = data_dir / "demo"
        (self.folder / "server").mkdir(parents=True, exist_ok=True)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.central = CentralStore(self.folder / "server" / "hallwatch-server.db")
        self._cfg = cfg
        self._record = record
        self._speed = speed
        self._retention_interval = retention_interval
        self._stop = threading.Event()
        self._sim_thread: threading.Thread | None = None
        self._server: ServerThread | None = None
        self.terminal: Terminal | None = None
        self.url: str | None = None

    def start(self) -> Terminal:
        """Bootstrap the hall (first start), serve, simulate, then start the terminal; returns it."""
        from sync.server.simulate import Simulator
        from sync.server.testing import ServerThread

        sim = Simulator(self.central, speed=self._speed, clock=self.clock, tz=self._cfg.hall.timezone)
        sim.bootstrap()  # the hall exists before the terminal's token is made for it
        token = self._token()
        server = ServerThread(self.central).start()
        self._server = server
        self.url = server.url
        self._stop.clear()
        self._sim_thread = threading.Thread(target=sim.run, args=(self._stop,), name="demo-simulator")
        self._sim_thread.start()
        cfg = self._cfg.model_copy(
            update={
                "server": ServerConfig(url=server.url, token=SecretStr(token), interval=SYNC_INTERVAL),
                "recording": RecordingConfig(
                    segment_seconds=self._cfg.recording.segment_seconds,
                    retention_days=1,  # the demo keeps a day of footage
                    min_free_percent=self._cfg.recording.min_free_percent,
                    hold_margin_minutes=self._cfg.recording.hold_margin_minutes,
                ),
                "terminal": self._cfg.terminal.model_copy(update={"name": DEMO_TERMINAL}),
                "database": self._cfg.database.model_copy(update={"url": ""}),  # never the real store
            }
        )
        terminal = Terminal(cfg, self.folder, command="demo", record=self._record, clock=self.clock,
                            retention_interval=self._retention_interval)
        try:
            terminal.start()
        except BaseException:
            self._stop_server(time.monotonic() + 5)
            raise
        self.terminal = terminal
        log.info("demo running: server %s, %d cameras", server.url, len(terminal.cameras.cameras()))
        return terminal

    def stop(self, deadline: float | None = None) -> bool:
        deadline = deadline if deadline is not None else time.monotonic() + 5
        self._stop.set()  # the simulator winds down while the terminal stops
        ok = True
        terminal, self.terminal = self.terminal, None
        if terminal is not None:
            ok = terminal.stop(deadline)
        return self._stop_server(deadline) and ok

    def _stop_server(self, deadline: float) -> bool:
        self._stop.set()
        ok = join_until([self._sim_thread], deadline)
        self._sim_thread = None
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self.central.close()
        if remaining(deadline) == 0:
            ok = False
        return ok

    def _token(self) -> str:
        """The demo terminal's token: made once, kept (0600) and checked against the server's store."""
        path = self.folder / "server" / "terminal.token"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
        if token and self.central.authenticate(token) is not None:
            return token
        token = self.central.add_terminal(DEMO_TERMINAL, "operator", DEMO_SCOPE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token)
        return token
