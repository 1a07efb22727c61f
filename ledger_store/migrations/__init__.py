"""Versioned migrations of the ledger's database: every table the project owns, in order.

`migrate(database)` brings a database to the latest version; `schema_status(database)` says
where it stands. See `runner.py` for how they run and `versions/` for the steps themselves.
"""

from ledger_store.migrations.runner import (
    MIGRATIONS,
    MIGRATIONS_TABLE,
    Migration,
    MigrationContext,
    SchemaStatus,
    latest_version,
    migrate,
    schema_status,
)

__all__ = [
    "MIGRATIONS",
    "MIGRATIONS_TABLE",
    "Migration",
    "MigrationContext",
    "SchemaStatus",
    "latest_version",
    "migrate",
    "schema_status",
]
