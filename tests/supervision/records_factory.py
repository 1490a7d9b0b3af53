"""Small builders for GET /changes bodies used by the store and import tests."""

from __future__ import annotations

import itertools
from typing import Any

_seq = itertools.count(1)


def change(
    type_: str, id_: str, data: dict[str, Any] | None, *, version: int = 1, op: str = "upsert", seq: int | None = None
) -> dict[str, Any]:
    ch: dict[str, Any] = {
        "seq": seq if seq is not None else next(_seq),
        "type": type_,
        "id": id_,
        "op": op,
        "version": version,
    }
    if data is not None:
        ch["data"] = data
    return ch


def page(changes: list[dict[str, Any]], epoch: str = "test") -> dict[str, Any]:
    return {
        "epoch": epoch,
        "changes": changes,
        "next_cursor": "c",
        "has_more": False,
        "server_time": "2026-11-25T08:00:00+08:00",
    }


CASE_TYPE = {
    "code": "SC-001",
    "name": "企业设立登记",
    "department": "市场监督管理局",
    "legal_days": 20,
    "promised_days": 3,
    "fee": "0",
    "immediate": False,
}


def case_data(n: int = 0, **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "case_type_id": "ct-1",
        "window_id": "win-A01",
        "ticket_id": None,
        "applicant": "张**",
        "submitted_at": "2026-11-23T09:00:00+08:00",
        "status": "in_progress",
        "stages": [
            {"stage": "submitted", "at": "2026-11-23T09:00:00+08:00", "by": "a"},
            {"stage": "accepted", "at": "2026-11-23T09:10:00+08:00", "by": "a"},
        ],
        "suspensions": [],
        "fee_charged": "0",
        "completed_at": None,
    }
    d.update(over)
    return d
