"""Fixtures for the video tests: real servers on 127.0.0.1 (see ``camera_servers``).

``rtsp_camera_factory`` needs GStreamer's RTSP server under Debian's ``/usr/bin/python3``; where that is
missing the tests using it are skipped, except under ``CI`` (which installs it), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.video.camera_servers import (
    CameraFactory,
    GarbageServer,
    RtspCamera,
    SilentServer,
    gst_rtsp_unavailable,
)


def _require_gst_rtsp(codec: str) -> None:
    reason = gst_rtsp_unavailable(codec)
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI installs the RTSP camera's packages, yet: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def rtsp_camera_factory(tmp_path: Path) -> Iterator[CameraFactory]:
    """``make(codec="h264", **kw) -> RtspCamera``: start a real RTSP camera (already listening when
    returned); every camera made is stopped at teardown. Skips (fails under CI) without GStreamer."""
    _require_gst_rtsp("h264")
    cameras: list[RtspCamera] = []

    def make(
        codec: str = "h264",
        *,
        width: int = 640,
        height: int = 360,
        fps: int = 25,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        path: str = "/cam",
    ) -> RtspCamera:
        if codec != "h264":
            _require_gst_rtsp(codec)
        cam = RtspCamera(
            codec, width=width, height=height, fps=fps, user=user, password=password, port=port, path=path,
            log_dir=tmp_path / "cameras",
        )
        cameras.append(cam)
        return cam.start()

    yield make
    for cam in cameras:
        cam.stop()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    """A TCP server that accepts and never answers (a hung camera); ``.url("rtsp"|"http")``."""
    with SilentServer() as server:
        yield server


@pytest.fixture
def garbage_server() -> Iterator[GarbageServer]:
    """A TCP server that answers every connection with endless random bytes; ``.url("rtsp"|"http")``."""
    with GarbageServer() as server:
        yield server
