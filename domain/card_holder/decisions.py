"""Card-holder commands: each takes the card holder as it is (and the context and inputs) and
returns the new events, or refuses with a DomainError: registration (also of the IC-card form's
two holders at approval) and business permissions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from domain.base import CommandContext, DomainError, DomainEvent, Role, project
from domain.card_holder import events
from domain.card_holder.state import CardHolder
from domain.enterprise.state import Enterprise
from domain.forms import (
    CustomsDeclarer,
    IcCardRegistrationForm,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    Permission,
    VerificationOfficer,
)
from domain.guards import plaintext
from domain.ukey.state import UKey


def _authorise(
    ctx: CommandContext, uscc: str, authorising_key: UKey | None, action: str
) -> str | None:
    """The authorising card number; window staff act without a key, anyone else needs one."""
    if authorising_key is None:
        if ctx.actor.role is Role.WINDOW:
            return None
    elif authorising_key.is_active_legal_person_key_of(uscc, ctx.at):
        return authorising_key.card_no
    raise DomainError(
        "legal_person_key_required",
        f"{action} needs an active legal-person key of enterprise {uscc} (or the window)",
        field="authorising_key",
    )


SAME_PERSON_WARNING = (
    "this person also holds another card of this enterprise: the legal person, operator and "
    "customs declarer should not be the same person (法人、操作员、报关员不应为同一人)"
)
"""Stored with the registration, so it names no one: names are personal data."""


def _warnings(holder: events.Holder, other_holders_id_numbers: Iterable[str]) -> tuple[str, ...]:
    """The warning when the holder also holds another card of the enterprise (not a refusal)."""
    return (SAME_PERSON_WARNING,) if holder.id_number in set(other_holders_id_numbers) else ()


def register(
    ctx: CommandContext,
    enterprise: Enterprise,
    holder_kind: KeyKind,
    holder: LegalPersonHolder | OperatorHolder,
    holder_id: UUID,
    customs_declarer: CustomsDeclarer | None = None,
    verification_officer: VerificationOfficer | None = None,
    authorising_key: UKey | None = None,
    other_holders_id_numbers: Iterable[str] = (),
) -> list[DomainEvent]:
    """Register a card holder of an approved enterprise (by the window or its LP key).

    `holder_id` is the holder's id as the ledger keys it (never derivable from the holder's data
    by anyone without the ledger's secret); it is also the subject their data is sealed under.
    """
    if not enterprise.is_approved:
        raise DomainError(
            "enterprise_not_approved",
            f"enterprise {enterprise.uscc} is {enterprise.review_state.value}",
            field="uscc",
        )
    card_no = _authorise(ctx, enterprise.uscc, authorising_key, "registering a card holder")
    expected = LegalPersonHolder if holder_kind is KeyKind.LEGAL_PERSON else OperatorHolder
    if not isinstance(holder, expected):
        raise DomainError(
            "holder_kind_mismatch",
            f"a {holder_kind.value} holder is a {expected.__name__}",
            "holder",
        )
    if holder_kind is KeyKind.LEGAL_PERSON and (customs_declarer or verification_officer):
        raise DomainError(
            "not_an_operator",
            "declarer and verification-officer filings are for operators",
            "holder",
        )
    event = events.OperatorRegistered(
        **ctx.first_event_fields(holder_id),
        uscc=enterprise.uscc,
        holder_kind=holder_kind,
        holder=holder,
        customs_declarer=customs_declarer,
        verification_officer=verification_officer,
        warnings=_warnings(holder, other_holders_id_numbers),
        authorising_card_no=card_no,
    )
    return [event]


def _permission_change(
    card_holder: CardHolder,
    ctx: CommandContext,
    permissions: Iterable[Permission],
    authorising_key: UKey | None,
    action: str,
) -> tuple[frozenset[Permission], str | None]:
    """The permissions a grant or revocation names, and the card number that authorises it;
    refuses one without authority, one for the legal person, or one that names none."""
    card_no = _authorise(ctx, card_holder.uscc, authorising_key, action)
    named = frozenset(permissions)
    if card_holder.holder_kind is not KeyKind.OPERATOR:
        raise DomainError(
            "not_an_operator",
            "permissions are granted to operators, not the legal person",
            "holder",
        )
    if not named:
        raise DomainError("no_permissions", "name at least one permission", field="permissions")
    return named, card_no


def grant(
    card_holder: CardHolder,
    ctx: CommandContext,
    permissions: Iterable[Permission],
    authorising_key: UKey | None,
) -> list[DomainEvent]:
    """Grant permissions not yet held; authorised by the legal-person key (or the window)."""
    wanted, card_no = _permission_change(
        card_holder, ctx, permissions, authorising_key, "granting permissions"
    )
    if held := wanted & card_holder.permissions:
        raise DomainError(
            "permission_already_granted",
            f"already held: {', '.join(sorted(held))}",
            "permissions",
        )
    return [
        events.PermissionsGranted(
            **ctx.next_event_fields(card_holder), permissions=wanted, authorising_card_no=card_no
        )
    ]


def revoke(
    card_holder: CardHolder,
    ctx: CommandContext,
    permissions: Iterable[Permission],
    authorising_key: UKey | None,
) -> list[DomainEvent]:
    """Revoke held permissions; authorised by the legal-person key (or the window)."""
    unwanted, card_no = _permission_change(
        card_holder, ctx, permissions, authorising_key, "revoking permissions"
    )
    if missing := unwanted - card_holder.permissions:
        raise DomainError(
            "permission_not_granted", f"not held: {', '.join(sorted(missing))}", "permissions"
        )
    return [
        events.PermissionsRevoked(
            **ctx.next_event_fields(card_holder), permissions=unwanted, authorising_card_no=card_no
        )
    ]


def set_permissions(
    card_holder: CardHolder,
    ctx: CommandContext,
    desired: Iterable[Permission],
    authorising_key: UKey | None,
) -> list[DomainEvent]:
    """Grant the added and revoke the removed permissions; no events when unchanged."""
    target = frozenset(desired)
    _authorise(ctx, card_holder.uscc, authorising_key, "setting permissions")
    changes: list[DomainEvent] = []
    if added := target - card_holder.permissions:
        changes += grant(card_holder, ctx, added, authorising_key)
    if removed := card_holder.permissions - target:
        changes += revoke(card_holder.evolve(changes), ctx, removed, authorising_key)
    return changes


def holders_from_form(
    ctx: CommandContext,
    enterprise: Enterprise,
    form: IcCardRegistrationForm,
    holder_ids: Mapping[KeyKind, UUID],
) -> list[DomainEvent]:
    """The window registers the form's two holders and grants the permissions asked.

    The form as the ledger revealed it (its holders in plaintext); `holder_ids` by card kind.
    """
    what = "the IC-card registration form's"
    legal_person = plaintext(form.legal_person, f"{what} legal person", "legal_person")
    operator_holder = plaintext(form.operator, f"{what} operator", "operator")
    declarer, officer = form.customs_declarer, form.verification_officer
    legal_person_events = register(
        ctx,
        enterprise,
        KeyKind.LEGAL_PERSON,
        legal_person,
        holder_ids[KeyKind.LEGAL_PERSON],
        other_holders_id_numbers=[operator_holder.id_number],
    )
    operator_events = register(
        ctx,
        enterprise,
        KeyKind.OPERATOR,
        operator_holder,
        holder_ids[KeyKind.OPERATOR],
        customs_declarer=None if declarer is None else plaintext(declarer, "customs declarer"),
        verification_officer=None if officer is None else plaintext(officer, "officer"),
        other_holders_id_numbers=[legal_person.id_number],
    )
    asked = form.customs_permissions | form.forex_permissions
    if asked:
        operator = project(None, operator_events)
        assert isinstance(operator, CardHolder)
        operator_events += grant(operator, ctx, asked, authorising_key=None)
    return legal_person_events + operator_events
