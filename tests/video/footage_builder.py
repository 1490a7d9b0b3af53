"""Recorded footage without a camera, for the review tests: synthetic camera clips written where the
recorder puts segments and indexed the way it indexes them.

``clip(...)`` encodes a clip once per test session; ``lay(...)`` files copies of it as a camera's
segments back to back (the burnt-in clock of a copy shows the clip's own start, so tests that check
the burnt-in clock build each segment with ``fresh=True``).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from video.footage import FootageIndex
from video.synthetic import write_file

FPS = 25
FRAME = timedelta(microseconds=1_000_000 // FPS)


@dataclass(frozen=True)
class Laid:
    camera_id: str
    segments: list[tuple[int, datetime, datetime, Path]]  # id, start, end, path


def write_clip(path: Path, *, seconds: float, start: datetime, width: int = 640, height: int = 360,
               label: str = "A01") -> Path:
    write_file(path, seconds=seconds, start=start, width=width, height=height, fps=FPS, label=label)
    return path


def lay(index: FootageIndex, camera_id: str, clip: Path | None, starts: Sequence[datetime], *, seconds: float,
        width: int = 640, height: int = 360, fresh: bool = False, label: str = "A01") -> Laid:
    """Index one segment of ``seconds`` at each start: a copy of ``clip``, or (``fresh``) a clip
    encoded for that start, whose burnt-in clock is the segment's own time."""
    out = []
    for start in starts:
        seg_id, path = index.open_segment(camera_id, start, codec="h264", width=width, height=height, first_pts=0.0)
        if fresh or clip is None:
            write_clip(path, seconds=seconds, start=start, width=width, height=height, label=label)
        else:
            shutil.copyfile(clip, path)
        end = start + timedelta(seconds=seconds)
        index.close_segment(seg_id, end, round(seconds * FPS), path)
        out.append((seg_id, start, end, path))
    return Laid(camera_id, out)


def back_to_back(start: datetime, count: int, seconds: float) -> list[datetime]:
    return [start + timedelta(seconds=i * seconds) for i in range(count)]
