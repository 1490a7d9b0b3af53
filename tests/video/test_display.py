"""Display decoding: decode only what a tile shows, at its size, with no queue that grows."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from supervision import foreground
from tests.video.waiting import wait_for
from video import display
from video.camera import Camera, CameraConfig
from video.display import DisplayChoice, DisplayDecoder, DisplayMode, choose_display, fit_size
from video.source import Source, SourceOptions
from video.synthetic import CameraSpec, SyntheticCameraServer


@pytest.mark.parametrize(
    ("w", "h", "tiles", "has_sub", "maximised", "expected"),
    [
        (960, 540, 4, False, False, DisplayChoice("main", DisplayMode.FULL)),
        (480, 270, 16, False, False, DisplayChoice("main", DisplayMode.FULL)),
        (318, 178, 16, False, False, DisplayChoice("main", DisplayMode.FULL)),  # 4x4 of 1280x720 less the gaps
        (320, 180, 25, False, False, DisplayChoice("main", DisplayMode.KEYFRAMES)),  # more than 16 tiles
        (240, 135, 9, False, False, DisplayChoice("main", DisplayMode.KEYFRAMES)),  # a small tile
        (240, 135, 36, True, False, DisplayChoice("sub", DisplayMode.FULL)),  # the sub-stream is cheap
        (1920, 1080, 1, True, True, DisplayChoice("main", DisplayMode.FULL)),  # maximised: main stream
        (0, 0, 4, False, False, DisplayChoice("main", DisplayMode.OFF)),  # hidden
    ],
)
def test_choose_display_from_tile_size_and_count(
    w: int, h: int, tiles: int, has_sub: bool, maximised: bool, expected: DisplayChoice
) -> None:
    assert choose_display(w, h, tiles, has_sub=has_sub, maximised=maximised) == expected


def test_operator_override_wins_but_stream_follows_layout() -> None:
    assert choose_display(1920, 1080, 1, has_sub=True, override=DisplayMode.KEYFRAMES) == DisplayChoice(
        "sub", DisplayMode.KEYFRAMES
    )


@pytest.mark.parametrize(
    ("src", "box", "out"),
    [((640, 360), (480, 270), (480, 270)), ((640, 360), (480, 480), (480, 270)), ((640, 360), (1920, 1080), (640, 360)),
     ((1280, 720), (301, 301), (300, 168))],
)
def test_fit_size_keeps_aspect_and_never_upscales(
    src: tuple[int, int], box: tuple[int, int], out: tuple[int, int]
) -> None:
    assert fit_size(*src, *box) == out


def test_a_tile_larger_than_its_stream_gets_the_picture_scaled_up_to_fill_it() -> None:
    assert fit_size(320, 180, 852, 478, upscale=True) == (848, 478)
    assert fit_size(320, 180, 852, 478) == (320, 180)


@pytest.fixture
def looped(clip: Path) -> Iterator[Source]:
    src = Source(str(clip), SourceOptions(loop=True))
    src.start()
    yield src
    src.stop()


def test_full_rate_decoder_publishes_bgra_frames_at_tile_size(looped: Source) -> None:
    with DisplayDecoder(looped, width=480, height=300) as d:
        assert wait_for(lambda: d.stats().published >= 25, 5)
        f = d.latest()
        assert f is not None
        assert f.pixels.shape == (270, 480, 4) and f.pixels.dtype == np.uint8
        assert f.rows.shape[0] == 270 and f.bytes_per_line >= 480 * 4 and f.rows.flags.c_contiguous
        assert np.shares_memory(f.rows, f.pixels)
        assert (f.pixels[..., 3] == 255).all(), "opaque: paints as QImage.Format_RGB32"
        with pytest.raises(ValueError, match="read-only"):
            f.pixels[0, 0, 0] = 1
        with pytest.raises(ValueError, match="read-only"):
            f.rows[0, 0] = 1
        assert f.capture <= f.decoded < f.capture + 1, "stamped with when the camera took it"
        st = d.stats()
        assert st.errors == 0 and st.dropped == 0
        d.set_size(240, 240)
        assert wait_for(lambda: (lambda g: g is not None and g.width == 240 and g.height == 134)(d.latest()), 2)
        d.set_size(1280, 800)  # larger than the stream: made at the tile's size, painted 1:1
        assert wait_for(lambda: (lambda g: g is not None and g.width == 1280 and g.height == 720)(d.latest()), 2)


def test_a_decoder_gives_way_to_a_busy_gui_thread_and_still_keeps_the_cameras_rate(
    looped: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the GUI thread says it runs a heavy handler (painting the wall), a tile's decoder asks
    before each packet and waits — bounded: held busy for two seconds, it still shows the camera's
    25 fps. (How many of those asks wait depends on how the source batches packets: after a wait a
    thread has ``SLICE_S`` of its own, so a batch read at once waits once. 16 of 50 on a quiet
    machine, 8 on a loaded one.)"""
    asked = [0]
    real = foreground.give_way

    def counting() -> None:
        asked[0] += 1
        real()

    monkeypatch.setattr(display, "give_way", counting)
    with DisplayDecoder(looped, width=320, height=180) as d:
        assert wait_for(lambda: d.stats().published >= 5, 5)
        waits_before = foreground.waited()[0]
        foreground.busy()
        try:
            published, decoded, asks = d.stats().published, d.stats().decoded, asked[0]
            time.sleep(2.0)
            published = d.stats().published - published
            decoded = d.stats().decoded - decoded
            asks = asked[0] - asks
            waits = foreground.waited()[0] - waits_before
        finally:
            foreground.idle()
    assert asks >= decoded - 3, (asks, decoded)  # before each packet (a few may be in hand at either end)
    assert waits >= 4, (waits, asks)
    # 2 s of a 25 fps camera: 50 packets, each shown (a wait is 10 ms of a frame's 40); counted
    # against what the source delivered in those 2 s, not the clock (a loaded machine delivers less)
    assert asks >= 25, asks
    assert published >= 0.7 * asks, (published, asks)


def test_a_held_frame_is_never_written_again_over_the_next_hundred_frames(looped: Source) -> None:
    """A painter wraps a frame's pixels (a QImage over the buffer) without copying: they must stay
    as they were while later frames are published. Only a view is kept, not the Frame itself."""
    with DisplayDecoder(looped, width=320, height=180) as d:
        assert wait_for(lambda: d.latest() is not None, 5)
        held = d.latest()
        assert held is not None
        first, pixels = held.number, held.pixels[:, :, :3]  # a numpy view, as a painter would slice it
        raw = memoryview(held.rows)  # and the raw buffer, what a QImage wraps
        snapshot = bytes(raw)
        del held
        seen: set[int] = set()

        def hundred_later() -> bool:
            f = d.latest()
            if f is not None and f.number > first:
                seen.add(f.number)
            return len(seen) >= 100

        assert wait_for(hundred_later, 15, interval=0.005)
        assert bytes(raw) == snapshot, "a published frame's buffer was written again"
        before = np.frombuffer(snapshot, np.uint8).reshape(180, -1)[:, : 320 * 4].reshape(180, 320, 4)
        assert np.array_equal(pixels, before[:, :, :3])
        raw.release()


def test_full_range_pictures_keep_their_levels() -> None:
    """A full-range (yuvj420p) grey of Y=16 stays dark grey (16), not black as if it were video range."""
    import av

    from video.display import Converter

    def grey(fmt: str, y: int) -> av.VideoFrame:
        frame = av.VideoFrame(64, 36, fmt)
        for i, plane in enumerate(frame.planes):
            memoryview(plane).cast("B")[:] = bytes([y if i == 0 else 128]) * plane.buffer_size
        return frame

    convert = Converter("bgra")
    full = convert.convert(grey("yuvj420p", 16), 32, 18)
    limited = convert.convert(grey("yuv420p", 16), 32, 18)
    assert abs(int(full[5, 5, 2]) - 16) <= 2, full[5, 5]
    assert int(limited[5, 5, 2]) <= 2, limited[5, 5]
    assert abs(int(convert.convert(grey("yuvj420p", 235), 32, 18)[5, 5, 2]) - 235) <= 2


def test_keyframe_mode_decodes_about_one_picture_per_second(looped: Source) -> None:
    with DisplayDecoder(looped, width=320, height=180, mode=DisplayMode.KEYFRAMES) as d:
        time.sleep(3.2)
        st = d.stats()
        assert 2 <= st.decoded <= 5, st
        f = d.latest()
        assert f is not None and f.keyframe
        d.set_mode(DisplayMode.FULL)
        before = d.stats().decoded
        time.sleep(1.2)
        assert d.stats().decoded - before >= 15


def test_mode_off_unsubscribes(looped: Source) -> None:
    with DisplayDecoder(looped, width=320, height=180) as d:
        assert wait_for(lambda: d.latest() is not None, 3)
        d.set_mode(DisplayMode.OFF)
        assert wait_for(lambda: looped.status().consumers == 0, 1)
        n = d.stats().decoded
        time.sleep(0.5)
        assert d.stats().decoded == n
    assert looped.status().consumers == 0


def test_pictures_that_come_in_bursts_are_published_at_the_cameras_rate_not_one_per_burst() -> None:
    """A relay sends what it has every 200 ms here (five bursts a second of five pictures): the
    decoder still publishes about 25 pictures a second, spread over the time they were taken in."""
    from video.relay import Access, RelayedCamera, RelayServer

    with SyntheticCameraServer({"cam": CameraSpec("A01", width=320, height=180)}) as server:
        camera = Source(server.url("cam"), SourceOptions())
        relay = RelayServer(lambda _token: Access(None, "test"), latency=0.2)
        camera.start()
        relay.set_camera(RelayedCamera("cam", "cam", None, camera))
        relay.start()
        viewer = Source(f"{relay.address}cam.ts?token=t", SourceOptions())
        viewer.start()
        try:
            with DisplayDecoder(viewer, width=320, height=180) as d:
                assert wait_for(lambda: d.stats().published >= 10, 15)
                p0, t0 = d.stats().published, time.monotonic()
                numbers: list[tuple[float, int]] = []

                def sample() -> bool:
                    f = d.latest()
                    if f is not None and (not numbers or numbers[-1][1] != f.number):
                        numbers.append((time.monotonic(), f.number))
                    return time.monotonic() - t0 >= 3.0

                assert wait_for(sample, 10, interval=0.005)
                rate = (d.stats().published - p0) / (time.monotonic() - t0)
                assert rate >= 20, (rate, d.stats())  # one picture a burst: 5
                # spread out, not a burst's pictures at once: then every fifth gap between new
                # pictures is the burst's 200 ms (a hiccup of this sampler or the machine, once or
                # twice in 3 s, is not)
                gaps = sorted(b[0] - a[0] for a, b in itertools.pairwise(numbers))
                assert gaps[int(len(gaps) * 0.9)] < 0.1, gaps[-10:]
                assert sum(g >= 0.15 for g in gaps) <= 2, gaps[-10:]
        finally:
            viewer.stop()
            relay.stop(5)
            camera.stop()


def test_overload_keeps_latency_bounded_and_counts_what_was_skipped(clip: Path) -> None:
    """A decoder slower than the camera (60 ms a frame against 40) skips, never queues up."""
    src = Source(str(clip), SourceOptions(loop=True))
    d = DisplayDecoder(src, width=480, height=270, queue_size=20)
    orig = d._decode

    def slow_decode(*a: object, **k: object) -> object:
        time.sleep(0.06)  # the decoder's own work takes longer than a frame's 40 ms
        return orig(*a, **k)  # type: ignore[arg-type]

    d._decode = slow_decode  # type: ignore[method-assign]
    src.start()
    d.start()
    try:
        time.sleep(2)
        t0, decoded0 = time.monotonic(), d.stats().decoded
        time.sleep(2)
        st = d.stats()
        f = d.latest()
        assert f is not None
        assert st.dropped > 0, "the subscription dropped what the decoder could not take"
        assert len(src.subscriptions[0]) <= 20
        # a queue of 20 at the decoder's pace (60 ms a picture; more on a loaded machine: measured)
        period = (time.monotonic() - t0) / max(1, st.decoded - decoded0)
        assert time.time() - f.wall < 21 * period + 0.5, ("latency bounded by the queue, not growing", period)
    finally:
        d.stop()
        src.stop()


def test_camera_connects_its_sub_stream_only_while_displayed(tmp_path: Path) -> None:
    with SyntheticCameraServer(
        {"main": CameraSpec("A01", width=640, height=360), "sub": CameraSpec("A01", width=320, height=180)}
    ) as server:
        cam = Camera(CameraConfig("cam-A01", "A01", server.url("main"), sub_url=server.url("sub")))
        cam.start()
        try:
            assert cam.sub is not None and not cam.sub.running
            grid = cam.display(320, 180, 25)
            assert grid.source is cam.sub and grid.mode is DisplayMode.FULL
            assert wait_for(lambda: (lambda f: f is not None and f.width == 320)(grid.latest()), 8)
            big = cam.display(1280, 720, 1, maximised=True)
            assert big.source is cam.main
            assert wait_for(lambda: (lambda f: f is not None and f.width == 1280)(big.latest()), 8)  # tile size
            cam.release(grid)
            assert not cam.sub.running, "nobody shows the sub-stream: disconnected"
            assert cam.main.running
            cam.release(big)
        finally:
            cam.stop()


def test_a_tile_a_pixel_or_two_off_an_exact_half_gets_the_exact_half() -> None:
    from video.display import snap_size

    assert snap_size(640, 360, (316, 178)) == (320, 180)  # a 4x4 tile of 1280x720 less its gaps
    assert snap_size(640, 360, (636, 358)) == (640, 360)
    assert snap_size(640, 360, (300, 168)) == (300, 168)  # too far: converted at the tile's size
    assert snap_size(1920, 1080, (478, 268)) == (480, 270)
