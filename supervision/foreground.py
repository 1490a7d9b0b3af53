"""Background threads give way to a busy GUI thread (a cooperative priority for the GIL).

Python runs one thread at a time. While sync applies a page and the warning monitor re-judges what
it changed, their pure-Python loops want the GIL all the time; the GUI thread, handling a snapshot
or painting the video wall, then gets it only at every other switch (``sys.setswitchinterval``) and
its 30 ms of work take 100 ms or more: the window stalls. No thread priority exists for the GIL, so
the busy threads ask: :func:`give_way` between small units of their work (a record, a subject)
waits while the GUI thread runs a heavy handler, for at most :data:`MAX_WAIT_S`, and after a wait the
thread has :data:`SLICE_S` of its own whatever the GUI does (a GUI busy for long slows background
work, it never stops it).

The GUI thread says when it runs its heavy handlers — painting a table (each of the model's calls
from Qt's C++ otherwise lets a busy thread take the GIL for a switch interval) or the video wall,
handing a warning snapshot to the panels, taking what the reader thread read for a panel — with
:func:`busy` and :func:`idle` (nested calls count). Those handlers hold the GIL already when they
say so: saying it costs nothing, and background threads see it at their next :func:`give_way`
(sync's validation and apply loops, the warning monitor's load, judge and reconcile loops, and each
tile's display decoder before each packet: 16 decoders otherwise take the GIL from the GUI thread
while it paints their pictures). Qt's
event dispatcher's ``awake`` and ``aboutToBlock`` signals were tried instead: calling into Python
twice per turn of the event loop cost the GUI thread two more waits for the GIL per turn. Without
a GUI nothing ever says so, and :func:`give_way` costs one method call.

``benchmarks.gui_stalls``, four alternating pairs of runs on one machine (20 000 changes synced
while 16 tiles play), without → with: p99 gap 62 → 49, 50 → 32, 31 → 29, 39 → 24 ms; longest gap
446 → 190, 196 → 97, 235 → 121, 201 → 57 ms; the changes arrived as fast (13.9-16.6 s). The
display decoders giving way too, eight alternating pairs on another day (without → with): p99 gap
mean 20.9 → 19.6 ms, longest gap mean 91 → 75 ms (≤ 100 ms in 5 → 7 of 8 runs), every tile
24.3-25.0 fps either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["MAX_WAIT_S", "SLICE_S", "busy", "give_way", "gui_busy", "idle", "waited"]

MAX_WAIT_S: Final = 0.010  # the longest a background thread waits at one give_way()
SLICE_S: Final = 0.004  # after a wait: this long without waiting again

_idle = threading.Event()
_idle.set()
_local = threading.local()
_waits = [0]  # waits (all threads; for figures)
_waited = [0.0]  # seconds waited


_depth = [0]  # busy() calls not yet matched by idle() (GUI thread only)


def busy() -> None:
    """The GUI thread starts a heavy handler (GUI thread only; pair it with :func:`idle`)."""
    _depth[0] += 1
    _idle.clear()


def idle() -> None:
    """The GUI thread ended a heavy handler."""
    _depth[0] -= 1
    if _depth[0] <= 0:
        _depth[0] = 0
        _idle.set()


@contextmanager
def gui_busy() -> Iterator[None]:
    """``with gui_busy():`` around a heavy GUI-thread handler: :func:`busy`, then :func:`idle`."""
    busy()
    try:
        yield
    finally:
        idle()


def give_way() -> None:
    """Called by a background thread between small units of work: wait while the GUI thread is
    busy (bounded, see the module doc)."""
    if _idle.is_set():
        return
    now = time.monotonic()
    if now < getattr(_local, "until", 0.0):
        return
    _idle.wait(MAX_WAIT_S)
    end = time.monotonic()
    _local.until = end + SLICE_S
    _waits[0] += 1
    _waited[0] += end - now


def waited() -> tuple[int, float]:
    """How many times background threads waited for the GUI thread, and for how long in all."""
    return _waits[0], _waited[0]
