"""Staff-seat analytics as a terminal service: an occupancy consumer per camera with seat regions.

For each camera that watches staff seats (``[[cameras]] seats``, else the regions drawn on its
tile — :func:`supervision.seats.effective_regions`) an :class:`~video.analytics.OccupancyConsumer`
judges about a frame a second from the camera's sub-stream when it has one (held connected while
analytics runs: :meth:`video.Camera.acquire_sub`), else from its main stream. Its events become
``seat_vacancy`` writes on the terminal's writer thread (the executor): an empty spell opens this
terminal's own vacancy (local record, outbox report, the JPEG snapshot of the moment under
``DATA/snapshots/seats/``), the seat taken again closes it. ``on_change`` hears the vacancy ids
written (the terminal re-judges them and syncs).

Regions changed on the tile take effect live (:meth:`OccupancyService.refresh`), and so do cameras
added, readdressed or removed by sync. While a vacancy is open the last judged frame is stored
about once a minute; on start, vacancies a crash left open are closed there. A clean stop closes
the open ones at the last judged frame too: nobody watches the seat any more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from app.cameras import CameraChange, CameraRegistry, ChangeKind
from app.executor import ActionExecutor
from app.service import StoppableThread, remaining
from supervision.actions import new_action_id
from supervision.seats import (
    Seat,
    close_interrupted,
    close_vacancy,
    effective_regions,
    forget_snapshots,
    note_judged,
    open_vacancies,
    open_vacancy,
    prunable_snapshots,
    save_regions,
    stored_regions,
)
from supervision.store import Store
from video.camera import Camera
from video.source import Source

__all__ = [
    "DEMO_SEAT_WINDOWS", "ConsumerFactory", "OccupancyService", "SeatRegions", "SeatsStatus", "SnapshotStore",
    "demo_seats", "load_seat_regions", "seat_consumer", "seed_regions",
]

log = logging.getLogger(__name__)

SNAPSHOT_DIR = "snapshots/seats"
JUDGED_EVERY_S = 60.0
PRUNE_EVERY_S = 3600.0


class SeatEventLike(Protocol):
    """What the service reads of a :class:`video.analytics.SeatEvent`."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> float: ...
    @property
    def snapshot_jpeg(self) -> bytes | None: ...


class Consumer(Protocol):
    """What the service drives: an occupancy consumer on one camera's source."""

    def start(self) -> None: ...
    def stop(self, timeout: float) -> bool: ...
    def status(self) -> Any: ...
    def set_regions(self, seats: Sequence[Seat]) -> None: ...


#: (source, seats, on_event, clock, name) → a consumer not yet started
ConsumerFactory = Callable[
    [Source, Sequence[Seat], Callable[[SeatEventLike], None], Callable[[], datetime], str], Consumer
]


class _Adapter:
    """:class:`video.analytics.OccupancyConsumer` with the store's seats as its regions."""

    def __init__(self, source: Source, seats: Sequence[Seat], on_event: Callable[[SeatEventLike], None],
                 clock: Callable[[], datetime], name: str, fps: float, min_empty_seconds: float) -> None:
        from video.analytics.consumer import OccupancyConsumer

        self._c = OccupancyConsumer(source, _regions(seats), on_event, fps=fps, clock=clock, name=name,
                                    min_empty_seconds=min_empty_seconds)

    def start(self) -> None:
        self._c.start()

    def stop(self, timeout: float) -> bool:
        return bool(self._c.stop(timeout))

    def status(self) -> Any:
        return self._c.status()

    def set_regions(self, seats: Sequence[Seat]) -> None:
        self._c.set_regions(_regions(seats))


def _regions(seats: Sequence[Seat]) -> list[Any]:
    from video.analytics import SeatRegion

    return [SeatRegion(s.window_id, s.x, s.y, s.w, s.h) for s in seats]


def seat_consumer(fps: float = 1.0, min_empty_seconds: float = 60.0) -> ConsumerFactory:
    """The production consumer factory: ``video.analytics`` occupancy consumers judging ``fps``
    pictures a second, reporting empty spells of at least ``min_empty_seconds``."""

    def make(source: Source, seats: Sequence[Seat], on_event: Callable[[SeatEventLike], None],
             clock: Callable[[], datetime], name: str) -> Consumer:
        return _Adapter(source, seats, on_event, clock, name, fps, min_empty_seconds)

    return make


class SnapshotStore:
    """JPEG snapshots of the moment a seat became empty, under ``DATA/snapshots/seats/<day>/``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def write(self, vacancy_id: str, at: datetime, jpeg: bytes) -> str:
        """Write the file (atomically) and return its path relative to the data folder."""
        rel = f"{SNAPSHOT_DIR}/{at.astimezone(UTC):%Y-%m-%d}/{vacancy_id}.jpg"
        path = self.data_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            f.write(jpeg)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return rel

    def path(self, rel: str) -> Path:
        return self.data_dir / rel

    def discard(self, rel: str) -> None:
        with contextlib.suppress(OSError):
            (self.data_dir / rel).unlink()


@dataclass(frozen=True, slots=True)
class CameraSeats:
    camera_id: str
    stream: str  # "sub" or "main"
    seats: tuple[Seat, ...]
    consumer: Any  # the consumer's own frozen status (frames judged, last judged at, states)


@dataclass(frozen=True, slots=True)
class SeatsStatus:
    cameras: tuple[CameraSeats, ...]
    open_vacancies: int
    written: int  # vacancies opened or closed since start
    failed: int  # writes that failed (logged)

    def seat_states(self) -> dict[str, str]:
        """Every watched seat's state by window: "occupied", "empty", or "unknown" (not judged yet)."""
        states: dict[str, str] = {}
        for cam in self.cameras:
            judged = getattr(cam.consumer, "states", {})
            for seat in cam.seats:
                state = judged.get(seat.window_id)
                states[seat.window_id] = str(getattr(state, "value", state)) if state is not None else "unknown"
        return states


@dataclass(slots=True)
class _Watch:
    camera: Camera
    seats: tuple[Seat, ...]
    consumer: Consumer
    stream: str


class OccupancyService:
    """Occupancy analytics on every camera with seat regions; a Service named ``seats``."""

    name = "seats"

    def __init__(
        self,
        cameras: CameraRegistry,
        store: Store,
        data_dir: Path,
        actions: ActionExecutor,
        configured: Mapping[str, Sequence[Seat] | None],
        *,
        clock: Callable[[], datetime] | None = None,
        on_change: Callable[[list[str]], None] | None = None,
        consumer_factory: ConsumerFactory | None = None,
        judged_every: float = JUDGED_EVERY_S,
        keep_snapshots: timedelta | None = None,
    ) -> None:
        """``configured``: the config's seats by camera id (None: the config says nothing for it);
        ``on_change(vacancy_ids)`` runs on the writer thread after each write; ``keep_snapshots``:
        snapshots older than this go unless an evidence hold keeps their moment (None: kept)."""
        self.cameras = cameras
        self.store = store
        self.actions = actions
        self.configured = dict(configured)
        self.snapshots = SnapshotStore(data_dir)
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.on_change = on_change
        self._factory = consumer_factory or seat_consumer()
        self._judged_every = judged_every
        self._lock = threading.RLock()
        self._watches: dict[str, _Watch] = {}
        self._open: dict[tuple[str, str], str] = {}  # (camera, window) → open vacancy id
        self._written = self._failed = 0
        self._ticker: StoppableThread | None = None
        self._running = False
        self._wake = threading.Event()
        self._keep_snapshots = keep_snapshots
        self._pending: set[str] = set()  # cameras changed, for the worker to follow
        self._pending_all = False

    # -- the service --------------------------------------------------------------------------------
    def start(self) -> None:
        closed = close_interrupted(self.store, now=self.clock(), why="restart")
        if closed:
            log.info("closed %d seat vacancies left open by the last run at their last judged frame", len(closed))
            self._changed(closed)
        with self._lock:
            self._running = True
            self._pending_all = True  # the worker starts the consumers: start() stays quick
        self.cameras.add_listener(self._camera_changed)
        self._wake.set()
        self._ticker = StoppableThread("hallwatch-seats", self._work)
        self._ticker.start()

    def stop(self, deadline: float) -> bool:
        self.cameras.remove_listener(self._camera_changed)
        with self._lock:
            self._running = False
        if self._ticker is not None:
            self._ticker.stop_event.set()
        self._wake.set()
        ok = self._ticker.stop(deadline) if self._ticker is not None else True
        self._ticker = None
        with self._lock:
            watches, self._watches = dict(self._watches), {}
        for cid, w in watches.items():
            ok = self._unwatch(cid, w, deadline) and ok
        return ok

    def status(self) -> SeatsStatus:
        with self._lock:
            cams = tuple(CameraSeats(cid, w.stream, w.seats, w.consumer.status()) for cid, w in self._watches.items())
            return SeatsStatus(cams, len(self._open), self._written, self._failed)

    # -- regions ------------------------------------------------------------------------------------
    def regions(self) -> dict[str, tuple[Seat, ...]]:
        """The seats in force by camera (the config's win)."""
        return effective_regions(self.store, self.configured)

    def configured_for(self, camera_id: str) -> bool:
        """Whether the config file sets this camera's seats (the tile cannot change them then)."""
        return self.configured.get(camera_id) is not None

    def save_regions(self, camera_id: str, seats: Sequence[Seat], *, by: str) -> None:
        """Store the regions drawn on a tile and apply them at once (call on the writer thread).
        ``ValueError`` when the config sets this camera's seats or a region is bad."""
        if self.configured_for(camera_id):
            raise ValueError(f"the seats of camera {camera_id!r} are set in the config file ([[cameras]] seats)")
        save_regions(self.store, camera_id, seats, by=by, at=self.clock())
        self.refresh(camera_id)

    def refresh(self, camera_id: str | None = None) -> None:
        """Bring the consumers in line with the regions in force (one camera's, or all)."""
        wanted = self.regions()
        with self._lock:
            if not self._running:
                return
            ids = [camera_id] if camera_id is not None else sorted(set(wanted) | set(self._watches))
        for cid in ids:
            self._apply(cid, wanted.get(cid, ()))

    def _apply(self, cid: str, seats: tuple[Seat, ...]) -> None:
        camera = self.cameras.get(cid)
        with self._lock:
            w = self._watches.get(cid)
            if w is not None and w.camera is camera and seats:
                if w.seats != seats:
                    gone = {s.window_id for s in w.seats} - {s.window_id for s in seats}
                    w.seats = seats
                    w.consumer.set_regions(seats)
                    if gone:
                        self._close_windows(cid, gone)
                return
            old = self._watches.pop(cid, None)
        if old is not None:
            self._unwatch(cid, old, None)
        if camera is None or not seats:
            return
        source = camera.acquire_sub()
        stream = "sub" if source is not None else "main"
        try:
            consumer = self._factory(source or camera.main, seats, lambda ev: self.handle_event(cid, ev), self.clock,
                                     f"{cid}-seats")
        except Exception:  # one camera's analytics failing must not stop the others (nor a save)
            log.exception("cannot watch the staff seats of camera %s", cid)
            if source is not None:
                camera.release_sub()
            return
        with self._lock:
            if not self._running:
                if source is not None:
                    camera.release_sub()
                return
            self._watches[cid] = _Watch(camera, seats, consumer, stream)
        consumer.start()
        log.info("watching %d staff seat(s) on camera %s (%s stream)", len(seats), cid, stream)

    def watched_windows(self) -> frozenset[str]:
        """The windows whose staff seats a camera watches now (no database: any thread)."""
        with self._lock:
            return frozenset(s.window_id for w in self._watches.values() for s in w.seats)

    def _unwatch(self, cid: str, w: _Watch, deadline: float | None) -> bool:
        ok = w.consumer.stop(remaining(deadline) if deadline is not None else 5.0)
        if w.stream == "sub":
            w.camera.release_sub()
        self._close_windows(cid, {s.window_id for s in w.seats}, why="stop", status=w.consumer.status())
        return ok

    def _close_windows(self, cid: str, windows: set[str], *, why: str = "stop", status: Any = None) -> None:
        """Nobody watches these seats any more: close their open vacancies at the last judged frame."""
        last = _last_judged(status)
        with self._lock:
            for key in [k for k in self._open if k[0] == cid and k[1] in windows]:
                del self._open[key]
        now = self.clock()
        closed = []
        for v in open_vacancies(self.store, cid):
            if v.window_id in windows:
                end = last or v.judged_at or v.started_at
                if close_vacancy(self.store, v.id, end, now=now, why=why):
                    closed.append(v.id)
        self._changed(closed)

    # -- events (consumer threads) → writes (the writer thread) -------------------------------------
    def handle_event(self, cid: str, ev: SeatEventLike) -> None:
        """A consumer's event (any thread): the vacancy is written on the writer thread."""
        at = datetime.fromtimestamp(ev.at, UTC)
        if ev.kind == "empty_started":
            jpeg = ev.snapshot_jpeg
            self.actions.submit("seat_vacancy.open", lambda: self._opened(cid, ev.key, at, jpeg),
                                self._after)
        elif ev.kind == "empty_ended":
            self.actions.submit("seat_vacancy.close", lambda: self._closed(cid, ev.key, at), self._after)

    def _opened(self, cid: str, window_id: str, at: datetime, jpeg: bytes | None) -> list[str]:
        vid = f"V-{new_action_id()}"
        rel: str | None = None
        if jpeg:
            try:
                rel = self.snapshots.write(vid, at, jpeg)
            except OSError as e:  # the vacancy matters more than its picture
                log.warning("cannot keep the snapshot of seat %s on camera %s: %s", window_id, cid, e)
        got = open_vacancy(self.store, camera_id=cid, window_id=window_id, started_at=at, now=self.clock(),
                           snapshot=rel, vacancy_id=vid)
        if got != vid and rel is not None:
            self.snapshots.discard(rel)
        with self._lock:
            self._open[(cid, window_id)] = got
        return [got]

    def _closed(self, cid: str, window_id: str, at: datetime) -> list[str]:
        with self._lock:
            vid = self._open.pop((cid, window_id), None)
        if vid is None:
            found = [v.id for v in open_vacancies(self.store, cid) if v.window_id == window_id]
            vid = found[0] if found else None
        if vid is None:
            return []
        return [vid] if close_vacancy(self.store, vid, at, now=self.clock()) else []

    def _after(self, outcome: Any) -> None:
        with self._lock:
            if outcome.ok:
                self._written += 1
            else:
                self._failed += 1
        if outcome.ok and outcome.value:
            self._changed(list(outcome.value))

    def _changed(self, ids: list[str]) -> None:
        if ids and self.on_change is not None:
            try:
                self.on_change(ids)
            except Exception:
                log.exception("the listener of seat vacancy changes failed")

    # -- the last judged frame, while a vacancy is open ---------------------------------------------
    def _work(self, stop: threading.Event) -> None:
        """The service's thread: follows camera changes (off the thread that made them — sync's)
        and stores the last judged frames about every ``judged_every`` seconds."""
        next_note = time.monotonic() + self._judged_every
        next_prune = time.monotonic()
        while not stop.is_set():
            self._wake.wait(max(0.0, next_note - time.monotonic()))
            self._wake.clear()
            if stop.is_set():
                return
            with self._lock:
                everything, ids = self._pending_all, sorted(self._pending)
                self._pending_all, self._pending = False, set()
            try:
                if everything:
                    self.refresh()
                else:
                    for cid in ids:
                        self.refresh(cid)
            except Exception:
                log.exception("cannot follow the seat regions")
            if time.monotonic() >= next_note:
                self.note_judged()
                next_note = time.monotonic() + self._judged_every
            if time.monotonic() >= next_prune:
                self.prune_snapshots()
                next_prune = time.monotonic() + PRUNE_EVERY_S

    def note_judged(self) -> None:
        """Store each watched camera's last judged frame in its open vacancies (a restart closes them there)."""
        with self._lock:
            todo = [(cid, _last_judged(w.consumer.status())) for cid, w in self._watches.items()
                    if any(c == cid for c, _ in self._open)]
        for cid, last in todo:
            if last is not None:
                try:
                    note_judged(self.store, cid, last)
                except Exception:
                    log.exception("cannot store the last judged frame of camera %s", cid)

    def prune_snapshots(self) -> int:
        """Delete the snapshots past ``keep_snapshots`` that no evidence hold keeps; returns how many."""
        if self._keep_snapshots is None:
            return 0
        try:
            with self.store.read() as s:
                gone = prunable_snapshots(s, self.clock() - self._keep_snapshots)
            for _, rel in gone:
                self.snapshots.discard(rel)
            if gone:
                forget_snapshots(self.store, [vid for vid, _ in gone])
                log.info("pruned %d seat snapshots older than %s", len(gone), self._keep_snapshots)
            return len(gone)
        except Exception:
            log.exception("cannot prune the seat snapshots")
            return 0

    # -- cameras changed by sync ----------------------------------------------------------------------
    def _camera_changed(self, change: CameraChange) -> None:
        if change.kind is not ChangeKind.RENAMED:
            with self._lock:
                self._pending.add(change.camera_id)
            self._wake.set()


def _last_judged(status: Any) -> datetime | None:
    at = getattr(status, "last_judged_at", None)
    return at if isinstance(at, datetime) else None


@dataclass(frozen=True, slots=True)
class SeatRegions:
    """What the tile's seat editor shows: the camera's seats, whether the config sets them, and the
    windows to pick from ((id, number, name), its hall's first, then the others)."""

    camera_id: str
    seats: tuple[Seat, ...]
    configured: bool
    windows: tuple[tuple[str, str, str], ...]
    window_id: str | None = None  # the camera's own window (the first pick for a new seat)


def load_seat_regions(store: Store, service: OccupancyService, camera_id: str) -> SeatRegions:
    from sqlalchemy import select

    from supervision.store.models import CameraRow, Window

    seats = service.regions().get(camera_id, ())
    with store.read() as s:
        cam = s.get(CameraRow, camera_id)
        hall = cam.hall_id if cam is not None else None
        rows = s.execute(select(Window.id, Window.number, Window.name, Window.hall_id)
                         .where(Window.deleted.is_(False)).order_by(Window.number, Window.id)).all()
    windows = sorted(rows, key=lambda r: (hall is not None and r.hall_id != hall, r.number or "", r.id))
    known = {r.id for r in windows}
    extra = [(s.window_id, s.window_id, "") for s in seats if s.window_id not in known]
    plan = service.cameras.configs().get(camera_id)
    return SeatRegions(camera_id, tuple(seats), service.configured_for(camera_id),
                       tuple((r.id, r.number or r.id, r.name or "") for r in windows) + tuple(extra),
                       plan.window_id if plan is not None else (cam.window_id if cam is not None else None))


# -- the embedded demo ------------------------------------------------------------------------------
#: The demo hall's windows whose cameras watch the staff seat (the simulator invents no absence there).
DEMO_SEAT_WINDOWS = ("A01", "A02", "A03", "A04")


def demo_seats(server: Any, zone: Any, labels: Sequence[str] = DEMO_SEAT_WINDOWS) -> dict[str, tuple[Seat, ...]]:
    """Give the demo's synthetic cameras ``window/<label>`` a scripted staff schedule (a working day
    from 08:30 of :class:`video.synthetic.staffing.SeatScript`, seeded per window) and return the
    seat regions of their cameras ``cam-<label>`` (the scene's staff seat). Call before the cameras
    are first resolved."""
    from video.synthetic.staffing import DailySchedule, ScriptedScene, SeatScript

    plan: dict[str, tuple[Seat, ...]] = {}
    for i, label in enumerate(labels):
        script = SeatScript.generate(seed=101 + i, hours=9.0)
        server.set_schedule(f"window/{label}", DailySchedule(script, zone, start_hour=8.5).present)
        x, y, w, h = ScriptedScene(script, label=label).seat_region()
        plan[f"cam-{label}"] = (Seat(f"win-{label}", x, y, w, h),)
    return plan


def seed_regions(store: Store, plan: Mapping[str, Sequence[Seat]], *, at: datetime) -> list[str]:
    """Store the planned regions of cameras that have none yet (what an operator drew stays)."""
    have = stored_regions(store)
    done = []
    for cid, seats in plan.items():
        if cid not in have:
            save_regions(store, cid, list(seats), by="demo", at=at)
            done.append(cid)
    return done
