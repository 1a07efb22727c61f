"""Ed25519-signed checkpoints (signed tree heads) over the Merkle root and the hash-chain head.

Signed bytes (UTF-8, every line ``\\n``-terminated, no other whitespace)::

    eport-ledger checkpoint v1
    <size: decimal, no sign, no leading zeros>
    <root_hash: 64 lowercase hex>
    <chain_head: 64 lowercase hex>
    <timestamp: UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ (always 6 fraction digits)>
    <key_id: 16 lowercase hex = first 8 bytes of SHA-256(raw 32-byte public key)>

Every field is validated to a fixed alphabet without newlines, so the encoding is
injective. For ``size == 0`` the root must be SHA-256("") and the chain head 64 zeros.
Key rotation: verifiers keep every public key ever used, looked up by ``key_id``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger_store.proofs.merkle_verify import EMPTY_ROOT

MAGIC = b"eport-ledger checkpoint v1\n"
ZERO_HASH_HEX = "0" * 64
EMPTY_ROOT_HEX = EMPTY_ROOT.hex()
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIGNATURE_SIZE = 64
FIELDS = ("size", "root_hash", "chain_head", "timestamp", "key_id", "signature")
"""The checkpoint's fields, in their JSON order."""


class SignatureError(ValueError):
    """A checkpoint signature could not be verified."""


class CheckpointFormatError(ValueError):
    """A checkpoint (or its JSON) breaks the format; names the first field found wrong."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason if field is None else f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _format_timestamp(ts: datetime) -> str:
    """Return the canonical UTC form YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _json_timestamp(ts: datetime) -> str:
    """The JSON form of a UTC timestamp: ISO 8601 with ``Z``, the fraction only when non-zero.

    This is the form checkpoints have always had on the wire (pydantic's); the *signed* form is
    :func:`_format_timestamp`, and both parse back to the same instant.
    """
    return ts.replace(tzinfo=None).isoformat() + "Z"


def _hex(field: str, value: object, pattern: re.Pattern[str], digits: int) -> None:
    """Require lowercase hex of exactly ``digits`` digits, nothing around it."""
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise CheckpointFormatError(field, f"must be {digits} lowercase hex digits")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed statement: the ledger had ``size`` entries with this Merkle root and chain head.

    Every field is checked when one is made (constructor, :func:`dataclasses.replace`,
    :meth:`from_json`); the first field found wrong raises :class:`CheckpointFormatError`. The
    timestamp must carry a zone and is kept in UTC. :meth:`to_json` and :meth:`from_json` are
    the wire form: one JSON object with exactly the six fields, timestamps in ISO 8601.
    """

    size: int
    root_hash: str
    chain_head: str
    timestamp: datetime
    key_id: str
    signature: str

    def __post_init__(self) -> None:
        """Check every field in order, normalise the timestamp to UTC, pin the empty tree."""
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise CheckpointFormatError("size", "must be a non-negative integer")
        _hex("root_hash", self.root_hash, _HEX64, 64)
        _hex("chain_head", self.chain_head, _HEX64, 64)
        if not isinstance(self.timestamp, datetime):
            raise CheckpointFormatError("timestamp", "must be a date and time")
        if self.timestamp.tzinfo is None or self.timestamp.utcoffset() is None:
            raise CheckpointFormatError("timestamp", "must be timezone-aware")
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(UTC))
        _hex("key_id", self.key_id, _KEY_ID, 16)
        if not isinstance(self.signature, str):
            raise CheckpointFormatError("signature", "must be a string")
        try:
            _decode_signature(self.signature)
        except ValueError as error:
            raise CheckpointFormatError("signature", str(error)) from None
        if self.size == 0 and (self.root_hash, self.chain_head) != (EMPTY_ROOT_HEX, ZERO_HASH_HEX):
            raise CheckpointFormatError(
                None, "a size-0 checkpoint must have root SHA-256('') and a zero chain head"
            )

    def signed_bytes(self) -> bytes:
        """Return the canonical bytes covered by the signature (see module docstring)."""
        ts = _format_timestamp(self.timestamp)
        body = f"{self.size}\n{self.root_hash}\n{self.chain_head}\n{ts}\n{self.key_id}\n"
        return MAGIC + body.encode("ascii")

    def to_json(self) -> dict[str, Any]:
        """The wire form: the six fields in order, the timestamp as ISO 8601 UTC (``Z``)."""
        return {
            "size": self.size,
            "root_hash": self.root_hash,
            "chain_head": self.chain_head,
            "timestamp": _json_timestamp(self.timestamp),
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: object) -> Checkpoint:
        """Parse the wire form; CheckpointFormatError for a missing, unknown or malformed field."""
        if not isinstance(data, Mapping):
            raise CheckpointFormatError(None, "a checkpoint must be a JSON object")
        for name in FIELDS:
            if name not in data:
                raise CheckpointFormatError(name, "missing")
        for name in data:
            if name not in FIELDS:
                raise CheckpointFormatError(str(name), "unknown field")
        timestamp = data["timestamp"]
        if not isinstance(timestamp, str):
            raise CheckpointFormatError("timestamp", "must be an ISO 8601 string")
        try:
            when = datetime.fromisoformat(timestamp)
        except ValueError:
            raise CheckpointFormatError("timestamp", "is not an ISO 8601 date and time") from None
        return cls(
            size=data["size"],
            root_hash=data["root_hash"],
            chain_head=data["chain_head"],
            timestamp=when,
            key_id=data["key_id"],
            signature=data["signature"],
        )


def _decode_signature(value: str) -> bytes:
    """Decode a base64 signature strictly; ValueError unless it is 64 bytes."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError("signature is not valid base64") from exc
    if len(raw) != _SIGNATURE_SIZE or base64.b64encode(raw).decode("ascii") != value:
        raise ValueError(f"signature must be canonical base64 of {_SIGNATURE_SIZE} bytes")
    return raw


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    """Return the public half of a key."""
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def key_id(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Return hex of the first 8 bytes of SHA-256 of the raw 32-byte public key."""
    raw = _public(public_key).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).digest()[:8].hex()


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Return the SubjectPublicKeyInfo PEM of a key's public half."""
    return (
        _public(key)
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def load_public_key_pem(pem: str | bytes) -> Ed25519PublicKey:
    """Parse a SubjectPublicKeyInfo PEM; ValueError unless it is an Ed25519 key."""
    key = serialization.load_pem_public_key(pem.encode("ascii") if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("public key is not Ed25519")
    return key


def sign_checkpoint(
    key: Ed25519PrivateKey,
    size: int,
    root_hash: bytes | str,
    chain_head: bytes | str,
    timestamp: datetime,
) -> Checkpoint:
    """Sign a checkpoint; hashes may be raw 32 bytes or lowercase hex."""
    unsigned = Checkpoint(
        size=size,
        root_hash=root_hash.hex() if isinstance(root_hash, bytes) else root_hash,
        chain_head=chain_head.hex() if isinstance(chain_head, bytes) else chain_head,
        timestamp=timestamp,
        key_id=key_id(key),
        signature=base64.b64encode(bytes(_SIGNATURE_SIZE)).decode("ascii"),
    )
    signature = key.sign(unsigned.signed_bytes())
    return replace(unsigned, signature=base64.b64encode(signature).decode("ascii"))


def keyring(public_keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Index public keys by key id, for :func:`verify_checkpoint`."""
    return {key_id(k): k for k in public_keys}


def verify_checkpoint(
    checkpoint: Checkpoint,
    public_keys: Mapping[str, Ed25519PublicKey] | Ed25519PublicKey | Iterable[Ed25519PublicKey],
) -> None:
    """Verify a checkpoint against known public keys (by key id); raise SignatureError."""
    if isinstance(public_keys, Ed25519PublicKey):
        keys = keyring([public_keys])
    elif isinstance(public_keys, Mapping):
        keys = dict(public_keys)
    else:
        keys = keyring(public_keys)
    key = keys.get(checkpoint.key_id)
    if key is None:
        raise SignatureError(f"unknown key id {checkpoint.key_id}")
    if key_id(key) != checkpoint.key_id:
        raise SignatureError(f"key registered under {checkpoint.key_id} has a different key id")
    try:
        raw = _decode_signature(checkpoint.signature)
        key.verify(raw, checkpoint.signed_bytes())
    except (ValueError, InvalidSignature) as exc:
        raise SignatureError("bad signature") from exc
