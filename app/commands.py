"""What the headless commands do, as values for ``main.py`` to print (it only parses and prints)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from app import runtime
from supervision.config import Config

if TYPE_CHECKING:
    from app.dossier import ConfigCamera, DossierPlan
    from supervision.lifecycle import WarningsReport
    from video.export import ExportResult, SigningKey

__all__ = ["complaint_dossier", "config_cameras", "export_evidence", "warnings_report"]


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
    cameras: Sequence[str],
    start: datetime,
    end: datetime,
    out: Path,
    *,
    reason: str,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ExportResult:
    """Cameras' footage over a span, stream-copied, with one signed manifest (``video.export``)."""
    from video.export import EvidenceRequest, export_evidence
    from video.footage import FootageIndex

    store = runtime.open_store(data_dir, cfg)
    try:
        key, who = _signer(cfg, data_dir)
        return export_evidence(
            FootageIndex(store, runtime.footage_root(data_dir, cfg)),
            EvidenceRequest(tuple(cameras), start, end, out, reason=reason, who=who, terminal=cfg.terminal.name,
                            key=key, progress=progress, cancel=cancel, zone=cfg.zone),
        )
    finally:
        store.close()


def complaint_dossier(
    cfg: Config,
    data_dir: Path,
    complaint_id: str,
    out: Path,
    *,
    reason: str,
    start: datetime | None = None,
    end: datetime | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> tuple[DossierPlan, ExportResult]:
    """A complaint's dossier (``app.dossier``): its window's cameras over ``about_at`` ±
    ``[recording] hold_margin_minutes`` (or ``start``–``end``), its records, one signed manifest."""
    from app.dossier import export_dossier, plan_dossier
    from video.footage import FootageIndex

    store = runtime.open_store(data_dir, cfg)
    try:
        plan = plan_dossier(store, complaint_id, margin=timedelta(minutes=cfg.recording.hold_margin_minutes),
                            config_cameras=config_cameras(cfg), start=start, end=end)
        key, who = _signer(cfg, data_dir)
        result = export_dossier(FootageIndex(store, runtime.footage_root(data_dir, cfg)), plan, out, reason=reason,
                                who=who, terminal=cfg.terminal.name, key=key, zone=cfg.zone, progress=progress,
                                cancel=cancel)
        return plan, result
    finally:
        store.close()


def config_cameras(cfg: Config) -> list[ConfigCamera]:
    """The config's ``[[cameras]]`` as a dossier sees them (ids and windows, no addresses)."""
    from app.dossier import ConfigCamera

    return [ConfigCamera(c.id, c.window_id) for c in cfg.cameras]


def _signer(cfg: Config, data_dir: Path) -> tuple[SigningKey, str]:
    """This terminal's signing key and who signs: the configured operator, else the OS user."""
    from video.export import default_who, load_or_create_key

    return load_or_create_key(data_dir), cfg.terminal.operator or default_who()
