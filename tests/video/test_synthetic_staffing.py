"""Scripted staff schedules for the synthetic cameras: the scripts, their truth, and a live camera
showing a schedule (a looped camera alternating the clip with the staff member and the one without)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av
import numpy as np
import pytest

from tests.video.waiting import FAST, wait_for
from video.source import Source
from video.synthetic import SceneRenderer, SyntheticCameraServer
from video.synthetic.staffing import DailySchedule, Lamp, ScriptedScene, SeatScript, Span

TZ = timezone(timedelta(hours=8))


def test_generated_shifts_are_deterministic_and_hold_what_the_tests_need() -> None:
    for seed in range(6):
        a, b = SeatScript.generate(seed), SeatScript.generate(seed)
        assert a == b
        assert a.duration == 4 * 3600
        assert any(s.seconds >= 3600 for s in a.still)
        assert len(a.dark) == 2 and len(a.standers) == 2 and len(a.lamps) == 2
        assert all(s.seconds == 180 for s in a.standers)
        assert len(a.absences(60)) >= 3 and any(s.seconds < 60 for s in a.away)
        # nothing the camera cannot see: no transition in the dark or behind a passer-by
        for edge in [s.start for s in a.away] + [s.end for s in a.away]:
            if 0 < edge < a.duration:
                assert not any(d.start - 1 <= edge <= d.end + 1 for d in a.dark + a.standers)
    assert SeatScript.generate(1) != SeatScript.generate(2)


def test_the_truth_and_the_light_follow_the_script() -> None:
    s = SeatScript(1000.0, away=(Span(100.0, 200.0),), still=(Span(300.0, 400.0),), dark=(Span(500.0, 600.0),),
                   drift=(1.0, 0.5, 0.0, 1.0), lamps=(Lamp(700.0, 1.2, 0.3),))
    assert s.present(99.9) and not s.present(100.0) and not s.present(199.9) and s.present(200.0)
    assert s.still_span(350.0) == 0 and s.still_span(450.0) == -1
    assert s.light(0.0) == (1.0, 0.0, 0.0)
    assert s.light(550.0)[0] < 0.05
    level, warmth, side = s.light(800.0)
    assert level == pytest.approx((1.0 - 0.5 * 0.8) * 1.2) and warmth == pytest.approx(0.8) and side == 0.3
    with pytest.raises(ValueError, match="overlap"):
        SeatScript(100.0, away=(Span(0.0, 50.0), Span(40.0, 60.0)))


def test_the_scene_shows_the_script() -> None:
    s = SeatScript(600.0, away=(Span(100.0, 200.0),), still=(Span(300.0, 500.0),), standers=(Span(520.0, 560.0),),
                   dark=(Span(570.0, 590.0),))
    scene = ScriptedScene(s, "A01", 320, 180)
    x, y, w, h = scene.seat_region()
    box = (slice(round(y * 180), round((y + h) * 180)), slice(round(x * 320), round((x + w) * 320)))

    def seat(t: float) -> np.ndarray:
        return scene.render(t, None)[box].astype(np.int16)

    empty, sitting = seat(150.0), seat(50.0)
    assert np.abs(empty - sitting).mean() > 10  # the staff member is in the seat
    assert np.abs(seat(310.0) - seat(490.0)).mean() < 6  # motionless: noise only
    assert np.abs(seat(20.0) - seat(60.0)).mean() > np.abs(seat(310.0) - seat(490.0)).mean()  # fidgeting
    assert np.abs(seat(540.0) - seat(510.0)).mean() > 10  # the passer-by hides the seat
    assert scene.render(580.0, None).mean() < 20  # lights off
    assert scene.staff_present(150.0) is False and scene.staff_present(50.0) is True


def test_a_daily_schedule_follows_the_local_time_of_day() -> None:
    script = SeatScript(3600.0, away=(Span(600.0, 1200.0),))
    d = DailySchedule(script, TZ, start_hour=9.0)
    day = datetime(2026, 3, 2, tzinfo=TZ)
    assert d.present((day + timedelta(hours=9, minutes=5)).timestamp())
    assert not d.present((day + timedelta(hours=9, minutes=15)).timestamp())
    assert d.present((day + timedelta(hours=9, minutes=25)).timestamp())
    assert not d.present((day + timedelta(hours=8)).timestamp())  # before the shift: nobody
    assert not d.present((day + timedelta(hours=11)).timestamp())  # after it
    assert DailySchedule.for_camera("window/A01").script == DailySchedule.for_camera("window/A01").script
    assert DailySchedule.for_camera("window/A01").script != DailySchedule.for_camera("window/A02").script


def _seat_pictures(url: str, n: int) -> list[np.ndarray]:
    """``n`` keyframes' seat boxes from a live camera."""
    source = Source(url, FAST)
    sub = source.subscribe("t", keyframes_only=True)
    source.start()
    out: list[np.ndarray] = []
    try:
        codec: av.VideoCodecContext | None = None
        while len(out) < n:
            p = sub.get(10.0)
            assert p is not None, "no keyframe"
            if codec is None:
                ctx = av.CodecContext.create(p.info.codec, "r")
                assert isinstance(ctx, av.VideoCodecContext)
                codec = ctx
            frames = codec.decode(p.to_av()) or codec.decode(None)
            codec.flush_buffers()
            for f in frames:
                rgb = f.to_ndarray(format="rgb24")
                x, y, w, h = SceneRenderer("A01", rgb.shape[1], rgb.shape[0]).seat_region()
                hh, ww = rgb.shape[:2]
                out.append(rgb[round(y * hh):round((y + h) * hh), round(x * ww):round((x + w) * ww)].astype(np.int16))
    finally:
        sub.close()
        source.stop()
    return out


def test_a_looped_camera_with_a_schedule_switches_clips_at_keyframes(tmp_path: Path) -> None:
    here = threading.Event()
    here.set()
    server = SyntheticCameraServer({}, clip_dir=tmp_path / "clips", clip_seconds=2, sub_clips=True)
    server.set_schedule("window/A01", lambda _w: here.is_set())
    with server:
        url = server.resolve("synthetic://window/A01/sub")
        camera = server._camera("window/A01/sub")
        assert camera is not None and camera.spec.schedule is not None
        assert wait_for(lambda: camera._clips is not None and camera._clip() is not None, timeout=60.0)
        present = _seat_pictures(url, 2)
        assert wait_for(lambda: server.stats("window/A01/sub")["looping"], timeout=10.0)
        here.clear()
        absent = _seat_pictures(url, 3)[1:]  # the first may be the GOP cached before the switch
    assert np.abs(present[-1] - absent[-1]).mean() > 10
    assert np.abs(absent[0] - absent[-1]).mean() < 8  # the empty seat, both times
