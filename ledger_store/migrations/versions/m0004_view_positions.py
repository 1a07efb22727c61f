"""The views' positions: for each view, the last ledger index its rows reflect, and its version.

The views' own tables are not migrated: they are derived from the ledger, and a view whose
shape changes gets a new version and is rebuilt from the ledger instead
(`projections/engine/runner.py::setup_views`, run by `serve`, `worker`, `replay` and
`migrate`).
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Create `view_positions`."""
    ctx.execute(
        f"CREATE TABLE IF NOT EXISTS {ctx.table('view_positions')} ("
        "view_name TEXT NOT NULL PRIMARY KEY, position BIGINT NOT NULL, "
        "version INTEGER NOT NULL, updated_at TEXT)"
    )
