"""Personal-data keys and blind indexes (ledger_store/privacy/key_store.py).

`personal_data_keys` holds one wrapped AES-256 data key per person (subject); deleting a row is
the erasure. `personal_data_index` maps keyed digests of ID numbers and phone numbers to subjects,
so a person can be found without any plain value in the database.
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Create `personal_data_keys` and `personal_data_index`."""
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('personal_data_keys')} (key_id TEXT PRIMARY KEY, "
        "subject_id TEXT NOT NULL UNIQUE, master_key_id TEXT NOT NULL, "
        f"wrapped {ctx.blob} NOT NULL, created_at TEXT NOT NULL)"
    )
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('personal_data_index')} (digest TEXT NOT NULL, "
        "subject_id TEXT NOT NULL, PRIMARY KEY (digest, subject_id))"
    )
    ctx.execute(
        "CREATE INDEX IF NOT EXISTS personal_data_index_subject "
        f"ON {ctx.table('personal_data_index')} (subject_id)"
    )
