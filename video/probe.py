"""``probe``: connect to a camera the way the application does and report what happened.

The installer's tool: it runs one :class:`~video.source.Source` with the application's defaults for
a few seconds, counts the frames a consumer receives, and reports the states the source went
through, the stream's codec, size and rate, the time to the first frame, reconnects, drops and
the last error — all with the URL's credentials masked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from video.source import Source, SourceOptions, SourceState, SourceStatus

__all__ = ["ProbeResult", "StateChange", "probe"]


@dataclass(frozen=True, slots=True)
class StateChange:
    at_s: float  # seconds since the probe started
    state: SourceState
    error: str | None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    url: str  # masked
    state: SourceState  # the state at the end of the probe
    codec: str | None
    width: int | None
    height: int | None
    fps: float | None  # measured from the received frames' timestamps; the stream's own figure if too few
    nominal_fps: float | None
    frames: int
    first_frame_s: float | None  # from the start of the probe to the first frame
    reconnects: int
    dropped: int
    error: str | None
    seconds: float
    states: list[StateChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.frames > 0

    def as_json(self) -> dict[str, Any]:
        """The JSON object ``probe --json`` prints; the first ten keys are the documented interface."""
        return {
            "state": self.state.value,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": None if self.fps is None else round(self.fps, 2),
            "frames": self.frames,
            "first_frame_s": None if self.first_frame_s is None else round(self.first_frame_s, 3),
            "reconnects": self.reconnects,
            "dropped": self.dropped,
            "error": self.error,
            "url": self.url,
            "nominal_fps": self.nominal_fps,
            "seconds": round(self.seconds, 3),
            "states": [
                {"at_s": round(c.at_s, 3), "state": c.state.value, "error": c.error} for c in self.states
            ],
        }


def probe(
    url: str,
    seconds: float = 10.0,
    *,
    options: SourceOptions | None = None,
    on_state: Callable[[StateChange], None] | None = None,
    stop: threading.Event | None = None,
) -> ProbeResult:
    """Watch ``url`` for ``seconds`` (or until ``stop`` is set) and report.

    ``on_state`` is called from the source's thread on each state change.
    """
    started = time.monotonic()
    changes: list[StateChange] = []
    source = Source(url, options or SourceOptions(), name="probe")

    def listen(status: SourceStatus) -> None:
        change = StateChange(time.monotonic() - started, status.state, status.error)
        changes.append(change)
        if on_state is not None:
            on_state(change)

    source.add_listener(listen)
    sub = source.subscribe("probe", maxsize=1000)
    frames = 0
    first_at: float | None = None
    first_pts: float | None = None
    last_pts: float | None = None
    deadline = started + seconds
    stop = stop or threading.Event()
    source.start()
    try:
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            packet = sub.get(min(left, 0.2))
            if packet is None:
                if source.state in (SourceState.ENDED, SourceState.FAILED) and not source.running:
                    break
                continue
            frames += 1
            if first_at is None:
                first_at = packet.mono
            t = packet.seconds
            if t is not None:
                first_pts = t if first_pts is None else first_pts
                last_pts = t
    finally:
        final = source.status()
        sub.close()
        source.stop()
    info = final.info
    measured: float | None = None
    # The rate the camera really sends, from the frames' own timestamps: arrival times are bunched
    # at the start (the server's GOP burst), which would overstate it.
    if first_pts is not None and last_pts is not None and frames > 2 and last_pts > first_pts:
        measured = (frames - 1) / (last_pts - first_pts)
    nominal = info.fps if info is not None else None
    return ProbeResult(
        url=final.url,
        state=final.state,
        codec=info.codec if info else None,
        width=info.width if info else None,
        height=info.height if info else None,
        fps=measured if measured is not None else nominal,
        nominal_fps=nominal,
        frames=frames,
        first_frame_s=None if first_at is None else first_at - started,
        reconnects=final.reconnects,
        dropped=final.dropped,
        error=final.error,
        seconds=time.monotonic() - started,
        states=changes,
    )
