"""The camera registry: exactly one :class:`video.Camera` per camera id.

Cameras come from the store's ``camera`` records that have a stream and from the config's
``[[cameras]]`` (the config wins for the same id). Each camera's single main :class:`~video.Source`
(and sub-stream source) is what every consumer subscribes to — display, recorder, relay,
analytics — so a camera shown and recorded is connected once. ``synthetic://`` addresses (the
demo hall's) are served by one in-process :class:`~video.synthetic.SyntheticCameraServer`.

:meth:`CameraRegistry.reload` re-reads the store after sync changed ``camera`` records: a camera
added is connected, one whose address changed is reconnected, one deleted is disconnected — the
others are not touched. Listeners hear of each change (the recorder follows them).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.service import remaining
from supervision.store import Store
from supervision.store.models import CameraRow
from video.camera import Camera, CameraConfig
from video.source import SourceOptions, SourceState, SourceStatus
from video.urls import SourceKind, kind_of

if TYPE_CHECKING:
    from video.synthetic import SyntheticCameraServer

__all__ = ["CameraChange", "CameraRegistry", "ChangeKind", "RegistryStatus", "cameras_from_store"]

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


class ChangeKind(StrEnum):
    ADDED = "added"
    REPLACED = "replaced"  # its address changed: a new connection (a new Camera object)
    REMOVED = "removed"
    RENAMED = "renamed"  # name or window changed: same connection


@dataclass(frozen=True, slots=True)
class CameraChange:
    kind: ChangeKind
    camera_id: str
    camera: Camera | None  # the new camera (None when removed)
    previous: Camera | None  # the camera it replaced or removed


@dataclass(frozen=True, slots=True)
class CameraState:
    id: str
    name: str
    window_id: str | None
    main: SourceStatus
    has_sub: bool

    @property
    def online(self) -> bool:
        return self.main.state is SourceState.LIVE


@dataclass(frozen=True, slots=True)
class RegistryStatus:
    cameras: tuple[CameraState, ...]

    @property
    def live(self) -> int:
        return sum(1 for c in self.cameras if c.online)


Listener = Callable[[CameraChange], None]


class CameraRegistry:
    """One camera object per id, built from the store and the config; a Service named ``cameras``."""

    name = "cameras"

    def __init__(
        self,
        store: Store,
        extra: Iterable[CameraConfig] = (),
        *,
        source_options: SourceOptions | None = None,
        synthetic: SyntheticCameraServer | None = None,
    ) -> None:
        """``synthetic``: a server for ``synthetic://`` addresses owned by the caller (the demo's,
        with its clock); without it the registry starts one of its own when a camera needs it."""
        self.store = store
        self.extra = list(extra)
        self.options = source_options or SourceOptions()
        self._synthetic = synthetic
        self._own_synthetic: SyntheticCameraServer | None = None
        self._lock = threading.RLock()
        self._configs: dict[str, CameraConfig] = {}  # as configured (synthetic:// unresolved)
        self._cameras: dict[str, Camera] = {}
        self._listeners: list[Listener] = []
        self._started = False
        self._stopping = threading.Event()  # a reload under way gives up at its next camera

    # -- the service ------------------------------------------------------------------------------
    def start(self) -> None:
        self._stopping.clear()
        with self._lock:
            self._started = True
        self.reload()

    def request_stop(self) -> None:
        """Ask every camera connection to end now (``stop`` joins them)."""
        self._stopping.set()
        with self._lock:
            cameras = list(self._cameras.values())
        for c in cameras:
            c.request_stop()

    def stop(self, deadline: float) -> bool:
        self._stopping.set()
        with self._lock:
            self._started = False
            cameras = list(self._cameras.values())
            self._cameras.clear()
            self._configs.clear()
        for c in cameras:  # every connection is asked at once: a silent camera does not delay the rest
            c.request_stop()
        # A connection to a synthetic camera that is still opening (FFmpeg reads the stream's first
        # second to probe it) sees the stop only once that is done — with the demo's cameras still
        # encoding live at start-up, 2.6 s of a 3 s stop. Its server ends those connections at once.
        synthetic = self._synthetic or self._own_synthetic
        if synthetic is not None:
            synthetic.disconnect(u for c in cameras for u in (c.config.url, c.config.sub_url) if u)
        ok = True
        for c in cameras:
            ok = c.stop(remaining(deadline)) and ok
        server, self._own_synthetic = self._own_synthetic, None
        if server is not None:
            server.stop()
        if not ok:
            log.warning("a camera connection is still blocked in the network; it ends at its socket timeout")
        return ok

    def status(self) -> RegistryStatus:
        with self._lock:
            cams = list(self._cameras.values())
        return RegistryStatus(
            tuple(CameraState(c.id, c.config.name, c.config.window_id, c.status(), c.has_sub) for c in cams)
        )

    # -- lookups ----------------------------------------------------------------------------------
    def get(self, camera_id: str) -> Camera | None:
        with self._lock:
            return self._cameras.get(camera_id)

    def cameras(self) -> list[Camera]:
        with self._lock:
            return list(self._cameras.values())

    def configs(self) -> Mapping[str, CameraConfig]:
        """The cameras as configured (addresses unresolved; never log them unmasked)."""
        with self._lock:
            return dict(self._configs)

    def add_listener(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # -- changes ----------------------------------------------------------------------------------
    def reload(self) -> list[CameraChange]:
        """Bring the cameras in line with the store and the config; only changed cameras reconnect."""
        wanted = {c.id: c for c in cameras_from_store(self.store, self.extra)}
        changes: list[CameraChange] = []
        stopping: list[Camera] = []
        with self._lock:
            if not self._started:
                return []
            for cid in list(self._configs):
                if cid not in wanted:
                    old = self._cameras.pop(cid)
                    del self._configs[cid]
                    stopping.append(old)
                    changes.append(CameraChange(ChangeKind.REMOVED, cid, None, old))
            for cid, cfg in wanted.items():
                if self._stopping.is_set():
                    break
                have = self._configs.get(cid)
                if have == cfg:
                    continue
                if have is not None and (have.url, have.sub_url) == (cfg.url, cfg.sub_url):
                    cam = self._cameras[cid]
                    cam.config = replace(cam.config, name=cfg.name, window_id=cfg.window_id)
                    self._configs[cid] = cfg
                    changes.append(CameraChange(ChangeKind.RENAMED, cid, cam, cam))
                    continue
                try:
                    cam = self._build(cfg)
                except ValueError as e:  # an address nothing can open: said once, the others go on
                    log.error("camera %s cannot be used: %s", cid, e)
                    continue
                replaced = self._cameras.get(cid)
                if replaced is not None:
                    stopping.append(replaced)
                self._cameras[cid] = cam
                self._configs[cid] = cfg
                cam.start()
                kind = ChangeKind.REPLACED if replaced is not None else ChangeKind.ADDED
                changes.append(CameraChange(kind, cid, cam, replaced))
            listeners = list(self._listeners)
        for change in changes:
            if self._stopping.is_set():
                break
            if change.kind is not ChangeKind.RENAMED:
                log.info("camera %s %s", change.camera_id, change.kind)
            for listener in listeners:
                try:
                    listener(change)
                except Exception:
                    log.exception("a listener of camera changes failed")
        deadline = time.monotonic() + 10
        for old in stopping:
            old.request_stop()
        for old in stopping:
            old.stop(remaining(deadline))
        return changes

    def _build(self, cfg: CameraConfig) -> Camera:
        url, sub = cfg.url, cfg.sub_url
        if kind_of(url) is SourceKind.SYNTHETIC or (sub is not None and kind_of(sub) is SourceKind.SYNTHETIC):
            server = self._synthetic_server()
            url = server.resolve(url)
            sub = server.resolve(sub) if sub is not None else None
        return Camera(CameraConfig(cfg.id, cfg.name, url, sub, cfg.window_id), self.options)

    def _synthetic_server(self) -> SyntheticCameraServer:
        if self._synthetic is not None:
            return self._synthetic
        if self._own_synthetic is None:
            from video.synthetic import SyntheticCameraServer

            server = SyntheticCameraServer({})
            server.start()
            self._own_synthetic = server
        return self._own_synthetic
