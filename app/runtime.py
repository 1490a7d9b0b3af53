"""Where a terminal keeps its things, and how it logs: shared by every command and the desktop."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from supervision.config import Config
from video.urls import MaskingFilter

if TYPE_CHECKING:
    from supervision.store import Store

__all__ = ["default_data_dir", "footage_root", "init_process", "lingering_threads", "open_store", "setup_logging"]


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


def init_process() -> None:
    """Process-wide settings decided once at the application's root, not inside library calls:
    the cyclic GC's thresholds (:data:`GC_THRESHOLDS`) and OpenCV's thread pool."""
    import gc

    gc.set_threshold(*GC_THRESHOLDS)
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
