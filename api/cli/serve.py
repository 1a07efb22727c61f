"""`eport-ledger serve`: the API and the in-process views, on the SQLite default with no setup."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

import uvicorn

from api.cli.log_setup import start_logging
from api.http.auth import TokenStore
from ledger_store.eventstore.settings import Settings, load_settings
from ledger_store.eventstore.store import EventStore
from ledger_store.transparency.signer import open_signing_key

log = logging.getLogger("eport.serve")


def register(subparsers: Any) -> None:
    """Add `serve`."""
    parser = subparsers.add_parser(
        "serve", help="run the HTTP API and the views in one process (no configuration needed)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    parser.add_argument(
        "--no-first-token",
        action="store_true",
        help="do not print an admin token on the first start of an empty ledger",
    )
    parser.set_defaults(run=run)


def first_admin_token(settings: Settings) -> str | None:
    """An admin token when the ledger has none yet (the first start), else None."""
    ledger = EventStore(settings)
    try:
        store = TokenStore(ledger)
        if store.count() > 0:
            return None
        return store.issue("admin", name="first-admin").token
    finally:
        ledger.close()


def preflight(settings: Settings) -> None:
    """What must hold before the server listens, each refused in one line (exit code by
    cause): the database answers, its schema is this release's (migrated if allowed), and
    the signing key is the ledger's. Inside uvicorn's start-up the same failures would be a
    traceback and exit code 3 whatever the cause."""
    key_path = settings.key_path()  # configuration first: refused before the database is touched
    ledger = EventStore(settings)
    try:
        open_signing_key(key_path, ledger.database)
    finally:
        ledger.close()


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    settings = load_settings()
    api = start_logging()
    preflight(settings)
    if not args.no_first_token:
        token = first_admin_token(settings)
        if token is not None:
            # Printed once on stdout, never logged: the log only says that it happened.
            log.warning("no token existed: printed a first admin token on stdout (only now)")
            print(
                "First start: an admin token (shown only now; create others with "
                "`eport-ledger token create --role window`):\n"
                f"  {token}",
                file=sys.stdout,
                flush=True,
            )
    print(
        f"eport-ledger: http://{args.host}:{args.port}/docs (API and views; Ctrl-C stops)",
        file=sys.stdout,
        flush=True,
    )
    # Imported here, not at the top: every other command (token, verify, migrate …) would
    # otherwise import the whole web app and its routes (~0.8 s) just to build the parser.
    from api.http.app import create_app

    uvicorn.run(
        create_app(settings, api),
        host=args.host,
        port=args.port,
        access_log=False,  # it logs paths and query strings, which can hold personal data
        proxy_headers=False,  # X-Forwarded-For only from EPORT_API_TRUSTED_PROXIES (the app's)
        log_config=None,
        server_header=False,
    )
    return 0
