"""What every query function shares: read-your-writes, one read snapshot, the clock, masking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from domain.identifiers import mask_id_number, mask_phone
from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from projections.engine.freshness import DEFAULT_TIMEOUT, require_position
from projections.engine.positions import reading
from projections.engine.schema import TableNames


@contextmanager
def snapshot(
    database: LedgerDatabase,
    views: Sequence[str],
    min_position: int | None,
    timeout: float = DEFAULT_TIMEOUT,
    names: TableNames | None = None,
) -> Iterator[tuple[SqlCursor, TableNames]]:
    """Wait (bounded) for the views to reach `min_position`, then read in one transaction.

    Reading `asof_` tables (names given with a prefix) never waits: they are fixed.
    """
    names = names or TableNames(database)
    if not names.prefix:
        require_position(database, views, min_position, timeout)
    with reading(database) as cursor:
        yield cursor, names


def now_or(now: datetime | None) -> datetime:
    """`now`, or the clock's time, aware and in UTC."""
    moment = now or datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def masked_id(value: str | None, mask: bool) -> str | None:
    """An ID number, masked for the hotline (`4601**********0016`)."""
    return mask_id_number(value) if value is not None and mask else value


def masked_phone(value: str | None, mask: bool) -> str | None:
    """A phone number, masked for the hotline (`138****8000`)."""
    return mask_phone(value) if value is not None and mask else value
