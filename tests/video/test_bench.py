"""The display benchmark's references and breakdown run and measure what they say (not timed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from video.bench import breakdown, ffmpeg_floor
from video.synthetic import write_file


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "hall.ts"
    write_file(path, seconds=2, label="A01", preset="veryfast")
    return path


def test_breakdown_separates_decoding_from_conversion(clip: Path) -> None:
    parts = breakdown(clip, (480, 270), repeats=2)
    assert parts["decode_ms_per_frame"] > 0
    assert parts["conversion_ms_per_frame"] > 0, parts
    assert parts["conversion_share_of_decode"] == pytest.approx(
        parts["conversion_ms_per_frame"] / parts["decode_ms_per_frame"], rel=0.05
    )


def test_ffmpeg_doing_the_displays_work_costs_more_than_decoding_alone(clip: Path, ffmpeg_command: str) -> None:
    decode = ffmpeg_floor(clip)
    same_work = ffmpeg_floor(clip, (480, 270))
    assert decode["frames"] == same_work["frames"] == 50
    assert same_work["cpu_ms_per_frame"] > decode["cpu_ms_per_frame"] > 0
