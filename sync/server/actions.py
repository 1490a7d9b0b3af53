"""``POST /actions``: validating each action, the warning state machine, the audit rows.

Each action gets exactly one result, in order: ``applied``, ``duplicate`` (this terminal sent
this id, with this content, before — ids are kept for good) or ``rejected`` with a code:

===================  ===================================================================
``invalid``          not a well-formed action of a known type (the message names the field)
``unknown_warning``  no such subject, or the rules do not raise that warning at ``at``
``unknown_camera``   ``bookmark.create`` for a camera the server does not have
``unknown_case``     ``case.note`` for a case the server does not have
``forbidden``        the subject lies outside the terminal's scope
``superseded``       another action got there first (the warning is already acknowledged
                     or disposed), or the warning has risen/been raised again since
``id_reused``        this terminal sent this id before with other content (the HTTP status
                     409's meaning, per action): it is neither applied nor dropped silently
===================  ===================================================================

Idempotency ids are unique per terminal: the key is (terminal, id). Another terminal's id is no
concern of this one's: its action is applied on its own. (The record an applied action publishes
is named after the action id; when another terminal's action already took that record id, it is
named ``<id>@<terminal id>``.)

Warning lifecycle per key, as on the terminals: ``active → acknowledged → disposed``; disposing
straight from active is allowed. The first valid transition wins: all actions are applied one at
a time under the feed lock. A warning that rose to a higher level (or was raised again) is a new
episode that starts from active — the episode is when it reached the level it was acted on at,
from the server's own evaluation, or from the action's optional ``since`` (a HallWatch extension)
when the server cannot evaluate it (``POST_LEFT`` from terminal-side analytics).

Every applied ``warning.*`` becomes a ``disposition`` record and every ``bookmark.create`` a
``bookmark`` record (id = the action id), published in the same transaction as the action row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NamedTuple, TypeGuard

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import insert, select, update

from supervision.records import BookmarkData, DispositionData, SeatVacancyData, valid_text
from sync.server.hostile import clean
from sync.server.schema import actions, records, warning_states
from sync.server.scope import split_warning_key, within
from sync.server.store import MAX_ACTIONS, CentralStore, Refusal, Terminal, WriteTx

log = logging.getLogger(__name__)

# An action's `at` further ahead of the server's clock than this is a wrong terminal clock.
MAX_CLOCK_AHEAD = timedelta(hours=12)

# Text fields refuse a NUL (PostgreSQL cannot store one) and lone surrogates, as records do.
Text = Annotated[StrictStr, AfterValidator(valid_text)]
Id = Annotated[Text, Field(min_length=1, max_length=200)]
Note = Annotated[Text, Field(max_length=10_000)]


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty")
    return v


class _Action(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: Id
    type: Text
    at: AwareDatetime
    by: Annotated[Text, Field(max_length=200)] = ""
    note: Note = ""


class _WarningAction(_Action):
    warning: Annotated[Text, Field(min_length=3, max_length=500)]
    by: Annotated[Text, Field(min_length=1, max_length=200)]
    # HallWatch extension: when the warning reached the level the operator saw (names the episode
    # where the server cannot evaluate the warning itself).
    since: AwareDatetime | None = None

    @field_validator("warning")
    @classmethod
    def _key(cls, v: str) -> str:
        subject, code = split_warning_key(v)
        if not subject or not code:
            raise ValueError('a warning key is "<subject id>/<rule code>"')
        return v

    _by = field_validator("by")(_not_blank)


class Acknowledge(_WarningAction):
    type: Literal["warning.acknowledge"]


class Dispose(_WarningAction):
    type: Literal["warning.dispose"]
    measure: Literal["supervise", "correct", "explain"]
    note: Note

    _note = field_validator("note")(_not_blank)


class CreateBookmark(_Action):
    type: Literal["bookmark.create"]
    camera_id: Id


class CaseNote(_Action):
    type: Literal["case.note"]
    case_id: Id
    note: Note

    _note = field_validator("note")(_not_blank)


class SeatVacancyReport(_Action):
    """A terminal's camera saw a window's staff seat empty: reported when the spell starts and again
    (new action id, same ``vacancy_id``) when it ends; published as the ``seat_vacancy`` record
    ``vacancy_id``, the later report winning."""

    type: Literal["seat_vacancy.report"]
    vacancy_id: Id
    window_id: Id
    camera_id: Id
    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> SeatVacancyReport:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("ended_at lies before started_at")
        return self


ACTION_MODELS: dict[str, type[_Action]] = {
    "warning.acknowledge": Acknowledge,
    "warning.dispose": Dispose,
    "bookmark.create": CreateBookmark,
    "case.note": CaseNote,
    "seat_vacancy.report": SeatVacancyReport,
}


class _Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def apply_actions(store: CentralStore, terminal: Terminal, batch: Sequence[Any]) -> list[dict[str, Any]]:
    """Apply a batch of actions in order, one durable transaction; one result per action.

    ``Refusal`` 413 above ``MAX_ACTIONS``; 403 for a leader's ``warning.*`` actions.
    """
    refuse_batch(terminal, batch, MAX_ACTIONS)
    with store.write() as tx:
        tx.lock()  # one action at a time, server-wide: the first valid transition wins
        scope = tx.scope_path(terminal.scope)
        results = apply_batch(tx, terminal, scope, batch)
        tx.finish()
    return results


def refuse_batch(terminal: Terminal, batch: Sequence[Any], max_actions: int) -> None:
    """Refusals of a whole request: too many actions (413), a leader's warning.* (403)."""
    if len(batch) > max_actions:
        raise Refusal(413, "too_many_actions", f"{len(batch)} actions: at most {max_actions} a request")
    if terminal.role == "leader":
        for raw in batch:
            t = raw.get("type") if isinstance(raw, dict) else None
            if isinstance(t, str) and t.startswith("warning."):
                raise Refusal(403, "forbidden", "a leader terminal may not acknowledge or dispose warnings")


class _Received(NamedTuple):
    """What became of an action id received before from this terminal."""

    status: str
    code: str | None
    received_at: datetime
    payload: str  # the action as received (JSON), to tell a resend from a reused id


def _payload(raw: Any) -> str:
    return json.dumps(raw, ensure_ascii=False, default=str)


def _same_content(raw: Any, stored: str) -> bool:
    try:
        return bool(json.loads(_payload(raw)) == json.loads(stored))
    except ValueError:
        return False


def apply_batch(tx: WriteTx, terminal: Terminal, scope: str, batch: Sequence[Any]) -> list[dict[str, Any]]:
    """Apply a batch in order in the caller's (locked) transaction; one result per action.
    The ids received before are read in one query, not one per action."""
    ids = {aid for raw in batch if isinstance(raw, dict) and _valid_id(aid := raw.get("id"))}
    received: dict[str, _Received] = {}
    if ids:
        a = actions.c
        q = select(a.id, a.status, a.code, a.received_at, a.payload).where(
            a.terminal_id == terminal.id, a.id.in_(ids))
        received = {x.id: _Received(x.status, x.code, x.received_at, x.payload) for x in tx.c.execute(q)}
    return [apply_action(tx, terminal, scope, raw, received) for raw in batch]


def _valid_id(aid: object) -> TypeGuard[str]:
    """An id is 1 to 200 characters of text (no NUL; lone surrogates never get this far)."""
    return isinstance(aid, str) and 1 <= len(aid) <= 200 and "\x00" not in aid


def apply_action(
    tx: WriteTx, terminal: Terminal, scope: str, raw: Any, received: dict[str, _Received]
) -> dict[str, Any]:
    """Apply one action in the caller's (locked) transaction; its result. ``received``: the
    batch's ids received before (``apply_batch``), and this one is added to it."""
    aid = raw.get("id") if isinstance(raw, dict) else None
    if not _valid_id(aid):
        return {
            "id": aid if isinstance(aid, str) else None,
            "status": "rejected",
            "code": "invalid",
            "message": "an action needs an id: a string of 1 to 200 characters, without NUL",
        }
    prev = received.get(aid)
    if prev is not None and not _same_content(raw, prev.payload):
        log.warning("action id %s from %s reused for other content: rejected", clean(aid), terminal.id)
        return {
            "id": aid,
            "status": "rejected",
            "code": "id_reused",
            "message": f"this terminal sent the id {aid!r} before, at {prev.received_at.isoformat()}, for another "
            "action: an id names one action; give this one a new id",
        }
    if prev is not None:
        original: dict[str, Any] = {"status": prev.status}
        if prev.code:
            original["code"] = prev.code
        return {
            "id": aid,
            "status": "duplicate",
            "message": f"received before, at {prev.received_at.isoformat()}, and {prev.status}",
            "original": original,
        }
    rtype = raw.get("type") if isinstance(raw, dict) else None
    payload = _payload(raw)
    warning: str | None = None
    try:
        action = _validate(raw)
        if isinstance(action, _WarningAction):
            warning = action.warning
        _check_clock(action, tx.now)
        _apply(tx, terminal, scope, action)
        status, code, message = "applied", None, None
    except _Rejected as r:
        status, code, message = "rejected", r.code, r.message
    tx.c.execute(
        insert(actions).values(
            id=aid,
            terminal_id=terminal.id,
            terminal=terminal.name,
            type=rtype[:60] if isinstance(rtype, str) and "\x00" not in rtype else "",
            status=status,
            code=code,
            message=message,
            warning=warning,
            received_at=tx.now,
            payload=payload,
        )
    )
    received[aid] = _Received(status, code, tx.now, payload)
    # Everything the client chose is escaped: a "\n" in an id must not forge a log line.
    if status == "applied":
        log.info("action %s (%s) from %s applied", clean(aid), clean(rtype, 60), terminal.id)
        return {"id": aid, "status": "applied"}
    log.info("action %s (%s) from %s rejected: %s", clean(aid), clean(rtype, 60), terminal.id, code)
    return {"id": aid, "status": "rejected", "code": code, "message": message}


def _validate(raw: dict[str, Any]) -> _Action:
    rtype = raw.get("type")
    model = ACTION_MODELS.get(rtype) if isinstance(rtype, str) else None
    if model is None:
        raise _Rejected("invalid", f"type: unknown action type {rtype!r} (one of {', '.join(ACTION_MODELS)})")
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in err["loc"])
        raise _Rejected("invalid", f"{loc}: {err['msg']}") from None


def _check_clock(action: _Action, now: datetime) -> None:
    instants: list[tuple[str, datetime | None]] = [("at", action.at)]
    if isinstance(action, SeatVacancyReport):
        instants += [("started_at", action.started_at), ("ended_at", action.ended_at)]
    for name, t in instants:
        if t is not None and t > now + MAX_CLOCK_AHEAD:
            raise _Rejected(
                "invalid", f"{name}: {t.isoformat()} lies ahead of the server's clock: check the terminal's"
            )


def _apply(tx: WriteTx, terminal: Terminal, scope: str, action: _Action) -> None:
    if isinstance(action, _WarningAction):
        _warning_action(tx, terminal, scope, action)
    elif isinstance(action, CreateBookmark):
        _check_subject(tx, "camera", action.camera_id, scope)
        data = BookmarkData(
            camera_id=action.camera_id, at=action.at, note=action.note, by=action.by, terminal=terminal.name
        )
        _publish(tx, "bookmark", _record_id(tx, "bookmark", action.id, terminal), data)
    elif isinstance(action, SeatVacancyReport):
        _seat_vacancy(tx, scope, action)
    elif isinstance(action, CaseNote):
        _check_subject(tx, "case", action.case_id, scope)
        # No record type carries case notes (sync-protocol.md): the note stays in the action log.


def _seat_vacancy(tx: WriteTx, scope: str, action: SeatVacancyReport) -> None:
    """Publish the report as the ``seat_vacancy`` record ``vacancy_id``. A later report wins, except
    that a report of the spell still open never reopens one reported ended (reports of one vacancy
    arrive in order from its terminal; this keeps a late resend harmless). A report naming another
    window, camera or start than the record has is ``invalid``: a vacancy id names one spell."""
    _check_subject(tx, "window", action.window_id, scope)
    row = tx.row("seat_vacancy", action.vacancy_id)
    if row is not None and not row.deleted:
        r = records.c
        current = tx.c.execute(select(r.data).where(r.type == "seat_vacancy", r.id == action.vacancy_id)).scalar()
        if current is not None:
            have = SeatVacancyData.model_validate_json(current)
            if (have.window_id, have.camera_id, have.started_at) != (
                    action.window_id, action.camera_id, action.started_at):
                raise _Rejected("invalid", f"vacancy_id: {action.vacancy_id!r} was reported before with another "
                                "window, camera or start")
            if have.ended_at is not None and action.ended_at is None:
                return  # a resend of the start after the end: nothing changes
            if have.ended_at == action.ended_at:
                return
    data = SeatVacancyData(window_id=action.window_id, camera_id=action.camera_id, started_at=action.started_at,
                           ended_at=action.ended_at)
    _publish(tx, "seat_vacancy", action.vacancy_id, data)


def _check_subject(tx: WriteTx, rtype: str, rid: str, scope: str) -> None:
    """``unknown_<type>`` unless the record is live, ``forbidden`` unless it is inside ``scope``
    (from the transaction's record cache: no query when it was read or written before)."""
    row = tx.row(rtype, rid)
    if row is None or row.deleted or row.path is None:
        raise _Rejected(f"unknown_{rtype}", f"there is no {rtype} {rid!r}")
    if not within(row.path, scope):
        raise _Rejected("forbidden", f"{rtype} {rid!r} is outside this terminal's scope")


def _utc_key(t: datetime) -> str:
    """A sortable text for an instant (the episode column)."""
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def _warning_action(tx: WriteTx, terminal: Terminal, scope: str, action: _WarningAction) -> None:
    key = action.warning
    verdict = tx.store.judge.judge(tx.c, key, action.at)
    if verdict.subject_path is None:
        subject, _ = split_warning_key(key)
        raise _Rejected("unknown_warning", f"no case, ticket or window {subject!r} for warning {key}")
    if not within(verdict.subject_path, scope):
        raise _Rejected("forbidden", f"warning {key} is outside this terminal's scope")
    if not verdict.in_force:
        raise _Rejected("unknown_warning", f"the rules do not raise {key} at {action.at.isoformat()}")
    since = verdict.level_since if verdict.checked and verdict.level_since is not None else action.since
    episode = _utc_key(since) if since is not None else ""
    w = warning_states.c
    st = tx.c.execute(select(w.episode, w.state, w.by, w.at).where(w.key == key)).first()
    state, current = "active", episode
    if st is not None:
        state, current = st.state, st.episode
        if episode and current and episode != current:
            if episode < current:
                raise _Rejected(
                    "superseded", f"warning {key} has risen or been raised again since the state this action acted on"
                )
            state, current = "active", episode  # a new episode starts from active
        elif episode and not current:
            current = episode
    if isinstance(action, Acknowledge) and state != "active":
        raise _Rejected("superseded", f"warning {key} is already {state} (by {st.by if st else '?'})")
    if isinstance(action, Dispose) and state == "disposed":
        raise _Rejected("superseded", f"warning {key} is already disposed (by {st.by if st else '?'})")
    new_state = "acknowledged" if isinstance(action, Acknowledge) else "disposed"
    values = {"episode": current, "state": new_state, "action_id": action.id, "by": action.by, "at": action.at}
    if st is None:
        tx.c.execute(insert(warning_states).values(key=key, **values))
    else:
        tx.c.execute(update(warning_states).where(w.key == key).values(**values))
    data = DispositionData(
        warning=key,
        action=action.type,
        measure=action.measure if isinstance(action, Dispose) else None,
        since=since,
        by=action.by,
        at=action.at,
        note=action.note,
        terminal=terminal.name,
    )
    _publish(tx, "disposition", _record_id(tx, "disposition", action.id, terminal), data)


def _record_id(tx: WriteTx, rtype: str, aid: str, terminal: Terminal) -> str:
    """The id of the record an action publishes: the action id, unless another terminal's action
    (ids are unique per terminal only) already published a record under it."""
    return aid if tx.row(rtype, aid) is None else f"{aid}@{terminal.id}"


def _publish(tx: WriteTx, rtype: str, rid: str, data: BaseModel) -> None:
    dumped = data.model_dump(mode="json", by_alias=True)
    if rtype == "disposition" and dumped.get("measure") is None:
        dumped.pop("measure", None)
    tx.put(rtype, rid, "upsert", dumped, json.dumps(dumped, ensure_ascii=False, separators=(",", ":")))
