"""A hall camera: its main stream (always connected, for recording and relay) and optional sub-stream.

``video.Camera`` is the model a ``desktop.CameraTile`` is handed. The main stream's source runs
for as long as the camera is started; the sub-stream's source connects only while some tile shows
it, and disconnects when the last one lets go.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from video.display import DisplayDecoder, DisplayMode, choose_display
from video.source import Source, SourceOptions, SourceStatus
from video.urls import mask_url

__all__ = ["Camera", "CameraConfig"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CameraConfig:
    id: str
    name: str
    url: str
    sub_url: str | None = None
    window_id: str | None = None

    def __repr__(self) -> str:  # never show the password in a repr that lands in a log
        return f"CameraConfig(id={self.id!r}, name={self.name!r}, url={mask_url(self.url)!r})"


class Camera:
    """One camera and its connections; thread-safe."""

    def __init__(self, config: CameraConfig, options: SourceOptions | None = None) -> None:
        self.config = config
        self.options = options or SourceOptions()
        self.main = Source(config.url, self.options, name=f"{config.id}-main")
        self.sub: Source | None = (
            Source(config.sub_url, self.options, name=f"{config.id}-sub") if config.sub_url else None
        )
        self._lock = threading.Lock()
        self._sub_users = 0
        self._displays: dict[DisplayDecoder, Source] = {}

    @property
    def id(self) -> str:
        return self.config.id

    @property
    def has_sub(self) -> bool:
        return self.sub is not None

    def start(self) -> None:
        self.main.start()

    def request_stop(self) -> None:
        """Ask every connection of the camera to end, without waiting (many cameras stop in parallel)."""
        if self.sub is not None:
            self.sub.request_stop()
        self.main.request_stop()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop the displays and both connections, waiting up to ``timeout`` seconds in all (None: as
        long as a blocked connection can take); True when every thread ended."""
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        with self._lock:
            displays = list(self._displays)
        for d in displays:
            self.release(d)
        self.request_stop()
        ok = True
        if self.sub is not None:
            ok = self.sub.stop(left())
        return self.main.stop(left()) and ok

    def status(self) -> SourceStatus:
        return self.main.status()

    def display(
        self,
        width: int,
        height: int,
        tiles_shown: int,
        *,
        maximised: bool = False,
        override: DisplayMode | None = None,
    ) -> DisplayDecoder:
        """A started decoder for a tile of this size; give it back with :meth:`release`."""
        choice = choose_display(width, height, tiles_shown, has_sub=self.has_sub, maximised=maximised,
                                override=override)
        source = self.main
        if choice.stream == "sub" and self.sub is not None:
            source = self.sub
            with self._lock:
                self._sub_users += 1
                first = self._sub_users == 1
            if first:
                self.sub.start()
        decoder = DisplayDecoder(source, width=width, height=height, mode=choice.mode,
                                 name=f"{self.config.id}-display")
        with self._lock:
            self._displays[decoder] = source
        decoder.start()
        return decoder

    def acquire_sub(self) -> Source | None:
        """The sub-stream's source, connected until :meth:`release_sub` (counted with the tiles showing it);
        None when the camera has no sub-stream."""
        if self.sub is None:
            return None
        with self._lock:
            self._sub_users += 1
            first = self._sub_users == 1
        if first:
            self.sub.start()
        return self.sub

    def release_sub(self) -> None:
        """Give back :meth:`acquire_sub`: the sub-stream disconnects when nobody uses it."""
        if self.sub is None:
            return
        with self._lock:
            self._sub_users = max(0, self._sub_users - 1)
            last = self._sub_users == 0
        if last:
            self.sub.stop()

    def release(self, decoder: DisplayDecoder, *, wait: bool = True) -> None:
        """Stop a decoder from :meth:`display`; the sub-stream disconnects when nobody shows it.
        ``wait=False`` (a window closing before its terminal stops): the sub-stream's connection
        is asked to end but not waited for — one still opening ends only after FFmpeg's probe of
        its first second, and :meth:`stop` (the terminal's) waits for it."""
        decoder.stop()
        with self._lock:
            source = self._displays.pop(decoder, None)
            last = False
            if source is not None and source is self.sub:
                self._sub_users -= 1
                last = self._sub_users == 0
        if last and self.sub is not None:
            if wait:
                self.sub.stop()
            else:
                self.sub.request_stop()
