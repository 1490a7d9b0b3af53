"""The end-of-test oracle every fault test shares.

- every action this terminal created is on the server exactly once (``CentralStore.actions()``);
- every one of them is either applied (its outbox row gone, its record synced back) or visibly
  rejected (outbox row gone, an audit entry ``sync.rejected`` naming it);
- the terminal's live records equal the server's (type, id, version and every data column);
- the outbox is empty and SQLite says ``PRAGMA integrity_check`` ok.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text

from supervision.ingest import column_values
from supervision.records import DATA_MODELS
from supervision.store import Store
from supervision.store.models import RECORD_TABLES, AuditEntry, OutboxAction

_META = {"id", "version", "deleted", "seq", "origin"}

Records = dict[tuple[str, str], tuple[int, dict[str, Any]]]


def client_records(store: Store) -> Records:
    out: Records = {}
    with store.read() as s:
        for rtype, cls in RECORD_TABLES.items():
            cols = [c.name for c in cls.__table__.columns if c.name not in _META | cls.derived_fields]
            for row in s.scalars(select(cls).where(cls.deleted.is_(False))):
                out[(rtype, row.id)] = (row.version, {c: getattr(row, c) for c in cols})
    return out


def server_records(central: Any) -> Records:
    out: Records = {}
    for (rtype, rid), (version, data) in central.current().items():
        model = DATA_MODELS[rtype]
        out[(rtype, rid)] = (version, column_values(rtype, model.model_validate(data)))
    return out


def integrity_ok(store: Store) -> None:
    if store.is_sqlite:
        with store.engine.connect() as c:
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def assert_converged(central: Any, store: Store, action_ids: Iterable[str] = ()) -> dict[str, str]:
    """Check the oracle; returns each of ``action_ids``'s status on the server."""
    ids = list(action_ids)
    on_server = Counter(a["id"] for a in central.actions())
    status = {a["id"]: a["status"] for a in central.actions()}
    missing = [i for i in ids if on_server[i] == 0]
    twice = [i for i in ids if on_server[i] > 1]
    assert not missing, f"{len(missing)} actions never reached the server, e.g. {missing[:3]}"
    assert not twice, f"{len(twice)} actions are on the server more than once, e.g. {twice[:3]}"
    with store.read() as s:
        assert s.scalar(select(OutboxAction.id).limit(1)) is None, "the outbox is not empty"
        rejected_seen = {
            (e.detail or {}).get("id")
            for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "sync.rejected"))
        }
    for i in ids:
        if status[i] == "rejected":
            assert i in rejected_seen, f"action {i} was rejected by the server but not marked on the terminal"
    mine, theirs = client_records(store), server_records(central)
    only_local = sorted(set(mine) - set(theirs))[:5]
    only_server = sorted(set(theirs) - set(mine))[:5]
    assert not only_local and not only_server, f"only on the terminal: {only_local}; only on the server: {only_server}"
    diff = [k for k in theirs if mine[k] != theirs[k]]
    assert not diff, f"{len(diff)} records differ, e.g. {diff[0]}: terminal {mine[diff[0]]} server {theirs[diff[0]]}"
    integrity_ok(store)
    return {i: status[i] for i in ids}
