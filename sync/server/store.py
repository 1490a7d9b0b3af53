"""The reference server's store: records in feed order, terminals, actions — SQLite or PostgreSQL.

Feed order. Every write that publishes takes the next ``seq`` numbers from ``server_state`` and
holds one lock from the moment it reads the counter until it commits: a transaction-scoped
advisory lock on PostgreSQL, the database write lock on SQLite (``BEGIN IMMEDIATE``). Writers
therefore commit in ``seq`` order, and a reader can never see seq N+1 while seq N is still
uncommitted — the feed never skips a change. Readers take no lock; on PostgreSQL they run in one
REPEATABLE READ snapshot so the page and the counter they report agree.

Scope. Each record gets a materialised scope path when written (``sync.server.scope``); a
terminal's page is the records above its cursor whose path lies under its org unit's path, plus
the global types, plus deletes for records that moved out of it (``scope_exits``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    func,
    insert,
    not_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url

from supervision.records import DATA_MODELS, CalendarData, RuleSetData
from supervision.store.db import sqlite_engine
from sync.server.judge import TZ, Judge, rule_set, year_table
from sync.server.schema import (
    SCHEMA_VERSION,
    actions,
    metadata,
    provisional_roots,
    records,
    scope_exits,
    server_secrets,
    server_state,
    terminals,
)
from sync.server.scope import (
    ANCHOR_KINDS,
    ORPHAN,
    ROOT,
    anchors,
    provisional,
    segment,
    upper_bound,
)

log = logging.getLogger(__name__)

ROLES = ("operator", "leader")
DEFAULT_LIMIT = 500
MAX_LIMIT = 5000
MAX_ACTIONS = 500
TERMINAL_REPUBLISH = timedelta(seconds=60)  # a heartbeat republishes `last_seen` at most this often
_LOCK_KEY = 0x48_57_53_51  # "HWSQ": the PostgreSQL advisory lock that orders seq allocation
_CHUNK = 500


class Refusal(Exception):
    """The server refuses a request as a whole: HTTP status, error code and a message in words."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Terminal:
    """An authenticated terminal."""

    id: str
    name: str
    role: str
    scope: str


# -- cursors ----------------------------------------------------------------------------------------
# A cursor is its JSON (epoch, seq, base) in base64url, a dot, and an HMAC-SHA256 of that text under
# the server's secret key: a hand-edited cursor (to dodge expiry after compaction, say) is refused.
_SIG_BYTES = 16
_BAD_CURSOR = "the cursor is not one this server issued"


def _sign(key: bytes, payload: str) -> str:
    mac = hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()[:_SIG_BYTES]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def encode_cursor(key: bytes, epoch: str, seq: int, base: int | None = None) -> str:
    """``base``: the compaction floor when the pull this cursor continues began from scratch."""
    obj: dict[str, Any] = {"e": epoch, "s": seq}
    if base is not None:
        obj["b"] = base
    raw = json.dumps(obj, separators=(",", ":")).encode()
    payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{payload}.{_sign(key, payload)}"


def decode_cursor(key: bytes, cursor: str) -> tuple[str, int, int | None]:
    """(epoch, seq, base) of a cursor this server issued and signed; ``Refusal`` 400 for anything else."""
    payload, dot, sig = cursor.partition(".")
    if not dot or not payload.isascii() or not sig.isascii() or not hmac.compare_digest(_sign(key, payload), sig):
        raise Refusal(400, "bad_cursor", _BAD_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        obj = json.loads(raw)
        epoch, seq, base = obj["e"], obj["s"], obj.get("b")
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError, AttributeError):
        raise Refusal(400, "bad_cursor", _BAD_CURSOR) from None
    if not isinstance(epoch, str) or isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise Refusal(400, "bad_cursor", _BAD_CURSOR)
    if base is not None and (isinstance(base, bool) or not isinstance(base, int) or base < 0):
        raise Refusal(400, "bad_cursor", _BAD_CURSOR)
    return epoch, seq, base


_js = encode_basestring  # a JSON string literal, non-ASCII kept (json.dumps builds an encoder per call)


def change_json(seq: int, rtype: str, rid: str, version: int, data: str | None) -> str:
    """One change of a page as JSON text; ``data`` (already JSON) is spliced in, not re-encoded."""
    head = f'{{"seq":{seq},"type":{_js(rtype)},"id":{_js(rid)},'
    if data is None:
        return head + f'"op":"delete","version":{version}}}'
    return head + f'"op":"upsert","version":{version},"data":{data}}}'


@dataclass(frozen=True, slots=True)
class FeedPage:
    epoch: str
    changes: list[str]  # each change as JSON text
    next_cursor: str
    has_more: bool

    def to_json(self, server_time: str) -> bytes:
        return (
            f'{{"epoch":{_js(self.epoch)},"changes":[{",".join(self.changes)}],'
            f'"next_cursor":{_js(self.next_cursor)},"has_more":{"true" if self.has_more else "false"},'
            f'"server_time":{_js(server_time)}}}'
        ).encode()


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def _fresh(age: timedelta) -> bool:
    """A terminal's record published ``age`` ago needs no republishing yet. A publication ahead of
    the clock (a demo folder written on another clock) is not fresh: it is republished."""
    return timedelta(0) <= age < TERMINAL_REPUBLISH


def server_time(now: datetime | None = None) -> str:
    """The server's clock as ISO-8601 with the hall zone's offset."""
    return (now or datetime.now(UTC)).astimezone(TZ).isoformat(timespec="milliseconds")


# -- validating published changes -------------------------------------------------------------------
class _Prepared(NamedTuple):
    type: str
    id: str
    op: str
    data: dict[str, Any] | None  # normalised data (JSON types)
    text: str | None  # ... as the JSON text stored and served


def _first_error(where: str, err: ValidationError, prefix: str) -> ValueError:
    e = err.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in (prefix, *e["loc"]) if p != "")
    return ValueError(f"{where}: {loc}: {e['msg']}")


def encode_data(model: BaseModel, raw: Mapping[str, Any], where: str) -> tuple[dict[str, Any], str]:
    """Normalised data and its JSON text. Fields this version does not know are kept (a newer
    publisher's fields reach newer clients; older ones ignore them, as the protocol says)."""
    dumped = model.model_dump(mode="json", by_alias=True)
    known = {f.alias or name for name, f in type(model).model_fields.items()}
    extras = {k: v for k, v in raw.items() if isinstance(k, str) and k not in known}
    try:
        text_ = json.dumps({**extras, **dumped}, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{where}: data: not JSON: {e}") from None
    return dumped, text_


def prepare_change(index: int, raw: Any) -> _Prepared:
    """Check one change given to ``publish``; a ``ValueError`` names the change and the field."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"changes[{index}]: a change must be an object, not {type(raw).__name__}")
    rtype, rid, op = raw.get("type"), raw.get("id"), raw.get("op", "upsert")
    where = f"changes[{index}] ({rtype} {rid!r})"
    if not isinstance(rtype, str) or rtype not in DATA_MODELS:
        raise ValueError(f"{where}: type: unknown record type {rtype!r} (one of {', '.join(sorted(DATA_MODELS))})")
    if not isinstance(rid, str) or not 1 <= len(rid) <= 200:
        raise ValueError(f"{where}: id: must be a string of 1 to 200 characters")
    if op not in ("upsert", "delete"):
        raise ValueError(f"{where}: op: must be 'upsert' or 'delete', not {op!r}")
    if op == "delete":
        return _Prepared(rtype, rid, "delete", None, None)
    data = raw.get("data")
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: data: an upsert needs its data object")
    try:
        model = DATA_MODELS[rtype].model_validate(dict(data))
    except ValidationError as e:
        raise _first_error(where, e, "data") from None
    # What the terminals will build from these must build here too.
    try:
        if isinstance(model, RuleSetData):
            rule_set(model)
        elif isinstance(model, CalendarData):
            year_table(model)
    except ValueError as e:
        raise ValueError(f"{where}: data: {e}") from None
    dumped, text_ = encode_data(model, data, where)
    return _Prepared(rtype, rid, "upsert", dumped, text_)


# -- the write transaction -------------------------------------------------------------------------
class _Row(NamedTuple):
    version: int
    deleted: bool
    path: str | None


def _visible_somewhere(path: str) -> bool:
    """Could some terminal's scope cover this path? (Provisional and orphan roots: no.)"""
    return path.startswith("/o:")


_R = records.c
_WHERE_KEY = and_(_R.type == bindparam("b_type"), _R.id == bindparam("b_id"))
_INSERT = insert(records)
_UPDATE = update(records).where(_WHERE_KEY)
_MARK_DELETED = update(records).where(_WHERE_KEY)  # another object: batched apart (other columns)
_INSERT_EXIT = insert(scope_exits)


class WriteTx:
    """One write transaction. ``lock()`` before anything that publishes (``put``).

    Record writes are buffered and sent in batches (``executemany``) before anything reads the
    records table through ``c`` and before commit: publishing thousands of records is then a
    handful of statements, not thousands.
    """

    def __init__(self, store: CentralStore, conn: Connection) -> None:
        self.store = store
        self._c = conn
        self.now = store.clock()
        self.last_seq = 0
        self._start_seq = 0
        self._locked = False
        self._rows: dict[tuple[str, str], _Row | None] = {}
        self._pending: list[tuple[Any, dict[str, Any]]] = []
        self._roots: set[str] | None = None  # provisional roots with records below them

    @property
    def c(self) -> Connection:
        """The connection, with every buffered write sent."""
        self.flush()
        return self._c

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        i = 0
        while i < len(pending):
            stmt = pending[i][0]
            j = i
            while j < len(pending) and pending[j][0] is stmt:
                j += 1
            self._c.execute(stmt, [params for _, params in pending[i:j]])
            i = j

    def lock(self) -> None:
        """Take the feed lock (held until commit) and read the seq counter."""
        if self._locked:
            return
        if self.store.is_postgres:
            self._c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        self.last_seq = self._c.execute(select(server_state.c.last_seq).where(server_state.c.id == 1)).scalar_one()
        self._start_seq = self.last_seq
        self._locked = True

    def next_seq(self) -> int:
        if not self._locked:
            raise RuntimeError("seq allocated without the feed lock")
        self.last_seq += 1
        return self.last_seq

    def finish(self) -> int:
        """Send what is buffered and store the counter; call last, inside the transaction.
        Returns the last seq."""
        self.flush()
        if self._locked and self.last_seq != self._start_seq:
            self._c.execute(update(server_state).where(server_state.c.id == 1).values(last_seq=self.last_seq))
            hook = self.store._commit_hook
            if hook is not None:
                hook(self.last_seq)
        return self.last_seq

    # -- records --------------------------------------------------------------------------------
    def prefetch(self, keys: Iterable[tuple[str, str]]) -> None:
        """Read the stored version, tombstone and path of these records (buffered writes are
        already in the cache, so nothing needs flushing)."""
        by_type: dict[str, list[str]] = {}
        for key in keys:
            if key not in self._rows:
                by_type.setdefault(key[0], []).append(key[1])
                self._rows[key] = None
        for rtype, ids in by_type.items():
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                q = select(_R.id, _R.version, _R.deleted, _R.path).where(and_(_R.type == rtype, _R.id.in_(chunk)))
                for row in self._c.execute(q):
                    self._rows[(rtype, row.id)] = _Row(row.version, row.deleted, row.path)

    def row(self, rtype: str, rid: str) -> _Row | None:
        key = (rtype, rid)
        if key not in self._rows:
            self.prefetch([key])
        return self._rows[key]

    def _provisional_roots(self) -> set[str]:
        if self._roots is None:
            self._roots = set(self._c.execute(select(provisional_roots.c.root)).scalars())
        return self._roots

    def place(self, rtype: str, rid: str, data: Mapping[str, Any]) -> str | None:
        """The scope path a record with this data gets (None: global)."""
        refs: tuple[tuple[str, str], ...] | None
        if rtype == "terminal":
            scope = self._c.execute(select(terminals.c.scope).where(terminals.c.id == rid)).scalar_one_or_none()
            # A terminal record published by hand for no registered terminal is for everyone.
            refs = None if scope is None else (("org_unit", scope),)
        else:
            refs = anchors(rtype, dict(data))
        if refs is None:
            return None
        base: str | None = None
        if not refs:
            base = ROOT if rtype == "org_unit" else ORPHAN
        else:
            for t, i in refs:
                found = self.row(t, i)
                if found is not None and found.path is not None:
                    base = found.path
                    break
            if base is None:  # the anchor is not known yet: wait below a provisional root
                base = provisional(*refs[0])
                roots = self._provisional_roots()
                if base not in roots:
                    roots.add(base)
                    self._c.execute(insert(provisional_roots).values(root=base))
        if rtype not in ANCHOR_KINDS:
            return base
        own = segment(rtype, rid)
        if rtype == "org_unit" and "/" + own in base:
            raise ValueError(f"org unit {rid!r}: its parent {data.get('parent_id')!r} lies below it (a cycle)")
        return base + own

    def put(self, rtype: str, rid: str, op: str, data: Mapping[str, Any] | None, data_text: str | None) -> int | None:
        """Publish one change: the next version and seq. Returns the seq (None: nothing to do,
        a delete of a record that is not there)."""
        self.lock()
        key = (rtype, rid)
        row = self.row(rtype, rid)
        if op == "delete":
            if row is None or row.deleted:
                return None
            seq = self.next_seq()
            self._pending.append(
                (
                    _MARK_DELETED,
                    {
                        "b_type": rtype,
                        "b_id": rid,
                        "deleted": True,
                        "version": row.version + 1,
                        "seq": seq,
                        "updated_at": self.now,
                    },
                )
            )
            self._rows[key] = _Row(row.version + 1, True, row.path)
            return seq
        if data is None or data_text is None:
            raise ValueError(f"{rtype} {rid!r}: an upsert needs data")
        path = self.place(rtype, rid, data)
        if rtype in ANCHOR_KINDS and path is not None:
            if row is not None and row.path is not None and row.path != path:
                self._move_below(row.path, path, exclude=key)
            elif row is None:
                # Records that came before it wait below a provisional root named after it.
                waiting = provisional(rtype, rid)
                if waiting in self._provisional_roots():
                    if waiting != path:  # (a top org unit's path is its provisional root)
                        self._move_below(waiting, path, exclude=key)
                    self._provisional_roots().discard(waiting)
                    self._c.execute(delete(provisional_roots).where(provisional_roots.c.root == waiting))
        if row is not None and row.path is not None and row.path != path:
            self._exit(rtype, rid, row.path)
        seq = self.next_seq()
        version = (row.version if row is not None else 0) + 1
        values = {
            "version": version,
            "seq": seq,
            "deleted": False,
            "path": path,
            "data": data_text,
            "updated_at": self.now,
        }
        if row is None:
            self._pending.append((_INSERT, {"type": rtype, "id": rid, **values}))
        else:
            self._pending.append((_UPDATE, {"b_type": rtype, "b_id": rid, **values}))
        self._rows[key] = _Row(version, False, path)
        return seq

    def _exit(self, rtype: str, rid: str, old_path: str) -> None:
        if _visible_somewhere(old_path):
            exit_ = {"seq": self.next_seq(), "type": rtype, "id": rid, "old_path": old_path}
            self._pending.append((_INSERT_EXIT, exit_))

    def _move_below(self, before: str, after: str, *, exclude: tuple[str, str]) -> None:
        """Everything under ``before`` moves under ``after``: new path, version and seq, and a
        scope exit so terminals that no longer see it are sent a delete."""
        rows = self.c.execute(
            select(_R.type, _R.id, _R.version, _R.path)
            .where(and_(_R.path >= before, _R.path < upper_bound(before)))
            .order_by(_R.seq)
        ).all()
        moved = [x for x in rows if (x.type, x.id) != exclude]
        if not moved:
            return
        exits: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for x in moved:
            assert x.path is not None
            if _visible_somewhere(x.path):
                exits.append({"seq": self.next_seq(), "type": x.type, "id": x.id, "old_path": x.path})
            updates.append(
                {
                    "b_type": x.type,
                    "b_id": x.id,
                    "path": after + x.path[len(before) :],
                    "version": x.version + 1,
                    "seq": self.next_seq(),
                    "updated_at": self.now,
                }
            )
        if exits:
            self._c.execute(_INSERT_EXIT, exits)
        self._c.execute(_UPDATE, updates)
        self._rows.clear()
        log.info("%d record(s) moved from %s to %s", len(moved), before, after)

    def scope_path(self, org_id: str) -> str:
        return scope_path(self.c, org_id)


def scope_path(conn: Connection, org_id: str) -> str:
    """The path of an org unit's subtree (the unit need not exist: then it covers nothing)."""
    found = conn.execute(
        select(records.c.path).where(and_(records.c.type == "org_unit", records.c.id == org_id))
    ).scalar_one_or_none()
    return found if found is not None else provisional("org_unit", org_id)


# -- engines ----------------------------------------------------------------------------------------
def database_url(target: str | Path) -> URL:
    """A URL from a URL string or an SQLite file path."""
    text_ = str(target)
    if "://" in text_:
        url = make_url(text_)
    else:
        url = URL.create("sqlite+pysqlite", database=str(Path(text_).expanduser().resolve()))
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        raise ValueError("the server needs a database file or a PostgreSQL URL, not an in-memory SQLite database")
    return url


def _make_engine(url: URL) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    assert url.database is not None
    Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Readers run side by side (WAL): the worker threads should not queue for connections.
    return sqlite_engine(url, pool_size=20, max_overflow=20)


# -- the store --------------------------------------------------------------------------------------
class CentralStore:
    """The central server's database. Thread-safe: every call runs in a transaction of its own."""

    def __init__(
        self,
        url: str | Path,
        *,
        commit_hook: Callable[[int], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``commit_hook(last_seq)``: called inside every publishing transaction after its seqs were
        taken and before it commits, on the writer's thread (to watch or delay commits: the
        ordering tests hold one writer there to show that no later seq overtakes it). ``clock``:
        the server's clock (aware instants; default the wall clock) — the embedded demo runs its
        server on the demo clock its terminal and simulator share, so that the server time a
        terminal measures its clock against and the times the server stamps are the demo's."""
        self.clock: Callable[[], datetime] = clock or _wall_clock
        self.url = database_url(url)
        self.engine = _make_engine(self.url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        if self.is_postgres:
            self._writer: Engine = self.engine
            self._reader: Engine = self.engine.execution_options(isolation_level="REPEATABLE READ")
        else:
            self._writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
            self._reader = self.engine
        self.judge = Judge()
        self._local_writer: AbstractContextManager[Any] = nullcontext() if self.is_postgres else threading.Lock()
        self._commit_hook = commit_hook
        self._cursor_key = b""
        try:
            metadata.create_all(self.engine)
            self._init_state()
        except Exception:
            self.engine.dispose()
            raise

    def _init_state(self) -> None:
        with self._writer.begin() as c:
            if self.is_postgres:
                c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            row = c.execute(select(server_state.c.schema_version)).first()
            if row is None:
                epoch = secrets.token_hex(16)
                c.execute(
                    insert(server_state).values(
                        id=1,
                        epoch=epoch,
                        last_seq=0,
                        floor=0,
                        schema_version=SCHEMA_VERSION,
                        created_at=self.clock(),
                    )
                )
                log.info("new server database at %s, epoch %s", self.url.render_as_string(hide_password=True), epoch)
            elif row.schema_version == 1:
                self._migrate_1_to_2(c)
            elif row.schema_version != SCHEMA_VERSION:
                raise RuntimeError(f"database schema {row.schema_version}, this server needs {SCHEMA_VERSION}")
            key = c.execute(select(server_secrets.c.cursor_key).where(server_secrets.c.id == 1)).scalar_one_or_none()
            if key is None:
                key = secrets.token_hex(32)
                c.execute(insert(server_secrets).values(id=1, cursor_key=key))
            self._cursor_key = bytes.fromhex(key)

    def _migrate_1_to_2(self, c: Connection) -> None:
        """Schema 1 → 2: action ids unique per terminal instead of globally (server_secrets, the
        other change, is a new table that ``create_all`` made)."""
        if self.is_postgres:
            c.execute(text("ALTER TABLE actions DROP CONSTRAINT IF EXISTS actions_id_key"))
            c.execute(text("CREATE UNIQUE INDEX ux_actions_terminal_id ON actions (terminal_id, id)"))
        else:  # SQLite cannot drop a table's UNIQUE: the table is rebuilt
            cols = ", ".join(col.name for col in actions.columns)
            c.execute(text("DROP INDEX IF EXISTS ix_actions_warning"))
            c.execute(text("ALTER TABLE actions RENAME TO actions_v1"))
            actions.create(c)
            c.execute(text(f"INSERT INTO actions ({cols}) SELECT {cols} FROM actions_v1"))
            c.execute(text("DROP TABLE actions_v1"))
        c.execute(update(server_state).where(server_state.c.id == 1).values(schema_version=SCHEMA_VERSION))
        log.info("server database migrated to schema %d: action ids are unique per terminal", SCHEMA_VERSION)

    @contextmanager
    def write(self) -> Iterator[WriteTx]:
        """A write transaction, committed (durably) when the block ends.

        On SQLite, writers of this process queue on a lock first: SQLite's own busy handler
        makes a waiting writer sleep in steps of up to 100 ms, which shows as tail latency."""
        with self._local_writer, self._writer.begin() as c:
            yield WriteTx(self, c)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._reader.begin() as c:
            yield c

    def close(self) -> None:
        self.engine.dispose()

    # -- state ------------------------------------------------------------------------------------
    @property
    def epoch(self) -> str:
        with self.read() as c:
            return str(c.execute(select(server_state.c.epoch)).scalar_one())

    @property
    def last_seq(self) -> int:
        with self.read() as c:
            return int(c.execute(select(server_state.c.last_seq)).scalar_one())

    def new_epoch(self) -> str:
        """Start a new epoch (after restoring a backup): every cursor answers 410 epoch_mismatch."""
        epoch = secrets.token_hex(16)
        with self.write() as tx:
            tx.lock()
            tx.c.execute(update(server_state).where(server_state.c.id == 1).values(epoch=epoch))
        log.info("new epoch %s: every terminal pulls from the beginning", epoch)
        return epoch

    def compact(self, before_seq: int) -> int:
        """Drop tombstones and scope exits below ``before_seq``; cursors below it then answer 410
        cursor_expired (a full pull needs neither). Returns the number of rows removed."""
        with self.write() as tx:
            tx.lock()
            before = min(before_seq, tx.last_seq + 1)
            n = tx.c.execute(delete(records).where(and_(records.c.deleted.is_(True), records.c.seq < before))).rowcount
            n += tx.c.execute(delete(scope_exits).where(scope_exits.c.seq < before)).rowcount
            floor = tx.c.execute(select(server_state.c.floor)).scalar_one()
            tx.c.execute(update(server_state).where(server_state.c.id == 1).values(floor=max(floor, before - 1)))
        log.info("compacted below seq %d: %d row(s) removed", before, n)
        return int(n)

    # -- publishing -------------------------------------------------------------------------------
    def publish(self, changes: Sequence[Mapping[str, Any]]) -> int:
        """Publish changes ``{"type", "id", "op", "data"}`` in one transaction; the server assigns
        versions and seqs (any given are ignored). Returns the last seq."""
        prepared = [prepare_change(i, ch) for i, ch in enumerate(changes)]
        with self.write() as tx:
            tx.lock()
            tx.prefetch((p.type, p.id) for p in prepared)
            for i, p in enumerate(prepared):
                try:
                    tx.put(p.type, p.id, p.op, p.data, p.text)
                except ValueError as e:
                    raise ValueError(f"changes[{i}] ({p.type} {p.id!r}): {e}") from None
            last = tx.finish()
        return last

    # -- terminals --------------------------------------------------------------------------------
    def add_terminal(self, name: str, role: str, scope: str) -> str:
        """Register a terminal; returns its new token (only its SHA-256 is stored)."""
        if role not in ROLES:
            raise ValueError(f"role must be operator or leader, not {role!r}")
        if not name.strip() or len(name) > 200:
            raise ValueError("a terminal needs a name of 1 to 200 characters")
        token = secrets.token_urlsafe(32)
        tid = "term-" + secrets.token_hex(6)
        with self.write() as tx:
            tx.lock()
            org = tx.row("org_unit", scope)
            if org is None or org.deleted:
                raise ValueError(f"no org unit {scope!r}: a terminal's scope must be an existing org unit")
            tx.c.execute(
                insert(terminals).values(
                    id=tid,
                    name=name,
                    role=role,
                    scope=scope,
                    token_sha256=_token_hash(token),
                    created_at=tx.now,
                    published_at=tx.now,
                )
            )
            self._publish_terminal(tx, tid, name, role, None, None)
            tx.finish()
        log.info("terminal %s added: %s, %s, scope %s", tid, name, role, scope)
        return token

    @staticmethod
    def _publish_terminal(
        tx: WriteTx, tid: str, name: str, role: str, relay_url: str | None, last_seen: datetime | None
    ) -> None:
        data = {
            "name": name,
            "role": role,
            "relay_url": relay_url,
            "last_seen": None if last_seen is None else server_time(last_seen),
        }
        tx.put("terminal", tid, "upsert", data, json.dumps(data, ensure_ascii=False, separators=(",", ":")))

    def authenticate(self, token: str) -> Terminal | None:
        with self.read() as c:
            t = terminals.c
            row = c.execute(select(t.id, t.name, t.role, t.scope).where(t.token_sha256 == _token_hash(token))).first()
        return None if row is None else Terminal(row.id, row.name, row.role, row.scope)

    def terminals(self) -> list[dict[str, Any]]:
        """Every registered terminal (no token hashes), for admins and test oracles."""
        t = terminals.c
        with self.read() as c:
            rows = c.execute(
                select(t.id, t.name, t.role, t.scope, t.created_at, t.last_seen, t.relay_url).order_by(t.created_at)
            ).all()
        return [dict(r._mapping) for r in rows]

    def heartbeat(
        self, terminal: Terminal, *, relay_url: str | None, relay_given: bool, status: Mapping[str, Any]
    ) -> datetime:
        """Note a terminal's heartbeat. Its `terminal` record (and its row: ``last_seen``, the
        cameras and warning counts) is written only when the relay URL changed or ``last_seen``
        there is older than a minute: fifty terminals polling must neither flood the feed nor
        queue fifty writes a round behind the database's write lock."""
        now = self.clock()
        t = terminals.c
        with self.read() as c:
            row = c.execute(select(t.relay_url, t.published_at, t.last_seen).where(t.id == terminal.id)).first()
        if row is None:
            raise Refusal(401, "unauthorized", "this terminal is no longer registered")
        relay = relay_url if relay_given else row.relay_url
        # A terminal never heard from before (its record made by add_terminal) is published at once.
        if (relay == row.relay_url and row.published_at is not None and row.last_seen is not None
                and _fresh(now - row.published_at)):
            return now
        with self.write() as tx:
            # Again under the lock: another heartbeat of the same terminal may just have written it.
            row = tx.c.execute(select(t.relay_url, t.published_at, t.last_seen).where(t.id == terminal.id)).first()
            if row is None:
                raise Refusal(401, "unauthorized", "this terminal is no longer registered")
            fresh = (row.published_at is not None and row.last_seen is not None
                     and _fresh(tx.now - row.published_at))
            if relay != row.relay_url or not fresh:
                tx.lock()
                self._publish_terminal(tx, terminal.id, terminal.name, terminal.role, relay, tx.now)
                tx.c.execute(
                    update(terminals)
                    .where(t.id == terminal.id)
                    .values(
                        last_seen=tx.now,
                        relay_url=relay,
                        published_at=tx.now,
                        status=json.dumps(dict(status), ensure_ascii=False, default=str),
                    )
                )
            tx.finish()
        return tx.now

    # -- the feed ---------------------------------------------------------------------------------
    def changes(self, terminal: Terminal, cursor: str | None, limit: int = DEFAULT_LIMIT) -> FeedPage:
        """One page of the change feed as the terminal may see it."""
        if not 1 <= limit <= MAX_LIMIT:
            raise Refusal(400, "bad_limit", f"limit must be between 1 and {MAX_LIMIT}")
        after = 0
        base: int | None = None
        given = decode_cursor(self._cursor_key, cursor) if cursor is not None else None
        with self.read() as c:
            st = c.execute(select(server_state.c.epoch, server_state.c.last_seq, server_state.c.floor)).one()
            if given is None:
                base = st.floor  # a pull from scratch needs no tombstone: note the floor it began under
            else:
                epoch, after, base = given
                if epoch != st.epoch:
                    raise Refusal(410, "epoch_mismatch", "the server's epoch changed: pull again from the beginning")
                # Below the floor is fine for a pull that began from scratch under this floor: no
                # tombstone it could need has been dropped since (a later compaction raises it).
                if after < st.floor and (base is None or base < st.floor):
                    raise Refusal(410, "cursor_expired", "the cursor is older than the kept history: pull again")
                if after > st.last_seq:
                    raise Refusal(410, "cursor_expired", "the cursor lies ahead of this server: pull again")
            scope = scope_path(c, terminal.scope)
            hi = upper_bound(scope)
            r, e = records.c, scope_exits.c
            # Walk the feed in seq order from the cursor and filter by scope: a poll costs what
            # changed since the cursor, whatever the size of the scope. (With a plain condition
            # on path, SQLite picks the path index, reads the whole scope and sorts it.)
            # (coalesce: NULL — the global types — counts as inside; and being an expression, it
            # keeps the planners off the path index.)
            in_scope = func.coalesce(r.path, scope)
            recs = c.execute(
                select(r.seq, r.type, r.id, r.version, r.deleted, r.data)
                .where(and_(r.seq > after, in_scope >= scope, in_scope < hi))
                .order_by(r.seq)
                .limit(limit + 1)
            ).all()
            out: list[tuple[int, str]] = [
                (seq, change_json(seq, rtype, rid, version, None if deleted else data))
                for seq, rtype, rid, version, deleted, data in recs
            ]
            if given is not None:  # a pull from the beginning has nothing to delete
                exits = c.execute(
                    select(e.seq, e.type, e.id, r.version)
                    .select_from(scope_exits.join(records, and_(r.type == e.type, r.id == e.id)))
                    .where(
                        and_(
                            e.seq > after,
                            e.old_path >= scope,
                            e.old_path < hi,
                            not_(and_(r.path >= scope, r.path < hi)),
                        )
                    )
                    .order_by(e.seq)
                    .limit(limit + 1)
                ).all()
                if exits:
                    out.extend((x.seq, change_json(x.seq, x.type, x.id, x.version, None)) for x in exits)
                    out.sort(key=lambda p: p[0])
            has_more = len(out) > limit
            page = out[:limit]
            # The whole snapshot up to last_seq was looked at when nothing is left over.
            next_seq = page[-1][0] if has_more else max(st.last_seq, after)
        return FeedPage(st.epoch, [j for _, j in page], self.encode_cursor(st.epoch, next_seq, base), has_more)

    def encode_cursor(self, epoch: str, seq: int, base: int | None = None) -> str:
        """A cursor signed with this server's key (what ``next_cursor`` carries)."""
        return encode_cursor(self._cursor_key, epoch, seq, base)

    # -- oracles ----------------------------------------------------------------------------------
    def current(self, type: str | None = None) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        """Live records → (version, data)."""
        r = records.c
        q = select(r.type, r.id, r.version, r.data).where(r.deleted.is_(False))
        if type is not None:
            q = q.where(r.type == type)
        with self.read() as c:
            return {(x.type, x.id): (x.version, json.loads(x.data)) for x in c.execute(q)}

    def actions(self) -> list[dict[str, Any]]:
        """Every received action: id, terminal, type, status, code, message, warning, received_at."""
        a = actions.c
        with self.read() as c:
            rows = c.execute(
                select(
                    a.id, a.terminal, a.terminal_id, a.type, a.status, a.code, a.message, a.warning, a.received_at
                ).order_by(a.n)
            ).all()
        return [dict(x._mapping) for x in rows]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
