"""`eport-ledger worker`: keep the views current for several API processes on one database."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from ledger_store.application import LedgerCore
from ledger_store.checkpoints import Checkpointer
from ledger_store.settings import Settings
from projections.worker import run_worker


def register(subparsers: Any) -> None:
    """Add `worker`."""
    parser = subparsers.add_parser(
        "worker",
        help="keep the views current (run API processes with EPORT_API_VIEWS=worker beside it)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, stop: threading.Event | None = None) -> int:
    """Follow the ledger and sign periodic checkpoints until SIGTERM, SIGINT or `stop`."""
    settings = Settings()
    ledger = LedgerCore(settings)
    checkpointer = Checkpointer.from_settings(ledger.database, settings)
    checkpointer.start()
    try:
        run_worker(settings, stop or threading.Event())
    finally:
        checkpointer.stop(final=True)
        ledger.close()
    return 0
