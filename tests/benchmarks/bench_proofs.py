"""Inclusion proof, consistency proof and incremental checkpoint times at 10^4, 10^5, 10^6 entries.

Run by hand (PostgreSQL must answer at EPORT_TEST_POSTGRES_URL):

    .venv/bin/python tests/benchmarks/bench_proofs.py [--sizes 10000 100000 1000000]

For each size a fresh schema gets the tree of ``n`` synthetic entry hashes written straight
into ``merkle_nodes`` (the accumulator's nodes, by COPY), the tree state and a signed checkpoint;
then 1,000 real chained events after it. Timed: ``inclusion_proof`` and ``consistency_proof``
served from the nodes table (median and p95 over random indexes), and ``create_checkpoint``
of +1,000 entries (median of 3). Baselines in the same run: the raw psycopg SELECT of the same
nodes (one statement), and a raw psycopg read of 1,000 events plus INSERT of the same node rows.
Target: proofs grow no faster than log n and stay under 5 ms at 10^6; the checkpoint is flat.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.proofs import merkle
from ledger_store.proofs.chain import UnchainedEvent, extend_chain
from ledger_store.proofs.checkpoint import public_key_pem, sign_checkpoint
from ledger_store.proofs.merkle_verify import leaf_hash
from ledger_store.transparency.checkpointer import create_checkpoint
from ledger_store.transparency.tree_store import (
    CHECKPOINTS,
    KEYS,
    NODES,
    STATE,
    consistency_proof,
    inclusion_proof,
)

URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
STEP = 1000
REPEAT = 300


def fresh_schema() -> str:
    schema = f"bench_proofs_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(schema: str) -> None:
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def synthetic_tree(db: LedgerDatabase, schema: str, n: int, key: Ed25519PrivateKey) -> bytes:
    """Write the tree of n synthetic entries, its state and checkpoint; return the chain head."""
    acc = merkle.MerkleAccumulator()
    head = hashlib.sha256(b"synthetic chain head %d" % n).digest()
    with psycopg.connect(URL, autocommit=False) as conn:
        with (
            conn.cursor() as cur,
            cur.copy(f'COPY "{schema}"."{NODES}" (level, idx, hash) FROM STDIN') as copy,
        ):
            for i in range(n):
                entry = hashlib.sha256(i.to_bytes(8, "big")).digest()
                for node in acc.append([leaf_hash(entry)]):
                    copy.write_row(node)
        cp = sign_checkpoint(key, n, acc.root(), head, WHEN)
        conn.execute(f'UPDATE "{schema}"."{STATE}" SET size = %s, chain_head = %s', (n, head))
        conn.execute(
            f'INSERT INTO "{schema}"."{CHECKPOINTS}" VALUES (%s, %s, %s, %s, %s, %s)',
            (cp.size, cp.root_hash, cp.chain_head, WHEN.isoformat(), cp.key_id, cp.signature),
        )
        conn.execute(
            f'INSERT INTO "{schema}"."{KEYS}" VALUES (%s, %s, %s)',
            (cp.key_id, public_key_pem(key), WHEN.isoformat()),
        )
        conn.commit()
        conn.execute(f'ANALYZE "{schema}"."{NODES}"')
        conn.commit()
    return head


def append_events(db: LedgerDatabase, after: int, head: bytes, count: int) -> bytes:
    """Insert `count` real chained events after ledger index `after`; return the new head."""
    events = [
        UnchainedEvent(uuid.uuid4(), 1, "bench:Event", b'{"n":%d}' % (after + i))
        for i in range(count)
    ]
    rows = list(extend_chain(after, head, events))
    with db.transaction() as cursor:
        cursor.executemany(
            f"INSERT INTO {db.events_table} (originator_id, originator_version, topic, state, "
            "ledger_index, entry_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (r.originator_id, 1, r.topic, r.state, r.ledger_index, r.entry_hash, r.chain_hash)
                for r in rows
            ],
        )
    return rows[-1].chain_hash


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    return f"{statistics.median(samples):7.3f} (p95 {p95:6.3f})"


def raw_select(schema: str, wanted: list[tuple[int, int]]) -> Callable[[], object]:
    """The same nodes by one raw psycopg SELECT on a kept connection: the floor."""
    conn = psycopg.connect(URL, autocommit=True)
    where = " OR ".join(["(level = %s AND idx = %s)"] * len(wanted))
    sql = f'SELECT level, idx, hash FROM "{schema}"."{NODES}" WHERE {where}'
    params = [v for node in wanted for v in node]
    return lambda: conn.execute(sql, params).fetchall()


def bench(n: int) -> dict[str, float]:
    schema = fresh_schema()
    settings = Settings(database_url=f"{URL}?schema={schema}", postgres_pool_size=2)
    ledger = EventStore(settings)
    db = ledger.database
    key = Ed25519PrivateKey.generate()
    rng = random.Random(n)
    try:
        began = time.perf_counter()
        head = synthetic_tree(db, schema, n, key)
        build = time.perf_counter() - began

        for _ in range(REPEAT // 4):  # warm the pool, prepared statements and index pages
            inclusion_proof(db, rng.randint(1, n), n)
            consistency_proof(db, rng.randint(1, n - 1), n)
        indexes = [rng.randint(1, n) for _ in range(REPEAT)]
        it = iter(indexes)
        incl = timed(lambda: inclusion_proof(db, next(it), n), REPEAT)
        olds = iter([rng.randint(1, n - 1) for _ in range(REPEAT)])
        cons = timed(lambda: consistency_proof(db, next(olds), n), REPEAT)
        sample = indexes[0] - 1
        floor = timed(raw_select(schema, merkle.inclusion_proof_nodes(sample, n)), REPEAT)
        path_len = len(inclusion_proof(db, indexes[0], n).path)

        ckpt, raw_ckpt, size = [], [], n
        for _ in range(3):
            head = append_events(db, size, head, STEP)
            began = time.perf_counter()
            cp = create_checkpoint(db, key)
            ckpt.append((time.perf_counter() - began) * 1000)
            size += STEP
            assert cp.size == size
            raw_ckpt.append(raw_checkpoint_floor(schema, db.events_table, size - STEP, size))
    finally:
        ledger.close()
        drop_schema(schema)
    print(
        f"{n:>9,} | build {build:6.1f} s | inclusion ms {summary(incl)} path {path_len:2d} | "
        f"consistency ms {summary(cons)} | raw SELECT ms {summary(floor)} | "
        f"checkpoint +{STEP} ms {statistics.median(ckpt):7.1f} (raw floor "
        f"{statistics.median(raw_ckpt):6.1f})"
    )
    return {
        "incl": statistics.median(incl),
        "cons": statistics.median(cons),
        "ckpt": statistics.median(ckpt),
        "floor": statistics.median(floor),
    }


def raw_checkpoint_floor(schema: str, events: str, after: int, last: int) -> float:
    """Raw psycopg: read the same entries and insert as many node rows (rolled back)."""
    with psycopg.connect(URL) as conn:
        began = time.perf_counter()
        rows = conn.execute(
            f"SELECT ledger_index, originator_id, originator_version, topic, state, entry_hash, "
            f"chain_hash FROM {events} WHERE ledger_index > %s AND ledger_index <= %s "
            "ORDER BY ledger_index",
            (after, last),
        ).fetchall()
        count = 2 * len(rows)
        conn.execute(
            f'INSERT INTO "{schema}"."{NODES}" (level, idx, hash) '
            "SELECT * FROM unnest(%s::int[], %s::bigint[], %s::bytea[])",
            ([40] * count, list(range(count)), [bytes(32)] * count),
        )
        elapsed = (time.perf_counter() - began) * 1000
        conn.rollback()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10**4, 10**5, 10**6])
    args = parser.parse_args()
    print(f"PostgreSQL at {URL}; proofs: {REPEAT} random requests each; times in ms")
    results = {n: bench(n) for n in args.sizes}
    base = min(results)
    print("\ngrowth vs the smallest size (log2 n ratio is the ceiling for O(log n)):")
    for n, r in results.items():
        log_ratio = math.log2(n) / math.log2(base)
        print(
            f"{n:>9,}: log2 n x{log_ratio:4.2f}"
            f" | inclusion x{r['incl'] / results[base]['incl']:4.2f}"
            f" | consistency x{r['cons'] / results[base]['cons']:4.2f}"
            f" | checkpoint x{r['ckpt'] / results[base]['ckpt']:4.2f}"
            f" | inclusion / raw SELECT x{r['incl'] / r['floor']:4.2f}"
        )


if __name__ == "__main__":
    main()
