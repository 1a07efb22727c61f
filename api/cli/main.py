"""The `eport-ledger` command line: one sub-command module per job, under api/cli/."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from domain.base import DomainError

# Each module registers its sub-commands with `register(subparsers)`; order is the help order.
COMMAND_MODULES = (
    "api.cli.serve",
    "api.cli.demo",
    "api.cli.tokens",
    "api.cli.staff",
    "api.cli.worker",
    "api.cli.replay",
    "api.cli.audit",
    "api.cli.personal_data",
)


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command that is installed."""
    parser = argparse.ArgumentParser(
        prog="eport-ledger",
        description="China E-Port enrollment and UKEY ledger: tamper-evident, event-sourced.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; exit non-zero with a one-line reason on refusal."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)
    except DomainError as error:
        print(f"eport-ledger: refused: {error}", file=sys.stderr)
        return 2
    except ValidationError as error:
        print(f"eport-ledger: invalid input: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("eport-ledger: interrupted", file=sys.stderr)
        return 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
