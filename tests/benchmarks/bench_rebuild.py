"""Benchmark: rebuild every view over a demo-like ledger on PostgreSQL, beside a raw baseline.

Run by hand (not collected by pytest):

    .venv/bin/python tests/benchmarks/bench_rebuild.py --events 200000

1. The real demo (`api.demo.scenario.Demo`, the real command path) drives `--base-enterprises`
   enterprises into a scratch SQLite ledger; its entries are then cloned, with fresh USCCs, card
   numbers and aggregate ids, into a PostgreSQL schema of their own until the ledger holds
   `--events` entries (appended through the chained recorder in large batches).
2. In fresh child processes, each measured alone:
   - raw: one psycopg server-side cursor streams the same rows, `orjson.loads` of each state;
   - rebuild: `projections.engine.rebuild.rebuild()` of every view from zero (pages, swap);
   - memory: peak RSS of a rebuild at two sizes (as-of `--small` entries, and all of them).
3. Live lag: a `eport-ledger worker` process (run_worker, LISTEN/NOTIFY) follows the ledger while
   this process appends one command at a time; lag = commit → every view's position reached it.

Targets (issue 3): rebuild >= 50,000 events/s and >= 0.25x raw; peak memory < 500 MB at any
size; lag median < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import psycopg  # noqa: E402
from eventsourcing.persistence import StoredEvent  # noqa: E402

from domain.aggregate_ids import enterprise_id, key_id  # noqa: E402
from ledger_store.eventstore.settings import Settings  # noqa: E402
from ledger_store.eventstore.store import EventStore  # noqa: E402

DEFAULT_URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def settings_for(url: str, schema: str) -> Settings:
    sep = "&" if "?" in url else "?"
    return Settings(database_url=f"{url}{sep}schema={schema}", postgres_pool_size=4)


# -- building the ledger ---------------------------------------------------------------------


def base_ledger(enterprises: int, seed: int) -> list[tuple[uuid.UUID, int, str, bytes]]:
    """The demo's entries (id, version, topic, state), driven through the real command path."""
    from api.demo.scenario import Demo
    from ledger_store.application.ledger import Ledger

    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(Settings(database_url=f"sqlite:///{tmp}/base.db"))
        try:
            Demo(ledger, seed=seed, enterprises=enterprises).run()
            return [
                (e.originator_id, e.originator_version, e.topic, e.state)
                for e in ledger.database.iter_entries()
            ]
        finally:
            ledger.close()


class Cloner:
    """Copies of the base entries with fresh natural keys and the ids derived from them."""

    def __init__(self, base: list[tuple[uuid.UUID, int, str, bytes]]) -> None:
        self.base = base
        self.usccs: set[str] = set()
        self.cards: set[str] = set()
        for _, _, topic, state in base:
            data = orjson.loads(state)
            kind = topic.rsplit(":", 1)[-1]  # a type name (`module:Class` before 0.2)
            if kind == "EnterpriseRegistered":
                self.usccs.add(data["uscc"])
            elif kind == "KeyIssued":
                self.cards.add(data["card_no"])
            elif kind == "KeyReplaced":
                self.cards.add(data["new_card_no"])
        derived = {str(enterprise_id(u)) for u in self.usccs} | {str(key_id(c)) for c in self.cards}
        self.others = {oid for oid, _, _, _ in base if str(oid) not in derived}
        """Streams whose ids no natural key derives (card holders: keyed; erasures, tokens)."""
        tokens = sorted(self.usccs | self.cards, key=len, reverse=True)
        self.pattern = re.compile(b"|".join(re.escape(t.encode()) for t in tokens))

    def clone(self, number: int, salt: int = 0) -> list[tuple[uuid.UUID, int, str, bytes]]:
        from domain.identifier_generators import make_card_number, make_uscc

        rng = random.Random(f"clone:{salt}:{number}")
        names = {u: make_uscc(rng) for u in sorted(self.usccs)}
        names |= {c: make_card_number(rng) for c in sorted(self.cards)}
        ids: dict[str, str] = {}
        for u in self.usccs:
            ids[str(enterprise_id(u))] = str(enterprise_id(names[u]))
        for c in self.cards:
            ids[str(key_id(c))] = str(key_id(names[c]))
        for oid in self.others:  # a fresh id per clone, the same in every event that names it
            ids[str(oid)] = str(uuid.uuid5(oid, f"clone:{salt}:{number}"))
        encoded = {k.encode(): v.encode() for k, v in (names | ids).items()}
        id_pattern = re.compile(b"|".join(re.escape(k.encode()) for k in ids))

        def swap(match: re.Match[bytes]) -> bytes:
            return encoded[match.group(0)]

        out = []
        for oid, version, topic, state in self.base:
            state = id_pattern.sub(swap, self.pattern.sub(swap, state))
            out.append((uuid.UUID(ids[str(oid)]), version, topic, state))
        return out


def fill(settings: Settings, base: list[tuple[uuid.UUID, int, str, bytes]], events: int) -> int:
    """Append interleaved clones of the base until the ledger holds `events` entries."""
    cloner = Cloner(base)
    ledger = EventStore(settings)
    recorder = ledger.recorder
    group = 16
    salt = written = ledger.position()  # a kept, smaller ledger grows with fresh identifiers
    number = 0
    batch: list[StoredEvent] = []
    try:
        while written + len(batch) < events:
            clones = [cloner.clone(number + g, salt) for g in range(group)]
            number += group
            for rows in zip(*clones, strict=True):
                batch += [StoredEvent(oid, v, topic, state) for oid, v, topic, state in rows]
                if len(batch) >= 5000 or written + len(batch) >= events:
                    batch = batch[: events - written]
                    recorder.insert_events(batch)
                    written += len(batch)
                    batch = []
                    print(f"  ledger: {written} entries", file=sys.stderr, end="\r", flush=True)
                    if written >= events:
                        break
    finally:
        ledger.close()
    print(file=sys.stderr)
    return written


# -- children (one measurement each, in a fresh process) -----------------------------------------


def maxrss_mb() -> float:
    """This process's peak resident set (VmHWM: ru_maxrss would include the forking parent's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_raw(settings: Settings) -> dict[str, Any]:
    from projections.engine.worker import postgres_conninfo

    ledger = EventStore(settings)
    events_table = ledger.database.events_table
    ledger.close()
    with psycopg.connect(postgres_conninfo(settings)) as conn, conn.transaction():
        started = time.perf_counter()
        count = 0
        with conn.cursor(name="raw") as cur:
            cur.itersize = 5000
            # The columns the views' reader asks for, as it asks for them (binary, id as text).
            cur.execute(
                "SELECT ledger_index, CAST(originator_id AS text), originator_version, topic, "
                f"state FROM {events_table} ORDER BY ledger_index",
                binary=True,
            )
            loads = orjson.loads
            for row in cur:
                loads(row[4])
                count += 1
        seconds = time.perf_counter() - started
    return {"events": count, "seconds": seconds, "maxrss_mb": maxrss_mb()}


def child_rebuild(settings: Settings, until: int | None) -> dict[str, Any]:
    # Every event class is imported first (the ledger's mapping imports the catalog too).
    import domain.catalog  # noqa: F401
    from projections.engine.rebuild import rebuild

    ledger = EventStore(settings)
    cpu = time.process_time()
    try:
        result = rebuild(ledger, until_position=until)
    finally:
        ledger.close()
    return {
        "events": result.events,
        "seconds": result.seconds,
        "cpu_seconds": time.process_time() - cpu,
        "maxrss_mb": maxrss_mb(),
    }


def run_child(args: list[str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- live lag ------------------------------------------------------------------------------------


def live_lag(settings: Settings, url: str, schema: str, samples: int) -> list[float]:
    """Commit → every view's position, with a worker process following the ledger."""
    from domain.base import Actor, CommandContext, Role
    from domain.enterprise import decisions as enterprises
    from domain.identifier_generators import make_customs_code, make_uscc
    from domain.region import get_region
    from projections.engine.positions import read_positions
    from projections.registry import TRACKED

    worker = subprocess.Popen(
        [sys.executable, __file__, "--child", "worker", "--url", url, "--schema", schema],
        stderr=subprocess.DEVNULL,
    )
    ledger = EventStore(settings)
    names = [v.name for v in TRACKED]
    try:
        head = ledger.position()
        deadline = time.monotonic() + 120
        while min(read_positions(ledger.database, names).values() or [0]) < head:
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not catch up")
            time.sleep(0.05)
        region = get_region("hainan")
        rng = random.Random(f"lag:{time.time_ns()}")  # a kept schema is reused: new USCCs
        actor = Actor(principal_id="bench", role=Role.ENTERPRISE)
        lags = []
        for _ in range(samples):
            ctx = CommandContext(actor=actor, at=datetime.now(UTC))
            uscc = make_uscc(rng)
            events = enterprises.register(
                ctx, uscc, "海南基准测试有限公司", make_customs_code(rng), "HZ00000001", region
            )
            position = ledger.record(events)[-1]
            committed = time.perf_counter()
            while min(read_positions(ledger.database, names).values()) < position:
                time.sleep(0.0005)
            lags.append((time.perf_counter() - committed) * 1000)
            time.sleep(0.01)
        return lags
    finally:
        ledger.close()
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)


def child_worker(settings: Settings) -> None:
    from projections.engine.worker import run_worker

    stop = threading.Event()
    run_worker(settings, stop, log=lambda message: None)


# -- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument(
        "--small", type=int, default=0, help="second memory size (default events/4)"
    )
    parser.add_argument("--base-enterprises", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--lag-samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--schema", default=None)
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--until", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        settings = settings_for(args.url, args.schema)
        if args.child == "worker":
            child_worker(settings)
            return
        result = child_raw(settings) if args.child == "raw" else child_rebuild(settings, args.until)
        print(json.dumps(result))
        return
    schema = args.schema or f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    try:
        report(args, schema)
    finally:
        if not args.keep:
            with psycopg.connect(args.url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def report(args: argparse.Namespace, schema: str) -> None:
    settings = settings_for(args.url, schema)
    ledger = EventStore(settings)
    size = ledger.position()
    ledger.close()
    if size < args.events:  # a kept schema (--schema S --keep) is reused as it is
        started = time.perf_counter()
        base = base_ledger(args.base_enterprises, args.seed)
        print(
            f"base: demo of {args.base_enterprises} enterprises, {len(base)} entries "
            f"({time.perf_counter() - started:.1f} s)",
            file=sys.stderr,
        )
        size = fill(settings, base, args.events)
    small = args.small or size // 4
    common = ["--url", args.url, "--schema", schema]
    raws, fulls, parts = [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        raws.append(run_child(["raw", *common]))
        fulls.append(run_child(["rebuild", *common]))
        parts.append(run_child(["rebuild", *common, "--until", str(small)]))
    lags = live_lag(settings, args.url, schema, args.lag_samples)

    def rates(runs: list[dict[str, Any]]) -> list[float]:
        return sorted(run["events"] / run["seconds"] for run in runs)

    raw_rates, rebuild_rates = rates(raws), rates(fulls)
    cpu = min(f["cpu_seconds"] for f in fulls)
    pairs = sorted(f["seconds"] / r["seconds"] for r, f in zip(raws, fulls, strict=True))
    rows = [
        ("ledger entries", f"{size}"),
        (
            "raw stream+decode",
            f"best {raw_rates[-1]:,.0f} events/s, median {statistics.median(raw_rates):,.0f}",
        ),
        (
            "rebuild, all views",
            f"best {rebuild_rates[-1]:,.0f} events/s, median "
            f"{statistics.median(rebuild_rates):,.0f} ({min(f['seconds'] for f in fulls):.2f} s)",
        ),
        (
            "rebuild CPU time (all threads)",
            f"{cpu:.2f} s: {fulls[0]['events'] / cpu:,.0f} events per CPU-second",
        ),
        (
            "ratio rebuild/raw",
            f"best/best {rebuild_rates[-1] / raw_rates[-1]:.2f}x, same-round median "
            f"{1 / statistics.median(pairs):.2f}x",
        ),
        (
            f"peak RSS, rebuild of {parts[0]['events']}",
            f"{max(p['maxrss_mb'] for p in parts):.0f} MB",
        ),
        (
            f"peak RSS, rebuild of {fulls[0]['events']}",
            f"{max(f['maxrss_mb'] for f in fulls):.0f} MB",
        ),
        ("peak RSS, raw stream", f"{max(r['maxrss_mb'] for r in raws):.0f} MB"),
        (
            "live lag commit->views",
            f"median {statistics.median(lags):.1f} ms, "
            f"p95 {sorted(lags)[int(len(lags) * 0.95) - 1]:.1f} ms ({len(lags)} commands)",
        ),
        ("machine load (1 min) at the end", f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
