"""The cost of sealing personal data: commands/s and view-rebuild events/s, with and without it.

Run by hand (PostgreSQL must answer at EPORT_TEST_POSTGRES_URL):

    .venv/bin/python tests/benchmarks/bench_privacy.py [--enterprises 60] [--rounds 3]

The same build both ways: the demo (every kind of command, through `Ledger.execute` and the real
command path) on a fresh PostgreSQL schema, once with the personal-data vault as configured (the
key store read or written, AES-GCM, the blind index in the append's transaction) and once with a
vault that leaves the events as they are. Then a rebuild of every view over each ledger. Rounds
alternate the two; the medians of the per-round ratios are printed. Target: sealed ≥ 0.85.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from uuid import UUID

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from api.demo.scenario import Demo
from domain.base import DomainEvent
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.database import TransactionWrite
from ledger_store.eventstore.settings import Settings
from ledger_store.privacy.key_store import KeyRow
from ledger_store.privacy.master_keys import generate, write_file
from ledger_store.privacy.vault import PersonalDataVault
from projections.engine.rebuild import rebuild

URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class PlaintextVault(PersonalDataVault):
    """The baseline: events stored as they are (what the ledger did before sealing)."""

    def seal(
        self,
        events: Sequence[DomainEvent],
        known: Mapping[UUID, KeyRow] | None = None,
        remembered: Iterable[UUID] = (),
    ) -> tuple[list[DomainEvent], list[TransactionWrite]]:
        """No sealing, no key store, no blind index."""
        return list(events), []


def fresh_schema() -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def one_round(enterprises: int, sealed: bool, keys: Path) -> tuple[float, float, int]:
    """(commands/s, rebuild events/s, entries) of the demo on a fresh schema."""
    schema = fresh_schema()
    sep = "&" if "?" in URL else "?"
    settings = Settings(
        database_url=f"{URL}{sep}schema={schema}",
        master_key_file=keys,
        signing_key_path=keys.with_suffix(".key"),
    )
    ledger = Ledger(settings)
    try:
        if not sealed:
            ledger.vault = PlaintextVault(ledger.database, ledger.vault.master_keys)
        demo = Demo(ledger, seed=11, enterprises=enterprises)
        began = time.perf_counter()
        stats = demo.run()
        commands = stats.total / (time.perf_counter() - began)
        rebuilt = rebuild(ledger.database)
        return commands, rebuilt.events_per_second, ledger.position()
    finally:
        ledger.close()
        drop_schema(schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    keys = Path(tempfile.mkdtemp()) / "master-keys.json"
    write_file(keys, generate(), replace=False)
    one_round(5, True, keys)  # warm up: imports, pools, caches
    command_ratios, rebuild_ratios = [], []
    for number in range(args.rounds):
        order = (True, False) if number % 2 == 0 else (False, True)
        results = {sealed: one_round(args.enterprises, sealed, keys) for sealed in order}
        (s_cmd, s_rb, s_n), (p_cmd, p_rb, p_n) = results[True], results[False]
        command_ratios.append(s_cmd / p_cmd)
        rebuild_ratios.append(s_rb / p_rb)
        print(
            f"round {number + 1}: sealed {s_cmd:7.0f} commands/s, rebuild {s_rb:8.0f} events/s "
            f"({s_n} entries) | plaintext {p_cmd:7.0f} commands/s, rebuild {p_rb:8.0f} events/s "
            f"({p_n} entries)"
        )
    print(
        f"median sealed : plaintext — commands {statistics.median(command_ratios):.2f}, "
        f"rebuild {statistics.median(rebuild_ratios):.2f} (target ≥ 0.85)"
    )


if __name__ == "__main__":
    main()
