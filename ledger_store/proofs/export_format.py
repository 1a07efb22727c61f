"""The export line format (one ledger entry as JSON) and the pure checks on it.

Pure: imports only orjson and the project's hashlib-only modules, like the verifier.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from uuid import UUID

import orjson

from ledger_store.proofs.chain import entry_hash
from ledger_store.proofs.merkle_verify import EMPTY_ROOT, node_hash


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


def decode_entry(line: Mapping[str, Any]) -> tuple[int, bytes, bytes]:
    """Check one exported entry's fields and content; (ledger index, entry hash, chain hash)."""
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
    try:
        readable: Any = orjson.loads(state)
    except orjson.JSONDecodeError:
        readable = None
    if line.get("state") != readable:
        raise InvalidError(
            "the readable 'state' differs from the stored bytes (state_base64)", index
        )
    recomputed = entry_hash(index, originator, version, topic, state)
    if "entry_hash" in line and parse_hash(line["entry_hash"], "entry_hash", index) != recomputed:
        raise InvalidError(
            "entry hash does not match the entry's content: the entry was altered", index
        )
    chain = parse_hash(line.get("chain_hash", bytes(32).hex()), "chain_hash", index)
    return index, recomputed, chain


def encode_entry(
    ledger_index: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
    entry: bytes,
    chain: bytes,
) -> dict[str, Any]:
    """One export line: the stored event (base64 and readable JSON) and its hashes in hex."""
    try:
        readable: Any = orjson.loads(state)
    except orjson.JSONDecodeError:
        readable = None
    return {
        "ledger_index": ledger_index,
        "originator_id": str(originator_id),
        "originator_version": originator_version,
        "topic": topic,
        "state_base64": base64.b64encode(state).decode("ascii"),
        "state": readable,
        "entry_hash": entry.hex(),
        "chain_hash": chain.hex(),
    }


class RootAccumulator:
    """MTH of appended leaves, keeping only the right frontier (independent of ledger_store)."""

    def __init__(self) -> None:
        """Start with the empty tree."""
        self.size = 0
        self.frontier: list[tuple[int, bytes]] = []

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        level, value = 0, leaf
        while self.frontier and self.frontier[-1][0] == level:
            value = node_hash(self.frontier.pop()[1], value)
            level += 1
        self.frontier.append((level, value))
        self.size += 1

    def root(self) -> bytes:
        """MTH of the leaves so far."""
        if not self.frontier:
            return EMPTY_ROOT
        value = self.frontier[-1][1]
        for _, left in reversed(self.frontier[:-1]):
            value = node_hash(left, value)
        return value
