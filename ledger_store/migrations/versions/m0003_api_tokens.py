"""Bearer tokens of the HTTP API, stored only as SHA-256 hashes (api/http/auth.py)."""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Create `api_tokens`."""
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('api_tokens')} ("
        "token_hash TEXT NOT NULL PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, "
        "principal TEXT NOT NULL, role TEXT NOT NULL, uscc TEXT, name TEXT NOT NULL, "
        "created_at TEXT NOT NULL, revoked_at TEXT)"
    )
