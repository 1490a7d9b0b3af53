"""GET /api/v1/me: the terminal, role and scope of the bearer token (a relay checks viewers with it)."""

from __future__ import annotations

from typing import Any

import requests

from sync.server.testing import ServerThread

Make = Any


def test_me_names_the_tokens_terminal_role_and_scope(api: Make) -> None:
    leader = api(role="leader", scope="org-a", name="leader-7")
    r = leader.session.get(leader.base + "/me", timeout=10)
    assert r.status_code == 200
    assert r.json() == {"terminal": "leader-7", "role": "leader", "scope": "org-a"}
    op = api(name="ws-03")
    assert op.session.get(op.base + "/me", timeout=10).json() == {"terminal": "ws-03", "role": "operator",
                                                                    "scope": "org-p"}


def test_me_refuses_an_unknown_token_and_no_token(server: ServerThread) -> None:
    with requests.Session() as s:
        s.trust_env = False
        r = s.get(server.url + "/api/v1/me", headers={"Authorization": "Bearer not-a-token"}, timeout=10)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert "not-a-token" not in r.text
        r = s.get(server.url + "/api/v1/me", timeout=10)
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"


def test_me_takes_no_query_parameters(api: Make) -> None:
    a = api()
    r = a.session.get(a.base + "/me", params={"scope": "org-c"}, timeout=10)
    assert r.status_code == 400 and "scope" in r.json()["error"]["message"]
