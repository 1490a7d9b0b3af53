"""Pushing a camera once to a standard server: RTMP into nginx-rtmp, HLS by PUT into nginx's DAV module.

Real cameras (gst-rtsp-server), real nginx started by the fixtures, and the ffprobe command pulling
the stream back from nginx as a leader's player would.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.video.camera_servers import CameraFactory, SilentServer
from tests.video.media_servers import RtmpServer
from tests.video.nginx_dav import DavServer, ffprobe_video, running_dav_server
from tests.video.waiting import wait_for
from video.relay.hls import HlsOptions, HlsPush
from video.relay.push import Pusher, PushOptions, PushState, RtmpPush
from video.source import Source, SourceState

QUICK = PushOptions(timeout=2.0, backoff_initial=0.2, backoff_max=1.0)


@pytest.fixture
def dav_server(tmp_path: Path) -> Iterator[DavServer]:
    """nginx accepting HLS uploads under http://127.0.0.1:<port>/hls (``.base``)."""
    with running_dav_server(tmp_path / "nginx-dav") as server:
        yield server


@pytest.fixture
def pushers() -> Iterator[list[Pusher]]:
    """Pushers a test starts; each must stop (its thread joined) at teardown."""
    made: list[Pusher] = []
    yield made
    for p in made:
        assert p.stop(timeout=10), f"{p.camera_id} {p.kind} push did not stop"


def _playlist_segments(server: DavServer, camera_id: str) -> list[str]:
    path = server.root / "hls" / camera_id / "index.m3u8"
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if line.endswith(".ts")]


# -- RTMP ----------------------------------------------------------------------------------------------


def test_an_h264_camera_pushed_over_rtmp_is_pulled_back_from_nginx_with_its_codec_and_size(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], rtmp_server: RtmpServer,
    pushers: list[Pusher],
) -> None:
    cam = rtsp_camera_factory("h264", width=640, height=360)
    source = source_factory(cam.url)
    source.start()
    push = RtmpPush(source, "A01", f"rtmp://127.0.0.1:{rtmp_server.port}/live", QUICK)
    pushers.append(push)
    push.start()
    assert rtmp_server.wait_publishing("A01", timeout=15), (push.status(), rtmp_server.log_tail())
    assert ffprobe_video(rtmp_server.url("A01")) == ("h264", 640, 360)
    s = push.status()
    assert s.state is PushState.LIVE and s.reason is None and s.codec == "h264"
    assert s.packets > 0 and s.bytes > 0
    assert cam.sessions() == 1  # the push rides on the source's connection: no second one to the camera


def test_the_rtmp_push_resumes_by_itself_when_nginx_is_killed_and_started_again(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], rtmp_server: RtmpServer,
    pushers: list[Pusher],
) -> None:
    cam = rtsp_camera_factory("h264")
    source = source_factory(cam.url)
    source.start()
    push = RtmpPush(source, "A01", f"rtmp://127.0.0.1:{rtmp_server.port}/live", QUICK)
    pushers.append(push)
    push.start()
    assert rtmp_server.wait_publishing("A01", timeout=15), push.status()

    rtmp_server.kill()
    assert wait_for(lambda: push.status().state is PushState.RETRYING, timeout=10), push.status()
    assert push.status().reason  # in words: the server closed the connection / nothing is listening
    rtmp_server.start()
    assert rtmp_server.wait_publishing("A01", timeout=15), (push.status(), rtmp_server.log_tail())
    assert ffprobe_video(rtmp_server.url("A01")) == ("h264", cam.width, cam.height)
    s = push.status()
    assert s.state is PushState.LIVE and s.reconnects >= 1


def test_an_h265_camera_is_refused_for_rtmp_with_the_reason_in_its_status_and_the_log(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], rtmp_server: RtmpServer,
    pushers: list[Pusher], caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="video.relay.push")
    cam = rtsp_camera_factory("h265")
    source = source_factory(cam.url)
    source.start()
    push = RtmpPush(source, "B02", f"rtmp://127.0.0.1:{rtmp_server.port}/live", QUICK)
    pushers.append(push)
    push.start()
    assert wait_for(lambda: push.status().state is PushState.REFUSED, timeout=15), push.status()
    s = push.status()
    assert s.reason is not None and "H.265" in s.reason and "RTMP" in s.reason and "hls" in s.reason
    assert s.codec == "hevc" and s.packets == 0
    refusals = [r for r in caplog.records if "B02" in r.getMessage() and "H.265" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in caplog.records]  # said once, not per packet
    # the camera streams all along, the refusal is not repeated, nothing reaches nginx
    assert wait_for(lambda: source.status().packets > 50, timeout=10)
    assert push.status().state is PushState.REFUSED and push.status().packets == 0
    assert len([r for r in caplog.records if "B02" in r.getMessage()]) == 1
    assert not rtmp_server.publishing("B02")


@pytest.mark.parametrize("kind", ["rtmp", "hls"])
def test_a_push_stops_at_once_while_the_server_it_waits_on_is_silent(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], silent_server: SilentServer, kind: str,
) -> None:
    """A server that takes the connection and never answers: the push waits on it (its timeout is 30 s),
    and stop() still ends the thread at once."""
    cam = rtsp_camera_factory("h264")
    source = source_factory(cam.url)
    source.start()
    slow = PushOptions(timeout=30.0, backoff_initial=0.2, backoff_max=1.0)
    push: Pusher = (RtmpPush(source, "A01", f"rtmp://127.0.0.1:{silent_server.port}/live", slow) if kind == "rtmp"
                    else HlsPush(source, "A01", f"http://127.0.0.1:{silent_server.port}/hls", slow,
                                 hls=HlsOptions(target_seconds=0.5)))
    push.start()
    try:
        assert wait_for(lambda: silent_server.accepted >= 1, timeout=15), push.status()
        assert push.status().state is not PushState.LIVE
        t0 = time.monotonic()
        assert push.stop(timeout=5)
        assert time.monotonic() - t0 < 1.5
        assert push.status().state is PushState.STOPPED
    finally:
        push.stop(timeout=10)


# -- HLS -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("codec", "ffmpeg_name"), [("h264", "h264"), ("h265", "hevc")])
def test_a_camera_written_as_hls_by_put_is_pulled_back_from_nginx_with_its_codec_and_size(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], dav_server: DavServer,
    pushers: list[Pusher], codec: str, ffmpeg_name: str,
) -> None:
    cam = rtsp_camera_factory(codec, width=640, height=360)
    source = source_factory(cam.url)
    source.start()
    push = HlsPush(source, "A01", dav_server.base, QUICK)
    pushers.append(push)
    push.start()
    assert wait_for(lambda: len(_playlist_segments(dav_server, "A01")) >= 2, timeout=20), (
        push.status(), dav_server.log_tail())
    assert ffprobe_video(dav_server.playlist("A01")) == (ffmpeg_name, 640, 360)
    s = push.status()
    assert s.state is PushState.LIVE and s.codec == ffmpeg_name and s.bytes > 0


def test_hls_segments_start_at_keyframes_about_the_target_long_and_leave_the_server_after_the_playlist(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], dav_server: DavServer,
    pushers: list[Pusher],
) -> None:
    cam = rtsp_camera_factory("h264")  # a keyframe every second
    source = source_factory(cam.url)
    source.start()
    push = HlsPush(source, "A01", dav_server.base, QUICK,
                   hls=HlsOptions(target_seconds=1.0, list_size=3, delete_after=2))
    pushers.append(push)
    first = push._next_number

    def settled() -> bool:
        """Eight segments made; on the server: the playlist's three and the two that left it last."""
        last = push._next_number - 1
        if last - first < 7:
            return False
        names = [f"{n}.ts" for n in range(last - 4, last + 1)]
        return _playlist_segments(dav_server, "A01") == names[2:] and [
            f for f in dav_server.files("A01") if f.endswith(".ts")] == sorted(names)

    push.start()
    assert wait_for(settled, timeout=40), (first, dav_server.files("A01"), push.status(), dav_server.log_tail())
    text = (dav_server.root / "hls" / "A01" / "index.m3u8").read_text()
    durations = [float(line[8:].rstrip(",")) for line in text.splitlines() if line.startswith("#EXTINF:")]
    assert all(0.9 <= d <= 1.6 for d in durations), text  # cut at the first keyframe after 1 s
    assert f"#EXT-X-MEDIA-SEQUENCE:{push._entries[0].number}" in text
    # a segment starts with a keyframe and its parameter sets: it decodes alone
    seg = dav_server.root / "hls" / "A01" / _playlist_segments(dav_server, "A01")[-1]
    assert ffprobe_video(str(seg)) == ("h264", cam.width, cam.height)


def test_the_hls_push_resumes_by_itself_when_nginx_is_killed_and_started_again(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], dav_server: DavServer,
    pushers: list[Pusher],
) -> None:
    cam = rtsp_camera_factory("h265")
    source = source_factory(cam.url)
    source.start()
    push = HlsPush(source, "C03", dav_server.base, QUICK)
    pushers.append(push)
    push.start()
    assert wait_for(lambda: len(_playlist_segments(dav_server, "C03")) >= 1, timeout=20), push.status()

    dav_server.kill()
    assert wait_for(lambda: push.status().state is PushState.RETRYING, timeout=15), push.status()
    assert "refused" in (push.status().reason or "")
    before = _playlist_segments(dav_server, "C03")
    dav_server.start()
    assert wait_for(lambda: push.status().state is PushState.LIVE
                    and len(set(_playlist_segments(dav_server, "C03")) - set(before)) >= 1, timeout=20), (
        push.status(), dav_server.log_tail())
    text = (dav_server.root / "hls" / "C03" / "index.m3u8").read_text()
    assert "#EXT-X-DISCONTINUITY\n" in text  # the gap is marked for players
    assert ffprobe_video(dav_server.playlist("C03")) == ("hevc", cam.width, cam.height)
    assert push.status().reconnects >= 1


def test_hls_uploads_carry_the_addresss_token_and_a_wrong_one_is_refused_in_words_never_logged(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], pushers: list[Pusher],
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cam = rtsp_camera_factory("h264")
    source = source_factory(cam.url)
    source.start()
    with running_dav_server(tmp_path / "nginx", upload_token="Zx81secret") as server:
        wrong = HlsPush(source, "A01", f"{server.base}?upload=WrongOne", QUICK, hls=HlsOptions(target_seconds=0.5))
        right = HlsPush(source, "A02", f"{server.base}?upload=Zx81secret", QUICK, hls=HlsOptions(target_seconds=0.5))
        pushers.extend([wrong, right])
        wrong.start()
        right.start()
        assert wait_for(lambda: right.status().state is PushState.LIVE
                        and wrong.status().state is PushState.RETRYING, timeout=20), (wrong.status(), right.status())
        assert "refused the PUT (403)" in (wrong.status().reason or "")
        assert server.files("A01") == [] and "index.m3u8" in server.files("A02")
        assert right.status().target == f"{server.base}/A02/index.m3u8"  # no token in what is shown
        for p in pushers:
            assert p.stop(timeout=10)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "A01" in logged  # the refusal was logged …
    assert "Zx81secret" not in logged and "WrongOne" not in logged  # … without the tokens


def test_a_camera_that_restarts_is_pushed_on_both_ways_without_a_hand_on_it(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], pushers: list[Pusher], tmp_path: Path,
) -> None:
    cam = rtsp_camera_factory("h264")
    source = source_factory(cam.url)
    source.start()
    with running_dav_server(tmp_path / "nginx", rtmp=True) as server:
        rtmp = RtmpPush(source, "A01", server.rtmp_base, QUICK)
        hls = HlsPush(source, "A01", server.base, QUICK, hls=HlsOptions(target_seconds=1.0))
        pushers.extend([rtmp, hls])
        rtmp.start()
        hls.start()
        assert wait_for(lambda: rtmp.status().state is PushState.LIVE and hls.status().state is PushState.LIVE, 20)

        cam.stop()  # the camera reboots
        assert wait_for(lambda: source.status().state is not SourceState.LIVE, timeout=10)
        cam.start()
        assert wait_for(lambda: source.status().state is SourceState.LIVE, timeout=20), source.status()
        sent = rtmp.status().packets
        listed = set(_playlist_segments(server, "A01"))
        assert wait_for(lambda: rtmp.status().packets > sent + 50
                        and len(set(_playlist_segments(server, "A01")) - listed) >= 2, timeout=20), (
            rtmp.status(), hls.status())
        assert rtmp.status().state is PushState.LIVE and hls.status().state is PushState.LIVE
        assert ffprobe_video(f"{server.rtmp_base}/A01") == ("h264", cam.width, cam.height)
        assert ffprobe_video(server.playlist("A01")) == ("h264", cam.width, cam.height)
        for p in pushers:
            assert p.stop(timeout=10)
