"""PIN attempts through `execute_async`: on PostgreSQL a cached key is decided and appended on the
event loop, an uncached one read in a worker thread; SQLite runs the whole command in a thread.
Either way the ledger records what `execute` would.

Two Ledger objects on one database stand for two API processes, each with its own cache.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.aggregate_ids import key_id
from domain.base import CommandContext, DomainError
from domain.ukey.events import PinAttemptFailed
from ledger_store.application import deciders, ledger as ledger_module
from ledger_store.application.idempotency import IdempotencyClaim, IdempotencyMismatchError
from ledger_store.application.ledger import Ledger
from ledger_store.application.results import CommandResult
from ledger_store.proofs.chain import verify_chain
from tests.integration.test_commands import ctx, enrolled, owner


def attempt(ledger: Ledger, at: CommandContext, card_no: str, ok: bool, **options: Any) -> Any:
    """A PIN attempt through `execute_async`, in an event loop of its own."""

    async def run() -> CommandResult:
        await ledger.open_async()
        try:
            return await ledger.execute_async(
                lambda reader: deciders.record_pin_attempt(reader, at, card_no, ok=ok), **options
            )
        finally:
            await ledger.close_async()

    return asyncio.run(run())


class CountingThreads:
    """Counts the steps the ledger hands to a worker thread (a read, or all of it on SQLite)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        to_thread = asyncio.to_thread

        async def counting(function: Any, /, *args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return await to_thread(function, *args, **kwargs)

        monkeypatch.setattr(ledger_module.asyncio, "to_thread", counting)


def failures(ledger: Ledger, card_no: str) -> list[int]:
    history = ledger.history(key_id(card_no))
    return [e.consecutive_failures for e in history if isinstance(e, PinAttemptFailed)]


def test_a_pin_attempt_on_a_cached_key_is_appended_on_the_loop(
    two: tuple[Ledger, Ledger], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, _ = two
    uscc, lp, _ = enrolled(here)
    here.run(
        deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True
    )  # `here` caches the key
    threaded = CountingThreads(monkeypatch)
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
    here.run(deciders.record_pin_attempt, ctx(owner(uscc), 10), lp, ok=True)
    there.run(deciders.record_pin_attempt, ctx(owner(uscc), 11), lp, ok=False)  # unknown to `here`
    result = attempt(here, ctx(owner(uscc), 12), lp, ok=False)
    assert failures(here, lp) == [1, 2]
    assert result.version == len(here.history(key_id(lp)))
    for minute in range(3):  # the fifth consecutive failure locks the key
        there.run(deciders.record_pin_attempt, ctx(owner(uscc), 13 + minute), lp, ok=False)
    with pytest.raises(DomainError) as refused:  # refused on the current state, not the cache
        attempt(here, ctx(owner(uscc), 20), lp, ok=True)
    assert refused.value.rule == "key_locked"


def test_an_uncached_key_takes_the_worker_thread(
    two: tuple[Ledger, Ledger], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = two
    uscc, lp, _ = enrolled(there)  # nothing cached in `here`
    threaded = CountingThreads(monkeypatch)
    attempt(here, ctx(owner(uscc), 10), lp, ok=False)
    assert (threaded.calls, failures(here, lp)) == (1, [1])
    attempt(here, ctx(owner(uscc), 11), lp, ok=False)  # cached by the first: on the loop
    assert (threaded.calls, failures(here, lp)) == (2 if backend == "sqlite" else 1, [1, 2])


def test_an_idempotent_retry_gives_the_first_answer_and_records_nothing(
    two: tuple[Ledger, Ledger], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, _ = two
    uscc, _, op = enrolled(here)
    here.run(deciders.record_pin_attempt, ctx(owner(uscc), 10), op, ok=True)  # cached
    threaded = CountingThreads(monkeypatch)
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
