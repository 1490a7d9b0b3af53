"""The terminal's video relay: its cameras served to leaders' terminals (``[relay]`` in the config).

:class:`RelayService` runs a :class:`video.relay.RelayServer` on the registry's cameras: one
upstream per camera (the registry camera's main — or sub, per ``stream`` — source, which every
consumer shares), cameras added, replaced and removed by the registry followed live.

:class:`TokenChecker` decides what a viewer's token may watch: one of the config's local
``tokens`` sees every relayed camera; any other token is asked of the central server
(``GET /api/v1/me``), the answer cached for 60 s, and only cameras whose hall lies inside the
token's scope (the org unit tree in the store) are served. An unknown token is refused (401). While
the server cannot be reached, a token it confirmed within the last hour is still served; otherwise
the viewer gets 503 with the reason. Tokens are kept only as SHA-256 digests and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.cameras import CameraChange, CameraRegistry, ChangeKind
from app.service import remaining
from supervision.config import Config, RelayConfig
from supervision.store import Store
from supervision.store.models import CameraRow, OrgUnit, Window
from sync.client import Me, SyncClient, SyncError, Unauthorized
from video.camera import Camera
from video.relay import Access, AccessCheck, RelayedCamera, RelayServer, RelayStatus
from video.relay import Unauthorized as RelayUnauthorized
from video.relay import Unavailable as RelayUnavailable

__all__ = ["RelayService", "TokenChecker", "cameras_in_scope", "relay_url", "server_lookup"]

log = logging.getLogger(__name__)

ME_TTL = 60.0  # seconds a /me answer is trusted
OFFLINE_GRACE = 3600.0  # while the server is unreachable, a token confirmed this recently is still served
SCOPE_TTL = 5.0  # seconds the camera → hall → org unit map is reused


def relay_url(cfg: RelayConfig) -> str:
    """What goes in the heartbeat's ``relay_url``: ``public_url``, else the address bound."""
    if cfg.public_url:
        return cfg.public_url
    host = f"[{cfg.bind}]" if ":" in cfg.bind else cfg.bind
    return f"http://{host}:{cfg.port}/live/"


def cameras_in_scope(store: Store, scope: str, extra_windows: dict[str, str | None] | None = None) -> frozenset[str]:
    """Ids of the cameras whose hall lies inside the org unit ``scope``'s subtree.

    A camera's hall is its record's ``hall_id``, else its window's; ``extra_windows`` gives the window
    of cameras that exist only in the config (``[[cameras]] window_id``)."""
    with store.read() as s:
        parents = {o.id: o.parent_id for o in s.scalars(select(OrgUnit).where(OrgUnit.deleted.is_(False)))}
        window_hall = {w.id: w.hall_id for w in s.scalars(select(Window).where(Window.deleted.is_(False)))}
        camera_hall: dict[str, str | None] = {}
        for c in s.scalars(select(CameraRow).where(CameraRow.deleted.is_(False))):
            camera_hall[c.id] = c.hall_id or window_hall.get(c.window_id or "")
    for cid, window in (extra_windows or {}).items():
        if camera_hall.get(cid) is None and window:
            camera_hall[cid] = window_hall.get(window)
    inside: dict[str, bool] = {}

    def within(org: str | None) -> bool:
        seen: list[str] = []
        found = False
        while org is not None and org not in seen:
            if org in inside:
                found = inside[org]
                break
            seen.append(org)
            if org == scope:
                found = True
                break
            org = parents.get(org)
        for o in seen:
            inside[o] = found
        return found

    return frozenset(cid for cid, hall in camera_hall.items() if hall is not None and within(hall))


def server_lookup(cfg: Config) -> Callable[[str], Me] | None:
    """``token → Me`` asking the central server of ``cfg`` (None when this terminal has no server).

    Quick timeouts and no retries: a viewer is waiting, and an unreachable server falls back to the
    tokens confirmed within the hour."""
    if not cfg.server.enabled:
        return None
    server = cfg.server
    bundle = str(server.ca_bundle) if server.ca_bundle else None

    def lookup(token: str) -> Me:
        client = SyncClient(server.url, token, ca_bundle=bundle, connect_timeout=min(server.connect_timeout, 3.0),
                            read_timeout=5.0, retries=0, total_timeout=8.0)
        try:
            return client.me()
        finally:
            client.close()

    return lookup


@dataclass(slots=True)
class _Known:
    me: Me
    checked: float  # monotonic time of the last answer from the server
    confirmed: float  # monotonic time the server last confirmed the token


class TokenChecker:
    """``token → Access`` for the relay (see the module's docstring); thread-safe."""

    def __init__(
        self,
        local_tokens: Iterable[str],
        store: Store,
        lookup: Callable[[str], Me] | None,
        *,
        config_windows: Callable[[], dict[str, str | None]] = dict,
        ttl: float = ME_TTL,
        grace: float = OFFLINE_GRACE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = [_digest(t) for t in local_tokens if t]
        self._store = store
        self._lookup = lookup
        self._config_windows = config_windows
        self._ttl, self._grace, self._clock = ttl, grace, clock
        self._lock = threading.Lock()
        self._known: dict[bytes, _Known] = {}
        self._scopes: dict[str, tuple[float, frozenset[str]]] = {}

    def __call__(self, token: str | None) -> Access:
        if not token:
            raise RelayUnauthorized("send a token: Authorization: Bearer <token> or ?token=<token>")
        digest = _digest(token)
        if any(hmac.compare_digest(digest, d) for d in self._local):
            return Access(None, "local token")
        me = self._me(token, digest)
        allowed = self._cameras(me.scope)
        return Access(allowed.__contains__, f"{me.terminal} ({me.role}, scope {me.scope})")

    def _me(self, token: str, digest: bytes) -> Me:
        now = self._clock()
        with self._lock:
            known = self._known.get(digest)
        if known is not None and now - known.checked < self._ttl:
            return known.me
        if self._lookup is None:
            raise RelayUnauthorized("unknown token (this relay has no central server to check it with)")
        try:
            me = self._lookup(token)
        except Unauthorized:
            with self._lock:
                self._known.pop(digest, None)
            raise RelayUnauthorized("unknown or revoked token") from None
        except SyncError as e:
            reason = str(e).replace(token, "***")
            if known is not None and now - known.confirmed < self._grace:
                log.warning("relay: the central server cannot confirm a token (%s); serving %s, confirmed %.0f s ago",
                            reason, known.me.terminal, now - known.confirmed)
                with self._lock:
                    known.checked = now - self._ttl + min(self._ttl, 10.0)  # ask again in 10 s, not at once
                return known.me
            raise RelayUnavailable(f"the central server cannot check the token: {reason}") from None
        with self._lock:
            self._known[digest] = _Known(me, now, now)
            # forget what the grace no longer covers
            for d in [d for d, k in self._known.items() if now - k.confirmed >= self._grace]:
                del self._known[d]
        return me

    def _cameras(self, scope: str) -> frozenset[str]:
        now = self._clock()
        with self._lock:
            cached = self._scopes.get(scope)
        if cached is not None and now - cached[0] < SCOPE_TTL:
            return cached[1]
        allowed = cameras_in_scope(self._store, scope, self._config_windows())
        with self._lock:
            self._scopes[scope] = (now, allowed)
        return allowed


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class RelayService:
    """The relay as a terminal service (name ``relay``): a RelayServer following the camera registry."""

    name = "relay"

    def __init__(
        self,
        cfg: RelayConfig,
        registry: CameraRegistry,
        access: AccessCheck,
        *,
        max_queue_bytes: int = 4 * 2**20,
        linger: float | None = None,
    ) -> None:
        """``linger``: None (the default) muxes every relayed camera all the time — about 0.1 % of a core
        per camera, measured — so any viewer joins a running mux; seconds: a camera is muxed only while
        watched and that long after."""
        self.cfg = cfg
        self.registry = registry
        self.server = RelayServer(access, host=cfg.bind, port=cfg.port, max_queue_bytes=max_queue_bytes,
                                  linger=linger)
        self._wanted = None if cfg.cameras is None else frozenset(cfg.cameras)
        self._lock = threading.Lock()
        self._subs_held: dict[str, Camera] = {}  # cameras whose sub-stream the relay keeps connected

    @classmethod
    def from_config(cls, cfg: Config, registry: CameraRegistry, store: Store) -> RelayService:
        """The relay of ``cfg.relay``, checking tokens locally and with ``cfg.server``."""
        assert cfg.relay is not None

        def config_windows() -> dict[str, str | None]:
            return {c.id: c.window_id for c in registry.configs().values()}

        checker = TokenChecker([t.get_secret_value() for t in cfg.relay.tokens], store, server_lookup(cfg),
                               config_windows=config_windows)
        return cls(cfg.relay, registry, checker)

    @property
    def url(self) -> str:
        """The address leaders use (``public_url``, or the address bound)."""
        return relay_url(self.cfg)

    def start(self) -> None:
        self.server.start()
        self.registry.add_listener(self._changed)
        for cam in self.registry.cameras():
            self._set(cam)
        log.info("relay serving %d cameras at %s", len(self.server.cameras()), self.url)

    def request_stop(self) -> None:
        self.server.request_stop()

    def stop(self, deadline: float) -> bool:
        self.registry.remove_listener(self._changed)
        ok = self.server.stop(remaining(deadline))
        with self._lock:
            held, self._subs_held = list(self._subs_held.values()), {}
        for cam in held:
            cam.release_sub()
        return ok

    def status(self) -> RelayStatus:
        return self.server.status()

    def _changed(self, change: CameraChange) -> None:
        if change.kind is ChangeKind.REMOVED:
            self._release(change.camera_id)
            self.server.remove_camera(change.camera_id)
        elif change.camera is not None:
            if change.kind is ChangeKind.REPLACED:
                self._release(change.camera_id)
            self._set(change.camera)

    def _set(self, cam: Camera) -> None:
        if self._wanted is not None and cam.id not in self._wanted:
            return
        # One stream per camera: with "main" its sub-stream is not relayed besides (holding every
        # camera's second connection made the workstation's start-up heavy enough to stall its window).
        source = cam.main
        if self.cfg.stream == "sub" and cam.sub is not None:
            with self._lock:
                held = self._subs_held.get(cam.id)
            if held is not cam:
                sub = cam.acquire_sub()
                with self._lock:
                    self._subs_held[cam.id] = cam
                assert sub is not None
            source = cam.sub
        c = cam.config
        self.server.set_camera(RelayedCamera(cam.id, c.name, c.window_id, source))

    def _release(self, camera_id: str) -> None:
        with self._lock:
            cam = self._subs_held.pop(camera_id, None)
        if cam is not None:
            cam.release_sub()
