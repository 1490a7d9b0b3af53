"""The terminal pushing its cameras once to a standard server (``[relay] push`` / ``hls``) that leaders pull
from: real RTSP cameras, a real nginx with the RTMP and DAV modules, and ffprobe as the leader's player."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.relay_push import RelayPushService, stream_url
from app.terminal import Terminal
from supervision.config import CameraEntry, Config, RelayConfig
from tests.video.camera_servers import CameraFactory
from tests.video.nginx_dav import DavServer, ffprobe_video, running_dav_server
from tests.video.waiting import wait_for
from video.relay.push import PushState


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[DavServer]:
    """One nginx taking RTMP (``.rtmp_base``) and HLS uploads (``.base``)."""
    with running_dav_server(tmp_path / "nginx", rtmp=True) as server:
        yield server


def test_a_terminal_pushes_each_camera_once_both_ways_and_leaders_pull_them_from_nginx(
    tmp_path: Path, rtsp_camera_factory: CameraFactory, nginx: DavServer
) -> None:
    h264 = rtsp_camera_factory("h264", width=640, height=360)
    h265 = rtsp_camera_factory("h265", width=480, height=272)
    cfg = Config(
        cameras=[CameraEntry(id="A01", name="A01", url=h264.url), CameraEntry(id="B02", name="B02", url=h265.url)],
        relay=RelayConfig(serve=False, push=nginx.rtmp_base, hls=nginx.base),
    )
    terminal = Terminal(cfg, tmp_path / "data", command="test", sync=False)
    terminal.start()
    try:
        push = terminal.relay_push
        assert isinstance(push, RelayPushService) and terminal.relay is None
        relay_url = terminal.heartbeat_info().relay_url
        assert relay_url == f"{nginx.base}/{{camera_id}}/index.m3u8"  # HLS: every codec plays from it

        def live(cid: str, kind: str) -> bool:
            return any(s.state is PushState.LIVE for s in push.status().of(cid, kind))

        assert wait_for(lambda: live("A01", "rtmp") and live("A01", "hls") and live("B02", "hls"), 30), (
            push.status(), nginx.log_tail())
        # leaders' players, pulling from nginx: codec and size as the cameras send them
        assert ffprobe_video(stream_url(relay_url, "A01")) == ("h264", 640, 360)
        assert ffprobe_video(stream_url(relay_url, "B02")) == ("hevc", 480, 272)
        assert ffprobe_video(f"{nginx.rtmp_base}/A01") == ("h264", 640, 360)
        # the H.265 camera is refused for RTMP, in words, and still goes out as HLS
        (refused,) = push.status().of("B02", "rtmp")
        assert refused.state is PushState.REFUSED and refused.reason is not None and "H.265" in refused.reason
        # recorded and pushed two ways: still one connection to each camera
        assert h264.sessions() == 1 and h265.sessions() == 1
        a01 = terminal.cameras.get("A01")
        assert a01 is not None and a01.main.status().consumers == 3  # the recorder's and the two pushes'
    finally:
        assert terminal.stop()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("hallwatch-push-")]


def test_only_the_cameras_listed_in_relay_cameras_are_pushed(
    tmp_path: Path, rtsp_camera_factory: CameraFactory, nginx: DavServer
) -> None:
    # two cameras, as in a hall (two sessions on one test camera's shared media can crash GStreamer's
    # RTSP server: CI saw the camera die between the two clients' setups)
    a01, a02 = rtsp_camera_factory("h264"), rtsp_camera_factory("h264")
    cfg = Config(
        cameras=[CameraEntry(id="A01", name="A01", url=a01.url), CameraEntry(id="A02", name="A02", url=a02.url)],
        relay=RelayConfig(serve=False, hls=nginx.base, cameras=["A02"]),
    )
    terminal = Terminal(cfg, tmp_path / "data", command="test", sync=False, record=False)
    terminal.start()
    try:
        push = terminal.relay_push
        assert push is not None
        assert wait_for(lambda: any(s.state is PushState.LIVE for s in push.status().of("A02")), 30), (
            push.status(), a02.running, a02.log_tail(), nginx.log_tail())
        assert [s.camera_id for s in push.status().pushes] == ["A02"]
        assert nginx.files("A01") == []
    finally:
        assert terminal.stop()


def test_stream_url_fills_a_pushed_template_and_names_the_built_in_relays_stream() -> None:
    assert stream_url("http://cdn.example/hls/{camera_id}/index.m3u8", "A 01") == \
        "http://cdn.example/hls/A%2001/index.m3u8"
    assert stream_url("rtmp://10.0.0.7/live/{camera_id}", "A01") == "rtmp://10.0.0.7/live/A01"
    assert stream_url("http://10.0.0.7:8088/live/", "A01") == "http://10.0.0.7:8088/live/A01.ts"


def test_the_relay_url_never_carries_the_upload_token_or_stream_key(tmp_path: Path) -> None:
    from app.relay_push import pull_url

    cfg = RelayConfig(serve=False, push="rtmp://10.0.0.7:1935/live?key=SeCrEt", hls="https://cdn.example/hls/?tok=SeCrEt2")
    assert pull_url(cfg) == "https://cdn.example/hls/{camera_id}/index.m3u8"
    assert pull_url(RelayConfig(serve=False, push="rtmp://10.0.0.7:1935/live?key=SeCrEt")) == \
        "rtmp://10.0.0.7:1935/live/{camera_id}"
