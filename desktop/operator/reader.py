"""The panels' background reader: store queries off the GUI thread, answers back on it.

A worker thread runs read-only queries, each in its own ``store.read()`` session, and delivers
the answer to the GUI thread through a queued signal. Long computations (a month's performance
over 100 000 cases takes seconds) are submitted with ``slow=True`` and run on a second worker, so
the quick questions of the other panels never queue behind them. Requests are keyed by *channel* (one per
panel or per question a panel asks): the newest request of a channel wins — a request still
waiting is replaced by a newer one of its channel, and the answer of a request that a newer one
has overtaken is dropped, so a panel never paints a stale answer over a fresh one.

A panel asks, then paints when the answer comes::

    reader.submit("queue", lambda s: queries.queue_stats(s, ...), self._show)

The workers are not daemons; :meth:`stop` joins them (call it before the store closes).

After a query, at most every ``trim_every`` seconds (:data:`TRIM_EVERY`), and at once after a
query that ran :data:`LONG_QUERY_S` or more (the performance figures, a full read of the warnings'
words: they free tens of megabytes at once), a worker gives the memory the process freed back to
the system (:func:`app.runtime.release_free_memory`): the warning monitor's passes and the panels'
big reads free hundreds of thousands of blocks, and the holes they leave would otherwise stay
resident. A worker does it because it may take some milliseconds (never the GUI thread), and the
panels' queries follow every new warning snapshot.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from sqlalchemy.orm import Session

from app.runtime import release_free_memory
from supervision import foreground
from supervision.store import Store

__all__ = ["Reader", "ReaderStats"]

log = logging.getLogger(__name__)

TRIM_EVERY = 10.0  # seconds
LONG_QUERY_S = 1.0  # a query that ran this long gives the memory freed back at once

Query = Callable[[Session], Any]
OnResult = Callable[[Any], None]
OnError = Callable[[str], None]


@dataclass(slots=True)
class _Request:
    id: int
    channel: str
    query: Query
    on_result: OnResult
    on_error: OnError | None


@dataclass(frozen=True, slots=True)
class ReaderStats:
    """How the reader has fared: answers delivered, dropped as stale, failed; the last query's time
    per channel (ms, on the worker, excluding the wait in the queue)."""

    delivered: int
    superseded: int
    failed: int
    last_ms: dict[str, float]


class Reader(QObject):
    """Worker threads for the panels' queries (one for quick ones, one for slow ones, started when
    first needed); answers are delivered on the GUI thread."""

    # (request id, channel, ok, payload, elapsed ms) — emitted on the worker, received queued.
    _answered = Signal(object)
    #: channel, elapsed ms — after each answer delivered (for figures and tests)
    delivered = Signal(str, float)

    def __init__(self, store: Store, parent: QObject | None = None, *, trim_every: float = TRIM_EVERY,
                 long_query: float = LONG_QUERY_S) -> None:
        super().__init__(parent)
        self.store = store
        self.trim_every = trim_every
        self.long_query = long_query
        self._cond = threading.Condition()
        self._pending: dict[str, OrderedDict[str, _Request]] = {"fast": OrderedDict(), "slow": OrderedDict()}
        self._latest: dict[str, int] = {}  # channel → id of its newest request
        self._callbacks: dict[int, _Request] = {}
        self._next_id = 0
        self._stopping = False
        self._started = False
        self._threads: dict[str, threading.Thread] = {}
        self._delivered = self._superseded = self._failed = 0
        self._last_ms: dict[str, float] = {}
        self._trimmed_at = time.monotonic()
        self.trims = 0  # times the workers gave freed memory back
        self._answered.connect(self._deliver)

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the quick worker (the slow one starts with the first slow request)."""
        if self._started:
            return
        with self._cond:
            self._stopping = False
        self._started = True
        self._ensure("fast")

    def _ensure(self, lane: str) -> None:
        if self._started and lane not in self._threads:
            t = threading.Thread(target=self._run, args=(lane,), name=f"hallwatch-panel-reader-{lane}")
            self._threads[lane] = t
            t.start()

    def stop(self, timeout: float = 5.0) -> bool:
        """Drop what waits, let the queries under way finish, join the workers. True when they ended."""
        with self._cond:
            self._stopping = True
            for q in self._pending.values():
                q.clear()
            self._cond.notify_all()
        self._started = False
        threads, self._threads = list(self._threads.values()), {}
        deadline = time.monotonic() + timeout
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    @property
    def running(self) -> bool:
        return self._started

    def stats(self) -> ReaderStats:
        return ReaderStats(self._delivered, self._superseded, self._failed, dict(self._last_ms))

    # -- asking ----------------------------------------------------------------------------------
    def submit(self, channel: str, query: Query, on_result: OnResult, on_error: OnError | None = None, *,
               slow: bool = False) -> int:
        """Queue ``query(session)`` on ``channel`` (GUI thread); ``on_result(answer)`` or
        ``on_error(words)`` runs later on the GUI thread unless a newer request of the channel
        overtook it. ``slow``: a computation of seconds, run on the second worker (a channel is
        always quick or always slow). Returns the request id."""
        self._next_id += 1
        req = _Request(self._next_id, channel, query, on_result, on_error)
        lane = "slow" if slow else "fast"
        with self._cond:
            old = self._pending[lane].pop(channel, None)
            if old is not None:
                self._callbacks.pop(old.id, None)
                self._superseded += 1
            self._pending[lane][channel] = req
            self._latest[channel] = req.id
            self._callbacks[req.id] = req
            self._cond.notify_all()
        self._ensure(lane)
        return req.id

    def pending(self, channel: str) -> bool:
        """A request of ``channel`` is waiting or running (its answer not delivered yet)."""
        rid = self._latest.get(channel)
        return rid is not None and rid in self._callbacks

    def cancel(self, channel: str) -> None:
        """Forget the channel's request: its answer, if it comes, is dropped."""
        with self._cond:
            for q in self._pending.values():
                old = q.pop(channel, None)
                if old is not None:
                    self._callbacks.pop(old.id, None)
        rid = self._latest.pop(channel, None)
        if rid is not None:
            self._callbacks.pop(rid, None)

    # -- the worker ------------------------------------------------------------------------------
    def _run(self, lane: str) -> None:
        pending = self._pending[lane]
        while True:
            with self._cond:
                while not pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                _, req = pending.popitem(last=False)
            t0 = time.perf_counter()
            try:
                with self.store.read() as s:
                    answer = req.query(s)
                ok = True
            except Exception as e:  # a failed query is reported to its panel, never raised here
                log.exception("panel query on %s failed", req.channel)
                answer, ok = f"{type(e).__name__}: {e}", False
            elapsed = (time.perf_counter() - t0) * 1000
            if self._is_stopping():
                return
            try:
                self._answered.emit((req.id, req.channel, ok, answer, elapsed))
            except RuntimeError:  # the reader's QObject is gone (the window closed meanwhile)
                return
            del answer, req
            self._trim(long=elapsed >= self.long_query * 1000)

    def _trim(self, *, long: bool = False) -> None:
        with self._cond:
            now = time.monotonic()
            if now - self._trimmed_at < self.trim_every and not long:
                return
            self._trimmed_at = now
        t0 = time.perf_counter()
        released = release_free_memory()
        self.trims += 1
        log.debug("freed memory given back (%s) in %.1f ms", released, (time.perf_counter() - t0) * 1000)

    def _is_stopping(self) -> bool:
        with self._cond:
            return self._stopping

    def _deliver(self, msg: tuple[int, str, bool, Any, float]) -> None:
        rid, channel, ok, answer, elapsed = msg
        req = self._callbacks.pop(rid, None)
        if req is None or self._latest.get(channel) != rid:
            self._superseded += 1
            return
        self._last_ms[channel] = elapsed
        if ok:
            self._delivered += 1
            try:
                with foreground.gui_busy():  # a panel takes the answer: background threads give way meanwhile
                    req.on_result(answer)
            except Exception:
                log.exception("painting the answer of %s failed", channel)
        else:
            self._failed += 1
            if req.on_error is not None:
                req.on_error(str(answer))
        self.delivered.emit(channel, elapsed)
