"""``sync --once`` as ``main.py`` runs it, with the engine blocking for good at one named step.

    python -m tests.sync.paused_sync STEP --data DIR --config FILE

The pause is an injected checkpoint (``SyncEngine(checkpoint=…)``), not a variable the product
reads: the crash-recovery test starts this, waits for the line saying it paused, and SIGKILLs it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from app.lock import TerminalLock
from app.runtime import open_store, setup_logging
from app.sync import make_client, make_engine
from supervision.config import load_config


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("step")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--config", type=Path, required=True)
    args = p.parse_args()
    cfg = load_config(args.config)
    setup_logging(args.data, cfg)

    def checkpoint(step: str) -> None:
        if step == args.step:
            print(f"sync paused at step {step}; waiting to be killed", file=sys.stderr, flush=True)
            threading.Event().wait()

    with TerminalLock(args.data, "sync --once (paused)"):
        store = open_store(args.data, cfg)
        client = make_client(cfg)
        try:
            report = make_engine(cfg, store, client, checkpoint=checkpoint).run_once()
        finally:
            client.close()
            store.close()
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
