"""Full verifications of the ledger started from the console: when, by whom, what they found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from ledger_store.eventstore.database import LedgerDatabase

RUNS: Final = "console_verify_runs"


@dataclass(frozen=True, slots=True)
class VerifyRun:
    """A full verification started from the console: when, by whom, what it found."""

    at: datetime
    staff_id: str
    intact: bool
    size: int
    problem: str | None


def create_runs_table(database: LedgerDatabase) -> None:
    """The table of verification runs (idempotent)."""
    with database.transaction() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {database.table(RUNS)} (at TEXT NOT NULL, "
            "staff_id TEXT NOT NULL, intact INTEGER NOT NULL, size BIGINT NOT NULL, problem TEXT)"
        )


def last_run(database: LedgerDatabase) -> VerifyRun | None:
    """The latest verification run, or None."""
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT at, staff_id, intact, size, problem FROM {database.table(RUNS)} "
            "ORDER BY at DESC LIMIT 1"
        ).fetchone()
    if row is None:
        return None
    at, staff_id, intact, size, problem = row
    return VerifyRun(
        datetime.fromisoformat(str(at)), str(staff_id), bool(intact), int(size), problem
    )
