"""Events of an enterprise's card holders, data only (stored names and fields are a contract)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from domain.base import DomainEvent, stored_as
from domain.forms import (
    DeclarerPart,
    KeyKind,
    LegalPersonHolder,
    OfficerPart,
    OperatorHolder,
    PermissionSet,
    holder_found_by,
)
from domain.identifiers import CardNumber, Uscc
from domain.personal import PersonalPart, Sealed, personal

Holder = LegalPersonHolder | OperatorHolder
HolderPart = Annotated[Holder | Sealed, personal(Holder)]
"""A card holder's data (附件2): as registered, or sealed under their key once stored."""


@stored_as("OperatorRegistered")
class OperatorRegistered(DomainEvent):
    """A card holder (legal person or operator) of an approved enterprise was registered."""

    uscc: Uscc
    holder_kind: KeyKind
    holder: HolderPart
    customs_declarer: DeclarerPart | None
    verification_officer: OfficerPart | None
    warnings: tuple[str, ...]
    authorising_card_no: CardNumber | None

    def personal_parts(self) -> Sequence[PersonalPart]:
        """The holder's data and filings, all about the holder (the aggregate is the subject)."""
        holder = self.holder
        found_by = () if isinstance(holder, Sealed) else holder_found_by(holder)
        parts = [PersonalPart(("holder",), self.originator_id, found_by)]
        parts += [
            PersonalPart((name,), self.originator_id)
            for name in ("customs_declarer", "verification_officer")
            if getattr(self, name) is not None
        ]
        return parts


@stored_as("PermissionsGranted")
class PermissionsGranted(DomainEvent):
    """Business permissions were granted to an operator (业务授权)."""

    permissions: PermissionSet
    authorising_card_no: CardNumber | None


@stored_as("PermissionsRevoked")
class PermissionsRevoked(DomainEvent):
    """Business permissions were taken from an operator."""

    permissions: PermissionSet
    authorising_card_no: CardNumber | None
