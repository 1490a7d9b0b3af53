"""The sync engine as a terminal service, built from the config's ``[server]`` section."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from supervision.config import Config
from supervision.ingest import ApplyReport
from supervision.store import Store
from sync.client import SyncClient
from sync.engine import HeartbeatInfo, SyncEngine, SyncStatus, utc_now

__all__ = ["SyncNotConfigured", "SyncService", "make_client", "make_engine"]

log = logging.getLogger(__name__)


class SyncNotConfigured(ValueError):
    """No server or no token: the message says what to set."""


def make_client(cfg: Config) -> SyncClient:
    """A client for ``[server]``, or :class:`SyncNotConfigured` naming what is missing."""
    server = cfg.server
    if not server.enabled:
        raise SyncNotConfigured("no server configured: set [server] url in the config file (--config FILE)")
    token = server.effective_token()
    if token is None:
        raise SyncNotConfigured(
            "no token for the server: set [server] token in the config file or the HALLWATCH_TOKEN variable"
        )
    return SyncClient(
        server.url,
        token.get_secret_value(),
        ca_bundle=str(server.ca_bundle) if server.ca_bundle else None,
        connect_timeout=server.connect_timeout,
        read_timeout=server.read_timeout,
    )


def make_engine(
    cfg: Config,
    store: Store,
    client: SyncClient,
    *,
    heartbeat_info: Callable[[], HeartbeatInfo] | None = None,
    on_applied: Callable[[ApplyReport, bool], None] | None = None,
    checkpoint: Callable[[str], None] | None = None,
    tz: ZoneInfo | None = None,
    clock: Callable[[], datetime] | None = None,
) -> SyncEngine:
    """The terminal's sync engine. ``clock``: the terminal's (its actions, heartbeats, audit and
    status times; the clock offset is measured against it); None: the wall clock."""
    return SyncEngine(
        store,
        client,
        terminal=cfg.terminal.name,
        interval=cfg.server.interval,
        tz=tz or cfg.zone,
        heartbeat_info=heartbeat_info,
        on_applied=on_applied,
        checkpoint=checkpoint,
        clock=clock or utc_now,
    )


class SyncService:
    """The engine's worker thread under the terminal's lifecycle; a Service named ``sync``."""

    name = "sync"

    def __init__(self, engine: SyncEngine) -> None:
        self.engine = engine

    def start(self) -> None:
        self.engine.start()

    def request_stop(self) -> None:
        """Interrupt waits between retries at once (a request in flight ends at its timeout)."""
        self.engine.request_stop()

    def stop(self, deadline: float) -> bool:
        """A request in flight ends at its read timeout at the latest; the wait stops at ``deadline``."""
        self.engine.stop(max(0.0, deadline - time.monotonic()))
        ok = not self.engine.is_running()
        self.engine.client.close()
        return ok

    def status(self) -> SyncStatus:
        return self.engine.status()

    def trigger(self) -> None:
        self.engine.trigger()
