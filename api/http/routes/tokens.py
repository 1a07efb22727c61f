"""Bearer tokens: the admin issues, lists and revokes them (the CLI can issue them too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response
from pydantic import StringConstraints

from api.http.auth import TokenError, TokenRecord
from api.http.deps import Admin, ServicesDep
from api.http.errors import PROBLEMS, ProblemError
from api.http.paging import Limit, cursor, first
from api.http.routing import PrefixRouter
from api.http.schemas.tokens import CreateToken, NewToken, TokenInfo, TokenList

router = PrefixRouter(prefix="/v1/tokens", tags=["tokens"], responses=PROBLEMS)

TokenId = Annotated[str, StringConstraints(max_length=40, pattern=r"^tok_[0-9a-f]{12}$")]


def _info(record: TokenRecord) -> dict[str, Any]:
    return {
        "token_id": record.token_id,
        "principal": record.principal_id,
        "role": record.role.value,
        "enterprise": record.uscc,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }


def _request_id(request: Request) -> str | None:
    request_id: str | None = request.scope.get("state", {}).get("request_id")
    return request_id


@router.post("", status_code=201, response_model=NewToken, summary="Issue a token · 签发令牌")
def create_token(
    body: CreateToken, admin: Admin, services: ServicesDep, request: Request
) -> dict[str, Any]:
    """Issue a token; its secret is in this answer only (the ledger keeps its hash and records
    the grant)."""
    try:
        issued = services.tokens.issue(
            body.role,
            uscc=body.enterprise,
            name=body.name,
            expires_at=body.expires_at,
            by=admin.actor,
            request_id=_request_id(request),
        )
    except TokenError as error:
        raise ProblemError(422, "invalid_token_request", str(error), field=error.field) from None
    return {**_info(issued.record), "token": issued.token}


@router.get("", response_model=TokenList, summary="List the tokens · 令牌列表")
def list_tokens(
    admin: Admin,
    services: ServicesDep,
    after: Annotated[TokenId | None, cursor("a token id")] = None,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Every token issued, oldest first, without secrets."""
    records = [_info(record) for record in services.tokens.records()]
    ids = [record["token_id"] for record in records]
    if after is not None and after not in ids:
        raise ProblemError(422, "invalid_request", f"no token {after}", field="query.after")
    start = ids.index(after) + 1 if after is not None else 0
    return first(records[start : start + limit + 1], limit, lambda record: record["token_id"])


@router.delete(
    "/{token_id}", status_code=204, response_class=Response, summary="Revoke a token · 撤销令牌"
)
def revoke_token(
    token_id: Annotated[TokenId, Path()],
    admin: Admin,
    services: ServicesDep,
    request: Request,
) -> Response:
    """Revoke a token (recorded in the ledger): it stops working at once here, within the
    cache time elsewhere."""
    record = services.tokens.revoke(token_id, by=admin.actor, request_id=_request_id(request))
    if record is None:
        raise ProblemError(404, "not_found", f"no token {token_id}", field="path.token_id")
    services.token_cache.forget(token_id)
    return Response(status_code=204)


__all__ = ["TokenInfo", "router"]
