"""Export the ledger as JSON Lines: one entry per line, then its signed checkpoint and key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import BinaryIO

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.proofs.checkpoint import Checkpoint
from ledger_store.proofs.export_format import encode_entry
from ledger_store.transparency.checkpointer import (
    CheckpointError,
    create_checkpoint,
    latest_checkpoint,
    public_keys,
)


def key_pems(database: LedgerDatabase, *checkpoints: Checkpoint) -> dict[str, str]:
    """The public keys (PEM by key id) that signed the given checkpoints."""
    wanted = {cp.key_id for cp in checkpoints}
    return {r.key_id: r.public_key_pem for r in public_keys(database) if r.key_id in wanted}


def checkpoint_for_export(
    database: LedgerDatabase, signing_key: Ed25519PrivateKey | None, now: datetime | None = None
) -> Checkpoint:
    """The latest checkpoint, first signing a new one when it does not cover the head."""
    checkpoint = latest_checkpoint(database)
    if checkpoint is not None and checkpoint.size >= database.head()[0]:
        return checkpoint
    if signing_key is not None:
        return create_checkpoint(database, signing_key, now)
    if checkpoint is None:
        raise CheckpointError("no checkpoint to export against and no signing key to make one")
    return checkpoint


def export_ledger(
    database: LedgerDatabase,
    out: BinaryIO,
    signing_key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Checkpoint:
    """Stream entries 1..checkpoint.size to ``out``, then the checkpoint line; flat memory.
    ``progress`` is told the ledger index of every entry written."""
    checkpoint = checkpoint_for_export(database, signing_key, now)
    for entry in database.iter_entries(0, checkpoint.size):
        out.write(orjson.dumps(encode_entry(entry)) + b"\n")
        if progress is not None:
            progress(entry.ledger_index)
    pem = key_pems(database, checkpoint).get(checkpoint.key_id)
    final = {"checkpoint": checkpoint.to_json(), "public_key_pem": pem}
    out.write(orjson.dumps(final) + b"\n")
    out.flush()
    return checkpoint
