"""The running terminal: everything a workstation runs, built from the config and the data folder.

One composition root shared by the desktop and the headless commands (``record``, ``--demo
--headless``): the store; the camera registry (one :class:`video.Camera` per camera id, whose
single main source every consumer subscribes to); recording with retention and evidence holds;
the warning monitor; the video relay when ``[relay]`` is configured; the sync engine when
``[server] url`` is set, its heartbeat reporting the cameras, the warnings in force and the relay's
address; and the executor that runs user actions on one writer thread.
Services start in that order and stop in reverse within one deadline. A terminal holds
``DATA/terminal.lock`` while it runs: one running terminal per data folder.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import runtime
from app.cameras import CameraRegistry, RegistryStatus
from app.executor import ActionExecutor, Outcome
from app.lock import TerminalLock
from app.recording import Recording, RecordingStatus
from app.review import FootageActions
from app.seats import ConsumerFactory, OccupancyService, SeatRegions, SeatsStatus, load_seat_regions
from app.service import ServiceGroup
from app.sync import SyncService, make_client, make_engine
from supervision.config import Config
from supervision.ingest import ApplyReport
from supervision.seats import Seat
from supervision.store import Store
from sync.engine import HeartbeatInfo, SyncStatus
from video.camera import CameraConfig
from video.retention import Retention
from video.source import SourceOptions

if TYPE_CHECKING:
    from app.monitor import WarningMonitor, WarningSnapshot
    from app.relay import RelayService
    from app.relay_push import RelayPushService, RelayPushStatus
    from video.footage import FootageIndex
    from video.relay import RelayStatus
    from video.synthetic import SyntheticCameraServer

__all__ = ["Terminal", "TerminalStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TerminalStatus:
    """Everything the status bar and ``--demo --headless`` show; a value, safe across threads."""

    at: datetime
    cameras: RegistryStatus
    recording: RecordingStatus | None
    sync: SyncStatus | None
    warnings: Any  # WarningSnapshot
    actions_pending: int
    relay: RelayStatus | None = None  # the built-in relay, when it runs
    relay_push: RelayPushStatus | None = None  # the pushes to nginx (RTMP/HLS), when configured
    seats: SeatsStatus | None = None  # the staff-seat analytics (no cameras: none watched)


class Terminal(FootageActions):
    """Build with the config and data folder, then ``start()``; ``stop(deadline)`` ends everything."""

    def __init__(
        self,
        cfg: Config,
        data_dir: Path,
        *,
        command: str,
        record: bool = True,
        sync: bool = True,
        lock: bool = True,
        store: Store | None = None,
        synthetic: SyntheticCameraServer | None = None,
        source_options: SourceOptions | None = None,
        clock: Callable[[], datetime] | None = None,
        sync_checkpoint: Callable[[str], None] | None = None,
        retention_interval: float | None = None,
        seat_consumer: ConsumerFactory | None = None,
    ) -> None:
        """``record``: run recording; ``sync``: run the sync engine when ``[server] url`` is set;
        ``lock``: hold ``DATA/terminal.lock`` (every command that runs cameras, recording or sync);
        ``store``: one the caller opened (else the config's, closed on stop); ``synthetic``: the
        server for ``synthetic://`` addresses (the demo's); ``clock``: the warnings' clock;
        ``seat_consumer``: builds the staff-seat analytics' consumers (default: ``video.analytics``)."""
        from app.monitor import WarningMonitor

        self.cfg = cfg
        self.data_dir = data_dir
        self.command = command
        self.tz = cfg.zone
        self._lock = TerminalLock(data_dir, command) if lock else None
        self._own_store = store is None
        self.store: Store = store if store is not None else runtime.open_store(data_dir, cfg)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        extra = [CameraConfig(c.id, c.name or c.id, c.url, c.sub_url, c.window_id) for c in cfg.cameras]
        self.actions = ActionExecutor()
        self.cameras = CameraRegistry(self.store, extra, source_options=source_options, synthetic=synthetic)
        self.recording: Recording | None = None
        if record:
            self.recording = Recording(self.cameras, self.store, runtime.footage_root(data_dir, cfg), cfg.recording,
                                       retention_interval=retention_interval, clock=clock)
        self.monitor: WarningMonitor = WarningMonitor(self.store, self.tz, interval=cfg.warnings.interval_seconds,
                                                      clock=self.clock)
        configured = {c.id: None if c.seats is None else [Seat(x.window_id, x.x, x.y, x.w, x.h) for x in c.seats]
                      for c in cfg.cameras}
        self.seats = OccupancyService(self.cameras, self.store, data_dir, self.actions, configured, clock=self.clock,
                                      on_change=self._seats_changed, consumer_factory=seat_consumer,
                                      keep_snapshots=timedelta(days=cfg.recording.retention_days))
        self.sync: SyncService | None = None
        if sync and cfg.server.enabled:
            client = make_client(cfg)
            engine = make_engine(cfg, self.store, client, heartbeat_info=self.heartbeat_info,
                                 on_applied=self._applied, checkpoint=sync_checkpoint, tz=self.tz,
                                 clock=self.clock)
            self.sync = SyncService(engine)
        self.services = ServiceGroup([self.actions, self.cameras])
        if self.recording is not None:
            self.services.add(self.recording)
        self.services.add(self.monitor)
        self.services.add(self.seats)
        self.relay: RelayService | None = None
        if cfg.relay is not None and cfg.relay.serve:
            from app.relay import RelayService

            self.relay = RelayService.from_config(cfg, self.cameras, self.store)
            self.services.add(self.relay)
        self.relay_push: RelayPushService | None = None
        if cfg.relay is not None and (cfg.relay.push or cfg.relay.hls):
            from app.relay_push import RelayPushService

            self.relay_push = RelayPushService(cfg.relay, self.cameras)
            self.services.add(self.relay_push)
        if self.sync is not None:
            self.services.add(self.sync)
        self._started = False

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the data folder's lock (:class:`app.lock.LockHeld` names the holder) and start."""
        if self._lock is not None:
            self._lock.acquire()
        try:
            self.services.start()
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise
        self._started = True
        log.info("terminal started (%s): %d cameras", self.command, len(self.cameras.cameras()))

    def stop(self, deadline: float | None = None) -> bool:
        """Stop every service in reverse order before ``deadline`` (``time.monotonic()``; None: 10 s),
        then release the lock and close the store. True when every thread ended in time."""
        deadline = deadline if deadline is not None else time.monotonic() + 10
        ok = self.services.stop(deadline) if self._started else True
        self._started = False
        if self._own_store:
            self.store.close()
        if self._lock is not None:
            self._lock.release()
        return ok

    def __enter__(self) -> Terminal:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what it knows ----------------------------------------------------------------------------
    def status(self) -> TerminalStatus:
        """Every service's status, from memory only (no database, no network: GUI-thread safe)."""
        return TerminalStatus(
            at=self.clock(),
            cameras=self.cameras.status(),
            recording=self.recording.status() if self.recording is not None else None,
            sync=self.sync.status() if self.sync is not None else None,
            warnings=self.monitor.snapshot(),
            actions_pending=self.actions.status().pending,
            relay=self.relay.status() if self.relay is not None else None,
            relay_push=self.relay_push.status() if self.relay_push is not None else None,
            seats=self.seats.status(),
        )

    def warnings(self) -> WarningSnapshot:
        return self.monitor.snapshot()

    def heartbeat_info(self) -> HeartbeatInfo:
        """Cameras online/recording and the undisposed yellow and red warnings in force."""
        cams = self.cameras.status()
        rec = self.recording.status() if self.recording is not None else None
        counts = self.monitor.snapshot().counts
        return HeartbeatInfo(
            cameras=[{"id": c.id, "online": c.online, "recording": bool(rec and rec.recording(c.id))}
                     for c in cams.cameras],
            warnings={"yellow": int(counts.get("yellow_undisposed", 0)), "red": int(counts.get("red_undisposed", 0))},
            relay_url=(self.relay_push.url if self.relay_push is not None
                       else self.relay.url if self.relay is not None else None),
        )

    # -- sync -------------------------------------------------------------------------------------
    def _applied(self, report: ApplyReport, resynced: bool) -> None:
        """After each committed page (on the sync thread): re-judge what changed; follow camera records."""
        if resynced:
            self.monitor.refresh()
        else:
            self.monitor.changed(report.changed)
        if resynced or report.by_type.get("camera"):
            self.cameras.reload()

    def _seats_changed(self, vacancy_ids: list[str]) -> None:
        """Vacancies written by the seat analytics (on the writer thread): re-judge them, push them."""
        self._after_action({"seat_vacancy": vacancy_ids})

    def seat_regions(self, camera_id: str,
                     on_done: Callable[[Outcome[SeatRegions]], None] | None = None) -> None:
        """The seats a camera watches, whether the config sets them, and the windows to pick from
        (its hall's), read on the writer thread."""
        def work() -> SeatRegions:
            return load_seat_regions(self.store, self.seats, camera_id)

        self.actions.submit("seats.read", work, on_done)

    def save_seat_regions(self, camera_id: str, seats: list[Seat], *, by: str,
                          on_done: Callable[[Outcome[None]], None] | None = None) -> None:
        """Store the seats drawn on a camera's tile; the analytics follow at once."""
        self.actions.submit("seats.save", lambda: self.seats.save_regions(camera_id, seats, by=by), on_done)

    def trigger_sync(self) -> None:
        if self.sync is not None:
            self.sync.trigger()

    # -- user actions (on the executor's thread; ``on_done`` is called there) ---------------------
    # bookmark, hold and release_hold: FootageActions (shared with the standalone review)
    def _after_action(self, subject_ids: dict[str, list[str]]) -> None:
        from supervision.ingest import ChangedIds

        self.monitor.changed(ChangedIds.of(subject_ids))
        self.trigger_sync()

    def acknowledge(self, key: str, *, by: str, note: str = "",
                    on_done: Callable[[Outcome[str]], None] | None = None) -> None:
        """签收 a warning (through the outbox)."""
        from supervision import lifecycle

        def work() -> str:
            aid = lifecycle.acknowledge(self.store, key, by=by, terminal=self.cfg.terminal.name, note=note,
                                        at=self.clock(), tz=self.tz)
            self._after_action({"disposition": [aid]})
            return aid

        self.actions.submit("warning.acknowledge", work, on_done)

    def dispose(self, key: str, measure: str, note: str, *, by: str,
                on_done: Callable[[Outcome[str]], None] | None = None) -> None:
        """督办 / 纠错 / 说明 a warning with a required note (through the outbox)."""
        from supervision import lifecycle

        def work() -> str:
            aid = lifecycle.dispose(self.store, key, measure, note, by=by, terminal=self.cfg.terminal.name,
                                    at=self.clock(), tz=self.tz)
            self._after_action({"disposition": [aid]})
            return aid

        self.actions.submit("warning.dispose", work, on_done)

    @functools.cached_property
    def index(self) -> FootageIndex:
        """The footage index the review reads (the recorder's when this terminal records)."""
        if self.recording is not None:
            return self.recording.index
        from video.footage import FootageIndex

        return FootageIndex(self.store, runtime.footage_root(self.data_dir, self.cfg))

    def _retention(self) -> Retention:
        if self.recording is not None:
            return self.recording.service.retention
        return Retention(self.index)
