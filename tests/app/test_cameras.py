"""The camera registry's stop (app.cameras)."""

from __future__ import annotations

import time
from pathlib import Path

from app.cameras import CameraRegistry
from supervision.store import open_store
from video.camera import CameraConfig
from video.synthetic import CameraSpec, SyntheticCameraServer


def test_stopping_while_synthetic_cameras_still_connect_ends_their_connections_at_once(tmp_path: Path) -> None:
    """A connection still opening (FFmpeg waiting for the stream's first pictures to probe them)
    sees a stop only once its open is over — the demo's window closed at start-up waited seconds
    for its cameras' probes. The registry has the synthetic server end those connections: here the
    cameras send nothing (frozen), so an open would last its 10 s timeout, and the stop is over
    at once."""
    store = open_store(tmp_path / "store.db")
    ids = [f"window/A0{i}" for i in range(1, 4)]
    with SyntheticCameraServer({}) as server:
        for i in ids:
            for stream in (i, f"{i}/sub"):
                server.add_camera(stream, CameraSpec(stream))
                server.freeze(stream, True)
        registry = CameraRegistry(
            store,
            [CameraConfig(f"cam-{i}", i, f"synthetic://{i}", f"synthetic://{i}/sub", None) for i in ids],
            synthetic=server,
        )
        ended: bool | None = None
        try:
            registry.start()
            cameras = registry.cameras()
            assert len(cameras) == 3
            for c in cameras:
                c.acquire_sub()  # as a tile showing the sub-stream
            deadline = time.monotonic() + 10
            while sum(server.stats(s)["clients"] for i in ids for s in (i, f"{i}/sub")) < 6:
                assert time.monotonic() < deadline, "the cameras never connected"
                time.sleep(0.02)
            began = time.monotonic()
            ended = registry.stop(began + 3)
            took = time.monotonic() - began
        finally:
            if ended is None:  # the test failed before its stop
                registry.stop(time.monotonic() + 15)
            store.close()
        assert ended, f"connections still opening after the stop's 3 s ({took:.2f} s)"
        assert took < 2.5, took
        assert all(not c.main.status().packets for c in cameras)
