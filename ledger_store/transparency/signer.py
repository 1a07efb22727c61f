"""Which key signs this ledger's checkpoints: the configured file, checked against the ledger.

A ledger's checkpoints are signed by one key until an operator rotates it. A process that finds
another key than the one that signed the last checkpoint, or that the last rotation enrolled
(a mistyped EPORT_SIGNING_KEY_PATH, a key restored from the wrong backup, a second host with a
key of its own), refuses before it
signs anything, naming both key ids; `eport-ledger checkpoint --rotate-key` is the deliberate
way to start signing with a new key (every key that ever signed stays listed in
`signing_keys`, so old checkpoints stay verifiable). A key file is created only for a ledger
that has no checkpoint yet, or when rotating, and its creation is announced: never silently.
"""

from __future__ import annotations

import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.failures import SigningKeyError
from ledger_store.proofs.checkpoint import key_id
from ledger_store.transparency.checkpointer import enroll_key, signing_key_of_record
from ledger_store.transparency.signing_key import load_or_create_signing_key

log = logging.getLogger("eport.keys")

ROTATE_HINT = "rotate deliberately with `eport-ledger checkpoint --rotate-key`"


def open_signing_key(
    path: Path, database: LedgerDatabase, *, rotate: bool = False
) -> Ed25519PrivateKey:
    """The key at `path`, refused (SigningKeyError) when it is not the ledger's signing key.

    A missing file is created (mode 0600, announced on the log) only when the ledger has no
    signing key yet or `rotate` is asked for; otherwise the refusal says which key to restore.
    With `rotate`, the key becomes the ledger's signing key (`enroll_key`) before it returns.
    """
    signer = signing_key_of_record(database)
    if not path.exists():
        if signer is not None and not rotate:
            raise SigningKeyError(
                f"EPORT_SIGNING_KEY_PATH={path} does not exist, and this ledger's checkpoints "
                f"are signed by key id {signer}: restore that key from its backup, or "
                f"{ROTATE_HINT}"
            )
        if not path.parent.is_dir():
            raise SigningKeyError(
                f"EPORT_SIGNING_KEY_PATH={path}: the directory {path.parent} does not exist"
            )
    existed = path.exists()
    try:
        key = load_or_create_signing_key(path)
    except (OSError, ValueError) as error:
        raise SigningKeyError(
            f"EPORT_SIGNING_KEY_PATH={path}: cannot read the key: {error}"
        ) from None
    if not existed:
        log.warning(
            "created a new checkpoint signing key at %s (key id %s); back it up: "
            "docs/operations.md, 'Signing key'",
            path,
            key_id(key),
        )
    if signer is not None and signer != key_id(key):
        if not rotate:
            raise SigningKeyError(
                f"the signing key at {path} (key id {key_id(key)}) is not the key that signs "
                f"this ledger's checkpoints (key id {signer}): point EPORT_SIGNING_KEY_PATH at "
                f"that key, or {ROTATE_HINT}"
            )
        enroll_key(database, key)
        log.warning(
            "rotated the checkpoint signing key: key id %s signs from now on (after key id %s)",
            key_id(key),
            signer,
        )
    return key
