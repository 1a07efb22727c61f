"""`eport-ledger token create|list|revoke`: bearer tokens (stored only as their hashes; every
grant and revocation recorded in the ledger)."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from api.cli.output import print_document
from api.http.auth import TOKEN_ROLES, TokenError, TokenRecord, TokenStore
from domain.base import Actor, Role
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore

_DURATION = re.compile(r"^(\d{1,6})([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def duration(text: str) -> timedelta:
    """`90d`, `12h` or `30m` as a time span (argparse type)."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 90d, 12h or 30m")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def register(subparsers: Any) -> None:
    """Add `token create`, `token list` and `token revoke`."""
    token = subparsers.add_parser("token", help="bearer tokens of the HTTP API")
    actions = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="print one new bearer token")
    create.add_argument("--role", required=True, choices=[role.value for role in TOKEN_ROLES])
    create.add_argument(
        "--enterprise", metavar="USCC", help="the USCC an enterprise token acts for"
    )
    create.add_argument("--name", help="the principal recorded in events (default from the role)")
    create.add_argument(
        "--expires-in",
        type=duration,
        metavar="DURATION",
        help="the token stops working after this long (90d, 12h, 30m); default: never",
    )
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", help="every token issued (never their secrets)")
    listing.add_argument("--json", action="store_true", help="one JSON document on stdout")
    listing.set_defaults(run=run_list)
    revoke = actions.add_parser("revoke", help="revoke a token by its id (tok_…)")
    revoke.add_argument("token_id", metavar="TOKEN_ID")
    revoke.add_argument("--json", action="store_true", help="one JSON document on stdout")
    revoke.set_defaults(run=run_revoke)


def cli_actor() -> Actor:
    """Who the command line acts as in the ledger: the operating-system account that ran it."""
    return Actor(principal_id=f"cli:{getpass.getuser()}", role=Role.ADMIN)


def run_create(args: argparse.Namespace) -> int:
    """Issue the token and print it alone on stdout (so `$(eport-ledger token create …)` works)."""
    ledger = EventStore(Settings())
    expires_at = None if args.expires_in is None else datetime.now(UTC) + args.expires_in
    try:
        store = TokenStore(ledger)
        issued = store.issue(
            args.role, uscc=args.enterprise, name=args.name, expires_at=expires_at, by=cli_actor()
        )
    except TokenError as error:
        print(f"eport-ledger: {error}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    record = issued.record
    until = "" if record.expires_at is None else f", expires {record.expires_at:%Y-%m-%d %H:%M}Z"
    print(
        f"token {record.token_id} for {record.principal_id} ({record.role.value}{until}); "
        "it is shown only now",
        file=sys.stderr,
    )
    print(issued.token)
    return 0


def token_json(record: TokenRecord, now: datetime) -> dict[str, Any]:
    """A token as `token list --json` shows it (the shape of `GET /v1/tokens` plus `status`)."""
    return {
        "token_id": record.token_id,
        "principal": record.principal_id,
        "role": record.role.value,
        "enterprise": record.uscc,
        "created_at": record.created_at.isoformat(),
        "expires_at": None if record.expires_at is None else record.expires_at.isoformat(),
        "revoked_at": None if record.revoked_at is None else record.revoked_at.isoformat(),
        "status": record.status(now),
    }


def run_list(args: argparse.Namespace) -> int:
    """Print every token: a table, or `{"tokens": [...]}` with --json."""
    ledger = EventStore(Settings(), mode="existing")
    try:
        records = TokenStore(ledger).records()
    finally:
        ledger.close()
    now = datetime.now(UTC)
    if args.json:
        document = {"tokens": [token_json(record, now) for record in records]}
        print_document(document)
        return 0
    for record in records:
        expires = "never" if record.expires_at is None else f"{record.expires_at:%Y-%m-%d %H:%M}Z"
        print(
            f"{record.token_id}  {record.status(now):<7}  {record.role.value:<10}  "
            f"expires {expires:<17}  {record.principal_id}"
        )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke one token (recorded in the ledger); a token revoked already stays as it is."""
    ledger = EventStore(Settings(), mode="existing")
    try:
        record = TokenStore(ledger).revoke(args.token_id, by=cli_actor())
    finally:
        ledger.close()
    if record is None:
        message = f"no token {args.token_id}"
        print(f"eport-ledger: {message}", file=sys.stderr)
        if args.json:
            document = {"ok": False, "error": message, "exit_code": 2}
            print_document(document)
        return 2
    if args.json:
        print_document(token_json(record, datetime.now(UTC)))
    else:
        print(f"token {record.token_id} ({record.principal_id}) is revoked")
    return 0
