"""Answers of the queries: pages of the views' records (the views' own read models)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from projections.audit_trail.queries import AuditEntry
from projections.expiry_calendar.queries import ExpiringKey
from projections.key_status.records import KeyRecord
from projections.window_queue.queries import QueueItem


class KeyPage(BaseModel):
    """Keys in card-number order; ask again with `after=next_after` for the next page."""

    items: list[KeyRecord]
    next_after: str | None = Field(description="the last card number of a full page, else null")


class QueuePage(BaseModel):
    """Work waiting at the window, oldest first in each stage."""

    items: list[QueueItem]


class ExpiringPage(BaseModel):
    """Keys whose validity ends soon, soonest first."""

    items: list[ExpiringKey]


class AuditPage(BaseModel):
    """Ledger entries in ledger order; ask again with `after=next_after` for the next page."""

    items: list[AuditEntry]
    next_after: int | None = Field(description="the last index of a full page, else null")
