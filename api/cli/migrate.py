"""`eport-ledger migrate`: bring the database's schema to this release (or say where it is)."""

from __future__ import annotations

import argparse
from typing import Any

from api.cli.output import print_document
from ledger_store.eventstore.settings import load_settings
from ledger_store.eventstore.store import EventStore
from ledger_store.migrations.runner import schema_status
from projections.engine.runner import Runner


def register(subparsers: Any) -> None:
    """Add `migrate`."""
    parser = subparsers.add_parser(
        "migrate",
        help="create the ledger or bring its schema up to date (serve and worker do it too)",
    )
    parser.add_argument(
        "--status", action="store_true", help="only say which version the database is at"
    )
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Apply pending migrations and set up the views' tables; print what was done."""
    settings = load_settings()
    if args.status:
        store = EventStore(settings, mode="read")
        try:
            status = schema_status(store.database)
        finally:
            store.close()
        pending = ", ".join(f"{m.version} {m.name}" for m in status.pending)
        _say(
            args,
            status.to_json(),
            f"{settings.where()}: schema version {status.current} of {status.latest}"
            + (f"; pending: {pending}" if pending else ""),
        )
        return 0
    # EPORT_AUTO_MIGRATE=false stops the other commands, never this one.
    store = EventStore(settings.model_copy(update={"auto_migrate": True}))
    try:
        Runner(store.database).setup()  # the views' tables: versioned per view, rebuilt if changed
        status = schema_status(store.database)
    finally:
        store.close()
    applied = store.migrations_applied
    done = ", ".join(f"{m.version} {m.name}" for m in applied) or "nothing to do"
    _say(
        args,
        {**status.to_json(), "applied": [{"version": m.version, "name": m.name} for m in applied]},
        f"{settings.where()}: schema version {status.current} (applied: {done})",
    )
    return 0


def _say(args: argparse.Namespace, document: dict[str, Any], line: str) -> None:
    if args.json:
        print_document(document)
    else:
        print(line)
