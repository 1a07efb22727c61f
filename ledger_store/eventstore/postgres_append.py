"""The PostgreSQL append: a PL/pgSQL function that locks, hashes and inserts, and the ONE
autocommitted statement that calls it, with any same-transaction writes as CTEs after it."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Composed, Identifier

from ledger_store.eventstore.database import AppendedPosition, TransactionWrite

SCALAR_APPEND_LIMIT = 64
"""Appends up to this many events send scalar parameters; larger ones send four arrays."""

APPENDED_POSITION = AppendedPosition("(SELECT indexes[cardinality(indexes)] FROM appended)", ())
"""Where an append ends, for the writes in its statement: they share its snapshot, so they read
the function's answer (the `appended` CTE), never the events table."""

APPEND_FUNCTION = (
    files("ledger_store.eventstore").joinpath("append_function.sql").read_text(encoding="utf-8")
)
"""The append, computed where the lock is held: PL/pgSQL in `append_function.sql` beside this
file (`{schema}`, `{table}`… are filled in by psycopg's `SQL.format`, so a literal brace is
doubled). `ledger_store.proofs.chain` is the reference: the verifier recomputes every hash in
Python, and a test compares every hash with it."""


class AppendStatements:
    """The statements that append to one events table (its function, then calls of it)."""

    def __init__(
        self, schema: Identifier, table: Identifier, function: Identifier, channel: str
    ) -> None:
        self._create = SQL(APPEND_FUNCTION).format(
            function=function, schema=schema, table=table, channel=Identifier(channel)
        )
        self.function = SQL("{schema}.{function}").format(schema=schema, function=function)
        self._statements: dict[int | None, str] = {}

    def create_function(self) -> Composed:
        """CREATE OR REPLACE the append function (run with the table's creation)."""
        return self._create

    def statement(
        self, stored_events: Sequence[StoredEvent], writes: Sequence[TransactionWrite]
    ) -> tuple[str, list[Any]]:
        """The one statement appending these events, then `writes` (in its transaction)."""
        columns = (
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
        )
        if len(stored_events) <= SCALAR_APPEND_LIMIT:
            params: list[Any] = [value for column in columns for value in column]
            append = self._call(len(stored_events))
        else:  # a bulk append: four array parameters (PostgreSQL takes at most 65,535)
            params = list(columns)
            append = self._call(None)
        if not writes:
            return append, params
        ctes = [f"appended AS ({append} AS indexes)"]
        for number, write in enumerate(writes):
            sql, write_params = write.statement(APPENDED_POSITION)
            ctes.append(f"write{number} AS ({sql.replace('?', '%s')})")
            params += write_params
        return f"WITH {', '.join(ctes)} SELECT indexes FROM appended", params

    def _call(self, events: int | None) -> str:
        """`SELECT append(ARRAY[...]::uuid[], ...)` for this many events (None: array params).

        For a command's few events the arrays are built in SQL from scalar parameters: psycopg
        dumps scalars cheaply but inspects every list it is given, which cost a third of an
        append's client CPU.
        """
        statement = self._statements.get(events)
        if statement is None:
            marks = "%s" if events is None else "ARRAY[" + ", ".join(["%s"] * events) + "]"
            arrays = ", ".join(f"{marks}::{kind}[]" for kind in ("uuid", "bigint", "text", "bytea"))
            statement = f"SELECT {self.function.as_string()}({arrays})"
            self._statements[events] = statement
        return statement
