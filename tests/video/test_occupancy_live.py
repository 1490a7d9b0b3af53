"""Seat occupancy end to end: the real ``seats`` command on an encoded 4-hour file, and the
:class:`OccupancyConsumer` on a live synthetic camera (with a staff schedule) and on a long-GOP stream."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import av
import pytest

from tests.video.waiting import FAST, wait_for
from video.analytics import SeatEvent, SeatRegion, SeatState, Tuning
from video.analytics.consumer import OccupancyConsumer
from video.analytics.scoring import Spell, score, truth
from video.source import Source, SourceOptions
from video.synthetic import CameraSpec, SyntheticCameraServer
from video.synthetic.encoder import _add_video_stream, _to_frame
from video.synthetic.staffing import ScriptedScene, SeatScript, Span, write_script

ROOT = Path(__file__).resolve().parents[2]
W, H = 320, 180


def seats(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), "seats", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=False)


def _pixels(scene: ScriptedScene) -> str:
    x, y, w, h = scene.seat_region()
    return f"{round(x * W)},{round(y * H)},{round(w * W)},{round(h * H)}"


@pytest.fixture(scope="module")
def shift_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SeatScript, ScriptedScene]:
    """A scripted 4-hour shift encoded at one picture a second (320×180 H.264, like a sub-stream)."""
    script = SeatScript.generate(2, hours=4.0)
    path = tmp_path_factory.mktemp("seats") / "shift.ts"
    scene = write_script(path, script, width=W, height=H)
    return path, script, scene


# ------------------------------------------------------------------------------------ the command


def test_seats_command_finds_every_absence_of_an_encoded_4_hour_shift(
        shift_file: tuple[Path, SeatScript, ScriptedScene]) -> None:
    path, script, scene = shift_file
    assert any(s.seconds >= 3600 for s in script.still) and script.dark and script.standers
    # a second region where nobody ever is (the sign above the window): one spell, open to the end
    r = seats(str(path), "--region", _pixels(scene), "--region", "190,8,110,22", "--json")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert all(set(s) == {"region", "start_s", "end_s"} for s in found)
    spells = [Spell(s["start_s"], s["end_s"]) for s in found if s["region"] == 0]
    result = score(truth(script), spells, tolerance=20.0, min_seconds=60.0)
    assert result.missed == () and result.false == (), (result, found)
    assert result.truth >= 3
    sign = [(s["start_s"], s["end_s"]) for s in found if s["region"] == 1]
    assert len(sign) == 1 and sign[0][0] <= 40 and sign[0][1] >= script.duration - 2, sign
    assert all(s["end_s"] - s["start_s"] >= 60 for s in found)


def test_seats_command_text_output_and_min_seconds(tmp_path: Path) -> None:
    script = SeatScript(1200.0, away=(Span(100.0, 250.0), Span(600.0, 680.0), Span(900.0, 1150.0)))
    path = tmp_path / "short.mp4"
    scene = write_script(path, script, width=W, height=H)
    r = seats(str(path), "--region", _pixels(scene), "--min-seconds", "100")
    assert r.returncode == 0, r.stderr
    assert "region 0: 2 empty spells of at least 100 s" in r.stdout
    assert "320x180" in r.stdout and "1199 s judged" in r.stdout
    lines = [line.split() for line in r.stdout.splitlines() if line.startswith("  ")]
    assert len(lines) == 2
    for words, (start, end) in zip(lines, [(100.0, 250.0), (900.0, 1150.0)], strict=True):
        assert abs(float(words[0]) - start) <= 5 and abs(float(words[3]) - end) <= 5, lines


@pytest.mark.parametrize(("region", "words"), [("1,2,3", "X,Y,W,H"), ("a,b,c,d", "whole numbers"),
                                               ("10,10,0,5", "above 0"), ("-1,0,5,5", "negative")])
def test_seats_command_refuses_a_bad_region_in_words(tmp_path: Path, region: str, words: str) -> None:
    r = seats(str(tmp_path / "x.ts"), f"--region={region}")
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


def test_seats_command_names_a_region_outside_the_picture(shift_file: tuple[Path, SeatScript, ScriptedScene],
                                                          ) -> None:
    r = seats(str(shift_file[0]), "--region", "300,100,40,40")
    assert r.returncode == 1 and "region 0 (300,100,40,40) is outside the 320x180 picture" in r.stderr


def test_seats_command_says_when_the_source_cannot_be_read(tmp_path: Path) -> None:
    junk = tmp_path / "junk.ts"
    junk.write_bytes(b"not a video" * 100)
    r = seats(str(junk), "--region", "1,1,10,10")
    assert r.returncode == 1 and "junk.ts" in r.stderr and "Traceback" not in r.stderr
    r = seats(str(tmp_path / "missing.ts"), "--region", "1,1,10,10")
    assert r.returncode == 1 and "missing.ts" in r.stderr and "Traceback" not in r.stderr
    r = seats("rtsp://admin:secret@127.0.0.1:1/x", "--region", "1,1,10,10", "--seconds", "2")
    assert r.returncode == 1 and "secret" not in r.stderr + r.stdout


# ----------------------------------------------------------------------------------- the consumer

# quicker to learn and to decide than the defaults, so that a live run takes seconds, not minutes
QUICK = Tuning(learn_seconds=4.0, learn_frames=4, empty_frames=3, empty_span=2.0, occupied_frames=2,
               occupied_span=1.0)


class Events:
    def __init__(self) -> None:
        self.items: list[SeatEvent] = []
        self.lock = threading.Lock()

    def __call__(self, e: SeatEvent) -> None:
        with self.lock:
            self.items.append(e)

    def kinds(self) -> list[str]:
        with self.lock:
            return [e.kind for e in self.items]


def test_consumer_on_a_live_camera_with_a_staff_schedule_reports_its_absences_on_the_callers_clock() -> None:
    t0 = time.time() + 1.0
    # away 0-9 s, seated 9-15 s, away 15-23 s, then seated
    away = [(t0 - 5.0, t0 + 9.0), (t0 + 15.0, t0 + 23.0)]

    def schedule(wall: float) -> bool:
        return not any(a <= wall < b for a, b in away)

    spec = CameraSpec("A01", W, H, fps=25, seed=5, schedule=schedule)
    offset = timedelta(days=3)  # the caller's clock (a demo clock) runs three days ahead

    def clock() -> datetime:
        return datetime.now().astimezone() + offset

    scene_region = ScriptedScene(SeatScript(1.0), "A01", W, H, seed=5).seat_region()
    events = Events()
    with SyntheticCameraServer({"cam/sub": spec}) as server:
        source = Source(server.url("cam/sub"), FAST)
        source.start()
        consumer = OccupancyConsumer(source, [SeatRegion("W-A01", *scene_region)], events, fps=1.0, clock=clock,
                                     name="seats-test", min_empty_seconds=5.0, tuning=QUICK)
        judged: list[float] = []  # the instant of every picture judged, on the caller's clock
        feed = consumer._detector.feed

        def recording_feed(image: Any, at: float) -> list[SeatEvent]:
            judged.append(at)
            return feed(image, at)

        consumer._detector.feed = recording_feed  # type: ignore[method-assign,assignment]
        consumer.start()
        try:
            assert wait_for(lambda: events.kinds()[:4] == ["empty_started", "empty_ended"] * 2, timeout=45.0), \
                events.items
            assert wait_for(lambda: consumer.status().states.get("W-A01") is SeatState.OCCUPIED, timeout=10.0)
            status = consumer.status()
        finally:
            assert consumer.stop(5.0)
            source.stop()
    assert status.keyframes_only  # a keyframe a second: keyframes only
    assert status.frames_judged >= 25 and status.decoded <= status.frames_judged + 30
    assert status.last_judged_at is not None
    assert abs(status.last_judged_at - clock()) < timedelta(seconds=5)
    shift = offset.total_seconds()
    spells = [(e.at - shift) for e in events.items[:4]]
    pictures = [a - shift for a in judged]
    # the first absence was under way when the camera started: it dates from the first pictures
    assert t0 - 2 <= spells[0] and pictures[0] - 0.01 <= spells[0] <= pictures[2] + 0.01, (spells, pictures[:4], t0)
    # Each change is dated by the first picture judged to show it: a few pictures after it (the
    # staff member walks in or out). Counted in pictures judged, not in seconds: on a loaded machine
    # the camera skips late frames, so a second's pictures may never come, and that is not lateness.
    for got, want in zip(spells[1:], [t0 + 9.0, t0 + 15.0, t0 + 23.0], strict=True):
        between = [a for a in pictures if want <= a < got]
        assert got >= want - 1.0 and len(between) <= 4 and got - want <= 10.0, \
            (round(got - want, 2), [round(a - want, 2) for a in pictures if want - 2 <= a <= got], spells, t0)
    assert events.items[0].snapshot_jpeg and events.items[2].snapshot_jpeg
    assert events.items[1].snapshot_jpeg is None


def test_consumer_decodes_every_frame_of_a_long_gop_stream_and_judges_about_one_a_second(tmp_path: Path) -> None:
    # 12 s at 25 fps with a keyframe every 4 s (a real camera's main stream), the staff member away
    # after 2 s: the consumer must decode inside the GOPs to judge once a second
    path = tmp_path / "main.ts"
    script = SeatScript(12.0, away=(Span(2.0, 12.0),))
    scene = ScriptedScene(script, "A01", 640, 360, seed=1)
    with av.open(str(path), "w", format="mpegts") as container:
        stream = _add_video_stream(container, codec="h264", width=640, height=360, fps=25, gop=100,
                                   bitrate=800_000, preset="ultrafast", threads=1)
        for i in range(300):
            container.mux(stream.encode(_to_frame(scene.render(i / 25, None), 640, 360, i, 25)))
        container.mux(stream.encode(None))
    source = Source(str(path), SourceOptions(realtime=True))
    events = Events()
    consumer = OccupancyConsumer(source, [SeatRegion("W", *scene.seat_region())], events, fps=1.0,
                                 name="seats-gop", min_empty_seconds=3.0, tuning=QUICK)
    consumer.start()  # subscribed before the source starts: nothing is missed
    source.start()
    try:
        assert wait_for(lambda: source.status().state.value == "ended", timeout=30.0)
        assert wait_for(lambda: consumer.status().frames_judged >= 10, timeout=5.0)
    finally:
        assert consumer.stop(5.0)
        source.stop()
    status = consumer.status()
    assert not status.keyframes_only
    assert 10 <= status.frames_judged <= 13  # about one a second of 12 s
    assert status.decoded >= 250  # the GOPs were decoded to get there
    assert events.kinds() == ["empty_started", "empty_ended"]  # the open spell ended at the last judged picture
    assert events.items[1].at - events.items[0].at >= 7.0


def test_set_regions_takes_effect_live_and_stop_joins_the_thread() -> None:
    spec = CameraSpec("A02", W, H, fps=25, seed=6, schedule=lambda _w: False)  # always away
    region = ScriptedScene(SeatScript(1.0), "A02", W, H, seed=6).seat_region()
    events = Events()
    with SyntheticCameraServer({"c/sub": spec}) as server:
        source = Source(server.url("c/sub"), FAST)
        source.start()
        consumer = OccupancyConsumer(source, [SeatRegion("a", *region)], events, name="seats-regions",
                                     min_empty_seconds=2.0, tuning=QUICK)
        consumer.start()
        try:
            assert wait_for(lambda: consumer.status().states.get("a") is SeatState.EMPTY, timeout=20.0)
            with pytest.raises(ValueError, match="same key"):  # refused in the caller's thread
                consumer.set_regions([SeatRegion("b", *region), SeatRegion("b", *region)])
            consumer.set_regions([SeatRegion("b", *region)])
            assert wait_for(lambda: set(consumer.status().states) == {"b"}, timeout=5.0)
            assert wait_for(lambda: "empty_ended" in events.kinds(), timeout=5.0)  # a's spell ended with it
            assert "hallwatch-seats-regions" in {t.name for t in threading.enumerate()}
        finally:
            assert consumer.stop(5.0)
            source.stop()
    assert "hallwatch-seats-regions" not in {t.name for t in threading.enumerate()}
