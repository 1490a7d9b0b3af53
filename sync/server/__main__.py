"""``python -m sync.server``: run the reference central server, or administer its database.

    python -m sync.server [--db URL] [--host 127.0.0.1] [--port 8765] [--simulate [--speed X]]
                          [--certfile F --keyfile F]
    python -m sync.server add-terminal --name NAME --role operator|leader --scope ORG_ID [--db URL]
    python -m sync.server new-epoch [--db URL]
    python -m sync.server load FILE [--db URL]

``--db`` is an SQLite file path or a database URL (default ``hallwatch-server.db`` here).
``add-terminal`` prints only the new token on stdout: it is shown this once and stored only as
a hash. Diagnostics go to stderr through logging; tokens are never logged.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sync.server.store import ROLES, CentralStore, database_url

log = logging.getLogger("sync.server")

DEFAULT_DB = "hallwatch-server.db"
EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def _out(line: str) -> None:
    """Command output (the token, the epoch): stdout, nothing else there."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _masked(db: str) -> str:
    try:
        return database_url(db).render_as_string(hide_password=True)
    except Exception:
        return "(the given --db)"


def _serve(args: argparse.Namespace, store: CentralStore) -> int:
    import uvicorn

    from sync.server.app import create_app
    from sync.server.protocol import guarded_protocol

    if bool(args.certfile) != bool(args.keyfile):
        log.error("--certfile and --keyfile go together")
        return EXIT_USAGE
    stop = threading.Event()
    sim_thread: threading.Thread | None = None
    if args.simulate:
        from sync.server.simulate import Simulator  # lazily: the simulator is optional

        sim = Simulator(store, speed=args.speed)
        sim_thread = threading.Thread(target=sim.run, args=(stop,), name="simulator")
        sim_thread.start()
        log.info("simulating hall traffic at %g× speed", args.speed)
    config = uvicorn.Config(
        create_app(store),
        host=args.host,
        port=args.port,
        log_config=None,
        lifespan="off",
        ws="none",
        http=guarded_protocol(),  # h11 with read timeouts, a cap per address, JSON error bodies
        timeout_graceful_shutdown=2,
        ssl_certfile=args.certfile,
        ssl_keyfile=args.keyfile,
    )
    scheme = "https" if args.certfile else "http"
    log.info("serving the sync API at %s://%s:%d/api/v1 (docs at /docs)", scheme, args.host, args.port)
    try:
        uvicorn.Server(config).run()
    finally:
        stop.set()
        if sim_thread is not None:
            sim_thread.join(timeout=10)
    return EXIT_OK


def _add_terminal(args: argparse.Namespace, store: CentralStore) -> int:
    token = store.add_terminal(args.name, args.role, args.scope)
    _out(token)
    return EXIT_OK


def _new_epoch(args: argparse.Namespace, store: CentralStore) -> int:
    _out(store.new_epoch())
    return EXIT_OK


def _load(args: argparse.Namespace, store: CentralStore) -> int:
    path = Path(args.file)
    try:
        body: Any = json.loads(path.read_bytes())
    except OSError as e:
        log.error("cannot read %s: %s", path, e.strerror)
        return EXIT_ERROR
    except ValueError as e:
        log.error("%s is not JSON: %s", path, e)
        return EXIT_ERROR
    changes = body.get("changes") if isinstance(body, dict) else body
    if not isinstance(changes, list):
        log.error('%s holds neither a changes body ({"changes": [...]}) nor a list of changes', path)
        return EXIT_ERROR
    last = store.publish(changes)
    _out(json.dumps({"file": str(path), "published": len(changes), "last_seq": last}))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sync.server", description="The HallWatch reference central server.")
    p.add_argument("--db", default=DEFAULT_DB, help=f"SQLite file or database URL (default {DEFAULT_DB})")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--simulate", action="store_true", help="publish simulated hall traffic while serving")
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second (default 60)")
    p.add_argument("--certfile", help="TLS certificate (PEM) to serve HTTPS")
    p.add_argument("--keyfile", help="TLS private key (PEM)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = p.add_subparsers(dest="command")
    # --db after the sub-command works too (SUPPRESS: without it, the value before it stands).
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", default=argparse.SUPPRESS, help="SQLite file or database URL")
    sp = sub.add_parser("add-terminal", parents=[db], help="register a terminal; prints its token")
    sp.add_argument("--name", required=True)
    sp.add_argument("--role", required=True, choices=ROLES)
    sp.add_argument("--scope", required=True, help="the org unit id whose subtree the terminal sees")
    sp.set_defaults(func=_add_terminal)
    sp = sub.add_parser("new-epoch", parents=[db], help="after restoring a backup: every terminal pulls afresh")
    sp.set_defaults(func=_new_epoch)
    sp = sub.add_parser("load", parents=[db], help="publish the records of a changes body file")
    sp.add_argument("file")
    sp.set_defaults(func=_load)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, args.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        store = CentralStore(args.db)
    except Exception as e:
        log.error("cannot open the database %s: %s", _masked(args.db), e)
        return EXIT_ERROR
    try:
        func = getattr(args, "func", _serve)
        return int(func(args, store))
    except ValueError as e:
        log.error("%s", e)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
