"""The leader's video wall: the chosen hall's cameras, as the workstations relay them.

Leaders cannot reach hall cameras; each workstation that relays names its relay in its ``terminal``
record (``relay_url``). For the chosen hall the wall asks, on a worker, every relay in scope for
its list (``GET <relay_url>``, the built-in relay) and keeps the hall's cameras; an HLS or RTMP
base has no list, so the hall's camera records name the streams there. Each camera plays through
the project's own video path (:class:`video.Camera` → display decoder → the grid's painter); a
relay that lists a camera's sub-stream as well gives the tile both, so the grid picks as on the
operator's workstation — the sub-stream for a small tile, the main stream for a large or maximised
one (a 3×3 wall of 720p main streams would decode 225 pictures a second). A
relay that cannot be reached is said in words, and the wall asks again every
:data:`RETRY_S` seconds until it answers — then the pictures come back by themselves (each tile's
source reconnects on its own too). Nothing here acts on anything: the grid's own menu only
maximises a tile or takes it off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from sqlalchemy.orm import Session

from app.leader import RelayError, TerminalInfo, hall_cameras, relay_cameras, stream_url
from desktop.i18n import fmt
from desktop.operator.reader import Reader
from desktop.video.grid import CameraGrid, TileDecoration
from desktop.video.layouts import Layout
from video.camera import Camera, CameraConfig
from video.source import SourceOptions

__all__ = ["RELAY_PROBE_S", "RETRY_S", "WALL_MAX", "VideoWall", "WallPlan", "plan_wall"]

log = logging.getLogger(__name__)

RETRY_S = 10.0  # seconds between asks while a relay does not answer (and to follow new cameras)
# The built-in relay starts every viewer at a keyframe with the stream's headers: FFmpeg needs to
# look at little of it (its default for an HTTP stream is 1 s, which waited for live frames when a
# tile joined just after a keyframe — a first picture up to a second late).
RELAY_PROBE_S = 0.3
WALL_MAX = 9  # cameras on the wall at once (3×3): each a relayed stream decoded here
WALL_PAGE_S = 20.0  # a hall with more cameras than the wall holds: its pages turn this often


@dataclass(frozen=True, slots=True)
class WallStream:
    camera_id: str
    name: str
    window_id: str | None
    url: str  # carries the token: never logged (video.urls masks it)
    relay: str  # the relaying terminal's name
    sub_url: str | None = None  # the relayed sub-stream, when the relay lists one
    listed: bool = False  # from the built-in relay's list (its streams start at a keyframe)


@dataclass(frozen=True, slots=True)
class WallPlan:
    hall_id: str
    streams: tuple[WallStream, ...]
    problems: tuple[tuple[str, str], ...]  # (terminal name, RelayError code) of relays that did not answer
    relays: int  # relays in scope asked
    hall_cameras: int  # the hall's camera records


def plan_wall(s: Session, hall_id: str, terminals: Sequence[TerminalInfo], token: str, *,
              timeout: float = 4.0) -> WallPlan:
    """Which relay serves which of the hall's cameras (run it on a worker: it asks the relays)."""
    cams = {c.id: c for c in hall_cameras(s, hall_id)}
    streams: dict[str, WallStream] = {}
    problems: list[tuple[str, str]] = []
    asked = 0
    # Relays of terminals heard from lately first: an old record may name a relay long gone.
    for t in sorted((t for t in terminals if t.relay_url), key=lambda t: not t.online):
        assert t.relay_url is not None
        asked += 1
        try:
            listed = relay_cameras(t.relay_url, token, timeout=timeout)
        except RelayError as e:
            log.info("relay of %s: %s", t.name, e)
            problems.append((t.name, e.code))
            continue
        if listed is None:  # an HLS or RTMP base: the hall's camera records name its streams
            for c in cams.values():
                streams.setdefault(c.id, WallStream(c.id, c.name, c.window_id,
                                                    stream_url(t.relay_url, c.id, token, listed=False), t.name))
            continue
        for rc in listed:
            if rc.id in cams and rc.id not in streams:
                c = cams[rc.id]
                sub = stream_url(t.relay_url, rc.id, token, listed=True, stream="sub") if rc.sub else None
                streams[rc.id] = WallStream(rc.id, c.name or rc.name, c.window_id or rc.window_id,
                                            stream_url(t.relay_url, rc.id, token, listed=True), t.name, sub,
                                            listed=True)
    ordered = tuple(sorted(streams.values(), key=lambda w: (w.window_id or "~", w.camera_id)))
    return WallPlan(hall_id, ordered, tuple(problems), asked, len(cams))


def _layout_for(n: int) -> Layout:
    for side in (1, 2, 3, 4, 5):
        if n <= side * side:
            return Layout.uniform(side, side)
    return Layout.uniform(5, 5)


class VideoWall(QWidget):
    """The chosen hall's relayed cameras in a grid, with a line that says what the wall can show."""

    def __init__(self, net: Reader, token: str | None, *, terminals: Callable[[], Sequence[TerminalInfo]],
                 decorations: Callable[[str], TileDecoration] | None = None,
                 priority: Callable[[str | None], int] | None = None,
                 source_options: SourceOptions | None = None, parent: QWidget | None = None) -> None:
        """``priority(window_id)``: higher first on the wall (the window's light: a red window's
        camera is never among those left off)."""
        super().__init__(parent)
        self._priority = priority
        self.net = net
        self.token = token
        self._terminals = terminals
        self._decorate = decorations
        self._options = source_options
        self.hall_id: str | None = None
        self.hall_name = ""
        self.plan: WallPlan | None = None
        self.page = 0  # the page of the hall's cameras shown (WALL_MAX a page; reds first)
        self._streams: list[WallStream] = []  # every stream of the hall, in the wall's order
        self._cameras: dict[str, Camera] = {}
        self._urls: dict[str, str] = {}
        self._stoppers: list[threading.Thread] = []
        self._failed_words: str | None = None
        self.note = QLabel()
        self.note.setObjectName("wallNote")
        self.note.setWordWrap(True)
        self.grid = CameraGrid(self._lookup, decorations=self._decoration, layout="1")
        self.grid.setAcceptDrops(False)  # the wall follows the chosen hall; nothing is placed by hand
        self.grid.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.grid.hide()
        self.empty = QLabel()
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.note)
        box.addWidget(self.grid, 1)
        box.addWidget(self.empty, 1)
        self._retry = QTimer(self)
        self._retry.setInterval(int(RETRY_S * 1000))
        self._retry.timeout.connect(self.refresh)
        self._retry.start()
        self._pager = QTimer(self)
        self._pager.setInterval(int(WALL_PAGE_S * 1000))
        self._pager.timeout.connect(self._turn)
        self._pager.start()
        self._say()

    # -- what to show ------------------------------------------------------------------------------
    def set_hall(self, hall_id: str | None, name: str = "") -> None:
        if hall_id == self.hall_id:
            self.hall_name = name or self.hall_name
            self._say()
            return
        self.hall_id, self.hall_name = hall_id, name
        self.plan = None
        self.page = 0
        self._streams = []
        self._apply(())
        self.refresh()

    def refresh(self) -> None:
        """Ask the relays again (on the network worker)."""
        hall, token = self.hall_id, self.token
        if hall is None or token is None or self.net.pending("wall"):
            self._say()
            return
        terminals = list(self._terminals())
        self.net.submit("wall", lambda s: plan_wall(s, hall, terminals, token), self._planned, self._plan_failed)
        self._say()

    def _planned(self, plan: WallPlan) -> None:
        if plan.hall_id != self.hall_id:
            return
        self.plan = plan
        self._failed_words = None
        streams = list(plan.streams)
        if self._priority is not None:
            rank = self._priority
            streams.sort(key=lambda w: -rank(w.window_id))  # stable: the window order within a rank
        self._streams = streams
        self.page = min(self.page, self.pages() - 1)
        self._show_page()

    def pages(self) -> int:
        """How many pages of :data:`WALL_MAX` cameras the hall's relayed cameras fill (at least 1)."""
        return max(1, -(-len(self._streams) // WALL_MAX))

    def next_page(self) -> None:
        """The next page of the hall's cameras (after the last: the first); a tour of a hall with
        more cameras than the wall holds (the timer turns it every :data:`WALL_PAGE_S` seconds)."""
        self.show_page(self.page + 1)

    def _turn(self) -> None:
        if self.isVisible():  # a wall behind another page keeps its cameras: nobody watches it turn
            self.next_page()

    def previous_page(self) -> None:
        self.show_page(self.page - 1)

    def show_page(self, page: int) -> None:
        if self.pages() <= 1:
            return
        self.page = page % self.pages()
        self._pager.start()  # a page chosen by hand stays its whole interval
        self._show_page()

    def _show_page(self) -> None:
        self._apply(self._streams[self.page * WALL_MAX:(self.page + 1) * WALL_MAX])
        self._say()

    def _plan_failed(self, words: str) -> None:
        self._failed_words = words
        self._say()

    def _apply(self, streams: Sequence[WallStream]) -> None:
        """Show ``streams`` (at most :data:`WALL_MAX`); a camera whose address did not change keeps
        its connection."""
        streams = list(streams)[:WALL_MAX]
        wanted = {w.camera_id: w for w in streams}
        gone = [cid for cid, cam in self._cameras.items()
                if cid not in wanted or self._urls.get(cid) != wanted[cid].url
                or cam.config.sub_url != wanted[cid].sub_url]
        old = [self._cameras.pop(cid) for cid in gone]
        for cid in gone:
            self._urls.pop(cid, None)
        for w in streams:
            if w.camera_id not in self._cameras:
                options = self._options
                if w.listed and (options is None or options.probe_seconds is None):
                    options = replace(options or SourceOptions(), probe_seconds=RELAY_PROBE_S)
                cam = Camera(CameraConfig(w.camera_id, w.name, w.url, w.sub_url, w.window_id), options)
                cam.start()
                self._cameras[w.camera_id] = cam
                self._urls[w.camera_id] = w.url
        ids = [w.camera_id for w in streams]
        if ids:
            self.grid.set_layout(_layout_for(len(ids)))
        self.grid.set_cameras(ids or [None])
        if old:  # a camera whose address changed is a new Camera under the same id: its tile reconnects
            self.grid.lookup_changed()
        self.grid.setVisible(bool(ids))
        self.empty.setVisible(not ids)
        if old:
            self._stop_later(old)

    def _stop_later(self, cameras: list[Camera]) -> None:
        """Stop cameras off the GUI thread (a stop joins their threads); joined at :meth:`shutdown`."""
        def stop() -> None:
            for c in cameras:
                c.stop(5.0)

        self._stoppers = [t for t in self._stoppers if t.is_alive()]
        t = threading.Thread(target=stop, name="hallwatch-wall-stop")
        t.start()
        self._stoppers.append(t)

    def _lookup(self, camera_id: str) -> Camera | None:
        return self._cameras.get(camera_id)

    def _decoration(self, camera_id: str) -> TileDecoration:
        if self._decorate is not None:
            return self._decorate(camera_id)
        cam = self._cameras.get(camera_id)
        return TileDecoration(window_name=cam.config.name if cam is not None else None)

    # -- words -------------------------------------------------------------------------------------
    def state_words(self) -> tuple[str, bool]:
        """What the wall can show, in words; True when something is wrong."""
        if self.token is None:
            return self.tr("No token for the server: the relayed video cannot be asked for."), True
        if self.hall_id is None:
            return self.tr("Choose a hall in the tree to watch its cameras."), False
        hall = self.hall_name or self.hall_id
        if self._failed_words is not None:
            return fmt(self.tr("%1: the relays could not be asked (details in the log); trying again."), hall), True
        plan = self.plan
        if plan is None:
            return fmt(self.tr("%1: asking the relays for its cameras…"), hall), False
        unreachable = [name for name, code in plan.problems if code in ("unreachable", "unavailable", "bad_answer")]
        refused = [name for name, code in plan.problems if code in ("unauthorized", "forbidden")]
        parts = []
        if plan.streams:
            relays = sorted({w.relay for w in plan.streams})
            parts.append(fmt(self.tr("%1: %2 of %3 cameras relayed by %4."), hall, len(plan.streams),
                             plan.hall_cameras, self.tr(", ").join(relays)))
            if self.pages() > 1:
                parts.append(fmt(self.tr("Page %1 of %2 (%3 cameras a page, red windows first); the next "
                                         "comes every %4 s."), self.page + 1, self.pages(), WALL_MAX,
                                 int(WALL_PAGE_S)))
        elif plan.relays == 0:
            parts.append(fmt(self.tr("%1: no workstation in scope relays video yet; the wall looks again every "
                                     "%2 s."), hall, int(RETRY_S)))
        else:
            parts.append(fmt(self.tr("%1: no relay serves this hall's cameras."), hall))
        if unreachable:
            parts.append(fmt(self.tr("Relay unreachable: %1 — retrying every %2 s."), self.tr(", ").join(unreachable),
                             int(RETRY_S)))
        if refused:
            parts.append(fmt(self.tr("Relay refused this terminal: %1 — ask the administrator."),
                             self.tr(", ").join(refused)))
        return " ".join(parts), bool(unreachable or refused)

    def _say(self) -> None:
        self.empty.setText(self.tr("No relayed video to show") if self.hall_id is not None else "")
        words, bad = self.state_words()
        self.note.setText(words)
        self.note.setProperty("bad", bad)
        self.note.style().unpolish(self.note)
        self.note.style().polish(self.note)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._say()
        super().changeEvent(event)

    def cameras(self) -> list[str]:
        return [c for c in self.grid.cameras() if c]

    # -- closing -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop every decoder and camera, and join the threads that stopped them."""
        self._retry.stop()
        self._pager.stop()
        self.net.cancel("wall")
        self.grid.shutdown()
        cams, self._cameras = list(self._cameras.values()), {}
        self._urls.clear()
        for c in cams:
            c.request_stop()
        for c in cams:
            c.stop(5.0)
        for t in self._stoppers:
            t.join(10.0)
        self._stoppers.clear()
