"""Answers of the queries: pages of the views' records (the views' own read models)."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.forms import IdNumber, Name, SearchText
from domain.identifiers import CardNumber, PhoneNumber, Uscc
from projections.audit_trail.queries import AuditEntry
from projections.enterprise_overview.queries import EnterpriseSummary
from projections.expiry_calendar.queries import ExpiringKey
from projections.key_status.records import KeyRecord
from projections.window_queue.queries import QueueItem

Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A page of a list; ask again with `after=next_cursor` (and the same `limit`) for the next."""

    items: list[Item]
    next_cursor: str | None = Field(
        description="pass it as `after` for the next page; null on the last page"
    )
    truncated: bool = Field(description="whether more items follow this page")


class KeyPage(Page[KeyRecord]):
    """Keys in card-number order; the cursor is the page's last card number."""


class KeySearch(BaseModel):
    """What a caller identifies a key by: exactly one of these (the hotline's one search box)."""

    model_config = ConfigDict(extra="forbid")

    card_no: CardNumber | None = Field(default=None, description="卡号")
    uscc: Uscc | None = Field(default=None, description="统一社会信用代码")
    company_name: SearchText | None = Field(
        default=None, description="a part of the company's name (企业名称)"
    )
    holder_name: Name | None = Field(default=None, description="the holder's full name, exactly")
    phone: PhoneNumber | None = Field(default=None, description="the holder's phone, exactly")
    id_number: IdNumber | None = Field(default=None, description="the holder's ID number")
    after: CardNumber | None = Field(
        default=None, description="the previous page's next_cursor (the last card number read)"
    )
    limit: int = Field(default=100, ge=1, le=500, description="items per page at most")

    @model_validator(mode="after")
    def _one_finder(self) -> Self:
        given = [name for name, value in self.finder().items() if value is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(FINDERS)}")
        return self

    def finder(self) -> dict[str, str]:
        """The one thing to search by, by its field name."""
        return {name: getattr(self, name) for name in FINDERS if getattr(self, name) is not None}


FINDERS = ("card_no", "uscc", "company_name", "holder_name", "phone", "id_number")


class EnterprisePage(Page[EnterpriseSummary]):
    """Enterprises in USCC order; the cursor is the page's last USCC."""


class QueuePage(Page[QueueItem]):
    """Work waiting at the window, oldest first in each stage; the cursor is opaque."""


class ExpiringPage(Page[ExpiringKey]):
    """Keys whose validity ends soon, soonest first; the cursor is opaque."""


class AuditPage(Page[AuditEntry]):
    """Ledger entries in ledger order; the cursor is the page's last ledger index."""
