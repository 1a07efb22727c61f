"""`eport-ledger staff`: personal accounts of the staff console (/ui): create, list, disable."""

from __future__ import annotations

import argparse
import getpass
import secrets
import sys
from datetime import timedelta
from typing import Any

from api.http.console.accounts import STAFF_ROLES, StaffError, StaffStore
from api.http.console.sessions import SessionStore
from api.http.console.settings import ConsoleSettings
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore


def register(subparsers: Any) -> None:
    """Add `staff create`, `staff list`, `staff disable`."""
    staff = subparsers.add_parser("staff", help="staff accounts of the web console (/ui)")
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a personal staff account")
    create.add_argument("--role", required=True, choices=[role.value for role in STAFF_ROLES])
    create.add_argument("--login", required=True, help="the sign-in name (a-z 0-9 . _ @ -)")
    create.add_argument("--name", required=True, help="the person's name, shown in the console")
    create.add_argument(
        "--enterprise", metavar="USCC", help="the USCC an enterprise account is for"
    )
    how = create.add_mutually_exclusive_group()
    how.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    how.add_argument(
        "--sso-only", action="store_true", help="no password: sign-in by OpenID Connect only"
    )
    create.add_argument("--oidc-subject", help="the person's subject (sub) at the SSO issuer")
    create.add_argument("--oidc-issuer", help="the issuer (default EPORT_CONSOLE_OIDC_ISSUER)")
    create.set_defaults(run=run_create)
    listing = actions.add_parser("list", help="list the accounts")
    listing.set_defaults(run=run_list)
    disable = actions.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("--login", required=True)
    disable.set_defaults(run=run_disable)


def _store() -> tuple[EventStore, StaffStore]:
    ledger = EventStore(Settings())
    store = StaffStore(ledger.database)
    return ledger, store


def run_create(args: argparse.Namespace) -> int:
    """Create the account; print a generated password once unless one was given or SSO-only."""
    generated = None
    if args.sso_only:
        password = None
    elif args.password_stdin:
        password = (
            sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
        )
    else:
        password = generated = secrets.token_urlsafe(12)
    issuer = args.oidc_issuer or (ConsoleSettings().oidc_issuer if args.oidc_subject else None)
    ledger, store = _store()
    try:
        account = store.create(
            login=args.login,
            role=args.role,
            display_name=args.name,
            password=password,
            uscc=args.enterprise,
            oidc_issuer=issuer.rstrip("/") if issuer else None,
            oidc_subject=args.oidc_subject,
        )
    except StaffError as error:
        print(f"eport-ledger: {error}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    print(
        f"staff account {account.login} ({account.role.value}) is {account.staff_id}",
        file=sys.stderr,
    )
    if generated is not None:
        print("its password (shown only now):", file=sys.stderr)
        print(generated)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print one line per account (no secrets: only hashes are stored)."""
    ledger, store = _store()
    try:
        for a in store.accounts():
            state = "disabled" if a.disabled_at else "active"
            how = "+".join(
                x
                for x in ("password" if a.has_password else "", "sso" if a.oidc_subject else "")
                if x
            )
            print(f"{a.login}\t{a.staff_id}\t{a.role.value}\t{a.uscc or '-'}\t{how}\t{state}")
    finally:
        ledger.close()
    return 0


def run_disable(args: argparse.Namespace) -> int:
    """Disable the account and end its sessions."""
    ledger, store = _store()
    try:
        account = store.disable(args.login)
        if account is None:
            print(f"eport-ledger: no account {args.login!r}", file=sys.stderr)
            return 2
        hour = timedelta(hours=1)
        sessions = SessionStore(ledger.database, idle=hour, lifetime=hour)
        sessions.end_all(account.staff_id)
    finally:
        ledger.close()
    print(f"staff account {account.login} is disabled", file=sys.stderr)
    return 0
