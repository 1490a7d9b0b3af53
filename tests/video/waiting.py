"""Helpers shared by the video tests: quick source options, and polling (the tests wait on threads,
never on a fixed sleep)."""

from __future__ import annotations

import time
from collections.abc import Callable

from video.source import MediaPacket, SourceOptions, Subscription

# Quicker to give up and to retry than the application's defaults (``source_factory``'s default).
FAST = SourceOptions(open_timeout=4.0, stall_after=2.0, backoff_initial=0.3, backoff_max=1.0)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Whether ``predicate()`` became true within ``timeout`` seconds (checked once more at the end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def take(sub: Subscription, n: int, timeout: float) -> list[MediaPacket]:
    """Up to ``n`` packets from ``sub``, waiting at most ``timeout`` seconds in all."""
    got: list[MediaPacket] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        p = sub.get(0.1)
        if p is not None:
            got.append(p)
    return got
