"""Deciders of the Enterprise: registration, the four filings, window review, changes (变更)."""

from __future__ import annotations

from domain.base import CommandContext
from domain.card_holder.decisions import holders_from_form
from domain.enterprise import decisions as enterprises
from domain.enterprise.events import EnterpriseChange
from domain.filings import Filing
from domain.personal import Sealed
from ledger_store.application import records
from ledger_store.application.reader import Reader
from ledger_store.application.results import Decision


def register_enterprise(
    reader: Reader,
    ctx: CommandContext,
    *,
    uscc: str,
    name: str,
    customs_code: str | None,
    receipt_number: str | None,
) -> Decision:
    """Register an enterprise that holds its customs registration receipt."""
    events = enterprises.register(ctx, uscc, name, customs_code, receipt_number, reader.region)
    return Decision.of(events[0].originator_id, events, creates=f"enterprise {uscc}")


def submit_filing(reader: Reader, ctx: CommandContext, uscc: str, filing: Filing) -> Decision:
    """Submit or resubmit one of the four filings."""
    enterprise = records.enterprise(reader, uscc)
    return Decision.of(
        enterprise.id, enterprises.submit_filing(enterprise, ctx, filing, reader.region)
    )


def review(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    *,
    approve: bool,
    window: str,
    reason: str | None = None,
) -> Decision:
    """Approve (registering the form's two card holders) or reject with a reason."""
    enterprise = records.enterprise(reader, uscc)
    if not approve:
        return Decision.of(enterprise.id, enterprises.reject(enterprise, ctx, window, reason or ""))
    approval = enterprises.approve(enterprise, ctx, window)
    form = records.registration_form(reader, enterprise)
    assert form is not None  # approval needs all four filings
    holder_ids = records.form_holder_ids(reader, enterprise.id, form)
    holders = holders_from_form(ctx, enterprise.evolve(approval), form, holder_ids)
    return Decision.of(enterprise.id, [*approval, *holders])


def change_enterprise_info(
    reader: Reader,
    ctx: CommandContext,
    uscc: str,
    change: EnterpriseChange,
    *,
    authorising_card_no: str | None,
) -> Decision:
    """Change name, address or legal representative with the legal-person key (变更)."""
    enterprise = records.enterprise(reader, uscc)
    key = records.authorising_key(reader, authorising_card_no)
    if isinstance(enterprise.legal_representative, Sealed):  # compared with the change
        current: str = reader.reveal(
            enterprise.legal_representative, str, "the legal representative", "change"
        )
        enterprise = enterprise.model_copy(update={"legal_representative": current})
    return Decision.of(enterprise.id, enterprises.change_info(enterprise, ctx, change, key))
