"""Ed25519 checkpoints: canonical bytes, key files, forgery and tampering, key rotation."""

from __future__ import annotations

import base64
import hashlib
import stat
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings, strategies as st

from ledger_store.proofs.checkpoint import (
    FIELDS,
    Checkpoint,
    CheckpointFormatError,
    SignatureError,
    key_id,
    keyring,
    load_public_key_pem,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from ledger_store.proofs.merkle_verify import EMPTY_ROOT
from ledger_store.transparency.signing_key import load_or_create_signing_key

ROOT = hashlib.sha256(b"root").digest()
HEAD = hashlib.sha256(b"head").digest()
WHEN = datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def raw_public(key: Ed25519PrivateKey) -> bytes:
    """Raw 32-byte public key."""
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signed(key: Ed25519PrivateKey = KEY, size: int = 42) -> Checkpoint:
    """A checkpoint signed by ``key``."""
    return sign_checkpoint(key, size, ROOT, HEAD, WHEN)


# ------------------------------------------------------------------ canonical bytes


def test_signed_bytes_have_the_documented_canonical_layout() -> None:
    cp = signed()
    kid = hashlib.sha256(raw_public(KEY)).digest()[:8].hex()
    assert cp.key_id == kid
    assert cp.signed_bytes() == (
        b"eport-ledger checkpoint v1\n"
        b"42\n" + ROOT.hex().encode() + b"\n" + HEAD.hex().encode() + b"\n"
        b"2024-05-01T12:30:15.250000Z\n" + kid.encode() + b"\n"
    )
    assert len(base64.b64decode(cp.signature)) == 64


def test_timestamps_are_normalised_to_utc_with_six_fraction_digits() -> None:
    east = timezone(timedelta(hours=8))
    cp = sign_checkpoint(KEY, 1, ROOT, HEAD, datetime(2024, 5, 2, 0, 0, tzinfo=east))
    assert cp.timestamp == datetime(2024, 5, 1, 16, 0, tzinfo=UTC)
    assert cp.timestamp.tzinfo is UTC
    assert b"\n2024-05-01T16:00:00.000000Z\n" in cp.signed_bytes()
    verify_checkpoint(cp, KEY.public_key())


def test_checkpoint_survives_a_json_round_trip_and_still_verifies() -> None:
    cp = signed()
    again = Checkpoint.from_json(orjson.loads(orjson.dumps(cp.to_json())))
    assert again == cp
    assert again.signed_bytes() == cp.signed_bytes()
    verify_checkpoint(again, KEY.public_key())


def test_the_json_form_is_the_one_checkpoints_have_always_had() -> None:
    """Field order, and the timestamp in UTC with `Z` and a fraction only when there is one
    (as pydantic wrote it before Checkpoint became a plain dataclass)."""
    assert orjson.dumps(signed().to_json()) == (
        b'{"size":42,"root_hash":"' + ROOT.hex().encode() + b'","chain_head":"'
        + HEAD.hex().encode() + b'","timestamp":"2024-05-01T12:30:15.250000Z","key_id":"'
        + signed().key_id.encode() + b'","signature":"' + signed().signature.encode() + b'"}'
    )  # fmt: skip
    east = timezone(timedelta(hours=8))
    whole = sign_checkpoint(KEY, 1, ROOT, HEAD, datetime(2024, 5, 2, 0, 0, tzinfo=east))
    assert whole.to_json()["timestamp"] == "2024-05-01T16:00:00Z"
    tiny = sign_checkpoint(KEY, 1, ROOT, HEAD, datetime(2024, 5, 2, 0, 0, 0, 1, tzinfo=UTC))
    assert tiny.to_json()["timestamp"] == "2024-05-02T00:00:00.000001Z"
    for cp in (whole, tiny):
        assert Checkpoint.from_json(cp.to_json()) == cp


def test_hashes_may_be_given_as_bytes_or_lowercase_hex() -> None:
    assert sign_checkpoint(KEY, 3, ROOT.hex(), HEAD.hex(), WHEN) == signed(size=3)


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 2**63),
    root=st.binary(min_size=32, max_size=32),
    head=st.binary(min_size=32, max_size=32),
    when=st.datetimes(timezones=st.just(UTC)),
)
def test_any_valid_checkpoint_signs_and_verifies(
    size: int, root: bytes, head: bytes, when: datetime
) -> None:
    cp = sign_checkpoint(KEY, size, root, head, when)
    verify_checkpoint(cp, KEY.public_key())
    lines = cp.signed_bytes().decode("ascii").split("\n")
    assert lines == ["eport-ledger checkpoint v1", str(size), root.hex(), head.hex(),
                     lines[4], cp.key_id, ""]  # fmt: skip
    assert datetime.fromisoformat(lines[4]) == when


# ------------------------------------------------------------------ field validation


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("size", -1),
        ("size", True),
        ("root_hash", ROOT.hex().upper()),
        ("root_hash", ROOT.hex()[:-1]),
        ("root_hash", ROOT.hex() + "\n"),
        ("chain_head", "g" * 64),
        ("key_id", "00" * 9),
        ("key_id", "ABCDEF0123456789"),
        ("timestamp", datetime(2024, 5, 1, 12, 0)),  # naive
        ("signature", "not base64!"),
        ("signature", base64.b64encode(b"\x00" * 63).decode()),
        ("signature", base64.b64encode(b"\x00" * 64).decode().rstrip("=")),
        ("extra", "field"),
    ],
)
def test_malformed_checkpoint_fields_are_refused(field: str, value: Any) -> None:
    fields = signed().to_json()
    fields[field] = value.isoformat() if isinstance(value, datetime) else value
    with pytest.raises(CheckpointFormatError) as parsed:
        Checkpoint.from_json(fields)
    assert parsed.value.field == field
    if field in FIELDS:
        with pytest.raises(CheckpointFormatError) as made:
            replace(signed(), **{field: value})
        assert made.value.field == field


@pytest.mark.parametrize(
    ("json", "field"),
    [
        ({"size": 42}, "root_hash"),
        ({**signed().to_json(), "timestamp": 1714566615}, "timestamp"),
        ({**signed().to_json(), "timestamp": "yesterday"}, "timestamp"),
        ([1, 2], None),
        ("checkpoint", None),
    ],
)
def test_malformed_checkpoint_json_is_refused(json: Any, field: str | None) -> None:
    with pytest.raises(CheckpointFormatError) as refused:
        Checkpoint.from_json(json)
    assert refused.value.field == field


def test_size_zero_checkpoint_must_carry_the_empty_root_and_zero_chain_head() -> None:
    cp = sign_checkpoint(KEY, 0, EMPTY_ROOT, bytes(32), WHEN)
    assert cp.chain_head == "0" * 64
    verify_checkpoint(cp, KEY.public_key())
    with pytest.raises(CheckpointFormatError, match="size-0 checkpoint"):
        sign_checkpoint(KEY, 0, ROOT, bytes(32), WHEN)
    with pytest.raises(CheckpointFormatError, match="size-0 checkpoint"):
        sign_checkpoint(KEY, 0, EMPTY_ROOT, HEAD, WHEN)


def test_checkpoints_are_frozen() -> None:
    cp = signed()
    with pytest.raises(FrozenInstanceError):
        cp.size = 43  # type: ignore[misc]


# ------------------------------------------------------------------ forgery and tampering


def test_a_forged_signature_is_rejected() -> None:
    cp = signed()
    sig = bytearray(base64.b64decode(cp.signature))
    sig[10] ^= 1
    forged = [
        bytes(sig),
        bytes(64),
        base64.b64decode(signed(size=43).signature),  # genuine signature of another checkpoint
    ]
    for raw in forged:
        bad = replace(cp, signature=base64.b64encode(raw).decode())
        with pytest.raises(SignatureError, match="bad signature"):
            verify_checkpoint(bad, KEY.public_key())


def test_an_undecodable_signature_smuggled_past_validation_is_a_bad_signature() -> None:
    bad = signed()
    object.__setattr__(bad, "signature", "%%%")  # past the checks a constructor makes
    with pytest.raises(SignatureError, match="bad signature"):
        verify_checkpoint(bad, KEY.public_key())


@pytest.mark.parametrize(
    "change",
    [
        {"size": 43},
        {"size": 41},
        {"root_hash": hashlib.sha256(b"other root").hexdigest()},
        {"chain_head": hashlib.sha256(b"other head").hexdigest()},
        {"timestamp": WHEN + timedelta(microseconds=1)},
        {"timestamp": WHEN - timedelta(days=365)},
    ],
)
def test_a_checkpoint_changed_after_signing_is_rejected(change: dict[str, Any]) -> None:
    cp = signed()
    tampered_copy = replace(cp, **change)
    as_json = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in change.items()}
    tampered_parsed = Checkpoint.from_json({**cp.to_json(), **as_json})
    for tampered in (tampered_copy, tampered_parsed):
        with pytest.raises(SignatureError, match="bad signature"):
            verify_checkpoint(tampered, KEY.public_key())


def test_a_checkpoint_signed_by_another_key_is_rejected() -> None:
    cp = signed(OTHER_KEY)
    with pytest.raises(SignatureError, match=f"unknown key id {cp.key_id}"):
        verify_checkpoint(cp, KEY.public_key())
    relabelled = replace(cp, key_id=key_id(KEY.public_key()))
    with pytest.raises(SignatureError, match="bad signature"):
        verify_checkpoint(relabelled, KEY.public_key())


def test_a_mislabelled_keyring_entry_is_not_trusted() -> None:
    cp = signed(OTHER_KEY)
    mislabelled = {cp.key_id: KEY.public_key()}
    with pytest.raises(SignatureError, match="different key id"):
        verify_checkpoint(cp, mislabelled)


# ------------------------------------------------------------------ keys and rotation


def test_key_id_is_the_first_eight_bytes_of_sha256_of_the_raw_public_key() -> None:
    expected = hashlib.sha256(raw_public(KEY)).hexdigest()[:16]
    assert key_id(KEY.public_key()) == key_id(KEY) == expected
    assert key_id(OTHER_KEY.public_key()) != expected


def test_public_key_pem_round_trips() -> None:
    pem = public_key_pem(KEY)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert pem == public_key_pem(KEY.public_key())
    assert key_id(load_public_key_pem(pem)) == key_id(KEY)
    assert key_id(load_public_key_pem(pem.encode())) == key_id(KEY)
    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(ValueError, match="not Ed25519"):
        load_public_key_pem(ec_pem)


def test_rotation_keeps_checkpoints_from_old_keys_verifiable() -> None:
    old_cp, new_cp = signed(KEY, size=10), signed(OTHER_KEY, size=20)
    ring = keyring([KEY.public_key(), OTHER_KEY.public_key()])
    for known in (ring, [KEY.public_key(), OTHER_KEY.public_key()]):
        verify_checkpoint(old_cp, known)
        verify_checkpoint(new_cp, known)
    with pytest.raises(SignatureError, match="unknown key id"):
        verify_checkpoint(old_cp, keyring([OTHER_KEY.public_key()]))


def test_signing_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "nested" / "checkpoint.key"
    key = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    content = path.read_bytes()
    assert content.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8, unencrypted
    again = load_or_create_signing_key(path)
    assert raw_public(again) == raw_public(key)
    assert path.read_bytes() == content
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.key"]
    verify_checkpoint(signed(again), key.public_key())


def test_a_key_created_concurrently_is_never_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoint.key"
    winner = load_or_create_signing_key(path)
    content = path.read_bytes()
    monkeypatch.setattr(Path, "exists", lambda self: False)  # lose the race
    loser = load_or_create_signing_key(path)
    assert raw_public(loser) == raw_public(winner)
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.key"]


def test_a_non_ed25519_key_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    with pytest.raises(ValueError, match="not hold an Ed25519"):
        load_or_create_signing_key(path)
    assert path.read_bytes() == pem
