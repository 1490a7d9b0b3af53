"""One lifecycle for every background service of a running terminal.

A service has a ``name``, ``start()``, ``stop(deadline) -> bool`` and a frozen ``status()``.
``deadline`` is an instant on ``time.monotonic()``'s clock: a service stops its threads and joins
them before it, and returns False when something was still running when it passed (it is then
named in the log; the process may still exit, since the remaining thread is bounded by its own
timeout — see each service). A :class:`ServiceGroup` starts services in order and stops them in
reverse within one deadline, as Frigate's ``app.py`` does for its subsystems.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = ["Service", "ServiceGroup", "StoppableThread", "join_until", "remaining"]

log = logging.getLogger(__name__)


@runtime_checkable
class Service(Protocol):
    """A background part of the terminal: started once, stopped once, observable at any time."""

    @property
    def name(self) -> str: ...

    def start(self) -> None: ...

    def stop(self, deadline: float) -> bool:
        """Stop and join every thread before ``deadline`` (``time.monotonic()``); True when all ended."""
        ...

    def status(self) -> Any:
        """A frozen value describing the service now (safe to hand to another thread)."""
        ...


def remaining(deadline: float) -> float:
    """Seconds left until ``deadline`` on the monotonic clock (never negative)."""
    return max(0.0, deadline - time.monotonic())


def join_until(threads: Iterable[threading.Thread | None], deadline: float) -> bool:
    """Join every thread before ``deadline``; True when all have ended."""
    ok = True
    for t in threads:
        if t is None or t is threading.current_thread():
            continue
        t.join(remaining(deadline))
        if t.is_alive():
            log.warning("thread %s still running at the stop deadline", t.name)
            ok = False
    return ok


class StoppableThread:
    """A non-daemon worker thread looping ``while not stop.wait(interval)`` (Frigate's shape)."""

    def __init__(self, name: str, target: Callable[[threading.Event], None]) -> None:
        self.stop_event = threading.Event()
        self._thread = threading.Thread(target=target, args=(self.stop_event,), name=name)

    def start(self) -> None:
        self._thread.start()

    def stop(self, deadline: float) -> bool:
        self.stop_event.set()
        if not self._thread.is_alive() and self._thread.ident is None:
            return True
        return join_until([self._thread], deadline)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


@dataclass(frozen=True, slots=True)
class GroupStatus:
    running: bool
    services: tuple[tuple[str, Any], ...]


class ServiceGroup:
    """Services started in order and stopped in reverse order within one deadline."""

    def __init__(self, services: Iterable[Service] = ()) -> None:
        self._services: list[Service] = list(services)
        self._started: list[Service] = []
        self._lock = threading.Lock()

    def add(self, service: Service) -> None:
        """Add a service; when the group is already running it is started at once."""
        with self._lock:
            self._services.append(service)
            running = bool(self._started)
        if running:
            service.start()
            with self._lock:
                self._started.append(service)

    def __iter__(self) -> Iterator[Service]:
        return iter(list(self._services))

    def get(self, name: str) -> Service | None:
        return next((s for s in self._services if s.name == name), None)

    def start(self) -> None:
        """Start every service in order; when one fails, the ones started are stopped again."""
        for s in self._services:
            try:
                s.start()
            except BaseException:
                log.exception("service %s failed to start", s.name)
                self.stop(time.monotonic() + 10)
                raise
            with self._lock:
                self._started.append(s)
            log.debug("service %s started", s.name)

    def stop(self, deadline: float) -> bool:
        """Stop the started services in reverse order; True when every one stopped in time.

        Services with a ``request_stop()`` are first all asked to stop at once (threads blocked on
        the network start winding down in parallel), then each is stopped and joined in turn."""
        with self._lock:
            started, self._started = self._started, []
        for s in reversed(started):
            request = getattr(s, "request_stop", None)
            if callable(request):
                try:
                    request()
                except Exception:
                    log.exception("service %s failed to begin stopping", s.name)
        ok = True
        for s in reversed(started):
            try:
                stopped = s.stop(deadline)
            except Exception:
                log.exception("service %s failed to stop", s.name)
                stopped = False
            if not stopped:
                log.warning("service %s did not stop within the deadline", s.name)
                ok = False
        return ok

    def status(self) -> GroupStatus:
        with self._lock:
            running = bool(self._started)
        return GroupStatus(running, tuple((s.name, s.status()) for s in self._services))
