"""Scoring seat analytics against a script's truth: found empty spells matched to true absences.

Used by the tests and ``benchmarks/seats_bench.py``. A true absence (at least the minimum length) is
*found* when a reported spell starts and ends within ``tolerance`` seconds of it; a reported spell
that matches no absence is *false* when it is at least the minimum length (the analytics report
nothing shorter). Precision = matched spells / reported spells; recall = found absences / absences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from video.analytics.occupancy import OccupancyDetector, SeatEvent, SeatRegion
from video.synthetic.staffing import ScriptedScene, SeatScript

__all__ = ["Score", "Spell", "replay", "score", "truth"]


@dataclass(frozen=True, slots=True)
class Spell:
    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Score:
    truth: int  # absences at least the minimum long
    reported: int  # spells reported
    found: int  # absences matched within the tolerance
    matched: int  # reported spells that match an absence
    missed: tuple[Spell, ...]
    false: tuple[Spell, ...]  # reported spells matching no absence
    worst_error_s: float  # the largest start or end error among the matches

    @property
    def precision(self) -> float:
        return self.matched / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.truth if self.truth else 1.0


def score(truth: Sequence[Spell], reported: Sequence[Spell], *, tolerance: float = 20.0,
          min_seconds: float = 60.0) -> Score:
    """Match ``reported`` spells to ``truth`` absences (the ones of at least ``min_seconds``; a reported
    spell matching a shorter true absence within the tolerance is not false)."""
    long = [s for s in truth if s.seconds >= min_seconds]
    used: set[int] = set()
    found = 0
    worst = 0.0
    missed: list[Spell] = []
    for a in long:
        hit = None
        for i, r in enumerate(reported):
            if i not in used and abs(r.start - a.start) <= tolerance and abs(r.end - a.end) <= tolerance:
                hit = i
                break
        if hit is None:
            missed.append(a)
            continue
        used.add(hit)
        found += 1
        r = reported[hit]
        worst = max(worst, abs(r.start - a.start), abs(r.end - a.end))
    false: list[Spell] = []
    for i, r in enumerate(reported):
        if i in used:
            continue
        if any(abs(r.start - a.start) <= tolerance and abs(r.end - a.end) <= tolerance for a in truth):
            used.add(i)  # a true absence just under the minimum, found: not false
            continue
        false.append(r)
    return Score(len(long), len(reported), found, len(used), tuple(missed), tuple(false), worst)


def replay(script: SeatScript, *, width: int = 320, height: int = 180, fps: float = 1.0,
           min_seconds: float = 60.0, label: str = "A01") -> tuple[list[Spell], OccupancyDetector]:
    """Render ``script`` at ``fps`` pictures a second straight into a detector of its seat (faster than
    real time: no encoding); the spells it reported, and the detector (its state at the end)."""
    scene = ScriptedScene(script, label, width, height)
    detector = OccupancyDetector([SeatRegion("seat", *scene.seat_region())], min_empty_seconds=min_seconds)
    spells: list[Spell] = []
    opened: float | None = None

    def take(events: list[SeatEvent]) -> None:
        nonlocal opened
        for e in events:
            if e.kind == "empty_started":
                opened = e.at
            elif opened is not None:
                spells.append(Spell(opened, e.at))
                opened = None

    n = int(script.duration * fps)
    for i in range(n):
        t = i / fps
        take(detector.feed(np.asarray(cv2.cvtColor(scene.render(t, None), cv2.COLOR_RGB2BGR), np.uint8), t))
    take(detector.close(n / fps))
    return spells, detector


def truth(script: SeatScript) -> list[Spell]:
    """The script's absences as spells."""
    return [Spell(s.start, s.end) for s in script.away]
