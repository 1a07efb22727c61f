"""The offline checker: files an auditor holds, checked with no database.

It checks (1) one entry's inclusion proof against a signed checkpoint, (2) a consistency proof
between two signed checkpoints, (3) a whole exported ledger (JSON Lines) against its checkpoint,
and (4) a proof bundle as ``eport-ledger proof`` or the HTTP API give it, and answers a
:class:`Verdict` that is valid or says exactly what is wrong. Ledger indexes are 1-based; the
Merkle leaf of ledger index ``i`` is leaf ``i - 1``, hashed SHA-256(0x00 || entry). The checks
are those of :mod:`ledger_store.proofs` (the one chain walk, the one Merkle accumulator, the RFC
9162 proof checks, checkpoint signatures); this module only reads the files and words the
verdict. It imports nothing else of the project, only the standard library, orjson and
cryptography (a test holds it to that).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger_store.proofs.chain import (
    ChainFault,
    ChainReport,
    LedgerEntry,
    MalformedEntryError,
    recompute_entry_hash,
    verify_chain,
)
from ledger_store.proofs.checkpoint import (
    Checkpoint,
    CheckpointFormatError,
    SignatureError,
    key_id,
    load_public_key_pem,
    verify_checkpoint,
)
from ledger_store.proofs.export_format import InvalidError, decode_entry, parse_hash
from ledger_store.proofs.merkle import MerkleAccumulator
from ledger_store.proofs.merkle_verify import (
    ProofError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

KeyLike = Ed25519PublicKey | str | bytes
Keys = KeyLike | Iterable[KeyLike] | Mapping[str, Ed25519PublicKey]


@dataclass(frozen=True, slots=True)
class Verdict:
    """Valid, or the first problem found and the ledger index it concerns."""

    valid: bool
    problem: str | None = None
    ledger_index: int | None = None
    size: int = 0
    notes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.valid

    def __str__(self) -> str:
        if self.valid:
            return f"valid ({self.size} entries)" + "".join(f"; {n}" for n in self.notes)
        where = f" at ledger index {self.ledger_index}" if self.ledger_index is not None else ""
        return f"INVALID{where}: {self.problem}"


def keyring_of(keys: Keys) -> dict[str, Ed25519PublicKey]:
    """Public keys (objects or PEM text) indexed by key id."""
    if isinstance(keys, Mapping):
        return dict(keys)
    items: Iterable[KeyLike] = [keys] if isinstance(keys, Ed25519PublicKey | str | bytes) else keys
    ring: dict[str, Ed25519PublicKey] = {}
    for item in items:
        key = item if isinstance(item, Ed25519PublicKey) else load_public_key_pem(item)
        ring[key_id(key)] = key
    return ring


def _trusted(keys: Keys) -> dict[str, Ed25519PublicKey]:
    """The trusted keyring; an unreadable key is a problem, not a crash."""
    try:
        return keyring_of(keys)
    except (ValueError, TypeError) as error:
        raise InvalidError(f"public key unusable: {error}") from None


def _checkpoint(
    value: Checkpoint | Mapping[str, Any], ring: Mapping[str, Ed25519PublicKey], what: str
) -> Checkpoint:
    """Parse a checkpoint and check its signature against the trusted keys."""
    if not isinstance(value, Checkpoint | Mapping):
        raise InvalidError(f"{what} is missing")
    try:
        cp = value if isinstance(value, Checkpoint) else Checkpoint.from_json(value)
    except CheckpointFormatError as error:
        where = error.field or "value"
        raise InvalidError(f"{what} is malformed: {where}: {error.reason}") from None
    if cp.key_id not in ring:
        raise InvalidError(
            f"{what} is signed by key {cp.key_id}, which is not a trusted public key"
        )
    try:
        verify_checkpoint(cp, ring)
    except SignatureError as error:
        raise InvalidError(f"{what} signature is invalid ({error}): forged or altered") from None
    return cp


def _path(path: Sequence[bytes | str]) -> list[bytes]:
    if isinstance(path, str | bytes):
        raise InvalidError("proof path must be a list of hashes")
    return [parse_hash(p, f"proof path element {n}") for n, p in enumerate(path)]


def check_inclusion(
    checkpoint: Checkpoint | Mapping[str, Any],
    keys: Keys,
    entry: bytes | str | Mapping[str, Any],
    index: int,
    path: Sequence[bytes | str],
    size: int | None = None,
) -> Verdict:
    """Is ``entry`` (an entry hash, or an exported entry) ledger ``index`` of the checkpoint?"""
    try:
        cp = _checkpoint(checkpoint, _trusted(keys), "checkpoint")
        if size is not None and size != cp.size:
            raise InvalidError(
                f"proof is for tree size {size} but the checkpoint is size {cp.size}"
            )
        if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= cp.size:
            raise InvalidError(f"ledger index {index} is not within the checkpoint's 1..{cp.size}")
        if isinstance(entry, Mapping):
            decoded = decode_entry(entry)
            hashed, found = _content_hash(decoded), decoded.ledger_index
            if found != index:
                raise InvalidError(
                    f"the entry is ledger index {found}, the proof is for {index}", index
                )
        else:
            hashed = parse_hash(entry, "entry hash", index)
        proof = _path(path)
        try:
            verify_inclusion(
                leaf_hash(hashed), index - 1, cp.size, proof, bytes.fromhex(cp.root_hash)
            )
        except ProofError as error:
            raise InvalidError(f"inclusion proof rejected: {error}", index) from None
    except InvalidError as bad:
        return Verdict(False, bad.problem, bad.ledger_index)
    return Verdict(True, size=cp.size)


def check_consistency(
    old: Checkpoint | Mapping[str, Any],
    new: Checkpoint | Mapping[str, Any],
    keys: Keys,
    path: Sequence[bytes | str],
    old_size: int | None = None,
    new_size: int | None = None,
) -> Verdict:
    """Does the ``new`` checkpoint's ledger extend the ``old`` one's (nothing rewritten)?"""
    try:
        ring = _trusted(keys)
        first = _checkpoint(old, ring, "old checkpoint")
        second = _checkpoint(new, ring, "new checkpoint")
        for claimed, cp, what in ((old_size, first, "old"), (new_size, second, "new")):
            if claimed is not None and claimed != cp.size:
                raise InvalidError(
                    f"proof's {what} size {claimed} is not the checkpoint's {cp.size}"
                )
        try:
            verify_consistency(
                first.size,
                second.size,
                bytes.fromhex(first.root_hash),
                bytes.fromhex(second.root_hash),
                _path(path),
            )
        except ProofError as error:
            raise InvalidError(f"consistency proof rejected: {error}") from None
    except InvalidError as bad:
        return Verdict(False, bad.problem, bad.ledger_index)
    return Verdict(True, size=second.size)


def _lines(source: Iterable[bytes | str]) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(source, 1):
        text = raw.strip()
        if not text:
            raise InvalidError(f"line {number} is empty")
        try:
            yield number, orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise InvalidError(f"line {number} is not JSON: {error}") from None


def _content_hash(entry: LedgerEntry) -> bytes:
    """The hash of one exported entry's content, which must be the hash the line claims."""
    try:
        hashed = recompute_entry_hash(entry)
    except MalformedEntryError as error:
        raise InvalidError(
            f"entry field missing or malformed: {error}", entry.ledger_index
        ) from None
    if hashed != entry.entry_hash:
        raise InvalidError(
            "entry hash does not match the entry's content: the entry was altered",
            entry.ledger_index,
        )
    return hashed


class _Export:
    """The lines of an export: entries, then the checkpoint line, which must be last."""

    def __init__(self, lines: Iterable[bytes | str]) -> None:
        self.lines = lines
        self.number = 0
        self.final: Mapping[str, Any] | None = None

    def entries(self) -> Iterator[LedgerEntry]:
        """The entry lines decoded, in file order; the checkpoint line is kept aside."""
        for number, line in _lines(self.lines):
            self.number = number
            if self.final is not None:
                raise InvalidError(f"line {number} follows the checkpoint line, which must be last")
            if not isinstance(line, dict):
                raise InvalidError(f"line {number} is not a JSON object")
            if "checkpoint" in line:
                self.final = line
                continue
            yield decode_entry(line)

    def broken(self, chain: ChainReport) -> InvalidError:
        """The chain walk's fault, in the words of an export (the bad entry is the last line)."""
        bad = chain.first_bad_index
        match chain.fault:
            case ChainFault.GAP:
                problem = (
                    f"line {self.number}: expected ledger index {bad}, found "
                    f"{chain.found_index}: lines were removed, inserted or reordered"
                )
            case ChainFault.MALFORMED:
                problem = f"entry field missing or malformed: {chain.detail}"
            case ChainFault.ALTERED:
                problem = "entry hash does not match the entry's content: the entry was altered"
            case _:
                problem = "chain hash does not link to the previous entry"
        return InvalidError(problem, bad)


def check_export(lines: Iterable[bytes | str], keys: Keys | None = None) -> Verdict:
    """Walk an export's chain (entry hashes, links), recompute its Merkle root; check its
    checkpoint."""
    tree, notes, export = MerkleAccumulator(), [], _Export(lines)

    def add_leaf(entry: LedgerEntry) -> None:
        tree.append([leaf_hash(entry.entry_hash)])

    try:
        chain = verify_chain(export.entries(), on_entry=add_leaf)
        if not chain.intact:
            raise export.broken(chain)
        head, final = chain.head, export.final
        if final is None:
            raise InvalidError(
                "the export ends without its checkpoint line: it was truncated", chain.size + 1
            )
        if keys is None:
            ring = _trusted(str(final.get("public_key_pem", "")))
            notes.append(
                f"signature checked with the key inside the export (key id {next(iter(ring))}): "
                "compare it with the published key"
            )
        else:
            ring = _trusted(keys)
        cp = _checkpoint(final["checkpoint"], ring, "the export's checkpoint")
        if cp.size != tree.size:
            first_bad = min(cp.size, tree.size) + 1
            raise InvalidError(
                f"the export holds {tree.size} entries but its checkpoint is for {cp.size}: "
                "entries were removed or added",
                first_bad,
            )
        if tree.root().hex() != cp.root_hash:
            raise InvalidError(
                "the Merkle root of the exported entries is not the checkpoint's root"
            )
        if head.hex() != cp.chain_head:
            raise InvalidError("the chain head of the exported entries is not the checkpoint's")
    except InvalidError as bad:
        return Verdict(False, bad.problem, bad.ledger_index, tree.size)
    return Verdict(True, size=tree.size, notes=tuple(notes))


def check_export_file(path: Path | str, keys: Keys | None = None) -> Verdict:
    """:func:`check_export` over a file, streamed line by line."""
    with open(path, "rb") as handle:
        return check_export(handle, keys)


def check_bundle(bundle: Mapping[str, Any], keys: Keys | None = None) -> Verdict:
    """Check a proof bundle (``eport-ledger proof ...`` or the HTTP proof answers)."""
    inside = bundle.get("public_keys") or {}
    trusted: Keys = keys if keys is not None else [str(pem) for pem in dict(inside).values()]
    verdict = _check_bundle(bundle, trusted)
    if verdict.valid and keys is None:
        note = "signature checked with the key inside the bundle: compare it with the published key"
        return replace(verdict, notes=(*verdict.notes, note))
    return verdict


def _check_bundle(bundle: Mapping[str, Any], trusted: Keys) -> Verdict:
    """Dispatch a bundle to the inclusion or the consistency check."""
    for name in ("checkpoint", "old_checkpoint", "new_checkpoint"):
        if name in bundle and not isinstance(bundle[name], Mapping):
            what = name.replace("_", " ")
            return Verdict(False, f"{what} is missing: no checkpoint was signed at that size")
    if "entry" in bundle or "index" in bundle:
        return check_inclusion(
            bundle.get("checkpoint", {}),
            trusted,
            bundle.get("entry") or bundle.get("entry_hash") or b"",
            bundle.get("index"),  # type: ignore[arg-type]
            bundle.get("path") or [],
            bundle.get("size"),
        )
    return check_consistency(
        bundle.get("old_checkpoint", {}),
        bundle.get("new_checkpoint", {}),
        trusted,
        bundle.get("path") or [],
        bundle.get("from"),
        bundle.get("to"),
    )
