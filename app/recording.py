"""Recording as a terminal service: a recorder on every registered camera's main source."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.cameras import CameraChange, CameraRegistry, ChangeKind
from supervision.config import RecordingConfig
from supervision.store import Store
from video.footage import FootageIndex
from video.recorder import RecorderOptions, RecorderStatus
from video.retention import RetentionPolicy, SystemWarning
from video.service import RecordingService

__all__ = ["Recording", "RecordingStatus"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecordingStatus:
    recorders: tuple[RecorderStatus, ...]
    system_warning: SystemWarning | None
    free_percent: float | None

    def recording(self, camera_id: str) -> bool:
        return any(r.camera_id == camera_id and r.recording for r in self.recorders)


class Recording:
    """Follows the camera registry: a camera added is recorded, one removed stops being recorded,
    one whose address changed is recorded on its new connection. A Service named ``recording``."""

    name = "recording"

    def __init__(
        self,
        registry: CameraRegistry,
        store: Store,
        footage_root: Path,
        config: RecordingConfig,
        *,
        retention_interval: float | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock``: the terminal's clock when it is not the wall clock (the demo's): footage is
        indexed on it and retention judges age by it."""
        offset = 0.0 if clock is None else clock().timestamp() - time.time()

        self.registry = registry
        self._listeners: list[Callable[[SystemWarning | None], None]] = []
        self._listeners_lock = threading.Lock()
        self.service = RecordingService(
            store,
            footage_root,
            recorder_options=RecorderOptions(segment_seconds=config.segment_seconds, clock_offset=offset),
            policy=RetentionPolicy(
                retention_days=config.retention_days,
                min_free_percent=config.min_free_percent,
                hold_margin=timedelta(minutes=config.hold_margin_minutes),
            ),
            retention_interval=retention_interval if retention_interval is not None else config.prune_interval_seconds,
            clock=clock,
        )
        retention = self.service.retention
        pause_or_resume = retention.on_full  # the service's: pause every recorder, or resume them

        def on_full(warning: SystemWarning | None) -> None:
            if pause_or_resume is not None:
                pause_or_resume(warning)
            with self._listeners_lock:
                listeners = list(self._listeners)
            for cb in listeners:
                try:
                    cb(warning)
                except Exception:
                    log.exception("a listener of the disk warning failed")

        retention.on_full = on_full

    def add_listener(self, cb: Callable[[SystemWarning | None], None]) -> None:
        """Call ``cb(warning)`` when the system warning (``DISK_FULL``) comes or goes, on retention's
        thread: a status display sleeps until then instead of polling ``status()``."""
        with self._listeners_lock:
            self._listeners.append(cb)

    def remove_listener(self, cb: Callable[[SystemWarning | None], None]) -> None:
        with self._listeners_lock:
            if cb in self._listeners:
                self._listeners.remove(cb)

    @property
    def index(self) -> FootageIndex:
        return self.service.index

    def start(self) -> None:
        self.service.start()
        self.registry.add_listener(self._changed)
        for cam in self.registry.cameras():
            self.service.add(cam.id, cam.main, cam.config.window_id)

    def stop(self, deadline: float) -> bool:
        self.registry.remove_listener(self._changed)
        return self.service.stop(deadline)

    def status(self) -> RecordingStatus:
        try:  # one statvfs: status() is read on the GUI thread, which never queries the store
            du = shutil.disk_usage(self.service.index.root)
            free: float | None = 100.0 * du.free / du.total if du.total else None
        except OSError:
            free = None
        return RecordingStatus(tuple(self.service.status()), self.service.system_warning, free)

    def _changed(self, change: CameraChange) -> None:
        if change.kind is ChangeKind.REMOVED:
            self.service.remove(change.camera_id)
        elif change.camera is not None:
            if change.kind is ChangeKind.RENAMED:
                self.service.retention.set_camera_window(change.camera_id, change.camera.config.window_id)
            else:
                self.service.add(change.camera_id, change.camera.main, change.camera.config.window_id)
