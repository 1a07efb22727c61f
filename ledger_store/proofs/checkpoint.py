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
import os
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ledger_store.proofs.merkle_verify import EMPTY_ROOT

MAGIC = b"eport-ledger checkpoint v1\n"
ZERO_HASH_HEX = "0" * 64
EMPTY_ROOT_HEX = EMPTY_ROOT.hex()
_HEX64 = r"^[0-9a-f]{64}$"
_SIGNATURE_SIZE = 64


class SignatureError(ValueError):
    """A checkpoint signature could not be verified."""


def _format_timestamp(ts: datetime) -> str:
    """Return the canonical UTC form YYYY-MM-DDTHH:MM:SS.ffffffZ."""
    return ts.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


class Checkpoint(BaseModel):
    """A signed statement: the ledger had ``size`` entries with this Merkle root and chain head."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    size: Annotated[int, Field(ge=0, strict=True)]
    root_hash: Annotated[str, Field(pattern=_HEX64)]
    chain_head: Annotated[str, Field(pattern=_HEX64)]
    timestamp: datetime
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]
    signature: str

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        """Require a timezone-aware timestamp and normalise it to UTC."""
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("timestamp must be timezone-aware")
        return value.astimezone(UTC)

    @field_validator("signature")
    @classmethod
    def _base64_signature(cls, value: str) -> str:
        """Require standard base64 of exactly 64 bytes."""
        _decode_signature(value)
        return value

    @model_validator(mode="after")
    def _empty_tree(self) -> Self:
        """Pin the root and chain head of the empty ledger."""
        if self.size == 0 and (self.root_hash, self.chain_head) != (EMPTY_ROOT_HEX, ZERO_HASH_HEX):
            raise ValueError("a size-0 checkpoint must have root SHA-256('') and a zero chain head")
        return self

    def signed_bytes(self) -> bytes:
        """Return the canonical bytes covered by the signature (see module docstring)."""
        ts = _format_timestamp(self.timestamp)
        body = f"{self.size}\n{self.root_hash}\n{self.chain_head}\n{ts}\n{self.key_id}\n"
        return MAGIC + body.encode("ascii")


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


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS8 PEM Ed25519 private key."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the PEM PKCS8 key at ``path``, or create it (mode 0600) without ever overwriting."""
    path = Path(path)
    if path.exists():
        return _load_private_key(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # atomic and refuses to replace an existing file
    except FileExistsError:
        return _load_private_key(path)  # lost a race: use the winner's key
    finally:
        tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
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
    return unsigned.model_copy(update={"signature": base64.b64encode(signature).decode("ascii")})


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
