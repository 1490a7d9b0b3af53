"""The relay's HTTP server against real cameras and real players: gst-rtsp-server in, ffprobe/ffmpeg out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.video.camera_servers import CameraFactory
from tests.video.relay_viewers import FfmpegViewer, StalledViewer, probe
from tests.video.waiting import FAST, wait_for
from video.relay import Access, Forbidden, RelayedCamera, RelayServer, Unauthorized, Unavailable
from video.source import Source, SourceState

TOKEN = "viewer-SECRET-token"


def check(token: str | None) -> Access:
    """Tokens for the tests: TOKEN sees every camera, "cam1-only" sees cam1, "down" cannot be checked."""
    if token == TOKEN:
        return Access(None, "test")
    if token == "cam1-only":
        return Access(lambda cid: cid == "cam1", "scoped")
    if token == "down":
        raise Unavailable("the central server cannot check the token: connection refused")
    if token == "revoked":
        raise Forbidden("revoked")
    raise Unauthorized("unknown token" if token else "send a token")


@pytest.fixture
def relay() -> Iterator[RelayServer]:
    server = RelayServer(check, max_queue_bytes=256 * 1024, linger=1.0)
    server.start()
    try:
        yield server
    finally:
        assert server.stop(10)


@pytest.fixture
def live_source(source_factory: Callable[..., Source]) -> Callable[[str], Source]:
    def make(url: str) -> Source:
        s = source_factory(url, FAST)
        s.start()
        assert wait_for(lambda: s.state is SourceState.LIVE, 15), s.status()
        return s

    return make


@pytest.mark.parametrize("codec", ["h264", "h265"])
def test_ffprobe_and_ffmpeg_read_the_cameras_codec_and_size_unchanged(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer, codec: str
) -> None:
    cam = rtsp_camera_factory(codec, width=640, height=360)
    relay.set_camera(RelayedCamera("cam1", "窗口 1", "win-1", live_source(cam.url)))
    url = f"{relay.address}cam1.ts?token={TOKEN}"
    assert probe(url) == {"codec_name": "hevc" if codec == "h265" else "h264", "width": 640, "height": 360}
    viewer = FfmpegViewer(url, seconds=2, decode=True)  # decodes: the stream is playable, not only parsable
    assert viewer.wait(30) == 0, viewer.stderr
    assert viewer.frames >= 40, (viewer.frames, viewer.stderr)
    listing = requests.get(relay.address, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert listing.status_code == 200
    assert listing.json() == [{"id": "cam1", "name": "窗口 1", "window_id": "win-1", "codec": probe(url)["codec_name"],
                               "width": 640, "height": 360, "live": True}]
    # one upstream: the camera still has one RTSP session, the relay one subscription of the source
    assert cam.sessions() == 1


def test_twenty_concurrent_ffmpeg_viewers_all_receive_frames_from_one_upstream(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer
) -> None:
    cam = rtsp_camera_factory("h264", width=320, height=180)
    source = live_source(cam.url)
    relay.set_camera(RelayedCamera("cam1", "cam1", None, source))
    viewers = [FfmpegViewer(f"{relay.address}cam1.ts?token={TOKEN}") for _ in range(20)]
    try:
        assert wait_for(lambda: all(v.frames >= 50 for v in viewers), 40), [v.frames for v in viewers]
        st = relay.status().camera("cam1")
        assert st is not None and st.viewers == 20 and st.drops == 0
        assert len(source.subscriptions) == 1  # muxed once for all twenty
        assert cam.sessions() == 1
    finally:
        for v in viewers:
            v.stop()
    assert wait_for(lambda: relay.status().viewers == 0, 10)


def test_a_viewer_that_stops_reading_is_dropped_and_the_others_keep_their_frame_rate(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    cam = rtsp_camera_factory("h264", width=1280, height=720)  # about 2 Mbit/s: the stalled viewer fills up fast
    relay.set_camera(RelayedCamera("cam1", "cam1", None, live_source(cam.url)))
    url = f"{relay.address}cam1.ts?token={TOKEN}"
    viewers = [FfmpegViewer(url) for _ in range(3)]
    stalled: StalledViewer | None = None
    try:
        assert wait_for(lambda: all(v.frames >= 25 for v in viewers), 20), [v.frames for v in viewers]
        t0 = time.monotonic()
        assert wait_for(lambda: all(v.frames_at(time.monotonic()) > 0 for v in viewers)
                        and time.monotonic() - t0 >= 3, 10)
        t1 = time.monotonic()
        before = [v.fps(t0, t1) for v in viewers]
        stalled = StalledViewer(url)
        assert wait_for(lambda: (relay.status().camera("cam1") or relay.status()).viewers == 4, 10)
        stall_started = time.monotonic()
        assert wait_for(lambda: relay.status().cameras[0].drops == 1, 60), relay.status()
        # the others' rate while the stalled viewer filled its queue, and for 2 s after it was dropped
        assert wait_for(lambda: time.monotonic() - stall_started >= 3, 10)
        dropped_at = time.monotonic()
        assert wait_for(lambda: time.monotonic() - dropped_at >= 2, 5)
        t2 = time.monotonic()
        during = [v.fps(stall_started, t2) for v in viewers]
        # ffmpeg reports its progress every 0.25 s (±2 fps over 3 s), and a 720p camera and four
        # viewers share 2 cores; a relay waiting on the stalled viewer gives the others nothing
        for b, d in zip(before, during, strict=True):
            assert b >= 20, before  # the camera's 25 fps
            assert d >= 0.8 * b, (before, during)
        assert relay.status().cameras[0].viewers == 3
        assert stalled.closed_by_server()
    finally:
        if stalled is not None:
            stalled.close()
        for v in viewers:
            v.stop()
    assert any("stopped reading" in r.getMessage() for r in caplog.records)


def test_access_is_checked_and_the_token_never_logged(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    source = live_source(rtsp_camera_factory("h264", width=320, height=180).url)
    relay.set_camera(RelayedCamera("cam1", "one", None, source))
    relay.set_camera(RelayedCamera("cam2", "two", None, source))
    base = relay.address

    def get(path: str, token: str | None = None, *, header: bool = True) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token and header else {}
        params = {"token": token} if token and not header else {}
        return requests.get(base + path, headers=headers, params=params, timeout=10, stream=True)

    def status(path: str, token: str | None = None, *, header: bool = True) -> int:
        with get(path, token, header=header) as r:
            return r.status_code

    assert status("") == 401 and status("cam1.ts") == 401
    assert status("", "nobody") == 401 and status("cam1.ts", "nobody", header=False) == 401
    assert status("cam1.ts", "down") == 503
    with get("cam1.ts", "down") as r:
        assert "connection refused" in r.json()["error"]["message"] and r.headers["Retry-After"]
    assert status("cam2.ts", "cam1-only") == 403
    assert status("cam2.ts", "revoked") == 403
    assert status("cam9.ts", TOKEN) == 404
    assert [c["id"] for c in get("", "cam1-only").json()] == ["cam1"]
    assert [c["id"] for c in get("", TOKEN, header=False).json()] == ["cam1", "cam2"]
    with get("cam1.ts", TOKEN, header=False) as r:
        assert r.status_code == 200 and r.headers["Content-Type"] == "video/mp2t"
        assert next(r.iter_content(188)).startswith(b"\x47")  # an MPEG-TS sync byte
    with get("cam1.ts", "cam1-only") as r:
        assert r.status_code == 200
    assert wait_for(lambda: relay.status().viewers == 0, 10)
    # the relay's own log (urllib3 here is the test's client, logging its own request)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("video"))
    assert "token=***" in text
    assert TOKEN not in text and "cam1-only" not in text


def test_a_camera_removed_disconnects_its_viewers_and_a_late_viewer_starts_at_a_keyframe(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer
) -> None:
    source = live_source(rtsp_camera_factory("h264", width=320, height=180).url)
    relay.set_camera(RelayedCamera("cam1", "one", None, source))
    url = f"{relay.address}cam1.ts?token={TOKEN}"
    first = FfmpegViewer(url)
    try:
        assert wait_for(lambda: first.frames >= 30, 20)
        late = FfmpegViewer(url, seconds=1, decode=True)  # joins a running mux: given the cached GOP
        assert late.wait(20) == 0, late.stderr
        assert late.frames >= 20
        assert "non-existing PPS" not in late.stderr and "no frame" not in late.stderr
        relay.remove_camera("cam1")
        assert first.wait(10) == 0 or first.proc.returncode is not None
        assert wait_for(lambda: not source.subscriptions, 10)  # the feed let go of the source
    finally:
        first.stop()


def test_a_cameras_sub_stream_is_listed_and_served_as_stream_sub_with_its_own_size(
    rtsp_camera_factory: CameraFactory, live_source: Callable[[str], Source], relay: RelayServer
) -> None:
    main = live_source(rtsp_camera_factory("h264", width=640, height=360).url)
    sub = live_source(rtsp_camera_factory("h264", width=320, height=180).url)
    relay.set_camera(RelayedCamera("cam1", "one", None, main, sub=sub))
    relay.set_camera(RelayedCamera("cam2", "two", None, main))  # no sub-stream
    base = relay.address
    listing = requests.get(base, params={"token": TOKEN}, timeout=10).json()
    assert [(c["id"], c.get("sub")) for c in listing] == [("cam1", True), ("cam2", None)]
    assert probe(f"{base}cam1.ts?token={TOKEN}&stream=sub") == {"codec_name": "h264", "width": 320, "height": 180}
    assert probe(f"{base}cam1.ts?token={TOKEN}") == {"codec_name": "h264", "width": 640, "height": 360}

    def status(path: str) -> int:
        with requests.get(base + path, params={"token": TOKEN}, timeout=10, stream=True) as r:
            return r.status_code

    assert status("cam2.ts?stream=sub") == 404
    assert status("cam1.ts?stream=fourth") == 400
    assert relay.status().camera("cam1", "sub") is not None
    # taken off: both streams go, and the sub-stream's feed lets go of its source
    relay.set_camera(RelayedCamera("cam1", "one", None, main))
    assert wait_for(lambda: not sub.subscriptions, 10)
    assert status("cam1.ts?stream=sub") == 404
