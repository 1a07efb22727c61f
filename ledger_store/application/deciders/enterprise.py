"""Enrollment commands: registration, the four filings, window review, changes, card holders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from domain.aggregate_ids import card_holder_id, enterprise_id, key_id
from domain.base import CommandContext, DomainError, DomainEvent, NotFoundError
from domain.card_holder import decisions as card_holders
from domain.card_holder.decisions import holders_from_form
from domain.card_holder.state import CardHolder
from domain.enterprise import decisions as enterprises
from domain.enterprise.events import EnterpriseChange
from domain.enterprise.state import Enterprise
from domain.filings import Filing, FilingKind, ThreeInOneFiling
from domain.forms import (
    CustomsDeclarer,
    KeyKind,
    LegalPersonHolder,
    OperatorHolder,
    Permission,
    VerificationOfficer,
)
from domain.region import RegionConfig, get_region
from domain.ukey.state import UKey
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.ledger import CommandResult, LedgerCore, check_version


class EnrollmentCommands(LedgerCore):
    """Commands of the enrollment process (入网备案) and of the enterprise's card holders."""

    @property
    def region(self) -> RegionConfig:
        """The region whose department codes this ledger's window checks."""
        return get_region(self.settings.region)

    def enterprise(self, uscc: str) -> Enterprise:
        """An enterprise by USCC, or NotFoundError."""
        return self.load(Enterprise, enterprise_id(uscc), what=f"enterprise {uscc}")

    def key(self, card_no: str) -> UKey:
        """A key by card number, or NotFoundError."""
        return self.load(UKey, key_id(card_no), what=f"key {card_no}")

    def find_key(self, card_no: str) -> UKey | None:
        """A key by card number, or None."""
        return self.find(UKey, key_id(card_no))

    def operator(self, operator_uuid: UUID) -> CardHolder:
        """A card holder by id, or NotFoundError."""
        return self.load(CardHolder, operator_uuid, what=f"operator {operator_uuid}")

    def authorising_key(self, card_no: str | None) -> UKey | None:
        """The legal-person key a command names as its authority, if any."""
        if card_no is None:
            return None
        key = self.find(UKey, key_id(card_no))
        if key is None:
            raise DomainError(
                "legal_person_key_required",
                f"no key {card_no} in the ledger",
                "authorising_card_no",
            )
        return key

    def register_enterprise(
        self,
        ctx: CommandContext,
        *,
        uscc: str,
        name: str,
        customs_code: str | None,
        receipt_number: str | None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Register an enterprise that holds its customs registration receipt."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            events = enterprises.register(
                ctx, uscc, name, customs_code, receipt_number, self.region
            )
            return events[0].originator_id, events

        return self.create(decide, idempotency, what=f"enterprise {uscc}")

    def submit_filing(
        self,
        ctx: CommandContext,
        uscc: str,
        filing: Filing,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Submit or resubmit one of the four filings."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            check_version(enterprise, expected_version)
            return enterprise.id, enterprises.submit_filing(enterprise, ctx, filing, self.region)

        return self.execute(decide, idempotency=idempotency)

    def review(
        self,
        ctx: CommandContext,
        uscc: str,
        *,
        approve: bool,
        window: str,
        reason: str | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Approve (registering the form's two card holders) or reject with a reason."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            check_version(enterprise, expected_version)
            if not approve:
                return enterprise.id, enterprises.reject(enterprise, ctx, window, reason or "")
            approval = enterprises.approve(enterprise, ctx, window)
            filing = enterprise.filings[FilingKind.THREE_IN_ONE]
            assert isinstance(filing, ThreeInOneFiling)
            form = filing.materials.ic_card_registration_form
            holders = holders_from_form(ctx, enterprise.evolve(approval), form)
            return enterprise.id, [*approval, *holders]

        return self.execute(decide, idempotency=idempotency)

    def change_enterprise_info(
        self,
        ctx: CommandContext,
        uscc: str,
        change: EnterpriseChange,
        *,
        authorising_card_no: str | None,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Change name, address or legal representative with the legal-person key (变更)."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            check_version(enterprise, expected_version)
            key = self.authorising_key(authorising_card_no)
            return enterprise.id, enterprises.change_info(enterprise, ctx, change, key)

        return self.execute(decide, idempotency=idempotency)

    def register_operator(
        self,
        ctx: CommandContext,
        uscc: str,
        *,
        holder: OperatorHolder | LegalPersonHolder,
        holder_kind: KeyKind = KeyKind.OPERATOR,
        customs_declarer: CustomsDeclarer | None = None,
        verification_officer: VerificationOfficer | None = None,
        authorising_card_no: str | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Add a card holder to an approved enterprise, authorised by its legal-person key."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            key = self.authorising_key(authorising_card_no)
            events = card_holders.register(
                ctx,
                enterprise,
                holder_kind,
                holder,
                customs_declarer=customs_declarer,
                verification_officer=verification_officer,
                authorising_key=key,
                other_holders_id_numbers=self._legal_person_id_numbers(enterprise),
            )
            return events[0].originator_id, events

        return self.create(decide, idempotency, what=f"card holder of {uscc}")

    def set_permissions(
        self,
        ctx: CommandContext,
        uscc: str,
        operator_uuid: UUID,
        permissions: Iterable[Permission],
        *,
        authorising_card_no: str | None,
        expected_version: int | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Grant and revoke so the operator holds exactly these permissions (业务授权)."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            operator = self.operator(operator_uuid)
            if operator.uscc != uscc:
                raise NotFoundError("not_found", f"operator {operator_uuid} is not of {uscc}", "id")
            check_version(operator, expected_version)
            key = self.authorising_key(authorising_card_no)
            return operator.id, card_holders.set_permissions(operator, ctx, permissions, key)

        return self.execute(decide, idempotency=idempotency)

    def _legal_person_id_numbers(self, enterprise: Enterprise) -> list[str]:
        filing = enterprise.filings.get(FilingKind.THREE_IN_ONE)
        if not isinstance(filing, ThreeInOneFiling):
            return []
        form = filing.materials.ic_card_registration_form
        return [form.legal_person.id_number]


def holder_operator_id(
    uscc: str, holder: OperatorHolder | LegalPersonHolder, kind: KeyKind
) -> UUID:
    """The aggregate id of a card holder."""
    return card_holder_id(uscc, holder.id_number, kind.value)
