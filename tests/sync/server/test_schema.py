"""Schemathesis against /openapi.json on a live server: no 5xx, every response as documented.

Positive cases (valid per the schema) and negative ones (invalid: they must be refused with a
4xx) for every operation, with the checks ``call_and_validate`` runs by default — server errors,
status codes, content types and response bodies against the declared models, auth enforced.
(The pytest ``from_fixture`` integration of this schemathesis release does not run on pytest 9,
so the cases are drawn with ``as_strategy`` inside an ordinary test.)

A cursor is opaque: no schema can say which strings are cursors, and any other string is rightly
refused (400). Positive cases therefore carry a real cursor where they carry one; negative and
hand-written tests (test_feed.py) cover the others.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from sync.server.store import CentralStore
from sync.server.testing import ServerThread
from tests.sync.server.conftest import small_hall


def test_api_conforms_to_its_schema(tmp_path: Path) -> None:
    store = CentralStore(tmp_path / "server.db")
    store.publish(small_hall())
    token = store.add_terminal("ws-schema", "operator", "org-p")
    auth = {"Authorization": f"Bearer {token}"}
    config = schemathesis.Config.from_dict(
        {
            # The token through the schema's own security scheme, so cases that test auth can leave it out.
            "auth": {"openapi": {"HTTPBearer": {"bearer": token}}},
            # 413 is how too many actions (maxItems) are refused, as the protocol says.
            "checks": {"negative_data_rejection": {"expected-statuses": [
                400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]}},
        }
    )
    session = requests.Session()
    session.trust_env = False
    try:
        with ServerThread(store) as srv:
            schema = schemathesis.openapi.from_url(srv.url + "/openapi.json", config=config, timeout=10)
            operations = [op.ok() for op in schema.get_all_operations()]
            assert {f"{op.method.upper()} {op.path}" for op in operations} == {
                "GET /api/v1/changes", "POST /api/v1/actions", "POST /api/v1/heartbeat",
                "GET /api/v1/me"}
            first = session.get(srv.url + "/api/v1/changes", params={"limit": 3}, headers=auth, timeout=10)
            cursor = first.json()["next_cursor"]
            seen: set[tuple[bool, str, int]] = set()
            def run(mode: schemathesis.GenerationMode) -> None:
                positive = mode is schemathesis.GenerationMode.POSITIVE

                @given(case=schema.as_strategy(generation_mode=mode))
                @settings(max_examples=100, deadline=None, database=None, suppress_health_check=list(HealthCheck))
                def conforms(case: Any) -> None:
                    if positive and case.query and "cursor" in case.query:
                        case.query["cursor"] = cursor
                    r = case.call_and_validate(base_url=srv.url, session=session)
                    seen.add((positive, case.method, r.status_code))

                conforms()

            run(schemathesis.GenerationMode.POSITIVE)
            run(schemathesis.GenerationMode.NEGATIVE)
            # the token was used: valid requests succeeded, and cases without it were refused
            assert {(True, "GET", 200), (True, "POST", 200)} <= seen
            assert any(not p and c == 401 for p, _, c in seen)
            assert any(not p and c in (400, 413, 422) for p, _, c in seen)
    finally:
        session.close()
        store.close()

