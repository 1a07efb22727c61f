"""`eport-ledger worker`: keep the views current for several API processes on one database."""

from __future__ import annotations

import argparse
import logging
import threading
from typing import Any

from api.cli.log_setup import start_logging
from ledger_store.eventstore.settings import Settings, load_settings
from ledger_store.eventstore.store import EventStore
from ledger_store.transparency.checkpointer import Checkpointer
from ledger_store.transparency.signer import open_signing_key
from projections.engine.worker import run_worker

log = logging.getLogger("eport.worker")


def register(subparsers: Any) -> None:
    """Add `worker`."""
    parser = subparsers.add_parser(
        "worker",
        help="keep the views current (run API processes with EPORT_API_VIEWS=worker beside it)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """`eport-ledger worker`: the logs as `serve` writes them, then `work` until a signal."""
    settings = load_settings()
    start_logging()
    return work(settings)


def work(settings: Settings, stop: threading.Event | None = None) -> int:
    """Follow the ledger and sign periodic checkpoints until SIGTERM, SIGINT or `stop`."""
    settings.key_path()  # it signs checkpoints: refused before the database is touched
    ledger = EventStore(settings)
    checkpointer = Checkpointer(
        ledger.database,
        open_signing_key(settings.key_path(), ledger.database),
        every_events=settings.checkpoint_every_events,
        every_seconds=settings.checkpoint_every_seconds,
    )
    checkpointer.start()
    try:
        run_worker(settings, stop or threading.Event(), log=log.info)
    finally:
        checkpointer.stop(final=True)
        ledger.close()
    return 0
