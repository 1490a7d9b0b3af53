"""Where a terminal keeps its things, and how it logs: shared by every command and the desktop."""

from __future__ import annotations

import ctypes
import functools
import logging
import logging.handlers
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from supervision.config import Config
from video.urls import MaskingFilter

if TYPE_CHECKING:
    from supervision.store import Store

log = logging.getLogger(__name__)

__all__ = [
    "default_data_dir",
    "footage_root",
    "init_process",
    "lingering_threads",
    "open_store",
    "release_free_memory",
    "setup_logging",
]


def default_data_dir() -> Path:
    """The user's data folder (``platformdirs``: ~/.local/share/HallWatch, %LOCALAPPDATA%\\HallWatch)."""
    return Path(platformdirs.user_data_dir("HallWatch", appauthor=False))


def setup_logging(data_dir: Path, cfg: Config, *, stderr_level: int | None = None) -> None:
    """Rotating file in DATA/logs and stderr (warnings and above unless told), at the configured level."""
    level = getattr(logging, cfg.logging.level)
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    fh = logging.handlers.RotatingFileHandler(
        logs / "hallwatch.log", maxBytes=cfg.logging.max_bytes, backupCount=cfg.logging.backups, encoding="utf-8"
    )
    fh.setFormatter(fmt)
    sh = logging.StreamHandler(sys.stderr)
    sh.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    # stderr stays quiet for routine INFO so command output remains readable.
    sh.setLevel(stderr_level if stderr_level is not None else max(level, logging.WARNING))
    # Code logs masked URLs already; the filter catches a library quoting a camera's password.
    for handler in (fh, sh):
        handler.addFilter(MaskingFilter())
    for old in root.handlers[:]:
        root.removeHandler(old)
        old.close()
    root.addHandler(fh)
    root.addHandler(sh)


def open_store(data_dir: Path, cfg: Config) -> Store:
    """The terminal's store: ``[database] url``, or SQLite ``DATA/hallwatch.db``."""
    from supervision.store import open_store as _open

    return _open(cfg.database.url or data_dir / "hallwatch.db")


def footage_root(data_dir: Path, cfg: Config) -> Path:
    """Where `record` writes segments and `export` and the review read them."""
    return cfg.recording.footage_dir or data_dir / "footage"


GC_THRESHOLDS = (20_000, 20, 100)
"""The cyclic GC's thresholds for this process. The domain builds hundreds of thousands of small
acyclic values in bulk (per-case facts, a pass's warnings); with Python's default (700, 10, 10) the
collections those allocations trigger cost a fifth of a full rule pass (100 000 cases: 1.19 s
against 0.95-0.99 s with these; measured with ``benchmarks.supervision_bench``)."""


# glibc's malloc, tuned with mallopt (malloc.h's parameter number).
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2
"""At most this many malloc arenas. glibc gives each new thread an arena of its own, up to eight
per core: the terminal's dozens of threads (a decoder per tile, a reader per camera, the monitor,
retention, the panels' readers) each kept the memory it freed in its own arena, where the others
could not reuse it. The allocations that then share an arena's lock are the decoders' frames, a
few hundred a second. (The mmap threshold is left to glibc: fixed at 256 KiB it would map and
unmap every frame of a tile larger than 320×180, tens of thousands of page faults a second.)"""


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (mallopt, malloc_trim), else None (Windows, macOS, musl)."""
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # pragma: no cover - glibc without its usual name
        return None
    if not hasattr(libc, "malloc_trim") or not hasattr(libc, "mallopt"):
        return None  # pragma: no cover
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    libc.malloc_trim.restype = ctypes.c_int
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    return libc


def tune_allocator() -> bool:
    """glibc: at most :data:`MALLOC_ARENAS` arenas (call it before the threads start: arenas made
    already stay). True when set; False elsewhere (nothing to do)."""
    libc = _glibc()
    if libc is None:
        return False
    ok = int(libc.mallopt(_M_ARENA_MAX, MALLOC_ARENAS)) == 1
    if not ok:  # pragma: no cover - glibc accepts it
        log.warning("mallopt refused the allocator settings")
    return ok


def release_free_memory() -> bool:
    """Give the pages malloc holds free back to the system (glibc ``malloc_trim(0)``: every arena,
    holes in the middle of a heap included; free() only gives back a heap's top). Takes some
    milliseconds with a large heap and holds each arena's lock meanwhile: call it on a worker now
    and then, not per operation and not on the GUI thread. True when memory was given back."""
    libc = _glibc()
    return libc is not None and int(libc.malloc_trim(0)) == 1


def init_process() -> None:
    """Process-wide settings decided once at the application's root, not inside library calls:
    the cyclic GC's thresholds (:data:`GC_THRESHOLDS`), the C allocator (:func:`tune_allocator`)
    and OpenCV's thread pool."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
    tune_allocator()
    try:
        import cv2

        # Display conversion and analytics run on their own worker threads; OpenCV's own thread pool
        # would only compete with them for the cores.
        cv2.setNumThreads(1)
    except ImportError:  # pragma: no cover - a dependency
        pass


def lingering_threads() -> list[str]:
    """Threads other than the main one still running (the interpreter waits for them at exit):
    named in the log, so a slow exit says what it waited for."""
    import threading

    names = [t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()
             and not t.daemon]
    if names:
        logging.getLogger(__name__).warning("still running at exit: %s", ", ".join(sorted(names)))
    return names
