"""What the headless commands do, as values for ``main.py`` to print (it only parses and prints)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app import runtime
from supervision.config import Config

if TYPE_CHECKING:
    from supervision.lifecycle import WarningsReport
    from video.export import ExportResult

__all__ = ["export_evidence", "warnings_report"]


def warnings_report(cfg: Config, data_dir: Path, at: datetime) -> WarningsReport:
    """Every warning in force at ``at`` with its state, read from the store (read-only: it runs
    beside a running terminal on the same data folder)."""
    from supervision.lifecycle import evaluate_store

    store = runtime.open_store(data_dir, cfg)
    try:
        return evaluate_store(store, at, cfg.zone)
    finally:
        store.close()


def export_evidence(
    cfg: Config,
    data_dir: Path,
    camera_id: str,
    start: datetime,
    end: datetime,
    out: Path,
    *,
    reason: str,
    progress: Callable[[float, str], None] | None = None,
) -> ExportResult:
    """A camera's footage over a span, stream-copied, with the signed manifest (``video.export``)."""
    from video.export import ExportRequest, default_who, export, load_or_create_key
    from video.footage import FootageIndex

    store = runtime.open_store(data_dir, cfg)
    try:
        key = load_or_create_key(data_dir)
        return export(
            FootageIndex(store, runtime.footage_root(data_dir, cfg)),
            ExportRequest(
                camera_id,
                start,
                end,
                out,
                reason=reason,
                who=cfg.terminal.operator or default_who(),
                terminal=cfg.terminal.name,
                key=key,
                progress=progress,
                zone=cfg.zone,
            ),
        )
    finally:
        store.close()
