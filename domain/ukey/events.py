"""Events of the UKey lifecycle, data only (their stored names and fields are a contract); no
event ever carries a PIN."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID

from pydantic import StringConstraints

from domain.base import DomainEvent, stored_as
from domain.forms import (
    KeyKind,
    MailingDetails,
    Media,
    Name,
    Remarks,
    RenewalDocuments,
    Supplier,
    mailing_parts,
)
from domain.identifiers import CardNumber, CertificateNumber, Uscc
from domain.personal import PersonalPart, Sealed, personal

ApplicationId = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    ),
]


@stored_as("KeyIssued")
class KeyIssued(DomainEvent):
    """A key was issued to a holder: free by the window, or bought from a supplier."""

    card_no: CardNumber
    kind: KeyKind
    media: Media
    uscc: Uscc
    holder_id: UUID
    holder_name: Annotated[str | Sealed, personal(Name)]
    supplier: Supplier | None
    certificate_number: CertificateNumber | None
    valid_from: datetime
    valid_until: datetime
    replaces: CardNumber | None

    def personal_parts(self) -> Sequence[PersonalPart]:
        """The holder's name, sealed under the card holder's key."""
        name = self.holder_name
        found_by = (("name", name),) if isinstance(name, str) else ()
        return [PersonalPart(("holder_name",), self.holder_id, found_by)]


@stored_as("KeyMailed")
class KeyMailed(DomainEvent):
    """The window handed a free key to EMS (快递交接单)."""

    details: MailingDetails

    def personal_parts(self) -> Sequence[PersonalPart]:
        """The parcel's recipient (per key) and the handover form's signatories."""
        return mailing_parts(self.details, self.originator_id, ("details",))


class DeliveryChannel(StrEnum):
    """How a free key reached its holder: in the EMS parcel, or handed over at the window."""

    EMS = "ems"
    WINDOW = "window"


@stored_as("KeyDelivered")
class KeyDelivered(DomainEvent):
    """The key reached its holder: the EMS parcel arrived, or the window handed it over."""

    class_version: ClassVar[int] = 2

    channel: DeliveryChannel

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> dict[str, Any]:
        """Version 1 had no channel: every key then was delivered by EMS."""
        return {**state, "channel": DeliveryChannel.EMS.value}


@stored_as("PinAttemptFailed")
class PinAttemptFailed(DomainEvent):
    """A wrong PIN was entered; the count of consecutive failures is now `consecutive_failures`."""

    consecutive_failures: int


@stored_as("PinAttemptSucceeded")
class PinAttemptSucceeded(DomainEvent):
    """The right PIN was entered: the failure count is reset; the key is in use."""


@stored_as("PinLocked")
class PinLocked(DomainEvent):
    """Five consecutive wrong PINs locked the key (累计输错5次密码会自动锁定)."""


@stored_as("PinUnlocked")
class PinUnlocked(DomainEvent):
    """The key was unlocked (解锁); its PIN is the initial one again."""


@stored_as("PinChanged")
class PinChanged(DomainEvent):
    """The holder changed the PIN (the ledger never knows which)."""


@stored_as("CertificateRenewalRequested")
class CertificateRenewalRequested(DomainEvent):
    """A certificate renewal was applied for online (网上申请证书更新)."""

    application_id: ApplicationId


@stored_as("CertificateRenewalPreApproved")
class CertificateRenewalPreApproved(DomainEvent):
    """The window pre-approved the renewal application (预审通过)."""

    application_id: ApplicationId


@stored_as("CertificateRenewed")
class CertificateRenewed(DomainEvent):
    """The certificate was renewed in person: valid ten more years, PIN initial, unlocked."""

    application_id: ApplicationId
    documents: RenewalDocuments
    valid_until: datetime
    certificate_number: CertificateNumber | None


@stored_as("KeyReportedLost")
class KeyReportedLost(DomainEvent):
    """The key was reported lost (挂失) and is unusable."""

    reason: Remarks


@stored_as("KeyFrozen")
class KeyFrozen(DomainEvent):
    """The data sub-centre froze the key (冻结), e.g. for false information or impersonation."""

    reason: Remarks


@stored_as("KeyUnfrozen")
class KeyUnfrozen(DomainEvent):
    """The window lifted a freeze (解冻), e.g. once the information was confirmed true."""

    reason: Remarks


@stored_as("KeyVoided")
class KeyVoided(DomainEvent):
    """The key was voided (作废), optionally erasing the holder's personal data from the state."""

    reason: Remarks
    personal_data_erased: bool


@stored_as("KeyReplaced")
class KeyReplaced(DomainEvent):
    """The key was replaced (补办) by the key with `new_card_no`."""

    new_card_no: CardNumber
    reason: Remarks
