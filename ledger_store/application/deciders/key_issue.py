"""Issuing keys: the free pair after approval, a key bought from a supplier, a replacement."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain.aggregate_ids import card_holder_id
from domain.base import CommandContext, DomainError, DomainEvent
from domain.card_holder.state import CardHolder
from domain.enterprise import decisions as enterprises
from domain.filings import FilingKind, ThreeInOneFiling
from domain.forms import KeyKind, Media, Supplier, SupplierProduct
from domain.ukey import decisions as ukeys
from ledger_store.application.deciders.enterprise import EnrollmentCommands
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.ledger import CommandResult


class KeyIssueCommands(EnrollmentCommands):
    """Commands that bring keys into the ledger."""

    def issue_free_pair(
        self,
        ctx: CommandContext,
        uscc: str,
        *,
        legal_person_card_no: str,
        operator_card_no: str,
        legal_person_media: Media = Media.IKEY,
        legal_person_certificate_number: str | None = None,
        operator_certificate_number: str | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Issue the two free keys (法人卡, 操作员卡) to the form's holders, once per enrollment."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            recorded = enterprises.record_free_pair_issued(
                enterprise, ctx, legal_person_card_no, operator_card_no
            )
            filing = enterprise.filings[FilingKind.THREE_IN_ONE]
            assert isinstance(filing, ThreeInOneFiling)
            form = filing.materials.ic_card_registration_form
            legal_person = ukeys.issue(
                ctx,
                legal_person_card_no,
                KeyKind.LEGAL_PERSON,
                legal_person_media,
                uscc,
                card_holder_id(uscc, form.legal_person.id_number, KeyKind.LEGAL_PERSON.value),
                form.legal_person.name,
                certificate_number=legal_person_certificate_number,
            )
            operator = ukeys.issue(
                ctx,
                operator_card_no,
                KeyKind.OPERATOR,
                form.operator.media,
                uscc,
                card_holder_id(uscc, form.operator.id_number, KeyKind.OPERATOR.value),
                form.operator.name,
                certificate_number=operator_certificate_number,
            )
            return enterprise.id, [*recorded, *legal_person, *operator]

        return self.create(
            decide,
            idempotency,
            what=f"card {legal_person_card_no} or {operator_card_no}",
            extra=lambda: {
                "legal_person_card_no": legal_person_card_no,
                "operator_card_no": operator_card_no,
            },
        )

    def issue_bought_key(
        self,
        ctx: CommandContext,
        uscc: str,
        *,
        card_no: str,
        holder_id: UUID,
        supplier: Supplier,
        product: SupplierProduct,
        certificate_number: str | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Record a key the enterprise bought from a listed supplier for one of its holders."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            enterprise = self.enterprise(uscc)
            holder = self._holder_of(uscc, holder_id)
            if not enterprise.is_approved:
                raise DomainError(
                    "enterprise_not_approved", f"enterprise {uscc} is not approved", "uscc"
                )
            events = ukeys.issue(
                ctx,
                card_no,
                holder.holder_kind,
                product.media,
                uscc,
                holder.id,
                holder.holder.name,
                supplier=supplier,
                certificate_number=certificate_number,
            )
            return events[0].originator_id, events

        return self.create(decide, idempotency, what=f"card {card_no}")

    def replace_key(
        self,
        ctx: CommandContext,
        card_no: str,
        *,
        new_card_no: str,
        reason: str,
        supplier: Supplier,
        product: SupplierProduct,
        certificate_number: str | None = None,
        idempotency: IdempotencyClaim | None = None,
    ) -> CommandResult:
        """Replace a lost, frozen or faulty key with a bought one (补办); the chain old → new."""

        def decide() -> tuple[UUID, Sequence[DomainEvent]]:
            old = self.key(card_no)
            replaced = ukeys.replace(old, ctx, new_card_no, reason)
            new = ukeys.issue(
                ctx,
                new_card_no,
                old.kind,
                product.media,
                old.uscc,
                old.holder_id,
                old.holder_name or "",
                supplier=supplier,
                certificate_number=certificate_number,
                replaces=old.card_no,
            )
            return new[0].originator_id, [*replaced, *new]

        return self.create(decide, idempotency, what=f"card {new_card_no}")

    def _holder_of(self, uscc: str, holder_id: UUID) -> CardHolder:
        holder = self.find(CardHolder, holder_id)
        if holder is None or holder.uscc != uscc:
            raise DomainError(
                "unknown_holder", f"no card holder {holder_id} of {uscc}", "holder_id"
            )
        return holder
