"""The Ledger: the one application `api/` sees. It executes commands and answers a few reads.

A command is a decider (`ledger_store/application/deciders/`) bound to its inputs: a function of
a `Reader` that returns a `Decision`. `execute` runs the steps of `command.command_steps`
synchronously; `execute_async` awaits the same steps on the event loop, through the async pool
the ledger opened for its database (PostgreSQL; on SQLite the whole command runs in a thread).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from domain.aggregate_ids import enterprise_id, key_id
from domain.base import Aggregate, DomainError, DomainEvent
from domain.card_holder.state import CardHolder
from domain.enterprise.state import Enterprise
from domain.forms import KeyKind, LegalPersonHolder, OperatorHolder
from domain.region import RegionConfig, get_region
from domain.ukey.state import UKey
from ledger_store.application import records
from ledger_store.application.command import (
    Append,
    Appended,
    Decide,
    Decided,
    DecideStep,
    FindCommitted,
    FindCurrent,
    FindFirstResult,
    FindMoved,
    Prepared,
    Seal,
    Step,
    command_steps,
    next_step,
)
from ledger_store.application.idempotency import (
    IdempotencyClaim,
    IdempotencyWrite,
    answer_from_row,
    answer_query,
    find_answer,
)
from ledger_store.application.reader import NeedsReadError, Reader
from ledger_store.application.results import CommandResult, Decision
from ledger_store.eventstore.async_pool import AsyncPool
from ledger_store.eventstore.database import LedgerDatabase, TransactionWrite
from ledger_store.eventstore.settings import Settings, load_settings
from ledger_store.eventstore.store import LOST_CONNECTION, EventStore, remember
from ledger_store.privacy.key_store import raced_for_a_key
from ledger_store.privacy.master_keys import master_keys_for
from ledger_store.privacy.vault import PersonalDataVault

P = ParamSpec("P")
TAgg = TypeVar("TAgg", bound=Aggregate)

Decider = Callable[Concatenate[Reader, P], Decision]


class Ledger:
    """The eport ledger: every enterprise, card holder and key, one hash-chained history."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        self.store = EventStore(self.settings)
        self.database: LedgerDatabase = self.store.database
        self.region: RegionConfig = get_region(self.settings.region)
        self.vault = PersonalDataVault(self.database, master_keys_for(self.settings))
        """Seals, reveals, finds and erases personal data (`ledger_store/privacy`)."""
        self.async_pool: AsyncPool | None = None
        """Statements on the event loop (PostgreSQL), while `open_async` has it open."""

    # -- commands ----------------------------------------------------------------------------

    def execute(
        self,
        decide: Decide,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Decide the command and record its events (see `command.command_steps`)."""
        steps = command_steps(
            decide, self._prepare, expected_version=expected_version, idempotency=idempotency
        )
        step = next_step(steps, None)
        while not isinstance(step, CommandResult):
            step = next_step(steps, self._perform(step))
        return self._finished(step)

    async def execute_async(
        self,
        decide: Decide,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """`execute` on the event loop: the same steps, awaited (see the module docstring)."""
        if self.async_pool is None:
            return await asyncio.to_thread(
                self.execute, decide, expected_version=expected_version, idempotency=idempotency
            )
        steps = command_steps(
            decide, self._prepare, expected_version=expected_version, idempotency=idempotency
        )
        step = next_step(steps, None)
        while not isinstance(step, CommandResult):
            step = next_step(steps, await self._perform_async(self.async_pool, step))
        return self._finished(step)

    def run(self, decider: Decider[P], /, *args: P.args, **kwargs: P.kwargs) -> CommandResult:
        """Execute `decider(reader, *args, **kwargs)` with no If-Match or idempotency key."""
        return self.execute(lambda reader: decider(reader, *args, **kwargs))

    async def open_async(self) -> None:
        """Open a pool for the event loop that runs this (PostgreSQL; nothing on SQLite).

        A pool belongs to one event loop: open it inside the loop (the API's lifespan) and close
        it there; `execute_async` without one runs each command in a worker thread.
        """
        pool = self.database.async_pool()
        if pool is not None:
            await pool.open()
        self.async_pool = pool

    async def close_async(self) -> None:
        """Close the event loop's pool."""
        pool, self.async_pool = self.async_pool, None
        if pool is not None:
            await pool.close()

    # -- reads -------------------------------------------------------------------------------

    def load(self, cls: type[TAgg], aggregate_id: UUID, *, what: str = "") -> TAgg:
        """An aggregate's current state, or NotFoundError."""
        return self.store.load(cls, aggregate_id, what=what)

    def find(self, cls: type[TAgg], aggregate_id: UUID) -> TAgg | None:
        """An aggregate's current state, or None."""
        return self.store.find(cls, aggregate_id)

    def enterprise(self, uscc: str) -> Enterprise:
        """An enterprise by USCC, or NotFoundError."""
        return records.enterprise(self._reader(fresh=True), uscc)

    def revealed_enterprise(self, uscc: str) -> Enterprise:
        """An enterprise with its filings' personal data revealed (the window's paper forms);
        erased data stays sealed. Never stored, never cached."""
        return self.vault.reveal_model(self.enterprise(uscc))

    def key(self, card_no: str) -> UKey:
        """A key by card number, or NotFoundError."""
        return records.key(self._reader(fresh=True), card_no)

    def find_key(self, card_no: str) -> UKey | None:
        """A key by card number, or None."""
        return self.store.find(UKey, key_id(card_no))

    def card_holder(self, holder_id: UUID) -> CardHolder:
        """A card holder by id, or NotFoundError."""
        return records.card_holder(self._reader(fresh=True), holder_id)

    def card_holder_id(
        self, uscc: str, kind: KeyKind, holder: LegalPersonHolder | OperatorHolder
    ) -> UUID:
        """The id the ledger gives a card holder of `uscc` (keyed; never derivable openly)."""
        return records.card_holder_id(self._reader(fresh=True), enterprise_id(uscc), kind, holder)

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        """Every event of one aggregate, in version order."""
        return self.store.history(aggregate_id)

    def position(self) -> int:
        """The ledger's last index (its size)."""
        return self.store.position()

    def close(self) -> None:
        """Close the database connections."""
        self.store.close()

    # -- the steps, performed ----------------------------------------------------------------

    def _reader(self, *, fresh: bool, may_read: bool = True) -> Reader:
        return Reader(self.store, self.region, self.vault, trust_cache=not fresh, may_read=may_read)

    def _decide(self, decide: Decide, reader: Reader) -> Decided:
        try:
            decision: Decision | None = decide(reader)
            refusal: DomainError | None = None
        except DomainError as error:
            decision, refusal = None, error
        return Decided(
            decision,
            refusal,
            dict(reader.versions),
            dict(reader.unverified),
            dict(reader.keys),
            frozenset(reader.remembered),
        )

    def _prepare(
        self,
        decision: Decision,
        events: Sequence[DomainEvent],
        writes: Sequence[TransactionWrite],
        claim: IdempotencyClaim | None,
    ) -> Prepared:
        subject = decision.subject
        version = max(
            (e.originator_version for e in events if e.originator_id == subject), default=0
        )
        all_writes = list(writes)
        if claim is not None:  # the result, minus the position only the append knows
            fields = CommandResult(subject, version, 0, extra=decision.extra).fields()
            all_writes.append(IdempotencyWrite(self.database, claim, fields))
        return Prepared(version, self.store.to_stored(events), all_writes)

    def _perform(self, step: Step) -> Any:
        store = self.store
        if isinstance(step, DecideStep):
            return self._decide(step.decide, self._reader(fresh=step.fresh))
        if isinstance(step, Seal):
            return self.vault.seal(step.events, step.keys, step.remembered)
        if isinstance(step, Append):
            appended = _appended(lambda: store.append(step.stored, step.writes))
            return self._keys_checked(appended, step.writes)
        if isinstance(step, FindFirstResult):
            return find_answer(self.database, step.claim)
        if isinstance(step, FindMoved):
            return any(store.moved(a, v) for a, v in step.versions.items())
        if isinstance(step, FindCurrent):
            return store.version_of(step.aggregate_id), store.position()
        assert isinstance(step, FindCommitted)
        return store.committed_indexes(step.stored)

    async def _perform_async(self, pool: AsyncPool, step: Step) -> Any:
        database = self.database
        if isinstance(step, DecideStep):
            if not step.fresh:
                try:  # on the loop, if the cache has all the decision reads
                    return self._decide(step.decide, self._reader(fresh=False, may_read=False))
                except NeedsReadError:
                    pass
            reader = self._reader(fresh=step.fresh)
            return await asyncio.to_thread(self._decide, step.decide, reader)
        if isinstance(step, Append):
            appending = database.insert_events_async(pool, step.stored, step.writes)
            return self._keys_checked(await _appended_async(appending), step.writes)
        if isinstance(step, FindFirstResult):
            rows = await pool.fetchall(*answer_query(database, step.claim))
            return answer_from_row(rows[0] if rows else None, step.claim)
        return await asyncio.to_thread(self._perform, step)

    def _keys_checked(self, appended: Appended, writes: Sequence[TransactionWrite]) -> Appended:
        """An append refused on the key store: a key it took from memory is gone, or a key it
        created existed already — the vault forgets and reads them before the next try."""
        if appended.key_raced:
            self.vault.after_key_race(writes)
        return appended

    def _finished(self, result: CommandResult) -> CommandResult:
        """Let the cache follow what was recorded."""
        if result.events and not result.replayed:
            remember(self.store, result.events)
        return result


def _appended(append: Callable[[], Sequence[int]]) -> Appended:
    """Run an append and name its outcome."""
    try:
        return Appended(positions=list(append()))
    except (IntegrityError, *LOST_CONNECTION) as error:
        return _failed(error)


async def _appended_async(append: Awaitable[Sequence[int]]) -> Appended:
    """`_appended` for an append on the event loop."""
    try:
        return Appended(positions=list(await append))
    except (IntegrityError, *LOST_CONNECTION) as error:
        return _failed(error)


def _failed(error: BaseException) -> Appended:
    """A failed append named: refused (a version or a new person's key was taken), or lost."""
    if isinstance(error, IntegrityError):
        return Appended(refused=True, key_raced=raced_for_a_key(error))
    return Appended(lost=error)
