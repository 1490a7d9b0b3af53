"""Several cameras' footage played in sync: one :class:`~video.archive.player.Timebase`, one player each.

A review window shows one camera or 2×2 cameras at the same instant. Every player follows the
group's clock, so their pictures stay within a frame of each other whatever each camera's decoding
costs (a player that falls behind skips frames to catch up, it never drags the others). The group
moves the clock where a single player would move its own: when every camera is in a gap it shows
the gap for up to :data:`GAP_HOLD_SECONDS`, then jumps to where the first of them resumes; when
every camera's footage has ended it holds at the newest frame.

Frame steps are the lead camera's (the one the reviewer selected): it moves whole frames, then the
others show their frame at the lead's new instant.

The GUI calls :meth:`PlayerGroup.tick` on its paint timer (no I/O: it only compares values the
players publish).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from video.archive.player import GAP_HOLD_SECONDS, Player, Timebase
from video.archive.reader import ArchiveFrame, ArchiveGap, ArchiveReader

__all__ = ["GroupStatus", "PlayerGroup"]



@dataclass(frozen=True, slots=True)
class GroupStatus:
    playing: bool
    speed: float
    position: datetime | None
    keyframes_only: bool  # at least one camera shows keyframes only at this speed
    ended: bool  # every camera's footage has ended (playback waits for more)
    notes: tuple[str, ...]  # each camera's note (keyframes only, ended), "" when none


class PlayerGroup:
    """Players of one or more cameras on one shared clock (see the module doc)."""

    def __init__(self, readers: Sequence[ArchiveReader], *, speed: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timebase = Timebase(speed=speed, clock=clock)
        self.players = [Player(r, timebase=self.timebase) for r in readers]
        self.lead = 0
        self._all_gap_since: float | None = None
        self._step_from: object | None = None  # the lead's picture before a step; None: no step pending
        self._stepping = False

    # -- control (GUI thread) ----------------------------------------------------------------------

    @property
    def position(self) -> datetime | None:
        return self.timebase.position()

    @property
    def playing(self) -> bool:
        return self.timebase.playing

    def play(self) -> None:
        self._stepping = False
        for p in self.players:
            p.play()

    def pause(self) -> None:
        for p in self.players:
            p.pause()

    def set_speed(self, speed: float) -> None:
        self.timebase.set_speed(speed)
        for p in self.players:
            p._wake.set()

    def seek(self, at: datetime, *, keyframe: bool = False) -> None:
        """Every camera to ``at`` (``keyframe``: each one's keyframe at or before it, for scrubbing)."""
        self._stepping = False
        for p in self.players:
            p.seek(at, keyframe=keyframe)

    def step(self, n: int) -> None:
        """Pause; the lead camera moves ``n`` frames; the others follow on the next :meth:`tick`."""
        lead = self.players[self.lead]
        self._step_from = lead.latest()
        self._stepping = True
        lead.step(n)

    def set_size(self, width: int | None, height: int | None) -> None:
        for p in self.players:
            p.set_size(width, height)

    def stop(self) -> None:
        """Stop every player's thread and close the readers."""
        for p in self.players:
            p.stop()
        for p in self.players:
            p.reader.close()

    # -- follow-up (GUI thread, on the paint timer) ------------------------------------------------

    def tick(self) -> None:
        if self._stepping:
            shown = self.players[self.lead].latest()
            if shown is not self._step_from and shown is not None:
                self._stepping = False
                at = shown.at if isinstance(shown, ArchiveFrame) else (shown.start or shown.end)
                if at is not None:
                    self.timebase.seek(at)
                    for i, p in enumerate(self.players):
                        if i != self.lead:
                            p.seek(at)
            return
        if not self.timebase.playing or len(self.players) == 0:
            self._all_gap_since = None
            return
        latest = [p.latest() for p in self.players]
        statuses = [p.status() for p in self.players]
        if all(st.ended for st in statuses):
            newest = max((x.at for x in latest if isinstance(x, ArchiveFrame)), default=None)
            position = self.timebase.position()
            if newest is not None and position is not None and position > newest:
                self.timebase.pause()
                self.timebase.seek(newest)
                self.timebase.play()  # waits at the newest frame: more footage plays on as it comes
            return
        gaps = [x for x in latest if isinstance(x, ArchiveGap)]
        if len(gaps) < len(latest) or not all(self._in(g) for g in gaps):
            self._all_gap_since = None
            return
        now = time.monotonic()
        if self._all_gap_since is None:
            self._all_gap_since = now
            return
        if now - self._all_gap_since >= GAP_HOLD_SECONDS:
            ends = [g.end for g in gaps if g.end is not None]
            if ends:
                self.timebase.seek(min(ends))
            self._all_gap_since = None

    def pictures(self) -> list[ArchiveFrame | ArchiveGap | None]:
        """What each camera shows now, all of one instant. While playing, each player publishes the
        frame due at each refresh of the shared clock's grid (:meth:`Timebase.due`), at slightly
        different moments (and a busy one may skip a refresh). This takes the newest refresh instant
        that every playing camera has published a picture for, and shows each camera's picture for
        it: each is that camera's newest frame at or before the one instant, so the cells are within
        a frame of each other. Matching by frame time instead would not do: a camera that skipped a
        refresh has nothing between its pictures, and its newest frame before another camera's may
        be two frames older. Only when the cameras' recent pictures share no refresh instant (one
        fell far behind and jumped) does each show its newest frame at or before the oldest newest
        frame of them. A camera that falls behind holds the others back by its lag, bounded: past
        ``CATCH_UP_SECONDS`` it jumps to the frame due."""
        published = [p.published() for p in self.players]  # each player's picture, due and history of one instant
        out: list[ArchiveFrame | ArchiveGap | None] = [latest for latest, _due, _recent in published]
        if not self.timebase.playing:
            return out
        histories = {i: recent for i, (latest, due, recent) in enumerate(published)
                     if isinstance(latest, ArchiveFrame) and due is not None and recent}
        if len(histories) < 2:
            return out
        by_due = {i: dict(h) for i, h in histories.items()}
        shared = set.intersection(*(set(frames) for frames in by_due.values()))
        if shared:
            instant = max(shared)
            for i, frames in by_due.items():
                out[i] = frames[instant]
            return out
        common = min(h[-1][1].at for h in histories.values())
        for i, h in histories.items():
            out[i] = next((f for _due, f in reversed(h) if f.at <= common), h[0][1])
        return out

    def _in(self, gap: ArchiveGap) -> bool:
        """The shared position is inside this gap (not merely past a gap shown a moment ago)."""
        at = self.timebase.position()
        return at is not None and (gap.end is None or at < gap.end)

    def status(self) -> GroupStatus:
        statuses = [p.status() for p in self.players]
        return GroupStatus(
            playing=self.timebase.playing, speed=self.timebase.speed, position=self.timebase.position(),
            keyframes_only=any(s.keyframes_only for s in statuses),
            ended=bool(statuses) and all(s.ended for s in statuses),
            notes=tuple(s.note or "" for s in statuses),
        )
