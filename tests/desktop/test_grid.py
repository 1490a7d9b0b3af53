"""The camera grid on real (synthetic and RTSP) cameras: video moves in the tiles, drops, maximise,
hidden means no decoding, layouts survive a round trip, a killed camera says so and comes back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from desktop.video import CAMERA_MIME, LAYOUTS, CameraGrid, TileDecoration, parse_grid
from desktop.video.states import state_text
from tests.video.camera_servers import CameraFactory
from tests.video.waiting import FAST
from video.camera import Camera, CameraConfig
from video.display import DisplayMode, fit_size
from video.source import SourceOptions, SourceState
from video.synthetic import CameraSpec, SyntheticCameraServer


@pytest.fixture
def hall() -> Iterator[dict[str, Camera]]:
    """Two started cameras: ``cam-A01`` with a sub-stream, ``cam-A02`` with its main stream only."""
    specs = {
        "a01/main": CameraSpec("A01", width=320, height=180),
        "a01/sub": CameraSpec("A01", width=160, height=90),
        "a02/main": CameraSpec("A02", width=320, height=180, seed=7),
    }
    with SyntheticCameraServer(specs) as server:
        cameras = {
            "cam-A01": Camera(CameraConfig("cam-A01", "A01 大厅", server.url("a01/main"),
                                           sub_url=server.url("a01/sub")), FAST),
            "cam-A02": Camera(CameraConfig("cam-A02", "A02", server.url("a02/main")), FAST),
        }
        for c in cameras.values():
            c.start()
        try:
            yield cameras
        finally:
            for c in cameras.values():
                c.stop()


@pytest.fixture
def make_grid(qtbot: QtBot) -> Iterator[type[CameraGrid]]:
    grids: list[CameraGrid] = []

    def make(*args: object, **kwargs: object) -> CameraGrid:
        grid = CameraGrid(*args, **kwargs)  # type: ignore[arg-type]
        qtbot.addWidget(grid)
        grids.append(grid)
        return grid

    yield make  # type: ignore[misc]
    for g in grids:
        g.shutdown()


def _show(qtbot: QtBot, grid: CameraGrid, w: int = 380, h: int = 220) -> None:
    grid.resize(w, h)
    grid.show()
    qtbot.waitExposed(grid)


def _tile_pixels(grid: CameraGrid, index: int) -> np.ndarray:
    image = grid.grab(grid.tile_rect(index)).toImage().convertToFormat(QImage.Format.Format_RGB32)
    ptr = image.constBits()
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def _painted(grid: CameraGrid, index: int) -> int:
    return grid.stats()[index].painted


def test_tiles_paint_moving_video(qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]) -> None:
    grid = make_grid(hall.get, layout="2x2")
    grid.set_cameras(["cam-A01", "cam-A02"])
    _show(qtbot, grid, 660, 380)  # tiles of 329×189: every frame (smaller ones get keyframes only)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 10 and _painted(grid, 1) >= 10, timeout=10_000)
    first = _tile_pixels(grid, 1)
    # Video moves: the burnt-in clock's milliseconds change from one painted frame to the next.
    qtbot.waitUntil(lambda: not np.array_equal(_tile_pixels(grid, 1), first), timeout=2_000)
    centre = first[first.shape[0] // 2, first.shape[1] // 2, :3]
    assert not np.array_equal(centre, [0x18, 0x14, 0x11]), "a picture, not the empty background"
    stats = grid.stats()
    assert [s.mode for s in stats[:2]] == [DisplayMode.FULL, DisplayMode.FULL]
    assert stats[2].camera_id is None and stats[2].painted == 0
    n = _painted(grid, 1)
    qtbot.waitUntil(lambda: _painted(grid, 1) >= n + 20, timeout=3_000)  # keeps painting at ~25 fps


def test_small_tiles_show_the_sub_stream_and_a_tile_much_larger_than_it_the_main_stream(
    qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]
) -> None:
    grid = make_grid(hall.get, layout="2x2")
    grid.set_cameras(["cam-A01"])
    _show(qtbot, grid)  # 380×220: tiles of 189×109 for A01's 160×90 sub-stream
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 3, timeout=8_000)
    assert grid.stats()[0].stream == "sub"
    grid.set_layout("1+5")  # the big tile, 253×146, is over 1.34 × the sub-stream: the main stream
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "main", timeout=2_000)
    grid.set_cameras([None, "cam-A01"])  # a small tile: the sub-stream again
    qtbot.waitUntil(lambda: grid.stats()[1].stream == "sub" and _painted(grid, 1) >= 3, timeout=8_000)


def _drop(grid: CameraGrid, index: int, camera_id: str) -> bool:
    mime = QMimeData()
    mime.setData(CAMERA_MIME, QByteArray(camera_id.encode("utf-8")))
    pos = QPointF(grid.tile_rect(index).center())
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    enter = QDragEnterEvent(pos.toPoint(), actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, drop)
    return drop.isAccepted()


def test_a_dropped_camera_appears_on_its_tile(qtbot: QtBot, hall: dict[str, Camera],
                                              make_grid: type[CameraGrid]) -> None:
    changes: list[int] = []
    grid = make_grid(hall.get, layout="3x3")
    grid.stateChanged.connect(lambda: changes.append(1))
    _show(qtbot, grid)
    assert not _drop(grid, 4, "no-such-camera"), "an unknown camera is refused"
    assert grid.cameras()[4] is None
    assert _drop(grid, 4, "cam-A02")
    assert grid.cameras()[4] == "cam-A02" and grid.selected == 4 and changes
    qtbot.waitUntil(lambda: _painted(grid, 4) >= 3, timeout=5_000)
    first = grid.stats()[4].first_frame_s
    assert first is not None and first < 5
    # Dropping a second camera on the same tile replaces the first.
    assert _drop(grid, 4, "cam-A01")
    qtbot.waitUntil(lambda: grid.stats()[4].camera_id == "cam-A01" and _painted(grid, 4) >= 3, timeout=5_000)
    assert hall["cam-A02"].main.status().consumers == 0, "the replaced camera's decoder let go"


def test_double_click_maximises_on_the_main_stream_and_back_to_the_sub_stream(
    qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]
) -> None:
    cam = hall["cam-A01"]
    assert cam.sub is not None
    grid = make_grid(hall.get, layout="2x2")
    grid.set_camera(0, "cam-A01")
    _show(qtbot, grid)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 3, timeout=8_000)
    assert grid.stats()[0].stream == "sub" and cam.sub.running

    qtbot.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=grid.tile_rect(0).center())
    assert grid.maximised == 0 and grid.tile_rect(0) == grid.rect()
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "main", timeout=2_000)
    painted = _painted(grid, 0)
    qtbot.waitUntil(lambda: _painted(grid, 0) > painted + 3, timeout=5_000)
    ticket = grid._tiles[0].ticket
    assert ticket is not None and ticket.decoder is not None and ticket.decoder.source is cam.main
    frame = grid._tiles[0].frame
    assert frame is not None and (frame.width, frame.height) == fit_size(320, 180, grid.width(), grid.height(),
                                                                         upscale=True), "made at the tile's size"
    qtbot.waitUntil(lambda: not cam.sub.running, timeout=5_000)  # nobody shows the sub-stream now

    qtbot.mouseDClick(grid, Qt.MouseButton.LeftButton, pos=grid.rect().center())
    assert grid.maximised is None
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "sub" and cam.sub.running, timeout=2_000)
    qtbot.waitUntil(lambda: (t := grid._tiles[0].ticket) is not None and t.decoder is not None
                    and t.decoder.source is cam.sub and grid._tiles[0].frame is not None, timeout=8_000)
    qtbot.waitUntil(lambda: cam.main.status().consumers == 0, timeout=5_000)


def test_a_hidden_or_minimised_grid_decodes_nothing(qtbot: QtBot, hall: dict[str, Camera],
                                                    make_grid: type[CameraGrid]) -> None:
    grid = make_grid(hall.get, layout="2x2")
    grid.set_cameras(["cam-A01", "cam-A02"])
    _show(qtbot, grid)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 3 and _painted(grid, 1) >= 3, timeout=8_000)
    cam1, cam2 = hall["cam-A01"], hall["cam-A02"]
    assert cam2.main.status().consumers == 1

    def nothing_decodes() -> bool:
        sub_off = cam1.sub is not None and not cam1.sub.running
        return grid.decoding() == 0 and grid.settled() and cam2.main.status().consumers == 0 and sub_off

    grid.hide()
    qtbot.waitUntil(nothing_decodes, timeout=5_000)
    painted = _painted(grid, 1)

    grid.show()
    qtbot.waitUntil(lambda: _painted(grid, 1) > painted + 3, timeout=8_000)

    grid.showMinimized()
    qtbot.waitUntil(nothing_decodes, timeout=5_000)
    grid.showNormal()
    qtbot.waitUntil(lambda: cam2.main.status().consumers == 1 and grid.decoding() == 2, timeout=5_000)


def test_layout_state_round_trips_through_json(qtbot: QtBot, hall: dict[str, Camera],
                                               make_grid: type[CameraGrid]) -> None:
    grid = make_grid(hall.get, layout="2x2")
    grid.set_cameras(["cam-A01", None, "cam-A02"])
    grid.save_named_layout("前台")
    grid.set_layout("1+5")
    grid.set_cameras(["cam-A02", "cam-A01"])
    grid.save_named_layout("overview")
    grid.maximise(1)
    state = json.loads(json.dumps(grid.state()))
    assert state["layout"] == "1+5" and state["maximised"] == 1
    assert state["named"]["前台"] == {"layout": "2x2", "cameras": ["cam-A01", None, "cam-A02"]}

    other = make_grid(hall.get, layout="1")
    assert other.restore(state) == []
    assert other.state() == grid.state()
    assert other.layout_name == "1+5" and other.cameras()[:2] == ["cam-A02", "cam-A01"]
    other.apply_named_layout("前台")
    assert other.layout_name == "2x2" and other.cameras() == ["cam-A01", None, "cam-A02", None]

    # What is not understood is skipped and named, never raised; the rest is restored.
    broken = {"layout": "7x7x", "cameras": "cam-A01", "named": {"ok": {"layout": "3x3", "cameras": []},
                                                               "bad": {"layout": 3}}, "maximised": "yes"}
    third = make_grid(hall.get, layout="2x2")
    problems = third.restore(broken)
    assert len(problems) == 3 and any("7x7x" in p for p in problems)
    assert third.named_layouts() == ["ok"] and third.layout_name == "2x2"
    assert third.restore("garbage") == ["grid state is not a mapping: str"]


def test_digit_keys_switch_layouts_and_the_tour_cycles_named_layouts(
    qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]
) -> None:
    grid = make_grid(hall.get, layout="2x2")
    _show(qtbot, grid)
    for key, name in ((Qt.Key.Key_3, "3x3"), (Qt.Key.Key_7, "1+7"), (Qt.Key.Key_1, "1"), (Qt.Key.Key_6, "1+5")):
        qtbot.keyClick(grid, key)
        assert grid.layout_name == name
    grid.save_named_layout("a")
    grid.set_layout("4x4")
    grid.save_named_layout("b")
    seen: list[str] = []
    grid.layoutChanged.connect(seen.append)
    grid.start_tour(["a", "b"], seconds=1)
    assert grid.touring and grid.layout_name == "1+5"
    qtbot.waitUntil(lambda: seen[-2:] == ["4x4", "1+5"], timeout=4_000)
    qtbot.keyClick(grid, Qt.Key.Key_T)
    assert not grid.touring


def test_tile_overlay_says_the_window_light_and_recording(qtbot: QtBot, hall: dict[str, Camera],
                                                         make_grid: type[CameraGrid]) -> None:
    asked: list[str] = []

    def decorations(camera_id: str) -> TileDecoration:
        asked.append(camera_id)
        return TileDecoration(window_name="A02 综合受理", light="green", recording=True)

    grid = make_grid(hall.get, layout="1", decorations=decorations, mode_override=DisplayMode.KEYFRAMES)
    grid.set_camera(0, "cam-A02")
    _show(qtbot, grid, 400, 240)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 1 and "cam-A02" in asked, timeout=8_000)
    qtbot.waitUntil(lambda: grid._tiles[0].state is SourceState.LIVE, timeout=3_000)
    assert grid._tooltip(0) is not None and "A02 · A02 综合受理" in grid._tooltip(0)  # type: ignore[operator]
    bar = grid._tiles[0].overlay_top
    assert bar is not None
    px = np.frombuffer(bar.constBits(), np.uint8).reshape(bar.height(), -1)
    assert ((px[:, 1::4] > 150) & (px[:, 2::4] < 80)).any(), "the window's green light is drawn on the title bar"
    assert ((px[:, 2::4] > 200) & (px[:, 1::4] < 80)).any(), "and the red recording dot"
    assert grid.status_text(0) == "live · keyframes only"


def test_state_words_are_given_for_every_source_state() -> None:
    assert state_text(SourceState.RECONNECTING, "connection refused: nothing is listening at 127.0.0.1:554") == (
        "reconnecting: connection refused: nothing listens at 127.0.0.1:554")
    assert state_text(SourceState.FAILED, "the camera refused the user name or password (401)") == (
        "failed: the camera refused the user name or password")
    assert state_text(SourceState.RECONNECTING, "something FFmpeg said") == (
        "reconnecting: connection error (details in the log)")
    assert state_text(SourceState.LIVE, "the connection was cut") == "live"
    for s in SourceState:
        assert state_text(s)


def test_a_killed_camera_shows_reconnecting_on_its_tile_and_comes_back(
    qtbot: QtBot, rtsp_camera_factory: CameraFactory, make_grid: type[CameraGrid]
) -> None:
    rtsp = rtsp_camera_factory("h264", width=320, height=180)
    camera = Camera(CameraConfig("cam-rtsp", "RTSP", rtsp.url), FAST)
    camera.start()
    try:
        grid = make_grid({"cam-rtsp": camera}.get, layout="1")
        grid.set_camera(0, "cam-rtsp")
        _show(qtbot, grid, 400, 240)
        qtbot.waitUntil(lambda: _painted(grid, 0) >= 5, timeout=10_000)
        rtsp.kill()
        qtbot.waitUntil(lambda: grid.stats()[0].state is SourceState.RECONNECTING, timeout=10_000)
        said = grid.status_text(0)
        assert said.startswith("reconnecting"), said
        painted = _painted(grid, 0)
        rtsp.start()
        qtbot.waitUntil(lambda: grid.stats()[0].state is SourceState.LIVE and _painted(grid, 0) > painted + 5,
                        timeout=20_000)
        assert grid.status_text(0) == "live"
    finally:
        grid.shutdown()
        camera.stop()


def test_a_grid_destroyed_without_shutdown_still_gives_its_decoders_back(qtbot: QtBot,
                                                                       hall: dict[str, Camera]) -> None:
    grid = CameraGrid(hall.get, layout="2x2")
    grid.set_cameras([None, "cam-A02"])
    _show(qtbot, grid)
    qtbot.waitUntil(lambda: _painted(grid, 1) >= 3, timeout=8_000)
    assert hall["cam-A02"].main.status().consumers == 1
    shiboken6.delete(grid)
    qtbot.waitUntil(lambda: hall["cam-A02"].main.status().consumers == 0, timeout=5_000)
    qtbot.waitUntil(lambda: not any(t.name == "hallwatch-grid-decoders" for t in threading.enumerate()),
                    timeout=5_000)


def test_a_picture_that_stops_while_the_connection_stays_up_is_said_not_live(
    qtbot: QtBot, make_grid: type[CameraGrid]
) -> None:
    """Never a frozen picture that looks live: with the camera's stall watchdog far off (30 s), a
    camera that stops sending shows "no new picture" after 3 s, dimmed; it comes back by itself."""
    with SyntheticCameraServer({"a": CameraSpec("A", width=320, height=180)}) as server:
        camera = Camera(CameraConfig("a", "A", server.url("a")), SourceOptions(stall_after=30, open_timeout=4))
        camera.start()
        try:
            grid = make_grid({"a": camera}.get, layout="1")
            grid.set_camera(0, "a")
            _show(qtbot, grid)
            qtbot.waitUntil(lambda: grid.status_text(0) == "live" and _painted(grid, 0) >= 5, timeout=8_000)
            server.freeze("a", True)
            qtbot.waitUntil(lambda: grid.status_text(0).startswith("no new picture for "), timeout=6_000)
            assert camera.status().state is SourceState.LIVE
            server.freeze("a", False)
            qtbot.waitUntil(lambda: grid.status_text(0) == "live", timeout=8_000)
        finally:
            grid.shutdown()
            camera.stop()


@pytest.mark.parametrize("name", ["1", "2x2", "3x3", "4x4", "5x5", "1+5", "1+7"])
def test_each_standard_layout_covers_its_grid_once(name: str) -> None:
    layout = LAYOUTS[name]
    covered = [(c.column + dc, c.row + dr) for c in layout.cells for dc in range(c.columns) for dr in range(c.rows)]
    assert sorted(covered) == sorted((x, y) for x in range(layout.columns) for y in range(layout.rows))
    assert layout.tiles == {"1": 1, "2x2": 4, "3x3": 9, "4x4": 16, "5x5": 25, "1+5": 6, "1+7": 8}[name]


def test_grid_sizes_parse_or_say_what_is_wrong() -> None:
    assert parse_grid("4x4") == LAYOUTS["4x4"] and parse_grid(" 8 × 2 ").tiles == 16
    for bad in ("4", "0x3", "9x9", "axb"):
        with pytest.raises(ValueError, match="grid"):
            parse_grid(bad)


def test_the_raster_painter_draws_1_to_1_and_crops_a_picture_a_pixel_larger_than_its_tile(qtbot: QtBot) -> None:
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QColor, QPainter

    from desktop.video.painter import RasterFramePainter
    from video.display import Frame

    rows = np.zeros((180, 320 * 4), np.uint8)
    pixels = rows.reshape(180, 320, 4)
    pixels[..., 3] = 255
    pixels[:, :, 2] = np.arange(320, dtype=np.uint8)[None, :]  # red = column
    pixels[:, :, 1] = np.arange(180, dtype=np.uint8)[:, None]  # green = row
    rows.flags.writeable = False
    frame = Frame(rows=rows, pixels=pixels, pts=None, wall=0, capture=0, decoded=0, keyframe=True, number=1)
    target = QImage(400, 300, QImage.Format.Format_RGB32)
    target.fill(QColor("black"))
    p = QPainter(target)
    covered = RasterFramePainter().draw(p, QRect(10, 20, 318, 178), frame, 1.0)
    p.end()
    assert covered == QRect(10, 20, 318, 178)
    top_left = target.pixelColor(10, 20)
    assert (top_left.red(), top_left.green()) == (1, 1), "the picture's middle: one column and row cropped"
    bottom_right = target.pixelColor(327, 197)
    assert (bottom_right.red(), bottom_right.green()) == (318 % 256, 178)  # column 318 (red wraps at 256)
    assert target.pixelColor(328, 197) == QColor("black"), "nothing drawn outside the tile"


def test_a_tile_set_to_keyframes_only_decodes_about_a_picture_a_second_and_says_so(
    qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]
) -> None:
    grid = make_grid(hall.get, layout="1")
    grid.set_camera(0, "cam-A02")
    _show(qtbot, grid)
    qtbot.waitUntil(lambda: grid.status_text(0) == "live" and grid.stats()[0].mode is DisplayMode.FULL, timeout=8_000)
    grid.set_keyframes_only(0, True)
    qtbot.waitUntil(lambda: grid.stats()[0].mode is DisplayMode.KEYFRAMES, timeout=2_000)
    assert grid.status_text(0) == "live · keyframes only" and grid.keyframes_only(0)
    painted = _painted(grid, 0)
    qtbot.wait(2_000)  # a measured span: about two keyframes in it, not fifty frames
    assert 1 <= _painted(grid, 0) - painted <= 4
    grid.set_keyframes_only(0, False)
    qtbot.waitUntil(lambda: grid.stats()[0].mode is DisplayMode.FULL, timeout=2_000)
    painted = _painted(grid, 0)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= painted + 20, timeout=3_000)


def test_a_tile_switches_streams_with_a_margin_so_a_resize_across_one_size_does_not_flap(
    qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]
) -> None:
    grid = make_grid(hall.get, layout="1")
    grid.set_camera(0, "cam-A01")  # sub-stream 160×90: up to main above 214×120, back below 184×103
    _show(qtbot, grid, 180, 100)
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "sub" and _painted(grid, 0) >= 1, timeout=8_000)  # size known
    grid.resize(240, 136)
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "main", timeout=2_000)
    grid.resize(200, 112)  # between the two: stays on the main stream
    QApplication.processEvents()  # the coalesced decoder update runs on the next pass of the loop
    assert grid.tile_rect(0).size().toTuple() == (200, 112) and grid.stats()[0].stream == "main"
    grid.resize(180, 100)
    qtbot.waitUntil(lambda: grid.stats()[0].stream == "sub", timeout=2_000)


def test_a_tile_overlay_follows_its_window_light_without_a_new_picture(
        qtbot: QtBot, hall: dict[str, Camera], make_grid: type[CameraGrid]) -> None:
    light = {"now": "green"}

    def decorations(camera_id: str) -> TileDecoration:
        return TileDecoration(window_name="A02 综合受理", light=light["now"], recording=False)

    grid = make_grid(hall.get, layout="1", decorations=decorations, mode_override=DisplayMode.KEYFRAMES)
    grid.set_camera(0, "cam-A02")
    _show(qtbot, grid, 400, 240)
    qtbot.waitUntil(lambda: _painted(grid, 0) >= 1, timeout=8_000)

    def red_on_bar() -> bool:
        bar = grid._tiles[0].overlay_top
        if bar is None:
            return False
        px = np.frombuffer(bar.constBits(), np.uint8).reshape(bar.height(), -1)
        return bool(((px[:, 2::4] > 200) & (px[:, 1::4] < 120) & (px[:, 0::4] < 120)).any())

    assert not red_on_bar()
    light["now"] = "red"
    grid.refresh_decorations()
    qtbot.waitUntil(red_on_bar, timeout=3_000)  # the next paint (no new picture needed: keyframes only)
