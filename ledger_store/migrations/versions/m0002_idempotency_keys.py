"""Idempotency keys: a command's first answer, written in the transaction of its events.

`status` is a column of the table's first shape, no longer read; it stays so that databases of
0.1.0 and new ones have the same columns.
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Create `idempotency_keys`."""
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('idempotency_keys')} ("
        "scope TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
        f"status INTEGER NOT NULL, body {ctx.blob} NOT NULL, position BIGINT NOT NULL, "
        "PRIMARY KEY (scope, key))"
    )
