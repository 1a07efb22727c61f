"""`eport-ledger demo`: fill the ledger with enterprises living through the whole process."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import TimeElapsedColumn

from api.cli.output import print_done
from api.cli.progress import counting_bar
from api.demo.scenario import Demo
from ledger_store.application.ledger import Ledger


def register(subparsers: Any) -> None:
    """Add `demo`."""
    parser = subparsers.add_parser(
        "demo", help="drive N enterprises through the whole process via the real command path"
    )
    parser.add_argument("--enterprises", type=int, default=20, metavar="N")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument(
        "--json", action="store_true", help="print one machine-readable JSON document on stdout"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print what it did."""
    if args.enterprises < 1:
        print("eport-ledger: --enterprises must be at least 1", file=sys.stderr)
        return 2
    console = Console(stderr=True)
    ledger = Ledger()
    try:
        started = time.perf_counter()
        demo = Demo(ledger, seed=args.seed, enterprises=args.enterprises)
        with counting_bar(console, "enterprises", TimeElapsedColumn()) as progress:
            task = progress.add_task("demo", total=args.enterprises)
            stats = demo.run(lambda done: progress.update(task, completed=done))
        elapsed = time.perf_counter() - started
        position = ledger.position()
        head = ledger.database.head()[1].hex()
    finally:
        ledger.close()
    by_command = dict(sorted(stats.commands.items()))
    print_done(
        args,
        {
            "enterprises": stats.enterprises,
            "commands": stats.total,
            "by_command": by_command,
            "seconds": round(elapsed, 3),
            "ledger_size": position,
            "chain_head": head,
            "seed": args.seed,
        },
        f"demo: {stats.enterprises} enterprises, {stats.total} commands in {elapsed:.1f} s "
        f"({stats.total / elapsed:.0f}/s); ledger size {position}, chain head {head}\n"
        "commands: " + ", ".join(f"{k} {v}" for k, v in by_command.items()),
    )
    return 0
