"""``main.py view``: a bare video wall that prints what each tile painted on exit (a subprocess,
offscreen), after --seconds or on SIGTERM; passwords never printed."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.video.waiting import wait_for
from video.synthetic import CameraSpec, SyntheticCameraServer
from video.urls import mask_url

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^tile (\d+) (\S+) frames=(\d+) fps=([\d.]+)$")


@pytest.fixture
def cameras() -> Iterator[SyntheticCameraServer]:
    with SyntheticCameraServer({"window/A01": CameraSpec("A01", width=320, height=180),
                                "window/A02": CameraSpec("A02", width=320, height=180, seed=3)}) as server:
        yield server


def _view(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--data", str(tmp_path / "data"), "view", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )


def _tiles(stdout: str) -> list[tuple[int, str, int, float]]:
    out = []
    for line in stdout.splitlines():
        m = LINE.match(line)
        assert m is not None, f"not a tile line: {line!r}"
        out.append((int(m.group(1)), m.group(2), int(m.group(3)), float(m.group(4))))
    return out


def test_view_for_seconds_prints_a_line_per_tile_with_the_url_masked(
    tmp_path: Path, cameras: SyntheticCameraServer
) -> None:
    secret_url = cameras.url("window/A01").replace("http://", "http://admin:s3cret@")
    proc = _view(tmp_path, secret_url, cameras.url("window/A02"), "--grid", "2x1", "--seconds", "3")
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    tiles = _tiles(stdout)
    assert [t[0] for t in tiles] == [1, 2]
    assert tiles[0][1] == mask_url(secret_url) != secret_url
    assert "s3cret" not in stdout + stderr
    for _, _, frames, fps in tiles:
        assert frames >= 10, stdout  # about two seconds of 25 fps video once connected (fewer on a busy machine)
        assert 0 < fps <= 27, stdout  # never more than the camera sends: each frame counted once


def test_view_stops_on_sigterm_and_still_prints(tmp_path: Path, cameras: SyntheticCameraServer) -> None:
    proc = _view(tmp_path, cameras.url("window/A01"), "--mode", "keyframes")
    try:
        # Running once the camera has a client and has sent it a few keyframes' worth of video.
        assert wait_for(lambda: cameras.stats("window/A01")["clients"] >= 1, 20), proc.stderr
        start = cameras.stats("window/A01")["frames_encoded"]
        assert wait_for(lambda: cameras.stats("window/A01")["frames_encoded"] >= start + 75, 20)
        proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        stdout, stderr = proc.communicate(timeout=10)
        assert time.monotonic() - began < 5
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    (index, url, frames, _fps), = _tiles(stdout)
    assert index == 1 and url == cameras.url("window/A01")
    assert frames >= 2, "keyframes only: about one picture a second"


def test_view_refuses_bad_arguments_in_words(tmp_path: Path) -> None:
    proc = _view(tmp_path, "ftp://cam/1", "--seconds", "1")
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "error:" in stderr and "Traceback" not in stderr
    proc = _view(tmp_path, "a.ts", "b.ts", "c.ts", "--grid", "2x1")
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "do not fit" in stderr
