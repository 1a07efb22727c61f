"""What every query function shares: read-your-writes, one read snapshot, where it reads, the
clock, masking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.identifiers import mask_id_number, mask_phone
from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from ledger_store.privacy.vault import PersonalDataVault
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.positions import reading
from projections.engine.schema import TableNames


@contextmanager
def snapshot(
    database: LedgerDatabase,
    views: Sequence[str],
    fresh: Freshness = NO_WAIT,
    names: TableNames | None = None,
) -> Iterator[tuple[SqlCursor, TableNames]]:
    """Wait (bounded) for the views to be as fresh as asked, then read in one transaction.

    Reading `asof_` tables (names given with a prefix) never waits: they are fixed.
    """
    names = names or TableNames(database)
    fresh.require(names, views)
    with reading(database) as cursor:
        yield cursor, names


@dataclass(frozen=True, slots=True)
class ViewSource:
    """What a query of personal data reads: the views in `database` (the live tables, or the
    fixed copy `names` names: an as-of rebuild), their sealed values revealed with `vault`, ID
    numbers and phones masked when `mask` (the hotline reads so; window staff and auditors not).
    """

    database: LedgerDatabase
    vault: PersonalDataVault
    mask: bool
    names: TableNames | None = None

    @property
    def tables(self) -> TableNames:
        """The tables read: the as-of copy `names` names, else the live views."""
        return self.names or TableNames(self.database)

    def snapshot(
        self, views: Sequence[str], fresh: Freshness
    ) -> AbstractContextManager[tuple[SqlCursor, TableNames]]:
        """`snapshot` of these views."""
        return snapshot(self.database, views, fresh, self.names)


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
