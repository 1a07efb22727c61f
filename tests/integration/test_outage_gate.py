"""Once a request found the database away, the next ones fail fast; the first connection that
works again lifts that (ledger_store/eventstore/liveness.OutageGate), on the thread pool's side
and on the event loop's, which share one gate."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from psycopg_pool import PoolTimeout

from ledger_store.eventstore.liveness import OUTAGE_WAIT, OutageGate
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from tests.conftest import postgres_url_for
from tests.reliability.processes import TcpProxy
from tests.reliability.test_database_faults import through, upstream


def test_the_gate_shortens_the_wait_only_during_an_outage() -> None:
    gate = OutageGate()
    assert gate.is_open
    assert gate.timeout(5.0) == 5.0
    gate.found_away()
    first = gate.since
    gate.found_away()  # still the same outage
    assert not gate.is_open
    assert gate.since == first
    assert gate.timeout(5.0) == OUTAGE_WAIT
    assert gate.timeout(0.2) == 0.2
    gate.found_back()
    assert gate.is_open
    assert gate.timeout(5.0) == 5.0


def test_a_cut_database_closes_the_gate_for_both_pools_and_its_return_opens_it(
    postgres_schema: str,
) -> None:
    settings = Settings(database_url=postgres_url_for(postgres_schema))
    EventStore(settings).close()  # the schema made, directly
    with TcpProxy(upstream(settings)) as proxy:
        proxied = through(settings, proxy.port).model_copy(update={"postgres_pool_size": 1})
        store = EventStore(proxied)
        try:
            asyncio.run(_cut_and_restore(store.database, proxy))
        finally:
            store.close()


async def _cut_and_restore(database: Any, proxy: TcpProxy) -> None:
    pool = database.async_pool()
    await pool.open()
    try:
        assert await pool.fetchall("SELECT 1") == [(1,)]
        assert database.head()[0] == 0
        assert database.outage.is_open
        assert pool.outage is database.outage

        proxy.cut()
        with pytest.raises(PoolTimeout):  # not retried: the wait was the retry
            await asyncio.to_thread(database.head)
        assert not database.outage.is_open
        with pytest.raises(PoolTimeout):
            await pool.fetchall("SELECT 1")
        assert not database.outage.is_open

        proxy.restore()
        assert await pool.fetchall("SELECT 1") == [(1,)]
        assert database.outage.is_open
        assert (await asyncio.to_thread(database.head))[0] == 0
    finally:
        await pool.close()
