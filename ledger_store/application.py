"""The Ledger: one eventsourcing application holding every enterprise, operator and key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, Mapper
from eventsourcing.utils import get_topic

from domain.base import Aggregate, ConflictError, DomainEvent, NotFoundError, project
from ledger_store.database import LedgerDatabase, TransactionWrite
from ledger_store.mapping import OrjsonTranscoder, PydanticMapper
from ledger_store.postgres_recorder import ChainedPostgresRecorder
from ledger_store.settings import Settings
from ledger_store.sqlite_recorder import ChainedSQLiteRecorder

TAgg = TypeVar("TAgg", bound=Aggregate)

COMMUTING_RETRIES = 20


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command reached: the aggregate it changed, its version, the ledger position."""

    id: UUID
    version: int
    position: int
    events: tuple[DomainEvent, ...] = ()

    def answer(self) -> dict[str, Any]:
        """The JSON answer of the API for this command."""
        return {"id": str(self.id), "version": self.version, "position": self.position}


class LedgerCore(Application[UUID]):
    """Loads aggregates and appends their events, with the hash chain, in one transaction."""

    name = "Eport"
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
    }

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        super().__init__(env=self.settings.library_env())
        recorder = self.recorder
        assert isinstance(recorder, ChainedSQLiteRecorder | ChainedPostgresRecorder)
        self.database: LedgerDatabase = recorder

    def construct_mapper(self) -> Mapper[UUID]:
        """Pydantic events stored as orjson."""
        return PydanticMapper(transcoder=OrjsonTranscoder())

    def load(self, cls: type[TAgg], aggregate_id: UUID, *, what: str = "") -> TAgg:
        """The aggregate's current state, or NotFoundError."""
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
            recordings = self.save(*events, writes=writes)
        except IntegrityError as error:
            raise ConflictError(
                "concurrent_change",
                "another command changed the same record first; reload and retry",
            ) from error
        return [r.notification.id for r in recordings]

    def execute(
        self,
        decide: Callable[[], tuple[UUID, Sequence[DomainEvent]]],
        *,
        commutes: bool = False,
        writes: Sequence[TransactionWrite] = (),
    ) -> CommandResult:
        """Run a command: decide its events from fresh state, then record them.

        Commands that commute (a PIN attempt) are decided again on a lost race; others
        surface the ConflictError so the caller can reconsider.
        """
        attempts = COMMUTING_RETRIES if commutes else 1
        for attempt in range(attempts):
            subject, events = decide()
            if not events:
                return CommandResult(subject, self._version_of(subject), self.position())
            try:
                positions = self.record(events, writes)
            except ConflictError:
                if attempt + 1 == attempts:
                    raise
                continue
            version = max(e.originator_version for e in events if e.originator_id == subject)
            return CommandResult(subject, version, max(positions), tuple(events))
        raise AssertionError("unreachable")  # pragma: no cover

    def _version_of(self, aggregate_id: UUID) -> int:
        last = list(self.events.get(aggregate_id, desc=True, limit=1))
        return last[0].originator_version if last else 0

    def position(self) -> int:
        """The ledger's last index (its size)."""
        return self.database.head()[0]
