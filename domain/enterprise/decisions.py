"""Enterprise commands: each takes the enterprise as it is (and the context and inputs) and
returns the new events, or refuses with a DomainError: registration, the four filings, window
review, changes, the free pair."""

from __future__ import annotations

from domain.aggregate_ids import enterprise_id
from domain.base import CommandContext, DomainError, DomainEvent, Role
from domain.enterprise import events
from domain.enterprise.state import Enterprise, FreePair, ReviewState
from domain.filings import FILING_KIND_LABELS, Filing, check_codes
from domain.forms import KEY_KIND_LABELS, KeyKind, MailingDetails
from domain.guards import checked, require_role, require_text
from domain.identifiers import (
    check_card_number,
    check_customs_code,
    check_uscc,
    customs_code_province,
)
from domain.region import RegionConfig
from domain.ukey.state import UKey


def register(
    ctx: CommandContext,
    uscc: str,
    name: str,
    customs_code: str | None,
    receipt_number: str | None,
    region: RegionConfig,
) -> list[DomainEvent]:
    """Register an enterprise; refused without its customs registration receipt."""
    code = require_text(customs_code, "customs_receipt_required", "customs_code", "海关编码")
    receipt = require_text(receipt_number, "customs_receipt_required", "receipt_number", "备案回执")
    uscc = checked(check_uscc, uscc, "invalid_uscc", "uscc")
    code = checked(check_customs_code, code, "invalid_customs_code", "customs_code")
    if customs_code_province(code) != region.province_prefix:
        raise DomainError(
            "region_mismatch",
            f"customs code {code} is not of {region.name} ({region.province_prefix})",
            field="customs_code",
        )
    if uscc[2:4] != region.province_prefix:
        raise DomainError(
            "region_mismatch",
            f"USCC {uscc} is not of {region.name} ({region.province_prefix})",
            field="uscc",
        )
    event = events.EnterpriseRegistered(
        **ctx.first_event_fields(enterprise_id(uscc)),
        uscc=uscc,
        name=require_text(name, "name_required", "name", "the enterprise name"),
        customs_code=code,
        region=region.code,
        receipt_number=receipt,
    )
    return [event]


def submit_filing(
    enterprise: Enterprise, ctx: CommandContext, filing: Filing, region: RegionConfig
) -> list[DomainEvent]:
    """Submit or resubmit one of the four filings; refused once approved or with wrong codes."""
    if enterprise.is_approved:
        raise DomainError(
            "already_approved", "the enrollment is already approved", field="review_state"
        )
    if region.code != enterprise.region:
        raise DomainError(
            "region_mismatch",
            f"the enterprise is registered in {enterprise.region}",
            field="region",
        )
    check_codes(filing, region, enterprise)
    return [
        events.FilingSubmitted(**ctx.next_event_fields(enterprise), kind=filing.kind, filing=filing)
    ]


def _require_awaiting_review(enterprise: Enterprise, ctx: CommandContext, action: str) -> None:
    """Refuse unless the window acts on an enrollment with all four filings, awaiting review."""
    require_role(ctx, Role.WINDOW, action=action)
    if enterprise.review_state is ReviewState.DRAFT:
        missing = ", ".join(
            f"{k.value} ({FILING_KIND_LABELS[k]})" for k in enterprise.missing_filings
        )
        raise DomainError("filings_incomplete", f"filings missing: {missing}", field="filings")
    if enterprise.review_state is not ReviewState.AWAITING_REVIEW:
        raise DomainError(
            "not_awaiting_review",
            f"the enrollment is {enterprise.review_state.value}",
            field="review_state",
        )


def approve(enterprise: Enterprise, ctx: CommandContext, window: str) -> list[DomainEvent]:
    """The window approves the four filings."""
    _require_awaiting_review(enterprise, ctx, "approval")
    window = require_text(window, "window_required", "window", "the window")
    return [events.WindowApproved(**ctx.next_event_fields(enterprise), window=window)]


def reject(
    enterprise: Enterprise, ctx: CommandContext, window: str, reason: str
) -> list[DomainEvent]:
    """The window rejects the filings, giving a reason."""
    _require_awaiting_review(enterprise, ctx, "rejection")
    window = require_text(window, "window_required", "window", "the window")
    reason = require_text(reason, "reason_required", "reason", "a reason for the rejection")
    return [
        events.WindowRejected(**ctx.next_event_fields(enterprise), window=window, reason=reason)
    ]


def _require_approved(enterprise: Enterprise) -> None:
    """Refuse with `enterprise_not_approved` unless the window approved the enrollment."""
    if not enterprise.is_approved:
        raise DomainError(
            "enterprise_not_approved",
            f"the enrollment is {enterprise.review_state.value}",
            field="review_state",
        )


def change_info(
    enterprise: Enterprise,
    ctx: CommandContext,
    change: events.EnterpriseChange,
    authorising_key: UKey | None,
) -> list[DomainEvent]:
    """Change name, address or legal representative, by an active legal-person key.

    The enterprise as the ledger revealed it: a sealed legal representative compares unequal.
    """
    _require_approved(enterprise)
    if authorising_key is None or not authorising_key.is_active_legal_person_key_of(
        enterprise.uscc, ctx.at
    ):
        raise DomainError(
            "legal_person_key_required",
            "a change needs an active legal-person key of this enterprise",
            field="authorising_key",
        )
    current: dict[str, object] = {
        "name": enterprise.name,
        "business_address": enterprise.business_address,
        "legal_representative": enterprise.legal_representative,
    }
    if all(
        current[field] == value for field, value in change.model_dump(exclude_none=True).items()
    ):
        raise DomainError(
            "nothing_changed", "the change repeats the current information", field="change"
        )
    changed = change.legal_representative not in (None, enterprise.legal_representative)
    event = events.EnterpriseInfoChanged(
        **ctx.next_event_fields(enterprise),
        change=change,
        legal_representative_changed=changed,
        authorising_card_no=authorising_key.card_no,
    )
    return [event]


def record_free_pair_issued(
    enterprise: Enterprise, ctx: CommandContext, lp_card_no: str, op_card_no: str
) -> list[DomainEvent]:
    """Record the free legal-person and operator keys; only once per enrollment."""
    require_role(ctx, Role.WINDOW, action="free issue")
    _require_approved(enterprise)
    if enterprise.free_pair_issued is not None:
        raise DomainError(
            "free_pair_already_issued",
            f"the free pair was issued: {enterprise.free_pair_issued.legal_person_card_no}, "
            f"{enterprise.free_pair_issued.operator_card_no}",
            field="lp_card_no",
        )
    lp_card_no = checked(check_card_number, lp_card_no, "invalid_card_number", "lp_card_no")
    op_card_no = checked(check_card_number, op_card_no, "invalid_card_number", "op_card_no")
    if lp_card_no == op_card_no:
        raise DomainError(
            "duplicate_card_number",
            "the two keys have the same card number",
            field="op_card_no",
        )
    event = events.FreeKeyPairIssued(
        **ctx.next_event_fields(enterprise),
        legal_person_card_no=lp_card_no,
        operator_card_no=op_card_no,
    )
    return [event]


def parcel_of(enterprise: Enterprise, ctx: CommandContext, details: MailingDetails) -> FreePair:
    """The free pair the window mails in one EMS parcel with one handover form (附件3).

    The form's 寄送材料清单 lists the enterprise's own legal-person card and operator card;
    a card that is not the enterprise's free pair is refused, naming the field that lists it.
    """
    require_role(ctx, Role.WINDOW, action="mailing")
    pair = enterprise.free_pair_issued
    if pair is None:
        raise DomainError(
            "free_pair_not_issued",
            f"enterprise {enterprise.uscc} has no free pair to mail",
            field="legal_person_card_no",
        )
    for kind, listed, own in (
        (KeyKind.LEGAL_PERSON, details.legal_person_card_no, pair.legal_person_card_no),
        (KeyKind.OPERATOR, details.operator_card_no, pair.operator_card_no),
    ):
        if listed != own:
            raise DomainError(
                "card_number_mismatch",
                f"the form lists {listed} as the {KEY_KIND_LABELS[kind]}; "
                f"{enterprise.uscc}'s free {KEY_KIND_LABELS[kind]} is {own}",
                field=f"{kind.value}_card_no",
            )
    return pair
