"""The Enterprise aggregate: registration, the four filings, window review, changes, free pair."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import Field, model_validator

from domain.aggregate_ids import enterprise_id
from domain.base import (
    Actor,
    Aggregate,
    CommandContext,
    DomainError,
    DomainEvent,
    Immutable,
    Role,
    checked,
    created_fields,
    event_fields,
    require_role,
    require_text,
    stored_as,
)
from domain.filings import FILING_KIND_LABELS, Filing, FilingKind, ThreeInOneFiling, check_codes
from domain.forms import Address, Name, Text
from domain.identifiers import (
    CardNumber,
    CustomsCode,
    Uscc,
    check_card_number,
    check_customs_code,
    check_uscc,
    customs_code_province,
)
from domain.region import RegionConfig
from domain.ukey.state import UKey


class ReviewState(StrEnum):
    """Where an enterprise's enrollment stands with the window."""

    DRAFT = "draft"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"


class Review(Immutable):
    """The window's last decision: who, where, when, and why if rejected."""

    outcome: ReviewState
    reason: str | None
    reviewer: Actor
    window: str
    at: datetime


class FreePair(Immutable):
    """The card numbers of the two keys issued free on enrollment."""

    legal_person_card_no: CardNumber
    operator_card_no: CardNumber


class EnterpriseChange(Immutable):
    """A change of enterprise information (变更); at least one field."""

    name: Text | None = None
    business_address: Address | None = None
    legal_representative: Name | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_dump(exclude_none=True):
            raise ValueError("change at least one of name, business_address, legal_representative")
        return self


@stored_as("EnterpriseRegistered")
class EnterpriseRegistered(DomainEvent):
    """An enterprise holding a customs registration receipt was registered in the ledger."""

    uscc: Uscc
    name: Text
    customs_code: CustomsCode
    region: str
    receipt_number: Text

    def apply(self, aggregate: Any) -> Enterprise:
        """Create the enterprise in draft."""
        return Enterprise(
            **created_fields(self),
            uscc=self.uscc,
            name=self.name,
            customs_code=self.customs_code,
            receipt_number=self.receipt_number,
            region=self.region,
        )


@stored_as("FilingSubmitted")
class FilingSubmitted(DomainEvent):
    """One of the four filings was submitted (or resubmitted, replacing the previous one)."""

    kind: FilingKind
    filing: Filing

    @model_validator(mode="after")
    def _kind_matches(self) -> Self:
        if self.filing.kind != self.kind:
            raise ValueError("kind differs from the filing's kind")
        return self

    def apply(self, aggregate: Enterprise) -> Enterprise:
        """Keep the latest filing per kind; all four in means awaiting review."""
        filings = {**aggregate.filings, self.kind: self.filing}
        update: dict[str, Any] = {"filings": filings}
        if isinstance(self.filing, ThreeInOneFiling):
            update["legal_representative"] = self.filing.legal_representative
            update["business_address"] = self.filing.business_address
        if len(filings) == len(FilingKind):
            update["review_state"] = ReviewState.AWAITING_REVIEW
        return aggregate.model_copy(update=update)


def _reviewed(
    enterprise: Enterprise,
    event: WindowApproved | WindowRejected,
    outcome: ReviewState,
    reason: str | None,
) -> Enterprise:
    review = Review(
        outcome=outcome,
        reason=reason,
        reviewer=event.actor,
        window=event.window,
        at=event.timestamp,
    )
    return enterprise.model_copy(update={"review_state": outcome, "last_review": review})


@stored_as("WindowApproved")
class WindowApproved(DomainEvent):
    """The window approved the enrollment (窗口审批通过)."""

    window: Text

    def apply(self, aggregate: Enterprise) -> Enterprise:
        """Record the approval."""
        return _reviewed(aggregate, self, ReviewState.APPROVED, None)


@stored_as("WindowRejected")
class WindowRejected(DomainEvent):
    """The window rejected the enrollment with a reason; the enterprise corrects and resubmits."""

    window: Text
    reason: Text

    def apply(self, aggregate: Enterprise) -> Enterprise:
        """Record the rejection and its reason."""
        return _reviewed(aggregate, self, ReviewState.REJECTED, self.reason)


@stored_as("EnterpriseInfoChanged")
class EnterpriseInfoChanged(DomainEvent):
    """Name, business address or legal representative changed (变更), by the legal-person key."""

    change: EnterpriseChange
    legal_representative_changed: bool
    authorising_card_no: CardNumber

    def apply(self, aggregate: Enterprise) -> Enterprise:
        """Take the changed fields."""
        return aggregate.model_copy(update=self.change.model_dump(exclude_none=True))


@stored_as("FreeKeyPairIssued")
class FreeKeyPairIssued(DomainEvent):
    """The two free keys of a new enrollment (法人卡 and 操作员卡) were issued."""

    legal_person_card_no: CardNumber
    operator_card_no: CardNumber

    def apply(self, aggregate: Enterprise) -> Enterprise:
        """Remember the pair, so it is issued only once."""
        pair = FreePair(**self.model_dump(include={"legal_person_card_no", "operator_card_no"}))
        return aggregate.model_copy(update={"free_pair_issued": pair})


class Enterprise(Aggregate):
    """An enterprise enrolling in China E-Port, from registration to its free pair of keys."""

    uscc: str
    name: str
    customs_code: str
    receipt_number: str
    region: str
    filings: dict[FilingKind, Filing] = Field(default_factory=dict)
    review_state: ReviewState = ReviewState.DRAFT
    last_review: Review | None = None
    free_pair_issued: FreePair | None = None
    legal_representative: str | None = None
    business_address: str | None = None

    @property
    def missing_filings(self) -> list[FilingKind]:
        """The filing kinds not yet submitted, in process order."""
        return [kind for kind in FilingKind if kind not in self.filings]

    @property
    def is_approved(self) -> bool:
        """Whether the window approved the enrollment."""
        return self.review_state is ReviewState.APPROVED

    @classmethod
    def register(
        cls,
        ctx: CommandContext,
        uscc: str,
        name: str,
        customs_code: str | None,
        receipt_number: str | None,
        region: RegionConfig,
    ) -> list[DomainEvent]:
        """Register an enterprise; refused without its customs registration receipt."""
        code = require_text(customs_code, "customs_receipt_required", "customs_code", "海关编码")
        receipt = require_text(
            receipt_number, "customs_receipt_required", "receipt_number", "备案回执"
        )
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
        event = EnterpriseRegistered(
            originator_id=enterprise_id(uscc),
            originator_version=1,
            **event_fields(ctx),
            uscc=uscc,
            name=require_text(name, "name_required", "name", "the enterprise name"),
            customs_code=code,
            region=region.code,
            receipt_number=receipt,
        )
        return [event]

    def submit_filing(
        self, ctx: CommandContext, filing: Filing, region: RegionConfig
    ) -> list[DomainEvent]:
        """Submit or resubmit one of the four filings; refused once approved or with wrong codes."""
        if self.is_approved:
            raise DomainError(
                "already_approved", "the enrollment is already approved", field="review_state"
            )
        if region.code != self.region:
            raise DomainError(
                "region_mismatch", f"the enterprise is registered in {self.region}", field="region"
            )
        check_codes(filing, region, self)
        return [self._event(FilingSubmitted, ctx, kind=filing.kind, filing=filing)]

    def _require_awaiting_review(self, ctx: CommandContext, action: str) -> None:
        require_role(ctx, Role.WINDOW, action=action)
        if self.review_state is ReviewState.DRAFT:
            missing = ", ".join(
                f"{k.value} ({FILING_KIND_LABELS[k]})" for k in self.missing_filings
            )
            raise DomainError("filings_incomplete", f"filings missing: {missing}", field="filings")
        if self.review_state is not ReviewState.AWAITING_REVIEW:
            raise DomainError(
                "not_awaiting_review",
                f"the enrollment is {self.review_state.value}",
                field="review_state",
            )

    def approve(self, ctx: CommandContext, window: str) -> list[DomainEvent]:
        """The window approves the four filings."""
        self._require_awaiting_review(ctx, "approval")
        window = require_text(window, "window_required", "window", "the window")
        return [self._event(WindowApproved, ctx, window=window)]

    def reject(self, ctx: CommandContext, window: str, reason: str) -> list[DomainEvent]:
        """The window rejects the filings, giving a reason."""
        self._require_awaiting_review(ctx, "rejection")
        window = require_text(window, "window_required", "window", "the window")
        reason = require_text(reason, "reason_required", "reason", "a reason for the rejection")
        return [self._event(WindowRejected, ctx, window=window, reason=reason)]

    def _require_approved(self) -> None:
        if not self.is_approved:
            raise DomainError(
                "enterprise_not_approved",
                f"the enrollment is {self.review_state.value}",
                field="review_state",
            )

    def change_info(
        self, ctx: CommandContext, change: EnterpriseChange, authorising_key: UKey | None
    ) -> list[DomainEvent]:
        """Change name, address or legal representative, by an active legal-person key."""
        self._require_approved()
        if authorising_key is None or not authorising_key.is_active_legal_person_key_of(
            self.uscc, ctx.at
        ):
            raise DomainError(
                "legal_person_key_required",
                "a change needs an active legal-person key of this enterprise",
                field="authorising_key",
            )
        current = {"name": self.name, "business_address": self.business_address}
        current["legal_representative"] = self.legal_representative
        if all(
            current[field] == value for field, value in change.model_dump(exclude_none=True).items()
        ):
            raise DomainError(
                "nothing_changed", "the change repeats the current information", field="change"
            )
        changed = change.legal_representative not in (None, self.legal_representative)
        return [
            self._event(
                EnterpriseInfoChanged,
                ctx,
                change=change,
                legal_representative_changed=changed,
                authorising_card_no=authorising_key.card_no,
            )
        ]

    def record_free_pair_issued(
        self, ctx: CommandContext, lp_card_no: str, op_card_no: str
    ) -> list[DomainEvent]:
        """Record the free legal-person and operator keys; only once per enrollment."""
        require_role(ctx, Role.WINDOW, action="free issue")
        self._require_approved()
        if self.free_pair_issued is not None:
            raise DomainError(
                "free_pair_already_issued",
                f"the free pair was issued: {self.free_pair_issued.legal_person_card_no}, "
                f"{self.free_pair_issued.operator_card_no}",
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
        return [
            self._event(
                FreeKeyPairIssued, ctx, legal_person_card_no=lp_card_no, operator_card_no=op_card_no
            )
        ]
