"""The recording service: every camera's source and recorder, retention, one start and one stop.

Cameras come from the store (``camera`` records with a ``stream_url``) and from the config file
(``[[cameras]]``; an entry there overrides a store camera with the same id). Demo addresses
(``synthetic://…``) are served by an in-process :class:`~video.synthetic.SyntheticCameraServer`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from supervision.store import Store
from supervision.store.models import CameraRow
from video.camera import CameraConfig
from video.footage import FootageIndex
from video.recorder import DISK_FULL, Recorder, RecorderOptions, RecorderPool, RecorderStatus
from video.retention import Retention, RetentionPolicy, SystemWarning
from video.source import Source, SourceOptions, SourceStatus
from video.urls import SourceKind, kind_of

if TYPE_CHECKING:
    from video.synthetic import SyntheticCameraServer

__all__ = ["RecordingService", "cameras_from_store"]

log = logging.getLogger(__name__)


def cameras_from_store(store: Store, extra: Iterable[CameraConfig] = ()) -> list[CameraConfig]:
    """The store's cameras that have a stream, then ``extra`` (which wins for the same id)."""
    plans: dict[str, CameraConfig] = {}
    with store.read() as s:
        for c in s.scalars(select(CameraRow).where(CameraRow.deleted.is_(False)).order_by(CameraRow.id)):
            if c.stream_url:
                plans[c.id] = CameraConfig(c.id, c.name or c.id, c.stream_url, c.sub_stream_url, c.window_id)
    for p in extra:
        plans[p.id] = p
    return list(plans.values())


class RecordingService:
    """Sources, recorders and retention for a set of cameras."""

    def __init__(
        self,
        store: Store,
        footage_root: Path,
        cameras: Iterable[CameraConfig],
        *,
        recorder_options: RecorderOptions | None = None,
        source_options: SourceOptions | None = None,
        policy: RetentionPolicy | None = None,
        retention_interval: float = 60.0,
    ) -> None:
        self.store = store
        self.index = FootageIndex(store, footage_root)
        self.cameras = list(cameras)
        self._recorder_options = recorder_options or RecorderOptions()
        self._source_options = source_options or SourceOptions()
        self._retention_interval = retention_interval
        self.retention = Retention(
            self.index, policy, camera_windows={c.id: c.window_id for c in self.cameras}, on_full=self._on_full
        )
        self.pool = RecorderPool(self._recorder_options.batch_seconds)  # one writer thread for every camera
        self.sources: dict[str, Source] = {}
        self.recorders: dict[str, Recorder] = {}
        self._synthetic: SyntheticCameraServer | None = None
        self._stop = threading.Event()
        self._retention_thread: threading.Thread | None = None
        self._pruning = threading.Lock()

    def start(self) -> None:
        self.index.root.mkdir(parents=True, exist_ok=True)
        self.index.recover()  # segments a crash left open, for every camera, before anything is written
        synthetic = [c for c in self.cameras if kind_of(c.url) is SourceKind.SYNTHETIC]
        resolve = None
        if synthetic:
            from video.synthetic import SyntheticCameraServer

            server = SyntheticCameraServer({})
            server.start()
            self._synthetic = server
            resolve = server.resolve
        for cam in self.cameras:
            url = resolve(cam.url) if resolve is not None and kind_of(cam.url) is SourceKind.SYNTHETIC else cam.url
            source = Source(url, self._source_options, name=f"{cam.id}-main")
            recorder = Recorder(source, cam.id, self.index, self._recorder_options, on_problem=self._on_problem,
                                pool=self.pool)
            self.sources[cam.id] = source
            self.recorders[cam.id] = recorder
            recorder.start()
            source.start()
        self._stop.clear()
        self._retention_thread = threading.Thread(
            target=self.retention.run, args=(self._stop, self._retention_interval), name="hallwatch-retention",
            daemon=True,
        )
        self._retention_thread.start()
        log.info("recording %d cameras into %s", len(self.cameras), self.index.root)

    def stop(self) -> None:
        """Stop everything; every open segment is closed, indexed and hashed."""
        self._stop.set()
        for recorder in self.recorders.values():
            recorder.stop()
        self.pool.stop()
        for source in self.sources.values():
            source.stop(timeout=5)
        if self._retention_thread is not None:
            self._retention_thread.join(10)
            self._retention_thread = None
        server = self._synthetic
        if server is not None:
            server.stop()
            self._synthetic = None
        log.info("recording stopped")

    def __enter__(self) -> RecordingService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> list[tuple[SourceStatus, RecorderStatus]]:
        return [(self.sources[c.id].status(), self.recorders[c.id].status()) for c in self.cameras]

    @property
    def system_warning(self) -> SystemWarning | None:
        return self.retention.system_warning

    def _on_full(self, warning: SystemWarning | None) -> None:
        for recorder in self.recorders.values():
            if warning is not None:
                recorder.pause("the disk is full of held footage")
            else:
                recorder.resume()

    def _on_problem(self, camera_id: str, message: str | None) -> None:
        """A recorder could not write (most likely a full disk): prune now rather than in a minute."""
        if message is None:
            return

        def prune_now() -> None:
            try:
                report = self.retention.prune()
                if not report.full:  # space again: every recorder its own write failure paused goes on
                    for recorder in self.recorders.values():
                        if recorder.paused == DISK_FULL:
                            recorder.resume()
            finally:
                self._pruning.release()

        # Sixteen recorders hitting a full disk at once need one pass, not sixteen threads.
        if self._pruning.acquire(blocking=False):
            threading.Thread(target=prune_now, name="hallwatch-prune-now", daemon=True).start()
