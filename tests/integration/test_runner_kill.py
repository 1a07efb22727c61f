"""A worker killed (SIGKILL) again and again during a catch-up loses and repeats nothing: the
views it leaves, once caught up, equal a clean rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.settings import Settings
from projections.engine.positions import read_positions
from projections.engine.rebuild import rebuild
from projections.registry import TRACKED
from tests.integration.test_views_world import World, catch_up, dump, open_ledger

ROOT = Path(__file__).resolve().parents[2]
NAMES = [view.name for view in TRACKED]
KILLS = 3
CHILD = (
    "import sys, threading\n"
    "from ledger_store.eventstore.settings import Settings\n"
    "from projections.engine.worker import run_worker\n"
    "run_worker(Settings(database_url=sys.argv[1]), threading.Event(), "
    "batch_size=int(sys.argv[2]), poll_interval=0.05, log=lambda message: None)\n"
)


def spawn(settings: Settings, batch_size: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, settings.database_url, str(batch_size)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def lowest(database: LedgerDatabase) -> int:
    positions = read_positions(database, NAMES)
    return min(positions.get(name, 0) for name in NAMES)


@pytest.mark.slow
def test_a_worker_killed_mid_catch_up_applies_every_entry_exactly_once(
    settings: Settings,
) -> None:
    with open_ledger(settings) as ledger:
        world = World(ledger, seed=5)
        for company in ("海南甲公司", "海南乙公司", "海南丙公司"):
            e = world.enrolled(company)
            assert e.op_card is not None
            for n in range(30):
                world.pin(e, e.op_card, ok=n % 4 != 0)
        head = ledger.position()
        database = ledger.database
        killed_midway = 0
        deadline = time.monotonic() + 60
        for _ in range(KILLS):
            before = lowest(database)
            if before >= head:
                break
            child = spawn(settings, batch_size=3)
            try:
                while lowest(database) <= before + 3:
                    assert child.poll() is None, child.stderr.read() if child.stderr else ""
                    assert time.monotonic() < deadline, "the worker made no progress"
                    time.sleep(0.01)
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(10)
                if child.stderr is not None:
                    child.stderr.close()
            assert child.returncode == -signal.SIGKILL
            if lowest(database) < head:
                killed_midway += 1
        assert killed_midway >= 1
        catch_up(ledger, batch_size=3)
        incremental = dump(ledger)
        assert incremental["view_audit_times"][-1][1] == head
        assert read_positions(database, NAMES) == dict.fromkeys(NAMES, head)
        rebuild(ledger)
        assert dump(ledger) == incremental
