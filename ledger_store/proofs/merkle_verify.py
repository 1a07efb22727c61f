"""RFC 9162 §2.1 Merkle tree, the verifier's half: leaf and node hashing, the empty root, and
checking inclusion and consistency proofs.

A module of its own (not folded into :mod:`ledger_store.proofs.merkle`, the prover's half) so
that it stays self-contained for offline auditors: only ``hashlib`` and ``typing`` are imported
(a test holds it to that), so this file can be copied next to an export and run without the
rest of the project or any database.

Conventions (RFC 9162 §2.1): the Merkle leaf for ledger index ``i`` (1-based) is leaf
number ``i - 1`` and its hash is ``SHA-256(0x00 || entry_hash)``; interior nodes are
``SHA-256(0x01 || left || right)``; the root of the empty tree is ``SHA-256("")``.

Consistency from the empty tree (``old_size == 0``): every tree extends the empty tree,
so the proof must be empty and ``old_root`` must be :data:`EMPTY_ROOT`; ``new_root`` is
not constrained by the proof (check its signature instead). This is stricter than
transparency-dev/merkle, which ignores ``old_root`` when ``old_size == 0``.

A proof binds a root, not a size: always take ``size`` and ``root`` (or both sizes and
both roots) from signature-verified checkpoints, never from the prover.
"""

from __future__ import annotations

import hashlib
from typing import Final, Sequence  # noqa: UP035 - verify side imports only hashlib/typing

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """An inclusion or consistency proof (or its parameters) failed verification."""


def leaf_hash(entry_hash: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || entry_hash) of a 32-byte entry hash."""
    if len(entry_hash) != HASH_SIZE:
        raise ValueError(f"entry hash must be {HASH_SIZE} bytes, got {len(entry_hash)}")
    return hashlib.sha256(b"\x00" + entry_hash).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_path_length(index: int, size: int) -> int:
    """Return the exact length of a valid inclusion path for ``index`` in a tree of ``size``."""
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def consistency_path_length(old_size: int, new_size: int) -> int:
    """Return the exact length of a valid consistency path for ``0 < old_size < new_size``."""
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1
    seed = 0 if old_size == 1 << shift else 1
    return seed + inner - shift + border


def _path_step(fn: int, sn: int) -> tuple[bool, int, int]:
    """One step of the RFC 9162 path walk, shared by both checks (§2.1.3.2 step 4b-c for
    inclusion, §2.1.4.2 step 6b-c for consistency): whether this path element is the left
    sibling ("if LSB(fn) is set, or if fn is equal to sn"), and ``fn``, ``sn`` for the next one.
    The caller fails the proof first if ``sn`` is 0 (step 4a, 6a)."""
    left = bool(fn & 1) or fn == sn
    if left:
        while fn and not fn & 1:
            fn >>= 1
            sn >>= 1
    return left, fn >> 1, sn >> 1


def _check_hash(value: bytes, what: str) -> None:
    """Raise ProofError unless ``value`` is a 32-byte hash."""
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} is not a {HASH_SIZE}-byte hash")


def _check_size(value: int, what: str) -> None:
    """Raise ProofError unless ``value`` is a non-negative int (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}")


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """Check an RFC 9162 §2.1.3.2 inclusion proof for a leaf hash; raise ProofError if invalid."""
    _check_size(index, "index")
    _check_size(size, "tree size")
    if index >= size:
        raise ProofError(f"index {index} out of range for tree size {size}")
    _check_hash(leaf, "leaf hash")
    _check_hash(root, "root hash")
    for pos, p in enumerate(path):
        _check_hash(p, f"path element {pos}")
    expected = inclusion_path_length(index, size)
    if len(path) != expected:
        raise ProofError(f"wrong inclusion path length {len(path)}, expected {expected}")
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in path:
        if sn == 0:
            raise ProofError("inclusion path too long")
        left, fn, sn = _path_step(fn, sn)
        r = node_hash(p, r) if left else node_hash(r, p)
    if sn != 0:
        raise ProofError("inclusion path too short")
    if r != root:
        raise ProofError("root mismatch: inclusion path does not lead to the given root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """Check an RFC 9162 §2.1.4.2 consistency proof; raise ProofError if invalid."""
    _check_size(old_size, "old size")
    _check_size(new_size, "new size")
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}")
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    for pos, c in enumerate(path):
        _check_hash(c, f"path element {pos}")
    if old_size == 0:
        if path:
            raise ProofError("consistency path from the empty tree must be empty")
        if old_root != EMPTY_ROOT:
            raise ProofError("old root mismatch: the empty tree's root is SHA-256('')")
        if new_size == 0 and new_root != EMPTY_ROOT:
            raise ProofError("new root mismatch: the empty tree's root is SHA-256('')")
        return
    if old_size == new_size:
        if path:
            raise ProofError("consistency path between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("root mismatch: equal sizes but different roots")
        return
    if not path:
        raise ProofError("empty consistency path")
    expected = consistency_path_length(old_size, new_size)
    if len(path) != expected:
        raise ProofError(f"wrong consistency path length {len(path)}, expected {expected}")
    proof = list(path)
    if old_size & (old_size - 1) == 0:
        proof.insert(0, bytes(old_root))
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise ProofError("consistency path too long")
        left, fn, sn = _path_step(fn, sn)
        if left:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
        else:
            sr = node_hash(sr, c)
    if sn != 0:
        raise ProofError("consistency path too short")
    if fr != old_root:
        raise ProofError("old root mismatch: consistency path does not lead to the old root")
    if sr != new_root:
        raise ProofError("new root mismatch: consistency path does not lead to the new root")
