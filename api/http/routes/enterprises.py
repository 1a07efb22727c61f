"""Enrollment (入网备案): registration, the four filings, window review, card holders, changes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import Body, Path, Query, Response
from pydantic import BaseModel

from api.http.command_requests import CommandDep, CreationDep
from api.http.deps import (
    MinPosition,
    ProcessActor,
    Reader,
    ServicesDep,
    WindowActor,
    check_enterprise,
)
from api.http.errors import PROBLEMS, ProblemError
from api.http.paging import Limit, cursor, first
from api.http.routing import PrefixRouter
from api.http.schemas import examples
from api.http.schemas.common import CommandAnswer, FreePairAnswer
from api.http.schemas.enterprises import (
    CardHolder,
    ChangeEnterprise,
    RegisterEnterprise,
    RegisterOperator,
    Review,
    SetPermissions,
)
from api.http.schemas.keys import MailKey
from api.http.schemas.queries import EnterprisePage
from domain import filings
from domain.base import NotFoundError, Role
from domain.enterprise.state import ReviewState
from domain.filings import Filing, FilingKind
from domain.forms import KeyKind, Text
from domain.identifiers import Uscc
from ledger_store.application import deciders
from projections.engine.freshness import Freshness
from projections.engine.query import ViewSource
from projections.enterprise_overview import queries as overview_queries
from projections.enterprise_overview.queries import EnterpriseOverview

router = PrefixRouter(prefix="/v1/enterprises", tags=["enterprises"], responses=PROBLEMS)

UsccPath = Annotated[Uscc, Path(description="统一社会信用代码", examples=[examples.USCC])]


@router.post(
    "", status_code=201, response_model=CommandAnswer, summary="Register an enterprise · 企业注册"
)
async def register_enterprise(
    body: RegisterEnterprise,
    principal: ProcessActor,
    command: CreationDep,
) -> Response:
    """Register an enterprise that holds its customs registration receipt."""
    check_enterprise(principal, body.uscc)
    result = await command.execute(
        principal, body, deciders.register_enterprise, **body.decider_arguments()
    )
    return command.answer(result, f"/v1/enterprises/{body.uscc}")


@dataclass(frozen=True, slots=True)
class FilingRoute:
    """One of the four filing routes: they differ only in these."""

    kind: FilingKind
    body: type[BaseModel]
    summary: str
    description: str


FILING_ROUTES: Final = (
    FilingRoute(
        FilingKind.THREE_IN_ONE,
        filings.ThreeInOneFiling,
        "File the three-in-one data · 三证合一信息管理",
        "三证合一信息管理: business-registration data with the two uploaded forms.",
    ),
    FilingRoute(
        FilingKind.CUSTOMS,
        filings.CustomsFiling,
        "File the customs registration · 企业海关备案申请",
        "企业海关备案申请: the customs registration.",
    ),
    FilingRoute(
        FilingKind.FOREX,
        filings.ForexFiling,
        "File the foreign-exchange registration · 企业外汇备案申请",
        "企业外汇备案申请: the foreign-exchange filing.",
    ),
    FilingRoute(
        FilingKind.OPERATOR_PREENTRY,
        filings.OperatorPreentryFiling,
        "Pre-enter the operators · 企业操作员预录入",
        "企业操作员预录入: the operators to be enrolled.",
    ),
)


def _add_filing_route(filing: FilingRoute) -> None:
    """`POST /{uscc}/filings/{kind}`, operation `submit_{kind}`: that filing's body and example."""
    kind = filing.kind.value

    async def submit(
        uscc: UsccPath, body: Filing, principal: ProcessActor, command: CommandDep
    ) -> Response:
        check_enterprise(principal, uscc)
        return command.answer(
            await command.execute(principal, body, deciders.submit_filing, uscc, body)
        )

    # FastAPI reads the body's model and example from the parameter's annotation.
    example = Body(openapi_examples={kind: {"value": examples.FILINGS[kind]}})
    submit.__annotations__["body"] = Annotated[filing.body, example]
    router.add_api_route(
        f"/{{uscc}}/filings/{kind}",
        submit,
        methods=["POST"],
        response_model=CommandAnswer,
        summary=filing.summary,
        description=filing.description,
        name=f"submit_{kind}",
    )


for _filing in FILING_ROUTES:
    _add_filing_route(_filing)


@router.post(
    "/{uscc}/filings/{kind}",
    response_model=CommandAnswer,
    include_in_schema=False,
    summary="Refuse an unknown filing kind · 拒绝未知的备案类型",
)
def submit_unknown_filing(uscc: UsccPath, kind: str, principal: ProcessActor) -> dict[str, Any]:
    """Any other kind is not one of the four filings."""
    known = ", ".join(kind.value for kind in FilingKind)
    raise ProblemError(
        422, "unknown_filing_kind", f"{kind!r} is not a filing; use {known}", field="path.kind"
    )


@router.post(
    "/{uscc}/review",
    response_model=CommandAnswer,
    summary="Approve or reject the filings · 窗口审核",
)
async def review_filings(
    uscc: UsccPath,
    body: Annotated[Review, Body()],
    principal: WindowActor,
    command: CommandDep,
) -> Response:
    """The window approves the four filings, or rejects them with a reason."""
    result = await command.execute(
        principal,
        body,
        deciders.review,
        uscc,
        approve=body.decision == "approve",
        window=body.window or command.services.ledger.region.window_name,
        reason=getattr(body, "reason", None),
    )
    return command.answer(result)


@router.patch(
    "/{uscc}",
    response_model=CommandAnswer,
    summary="Change the enterprise's information · 企业信息变更",
)
async def change_enterprise(
    uscc: UsccPath,
    body: ChangeEnterprise,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """Change name, business address or legal representative with the legal-person key (变更)."""
    check_enterprise(principal, uscc)
    result = await command.execute(
        principal,
        body,
        deciders.change_enterprise_info,
        uscc,
        body.change(),
        authorising_card_no=body.authorising_card_no,
    )
    return command.answer(result)


@router.post(
    "/{uscc}/operators",
    status_code=201,
    response_model=CommandAnswer,
    summary="Add a card holder · 新增持卡人",
)
async def register_card_holder(
    uscc: UsccPath,
    body: Annotated[CardHolder, Body()],
    principal: ProcessActor,
    command: CreationDep,
) -> Response:
    """Add a card holder to an approved enterprise, authorised by its legal-person key."""
    check_enterprise(principal, uscc)
    operator = body if isinstance(body, RegisterOperator) else None
    result = await command.execute(
        principal,
        body,
        deciders.register_card_holder,
        uscc,
        holder=body.holder,
        holder_kind=KeyKind.OPERATOR if operator else KeyKind.LEGAL_PERSON,
        customs_declarer=operator.customs_declarer if operator else None,
        verification_officer=operator.verification_officer if operator else None,
        authorising_card_no=body.authorising_card_no,
    )
    return command.answer(result, f"/v1/enterprises/{uscc}/operators/{result.id}")


@router.put(
    "/{uscc}/operators/{operator_id}/permissions",
    response_model=CommandAnswer,
    summary="Set an operator's permissions · 业务授权",
)
async def set_permissions(
    uscc: UsccPath,
    operator_id: UUID,
    body: SetPermissions,
    principal: ProcessActor,
    command: CommandDep,
) -> Response:
    """The operator's permissions become exactly these (业务授权), by the legal-person key."""
    check_enterprise(principal, uscc)
    result = await command.execute(
        principal,
        body,
        deciders.set_permissions,
        uscc,
        operator_id,
        body.permissions,
        authorising_card_no=body.authorising_card_no,
    )
    return command.answer(result)


@router.post(
    "/{uscc}/free-pair/mailing",
    response_model=FreePairAnswer,
    summary="Mail the free pair in one parcel · 邮寄免费UKEY",
)
async def mail_free_pair(
    uscc: UsccPath,
    body: MailKey,
    principal: WindowActor,
    command: CreationDep,
) -> Response:
    """Hand the free pair to EMS in one parcel with the completed handover form (附件3: 1式3份,
    one EMS tracking number, the enterprise's own legal-person and operator cards). The answer
    is the legal-person key's version, with both card numbers."""
    result = await command.execute(principal, body, deciders.mail_free_pair, uscc, body.details())
    return command.answer(result)


@router.get(
    "", response_model=EnterprisePage, summary="Find enterprises by name or review state · 查询企业"
)
def find_enterprises(
    principal: Reader,
    services: ServicesDep,
    min_position: MinPosition,
    name: Annotated[
        Text | None, Query(description="a part of the enterprise's current name (企业名称)")
    ] = None,
    review_state: Annotated[ReviewState | None, Query(description="where it stands")] = None,
    after: Annotated[Uscc | None, cursor("a USCC")] = None,
    limit: Limit = 100,
) -> EnterprisePage:
    """Enterprises by a part of their name and/or review state, in USCC order, a page at a time
    (an enterprise finds only itself). No personal data: the overview has the rest."""
    items = overview_queries.find_enterprises(
        services.ledger.database,
        name=name,
        uscc=principal.uscc if principal.role is Role.ENTERPRISE else None,
        review_state=None if review_state is None else review_state.value,
        after_uscc=after,
        limit=limit + 1,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    return EnterprisePage(**first(items, limit, lambda item: item.uscc))


@router.get(
    "/{uscc}",
    response_model=EnterpriseOverview,
    summary="Look up one enterprise's enrollment · 查询企业入网情况",
)
def get_enterprise(
    uscc: UsccPath,
    principal: Reader,
    services: ServicesDep,
    min_position: MinPosition,
) -> EnterpriseOverview:
    """The enrollment: the four filings, the review, the keys and the card holders."""
    check_enterprise(principal, uscc)
    overview = overview_queries.get_enterprise(
        ViewSource(
            services.ledger.database, services.ledger.vault, mask=principal.role is Role.HOTLINE
        ),
        uscc,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    if overview is None:
        raise NotFoundError("not_found", f"enterprise {uscc} does not exist")
    return overview
