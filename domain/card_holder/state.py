"""The CardHolder aggregate: its state and how each of its events evolves it."""

from __future__ import annotations

from domain.base import Aggregate, created_from, evolves
from domain.card_holder.events import (
    HolderPart,
    OperatorRegistered,
    PermissionsGranted,
    PermissionsRevoked,
)
from domain.forms import DeclarerPart, KeyKind, OfficerPart, PermissionSet


class CardHolder(Aggregate):
    """A card holder of one enterprise: the legal person or an operator, and their permissions."""

    uscc: str
    holder_kind: KeyKind
    holder: HolderPart
    customs_declarer: DeclarerPart | None = None
    verification_officer: OfficerPart | None = None
    permissions: PermissionSet = frozenset()
    warnings: tuple[str, ...] = ()


# -- how each event evolves the card holder ----------------------------------------------------


@evolves(OperatorRegistered)
def _registered(_: None, event: OperatorRegistered) -> CardHolder:
    """Create the holder with no permissions."""
    return created_from(CardHolder, event)


@evolves(PermissionsGranted)
def _granted(card_holder: CardHolder, event: PermissionsGranted) -> CardHolder:
    """Add the permissions."""
    return card_holder.model_copy(
        update={"permissions": card_holder.permissions | event.permissions}
    )


@evolves(PermissionsRevoked)
def _revoked(card_holder: CardHolder, event: PermissionsRevoked) -> CardHolder:
    """Remove the permissions."""
    return card_holder.model_copy(
        update={"permissions": card_holder.permissions - event.permissions}
    )
