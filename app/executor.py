"""User actions on one writer thread: the GUI never waits on the database (Anki's ``CollectionOp``).

``ActionExecutor.submit(work, on_done)`` runs ``work()`` on the executor's thread, in the order
submitted, and then calls ``on_done(outcome)`` there — a GUI re-posts it to its own thread. An
:class:`Outcome` carries the result or the error in words (a rejected action says why); nothing
an action raises reaches the caller's thread as a traceback.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.service import join_until

__all__ = ["ActionExecutor", "ExecutorStatus", "Outcome"]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What an action came to: ``value`` when it succeeded, else ``error`` (words) and ``code``."""

    name: str
    value: T | None = None
    error: str | None = None
    code: str | None = None  # the error's kind, for the desktop to word: "rejected", "failed"

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ExecutorStatus:
    pending: int
    done: int
    failed: int


_Job = tuple[str, Callable[[], Any], Callable[[Outcome[Any]], None] | None, "Future[Outcome[Any]]"]


class ActionExecutor:
    """The terminal's single writer for user actions; a Service named ``actions``."""

    name = "actions"

    def __init__(self, *, rejected: tuple[type[BaseException], ...] = (ValueError,)) -> None:
        """``rejected``: exception types that mean "the action does not fit" (shown as the reason),
        not a failure (logged with its traceback)."""
        self._rejected = rejected
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._done = self._failed = 0
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        if self._thread is not None:
            return
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hallwatch-actions")
        self._thread.start()

    def stop(self, deadline: float) -> bool:
        """Finish the actions already submitted (each is one short transaction), then end."""
        with self._lock:
            self._closed = True
        thread, self._thread = self._thread, None
        if thread is None:
            return True
        self._queue.put(None)
        return join_until([thread], deadline)

    def status(self) -> ExecutorStatus:
        with self._lock:
            return ExecutorStatus(self._queue.qsize(), self._done, self._failed)

    def submit(
        self, name: str, work: Callable[[], T], on_done: Callable[[Outcome[T]], None] | None = None
    ) -> Future[Outcome[T]]:
        """Queue ``work``; ``on_done(outcome)`` runs on the executor thread when it is done."""
        future: Future[Outcome[T]] = Future()
        with self._lock:
            if self._closed or self._thread is None:
                outcome: Outcome[T] = Outcome(name, error="the terminal is stopping", code="stopped")
                future.set_result(outcome)
                if on_done is not None:
                    on_done(outcome)
                return future
            self._queue.put((name, work, on_done, future))
        return future

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            name, work, on_done, future = job
            try:
                outcome: Outcome[Any] = Outcome(name, value=work())
            except self._rejected as e:
                outcome = Outcome(name, error=str(e), code="rejected")
                log.info("action %s rejected: %s", name, e)
            except Exception as e:
                outcome = Outcome(name, error=f"{type(e).__name__}: {e}", code="failed")
                log.exception("action %s failed", name)
            with self._lock:
                if outcome.ok:
                    self._done += 1
                else:
                    self._failed += 1
            future.set_result(outcome)
            if on_done is not None:
                try:
                    on_done(outcome)
                except Exception:
                    log.exception("the completion callback of %s failed", name)
