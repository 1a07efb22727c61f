"""The key lookup on the event loop (PostgreSQL's async pool; SQLite in a worker thread) reads
exactly what the sync lookup reads, waits for `min_position` the same way, and fails cleanly."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import psycopg
import pytest

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.async_pool import AsyncPool
from ledger_store.eventstore.settings import Settings
from projections.engine.freshness import Freshness, ViewNotCaughtUpError
from projections.engine.query import ViewSource
from projections.engine.rebuild import rebuild
from projections.engine.schema import TableNames
from projections.key_status.queries import get_key, get_key_async
from projections.key_status.records import KeyRecord
from tests.integration.test_views_world import World, catch_up, open_ledger


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    with open_ledger(settings) as ledger:
        yield ledger


def lookup(
    ledger: Ledger,
    card_no: str,
    *,
    mask: bool,
    names: TableNames | None = None,
    **options: object,
) -> KeyRecord | None:
    """`get_key_async` with the backend's async reads, opened and closed in one event loop."""

    async def run() -> KeyRecord | None:
        reads = ledger.database.async_pool()
        if reads is not None:
            await reads.open()
        try:
            source = ViewSource(ledger.database, ledger.vault, mask=mask, names=names)
            return await get_key_async(source, reads, card_no, **options)  # type: ignore[arg-type]
        finally:
            if reads is not None:
                await reads.close()

    return asyncio.run(run())


def test_the_async_lookup_reads_what_the_sync_lookup_reads(ledger: Ledger, backend: str) -> None:
    world = World(ledger)
    e = world.enrolled()
    assert e.lp_card is not None
    world.pin(e, e.lp_card, ok=False)
    catch_up(ledger)
    assert (ledger.database.async_pool() is None) == (backend == "sqlite")
    for mask in (True, False):
        expected = get_key(
            ViewSource(ledger.database, ledger.vault, mask=mask), e.lp_card, now=world.now
        )
        assert expected is not None
        assert lookup(ledger, e.lp_card, mask=mask, now=world.now) == expected
    assert lookup(ledger, "8800009999999999", mask=True) is None


def test_the_async_lookup_waits_for_min_position(ledger: Ledger) -> None:
    world = World(ledger)
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    result = world.pin(e, e.lp_card, ok=False)
    with pytest.raises(ViewNotCaughtUpError) as caught:
        lookup(ledger, e.lp_card, mask=True, fresh=Freshness(result.position, 0.05))
    assert caught.value.wanted == result.position
    catch_up(ledger)
    key = lookup(ledger, e.lp_card, mask=True, fresh=Freshness(result.position))
    assert key is not None
    assert key.failed_attempts == 1


def test_the_async_lookup_reads_an_as_of_copy_without_waiting(ledger: Ledger) -> None:
    world = World(ledger)
    e = world.enrolled()
    catch_up(ledger)
    assert e.lp_card is not None
    before = ledger.position()
    result = world.pin(e, e.lp_card, ok=False)  # the live views never get there: nobody applies
    names = rebuild(ledger, views=["key_status"], until_position=before).names
    as_of = Freshness(result.position, timeout=0.05)  # an as-of copy is fixed: it never waits
    source = ViewSource(ledger.database, ledger.vault, mask=True, names=names)
    expected = get_key(source, e.lp_card, now=world.now)
    key = lookup(ledger, e.lp_card, mask=True, names=names, now=world.now, fresh=as_of)
    assert key is not None
    assert key == expected
    assert key.failed_attempts == 0
    with pytest.raises(ViewNotCaughtUpError):
        lookup(ledger, e.lp_card, mask=True, fresh=as_of)


def test_an_unreachable_database_fails_reads_not_the_start(postgres_available: None) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def run() -> None:
        reads = AsyncPool(
            {"host": "127.0.0.1", "port": port, "user": "postgres", "dbname": "test"},
            size=1,
            timeout=0.5,
        )
        await reads.open()  # does not wait for the database
        try:
            with pytest.raises(psycopg.OperationalError):
                await reads.fetchall("SELECT ?", (1,))
        finally:
            await reads.close()

    asyncio.run(run())
