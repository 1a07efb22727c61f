"""As-of history of one stream (enterprise, key or operator): its events up to a moment or position.

Streams are ``enterprise:{uscc}``, ``key:{card_no}`` or ``operator:{uuid}``. ``as_of`` is a
ledger position (int: events with ledger index <= it), an aware datetime (the stream's events
up to the first one recorded after that moment), or None (everything). Each event carries its
ledger index and hashes; the answer names the earliest signed checkpoint that covers the last
event returned, so an auditor can ask for its inclusion proof. Bodies are the stored JSON, not
upcast. Results are plain dataclasses with ``to_json()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from domain.aggregate_ids import enterprise_id, key_id
from ledger_store.eventstore.database import HasDatabase, LedgerDatabase, database_of
from ledger_store.eventstore.mapping import type_name
from ledger_store.privacy.vault import PersonalDataVault
from ledger_store.transparency.checkpointer import covering_checkpoint

AsOf = datetime | int | None


class StreamError(ValueError):
    """The stream name or the as_of value is not understood."""


def stream_aggregate_id(stream: str) -> UUID:
    """The aggregate id a stream name refers to."""
    kind, sep, natural = stream.partition(":")
    if not sep or not natural:
        raise StreamError(f"stream {stream!r} is not enterprise:USCC, key:CARD_NO or operator:ID")
    if kind == "enterprise":
        return enterprise_id(natural)
    if kind == "key":
        return key_id(natural)
    if kind == "operator":
        try:
            return UUID(natural)
        except ValueError:
            raise StreamError(f"operator id {natural!r} is not a UUID") from None
    raise StreamError(f"unknown stream kind {kind!r}: use enterprise, key or operator")


def parse_as_of(text: str | None) -> AsOf:
    """An ``as_of`` query value: digits are a ledger position, otherwise an ISO 8601 time."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise StreamError(
            f"as_of {text!r} is neither a ledger position nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        raise StreamError("as_of time must carry a time zone (e.g. Z or +08:00)")
    return moment


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One stored event of the stream, with its place in the ledger and its hashes."""

    ledger_index: int
    originator_version: int
    timestamp: datetime | None
    type: str
    topic: str
    actor: dict[str, Any] | None
    body: dict[str, Any] = field(metadata={"description": "the event exactly as stored"})
    entry_hash: str
    chain_hash: str

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the fields (the body and actor as they are, not copied), the
        timestamp in ISO 8601."""
        found = {name.name: getattr(self, name.name) for name in fields(self)}
        found["timestamp"] = self.timestamp.isoformat() if self.timestamp else None
        return found


@dataclass(frozen=True, slots=True)
class StreamHistory:
    """A stream's events up to ``as_of`` and the checkpoint that covers the last one."""

    stream: str
    aggregate_id: UUID
    as_of: AsOf
    events: tuple[HistoryEvent, ...]
    checkpoint: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        as_of = self.as_of.isoformat() if isinstance(self.as_of, datetime) else self.as_of
        return {
            "stream": self.stream,
            "aggregate_id": str(self.aggregate_id),
            "as_of": as_of,
            "events": [event.to_json() for event in self.events],
            "checkpoint": self.checkpoint,
        }


def _event(row: tuple[Any, ...]) -> HistoryEvent:
    index, version, topic, state, entry, chain = row
    try:
        body = orjson.loads(bytes(state))
    except orjson.JSONDecodeError:
        body = {"state_hex": bytes(state).hex()}
    body = body if isinstance(body, dict) else {"value": body}
    stamp = body.get("timestamp")
    try:
        timestamp = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        timestamp = None
    actor = body.get("actor")
    return HistoryEvent(
        ledger_index=int(index),
        originator_version=int(version),
        timestamp=timestamp,
        type=type_name(topic),
        topic=topic,
        actor=actor if isinstance(actor, dict) else None,
        body=body,
        entry_hash=bytes(entry).hex(),
        chain_hash=bytes(chain).hex(),
    )


def stream_history(
    ledger: HasDatabase | LedgerDatabase,
    stream: str,
    as_of: AsOf = None,
    vault: PersonalDataVault | None = None,
) -> StreamHistory:
    """The stream's events up to ``as_of`` (see module docstring), in version order.

    With a `vault`, personal data sealed in the bodies is revealed for the reader, and data
    whose key was destroyed shows as ``{"erased": true, "subject": …}``; without one, bodies
    are exactly as stored (ciphertext where personal data was sealed).
    """
    database = database_of(ledger)
    aggregate = stream_aggregate_id(stream)
    if isinstance(as_of, datetime) and as_of.tzinfo is None:
        raise StreamError("as_of time must carry a time zone")
    limit = as_of if isinstance(as_of, int) and not isinstance(as_of, bool) else 2**62
    originator: Any = aggregate if database.dialect == "postgres" else aggregate.hex
    with database.transaction() as cursor:
        rows = cursor.execute(
            "SELECT ledger_index, originator_version, topic, state, entry_hash, chain_hash "
            f"FROM {database.events_table} WHERE originator_id = ? AND ledger_index <= ? "
            "ORDER BY originator_version",
            (originator, limit),
        ).fetchall()
    events: list[HistoryEvent] = []
    for row in rows:
        event = _event(row)
        if isinstance(as_of, datetime) and (event.timestamp is None or event.timestamp > as_of):
            break
        events.append(event)
    if vault is not None:
        events = reveal_bodies(vault, events)
    covering = covering_checkpoint(database, events[-1].ledger_index) if events else None
    return StreamHistory(
        stream=stream,
        aggregate_id=aggregate,
        as_of=as_of,
        events=tuple(events),
        checkpoint=None if covering is None else covering.to_json(),
    )


def reveal_bodies(vault: PersonalDataVault, events: list[HistoryEvent]) -> list[HistoryEvent]:
    """The events with every sealed value in their bodies revealed (one read of the keys)."""
    bodies = vault.reveal_inside(
        [event.body for event in events],
        erased=lambda value: {"erased": True, "subject": value["subject"]},
    )
    if bodies is None:
        return events
    return [replace(event, body=body) for event, body in zip(events, bodies, strict=True)]
