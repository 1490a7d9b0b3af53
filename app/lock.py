"""One running terminal per data folder: ``DATA/terminal.lock``.

The lock is the operating system's (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows), held
on an open file for as long as the process lives: the kernel releases it when the process dies, so
a lock left by a killed process never blocks the next start. The file also says who holds it (pid,
command, since) so a second process can name the holder. Read-only commands (``warnings``,
``verify``, ``export``, ``review``) do not take it and run beside a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

__all__ = ["LockHeld", "TerminalLock", "read_holder"]

log = logging.getLogger(__name__)
LOCK_NAME = "terminal.lock"


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int | None
    command: str
    since: str

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        return f"{pid} ({self.command or '?'}), since {self.since or '?'}"


class LockHeld(RuntimeError):
    """Another process runs a terminal on this data folder; the message names it."""

    def __init__(self, folder: Path, holder: Holder | None) -> None:
        who = holder.describe() if holder is not None else "another process"
        super().__init__(f"the data folder {folder} is in use by {who}: one running terminal per data folder")
        self.holder = holder


def read_holder(path: Path) -> Holder | None:
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    pid = raw.get("pid")
    return Holder(pid if isinstance(pid, int) else None, str(raw.get("command", "")), str(raw.get("since", "")))


def _try_lock(f: IO[str]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class TerminalLock:
    """``with TerminalLock(data_dir, "record"):`` — or ``acquire()`` / ``release()``."""

    def __init__(self, data_dir: Path, command: str) -> None:
        self.path = data_dir / LOCK_NAME
        self.folder = data_dir
        self.command = command
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockHeld` naming the holder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        # Open without truncating: the holder's record must stay readable until we hold the lock.
        f = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the lock's lifetime
        if not _try_lock(f):
            f.close()
            raise LockHeld(self.folder, read_holder(self.path))
        f.seek(0)
        f.truncate()
        record = {"pid": os.getpid(), "command": self.command, "since": datetime.now(UTC).astimezone().isoformat(
            timespec="seconds")}
        f.write(json.dumps(record))
        f.flush()
        self._file = f
        log.info("holding %s (%s)", self.path, self.command)

    def release(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate()
            f.flush()
        except OSError:
            pass
        f.close()  # closing the descriptor releases the lock

    @property
    def held(self) -> bool:
        return self._file is not None

    def __enter__(self) -> TerminalLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
