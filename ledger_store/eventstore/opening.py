"""Opening the ledger's database: reach it, then find or prepare the ledger in it.

Before the library's pool is asked for anything, one direct connection tells exactly why a
PostgreSQL server cannot be used (the pool would only say that it timed out); a SQLite file is
checked on disk. Commands that write then bring the schema up to date (`prepare`); commands that
only read require a ledger to be there and never create one (`require_ledger`).
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import psycopg

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.failures import (
    ConfigurationError,
    DatabaseUnavailableError,
    LedgerStateError,
)
from ledger_store.eventstore.settings import Settings
from ledger_store.migrations.runner import Migration, migrate, refuse_if_too_new, schema_status

log = logging.getLogger("eport.database")


def check_reachable(settings: Settings, *, create: bool) -> None:
    """Refuse, in one line, a database that cannot be opened: the reason, host, port, file."""
    if settings.is_postgres:
        _connect_once(settings)
        return
    path = Path(settings.sqlite_path())
    if path.exists():
        _check_sqlite_file(path)
        return
    if not create:
        raise LedgerStateError(
            f"no ledger at {path.resolve()}: the file does not exist (EPORT_DATABASE_URL); "
            "nothing was created"
        )
    if not path.parent.is_dir():
        raise ConfigurationError(
            f"EPORT_DATABASE_URL={settings.database_url}: the directory {path.parent.resolve()} "
            "does not exist (create it, or name another file)"
        )


def _check_sqlite_file(path: Path) -> None:
    conn = sqlite3.connect(path)  # the file exists: nothing is created
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise LedgerStateError(
            f"{path.resolve()} is not a usable SQLite database: {error}"
        ) from None
    finally:
        conn.close()


def _connect_once(settings: Settings) -> None:
    kwargs = settings.connect_kwargs()
    try:
        with psycopg.connect(**kwargs, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise DatabaseUnavailableError(connect_failure(settings, error)) from None


def connect_failure(settings: Settings, error: BaseException) -> str:
    """One line: which server and database, and why libpq would not connect to it."""
    kwargs = settings.connect_kwargs()
    text = " ".join(str(error).split())
    text = text.removeprefix("connection failed: ")
    text = re.sub(r'^connection to server at "[^"]*"(?: \([^)]*\))?, port \d+ failed: ', "", text)
    text = text.replace("FATAL: ", "").strip()
    hints = {
        "Connection refused": " (is the server running and listening there?)",
        "does not exist": "",
        "timeout expired": " (connect_timeout ran out: a firewall, or the wrong host?)",
    }
    hint = next((h for marker, h in hints.items() if marker in text), "")
    if re.search(r'database "[^"]*" does not exist', text):
        hint = " (create it: CREATE DATABASE, or fix the URL's path)"
    return (
        f"cannot connect to PostgreSQL at {kwargs['host']}:{kwargs['port']} "
        f'(database "{kwargs["dbname"]}", user "{kwargs["user"]}"): {text}{hint}'
    )


def prepare(database: LedgerDatabase, settings: Settings) -> list[Migration]:
    """Bring the schema up to date (or, with EPORT_AUTO_MIGRATE=false, require it to be); the
    migrations this process applied."""
    where = settings.where()
    status = schema_status(database)
    refuse_if_too_new(status, where)
    if not status.pending:
        return []
    if not settings.auto_migrate:
        raise LedgerStateError(
            f"the database ({where}) is at schema version {status.current} and this release "
            f"needs {status.latest}; EPORT_AUTO_MIGRATE is false: run `eport-ledger migrate`"
        )
    return migrate(database, where=where, on_apply=_announce)


def _announce(step: Migration) -> None:
    log.info("applying migration %s (%s)", step.version, step.name)


def require_ledger(database: LedgerDatabase, settings: Settings) -> None:
    """Refuse a database without a ledger, or one a later release migrated (reads only)."""
    status = schema_status(database)
    if not status.has_ledger:
        raise LedgerStateError(
            f"no ledger at {settings.where()} (EPORT_DATABASE_URL); nothing was created"
        )
    refuse_if_too_new(status, settings.where())
