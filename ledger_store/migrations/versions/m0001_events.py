"""The events table with its dense ledger index and hashes; on PostgreSQL the append function.

The eventsourcing library would create its own events table; it is told not to (CREATE_TABLE=n)
and this migration creates it instead, with the chain columns. On PostgreSQL the append function
(`postgres_append.APPEND_FUNCTION`) is created beside it; the library's composite type and insert
function are not (the insert function skips the writer lock: m0006 removes them from databases
made before migrations existed).
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext

APPEND_FUNCTION_SHA256 = "a0ce49ed8f1ec13259c56c272685fa2ae0264ba411e80dd953be7fb31321b7d8"
"""The append function's text this migration creates (tests/integration/test_migrations.py
checks that the text did not change without a migration that replaces it)."""


def up(ctx: MigrationContext) -> None:
    """Create the events table, its indexes and (PostgreSQL) the append function."""
    database = ctx.database
    name: str = getattr(database, "events_table_name")  # noqa: B009 - both recorders have it
    table = database.events_table
    if ctx.dialect == "postgres":
        ctx.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
            "topic text NOT NULL, state bytea NOT NULL, notification_id bigserial, "
            "ledger_index bigint NOT NULL, entry_hash bytea NOT NULL, chain_hash bytea NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        )
        ctx.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_notification_id_idx" '
            f"ON {table} (notification_id ASC)"
        )
        ctx.execute(
            f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}_ledger_index_idx" ON {table} (ledger_index)'
        )
        ctx.execute(getattr(database, "appends").create_function())  # noqa: B009
        return
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "originator_id TEXT NOT NULL, originator_version INTEGER NOT NULL, "
        "topic TEXT NOT NULL, state BLOB NOT NULL, "
        "ledger_index INTEGER NOT NULL, entry_hash BLOB NOT NULL, chain_hash BLOB NOT NULL, "
        "PRIMARY KEY (originator_id, originator_version))"
    )
    ctx.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {name}_ledger_index ON {table} (ledger_index)")
