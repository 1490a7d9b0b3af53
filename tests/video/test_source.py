"""Sources: one connection per camera, states with words, reconnects, fan-out to bounded queues.

Live tests run against real servers started by fixtures: gst-rtsp-server (H.264 and H.265), the
synthetic cameras' HTTP server, a silent TCP server and one that sends garbage.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.video.camera_servers import CameraFactory, GarbageServer, SilentServer
from tests.video.conftest import LiveCamera
from tests.video.waiting import FAST, take, wait_for
from video.source import MediaPacket, Source, SourceOptions, SourceState, StreamInfo
from video.synthetic import CameraSpec, SyntheticCameraServer, write_file
from video.synthetic.encoder import SyntheticEncoder

# ``clip``, ``source_factory`` and ``synthetic`` (camera ``window/A01``) come from conftest.py.


# -- files -----------------------------------------------------------------------------------


def test_file_source_reports_stream_and_paces_at_real_time(clip: Path, source_factory: Callable[..., Source]) -> None:
    src = source_factory(str(clip), SourceOptions())
    sub = src.subscribe("t")
    src.start()
    started = time.monotonic()
    packets = take(sub, 50, timeout=8)
    elapsed = time.monotonic() - started
    assert len(packets) == 50
    span = packets[-1].mono - packets[0].mono  # from the first packet: the open is not the pacing
    assert 1.6 < span < 3.0 and elapsed > 1.6, ("50 frames at 25 fps take about 2 s", span, elapsed)
    info = packets[0].info
    assert (info.codec, info.width, info.height) == ("h264", 640, 360)
    assert info.fps == pytest.approx(25)
    assert packets[0].keyframe
    assert src.status().state is SourceState.LIVE


def test_file_source_ends_and_says_so(clip: Path, source_factory: Callable[..., Source]) -> None:
    src = source_factory(str(clip), SourceOptions(realtime=False))
    sub = src.subscribe("t", maxsize=1000)
    src.start()
    assert wait_for(lambda: src.state is SourceState.ENDED, 5)
    assert len(sub.drain()) == 75
    assert wait_for(lambda: not src.running, 2), "the thread of an ended file source ends"


def test_looped_file_keeps_timestamps_rising(clip: Path, source_factory: Callable[..., Source]) -> None:
    src = source_factory(str(clip), SourceOptions(loop=True, realtime=False))
    sub = src.subscribe("t", maxsize=1000)
    src.start()
    packets = take(sub, 200, timeout=10)
    assert len(packets) == 200
    dts = [p.dts for p in packets]
    assert all(b is not None and a is not None and b > a for a, b in itertools.pairwise(dts))
    assert sum(p.keyframe for p in packets) >= 8


def test_missing_file_fails_with_words(tmp_path: Path, source_factory: Callable[..., Source]) -> None:
    src = source_factory(str(tmp_path / "nope.ts"))
    src.start()
    assert wait_for(lambda: src.state is SourceState.FAILED, 5)
    assert src.status().error == "file not found: nope.ts"


# -- fan-out -------------------------------------------------------------------------------------


def _packet(n: int, key: bool, info: StreamInfo) -> MediaPacket:
    return MediaPacket(b"x" * 10, n, n, 1, key, info, time.time(), time.monotonic())


INFO = StreamInfo("h264", 640, 360, 25.0, Fraction(1, 25), "yuv420p", None, None, "test", 1)


def test_a_full_queue_drops_to_the_next_keyframe_and_counts_it() -> None:
    src = Source("/nonexistent.ts")
    sub = src.subscribe("slow", maxsize=5)
    for n in range(19):  # keyframe every 4; never read
        src._deliver(_packet(n, n % 4 == 0, INFO))
        assert len(sub) <= 5
    got = sub.drain()
    assert [p.pts for p in got] == [16, 17, 18], "the backlog went; what is left starts at a keyframe"
    assert sub.dropped + sub.delivered == 19
    assert src.status().dropped == sub.dropped


def test_keyframes_only_subscription_gets_only_keyframes() -> None:
    src = Source("/nonexistent.ts")
    sub = src.subscribe("grid", keyframes_only=True)
    for n in range(50):
        src._deliver(_packet(n, n % 10 == 0, INFO))
    assert [p.pts for p in sub.drain()] == [0, 10, 20, 30, 40]
    assert sub.dropped == 0


def test_late_consumer_starts_on_the_current_gop() -> None:
    src = Source("/nonexistent.ts")
    for n in range(17):
        src._deliver(_packet(n, n % 10 == 0, INFO))
    late = src.subscribe("late")
    got = late.drain()
    assert [p.pts for p in got] == list(range(10, 17))
    assert got[0].keyframe
    src._deliver(_packet(17, False, INFO))
    assert late.get(0) is not None


def test_slow_consumer_does_not_slow_a_fast_one(clip: Path, source_factory: Callable[..., Source]) -> None:
    src = source_factory(str(clip), SourceOptions(loop=True))
    slow = src.subscribe("slow", maxsize=10)  # never read
    fast = src.subscribe("fast", maxsize=100)
    src.start()
    got = take(fast, 75, timeout=5)
    assert len(got) == 75, "the fast consumer received every frame at 25 fps"
    span = got[-1].mono - got[0].mono
    assert span < 3.5
    assert fast.dropped == 0
    assert len(slow) <= 10 and slow.dropped > 0


def test_late_consumer_of_a_live_source_starts_on_a_keyframe(
    synthetic: SyntheticCameraServer, source_factory: Callable[..., Source]
) -> None:
    src = source_factory(synthetic.url("window/A01"))
    first = src.subscribe("first")
    src.start()
    assert len(take(first, 40, timeout=8)) == 40
    subscribed = time.monotonic()
    late = src.subscribe("late")
    got = take(late, 5, timeout=3)
    assert got and got[0].keyframe
    # From the cached GOP: its keyframe was read before the subscription, not awaited after it.
    assert got[0].mono < subscribed


def _wakes(packets: list[MediaPacket], gap: float = 0.015) -> int:
    """How many separate reads the source's thread made: packets read together arrive within ``gap``."""
    return 1 + sum(1 for a, b in itertools.pairwise(packets) if b.mono - a.mono > gap)


def test_a_source_reads_in_batches_while_every_consumer_accepts_delay(
    synthetic: SyntheticCameraServer, source_factory: Callable[..., Source]
) -> None:
    src = source_factory(synthetic.url("window/A01"))
    recorder = src.subscribe("record", maxsize=1000, latency=0.2)  # as the recorder subscribes
    src.start()
    take(recorder, 30, timeout=8)  # past the connection's first burst (the server's cached GOP)
    batched = take(recorder, 100, timeout=8)
    assert len(batched) == 100
    # About two reads per 0.2 s (the batch, then one that waits for the camera) instead of one per frame.
    assert _wakes(batched) <= 45, _wakes(batched)
    # Held back by no more than the delay the consumer accepts (plus a frame)...
    assert max(p.wall - p.capture for p in batched) < 0.35
    # ...and still placed in time as the camera took them: 40 ms apart.
    spacing = [b.capture - a.capture for a, b in itertools.pairwise(batched)]
    assert max(abs(g - 0.04) for g in spacing) < 0.015, spacing

    display = src.subscribe("display", maxsize=200)  # full-rate pictures: every packet as it arrives
    take(display, 15, timeout=3)
    per_frame = take(display, 100, timeout=8)
    assert _wakes(per_frame) >= 80, _wakes(per_frame)
    display.close()


def test_a_batched_source_catches_up_with_the_camera_so_its_packets_are_placed_when_they_were_taken(
    synthetic: SyntheticCameraServer, source_factory: Callable[..., Source], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening a stream reads ahead (probing; the server's cached GOP): a source reading in batches
    once kept that backlog for the whole connection, and placed every packet (the footage) that much
    later than the camera took it — 0.9 s here, 1.5-3.5 s in a starting demo."""
    rendered: dict[int, float] = {}  # the camera's frame number → when it drew the frame (its clock)
    encode = SyntheticEncoder.encode

    def drawn(self: SyntheticEncoder, rgb: Any, pts: int | None = None) -> Any:
        rendered[pts if pts is not None else -1] = time.time()
        return encode(self, rgb, pts)

    monkeypatch.setattr(SyntheticEncoder, "encode", drawn)
    src = source_factory(synthetic.url("window/A01"))
    recorder = src.subscribe("record", maxsize=1000, latency=1.0)  # as a recorder with 1 s batches
    src.start()
    take(recorder, 75, timeout=10)
    later = take(recorder, 50, timeout=10)
    frames = [(p, round(p.seconds * 25)) for p in later if p.seconds is not None]
    late = [p.capture - rendered[n] for p, n in frames if n in rendered]
    assert len(late) >= 40
    assert max(late) < 0.3, f"placed {max(late):.2f} s after the camera took it"
    assert _wakes(later) <= 30, "still read in batches"


# -- live sources over real protocols ----------------------------------------------------------


@pytest.mark.parametrize(("codec", "name"), [("h264", "h264"), ("h265", "hevc")])
def test_rtsp_camera_frames_codec_and_size(
    codec: str, name: str, rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source]
) -> None:
    cam = rtsp_camera_factory(codec, width=640, height=360)
    src = source_factory(cam.url)
    sub = src.subscribe("t")
    src.start()
    got = take(sub, 30, timeout=15)
    assert len(got) == 30
    st = src.status()
    assert st.state is SourceState.LIVE
    assert st.info is not None and (st.info.codec, st.info.width, st.info.height) == (name, 640, 360)
    assert st.info.container == "rtsp"
    assert any(p.keyframe for p in got)


def test_rtsp_camera_killed_and_restarted_keeps_its_consumers(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source]
) -> None:
    """With the application's default options: reconnecting within 5 s, live again within 5 s."""
    cam = rtsp_camera_factory("h264")
    src = source_factory(cam.url, SourceOptions())
    sub = src.subscribe("display")
    src.start()
    assert len(take(sub, 10, timeout=15)) == 10
    cam.kill()
    killed = time.monotonic()
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 5), src.status()
    assert time.monotonic() - killed < 5
    cam.start()
    restarted = time.monotonic()
    # the next attempt comes within the longest backoff (4 s + 20 %), then the RTSP setup
    assert wait_for(lambda: src.state is SourceState.LIVE, 8), src.status()
    assert time.monotonic() - restarted < 7.5
    sub.drain()
    again = take(sub, 10, timeout=5)
    assert len(again) == 10, "the same subscription receives again"
    assert again[0].info.connection > 1
    assert src.status().reconnects >= 1


def test_a_camera_that_stalls_with_the_socket_open_reconnects(
    live_camera: LiveCamera, source_factory: Callable[..., Source]
) -> None:
    src = source_factory(live_camera.url)
    seen: list[SourceState] = []
    src.add_listener(lambda s: seen.append(s.state))
    sub = src.subscribe("t")
    src.start()
    assert len(take(sub, 10, timeout=8)) == 10
    live_camera.freeze(True)
    assert wait_for(lambda: SourceState.STALLED in seen, FAST.stall_after + 3), seen
    assert src.status().error == "no video for 2 s"
    assert wait_for(lambda: src.state is SourceState.RECONNECTING, 2)
    live_camera.freeze(False)
    assert wait_for(lambda: src.state is SourceState.LIVE, 15), src.status()
    sub.drain()
    assert len(take(sub, 5, timeout=3)) == 5


def test_silent_server_gives_a_timeout_in_words(
    silent_server: SilentServer, source_factory: Callable[..., Source]
) -> None:
    src = source_factory(silent_server.url("rtsp"), SourceOptions(open_timeout=1.5, backoff_initial=0.2))
    src.start()
    assert wait_for(lambda: src.status().error is not None, 5)
    st = src.status()
    assert st.state is SourceState.RECONNECTING
    assert st.error == "no answer within 1.5 s"


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_garbage_on_the_port_is_an_error_in_words_without_tracebacks(
    scheme: str,
    garbage_server: GarbageServer,
    source_factory: Callable[..., Source],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    src = source_factory(garbage_server.url(scheme), SourceOptions(open_timeout=3, backoff_initial=0.2))
    src.start()
    assert wait_for(lambda: src.status().reconnects >= 2, 15), src.status()
    st = src.status()
    assert st.state in (SourceState.RECONNECTING, SourceState.CONNECTING)
    assert st.error and "Traceback" not in st.error
    assert not [r for r in caplog.records if r.levelno >= logging.INFO and r.exc_info]


def test_credentials_never_appear_in_logs_states_or_errors(
    rtsp_camera_factory: CameraFactory, source_factory: Callable[..., Source], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cam = rtsp_camera_factory("h264", user="installer", password="Hall-Pa55w0rd")
    good = source_factory(cam.url)
    bad = source_factory(cam.url.replace("Hall-Pa55w0rd", "Wrong-Pa55w0rd"))
    states: list[str] = []
    for s in (good, bad):
        s.add_listener(lambda st: states.append(repr(st)))
    sub = good.subscribe("t")
    good.start()
    bad.start()
    assert len(take(sub, 5, timeout=15)) == 5
    assert wait_for(lambda: bad.state is SourceState.FAILED, 10), bad.status()
    assert bad.status().error == "the camera refused the user name or password (401)"
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("video")]  # not the fixture's own
    text = "\n".join([*ours, *states, repr(good.status()), repr(bad.status()), good.masked_url])
    for secret in ("installer", "Hall-Pa55w0rd", "Wrong-Pa55w0rd"):
        assert secret not in text
    assert "rtsp://***@127.0.0.1" in text


# -- resources -----------------------------------------------------------------------------------


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class _ClipServer:
    """Serves a short MPEG-TS clip per request, then closes: every connection ends in a reconnect."""

    def __init__(self, clip: bytes) -> None:
        import http.server

        body = clip

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "video/mp2t")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/clip.ts"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(2)


def test_twenty_reconnect_cycles_leak_no_threads_fds_or_memory(tmp_path: Path) -> None:
    path = tmp_path / "short.ts"
    write_file(path, seconds=1, label="A02")
    server = _ClipServer(path.read_bytes())
    src = Source(server.url, SourceOptions(backoff_initial=0.05, backoff_max=0.05, jitter=0))
    sub = src.subscribe("t", maxsize=10)
    try:
        src.start()
        assert wait_for(lambda: src.status().reconnects >= 5, 20)
        sub.drain()
        threads, fds, rss = threading.active_count(), _fds(), _rss_mb()
        assert wait_for(lambda: src.status().reconnects >= 25, 30), src.status()
        sub.drain()
        assert threading.active_count() <= threads + 1  # the HTTP server's handler threads come and go
        assert _fds() <= fds + 2
        assert _rss_mb() - rss < 15, "memory grows with reconnects"
        assert src.status().packets >= 25 * 25
    finally:
        src.stop()
        sub.close()
        server.close()


def test_length_prefixed_h264_is_handed_out_as_annexb_with_parameter_sets(
    tmp_path: Path, source_factory: Callable[..., Source]
) -> None:
    """MP4/FLV/RTMP carry avcC: every consumer must still be able to start at any keyframe."""
    from video.nal import has_parameter_sets, is_annexb

    path = tmp_path / "hall.mp4"
    write_file(path, seconds=3, label="A01")
    src = source_factory(str(path), SourceOptions(realtime=False))
    sub = src.subscribe("t", maxsize=1000)
    src.start()
    assert wait_for(lambda: src.state is SourceState.ENDED, 5)
    got = sub.drain()
    assert len(got) == 75
    assert all(is_annexb(p.data) for p in got)
    keys = [p for p in got if p.keyframe]
    assert len(keys) == 3 and all(has_parameter_sets(p.data, "h264") for p in keys)
    assert got[0].info.extradata is None  # avcC would mislead a decoder fed Annex B


def test_keyframes_get_the_sdp_parameter_sets_when_the_stream_lacks_them() -> None:
    from video.nal import has_parameter_sets
    from video.source import _AnnexB

    sps_pps = b"\x00\x00\x00\x01\x67\x42\x00\x1e" + b"\x00\x00\x00\x01\x68\xce\x3c\x80"
    idr = b"\x00\x00\x00\x01\x65\x88\x84\x00"
    import av

    p = av.Packet(idr)
    p.is_keyframe = True
    annexb = _AnnexB(None, "h264", sps_pps)  # type: ignore[arg-type]
    [(_, data)] = annexb.filter(p)
    assert data == sps_pps + idr and has_parameter_sets(data, "h264")
    q = av.Packet(sps_pps + idr)
    q.is_keyframe = True
    [(_, data)] = annexb.filter(q)
    assert data == sps_pps + idr, "not added twice"


def test_started_again_while_a_requested_stop_is_still_under_way_it_runs_again() -> None:
    """``request_stop`` does not wait (a window closing leaves its tiles' sub-streams to the
    terminal's stop); a window rebuilt at once (a new language) starts the same source again while
    the old connection is still opening. The new start waits for that one to end and then runs —
    it is not taken for "already running" and left to end."""
    with SyntheticCameraServer({}) as server:
        server.add_camera("cam", CameraSpec("cam"))
        server.freeze("cam", True)  # sends nothing: the open waits
        src = Source(server.url("cam"), SourceOptions(open_timeout=10))
        try:
            src.start()
            assert wait_for(lambda: server.stats("cam")["clients"] == 1, 5)
            src.request_stop()
            again = threading.Thread(target=src.start)
            again.start()
            time.sleep(0.2)
            server.freeze("cam", False)  # the old open ends (and sees its stop); the new run connects
            again.join(15)
            assert not again.is_alive()
            assert wait_for(lambda: src.state is SourceState.LIVE, 10), src.status()
            before = src.status().packets
            assert wait_for(lambda: src.status().packets >= before + 10, 5), "no packets after the new start"
        finally:
            assert src.stop(15)
