"""The sync client's words for a lying or silent peer (issue 13 item 15), against real sockets."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from sync.client import Offline, ProtocolError, SyncClient
from tests.video.camera_servers import GarbageServer, SilentServer


@pytest.fixture
def garbage() -> Iterator[GarbageServer]:
    with GarbageServer() as s:
        yield s


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    with SilentServer() as s:
        yield s


def test_a_garbage_reply_is_named_as_such_not_a_closed_connection(garbage: GarbageServer) -> None:
    with SyncClient(f"http://127.0.0.1:{garbage.port}", "tok", retries=0) as client, \
            pytest.raises(ProtocolError) as e:
        client.changes(None)
    assert "answered something that is not HTTP" in str(e.value)
    assert "closed the connection without answering" not in str(e.value)


def test_a_silent_server_fails_within_the_stated_overall_limit_and_says_so(silent: SilentServer) -> None:
    """The exact case: read_timeout = 3 took 14.6 s over its retries; the call's limit (10 s) holds."""
    with SyncClient(f"http://127.0.0.1:{silent.port}", "tok", read_timeout=3) as client:
        assert client.total_timeout == 10
        began = time.monotonic()
        with pytest.raises(Offline) as e:
            client.changes(None)
        elapsed = time.monotonic() - began
    assert elapsed < 10.5, elapsed
    assert "timed out" in str(e.value)
    assert "a call, its retries included, may take at most 10 s" in str(e.value)


def test_the_overall_limit_is_stated_and_checked() -> None:
    with SyncClient("http://127.0.0.1:9", "tok", read_timeout=30) as a, \
            SyncClient("http://127.0.0.1:9", "tok", total_timeout=4) as b:
        assert (a.total_timeout, b.total_timeout) == (60, 4)
    with pytest.raises(ValueError, match="total_timeout"):
        SyncClient("http://127.0.0.1:9", "tok", total_timeout=0)
