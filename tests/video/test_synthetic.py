"""Synthetic cameras: the scene, the encoder, files and the live MPEG-TS server."""

from __future__ import annotations

import http.client
import io
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import av.error
import numpy as np
import pytest

from tests.video.waiting import wait_for
from video.synthetic import (
    CameraSpec,
    ClipKey,
    SceneRenderer,
    SyntheticCameraServer,
    SyntheticEncoder,
    TsChunk,
    build_clip,
    load_clip,
    write_file,
)
from video.synthetic.server import _ClientQueue

TZ = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 30, tzinfo=TZ)
CAM = "window/A01"


def _ts_pids(data: bytes) -> list[int]:
    assert len(data) % 188 == 0
    assert all(data[i] == 0x47 for i in range(0, len(data), 188)), "lost TS packet alignment"
    return [((data[i + 1] & 0x1F) << 8) | data[i + 2] for i in range(0, len(data), 188)]


# ---------------------------------------------------------------------------------------- renderer


def test_render_shape_dtype_and_motion() -> None:
    r = SceneRenderer("A01", seed=3)
    t0 = START.timestamp()
    a = r.render(t0, START)
    b = r.render(t0 + 0.04, START + timedelta(milliseconds=40))
    c = r.render(t0 + 7.0, START + timedelta(seconds=7))
    assert a.shape == (360, 640, 3) and a.dtype == np.uint8
    assert a.flags.writeable and a is not b
    assert not np.array_equal(a, b)  # noise and clock change every frame
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 1.0
    # deterministic: the same t and wall give the same picture
    assert np.array_equal(SceneRenderer("A01", seed=3).render(t0, START), a)
    # not flat: textured like a camera picture
    assert a.std() > 20
    big = SceneRenderer("B02", 1280, 720).render(t0, START)
    assert big.shape == (720, 1280, 3)


def test_staff_presence_ground_truth() -> None:
    r = SceneRenderer("A01", seed=0)
    t0 = START.timestamp()
    samples = [r.staff_present(t0 + s) for s in range(600)]
    assert any(samples) and not all(samples)
    assert sum(samples) / len(samples) > 0.6  # present most of the time
    # the intervals agree with staff_present
    away = r.staff_away_intervals(t0, t0 + 600)
    assert away
    for i, present in enumerate(samples):
        t = t0 + i
        assert present == (not any(a <= t < b for a, b in away))
    # other seeds, other schedules
    other = SceneRenderer("A01", seed=1)
    assert [other.staff_present(t0 + s) for s in range(600)] != samples


def test_staff_visible_in_picture() -> None:
    """The seat region differs between present and away (the analytics' ground truth is visible)."""
    r = SceneRenderer("A01", seed=0)
    t0 = START.timestamp()
    away_start, away_end = r.staff_away_intervals(t0, t0 + 600)[0]
    t_away = (away_start + away_end) / 2
    t_present = away_end + 1.0
    assert not r.staff_present(t_away) and r.staff_present(t_present)
    seat = (slice(int(360 * 0.30), int(360 * 0.53)), slice(int(640 * 0.50), int(640 * 0.60)))
    away_img = r.render(t_away, START)[seat].astype(int)
    present_img = r.render(t_present, START)[seat].astype(int)
    assert np.abs(away_img - present_img).mean() > 20


# ----------------------------------------------------------------------------------------- encoder


@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_encoder_chunks_join_at_any_keyframe(codec: str) -> None:
    r = SceneRenderer("A01")
    chunks: list[TsChunk] = []
    with SyntheticEncoder(640, 360, fps=25, codec=codec) as enc:
        for i in range(60):
            wall = START + timedelta(seconds=i / 25)
            out = enc.encode(r.render(wall.timestamp(), wall))
            assert len(out) == 1  # zerolatency: one frame in, one chunk out
            chunks += out
        chunks += enc.close()
    assert [c.pts for c in chunks] == list(range(60))
    assert [i for i, c in enumerate(chunks) if c.keyframe] == [0, 25, 50]
    for c in chunks:
        pids = _ts_pids(c.data)
        if c.keyframe:
            assert 0 in pids[:3], "a keyframe chunk starts with PAT/PMT"
    # a client joining at the second keyframe decodes at once
    late = b"".join(c.data for c in chunks[25:])
    with av.open(io.BytesIO(late), "r", format="mpegts") as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        packets = list(container.demux(stream))
        packets = [p for p in packets if p.size]
        assert packets[0].is_keyframe
        assert all(p.pts == p.dts for p in packets)  # no B-frames
        frames = [f for p in packets for f in p.decode()]
    assert len(frames) == 35
    assert (frames[0].width, frames[0].height) == (640, 360)


def test_encoder_bitrate_like_a_camera() -> None:
    r = SceneRenderer("A01")
    total = 0
    with SyntheticEncoder(640, 360) as enc:
        for i in range(75):
            wall = START + timedelta(seconds=i / 25)
            total += sum(len(c.data) for c in enc.encode(r.render(wall.timestamp(), wall)))
    kbit_s = total * 8 / 3 / 1000
    assert 400 < kbit_s < 2000


def test_encoder_rejects_bad_input() -> None:
    with SyntheticEncoder(64, 36) as enc, pytest.raises(ValueError):
        enc.encode(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(ValueError):
        SyntheticEncoder(64, 36, codec="mpeg2")


# ------------------------------------------------------------------------------------------- files


@pytest.mark.parametrize(
    ("name", "codec", "expected"),
    [("a.ts", "h264", "h264"), ("b.mp4", "h264", "h264"), ("c.mkv", "h264", "h264"), ("d.mp4", "h265", "hevc")],
)
def test_write_file(tmp_path: Path, name: str, codec: str, expected: str) -> None:
    path = tmp_path / name
    write_file(path, seconds=2.0, codec=codec, start=START)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == expected
        assert (stream.width, stream.height) == (640, 360)
        assert stream.average_rate == 25
        packets = [p for p in container.demux(stream) if p.size]
        first = next(iter(packets[0].decode()))
    assert len(packets) == 50
    assert [i for i, p in enumerate(packets) if p.is_keyframe] == [0, 25]
    pts = [p.pts for p in packets]
    assert all(a is not None and b is not None and a < b for a, b in itertools.pairwise(pts))
    # the first frame shows the scene at `start`
    truth = SceneRenderer("A01").render(START.timestamp(), START).astype(int)
    later = SceneRenderer("A01").render(START.timestamp() + 3, START + timedelta(seconds=3)).astype(int)
    got = first.to_ndarray(format="rgb24").astype(int)
    assert np.abs(got - truth).mean() < np.abs(got - later).mean()


def test_write_file_rejects_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_file(tmp_path / "x.avi", seconds=0.2)


# ------------------------------------------------------------------------------------- client queue


def _chunk(i: int, key: bool) -> TsChunk:
    return TsChunk(bytes([i % 256]) * 188, key, i)


def test_client_queue_overflow_resyncs_on_keyframe() -> None:
    q = _ClientQueue(4)
    q.prime([])  # a new client without a cached GOP waits for a keyframe
    q.offer(_chunk(0, False))
    assert len(q) == 0 and q.dropped == 0  # waiting to start is not dropping
    for i in range(1, 5):
        q.offer(_chunk(i, i == 1))
    assert len(q) == 4
    q.offer(_chunk(5, False))  # overflow: the queue is discarded, the client waits for a keyframe
    assert len(q) == 0 and q.dropped == 5
    q.offer(_chunk(6, False))
    assert q.dropped == 6
    q.offer(_chunk(7, True))
    q.offer(_chunk(8, False))
    assert q.get(0.01) == _chunk(7, True).data
    assert q.get(0.01) == _chunk(8, False).data
    assert q.get(0.01) is None
    q.close()
    q.offer(_chunk(9, True))
    assert q.get(0.01) is None


# -------------------------------------------------------------------------------------------- server


@pytest.fixture
def server() -> Iterator[SyntheticCameraServer]:
    with SyntheticCameraServer({CAM: CameraSpec("A01"), "window/B02": CameraSpec("B02", seed=2)}) as srv:
        yield srv


def _decode(container: av.container.InputContainer, n: int) -> list[av.VideoFrame]:
    frames: list[av.VideoFrame] = []
    for packet in container.demux(video=0):
        frames += packet.decode()
        if len(frames) >= n:
            break
    return frames


def _raw_client(port: int, path: str, rcvbuf: int | None = None) -> tuple[socket.socket, bytes]:
    """A plain socket client: sends the request and returns (socket, body bytes already read)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    s.sendall(f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        more = s.recv(65536)
        assert more, "connection closed before the headers"
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), head
    assert b"video/mp2t" in head.lower()
    assert b"content-length" not in head.lower()
    return s, body


def _closed_within(s: socket.socket, seconds: float) -> bool:
    """Whether the peer closes ``s`` (what was in flight read and dropped) within ``seconds``."""
    deadline = time.monotonic() + seconds
    s.settimeout(0.1)
    while time.monotonic() < deadline:
        try:
            if not s.recv(65536):
                return True
        except TimeoutError:
            continue
        except ConnectionResetError:
            return True
    return False


def _read_for(s: socket.socket, seconds: float) -> bytes:
    out = bytearray()
    deadline = time.monotonic() + seconds
    s.settimeout(0.1)
    while time.monotonic() < deadline:
        try:
            more = s.recv(65536)
        except TimeoutError:
            continue
        if not more:
            break
        out += more
    return bytes(out)


def test_two_clients_and_a_late_joiner(server: SyntheticCameraServer) -> None:
    url = server.url(CAM)
    assert url == f"http://127.0.0.1:{server.port}/window/A01"
    with av.open(url, timeout=(5, 5)) as a, av.open(url, timeout=(5, 5)) as b:
        fa = _decode(a, 10)
        fb = _decode(b, 10)
        assert {(f.width, f.height) for f in fa + fb} == {(640, 360)}
        assert server.stats(CAM)["clients"] == 2
        encoded = server.stats(CAM)["frames_encoded"]
        # The GOP moves on: the late joiner must be given its keyframe again, not the next one.
        assert wait_for(lambda: server.stats(CAM)["frames_encoded"] >= encoded + 12, 5.0)
        t = time.monotonic()
        with av.open(url, timeout=(5, 5)) as late:
            first = next(late.demux(video=0))
            assert first.is_keyframe  # the current GOP is replayed, keyframe first
            frames = list(first.decode())
            while not frames:
                frames = _decode(late, 1)
            assert time.monotonic() - t < 1.5
            assert (frames[0].width, frames[0].height) == (640, 360)
        assert wait_for(lambda: server.stats(CAM)["clients"] == 2, 2.0)  # noticed at its next write
        stats = server.stats(CAM)
        assert stats["encoding"] and stats["frames_encoded"] > 0
    assert server.stats("window/B02")["frames_encoded"] == 0  # nobody watched B02: never encoded


def test_encoder_runs_only_while_watched(server: SyntheticCameraServer) -> None:
    s, _ = _raw_client(server.port, CAM)
    try:
        _read_for(s, 0.3)
        assert server.stats(CAM)["encoding"]
    finally:
        s.close()
    assert wait_for(lambda: not server.stats(CAM)["encoding"], 2.0)
    stats = server.stats(CAM)
    assert not stats["encoding"] and stats["clients"] == 0
    encoded = stats["frames_encoded"]
    time.sleep(0.2)
    assert server.stats(CAM)["frames_encoded"] == encoded
    s, body = _raw_client(server.port, CAM)  # restarts for a new client
    try:
        body += _read_for(s, 0.3)
        assert 0 in _ts_pids(body[: len(body) // 188 * 188])[:3]  # a fresh stream starts with PAT/PMT
        assert server.stats(CAM)["frames_encoded"] > encoded
    finally:
        s.close()


def test_slow_client_does_not_stall_others() -> None:
    with SyntheticCameraServer({CAM: CameraSpec("A01")}, queue_size=10, send_buffer=16 * 1024) as server:
        slow, body = _raw_client(server.port, CAM, rcvbuf=4096)  # connects, then reads nothing
        try:
            with av.open(server.url(CAM), timeout=(5, 5)) as fast:
                _decode(fast, 30)  # the replayed GOP and the probe are behind us: now live
                t = time.monotonic()
                frames = _decode(fast, 50)
                elapsed = time.monotonic() - t
            # ~25 fps while the slow client is stuck (2 s; a stalled encoder gives nothing: a 5 s timeout)
            assert len(frames) >= 50 and elapsed < 4.0
            dropped = server.stats(CAM)["dropped_chunks"]
            assert dropped > 0
            # the slow client wakes up: its stream stays TS-aligned and decodable (resynced at a keyframe)
            body += _read_for(slow, 1.5)
        finally:
            slow.close()
    body = body[: len(body) // 188 * 188]
    _ts_pids(body)
    with av.open(io.BytesIO(body), "r", format="mpegts") as container:
        decoded = _decode(container, 10_000)
    assert len(decoded) > 25


def test_freeze_keeps_the_socket_open_but_sends_nothing(server: SyntheticCameraServer) -> None:
    with av.open(server.url(CAM), timeout=(5, 0.5)) as client:
        assert _decode(client, 5)
        raw, body = _raw_client(server.port, CAM)
        try:
            body += _read_for(raw, 0.2)
            server.freeze(CAM, True)
            t = time.monotonic()
            with pytest.raises(av.error.FFmpegError):
                _decode(client, 10_000)  # buffered frames, then the read timeout
            assert time.monotonic() - t < 3
            body += _read_for(raw, 0.6)  # drain what was in flight
            assert len(body) % 188 == 0
            assert _read_for(raw, 0.5) == b""  # silent...
            stats = server.stats(CAM)
            assert stats["frozen"] and stats["clients"] == 2  # ...but connected
            server.freeze(CAM, False)
            resumed = _read_for(raw, 1.5)
            assert resumed, "no data after unfreeze"
            assert 0 in _ts_pids(resumed[: len(resumed) // 188 * 188])[:3]  # resumes at a keyframe (PAT first)
        finally:
            raw.close()


def test_unknown_camera_is_404(server: SyntheticCameraServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/window/Z99")
        resp = conn.getresponse()
        assert resp.status == 404
        resp.read()
    finally:
        conn.close()


def test_resolve_synthetic_urls(server: SyntheticCameraServer) -> None:
    assert server.resolve("synthetic://window/A01") == server.url(CAM)
    url = server.resolve("synthetic://window/C03")
    assert url == f"http://127.0.0.1:{server.port}/window/C03"
    assert server.resolve("rtsp://10.0.0.5/stream1") == "rtsp://10.0.0.5/stream1"
    with av.open(url, timeout=(5, 5)) as client:
        frames = _decode(client, 1)
    assert (frames[0].width, frames[0].height) == (640, 360)
    assert server.stats("window/C03")["frames_encoded"] > 0


def test_stop_is_quick_and_leaves_no_threads() -> None:
    server = SyntheticCameraServer({CAM: CameraSpec("A01"), "window/B02": CameraSpec("B02")})
    server.start()
    before = threading.active_count()
    a, _ = _raw_client(server.port, CAM)
    b, _ = _raw_client(server.port, "window/B02")
    stuck, _ = _raw_client(server.port, CAM, rcvbuf=4096)  # never reads: its handler blocks in send()
    try:
        _read_for(a, 0.3)
        _read_for(b, 0.1)
        assert threading.active_count() > before
        t = time.monotonic()
        server.stop()
        assert time.monotonic() - t < 1.5
        names = [t.name for t in threading.enumerate()]
        assert not [n for n in names if n.startswith("synthetic-camera") or "process_request" in n], names
        assert _closed_within(a, 2.0), "the server closed the connection"
        server.stop()  # idempotent
    finally:
        a.close()
        b.close()
        stuck.close()


# ------------------------------------------------------------------------- sub-streams and clips


def test_sub_stream_address_is_the_cameras_320x180_sub_stream_with_its_clock() -> None:
    shown = START + timedelta(hours=1, minutes=2, seconds=3)
    with SyntheticCameraServer({}, clock=lambda: shown) as srv:
        url = srv.resolve("synthetic://window/A01/sub")
        assert url == f"http://127.0.0.1:{srv.port}/window/A01/sub"
        with av.open(url, timeout=(5, 5)) as client:
            sub = _decode(client, 1)[0].to_ndarray(format="rgb24")
        assert sub.shape == (180, 320, 3)
        main_spec = srv._camera("window/A01")
        assert main_spec is None  # the sub-stream alone does not start its main stream
        srv.resolve("synthetic://window/A01")
        main, sub_cam = srv._require("window/A01"), srv._require("window/A01/sub")
        assert (sub_cam.spec.label, sub_cam.spec.seed) == (main.spec.label, main.spec.seed)
        assert (sub_cam.spec.width, sub_cam.spec.height, sub_cam.spec.bitrate) == (320, 180, 250_000)
    # the picture is the main stream's scene at 320×180 with the clock that the server's clock gave
    renderer = SceneRenderer("A01", 320, 180, main.spec.seed)
    other = shown + timedelta(hours=5, minutes=55, seconds=55)

    def off(wall: datetime) -> float:  # the clock's box, top left
        return float(np.abs(sub[:24, :200].astype(int) - renderer.render(wall.timestamp(), wall)[:24, :200]).mean())

    assert off(shown) < 0.75 * off(other), (off(shown), off(other))  # the digits of the time it was given


def _frames_of(url: str, seconds: float, until: Callable[[], bool] | None = None) -> list[tuple[int, bool]]:
    """(pts, keyframe) of every frame decoded from ``url`` for ``seconds`` (with ``until``: for
    ``seconds`` after it first holds, which it must within a minute)."""
    out: list[tuple[int, bool]] = []
    deadline = time.monotonic() + (60.0 if until is not None else seconds)
    with av.open(url, timeout=(5, 5)) as client:
        for frame in client.decode(video=0):
            assert frame.pts is not None
            out.append((frame.pts, frame.key_frame))
            if until is not None and until():
                until, deadline = None, time.monotonic() + seconds
            if time.monotonic() > deadline:
                assert until is None, "the condition never held"
                break
    return out


def test_main_stream_loops_its_clip_on_one_timeline_after_serving_live(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    with SyntheticCameraServer({}, clip_dir=clips, clip_seconds=2) as srv:
        url = srv.resolve("synthetic://window/A01")
        # live at 5 fps first (a fresh cache), then the clip at 25 once the child has built it
        frames = _frames_of(url, 2.0, until=lambda: srv.stats("window/A01")["looping"])
    assert [p.name for p in clips.iterdir()] == [ClipKey("A01", srv._require("window/A01").spec.seed,
                                                         seconds=2).filename()]
    steps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    assert all(s > 0 for s in steps), "one timeline: every frame after the last"
    assert steps[:3] == [5 * 3600] * 3, "live at 5 fps while the clip is made"
    assert steps[-30:] == [3600] * 30, "the clip at 25 fps"
    keys = [i for i, (_, k) in enumerate(frames) if k]
    assert keys and all(b - a <= 25 for a, b in itertools.pairwise(keys)), "a keyframe every second"


def test_with_sub_clips_a_sub_stream_loops_its_320x180_clip_at_full_rate(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    with SyntheticCameraServer({}, clip_dir=clips, clip_seconds=2, sub_clips=True) as srv:
        url = srv.resolve("synthetic://window/A01/sub")
        # live at the full 25 fps while its clip is made (it is watched), then the clip
        frames = _frames_of(url, 2.0, until=lambda: srv.stats("window/A01/sub")["looping"])
        spec = srv._require("window/A01/sub").spec
        with av.open(url, timeout=(5, 5)) as client:
            picture = _decode(client, 1)[0]
    assert (picture.width, picture.height) == (320, 180)
    assert [p.name for p in clips.iterdir()] == [ClipKey("A01", spec.seed, 320, 180, seconds=2,
                                                         bitrate=250_000).filename()]
    steps = [b[0] - a[0] for a, b in itertools.pairwise(frames)]
    assert all(s == 3600 for s in steps), "25 fps on one timeline, live and looped"


def test_a_cached_clip_is_looped_from_the_first_frame_and_built_once(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    key = ClipKey("B02", 7, seconds=2)
    assert build_clip(clips / key.filename(), key)
    clip = load_clip(clips / key.filename(), key)
    assert len(clip) == 50 and clip.keyframes[0] and sum(clip.keyframes) == 2
    mtime = (clips / key.filename()).stat().st_mtime_ns
    with SyntheticCameraServer({"window/B02": CameraSpec("B02", seed=7, looped=True)}, clip_dir=clips,
                               clip_seconds=2) as srv:
        srv._require("window/B02")._clips.get(key)  # type: ignore[union-attr]  # what resolve() does
        assert wait_for(lambda: srv._clips is not None and srv._clips.get(key) is not None, 10)
        frames = _frames_of(srv.url("window/B02"), 1.0)
        assert srv.stats("window/B02")["looping"]
        assert srv._clips is not None and srv._clips.built == 0
    assert [b[0] - a[0] for a, b in itertools.pairwise(frames)] == [3600] * (len(frames) - 1)
    assert (clips / key.filename()).stat().st_mtime_ns == mtime


def test_a_broken_cached_clip_leaves_the_camera_live(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clips = tmp_path / "clips"
    clips.mkdir()
    key = ClipKey("C03", 1, seconds=2)
    (clips / key.filename()).write_bytes(b"\x47" + b"\0" * 187 * 3)
    with SyntheticCameraServer({"window/C03": CameraSpec("C03", seed=1, looped=True)}, clip_dir=clips,
                               clip_seconds=2) as srv:
        library = srv._clips
        assert library is not None
        library.get(key)
        assert wait_for(lambda: key in library._failed, 10)
        frames = _frames_of(srv.url("window/C03"), 1.0)
        assert frames and not srv.stats("window/C03")["looping"]
    assert "unusable" in caplog.text and not (clips / key.filename()).exists()


def test_stop_ends_the_clip_building_child(tmp_path: Path) -> None:
    srv = SyntheticCameraServer({}, clip_dir=tmp_path / "clips", clip_seconds=30)
    srv.start()
    srv.resolve("synthetic://window/A01")
    library = srv._clips
    assert library is not None
    assert wait_for(lambda: library._worker is not None, 10)
    worker = library._worker
    assert worker is not None
    t = time.monotonic()
    srv.stop()
    assert time.monotonic() - t < 3
    assert worker.poll() is not None, "no child left"
    assert not [p for p in (tmp_path / "clips").iterdir()], "a clip half-made is dropped"
    assert "synthetic-clips" not in [t.name for t in threading.enumerate()]
