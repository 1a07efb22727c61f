"""`eport-ledger replay`: rebuild views from the ledger, optionally as of a moment."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.progress import TimeRemainingColumn

from api.cli.output import print_done
from api.cli.progress import counting_bar
from ledger_store.eventstore.store import EventStore
from projections.engine.rebuild import rebuild
from projections.registry import VIEW_NAMES


def register(subparsers: Any) -> None:
    """Add `replay`."""
    parser = subparsers.add_parser(
        "replay",
        help="rebuild views from zero (swapped in when done), or as of a moment into asof_ tables",
    )
    parser.add_argument(
        "--view",
        action="append",
        choices=VIEW_NAMES,
        metavar="V",
        help=f"a view to rebuild (repeatable; default all): {', '.join(VIEW_NAMES)}",
    )
    until = parser.add_mutually_exclusive_group()
    until.add_argument(
        "--until",
        metavar="TIME",
        type=_aware_time,
        help="as of an ISO 8601 time with a zone, e.g. 2024-06-30T16:00:00+08:00",
    )
    until.add_argument(
        "--until-position", metavar="N", type=_position, help="as of a ledger position (index)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print one machine-readable JSON document on stdout"
    )
    parser.set_defaults(run=run)


def _aware_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("the time needs a zone, e.g. Z or +08:00")
    return moment


def _position(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a ledger position")
    return int(text)


def run(args: argparse.Namespace) -> int:
    """Rebuild with a progress bar and say what was built."""
    console = Console(stderr=True)
    ledger = EventStore(mode="existing")
    try:
        with counting_bar(console, "replaying", TimeRemainingColumn()) as progress:
            task = progress.add_task("replay", total=None)
            result = rebuild(
                ledger,
                views=args.view,
                until_position=args.until_position,
                until_time=args.until,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        ledger.close()
    where = "asof_ tables (live views untouched)" if result.as_of else "the live views"
    print_done(
        args,
        {
            "events": result.events,
            "position": result.position,
            "views": list(result.views),
            "as_of": bool(result.as_of),
            "seconds": round(result.seconds, 3),
            "events_per_second": round(result.events_per_second),
        },
        f"replayed {result.events} entries up to ledger position {result.position} into {where}: "
        f"{', '.join(result.views)} in {result.seconds:.1f} s ({result.events_per_second:,.0f}/s)",
    )
    return 0
