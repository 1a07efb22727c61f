"""Keys (UKEY): issue, EMS mailing and delivery, PIN, renewal, loss, freeze, void, replacement."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Response

from api.http.command_requests import CommandDep, CreationDep, own_key
from api.http.deps import (
    LedgerDep,
    ProcessActor,
    ServicesDep,
    WindowActor,
    check_enterprise,
)
from api.http.errors import PROBLEMS, ProblemError
from api.http.routes.key_lookup import CardPath
from api.http.routing import PrefixRouter
from api.http.schemas.common import CommandAnswer, FreePairAnswer, RenewalApplicationAnswer
from api.http.schemas.keys import (
    Incident,
    IssueFreePair,
    IssueKey,
    MailKey,
    PinAttempt,
    Renew,
    Replace,
    Void,
)
from domain.base import Role
from domain.ukey.events import ApplicationId

router = PrefixRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEMS)

ApplicationPath = Annotated[
    ApplicationId,
    Path(description="the renewal application's id", examples=["8800004601000001-R1"]),
]


# Routes are tried in order on every request: the PIN attempt (every login) comes first, right
# after the key queries (key_lookup.py, included before this router).


@router.post("/{card_no}/pin-attempts", response_model=CommandAnswer)
async def record_pin_attempt(
    card_no: CardPath,
    body: PinAttempt,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """Record a PIN attempt; the fifth consecutive wrong PIN locks the key."""
    # On the event loop: every login makes one, and a worker thread's hop costs more than the
    # append (docs/performance.md); anything that needs a read still runs in a thread.
    pool = command.services.async_pool
    return await command.on_key_async(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.record_pin_attempt_async(
            pool, ctx, card_no, ok=body.ok, **options
        ),
    )


@router.post(
    "",
    status_code=201,
    response_model=FreePairAnswer | CommandAnswer,
    responses={201: {"description": "the free pair (FreePairAnswer) or the bought key"}},
)
def issue_key(
    body: Annotated[IssueKey, Body()],
    principal: ProcessActor,
    command: CreationDep,
    ledger: LedgerDep,
) -> Response:
    """Issue the free pair after approval (window), or record a key bought from a supplier."""
    check_enterprise(principal, body.uscc)
    if isinstance(body, IssueFreePair):
        if principal.role is not Role.WINDOW:
            raise ProblemError(403, "role_not_allowed", "the free pair is issued by the window")
        return command.run(
            principal,
            body,
            lambda ctx, claim: ledger.issue_free_pair(
                ctx,
                body.uscc,
                legal_person_card_no=body.legal_person_card_no,
                operator_card_no=body.operator_card_no,
                legal_person_media=body.legal_person_media,
                legal_person_certificate_number=body.legal_person_certificate_number,
                operator_certificate_number=body.operator_certificate_number,
                idempotency=claim,
            ),
            location=f"/v1/keys/{body.legal_person_card_no}",
        )
    return command.run(
        principal,
        body,
        lambda ctx, claim: ledger.issue_bought_key(
            ctx,
            body.uscc,
            card_no=body.card_no,
            holder_id=body.holder_id,
            supplier=body.supplier,
            product=body.product,
            certificate_number=body.certificate_number,
            idempotency=claim,
        ),
        location=f"/v1/keys/{body.card_no}",
    )


@router.post("/{card_no}/mailing", response_model=CommandAnswer)
def mail_key(
    card_no: CardPath,
    body: MailKey,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """Hand a free key to EMS with the completed handover form (快递交接单)."""
    details = body.details()
    return command.on_key(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.mail_key(ctx, card_no, details, **options),
    )


@router.post("/{card_no}/delivery", response_model=CommandAnswer)
def deliver_key(card_no: CardPath, principal: ProcessActor, command: CommandDep) -> Response:
    """Record that EMS delivered the key."""
    return command.on_key(
        principal,
        None,
        card_no,
        lambda ledger, ctx, options: ledger.deliver_key(ctx, card_no, **options),
    )


@router.post("/{card_no}/pin-change", response_model=CommandAnswer)
def change_pin(card_no: CardPath, principal: ProcessActor, command: CommandDep) -> Response:
    """Record that the holder changed the initial PIN (88888888)."""
    return command.on_key(
        principal,
        None,
        card_no,
        lambda ledger, ctx, options: ledger.change_pin(ctx, card_no, **options),
    )


@router.post("/{card_no}/unlock", response_model=CommandAnswer)
def unlock_key(card_no: CardPath, principal: WindowActor, command: CommandDep) -> Response:
    """Unlock a locked key at the card window (解锁); the PIN is the initial one again."""
    return command.on_key(
        principal,
        None,
        card_no,
        lambda ledger, ctx, options: ledger.unlock_key(ctx, card_no, **options),
    )


@router.post(
    "/{card_no}/renewal-applications", status_code=201, response_model=RenewalApplicationAnswer
)
def request_renewal(card_no: CardPath, principal: ProcessActor, command: CommandDep) -> Response:
    """Apply online for a certificate renewal (证书更新); the answer names the application."""
    return command.on_key(
        principal,
        None,
        card_no,
        lambda ledger, ctx, options: ledger.request_renewal(ctx, card_no, **options),
        location=lambda answer: (
            f"/v1/keys/{card_no}/renewal-applications/{answer.get('application_id', '')}"
        ),
    )


@router.post(
    "/{card_no}/renewal-applications/{application_id}/pre-approval", response_model=CommandAnswer
)
def pre_approve_renewal(
    card_no: CardPath,
    application_id: ApplicationPath,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """The window pre-approves a renewal application (预审)."""
    return command.on_key(
        principal,
        None,
        card_no,
        lambda ledger, ctx, options: ledger.pre_approve_renewal(
            ctx, card_no, application_id, **options
        ),
    )


@router.post("/{card_no}/renewal", response_model=CommandAnswer)
def renew_key(
    card_no: CardPath, body: Renew, principal: WindowActor, command: CommandDep
) -> Response:
    """Renew in person with the four documents: ten more years, PIN initial again."""
    return command.on_key(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.renew_key(
            ctx,
            card_no,
            application_id=body.application_id,
            documents=body.documents,
            certificate_number=body.certificate_number,
            **options,
        ),
    )


@router.post("/{card_no}/loss-report", response_model=CommandAnswer)
def report_key_lost(
    card_no: CardPath,
    body: Incident,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """Report the key lost (挂失); it becomes unusable."""
    return command.on_key(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.report_key_lost(
            ctx, card_no, reason=body.reason, **options
        ),
    )


@router.post("/{card_no}/freeze", response_model=CommandAnswer)
def freeze_key(
    card_no: CardPath,
    body: Incident,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """Freeze the key for false information or impersonation (冻结)."""
    return command.on_key(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.freeze_key(ctx, card_no, reason=body.reason, **options),
    )


@router.post("/{card_no}/void", response_model=CommandAnswer)
def void_key(
    card_no: CardPath, body: Void, principal: ProcessActor, command: CommandDep
) -> Response:
    """Void the key (作废), optionally erasing its holder's personal data from the views."""
    return command.on_key(
        principal,
        body,
        card_no,
        lambda ledger, ctx, options: ledger.void_key(
            ctx,
            card_no,
            reason=body.reason,
            erase_personal_data=body.erase_personal_data,
            **options,
        ),
    )


@router.post("/{card_no}/replacement", status_code=201, response_model=CommandAnswer)
def replace_key(
    card_no: CardPath,
    body: Replace,
    principal: ProcessActor,
    services: ServicesDep,
    command: CreationDep,
) -> Response:
    """Replace a lost, frozen or faulty key with a bought one (补办); the answer is the new key."""
    own_key(services, principal, card_no)
    ledger = services.ledger
    return command.run(
        principal,
        body,
        lambda ctx, claim: ledger.replace_key(
            ctx,
            card_no,
            new_card_no=body.new_card_no,
            reason=body.reason,
            supplier=body.supplier,
            product=body.product,
            certificate_number=body.certificate_number,
            idempotency=claim,
        ),
        location=f"/v1/keys/{body.new_card_no}",
    )
