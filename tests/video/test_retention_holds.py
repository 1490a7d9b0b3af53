"""Retention's hold sync: the holds the warnings call for are made, grown while a warning is in
force, never grown once released — over more warnings than one chunk of the sync."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supervision.holds import IN_FORCE_AHEAD
from supervision.store import Store, open_store
from supervision.store.footage import EvidenceHold
from supervision.store.models import WarningState
from video.footage import FootageIndex
from video.retention import Retention, RetentionPolicy

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
MARGIN = RetentionPolicy().hold_margin
AHEAD = IN_FORCE_AHEAD


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "hallwatch.db")
    yield s
    s.close()


def _holds(store: Store) -> dict[str, tuple[datetime, datetime, datetime | None]]:
    with store.read() as s:
        return {h.id: (h.start, h.end, h.released_at) for h in s.query(EvidenceHold)}


def test_holds_are_made_grown_while_in_force_and_kept_once_released(store: Store, tmp_path: Path) -> None:
    n = 1_203  # more than two chunks of the sync
    since = T0 - timedelta(hours=2)
    cleared_at = T0 - timedelta(hours=1)
    with store.write() as s:
        for i in range(n):
            cleared = i % 3 == 0
            s.add(WarningState(key=f"C-{i:04d}/OVERDUE", code="OVERDUE", subject=f"C-{i:04d}", window_id="W-1",
                               level="red" if i % 2 else "yellow", max_level="red" if i % 2 else "yellow",
                               state="cleared" if cleared else "active", since=since,
                               cleared_at=cleared_at if cleared else None, updated_at=T0))
        s.add(WarningState(key="C-N/DUE_SOON", code="DUE_SOON", subject="C-N", window_id="W-1", level="notice",
                           max_level="notice", state="active", since=since, updated_at=T0))
    now = [T0]
    ret = Retention(FootageIndex(store, tmp_path / "footage"), clock=lambda: now[0])
    in_force = [i for i in range(n) if i % 3]

    assert ret.sync_holds() == n  # one per yellow or red warning, none for the notice
    holds = _holds(store)
    assert len(holds) == n and "warning:C-N/DUE_SOON" not in holds
    assert holds["warning:C-0000/OVERDUE"] == (since - MARGIN, cleared_at + MARGIN, None)
    # in force: held to now + margin, written IN_FORCE_AHEAD further so that it is not rewritten every pass
    assert holds["warning:C-0001/OVERDUE"] == (since - MARGIN, T0 + MARGIN + AHEAD, None)
    assert ret.sync_holds() == 0  # nothing changed

    ret.release("warning:C-0002/OVERDUE", by="reviewer")
    now[0] = T0 + AHEAD - timedelta(seconds=1)
    assert ret.sync_holds() == 0  # still held ahead of now + margin: nothing rewritten
    now[0] = T0 + AHEAD + timedelta(minutes=5)
    assert ret.sync_holds() == len(in_force) - 1  # the warnings in force grow, but the released one
    holds = _holds(store)
    assert holds["warning:C-0001/OVERDUE"] == (since - MARGIN, now[0] + MARGIN + AHEAD, None)
    assert holds["warning:C-0002/OVERDUE"][:2] == (since - MARGIN, T0 + MARGIN + AHEAD)  # released: as it was
    assert holds["warning:C-0003/OVERDUE"] == (since - MARGIN, cleared_at + MARGIN, None)
    assert all(holds[f"warning:C-{i:04d}/OVERDUE"][1] == now[0] + MARGIN + AHEAD for i in in_force if i != 2)
    # a warning in force that clears keeps what its hold reached (a hold never shrinks)
    with store.write() as s:
        row = s.get(WarningState, "C-0001/OVERDUE")
        assert row is not None
        row.state, row.cleared_at = "cleared", now[0]
    assert ret.sync_holds() == 0
    assert _holds(store)["warning:C-0001/OVERDUE"] == (since - MARGIN, now[0] + MARGIN + AHEAD, None)
