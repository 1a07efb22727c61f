"""Personal data (个人信息): erasure on request (删除权, PIPL Art. 47) by the window or admin."""

from __future__ import annotations

from fastapi import Response

from api.http.command_requests import CreationDep
from api.http.deps import Eraser
from api.http.errors import PROBLEMS
from api.http.routing import PrefixRouter
from api.http.schemas.personal_data import EraseRequest, ErasureAnswer
from ledger_store.application import deciders

router = PrefixRouter(prefix="/v1/personal-data", tags=["personal data"], responses=PROBLEMS)


@router.post(
    "/erasures",
    status_code=201,
    response_model=ErasureAnswer,
    summary="Erase a person's personal data · 删除个人信息",
)
async def erase_personal_data(
    body: EraseRequest, principal: Eraser, command: CreationDep
) -> Response:
    """Erase a person: their data keys are destroyed; every proof stays valid (删除权)."""
    result = await command.execute(
        principal,
        body,
        deciders.erase_personal_data,
        reason=body.reason,
        card_holder_id=body.card_holder_id,
        finder=body.finder(),
    )
    return command.answer(result)
