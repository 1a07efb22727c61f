"""The Merkle tree's nodes and state, the signed checkpoints, and every key that ever signed.

`ledger_store/transparency/tree_store.py` describes the four tables.
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext
from ledger_store.proofs.chain import GENESIS


def up(ctx: MigrationContext) -> None:
    """Create `merkle_nodes`, `merkle_state` (with its one row), `checkpoints`, `signing_keys`."""
    blob = ctx.blob
    compact = "" if ctx.dialect == "postgres" else " WITHOUT ROWID"
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('merkle_nodes')} (level INTEGER NOT NULL, "
        f"idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)){compact}"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('merkle_state')} (id INTEGER PRIMARY KEY "
        f"CHECK (id = 1), size BIGINT NOT NULL, chain_head {blob} NOT NULL)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('checkpoints')} (size BIGINT PRIMARY KEY, "
        "root_hash TEXT NOT NULL, chain_head TEXT NOT NULL, timestamp TEXT NOT NULL, "
        "key_id TEXT NOT NULL, signature TEXT NOT NULL)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('signing_keys')} (key_id TEXT PRIMARY KEY, "
        "public_key_pem TEXT NOT NULL, first_used TEXT NOT NULL)"
    )
    ctx.execute(
        f"INSERT INTO {ctx.table('merkle_state')} (id, size, chain_head) VALUES (1, 0, ?) "
        "ON CONFLICT DO NOTHING",
        (GENESIS,),
    )
