"""The UKey aggregate: issue, EMS mailing, PIN attempts and lock, renewal, loss, freeze, void."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from domain.aggregate_ids import key_id
from domain.base import (
    Aggregate,
    CommandContext,
    DomainError,
    DomainEvent,
    NotFoundError,
    Role,
    checked,
    event_fields,
    require_role,
    require_text,
)
from domain.forms import (
    RENEWAL_DOCUMENT_LABELS,
    KeyKind,
    MailingDetails,
    Media,
    RenewalDocuments,
    Supplier,
)
from domain.identifiers import check_card_number, check_certificate_number
from domain.ukey import status as key_status
from domain.ukey.events import (
    VALIDITY_YEARS,
    CertificateRenewalPreApproved,
    CertificateRenewalRequested,
    CertificateRenewed,
    KeyDelivered,
    KeyFrozen,
    KeyIssued,
    KeyMailed,
    KeyReplaced,
    KeyReportedLost,
    KeyVoided,
    PinAttemptFailed,
    PinAttemptSucceeded,
    PinChanged,
    PinLocked,
    PinUnlocked,
    RenewalState,
    add_years,
)
from domain.ukey.status import PIN_LOCK_THRESHOLD, UNUSABLE, KeyStatus

__all__ = ["VALIDITY_YEARS", "UKey", "add_years"]


class UKey(Aggregate):
    """A UKEY (IC card or IKEY) of one holder, identified by its card number (卡号)."""

    card_no: str
    kind: KeyKind
    media: Media
    uscc: str
    holder_id: UUID
    holder_name: str | None
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
    first_use_at: datetime | None = None
    renewals: dict[str, RenewalState] = Field(default_factory=dict)
    lost: bool = False
    frozen: bool = False
    voided: bool = False
    replaced_by: str | None = None
    replaces: str | None = None
    personal_data_erased: bool = False
    last_incident_reason: str | None = None

    # -- queries ---------------------------------------------------------------------------------

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

    def _usable(self, at: datetime, allow: frozenset[KeyStatus] = frozenset()) -> KeyStatus:
        status = self.status(at)
        if status in UNUSABLE - allow:
            raise DomainError("key_not_usable", f"key {self.card_no} is {status.value}", "status")
        return status

    def _unlocked(self, at: datetime) -> None:
        if self._usable(at) is KeyStatus.LOCKED:
            raise DomainError(
                "key_locked", f"key {self.card_no} is locked; unlock it first", "status"
            )

    # -- issue and delivery ------------------------------------------------------------------------

    @classmethod
    def issue(
        cls,
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
        if certificate_number is not None:
            certificate_number = checked(
                check_certificate_number,
                certificate_number,
                "invalid_certificate_number",
                "certificate_number",
            )
        if replaces is not None:
            replaces = checked(check_card_number, replaces, "invalid_card_number", "replaces")
            if replaces == card_no:
                raise DomainError(
                    "same_card_number", "a key cannot replace itself", field="replaces"
                )
        event = KeyIssued(
            originator_id=key_id(card_no),
            originator_version=1,
            **event_fields(ctx),
            card_no=card_no,
            kind=kind,
            media=media,
            uscc=uscc,
            holder_id=holder_id,
            holder_name=require_text(
                holder_name, "holder_name_required", "holder_name", "the holder"
            ),
            supplier=supplier,
            certificate_number=certificate_number,
            valid_from=ctx.at,
            valid_until=add_years(ctx.at, VALIDITY_YEARS),
            replaces=replaces,
        )
        return [event]

    def mail(self, ctx: CommandContext, details: MailingDetails) -> list[DomainEvent]:
        """Hand a free key to EMS with the completed handover form; once, before delivery."""
        require_role(ctx, Role.WINDOW, action="mailing")
        self._usable(ctx.at)
        if self.supplier is not None:
            raise DomainError(
                "not_free_issue", "only free keys are mailed by the window", "supplier"
            )
        if self.delivered_at is not None:
            raise DomainError("already_delivered", "the key was delivered", field="delivered_at")
        if self.mailing is not None:
            raise DomainError("already_mailed", "the key was mailed", field="mailing")
        if details.card_no_for(self.kind) != self.card_no:
            raise DomainError(
                "card_number_mismatch",
                f"the form lists {details.card_no_for(self.kind)} for the {self.kind.value} key, "
                f"not {self.card_no}",
                field=f"{self.kind.value}_card_no",
            )
        return [self._event(KeyMailed, ctx, details=details)]

    def deliver(self, ctx: CommandContext) -> list[DomainEvent]:
        """Record that the mailed key reached the enterprise."""
        self._usable(ctx.at)
        if self.mailing is None:
            raise DomainError("not_mailed", "the key was not mailed", field="mailing")
        if self.delivered_at is not None:
            raise DomainError("already_delivered", "the key was delivered", field="delivered_at")
        return [self._event(KeyDelivered, ctx)]

    # -- PIN -----------------------------------------------------------------------------------

    def record_pin_attempt(self, ctx: CommandContext, ok: bool) -> list[DomainEvent]:
        """Record a PIN attempt; the fifth consecutive failure also locks the key."""
        self._unlocked(ctx.at)
        if ok:
            return [self._event(PinAttemptSucceeded, ctx)]
        failures = self.consecutive_failures + 1
        events: list[DomainEvent] = [
            self._event(PinAttemptFailed, ctx, consecutive_failures=failures)
        ]
        if failures >= PIN_LOCK_THRESHOLD:
            events.append(self._event(PinLocked, ctx, offset=2))
        return events

    def change_pin(self, ctx: CommandContext) -> list[DomainEvent]:
        """Record that the holder changed the PIN."""
        self._unlocked(ctx.at)
        return [self._event(PinChanged, ctx)]

    def unlock(self, ctx: CommandContext) -> list[DomainEvent]:
        """Unlock a locked key (解锁); the PIN is the initial one again."""
        if self._usable(ctx.at) is not KeyStatus.LOCKED:
            raise DomainError("not_locked", f"key {self.card_no} is not locked", field="status")
        return [self._event(PinUnlocked, ctx)]

    # -- certificate renewal -------------------------------------------------------------------

    def _application(self, application_id: str, expected: RenewalState) -> None:
        state = self.renewals.get(application_id)
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

    def request_renewal(self, ctx: CommandContext, application_id: str) -> list[DomainEvent]:
        """Apply for a certificate renewal; allowed on an expired or locked key."""
        self._usable(ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
        if application_id in self.renewals:
            raise DomainError(
                "renewal_application_exists",
                f"application {application_id!r} exists",
                "application_id",
            )
        if any(state is not RenewalState.COMPLETED for state in self.renewals.values()):
            raise DomainError(
                "renewal_already_pending", "another renewal application is open", "application_id"
            )
        return [self._event(CertificateRenewalRequested, ctx, application_id=application_id)]

    def pre_approve_renewal(self, ctx: CommandContext, application_id: str) -> list[DomainEvent]:
        """The window pre-approves a renewal application (预审)."""
        require_role(ctx, Role.WINDOW, action="renewal pre-approval")
        self._usable(ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
        self._application(application_id, RenewalState.REQUESTED)
        return [self._event(CertificateRenewalPreApproved, ctx, application_id=application_id)]

    def renew(
        self,
        ctx: CommandContext,
        application_id: str,
        documents: RenewalDocuments,
        certificate_number: str | None = None,
    ) -> list[DomainEvent]:
        """Renew in person with all four documents: ten more years, PIN initial, unlocked."""
        require_role(ctx, Role.WINDOW, action="certificate renewal")
        self._usable(ctx.at, allow=frozenset({KeyStatus.EXPIRED}))
        self._application(application_id, RenewalState.PRE_APPROVED)
        if missing := documents.missing():
            labels = "、".join(f"{RENEWAL_DOCUMENT_LABELS[name]} ({name})" for name in missing)
            raise DomainError(
                "renewal_document_missing", f"not presented: {labels}", field=missing[0]
            )
        if certificate_number is not None:
            certificate_number = checked(
                check_certificate_number,
                certificate_number,
                "invalid_certificate_number",
                "certificate_number",
            )
        event = self._event(
            CertificateRenewed,
            ctx,
            application_id=application_id,
            documents=documents,
            valid_until=add_years(ctx.at, VALIDITY_YEARS),
            certificate_number=certificate_number or self.certificate_number,
        )
        return [event]

    # -- loss, freeze, void, replacement ---------------------------------------------------------

    def report_lost(self, ctx: CommandContext, reason: str) -> list[DomainEvent]:
        """Report the key lost (挂失); it becomes unusable."""
        self._usable(ctx.at)
        reason = require_text(reason, "reason_required", "reason", "a reason")
        return [self._event(KeyReportedLost, ctx, reason=reason)]

    def freeze(self, ctx: CommandContext, reason: str) -> list[DomainEvent]:
        """The data sub-centre freezes the key (冻结)."""
        require_role(ctx, Role.WINDOW, action="freezing a key")
        self._usable(ctx.at)
        reason = require_text(reason, "reason_required", "reason", "a reason")
        return [self._event(KeyFrozen, ctx, reason=reason)]

    def void(
        self, ctx: CommandContext, reason: str, erase_personal_data: bool
    ) -> list[DomainEvent]:
        """Void the key (作废), e.g. when its holder withdraws consent; anything not yet void."""
        if self.voided:
            raise DomainError("key_not_usable", f"key {self.card_no} is void", field="status")
        reason = require_text(reason, "reason_required", "reason", "a reason")
        return [
            self._event(KeyVoided, ctx, reason=reason, personal_data_erased=erase_personal_data)
        ]

    def replace(self, ctx: CommandContext, new_card_no: str, reason: str) -> list[DomainEvent]:
        """Replace a lost, frozen or faulty key (补办); the caller then issues the new key."""
        self._usable(ctx.at, allow=frozenset({KeyStatus.LOST, KeyStatus.FROZEN}))
        new_card_no = checked(check_card_number, new_card_no, "invalid_card_number", "new_card_no")
        if new_card_no == self.card_no:
            raise DomainError(
                "same_card_number", "a key cannot replace itself", field="new_card_no"
            )
        reason = require_text(reason, "reason_required", "reason", "a reason")
        return [self._event(KeyReplaced, ctx, new_card_no=new_card_no, reason=reason)]
