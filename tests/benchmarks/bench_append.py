"""Commands/s for "load aggregate, record one event, commit" with and without the hash chain.

Run by hand (PostgreSQL must answer at EPORT_TEST_POSTGRES_URL):

    .venv/bin/python tests/benchmarks/bench_append.py --commands 3000

Three paths in the same run, at 1 and 4 writers: the ledger (chained recorder), the eventsourcing
library's plain get-and-save with its own PostgreSQL recorder, and a raw psycopg one-row INSERT.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from domain.base import project
from ledger_store.eventstore.mapping import OrjsonTranscoder, PydanticMapper
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from tests.toy_model import Counter, bump, ctx, start

URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
AGGREGATES = 64


class PlainApp(Application[uuid.UUID]):
    """The library's own PostgreSQL recorder, same mapper and events: the baseline."""

    name = "Plain"
    env: ClassVar[dict[str, str]] = {
        "TRANSCODER_TOPIC": get_topic(OrjsonTranscoder),
        "MAPPER_TOPIC": get_topic(PydanticMapper),
    }


def fresh_schema() -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_writers(writers: int, commands: int, one: Callable[[int, int], None]) -> float:
    """Commands/s with `writers` threads sharing `commands` calls of one(writer, n)."""
    per = commands // writers
    barrier = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        barrier.wait()
        for n in range(per):
            one(w, n)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return per * writers / (time.perf_counter() - began)


def bench_app(app: Any, writers: int, commands: int) -> float:
    names = [f"w{w}-a{a}" for w in range(writers) for a in range(AGGREGATES // writers)]
    app.save(*[start(name) for name in names])
    ids = {name: start(name).originator_id for name in names}
    per_writer = AGGREGATES // writers

    def one(w: int, n: int) -> None:
        name = f"w{w}-a{n % per_writer}"
        counter: Counter = app.repository.get(ids[name], projector_func=project)
        app.save(bump(counter, ctx(n), by=1))

    return run_writers(writers, commands, one)


def bench_raw(writers: int, commands: int, schema: str) -> float:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".raw (id bigserial PRIMARY KEY, body bytea)')
    conns = [psycopg.connect(URL, autocommit=True) for _ in range(writers)]
    body = b'{"by":1,' + b'"x":' + b"0" * 200 + b"}"
    statement = f'INSERT INTO "{schema}".raw (body) VALUES (%s)'

    def one(w: int, n: int) -> None:
        conns[w].execute(statement, (body,), prepare=True)

    try:
        return run_writers(writers, commands, one)
    finally:
        for conn in conns:
            conn.close()


def measure(writers: int, commands: int, rounds: int) -> dict[str, float]:
    results: dict[str, list[float]] = {"chained": [], "plain": [], "raw": []}
    for _ in range(rounds):
        for path in ("plain", "chained", "raw"):
            schema = fresh_schema()
            try:
                if path == "raw":
                    results[path].append(bench_raw(writers, commands, schema))
                    continue
                env = Settings(
                    database_url=f"{URL}?schema={schema}", postgres_pool_size=writers
                ).library_env()
                if path == "chained":
                    app: Any = EventStore(
                        Settings(database_url=f"{URL}?schema={schema}", postgres_pool_size=writers)
                    )
                    app.repository.cache = None  # the same uncached load as the plain app
                else:
                    env.pop("APPLICATION_RECORDER_TOPIC")
                    env["CREATE_TABLE"] = "y"  # the library's own tables (ours come by migration)
                    app = PlainApp(env=env)
                try:
                    results[path].append(bench_app(app, writers, commands))
                finally:
                    app.close()
            finally:
                drop_schema(schema)
    return {path: statistics.median(values) for path, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commands", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"PostgreSQL {URL}; {args.commands} commands per path, median of {args.rounds} rounds")
    print(
        f"{'writers':>7} {'chained/s':>10} {'plain/s':>10} {'raw/s':>10} "
        f"{'chained:plain':>14} {'chain cost':>10} {'chained:raw':>12}"
    )
    for writers in (1, 4):
        r = measure(writers, args.commands, args.rounds)
        ratio = r["chained"] / r["plain"]
        print(
            f"{writers:>7} {r['chained']:>10.0f} {r['plain']:>10.0f} {r['raw']:>10.0f} "
            f"{ratio:>14.2f} {100 * (1 - ratio):>9.1f}% {r['chained'] / r['raw']:>12.2f}"
        )


if __name__ == "__main__":
    main()
