"""Signed checkpoints, proofs from the database, key rotation, tamper detection; both backends."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.eventstore.failures import SigningKeyError
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.proofs.chain import GENESIS, UnchainedEvent, extend_chain, verify_chain
from ledger_store.proofs.merkle import root_from_leaves
from ledger_store.proofs.merkle_verify import leaf_hash
from ledger_store.transparency.checkpointer import (
    Checkpointer,
    CheckpointError,
    checkpoint_at,
    create_checkpoint,
    latest_checkpoint,
    list_checkpoints,
    public_keys,
)
from ledger_store.transparency.signing_key import load_or_create_signing_key
from ledger_store.transparency.tree_store import (
    CHECKPOINTS,
    KEYS,
    NODES,
    STATE,
    ProofRequestError,
    inclusion_proof,
    stored_root,
    tree_size,
)
from replay.integrity import audit_ledger
from replay.offline import check_bundle, check_consistency
from replay.proof_bundles import consistency_bundle, inclusion_bundle
from tests.toy_model import start

WHEN = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def ledger(settings: Settings) -> Iterator[EventStore]:
    app = EventStore(settings)
    yield app
    app.close()


@pytest.fixture
def key(settings: Settings) -> Ed25519PrivateKey:
    return load_or_create_signing_key(settings.key_path())


def grow(ledger: EventStore, to: int) -> None:
    """Append counters until the ledger has `to` entries (several per transaction)."""
    have = ledger.position()
    while have < to:
        batch = range(have, min(to, have + 7))
        ledger.record([start(f"c{n}", n) for n in batch])
        have = ledger.position()


def leaves(ledger: EventStore) -> list[bytes]:
    return [leaf_hash(e.entry_hash) for e in ledger.database.iter_entries()]


def execute(ledger: EventStore, statement: str, params: tuple[object, ...] = ()) -> None:
    with ledger.database.transaction() as cursor:
        cursor.execute(statement, params)


def test_incremental_checkpoints_equal_roots_computed_from_scratch(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    sizes = [1, 2, 3, 8, 13, 31]
    for size in sizes:
        grow(ledger, size)
        checkpoint = create_checkpoint(ledger.database, key, WHEN)
        assert checkpoint.size == size
        assert checkpoint.root_hash == root_from_leaves(leaves(ledger)).hex()
        assert checkpoint.chain_head == ledger.database.head()[1].hex()
    all_leaves = leaves(ledger)
    for size in sizes:
        assert stored_root(ledger.database, size) == root_from_leaves(all_leaves[:size])
    assert [cp.size for cp in list_checkpoints(ledger.database)] == sizes
    assert tree_size(ledger.database) == 31


def test_a_checkpoint_with_nothing_new_is_the_latest_one(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    empty = create_checkpoint(ledger.database, key, WHEN)
    assert empty.size == 0
    grow(ledger, 4)
    first = create_checkpoint(ledger.database, key, WHEN)
    assert create_checkpoint(ledger.database, key) == first
    assert latest_checkpoint(ledger.database) == first
    assert checkpoint_at(ledger.database, 0) == empty


def test_proofs_from_the_database_verify_against_the_signed_checkpoints(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    sizes = [5, 12, 21]
    for size in sizes:
        grow(ledger, size)
        create_checkpoint(ledger.database, key, WHEN)
    for size in sizes:
        for index in range(1, size + 1):
            verdict = check_bundle(inclusion_bundle(ledger.database, index, size), key.public_key())
            assert verdict.valid, (index, size, verdict)
    for old in sizes:
        bundle = consistency_bundle(ledger.database, old, 21)
        assert check_bundle(bundle, key.public_key()).valid, old
    bundle = inclusion_bundle(ledger.database, 3)
    assert bundle["size"] == 21
    assert bundle["leaf_index"] == 2
    assert bundle["entry"]["ledger_index"] == 3


def test_proofs_beyond_the_checkpointed_tree_are_refused(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 6)
    create_checkpoint(ledger.database, key, WHEN)
    grow(ledger, 9)
    with pytest.raises(ProofRequestError, match="beyond the checkpointed tree size 6"):
        inclusion_proof(ledger.database, 7, 9)
    with pytest.raises(ProofRequestError, match="not within"):
        inclusion_proof(ledger.database, 0, 6)
    with pytest.raises(ProofRequestError):
        consistency_bundle(ledger.database, 7, 6)


def test_a_rotated_key_keeps_old_checkpoints_verifiable(
    ledger: EventStore, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    grow(ledger, 5)
    old = create_checkpoint(ledger.database, key, WHEN)
    new_key = load_or_create_signing_key(tmp_path / "rotated.key")
    grow(ledger, 11)
    with pytest.raises(SigningKeyError, match=f"key id {old.key_id}"):  # not without saying so
        create_checkpoint(ledger.database, new_key, WHEN + timedelta(days=30))
    new = create_checkpoint(ledger.database, new_key, WHEN + timedelta(days=30), rotate=True)
    with pytest.raises(SigningKeyError, match=f"key id {new.key_id}"):  # the old key is retired
        create_checkpoint(ledger.database, key, WHEN + timedelta(days=31))
    listed = public_keys(ledger.database)
    assert [k.key_id for k in listed] == [old.key_id, new.key_id]
    pems = [k.public_key_pem for k in listed]
    assert check_bundle(inclusion_bundle(ledger.database, 2, 5), pems).valid
    assert check_bundle(inclusion_bundle(ledger.database, 2, 11), pems).valid
    path = consistency_bundle(ledger.database, 5, 11)["path"]
    assert check_consistency(old, new, pems, path).valid
    assert audit_ledger(ledger.database).intact


def rewrite_history(ledger: EventStore, index: int, new_key: Ed25519PrivateKey) -> None:
    """An attacker with SQL access: alter one event, re-hash every later entry, rebuild, re-sign."""
    db = ledger.database
    entries = list(db.iter_entries())
    altered = [
        UnchainedEvent(e.originator_id, e.originator_version, e.topic, e.state)
        for e in entries[index - 1 :]
    ]
    altered[0] = UnchainedEvent(
        altered[0].originator_id, altered[0].originator_version, altered[0].topic, b'{"forged":1}'
    )
    previous = entries[index - 2].chain_hash if index > 1 else GENESIS
    with db.transaction() as cursor:
        for row in extend_chain(index - 1, previous, altered):
            cursor.execute(
                f"UPDATE {db.events_table} SET state = ?, entry_hash = ?, chain_hash = ? "
                "WHERE ledger_index = ?",
                (row.state, row.entry_hash, row.chain_hash, row.ledger_index),
            )
        for table in (NODES, CHECKPOINTS, KEYS):
            cursor.execute(f"DELETE FROM {db.table(table)}")
        cursor.execute(f"UPDATE {db.table(STATE)} SET size = 0, chain_head = ?", (GENESIS,))
    create_checkpoint(db, new_key, WHEN, rotate=True)  # the attacker says so


def test_a_rewrite_that_recomputes_every_hash_is_found_by_an_old_checkpoint(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 10)
    kept = create_checkpoint(ledger.database, key, WHEN)
    grow(ledger, 14)
    rewrite_history(ledger, 4, Ed25519PrivateKey.generate())

    assert verify_chain(ledger.database.iter_entries()).intact
    assert audit_ledger(ledger.database).intact  # self-consistent: only the old checkpoint knows

    report = audit_ledger(ledger.database, old_checkpoint=kept, trusted_keys=[key.public_key()])
    assert not report.intact
    problems = " | ".join(f.problem for f in report.findings)
    assert "no longer hash to the Merkle root of your checkpoint" in problems
    assert "cannot prove its checkpoint at size 14 extends yours at size 10" in problems
    unlisted = audit_ledger(ledger.database, old_checkpoint=kept)
    assert any(
        "does not verify against the ledger's listed keys" in f.problem for f in unlisted.findings
    )


def test_an_untouched_ledger_extends_an_old_checkpoint(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 6)
    kept = create_checkpoint(ledger.database, key, WHEN)
    grow(ledger, 15)
    create_checkpoint(ledger.database, key, WHEN)
    report = audit_ledger(ledger.database, old_checkpoint=kept)
    assert report.intact, report.findings
    assert report.extends == kept
    assert report.checkpoints_checked == 2
    assert report.nodes_checked == 2 * 15 - bin(15).count("1")


def test_tail_truncation_after_a_checkpoint_is_found(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 9)
    create_checkpoint(ledger.database, key, WHEN)
    execute(ledger, f"DELETE FROM {ledger.database.events_table} WHERE ledger_index > 7")
    assert verify_chain(ledger.database.iter_entries()).intact
    report = audit_ledger(ledger.database)
    assert report.first_bad_index == 8
    assert "entries 8..9 were removed" in report.ordered()[0].problem
    with pytest.raises(CheckpointError, match=r"entries 8\.\.9 were removed"):
        create_checkpoint(ledger.database, key, WHEN)


def test_an_altered_merkle_node_or_checkpoint_row_is_found(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 8)
    create_checkpoint(ledger.database, key, WHEN)
    db = ledger.database
    execute(
        ledger, f"UPDATE {db.table(NODES)} SET hash = ? WHERE level = 0 AND idx = 4", (b"x" * 32,)
    )
    report = audit_ledger(db)
    assert report.first_bad_index == 5
    assert "merkle_nodes was altered" in report.ordered()[0].problem
    execute(ledger, f"UPDATE {db.table(CHECKPOINTS)} SET root_hash = ?", ("ab" * 32,))
    problems = " | ".join(f.problem for f in audit_ledger(db).findings)
    assert "checkpoint at size 8: signature does not verify" in problems
    assert "Merkle root differs" in problems


def test_a_checkpoint_refuses_to_sign_an_altered_new_entry(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 4)
    create_checkpoint(ledger.database, key, WHEN)
    grow(ledger, 8)
    execute(
        ledger,
        f"UPDATE {ledger.database.events_table} SET state = ? WHERE ledger_index = 6",
        (b"{}",),
    )
    with pytest.raises(CheckpointError, match="ledger index 6: entry hash"):
        create_checkpoint(ledger.database, key, WHEN)
    assert tree_size(ledger.database) == 4


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ("DELETE FROM {t} WHERE ledger_index = 6", r"ledger index 6 is missing \(found 7\)"),
        ("UPDATE {t} SET chain_hash = ? WHERE ledger_index = 7", "ledger index 7: chain does not"),
        (
            "UPDATE {t} SET originator_version = -1 WHERE ledger_index = 6",
            "ledger index 6: the stored row is malformed",
        ),
    ],
)
def test_a_checkpoint_names_the_first_new_entry_the_chain_walk_refuses(
    ledger: EventStore, key: Ed25519PrivateKey, change: str, refusal: str
) -> None:
    grow(ledger, 4)
    create_checkpoint(ledger.database, key, WHEN)
    grow(ledger, 9)
    params = (bytes(32),) if "?" in change else ()
    execute(ledger, change.format(t=ledger.database.events_table), params)
    with pytest.raises(CheckpointError, match=refusal):
        create_checkpoint(ledger.database, key, WHEN)
    assert tree_size(ledger.database) == 4


def test_the_checkpointer_signs_every_n_events_and_on_stop(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    checkpointer = Checkpointer(
        ledger.database, key, every_events=5, every_seconds=3600, poll_seconds=0.02
    )
    grow(ledger, 3)
    assert checkpointer.tick() is None  # 3 new < 5 and the hour has not passed
    checkpointer.start()
    try:
        grow(ledger, 6)
        deadline = time.monotonic() + 10
        while tree_size(ledger.database) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert tree_size(ledger.database) == 6
        grow(ledger, 8)
    finally:
        checkpointer.stop(final=True)
    assert checkpointer.last_error is None
    latest = latest_checkpoint(ledger.database)
    assert latest is not None
    assert latest.size == 8


def test_the_checkpointer_signs_after_t_seconds_when_anything_is_new(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    checkpointer = Checkpointer(ledger.database, key, every_events=1000, every_seconds=0.05)
    assert checkpointer.tick() is None
    grow(ledger, 2)
    time.sleep(0.06)
    made = checkpointer.tick()
    assert made is not None
    assert made.size == 2
    time.sleep(0.06)
    assert checkpointer.tick() is None  # nothing new


def test_concurrent_checkpointers_are_serialised(
    ledger: EventStore, key: Ed25519PrivateKey
) -> None:
    grow(ledger, 40)
    barrier = threading.Barrier(4)
    made: list[int] = []
    errors: list[BaseException] = []

    def checkpoint() -> None:
        barrier.wait()
        try:
            made.append(create_checkpoint(ledger.database, key, WHEN).size)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=checkpoint) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert made == [40, 40, 40, 40]
    assert [cp.size for cp in list_checkpoints(ledger.database)] == [40]
    assert audit_ledger(ledger.database).intact
