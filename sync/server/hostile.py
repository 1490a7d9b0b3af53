"""Defences against what a client may send: strict JSON bodies, text safe for log lines, secrets
kept out of the access log.

- :func:`parse_json_body`: a request body is JSON or it is refused with a reason — invalid
  Unicode (a lone surrogate such as ``"\\ud800"``, which JSON escapes can carry but no database
  or log can hold), a NUL character, ``NaN``/``Infinity`` (not JSON), nesting too deep, integers
  of thousands of digits.
- :func:`clean`: anything a client sent, made safe to put into one log line: control characters
  (a newline would forge a line), NUL, bidirectional controls (which reorder what a reader sees)
  and lone surrogates escaped; long values cut.
- :class:`AccessLogMasking`: a logging filter for ``uvicorn.access`` that masks secret query
  values (``?token=…``) in the logged request line.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

__all__ = ["AccessLogMasking", "BodyRefused", "clean", "mask_query", "parse_json_body"]

MAX_DEPTH = 64  # JSON nesting a request body may have (the protocol needs 4)

# Query parameters whose values are secrets (as in video.urls; sync must not import video).
_SECRET_QUERY = re.compile(
    r"(?P<key>(?:^|[?&;])(?:(?:access_|refresh_)?token|(?:api_?)?key|secret|pass(?:word)?|pwd|passwd|auth"
    r"|sig(?:nature)?|sign|session(?:_?id)?|jwt|user(?:name)?|login)=)(?P<value>[^&;\s\"']*)",
    re.I,
)


class BodyRefused(ValueError):
    """A request body that is not acceptable JSON; ``str()`` says why."""


def _reject_constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON number")


def parse_json_body(body: bytes) -> Any:
    """The JSON value of ``body``; :class:`BodyRefused` naming what is wrong (and where) otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BodyRefused(f"the body is not UTF-8 text ({e.reason} at byte {e.start})") from None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except BodyRefused:
        raise
    except json.JSONDecodeError as e:
        raise BodyRefused(f"the body is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    except RecursionError:
        raise BodyRefused("the body's JSON is nested too deeply") from None
    except ValueError as e:  # an integer of thousands of digits
        raise BodyRefused(f"the body's JSON holds an unreadable number: {str(e).split(';')[0][:120]}") from None
    _check_text(value, "", 0)
    return value


def _check_text(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BodyRefused(f"the body's JSON is nested more than {MAX_DEPTH} deep")
    if isinstance(value, str):
        _check_string(value, where or "the body")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_string(k, f"{where}.{clean(k, 40)}" if where else clean(k, 40), key=True)
            _check_text(v, f"{where}.{k}" if where else k, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_text(v, f"{where}[{i}]", depth + 1)


def _check_string(s: str, where: str, *, key: bool = False) -> None:
    """Lone surrogates are refused here, for every string of every body: they are not Unicode.
    (A NUL is Unicode: the fields that are stored as text refuse it themselves.)"""
    if s.isascii():
        return
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as e:
        what = "a key" if key else "a string"
        raise BodyRefused(
            f"{clean(where, 120)}: {what} holds invalid Unicode (a lone surrogate at position {e.start})"
        ) from None


def clean(value: object, limit: int = 200) -> str:
    """``value`` (anything a client sent) as text safe for one log line: every character that is
    not printable — controls (a newline would forge a line), NUL, format characters such as the
    bidirectional overrides (which reorder what a reader sees), lone surrogates, line and
    paragraph separators — as a ``\\x..``/``\\u....`` escape; at most ``limit`` characters (then ``…``)."""
    text = value if isinstance(value, str) else repr(value)
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    return text + ("…" if cut else "")


def _escape(ch: str) -> str:
    n = ord(ch)
    if n < 0x100:
        return f"\\x{n:02x}"
    if n < 0x10000:
        return f"\\u{n:04x}"
    return f"\\U{n:08x}"


def mask_query(text: str) -> str:
    """``text`` (a path with its query, a request line) with every secret query value masked."""
    return _SECRET_QUERY.sub(lambda m: m.group("key") + "***", text)


class AccessLogMasking(logging.Filter):
    """Masks secret query values (``?token=…``) in uvicorn's access log lines, and escapes what the
    client chose (the path) so it cannot forge a line.

    uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with (client, method, path and query, version, status).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args:
            record.args = tuple(clean(mask_query(a), 2000) if isinstance(a, str) else a for a in args)
        elif isinstance(record.msg, str):
            record.msg = clean(mask_query(record.msg), 4000)
        return True
