"""Applying ``GET /changes`` pages to the store — shared by ``import`` and the sync engine.

A page is checked completely before anything is written: every change is validated on its own
(its envelope, then its ``data`` against the record type), and an error names the change by its
position, type, id and seq, and the field. Unknown types are skipped and counted (forward
compatibility). Upserts apply only when their version is higher than the stored one; deletes
leave tombstones with their version.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from supervision.foreground import give_way
from supervision.records import DATA_MODELS, REFERENCES, Change, ChangesPage
from supervision.store.db import Store
from supervision.store.models import RECORD_TABLES, AuditEntry, RecordBase

log = logging.getLogger(__name__)

DEFAULT_MAX_IMPORT_BYTES = 512 * 1024 * 1024
_CHUNK = 500
_META_COLUMNS = frozenset({"id", "version", "deleted", "seq", "origin"})


class ChangeError(ValueError):
    """A page or one of its changes is malformed; the message names which and where."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


@dataclass(frozen=True, slots=True)
class ValidChange:
    seq: int
    type: str
    id: str
    op: str
    version: int
    values: dict[str, Any] | None  # column values for an upsert, None for a delete


_NO_IDS: Mapping[str, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class AppliedRecord:
    """A record as an applied change left it in the store: the values of its data columns as
    written (``ValidChange.values``; None for a tombstone) and whether its row is new (``inserted``:
    no row with its id was there, so the columns the terminal derives hold their defaults)."""

    values: Mapping[str, Any] | None
    inserted: bool = False


_NO_RECORDS: Mapping[str, Mapping[str, AppliedRecord]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ChangedIds:
    """The ids of the records a page (or a local act) changed, by record type: every upsert and
    delete actually applied, not the stale ones. Immutable, safe to hand to another thread.

    ``records`` (when the applier kept them: ``apply_changes(records=True)``, as the sync engine
    does) holds, by type and id, the records as they were applied, so that a reader (the warning
    monitor) can take them instead of reading them back; an id changed without its record (a
    local act) is read back."""

    by_type: Mapping[str, frozenset[str]] = field(default_factory=lambda: _NO_IDS)
    records: Mapping[str, Mapping[str, AppliedRecord]] = field(default_factory=lambda: _NO_RECORDS)

    @classmethod
    def of(
        cls,
        by_type: Mapping[str, Iterable[str]],
        records: Mapping[str, Mapping[str, AppliedRecord]] | None = None,
    ) -> ChangedIds:
        """Built from any mapping of record type to ids (empty sets are left out), and the records
        of some of those ids."""
        ids = MappingProxyType({t: frozenset(i) for t, i in by_type.items() if i})
        if not records:
            return cls(ids)
        kept = {t: {i: r for i, r in recs.items() if i in ids.get(t, ())} for t, recs in records.items()}
        return cls(ids, MappingProxyType({t: MappingProxyType(recs) for t, recs in kept.items() if recs}))

    def ids(self, record_type: str) -> frozenset[str]:
        return self.by_type.get(record_type, frozenset())

    def record(self, record_type: str, record_id: str) -> AppliedRecord | None:
        """The record as applied (None: changed without it, or not changed)."""
        recs = self.records.get(record_type)
        return None if recs is None else recs.get(record_id)

    def merge(self, other: ChangedIds) -> ChangedIds:
        """These changes followed by ``other``'s. A record stays only if every change of its id
        came with one (the later one's values; inserted if either was)."""
        if not other.by_type:
            return self
        if not self.by_type:
            return other
        out = {t: set(ids) for t, ids in self.by_type.items()}
        for t, ids in other.by_type.items():
            out.setdefault(t, set()).update(ids)
        if not self.records and not other.records:
            return ChangedIds.of(out)
        records: dict[str, dict[str, AppliedRecord]] = {}
        for t in self.records.keys() | other.records.keys():
            mine, theirs = self.records.get(t, _NO_IDS_RECORDS), other.records.get(t, _NO_IDS_RECORDS)
            named_mine, named_theirs = self.ids(t), other.ids(t)
            merged = {i: r for i, r in mine.items() if i not in named_theirs}
            for i, r in theirs.items():
                prev = mine.get(i)
                if prev is None and i in named_mine:
                    continue  # changed before without its record: read back
                if prev is not None and prev.inserted and not r.inserted:
                    r = AppliedRecord(r.values, True)  # its row is new since the last pass
                merged[i] = r
            records[t] = merged
        return ChangedIds.of(out, records)

    def __len__(self) -> int:
        return sum(len(ids) for ids in self.by_type.values())

    def __bool__(self) -> bool:
        return any(self.by_type.values())


_NO_IDS_RECORDS: Mapping[str, AppliedRecord] = MappingProxyType({})


@dataclass(slots=True)
class ApplyReport:
    upserted: int = 0
    deleted: int = 0
    stale: int = 0  # not newer than what the store has
    unknown: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    changed: ChangedIds = field(default_factory=ChangedIds)  # the ids applied, for the warning monitor

    @property
    def applied(self) -> int:
        return self.upserted + self.deleted

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": self.applied,
            "upserted": self.upserted,
            "deleted": self.deleted,
            "stale": self.stale,
            "unknown_types": dict(self.unknown),
            "by_type": dict(self.by_type),
        }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: An error line is at most this long: a 100 000-character id is cut, not printed whole.
MAX_LINE = 500


def _show(v: Any, limit: int = 80) -> str:
    """A value a file sent, safe to print on one line: control and bidi characters and lone
    surrogates escaped (as repr does), cut to ``limit`` characters."""
    if isinstance(v, str) and v.isprintable():
        try:
            v.encode("utf-8")
            return _clip(v, limit)
        except UnicodeEncodeError:
            pass
    return _clip(repr(v), limit)


def _describe(index: int, raw: Any) -> str:
    if isinstance(raw, dict):
        t, i, s = raw.get("type"), raw.get("id"), raw.get("seq")
        return f"changes[{index}] ({_show(t, 40)} {_clip(repr(i), 80)}, seq {_show(s, 30)})"
    return f"changes[{index}]"


def _fmt_errors(where: str, err: ValidationError, prefix: str) -> list[str]:
    out = []
    for e in err.errors(include_url=False):
        loc = ".".join(_show(p, 60) if isinstance(p, str) else str(p) for p in (prefix, *e["loc"]) if p != "")
        out.append(_clip(f"{where}: {loc}: {e['msg']}", MAX_LINE))
    return out


_COLUMNS: dict[str, tuple[list[str], list[str]]] = {}


def _columns(record_type: str) -> tuple[list[str], list[str]]:
    """(plain data columns, JSON data columns) of a record type's table."""
    got = _COLUMNS.get(record_type)
    if got is None:
        cls = RECORD_TABLES[record_type]
        # Columns the terminal derives itself (the monitor's due dates and level) are never synced.
        names = [c.name for c in cls.__table__.columns if c.name not in _META_COLUMNS | cls.derived_fields]
        got = ([n for n in names if n not in cls.json_fields], [n for n in names if n in cls.json_fields])
        _COLUMNS[record_type] = got
    return got


def column_values(record_type: str, data: BaseModel) -> dict[str, Any]:
    plain, js = _columns(record_type)
    values: dict[str, Any] = {}
    for name in plain:
        v = getattr(data, name, None)
        values[name] = str(v) if isinstance(v, Enum) else v
    if js:
        dumped = data.model_dump(mode="json", by_alias=True, include=set(js))
        for name in js:
            values[name] = dumped.get(name)
    return values


def validate_changes(
    raw_changes: Iterable[Any], *, reject_duplicates: bool = False, max_problems: int = 20, consume: bool = False
) -> tuple[list[ValidChange], Counter[str]]:
    """Check every change; return the valid ones and the count of unknown types skipped.

    Raises ``ChangeError`` listing (up to ``max_problems``) what is wrong, if anything is; it stops
    looking after ``max_problems``. ``consume``: each raw change (of a list) is replaced by None once
    checked, so a big file is not held twice, as parsed JSON and as validated values.
    """
    problems: list[str] = []
    out: list[ValidChange] = []
    unknown: Counter[str] = Counter()
    seen_ids: set[tuple[str, str]] = set()
    seen_seq: set[int] = set()
    mutable = raw_changes if consume and isinstance(raw_changes, list) else None
    for i, raw in enumerate(raw_changes):
        if len(problems) >= max_problems:
            break
        give_way()
        if mutable is not None:
            mutable[i] = None
        where = _describe(i, raw)
        if not isinstance(raw, dict):
            problems.append(f"{where}: a change must be a JSON object, not {type(raw).__name__}")
            continue
        try:
            ch = Change.model_validate(raw)
        except ValidationError as e:
            problems.extend(_fmt_errors(where, e, ""))
            continue
        if reject_duplicates:
            if (ch.type, ch.id) in seen_ids:
                problems.append(f"{where}: duplicate record: {ch.type} {ch.id!r} appears twice in this file")
                continue
            if ch.seq in seen_seq:
                problems.append(f"{where}: duplicate seq {ch.seq}")
                continue
            seen_ids.add((ch.type, ch.id))
            seen_seq.add(ch.seq)
        model = DATA_MODELS.get(ch.type)
        if model is None or ch.type not in RECORD_TABLES:
            unknown[ch.type] += 1
            continue
        if ch.op == "delete":
            out.append(ValidChange(ch.seq, ch.type, ch.id, "delete", ch.version, None))
            continue
        if ch.data is None:
            problems.append(f"{where}: data: an upsert needs its data object")
            continue
        try:
            data = model.model_validate(ch.data)
        except ValidationError as e:
            problems.extend(_fmt_errors(where, e, "data"))
            continue
        out.append(ValidChange(ch.seq, ch.type, ch.id, "upsert", ch.version, column_values(ch.type, data)))
    if problems:
        problems = [_clip(p, MAX_LINE) for p in problems[:max_problems]]
        more = "" if len(problems) < max_problems else f" (stopped after {max_problems} problems)"
        raise ChangeError(_clip(f"{len(problems)} bad change(s){more}; first: {problems[0]}", MAX_LINE), problems)
    return out, unknown


def check_references(session: Session, changes: Sequence[ValidChange], *, max_problems: int = 20) -> None:
    """Refuse references a file leaves dangling: a record naming one that is neither upserted in the
    same file nor stored (a ``window`` whose ``hall_id`` names no ``org_unit``). Raises ``ChangeError``
    naming both records."""
    in_file = {(c.type, c.id) for c in changes if c.op == "upsert"}
    wanted: dict[tuple[str, str], list[tuple[ValidChange, str]]] = {}
    for c in changes:
        if c.values is None:
            continue
        for fld, target in REFERENCES.get(c.type, ()):
            ref = c.values.get(fld)
            if isinstance(ref, str) and (target, ref) not in in_file:
                wanted.setdefault((target, ref), []).append((c, fld))
    if not wanted:
        return
    missing = set(wanted)
    by_type: dict[str, list[str]] = {}
    for target, ref in wanted:
        by_type.setdefault(target, []).append(ref)
    for target, refs in by_type.items():
        table: Table = RECORD_TABLES[target].__table__  # type: ignore[assignment]
        for start in range(0, len(refs), _CHUNK):
            chunk = refs[start : start + _CHUNK]
            for (found,) in session.execute(select(table.c.id).where(table.c.id.in_(chunk),
                                                                     table.c.deleted.is_(False))):
                missing.discard((target, found))
    if not missing:
        return
    problems: list[str] = []
    for target, ref in sorted(missing):
        for c, fld in wanted[(target, ref)]:
            problems.append(_clip(f"{c.type} {_clip(repr(c.id), 80)} (seq {c.seq}): {fld} names {target} "
                                  f"{_clip(repr(ref), 80)}, which is neither in this file nor in the store", MAX_LINE))
            if len(problems) >= max_problems:
                break
        if len(problems) >= max_problems:
            break
    more = "" if len(problems) < max_problems else f" (stopped after {max_problems} problems)"
    raise ChangeError(_clip(f"{len(problems)} dangling reference(s){more}; first: {problems[0]}", MAX_LINE), problems)


def _upsert_stmt(session: Session, table: Table, rows: list[dict[str, Any]]) -> Any:
    dialect = session.get_bind().dialect.name
    ins: Any
    if dialect == "sqlite":
        ins = sqlite.insert(table)
    elif dialect == "postgresql":
        ins = postgresql.insert(table)
    else:  # pragma: no cover - only the two supported backends
        raise RuntimeError(f"unsupported database {dialect}")
    cols = [c for c in rows[0] if c != "id"]
    return ins.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={c: ins.excluded[c] for c in cols},
        where=table.c.version < ins.excluded.version,
    )


def apply_changes(session: Session, changes: Iterable[ValidChange], *, records: bool = False) -> ApplyReport:
    """Apply validated changes in the caller's transaction (version rule, tombstones). The report
    names the ids applied (``changed``) so that warnings can be re-judged for those alone; with
    ``records``, also the records as applied (``ChangedIds.records``: the warning monitor takes
    them instead of reading them back; they hold the changes' values, no copy)."""
    report = ApplyReport()
    applied: dict[str, list[str]] = {}
    kept: dict[str, dict[str, AppliedRecord]] = {}
    latest: dict[tuple[str, str], ValidChange] = {}
    for ch in changes:
        key = (ch.type, ch.id)
        prev = latest.get(key)
        if prev is None or ch.version > prev.version:
            if prev is not None:
                report.stale += 1
            latest[key] = ch
        else:
            report.stale += 1
    by_type: dict[str, list[ValidChange]] = {}
    for ch in latest.values():
        by_type.setdefault(ch.type, []).append(ch)
    for rtype, chs in by_type.items():
        cls: type[RecordBase] = RECORD_TABLES[rtype]
        table: Table = cls.__table__  # type: ignore[assignment]
        plain, js = _columns(rtype)
        empty = dict.fromkeys(plain + js)
        for start in range(0, len(chs), _CHUNK):
            chunk = chs[start : start + _CHUNK]
            ids = [c.id for c in chunk]
            # The stored versions give exact counts; the upsert's own version guard keeps it right even
            # if another writer slips in between (PostgreSQL, READ COMMITTED).
            stored = dict(session.execute(select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())
            rows: list[dict[str, Any]] = []
            for c in chunk:
                give_way()
                have = stored.get(c.id)
                if have is not None and have >= c.version:
                    report.stale += 1
                    continue
                row = {"id": c.id, "version": c.version, "seq": c.seq, "deleted": c.op == "delete"}
                row.update(c.values if c.values is not None else empty)
                if "origin" in table.c:
                    row["origin"] = "synced"
                rows.append(row)
                applied.setdefault(rtype, []).append(c.id)
                if records:
                    values = None if c.values is None else MappingProxyType(c.values)
                    kept.setdefault(rtype, {})[c.id] = AppliedRecord(values, have is None)
                if c.op == "delete":
                    report.deleted += 1
                else:
                    report.upserted += 1
                report.by_type[rtype] += 1
            if rows:
                give_way()
                session.execute(_upsert_stmt(session, table, rows), rows)
    report.changed = ChangedIds.of(applied, kept)
    return report


class DuplicateKeyError(ValueError):
    """A JSON object names one key twice (the last would silently win: ``org-liaoning`` became ``org-evil``)."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for k, _v in pairs:
            if k in seen:
                where = f" in the object with id {_clip(repr(obj['id']), 80)}" if isinstance(obj.get("id"), str) else ""
                raise DuplicateKeyError(f"the key {_show(k, 60)} appears twice{where}")
            seen.add(k)
    return obj


def parse_page(raw: bytes | str, *, source: str = "body") -> ChangesPage:
    """Parse a ``GET /changes`` body; errors say where the JSON breaks or which field is wrong."""
    try:
        obj = json.loads(raw, object_pairs_hook=_unique_keys)
    except DuplicateKeyError as e:
        raise ChangeError(f"{source} is refused: {e}") from None
    except json.JSONDecodeError as e:
        raise ChangeError(f"{source} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except UnicodeDecodeError as e:
        raise ChangeError(f"{source} is not UTF-8 text: {e.reason} at byte {e.start}") from None
    except RecursionError:
        raise ChangeError(f"{source} is not a change page: its JSON is nested too deeply") from None
    except ValueError as e:  # an integer of thousands of digits (Python's int_max_str_digits)
        raise ChangeError(f"{source} is not a change page: {_clip(str(e).split(';')[0], 200)}") from None
    if not isinstance(obj, dict):
        raise ChangeError(f"{source}: expected a JSON object with 'epoch' and 'changes', got {type(obj).__name__}")
    # The envelope is validated without its changes: pydantic would copy a list of a million
    # elements (and make one error each); the changes are checked one by one by validate_changes.
    changes = obj.get("changes")
    envelope = {k: v for k, v in obj.items() if k != "changes"}
    if "changes" in obj:
        envelope["changes"] = [] if isinstance(changes, list) else changes
    try:
        page = ChangesPage.model_validate(envelope)
    except ValidationError as e:
        problems = _fmt_errors(source, e, "")
        raise ChangeError(problems[0], problems) from None
    return page.model_copy(update={"changes": changes})


@dataclass(frozen=True, slots=True)
class ImportReport:
    path: str
    total: int
    report: ApplyReport

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.path, "changes": self.total, **self.report.as_dict()}


def import_file(store: Store, path: Path, *, max_bytes: int = DEFAULT_MAX_IMPORT_BYTES) -> ImportReport:
    """Import a file holding a ``GET /changes`` body: all of it, or nothing."""
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ChangeError(f"cannot read {path}: {e.strerror}") from None
    if size > max_bytes:
        raise ChangeError(
            f"{path} is {size / 2**20:.0f} MiB, above the import limit of {max_bytes / 2**20:.0f} MiB "
            "(raise [import] max_bytes in the config to import it)"
        )
    source = str(path)
    # Decoded first, so the bytes are freed before the JSON is read; then the changes are read and
    # checked one at a time, so the parsed JSON of the whole file never exists beside the checked
    # values (memory stays a few times the file's size).
    text = _decode(path.read_bytes(), source)
    envelope: dict[str, Any] = {}
    counted = _Counted(_stream_changes(text, source, envelope))
    valid, unknown = validate_changes(counted, reject_duplicates=True)
    total = counted.n
    del text, counted  # (the reader holds the text): freed before the store is written
    try:
        page = ChangesPage.model_validate(envelope)
    except ValidationError as e:
        problems = _fmt_errors(source, e, "")
        raise ChangeError(problems[0], problems) from None
    return _import_valid(store, valid, unknown, page.epoch, total, source)


class _Counted:
    """An iterator that counts what it hands out."""

    def __init__(self, it: Iterator[Any]) -> None:
        self._it, self.n = it, 0

    def __iter__(self) -> Iterator[Any]:
        for x in self._it:
            self.n += 1
            yield x


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder(object_pairs_hook=lambda pairs: _unique_keys(pairs))


def _stream_changes(text: str, source: str, envelope: dict[str, Any]) -> Iterator[Any]:
    """The elements of a change page's ``changes`` array, parsed one at a time; the page's other
    members go into ``envelope`` (``changes`` as an empty list when it is an array). Errors as
    :func:`parse_page` words them."""
    try:
        yield from _members(text, envelope)
    except DuplicateKeyError as e:
        raise ChangeError(f"{source} is refused: {e}") from None
    except json.JSONDecodeError as e:
        raise ChangeError(f"{source} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise ChangeError(f"{source} is not a change page: its JSON is nested too deeply") from None
    except _NotAnObject as e:
        raise ChangeError(f"{source}: expected a JSON object with 'epoch' and 'changes', got {e}") from None
    except ValueError as e:  # an integer of thousands of digits (Python's int_max_str_digits)
        raise ChangeError(f"{source} is not a change page: {_clip(str(e).split(';')[0], 200)}") from None


class _NotAnObject(ValueError):
    pass


def _members(text: str, envelope: dict[str, Any]) -> Iterator[Any]:
    def skip(i: int) -> int:
        m = _WS.match(text, i)
        return m.end() if m else i

    def expect(i: int, ch: str, what: str) -> int:
        i = skip(i)
        if text[i : i + 1] != ch:
            raise json.JSONDecodeError(f"Expecting {what}", text, i)
        return i + 1

    i = skip(0)
    if text[i : i + 1] != "{":
        value, _ = _DECODER.raw_decode(text, i)  # (its own JSON error when it is not JSON at all)
        raise _NotAnObject(type(value).__name__)
    i = skip(i + 1)
    if text[i : i + 1] == "}":
        i += 1
    else:
        while True:
            key, i = _DECODER.raw_decode(text, skip(i))
            if not isinstance(key, str):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, i)
            if key in envelope:
                raise DuplicateKeyError(f"the key {_show(key, 60)} appears twice")
            i = skip(expect(i, ":", "':' delimiter"))
            if key == "changes" and text[i : i + 1] == "[":
                envelope[key] = []
                i = skip(i + 1)
                if text[i : i + 1] == "]":
                    i += 1
                else:
                    while True:
                        element, i = _DECODER.raw_decode(text, i)
                        yield element
                        i = skip(i)
                        if text[i : i + 1] == "]":
                            i += 1
                            break
                        i = skip(expect(i, ",", "',' delimiter"))
            else:
                envelope[key], i = _DECODER.raw_decode(text, i)
            i = skip(i)
            if text[i : i + 1] == "}":
                i += 1
                break
            i = expect(i, ",", "',' delimiter")
    if skip(i) != len(text):
        raise json.JSONDecodeError("Extra data", text, skip(i))


def _decode(raw: bytes, source: str) -> str:
    """The text of a JSON file, as ``json.loads`` would read the bytes (UTF-8, or UTF-16/32 with a BOM)."""
    try:
        return raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as e:
        raise ChangeError(f"{source} is not UTF-8 text: {e.reason} at byte {e.start}") from None


def import_page(store: Store, page: ChangesPage, *, source: str) -> ImportReport:
    """Import a parsed ``GET /changes`` body: all of it, or nothing (``source`` names it).

    The page's changes are used up (each replaced by None once checked) to keep memory down."""
    total = len(page.changes)
    valid, unknown = validate_changes(page.changes, reject_duplicates=True, consume=True)  # (page is used up)
    return _import_valid(store, valid, unknown, page.epoch, total, source)


def _import_valid(
    store: Store, valid: list[ValidChange], unknown: Counter[str], epoch: str, total: int, source: str
) -> ImportReport:
    name = Path(source).name
    with store.write() as s:
        check_references(s, valid)
        report = apply_changes(s, valid)
        report.unknown.update(unknown)
        s.add(
            AuditEntry(
                at=datetime.now(UTC),
                actor="import",
                action="import",
                subject=name,
                detail={"epoch": epoch, **report.as_dict()},
            )
        )
    log.info("imported %s: %d applied, %d stale, %d unknown", name, report.applied, report.stale, sum(unknown.values()))
    return ImportReport(source, total, report)
