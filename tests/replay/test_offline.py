"""The offline checker accepts honest proofs and exports and names what is wrong with forgeries."""

from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.proofs.chain import LedgerEntry, UnchainedEvent, extend_chain
from ledger_store.proofs.checkpoint import Checkpoint, public_key_pem, sign_checkpoint
from ledger_store.proofs.export_format import encode_entry
from ledger_store.proofs.merkle import (
    InMemoryNodeStore,
    MerkleAccumulator,
    consistency_proof,
    inclusion_proof,
)
from ledger_store.proofs.merkle_verify import leaf_hash
from replay.offline import Verdict, check_bundle, check_consistency, check_export, check_inclusion

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
PUB = KEY.public_key()
WHEN = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
NS = UUID("00000000-0000-0000-0000-00000000abcd")


def rows(n: int) -> list[LedgerEntry]:
    events = [
        UnchainedEvent(
            uuid5(NS, f"agg{i % 4}"),
            i // 4 + 1,
            "domain.ukey.events:KeyIssued",
            orjson.dumps({"n": i, "card_no": f"card-{i}", "note": "中文"}),
        )
        for i in range(n)
    ]
    return list(extend_chain(0, bytes(32), events))


ROWS = rows(13)
STORE = InMemoryNodeStore()
_ACC = MerkleAccumulator()
ROOTS: dict[int, bytes] = {0: _ACC.root()}
for _row in ROWS:
    STORE.put(_ACC.append([leaf_hash(_row.entry_hash)]))
    ROOTS[_ACC.size] = _ACC.root()


def checkpoint(size: int, key: Ed25519PrivateKey = KEY) -> Checkpoint:
    head = ROWS[size - 1].chain_hash if size else bytes(32)
    return sign_checkpoint(key, size, ROOTS[size], head, WHEN)


def line(row: LedgerEntry) -> dict[str, Any]:
    return encode_entry(row)


def export(size: int = 13, key: Ed25519PrivateKey = KEY) -> list[bytes]:
    final = {"checkpoint": checkpoint(size, key).to_json(), "public_key_pem": None}
    final["public_key_pem"] = public_key_pem(key)
    return [orjson.dumps(line(r)) for r in ROWS[:size]] + [orjson.dumps(final)]


def proof_for(index: int, size: int) -> list[bytes]:
    return inclusion_proof(STORE, index - 1, size)


def rejected(verdict: Verdict, *words: str) -> None:
    assert not verdict.valid, verdict
    assert verdict.problem
    for word in words:
        assert word in verdict.problem, verdict.problem


# ------------------------------------------------------------------ inclusion


@pytest.mark.parametrize(("index", "size"), [(1, 1), (1, 13), (7, 13), (13, 13), (5, 8)])
def test_an_honest_inclusion_proof_is_valid(index: int, size: int) -> None:
    row = ROWS[index - 1]
    verdict = check_inclusion(checkpoint(size), PUB, row.entry_hash, index, proof_for(index, size))
    assert verdict.valid, verdict
    by_entry = check_inclusion(checkpoint(size), PUB, line(row), index, proof_for(index, size))
    assert by_entry.valid, by_entry


def test_a_proof_checked_at_another_index_is_rejected() -> None:
    verdict = check_inclusion(checkpoint(13), PUB, ROWS[4].entry_hash, 6, proof_for(5, 13))
    rejected(verdict, "inclusion proof rejected")
    assert verdict.ledger_index == 6


def test_an_entry_that_is_not_the_indexed_one_is_rejected() -> None:
    verdict = check_inclusion(checkpoint(13), PUB, line(ROWS[5]), 5, proof_for(5, 13))
    rejected(verdict, "entry is ledger index 6", "proof is for 5")


def test_an_index_outside_the_checkpoint_is_rejected() -> None:
    rejected(check_inclusion(checkpoint(8), PUB, ROWS[9].entry_hash, 10, []), "not within")
    rejected(check_inclusion(checkpoint(8), PUB, ROWS[0].entry_hash, 0, []), "not within")


def test_a_proof_for_another_tree_size_is_rejected() -> None:
    wrong = check_inclusion(checkpoint(13), PUB, ROWS[4].entry_hash, 5, proof_for(5, 12))
    rejected(wrong, "inclusion proof rejected")
    claimed = check_inclusion(checkpoint(13), PUB, ROWS[4].entry_hash, 5, proof_for(5, 13), 12)
    rejected(claimed, "tree size 12", "size 13")


@pytest.mark.parametrize(
    ("name", "mangle"),
    [
        ("truncated", lambda p: p[:-1]),
        ("padded", lambda p: [*p, p[-1]]),
        ("swapped siblings", lambda p: [p[1], p[0], *p[2:]]),
        ("flipped bit", lambda p: [bytes([p[0][0] ^ 1]) + p[0][1:], *p[1:]]),
    ],
)
def test_a_mangled_inclusion_path_is_rejected(name: str, mangle: Any) -> None:
    path = mangle(proof_for(6, 13))
    verdict = check_inclusion(checkpoint(13), PUB, ROWS[5].entry_hash, 6, path)
    rejected(verdict, "inclusion proof rejected")


def test_a_path_element_that_is_not_a_hash_is_rejected() -> None:
    path = [h.hex() for h in proof_for(6, 13)]
    path[1] = "zz" * 32
    rejected(check_inclusion(checkpoint(13), PUB, ROWS[5].entry_hash, 6, path), "not hex")


def test_a_forged_checkpoint_signature_is_rejected() -> None:
    honest = checkpoint(13)
    forged = replace(honest, root_hash=ROOTS[12].hex())
    verdict = check_inclusion(forged, PUB, ROWS[0].entry_hash, 1, proof_for(1, 12))
    rejected(verdict, "signature is invalid")
    swapped = base64.b64encode(bytes(64)).decode()
    zeroed = replace(honest, signature=swapped)
    rejected(check_inclusion(zeroed, PUB, ROWS[0].entry_hash, 1, proof_for(1, 13)), "signature")


def test_a_checkpoint_signed_by_another_key_is_rejected() -> None:
    verdict = check_inclusion(checkpoint(13, OTHER), PUB, ROWS[0].entry_hash, 1, proof_for(1, 13))
    rejected(verdict, "not a trusted public key")


def test_a_checkpoint_of_another_key_claiming_the_trusted_key_id_is_rejected() -> None:
    impostor = replace(checkpoint(13, OTHER), key_id=checkpoint(13).key_id)
    rejected(check_inclusion(impostor, PUB, ROWS[0].entry_hash, 1, proof_for(1, 13)), "signature")


def test_rotated_keys_are_all_trusted_when_given() -> None:
    pems = [public_key_pem(KEY), public_key_pem(OTHER)]
    old = check_inclusion(checkpoint(8), pems, ROWS[0].entry_hash, 1, proof_for(1, 8))
    new = check_inclusion(checkpoint(13, OTHER), pems, ROWS[0].entry_hash, 1, proof_for(1, 13))
    assert old.valid
    assert new.valid


# ------------------------------------------------------------------ consistency


@pytest.mark.parametrize(("old", "new"), [(0, 13), (1, 13), (4, 13), (7, 13), (8, 12), (13, 13)])
def test_an_honest_consistency_proof_is_valid(old: int, new: int) -> None:
    path = consistency_proof(STORE, old, new)
    assert check_consistency(checkpoint(old), checkpoint(new), PUB, path).valid


def test_a_consistency_proof_between_other_sizes_is_rejected() -> None:
    path = consistency_proof(STORE, 5, 13)
    rejected(check_consistency(checkpoint(6), checkpoint(13), PUB, path), "consistency proof")
    claimed = check_consistency(checkpoint(6), checkpoint(13), PUB, path, old_size=5)
    rejected(claimed, "old size 5")


@pytest.mark.parametrize(
    "mangle",
    [lambda p: p[:-1], lambda p: [*p, p[0]], lambda p: [p[1], p[0], *p[2:]], lambda p: p[::-1]],
)
def test_a_mangled_consistency_path_is_rejected(mangle: Any) -> None:
    path = mangle(consistency_proof(STORE, 6, 13))
    rejected(check_consistency(checkpoint(6), checkpoint(13), PUB, path), "consistency proof")


def test_a_consistency_check_names_which_checkpoint_is_forged() -> None:
    old = replace(checkpoint(6), chain_head="ab" * 32)
    rejected(check_consistency(old, checkpoint(13), PUB, []), "old checkpoint", "signature")
    new = checkpoint(13, OTHER)
    rejected(check_consistency(checkpoint(6), new, PUB, []), "new checkpoint", "not a trusted")


def test_a_rewritten_history_is_not_consistent_with_the_old_checkpoint() -> None:
    forged_rows = list(extend_chain(0, bytes(32), [UnchainedEvent(NS, 1, "x:Y", b"{}")] * 13))
    acc = MerkleAccumulator()
    forged_store = InMemoryNodeStore(acc.append([leaf_hash(r.entry_hash) for r in forged_rows]))
    forged = sign_checkpoint(OTHER, 13, acc.root(), forged_rows[-1].chain_hash, WHEN)
    path = consistency_proof(forged_store, 6, 13)
    verdict = check_consistency(checkpoint(6), forged, [PUB, OTHER.public_key()], path)
    rejected(verdict, "old root mismatch")


# ------------------------------------------------------------------ exports


def test_an_honest_export_is_valid_with_the_published_key() -> None:
    verdict = check_export(export(), PUB)
    assert verdict.valid, verdict
    assert verdict.size == 13


def test_an_export_checked_with_its_own_key_says_so() -> None:
    verdict = check_export(export())
    assert verdict.valid
    assert "key inside the export" in verdict.notes[0]


def test_an_empty_ledger_exports_and_verifies() -> None:
    assert check_export(export(0), PUB).valid


def test_an_export_signed_by_another_key_is_rejected() -> None:
    rejected(check_export(export(key=OTHER), PUB), "not a trusted public key")


def test_a_tampered_export_line_is_rejected_at_its_index() -> None:
    lines = export()
    data = orjson.loads(lines[4])
    data["state_base64"] = base64.b64encode(b'{"n":4,"card_no":"forged"}').decode()
    data["state"] = orjson.loads(b'{"n":4,"card_no":"forged"}')
    lines[4] = orjson.dumps(data)
    verdict = check_export(lines, PUB)
    rejected(verdict, "entry hash does not match")
    assert verdict.ledger_index == 5


def test_a_readable_state_that_lies_about_the_bytes_is_rejected() -> None:
    lines = export()
    data = orjson.loads(lines[2])
    data["state"]["card_no"] = "forged"
    lines[2] = orjson.dumps(data)
    rejected(check_export(lines, PUB), "readable 'state' differs")


def test_a_relinked_export_line_is_rejected_at_its_index() -> None:
    lines = export()
    data = orjson.loads(lines[4])
    data["chain_hash"] = "ab" * 32
    lines[4] = orjson.dumps(data)
    verdict = check_export(lines, PUB)
    rejected(verdict, "chain hash does not link to the previous entry")
    assert verdict.ledger_index == 5
    assert verdict.size == 4


def test_an_entry_that_cannot_be_hashed_is_rejected_not_crashed_on() -> None:
    lines = export()
    data = orjson.loads(lines[2])
    data["originator_version"] = -1
    lines[2] = orjson.dumps(data)
    verdict = check_export(lines, PUB)
    rejected(verdict, "entry field missing or malformed")
    assert verdict.ledger_index == 3
    bundle = {"index": 3, "size": 13, "path": [h.hex() for h in proof_for(3, 13)]}
    inclusion = check_bundle(
        {**bundle, "entry": data, "checkpoint": checkpoint(13).to_json()}, [PUB]
    )
    rejected(inclusion, "entry field missing or malformed")


def test_a_consistently_rehashed_export_fails_the_signed_root() -> None:
    forged = [*ROWS]
    event = UnchainedEvent(ROWS[3].originator_id, ROWS[3].originator_version, ROWS[3].topic, b"{}")
    rest = [
        UnchainedEvent(r.originator_id, r.originator_version, r.topic, r.state) for r in ROWS[4:]
    ]
    forged[3:] = extend_chain(3, ROWS[2].chain_hash, [event, *rest])
    lines = [orjson.dumps(line(r)) for r in forged] + export()[-1:]
    rejected(check_export(lines, PUB), "Merkle root")


def test_reordered_export_lines_are_rejected() -> None:
    lines = export()
    lines[3], lines[4] = lines[4], lines[3]
    verdict = check_export(lines, PUB)
    rejected(verdict, "expected ledger index 4, found 5")
    assert verdict.ledger_index == 4


def test_a_removed_middle_line_is_rejected() -> None:
    lines = export()
    del lines[6]
    rejected(check_export(lines, PUB), "expected ledger index 7, found 8")


def test_an_export_cut_before_its_checkpoint_is_rejected() -> None:
    verdict = check_export(export()[:9], PUB)
    rejected(verdict, "without its checkpoint line")


def test_an_export_missing_its_last_entries_is_rejected() -> None:
    lines = export()
    verdict = check_export([*lines[:10], lines[-1]], PUB)
    rejected(verdict, "10 entries", "checkpoint is for 13")
    assert verdict.ledger_index == 11


def test_lines_after_the_checkpoint_are_rejected() -> None:
    lines = export(8)
    lines.append(orjson.dumps(line(ROWS[8])))
    rejected(check_export(lines, PUB), "follows the checkpoint line")


def test_garbage_lines_are_rejected_not_crashed_on() -> None:
    rejected(check_export([b"not json"], PUB), "line 1 is not JSON")
    rejected(check_export([b"[1, 2]"], PUB), "not a JSON object")
    rejected(check_export([b'{"ledger_index": 1}'], PUB), "missing or malformed")


# ------------------------------------------------------------------ bundles


def test_a_bundle_carries_what_the_verifier_needs() -> None:
    bundle = {
        "index": 3,
        "size": 13,
        "path": [h.hex() for h in proof_for(3, 13)],
        "entry": line(ROWS[2]),
        "checkpoint": checkpoint(13).to_json(),
        "public_keys": {"ignored-label": public_key_pem(KEY)},
    }
    assert check_bundle(bundle).valid
    assert check_bundle(bundle, [PUB]).valid
    rejected(check_bundle(bundle, [OTHER.public_key()]), "not a trusted public key")
    rejected(check_bundle({**bundle, "index": 4}), "entry is ledger index 3")
    rejected(check_bundle({**bundle, "checkpoint": None}), "checkpoint is missing")


# ------------------------------------------------------------------ the docs' standalone script


def docs_snippet() -> str:
    text = (Path(__file__).resolve().parents[2] / "docs" / "audit.md").read_text()
    after = text.split("<!-- snippet: verify_inclusion.py -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize(("index", "size"), [(1, 1), (6, 13), (13, 13), (8, 8)])
def test_the_standard_library_script_in_the_docs_checks_a_bundle(
    tmp_path: Path, index: int, size: int
) -> None:
    script = tmp_path / "verify_inclusion.py"
    script.write_text(docs_snippet())
    bundle = {
        "index": index,
        "size": size,
        "path": [h.hex() for h in proof_for(index, size)],
        "entry": line(ROWS[index - 1]),
        "checkpoint": checkpoint(size).to_json(),
    }
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(bundle))
    ok = subprocess.run([sys.executable, str(script), str(good)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert f"ledger index {index} is in the checkpoint of size {size}" in ok.stdout
    if size > 1:
        bad = tmp_path / "bad.json"
        bad.write_bytes(orjson.dumps({**bundle, "path": [*bundle["path"][::-1], "00" * 32]}))
        refused = subprocess.run([sys.executable, str(script), str(bad)], capture_output=True)
        assert refused.returncode != 0
