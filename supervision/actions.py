"""The outbox payloads of a terminal's own actions — one builder for each action type.

The operator's action (``supervision.lifecycle``, bookmarks here) and the sync engine's requeue of
an action a restored server lost both build the wire payload here, so the two can never differ
(sync-protocol.md, "Push"). ``since`` (a HallWatch extension) names the episode of the warning an
action acts on: when it reached its level.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supervision.store.db import Store
from supervision.store.models import AuditEntry, BookmarkRow, DispositionRow, OutboxAction

__all__ = ["bookmark_payload", "create_bookmark", "disposition_payload", "new_action_id", "warning_payload"]


def new_action_id() -> str:
    """A UUIDv7: a time-ordered idempotency key for the outbox."""
    import uuid6

    return str(uuid6.uuid7())


def warning_payload(
    action_id: str,
    action: str,
    warning: str,
    *,
    by: str,
    at: datetime,
    note: str,
    measure: str | None,
    since: datetime | None,
) -> dict[str, Any]:
    """``warning.acknowledge`` / ``warning.dispose`` as pushed to ``POST /actions``."""
    payload: dict[str, Any] = {
        "id": action_id,
        "type": action,
        "warning": warning,
        "by": by,
        "at": at.isoformat(),
        "note": note,
    }
    if measure:
        payload["measure"] = measure
    if since is not None:
        payload["since"] = since.isoformat()
    return payload


def disposition_payload(row: DispositionRow) -> dict[str, Any] | None:
    """The action behind one of this terminal's disposition rows (None when the row lacks what it needs)."""
    if row.at is None or not row.action or not row.warning:
        return None
    return warning_payload(
        row.id, row.action, row.warning, by=row.by or "", at=row.at, note=row.note or "", measure=row.measure,
        since=row.since,
    )


def bookmark_payload(action_id: str, camera_id: str, *, at: datetime, note: str, by: str) -> dict[str, Any]:
    """``bookmark.create`` as pushed to ``POST /actions``."""
    return {"id": action_id, "type": "bookmark.create", "camera_id": camera_id, "at": at.isoformat(), "note": note,
            "by": by}


def bookmark_row_payload(row: BookmarkRow) -> dict[str, Any] | None:
    if row.at is None or not row.camera_id:
        return None
    return bookmark_payload(row.id, row.camera_id, at=row.at, note=row.note or "", by=row.by or "")


def create_bookmark(
    store: Store, camera_id: str, at: datetime, *, note: str, by: str, terminal: str, now: datetime | None = None
) -> str:
    """A bookmark on a camera at an instant: the local row, the outbox row and the audit entry in one
    transaction. Returns the action id (the bookmark's id)."""
    if not camera_id:
        raise ValueError("a bookmark needs a camera")
    if not by.strip():
        raise ValueError("who bookmarks must be named")
    aid = new_action_id()
    with store.write() as s:
        s.add(BookmarkRow(id=aid, version=0, deleted=False, camera_id=camera_id, at=at, note=note, by=by,
                          terminal=terminal, origin="local"))
        payload = bookmark_payload(aid, camera_id, at=at, note=note, by=by)
        s.add(OutboxAction(id=aid, created_at=now or at, type="bookmark.create", payload=payload, attempts=0))
        s.add(AuditEntry(at=now or at, actor=by, action="bookmark.create", subject=camera_id,
                         detail={"id": aid, "at": at.isoformat(), "note": note, "terminal": terminal}))
    return aid
