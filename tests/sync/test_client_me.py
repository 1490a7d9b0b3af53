"""SyncClient.me(): who a token belongs to, against the real reference server."""

from __future__ import annotations

from typing import Any

import pytest

from sync.client import Me, Offline, Unauthorized
from tests.sync.conftest import TOP_ORG, fast_client
from tests.video.camera_servers import free_port


def test_me_answers_terminal_role_and_scope(server: Any, central: Any) -> None:
    leader_token = central.add_terminal("leader-tiedong", "leader", "org-tiedong")
    with fast_client(server.url, leader_token) as client:
        assert client.me() == Me("leader-tiedong", "leader", "org-tiedong")


def test_me_with_an_unknown_token_is_unauthorized(server: Any, token: str) -> None:
    with fast_client(server.url, "no-such-token") as client, pytest.raises(Unauthorized):
        client.me()
    with fast_client(server.url, token) as client:
        assert client.me().scope == TOP_ORG


def test_me_without_a_server_is_offline() -> None:
    with fast_client(f"http://127.0.0.1:{free_port()}", "tok", retries=0) as client, pytest.raises(Offline):
        client.me()
