"""Commands run on the event loop when they need no I/O but the append (PostgreSQL).

`LedgerCore.execute` is synchronous, so the API runs it in a worker thread, and the hop there
and back costs the server more CPU than the append itself (docs/performance.md). A command
decided from cached aggregates needs no read (`cached_decisions`): it is decided on the loop and
its one append statement awaited through the async pool. Everything else takes the synchronous
path in a worker thread, with the same rules:

- an aggregate that is not cached, or one the command only reads (checked by a read);
- a refusal or a no-op decided from cached state (decided again from fresh state);
- an append refused because the cached state was stale (the same: decided again, fresh), or
  because a concurrent retry under the same Idempotency-Key stored its answer first.

Under an Idempotency-Key the first answer is looked up on the loop too (one read), and the new
answer goes in the append's statement, as on the synchronous path.

Only the hottest command, the PIN attempt, uses it (`KeyCommands.record_pin_attempt_async`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError

from ledger_store.application.idempotency import IdempotencyClaim, answer_from_row, answer_query
from ledger_store.application.ledger import CommandResult, Decide, LedgerCore
from ledger_store.application.reader import remember
from ledger_store.eventstore.async_pool import AsyncPool
from ledger_store.eventstore.postgres_recorder import ChainedPostgresRecorder


class LoopExecution(LedgerCore):
    """`execute_async`: `execute` with the append awaited where nothing else needs I/O."""

    async def execute_async(
        self,
        pool: AsyncPool | None,
        decide: Decide,
        *,
        commutes: bool = False,
        idempotency: IdempotencyClaim | None = None,
        extra: Callable[[], dict[str, str]] | None = None,
    ) -> CommandResult:
        """Run a command like `execute`; on the loop through `pool` when it can (see above)."""
        in_thread = functools.partial(
            self.execute, decide, commutes=commutes, idempotency=idempotency, extra=extra
        )
        recorder = self.database
        if pool is None:
            return await asyncio.to_thread(in_thread)
        assert isinstance(recorder, ChainedPostgresRecorder)  # the only backend with a pool
        if idempotency is not None:
            rows = await pool.fetchall(*answer_query(recorder, idempotency))
            first = answer_from_row(rows[0] if rows else None, idempotency)
            if first is not None:
                return CommandResult.from_answer(first)
        decided = self._decide(decide, fresh=False, reads=False)
        if decided is None:  # it needs a read: the synchronous path, in a thread
            return await asyncio.to_thread(in_thread)
        subject, events, _ = decided
        version, more, writes = self._prepared(subject, events, idempotency, extra)
        stored = [self.mapper.to_stored_event(event) for event in events]
        try:
            positions = await recorder.insert_events_async(pool, stored, writes)
        except IntegrityError:  # a version taken (stale cache), or the key by a concurrent retry
            return await asyncio.to_thread(in_thread)
        except (OperationalError, InterfaceError):
            # As in `record`: if COMMIT reached the server, the events are there.
            committed = await asyncio.to_thread(recorder.committed_indexes, stored)
            if committed is None:
                raise
            positions = committed
        remember(self.repository.cache, events)
        return CommandResult(subject, version, max(positions), tuple(events), extra=more)
