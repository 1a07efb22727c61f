"""The Ledger: one eventsourcing application holding every enterprise, operator and key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, InterfaceError, Mapper, OperationalError
from eventsourcing.utils import get_topic

from domain.base import (
    Aggregate,
    ConflictError,
    DomainError,
    DomainEvent,
    NotFoundError,
)
from domain.catalog import project
from ledger_store.application.idempotency import (
    IdempotencyClaim,
    IdempotencyWrite,
    StoredAnswer,
    create_table,
    find_answer,
)
from ledger_store.application.reader import (
    NotCachedError,
    cached_state,
    deciding_from_cache,
    refuse_reads,
    remember,
)
from ledger_store.eventstore.database import LedgerDatabase, TransactionWrite
from ledger_store.eventstore.mapping import OrjsonTranscoder, PydanticMapper
from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.sqlite_recorder import ChainedSQLiteRecorder

TAgg = TypeVar("TAgg", bound=Aggregate)
Decide = Callable[[], tuple[UUID, Sequence[DomainEvent]]]
"""A command's decision: load fresh state, apply the rules, return (subject id, new events)."""

COMMUTING_RETRIES = 20


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command reached: the aggregate it changed, its version, the ledger position."""

    id: UUID
    version: int
    position: int
    events: tuple[DomainEvent, ...] = ()
    replayed: bool = False
    extra: tuple[tuple[str, str], ...] = ()

    def answer(self) -> dict[str, Any]:
        """The JSON answer of the API for this command."""
        body: dict[str, Any] = {
            "id": str(self.id),
            "version": self.version,
            "position": self.position,
        }
        body.update(self.extra)
        return body

    @classmethod
    def from_answer(cls, stored: StoredAnswer) -> CommandResult:
        """The first answer given under an idempotency key, given again."""
        body = dict(stored.body)
        subject, version, position = body.pop("id"), body.pop("version"), body.pop("position")
        extra = tuple((str(k), str(v)) for k, v in body.items())
        return cls(UUID(subject), int(version), int(position), replayed=True, extra=extra)


class VersionMismatchError(ConflictError):
    """If-Match named a version the aggregate is no longer at."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            "version_mismatch",
            f"If-Match expected version {expected}, the record is at version {current}",
            "If-Match",
        )
        self.expected = expected
        self.current = current


def check_version(aggregate: Aggregate, expected: int | None) -> None:
    """Refuse when the caller's expected version (If-Match) is not the current one."""
    if expected is not None and aggregate.version != expected:
        raise VersionMismatchError(expected, aggregate.version)


class LedgerCore(Application[UUID]):
    """Loads aggregates and appends their events, with the hash chain, in one transaction."""

    name = "Eport"
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
        # Aggregates are immutable, so cached states need no deep copy; fast-forwarding reads
        # the events another process appended since, so the cache is never stale.
        "AGGREGATE_CACHE_MAXSIZE": "5000",
        "AGGREGATE_CACHE_FASTFORWARD": "y",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = LedgerCore.name  # one fixed name, so table names never drift

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        super().__init__(env=self.settings.library_env())
        recorder = self.recorder
        assert isinstance(recorder, ChainedSQLiteRecorder | ChainedPostgresRecorder)
        self.database: LedgerDatabase = recorder
        create_table(self.database)

    def construct_mapper(self) -> Mapper[UUID]:
        """Pydantic events stored as orjson."""
        return PydanticMapper(transcoder=OrjsonTranscoder())

    def load(self, cls: type[TAgg], aggregate_id: UUID, *, what: str = "") -> TAgg:
        """The aggregate's current state, or NotFoundError (cached while deciding a command)."""
        cached = cached_state(self.repository.cache, aggregate_id)
        if isinstance(cached, cls):
            return cached
        refuse_reads(aggregate_id)
        try:
            aggregate: Aggregate = self.repository.get(
                aggregate_id,
                projector_func=project,  # type: ignore[arg-type]
            )
        except AggregateNotFoundError:
            raise NotFoundError(
                "not_found", f"{what or cls.__name__.lower()} does not exist", None
            ) from None
        if not isinstance(aggregate, cls):
            raise NotFoundError("not_found", f"{what or cls.__name__.lower()} does not exist")
        if self.repository.cache is not None:
            # The library fast-forwards a cached aggregate by mutating it in place; ours are
            # immutable, so the fast-forwarded state must be put back.
            self.repository.cache.put(aggregate_id, aggregate)
        return aggregate

    def find(self, cls: type[TAgg], aggregate_id: UUID) -> TAgg | None:
        """The aggregate's current state, or None when it does not exist."""
        try:
            return self.load(cls, aggregate_id)
        except NotFoundError:
            return None

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        """Every event of one aggregate, in version order."""
        return list(self.events.get(aggregate_id))  # type: ignore[arg-type]

    def record(
        self, events: Sequence[DomainEvent], writes: Sequence[TransactionWrite] = ()
    ) -> list[int]:
        """Append events atomically with the chain; a lost race is a ConflictError."""
        try:
            positions = [r.notification.id for r in self.save(*events, writes=writes)]
        except IntegrityError as error:
            raise ConflictError(
                "concurrent_change",
                "another command changed the same record first; reload and retry",
            ) from error
        except (OperationalError, InterfaceError):
            # The connection broke: if COMMIT reached the server, the events are there with
            # exactly these bytes, and deciding again would record the command twice.
            stored = [self.mapper.to_stored_event(event) for event in events]
            committed = self.database.committed_indexes(stored)
            if committed is None:
                raise
            positions = committed
        remember(self.repository.cache, events)
        return positions

    def execute(
        self,
        decide: Decide,
        *,
        commutes: bool = False,
        idempotency: IdempotencyClaim | None = None,
        extra: Callable[[], dict[str, str]] | None = None,
    ) -> CommandResult:
        """Run a command: decide its events from current state, then record them.

        The decision may use cached aggregates; the append (and a read of what is only read)
        checks that they were current, else the command is decided again from fresh state
        (`_decide`). Under an idempotency key the first answer is stored with the events and
        given again on a retry. Commands that commute (a PIN attempt) are decided again on a
        lost race; others surface the ConflictError so the caller can reconsider.
        """
        if idempotency is not None and (stored := find_answer(self.database, idempotency)):
            return CommandResult.from_answer(stored)
        attempts = COMMUTING_RETRIES if commutes else 1
        attempt, fresh = 0, False
        while True:
            decided = self._decide(decide, fresh)
            assert decided is not None  # with reads, there is always a decision
            subject, events, from_cache = decided
            if not events:
                return CommandResult(subject, self._version_of(subject), self.position())
            version, more, writes = self._prepared(subject, events, idempotency, extra)
            try:
                positions = self.record(events, writes)
            except ConflictError:
                if idempotency is not None and (stored := find_answer(self.database, idempotency)):
                    return CommandResult.from_answer(stored)
                if from_cache:  # the cached state was stale, not a race: decide from fresh state
                    fresh = True
                    continue
                attempt += 1
                if attempt == attempts:
                    raise
                continue
            return CommandResult(subject, version, max(positions), tuple(events), extra=more)

    def _decide(
        self, decide: Decide, fresh: bool, *, reads: bool = True
    ) -> tuple[UUID, Sequence[DomainEvent], bool] | None:
        """Decide from cached state where the append checks it (see `cached_decisions`).

        Answers the decision and whether an aggregate it writes came from the cache unverified.
        With `reads=False` (on the event loop) it answers None wherever it would read: deciding
        fresh, an uncached aggregate, or checking a refusal, a no-op or state it only read.
        """
        if fresh or self.repository.cache is None:
            return (*decide(), False) if reads else None
        try:
            with deciding_from_cache(only=not reads) as unverified:
                subject, events = decide()
        except NotCachedError:
            return None
        except DomainError:
            if not unverified:
                raise
            return (*decide(), False) if reads else None  # refused on what may be stale
        written = {event.originator_id for event in events}
        only_read = {a: v for a, v in unverified.items() if a not in written}
        if not reads and (not events or only_read):
            return None
        if not events or any(self._moved(a, v) for a, v in only_read.items()):
            return (*decide(), False)
        return subject, events, bool(written & unverified.keys())

    def _moved(self, aggregate_id: UUID, version: int) -> bool:
        """Whether an aggregate has events after `version` (another process wrote to it)."""
        return bool(list(self.events.get(aggregate_id, gt=version, limit=1)))

    def create(
        self,
        decide: Decide,
        idempotency: IdempotencyClaim | None,
        what: str,
        extra: Callable[[], dict[str, str]] | None = None,
    ) -> CommandResult:
        """Run a command that creates an aggregate; an existing one is a ConflictError."""
        try:
            return self.execute(decide, idempotency=idempotency, extra=extra)
        except ConflictError as error:
            raise ConflictError("already_exists", f"{what} is already in the ledger") from error

    def _prepared(
        self,
        subject: UUID,
        events: Sequence[DomainEvent],
        claim: IdempotencyClaim | None,
        extra: Callable[[], dict[str, str]] | None,
    ) -> tuple[int, tuple[tuple[str, str], ...], list[TransactionWrite]]:
        """The subject's new version, the answer's extra fields and the writes of the append."""
        version = max(
            (e.originator_version for e in events if e.originator_id == subject), default=0
        )
        more = tuple((extra() if extra else {}).items())
        if claim is None:
            return version, more, []
        answer = CommandResult(subject, version, 0, extra=more).answer()  # position: the append's
        return version, more, [IdempotencyWrite(self.database, claim, answer)]

    def _version_of(self, aggregate_id: UUID) -> int:
        last = list(self.events.get(aggregate_id, desc=True, limit=1))
        return last[0].originator_version if last else 0

    def position(self) -> int:
        """The ledger's last index (its size)."""
        return self.database.head()[0]
