"""Keys (UKEY): issue, EMS mailing and delivery, PIN, renewal, loss, freeze, void, replacement."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path, Response

from api.http.command_requests import CommandDep, CreationDep, own_key
from api.http.deps import ProcessActor, WindowActor, check_enterprise
from api.http.errors import PROBLEMS, ProblemError
from api.http.routes.key_lookup import CardPath
from api.http.routing import PrefixRouter
from api.http.schemas.common import CommandAnswer, FreePairAnswer, RenewalApplicationAnswer
from api.http.schemas.keys import (
    Delivery,
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
from ledger_store.application import deciders

router = PrefixRouter(prefix="/v1/keys", tags=["keys"], responses=PROBLEMS)

ApplicationPath = Annotated[
    ApplicationId,
    Path(description="the renewal application's id", examples=["8800004601000001-R1"]),
]


# Routes are tried in order on every request: the PIN attempt (every login) comes first, right
# after the key queries (key_lookup.py, included before this router).


@router.post(
    "/{card_no}/pin-attempts",
    response_model=CommandAnswer,
    summary="Record a PIN attempt · 记录PIN码验证",
)
async def record_pin_attempt(
    card_no: CardPath,
    body: PinAttempt,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """Record a PIN attempt; the fifth consecutive wrong PIN locks the key."""
    await own_key(command.services, principal, card_no)
    result = await command.execute(
        principal, body, deciders.record_pin_attempt, card_no, ok=body.ok
    )
    return command.answer(result)


@router.post(
    "",
    status_code=201,
    response_model=FreePairAnswer | CommandAnswer,
    responses={201: {"description": "the free pair (FreePairAnswer) or the bought key"}},
    summary="Issue the free pair or record a bought key · 发放UKEY",
)
async def issue_key(
    body: Annotated[IssueKey, Body()],
    principal: ProcessActor,
    command: CreationDep,
) -> Response:
    """Issue the free pair after approval (window), or record a key bought from a supplier."""
    check_enterprise(principal, body.uscc)
    if isinstance(body, IssueFreePair):
        if principal.role is not Role.WINDOW:
            raise ProblemError(403, "role_not_allowed", "the free pair is issued by the window")
        result = await command.execute(
            principal, body, deciders.issue_free_pair, body.uscc, **body.decider_arguments()
        )
        return command.answer(result, f"/v1/keys/{body.legal_person_card_no}")
    result = await command.execute(
        principal, body, deciders.issue_bought_key, body.uscc, **body.decider_arguments()
    )
    return command.answer(result, f"/v1/keys/{body.card_no}")


@router.post(
    "/{card_no}/mailing",
    response_model=FreePairAnswer,
    deprecated=True,
    summary="Mail a key (deprecated) · 邮寄UKEY（已弃用）",
)
async def mail_key(
    card_no: CardPath,
    body: MailKey,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """Deprecated: use `POST /v1/enterprises/{uscc}/free-pair/mailing`. The parcel holds both
    free keys (附件3), so this mails the whole pair when the form lists this key; the answer is
    this key's."""
    result = await command.execute(principal, body, deciders.mail_key, card_no, body.details())
    response = command.answer(result)
    response.headers["Deprecation"] = "true"
    return response


@router.post(
    "/{card_no}/delivery",
    response_model=CommandAnswer,
    summary="Record a key's delivery · 记录UKEY签收",
)
async def deliver_key(
    card_no: CardPath,
    principal: ProcessActor,
    command: CommandDep,
    body: Annotated[Delivery | None, Body()] = None,
) -> Response:
    """Record that a free key reached its holder: its EMS parcel arrived (the default), or the
    window handed it over in person (`"channel": "window"`). Only then is it used."""
    await own_key(command.services, principal, card_no)
    channel = (body or Delivery()).channel
    result = await command.execute(principal, body, deciders.deliver_key, card_no, channel)
    return command.answer(result)


@router.post(
    "/{card_no}/pin-change",
    response_model=CommandAnswer,
    summary="Record a PIN change · 记录修改初始密码",
)
async def change_pin(card_no: CardPath, principal: ProcessActor, command: CommandDep) -> Response:
    """Record that the holder changed the initial PIN (88888888)."""
    await own_key(command.services, principal, card_no)
    return command.answer(await command.execute(principal, None, deciders.change_pin, card_no))


@router.post("/{card_no}/unlock", response_model=CommandAnswer, summary="Unlock a key · 解锁UKEY")
async def unlock_key(card_no: CardPath, principal: WindowActor, command: CommandDep) -> Response:
    """Unlock a locked key at the card window (解锁); the PIN is the initial one again."""
    return command.answer(await command.execute(principal, None, deciders.unlock_key, card_no))


@router.post(
    "/{card_no}/renewal-applications",
    status_code=201,
    response_model=RenewalApplicationAnswer,
    summary="Apply for a certificate renewal · 申请证书更新",
)
async def request_renewal(
    card_no: CardPath, principal: ProcessActor, command: CommandDep
) -> Response:
    """Apply online for a certificate renewal (证书更新); the answer names the application."""
    await own_key(command.services, principal, card_no)
    result = await command.execute(principal, None, deciders.request_renewal, card_no)
    application = result.extra.get("application_id", "")
    return command.answer(result, f"/v1/keys/{card_no}/renewal-applications/{application}")


@router.post(
    "/{card_no}/renewal-applications/{application_id}/pre-approval",
    response_model=CommandAnswer,
    summary="Pre-approve a renewal · 证书更新预审",
)
async def pre_approve_renewal(
    card_no: CardPath,
    application_id: ApplicationPath,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """The window pre-approves a renewal application (预审)."""
    result = await command.execute(
        principal, None, deciders.pre_approve_renewal, card_no, application_id
    )
    return command.answer(result)


@router.post(
    "/{card_no}/renewal",
    response_model=CommandAnswer,
    summary="Renew a key's certificate · 证书更新",
)
async def renew_key(
    card_no: CardPath, body: Renew, principal: WindowActor, command: CommandDep
) -> Response:
    """Renew in person with the four documents: ten more years, PIN initial again."""
    result = await command.execute(
        principal, body, deciders.renew_key, card_no, **body.decider_arguments()
    )
    return command.answer(result)


@router.post(
    "/{card_no}/loss-report", response_model=CommandAnswer, summary="Report a key lost · 挂失UKEY"
)
async def report_key_lost(
    card_no: CardPath,
    body: Incident,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """Report the key lost (挂失); it becomes unusable."""
    await own_key(command.services, principal, card_no)
    result = await command.execute(
        principal, body, deciders.report_key_lost, card_no, reason=body.reason
    )
    return command.answer(result)


@router.post("/{card_no}/freeze", response_model=CommandAnswer, summary="Freeze a key · 冻结UKEY")
async def freeze_key(
    card_no: CardPath,
    body: Incident,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """Freeze the key for false information or impersonation (冻结)."""
    result = await command.execute(
        principal, body, deciders.freeze_key, card_no, reason=body.reason
    )
    return command.answer(result)


@router.post(
    "/{card_no}/unfreeze", response_model=CommandAnswer, summary="Lift a freeze · 解冻UKEY"
)
async def unfreeze_key(
    card_no: CardPath,
    body: Incident,
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """Lift a freeze (解冻), giving the reason; the key is as it was before the freeze."""
    result = await command.execute(
        principal, body, deciders.unfreeze_key, card_no, reason=body.reason
    )
    return command.answer(result)


@router.post("/{card_no}/void", response_model=CommandAnswer, summary="Void a key · 作废UKEY")
async def void_key(
    card_no: CardPath, body: Void, principal: ProcessActor, command: CommandDep
) -> Response:
    """Void the key (作废), optionally erasing its holder's personal data from the views."""
    await own_key(command.services, principal, card_no)
    result = await command.execute(
        principal, body, deciders.void_key, card_no, **body.decider_arguments()
    )
    return command.answer(result)


@router.post(
    "/{card_no}/replacement",
    status_code=201,
    response_model=CommandAnswer,
    summary="Replace a key with a bought one · 补办UKEY",
)
async def replace_key(
    card_no: CardPath,
    body: Replace,
    principal: ProcessActor,
    command: CreationDep,
) -> Response:
    """Replace a lost, frozen or faulty key with a bought one (补办); the answer is the new key."""
    await own_key(command.services, principal, card_no)
    result = await command.execute(
        principal, body, deciders.replace_key, card_no, **body.decider_arguments()
    )
    return command.answer(result, f"/v1/keys/{body.new_card_no}")
