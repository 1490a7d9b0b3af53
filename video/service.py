"""The recording service: a recorder per camera on the camera's own source, retention, one stop.

It opens no connection itself: the caller (``app``'s terminal) hands it each camera's main
:class:`~video.source.Source` — the same one the display, relay and analytics subscribe to — with
:meth:`RecordingService.add`, and takes it away with :meth:`RecordingService.remove`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from supervision.store import Store
from video.footage import FootageIndex
from video.recorder import DISK_FULL, Recorder, RecorderOptions, RecorderPool, RecorderStatus
from video.retention import Retention, RetentionPolicy, SystemWarning
from video.source import Source

__all__ = ["RecordingService"]


def _utc_now() -> datetime:
    return datetime.now(UTC)

log = logging.getLogger(__name__)


class RecordingService:
    """Recorders, one shared writer thread and retention for a changing set of cameras."""

    def __init__(
        self,
        store: Store,
        footage_root: Path,
        *,
        recorder_options: RecorderOptions | None = None,
        policy: RetentionPolicy | None = None,
        retention_interval: float = 60.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock``: retention's clock (the demo's; by default the wall clock)."""
        self.store = store
        self.index = FootageIndex(store, footage_root)
        self._recorder_options = recorder_options or RecorderOptions()
        self._retention_interval = retention_interval
        self._windows: dict[str, str | None] = {}
        self.retention = Retention(self.index, policy, camera_windows=self._windows, on_full=self._on_full,
                                   clock=clock or _utc_now)
        self.pool = RecorderPool(self._recorder_options.batch_seconds)  # one writer thread for every camera
        self.recorders: dict[str, Recorder] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # stop, or a recorder's write failed: prune now
        self._retention_thread: threading.Thread | None = None

    def start(self) -> None:
        """Recover what a crash left open (every camera, before anything is written); start retention."""
        self.index.root.mkdir(parents=True, exist_ok=True)
        self.index.recover()
        self._stop.clear()
        self._wake.clear()
        self._retention_thread = threading.Thread(target=self._retention_loop, name="hallwatch-retention")
        self._retention_thread.start()
        log.info("recording into %s", self.index.root)

    def add(self, camera_id: str, source: Source, window_id: str | None = None) -> Recorder:
        """Record ``source`` as ``camera_id`` (replacing a recorder of the same id)."""
        self.remove(camera_id)
        recorder = Recorder(source, camera_id, self.index, self._recorder_options, on_problem=self._on_problem,
                            pool=self.pool)
        with self._lock:
            self.recorders[camera_id] = recorder
            self._windows[camera_id] = window_id
            self.retention.set_camera_window(camera_id, window_id)
        recorder.start()
        if self.retention.system_warning is not None:
            recorder.pause("the disk is full of held footage")
        return recorder

    def remove(self, camera_id: str) -> None:
        """Stop recording a camera: its open segment is closed, indexed and hashed."""
        with self._lock:
            recorder = self.recorders.pop(camera_id, None)
        if recorder is not None:
            recorder.stop()

    def stop(self, deadline: float | None = None) -> bool:
        """Stop everything; every open segment is closed, indexed and hashed. True when every thread
        ended before ``deadline`` (``time.monotonic()``; None: 10 s)."""
        deadline = deadline if deadline is not None else time.monotonic() + 10
        self._stop.set()
        self._wake.set()
        with self._lock:
            recorders = list(self.recorders.values())
            self.recorders.clear()
        # Closing a segment fsyncs and hashes its file: dozens of cameras close side by side, not in turn.
        if len(recorders) > 1:
            with ThreadPoolExecutor(max_workers=min(8, len(recorders)), thread_name_prefix="hallwatch-close") as pool:
                list(pool.map(Recorder.stop, recorders))
        else:
            for recorder in recorders:
                recorder.stop()
        ok = self.pool.stop(max(0.0, deadline - time.monotonic()))
        t = self._retention_thread
        if t is not None:  # a pass is bounded by the footage's size; it ends at once after
            t.join(max(0.0, deadline - time.monotonic()))
            ok = ok and not t.is_alive()
            self._retention_thread = None
        log.info("recording stopped")
        return ok

    def status(self) -> list[RecorderStatus]:
        with self._lock:
            recorders = list(self.recorders.values())
        return [r.status() for r in recorders]

    @property
    def system_warning(self) -> SystemWarning | None:
        return self.retention.system_warning

    def _on_full(self, warning: SystemWarning | None) -> None:
        with self._lock:
            recorders = list(self.recorders.values())
        for recorder in recorders:
            if warning is not None:
                recorder.pause("the disk is full of held footage")
            else:
                recorder.resume()

    @property
    def retention_interval(self) -> float:
        """How often retention runs: at most one segment length, so free space is kept ahead of the
        recorders (each pass leaves room for one more segment of every camera) and recording
        resumes within a segment length of space returning."""
        return max(0.05, min(self._retention_interval, self._recorder_options.segment_seconds))

    def _retention_loop(self) -> None:
        interval = self.retention_interval
        while not self._stop.is_set():
            self._wake.clear()  # a failure from here on wakes the next wait at once
            try:
                report = self.retention.prune()
            except Exception:
                log.exception("retention pass failed; trying again in %.0f s", interval)
            else:
                if not report.full:  # space again: every recorder its own write failure paused goes on
                    with self._lock:
                        recorders = list(self.recorders.values())
                    for recorder in recorders:
                        if recorder.paused == DISK_FULL:
                            recorder.resume()
            self._wake.wait(interval)

    def _on_problem(self, camera_id: str, message: str | None) -> None:
        """A recorder could not write (most likely a full disk): prune now rather than at the next pass.

        Sixteen recorders hitting a full disk at once wake the one retention thread once.
        """
        if message is not None:
            self._wake.set()
