"""The archive reader: any camera's recorded footage at any instant, frame-exact, across segments and gaps.

A review window drives an :class:`ArchiveReader` (or a :class:`Player` wrapping one) and never
touches a file itself:

- :meth:`ArchiveReader.seek` gives the frame showing at an instant — the last frame whose time is at
  or before it — by seeking the segment's container to the keyframe before and decoding forward;
- :meth:`ArchiveReader.step` moves whole frames forward or back, across segment boundaries, and
  stops at a :class:`Gap` (no footage: the camera was down, a segment is missing or corrupt, or was
  pruned). Stepping back is exact: the GOP is decoded again from its keyframe, and the decoded GOPs
  of the open segment are cached so that a run of back-steps decodes each GOP once;
- :class:`Player` plays on its own thread at 1/2/4/8/16×, paced by the wall clock, into a one-slot
  "latest frame" mailbox like :mod:`video.display`; when full decoding would need more frames per
  second than the machine (or the budget) allows it shows keyframes only and says so;
- :class:`PlayerGroup` plays several cameras on one shared :class:`Timebase` (2×2 review in sync).

A frame's time is ``segment.start + (pts - first pts of the file)``: the recorder rebases every
file's timestamps to start near zero, so only differences within a file mean anything.

Footage that cannot be read never raises to the caller: a segment whose file is gone, has the wrong
size or SHA-256, or that PyAV fails on is reported as a :class:`Gap` with the reason, marked in the
index (:meth:`~video.footage.FootageIndex.mark`) and skipped.

An :class:`ArchiveReader` is used from one thread at a time (a :class:`Player` owns its reader
until :meth:`Player.stop`). At most two segment files are open at once.

The package's modules, each along one seam: :mod:`video.archive.segment` (one segment file: its
decoder, the GOP cache and decoded-frame cursors), :mod:`video.archive.reader` (seek and step across
segments and gaps) and :mod:`video.archive.player` (playback on a thread). This module re-exports
their public names.
"""

from video.archive.group import GroupStatus, PlayerGroup
from video.archive.player import MAX_DECODE_RATE, SPEEDS, Player, PlayerStatus, Resize, SeekTo, Step, Timebase
from video.archive.reader import CONTIGUOUS, ArchiveFrame, ArchiveGap, ArchiveReader

__all__ = [
    "CONTIGUOUS",
    "MAX_DECODE_RATE",
    "SPEEDS",
    "ArchiveFrame",
    "ArchiveGap",
    "ArchiveReader",
    "GroupStatus",
    "Player",
    "PlayerGroup",
    "PlayerStatus",
    "Resize",
    "SeekTo",
    "Step",
    "Timebase",
]
