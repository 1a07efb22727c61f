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
