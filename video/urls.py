"""Camera addresses: what kind of source a URL names, and masking the secrets inside it.

A camera URL usually carries a user name and password (``rtsp://admin:secret@10.0.0.7/ch1``). They
must never reach a log line, a state shown to the operator or an error message, so everything that
prints a URL prints :func:`mask_url` of it, and every message that might quote one (FFmpeg's errors
quote the file name) goes through :func:`redact` or the logging filter :class:`MaskingFilter`.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["MASK", "MaskingFilter", "SourceKind", "kind_of", "mask_text", "mask_url", "redact"]

MASK = "***"

# Query parameters that carry credentials on some cameras (…/video.cgi?user=admin&pwd=…), and signed
# links (…?sig=…, ?access_token=…).
_SECRET_KEYS = (r"(?:user(?:name)?|login|pass(?:word)?|pwd|passwd|(?:access_|refresh_)?token|(?:api_?)?key|secret"
                r"|auth|sign(?:ature)?|sig|session(?:_?id)?|jwt)")
_SECRET_PARAMS = re.compile(rf"^{_SECRET_KEYS}$", re.I)
# scheme://userinfo@ — the userinfo is everything up to the LAST @ of the address, whatever is in
# it: a password may hold "#", "/", "?" or ":" unencoded, and a parser would then split the address
# elsewhere (``rtsp://admin:secret#frag@host`` has the "fragment" ``frag@host`` to urlsplit).
# Masking too much is harmless; too little leaks a password.
_SCHEME = r"[a-zA-Z][a-zA-Z0-9+.-]*://"
_USERINFO = re.compile(rf"(?P<scheme>\b{_SCHEME})(?P<userinfo>\S*@)")
_URL = re.compile(rf"^\s*(?P<scheme>{_SCHEME})(?P<rest>.*)$", re.S)
# A secret query value runs to the next "&", ";" or white space ("#" included: it may be the value's own).
_QUERY_SECRET = re.compile(rf"(?P<key>[?&;]{_SECRET_KEYS}=)(?P<value>[^&;\s'\"]*)", re.I)


class SourceKind(StrEnum):
    """How a camera is reached."""

    RTSP = "rtsp"
    HTTP = "http"
    RTMP = "rtmp"
    FILE = "file"
    SYNTHETIC = "synthetic"


def kind_of(url: str) -> SourceKind:
    """The kind of source ``url`` names; a bare path or ``file://`` URL is a file.

    Raises ``ValueError`` naming the scheme when it is none of the supported ones.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme in ("rtsp", "rtsps"):
        return SourceKind.RTSP
    if scheme in ("http", "https"):
        return SourceKind.HTTP
    if scheme in ("rtmp", "rtmps"):
        return SourceKind.RTMP
    if scheme == "synthetic":
        return SourceKind.SYNTHETIC
    if scheme in ("", "file") or (len(scheme) == 1 and Path(url).anchor):  # "C:\…" parses as scheme "c"
        return SourceKind.FILE
    raise ValueError(f"unsupported camera address scheme {scheme!r} (use rtsp, http(s), rtmp or a file path)")


def file_path(url: str) -> Path:
    """The local path of a file source (``file:///x.ts`` or a plain path)."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return Path(url)


def mask_url(url: str) -> str:
    """``url`` with its user name, password and secret query parameters replaced by ``***``.

    Done on the text, not on a URL parser's parts, so the scheme's case (``RTSP://``) and characters
    a parser would take for a fragment or a path inside the password (``#``, ``/``, ``?``) change
    nothing: everything between ``://`` and the address's last ``@`` is hidden.
    """
    m = _URL.match(url)
    if m is None:
        return mask_text(url)
    rest = m.group("rest")
    at = rest.rfind("@")
    if at >= 0:
        rest = MASK + rest[at:]
    return m.group("scheme") + _QUERY_SECRET.sub(lambda q: q.group("key") + MASK, rest)


def mask_text(text: str) -> str:
    """Mask every ``scheme://user:pass@`` and secret query value that appears anywhere in ``text``."""
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", text)
    return _QUERY_SECRET.sub(lambda m: m.group("key") + MASK, text)


def _secrets_of(url: str) -> list[str]:
    found: list[str] = []
    m = _URL.match(url)
    if m is not None:
        rest = m.group("rest")
        at = rest.rfind("@")
        if at >= 0:
            userinfo = rest[:at]
            user, _, password = userinfo.partition(":")
            for raw in (userinfo, user, password):
                if raw:
                    found += [raw, unquote(raw)]
    for q in _QUERY_SECRET.finditer(url):
        value = q.group("value")
        if value:
            found += [value, unquote(value)]
    # Longest first, so "secret1" is replaced before "secret"; tiny values would mask innocent text.
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """``text`` (an error message, say) with ``url``'s secrets removed wherever they appear.

    Besides masking URLs, the user name and password are replaced on their own, because FFmpeg and
    servers sometimes quote them outside a URL (``401 for user 'admin'``).
    """
    text = text.replace(url, mask_url(url))
    text = mask_text(text)
    for secret in _secrets_of(url):
        text = text.replace(secret, MASK)
    return text


class MaskingFilter(logging.Filter):
    """A logging filter that masks credentials in every record's message and arguments.

    Installed on the application's handlers as a second line of defence: code logs
    :func:`mask_url` already, but a library's message may quote a URL.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # The formatter uses exc_text when it is set: mask the traceback text once, here.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        return True
