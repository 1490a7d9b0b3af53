"""A real small disk for the tests about full disks: a tmpfs of a given size, unmounted afterwards."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(where: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of ``size`` (e.g. ``"20m"``) at ``where``; skip without root (fail under CI)."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                                           capture_output=True, check=False).returncode != 0:
        if os.environ.get("CI"):
            pytest.fail("cannot mount a tmpfs in CI")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(path: Path, *, leave: int = 0) -> int:
    """Someone else's file: write zeros into ``path`` until the disk has ``leave`` bytes free; returns its size."""
    written = 0
    chunk = b"\0" * (1 << 20)
    with path.open("wb") as f:
        while True:
            free = os.statvfs(path.parent).f_bavail * os.statvfs(path.parent).f_frsize
            want = min(len(chunk), free - leave)
            if want <= 0:
                break
            try:
                f.write(chunk[:want])
                f.flush()
            except OSError:
                break
            written += want
    return written
