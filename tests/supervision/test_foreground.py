"""Background threads give way to a busy GUI thread: bounded waits, a slice of their own after one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from supervision import foreground
from supervision.foreground import busy, give_way, gui_busy, idle


@pytest.fixture(autouse=True)
def gui_idle_after() -> Iterator[None]:
    yield
    while foreground._depth[0]:
        idle()


def _timed_give_way() -> float:
    t0 = time.monotonic()
    give_way()
    return time.monotonic() - t0


def test_without_a_busy_gui_giving_way_never_waits() -> None:
    waits = foreground.waited()[0]
    for _ in range(100_000):
        give_way()
    assert foreground.waited()[0] == waits


def test_a_thread_waits_while_the_gui_is_busy_and_goes_on_when_it_is_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    # the longest wait made long, so that only idle() can end it (on a loaded machine a thread can
    # be late by more than the product's 10 ms)
    monkeypatch.setattr(foreground, "MAX_WAIT_S", 5.0)
    busy()
    took: list[float] = []
    asking = threading.Event()

    def work() -> None:
        asking.set()
        took.append(_timed_give_way())

    worker = threading.Thread(target=work)
    worker.start()
    assert asking.wait(5)
    time.sleep(0.2)
    idle()
    worker.join(5)
    assert took and 0.1 <= took[0] < 2.0, took


def test_a_wait_is_bounded_and_then_the_thread_has_a_slice_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # a wait of 50 ms and a slice of 1 s: a thread late by a few ms (a loaded machine) changes nothing
    monkeypatch.setattr(foreground, "MAX_WAIT_S", 0.05)
    monkeypatch.setattr(foreground, "SLICE_S", 1.0)
    busy()  # and never idle: a GUI busy for long slows background work, never stops it
    results: list[tuple[float, float, float]] = []

    def work() -> None:
        first = _timed_give_way()
        second = _timed_give_way()  # within its slice: no wait
        time.sleep(1.5)
        third = _timed_give_way()  # the slice is over: waits again
        results.append((first, second, third))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    first, second, third = results[0]
    assert 0.045 <= first < 0.05 * 20
    assert second < 0.025
    assert 0.045 <= third < 0.05 * 20


def test_nested_busy_handlers_end_when_the_outer_one_does() -> None:
    busy()
    busy()
    idle()
    assert not foreground._idle.is_set()
    idle()
    assert foreground._idle.is_set()
    idle()  # one too many: still idle, and the next busy() counts from zero
    busy()
    idle()
    assert foreground._idle.is_set()
    with gui_busy():
        assert not foreground._idle.is_set()
    assert foreground._idle.is_set()
