"""`eport-ledger erase` (删除权) and `eport-ledger keys init|rotate` (the master keys)."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.base import Actor, CommandContext, Role
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.privacy import master_keys
from ledger_store.privacy.master_keys import MasterKeyError


def register(subparsers: Any) -> None:
    """Add `erase` and `keys`."""
    erase = subparsers.add_parser(
        "erase", help="erase a person's personal data: destroy their data keys (删除权)"
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--card-holder", type=UUID, metavar="ID", help="a card holder's id")
    who.add_argument("--id-number", metavar="N", help="everyone this ID number belongs to")
    who.add_argument("--phone", metavar="P", help="everyone this phone number belongs to")
    erase.add_argument("--reason", required=True, help="why (recorded in the ledger)")
    erase.set_defaults(run=run_erase)

    keys = subparsers.add_parser("keys", help="the master keys that wrap personal-data keys")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    init = actions.add_parser("init", help="create a new master-key file (0600)")
    init.add_argument("--file", type=Path, required=True, help="where to write it")
    init.set_defaults(run=run_keys_init)
    rotate = actions.add_parser(
        "rotate", help="rewrap every data key under a new master key (the ledger is untouched)"
    )
    rotate.add_argument(
        "--settle",
        type=float,
        default=master_keys.SETTLE_SECONDS,
        metavar="SECONDS",
        help="wait before the last pass, for keys running services wrapped just before "
        f"(default {master_keys.SETTLE_SECONDS:g}: longer than an append waits for its lock)",
    )
    rotate.set_defaults(run=run_keys_rotate)


def run_erase(args: argparse.Namespace) -> int:
    """Erase one person (as an administrator at this machine) and print what was erased."""
    actor = Actor(principal_id=f"cli:{getpass.getuser()}", role=Role.ADMIN)
    ctx = CommandContext(actor=actor, at=datetime.now(UTC))
    finder = None
    if args.id_number is not None:
        finder = ("id_number", args.id_number)
    elif args.phone is not None:
        finder = ("phone", args.phone)
    ledger = Ledger(Settings())
    try:
        result = ledger.run(
            deciders.erase_personal_data,
            ctx,
            reason=args.reason,
            card_holder_id=args.card_holder,
            finder=finder,
        )
    finally:
        ledger.close()
    erased = result.extra.get("erased_subjects", "")
    print(f"erased {erased} at ledger position {result.position}")
    return 0


def run_keys_init(args: argparse.Namespace) -> int:
    """Write a fresh master-key file, never over an existing one."""
    if args.file.exists():
        print(f"eport-ledger: {args.file} exists; keys init never overwrites", file=sys.stderr)
        return 2
    master_keys.write_file(args.file, master_keys.generate(), replace=False)
    print(f"master keys written to {args.file} (0600): back it up apart from the database")
    return 0


def run_keys_rotate(args: argparse.Namespace) -> int:
    """Rotate the configured master keys: the file is replaced once every key is rewrapped."""
    settings = Settings()
    path = settings.master_key_path()
    if settings.master_keys is not None or path is None:
        print(
            "eport-ledger: the master keys come from EPORT_MASTER_KEYS; rotate them where they "
            "are kept (a file, via EPORT_MASTER_KEY_FILE, can be rotated here)",
            file=sys.stderr,
        )
        return 2
    try:
        keys = master_keys.load_file(path, create=False)
    except MasterKeyError as error:
        print(f"eport-ledger: {error}", file=sys.stderr)
        return 2
    store = EventStore(settings)
    try:
        staged = keys.with_new_current()
        master_keys.write_file(path, staged, replace=True)  # both keys, until the rewrap commits
        rotated, count = master_keys.rotate(store.database, staged, settle=args.settle)
        master_keys.write_file(path, rotated, replace=True)
    finally:
        store.close()
    print(f"rewrapped {count} data keys under {rotated.current}; {path} holds only it now")
    return 0
