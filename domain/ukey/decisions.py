"""UKey commands: each takes the key as it is (and the context and inputs) and returns the new
events, or refuses with a DomainError: issue, EMS mailing, PIN attempts and lock, renewal, loss,
freeze, void, replacement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Final
from uuid import UUID

from domain.aggregate_ids import key_id
from domain.base import CommandContext, DomainError, DomainEvent, NotFoundError, Role
from domain.forms import (
    RENEWAL_DOCUMENT_LABELS,
    KeyKind,
    MailingDetails,
    Media,
    RenewalDocuments,
    Supplier,
)
from domain.guards import checked, require_role, require_text
from domain.identifiers import check_card_number, check_certificate_number
from domain.ukey import events
from domain.ukey.state import RenewalState, UKey
from domain.ukey.status import PIN_LOCK_THRESHOLD, UNUSABLE, KeyStatus

VALIDITY_YEARS: Final = 10
"""A key's certificate is valid ten calendar years from its issue or renewal."""


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def _usable(key: UKey, at: datetime, allow: frozenset[KeyStatus] = frozenset()) -> KeyStatus:
    """The key's status; refused with `key_not_usable` when unusable (bar the `allow`ed)."""
    status = key.status(at)
    if status in UNUSABLE - allow:
        raise DomainError("key_not_usable", f"key {key.card_no} is {status.value}", "status")
    return status


def _unlocked(key: UKey, at: datetime) -> None:
    """Refuse with `key_locked` (or `key_not_usable`) unless the key is usable and unlocked."""
    if _usable(key, at) is KeyStatus.LOCKED:
        raise DomainError("key_locked", f"key {key.card_no} is locked; unlock it first", "status")


def _in_use(key: UKey, at: datetime) -> None:
    """Refuse unless the holder can use the key: usable, unlocked, and in the holder's hands
    (`key_not_delivered`: a free key is used once the parcel arrived or the window handed it
    over, never while the window still holds it or EMS carries it)."""
    _unlocked(key, at)
    if not key.in_holders_hands:
        raise DomainError(
            "key_not_delivered",
            f"key {key.card_no} is {key.status(at).value}: it has not reached its holder yet "
            "(record its delivery first)",
            "status",
        )


# -- issue and delivery ------------------------------------------------------------------------


def _certificate_number(value: str | None) -> str | None:
    """A certificate number checked (or None when none is given)."""
    if value is None:
        return None
    return checked(
        check_certificate_number, value, "invalid_certificate_number", "certificate_number"
    )


def issue(
    ctx: CommandContext,
    card_no: str,
    kind: KeyKind,
    media: Media,
    uscc: str,
    holder_id: UUID,
    holder_name: str,
    supplier: Supplier | None = None,
    certificate_number: str | None = None,
    replaces: str | None = None,
) -> list[DomainEvent]:
    """Issue a key, valid ten years; a free issue (no supplier) is the window's."""
    if supplier is None:
        require_role(ctx, Role.WINDOW, action="a free issue")
    card_no = checked(check_card_number, card_no, "invalid_card_number", "card_no")
    certificate_number = _certificate_number(certificate_number)
    if replaces is not None:
        replaces = checked(check_card_number, replaces, "invalid_card_number", "replaces")
        if replaces == card_no:
            raise DomainError("same_card_number", "a key cannot replace itself", field="replaces")
    event = events.KeyIssued(
        **ctx.first_event_fields(key_id(card_no)),
        card_no=card_no,
        kind=kind,
        media=media,
        uscc=uscc,
        holder_id=holder_id,
        holder_name=require_text(holder_name, "holder_name_required", "holder_name", "the holder"),
        supplier=supplier,
        certificate_number=certificate_number,
        valid_from=ctx.at,
        valid_until=add_years(ctx.at, VALIDITY_YEARS),
        replaces=replaces,
    )
    return [event]


def check_extra_key(kind: KeyKind, holder_id: UUID, holders_keys: Iterable[UKey]) -> None:
    """Refuse a bought legal-person key for a holder who has one (`legal_person_key_exists`).

    Extra keys (附件5) are for new operators or to replace faulty keys (更换故障UKEY): while a
    holder's legal-person key is not void or replaced, a faulty, lost or frozen one is replaced
    (补办), a locked one unlocked and an expired one renewed — a second one is not bought.
    """
    if kind is not KeyKind.LEGAL_PERSON:
        return
    for key in holders_keys:
        if (
            key.kind is KeyKind.LEGAL_PERSON
            and key.holder_id == holder_id
            and not key.voided
            and key.replaced_by is None
        ):
            raise DomainError(
                "legal_person_key_exists",
                f"the holder's legal-person key {key.card_no} is not void: extra keys are for "
                "new operators; replace a faulty, lost or frozen key (补办) instead",
                field="holder_id",
            )


def mail(key: UKey, ctx: CommandContext, details: MailingDetails) -> list[DomainEvent]:
    """Hand a free key to EMS with the completed handover form; once, before delivery."""
    require_role(ctx, Role.WINDOW, action="mailing")
    _usable(key, ctx.at)
    if key.supplier is not None:
        raise DomainError("not_free_issue", "only free keys are mailed by the window", "supplier")
    if key.in_holders_hands:
        raise DomainError("already_delivered", "the key reached its holder", field="delivered_at")
    if key.mailing is not None:
        raise DomainError("already_mailed", "the key was mailed", field="mailing")
    if details.card_no_for(key.kind) != key.card_no:
        raise DomainError(
            "card_number_mismatch",
            f"the form lists {details.card_no_for(key.kind)} for the {key.kind.value} key, "
            f"not {key.card_no}",
            field=f"{key.kind.value}_card_no",
        )
    return [events.KeyMailed(**ctx.next_event_fields(key), details=details)]


def mail_pair(
    legal_person: UKey, operator: UKey, ctx: CommandContext, details: MailingDetails
) -> list[DomainEvent]:
    """Hand the free pair to EMS in one parcel (附件3: one form, one 快递单号): one KeyMailed on
    each key, with the same details; refused unless both keys can be mailed."""
    if legal_person.kind is not KeyKind.LEGAL_PERSON or operator.kind is not KeyKind.OPERATOR:
        raise DomainError(
            "card_number_mismatch",
            "a parcel holds one legal-person key and one operator key",
            field="operator_card_no",
        )
    return [*mail(legal_person, ctx, details), *mail(operator, ctx, details)]


def deliver(
    key: UKey, ctx: CommandContext, channel: events.DeliveryChannel = events.DeliveryChannel.EMS
) -> list[DomainEvent]:
    """Record that a free key reached its holder: the EMS parcel arrived, or the window handed
    it over in person (window staff only, and only a key that was not mailed)."""
    if channel is events.DeliveryChannel.WINDOW:
        require_role(ctx, Role.WINDOW, action="a handover at the window")
    _usable(key, ctx.at)
    if key.supplier is not None:
        raise DomainError(
            "not_free_issue", "a bought key is the enterprise's from the start", "supplier"
        )
    if key.in_holders_hands:
        raise DomainError("already_delivered", "the key reached its holder", field="delivered_at")
    if channel is events.DeliveryChannel.EMS and key.mailing is None:
        raise DomainError("not_mailed", "the key was not mailed", field="mailing")
    if channel is events.DeliveryChannel.WINDOW and key.mailing is not None:
        raise DomainError(
            "already_mailed", "the key is in an EMS parcel: record its delivery by EMS", "channel"
        )
    return [events.KeyDelivered(**ctx.next_event_fields(key), channel=channel)]


# -- PIN ---------------------------------------------------------------------------------------


def record_pin_attempt(key: UKey, ctx: CommandContext, ok: bool) -> list[DomainEvent]:
    """Record a PIN attempt on a key in its holder's hands; the fifth consecutive failure also
    locks the key."""
    _in_use(key, ctx.at)
    if ok:
        return [events.PinAttemptSucceeded(**ctx.next_event_fields(key))]
    failures = key.consecutive_failures + 1
    recorded: list[DomainEvent] = [
        events.PinAttemptFailed(**ctx.next_event_fields(key), consecutive_failures=failures)
    ]
    if failures >= PIN_LOCK_THRESHOLD:
        recorded.append(events.PinLocked(**ctx.next_event_fields(key, offset=2)))
    return recorded


def change_pin(key: UKey, ctx: CommandContext) -> list[DomainEvent]:
    """Record that the holder changed the PIN (a key in its holder's hands)."""
    _in_use(key, ctx.at)
    return [events.PinChanged(**ctx.next_event_fields(key))]


def unlock(key: UKey, ctx: CommandContext) -> list[DomainEvent]:
    """The window unlocks a locked key (解锁); the PIN is the initial one again."""
    require_role(ctx, Role.WINDOW, action="unlocking a key")
    if _usable(key, ctx.at) is not KeyStatus.LOCKED:
        raise DomainError("not_locked", f"key {key.card_no} is not locked", field="status")
    return [events.PinUnlocked(**ctx.next_event_fields(key))]


# -- certificate renewal -----------------------------------------------------------------------


def _application(key: UKey, application_id: str, expected: RenewalState) -> None:
    """Refuse unless the renewal application exists and stands at `expected`."""
    state = key.renewals.get(application_id)
    if state is None:
        raise NotFoundError(
            "unknown_renewal_application",
            f"no application {application_id!r}",
            "application_id",
        )
    if state is not expected:
        raise DomainError(
            f"renewal_not_{expected.value}",
            f"application {application_id!r} is {state.value}, not {expected.value}",
            field="application_id",
        )


def request_renewal(key: UKey, ctx: CommandContext, application_id: str) -> list[DomainEvent]:
    """Apply for a certificate renewal; allowed on an expired or locked key."""
    _usable(key, ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
    if application_id in key.renewals:
        raise DomainError(
            "renewal_application_exists",
            f"application {application_id!r} exists",
            "application_id",
        )
    if any(state is not RenewalState.COMPLETED for state in key.renewals.values()):
        raise DomainError(
            "renewal_already_pending", "another renewal application is open", "application_id"
        )
    return [
        events.CertificateRenewalRequested(
            **ctx.next_event_fields(key), application_id=application_id
        )
    ]


def pre_approve_renewal(key: UKey, ctx: CommandContext, application_id: str) -> list[DomainEvent]:
    """The window pre-approves a renewal application (预审)."""
    require_role(ctx, Role.WINDOW, action="renewal pre-approval")
    _usable(key, ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
    _application(key, application_id, RenewalState.REQUESTED)
    return [
        events.CertificateRenewalPreApproved(
            **ctx.next_event_fields(key), application_id=application_id
        )
    ]


def renew(
    key: UKey,
    ctx: CommandContext,
    application_id: str,
    documents: RenewalDocuments,
    certificate_number: str | None = None,
) -> list[DomainEvent]:
    """Renew in person with all four documents: ten more years, PIN initial, unlocked."""
    require_role(ctx, Role.WINDOW, action="certificate renewal")
    _usable(key, ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
    _application(key, application_id, RenewalState.PRE_APPROVED)
    if missing := documents.missing():
        labels = "、".join(f"{RENEWAL_DOCUMENT_LABELS[name]} ({name})" for name in missing)
        raise DomainError("renewal_document_missing", f"not presented: {labels}", field=missing[0])
    certificate_number = _certificate_number(certificate_number)
    event = events.CertificateRenewed(
        **ctx.next_event_fields(key),
        application_id=application_id,
        documents=documents,
        valid_until=add_years(ctx.at, VALIDITY_YEARS),
        certificate_number=certificate_number or key.certificate_number,
    )
    return [event]


# -- loss, freeze, void, replacement -----------------------------------------------------------


def report_lost(key: UKey, ctx: CommandContext, reason: str) -> list[DomainEvent]:
    """Report the key lost (挂失); it becomes unusable."""
    _usable(key, ctx.at)
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [events.KeyReportedLost(**ctx.next_event_fields(key), reason=reason)]


def freeze(key: UKey, ctx: CommandContext, reason: str) -> list[DomainEvent]:
    """The data sub-centre freezes the key (冻结)."""
    require_role(ctx, Role.WINDOW, action="freezing a key")
    _usable(key, ctx.at)
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [events.KeyFrozen(**ctx.next_event_fields(key), reason=reason)]


def unfreeze(key: UKey, ctx: CommandContext, reason: str) -> list[DomainEvent]:
    """The window lifts a freeze (解冻), giving the reason; the key is as it was before."""
    require_role(ctx, Role.WINDOW, action="lifting a freeze")
    if key.voided or key.replaced_by is not None:
        status = key.status(ctx.at).value
        raise DomainError("key_not_usable", f"key {key.card_no} is {status}", field="status")
    if not key.frozen:
        raise DomainError("not_frozen", f"key {key.card_no} is not frozen", field="status")
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [events.KeyUnfrozen(**ctx.next_event_fields(key), reason=reason)]


def void(
    key: UKey, ctx: CommandContext, reason: str, erase_personal_data: bool
) -> list[DomainEvent]:
    """Void the key (作废), e.g. when its holder withdraws consent; anything not yet void."""
    if key.voided:
        raise DomainError("key_not_usable", f"key {key.card_no} is void", field="status")
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [
        events.KeyVoided(
            **ctx.next_event_fields(key), reason=reason, personal_data_erased=erase_personal_data
        )
    ]


def replace(key: UKey, ctx: CommandContext, new_card_no: str, reason: str) -> list[DomainEvent]:
    """Replace a lost, frozen or faulty key (补办); the caller then issues the new key."""
    _usable(key, ctx.at, allow=frozenset({KeyStatus.LOST, KeyStatus.FROZEN}))
    new_card_no = checked(check_card_number, new_card_no, "invalid_card_number", "new_card_no")
    if new_card_no == key.card_no:
        raise DomainError("same_card_number", "a key cannot replace itself", field="new_card_no")
    reason = require_text(reason, "reason_required", "reason", "a reason")
    return [
        events.KeyReplaced(**ctx.next_event_fields(key), new_card_no=new_card_no, reason=reason)
    ]
