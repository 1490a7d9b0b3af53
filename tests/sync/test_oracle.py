"""The oracle itself: it must see what the client loses or mangles on its way into the store,
which it can only because it decodes the server's records from HTTP on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import supervision.ingest
from supervision.store import Store
from sync.engine import SyncEngine
from tests.sync.oracle import assert_converged

MakeEngine = Callable[..., SyncEngine]


@pytest.mark.parametrize(
    ("rtype", "field", "mangle"),
    [
        ("case", "applicant", lambda v: None),  # a field lost
        ("case_type", "fee", lambda v: v and v + 1),  # a value changed
        ("case", "stages", lambda v: v and v[:-1]),  # a list cut short
    ],
)
def test_the_oracle_sees_a_field_the_client_gets_wrong(
    central: Any, server: Any, token: str, local: Store, make_engine: MakeEngine,
    monkeypatch: pytest.MonkeyPatch, rtype: str, field: str, mangle: Callable[[Any], Any],
) -> None:
    honest = supervision.ingest.column_values

    def broken(record_type: str, data: Any) -> dict[str, Any]:
        values = honest(record_type, data)
        if record_type == rtype:
            values[field] = mangle(values[field])
        return values

    monkeypatch.setattr(supervision.ingest, "column_values", broken)
    engine = make_engine(local, server.url, token, bulk_page_limit=5000)
    assert engine.run_once().ok
    with pytest.raises(AssertionError, match=f"records differ.*{field}"):
        assert_converged(central, local, token=token)


def test_the_oracle_passes_an_honest_client(
    central: Any, server: Any, token: str, local: Store, make_engine: MakeEngine
) -> None:
    engine = make_engine(local, server.url, token, bulk_page_limit=5000)
    assert engine.run_once().ok
    assert_converged(central, local, token=token)
