"""Remove the library's insert function and its composite type (PostgreSQL, 0.1.0 databases).

Release 0.1.0 let the eventsourcing library create its tables, and with them a PL/pgSQL insert
function (`es_insert_events_uuid`) that skips the events table's writer lock and the hash
chain. Nothing calls it; while it exists, anything that did would write events outside the
chain. The ledger appends only through `eport_events_append` (m0001).
"""

from __future__ import annotations

from ledger_store.migrations.runner import MigrationContext


def up(ctx: MigrationContext) -> None:
    """Drop `es_insert_events_uuid` and `stored_event_uuid` where they exist."""
    if ctx.dialect != "postgres":
        return
    ctx.execute(f"DROP FUNCTION IF EXISTS {ctx.table('es_insert_events_uuid')}")
    ctx.execute(f"DROP TYPE IF EXISTS {ctx.table('stored_event_uuid')}")
