"""Deciders of the UKey: issue (the free pair, a bought key, a replacement), EMS, PIN, unlock,
renewal, loss, freeze, void."""

from __future__ import annotations

from uuid import UUID

from domain.base import CommandContext, DomainError
from domain.card_holder.events import Holder
from domain.enterprise import decisions as enterprises
from domain.forms import KeyKind, MailingDetails, Media, RenewalDocuments, Supplier, SupplierProduct
from domain.guards import plaintext
from domain.ukey import decisions as keys
from domain.ukey.events import DeliveryChannel
from ledger_store.application import records
from ledger_store.application.erasures import erasure_of
from ledger_store.application.reader import Reader
from ledger_store.application.results import Decision

# -- bringing keys into the ledger -------------------------------------------------------------


def issue_free_pair(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    *,
    legal_person_card_no: str,
    operator_card_no: str,
    legal_person_media: Media = Media.IKEY,
    legal_person_certificate_number: str | None = None,
    operator_certificate_number: str | None = None,
) -> Decision:
    """Issue the two free keys (法人卡, 操作员卡) to the form's holders, once per enrollment."""
    enterprise = records.enterprise(reader, uscc)
    recorded = enterprises.record_free_pair_issued(
        enterprise, ctx, legal_person_card_no, operator_card_no
    )
    form = records.registration_form(reader, enterprise)
    assert form is not None  # the pair is issued after approval, which needs every filing
    holder_ids = records.form_holder_ids(reader, enterprise.id, form)
    legal_person_holder = plaintext(form.legal_person, "the legal person")
    operator_holder = plaintext(form.operator, "the operator")
    legal_person = keys.issue(
        ctx,
        legal_person_card_no,
        KeyKind.LEGAL_PERSON,
        legal_person_media,
        uscc,
        holder_ids[KeyKind.LEGAL_PERSON],
        legal_person_holder.name,
        certificate_number=legal_person_certificate_number,
    )
    operator = keys.issue(
        ctx,
        operator_card_no,
        KeyKind.OPERATOR,
        operator_holder.media,
        uscc,
        holder_ids[KeyKind.OPERATOR],
        operator_holder.name,
        certificate_number=operator_certificate_number,
    )
    return Decision.of(
        enterprise.id,
        [*recorded, *legal_person, *operator],
        creates=f"card {legal_person_card_no} or {operator_card_no}",
        extra={"legal_person_card_no": legal_person_card_no, "operator_card_no": operator_card_no},
    )


def issue_bought_key(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    *,
    card_no: str,
    holder_id: UUID,
    supplier: Supplier,
    product: SupplierProduct,
    certificate_number: str | None = None,
) -> Decision:
    """Record a key the enterprise bought from a listed supplier for one of its holders."""
    enterprise = records.enterprise(reader, uscc)
    holder = records.holder_of(reader, uscc, holder_id)
    if not enterprise.is_approved:
        raise DomainError("enterprise_not_approved", f"enterprise {uscc} is not approved", "uscc")
    if holder.holder_kind is KeyKind.LEGAL_PERSON:  # extra keys: new operators, or replacements
        chain = records.legal_person_keys(reader, enterprise)
        keys.check_extra_key(holder.holder_kind, holder.id, chain)
    revealed: Holder = reader.reveal(holder.holder, Holder, "the card holder", "holder_id")
    events = keys.issue(
        ctx,
        card_no,
        holder.holder_kind,
        product.media,
        uscc,
        holder.id,
        revealed.name,
        supplier=supplier,
        certificate_number=certificate_number,
    )
    return Decision.of(events[0].originator_id, events, creates=f"card {card_no}")


def replace_key(
    reader: Reader,
    ctx: CommandContext,
    card_no: str,
    *,
    new_card_no: str,
    reason: str,
    supplier: Supplier,
    product: SupplierProduct,
    certificate_number: str | None = None,
) -> Decision:
    """Replace a lost, frozen or faulty key with a bought one (补办); the chain old → new."""
    old = records.key(reader, card_no)
    replaced = keys.replace(old, ctx, new_card_no, reason)
    new = keys.issue(
        ctx,
        new_card_no,
        old.kind,
        product.media,
        old.uscc,
        old.holder_id,
        reader.reveal(old.holder_name or "", str, "the holder's name", "card_no"),
        supplier=supplier,
        certificate_number=certificate_number,
        replaces=old.card_no,
    )
    return Decision.of(new[0].originator_id, [*replaced, *new], creates=f"card {new_card_no}")


# -- a key's life ------------------------------------------------------------------------------


def mail_free_pair(
    reader: Reader, ctx: CommandContext, uscc: str, details: MailingDetails
) -> Decision:
    """Hand the enterprise's free pair to EMS in one parcel with one handover form (附件3):
    KeyMailed on both keys, in one append; the answer is the legal-person key's."""
    enterprise = records.enterprise(reader, uscc)
    pair = enterprises.parcel_of(enterprise, ctx, details)
    legal_person = records.key(reader, pair.legal_person_card_no)
    operator = records.key(reader, pair.operator_card_no)
    return Decision.of(
        legal_person.id,
        keys.mail_pair(legal_person, operator, ctx, details),
        extra={
            "legal_person_card_no": pair.legal_person_card_no,
            "operator_card_no": pair.operator_card_no,
        },
    )


def mail_key(
    reader: Reader, ctx: CommandContext, card_no: str, details: MailingDetails
) -> Decision:
    """Deprecated (one key per call): mails the whole parcel the key belongs to, as
    `mail_free_pair` does, when the form lists this key; the answer is this key's."""
    key = records.key(reader, card_no)
    keys.mail(key, ctx, details)  # this key's own rules (free, not yet mailed, on the form)
    decision = mail_free_pair(reader, ctx, key.uscc, details)
    return Decision.of(key.id, decision.events, extra=decision.extra)


def deliver_key(
    reader: Reader,
    ctx: CommandContext,
    card_no: str,
    channel: DeliveryChannel = DeliveryChannel.EMS,
) -> Decision:
    """Record that a free key reached its holder: by EMS, or handed over at the window."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.deliver(key, ctx, channel))


def record_pin_attempt(reader: Reader, ctx: CommandContext, card_no: str, *, ok: bool) -> Decision:
    """Record a PIN attempt; the fifth consecutive failure locks the key (it commutes)."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.record_pin_attempt(key, ctx, ok), commutes=True)


def change_pin(reader: Reader, ctx: CommandContext, card_no: str) -> Decision:
    """Record that the holder changed the initial PIN."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.change_pin(key, ctx))


def unlock_key(reader: Reader, ctx: CommandContext, card_no: str) -> Decision:
    """Unlock a locked key (解锁); the PIN is the initial one again."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.unlock(key, ctx))


def request_renewal(reader: Reader, ctx: CommandContext, card_no: str) -> Decision:
    """Apply online for a certificate renewal (证书更新); the result names the application."""
    key = records.key(reader, card_no)
    application_id = f"{key.card_no}-R{len(key.renewals) + 1}"
    events = keys.request_renewal(key, ctx, application_id)
    return Decision.of(key.id, events, extra={"application_id": application_id})


def pre_approve_renewal(
    reader: Reader, ctx: CommandContext, card_no: str, application_id: str
) -> Decision:
    """The window pre-approves a renewal application (预审)."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.pre_approve_renewal(key, ctx, application_id))


def renew_key(
    reader: Reader,
    ctx: CommandContext,
    card_no: str,
    *,
    application_id: str,
    documents: RenewalDocuments,
    certificate_number: str | None = None,
) -> Decision:
    """Renew in person at the window with the four documents: ten more years."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.renew(key, ctx, application_id, documents, certificate_number))


def report_key_lost(reader: Reader, ctx: CommandContext, card_no: str, *, reason: str) -> Decision:
    """Report a key lost (挂失)."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.report_lost(key, ctx, reason))


def freeze_key(reader: Reader, ctx: CommandContext, card_no: str, *, reason: str) -> Decision:
    """Freeze a key for false information or impersonation (冻结)."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.freeze(key, ctx, reason))


def unfreeze_key(reader: Reader, ctx: CommandContext, card_no: str, *, reason: str) -> Decision:
    """Lift a freeze (解冻), giving the reason."""
    key = records.key(reader, card_no)
    return Decision.of(key.id, keys.unfreeze(key, ctx, reason))


def void_key(
    reader: Reader,
    ctx: CommandContext,
    card_no: str,
    *,
    reason: str,
    erase_personal_data: bool = False,
) -> Decision:
    """Void a key (作废); with `erase_personal_data`, erase its holder (撤回同意: PIPL Art. 47)."""
    key = records.key(reader, card_no)
    events = keys.void(key, ctx, reason, erase_personal_data)
    if not erase_personal_data:
        return Decision.of(key.id, events)
    erased, writes = erasure_of(reader, ctx, [key.holder_id], reason)
    return Decision.of(key.id, [*events, *erased], writes=tuple(writes))
