"""Work off the GUI thread: ``run_in_background(fn, on_result)`` runs ``fn`` on a worker thread and
hands the result (or the error in words) back on the GUI thread. The GUI never waits on the disk,
the network or a long query."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

__all__ = ["Background"]

log = logging.getLogger(__name__)


class Background(QObject):
    """One worker thread per call (short-lived reads); results come back through a queued signal."""

    finished = Signal(object, object, object)  # callback, result, error text

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.finished.connect(self._deliver)
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def run(
        self, fn: Callable[[], Any], on_result: Callable[[Any, str | None], None], *, name: str = "gui-task"
    ) -> None:
        """``on_result(result, error)`` is called on the GUI thread; ``error`` is None on success."""

        def work() -> None:
            try:
                result, error = fn(), None
            except Exception as e:  # shown in words by the caller; the traceback goes to the log
                log.exception("background task %s failed", name)
                result, error = None, f"{type(e).__name__}: {e}"
            with contextlib.suppress(RuntimeError):  # the receiver is gone (the window closed meanwhile)
                self.finished.emit(on_result, result, error)
            with self._lock:
                self._threads.discard(threading.current_thread())

        t = threading.Thread(target=work, name=f"hallwatch-{name}")
        with self._lock:
            self._threads.add(t)
        t.start()

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the tasks still running (on close)."""
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout)

    def _deliver(self, callback: Callable[[Any, str | None], None], result: Any, error: str | None) -> None:
        callback(result, error)
