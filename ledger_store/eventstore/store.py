"""The event store: the one eventsourcing application under the Ledger (recorder, mapper, cache).

It knows nothing of commands. It loads aggregates (through the library's repository, whose
cache it keeps current), appends stored events with the hash chain and any same-transaction
writes, and answers whether an append whose acknowledgement was lost did commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    Mapper,
    OperationalError,
    StoredEvent,
)
from eventsourcing.utils import get_topic

from domain.base import Aggregate, ConflictError, DomainEvent, NotFoundError
from domain.catalog import project
from ledger_store.eventstore.database import LedgerDatabase, TransactionWrite
from ledger_store.eventstore.mapping import OrjsonTranscoder, PydanticMapper
from ledger_store.eventstore.opening import check_reachable, prepare, require_ledger
from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder
from ledger_store.eventstore.settings import Settings, load_settings
from ledger_store.eventstore.sqlite_recorder import ChainedSQLiteRecorder
from ledger_store.migrations.runner import Migration

TAgg = TypeVar("TAgg", bound=Aggregate)
OpenMode = Literal["create", "existing", "read"]

LOST_CONNECTION = (OperationalError, InterfaceError)
"""What an append raises when the connection broke: it may or may not have committed."""


def find_with(
    load: Callable[[type[TAgg], UUID], TAgg], cls: type[TAgg], aggregate_id: UUID
) -> TAgg | None:
    """What `load` gives for the aggregate, or None when it does not exist (its NotFoundError);
    any other refusal or error passes through. The store and a command's reader both find so."""
    try:
        return load(cls, aggregate_id)
    except NotFoundError:
        return None


class EventStore(Application[UUID]):
    """Every enterprise, card holder and key in one eventsourcing application: one global order."""

    name = "Eport"  # fixed: the library derives table names from it
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        # Aggregates are immutable, so cached states need no deep copy; fast-forwarding reads
        # the events another process appended since, so a read is never stale.
        "AGGREGATE_CACHE_MAXSIZE": "5000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def __init__(self, settings: Settings | None = None, *, mode: OpenMode = "create") -> None:
        """Open the ledger's database.

        - `create` (commands that write): bring the schema up to date, creating the ledger
          when there is none;
        - `existing` (commands that write into a ledger, never make one): refuse a missing
          ledger, then bring its schema up to date;
        - `read` (commands that only read): refuse a missing ledger; nothing is created or
          changed (a database of an earlier release is read as it is).
        """
        self.settings = settings or load_settings()
        check_reachable(self.settings, create=mode == "create")
        super().__init__(env=self.settings.library_env())
        recorder = self.recorder
        assert isinstance(recorder, ChainedSQLiteRecorder | ChainedPostgresRecorder)
        self.database: LedgerDatabase = recorder
        self.migrations_applied: list[Migration] = []
        """The migrations this store applied when it opened (usually none)."""
        try:
            if mode != "create":
                require_ledger(recorder, self.settings)
            if mode != "read":
                self.migrations_applied = prepare(recorder, self.settings)
        except BaseException:
            self.close()
            raise

    def construct_mapper(self) -> Mapper[UUID]:
        """Pydantic events stored as orjson, under their explicit type names."""
        return PydanticMapper(transcoder=OrjsonTranscoder())

    # -- reading -----------------------------------------------------------------------------

    def load(self, cls: type[TAgg], aggregate_id: UUID, *, what: str = "") -> TAgg:
        """The aggregate's current state (one read), or NotFoundError; the cache takes it."""
        missing = NotFoundError("not_found", f"{what or cls.__name__.lower()} does not exist")
        try:
            aggregate: Aggregate = self.repository.get(
                aggregate_id,
                projector_func=project,  # type: ignore[arg-type]
            )
        except AggregateNotFoundError:
            raise missing from None
        if not isinstance(aggregate, cls):
            raise missing
        if self.repository.cache is not None:
            # The library fast-forwards a cached aggregate by folding new events into a new
            # object (ours are immutable), so the current state must be put back.
            self.repository.cache.put(aggregate_id, aggregate)
        return aggregate

    def find(self, cls: type[TAgg], aggregate_id: UUID) -> TAgg | None:
        """The aggregate's current state, or None when it does not exist."""
        return find_with(self.load, cls, aggregate_id)

    def cached(self, aggregate_id: UUID) -> Aggregate | None:
        """The state this process last saw of an aggregate (no read: it may be stale)."""
        cache = self.repository.cache
        if cache is None:
            return None
        try:
            state = cache.get(aggregate_id)
        except KeyError:
            return None
        return state if isinstance(state, Aggregate) else None

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        """Every event of one aggregate, in version order."""
        return list(self.events.get(aggregate_id))  # type: ignore[arg-type]

    def version_of(self, aggregate_id: UUID) -> int:
        """The aggregate's last version (0 when it has no events)."""
        last = list(self.events.get(aggregate_id, desc=True, limit=1))
        return last[0].originator_version if last else 0

    def moved(self, aggregate_id: UUID, version: int) -> bool:
        """Whether an aggregate has events after `version` (another process wrote to it)."""
        return bool(list(self.events.get(aggregate_id, gt=version, limit=1)))

    def position(self) -> int:
        """The ledger's last index (its size)."""
        return self.database.head()[0]

    # -- appending ---------------------------------------------------------------------------

    def to_stored(self, events: Sequence[DomainEvent]) -> list[StoredEvent]:
        """The stored form of events (bytes the chain will cover)."""
        return [self.mapper.to_stored_event(event) for event in events]

    def append(
        self, stored: Sequence[StoredEvent], writes: Sequence[TransactionWrite] = ()
    ) -> list[int]:
        """Append stored events and the writes in one transaction; their ledger indexes.

        Raises the library's IntegrityError when a version is taken (a lost race or a stale
        decision) and OperationalError/InterfaceError when the connection broke, in which case
        only `committed_indexes` can tell whether it committed.
        """
        return list(self.recorder.insert_events(list(stored), writes=writes) or ())

    def committed_indexes(self, stored: Sequence[StoredEvent]) -> list[int] | None:
        """The indexes of exactly these stored events if an append committed them, else None."""
        return self.database.committed_indexes(stored)

    def record(
        self, events: Sequence[DomainEvent], writes: Sequence[TransactionWrite] = ()
    ) -> list[int]:
        """Append events as they are (no decision): a taken version is a ConflictError.

        A lost acknowledgement is resolved by reading: if COMMIT reached the server, the events
        are there with exactly these bytes and their indexes are returned.
        """
        stored = self.to_stored(events)
        try:
            positions = self.append(stored, writes)
        except IntegrityError as error:
            raise ConflictError(
                "concurrent_change",
                "another command changed the same record first; reload and retry",
            ) from error
        except LOST_CONNECTION:
            committed = self.committed_indexes(stored)
            if committed is None:
                raise
            positions = committed
        remember(self, events)
        return positions


def remember(store: EventStore, events: Sequence[DomainEvent]) -> None:
    """Put the states these (recorded) events lead to in the cache, where it holds their base.

    A concurrent command may have put a newer state meanwhile; a state put out of order is only
    ever older, and the next command decided on it is decided again when the append refuses it.
    """
    cache: Any = store.repository.cache
    if cache is None:
        return
    by_aggregate: dict[UUID, list[DomainEvent]] = {}
    for event in events:
        by_aggregate.setdefault(event.originator_id, []).append(event)
    for aggregate_id, own in by_aggregate.items():
        base = None
        if own[0].originator_version > 1:
            base = store.cached(aggregate_id)
            if base is None or base.version != own[0].originator_version - 1:
                continue
        cache.put(aggregate_id, project(base, own))
