"""Staff-seat occupancy: the detector on scripted synthetic shifts, rendered faster than real time.

Each scripted shift is 4 simulated hours at one picture a second (the analytics' rate), straight into
the detector (no encoding: ``test_occupancy_live`` covers encoded files and live cameras).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from video.analytics import OccupancyDetector, SeatEvent, SeatRegion, SeatState
from video.analytics.scoring import Spell, replay, score, truth
from video.synthetic.staffing import ScriptedScene, SeatScript, Span

W, H = 320, 180


def _bgr(scene: ScriptedScene, t: float) -> np.ndarray:
    return np.ascontiguousarray(scene.render(t, None)[:, :, ::-1])


def _run(script: SeatScript, times: Sequence[float], detector: OccupancyDetector | None = None,
         ) -> tuple[OccupancyDetector, ScriptedScene, list[SeatEvent], dict[float, SeatState]]:
    scene = ScriptedScene(script, "A01", W, H)
    det = detector or OccupancyDetector([SeatRegion("seat", *scene.seat_region())])
    events: list[SeatEvent] = []
    states: dict[float, SeatState] = {}
    for t in times:
        events += det.feed(_bgr(scene, float(t)), float(t))
        states[float(t)] = det.states()["seat"]
    return det, scene, events, states


# ------------------------------------------------------------------------------ the scripted shifts


@pytest.mark.parametrize("seed", [0, 1])
def test_scripted_shift_every_absence_over_a_minute_found_within_20s_and_no_false_spell(seed: int) -> None:
    script = SeatScript.generate(seed, hours=4.0)
    # what the script must hold for the test to mean anything
    assert script.duration >= 4 * 3600
    assert any(s.seconds >= 3600 for s in script.still), "an hour of motionless sitting"
    assert len(script.dark) == 2 and all(s.seconds >= 180 for s in script.dark), "the lights off twice"
    assert any(not script.present(s.start + 1) for s in script.dark), "lights off while the seat is empty"
    assert any(script.present(s.start + 1) for s in script.dark), "lights off while the staff member sits"
    assert any(script.present(s.start + 1) and s.seconds >= 180 for s in script.standers), \
        "a passer-by 3 minutes in front of the seated staff member"
    assert script.drift[1] < 0.75 and script.lamps, "drift and a switched lamp"
    long = script.absences(60.0)
    assert len(long) >= 3

    spells, _ = replay(script, width=W, height=H)

    result = score(truth(script), spells, tolerance=20.0, min_seconds=60.0)
    assert result.missed == (), f"absences not found within 20 s: {result.missed}; reported {spells}"
    assert result.false == (), f"false empty spells: {result.false}"
    assert result.recall == 1.0 and result.precision == 1.0
    assert result.worst_error_s <= 20.0
    assert all(s.seconds >= 60.0 for s in spells)


# ------------------------------------------------------------------------------ one behaviour each


def test_an_hour_sitting_motionless_is_occupied_all_hour() -> None:
    script = SeatScript(3900.0, away=(Span(0.0, 200.0),), still=(Span(200.0, 3900.0),))
    times = list(range(0, 3900))
    _, _, events, states = _run(script, times)
    assert [e.kind for e in events] == ["empty_started", "empty_ended"]
    assert abs(events[0].at - 0.0) <= 5 and abs(events[1].at - 200.0) <= 5
    sitting = [s for t, s in states.items() if t >= 210]
    assert sitting.count(SeatState.OCCUPIED) >= 0.95 * len(sitting)
    assert SeatState.EMPTY not in sitting


def test_the_empty_seat_is_not_learned_while_someone_sits_there() -> None:
    script = SeatScript(1800.0, still=(Span(0.0, 1800.0),))
    det, _, events, states = _run(script, range(0, 1800))
    assert events == []
    assert set(states.values()) == {SeatState.UNKNOWN}
    assert det.close(1800.0) == []


def test_lights_off_is_unknown_and_keeps_the_state_it_had() -> None:
    # empty 0-300 (lights off 150-250 inside the absence), seated 300-900 (lights off 500-700)
    script = SeatScript(900.0, away=(Span(0.0, 300.0),), dark=(Span(150.0, 250.0), Span(500.0, 700.0)))
    _, _, events, states = _run(script, range(0, 900))
    # one spell across the dark: started at the start, ended when the staff member came back
    assert [e.kind for e in events] == ["empty_started", "empty_ended"]
    assert events[0].at <= 5 and abs(events[1].at - 300.0) <= 5
    assert states[200.0] is SeatState.UNKNOWN and states[600.0] is SeatState.UNKNOWN
    assert states[100.0] is SeatState.EMPTY and states[400.0] is SeatState.OCCUPIED
    assert states[800.0] is SeatState.OCCUPIED


def test_a_dimmer_or_brighter_room_is_not_unknown() -> None:
    from video.synthetic.staffing import Lamp

    # the light halves over the run, then a lamp brightens one side
    script = SeatScript(1200.0, away=(Span(0.0, 200.0), Span(700.0, 900.0)), drift=(1.0, 0.45, 0.0, 0.8),
                        lamps=(Lamp(500.0, 1.4, 0.3),))
    _, _, events, states = _run(script, range(0, 1200))
    assert [e.kind for e in events] == ["empty_started", "empty_ended"] * 2
    assert abs(events[2].at - 700.0) <= 5 and abs(events[3].at - 900.0) <= 5
    judged = [s for t, s in states.items() if t >= 60]
    assert judged.count(SeatState.UNKNOWN) <= 0.1 * len(judged)  # only walkers crossing in front


def test_a_passer_by_standing_in_front_of_the_seat_is_not_an_absence() -> None:
    script = SeatScript(1000.0, away=(Span(0.0, 150.0),), standers=(Span(400.0, 580.0),),
                        still=(Span(350.0, 700.0),))
    _, _, events, states = _run(script, range(0, 1000))
    assert [e.kind for e in events] == ["empty_started", "empty_ended"]  # the first absence only
    hidden = [states[float(t)] for t in range(410, 575)]
    assert SeatState.EMPTY not in hidden
    assert hidden.count(SeatState.UNKNOWN) >= 0.9 * len(hidden)
    assert states[650.0] is SeatState.OCCUPIED


def test_a_passer_by_in_front_of_the_empty_seat_does_not_end_the_absence() -> None:
    script = SeatScript(900.0, away=(Span(0.0, 600.0),), standers=(Span(200.0, 380.0),))
    _, _, events, _ = _run(script, range(0, 900))
    assert [e.kind for e in events] == ["empty_started", "empty_ended"]
    assert events[0].at <= 5 and abs(events[1].at - 600.0) <= 5


def test_a_passer_by_soon_after_a_light_switch_does_not_end_the_absence() -> None:
    from video.synthetic.staffing import Lamp

    # the light switched during an absence; 50 s later a passer-by stands 3 minutes in front of the seat
    script = SeatScript(1000.0, away=(Span(100.0, 800.0),), lamps=(Lamp(300.0, 0.65, 0.3),),
                        standers=(Span(350.0, 530.0),))
    _, _, events, states = _run(script, range(0, 1000))
    assert [e.kind for e in events] == ["empty_started", "empty_ended"]
    assert abs(events[0].at - 100.0) <= 5 and abs(events[1].at - 800.0) <= 5
    assert SeatState.OCCUPIED not in [states[float(t)] for t in range(350, 800)]


def test_an_absence_under_the_minimum_is_not_reported() -> None:
    script = SeatScript(900.0, away=(Span(0.0, 200.0), Span(400.0, 445.0)))
    _, _, events, _ = _run(script, range(0, 900))
    assert len(events) == 2 and events[1].at < 300


def test_empty_started_carries_a_jpeg_of_the_moment_it_began() -> None:
    script = SeatScript(600.0, away=(Span(300.0, 500.0),))
    scene = ScriptedScene(script, "A01", W, H)
    region = SeatRegion("seat", *scene.seat_region())
    det = OccupancyDetector([region])
    # learn the empty seat first from a separate stretch of empty pictures (a spell of its own)
    learn = SeatScript(120.0, away=(Span(0.0, 120.0),))
    _, _, first, _ = _run(learn, range(0, 120), det)
    _, _, events, _ = _run(script, range(120, 600), det)
    assert [e.kind for e in first + events[:1]] == ["empty_started", "empty_ended"]
    events = events[1:]
    started = [e for e in events if e.kind == "empty_started"]
    assert len(started) == 1 and abs(started[0].at - 300.0) <= 5
    assert started[0].snapshot_jpeg is not None and started[0].snapshot_jpeg[:2] == b"\xff\xd8"
    picture = cv2.imdecode(np.frombuffer(started[0].snapshot_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (H, W, 3)
    # the picture is the scene at the spell's start (the rectangle drawn around the seat aside)
    expected = _bgr(scene, started[0].at).astype(np.int16)
    inner = (slice(10, H - 10), slice(10, 100))  # away from the drawn rectangle
    assert np.abs(picture[inner].astype(np.int16) - expected[inner]).mean() < 8
    ended = [e for e in events if e.kind == "empty_ended"]
    assert ended and ended[0].snapshot_jpeg is None and abs(ended[0].at - 500.0) <= 5


def test_close_ends_an_open_spell_at_the_given_time() -> None:
    script = SeatScript(300.0, away=(Span(0.0, 300.0),))
    det, _, events, _ = _run(script, range(0, 300))
    assert [e.kind for e in events] == ["empty_started"]
    closing = det.close(299.0)
    assert [(e.kind, e.at) for e in closing] == [("empty_ended", 299.0)]
    assert det.close(300.0) == []


def test_close_reports_a_spell_that_reached_the_minimum_only_at_the_end() -> None:
    script = SeatScript(200.0, still=(Span(0.0, 100.0),), away=(Span(100.0, 200.0),))
    det = OccupancyDetector([SeatRegion("seat", *ScriptedScene(script, "A01", W, H).seat_region())],
                            min_empty_seconds=100.0)
    _, _, events, _ = _run(script, range(0, 200), det)
    assert events == []  # empty from 100 s (learned 30 s later, dated back): 99 s at the last picture
    closing = det.close(201.0)
    assert [e.kind for e in closing] == ["empty_started", "empty_ended"]
    assert abs(closing[0].at - 100.0) <= 3 and closing[1].at == 201.0


def test_set_regions_keeps_what_a_kept_region_learned_and_ends_a_removed_ones_spell() -> None:
    script = SeatScript(400.0, away=(Span(0.0, 400.0),))
    scene = ScriptedScene(script, "A01", W, H)
    seat = SeatRegion("seat", *scene.seat_region())
    other = SeatRegion("other", 0.05, 0.3, 0.1, 0.2)
    det = OccupancyDetector([seat, other])
    _run(script, range(0, 200), det)
    assert det.states()["seat"] is SeatState.EMPTY
    events = det.set_regions([seat], 200.0)
    assert det.states() == {"seat": SeatState.EMPTY}
    assert events == []
    moved = SeatRegion("seat", seat.x + 0.01, seat.y, seat.w, seat.h)
    ended = det.set_regions([moved], 210.0)
    assert [(e.key, e.kind, e.at) for e in ended] == [("seat", "empty_ended", 210.0)]
    assert det.states() == {"seat": SeatState.UNKNOWN}  # a moved seat learns afresh


@pytest.mark.parametrize("bad", [(-0.1, 0.2, 0.1, 0.1), (0.95, 0.2, 0.1, 0.1), (0.1, 0.2, 0.0, 0.1),
                                 (0.1, 0.95, 0.1, 0.1)])
def test_a_region_outside_the_picture_is_refused_in_words(bad: tuple[float, float, float, float]) -> None:
    with pytest.raises(ValueError, match="not inside the picture"):
        SeatRegion("W1", *bad)


def test_duplicate_keys_and_bad_pictures_are_refused() -> None:
    r = SeatRegion("W1", 0.1, 0.1, 0.2, 0.2)
    with pytest.raises(ValueError, match="same key"):
        OccupancyDetector([r, r])
    det = OccupancyDetector([r])
    with pytest.raises(ValueError, match="BGR picture"):
        det.feed(np.zeros((10, 10), np.uint8), 0.0)


def test_time_stepping_back_is_taken_as_the_last_time() -> None:
    script = SeatScript(200.0, away=(Span(0.0, 200.0),))
    scene = ScriptedScene(script, "A01", W, H)
    det = OccupancyDetector([SeatRegion("seat", *scene.seat_region())], min_empty_seconds=30.0)
    events: list[SeatEvent] = []
    for t in itertools.chain(range(0, 100), [99.5], range(100, 120)):
        events += det.feed(_bgr(scene, float(t)), float(t))
    assert [e.kind for e in events] == ["empty_started"]
    assert all(b.at >= a.at for a, b in itertools.pairwise(events))


def test_score_matches_spells_within_the_tolerance() -> None:
    t = [Spell(100, 200), Spell(500, 530), Spell(1000, 1300)]
    s = score(t, [Spell(110, 205), Spell(1030, 1300), Spell(2000, 2100)], tolerance=20, min_seconds=60)
    assert (s.truth, s.found, s.reported, s.matched) == (2, 1, 3, 1)
    assert s.missed == (Spell(1000, 1300),) and s.false == (Spell(1030, 1300), Spell(2000, 2100))
    assert s.worst_error_s == 10
