"""Events of an enterprise's card holders, data only (stored names and fields are a contract)."""

from __future__ import annotations

from domain.base import DomainEvent, stored_as
from domain.forms import (
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    PermissionSet,
    VerificationOfficer,
)
from domain.identifiers import CardNumber, Uscc

Holder = LegalPersonHolder | OperatorHolder


@stored_as("OperatorRegistered")
class OperatorRegistered(DomainEvent):
    """A card holder (legal person or operator) of an approved enterprise was registered."""

    uscc: Uscc
    holder_kind: KeyKind
    holder: Holder
    customs_declarer: CustomsDeclarer | None
    verification_officer: VerificationOfficer | None
    warnings: tuple[str, ...]
    authorising_card_no: CardNumber | None


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
