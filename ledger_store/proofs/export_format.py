"""The export line: one ledger entry as JSON, written by ``export`` and read back offline.

:func:`encode_entry` and :func:`decode_entry` are each other's inverse on a
:class:`~ledger_store.proofs.chain.LedgerEntry`. Decoding checks the line's fields and that its
readable ``state`` is the stored bytes; whether the hashes hold is the chain walk's question
(:func:`ledger_store.proofs.chain.verify_chain`), asked by the offline checker.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import orjson

from ledger_store.proofs.chain import LedgerEntry, MalformedEntryError, recompute_entry_hash


class InvalidError(Exception):
    """The first thing found wrong, with the ledger index it concerns."""

    def __init__(self, problem: str, ledger_index: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.ledger_index = ledger_index


def parse_hash(value: Any, what: str, index: int | None = None) -> bytes:
    """A 32-byte hash from raw bytes or lowercase hex."""
    try:
        raw = value if isinstance(value, bytes) else bytes.fromhex(value)
    except (TypeError, ValueError):
        raise InvalidError(f"{what} is not hex", index) from None
    if len(raw) != 32:
        raise InvalidError(f"{what} is not a 32-byte hash", index)
    return raw


def _readable(state: bytes) -> Any:
    """The stored bytes parsed as JSON, for reading; None when they are not JSON."""
    try:
        return orjson.loads(state)
    except orjson.JSONDecodeError:
        return None


def decode_entry(line: Mapping[str, Any]) -> LedgerEntry:
    """One exported entry with the hashes the line claims; InvalidError if its fields are wrong.

    A line without ``entry_hash`` claims the hash of its content; one without ``chain_hash``
    claims the zero hash (which links to nothing).
    """
    index = line.get("ledger_index")
    if isinstance(index, bool) or not isinstance(index, int) or index < 1:
        raise InvalidError("entry has no valid ledger_index")
    try:
        state = base64.b64decode(str(line["state_base64"]), validate=True)
        originator = UUID(str(line["originator_id"]))
        version, topic = line["originator_version"], line["topic"]
    except (KeyError, ValueError, binascii.Error) as error:
        raise InvalidError(f"entry field missing or malformed: {error}", index) from None
    if not isinstance(version, int) or not isinstance(topic, str):
        raise InvalidError("entry originator_version or topic has the wrong type", index)
    if line.get("state") != _readable(state):
        raise InvalidError(
            "the readable 'state' differs from the stored bytes (state_base64)", index
        )
    entry = LedgerEntry(index, originator, version, topic, state, b"", b"")
    if "entry_hash" in line:
        claimed = parse_hash(line["entry_hash"], "entry_hash", index)
    else:
        try:
            claimed = recompute_entry_hash(entry)
        except MalformedEntryError as error:
            raise InvalidError(f"entry field missing or malformed: {error}", index) from None
    chain = parse_hash(line.get("chain_hash", bytes(32).hex()), "chain_hash", index)
    return LedgerEntry(index, originator, version, topic, state, claimed, chain)


def encode_entry(entry: LedgerEntry) -> dict[str, Any]:
    """One export line: the stored event (base64 and readable JSON) and its hashes in hex."""
    return {
        "ledger_index": entry.ledger_index,
        "originator_id": str(entry.originator_id),
        "originator_version": entry.originator_version,
        "topic": entry.topic,
        "state_base64": base64.b64encode(entry.state).decode("ascii"),
        "state": _readable(entry.state),
        "entry_hash": entry.entry_hash.hex(),
        "chain_hash": entry.chain_hash.hex(),
    }
