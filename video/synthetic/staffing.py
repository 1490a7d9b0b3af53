"""Scripted staff schedules for the synthetic window cameras, with the ground truth alongside.

A :class:`SeatScript` says, in scene seconds from 0, when the staff member is away from the seat (the
truth the seat analytics must find), when they sit motionless (no sway at all: a motion detector sees
an empty seat), how the room's lights drift and switch (down to off), and when a passer-by stands
right in front of the seat, hiding it. :class:`ScriptedScene` draws a window of the hall following a
script — the same hall as :class:`~video.synthetic.scene.SceneRenderer` (wall, counter, chair,
citizens walking by and stopping beside the seat), frame for frame deterministic in ``t``.

:meth:`SeatScript.generate` writes a plausible shift from a seed: long seated spells (one of them
an hour without moving), fidgeting, short and long absences, a slow drift of the daylight, a lamp
switched, the lights off for a while, and passers-by who stop in front of the seat for minutes.
Transitions never fall in the dark or behind a passer-by: what no camera could see is not asked of
the detector.

:class:`DailySchedule` maps a POSIX wall time to a script's time by the local time of day, so a
live synthetic camera can show a script as a staff schedule (the demo).
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Final

import av
import cv2
import numpy as np
import numpy.typing as npt

from video.synthetic.scene import Image, SceneRenderer, _mix

__all__ = ["DARK_LEVEL", "DailySchedule", "Lamp", "ScriptedScene", "SeatScript", "Span", "StaffSchedule",
           "write_script"]


DARK_LEVEL: Final = 0.03
"""The light level with the lights off (a little daylight through the door)."""


StaffSchedule = Callable[[float], bool]
"""Whether the staff member sits at the window at a time (what :class:`SceneRenderer` takes)."""


@dataclass(frozen=True, slots=True)
class Span:
    """``[start, end)`` in scene seconds."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def __contains__(self, t: object) -> bool:
        return isinstance(t, (int, float)) and self.start <= t < self.end


@dataclass(frozen=True, slots=True)
class Lamp:
    """From ``at`` on, a lamp changes the room's light: the level is multiplied by ``factor`` and one
    side is brighter than the other by ``side`` (-0.5 … 0.5) — a sudden change."""

    at: float
    factor: float
    side: float = 0.0


def _in(spans: Sequence[Span], starts: Sequence[float], t: float) -> int:
    """Index of the span holding ``t`` (spans sorted, disjoint), or -1."""
    i = bisect.bisect_right(starts, t) - 1
    return i if i >= 0 and t < spans[i].end else -1


@dataclass(frozen=True)
class SeatScript:
    """A shift at one window, in scene seconds ``[0, duration)``.

    ``away``: the staff member is not in the seat (the truth); ``still``: seated without moving at
    all; ``standers``: a passer-by stands in front of the seat, hiding it; ``dark``: the lights are
    off. The light drifts linearly over the shift from ``drift[0]`` to ``drift[1]`` (level: 1 normal)
    and its tint from ``drift[2]`` to ``drift[3]`` (warmth, -1 cold … 1 warm); ``lamps`` switch it
    (sorted by time). Spans sorted and disjoint.
    """

    duration: float
    away: tuple[Span, ...] = ()
    still: tuple[Span, ...] = ()
    standers: tuple[Span, ...] = ()
    dark: tuple[Span, ...] = ()
    drift: tuple[float, float, float, float] = (1.0, 1.0, 0.0, 0.0)
    lamps: tuple[Lamp, ...] = ()
    seed: int = 0
    _away_starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _still_starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _stander_starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _dark_starts: tuple[float, ...] = field(init=False, repr=False, compare=False)
    _lamp_ats: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("away", "still", "standers", "dark"):
            spans: tuple[Span, ...] = getattr(self, name)
            for a, b in itertools.pairwise(spans):
                if b.start < a.end:
                    raise ValueError(f"{name}: spans overlap or are not sorted: {a} {b}")
            if any(s.end <= s.start for s in spans):
                raise ValueError(f"{name}: a span ends before it starts")
        if any(b.at < a.at for a, b in itertools.pairwise(self.lamps)):
            raise ValueError("lamps: not sorted")
        object.__setattr__(self, "_away_starts", tuple(s.start for s in self.away))
        object.__setattr__(self, "_still_starts", tuple(s.start for s in self.still))
        object.__setattr__(self, "_stander_starts", tuple(s.start for s in self.standers))
        object.__setattr__(self, "_dark_starts", tuple(s.start for s in self.dark))
        object.__setattr__(self, "_lamp_ats", tuple(k.at for k in self.lamps))

    # ------------------------------------------------------------------------------ the truth

    def present(self, t: float) -> bool:
        """Whether the staff member sits in the seat at ``t``."""
        return _in(self.away, self._away_starts, t) < 0

    def absences(self, min_seconds: float = 0.0) -> list[Span]:
        """The absences lasting at least ``min_seconds`` (the truth for the seat analytics)."""
        return [s for s in self.away if s.seconds >= min_seconds]

    def still_span(self, t: float) -> int:
        """Index of the motionless spell holding ``t``, or -1 (fidgeting, or away)."""
        return _in(self.still, self._still_starts, t)

    def stander(self, t: float) -> int:
        """Index of the passer-by standing in front of the seat at ``t``, or -1."""
        return _in(self.standers, self._stander_starts, t)

    def light(self, t: float) -> tuple[float, float, float]:
        """``(level, warmth, side)`` at ``t``."""
        if _in(self.dark, self._dark_starts, t) >= 0:
            return DARK_LEVEL, 0.0, 0.0
        f = min(1.0, max(0.0, t / self.duration)) if self.duration > 0 else 0.0
        l0, l1, w0, w1 = self.drift
        level, warmth, side = l0 + f * (l1 - l0), w0 + f * (w1 - w0), 0.0
        i = bisect.bisect_right(self._lamp_ats, t) - 1
        if i >= 0:
            level *= self.lamps[i].factor
            side = self.lamps[i].side
        return level, warmth, side

    # ----------------------------------------------------------------------------- generator

    @classmethod
    def generate(cls, seed: int, hours: float = 4.0) -> SeatScript:
        """A plausible shift of ``hours`` from ``seed``.

        It holds: an hour of motionless sitting (starting in the first half hour), other seated spells
        of 2-40 minutes, partly motionless; absences of 15-50 s (too short to count) and of 70 s to
        15 minutes; a slow drift of the daylight over the whole shift, a lamp switched on one side, the
        lights off for 3-8 minutes twice (once with the seat occupied, once empty); passers-by
        standing 3 minutes in front of the seat (with the staff there and with the seat empty).
        """
        rng = random.Random(_mix(seed, 0x5EA7))
        duration = hours * 3600.0
        away: list[Span] = []
        still: list[Span] = []
        seated: list[Span] = []
        t = rng.choice((0.0, rng.uniform(70.0, 300.0)))  # at the seat from the start, or arriving
        if t > 0:
            away.append(Span(0.0, t))
        first = True
        while t < duration:
            if first:  # the long motionless spell comes early
                pre = rng.uniform(60.0, 300.0)
                sit = Span(t, t + pre + 3600.0 + rng.uniform(60.0, 300.0))
                still.append(Span(t + pre, t + pre + 3600.0))
                first = False
            else:
                sit = Span(t, t + rng.uniform(120.0, 2400.0))
                if sit.seconds > 600 and rng.random() < 0.6:
                    a = sit.start + rng.uniform(30.0, sit.seconds / 3)
                    still.append(Span(a, min(sit.end - 20.0, a + rng.uniform(300.0, sit.seconds / 2))))
            seated.append(sit)
            t = sit.end
            if t >= duration:
                break
            gone = rng.uniform(15.0, 50.0) if rng.random() < 0.4 else rng.uniform(70.0, 900.0)
            away.append(Span(t, min(duration, t + gone)))
            t += gone
        seated = [Span(s.start, min(s.end, duration)) for s in seated if s.start < duration]
        still = [Span(s.start, min(s.end, duration)) for s in still if s.start < duration and s.end > s.start]
        # passers-by: one in front of a seated staff member, one in front of the empty seat (when an
        # absence is long enough), inside the spans with margins
        standers: list[Span] = []
        margin = 30.0
        long_seated = [s for s in seated if s.seconds >= 180.0 + 2 * margin + 60.0]
        if long_seated:
            s = long_seated[rng.randrange(len(long_seated))]
            a = rng.uniform(s.start + margin, s.end - margin - 180.0)
            standers.append(Span(a, a + 180.0))
        long_away = [s for s in away if s.seconds >= 180.0 + 2 * margin + 20.0 and s.start > 0]
        if long_away:
            s = long_away[rng.randrange(len(long_away))]
            a = rng.uniform(s.start + margin, s.end - margin - 180.0)
            standers.append(Span(a, a + 180.0))
        standers.sort(key=lambda s: s.start)
        # the lights: daylight drifting over the shift, a lamp switched on one side, off twice
        offs: list[Span] = []
        for pool in (seated, [s for s in away if s.seconds >= 5 * 60 + 2 * margin]):
            pool = [s for s in pool if s.seconds >= 3 * 60 + 2 * margin and s.start > 1800.0
                    and not any(s.start < o.end and o.start < s.end for o in standers)]
            if pool:
                s = pool[rng.randrange(len(pool))]
                length = rng.uniform(180.0, min(480.0, s.seconds - 2 * margin))
                a = rng.uniform(s.start + margin, s.end - margin - length)
                offs.append(Span(a, a + length))
        offs.sort(key=lambda s: s.start)
        drift = (1.0, rng.uniform(0.5, 0.7), 0.0, rng.uniform(0.3, 0.8))
        lamps = (Lamp(rng.uniform(0.25, 0.45) * duration, rng.uniform(1.2, 1.4), rng.choice((-0.3, 0.3))),
                 Lamp(rng.uniform(0.7, 0.85) * duration, rng.uniform(0.6, 0.75), 0.0))
        return cls(duration, tuple(away), tuple(still), tuple(standers), tuple(offs), drift, lamps, seed)


class DailySchedule:
    """A script shown by a live camera: wall time → script time by the local time of day; pass
    :meth:`present` as a camera's ``schedule`` (:class:`~video.synthetic.server.CameraSpec`).

    ``start_hour``: the local hour the script's time 0 falls on; outside the script's hours the
    staff member is away (the script wraps after ``duration`` seconds if it is shorter than a day).
    """

    def __init__(self, script: SeatScript, zone: tzinfo | None = None, start_hour: float = 8.5) -> None:
        self.script = script
        self.zone = zone
        self.start_hour = start_hour

    def scene_time(self, wall: float) -> float:
        local = datetime.fromtimestamp(wall, self.zone)
        of_day = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        return (of_day - self.start_hour * 3600.0) % 86400.0

    @classmethod
    def for_camera(cls, camera_id: str, zone: tzinfo | None = None, *, hours: float = 9.5,
                   start_hour: float = 8.0) -> DailySchedule:
        """A working day's script for a camera, its seed from the camera's id (every window its own
        day): ``hours`` from ``start_hour`` local time, the staff member away before and after."""
        seed = zlib.crc32(camera_id.encode()) & 0xFFFF
        return cls(SeatScript.generate(seed, hours=hours), zone, start_hour)

    def present(self, t: float) -> bool:
        """``t`` is a POSIX wall time."""
        s = self.scene_time(t)
        return s < self.script.duration and self.script.present(s)


_STANDER_SCALE: Final = 1.65  # the passer-by in front of the seat stands close to the camera


class ScriptedScene(SceneRenderer):
    """The hall window of :class:`SceneRenderer` following a :class:`SeatScript` (scene time = the
    script's seconds): the staff member sits still or fidgets, leaves and returns, the lights drift
    and switch, passers-by stop in front of the seat. Sensor noise is added after the lighting, as a
    camera's is (in the dark the picture is noise)."""

    def __init__(self, script: SeatScript, label: str = "A01", width: int = 640, height: int = 360,
                 seed: int | None = None) -> None:
        super().__init__(label, width, height, script.seed if seed is None else seed, schedule=script.present)
        self.script = script
        self._ramp = np.linspace(-0.5, 0.5, width, dtype=np.float32)
        self._sides: dict[float, npt.NDArray[np.float32]] = {}

    # ----------------------------------------------------------------------------- rendering

    def render(self, t: float, wall: datetime | None) -> Image:
        frame = self._background.copy()
        if self.script.present(t):
            self._draw_staff(frame, t)
        self._draw_citizens(frame, t)
        k = self.script.stander(t)
        if k >= 0:
            self._draw_stander(frame, t, k)
        level, warmth, side = self.script.light(t)
        if level != 1.0 or warmth != 0.0:
            gains = np.diag([level * (1 + 0.12 * warmth), level, level * (1 - 0.12 * warmth)])  # R, G, B
            frame = np.asarray(cv2.transform(frame, gains.astype(np.float32)), np.uint8)  # saturating
        if side != 0.0:
            frame = np.asarray(cv2.multiply(frame, self._side_factor(side), dtype=cv2.CV_8U), np.uint8)
        n = frame.size
        off = (_mix(self.seed, round(t * 1000.0)) % self._NOISE_PHASES) * self._noise_step
        frame = np.asarray(cv2.add(frame, self._noise[off : off + n].reshape(frame.shape)), np.uint8)  # saturating
        if wall is not None:
            self._draw_clock(frame, wall)
        return frame

    def _side_factor(self, side: float) -> npt.NDArray[np.float32]:
        f = self._sides.get(side)
        if f is None:
            row = 1.0 + side * 2.0 * self._ramp
            f = self._sides[side] = np.ascontiguousarray(
                np.broadcast_to(row[None, :, None], (self.height, self.width, 3)), dtype=np.float32)
        return f

    def _draw_staff(self, img: Image, t: float) -> None:
        k = self.script.still_span(t)
        if k >= 0:  # motionless: a posture of its own for each still spell, not one pixel moves
            u = _mix(self.seed, k, 0x57111)
            dx = ((u & 0xFF) / 255.0 - 0.5) * 8.0
            dy = (((u >> 8) & 0xFF) / 255.0) * 4.0
        else:  # fidgeting: sways, leans, now and then turns aside
            dx = 3.0 * math.sin(t * 0.7 + self.seed) + 5.0 * math.sin(t * 0.053 + 2 * self.seed)
            dy = 2.0 + 2.0 * math.sin(t * 0.31)
        self._draw_seated(img, dx, dy)

    def _draw_seated(self, img: Image, dx: float, dy: float) -> None:
        cx = self._seat_x + round(dx * self._s)
        top = self._counter_top - self._px(6)
        head_y = top - self._px(62) + round(dy * self._s)
        cv2.ellipse(img, (cx, top), (self._px(34), self._px(50)), 0, 180, 360, (28, 60, 120), -1)
        cv2.rectangle(img, (cx - self._px(5), head_y + self._px(10)), (cx + self._px(5), top - self._px(44)),
                      (224, 186, 150), -1)
        cv2.line(img, (cx, top - self._px(44)), (cx, top), (230, 230, 230), self._px(3))
        cv2.circle(img, (cx, head_y), self._px(16), (224, 186, 150), -1)
        cv2.ellipse(img, (cx, head_y - self._px(4)), (self._px(17), self._px(14)), 0, 180, 360, (30, 24, 20), -1)

    def _draw_stander(self, img: Image, t: float, k: int) -> None:
        u = _mix(self.seed, k, 0x57A9D)
        colour = (int(40 + u % 180), int(40 + (u >> 8) % 180), int(40 + (u >> 16) % 180))
        x = self._seat_x + (((u >> 24) & 0xFF) / 255.0 - 0.5) * 10 * self._s + 3.0 * math.sin(t * 0.4) * self._s
        s = self._s * _STANDER_SCALE
        cx, fy = round(x), self.height + round(8 * s)

        def p(v: float) -> int:
            return max(1, round(v * s))

        hip = fy - p(62)
        shoulder = hip - p(62)
        dark = (40, 40, 48)
        cv2.line(img, (cx - p(6), hip), (cx - p(8), fy), dark, p(9))
        cv2.line(img, (cx + p(6), hip), (cx + p(8), fy), dark, p(9))
        cv2.rectangle(img, (cx - p(21), shoulder), (cx + p(21), hip + p(4)), colour, -1)
        cv2.line(img, (cx - p(21), shoulder + p(4)), (cx - p(24), hip), colour, p(7))
        cv2.line(img, (cx + p(21), shoulder + p(4)), (cx + p(24), hip), colour, p(7))
        # seen from behind: hair, no face
        cv2.circle(img, (cx, shoulder - p(17)), p(16), (214, 172, 136), -1)
        cv2.circle(img, (cx, shoulder - p(19)), p(16), (25, 20, 18), -1)


def write_script(path: str | os.PathLike[str], script: SeatScript, *, label: str = "A01", width: int = 320,
                 height: int = 180, fps: int = 1, bitrate: int = 40_000, codec: str = "h264") -> ScriptedScene:
    """Encode ``script`` into a video file at ``fps`` (H.264, a keyframe every second, like a camera's
    sub-stream sampled once a second), frame ``i`` showing script time ``i / fps``; returns the scene
    (its :meth:`~ScriptedScene.seat_region` is where the seat is)."""
    from video.synthetic.encoder import _FORMATS, _add_video_stream, _to_frame

    target = Path(path)
    fmt = _FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(f"unsupported container {target.suffix!r} (.ts, .mp4, .mkv)")
    scene = ScriptedScene(script, label, width, height)
    with av.open(str(target), "w", format=fmt) as container:
        stream = _add_video_stream(container, codec=codec, width=width, height=height, fps=fps, gop=fps,
                                   bitrate=bitrate, preset="ultrafast", threads=1)
        for i in range(int(script.duration * fps)):
            container.mux(stream.encode(_to_frame(scene.render(i / fps, None), width, height, i, fps)))
        container.mux(stream.encode(None))
    return scene
