"""The Enterprise aggregate: its state, its read-only queries, and how each of its events evolves
it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import Field

from domain.base import Actor, Aggregate, Immutable, created_from, evolves
from domain.enterprise import events
from domain.filings import Filing, FilingKind, ThreeInOneFiling
from domain.identifiers import CardNumber
from domain.personal import Sealed


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
    legal_representative: str | Sealed | None = None
    business_address: str | None = None

    @property
    def missing_filings(self) -> list[FilingKind]:
        """The filing kinds not yet submitted, in process order."""
        return [kind for kind in FilingKind if kind not in self.filings]

    @property
    def is_approved(self) -> bool:
        """Whether the window approved the enrollment."""
        return self.review_state is ReviewState.APPROVED


# -- how each event evolves the enterprise -----------------------------------------------------


@evolves(events.EnterpriseRegistered)
def _registered(_: None, event: events.EnterpriseRegistered) -> Enterprise:
    """Create the enterprise in draft."""
    return created_from(Enterprise, event)


@evolves(events.FilingSubmitted)
def _filing_submitted(enterprise: Enterprise, event: events.FilingSubmitted) -> Enterprise:
    """Keep the latest filing per kind; all four in means awaiting review."""
    filings = {**enterprise.filings, event.kind: event.filing}
    update: dict[str, Any] = {"filings": filings}
    if isinstance(event.filing, ThreeInOneFiling):
        update["legal_representative"] = event.filing.legal_representative
        update["business_address"] = event.filing.business_address
    if len(filings) == len(FilingKind):
        update["review_state"] = ReviewState.AWAITING_REVIEW
    return enterprise.model_copy(update=update)


def _reviewed(
    enterprise: Enterprise,
    event: events.WindowApproved | events.WindowRejected,
    outcome: ReviewState,
    reason: str | None,
) -> Enterprise:
    """Record the window's decision as the last review."""
    review = Review(
        outcome=outcome,
        reason=reason,
        reviewer=event.actor,
        window=event.window,
        at=event.timestamp,
    )
    return enterprise.model_copy(update={"review_state": outcome, "last_review": review})


@evolves(events.WindowApproved)
def _approved(enterprise: Enterprise, event: events.WindowApproved) -> Enterprise:
    """Record the approval."""
    return _reviewed(enterprise, event, ReviewState.APPROVED, None)


@evolves(events.WindowRejected)
def _rejected(enterprise: Enterprise, event: events.WindowRejected) -> Enterprise:
    """Record the rejection and its reason."""
    return _reviewed(enterprise, event, ReviewState.REJECTED, event.reason)


@evolves(events.EnterpriseInfoChanged)
def _info_changed(enterprise: Enterprise, event: events.EnterpriseInfoChanged) -> Enterprise:
    """Take the changed fields."""
    return enterprise.model_copy(update=event.change.model_dump(exclude_none=True))


@evolves(events.FreeKeyPairIssued)
def _free_pair_issued(enterprise: Enterprise, event: events.FreeKeyPairIssued) -> Enterprise:
    """Remember the pair, so it is issued only once."""
    pair = FreePair(**event.model_dump(include={"legal_person_card_no", "operator_card_no"}))
    return enterprise.model_copy(update={"free_pair_issued": pair})
