"""One command's steps — decide, prepare, append, retry — written once for every path.

`command_steps` is a generator: it yields each piece of I/O it needs as a `Step` and receives the
answer, so it holds every rule of executing a command and does no I/O itself. `Ledger.execute`
performs the steps synchronously; `Ledger.execute_async` awaits them on the event loop (reads
and the append through the async pool, a decision that needs reads in a worker thread). Both
therefore record exactly the same events under exactly the same rules.

The rules:
- Under an idempotency key, the first result is given again and nothing is recorded.
- A decision may rest on cached state (see `reader`). A refusal, a no-op or an If-Match
  mismatch decided on unverified state is decided again on fresh state; so is a decision
  whose only-read aggregates moved; and so is one whose append is refused because a version
  it writes was taken — a stale cache is never the caller's conflict.
- A command that commutes (a PIN attempt) is decided again when it loses a race, up to
  COMMUTING_RETRIES times; any other lost race is a ConflictError for the caller to reconsider.
- A decision's personal data is sealed (`privacy.vault`) before it is appended, so what is
  stored, cached and answered holds it only as ciphertext under each person's key. A new
  person's key is stored by the append itself, and a key taken from the process's memory is
  checked by it; when another command stored a key for the same person first, or a remembered
  key was erased, the append is refused on the key store and the command is decided and sealed
  again (with those keys read afresh). A refusal or no-op decided with remembered keys is
  decided again on fresh state, as one decided on cached aggregates is.
- When the connection breaks during the append, a read tells whether it committed: if so its
  indexes are the result (never decided twice), else the error stands.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.base import ConflictError, DomainError, DomainEvent, NotFoundError
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.reader import Reader
from ledger_store.application.results import CommandResult, Decision, VersionMismatchError
from ledger_store.eventstore.database import TransactionWrite
from ledger_store.privacy.key_store import KeyRow

COMMUTING_RETRIES = 20

Decide = Callable[[Reader], Decision]
"""A command bound to its inputs: given a reader, decide the events (or raise DomainError)."""


# -- the steps and their answers ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FindFirstResult:
    """Read the result first given under the claim's key → its fields, or None."""

    claim: IdempotencyClaim


@dataclass(frozen=True, slots=True)
class DecideStep:
    """Decide the command (from the cache unless `fresh`) → a `Decided`."""

    decide: Decide
    fresh: bool


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision, or the rule that refused it, and what the decision read."""

    decision: Decision | None
    refusal: DomainError | None
    versions: Mapping[UUID, int]
    unverified: Mapping[UUID, int]
    keys: Mapping[UUID, KeyRow] = field(default_factory=dict)
    """The live data keys the decision revealed with, by subject (sealing needs no re-read)."""
    remembered: frozenset[UUID] = frozenset()
    """The ids of those taken from this process's memory, not read (maybe erased since)."""


@dataclass(frozen=True, slots=True)
class FindMoved:
    """Read whether any of these aggregates has events after the given version → bool."""

    versions: Mapping[UUID, int]


@dataclass(frozen=True, slots=True)
class FindCurrent:
    """Read an aggregate's version and the ledger's position → (version, position)."""

    aggregate_id: UUID


@dataclass(frozen=True, slots=True)
class Seal:
    """Seal the events' personal parts → (the sealed events, the key-store writes)."""

    events: Sequence[DomainEvent]
    keys: Mapping[UUID, KeyRow]
    """Data keys the decision revealed with, by subject."""
    remembered: frozenset[UUID]
    """The ids of those it took from the process's memory (checked at commit)."""


@dataclass(frozen=True, slots=True)
class Append:
    """Append the stored events and the writes in one transaction → an `Appended`."""

    stored: Sequence[StoredEvent]
    writes: Sequence[TransactionWrite]


@dataclass(frozen=True, slots=True)
class Appended:
    """The append's outcome: its indexes; or refused (a version was taken); or unacknowledged."""

    positions: Sequence[int] = ()
    refused: bool = False
    key_raced: bool = False
    """Refused on the key store: a key it created was stored first by another command, or a
    key it took from memory is gone."""
    lost: BaseException | None = None
    """The error of a connection that broke: the append may or may not have committed."""


@dataclass(frozen=True, slots=True)
class FindCommitted:
    """Read whether these stored events are in the ledger → their indexes, or None."""

    stored: Sequence[StoredEvent]


Step: TypeAlias = (
    FindFirstResult | DecideStep | FindMoved | FindCurrent | Seal | Append | FindCommitted
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decision ready to append: the subject's new version, stored events, writes."""

    version: int
    stored: Sequence[StoredEvent]
    writes: Sequence[TransactionWrite]


Prepare = Callable[
    [Decision, Sequence[DomainEvent], Sequence[TransactionWrite], IdempotencyClaim | None],
    Prepared,
]
"""(the decision, its events as they will be stored, the writes beside them, the claim)."""


# -- the steps ---------------------------------------------------------------------------------


def command_steps(
    decide: Decide,
    prepare: Prepare,
    *,
    expected_version: int | None = None,
    idempotency: IdempotencyClaim | None = None,
) -> Generator[Step, Any, CommandResult]:
    """Execute one command (see the module docstring); returns what it reached."""
    if idempotency is not None and (first := (yield FindFirstResult(idempotency))):
        return CommandResult.from_fields(first)
    fresh, races = False, 0
    while True:
        decided: Decided = yield DecideStep(decide, fresh)
        unverified = decided.unverified
        if expected_version is not None and (mismatch := _if_match(decided, expected_version)):
            if mismatch in unverified:
                fresh = True
                continue
            raise VersionMismatchError(expected_version, decided.versions[mismatch])
        if decided.refusal is not None:
            if unverified or decided.remembered:  # refused on what may be stale
                fresh = True
                continue
            raise decided.refusal
        decision = decided.decision
        assert decision is not None
        if not decision.events:
            if unverified or decided.remembered:
                fresh = True
                continue
            version, position = yield FindCurrent(decision.subject)
            return CommandResult(decision.subject, version, position, extra=decision.extra)
        written = {event.originator_id for event in decision.events}
        only_read = {a: v for a, v in unverified.items() if a not in written}
        if only_read and (yield FindMoved(only_read)):
            fresh = True
            continue
        events, writes = decision.events, list(decision.writes)
        if decided.remembered or any(event.personal_parts() for event in events):
            events, sealing_writes = yield Seal(events, decided.keys, decided.remembered)
            writes += sealing_writes
        prepared = prepare(decision, events, writes, idempotency)
        appended: Appended = yield Append(prepared.stored, prepared.writes)
        if appended.key_raced and races < COMMUTING_RETRIES:
            races += 1  # decide and seal again, with the keys concerned read afresh
            continue
        if appended.refused:
            if idempotency is not None and (first := (yield FindFirstResult(idempotency))):
                return CommandResult.from_fields(first)  # a concurrent retry stored it first
            if written & unverified.keys():  # the cached state was stale: not a race
                fresh = True
                continue
            races += 1
            if decision.commutes and races < COMMUTING_RETRIES:
                continue
            if decision.creates is not None:
                raise ConflictError(
                    "already_exists", f"{decision.creates} is already in the ledger"
                )
            raise ConflictError(
                "concurrent_change",
                "another command changed the same record first; reload and retry",
            )
        positions = appended.positions
        if appended.lost is not None:
            committed = yield FindCommitted(prepared.stored)
            if committed is None:
                raise appended.lost
            positions = committed
        return CommandResult(
            decision.subject, prepared.version, max(positions), tuple(events), extra=decision.extra
        )


def next_step(steps: Generator[Step, Any, CommandResult], answer: Any) -> Step | CommandResult:
    """Give `steps` the answer to its last step: its next step, or the result it reached."""
    try:
        return steps.send(answer)
    except StopIteration as done:
        result: CommandResult = done.value
        return result


def _if_match(decided: Decided, expected_version: int) -> UUID | None:
    """The record If-Match names, when it is not at the expected version (else None).

    The record is the one the command is about: the decision's subject, which is the first
    aggregate the decider loads — so a refusal by a later rule still reports the mismatch first,
    while a record that does not exist (or is not the caller's) stays a NotFoundError.
    """
    if isinstance(decided.refusal, NotFoundError):
        return None
    subject = decided.decision.subject if decided.decision else next(iter(decided.versions), None)
    if subject is None or subject not in decided.versions:
        return None
    return subject if decided.versions[subject] != expected_version else None
