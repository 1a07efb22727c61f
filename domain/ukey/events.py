"""Events of the UKey lifecycle and the vocabulary they share; no event ever carries a PIN."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final
from uuid import UUID

from pydantic import StringConstraints

from domain.base import DomainEvent, created_fields, stored_as
from domain.forms import KeyKind, MailingDetails, Media, Name, Remarks, RenewalDocuments, Supplier
from domain.identifiers import CardNumber, CertificateNumber, Uscc

if TYPE_CHECKING:
    from domain.ukey.state import UKey

ApplicationId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    ),
]


class RenewalState(StrEnum):
    """Where a certificate-renewal application (证书更新/年审) stands."""

    REQUESTED = "requested"
    PRE_APPROVED = "pre_approved"
    COMPLETED = "completed"


VALIDITY_YEARS: Final = 10


def add_years(moment: datetime, years: int) -> datetime:
    """The same calendar moment `years` later; 29 February becomes 28 February."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


@stored_as("KeyIssued")
class KeyIssued(DomainEvent):
    """A key was issued to a holder: free by the window, or bought from a supplier."""

    card_no: CardNumber
    kind: KeyKind
    media: Media
    uscc: Uscc
    holder_id: UUID
    holder_name: Name
    supplier: Supplier | None
    certificate_number: CertificateNumber | None
    valid_from: datetime
    valid_until: datetime
    replaces: CardNumber | None

    def apply(self, aggregate: Any) -> UKey:
        """Create the key with the initial PIN and no failures."""
        from domain.ukey.state import UKey  # the aggregate imports these events

        return UKey(
            **created_fields(self),
            card_no=self.card_no,
            kind=self.kind,
            media=self.media,
            uscc=self.uscc,
            holder_id=self.holder_id,
            holder_name=self.holder_name,
            supplier=self.supplier,
            certificate_number=self.certificate_number,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            replaces=self.replaces,
        )


@stored_as("KeyMailed")
class KeyMailed(DomainEvent):
    """The window handed a free key to EMS (快递交接单)."""

    details: MailingDetails

    def apply(self, aggregate: UKey) -> UKey:
        """Keep the handover details."""
        return aggregate.model_copy(update={"mailing": self.details, "mailed_at": self.timestamp})


@stored_as("KeyDelivered")
class KeyDelivered(DomainEvent):
    """The mailed key reached the enterprise."""

    def apply(self, aggregate: UKey) -> UKey:
        """Note the delivery time."""
        return aggregate.model_copy(update={"delivered_at": self.timestamp})


@stored_as("PinAttemptFailed")
class PinAttemptFailed(DomainEvent):
    """A wrong PIN was entered; the count of consecutive failures is now `consecutive_failures`."""

    consecutive_failures: int

    def apply(self, aggregate: UKey) -> UKey:
        """Count the failure."""
        return aggregate.model_copy(update={"consecutive_failures": self.consecutive_failures})


@stored_as("PinAttemptSucceeded")
class PinAttemptSucceeded(DomainEvent):
    """The right PIN was entered: the failure count is reset; the key is in use."""

    def apply(self, aggregate: UKey) -> UKey:
        """Reset the count and note the first use."""
        first_use = aggregate.first_use_at or self.timestamp
        return aggregate.model_copy(update={"consecutive_failures": 0, "first_use_at": first_use})


@stored_as("PinLocked")
class PinLocked(DomainEvent):
    """Five consecutive wrong PINs locked the key (累计输错5次密码会自动锁定)."""

    def apply(self, aggregate: UKey) -> UKey:
        """Lock the key."""
        return aggregate.model_copy(update={"locked": True})


@stored_as("PinUnlocked")
class PinUnlocked(DomainEvent):
    """The key was unlocked (解锁); its PIN is the initial one again."""

    def apply(self, aggregate: UKey) -> UKey:
        """Unlock, reset the count, PIN initial again."""
        update = {"locked": False, "consecutive_failures": 0, "pin_is_initial": True}
        return aggregate.model_copy(update=update)


@stored_as("PinChanged")
class PinChanged(DomainEvent):
    """The holder changed the PIN (the ledger never knows which)."""

    def apply(self, aggregate: UKey) -> UKey:
        """The PIN is no longer the initial one; the key is in use."""
        first_use = aggregate.first_use_at or self.timestamp
        update = {"pin_is_initial": False, "consecutive_failures": 0, "first_use_at": first_use}
        return aggregate.model_copy(update=update)


@stored_as("CertificateRenewalRequested")
class CertificateRenewalRequested(DomainEvent):
    """A certificate renewal was applied for online (网上申请证书更新)."""

    application_id: ApplicationId

    def apply(self, aggregate: UKey) -> UKey:
        """Open the application."""
        renewals = {**aggregate.renewals, self.application_id: RenewalState.REQUESTED}
        return aggregate.model_copy(update={"renewals": renewals})


@stored_as("CertificateRenewalPreApproved")
class CertificateRenewalPreApproved(DomainEvent):
    """The window pre-approved the renewal application (预审通过)."""

    application_id: ApplicationId

    def apply(self, aggregate: UKey) -> UKey:
        """Mark the application pre-approved."""
        renewals = {**aggregate.renewals, self.application_id: RenewalState.PRE_APPROVED}
        return aggregate.model_copy(update={"renewals": renewals})


@stored_as("CertificateRenewed")
class CertificateRenewed(DomainEvent):
    """The certificate was renewed in person: valid ten more years, PIN initial, unlocked."""

    application_id: ApplicationId
    documents: RenewalDocuments
    valid_until: datetime
    certificate_number: CertificateNumber | None

    def apply(self, aggregate: UKey) -> UKey:
        """Extend the validity and reset the PIN state."""
        renewals = {**aggregate.renewals, self.application_id: RenewalState.COMPLETED}
        update = {
            "renewals": renewals,
            "valid_from": self.timestamp,
            "valid_until": self.valid_until,
            "certificate_number": self.certificate_number,
            "pin_is_initial": True,
            "consecutive_failures": 0,
            "locked": False,
        }
        return aggregate.model_copy(update=update)


@stored_as("KeyReportedLost")
class KeyReportedLost(DomainEvent):
    """The key was reported lost (挂失) and is unusable."""

    reason: Remarks

    def apply(self, aggregate: UKey) -> UKey:
        """Mark the key lost."""
        return aggregate.model_copy(update={"lost": True, "last_incident_reason": self.reason})


@stored_as("KeyFrozen")
class KeyFrozen(DomainEvent):
    """The data sub-centre froze the key (冻结), e.g. for false information or impersonation."""

    reason: Remarks

    def apply(self, aggregate: UKey) -> UKey:
        """Mark the key frozen."""
        return aggregate.model_copy(update={"frozen": True, "last_incident_reason": self.reason})


@stored_as("KeyVoided")
class KeyVoided(DomainEvent):
    """The key was voided (作废), optionally erasing the holder's personal data from the state."""

    reason: Remarks
    personal_data_erased: bool

    def apply(self, aggregate: UKey) -> UKey:
        """Void the key; drop the holder's name and the mailing details when erasing."""
        update: dict[str, Any] = {"voided": True, "last_incident_reason": self.reason}
        if self.personal_data_erased:
            update |= {"holder_name": None, "mailing": None, "personal_data_erased": True}
        return aggregate.model_copy(update=update)


@stored_as("KeyReplaced")
class KeyReplaced(DomainEvent):
    """The key was replaced (补办) by the key with `new_card_no`."""

    new_card_no: CardNumber
    reason: Remarks

    def apply(self, aggregate: UKey) -> UKey:
        """Link the key to its replacement."""
        update = {"replaced_by": self.new_card_no, "last_incident_reason": self.reason}
        return aggregate.model_copy(update=update)
