"""The test servers themselves, seen through PyAV (FFmpeg) as the video code sees a camera."""

from __future__ import annotations

import signal
import socket
import time
from typing import Any

import av
import av.error
import pytest

from tests.video.camera_servers import CameraFactory, GarbageServer, RtspCamera, SilentServer, free_port

OPTIONS = {"rtsp_transport": "tcp"}


def _read(url: str, count: int = 10, timeout: tuple[float, float] = (5, 5)) -> tuple[str, int, int, int]:
    """Open ``url``, read ``count`` video packets; (codec name, width, height, keyframes seen)."""
    with av.open(url, options=OPTIONS, timeout=timeout) as container:
        stream: Any = container.streams.video[0]
        keyframes = 0
        packets = 0
        for packet in container.demux(stream):
            if packet.size == 0:  # the flush packet at the end of a stream
                continue
            packets += 1
            keyframes += bool(packet.is_keyframe)
            if packets >= count:
                break
        assert packets >= count, f"only {packets} packets from {url}"
        ctx = stream.codec_context
        return str(ctx.name), int(ctx.width), int(ctx.height), keyframes


def _running(cam: RtspCamera) -> bool:
    """``cam.running`` unnarrowed (mypy keeps an asserted property's value across start/stop calls)."""
    return cam.running


def test_h264_camera_serves_live_video(rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory()
    assert cam.running
    assert cam.url == f"rtsp://127.0.0.1:{cam.port}/cam"
    name, width, height, keyframes = _read(cam.url, count=30)
    assert (name, width, height) == ("h264", 640, 360)
    assert keyframes >= 1


def test_h265_camera_at_another_size(rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory("h265", width=320, height=240, fps=15)
    name, width, height, _ = _read(cam.url)
    assert (name, width, height) == ("hevc", 320, 240)


def test_basic_auth_admits_only_the_right_credentials(rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory(user="admin", password="s3cret")
    assert cam.url == f"rtsp://admin:s3cret@127.0.0.1:{cam.port}/cam"
    assert _read(cam.url)[0] == "h264"
    wrong = cam.url.replace("s3cret", "wrong")
    anonymous = f"rtsp://127.0.0.1:{cam.port}/cam"
    for url in (wrong, anonymous):
        with pytest.raises(av.error.HTTPUnauthorizedError):
            av.open(url, options=OPTIONS, timeout=(5, 5))


def test_stop_kill_and_restart_on_the_same_port(rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory()
    port, url = cam.port, cam.url
    with av.open(url, options=OPTIONS, timeout=(5, 5)) as held:  # a client connected across the restart
        next(held.demux(video=0))
        cam.kill()  # a crashed camera
        assert not _running(cam)
        with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
            pass
        cam.start()
    assert cam.port == port and _running(cam)
    assert _read(url)[0] == "h264"
    cam.stop()
    assert not _running(cam)
    cam.stop()  # idempotent
    cam.start()
    assert _read(url)[0] == "h264"


@pytest.mark.usefixtures("rtsp_camera_factory")  # for its skip where GStreamer is missing
def test_camera_as_context_manager_on_a_chosen_port() -> None:
    port = free_port()
    with RtspCamera(port=port) as cam:
        assert _running(cam) and cam.port == port
    assert not _running(cam)


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_silent_server_times_out(silent_server: SilentServer, scheme: str) -> None:
    url = silent_server.url(scheme)
    assert url.startswith(f"{scheme}://127.0.0.1:{silent_server.port}/")
    start = time.monotonic()
    with pytest.raises(av.error.FFmpegError):
        av.open(url, options=OPTIONS if scheme == "rtsp" else {}, timeout=(1, 1))
    assert time.monotonic() - start < 3
    assert silent_server.accepted >= 1


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_garbage_server_is_an_error_not_a_hang(garbage_server: GarbageServer, scheme: str) -> None:
    start = time.monotonic()
    with pytest.raises(av.error.FFmpegError):
        av.open(garbage_server.url(scheme), options=OPTIONS if scheme == "rtsp" else {}, timeout=(3, 3))
    assert time.monotonic() - start < 5
    assert garbage_server.accepted >= 1


def test_tcp_servers_stop_promptly_with_clients_connected() -> None:
    for server in (SilentServer(), GarbageServer(seed=7)):
        clients = [socket.create_connection(("127.0.0.1", server.port), timeout=2) for _ in range(3)]
        try:
            deadline = time.monotonic() + 2
            while server.accepted < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert server.accepted == 3
            if isinstance(server, GarbageServer):
                clients[0].sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
                assert len(clients[0].recv(65536)) > 0
            start = time.monotonic()
            server.stop()
            assert time.monotonic() - start < 1.5
        finally:
            for c in clients:
                c.close()


def test_garbage_is_seeded() -> None:
    def first_bytes(seed: int) -> bytes:
        with GarbageServer(seed=seed, read_request=False) as server, socket.create_connection(
            ("127.0.0.1", server.port), timeout=2
        ) as c:
            data = b""
            while len(data) < 1024:
                data += c.recv(1024 - len(data))
            return data

    assert first_bytes(1) == first_bytes(1) != first_bytes(2)


def test_a_frozen_camera_still_stops_promptly(rtsp_camera_factory: CameraFactory) -> None:
    cam = rtsp_camera_factory()
    cam.send_signal(signal.SIGSTOP)  # listening, but answers nothing: a hung camera
    with pytest.raises(av.error.FFmpegError):
        av.open(cam.url, options=OPTIONS, timeout=(1, 1))
    start = time.monotonic()
    cam.stop()
    assert time.monotonic() - start < 2 and not _running(cam)
