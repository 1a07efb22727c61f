"""Self-contained proof bundles: the proof, the signed checkpoint(s) and the keys, as JSON dicts.

The same dict answers ``eport-ledger proof ...`` and the HTTP proof routes, and
:func:`replay.offline.check_bundle` checks it offline. Ledger index ``i`` is leaf ``i - 1``.
"""

from __future__ import annotations

from typing import Any

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.proofs.checkpoint import Checkpoint
from ledger_store.proofs.export_format import encode_entry
from ledger_store.transparency.checkpointer import checkpoint_at, latest_checkpoint
from ledger_store.transparency.tree_store import (
    ProofRequestError,
    consistency_proof,
    inclusion_proof,
)
from replay.export import key_pems


def _checkpoint(database: LedgerDatabase, size: int | None) -> tuple[int, Checkpoint | None]:
    """The size asked for (default: the latest checkpoint's) and the checkpoint signed there."""
    if size is None:
        latest = latest_checkpoint(database)
        if latest is None:
            raise ProofRequestError("no checkpoint has been signed yet")
        return latest.size, latest
    return size, checkpoint_at(database, size)


def _dump(checkpoint: Checkpoint | None) -> dict[str, Any] | None:
    return None if checkpoint is None else checkpoint.to_json()


def inclusion_bundle(
    database: LedgerDatabase, index: int, size: int | None = None
) -> dict[str, Any]:
    """Proof that ledger ``index`` is in the tree of ``size`` (default: latest checkpoint).

    ``checkpoint`` is None when no checkpoint was signed at exactly ``size``: the proof is then
    only useful against a root the caller already holds for that size.
    """
    tree_size, checkpoint = _checkpoint(database, size)
    proof = inclusion_proof(database, index, tree_size)
    entries = database.read_entries(index - 1, 1)
    if not entries or entries[0].ledger_index != index:
        raise ProofRequestError(f"ledger index {index} is not in the ledger")
    signed = [checkpoint] if checkpoint else []
    return {
        **proof.to_json(),
        "entry": encode_entry(entries[0]),
        "checkpoint": _dump(checkpoint),
        "public_keys": key_pems(database, *signed),
    }


def consistency_bundle(
    database: LedgerDatabase, old_size: int, new_size: int | None = None
) -> dict[str, Any]:
    """Proof that the tree of ``new_size`` (default: latest checkpoint) extends ``old_size``."""
    tree_size, new = _checkpoint(database, new_size)
    old = checkpoint_at(database, old_size)
    proof = consistency_proof(database, old_size, tree_size)
    signed = [cp for cp in (old, new) if cp is not None]
    return {
        **proof.to_json(),
        "old_checkpoint": _dump(old),
        "new_checkpoint": _dump(new),
        "public_keys": key_pems(database, *signed),
    }
