"""The `eport-ledger` command line: one sub-command module per job, under api/cli/.

Every mistake an operator can make ends in ONE line on stderr, `eport-ledger: <cause>`, and an
exit code from the table in docs/operations.md ("Exit codes"); a traceback only with `--debug`.
With `--json`, a command that fails also prints `{"ok": false, "error": …, "exit_code": …}` on
stdout, so a script reads one JSON document either way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback
from collections.abc import Sequence
from importlib import metadata

import psycopg
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from api.cli.output import print_document
from api.http.settings import ApiSettings
from domain.base import DomainError
from ledger_store.eventstore.failures import OperatorError
from ledger_store.eventstore.settings import Settings, settings_error

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
    "api.cli.migrate",
)

EXIT_OK = 0
EXIT_FOUND_PROBLEM = 1
EXIT_USAGE = 2
EXIT_DATABASE = 4
EXIT_INTERRUPTED = 130
EXIT_UNEXPECTED = 70
SETTINGS_CLASSES: dict[str, type[BaseSettings]] = {
    cls.__name__: cls for cls in (Settings, ApiSettings)
}


def version() -> str:
    """This installation's version, from the package metadata."""
    try:
        return metadata.version("eport-ledger")
    except metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The parser with every sub-command that is installed."""
    parser = argparse.ArgumentParser(
        prog="eport-ledger",
        description="China E-Port enrollment and UKEY ledger: tamper-evident, event-sourced.",
    )
    parser.add_argument("--version", action="version", version=f"eport-ledger {version()}")
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a failure (for a bug report)"
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
    except OperatorError as error:
        return _failed(args, error.message, error.exit_code)
    except ValidationError as error:
        settings = SETTINGS_CLASSES.get(error.title)
        if settings is not None:
            problem = settings_error(error, settings)
            return _failed(args, problem.message, problem.exit_code)
        return _failed(args, f"invalid input: {_one_line(error)}", EXIT_USAGE)
    except DomainError as error:
        return _failed(args, f"refused: {error}", EXIT_USAGE)
    except (PersistenceError, psycopg.Error) as error:
        return _failed(args, f"database error: {_one_line(error)}", EXIT_DATABASE)
    except KeyboardInterrupt:
        return _failed(args, "interrupted", EXIT_INTERRUPTED)
    except Exception as error:
        return _failed(
            args,
            f"unexpected error ({type(error).__name__}): {_one_line(error)}"
            + ("" if args.debug else "; run with --debug for the traceback"),
            EXIT_UNEXPECTED,
        )
    return int(code or 0)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _failed(args: argparse.Namespace, message: str, code: int) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"eport-ledger: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        document = {"ok": False, "error": message, "exit_code": code}
        print_document(document)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
