"""Requests and answers about personal data: erasure (删除权)."""

from __future__ import annotations

from typing import Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.http.schemas.common import CommandAnswer
from domain.forms import IdNumber, Remarks
from domain.identifiers import PhoneNumber


class EraseRequest(BaseModel):
    """Whose personal data to erase — one of: a card holder, or the ID number or phone a person
    gave (everyone it belongs to) — and why."""

    model_config = ConfigDict(extra="forbid")

    reason: Remarks = Field(description="why (e.g. 持卡人撤回同意, a PIPL Art. 47 request)")
    card_holder_id: UUID | None = Field(default=None, description="a card holder's id")
    id_number: IdNumber | None = Field(default=None, description="a person's ID number")
    phone: PhoneNumber | None = Field(default=None, description="a person's phone number")

    @model_validator(mode="after")
    def _one_person(self) -> Self:
        named = [self.card_holder_id, self.id_number, self.phone]
        if sum(value is not None for value in named) != 1:
            raise ValueError("name the person by exactly one of card_holder_id, id_number, phone")
        return self

    def finder(self) -> tuple[str, str] | None:
        """The ID number or phone the person is found by, if given."""
        if self.id_number is not None:
            return ("id_number", self.id_number)
        if self.phone is not None:
            return ("phone", self.phone)
        return None


class ErasureAnswer(CommandAnswer):
    """The erasure recorded: its ledger position, and the data subjects whose keys are gone."""

    erased_subjects: str = Field(description="comma-separated ids of the subjects erased")
