"""The end-of-test oracle every fault test shares.

- every action this terminal created is on the server exactly once (``CentralStore.actions()``);
- every one of them is either applied (its outbox row gone, its record synced back) or visibly
  rejected (outbox row gone, an audit entry ``sync.rejected`` naming it);
- the terminal's live records equal the server's **as the server serves them over HTTP** to the
  terminal's token (``GET /api/v1/changes``, every page), decoded here from the JSON by the field
  table of sync-protocol.md — not by the client's own conversion, so a field the client loses or
  mangles on the way into its store shows as a difference: type, id, version and every field;
- the outbox is empty and SQLite says ``PRAGMA integrity_check`` ok.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import requests
from sqlalchemy import select, text

from supervision.store import Store
from supervision.store.models import RECORD_TABLES, AuditEntry, OutboxAction

_META = {"id", "version", "deleted", "seq", "origin"}

Records = dict[tuple[str, str], tuple[int, dict[str, Any]]]

_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(v: Any) -> Any:
    # window.number: "a terminal also accepts a JSON integer and reads it as its decimal text"
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _instant(v: Any) -> Any:
    if v is None:
        return None
    assert isinstance(v, str) and _INSTANT.match(v), f"not an ISO-8601 instant with an offset: {v!r}"
    return datetime.fromisoformat(v.replace("Z", "+00:00")).astimezone(UTC)


def _money(v: Any) -> Any:
    return None if v is None else Decimal(str(v))


def _same(v: Any) -> Any:
    return v


def _json(v: Any) -> Any:
    """A JSON value with its instants and dates as values, nulls inside objects dropped; an
    absent, null or empty list/object at the top is one "nothing"."""

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: walk(y) for k, y in x.items() if y is not None}
        if isinstance(x, list):
            return [walk(y) for y in x]
        if isinstance(x, str) and _INSTANT.match(x):
            return _instant(x)
        if isinstance(x, str) and _DATE.match(x):
            return date.fromisoformat(x)
        return x

    return None if v in (None, {}, []) else walk(v)


T, N, B, I, M, J = _text, _same, _same, _instant, _money, _json  # noqa: E741  text, number, bool, instant, money, JSON

# sync-protocol.md, "Record types and their data" (seat_vacancy: HallWatch's extension).
FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "org_unit": {"name": T, "parent_id": T, "level": T},
    "window": {"hall_id": T, "number": T, "name": T, "department": T},
    "camera": {"hall_id": T, "window_id": T, "name": T, "stream_url": T, "sub_stream_url": T},
    "case_type": {"code": T, "name": T, "department": T, "legal_days": N, "promised_days": N, "stage_days": J,
                  "fee": M, "immediate": B},
    "case": {"case_type_id": T, "window_id": T, "ticket_id": T, "applicant": T, "submitted_at": I, "status": T,
             "stages": J, "suspensions": J, "fee_charged": M, "completed_at": I},
    "ticket": {"hall_id": T, "number": T, "case_type_id": T, "issued_at": I, "called_at": I, "window_id": T,
               "status": T},
    "rule_set": {"rules": J, "weights": J},
    "calendar": {"year": N, "holidays": J, "workdays": J},
    "evaluation": {"window_id": T, "case_id": T, "at": I, "grade": N},
    "complaint": {"hall_id": T, "window_id": T, "case_id": T, "channel": T, "received_at": I, "about_at": I,
                  "summary": T, "status": T},
    "disposition": {"warning": T, "action": T, "measure": T, "since": I, "by": T, "at": I, "note": T,
                    "terminal": T},
    "seat_vacancy": {"window_id": T, "camera_id": T, "started_at": I, "ended_at": I},
    "bookmark": {"camera_id": T, "at": I, "note": T, "by": T, "terminal": T},
    "terminal": {"name": T, "role": T, "relay_url": T, "last_seen": I},
}
# Fields the protocol gives a default when a publisher leaves them out (records.py agrees).
_DEFAULTS: dict[tuple[str, str], Any] = {
    ("case", "applicant"): "", ("case_type", "immediate"): False, ("complaint", "summary"): "",
    ("disposition", "note"): "", ("disposition", "terminal"): "", ("bookmark", "note"): "",
    ("bookmark", "by"): "", ("bookmark", "terminal"): "",
}


def _stored(rtype: str, name: str, v: Any) -> Any:
    """A value read from the terminal's store, in the oracle's terms (the same decoders)."""
    kind = FIELDS[rtype][name]
    if kind is _json:
        return _json(v)
    if kind is _instant:
        return None if v is None else v.astimezone(UTC)
    return v


def client_records(store: Store) -> Records:
    out: Records = {}
    with store.read() as s:
        for rtype, cls in RECORD_TABLES.items():
            cols = [c.name for c in cls.__table__.columns if c.name not in _META | cls.derived_fields]
            for row in s.scalars(select(cls).where(cls.deleted.is_(False))):
                values = {c: getattr(row, c) for c in cols}
                if rtype in FIELDS:
                    values = {c: _stored(rtype, c, v) if c in FIELDS[rtype] else v for c, v in values.items()}
                out[(rtype, row.id)] = (row.version, values)
    return out


def served_records(url: str, token: str) -> Records:
    """Every live record the server serves to ``token``, pulled page by page over HTTP and decoded
    by the protocol's field table."""
    latest: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = {}
    session = requests.Session()
    session.trust_env = False  # 127.0.0.1 only, never through a proxy
    cursor: str | None = None
    try:
        while True:
            params: dict[str, Any] = {"limit": 5000}
            if cursor is not None:
                params["cursor"] = cursor
            r = session.get(f"{url}/api/v1/changes", params=params, timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, f"GET /api/v1/changes answered {r.status_code}: {r.text[:200]}"
            page = r.json()
            for c in page["changes"]:
                latest[(c["type"], c["id"])] = (c["version"], c.get("data") if c["op"] == "upsert" else None)
            if not page["has_more"]:
                break
            cursor = page["next_cursor"]
    finally:
        session.close()
    out: Records = {}
    for (rtype, rid), (version, data) in latest.items():
        if data is None or rtype not in FIELDS:
            continue
        out[(rtype, rid)] = (version, {
            name: decode(data.get(name, _DEFAULTS.get((rtype, name)))) for name, decode in FIELDS[rtype].items()
        })
    return out


def server_records(central: Any, token: str) -> Records:
    """:func:`served_records` from a server of its own on ``central`` (not through a test's faults)."""
    from sync.server.testing import ServerThread

    with ServerThread(central) as srv:
        return served_records(srv.url, token)


def integrity_ok(store: Store) -> None:
    if store.is_sqlite:
        with store.engine.connect() as c:
            assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"


def assert_converged(central: Any, store: Store, action_ids: Iterable[str] = (), *, token: str) -> dict[str, str]:
    """Check the oracle for the terminal holding ``token``; returns each of ``action_ids``'s status."""
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
    mine, theirs = client_records(store), server_records(central, token)
    only_local = sorted(set(mine) - set(theirs))[:5]
    only_server = sorted(set(theirs) - set(mine))[:5]
    assert not only_local and not only_server, f"only on the terminal: {only_local}; only on the server: {only_server}"
    diff = []
    for key, (version, fields) in theirs.items():
        my_version, my_fields = mine[key]
        lost = [f for f, v in fields.items() if f not in my_fields and v is not None]
        assert not lost, f"{key}: the terminal has no place for the served fields {lost}"
        fields = {f: v for f, v in fields.items() if f in my_fields}
        if my_version != version or any(my_fields[f] != v for f, v in fields.items()):
            diff.append(key)
    if diff:
        k = diff[0]
        bad = {f: (mine[k][1][f], v) for f, v in theirs[k][1].items() if f in mine[k][1] and mine[k][1][f] != v}
        raise AssertionError(f"{len(diff)} records differ, e.g. {k}: versions terminal {mine[k][0]} server "
                             f"{theirs[k][0]}; fields (terminal, server): {bad}")
    integrity_ok(store)
    return {i: status[i] for i in ids}
