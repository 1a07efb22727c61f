"""What deciding a command gives (a Decision) and what executing it reached (a CommandResult)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from domain.base import ConflictError, DomainEvent
from ledger_store.eventstore.database import TransactionWrite


@dataclass(frozen=True, slots=True)
class Decision:
    """A decider's verdict: the aggregate the command is about, and the events to record."""

    subject: UUID
    events: tuple[DomainEvent, ...]
    commutes: bool = False
    """Whether the command is decided again when it loses a race (a PIN attempt): the outcome
    of two concurrent attempts does not depend on their order, so neither is refused."""
    creates: str | None = None
    """What the command brings into the ledger ("card 88…"); a taken id means it exists."""
    extra: Mapping[str, str] = field(default_factory=dict)
    """Fields the caller learns besides id, version and position (a renewal's application)."""
    writes: tuple[TransactionWrite, ...] = ()
    """What the append writes beside the events (an erasure deletes its subject's key)."""

    @classmethod
    def of(cls, subject: UUID, events: Sequence[DomainEvent], **options: Any) -> Decision:
        """A decision recording `events` about `subject`."""
        return cls(subject, tuple(events), **options)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a command reached: the aggregate it changed, its version, the ledger position."""

    id: UUID
    version: int
    position: int
    events: tuple[DomainEvent, ...] = ()
    replayed: bool = False
    """Given again under an idempotency key: nothing was recorded this time."""
    extra: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """id, version, position and the extra fields, as plain JSON values."""
        return {
            "id": str(self.id),
            "version": self.version,
            "position": self.position,
            **self.extra,
        }

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> CommandResult:
        """The result first given under an idempotency key (`fields()`), given again."""
        extra = {
            str(k): str(v) for k, v in fields.items() if k not in ("id", "version", "position")
        }
        return cls(
            UUID(str(fields["id"])),
            int(fields["version"]),
            int(fields["position"]),
            replayed=True,
            extra=extra,
        )


class VersionMismatchError(ConflictError):
    """If-Match named a version the aggregate is no longer at."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            "version_mismatch",
            f"If-Match expected version {expected}, the record is at version {current}",
            "If-Match",
        )
        self.expected = expected
        self.current = current
