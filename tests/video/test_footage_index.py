"""The footage index: a gap and the footage after it meet where the footage was placed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from supervision.store import open_store
from video.footage import FootageIndex

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
S = timedelta(seconds=1)


def test_a_segment_placed_earlier_moves_the_end_of_the_gap_its_opening_closed(tmp_path: Path) -> None:
    """The recorder opens a segment at its first packet's capture estimate and closes the gap
    there; a packet read out of a connection's read-ahead is estimated late, and the better estimate
    comes later (progress, close): the gap must end where the footage is placed, not overlap it."""
    store = open_store(tmp_path / "hallwatch.db")
    try:
        index = FootageIndex(store, tmp_path / "footage")
        index.open_gap("cam", T, "no video from the camera")
        first = T + 3 * S  # provisional: 0.8 s late
        seg_id, path = index.open_segment("cam", first, codec="h264", width=640, height=360, first_pts=0.0)
        index.close_gap("cam", first)
        index.progress(seg_id, first + 2 * S, 100, 10, start=first - timedelta(milliseconds=500))
        assert index.gaps("cam", T - S, T + 9 * S) == [(T, first - timedelta(milliseconds=500),
                                                         "no video from the camera")]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 188)
        index.close_segment(seg_id, first + 4 * S, 50, path, start=first - timedelta(milliseconds=800))
        assert index.gaps("cam", T - S, T + 9 * S) == [(T, first - timedelta(milliseconds=800),
                                                         "no video from the camera")]
        (seg,) = index.segments("cam")
        assert seg.start == first - timedelta(milliseconds=800)
        # never before the gap's own start
        index.open_gap("cam", T + 10 * S, "the camera reconnected")
        later, _ = index.open_segment("cam", T + 11 * S, codec="h264", width=640, height=360, first_pts=0.0)
        index.close_gap("cam", T + 11 * S)
        index.progress(later, T + 12 * S, 100, 10, start=T + 9 * S)
        assert index.gaps("cam", T + 9 * S, T + 20 * S) == [(T + 10 * S, T + 10 * S, "the camera reconnected")]
    finally:
        store.close()
