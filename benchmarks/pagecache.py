"""Dropping files from the page cache, for the benchmarks' cold-cache figures.

``posix_fadvise(DONTNEED)`` drops a file's clean pages without root; dirty pages are written out
first (``fsync``) so that they can be dropped too. Linux only.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def drop(paths: Iterable[Path]) -> int:
    """Drop every file of ``paths`` from the page cache; how many files."""
    n = 0
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        n += 1
    return n

