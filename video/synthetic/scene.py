"""The synthetic hall scene: a service-hall window drawn frame by frame, deterministic in scene time.

Scene time ``t`` is in seconds; the ground truth for a frame showing wall time ``w`` is
``SceneRenderer(...).staff_present(w.timestamp())``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
RGB = tuple[int, int, int]

STAFF_BLOCK_S: Final = 300.0
"""Every block of this many seconds of scene time holds exactly one staff absence of 20-90 s."""

_MASK64: Final = (1 << 64) - 1


def _mix(*values: int) -> int:
    """A deterministic 64-bit hash of integers (splitmix64 steps), stable across runs and platforms."""
    h = 0x9E3779B97F4A7C15
    for v in values:
        h = (h ^ (v & _MASK64)) & _MASK64
        h = (h + 0x9E3779B97F4A7C15) & _MASK64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
        h ^= h >> 31
    return h


def _unit(*values: int) -> float:
    """A deterministic number in [0, 1) from integers."""
    return (_mix(*values) >> 11) / float(1 << 53)


class SceneRenderer:
    """Draws one service window of the hall as RGB frames; deterministic from ``seed`` and ``t``.

    The static background (wall, floor tiles, counter, empty chair, window label) is drawn once; a
    frame is that background plus light sensor noise (a window into a precomputed noise field, so
    the encoder sees a real camera's bitrate), the staff member when present, the citizens walking
    by and the clock. A 640×360 frame takes well under 2 ms.
    """

    _NOISE_PHASES: Final = 11
    _NOISE_LEVEL: Final = 10  # peak-to-peak grey levels of the sensor noise

    def __init__(self, label: str, width: int = 640, height: int = 360, seed: int = 0,
                 schedule: Callable[[float], bool] | None = None) -> None:
        """``schedule``: whether the staff member is in the seat at a scene time (default: one absence
        of 20-90 s in every block of :data:`STAFF_BLOCK_S`)."""
        if width < 64 or height < 36:
            raise ValueError(f"frame too small: {width}x{height}")
        self.label = label
        self.width = width
        self.height = height
        self.seed = seed
        self.schedule = schedule
        self._s = min(width / 640.0, height / 360.0)  # drawing scale relative to the 640x360 design
        self._floor_y = int(height * 0.56)
        self._counter_top = int(height * 0.55)
        self._counter_bottom = int(height * 0.72)
        self._seat_x = int(width * 0.55)
        self._background = self._draw_background()
        self._noise, self._noise_step = self._make_noise()
        self._staff_cache: tuple[int, float, float] = (-1, 0.0, 0.0)

    # ---------------------------------------------------------------------------- ground truth

    def staff_away_interval(self, block: int) -> tuple[float, float]:
        """The staff absence ``[start, end)`` (scene seconds) inside block ``block`` of 300 s."""
        cached_block, start, end = self._staff_cache
        if cached_block == block:
            return start, end
        length = 20.0 + 70.0 * _unit(self.seed, block, 1)
        offset = (STAFF_BLOCK_S - length) * _unit(self.seed, block, 2)
        start = block * STAFF_BLOCK_S + offset
        end = start + length
        self._staff_cache = (block, start, end)
        return start, end

    def staff_away_intervals(self, t0: float, t1: float) -> list[tuple[float, float]]:
        """All staff absences ``[start, end)`` that overlap scene time ``[t0, t1)``."""
        out = []
        block = int(t0 // STAFF_BLOCK_S)
        while block * STAFF_BLOCK_S < t1:
            start, end = self.staff_away_interval(block)
            if end > t0 and start < t1:
                out.append((start, end))
            block += 1
        return out

    def staff_present(self, t: float) -> bool:
        """Whether the staff member sits at the window at scene time ``t`` (the seat-occupancy truth).

        Every 300 s block of scene time holds one absence of 20-90 s, so the seat is occupied
        70-93 % of the time and any 10 minutes hold at least one absence — unless a ``schedule`` says.
        """
        if self.schedule is not None:
            return self.schedule(t)
        start, end = self.staff_away_interval(int(t // STAFF_BLOCK_S))
        return not (start <= t < end)

    def seat_region(self) -> tuple[float, float, float, float]:
        """The staff seat as fractions ``(x, y, w, h)`` of the picture, origin top left: the chair and
        the seated staff member's head and shoulders (the same at every 16:9 size)."""
        x0 = self._seat_x - self._px(44)
        x1 = self._seat_x + self._px(44)
        y0 = self._counter_top - self._px(92)
        y1 = self._counter_top - self._px(2)
        return x0 / self.width, y0 / self.height, (x1 - x0) / self.width, (y1 - y0) / self.height

    # ------------------------------------------------------------------------------- rendering

    def render(self, t: float, wall: datetime | None) -> Image:
        """The frame at scene time ``t`` with ``wall`` burnt in (None: no clock — a looping clip's
        picture, which must not show a time it is not); H×W×3 uint8, RGB, a fresh array."""
        n = len(self._background.reshape(-1))
        k = _mix(self.seed, round(t * 1000.0)) % self._NOISE_PHASES
        off = k * self._noise_step
        noise = self._noise[off : off + n].reshape(self.height, self.width, 3)
        frame: Image = np.add(self._background, noise)  # the background leaves head-room: no overflow
        if self.staff_present(t):
            self._draw_staff(frame, t)
        self._draw_citizens(frame, t)
        if wall is not None:
            self._draw_clock(frame, wall)
        return frame

    def _px(self, v: float) -> int:
        return max(1, round(v * self._s))

    def _make_noise(self) -> tuple[Image, int]:
        """A grey noise field; frame phase k reads it from offset ``k * step`` (a long diagonal shift)."""
        w, h = self.width, self.height
        step = (h // 7) * w + w // 5 + 1  # far outside any motion search range
        rng = np.random.default_rng(_mix(self.seed, 0x4E015E) & 0xFFFFFFFF)
        grey = rng.integers(0, self._NOISE_LEVEL + 1, size=w * h + self._NOISE_PHASES * step, dtype=np.uint8)
        return np.repeat(grey, 3), step * 3

    def _draw_background(self) -> Image:
        w, h = self.width, self.height
        rng = np.random.default_rng(_mix(self.seed, 0xBAC6) & 0xFFFFFFFF)
        img = np.empty((h, w, 3), np.uint8)
        fy = self._floor_y
        # wall: warm beige with a vertical gradient and panel seams
        grad = np.linspace(196, 170, fy, dtype=np.float32)[:, None, None]
        img[:fy] = (grad * np.array([1.0, 0.95, 0.84], np.float32)).astype(np.uint8)
        panel = max(8, w // 8)
        for x in range(panel, w, panel):
            cv2.line(img, (x, 0), (x, fy - 1), (150, 142, 128), self._px(1))
        cv2.rectangle(img, (0, fy - self._px(6)), (w, fy), (120, 112, 100), -1)  # skirting board
        # floor: grey tiles, each with its own shade, darker grout lines
        tile = max(8, w // 16)
        for row, y in enumerate(range(fy, h, tile // 2)):
            shift = (row % 2) * tile // 2
            for x in range(-shift, w, tile):
                g = int(118 + rng.integers(-14, 15))
                cv2.rectangle(img, (x, y), (x + tile - 1, y + tile // 2 - 1), (g, g, g + 4), -1)
                cv2.rectangle(img, (x, y), (x + tile - 1, y + tile // 2 - 1), (88, 88, 92), 1)
        # wall sign above the window and a queue display
        sx0, sx1 = int(w * 0.58), int(w * 0.96)
        sy0, sy1 = int(h * 0.05), int(h * 0.16)
        cv2.rectangle(img, (sx0, sy0), (sx1, sy1), (30, 70, 150), -1)
        cv2.rectangle(img, (sx0, sy0), (sx1, sy1), (230, 230, 230), self._px(2))
        text = f"WINDOW {self.label}"
        scale = 0.8 * self._s
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, self._px(2))
        cv2.putText(
            img,
            text,
            ((sx0 + sx1 - tw) // 2, (sy0 + sy1 + th) // 2),
            cv2.FONT_HERSHEY_SIMPLEX,
            scale,
            (255, 255, 255),
            self._px(2),
            cv2.LINE_AA,
        )
        # the empty office chair behind the counter
        cx = self._seat_x
        cv2.rectangle(
            img,
            (cx - self._px(26), self._counter_top - self._px(70)),
            (cx + self._px(26), self._counter_top),
            (40, 50, 70),
            -1,
        )
        cv2.rectangle(
            img,
            (cx - self._px(26), self._counter_top - self._px(70)),
            (cx + self._px(26), self._counter_top),
            (20, 25, 35),
            self._px(2),
        )
        # the counter: worktop, front panel with wood grain, a monitor and a name plate
        x0, x1 = int(w * 0.18), int(w * 0.92)
        top, bottom = self._counter_top, self._counter_bottom
        cv2.rectangle(img, (x0, top), (x1, bottom), (150, 104, 62), -1)
        for i, y in enumerate(range(top + self._px(8), bottom, self._px(5))):
            c = 130 + (i * 37) % 30
            cv2.line(img, (x0, y), (x1, y), (c, int(c * 0.7), int(c * 0.42)), 1)
        cv2.rectangle(img, (x0 - self._px(6), top - self._px(6)), (x1 + self._px(6), top), (210, 200, 185), -1)
        cv2.rectangle(img, (x0, top), (x1, bottom), (80, 55, 30), self._px(2))
        mx = cx + self._px(60)
        cv2.rectangle(img, (mx, top - self._px(46)), (mx + self._px(56), top - self._px(12)), (25, 25, 30), -1)
        cv2.rectangle(
            img, (mx + self._px(4), top - self._px(42)), (mx + self._px(52), top - self._px(16)), (60, 90, 120), -1
        )
        cv2.rectangle(
            img, (mx + self._px(24), top - self._px(12)), (mx + self._px(32), top - self._px(6)), (25, 25, 30), -1
        )
        cv2.rectangle(
            img, (cx - self._px(30), top + self._px(10)), (cx + self._px(30), top + self._px(26)), (240, 240, 235), -1
        )
        cv2.putText(
            img,
            self.label,
            (cx - self._px(16), top + self._px(23)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45 * self._s,
            (20, 20, 20),
            self._px(1),
            cv2.LINE_AA,
        )
        # the window label, large, bottom right (like a camera's name overlay)
        self._draw_text_box(img, self.label, (w - self._px(8), h - self._px(8)), 1.1 * self._s, right=True)
        # head-room for the noise: the brightest value plus the noise stays within uint8
        np.minimum(img, 255 - self._NOISE_LEVEL, out=img)
        return img

    def _draw_text_box(self, img: Image, text: str, anchor: tuple[int, int], scale: float, *, right: bool) -> None:
        """White text with a black outline on a dark box; ``anchor`` is the box's bottom-left (or -right)."""
        thick = self._px(2)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
        pad = self._px(5)
        x = anchor[0] - tw - 2 * pad if right else anchor[0]
        y = anchor[1]
        cv2.rectangle(img, (x, y - th - base - 2 * pad), (x + tw + 2 * pad, y), (16, 16, 16), -1)
        org = (x + pad, y - pad - base // 2)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)

    def _draw_clock(self, img: Image, wall: datetime) -> None:
        text = wall.strftime("%Y-%m-%d %H:%M:%S") + f".{wall.microsecond // 1000:03d}"
        self._draw_text_box(img, text, (self._px(8), self._px(40)), 0.85 * self._s, right=False)

    def _draw_staff(self, img: Image, t: float) -> None:
        """The staff member seated behind the counter: head and shoulders above the worktop, swaying."""
        sway = 3.0 * np.sin(t * 0.7 + self.seed)
        cx = self._seat_x + round(sway * self._s)
        top = self._counter_top - self._px(6)
        head_y = top - self._px(62)
        cv2.ellipse(
            img,
            (cx, top),
            (self._px(34), self._px(50)),
            0,
            180,
            360,
            (28, 60, 120),  # dark blue uniform
            -1,
        )
        cv2.rectangle(
            img, (cx - self._px(5), head_y + self._px(10)), (cx + self._px(5), top - self._px(44)), (224, 186, 150), -1
        )
        cv2.line(img, (cx, top - self._px(44)), (cx, top), (230, 230, 230), self._px(3))  # shirt collar
        cv2.circle(img, (cx, head_y), self._px(16), (224, 186, 150), -1)
        cv2.ellipse(img, (cx, head_y - self._px(4)), (self._px(17), self._px(14)), 0, 180, 360, (30, 24, 20), -1)

    def _citizen(self, slot: int, t: float) -> tuple[float, float, RGB] | None:
        """Where citizen ``slot`` is at ``t``: (x, foot-y) in pixels and shirt colour, or None if away."""
        w = self.width
        period = 25.0 + 11.0 * slot + 10.0 * _unit(self.seed, slot, 7)
        phase = period * _unit(self.seed, slot, 8)
        cycle, into = divmod(t + phase, period)
        c = int(cycle)
        speed = w * (0.10 + 0.08 * _unit(self.seed, slot, c, 1))  # pixels per second: 5-10 s to cross
        visits = _unit(self.seed, slot, c, 2) < 0.6
        dwell = 4.0 + 14.0 * _unit(self.seed, slot, c, 3) if visits else 0.0
        left_to_right = _unit(self.seed, slot, c, 4) < 0.5
        margin = self._px(30)
        x_start, x_end = -float(margin), float(w + margin)
        # at the window, but beside the seat: the staff member stays visible while serving
        side = 1.0 if _unit(self.seed, slot, c, 5) < 0.5 else -1.0
        stop_x = self._seat_x + side * w * (0.13 + 0.06 * _unit(self.seed, slot, c, 10))
        if not left_to_right:
            x_start, x_end = x_end, x_start
        d1 = abs(stop_x - x_start) if visits else 0.0
        d_total = abs(x_end - x_start)
        walk1 = d1 / speed
        total = d_total / speed + dwell
        if into >= total:
            return None
        sign = 1.0 if left_to_right else -1.0
        if into < walk1:
            x = x_start + sign * speed * into
        elif into < walk1 + dwell:
            x = stop_x
        else:
            x = x_start + sign * (d1 + speed * (into - walk1 - dwell))
        depth = _unit(self.seed, slot, c, 6)
        foot_y = self.height * (0.88 + 0.09 * depth) if not visits else self.height * 0.86
        u = _mix(self.seed, slot, c, 9)
        colour = (int(40 + u % 200), int(40 + (u >> 8) % 200), int(40 + (u >> 16) % 200))
        return x, foot_y, colour

    def _draw_citizens(self, img: Image, t: float) -> None:
        people = [p for slot in range(4) if (p := self._citizen(slot, t)) is not None]
        people.sort(key=lambda p: p[1])  # the farther first
        for x, foot_y, colour in people:
            self._draw_person(img, x, foot_y, colour, t)

    def _draw_person(self, img: Image, x: float, foot_y: float, colour: RGB, t: float) -> None:
        s = self._s * (0.9 + 0.4 * (foot_y / self.height - 0.85))
        cx, fy = round(x), round(foot_y)

        def p(v: float) -> int:
            return max(1, round(v * s))

        hip = fy - p(62)
        shoulder = hip - p(62)
        step = round(np.sin(t * 6.0 + x * 0.05) * p(10))
        dark = (40, 40, 48)
        cv2.line(img, (cx, hip), (cx - step, fy), dark, p(9))
        cv2.line(img, (cx, hip), (cx + step, fy), dark, p(9))
        cv2.rectangle(img, (cx - p(19), shoulder), (cx + p(19), hip + p(4)), colour, -1)
        cv2.line(img, (cx - p(19), shoulder + p(4)), (cx - p(22) - step // 2, hip), colour, p(7))
        cv2.line(img, (cx + p(19), shoulder + p(4)), (cx + p(22) + step // 2, hip), colour, p(7))
        cv2.circle(img, (cx, shoulder - p(17)), p(16), (214, 172, 136), -1)
        cv2.ellipse(img, (cx, shoulder - p(21)), (p(17), p(13)), 0, 180, 360, (25, 20, 18), -1)
