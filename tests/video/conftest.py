"""Fixtures for the video tests: a clip, sources, and real servers on 127.0.0.1 (see ``camera_servers``).

``rtsp_camera_factory`` needs GStreamer's RTSP server under Debian's ``/usr/bin/python3``; where that is
missing the tests using it are skipped, except under ``CI`` (which installs it), where they fail.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ci import unavailable
from tests.video.camera_servers import (
    CameraFactory,
    GarbageServer,
    RtspCamera,
    SilentServer,
    gst_rtsp_unavailable,
)
from tests.video.media_servers import (
    FfmpegPublisher,
    FlvHttpServer,
    MjpegServer,
    PublisherFactory,
    RtmpServer,
    TsHttpServer,
    TsServerFactory,
    nginx_rtmp_unavailable,
    openssl_unavailable,
    self_signed_certificate,
)
from tests.video.waiting import FAST
from video.source import Source, SourceOptions
from video.synthetic import CameraSpec, SyntheticCameraServer, write_file


def _require(reason: str | None, what: str) -> None:
    if reason is not None:
        unavailable(reason, what)


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 s of the synthetic hall, H.264 640x360 at 25 fps, a keyframe every second, in MPEG-TS
    (``test_source_protocols`` and ``test_bench`` make their own)."""
    path = tmp_path_factory.mktemp("media") / "hall.ts"
    write_file(path, seconds=3, label="A01")
    return path


@pytest.fixture
def source_factory() -> Iterator[Callable[..., Source]]:
    """``make(url, options=FAST) -> Source`` (not started); every source made must stop at teardown."""
    made: list[Source] = []

    def make(url: str, options: SourceOptions = FAST) -> Source:
        s = Source(url, options)
        made.append(s)
        return s

    yield make
    for s in made:
        assert s.stop(timeout=10), f"{s.masked_url} did not stop"


@pytest.fixture
def synthetic() -> Iterator[SyntheticCameraServer]:
    """The synthetic cameras' HTTP server with one camera, ``window/A01``."""
    with SyntheticCameraServer({"window/A01": CameraSpec("A01")}) as server:
        yield server


@dataclass(frozen=True)
class LiveCamera:
    """A live camera a test can freeze with its connection open (``kind``: "synthetic" or "rtsp")."""

    kind: str
    url: str
    freeze: Callable[[bool], None]


@pytest.fixture(params=["synthetic", "rtsp"])
def live_camera(request: pytest.FixtureRequest) -> Iterator[LiveCamera]:
    """The same claim against both live cameras: the synthetic HTTP camera (frozen by the server) and
    gst-rtsp-server (frozen with SIGSTOP, thawed with SIGCONT: its sockets stay open, nothing moves)."""
    if request.param == "synthetic":
        with SyntheticCameraServer({"window/A01": CameraSpec("A01")}) as server:
            yield LiveCamera("synthetic", server.url("window/A01"), lambda on: server.freeze("window/A01", on))
        return
    factory: CameraFactory = request.getfixturevalue("rtsp_camera_factory")
    cam = factory("h264")

    def freeze(on: bool) -> None:
        cam.send_signal(signal.SIGSTOP if on else signal.SIGCONT)

    try:
        yield LiveCamera("rtsp", cam.url, freeze)
    finally:
        if cam.running:
            cam.send_signal(signal.SIGCONT)  # a stopped process would not see the SIGTERM of its teardown


@pytest.fixture
def ffmpeg_command() -> str:
    """The ``ffmpeg`` command (the benchmarks' reference). Skips (fails under CI) without it."""
    path = shutil.which("ffmpeg")
    _require(None if path else "the ffmpeg command is not installed (apt-get install ffmpeg)", "ffmpeg")
    assert path is not None
    return path


@pytest.fixture
def rtsp_camera_factory(tmp_path: Path) -> Iterator[CameraFactory]:
    """``make(codec="h264", **kw) -> RtspCamera``: start a real RTSP camera (already listening when
    returned); every camera made is stopped at teardown. Skips (fails under CI) without GStreamer."""
    _require(gst_rtsp_unavailable("h264"), "the RTSP camera's packages")
    with contextlib.ExitStack() as made:

        def make(codec: str = "h264", **options: Any) -> RtspCamera:  # RtspCamera's options (CameraFactory)
            if codec != "h264":
                _require(gst_rtsp_unavailable(codec), "the RTSP camera's packages")
            return made.enter_context(RtspCamera(codec, log_dir=tmp_path / "cameras", **options))  # starts it

        yield make


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


# -- streaming servers for the protocol tests (see ``media_servers``) ------------------------------
#
# ``rtmp_server`` and ``rtmp_publisher_factory`` need nginx with its RTMP module and the ffmpeg command;
# ``ts_server_factory(tls=True)`` needs the openssl command. Where they are missing the tests using
# them are skipped, except under ``CI`` (which installs them), where they fail.


@pytest.fixture
def rtmp_server(tmp_path: Path) -> Iterator[RtmpServer]:
    """nginx-rtmp listening on ``rtmp://127.0.0.1:<port>/live/<stream>`` (``.url("cam")``), its work folder
    under ``tmp_path``; stopped at teardown. Skips (fails under CI) without nginx's RTMP module or ffmpeg."""
    _require(nginx_rtmp_unavailable(), "nginx, libnginx-mod-rtmp and ffmpeg")
    server = RtmpServer(work_dir=tmp_path / "nginx-rtmp")
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def rtmp_publisher_factory(tmp_path: Path) -> Iterator[PublisherFactory]:
    """``make(clip, url) -> FfmpegPublisher``: ffmpeg pushing ``clip`` in a loop, at real time, as FLV to
    ``url`` (already started when returned); every publisher made is stopped at teardown."""
    _require(nginx_rtmp_unavailable(), "nginx, libnginx-mod-rtmp and ffmpeg")
    numbers = itertools.count(1)
    with contextlib.ExitStack() as made:

        def make(clip: Path, url: str) -> FfmpegPublisher:
            log_path = tmp_path / "publishers" / f"publisher-{next(numbers)}.log"
            publisher = FfmpegPublisher(clip, url, log_path=log_path)
            made.callback(publisher.stop)
            return publisher.start()

        yield make


@pytest.fixture
def mjpeg_server_factory() -> Iterator[Callable[..., MjpegServer]]:
    """``make(**MjpegServer options) -> MjpegServer``: an MJPEG camera on ``.url`` (…/video.mjpg);
    every server made is stopped at teardown."""
    with contextlib.ExitStack() as made:
        yield lambda **options: made.enter_context(MjpegServer(**options))


@pytest.fixture
def flv_server_factory() -> Iterator[Callable[[Path], FlvHttpServer]]:
    """``make(clip) -> FlvHttpServer``: ``clip`` as an endless HTTP-FLV stream on ``.url`` (…/live.flv);
    every server made is stopped at teardown."""
    with contextlib.ExitStack() as made:
        yield lambda clip: made.enter_context(FlvHttpServer(clip))


@pytest.fixture
def ts_server_factory(tmp_path: Path) -> Iterator[TsServerFactory]:
    """``make(clip, seconds=…, tls=False) -> TsHttpServer``: ``clip`` (``seconds`` long) looped at its bit
    rate on ``.url`` (…/live.ts); ``tls=True`` serves HTTPS with a fresh self-signed certificate (skips,
    or fails under CI, without the openssl command). Every server made is stopped at teardown."""
    with contextlib.ExitStack() as made:

        def make(clip: Path, *, seconds: float, tls: bool = False) -> TsHttpServer:
            context = None
            if tls:
                _require(openssl_unavailable(), "openssl")
                context = self_signed_certificate(tmp_path / "tls")
            return made.enter_context(TsHttpServer(clip, seconds=seconds, tls=context))

        yield make
