"""PIN attempts on the event loop: appended there when the key is cached (PostgreSQL), else run
synchronously in a worker thread; either way the ledger records what `execute` would.

Two Ledger objects on one database stand for two API processes, each with its own cache.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.aggregate_ids import key_id
from domain.base import CommandContext, DomainError
from domain.ukey.events import PinAttemptFailed
from ledger_store.application.deciders.ukey import Ledger
from ledger_store.application.idempotency import IdempotencyClaim, IdempotencyMismatchError
from ledger_store.application.ledger import CommandResult
from ledger_store.proofs.chain import verify_chain
from tests.integration.test_commands import ctx, enrolled, owner


def attempt(ledger: Ledger, at: CommandContext, card_no: str, ok: bool, **options: Any) -> Any:
    """`record_pin_attempt_async` with the backend's pool, in an event loop of its own."""

    async def run() -> CommandResult:
        pool = ledger.database.async_pool()
        if pool is not None:
            await pool.open()
        try:
            return await ledger.record_pin_attempt_async(pool, at, card_no, ok=ok, **options)
        finally:
            if pool is not None:
                await pool.close()

    return asyncio.run(run())


class CountingExecute:
    """Counts the commands that took the synchronous path (`execute`, in a worker thread)."""

    def __init__(self, ledger: Ledger) -> None:
        self.calls = 0
        self._execute = ledger.execute
        ledger.execute = self  # type: ignore[method-assign]

    def __call__(self, *args: Any, **kwargs: Any) -> CommandResult:
        self.calls += 1
        return self._execute(*args, **kwargs)


def failures(ledger: Ledger, card_no: str) -> list[int]:
    history = ledger.history(key_id(card_no))
    return [e.consecutive_failures for e in history if isinstance(e, PinAttemptFailed)]


def test_a_pin_attempt_on_a_cached_key_is_appended_on_the_loop(
    two: tuple[Ledger, Ledger], backend: str
) -> None:
    here, _ = two
    uscc, lp, _ = enrolled(here)
    here.record_pin_attempt(ctx(owner(uscc), 10), lp, ok=True)  # `here` caches the key
    threaded = CountingExecute(here)
    result = attempt(here, ctx(owner(uscc), 11), lp, ok=False)
    assert threaded.calls == (1 if backend == "sqlite" else 0)
    history = here.history(key_id(lp))
    assert result.version == len(history)
    assert result.position == here.position()
    assert failures(here, lp) == [1]
    assert verify_chain(here.database.iter_entries()).intact
    again = attempt(here, ctx(owner(uscc), 12), lp, ok=False)  # the cache followed the append
    assert (again.version, failures(here, lp)) == (result.version + 1, [1, 2])
    assert threaded.calls == (2 if backend == "sqlite" else 0)


def test_a_stale_cache_on_the_loop_is_decided_again_on_current_state(
    two: tuple[Ledger, Ledger],
) -> None:
    here, there = two
    uscc, lp, _ = enrolled(here)
    here.record_pin_attempt(ctx(owner(uscc), 10), lp, ok=True)
    there.record_pin_attempt(ctx(owner(uscc), 11), lp, ok=False)  # unknown to `here`
    result = attempt(here, ctx(owner(uscc), 12), lp, ok=False)
    assert failures(here, lp) == [1, 2]
    assert result.version == len(here.history(key_id(lp)))
    for minute in range(3):  # the fifth consecutive failure locks the key
        there.record_pin_attempt(ctx(owner(uscc), 13 + minute), lp, ok=False)
    with pytest.raises(DomainError) as refused:  # refused on the current state, not the cache
        attempt(here, ctx(owner(uscc), 20), lp, ok=True)
    assert refused.value.rule == "key_locked"


def test_an_uncached_key_takes_the_worker_thread(two: tuple[Ledger, Ledger], backend: str) -> None:
    here, there = two
    uscc, lp, _ = enrolled(there)  # nothing cached in `here`
    threaded = CountingExecute(here)
    attempt(here, ctx(owner(uscc), 10), lp, ok=False)
    assert (threaded.calls, failures(here, lp)) == (1, [1])
    attempt(here, ctx(owner(uscc), 11), lp, ok=False)  # cached by the first: on the loop
    assert (threaded.calls, failures(here, lp)) == (2 if backend == "sqlite" else 1, [1, 2])


def test_an_idempotent_retry_gives_the_first_answer_and_records_nothing(
    two: tuple[Ledger, Ledger], backend: str
) -> None:
    here, _ = two
    uscc, _, op = enrolled(here)
    here.record_pin_attempt(ctx(owner(uscc), 10), op, ok=True)  # cached
    threaded = CountingExecute(here)
    claim = IdempotencyClaim(scope=f"enterprise:{uscc}", key="retry-1", fingerprint="f")
    first = attempt(here, ctx(owner(uscc), 11), op, ok=False, idempotency=claim)
    position = here.position()
    retried = attempt(here, ctx(owner(uscc), 12), op, ok=False, idempotency=claim)
    assert threaded.calls == (2 if backend == "sqlite" else 0)
    assert retried.replayed
    assert (retried.id, retried.version, retried.position) == (
        first.id,
        first.version,
        first.position,
    )
    assert (here.position(), failures(here, op)) == (position, [1])
    other = IdempotencyClaim(scope=claim.scope, key=claim.key, fingerprint="another request")
    with pytest.raises(IdempotencyMismatchError):
        attempt(here, ctx(owner(uscc), 13), op, ok=True, idempotency=other)
