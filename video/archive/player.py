"""Playback of an archive reader on its own thread, paced by the wall clock × speed (see :mod:`video.archive`).

The GUI's commands (seek, step, resize) reach the thread as typed values in a queue.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from video.archive.reader import ArchiveFrame, ArchiveGap, ArchiveReader, _utc
from video.archive.segment import _Cursor

log = logging.getLogger(__name__)

SPEEDS: Final = (1.0, 2.0, 4.0, 8.0, 16.0)
"""The playback speeds a review window offers (any speed in (0, 16] is accepted)."""

MAX_DECODE_RATE: Final = 240.0
"""Frames per second a player decodes at most before it falls back to keyframes: 8× of a 25/30 fps
camera decodes every frame, 16× shows keyframes. A screen shows 60 pictures a second at best; more
decoding only costs a core that live tiles need."""

CATCH_UP_SECONDS: Final = 0.5
"""A player on a shared clock that is this far (footage seconds) behind it jumps to the frame due
instead of decoding its way there (the others do not wait for it)."""

RECENT_PICTURES: Final = 16
"""Pictures a player on a shared timebase remembers (:meth:`Player.published`): at 4× a new one at every
refresh, so about a quarter of a second of screen time, more than CATCH_UP_SECONDS of footage."""

_Published = tuple[ArchiveFrame | ArchiveGap | None, datetime | None, tuple[tuple[datetime, ArchiveFrame], ...]]

GAP_HOLD_SECONDS: Final = 1.0
"""How long playback shows a gap (at most) before it jumps to where the footage resumes."""

PUBLISH_INTERVAL: Final = 1 / 60
"""A player publishes at most one picture per screen refresh; frames due in between are decoded
(the next ones depend on them) but not converted."""


@dataclass(frozen=True, slots=True)
class PlayerStatus:
    playing: bool
    speed: float
    keyframes_only: bool  # playback shows only keyframes (full decoding cannot keep up)
    ended: bool  # playback reached the newest footage and waits for more
    note: str | None  # why keyframes only, or that the footage ended, in words
    position: datetime | None
    shown: int  # pictures (and gaps) published
    skipped: int  # frames decoded but not shown: a newer one was due before the screen could show them
    last_error: str | None


# -- the commands a player's thread carries out, in order

@dataclass(frozen=True, slots=True)
class SeekTo:
    """Show the frame at ``at`` (or the gap there); ``keyframe``: the keyframe at or before it (scrubbing)."""

    at: datetime
    keyframe: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """Move ``n`` frames from the frame on screen (paused)."""

    n: int


@dataclass(frozen=True, slots=True)
class Resize:
    """Convert to a new output size from now on (None: the recorded size)."""

    width: int | None
    height: int | None


Command = SeekTo | Step | Resize


class Timebase:
    """A playback clock that several players share, so that 2×2 cameras play in sync.

    The position is ``anchor + (clock() - anchor_clock) × speed`` while playing. Players that share a
    timebase never move it themselves (a gap or the end of one camera's footage does not hold the
    others back): its owner (a :class:`PlayerGroup`) does.
    """

    def __init__(self, *, speed: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        _check_speed(speed)
        self.clock = clock
        self._lock = threading.Lock()
        self._anchor: datetime | None = None
        self._anchor_clock = clock()
        self._speed = speed
        self._playing = False
        self._want_keyframes: set[int] = set()  # players that cannot decode every frame at this speed

    @property
    def keyframes_only(self) -> bool:
        """Some player on this clock shows keyframes only: all do, so the cells show the same instants."""
        return bool(self._want_keyframes)

    def want_keyframes(self, player: object, want: bool) -> None:
        with self._lock:
            if want:
                self._want_keyframes.add(id(player))
            else:
                self._want_keyframes.discard(id(player))

    def position(self) -> datetime | None:
        with self._lock:
            return self._position_locked()

    def _position_locked(self) -> datetime | None:
        if self._anchor is None or not self._playing:
            return self._anchor
        return self._anchor + timedelta(seconds=(self.clock() - self._anchor_clock) * self._speed)

    def due(self) -> datetime | None:
        """The position on the screen-refresh grid (:data:`PUBLISH_INTERVAL` steps of the clock since
        the last anchor): players that publish the frame due at this instant change their pictures
        together, once per refresh, so the cells of a 2×2 never show neighbouring frames at once."""
        with self._lock:
            if self._anchor is None or not self._playing:
                return self._anchor
            elapsed = self.clock() - self._anchor_clock
            return self._anchor + timedelta(seconds=math.floor(elapsed / PUBLISH_INTERVAL) * PUBLISH_INTERVAL
                                            * self._speed)

    @property
    def playing(self) -> bool:
        return self._playing

    @property
    def speed(self) -> float:
        return self._speed

    def seek(self, at: datetime) -> None:
        with self._lock:
            self._anchor, self._anchor_clock = _utc(at), self.clock()

    def play(self) -> None:
        with self._lock:
            if not self._playing:
                self._playing, self._anchor_clock = True, self.clock()

    def pause(self) -> None:
        with self._lock:
            self._anchor = self._position_locked()
            self._playing = False

    def set_speed(self, speed: float) -> None:
        _check_speed(speed)
        with self._lock:
            self._anchor, self._anchor_clock = self._position_locked(), self.clock()
            self._speed = speed


class Player:
    """Plays a reader on its own thread, paced by the wall clock × speed, into a one-slot mailbox.

    The GUI reads :meth:`latest` on its paint timer (no per-frame signals) and :attr:`position` for
    the timeline. At most one picture per screen refresh is converted and published; frames due in
    between are decoded but not converted (``skipped``).
    When full decoding needs more frames per second than ``max_decode_rate`` or than the measured
    decoding speed allows, only keyframes are decoded (:class:`PlayerStatus` says so). A gap is shown
    for up to a second, then playback goes on where the footage resumes.

    The reader belongs to the player from the first command until :meth:`stop`; ``clock`` (seconds,
    monotonic) is for tests.

    With a shared ``timebase`` the player follows that clock instead of its own: play, pause,
    speed and seek move the shared clock, a gap on this camera shows until the shared position
    passes its end, and the end of this camera's footage does not stop the clock.
    """

    def __init__(
        self,
        reader: ArchiveReader,
        *,
        speed: float = 1.0,
        max_decode_rate: float = MAX_DECODE_RATE,
        clock: Callable[[], float] = time.monotonic,
        timebase: Timebase | None = None,
    ) -> None:
        _check_speed(speed)
        self.reader = reader
        self.timebase = timebase
        if timebase is not None:
            clock = timebase.clock
        self.max_decode_rate = max_decode_rate
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._commands: deque[Command] = deque()
        self._speed = speed
        self._playing = False
        self._frozen = True  # the position does not move (paused, a gap on screen, the end of footage)
        self._anchor: datetime | None = None
        self._anchor_clock = clock()
        # What the screen is handed, as one tuple replaced in one assignment, so that the GUI thread
        # never sees a new picture with the previous one's due instant or history: (latest picture,
        # the instant it was due for on the shared clock or None, the last few pictures published
        # while playing as (due instant, frame), oldest first).
        self._published: _Published = (None, None, ())
        self._keyframes = False
        self._note: str | None = None  # why keyframes only
        self._ended = False
        self._cost: float | None = None  # seconds per frame of full decoding (a moving average)
        self._shown = self._skipped = 0
        self._published_at = -math.inf  # time.monotonic() of the last publication (the screen's time, not the clock's)
        self._error: str | None = None

    # -- control (any thread) ------------------------------------------------------------------

    def play(self) -> None:
        if self.timebase is not None:
            self.timebase.play()
            self._start()
            return
        with self._lock:
            if not self._playing:
                self._playing, self._frozen = True, False
                self._anchor_clock = self._clock()
        self._start()

    def pause(self) -> None:
        if self.timebase is not None:
            self.timebase.pause()
            self._wake.set()
            return
        with self._lock:
            self._anchor = self._position_locked()
            self._playing, self._frozen = False, True
        self._wake.set()

    def set_speed(self, speed: float) -> None:
        _check_speed(speed)
        if self.timebase is not None:
            self.timebase.set_speed(speed)
            self._wake.set()
            return
        with self._lock:
            self._anchor = self._position_locked()
            self._anchor_clock = self._clock()
            self._speed = speed
        self._wake.set()

    def seek(self, at: datetime, *, keyframe: bool = False) -> None:
        """Go to ``at``; ``keyframe``: show the keyframe at or before it (scrubbing: fast, not exact).
        Seeks still waiting are dropped: only the newest matters."""
        at = _utc(at)
        if self.timebase is not None:
            self.timebase.seek(at)
        with self._lock:
            self._anchor, self._anchor_clock = at, self._clock()
            while self._commands and isinstance(self._commands[-1], SeekTo):
                self._commands.pop()
            self._commands.append(SeekTo(at, keyframe))
        self._start()

    def step(self, n: int = 1) -> None:
        """Pause and move ``n`` frames from the one on screen (a shared timebase is paused, not moved)."""
        if self.timebase is not None:
            self.timebase.pause()
        with self._lock:
            self._anchor = self._position_locked()
            self._playing, self._frozen = False, True
            self._commands.append(Step(n))
        self._start()

    def set_size(self, width: int | None, height: int | None) -> None:
        with self._lock:
            self._commands.append(Resize(width, height))
        self._wake.set()

    def latest(self) -> ArchiveFrame | ArchiveGap | None:
        """What to paint now: the newest frame, or the gap on screen (None before the first seek)."""
        return self._published[0]

    def published(self) -> _Published:
        """What the screen is handed, read in one piece (another thread may publish meanwhile): the
        newest picture; on a shared timebase the refresh instant it was due for (None: a seek or a
        step published it, or nothing yet); and the last few pictures published while playing,
        with the refresh instant each was due for, oldest first."""
        return self._published

    @property
    def position(self) -> datetime | None:
        """The instant playback is at (between frames while playing); None before the first seek."""
        with self._lock:
            return self._position_locked()

    @property
    def speed(self) -> float:
        return self.timebase.speed if self.timebase is not None else self._speed

    @property
    def playing(self) -> bool:
        return self.timebase.playing if self.timebase is not None else self._playing

    def status(self) -> PlayerStatus:
        with self._lock:
            return PlayerStatus(
                playing=self.playing, speed=self.speed, keyframes_only=self._keyframes_now(), ended=self._ended,
                note=_ENDED if self._ended else self._note, position=self._position_locked(), shown=self._shown,
                skipped=self._skipped, last_error=self._error,
            )

    def stop(self) -> None:
        """End the thread (within a second). The reader is the caller's again; it is not closed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    def __enter__(self) -> Player:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        self._wake.set()
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._thread = threading.Thread(target=self._run, name="hallwatch-archive-player")
            self._thread.start()

    def _position_locked(self) -> datetime | None:
        if self.timebase is not None:
            return self.timebase.position()
        if self._anchor is None or self._frozen:
            return self._anchor
        return self._anchor + timedelta(seconds=(self._clock() - self._anchor_clock) * self._speed)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        pending: _Cursor | ArchiveGap | None = None  # decoded, not yet due
        while not self._stop.is_set():
            try:
                if self._commands:
                    pending = self._command(pending)
                    continue
                with self._lock:
                    playing = self.playing
                if not playing:
                    self._wait(0.5)
                    continue
                pending = self._play(pending)
            except Exception as e:  # never leave the GUI with a dead player and no word why
                log.exception("archive %s: playback failed", self.reader.camera_id)
                with self._lock:
                    self._error = f"playback failed: {e}"
                    self._anchor = self._position_locked()
                    self._playing, self._frozen = False, True
                pending = None

    def _command(self, pending: _Cursor | ArchiveGap | None) -> _Cursor | ArchiveGap | None:
        with self._lock:
            command = self._commands.popleft()
        reader = self.reader
        match command:
            case Resize(width, height):
                reader.set_size(width, height)
                shown = self._published[0]
                if isinstance(shown, ArchiveFrame):
                    self._publish(reader.seek(shown.at))  # the same frame at the new size (cached GOP)
                return None
            case SeekTo(at, keyframe):
                r = reader.seek(at, keyframe=keyframe)
                self._publish(r)
                with self._lock:
                    if self._anchor == at:
                        self._anchor_clock = self._clock()  # the seek's own time does not count
                return r if isinstance(r, ArchiveGap) else None  # playing from a gap: show it, then jump
            case Step(n):
                shown = self._published[0]
                if isinstance(shown, ArchiveFrame):
                    reader._seek(shown.at)  # from the frame on screen: while playing, the reader runs a frame ahead
                r = reader.step(n)
                self._publish(r)
                with self._lock:
                    self._anchor = r.at if isinstance(r, ArchiveFrame) else (r.start or r.end or self._anchor)
                return None

    def _play(self, pending: _Cursor | ArchiveGap | None) -> _Cursor | ArchiveGap | None:
        self._choose_mode()  # the speed may have changed
        if self.timebase is not None:
            return self._follow(pending)
        if pending is None:
            pending = self._decode_next()
        if pending is None:  # no later footage: hold the position at the end, look again later
            with self._lock:
                if not self._ended:
                    shown = self._published[0]
                    self._anchor = shown.at if isinstance(shown, ArchiveFrame) else self._position_locked()
                    self._frozen = self._ended = True
            self._wait(0.5)
            return None
        with self._lock:
            if self._ended:  # more footage was recorded: play on
                self._ended = self._frozen = False
                self._anchor_clock = self._clock()
        if isinstance(pending, ArchiveGap):
            self._publish(pending)
            with self._lock:
                here = self._position_locked()
                self._anchor, self._frozen = here, True
                speed = self._speed
            span = (pending.end - here).total_seconds() if pending.end is not None and here is not None else 0.0
            self._wait(min(GAP_HOLD_SECONDS, max(0.0, span) / speed))
            with self._lock:
                if pending.end is not None:
                    self._anchor, self._anchor_clock = pending.end, self._clock()
                self._frozen = not self._playing
            return None
        with self._lock:
            now = self._position_locked()
            speed = self._speed
        assert now is not None
        due = pending.at
        ahead = (due - now).total_seconds()
        if ahead > 10.0:  # a jump in the footage's timestamps: play on from the frame
            with self._lock:
                self._anchor, self._anchor_clock = due, self._clock()
            ahead = 0.0
        if ahead > 0:
            self._wait(min(ahead / speed, 0.1))
            return pending
        since = time.monotonic() - self._published_at
        if since < PUBLISH_INTERVAL:  # the screen has not shown the last one yet
            self._wait(PUBLISH_INTERVAL - since)
            return pending
        # Due: decode on through the frames that are due too, converting only the newest of them.
        started = time.perf_counter()
        while time.perf_counter() - started < 0.05:
            nxt = self._decode_next()
            if not isinstance(nxt, _Cursor) or nxt.at > now:
                self._publish_cursor(pending)
                return nxt
            self._skipped += 1
            pending = nxt
        self._publish_cursor(pending)
        return None

    def _follow(self, pending: _Cursor | ArchiveGap | None) -> _Cursor | ArchiveGap | None:
        """One step of playback on a shared timebase: never moves the clock; publishes the frame due
        on the timebase's refresh grid (:meth:`Timebase.due`)."""
        assert self.timebase is not None
        if pending is None:
            pending = self._decode_next()
        if pending is None:  # no later footage on this camera (yet): the others play on
            with self._lock:
                self._ended = True
            latest, _due, recent = self._published
            self._published = (latest, None, recent)  # its last picture no longer keeps pace with the others
            self._wait(0.25)
            return None
        with self._lock:
            self._ended = False
        now = self.timebase.due()
        speed = self.speed
        if now is None:
            self._wait(0.1)
            return pending
        if isinstance(pending, ArchiveGap):
            if self._published[0] is not pending:
                self._publish(pending)
            if pending.end is not None and now < pending.end:
                self._wait(min(0.1, (pending.end - now).total_seconds() / speed))
                return pending
            return None
        ahead = (pending.at - now).total_seconds()
        if ahead > 0:
            self._wait(min(ahead / speed + 0.001, 0.1))
            return pending
        if ahead < -CATCH_UP_SECONDS:
            # This camera fell behind the others (its decoding could not keep up for a while): jump to
            # the frame due now instead of decoding every frame in between, and show keyframes only
            # until decoding has room again.
            r = self.reader.seek(now)
            self._publish(r, due=now)
            with self._lock:
                if not self._keyframes:
                    self._keyframes = True
                    self._note = f"{speed:g}×: this camera fell behind; showing keyframes only"
            return r if isinstance(r, ArchiveGap) else None
        # Due: decode on through the frames that are due too, converting only the newest of them.
        started = time.perf_counter()
        nxt: _Cursor | ArchiveGap | None = None
        reached = False  # decoded through to the frame due (not stopped by the time budget)
        while time.perf_counter() - started < 0.05:
            nxt = self._decode_next()
            if not isinstance(nxt, _Cursor) or nxt.at > now:
                reached = True
                break
            self._skipped += 1
            pending = nxt
            nxt = None
        frame = self.reader._materialise(pending)
        # The group matches cameras by the instant each picture is the newest frame at or before: a
        # frame the budget stopped short of ``now`` is that only for its own instant.
        self._publish(frame, due=now if reached else frame.at)
        return nxt

    def _keyframes_now(self) -> bool:
        return self._keyframes or (self.timebase is not None and self.timebase.keyframes_only)

    def _decode_next(self) -> _Cursor | ArchiveGap | None:
        t0 = time.perf_counter()
        r = self.reader._next(keyframes_only=self._keyframes_now())
        cost = time.perf_counter() - t0
        if isinstance(r, _Cursor) and not self._keyframes_now():
            self._cost = cost if self._cost is None else 0.9 * self._cost + 0.1 * cost
        return r

    def _choose_mode(self) -> None:
        self._decide_mode()
        if self.timebase is not None:
            self.timebase.want_keyframes(self, self._keyframes)

    def _decide_mode(self) -> None:
        speed = self.speed
        needed = self.reader._fps() * speed
        capacity = 1 / self._cost if self._cost else math.inf
        if self._keyframes:
            if needed <= min(self.max_decode_rate, 0.6 * capacity):
                self._keyframes, self._note = False, None
                log.info("archive %s: %g×: decoding every frame again", self.reader.camera_id, speed)
            return
        if needed > self.max_decode_rate:
            note = (f"{speed:g}× needs {needed:.0f} decoded frames/s, more than the budget of "
                    f"{self.max_decode_rate:.0f}/s: showing keyframes only")
        elif needed > 0.8 * capacity:
            note = (f"{speed:g}× needs {needed:.0f} decoded frames/s; decoding manages about "
                    f"{capacity:.0f}/s: showing keyframes only")
        else:
            return
        with self._lock:
            self._keyframes, self._note = True, note
        log.info("archive %s: %s", self.reader.camera_id, note)

    def _publish_cursor(self, cur: _Cursor) -> None:
        self._publish(self.reader._materialise(cur))

    def _publish(self, item: ArchiveFrame | ArchiveGap, *, due: datetime | None = None) -> None:
        """Hand ``item`` to the screen; ``due``: the shared clock's instant it was due for while
        playing (it joins the recent pictures); None: a seek or a step published it, and what follows
        is not comparable with what played before."""
        if due is not None and isinstance(item, ArchiveFrame):
            self._published = (item, due, (*self._published[2][1 - RECENT_PICTURES:], (due, item)))
        else:
            self._published = (item, None, ())
        self._shown += 1
        self._published_at = time.monotonic()

    def _wait(self, seconds: float) -> None:
        if seconds > 0 and self._wake.wait(seconds):
            self._wake.clear()


_ENDED: Final = "the end of the recorded footage: playback goes on if more is recorded"


def _check_speed(speed: float) -> None:
    if not 0 < speed <= SPEEDS[-1]:
        raise ValueError(f"speed {speed!r} is outside (0, {SPEEDS[-1]:g}]")
