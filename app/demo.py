"""The embedded demo: a reference server with simulated hall traffic, a terminal token it creates,
synthetic cameras for the demo hall and a terminal recording them — nothing to configure.

Everything lives in ``DATA/demo`` and is resumed on the next start: the server's database
(``server/hallwatch-server.db``), the terminal's token (``server/terminal.token``, mode 0600), the
terminal's store (``hallwatch.db``) and a day of footage (``footage/``). The server listens on
127.0.0.1 only, on a free port; the terminal syncs with it every few seconds like any other.

**Clock.** In office hours of a working day the demo runs on the wall clock; at any other time the
whole demo — server, simulator, terminal (warnings, footage, retention) and the cameras' burnt-in
clocks — runs on one :class:`app.democlock.DemoClock` set to the last working day at 10:00, so the
hall is busy whenever the demo starts (``demo_clock_note`` says from when, for the title bar). A
folder keeps its timeline: the clock never starts behind what its server already holds.

**Cameras.** One in-process :class:`video.synthetic.SyntheticCameraServer` serves the hall's
``synthetic://window/A01`` cameras and their ``…/sub`` sub-streams. The main streams, which the
terminal records, and the 320×180 sub-streams the grid shows loop pre-encoded 16 s clips (built once
per stream in the background and cached in ``clips/``; encoded live until then): no clock is burnt
into a loop (it must not show a time it is not) — the title bar says the demo clock. Encoding the
16 watched sub-streams live cost about 0.65 of a core, and the tiles painted 19-21 fps on two cores
while their decoders published 25 (``benchmarks.demo_bench --live-subs``); ``sub_clips=False``
brings the live sub-streams with the demo clock burnt in back.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr

from app.democlock import DemoClock, demo_start, resume_instant
from app.seats import DEMO_SEAT_WINDOWS, demo_seats, seed_regions
from app.service import join_until, remaining
from app.terminal import Terminal
from supervision.calendar import WorkCalendar
from supervision.config import Config, RecordingConfig, RelayConfig, ServerConfig

if TYPE_CHECKING:
    from sync.server.simulate import Simulator
    from sync.server.testing import ServerThread
    from video.synthetic import SyntheticCameraServer

__all__ = ["DEMO_LEADER", "DEMO_LEADER_SCOPE", "DEMO_TERMINAL", "EmbeddedDemo"]

log = logging.getLogger(__name__)

DEMO_TERMINAL = "demo-ws"
DEMO_SCOPE = "hall-anshan"  # the demo hall: the operator's token sees it whole
DEMO_LEADER = "demo-leader"
DEMO_LEADER_SCOPE = "org-anshan"  # the city: the leader's token sees both halls (city and county)
CLOCK_FILE = "clock.txt"  # the demo instant the last run stopped at
SYNC_INTERVAL = 3.0  # seconds between sync rounds: the lights follow the simulator closely


def _free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the relay's config wants a port number)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        looped: bool = True,
        sub_clips: bool = True,
        relay: bool = True,
        seat_windows: Sequence[str] = DEMO_SEAT_WINDOWS,
    ) -> None:
        """``clock``: the demo's clock (tests); None: the wall clock in office hours, else the last
        working day at 10:00 advancing in real time (:mod:`app.democlock`). ``looped``: main streams
        loop pre-encoded clips (False: every main stream encoded live — the benchmark's reference);
        ``sub_clips``: the 320×180 sub-streams loop clips too (no clock burnt in; False: encoded live with
        the demo clock, while watched). ``relay``: the terminal relays its cameras on a free loopback
        port (``[relay]``), for leader terminals (``--demo --role leader``). ``seat_windows``: the windows
        (labels such as ``A01``) whose cameras watch a scripted staff seat (a benchmark gives them all)."""
        from sync.server.store import CentralStore

        self.folder = data_dir / "demo"
        (self.folder / "server").mkdir(parents=True, exist_ok=True)
        self._demo_clock: DemoClock | None = None
        if clock is None:
            self._demo_clock = DemoClock(cfg.zone, demo_start(datetime.now(UTC), WorkCalendar(), cfg.zone))
        self.clock: Callable[[], datetime] = clock or self._demo_clock or (lambda: datetime.now(UTC))
        # the server on the demo's clock too: the server time the terminal measures its clock
        # against, and the times the server stamps, are the demo's (not hours or days apart)
        self.central = CentralStore(self.folder / "server" / "hallwatch-server.db", clock=self.clock)
        self._cfg = cfg
        self._record = record
        self._speed = speed
        self._retention_interval = retention_interval
        self._looped = looped
        self._sub_clips = sub_clips
        self._relay = relay
        self._seat_windows = tuple(seat_windows)
        self._stop = threading.Event()
        self._sim_thread: threading.Thread | None = None
        self._server: ServerThread | None = None
        self.synthetic: SyntheticCameraServer | None = None  # the synthetic cameras' server while running
        self.terminal: Terminal | None = None
        self.url: str | None = None

    @property
    def demo_clock_note(self) -> datetime | None:
        """The demo instant the demo clock started from (local), for the title bar; None on the wall clock."""
        return self._demo_clock.started_from if self._demo_clock is not None else None

    def local_now(self) -> datetime:
        """The demo's time in the hall's zone (what the cameras burn in)."""
        return self.clock().astimezone(self._cfg.zone)

    def start(self) -> Terminal:
        """Bootstrap the hall (first start), serve, simulate, then start the terminal; returns it."""
        from sync.server.testing import ServerThread
        from video.synthetic import SyntheticCameraServer

        sim = self._simulator()
        token = self._token()
        server = ServerThread(self.central).start()
        self._server = server
        self.url = server.url
        self._stop.clear()
        self._sim_thread = threading.Thread(target=sim.run, args=(self._stop,), name="demo-simulator")
        self._sim_thread.start()
        cameras = SyntheticCameraServer({}, clock=self.local_now,
                                        clip_dir=self.folder / "clips" if self._looped else None,
                                        sub_clips=self._sub_clips)
        try:
            cameras.start()
        except BaseException:
            self._stop_server(time.monotonic() + 5)
            raise
        self.synthetic = cameras
        # scripted staff at some windows, watched by their cameras
        seats = demo_seats(cameras, self._cfg.zone, self._seat_windows)
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
                # the relay for leaders, on loopback (every relayed camera muxed all the time: ~0.1 % of a core each)
                "relay": RelayConfig(bind="127.0.0.1", port=_free_port()) if self._relay else None,
            }
        )
        terminal = Terminal(cfg, self.folder, command="demo", record=self._record, clock=self.clock,
                            synthetic=cameras, retention_interval=self._retention_interval)
        try:
            seed_regions(terminal.store, seats, at=self.clock())
            terminal.start()
        except BaseException:
            self.synthetic = None
            cameras.stop()
            self._stop_server(time.monotonic() + 5)
            raise
        self.terminal = terminal
        note = self.demo_clock_note
        log.info("demo running: server %s, %d cameras, %s", server.url, len(terminal.cameras.cameras()),
                 "wall clock" if note is None else f"demo clock from {note.isoformat()}")
        return terminal

    def _simulator(self) -> Simulator:
        """The simulator, bootstrapped; the demo clock moved on when the folder's timeline is past it."""
        from sync.server.simulate import Simulator

        tz = self._cfg.hall.timezone
        sim = Simulator(self.central, speed=self._speed, clock=self.clock, tz=tz, watched=self.watched_windows)
        sim.bootstrap()  # the hall exists before the terminal's token is made for it
        self._update_cameras()
        dc = self._demo_clock
        if dc is None or dc.started_from is None:
            return sim  # the wall clock (or the caller's): the simulator catches up with its records itself
        now = dc()
        reached = max(sim.now, self._reached() or sim.now)  # its records, and where the last run stopped
        start = resume_instant(now, reached, datetime.now(UTC), WorkCalendar(), self._cfg.zone)
        if start - now > timedelta(seconds=2):
            log.info("demo: this folder's timeline reached %s; the demo clock carries on from %s",
                     reached.isoformat(), start.astimezone(self._cfg.zone).isoformat())
            dc.set(start)
            if start > sim.now:  # the next opening of the hall: a simulator starting there
                sim = Simulator(self.central, speed=self._speed, clock=self.clock, tz=tz, watched=self.watched_windows)
                sim.bootstrap()
        return sim

    def watched_windows(self) -> frozenset[str]:
        """The windows whose seats the terminal's cameras watch (the simulator's ``watched``)."""
        terminal = self.terminal
        if terminal is not None:
            return terminal.seats.watched_windows()
        return frozenset(f"win-{label}" for label in self._seat_windows)

    def _update_cameras(self) -> None:
        """A folder made before the hall's cameras changed (e.g. got their sub-streams) gets them now."""
        from supervision import demo

        have = self.central.current("camera")
        changed = [
            {"type": "camera", "id": c["id"], "op": "upsert", "data": c["data"]}
            for c in demo.load_hall()["changes"]
            if c["type"] == "camera" and c.get("op", "upsert") == "upsert"
            and ("camera", c["id"]) in have and have[("camera", c["id"])][1] != c["data"]
        ]
        if changed:
            self.central.publish(changed)
            log.info("demo: %d camera records brought up to date", len(changed))

    def _reached(self) -> datetime | None:
        """The demo instant the last run of this folder stopped at (None: unknown)."""
        try:
            text = (self.folder / CLOCK_FILE).read_text(encoding="utf-8").strip()
            t = datetime.fromisoformat(text)
        except (OSError, ValueError):
            return None
        return t if t.tzinfo is not None else None

    def _save_reached(self) -> None:
        try:
            (self.folder / CLOCK_FILE).write_text(self.clock().isoformat() + "\n", encoding="utf-8")
        except OSError as e:
            log.warning("demo: cannot note where its clock stopped: %s", e)

    def wait_judged(self, stop: threading.Event, timeout: float) -> bool:
        """Wait until the first sync has succeeded and the warning monitor has judged what it brought
        (a full pass after it); False when ``stop`` or ``timeout`` came first."""
        terminal = self.terminal
        if terminal is None or terminal.sync is None:
            return False
        deadline = time.monotonic() + timeout
        sync = terminal.sync
        while sync.status().last_success is None:
            if stop.wait(min(0.2, remaining(deadline))) or remaining(deadline) == 0:
                return False
        generation = terminal.warnings().generation
        terminal.monitor.refresh()
        while terminal.warnings().generation <= generation:
            if stop.wait(min(0.2, remaining(deadline))) or remaining(deadline) == 0:
                return False
        return True

    def stop(self, deadline: float | None = None) -> bool:
        deadline = deadline if deadline is not None else time.monotonic() + 5
        self._stop.set()  # the simulator winds down while the terminal stops
        ok = True
        terminal, self.terminal = self.terminal, None
        if terminal is not None:
            ok = terminal.stop(deadline)
            self._save_reached()  # the footage ends here: the next start must not go back over it
        cameras, self.synthetic = self.synthetic, None
        if cameras is not None:
            cameras.stop()
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

    def _token(self, file: str = "terminal.token", name: str = DEMO_TERMINAL, role: str = "operator",
               scope: str = DEMO_SCOPE) -> str:
        """A demo terminal's token: made once, kept (0600) and checked against the server's store."""
        path = self.folder / "server" / file
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
        if token:
            known = self.central.authenticate(token)
            if known is not None and known.role == role and known.scope == scope:
                return token
        token = self.central.add_terminal(name, role, scope)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token)
        return token

    # -- the leader terminal (``--demo --role leader``) ------------------------------------------------
    @property
    def leader_folder(self) -> Path:
        """The demo leader terminal's own data folder (its store and lock)."""
        return self.folder / "leader"

    def leader_config(self) -> Config:
        """The config of a leader terminal syncing with the running demo server: a leader token
        whose scope is the city (both demo halls), made once and kept like the operator's."""
        if self.url is None:
            raise RuntimeError("start the demo first")
        token = self._token("leader.token", DEMO_LEADER, "leader", DEMO_LEADER_SCOPE)
        self.leader_folder.mkdir(parents=True, exist_ok=True)
        return self._cfg.model_copy(update={
            "server": ServerConfig(url=self.url, token=SecretStr(token), interval=SYNC_INTERVAL),
            "terminal": self._cfg.terminal.model_copy(update={"name": DEMO_LEADER}),
            "database": self._cfg.database.model_copy(update={"url": ""}),
        })
