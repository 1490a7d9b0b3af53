"""Scope paths: which org unit's subtree each record belongs to, as a materialised path.

A terminal sees the records inside its org unit's subtree. Each record's place is derived when it
is written and kept as a path of segments from the top org unit down, so "inside the subtree of
X" is one prefix (range) condition on an indexed column::

    org_unit  /o:liaoning/o:anshan/o:hall-anshan/
    window    /o:liaoning/o:anshan/o:hall-anshan/w:win-A01/
    case      /o:liaoning/o:anshan/o:hall-anshan/w:win-A01/c:C-1/
    evaluation, seat_vacancy: the path of their window; bookmark: of its camera;
    disposition: of its warning's subject (case, ticket or window); terminal: of its scope.

Records that others hang from (org units, windows, cases, tickets, cameras) add a segment of
their own, so moving one moves everything below it with one prefix rewrite. A record whose
anchor is not known yet hangs under a provisional root named after the anchor (``/w:win-9/…``),
which no terminal's scope covers; when the anchor arrives, that prefix is rewritten to the real
one. ``case_type``, ``rule_set`` and ``calendar`` are global (no path).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from supervision.rules import Code

# Record types that others hang from, with the letter of their path segment.
ANCHOR_KINDS: dict[str, str] = {"org_unit": "o", "window": "w", "case": "c", "ticket": "t", "camera": "k"}
GLOBAL_TYPES = frozenset({"case_type", "rule_set", "calendar"})
ORPHAN = "/-/"  # below no org unit: visible to no scoped terminal
ROOT = "/"

_MAX_ID_CHARS = 120

# The subject type of each warning code (the key is "<subject id>/<code>").
_SUBJECT_TYPE: dict[str, str] = {
    Code.DUE_SOON: "case",
    Code.OVERDUE: "case",
    Code.STAGE_LATE: "case",
    Code.FEE_MISMATCH: "case",
    Code.STAGE_SKIPPED: "case",
    Code.SUSPENDED_LONG: "case",
    Code.WAIT_LONG: "ticket",
    Code.POST_LEFT: "window",
}


def segment(record_type: str, record_id: str) -> str:
    """``"<kind>:<escaped id>/"``; ids too long to index comfortably are hashed."""
    escaped = quote(record_id, safe="")
    if len(escaped) > _MAX_ID_CHARS:
        escaped = "#" + hashlib.sha256(record_id.encode()).hexdigest()[:32]
    return f"{ANCHOR_KINDS[record_type]}:{escaped}/"


def provisional(record_type: str, record_id: str) -> str:
    """Where records hanging from a not-yet-known anchor live until it arrives."""
    return ROOT + segment(record_type, record_id)


def upper_bound(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` (which ends in "/")."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def within(path: str | None, scope_path: str) -> bool:
    """Whether a record at ``path`` is visible in the subtree ``scope_path`` (global: always)."""
    return path is None or path.startswith(scope_path)


def split_warning_key(key: str) -> tuple[str, str]:
    """``"<subject>/<code>"`` → (subject, code); subject ids may themselves contain "/"."""
    subject, _, code = key.rpartition("/")
    return subject, code


def subject_types(code: str) -> tuple[str, ...]:
    """Which record types a warning with this code may be about, most likely first."""
    t = _SUBJECT_TYPE.get(code)
    return (t,) if t is not None else ("case", "ticket", "window")


def anchors(record_type: str, data: dict[str, object]) -> tuple[tuple[str, str], ...] | None:
    """The records a record's place derives from, first existing one wins.

    ``None``: global. ``()``: hangs from the top (org units without a parent) or from nothing
    (see ``place``). The ``terminal`` type is resolved by the store (its scope is server-side).
    """
    if record_type in GLOBAL_TYPES:
        return None

    def ref(key: str) -> str | None:
        v = data.get(key)
        return v if isinstance(v, str) and v else None

    if record_type == "org_unit":
        parent = ref("parent_id")
        return (("org_unit", parent),) if parent else ()
    if record_type in ("window", "camera", "ticket", "complaint"):
        hall = ref("hall_id")
        return (("org_unit", hall),) if hall else ()
    if record_type == "case":
        window, ticket = ref("window_id"), ref("ticket_id")
        if window:
            return (("window", window),)
        return (("ticket", ticket),) if ticket else ()
    if record_type in ("evaluation", "seat_vacancy"):
        window = ref("window_id")
        return (("window", window),) if window else ()
    if record_type == "bookmark":
        camera = ref("camera_id")
        return (("camera", camera),) if camera else ()
    if record_type == "disposition":
        key = ref("warning")
        if not key:
            return ()
        subject, code = split_warning_key(key)
        return tuple((t, subject) for t in subject_types(code)) if subject else ()
    return ()
