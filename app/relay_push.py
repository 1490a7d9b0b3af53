"""Scale-out through standard servers: every relayed camera handed once to nginx-rtmp or an HLS web server.

With ``[relay] push = "rtmp://HOST/live"`` each relayed camera is published to ``<push>/<camera_id>``
(H.264 only; another codec is refused with the reason in the status); with ``[relay] hls =
"http://HOST/hls"`` each is written as HLS under ``<hls>/<camera_id>/`` by HTTP ``PUT`` (any codec).
Both may be set. Leaders then pull from that server, which enforces access (README, "Scale-out
through nginx or a CDN"), however many they are: this terminal sends each camera once per way.

:class:`RelayPushService` follows the camera registry as recording does — a camera added is pushed,
one removed stops, one whose address changed is pushed from its new connection — and subscribes to
the registry camera's existing source (main, or sub per ``[relay] stream``): no connection of its own.

Its :attr:`~RelayPushService.url` goes in the heartbeat's ``relay_url``: a URL template with
``{camera_id}`` where a camera's id goes (:func:`stream_url` fills it in) — the HLS playlist when
``hls`` is set (every codec plays from it), else the RTMP stream.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit, urlunsplit

from app.cameras import CameraChange, CameraRegistry, ChangeKind
from app.service import remaining
from supervision.config import RelayConfig
from video.camera import Camera
from video.relay.hls import HlsOptions, HlsPush
from video.relay.push import Pusher, PushOptions, PushState, PushStatus, RtmpPush
from video.source import Source
from video.urls import mask_url

__all__ = ["CAMERA_ID", "RelayPushService", "RelayPushStatus", "pull_url", "stream_url"]

log = logging.getLogger(__name__)

CAMERA_ID = "{camera_id}"  # the placeholder in a pushed relay_url


def _public(url: str) -> str:
    """``url`` without user, password and query (a stream key or upload token is not for leaders)."""
    p = urlsplit(url)
    host = p.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{p.port}" if p.port else host
    return urlunsplit((p.scheme, netloc, p.path.rstrip("/"), "", ""))


def pull_url(cfg: RelayConfig) -> str | None:
    """The ``relay_url`` leaders pull from: ``<hls>/{camera_id}/index.m3u8`` when ``hls`` is set, else
    ``<push>/{camera_id}``; None when neither is."""
    if cfg.hls:
        return f"{_public(cfg.hls)}/{CAMERA_ID}/index.m3u8"
    if cfg.push:
        return f"{_public(cfg.push)}/{CAMERA_ID}"
    return None


def stream_url(relay_url: str, camera_id: str) -> str:
    """Where a leader opens ``camera_id`` given a terminal's ``relay_url``: a pushed relay's template
    (``{camera_id}`` in it) filled in, else the built-in relay's ``<relay_url><camera_id>.ts``."""
    cid = quote(camera_id, safe="")
    if CAMERA_ID in relay_url:
        return relay_url.replace(CAMERA_ID, cid)
    return f"{relay_url if relay_url.endswith('/') else relay_url + '/'}{cid}.ts"


@dataclass(frozen=True, slots=True)
class RelayPushStatus:
    url: str | None
    pushes: tuple[PushStatus, ...]  # one per camera and way

    def of(self, camera_id: str, kind: str | None = None) -> list[PushStatus]:
        return [p for p in self.pushes if p.camera_id == camera_id and (kind is None or p.kind == kind)]

    @property
    def live(self) -> int:
        return sum(1 for p in self.pushes if p.state is PushState.LIVE)


@dataclass
class _Pushed:
    camera: Camera
    source: Source
    pushers: list[Pusher]
    problems: list[PushStatus]  # ways that could not even start (a bad address), said in the status
    holds_sub: bool  # the camera's sub-stream is kept connected for this push (released when it ends)


class RelayPushService:
    """Pushes the relayed cameras to the configured servers; a Service named ``relay-push``."""

    name = "relay-push"

    def __init__(
        self,
        cfg: RelayConfig,
        registry: CameraRegistry,
        *,
        options: PushOptions | None = None,
        hls_options: HlsOptions | None = None,
    ) -> None:
        if not (cfg.push or cfg.hls):
            raise ValueError("[relay] sets neither push nor hls: nothing to push")
        self.cfg = cfg
        self.registry = registry
        self.options = options or PushOptions()
        self.hls_options = hls_options
        self._lock = threading.Lock()
        self._pushed: dict[str, _Pushed] = {}
        self._started = False

    @property
    def url(self) -> str:
        """The heartbeat's ``relay_url`` (see :func:`pull_url`)."""
        url = pull_url(self.cfg)
        assert url is not None
        return url

    # -- the service

    def start(self) -> None:
        with self._lock:
            self._started = True
        self.registry.add_listener(self._changed)
        for cam in self.registry.cameras():
            self._add(cam)
        ways = [mask_url(u) for u in (self.cfg.push, self.cfg.hls) if u]
        log.info("relay push: %d cameras to %s", len(self._pushed), " and ".join(ways))

    def request_stop(self) -> None:
        with self._lock:
            pushers = [p for e in self._pushed.values() for p in e.pushers]
        for p in pushers:
            p.request_stop()

    def stop(self, deadline: float) -> bool:
        self.registry.remove_listener(self._changed)
        with self._lock:
            self._started = False
            entries = list(self._pushed.values())
            self._pushed.clear()
        return self._stop_entries(entries, deadline)

    def status(self) -> RelayPushStatus:
        with self._lock:
            entries = list(self._pushed.values())
        pushes: list[PushStatus] = []
        for e in entries:
            pushes.extend(p.status() for p in e.pushers)
            pushes.extend(e.problems)
        return RelayPushStatus(pull_url(self.cfg), tuple(pushes))

    # -- cameras

    def _wanted(self, camera_id: str) -> bool:
        return self.cfg.cameras is None or camera_id in self.cfg.cameras

    def _add(self, cam: Camera) -> None:
        if not self._wanted(cam.id):
            return
        sub = cam.acquire_sub() if self.cfg.stream == "sub" else None  # counted with the tiles showing it
        entry = _Pushed(cam, sub or cam.main, [], [], holds_sub=sub is not None)
        source = entry.source
        ways: list[tuple[str, str]] = []
        if self.cfg.push:
            ways.append(("rtmp", self.cfg.push))
        if self.cfg.hls:
            ways.append(("hls", self.cfg.hls))
        for kind, base in ways:
            try:
                pusher: Pusher = (RtmpPush(source, cam.id, base, self.options) if kind == "rtmp"
                                  else HlsPush(source, cam.id, base, self.options, hls=self.hls_options))
            except ValueError as e:
                log.error("camera %s cannot be pushed to %s: %s", cam.id, mask_url(base), e)
                entry.problems.append(PushStatus(
                    camera_id=cam.id, kind=kind, target=mask_url(base), state=PushState.REFUSED, reason=str(e),
                    reconnects=0, bytes=0, packets=0, dropped=0, codec=None, since=time.time(),
                ))
                continue
            entry.pushers.append(pusher)
        with self._lock:
            if not self._started:
                if entry.holds_sub:
                    cam.release_sub()
                return
            old = self._pushed.pop(cam.id, None)
            self._pushed[cam.id] = entry
        if old is not None:
            self._stop_entries([old], time.monotonic() + 10)
        for p in entry.pushers:
            p.start()

    def _changed(self, change: CameraChange) -> None:
        if change.kind is ChangeKind.RENAMED:
            return
        if change.kind is ChangeKind.REMOVED or change.camera is None:
            with self._lock:
                old = self._pushed.pop(change.camera_id, None)
            if old is not None:
                self._stop_entries([old], time.monotonic() + 10)
            return
        self._add(change.camera)

    def _stop_entries(self, entries: list[_Pushed], deadline: float) -> bool:
        for e in entries:
            for p in e.pushers:
                p.request_stop()
        ok = True
        for e in entries:
            for p in e.pushers:
                ok = p.stop(remaining(deadline)) and ok
            e.problems[:] = [replace(s, state=PushState.STOPPED) for s in e.problems]
            if e.holds_sub:
                e.holds_sub = False
                e.camera.release_sub()
        return ok
