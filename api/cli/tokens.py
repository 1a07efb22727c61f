"""`eport-ledger token create`: print one new bearer token (stored only as its hash)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.http.auth import TOKEN_ROLES, TokenError, TokenStore
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore


def register(subparsers: Any) -> None:
    """Add `token create`."""
    token = subparsers.add_parser("token", help="bearer tokens of the HTTP API")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="print one new bearer token")
    create.add_argument("--role", required=True, choices=[role.value for role in TOKEN_ROLES])
    create.add_argument(
        "--enterprise", metavar="USCC", help="the USCC an enterprise token acts for"
    )
    create.add_argument("--name", help="the principal recorded in events (default from the role)")
    create.set_defaults(run=run_create)


def run_create(args: argparse.Namespace) -> int:
    """Issue the token and print it alone on stdout (so `$(eport-ledger token create …)` works)."""
    ledger = EventStore(Settings())
    try:
        store = TokenStore(ledger.database)
        issued = store.issue(args.role, uscc=args.enterprise, name=args.name)
    except TokenError as error:
        print(f"eport-ledger: {error}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    record = issued.record
    print(
        f"token {record.token_id} for {record.principal_id} ({record.role.value}); "
        "it is shown only now",
        file=sys.stderr,
    )
    print(issued.token)
    return 0
