"""Staff-seat occupancy from a camera picture: occupied, empty or unknown, smoothed over time.

:class:`OccupancyDetector` is pure (no threads, no clock of its own): the caller feeds it BGR pictures
with their times, about one a second, and gets :class:`SeatEvent` s — an empty spell that has lasted
``min_empty_seconds`` starts (dated back to its first empty picture, with a JPEG of that picture), and
ends. What it looks at, per seat region (fractions of the picture):

- **The learned empty seat.** The seat's picture is reduced to a small patch; its brightness is
  normalised (zero mean, unit spread: a dimmer or brighter room, an offset, a gain do not change it)
  and its colour is taken as chromaticity after dividing by the whole picture's mean colour (a
  warmer or colder light does not change it). A cell grid of the patch is compared with the
  learned empty seat: a seat is *empty* when (almost) no cell differs, *occupied* when several
  cells do. A person sitting perfectly still for an hour differs from the empty seat all hour.
- **Learning only when sure.** The empty seat is learned from a stretch of at least
  :attr:`Tuning.learn_seconds` in which the seat's picture did not change, in good light, unhidden,
  and with no skin-coloured area in it (a seated person shows a face or hands; an empty chair does
  not); the spell then dates from the start of that stretch. While empty and still, the learned
  picture follows the slow changes of the room.
- **Hidden.** A band just below the seat (the counter's front, where a standing person's body is and
  a seated one's is not) is compared with its own background: a passer-by standing in front of the
  seat changes it, so the seat counts as hidden — *unknown*, the last state kept. The band's
  background is the median of samples over 15 minutes: walkers and a passer-by standing for minutes
  are a minority of them; a lasting change (something put there) becomes the background. When most
  of the picture gets brighter or darker at once (a light switched), the bands' backgrounds start
  again from that picture.
- **Lights off.** A picture whose mean brightness is below :attr:`Tuning.dark_level`, or a seat patch
  without contrast, is *unknown*: the last state is kept. Cells too dark for their colour to mean
  anything are compared by structure only.
- **Smoothing.** A spell starts after :attr:`Tuning.empty_frames` empty looks — a single occupied
  look between them (a head crossing) does not break the count, two in a row do — and dates from
  the first; it ends at the first of :attr:`Tuning.occupied_frames` occupied looks in a row. Unknown
  and unsure looks neither count nor break a run.

Times ``t`` are seconds on the caller's clock (frame times), rising.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final, Literal

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["OccupancyDetector", "SeatEvent", "SeatRegion", "SeatState", "Tuning"]

log = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class SeatRegion:
    """A staff seat: fractions 0-1 of the picture, origin top left; ``key`` is the window id."""

    key: str
    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a seat region needs a key")
        if not (0.0 <= self.x < 1.0 and 0.0 <= self.y < 1.0 and self.w > 0.0 and self.h > 0.0
                and self.x + self.w <= 1.0 + 1e-6 and self.y + self.h <= 1.0 + 1e-6):
            raise ValueError(f"seat region {self.key!r} is not inside the picture: "
                             f"x={self.x:g} y={self.y:g} w={self.w:g} h={self.h:g} (fractions 0-1)")


class SeatState(StrEnum):
    OCCUPIED = "occupied"
    EMPTY = "empty"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class SeatEvent:
    """An empty spell of ``key`` started or ended at ``at`` (seconds on the caller's clock)."""

    key: str
    kind: Literal["empty_started", "empty_ended"]
    at: float
    snapshot_jpeg: bytes | None = None  # the picture at the moment (empty_started)


@dataclass(frozen=True, slots=True)
class Tuning:
    """The detector's thresholds (the defaults are what the tests and the benchmark pin)."""

    patch: tuple[int, int] = (32, 32)  # the seat is judged at this size (w, h)
    grid: tuple[int, int] = (4, 4)  # cells (columns, rows)
    cell_structure: float = 0.55  # mean |Δz| over a cell above this: the cell differs (z: normalised brightness)
    cell_colour: float = 0.045  # chromaticity difference (L1 of r, g, b shares) above this: the cell differs
    colour_level: float = 40.0  # cells darker than this (0-255) are compared by structure only
    switch_change: float = 0.12  # most of the picture brighter or darker by this share at once: a light switched
    empty_cells: int = 1  # at most this many cells differ: the seat looks empty
    occupied_cells: int = 3  # at least this many differ: the seat looks occupied
    dark_level: float = 28.0  # mean brightness (0-255) of the picture below this: lights off
    flat_std: float = 4.0  # the seat patch's brightness spread below this: nothing to see
    guard_ratio: float = 0.6  # the band below the seat, as a share of the seat's height
    guard_cells: int = 2  # cells of the band (of 4×2) that differ: the seat is hidden
    static_structure: float = 0.35  # mean |Δz| under this against the stretch's start: the seat has not changed
    learn_seconds: float = 30.0
    learn_frames: int = 8
    skin_share: float = 0.02  # a seat patch with more skin-coloured pixels than this is not learned as empty
    guard_sample_seconds: float = 5.0
    guard_window: int = 180  # samples: 15 minutes
    guard_first: int = 5  # while settling, the background is these first samples' median
    empty_frames: int = 5
    empty_span: float = 4.0  # seconds the empty run must cover too
    occupied_frames: int = 3
    occupied_span: float = 2.0
    unknown_after: float = 3.0  # seconds of unknown pictures before states() says unknown
    follow: float = 0.05  # how fast the learned pictures follow the room (per picture)
    snapshot_width: int = 640


class _Look(Enum):
    EMPTY = "empty"
    OCCUPIED = "occupied"
    UNSURE = "unsure"  # in between: neither counts
    UNKNOWN = "unknown"  # dark or hidden


@dataclass(slots=True)
class _Patch:
    z: F32  # normalised brightness, patch size
    chroma: F32  # grid rows × cols × 3 chromaticity after the picture's mean colour
    level: F32  # grid rows × cols mean brightness (0-255): too dark a cell has no reliable colour
    std: float
    skin: float


@dataclass(slots=True)
class _Seat:
    region: SeatRegion
    empty: _Patch | None = None  # the learned empty seat
    guard: _Patch | None = None  # the band below: its background
    guard_samples: list[_Patch] = field(default_factory=list)
    guard_next: float = float("-inf")
    guard_count: int = 0  # samples since the background was last computed
    guard_settling: bool = True  # the background is the first samples' until half the window is sampled
    # the stretch without change (for learning)
    anchor: _Patch | None = None
    anchor_t: float = 0.0
    anchor_frames: int = 0
    anchor_snapshot: Image | None = None
    anchor_miss: tuple[float, _Patch, Image] | None = None  # a picture unlike the stretch, just before
    # smoothing
    belief: SeatState = SeatState.UNKNOWN
    empty_from: float | None = None  # the first empty look of a possible spell
    empty_looks: int = 0  # empty looks since then
    empty_snapshot: Image | None = None
    occupied_from: float = 0.0  # the first of the current streak of occupied looks
    occupied_streak: int = 0  # occupied looks in a row (unsure and unknown ones between do not break it)
    unknown_since: float | None = None
    # the open spell
    spell_start: float | None = None
    spell_snapshot: Image | None = None
    spell_reported: bool = False
    last_t: float = 0.0
    last_look: _Look = _Look.UNKNOWN
    cells: int = 0  # differing cells in the last judged picture (for tuning and tests)
    extra: dict[str, float] = field(default_factory=dict)


_SKIN_CR: Final = (136, 175)
_SKIN_CB: Final = (80, 128)


class OccupancyDetector:
    """Judges seat regions on pictures fed in time order; see the module's text."""

    def __init__(self, regions: Sequence[SeatRegion], *, min_empty_seconds: float = 60.0,
                 tuning: Tuning | None = None) -> None:
        if min_empty_seconds < 0:
            raise ValueError(f"min_empty_seconds must not be negative: {min_empty_seconds}")
        self.min_empty_seconds = min_empty_seconds
        self.tuning = tuning or Tuning()
        self._seats: dict[str, _Seat] = {}
        self._last_t: float | None = None
        self._grid: F32 | None = None
        self.set_regions(regions)

    # ------------------------------------------------------------------------------- api

    def set_regions(self, regions: Sequence[SeatRegion], t: float | None = None) -> list[SeatEvent]:
        """Replace the regions. A region kept with the same rectangle keeps what it learned; a moved
        or new one starts afresh; the open spells of removed or moved ones end at ``t`` (default: the
        last picture's time)."""
        keys = [r.key for r in regions]
        if len(set(keys)) != len(keys):
            raise ValueError(f"seat regions with the same key: {sorted(k for k in set(keys) if keys.count(k) > 1)}")
        at = t if t is not None else (self._last_t if self._last_t is not None else 0.0)
        events: list[SeatEvent] = []
        seats: dict[str, _Seat] = {}
        for r in regions:
            old = self._seats.get(r.key)
            if old is not None and old.region == r:
                seats[r.key] = old
            else:
                if old is not None:
                    events += self._end_spell(old, at)
                seats[r.key] = _Seat(r)
        for key, old in self._seats.items():
            if key not in seats:
                events += self._end_spell(old, at)
        self._seats = seats
        return events

    def feed(self, frame_bgr: Image, t: float) -> list[SeatEvent]:
        """Judge one picture (H×W×3 uint8, BGR) taken at ``t``; the events it completes."""
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"expected an H×W×3 uint8 BGR picture, got {frame_bgr.shape} {frame_bgr.dtype}")
        if self._last_t is not None and t < self._last_t:
            t = self._last_t  # a capture clock stepping back a little: keep time rising
        self._last_t = t
        tn = self.tuning
        small = cv2.resize(frame_bgr, (64, 36), interpolation=cv2.INTER_AREA)
        mean_bgr = small.reshape(-1, 3).mean(axis=0).astype(np.float32) + 1.0
        brightness = float(0.114 * mean_bgr[0] + 0.587 * mean_bgr[1] + 0.299 * mean_bgr[2])
        dark = brightness < tn.dark_level
        # a light switched (most of the picture brighter or darker at once, not one place): the bands'
        # backgrounds start again from this picture rather than call the seats hidden for minutes
        grid = cv2.resize(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (8, 6), interpolation=cv2.INTER_AREA)
        grid = grid.astype(np.float32) + 8.0
        prev, self._grid = self._grid, grid
        if prev is not None and not dark:
            change = np.abs(np.log(grid / prev))
            if float(np.median(change)) > tn.switch_change:
                log.debug("the light changed at once (t=%.1f): the bands below the seats are learned again", t)
                for seat in self._seats.values():
                    seat.guard_samples.clear()
                    seat.guard = None
                    seat.guard_next = float("-inf")
                    seat.guard_settling = True
        events: list[SeatEvent] = []
        for seat in self._seats.values():
            events += self._judge(seat, frame_bgr, t, mean_bgr, dark)
        return events

    def states(self) -> Mapping[str, SeatState]:
        """The smoothed state of each seat: unknown before the empty seat is learned and while the
        seat has been dark or hidden for a few seconds (the belief behind it is kept)."""
        out: dict[str, SeatState] = {}
        for key, seat in self._seats.items():
            unknown = seat.unknown_since is not None and seat.last_t - seat.unknown_since >= self.tuning.unknown_after
            out[key] = SeatState.UNKNOWN if seat.empty is None or unknown else seat.belief
        return out

    def close(self, t: float) -> list[SeatEvent]:
        """End the open spells at ``t`` (a spell long enough is reported whole)."""
        events: list[SeatEvent] = []
        for seat in self._seats.values():
            events += self._end_spell(seat, t)
            seat.belief = SeatState.UNKNOWN if seat.empty is None else seat.belief
        return events

    def debug(self, key: str) -> tuple[str, int]:
        """The last picture's look at seat ``key`` and how many cells differed (for tuning)."""
        seat = self._seats[key]
        return seat.last_look.value, seat.cells

    # ----------------------------------------------------------------------------- features

    def _patch(self, img: Image, mean_bgr: F32, size: tuple[int, int], grid: tuple[int, int], *,
               skin: bool = False) -> _Patch:
        small = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (3, 3), 0)
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
        mean, std = float(grey.mean()), float(grey.std())
        z: F32 = (grey - mean) / max(std, self.tuning.flat_std)
        cells = cv2.resize(small, grid, interpolation=cv2.INTER_AREA).astype(np.float32)
        balanced = cells / mean_bgr[None, None, :]  # the picture's mean colour divided out
        chroma: F32 = balanced / (balanced.sum(axis=2, keepdims=True) + 1e-3)
        level: F32 = cells.mean(axis=2)
        if not skin:
            return _Patch(z, chroma, level, std, 0.0)
        # skin: chroma of the white-balanced patch in YCrCb's skin box
        grey_mean = float(mean_bgr.mean())
        wb = np.clip(small.astype(np.float32) * (grey_mean / mean_bgr)[None, None, :], 0, 255).astype(np.uint8)
        ycc = cv2.cvtColor(wb, cv2.COLOR_BGR2YCrCb)
        cr, cb, y = ycc[..., 1], ycc[..., 2], ycc[..., 0]
        found = (cr >= _SKIN_CR[0]) & (cr <= _SKIN_CR[1]) & (cb >= _SKIN_CB[0]) & (cb <= _SKIN_CB[1]) & (y > 50)
        return _Patch(z, chroma, level, std, float(found.mean()))

    def _differing(self, a: _Patch, b: _Patch, grid: tuple[int, int]) -> int:
        """How many cells of ``a`` differ from ``b``."""
        tn = self.tuning
        d = np.abs(a.z - b.z)
        gw, gh = grid
        per_cell = cv2.resize(d, (gw, gh), interpolation=cv2.INTER_AREA)
        colour = np.abs(a.chroma - b.chroma).sum(axis=2)
        lit = np.minimum(a.level, b.level) >= tn.colour_level  # a camera's noise and black level swamp dark colours
        return int(np.count_nonzero((per_cell > tn.cell_structure) | ((colour > tn.cell_colour) & lit)))

    @staticmethod
    def _rect(region: SeatRegion, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        h, w = shape[0], shape[1]
        x0 = min(w - 1, max(0, round(region.x * w)))
        y0 = min(h - 1, max(0, round(region.y * h)))
        x1 = min(w, max(x0 + 1, round((region.x + region.w) * w)))
        y1 = min(h, max(y0 + 1, round((region.y + region.h) * h)))
        return x0, y0, x1, y1

    # ------------------------------------------------------------------------------ judging

    def _judge(self, seat: _Seat, frame: Image, t: float, mean_bgr: F32, dark: bool) -> list[SeatEvent]:
        tn = self.tuning
        seat.last_t = t
        x0, y0, x1, y1 = self._rect(seat.region, frame.shape)
        look = _Look.UNKNOWN
        cur: _Patch | None = None
        hidden = False
        if not dark:
            cur = self._patch(frame[y0:y1, x0:x1], mean_bgr, tn.patch, tn.grid, skin=seat.empty is None)
            hidden = self._guard_hidden(seat, frame, t, mean_bgr, (x0, y0, x1, y1))
            if cur.std < tn.flat_std:
                cur = None
        if cur is not None and not hidden:
            self._learn(seat, cur, frame, t)
            if seat.empty is not None:
                n = self._differing(cur, seat.empty, tn.grid)
                seat.cells = n
                look = (_Look.EMPTY if n <= tn.empty_cells
                        else _Look.OCCUPIED if n >= tn.occupied_cells else _Look.UNSURE)
                if look is _Look.EMPTY and seat.belief is SeatState.EMPTY and n == 0:
                    self._follow(seat.empty, cur)
        seat.last_look = look
        if look is _Look.UNKNOWN:
            if seat.unknown_since is None:
                seat.unknown_since = t
        else:
            seat.unknown_since = None
        return self._smooth(seat, look, frame, t)

    def _guard_hidden(self, seat: _Seat, frame: Image, t: float, mean_bgr: F32,
                      rect: tuple[int, int, int, int]) -> bool:
        """Whether something stands in the band below the seat (a passer-by in front of it).

        The band's background is the per-pixel median of samples taken every
        :attr:`Tuning.guard_sample_seconds` over :attr:`Tuning.guard_window` samples (computed again
        every 6 samples): people walking by, or standing there for minutes, are in a minority of them.
        From the start, and after a light switched, it is the median of the first
        :attr:`Tuning.guard_first` samples until half the window has been sampled."""
        tn = self.tuning
        x0, y0, x1, y1 = rect
        gy0 = y1
        gy1 = min(frame.shape[0], y1 + max(1, round((y1 - y0) * tn.guard_ratio)))
        if gy1 - gy0 < 4:
            return False
        band = self._patch(frame[gy0:gy1, x0:x1], mean_bgr, (32, 16), (4, 2))
        if t >= seat.guard_next:
            seat.guard_next = t + tn.guard_sample_seconds
            seat.guard_samples.append(band)
            if len(seat.guard_samples) > tn.guard_window:
                del seat.guard_samples[0]
            seat.guard_count += 1
            n = len(seat.guard_samples)
            # settling (from the start, or a light switched): the background is the median of the first
            # few samples, held until the samples cover half the window — so that someone who comes to
            # stand there soon after is not the majority of a short history
            settled = n >= tn.guard_window // 2
            if n <= tn.guard_first or (settled and seat.guard_count >= 6) or (settled and seat.guard_settling):
                seat.guard_settling = not settled
                seat.guard_count = 0
                z = np.median(np.stack([p.z for p in seat.guard_samples]), axis=0).astype(np.float32)
                chroma = np.median(np.stack([p.chroma for p in seat.guard_samples]), axis=0).astype(np.float32)
                level = np.median(np.stack([p.level for p in seat.guard_samples]), axis=0).astype(np.float32)
                seat.guard = _Patch(z, chroma, level, band.std, 0.0)
        if seat.guard is None or len(seat.guard_samples) < 3:
            return False
        return self._differing(band, seat.guard, (4, 2)) >= tn.guard_cells

    def _follow(self, ref: _Patch, cur: _Patch) -> None:
        a = self.tuning.follow
        ref.z = (1 - a) * ref.z + a * cur.z
        s = float(ref.z.std())
        if s > 0:
            ref.z = (ref.z - ref.z.mean()) / s
        ref.chroma = (1 - a) * ref.chroma + a * cur.chroma
        ref.level = (1 - a) * ref.level + a * cur.level

    def _learn(self, seat: _Seat, cur: _Patch, frame: Image, t: float) -> None:
        """Track the stretch without change; learn the empty seat from one when sure."""
        if seat.empty is not None:
            return
        tn = self.tuning
        anchor = seat.anchor
        if anchor is None or float(np.abs(cur.z - anchor.z).mean()) > tn.static_structure or \
                self._differing(cur, anchor, tn.grid) > 0:
            # one picture unlike the rest (a head crossing) does not end the stretch; two in a row do,
            # and the new stretch starts at the first of them
            if anchor is not None and seat.anchor_miss is None:
                seat.anchor_miss = (t, cur, frame.copy())
                return
            first_t, first, first_frame = seat.anchor_miss if seat.anchor_miss is not None else (t, cur, frame.copy())
            seat.anchor_miss = None
            seat.anchor = first if anchor is not None else cur
            seat.anchor_t = first_t
            seat.anchor_frames = 2 if anchor is not None else 1
            seat.anchor_snapshot = first_frame
            return
        seat.anchor_miss = None
        seat.anchor_frames += 1
        if (t - seat.anchor_t >= tn.learn_seconds and seat.anchor_frames >= tn.learn_frames
                and cur.skin <= tn.skin_share and anchor.skin <= tn.skin_share):
            seat.empty = _Patch(cur.z.copy(), cur.chroma.copy(), cur.level.copy(), cur.std, cur.skin)
            log.info("seat %s: learned the empty seat", seat.region.key)
            # the stretch was empty from its start: the smoothing takes it from there
            seat.empty_from = seat.anchor_t
            seat.empty_looks = max(tn.empty_frames - 1, seat.anchor_frames)
            seat.empty_snapshot = seat.anchor_snapshot

    # ----------------------------------------------------------------------------- smoothing

    def _smooth(self, seat: _Seat, look: _Look, frame: Image, t: float) -> list[SeatEvent]:
        """Hysteresis: a spell starts after :attr:`Tuning.empty_frames` empty looks (an occupied look
        alone between them — someone's head or arm crossing — does not break the count, two in a row
        do) and dates from the first; it ends at the first of :attr:`Tuning.occupied_frames` occupied
        looks in a row."""
        tn = self.tuning
        events: list[SeatEvent] = []
        if look is _Look.EMPTY:
            seat.occupied_streak = 0
            if seat.belief is not SeatState.EMPTY:
                if seat.empty_from is None:
                    seat.empty_from = t
                    seat.empty_looks = 0
                    seat.empty_snapshot = frame.copy()
                seat.empty_looks += 1
                if seat.empty_looks >= tn.empty_frames and t - seat.empty_from >= tn.empty_span:
                    seat.belief = SeatState.EMPTY
                    seat.spell_start = seat.empty_from
                    seat.spell_snapshot = seat.empty_snapshot
                    seat.spell_reported = False
                    seat.empty_from = None
                    seat.empty_snapshot = None
        elif look is _Look.OCCUPIED:
            if seat.occupied_streak == 0:
                seat.occupied_from = t
            seat.occupied_streak += 1
            if seat.occupied_streak >= 2:
                seat.empty_from = None
                seat.empty_snapshot = None
            if (seat.belief is not SeatState.OCCUPIED and seat.occupied_streak >= tn.occupied_frames
                    and t - seat.occupied_from >= tn.occupied_span):
                events += self._end_spell(seat, seat.occupied_from)
                seat.belief = SeatState.OCCUPIED
        if (seat.spell_start is not None and not seat.spell_reported
                and t - seat.spell_start >= self.min_empty_seconds):
            events.append(self._started(seat))
        return events

    def _started(self, seat: _Seat) -> SeatEvent:
        assert seat.spell_start is not None
        seat.spell_reported = True
        jpeg = self._snapshot(seat.spell_snapshot, seat.region) if seat.spell_snapshot is not None else None
        seat.spell_snapshot = None
        return SeatEvent(seat.region.key, "empty_started", seat.spell_start, jpeg)

    def _end_spell(self, seat: _Seat, at: float) -> list[SeatEvent]:
        events: list[SeatEvent] = []
        start = seat.spell_start
        if start is None:
            return events
        at = max(at, start)
        if not seat.spell_reported and at - start >= self.min_empty_seconds:
            events.append(self._started(seat))
        if seat.spell_reported:
            events.append(SeatEvent(seat.region.key, "empty_ended", at))
        seat.spell_start = None
        seat.spell_snapshot = None
        seat.spell_reported = False
        return events

    def _snapshot(self, frame: Image, region: SeatRegion) -> bytes | None:
        h, w = frame.shape[:2]
        scale = min(1.0, self.tuning.snapshot_width / w)
        img = cv2.resize(frame, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) \
            if scale < 1.0 else frame.copy()
        x0, y0, x1, y1 = self._rect(region, img.shape)
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), (0, 200, 255), 2)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return bytes(buf) if ok else None
