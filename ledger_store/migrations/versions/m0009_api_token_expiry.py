"""API tokens may expire: `api_tokens.expires_at` (NULL: only a revocation ends a token).

Grants and revocations are recorded in the ledger too (ApiTokenGranted, ApiTokenRevoked); the
table stays what a request is checked against.
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Add `expires_at` to `api_tokens`."""
    table = ctx.table("api_tokens")
    if ctx.dialect == "postgres":
        ctx.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS expires_at TEXT")
        return
    columns = {row[1] for row in ctx.cursor.execute(f"PRAGMA table_info({table})").fetchall()}
    if "expires_at" not in columns:
        ctx.execute(f"ALTER TABLE {table} ADD COLUMN expires_at TEXT")
