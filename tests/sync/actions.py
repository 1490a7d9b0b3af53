"""Local actions the way the terminal makes them: the local effect, the outbox row and the audit
entry in one transaction (``supervision.lifecycle`` for warnings; bookmarks here, until the
footage review lands a module of its own)."""

from __future__ import annotations

from datetime import datetime, timedelta

from supervision.lifecycle import new_action_id
from supervision.store import Store
from supervision.store.models import AuditEntry, BookmarkRow, OutboxAction


def queue_bookmarks(
    store: Store, n: int, *, camera_id: str, at: datetime, by: str = "张三", terminal: str = "ws-01"
) -> list[str]:
    """``n`` bookmarks on one camera, one second apart, in one transaction; returns their action ids."""
    ids: list[str] = []
    with store.write() as s:
        for i in range(n):
            aid = new_action_id()
            when = at + timedelta(seconds=i)
            note = f"书签 {i}"
            s.add(
                BookmarkRow(
                    id=aid,
                    version=0,
                    deleted=False,
                    camera_id=camera_id,
                    at=when,
                    note=note,
                    by=by,
                    terminal=terminal,
                    origin="local",
                )
            )
            payload = {
                "id": aid,
                "type": "bookmark.create",
                "camera_id": camera_id,
                "at": when.isoformat(),
                "note": note,
                "by": by,
            }
            s.add(OutboxAction(id=aid, created_at=when, type="bookmark.create", payload=payload, attempts=0))
            s.add(AuditEntry(at=when, actor=by, action="bookmark.create", subject=camera_id, detail={"id": aid}))
            ids.append(aid)
    return ids
