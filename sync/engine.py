"""The sync engine: one worker thread that keeps the terminal's store in step with the server.

A round (``run_once``) does, in this order (so that what the push and the heartbeat change on the
server — dispositions, bookmarks, this terminal's record — comes back in the same round's pull):

1. **push** the outbox, oldest first, in batches of at most 500. A row is deleted only once the
   server answered ``applied``, ``duplicate`` or ``rejected`` for it, in the transaction that
   records the answer; a timeout or a broken connection leaves every row to be sent again as is
   (the ids make that safe). A rejected action is made visible: an audit entry, the local effect
   taken back (this terminal's own disposition or bookmark row), and for a warning its state
   recomputed and ``rejected_code`` (e.g. ``superseded``) set on it for the operator to see.
2. **heartbeat** with camera and warning counts; the clock offset from the server's answer.
3. **pull** every page of ``GET /changes``: each page is validated completely first (the client
   does that), then applied **and** its ``next_cursor``/epoch stored in one store transaction —
   upserts only when newer, deletes as tombstones (``supervision.ingest``). A server disposition
   with the id of one of this terminal's actions replaces the local row (no duplicates).
   An incremental pull asks for ``page_limit`` changes; catching up (from the beginning, or after a
   full page) asks for ``bulk_page_limit`` (the protocol's 5000), and the next page is fetched on
   a helper thread while the current one is applied — per-page costs dominate a first sync.

``410`` (``cursor_expired``/``epoch_mismatch``), or a page from another epoch, starts a **full
resync**, resumable after a crash because its reason is stored (``sync_state.resync``): every
record's ``seq`` is cleared to mark it "not yet seen"; each page then replaces unseen records
whatever their versions (a restored server may have lower ones) and applies the rest by version;
with the last page, in the same transaction, records still unseen are deleted outright (no
tombstone) — except this terminal's actions still waiting in the outbox, which are pushed again.
After a server restore (a new epoch) this terminal's own actions that the server no longer has
are queued again under their ids, so a restore loses nothing an operator did here.

The thread follows the usual service shape: ``start()``, a loop on ``wait(interval)``, ``trigger()``
to run a round now (after a local action), ``stop()``. State is published as a frozen
``SyncStatus`` to listeners (called on the worker thread; a UI re-posts to its own thread).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from supervision.actions import bookmark_row_payload, disposition_payload
from supervision.ingest import ApplyReport, ChangedIds, apply_changes
from supervision.lifecycle import DEFAULT_TZ, State, live_view
from supervision.seats import report_again, waiting_vacancies
from supervision.store.db import Store
from supervision.store.models import (
    RECORD_TABLES,
    AuditEntry,
    BookmarkRow,
    DispositionRow,
    OutboxAction,
    OwnVacancy,
    SeatVacancyRow,
    SyncState,
    WarningState,
)
from sync.client import (
    MAX_BATCH,
    MAX_PAGE_LIMIT,
    ActionResult,
    CertificateError,
    ChangesPage,
    Forbidden,
    Gone,
    Offline,
    ProtocolError,
    RequestRejected,
    ServerError,
    SyncClient,
    SyncError,
    TooLarge,
    Unauthorized,
)

log = logging.getLogger(__name__)

#: The named points of a round that ``checkpoint`` is called at (a crash-recovery test blocks at one of
#: them and kills the process there).
STEPS = (
    "push.sending",  # the batch is about to go out
    "push.answered",  # the server answered; nothing recorded yet
    "push.recording",  # inside the transaction that records the answers, before commit
    "resync.marked",  # a full resync has been started and committed
    "pull.fetched",  # a page arrived and was validated; nothing written yet
    "pull.applying",  # inside the page's transaction (records + cursor), before commit
    "pull.committed",  # the page and its cursor are committed
    "heartbeat.sending",
)
CLOCK_WARNING_S = 300.0
#: A run of successful rounds stores its last success instant at most this often (the status shows it
#: at once); a restart may show a last success up to this much older until its first round.
SUCCESS_PERSIST_S = 60.0
#: HallWatch's own record types that a server may not carry (local analytics write them): a full
#: resync removes unseen ones only when the server sent some of that type.
EXTENSION_TYPES = frozenset({"seat_vacancy"})
_CHUNK = 500

EngineState = Literal["idle", "syncing", "offline", "stopped", "unauthorized"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """What the UI shows about sync; a value, safe to hand to another thread."""

    state: EngineState
    last_success: datetime | None = None
    pending_actions: int = 0
    offline_since: datetime | None = None
    last_error: str | None = None
    clock_offset_s: float | None = None  # server clock minus this terminal's clock
    clock_warning: bool = False  # |offset| above 5 minutes: the terminal's clock needs fixing
    resync: str | None = None  # a full resync under way, and why
    # The last error's kind, for a UI to word in its language (``last_error`` is English, for logs):
    # unreachable, certificate, unauthorized, server_error, too_large, protocol, rejected, internal.
    error_code: str | None = None


@dataclass(frozen=True, slots=True)
class HeartbeatInfo:
    """What the heartbeat reports besides the terminal name; ``warnings`` None: counted from the store."""

    cameras: Sequence[Mapping[str, Any]] = ()
    warnings: Mapping[str, int] | None = None
    relay_url: str | None = None


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What one round did."""

    ok: bool
    state: EngineState
    error: str | None
    pages: int
    received: int  # changes received, unknown types included
    upserted: int
    deleted: int  # tombstones applied
    stale: int  # not newer than what the store had
    unknown: int  # of record types this terminal does not know
    removed: int  # records a full resync found gone from the server
    resync: str | None  # why a full resync ran in this round (None: none did)
    requeued: int  # own actions queued again after a server restore
    pushed: Mapping[str, int]  # applied / duplicate / rejected
    pending_actions: int
    clock_offset_s: float | None
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "state": self.state,
            "error": self.error,
            "pages": self.pages,
            "received": self.received,
            "upserted": self.upserted,
            "deleted": self.deleted,
            "stale": self.stale,
            "unknown": self.unknown,
            "removed": self.removed,
            "resync": self.resync,
            "requeued": self.requeued,
            "pushed": dict(self.pushed),
            "pending_actions": self.pending_actions,
            "clock_offset_s": self.clock_offset_s,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(slots=True)
class _Round:
    pages: int = 0
    received: int = 0
    apply: ApplyReport = field(default_factory=ApplyReport)
    removed: int = 0
    resync: str | None = None
    requeued: int = 0
    pushed: Counter[str] = field(default_factory=Counter)
    offset: float | None = None
    problems: list[SyncError] = field(default_factory=list)  # errors that did not end the round


class _Stopped(Exception):
    """The engine is stopping: leave the round where it is (everything written is consistent)."""


class SyncEngine:
    """Runs sync rounds against ``client`` on ``store``, on its own thread or one at a time."""

    def __init__(
        self,
        store: Store,
        client: SyncClient,
        *,
        terminal: str,
        interval: float = 15.0,
        page_limit: int = 500,
        bulk_page_limit: int = MAX_PAGE_LIMIT,
        push_batch: int = MAX_BATCH,
        clock: Callable[[], datetime] = utc_now,
        tz: ZoneInfo = DEFAULT_TZ,
        heartbeat_info: Callable[[], HeartbeatInfo] | None = None,
        on_applied: Callable[[ApplyReport, bool], None] | None = None,
        checkpoint: Callable[[str], None] | None = None,
    ) -> None:
        """``on_applied(report, resynced)`` is called on the worker thread after each page that changed
        something is committed (the warning monitor re-judges what it changed; ``resynced``: a full
        resync ended with this page, so records may have gone), and after a push whose rejections took
        back this terminal's dispositions (their ids under ``disposition``, ``resynced`` False);
        ``checkpoint(step)`` at each of ``STEPS``."""
        if not 1 <= page_limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"page_limit must be 1..{MAX_PAGE_LIMIT}")
        if not page_limit <= bulk_page_limit <= MAX_PAGE_LIMIT:
            raise ValueError(f"bulk_page_limit must be page_limit..{MAX_PAGE_LIMIT}")
        if not 1 <= push_batch <= MAX_BATCH:
            raise ValueError(f"push_batch must be 1..{MAX_BATCH}")
        if interval <= 0:
            raise ValueError("interval must be positive")
        self.store = store
        self.client = client
        self.terminal = terminal
        self.interval = interval
        self.page_limit = page_limit
        self.bulk_page_limit = bulk_page_limit
        self.push_batch = push_batch
        self.clock = clock
        self.tz = tz
        self.heartbeat_info = heartbeat_info
        self.on_applied = on_applied
        self._checkpoint = checkpoint
        self._round_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._listeners: list[Callable[[SyncStatus], None]] = []
        self._wall_ref, self._mono_ref = clock(), time.monotonic()
        with store.read() as s:
            st = s.get(SyncState, 1)
            pending = s.scalar(select(func.count()).select_from(OutboxAction)) or 0
        self._persisted_success: datetime | None = st.last_success_at if st else None
        self._status = SyncStatus(
            state="stopped",
            last_success=st.last_success_at if st else None,
            pending_actions=pending,
            offline_since=st.offline_since if st else None,
            last_error=st.last_error if st else None,
            resync=st.resync if st else None,
        )

    # -- the thread ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker: a round at once, then one every ``interval`` seconds or on ``trigger()``."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.client.resume()
        self._set_status(state="idle")
        self._thread = threading.Thread(target=self._run, name="sync-engine")
        self._thread.start()

    def trigger(self) -> None:
        """Run a round as soon as the current one (if any) ends — e.g. right after a local action."""
        self._wake.set()

    def request_stop(self) -> None:
        """Ask the worker to stop without waiting for it (``stop`` waits)."""
        self._stop.set()
        self._wake.set()
        self.client.interrupt()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker: waits between retries end at once; a request in flight ends at its timeout."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the sync engine is still finishing a request; it stops when that ends")
            else:
                self._thread = None
        if self._status.state != "unauthorized":
            self._set_status(state="stopped")

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            report = self.run_once()
            if report.state == "unauthorized":
                log.error("sync stopped: %s", report.error)
                return
            self._wake.wait(self.interval)

    # -- status -----------------------------------------------------------------------------------
    def status(self) -> SyncStatus:
        """The latest status (no database access: safe on the GUI thread)."""
        with self._status_lock:
            return self._status

    def add_listener(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Call ``listener(status)`` on every change (on the worker thread); returns a remover."""
        with self._status_lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._status_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _set_status(self, **changes: Any) -> None:
        with self._status_lock:
            new = dataclasses.replace(self._status, **changes)
            if new.clock_offset_s is not None:
                new = dataclasses.replace(new, clock_warning=abs(new.clock_offset_s) > CLOCK_WARNING_S)
            if new == self._status:
                return
            self._status = new
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(new)
            except Exception:
                log.exception("a sync status listener failed")

    # -- a round ----------------------------------------------------------------------------------
    def run_once(self) -> RoundReport:
        """One full round: push, heartbeat, pull. Never raises for sync failures: the report says.

        After ``stop()`` it reports "stopped" at once (``start()`` makes the engine usable again)."""
        with self._round_lock:
            return self._round()

    def _round(self) -> RoundReport:
        started = time.monotonic()
        rnd = _Round()
        self._wall_ref, self._mono_ref = self.clock(), time.monotonic()
        self._set_status(state="syncing")
        error: BaseException | None = None
        try:
            self._push(rnd)
            self._heartbeat(rnd)
            self._pull(rnd)
            if rnd.requeued:  # a restored server lost actions of ours: send them now, fetch the echo
                self._push(rnd)
                self._pull(rnd)
        except (_Stopped, SyncError) as e:
            error = e
        except Exception as e:  # a bug or a store failure: report it, keep the thread alive
            log.exception("sync round failed")
            error = e
        if error is None and rnd.problems:
            error = rnd.problems[0]
        state, message = self._judge(error)
        last_success, offline_since, resync, pending = self._record_round(error, state, message)
        status_changes: dict[str, Any] = {
            "state": state,
            "last_success": last_success,
            "pending_actions": pending,
            "offline_since": offline_since,
            "last_error": message,
            "error_code": error_code(error),
            "resync": resync,
        }
        if rnd.offset is not None:
            status_changes["clock_offset_s"] = rnd.offset
        self._set_status(**status_changes)
        report = RoundReport(
            ok=error is None,
            state=state,
            error=message,
            pages=rnd.pages,
            received=rnd.received,
            upserted=rnd.apply.upserted,
            deleted=rnd.apply.deleted,
            stale=rnd.apply.stale,
            unknown=sum(rnd.apply.unknown.values()),
            removed=rnd.removed,
            resync=rnd.resync,
            requeued=rnd.requeued,
            pushed=dict(rnd.pushed),
            pending_actions=pending,
            clock_offset_s=rnd.offset,
            duration_s=time.monotonic() - started,
        )
        if error is None:
            # An idle round (nothing applied or pushed) is logged at DEBUG: every few seconds otherwise.
            log.log(
                logging.INFO if rnd.apply.applied or rnd.pushed or rnd.removed or rnd.requeued else logging.DEBUG,
                "sync round: %d pages, %d applied, %d stale; pushed %s; %d pending (%.2f s)",
                report.pages,
                rnd.apply.applied,
                report.stale,
                dict(rnd.pushed) or "nothing",
                pending,
                report.duration_s,
            )
        else:
            log.warning("sync round failed (%s): %s", state, message)
        return report

    def _record_round(
        self, error: BaseException | None, state: EngineState, message: str | None
    ) -> tuple[datetime | None, datetime | None, str | None, int]:
        """Persist the round's outcome; returns last success, offline since, resync, pending actions."""
        now = self.clock()
        cur = self._status
        kept = self._persisted_success
        try:
            if (error is None and cur.last_error is None and cur.offline_since is None and kept is not None
                    and timedelta(0) <= now - kept < timedelta(seconds=SUCCESS_PERSIST_S)):
                # Another success after a success: only the instant would change, and it is stored at most
                # every SUCCESS_PERSIST_S (the status has it at once): an idle round writes nothing.
                with self.store.read() as s:
                    st = s.get(SyncState, 1)
                    pending = s.scalar(select(func.count()).select_from(OutboxAction)) or 0
                    if st is not None and st.last_error is None and st.offline_since is None:
                        return now, None, st.resync, pending
            with self.store.write() as s:
                st = _state_row(s)
                if error is None:
                    st.last_success_at, st.offline_since, st.last_error = now, None, None
                    self._persisted_success = now
                else:
                    st.last_error = message
                    if state == "offline":
                        st.offline_since = st.offline_since or now
                    elif state != "stopped":
                        st.offline_since = None
                pending = s.scalar(select(func.count()).select_from(OutboxAction)) or 0
                return st.last_success_at, st.offline_since, st.resync, pending
        except Exception:  # the store itself failed: keep what is known in memory
            log.exception("cannot record the sync round in the store")
            cur = self._status
            return cur.last_success, cur.offline_since or now, cur.resync, cur.pending_actions

    def _judge(self, error: BaseException | None) -> tuple[EngineState, str | None]:
        """The engine state after a round and the error in words."""
        if error is None:
            return "idle", None
        if isinstance(error, _Stopped) or (self._stop.is_set() and isinstance(error, Offline)):
            return "stopped", "stopped before the round finished"
        if isinstance(error, Unauthorized):
            return "unauthorized", str(error)
        if isinstance(error, Offline | CertificateError | ServerError | TooLarge):
            return "offline", str(error)
        if isinstance(error, ProtocolError):
            # Someone answered: not offline. Sync goes on; the operator must see why it fails.
            return "idle", f"the server's answer was not understood: {error}"
        if isinstance(error, SyncError):
            # The server answered, and refused: sync runs, but the operator must see why.
            return "idle", str(error)
        return "offline", f"internal error: {type(error).__name__}: {error}"

    def _check_stop(self) -> None:
        if self._stop.is_set():
            raise _Stopped("stopping")

    def _pause(self, step: str) -> None:
        """The injected checkpoint at a named step of the round (see ``STEPS``)."""
        if self._checkpoint is not None:
            self._checkpoint(step)

    def _local_time(self, monotonic: float) -> datetime:
        return self._wall_ref + timedelta(seconds=monotonic - self._mono_ref)

    def _offset(self, server_time: datetime, started: float, ended: float) -> float:
        return (server_time - self._local_time((started + ended) / 2)).total_seconds()

    # -- push -------------------------------------------------------------------------------------
    def _push(self, rnd: _Round) -> None:
        batch = self.push_batch
        while True:
            self._check_stop()
            with self.store.read() as s:
                rows = list(
                    s.scalars(select(OutboxAction).order_by(OutboxAction.created_at, OutboxAction.id).limit(batch))
                )
            if not rows:
                return
            actions = [_wire_action(r) for r in rows]
            self._pause("push.sending")
            try:
                results = self.client.push(self.terminal, actions)
            except TooLarge:
                if batch == 1:
                    raise
                batch = max(1, batch // 2)
                log.info("the server found the batch too large; pushing %d actions a request", batch)
                continue
            except RequestRejected as e:
                if len(rows) > 1:
                    batch = max(1, len(rows) // 2)  # find the action the server refuses
                    continue
                if e.status not in (400, 422) or e.code in ("", "rejected"):
                    self._note_attempt(rows, str(e))
                    raise
                results = [ActionResult(rows[0].id, "rejected", e.code, e.message)]
            except Forbidden as e:
                self._note_attempt(rows, str(e))
                rnd.problems.append(e)  # e.g. a leader token: keep the actions, still pull
                return
            except SyncError as e:
                self._note_attempt(rows, str(e))
                raise
            self._pause("push.answered")
            taken_back: list[str] = []  # this terminal's dispositions a rejection removed
            with self.store.write() as s:
                for row, res in zip(rows, results, strict=True):
                    if res.status == "rejected":
                        self._reject(s, row, res)
                        if row.type.startswith("warning."):
                            taken_back.append(row.id)
                    rnd.pushed[res.status] += 1
                s.execute(delete(OutboxAction).where(OutboxAction.id.in_([r.id for r in rows])))
                self._pause("push.recording")
            if taken_back:  # the warnings' dispositions changed: the monitor must re-judge them
                self._notify(ApplyReport(changed=ChangedIds.of({"disposition": taken_back})), False)

    def _note_attempt(self, rows: Sequence[OutboxAction], error: str) -> None:
        now = self.clock()
        with self.store.write() as s:
            s.execute(
                update(OutboxAction)
                .where(OutboxAction.id.in_([r.id for r in rows]))
                .values(attempts=OutboxAction.attempts + 1, last_attempt_at=now, last_error=error[:500])
            )

    def _reject(self, s: Session, row: OutboxAction, res: ActionResult) -> None:
        """Take back the local effect of a refused action and make the refusal visible."""
        now = self.clock()
        payload = row.payload or {}
        subject: str | None = row.id
        if row.type.startswith("warning."):
            key = payload.get("warning")
            subject = key if isinstance(key, str) else row.id
            s.execute(delete(DispositionRow).where(DispositionRow.id == row.id, DispositionRow.origin == "local"))
            ws = s.get(WarningState, subject)
            if ws is not None:
                view = live_view(s, subject, self.tz, now)
                if view is not None:
                    ws.state = str(view.state)
                    ws.acknowledged_at, ws.acknowledged_by = view.acknowledged or (None, None)
                    if view.disposed:
                        ws.disposed_at, ws.disposed_by, ws.measure, ws.note = view.disposed
                    else:
                        ws.disposed_at = ws.disposed_by = ws.measure = ws.note = None
                elif ws.state != State.CLEARED.value:
                    ws.state = State.ACTIVE.value
                ws.rejected_at, ws.rejected_code, ws.rejected_message = now, res.code, res.message or None
                ws.updated_at = now
        elif row.type == "bookmark.create":
            s.execute(delete(BookmarkRow).where(BookmarkRow.id == row.id, BookmarkRow.origin == "local"))
        s.add(
            AuditEntry(
                at=now,
                actor="sync",
                action="sync.rejected",
                subject=subject,
                detail={
                    "id": row.id,
                    "type": row.type,
                    "code": res.code,
                    "message": res.message,
                    "by": payload.get("by"),
                },
            )
        )
        log.warning("the server rejected action %s (%s on %s): %s %s", row.id, row.type, subject, res.code, res.message)

    # -- pull -------------------------------------------------------------------------------------
    def _pull(self, rnd: _Round) -> None:
        with self.store.read() as s:
            st = s.get(SyncState, 1)
            cursor = st.cursor if st else None
            epoch = st.epoch if st else None
            resync = st.resync if st else None
        if resync:
            rnd.resync = resync
        restarts = 0
        catching_up = cursor is None
        with _Prefetcher(self.client) as ahead:
            while True:
                self._check_stop()
                # Catching up (from the beginning, or after a full page) in the largest pages the
                # protocol allows: per-page costs dominate a first sync of 100 000 records.
                limit = self.bulk_page_limit if catching_up or cursor is None else self.page_limit
                try:
                    page = ahead.get(cursor, limit)
                except RequestRejected as e:
                    if e.code != "bad_cursor" or cursor is None or restarts >= 2:
                        raise
                    # A cursor the server cannot verify (it was issued before the server began
                    # signing them, or by a restored server with another secret): the feed cannot
                    # continue from it, exactly as after 410 cursor_expired.
                    restarts += 1
                    log.warning("the server does not accept this terminal's cursor (%s): full resync", e.code)
                    self._begin_resync("cursor_expired", str(e))
                    cursor, resync, rnd.resync = None, "cursor_expired", "cursor_expired"
                    continue
                except Gone as e:
                    if cursor is None or restarts >= 2:
                        raise ProtocolError(f"the server answered 410 {e.code} to a pull from the beginning") from None
                    restarts += 1
                    reason = "epoch_mismatch" if e.code == "epoch_mismatch" else "cursor_expired"
                    log.warning("the server cannot continue this terminal's feed (%s): full resync", e.code)
                    self._begin_resync(reason, str(e))
                    cursor, resync, rnd.resync = None, reason, reason
                    continue
                if cursor is not None and epoch is not None and page.epoch != epoch:
                    # The server changed epochs under a cursor without saying 410: resync all the same.
                    if restarts >= 2:
                        raise ProtocolError("the server keeps changing its epoch")
                    restarts += 1
                    log.warning("the server's epoch changed (%s → %s): full resync", epoch, page.epoch)
                    self._begin_resync("epoch_mismatch", f"epoch {epoch} became {page.epoch}")
                    cursor, resync, rnd.resync = None, "epoch_mismatch", "epoch_mismatch"
                    continue
                if page.has_more and page.next_cursor is not None:
                    ahead.start(page.next_cursor, self.bulk_page_limit)  # fetched while this page is applied
                self._pause("pull.fetched")
                rnd.pages += 1
                rnd.received += page.received
                if page.server_time is not None and rnd.offset is None:  # the heartbeat's estimate comes first
                    rnd.offset = self._offset(page.server_time, page.request_started, page.request_ended)
                if (page.received == 0 and not page.has_more and not resync and cursor is not None
                        and page.next_cursor in (None, cursor) and page.epoch == epoch):
                    return  # nothing new, the cursor where it was: nothing to write (an idle round)
                resync = self._apply_page(page, rnd)
                self._pause("pull.committed")
                if page.next_cursor is not None:
                    cursor = page.next_cursor
                epoch = page.epoch
                catching_up = page.has_more
                if not page.has_more:
                    return

    def _begin_resync(self, reason: str, why: str) -> None:
        with self.store.write() as s:
            st = _state_row(s)
            st.cursor = None
            # A restore stays a restore even if a second 410 says cursor_expired half-way.
            st.resync = "epoch_mismatch" if "epoch_mismatch" in (reason, st.resync) else reason
            for cls in RECORD_TABLES.values():
                s.execute(update(cls).where(cls.seq.is_not(None)).values(seq=None))
            s.add(
                AuditEntry(
                    at=self.clock(), actor="sync", action="sync.resync", subject=st.epoch, detail={"reason": why}
                )
            )
        self._set_status(resync=reason)
        self._pause("resync.marked")

    def _apply_page(self, page: ChangesPage, rnd: _Round) -> str | None:
        """Apply a page and store its cursor in one transaction; returns the resync still under way."""
        finished = False  # a full resync ended with this page (records may have been removed)
        with self.store.write() as s:
            st = _state_row(s)
            if st.resync:
                if st.cursor is None and st.epoch is not None and page.epoch != st.epoch:
                    st.resync = "epoch_mismatch"  # a restored server, whatever its 410 said
                self._replace_unseen(s, page)
            report = apply_changes(s, page.changes, records=True)  # the monitor takes them as applied
            rnd.apply.upserted += report.upserted
            rnd.apply.deleted += report.deleted
            rnd.apply.stale += report.stale
            rnd.apply.unknown.update(page.unknown)
            rnd.apply.by_type.update(report.by_type)
            if page.next_cursor is not None:
                st.cursor = page.next_cursor
            st.epoch = page.epoch
            if st.resync and not page.has_more:
                removed, requeued = self._finish_resync(s, st.resync)
                rnd.removed += removed
                rnd.requeued += requeued
                finished = True
                log.info(
                    "full resync (%s) done: %d records removed, %d actions queued again", st.resync, removed, requeued
                )
                st.resync = None
            self._pause("pull.applying")
            still = st.resync
        if report.upserted or report.deleted or finished:
            self._notify(report, finished)
        if still is None and self._status.resync is not None:
            self._set_status(resync=None)
        return still

    def _notify(self, report: ApplyReport, resynced: bool) -> None:
        """Tell ``on_applied`` what a committed transaction changed (a page, or rejections taken back)."""
        if self.on_applied is None:
            return
        try:
            self.on_applied(report, resynced)
        except Exception:  # a listener's failure must not fail the round: the change is committed
            log.exception("the listener of applied changes failed")

    def _replace_unseen(self, s: Session, page: ChangesPage) -> None:
        """During a resync the server's records win whatever their versions: drop the local rows
        this resync has not seen yet (seq cleared) so ``apply_changes`` writes the server's."""
        ids: dict[str, list[str]] = {}
        for ch in page.changes:
            ids.setdefault(ch.type, []).append(ch.id)
        for rtype, wanted in ids.items():
            cls = RECORD_TABLES[rtype]
            for i in range(0, len(wanted), _CHUNK):
                s.execute(delete(cls).where(cls.id.in_(wanted[i : i + _CHUNK]), cls.seq.is_(None)))

    def _finish_resync(self, s: Session, reason: str) -> tuple[int, int]:
        """Remove what the full pull did not return; after a restore, queue own lost actions again."""
        removed = requeued = 0
        for rtype, cls in RECORD_TABLES.items():
            if rtype in EXTENSION_TYPES and s.scalar(select(cls.id).where(cls.seq.is_not(None)).limit(1)) is None:
                continue  # the server does not carry this type: local rows stay
            unseen: ColumnElement[bool] = cls.seq.is_(None)
            if cls is SeatVacancyRow:
                # This terminal's vacancies whose reports wait in the outbox stay as last reported
                # (a report not yet pushed is newer than anything the server has); the echo replaces them.
                if reason == "epoch_mismatch":  # a restored server lost reports of ours: report again
                    requeued += report_again(s, _lost_vacancies(s), self.clock())
                waiting_v = waiting_vacancies(s)
                for vid, payload in waiting_v.items():
                    _keep_reported(s, vid, payload)
                if waiting_v:
                    unseen = unseen & ~cls.id.in_(list(waiting_v))
            elif cls is DispositionRow or cls is BookmarkRow:
                own = cls.terminal == self.terminal
                waiting = cls.id.in_(select(OutboxAction.id))
                if reason == "epoch_mismatch":
                    for row in s.scalars(select(cls).where(unseen, own, ~waiting)):
                        requeued += self._requeue(s, row)  # type: ignore[arg-type]
                    s.flush()
                # Actions still to be pushed keep their local rows; the server's echo replaces them.
                s.execute(update(cls).where(unseen, waiting).values(origin="local", version=0))
                unseen = unseen & ~waiting
            result = s.execute(delete(cls).where(unseen))
            removed += cast(CursorResult[Any], result).rowcount
        return removed, requeued

    def _requeue(self, s: Session, row: DispositionRow | BookmarkRow) -> int:
        """Rebuild the action behind one of this terminal's records the restored server lost."""
        payload = disposition_payload(row) if isinstance(row, DispositionRow) else bookmark_row_payload(row)
        if payload is None or row.at is None:
            return 0
        s.add(OutboxAction(id=row.id, created_at=row.at, type=payload["type"], payload=payload, attempts=0))
        s.add(
            AuditEntry(
                at=self.clock(),
                actor="sync",
                action="sync.requeued",
                subject=row.id,
                detail={"type": payload["type"], "reason": "the restored server did not have it"},
            )
        )
        return 1

    # -- heartbeat ---------------------------------------------------------------------------------
    def _heartbeat(self, rnd: _Round) -> None:
        self._check_stop()
        info = self.heartbeat_info() if self.heartbeat_info is not None else HeartbeatInfo()
        warnings = dict(info.warnings) if info.warnings is not None else self._warning_counts()
        payload: dict[str, Any] = {
            "terminal": self.terminal,
            "sent_at": self.clock().isoformat(),
            "cameras": [dict(c) for c in info.cameras],
            "warnings": {"yellow": int(warnings.get("yellow", 0)), "red": int(warnings.get("red", 0))},
            "relay_url": info.relay_url,
        }
        self._pause("heartbeat.sending")
        try:
            answer = self.client.heartbeat(payload)
        except (Unauthorized, Offline, CertificateError, ServerError):
            raise
        except SyncError as e:  # the data is in step; a heartbeat the server refuses is worth a word only
            rnd.problems.append(e)
            return
        rnd.offset = self._offset(answer.at, answer.request_started, answer.request_ended)

    def _warning_counts(self) -> dict[str, int]:
        with self.store.read() as s:
            rows = s.execute(
                select(WarningState.level, func.count())
                .where(WarningState.state != State.CLEARED.value)
                .group_by(WarningState.level)
            ).all()
        return {str(level): int(n) for level, n in rows}


class _Prefetcher:
    """Fetches the next page on a helper thread while the current one is applied.

    One request at a time ever uses the client's session: ``get`` either takes the page fetched
    ahead (when it is the one asked for) or waits for that fetch to end before asking itself.
    """

    def __init__(self, client: SyncClient) -> None:
        self._client = client
        self._pool: ThreadPoolExecutor | None = None
        self._ahead: tuple[str | None, Future[ChangesPage]] | None = None

    def start(self, cursor: str, limit: int) -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-fetch")
        self._ahead = (cursor, self._pool.submit(self._client.changes, cursor, limit))

    def get(self, cursor: str | None, limit: int) -> ChangesPage:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if ahead[0] == cursor:
                return ahead[1].result()
            with contextlib.suppress(Exception):
                ahead[1].result()  # not the page wanted (a resync began): let it finish unused
        return self._client.changes(cursor, limit)

    def __enter__(self) -> _Prefetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._ahead is not None:
            with contextlib.suppress(Exception):
                self._ahead[1].result()
            self._ahead = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def error_code(error: BaseException | None) -> str | None:
    """The kind of a round's error (``SyncStatus.error_code``); None for no error or a stop."""
    if error is None or isinstance(error, _Stopped):
        return None
    for kind, code in (
        (Unauthorized, "unauthorized"), (CertificateError, "certificate"), (Offline, "unreachable"),
        (ServerError, "server_error"), (TooLarge, "too_large"), (ProtocolError, "protocol"), (SyncError, "rejected"),
    ):
        if isinstance(error, kind):
            return code
    return "internal"


def _state_row(s: Session) -> SyncState:
    st = s.get(SyncState, 1)
    if st is None:
        st = SyncState(id=1)
        s.add(st)
        s.flush()
    return st


def _lost_vacancies(s: Session) -> list[str]:
    """This terminal's own vacancies that a restored server does not have as last reported (none,
    or still open where it ended), with no report waiting: to be reported again."""
    waiting = waiting_vacancies(s)
    lost = []
    for own_id, own_end, seq, deleted, row_end in s.execute(
        select(OwnVacancy.id, OwnVacancy.ended_at, SeatVacancyRow.seq, SeatVacancyRow.deleted,
               SeatVacancyRow.ended_at).outerjoin(SeatVacancyRow, SeatVacancyRow.id == OwnVacancy.id)
    ):
        if own_id not in waiting and (seq is None or deleted or row_end != own_end):
            lost.append(own_id)
    return lost


def _keep_reported(s: Session, vacancy_id: str, payload: Mapping[str, Any]) -> None:
    """Write a vacancy as this terminal last reported it (a report still waiting in the outbox)."""
    try:
        started = datetime.fromisoformat(str(payload["started_at"]))
        ended_raw = payload.get("ended_at")
        ended = datetime.fromisoformat(str(ended_raw)) if ended_raw is not None else None
        window, camera = str(payload["window_id"]), payload.get("camera_id")
    except (KeyError, ValueError):
        log.warning("a seat_vacancy.report in the outbox is malformed (vacancy %s): left as it is", vacancy_id)
        return
    values = {"window_id": window, "camera_id": camera if isinstance(camera, str) else None, "started_at": started,
              "ended_at": ended, "deleted": False, "origin": "local", "version": 0}
    row = s.get(SeatVacancyRow, vacancy_id)
    if row is None:
        s.add(SeatVacancyRow(id=vacancy_id, seq=None, **values))
    else:
        for k, v in values.items():
            setattr(row, k, v)
    s.flush()


def _wire_action(row: OutboxAction) -> dict[str, Any]:
    action = dict(row.payload or {})
    action["id"] = row.id
    action.setdefault("type", row.type)
    return action


__all__ = [
    "CLOCK_WARNING_S",
    "STEPS",
    "HeartbeatInfo",
    "RoundReport",
    "SyncEngine",
    "SyncStatus",
    "utc_now",
]
