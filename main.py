"""HallWatch — 政务大厅电子监察客户端. The only entry point.

    python main.py [--data DIR] [--config FILE] COMMAND ...

Headless commands for admins and scripts live here; the desktop roles join as they land.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from app.runtime import default_data_dir, init_process, lingering_threads, open_store, setup_logging
from supervision.config import Config, ConfigError, load_config
from video.urls import mask_text

if TYPE_CHECKING:
    from app.terminal import Terminal, TerminalStatus
    from supervision.lifecycle import WarningView
    from sync.engine import RoundReport, SyncEngine, SyncStatus

log = logging.getLogger("hallwatch")

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


INSTANT_MIN, INSTANT_MAX = datetime(1900, 1, 1), datetime(3000, 1, 1)


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """An ISO-8601 instant; without an offset it is read in the hall's zone."""
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 instant: {text!r} (e.g. 2026-11-25T10:30+08:00)") from None
    dt = dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)
    # Far instants overflow once moved into the hall's zone or a few days on (year 9999 is the limit).
    try:
        ok = INSTANT_MIN <= dt.astimezone(tz).replace(tzinfo=None) < INSTANT_MAX
    except OverflowError:
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(
            f"instant out of range: {text!r} (from {INSTANT_MIN.year} to {INSTANT_MAX.year - 1} in the hall's zone)")
    return dt


# -- commands --------------------------------------------------------------------------------------
def cmd_import(args: argparse.Namespace, cfg: Config) -> int:
    from supervision.ingest import ChangeError, import_file

    store = open_store(args.data, cfg)
    try:
        rep = import_file(store, Path(args.file), max_bytes=cfg.import_.max_bytes)
    except ChangeError as e:
        print(f"import failed, nothing was imported: {e}", file=sys.stderr)
        for p in e.problems[1:10]:
            print(f"  {p}", file=sys.stderr)
        if len(e.problems) > 10:
            print(f"  … and {len(e.problems) - 10} more", file=sys.stderr)
        return EXIT_ERROR
    finally:
        store.close()
    r = rep.report
    unknown = sum(r.unknown.values())
    print(
        f"imported {args.file}: {rep.total} changes, {r.upserted} upserted, {r.deleted} deleted, "
        f"{r.stale} not newer than stored, {unknown} of unknown types skipped"
        + (f" ({', '.join(f'{k}: {v}' for k, v in sorted(r.unknown.items()))})" if unknown else "")
    )
    return EXIT_OK


def cmd_warnings(args: argparse.Namespace, cfg: Config) -> int:
    """The warnings in force (read-only: works beside a running terminal on the same folder)."""
    from app.commands import warnings_report

    at = args.at or datetime.now(UTC)
    tz = cfg.zone
    report = warnings_report(cfg, args.data, at)
    if args.json:
        json.dump([v.as_json(tz) for v in report.views], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        print_warning_table(report.views, tz, at)
    print_fallback_years(report.fallback_years)
    return EXIT_OK


def print_fallback_years(years: frozenset[int]) -> None:
    for y in sorted(years):
        print(f"note: no official holiday data for {y}; its working days are counted as Monday–Friday", file=sys.stderr)


def print_warning_table(views: Sequence[WarningView], tz: ZoneInfo, at: datetime) -> None:
    rows = [("LEVEL", "CODE", "SUBJECT", "WINDOW", "STATE", "SINCE")]
    for v in views:
        w = v.warning
        rows.append(
            (
                str(w.level),
                str(w.code),
                w.subject,
                w.window_id or "-",
                str(v.state),
                w.since.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    counts = {lvl: sum(1 for r in rows[1:] if r[0] == lvl) for lvl in ("red", "yellow", "notice")}
    print(
        f"{len(rows) - 1} warnings at {at.astimezone(tz):%Y-%m-%d %H:%M %Z}: "
        f"{counts['red']} red, {counts['yellow']} yellow, {counts['notice']} notice"
    )


def cmd_demo_data(args: argparse.Namespace, cfg: Config) -> int:
    from supervision import demo

    day = args.day or datetime.now(cfg.zone).date()
    now = datetime.now(cfg.zone) if args.day is None else None
    body = demo.generate(day, tz=cfg.hall.timezone, now=now)
    demo.write(Path(args.out), body)
    print(f"wrote {len(body['changes'])} changes for {day.isoformat()} to {args.out}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, cfg: Config) -> int:
    """Export cameras' footage over a span, or a complaint's dossier, as evidence: stream-copied MP4s
    (+ the complaint's records) under one signed manifest."""
    from app.commands import complaint_dossier, export_evidence
    from video.export import ExportError, SpanRequired, local_time

    cameras: list[str] = args.camera or []
    if args.complaint is None and not cameras:
        print("error: say what to export: --camera ID (repeatable) with --from and --to, "
              "or --complaint ID", file=sys.stderr)
        return EXIT_USAGE
    if args.complaint is not None and cameras:
        print("error: --complaint exports the cameras of the complaint's window itself: leave out --camera",
              file=sys.stderr)
        return EXIT_USAGE
    if (args.from_ is None) != (args.to is None) or (args.complaint is None and args.from_ is None):
        print("error: give both --from and --to" + ("" if args.complaint is not None else " (the span to export)"),
              file=sys.stderr)
        return EXIT_USAGE
    start = end = None
    if args.from_ is not None:
        try:
            start, end = parse_instant(args.from_, cfg.zone), parse_instant(args.to, cfg.zone)
        except argparse.ArgumentTypeError as e:
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        if end <= start:
            print("error: --to must be after --from", file=sys.stderr)
            return EXIT_USAGE
    tty = sys.stderr.isatty()

    def show(fraction: float, words: str) -> None:
        print(f"\r{fraction:4.0%}  {words}"[:100].ljust(72), end="", file=sys.stderr, flush=True)

    progress = show if tty else None
    try:
        if args.complaint is not None:
            plan, result = complaint_dossier(cfg, args.data, args.complaint, Path(args.out), reason=args.reason,
                                             start=start, end=end, progress=progress)
        else:
            assert start is not None and end is not None
            plan, result = None, export_evidence(cfg, args.data, cameras, start, end, Path(args.out),
                                                 reason=args.reason, progress=progress)
    except ExportError as e:
        print(("\n" if tty else "") + f"error: {e}", file=sys.stderr)
        return EXIT_USAGE if isinstance(e, SpanRequired) else EXIT_ERROR
    if tty:
        print(file=sys.stderr)
    tz = cfg.zone
    a, b = result.requested
    req = (b - a).total_seconds()
    if plan is not None:
        how = (f"about_at ± {cfg.recording.hold_margin_minutes:g} min" if plan.span_from == "about_at"
               else "the span given")
        print(f"dossier of complaint {plan.complaint_id}: {local_time(a, tz)} – {local_time(b, tz, date=False)} "
              f"({tz}, {how}); cameras of {plan.scope}" + (f" {plan.window_id}" if plan.scope == "window" else "")
              + (f" {plan.hall_id}" if plan.scope == "hall" else ""))
    for v in result.videos:
        c0, c1 = v.covered
        print(
            f"exported camera {v.camera_id}: {local_time(c0, tz)} – {local_time(c1, tz, date=False)} ({tz}), "
            f"{v.seconds:.1f} s covered of {req:.1f} s asked; {v.frames} frames, not re-encoded"
        )
        print(f"  video:    {v.video} ({v.video_bytes} bytes, SHA-256 {v.video_sha256})")
        print(f"  sources:  {v.segments} segments, each matching its recorded SHA-256")
        for g in v.gaps:
            print(
                f"  gap:      {local_time(g.start, tz)} – {local_time(g.end, tz, date=False)} "
                f"({g.seconds:.1f} s): {g.reason}"
            )
    for camera_id, why in result.missing:
        print(f"no footage of camera {camera_id}: {why}")
    records = [f for f in result.files if f.endswith(".json")]
    if records:
        print(f"records:    {', '.join(records)}")
    print(f"manifest:   {result.manifest_path} lists {len(result.files)} files with their SHA-256, "
          f"signed by {result.fingerprint}")
    print(f"done in {result.elapsed_s:.2f} s")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, cfg: Config) -> int:
    """Check an evidence folder: OK and what it holds (exit 0), or each thing that changed (exit 1)."""
    from video.export import verify

    target = Path(args.path)
    folder = target.parent if target.is_file() else target  # the folder, or any file in it
    trusted: str | None = args.trust
    if trusted is not None and Path(trusted).is_file():
        try:
            trusted = Path(trusted).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            print(f"error: cannot read the trusted key {args.trust}: {e}", file=sys.stderr)
            return EXIT_USAGE
    result = verify(folder, trusted=trusted)
    if result.ok:
        print(f"OK: {folder} is unchanged since it was exported and signed")
        for line in result.summary():
            print(f"  {line}")
        return EXIT_OK
    print(f"FAILED: {folder}")
    for problem in result.problems:
        print(f"  - {problem}")
    if result.signature_valid:
        print("  the signed manifest says:")
        for line in result.summary():
            print(f"    {line}")
    n = len(result.problems)
    print(f"error: the evidence in {folder} failed verification ({n} problem{'s' if n > 1 else ''})", file=sys.stderr)
    return EXIT_ERROR


@contextmanager
def stop_signals(wake: threading.Event | None = None) -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM while the block runs (the previous handlers come back);
    ``wake`` is set with it (a loop that sleeps on other events too)."""
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()
        if wake is not None:
            wake.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_window(args: argparse.Namespace, cfg: Config) -> int:
    """No command: the role's window (operator by default), or ``--demo --headless`` in the console."""
    if args.demo and args.headless:
        return demo_headless(args, cfg)
    if args.role == "leader":
        from desktop.leader.run import LeaderOptions, run_leader

        return run_leader(cfg, args.data, LeaderOptions(demo=args.demo, kiosk=args.kiosk, tour_seconds=args.tour))
    from desktop.operator.run import OperatorOptions, run_operator

    return run_operator(cfg, args.data, OperatorOptions(demo=args.demo))


def cmd_review(args: argparse.Namespace, cfg: Config) -> int:
    """The review window on its own, beside a running terminal on the same data folder."""
    import os

    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"error: --size is WxH, e.g. 1600x900: {args.size!r}", file=sys.stderr)
            return EXIT_USAGE
        size = (w, h)
    shot = Path(args.screenshot).resolve() if args.screenshot else None
    if shot is not None and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.review.run import ReviewOptions, run_review

    code = run_review(cfg, args.data, ReviewOptions(camera=args.camera, at=args.at, demo=args.demo, language=args.lang,
                                                    theme=args.theme, screenshot=shot, after=args.after, size=size))
    if code == EXIT_OK and shot is not None:
        print(f"wrote {shot}")
    return code


def cmd_screenshot(args: argparse.Namespace, cfg: Config) -> int:
    """Render the role's window offscreen after it has run ``--after`` seconds; write the PNG."""
    import os

    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            print(f"error: --size is WxH, e.g. 1600x900: {args.size!r}", file=sys.stderr)
            return EXIT_USAGE
        size = (w, h)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    out = Path(args.out).resolve()
    if args.role == "leader":
        from desktop.leader.run import LeaderOptions, run_leader

        code = run_leader(cfg, args.data, LeaderOptions(demo=args.demo, kiosk=args.kiosk, tour_seconds=args.tour,
                                                        language=args.lang, theme=args.theme, screenshot=out,
                                                        after=args.after, size=size, page=args.page))
        if code == EXIT_OK:
            print(f"wrote {out}")
        return code
    from desktop.operator.run import OperatorOptions, run_operator

    code = run_operator(cfg, args.data, OperatorOptions(demo=args.demo, language=args.lang, theme=args.theme,
                                                        screenshot=out, after=args.after, size=size))
    if code == EXIT_OK:
        print(f"wrote {out}")
    return code


def demo_headless(args: argparse.Namespace, cfg: Config) -> int:
    """``--demo --headless``: the demo without a window; its warnings, then the status every minute."""
    from app.demo import EmbeddedDemo
    from app.lock import LockHeld

    demo = EmbeddedDemo(cfg, args.data)
    wake = threading.Event()
    with stop_signals(wake) as stop:
        try:
            terminal = demo.start()
        except LockHeld as e:
            demo.stop()
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        try:
            print(f"demo: reference server at {demo.url}, data in {demo.folder}; Ctrl+C stops", flush=True)
            note = demo.demo_clock_note
            if note is not None:
                print(f"demo clock: outside office hours the demo runs from {note:%Y-%m-%d %H:%M %Z} "
                      "(the last working day), advancing in real time", flush=True)
            # The first sync brings the hall; the monitor judges it: wait for that before printing.
            if not demo.wait_judged(stop, timeout=60) and not stop.is_set():
                print("demo: no first sync within 60 s; the warnings follow when it comes", flush=True)
            status_loop(terminal, stop, wake, interval=args.status_interval, warnings=True)
        finally:
            ok = demo.stop(time.monotonic() + 5)
    print("demo stopped" + ("" if ok else " (a camera connection was still closing)"), flush=True)
    return EXIT_OK


def status_loop(terminal: Terminal, stop: threading.Event, wake: threading.Event, *, interval: float,
                warnings: bool) -> None:
    """Print the warnings (once, and whenever they change with ``warnings``) and the status every
    ``interval`` seconds, a red DISK_FULL at once, until ``stop``. It sleeps until one of those is
    due: ``wake`` is set by the monitor's snapshots, the disk warning and ``stop`` (``stop_signals``)."""

    def poke(*_: object) -> None:
        wake.set()

    if warnings:
        terminal.monitor.add_listener(poke)
    if terminal.recording is not None:
        terminal.recording.add_listener(poke)
    try:
        _status_lines(terminal, stop, wake, interval=interval, warnings=warnings)
    finally:
        if warnings:
            terminal.monitor.remove_listener(poke)
        if terminal.recording is not None:
            terminal.recording.remove_listener(poke)


def _status_lines(terminal: Terminal, stop: threading.Event, wake: threading.Event, *, interval: float,
                  warnings: bool) -> None:
    tz = terminal.tz
    generation = -1
    next_status = 0.0
    disk_warning: object = None
    while not stop.is_set():
        wake.clear()  # what changes from here on wakes the next wait
        st = terminal.status()
        snap = st.warnings
        if warnings and snap.generation != generation:
            generation = snap.generation
            print_warning_table(list(snap.views), tz, snap.at)
            print_fallback_years(snap.fallback_years)
        sw = st.recording.system_warning if st.recording is not None else None
        if sw is not disk_warning:
            disk_warning = sw
            if sw is not None:
                print(f"RED {sw.code}: {sw.message}", file=sys.stderr, flush=True)
            elif st.recording is not None:
                print("recording resumed: disk space is back", flush=True)
        if time.monotonic() >= next_status:
            next_status = time.monotonic() + interval
            print(format_status(st, tz), flush=True)
        wake.wait(max(0.0, next_status - time.monotonic()))


def format_status(st: TerminalStatus, tz: ZoneInfo) -> str:
    cams = st.cameras
    parts = [f"{st.at.astimezone(tz):%H:%M:%S} cameras {cams.live}/{len(cams.cameras)} live"]
    down = [f"{c.id} {c.main.state.value}" for c in cams.cameras if not c.online]
    if down:
        parts.append("not live: " + ", ".join(down[:6]) + (" …" if len(down) > 6 else ""))
    if st.recording is not None:
        rec = sum(1 for r in st.recording.recorders if r.recording)
        free = f", {st.recording.free_percent:.0f}% disk free" if st.recording.free_percent is not None else ""
        parts.append(f"recording {rec}/{len(st.recording.recorders)}{free}")
    c = st.warnings.counts
    parts.append(f"warnings {c.get('red', 0)} red, {c.get('yellow', 0)} yellow, {c.get('notice', 0)} notice")
    if st.sync is not None:
        sy = st.sync
        last = f", last success {sy.last_success.astimezone(tz):%H:%M:%S}" if sy.last_success else ""
        err = f": {sy.last_error}" if sy.last_error and sy.state == "offline" else ""
        parts.append(f"sync {sy.state}{last}, {sy.pending_actions} actions waiting{err}")
    if st.relay is not None:
        parts.append(f"relay {st.relay.viewers} viewers" if st.relay.running else "relay stopped")
    if st.relay_push is not None and st.relay_push.pushes:
        parts.append(f"pushed {st.relay_push.live}/{len(st.relay_push.pushes)} live")
    if st.seats is not None and st.seats.cameras:
        states = list(st.seats.seat_states().values())
        parts.append(f"seats {len(states)} watched, {states.count('empty')} empty")
    return "; ".join(parts)


def cmd_record(args: argparse.Namespace, cfg: Config) -> int:
    """Record every camera (store + [[cameras]]) until SIGINT/SIGTERM, holding footage around every
    yellow/red in force, and sync when a server is configured; then close every segment cleanly."""
    from app.lock import LockHeld
    from app.sync import SyncNotConfigured
    from app.terminal import Terminal

    try:
        terminal = Terminal(cfg, args.data, command="record", record=True, sync=True)
    except SyncNotConfigured as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    wake = threading.Event()
    with stop_signals(wake) as stop:
        try:
            terminal.start()
        except LockHeld as e:
            terminal.stop()
            print(f"error: {e}", file=sys.stderr)
            return EXIT_USAGE
        try:
            cameras = terminal.cameras.cameras()
            if not cameras:
                print("error: no cameras to record: none in the store, none under [[cameras]] in the config",
                      file=sys.stderr)
                return EXIT_USAGE
            root = terminal.recording.service.index.root if terminal.recording is not None else args.data
            sync = f"; syncing with {cfg.server.url}" if terminal.sync is not None else ""
            print(
                f"recording {len(cameras)} cameras into {root} (segments of {cfg.recording.segment_seconds:g} s)"
                f"{sync}; Ctrl+C stops",
                flush=True,
            )
            status_loop(terminal, stop, wake, interval=args.status_interval, warnings=False)
        finally:
            recorders = terminal.recording.service.recorders if terminal.recording is not None else {}
            before = {cid: r for cid, r in recorders.items()}
            ok = terminal.stop(time.monotonic() + 10)
    closed = sum(r.status().segments for r in before.values())
    print(f"stopped: {closed} segments closed and indexed" + ("" if ok else " (a camera connection was still closing)"),
          flush=True)
    return EXIT_OK


def cmd_probe(args: argparse.Namespace, cfg: Config) -> int:
    from video.probe import StateChange, probe
    from video.source import SourceOptions
    from video.urls import kind_of, mask_url

    try:
        kind_of(args.url)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE

    def show(change: StateChange) -> None:
        if not args.json:
            tail = f" — {change.error}" if change.error else ""
            print(f"{change.at_s:7.2f} s  {change.state.value}{tail}", flush=True)

    if not args.json:
        print(f"probing {mask_url(args.url)} for {args.seconds:g} s", flush=True)
    result = probe(args.url, args.seconds, options=SourceOptions(transport=args.transport), on_state=show)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        size = f"{result.width}x{result.height}" if result.width else "?"
        fps = f"{result.fps:.2f}" if result.fps else "?"
        first = f"{result.first_frame_s:.2f} s" if result.first_frame_s is not None else "-"
        print(
            f"state {result.state.value}; codec {result.codec or '?'} {size} at {fps} fps; "
            f"{result.frames} frames, first after {first}; {result.reconnects} reconnects, {result.dropped} dropped"
        )
        if result.error:
            print(f"last error: {result.error}")
    return EXIT_OK if result.ok else EXIT_ERROR


def cmd_seats(args: argparse.Namespace, cfg: Config) -> int:
    from video.analytics.scan import ScanError, parse_region, scan_file, scan_live
    from video.urls import SourceKind, file_path, kind_of, mask_url

    try:
        regions = [parse_region(r) for r in args.region]
        kind = kind_of(args.source)
    except ValueError as e:
        print(f"error: {mask_text(str(e))}", file=sys.stderr)
        return EXIT_USAGE
    if args.fps <= 0 or args.min_seconds < 0:
        print("error: --fps must be above 0 and --min-seconds not negative", file=sys.stderr)
        return EXIT_USAGE
    try:
        if kind is SourceKind.FILE:
            result = scan_file(file_path(args.source), regions, fps=args.fps, min_seconds=args.min_seconds)
        else:
            if not args.json:
                print(f"watching {mask_url(args.source)} until Ctrl+C" +
                      (f" or {args.seconds:g} s" if args.seconds else ""), file=sys.stderr, flush=True)
            with stop_signals() as stop:
                result = scan_live(args.source, regions, stop, fps=args.fps, min_seconds=args.min_seconds,
                                   seconds=args.seconds)
    except ScanError as e:
        print(f"error: {mask_text(str(e))}", file=sys.stderr)
        return EXIT_ERROR
    if args.json:
        print(json.dumps([{"region": s.region, "start_s": round(s.start_s, 1), "end_s": round(s.end_s, 1)}
                          for s in result.spells]))
        return EXIT_OK
    print(f"{result.width}x{result.height}, {result.seconds:.0f} s judged ({result.judged} pictures)")
    for i in range(len(regions)):
        spells = [s for s in result.spells if s.region == i]
        plural = "" if len(spells) == 1 else "s"
        print(f"region {i}: {len(spells)} empty spell{plural} of at least {args.min_seconds:g} s")
        for s in spells:
            print(f"  {s.start_s:9.1f} s – {s.end_s:9.1f} s  ({s.end_s - s.start_s:.0f} s)")
    return EXIT_OK


def cmd_view(args: argparse.Namespace, cfg: Config) -> int:
    from desktop.video.layouts import parse_grid
    from desktop.view import run_view

    try:
        grid = parse_grid(args.grid) if args.grid else None
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size is WxH, e.g. 1280x720, not {args.size!r}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run_view(args.urls, grid, args.mode, args.seconds, size=(width, height), language=cfg.ui.language)
    except ValueError as e:
        print(f"error: {mask_text(str(e))}", file=sys.stderr)
        return EXIT_USAGE


def cmd_sync(args: argparse.Namespace, cfg: Config) -> int:
    """Sync with the central server: one round (--once) or every [server] interval until interrupted."""
    from app.lock import LockHeld, TerminalLock
    from app.sync import SyncNotConfigured, make_client, make_engine

    try:
        client = make_client(cfg)
    except SyncNotConfigured as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    lock = TerminalLock(args.data, "sync --once" if args.once else "sync")
    try:
        lock.acquire()
    except LockHeld as e:
        client.close()
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    store = open_store(args.data, cfg)
    engine = make_engine(cfg, store, client)
    try:
        if not args.once:
            return _sync_forever(engine)
        report = engine.run_once()
    finally:
        engine.stop()
        client.close()
        store.close()
        lock.release()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print_sync_report(report)
    if not report.ok:
        print(f"error: sync failed: {report.error}", file=sys.stderr)
    return EXIT_OK if report.ok else EXIT_ERROR


def print_sync_report(report: RoundReport) -> None:
    pushed = report.pushed
    resync = f"; full resync ({report.resync}): {report.removed} records removed" if report.resync else ""
    requeued = f", {report.requeued} own actions queued again after a server restore" if report.requeued else ""
    print(
        f"pulled {report.pages} pages: {report.received} changes, {report.upserted} upserted, "
        f"{report.deleted} deleted, {report.stale} not newer than stored, {report.unknown} of unknown types"
        f"{resync}{requeued}"
    )
    print(
        f"pushed {sum(pushed.values())} actions: {pushed.get('applied', 0)} applied, "
        f"{pushed.get('duplicate', 0)} duplicate, {pushed.get('rejected', 0)} rejected; "
        f"{report.pending_actions} waiting"
    )
    if report.clock_offset_s is None:
        print("clock offset: unknown (no answer with the server's time)")
    else:
        warn = " — this terminal's clock is off by more than 5 minutes" if abs(report.clock_offset_s) > 300 else ""
        print(f"clock offset: {report.clock_offset_s:+.1f} s (server minus this terminal){warn}")
    print(f"{'done' if report.ok else 'failed'} in {report.duration_s:.2f} s")


def _sync_forever(engine: SyncEngine) -> int:
    done = threading.Event()

    def show(status: SyncStatus) -> None:
        if status.state != "syncing":
            tail = f": {status.last_error}" if status.last_error else ""
            print(
                f"{datetime.now().astimezone():%H:%M:%S} sync {status.state}, "
                f"{status.pending_actions} actions waiting{tail}",
                flush=True,
            )
        if status.state == "unauthorized":
            done.set()

    engine.add_listener(show)
    previous = signal.signal(signal.SIGTERM, lambda *_: done.set())
    engine.start()
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    return EXIT_ERROR if engine.status().state == "unauthorized" else EXIT_OK


# -- parser ----------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hallwatch",
        description="HallWatch 政务大厅电子监察客户端 — electronic supervision of government service halls.",
    )
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="data folder (store, footage, keys, logs); default: the user's data folder",
    )
    p.add_argument("--config", type=Path, default=None, metavar="FILE", help="configuration file (TOML)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="the embedded demo: a simulated city hall's server, synthetic cameras and recording in DATA/demo",
    )
    p.add_argument(
        "--role",
        choices=("operator", "leader"),
        default="operator",
        help="which window to open (default: operator)",
    )
    p.add_argument(
        "--kiosk",
        action="store_true",
        help="with --role leader: full screen, no menu bar, the page tour running",
    )
    p.add_argument(
        "--tour",
        type=float,
        default=20.0,
        metavar="S",
        help="with --role leader: seconds each page shows in the page tour (default 20)",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="with --demo: no window; print the warnings, then the status every minute until stopped",
    )
    p.add_argument(
        "--status-interval",
        type=float,
        default=60.0,
        metavar="S",
        help=argparse.SUPPRESS,  # how often --demo --headless and record print the status (default 60 s)
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    sp = sub.add_parser(
        "screenshot",
        help="render the window offscreen after it has run a while and write a PNG",
        description="Open the role's window (with --demo: over the embedded demo) offscreen, let it run "
        "--after seconds, then write what it shows to OUT.png.",
    )
    sp.add_argument("out", metavar="OUT.png")
    sp.add_argument("--after", type=float, default=10.0, metavar="SECONDS", help="how long to run first (default 10)")
    sp.add_argument("--size", default=None, metavar="WxH", help="window size, e.g. 1600x900")
    sp.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language (default: saved or config)")
    sp.add_argument("--theme", choices=("dark", "light"), default=None, help="theme (default: saved or config)")
    sp.add_argument("--page", choices=("overview", "ranking", "trends", "reds", "video"), default=None,
                    help="with --role leader: the page to show")
    sp.set_defaults(func=cmd_screenshot)

    sp = sub.add_parser(
        "review",
        help="the footage review window (beside a running terminal; opens no camera)",
        description="Search, play and export recorded footage: cameras by hall and window, a timeline "
        "of recordings, gaps and markers, frame steps, 1-16x, bookmarks, evidence holds and export. "
        "Runs beside a running terminal on the same data folder (with --demo: the demo's folder).",
    )
    sp.add_argument("--camera", default=None, metavar="ID", help="the camera to open (default: the last ones)")
    sp.add_argument("--at", default=None, metavar="INSTANT", help="ISO-8601 instant to open at (default: the newest)")
    sp.add_argument("--lang", choices=("zh_CN", "en"), default=None, help="language (default: saved or config)")
    sp.add_argument("--theme", choices=("dark", "light"), default=None, help="theme (default: saved or config)")
    sp.add_argument("--screenshot", default=None, metavar="OUT.png", help=argparse.SUPPRESS)
    sp.add_argument("--after", type=float, default=5.0, metavar="SECONDS", help=argparse.SUPPRESS)
    sp.add_argument("--size", default=None, metavar="WxH", help=argparse.SUPPRESS)
    sp.set_defaults(func=cmd_review)

    sp = sub.add_parser(
        "import",
        help="load a file holding a GET /changes body into the store, all or nothing",
        description="Load a file holding a sync-protocol GET /changes response body into the "
        "local store (offline import, e.g. from removable media). All or nothing: a bad "
        "record rejects the whole file with an error naming the record and field; unknown "
        "record types are skipped and counted.",
    )
    sp.add_argument("file", metavar="FILE")
    sp.set_defaults(func=cmd_import)

    sp = sub.add_parser(
        "warnings",
        help="list the warnings in force (table, or JSON with --json)",
        description="List every warning in force at an instant (default: now), reds first.",
    )
    sp.add_argument(
        "--json", action="store_true", help="print a JSON list (key, code, level, subject, state, since, …)"
    )
    sp.add_argument(
        "--at",
        metavar="INSTANT",
        default=None,
        help="ISO-8601 instant, e.g. 2026-11-25T10:30:00+08:00 (no offset: the hall's zone)",
    )
    sp.set_defaults(func=cmd_warnings)

    sp = sub.add_parser(
        "demo-data",
        help="write the demo hall plus a few working days of activity to a file",
        description="Write the demo city hall and the activity of the working days up to DAY "
        "(default: today, up to now) as a GET /changes body that `import` accepts.",
    )
    sp.add_argument("--day", type=date.fromisoformat, default=None, metavar="YYYY-MM-DD")
    sp.add_argument("--out", required=True, metavar="FILE")
    sp.set_defaults(func=cmd_demo_data)

    sp = sub.add_parser(
        "export",
        help="export cameras' footage over a span, or a complaint's dossier, as tamper-evident evidence",
        description="Copy cameras' recorded footage from --from to --to, without re-encoding, into an MP4 "
        "per camera in the empty folder --out, with manifest.json: every file of the folder with its "
        "size and SHA-256, the source segments and their SHA-256 (each is hashed again first; a changed "
        "one stops the export), the gaps, who, why, when and this terminal, signed with the terminal's "
        "Ed25519 key (DATA/keys/terminal.ed25519). With --complaint: the complaint's dossier — every "
        "camera of its window (the hall's when no window is known) over its about_at ± [recording] "
        "hold_margin_minutes (or --from/--to; required when the complaint has no about_at), with the "
        "complaint, its case, ticket and evaluations as JSON files. Exit 0 on success, 1 when there is "
        "no footage in the span or a source segment fails its check, 2 on bad arguments.",
    )
    sp.add_argument("--camera", action="append", metavar="ID",
                    help="camera id; repeat for several cameras in one folder under one manifest")
    sp.add_argument("--complaint", metavar="ID", default=None,
                    help="make the complaint's dossier (证据包) instead of naming cameras")
    sp.add_argument(
        "--from",
        dest="from_",
        default=None,
        metavar="T",
        help="ISO-8601 start, e.g. 2026-11-25T10:30:00 (no offset: the hall's zone)",
    )
    sp.add_argument("--to", default=None, metavar="T", help="ISO-8601 end (no offset: the hall's zone)")
    sp.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder for the evidence")
    sp.add_argument("--reason", default="", metavar="TEXT", help="why the footage is exported (in the manifest)")
    sp.set_defaults(func=cmd_export)

    sp = sub.add_parser(
        "verify",
        help="check an exported evidence folder: OK, or what changed",
        description="Check a folder written by `export`: the manifest's signature, every listed file's "
        "size and SHA-256 (format 2; format 1: the MP4's) and that nothing was added. Prints OK and what "
        "the evidence holds (exit 0), or names each thing that changed (exit 1).",
    )
    sp.add_argument("path", metavar="DIR", help="the evidence folder (or any file in it)")
    sp.add_argument(
        "--trust",
        metavar="KEY",
        default=None,
        help="require this signer: a key fingerprint (64 hex digits) or a file with its public key",
    )
    sp.set_defaults(func=cmd_verify)

    sp = sub.add_parser(
        "probe",
        help="connect to a camera as the application does and report what happened",
        description="Connect to a camera stream (rtsp://, http(s)://, rtmp:// or a file) with the "
        "application's own settings for N seconds and report state changes, codec, size, frame "
        "rate, frames received, time to the first frame, reconnects, drops and the last error. "
        "User names and passwords in the address are never printed. Exit code 0 when frames arrived.",
    )
    sp.add_argument("url", metavar="URL")
    sp.add_argument("--seconds", type=float, default=10.0, metavar="N", help="how long to watch (default 10)")
    sp.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    sp.add_argument("--transport", choices=("tcp", "udp"), default="tcp", help="RTSP transport (default tcp)")
    sp.set_defaults(func=cmd_probe)

    sp = sub.add_parser(
        "record",
        help="record every camera (the store's and [[cameras]]) until stopped",
        description="Run a source and a recorder for every camera in the store and under [[cameras]] in "
        "the config, writing MPEG-TS segments ([recording] segment_seconds) under DATA/footage (or "
        "[recording] footage_dir), with retention and evidence holds, until SIGINT or SIGTERM; every open "
        "segment is then closed, indexed and hashed.",
    )
    sp.set_defaults(func=cmd_record)

    sp = sub.add_parser(
        "sync",
        help="sync with the central server: one round with --once, else every [server] interval",
        description="Sync with the central supervision server named in the config ([server] url, token or "
        "HALLWATCH_TOKEN): push the actions waiting in the outbox, send a heartbeat, pull every page of "
        "changes. With --once: one round, then print what it did (exit 0 on success, 1 on failure). "
        "Without: a round every [server] interval seconds until interrupted.",
    )
    sp.add_argument("--once", action="store_true", help="one round, then exit")
    sp.add_argument("--json", action="store_true", help="with --once: print the round's report as JSON")
    sp.set_defaults(func=cmd_sync)

    sp = sub.add_parser(
        "seats",
        help="find the empty spells of staff seats in a video file or live camera",
        description="Run the staff-seat occupancy detector over a file (as fast as it decodes) or a live URL "
        "(until Ctrl+C or --seconds) at about --fps pictures a second and print each region's empty spells of "
        "at least --min-seconds (times in seconds from the start of the source). Regions are X,Y,W,H in "
        "pixels of the source picture.",
    )
    sp.add_argument("source", metavar="SOURCE", help="a video file or a camera URL")
    sp.add_argument("--region", action="append", required=True, metavar="X,Y,W,H",
                    help="a seat region in pixels (repeat for more seats; numbered from 0)")
    sp.add_argument("--json", action="store_true",
                    help='print one JSON list [{"region": I, "start_s": S, "end_s": E}]')
    sp.add_argument("--fps", type=float, default=1.0, metavar="N", help="pictures judged a second (default 1)")
    sp.add_argument("--min-seconds", type=float, default=60.0, metavar="S",
                    help="the shortest empty spell printed (default 60)")
    sp.add_argument("--seconds", type=float, default=None, metavar="N", help="live sources: stop after N seconds")
    sp.set_defaults(func=cmd_seats)

    sp = sub.add_parser(
        "view",
        help="a bare video wall of the given cameras (no server, store or recording)",
        description="Show the given cameras (rtsp://, http(s)://, rtmp://, files, synthetic://window/A01) in a "
        "grid, for checking cameras by eye and for benchmarks. Every tile decodes at full rate unless --mode "
        "keyframes. On exit (window closed, SIGTERM, or after --seconds) prints one line per tile: "
        "'tile I URL frames=N fps=F' (painted frames; the URL without its password). Exit 1 when a tile "
        "painted nothing.",
    )
    sp.add_argument("urls", nargs="+", metavar="URL")
    sp.add_argument("--grid", default=None, metavar="CxR", help="columns x rows, e.g. 4x4 (default: fits the URLs)")
    sp.add_argument("--mode", choices=("full", "keyframes"), default="full", help="decoding (default full)")
    sp.add_argument("--seconds", type=float, default=None, metavar="N", help="close after N seconds")
    sp.add_argument("--size", default="1280x720", metavar="WxH", help="window size (default 1280x720)")
    sp.set_defaults(func=cmd_view)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.data is None:
        args.data = default_data_dir()
    if args.headless and not args.demo:
        parser.error("--headless goes with --demo")
    if not args.tour >= 1:
        parser.error(f"--tour is a number of seconds, at least 1: {args.tour:g}")
    func = args.func if args.command is not None else cmd_window
    if getattr(args, "at", None) is not None and isinstance(args.at, str):
        try:
            args.at = parse_instant(args.at, cfg.zone)
        except argparse.ArgumentTypeError as e:
            parser.error(str(e))
    try:
        args.data.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: cannot use data folder {args.data}: {e.strerror}", file=sys.stderr)
        return EXIT_ERROR
    setup_logging(args.data, cfg)
    init_process()
    try:
        return int(func(args, cfg))
    except Exception as e:  # the last line of defence: one clear line, the traceback to the log
        log.exception("command failed")
        print(f"error: {mask_text(str(e))}", file=sys.stderr)
        return EXIT_ERROR


def run() -> None:
    """Console entry point (``hallwatch``): the headless commands print, also on Windows."""
    code = main()
    if lingering_threads():
        sys.exit(code)  # the interpreter waits for them, as it must
    # Everything is stopped, closed and flushed: skip tearing down the interpreter's objects one by
    # one (seconds with a window's worth of Qt objects and video buffers).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_gui() -> None:
    """GUI entry point (``hallwatch-gui``): no console window on Windows."""
    run()


if __name__ == "__main__":
    run()
