"""Which records hold footage as evidence (supervision.holds): warnings, bookmarks, complaints."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supervision.holds import IN_FORCE_AHEAD, WantedHold, evidence_holds
from supervision.store import Store, open_store
from supervision.store.footage import HoldKind
from supervision.store.models import BookmarkRow, CameraRow, ComplaintRow, WarningState

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
M = timedelta(minutes=10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(tmp_path / "hallwatch.db")
    yield s
    s.close()


def _holds(store: Store) -> dict[str, WantedHold]:
    with store.read() as s:
        return {h.id: h for h in evidence_holds(s, NOW, M)}


def _warning(key: str, level: str, *, window: str | None = "W-1", cleared: datetime | None = None) -> WarningState:
    since = NOW - timedelta(hours=2)
    return WarningState(key=key, code=key.split("/")[1], subject=key.split("/")[0], window_id=window, level=level,
                        max_level=level, state="cleared" if cleared else "active", since=since,
                        cleared_at=cleared, updated_at=NOW)


def test_yellow_and_red_warnings_hold_their_window_notices_do_not(store: Store) -> None:
    with store.write() as s:
        s.add(_warning("C-1/OVERDUE", "red", cleared=NOW - timedelta(hours=1)))
        s.add(_warning("C-2/STAGE_LATE", "yellow"))
        s.add(_warning("C-3/DUE_SOON", "notice"))
        s.add(_warning("T-1/WAIT_LONG", "yellow", window=None))  # no window: no camera to hold
    holds = _holds(store)
    assert set(holds) == {"warning:C-1/OVERDUE", "warning:C-2/STAGE_LATE"}
    red = holds["warning:C-1/OVERDUE"]
    assert (red.kind, red.camera_id, red.window_id) == (HoldKind.WARNING, None, "W-1")
    assert (red.start, red.end) == (NOW - timedelta(hours=2) - M, NOW - timedelta(hours=1) + M)  # cleared: + margin
    assert holds["warning:C-2/STAGE_LATE"].end == NOW + M  # still active: up to now
    # written further ahead while in force (not rewritten every pass); a cleared one's end is fixed
    assert (holds["warning:C-2/STAGE_LATE"].ahead, red.ahead) == (IN_FORCE_AHEAD, timedelta(0))


def test_a_bookmark_holds_its_camera_either_side_a_deleted_one_does_not(store: Store) -> None:
    at = NOW - timedelta(hours=3)
    with store.write() as s:
        s.add(BookmarkRow(id="B-1", version=1, deleted=False, camera_id="cam-1", at=at, note="争吵", by="张三"))
        s.add(BookmarkRow(id="B-2", version=2, deleted=True, camera_id="cam-1", at=at, note="", by="李四"))
    holds = _holds(store)
    assert list(holds) == ["bookmark:B-1"]
    b = holds["bookmark:B-1"]
    assert (b.kind, b.camera_id, b.window_id, b.start, b.end) == (HoldKind.BOOKMARK, "cam-1", None, at - M, at + M)
    assert b.reason == "bookmark by 张三: 争吵"


def test_a_complaint_holds_its_window_or_every_camera_of_its_hall(store: Store) -> None:
    about = NOW - timedelta(hours=5)
    received = NOW - timedelta(hours=1)
    with store.write() as s:
        s.add(CameraRow(id="cam-1", version=1, deleted=False, hall_id="H", window_id="W-1"))
        s.add(CameraRow(id="cam-2", version=1, deleted=False, hall_id="H", window_id=None))
        s.add(CameraRow(id="cam-old", version=2, deleted=True, hall_id="H", window_id=None))
        s.add(ComplaintRow(id="CP-1", version=1, deleted=False, hall_id="H", window_id="W-1", channel="hotline",
                           received_at=received, about_at=about, summary="", status="open"))
        s.add(ComplaintRow(id="CP-2", version=1, deleted=False, hall_id="H", window_id=None, channel="web",
                           received_at=received, about_at=None, summary="", status="open"))
    holds = _holds(store)
    assert set(holds) == {"complaint:CP-1", "complaint:CP-2:cam-1", "complaint:CP-2:cam-2"}
    at_window = holds["complaint:CP-1"]
    assert (at_window.window_id, at_window.start, at_window.end) == ("W-1", about - M, about + M)
    hall = holds["complaint:CP-2:cam-2"]
    # no incident time: the day before it was received
    assert (hall.camera_id, hall.start, hall.end) == ("cam-2", received - timedelta(days=1), received + M)
