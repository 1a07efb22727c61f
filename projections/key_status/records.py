"""What a key query answers: one key as the hotline and the window see it (`KeyRecord`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from projections.key_status.advice import Advice


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Holder(_Model):
    """The key's holder; personal data masked for the hotline, absent once erased."""

    id: str | None
    name: str | None
    id_type: str | None
    id_number: str | None
    phone: str | None


class Mailing(_Model):
    """The EMS handover (快递交接单) and the delivery."""

    case_number: str | None
    order_number: str | None
    ems_number: str | None
    company_name: str | None
    recipient_name: str | None
    recipient_phone: str | None
    recipient_address: str | None
    postcode: str | None
    mailed_at: datetime | None
    delivered_at: datetime | None


class Renewal(_Model):
    """A certificate-renewal application and where it stands."""

    application_id: str
    state: str
    requested_at: datetime | None
    pre_approved_at: datetime | None
    completed_at: datetime | None


class LastChange(_Model):
    """The last event that changed the key."""

    ledger_index: int
    at: datetime
    event: str


class KeyRecord(_Model):
    """What the hotline and the window see of one key."""

    card_no: str
    status: str
    kind: str
    media: str
    supplier: str | None
    certificate_number: str | None
    uscc: str
    enterprise_name: str | None
    holder: Holder
    failed_attempts: int
    attempts_left: int
    initial_pin: bool
    valid_from: datetime
    valid_until: datetime
    days_left: int
    issued_at: datetime
    delivered_at: datetime | None
    """When the key reached its holder (None: not yet, or a bought key, in hand from the start)."""
    delivery_channel: str | None
    """How: `ems` (the parcel arrived) or `window` (handed over in person)."""
    first_use_at: datetime | None
    locked_at: datetime | None
    mailing: Mailing | None
    replaces: str | None
    replaced_by: str | None
    incident_reason: str | None
    certificate_update_needed: bool
    """A legal-person key whose certificate predates a change of the enterprise's legal
    representative (变更): the certificate is to be updated (renewal) or the key replaced."""
    personal_data_erased: bool
    renewals: tuple[Renewal, ...]
    version: int
    last_change: LastChange
    advice: Advice
    """The hotline's answer card: the status in words, what to tell the caller, whom to call."""
