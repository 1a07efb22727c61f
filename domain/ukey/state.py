"""The UKey aggregate: its state, its read-only queries, and how each of its events evolves it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import Field

from domain.base import Aggregate, created_from, evolves
from domain.forms import KeyKind, MailingDetails, Media, Supplier
from domain.personal import Sealed
from domain.ukey import events, status as key_status
from domain.ukey.status import KeyStatus


class RenewalState(StrEnum):
    """Where a certificate-renewal application (证书更新/年审) stands."""

    REQUESTED = "requested"
    PRE_APPROVED = "pre_approved"
    COMPLETED = "completed"


class UKey(Aggregate):
    """A UKEY (IC card or IKEY) of one holder, identified by its card number (卡号)."""

    card_no: str
    kind: KeyKind
    media: Media
    uscc: str
    holder_id: UUID
    holder_name: str | Sealed | None
    supplier: Supplier | None
    certificate_number: str | None
    valid_from: datetime
    valid_until: datetime
    pin_is_initial: bool = True
    consecutive_failures: int = 0
    locked: bool = False
    mailing: MailingDetails | None = None
    mailed_at: datetime | None = None
    delivered_at: datetime | None = None
    delivered_by: events.DeliveryChannel | None = None
    first_use_at: datetime | None = None
    renewals: dict[str, RenewalState] = Field(default_factory=dict)
    lost: bool = False
    frozen: bool = False
    voided: bool = False
    replaced_by: str | None = None
    replaces: str | None = None
    personal_data_erased: bool = False
    last_incident_reason: str | None = None

    def status(self, at: datetime) -> KeyStatus:
        """The key's status at a moment (void > replaced > lost > frozen > expired > locked …)."""
        return key_status.status_at(
            self.lifecycle_status, expired=key_status.is_expired(self.valid_until, at)
        )

    @property
    def lifecycle_status(self) -> KeyStatus:
        """The key's status without the clock (never expired)."""
        return key_status.lifecycle_status(
            voided=self.voided,
            replaced=self.replaced_by is not None,
            lost=self.lost,
            frozen=self.frozen,
            locked=self.locked,
            in_use=self.first_use_at is not None,
            delivered=self.delivered_at is not None,
            mailed=self.mailed_at is not None,
        )

    @property
    def in_holders_hands(self) -> bool:
        """Whether the key reached its holder (bought, delivered, or already in use)."""
        return key_status.in_holders_hands(
            bought=self.supplier is not None,
            delivered=self.delivered_at is not None,
            in_use=self.first_use_at is not None,
        )

    def is_usable(self, at: datetime) -> bool:
        """Whether the key works: not expired, lost, frozen, void, replaced or locked."""
        return key_status.is_usable(self.status(at))

    def is_active_legal_person_key_of(self, uscc: str, at: datetime) -> bool:
        """Whether this is a usable legal-person key of the enterprise `uscc` at a moment."""
        return self.kind is KeyKind.LEGAL_PERSON and self.uscc == uscc and self.is_usable(at)

    def days_left(self, at: datetime) -> int:
        """Whole days of validity left at a moment (negative once expired)."""
        return key_status.days_left(self.valid_until, at)

    @property
    def attempts_left(self) -> int:
        """Wrong PINs the key still tolerates before it locks."""
        return key_status.attempts_left(
            locked=self.locked, consecutive_failures=self.consecutive_failures
        )


# -- how each event evolves the key ----------------------------------------------------------


@evolves(events.KeyIssued)
def _issued(_: None, event: events.KeyIssued) -> UKey:
    """Create the key with the initial PIN and no failures."""
    return created_from(UKey, event)


@evolves(events.KeyMailed)
def _mailed(key: UKey, event: events.KeyMailed) -> UKey:
    """Keep the handover details."""
    return key.model_copy(update={"mailing": event.details, "mailed_at": event.timestamp})


@evolves(events.KeyDelivered)
def _delivered(key: UKey, event: events.KeyDelivered) -> UKey:
    """Note the delivery time and how the key came."""
    return key.model_copy(update={"delivered_at": event.timestamp, "delivered_by": event.channel})


@evolves(events.PinAttemptFailed)
def _pin_attempt_failed(key: UKey, event: events.PinAttemptFailed) -> UKey:
    """Count the failure."""
    return key.model_copy(update={"consecutive_failures": event.consecutive_failures})


@evolves(events.PinAttemptSucceeded)
def _pin_attempt_succeeded(key: UKey, event: events.PinAttemptSucceeded) -> UKey:
    """Reset the count and note the first use."""
    first_use = key.first_use_at or event.timestamp
    return key.model_copy(update={"consecutive_failures": 0, "first_use_at": first_use})


@evolves(events.PinLocked)
def _pin_locked(key: UKey, event: events.PinLocked) -> UKey:
    """Lock the key."""
    return key.model_copy(update={"locked": True})


@evolves(events.PinUnlocked)
def _pin_unlocked(key: UKey, event: events.PinUnlocked) -> UKey:
    """Unlock, reset the count, PIN initial again."""
    update = {"locked": False, "consecutive_failures": 0, "pin_is_initial": True}
    return key.model_copy(update=update)


@evolves(events.PinChanged)
def _pin_changed(key: UKey, event: events.PinChanged) -> UKey:
    """The PIN is no longer the initial one; the key is in use."""
    first_use = key.first_use_at or event.timestamp
    update = {"pin_is_initial": False, "consecutive_failures": 0, "first_use_at": first_use}
    return key.model_copy(update=update)


@evolves(events.CertificateRenewalRequested)
def _renewal_requested(key: UKey, event: events.CertificateRenewalRequested) -> UKey:
    """Open the application."""
    renewals = {**key.renewals, event.application_id: RenewalState.REQUESTED}
    return key.model_copy(update={"renewals": renewals})


@evolves(events.CertificateRenewalPreApproved)
def _renewal_pre_approved(key: UKey, event: events.CertificateRenewalPreApproved) -> UKey:
    """Mark the application pre-approved."""
    renewals = {**key.renewals, event.application_id: RenewalState.PRE_APPROVED}
    return key.model_copy(update={"renewals": renewals})


@evolves(events.CertificateRenewed)
def _renewed(key: UKey, event: events.CertificateRenewed) -> UKey:
    """Extend the validity and reset the PIN state."""
    renewals = {**key.renewals, event.application_id: RenewalState.COMPLETED}
    update = {
        "renewals": renewals,
        "valid_from": event.timestamp,
        "valid_until": event.valid_until,
        "certificate_number": event.certificate_number,
        "pin_is_initial": True,
        "consecutive_failures": 0,
        "locked": False,
    }
    return key.model_copy(update=update)


@evolves(events.KeyReportedLost)
def _reported_lost(key: UKey, event: events.KeyReportedLost) -> UKey:
    """Mark the key lost."""
    return key.model_copy(update={"lost": True, "last_incident_reason": event.reason})


@evolves(events.KeyFrozen)
def _frozen(key: UKey, event: events.KeyFrozen) -> UKey:
    """Mark the key frozen."""
    return key.model_copy(update={"frozen": True, "last_incident_reason": event.reason})


@evolves(events.KeyUnfrozen)
def _unfrozen(key: UKey, event: events.KeyUnfrozen) -> UKey:
    """Lift the freeze; the freeze's reason goes with it (a loss keeps its own)."""
    reason = key.last_incident_reason if key.lost else None
    return key.model_copy(update={"frozen": False, "last_incident_reason": reason})


@evolves(events.KeyVoided)
def _voided(key: UKey, event: events.KeyVoided) -> UKey:
    """Void the key; drop the holder's name and the mailing details when erasing."""
    update: dict[str, Any] = {"voided": True, "last_incident_reason": event.reason}
    if event.personal_data_erased:
        update |= {"holder_name": None, "mailing": None, "personal_data_erased": True}
    return key.model_copy(update=update)


@evolves(events.KeyReplaced)
def _replaced(key: UKey, event: events.KeyReplaced) -> UKey:
    """Link the key to its replacement."""
    update = {"replaced_by": event.new_card_no, "last_incident_reason": event.reason}
    return key.model_copy(update=update)
