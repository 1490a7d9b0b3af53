"""The evidence format: its names, the canonical JSON that is signed, and how instants are written."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

FORMAT = "hallwatch-evidence"


#: The version written: 2 lists every file of the folder with its size and SHA-256 (``files``) and
#: holds any number of cameras (``cameras``) and records; 1 (one camera, one video) is still read.
FORMAT_VERSION = 2


READABLE_VERSIONS = (1, 2)


MANIFEST = "manifest.json"


def canonical_json(value: Any) -> bytes:
    """The bytes that are signed: sorted keys, no whitespace, UTF-8. The manifest holds no floats."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def iso_utc(t: datetime) -> str:
    """UTC, millisecond precision, with a Z."""
    t = t.astimezone(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def local_time(t: datetime, zone: tzinfo, *, date: bool = True) -> str:
    """An instant in a zone for people: seconds, and milliseconds only when there are any."""
    t = t.astimezone(zone)
    text = t.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")
    return text + (f".{t.microsecond // 1000:03d}" if t.microsecond // 1000 else "")


def duration_ms(d: timedelta) -> int:
    return round(d.total_seconds() * 1000)


def software_name() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"HallWatch {version('hallwatch')}"
    except PackageNotFoundError:
        return "HallWatch (version unknown)"


def default_who() -> str:
    """The OS user, for when no operator is configured."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
