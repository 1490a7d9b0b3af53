"""Sources over the other protocols cameras and relays speak: RTMP, MJPEG and FLV over HTTP, MPEG-TS
over HTTPS — each against a real server started by a fixture on 127.0.0.1 (nginx-rtmp fed by ffmpeg,
and the small servers in ``media_servers``).
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from tests.video.media_servers import FlvHttpServer, MjpegServer, PublisherFactory, RtmpServer, TsServerFactory
from tests.video.waiting import FAST, take, wait_for
from video.source import MediaPacket, Source, SourceOptions, SourceState
from video.synthetic import write_file

CLIP_SECONDS = 2


def decode(packets: list[MediaPacket]) -> list[av.VideoFrame]:
    """Decode ``packets`` with a fresh decoder given only what a consumer gets: the first packet's
    ``StreamInfo`` (codec, extradata) — as the display decoder and the recorder do."""
    info = packets[0].info
    ctx = av.CodecContext.create(info.codec, "r")
    assert isinstance(ctx, av.VideoCodecContext)
    if info.extradata:
        ctx.extradata = info.extradata
    frames: list[av.VideoFrame] = []
    for p in packets:
        frames += ctx.decode(p.to_av())
    frames += ctx.decode(None)
    return frames


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of the synthetic hall, H.264 640x360 at 25 fps, a keyframe every second, in MPEG-TS."""
    path = tmp_path_factory.mktemp("media") / "hall.ts"
    write_file(path, seconds=CLIP_SECONDS, label="P01")
    return path


# ``source_factory`` comes from conftest.py.


# -- RTMP: nginx-rtmp, fed by ffmpeg -----------------------------------------------------------


def _publish(server: RtmpServer, publishers: PublisherFactory, clip: Path, stream: str = "cam") -> None:
    publisher = publishers(clip, server.url(stream))
    assert server.wait_publishing(stream, timeout=10), f"not published:\n{publisher.log_tail()}\n{server.log_tail()}"


def test_rtmp_from_nginx_frames_codec_size_and_live(
    clip: Path,
    rtmp_server: RtmpServer,
    rtmp_publisher_factory: PublisherFactory,
    source_factory: Callable[..., Source],
) -> None:
    _publish(rtmp_server, rtmp_publisher_factory, clip)
    src = source_factory(rtmp_server.url("cam"))
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 30, timeout=10)
    assert len(got) == 30, src.status()
    st = src.status()
    assert st.state is SourceState.LIVE
    assert st.info is not None and (st.info.codec, st.info.width, st.info.height) == ("h264", 640, 360)
    assert st.info.container in ("flv", "live_flv")  # FFmpeg demuxes RTMP's payload as FLV
    assert st.info.fps == pytest.approx(25)
    assert got[0].keyframe, "a subscription starts on a keyframe"
    frames = decode(got)
    assert len(frames) == 30 and (frames[0].width, frames[0].height) == (640, 360), "decodable from the first packet"
    # The first second comes in a burst (FFmpeg read it while probing the stream); then real time.
    sub.drain()
    more = take(sub, 25, timeout=3)
    span = more[-1].mono - more[0].mono
    # (a burst is all at once; the upper bound leaves a loaded machine its hiccups)
    assert 0.7 < span < 2.0, f"24 frame intervals at 25 fps, live (no burst, no lag): {span:.2f} s"


def test_rtmp_server_killed_and_restarted_keeps_its_consumers(
    clip: Path,
    rtmp_server: RtmpServer,
    rtmp_publisher_factory: PublisherFactory,
    source_factory: Callable[..., Source],
) -> None:
    _publish(rtmp_server, rtmp_publisher_factory, clip)
    src = source_factory(rtmp_server.url("cam"))
    sub = src.subscribe("display")
    src.start()
    assert len(take(sub, 10, timeout=10)) == 10, src.status()
    rtmp_server.kill()  # the publisher's connection dies with it, and ffmpeg exits
    killed = time.monotonic()
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 3), src.status()
    assert time.monotonic() - killed < 3
    assert wait_for(lambda: (src.status().error or "").startswith("connection refused"), 4), src.status()
    rtmp_server.start()  # same ports
    _publish(rtmp_server, rtmp_publisher_factory, clip)
    restarted = time.monotonic()
    assert wait_for(lambda: src.state is SourceState.LIVE, 6), src.status()
    assert time.monotonic() - restarted < 6
    sub.drain()
    again = take(sub, 10, timeout=5)
    assert len(again) == 10, "the same subscription receives again"
    assert again[0].info.connection > 1
    assert src.status().reconnects >= 1


def test_rtmp_publisher_gone_stalls_the_source_until_it_publishes_again(
    clip: Path,
    rtmp_server: RtmpServer,
    rtmp_publisher_factory: PublisherFactory,
    source_factory: Callable[..., Source],
) -> None:
    """The encoder stops but the server stays up: nginx-rtmp keeps the player's connection open and
    sends nothing, so it is the stall watchdog that notices."""
    publisher = rtmp_publisher_factory(clip, rtmp_server.url("cam"))
    assert rtmp_server.wait_publishing("cam", timeout=10), publisher.log_tail()
    src = source_factory(rtmp_server.url("cam"))
    seen: list[SourceState] = []
    src.add_listener(lambda s: seen.append(s.state))
    sub = src.subscribe("t")
    src.start()
    assert len(take(sub, 10, timeout=10)) == 10, src.status()
    publisher.stop()
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, FAST.stall_after + 3), src.status()
    assert SourceState.STALLED in seen
    assert src.status().error == "no video for 2 s"
    publisher.start()
    assert rtmp_server.wait_publishing("cam", timeout=10), publisher.log_tail()
    assert wait_for(lambda: src.state is SourceState.LIVE, 8), src.status()
    sub.drain()
    assert len(take(sub, 5, timeout=3)) == 5


def test_rtmp_stream_nobody_publishes_is_a_timeout_in_words(
    rtmp_server: RtmpServer, source_factory: Callable[..., Source]
) -> None:
    src = source_factory(rtmp_server.url("nobody"), SourceOptions(open_timeout=2, backoff_initial=0.2))
    src.start()
    assert wait_for(lambda: src.status().error is not None, 5), src.status()
    st = src.status()
    assert st.state is SourceState.RECONNECTING
    assert st.error == "no answer within 2 s"
    assert st.packets == 0


# -- MJPEG over HTTP (multipart/x-mixed-replace) ---------------------------------------------------


@pytest.mark.parametrize(
    "style",
    [
        {},
        {"part_length": False},  # parts delimited by the boundary alone
        {"boundary": "--myboundary", "delimiter": "--myboundary"},  # dashes in the header, repeated verbatim
    ],
    ids=["content-length", "boundary-only", "dashed-boundary"],
)
def test_mjpeg_camera_over_http_frames_codec_size_and_live(
    style: dict[str, object],
    mjpeg_server_factory: Callable[..., MjpegServer],
    source_factory: Callable[..., Source],
) -> None:
    cam = mjpeg_server_factory(width=640, height=360, fps=12, **style)
    src = source_factory(cam.url)
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 24, timeout=8)
    assert len(got) == 24, src.status()
    st = src.status()
    assert st.state is SourceState.LIVE
    assert st.info is not None and (st.info.codec, st.info.width, st.info.height) == ("mjpeg", 640, 360)
    assert st.info.container == "mpjpeg"  # detected from the stream; no format given
    assert all(p.keyframe for p in got), "every JPEG stands alone"
    assert all(p.data[:2] == b"\xff\xd8" and p.data[-2:] == b"\xff\xd9" for p in got), "whole JPEGs"
    assert {p.data for p in got} <= set(cam.frames)
    frames = decode(got[-1:])
    assert len(frames) == 1 and (frames[0].width, frames[0].height) == (640, 360)
    gaps = [b.mono - a.mono for a, b in itertools.pairwise(got)]
    assert statistics.median(gaps) == pytest.approx(1 / 12, abs=0.03), "frames arrive as the camera sends them"
    assert sub.dropped == 0


def test_mjpeg_camera_that_drops_the_connection_reconnects(
    mjpeg_server_factory: Callable[..., MjpegServer], source_factory: Callable[..., Source]
) -> None:
    cam = mjpeg_server_factory(fps=15)
    src = source_factory(cam.url)
    sub = src.subscribe("t")
    src.start()
    assert len(take(sub, 10, timeout=8)) == 10, src.status()
    assert cam.drop_clients() == 1
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 3), src.status()
    assert wait_for(lambda: src.state is SourceState.LIVE, 5), src.status()
    sub.drain()
    again = take(sub, 5, timeout=3)
    assert len(again) == 5 and again[0].info.connection == 2
    assert cam.requests == 2


def test_mjpeg_camera_fps_and_timestamps_follow_the_camera(
    mjpeg_server_factory: Callable[..., MjpegServer], source_factory: Callable[..., Source]
) -> None:
    cam = mjpeg_server_factory(fps=12)
    src = source_factory(cam.url)
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 25, timeout=8)
    assert len(got) == 25, src.status()
    info = got[0].info
    assert info.fps is None or info.fps == pytest.approx(12, rel=0.2), f"fps {info.fps}: the stream does not say"
    first, last = got[0].seconds, got[-1].seconds
    assert first is not None and last is not None
    assert last - first == pytest.approx(got[-1].mono - got[0].mono, rel=0.2), "timestamps follow the clock"


# -- FLV over HTTP ---------------------------------------------------------------------------------


def test_http_flv_frames_then_server_closes_and_the_source_reconnects(
    clip: Path, flv_server_factory: Callable[[Path], FlvHttpServer], source_factory: Callable[..., Source]
) -> None:
    server = flv_server_factory(clip)
    src = source_factory(server.url)
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 30, timeout=8)
    assert len(got) == 30, src.status()
    st = src.status()
    assert st.state is SourceState.LIVE
    assert st.info is not None and (st.info.codec, st.info.width, st.info.height) == ("h264", 640, 360)
    assert st.info.container == "flv"
    assert st.info.fps == pytest.approx(25)
    assert got[0].keyframe
    assert len(decode(got)) == 30, "decodable from the first packet"
    dts = [p.dts for p in got]
    assert all(a is not None and b is not None and b > a for a, b in itertools.pairwise(dts))

    assert server.drop_clients() == 1  # the server closes the stream
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 3), src.status()
    assert wait_for(lambda: src.state is SourceState.LIVE, 5), src.status()
    sub.drain()
    again = take(sub, 10, timeout=4)
    assert len(again) == 10 and again[0].info.connection == 2
    assert src.status().reconnects >= 1

    server.stop()  # and now it is gone for good
    assert wait_for(lambda: (src.status().error or "").startswith("connection refused"), 5), src.status()
    assert src.state is SourceState.RECONNECTING


@pytest.mark.parametrize("kind", ["flv", "mjpeg"])
def test_a_server_closing_a_live_http_stream_is_said_in_words(
    kind: str,
    clip: Path,
    flv_server_factory: Callable[[Path], FlvHttpServer],
    mjpeg_server_factory: Callable[..., MjpegServer],
    source_factory: Callable[..., Source],
) -> None:
    server = flv_server_factory(clip) if kind == "flv" else mjpeg_server_factory()
    src = source_factory(server.url, SourceOptions(open_timeout=4, stall_after=2, backoff_initial=5))
    sub = src.subscribe("t")
    src.start()
    assert len(take(sub, 5, timeout=8)) == 5, src.status()
    server.drop_clients()
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 3), src.status()
    assert src.status().error in ("the camera closed the stream", "the connection was cut")


# -- MPEG-TS over HTTPS (self-signed) --------------------------------------------------------------


def test_https_mpegts_with_a_self_signed_certificate(
    clip: Path, ts_server_factory: TsServerFactory, source_factory: Callable[..., Source]
) -> None:
    server = ts_server_factory(clip, seconds=CLIP_SECONDS, tls=True)
    assert server.url.startswith("https://127.0.0.1:")
    src = source_factory(server.url)
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 30, timeout=8)
    assert len(got) == 30, src.status()
    st = src.status()
    assert st.state is SourceState.LIVE
    assert st.info is not None and (st.info.codec, st.info.width, st.info.height, st.info.container) == (
        "h264", 640, 360, "mpegts",
    )
    assert got[0].keyframe
    assert len(decode(got)) == 30, "decodable from the first packet"


def test_video_that_stops_while_audio_flows_is_a_stall(
    tmp_path: Path, ffmpeg_command: str, ts_server_factory: TsServerFactory, source_factory: Callable[..., Source]
) -> None:
    """A camera whose encoder stops while its audio goes on keeps the socket busy: the watchdog must
    count packets without video, not bytes."""
    clip = tmp_path / "audio-outlasts-video.ts"
    subprocess.run(
        [
            ffmpeg_command, "-nostdin", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=1",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=8", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", "-f", "mpegts", str(clip),
        ],
        check=True, capture_output=True, timeout=60,
    )
    server = ts_server_factory(clip, seconds=8)
    src = source_factory(server.url)
    seen: list[SourceState] = []
    src.add_listener(lambda s: seen.append(s.state))
    src.subscribe("t")
    src.start()
    assert wait_for(lambda: SourceState.LIVE in seen, 8), src.status()
    assert wait_for(lambda: SourceState.STALLED in seen, 8), src.status()
    assert src.status().error == "no video for 2 s"
