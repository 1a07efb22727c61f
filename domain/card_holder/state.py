"""The CardHolder aggregate: its state and how each of its events evolves it."""

from __future__ import annotations

from domain.base import Aggregate, created_from, evolves
from domain.card_holder import events
from domain.forms import DeclarerPart, KeyKind, OfficerPart, PermissionSet


class CardHolder(Aggregate):
    """A card holder of one enterprise: the legal person or an operator, and their permissions."""

    uscc: str
    holder_kind: KeyKind
    holder: events.HolderPart
    customs_declarer: DeclarerPart | None = None
    verification_officer: OfficerPart | None = None
    permissions: PermissionSet = frozenset()
    warnings: tuple[str, ...] = ()


# -- how each event evolves the card holder ----------------------------------------------------


@evolves(events.OperatorRegistered)
def _registered(_: None, event: events.OperatorRegistered) -> CardHolder:
    """Create the holder with no permissions."""
    return created_from(CardHolder, event)


@evolves(events.PermissionsGranted)
def _granted(card_holder: CardHolder, event: events.PermissionsGranted) -> CardHolder:
    """Add the permissions."""
    return card_holder.model_copy(
        update={"permissions": card_holder.permissions | event.permissions}
    )


@evolves(events.PermissionsRevoked)
def _revoked(card_holder: CardHolder, event: events.PermissionsRevoked) -> CardHolder:
    """Remove the permissions."""
    return card_holder.model_copy(
        update={"permissions": card_holder.permissions - event.permissions}
    )
