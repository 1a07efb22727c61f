"""The runner applies each entry exactly once, a batch and its position in one transaction."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.database import SqlCursor
from ledger_store.eventstore.settings import Settings
from projections.engine.entries import Item
from projections.engine.freshness import Freshness, wait_for_position
from projections.engine.inprocess import InProcessProjector
from projections.engine.positions import read_positions
from projections.engine.query import ViewSource
from projections.engine.rebuild import rebuild
from projections.engine.runner import Runner
from projections.engine.schema import TableNames
from projections.engine.worker import run_worker
from projections.key_status.queries import get_key
from projections.registry import AUDIT_TRAIL, KEY_STATUS, TRACKED
from tests.integration.test_views_world import World, catch_up, dump, open_ledger

NAMES = [view.name for view in TRACKED]


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    with open_ledger(settings) as ledger:
        yield ledger


@pytest.fixture
def world(ledger: Ledger) -> World:
    world = World(ledger)
    world.enrolled("海南甲公司")
    world.register("海南乙公司")
    return world


class InjectedError(Exception):
    """The failure injected half-way through a batch."""


class FailingKeyStatus(type(KEY_STATUS)):  # type: ignore[misc]
    """Key status that writes its rows, then fails while the batch is still open."""

    def apply(self, cursor: SqlCursor, names: TableNames, items: Sequence[Item]) -> None:
        super().apply(cursor, names, items)
        raise InjectedError


def test_a_failure_mid_batch_moves_neither_rows_nor_position(world: World, ledger: Ledger) -> None:
    catch_up(ledger)
    before, positions = dump(ledger), read_positions(ledger.database, NAMES)
    e = world.enterprises[0]
    assert e.op_card is not None
    world.pin(e, e.op_card, ok=False)
    world.buy_key(e)
    failing = Runner(ledger.database, [AUDIT_TRAIL, FailingKeyStatus()])
    with pytest.raises(InjectedError):
        failing.step()
    assert dump(ledger) == before
    assert read_positions(ledger.database, NAMES) == positions
    catch_up(ledger)
    assert read_positions(ledger.database, NAMES) == dict.fromkeys(NAMES, ledger.position())
    key = get_key(ViewSource(ledger.database, ledger.vault, mask=True), e.op_card)
    assert key is not None
    assert key.failed_attempts == 1


def test_a_batch_moves_every_view_to_the_last_entry_it_read(world: World, ledger: Ledger) -> None:
    runner = Runner(ledger.database, batch_size=10)
    runner.setup()
    report = runner.step()
    assert report is not None
    assert (report.applied, report.last_index) == (10, 10)
    assert read_positions(ledger.database, NAMES) == dict.fromkeys(NAMES, 10)
    assert runner.catch_up() == ledger.position() - 10
    assert runner.step() is None


def test_views_behind_catch_up_without_touching_views_ahead(world: World, ledger: Ledger) -> None:
    catch_up(ledger)
    rebuild(ledger, views=["key_status"])
    e = world.enterprises[0]
    assert e.lp_card is not None
    world.pin(e, e.lp_card, ok=False)
    only_keys = Runner(ledger.database, [KEY_STATUS])
    only_keys.catch_up()
    positions = read_positions(ledger.database, NAMES)
    assert positions["key_status"] == ledger.position()
    assert positions["audit_trail"] == ledger.position() - 1
    full = catch_up(ledger)
    assert full.step() is None
    expected = dump(ledger)
    rebuild(ledger)
    assert dump(ledger) == expected


def test_two_runners_on_one_database_apply_each_entry_once(world: World, ledger: Ledger) -> None:
    for _ in range(3):
        world.enrolled()
    runners = [Runner(ledger.database, batch_size=5) for _ in range(2)]
    runners[0].setup()
    errors: list[BaseException] = []

    def run(runner: Runner) -> None:
        try:
            runner.catch_up()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    catch_up(ledger)
    incremental = dump(ledger)
    assert incremental["view_audit_times"][-1][1] == ledger.position()
    rebuild(ledger)
    assert dump(ledger) == incremental


def test_setting_up_twice_is_harmless_and_a_new_view_version_starts_over(
    world: World, ledger: Ledger
) -> None:
    catch_up(ledger)
    rows = dump(ledger)
    Runner(ledger.database).setup()
    assert dump(ledger) == rows

    class KeyStatusV2(type(KEY_STATUS)):  # type: ignore[misc]
        version = KEY_STATUS.version + 1

    runner = Runner(ledger.database, [KeyStatusV2()])
    runner.setup()
    assert read_positions(ledger.database, ["key_status"]) == {"key_status": 0}
    assert dump(ledger)["view_keys"] == []
    runner.catch_up()
    assert dump(ledger)["view_keys"] == rows["view_keys"]


def test_the_in_process_projector_gives_read_your_writes(world: World, ledger: Ledger) -> None:
    projector = InProcessProjector(Runner(ledger.database), interval=30.0)
    projector.start()
    try:
        e = world.enterprises[0]
        assert e.op_card is not None
        result = world.pin(e, e.op_card, ok=False)
        projector.poke()
        key = get_key(
            ViewSource(ledger.database, ledger.vault, mask=True),
            e.op_card,
            fresh=Freshness(result.position),
        )
        assert key is not None
        assert key.failed_attempts == 1
        result = world.pin(e, e.op_card, ok=False)  # nobody pokes: the query does
        assert wait_for_position(ledger.database, NAMES, result.position, timeout=5)
        assert projector.reached(NAMES, result.position)
    finally:
        projector.stop()
    assert projector.last_error is None


def test_without_anyone_applying_a_wait_gives_up(world: World, ledger: Ledger) -> None:
    catch_up(ledger)
    e = world.enterprises[0]
    assert e.lp_card is not None
    result = world.pin(e, e.lp_card, ok=True)
    started = time.monotonic()
    assert not wait_for_position(ledger.database, NAMES, result.position, timeout=0.1)
    assert time.monotonic() - started < 2


def test_the_worker_follows_the_ledger_until_stopped(
    world: World, ledger: Ledger, settings: Settings
) -> None:
    stop = threading.Event()
    lines: list[str] = []
    worker = threading.Thread(
        target=run_worker, args=(settings, stop), kwargs={"poll_interval": 0.2, "log": lines.append}
    )
    worker.start()
    try:
        assert wait_for_position(ledger.database, NAMES, ledger.position(), timeout=20)
        e = world.enterprises[1]
        result = world.approve(e)
        assert wait_for_position(ledger.database, NAMES, result.position, timeout=10)
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()
    assert any("stopped" in line for line in lines)
    if settings.is_postgres:
        assert any("listening" in line for line in lines)
