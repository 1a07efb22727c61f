"""Bearer tokens: the admin issues, lists and revokes them (the CLI can issue them too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Request, Response

from api.http.auth import TokenError, TokenRecord
from api.http.deps import Admin, ServicesDep
from api.http.errors import PROBLEMS, ProblemError
from api.http.routing import PrefixRouter
from api.http.schemas.tokens import CreateToken, NewToken, TokenInfo, TokenList

router = PrefixRouter(prefix="/v1/tokens", tags=["tokens"], responses=PROBLEMS)


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


@router.post("", status_code=201, response_model=NewToken)
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


@router.get("", response_model=TokenList)
def list_tokens(admin: Admin, services: ServicesDep) -> dict[str, Any]:
    """Every token issued, without secrets."""
    return {"items": [_info(record) for record in services.tokens.records()]}


@router.delete("/{token_id}", status_code=204, response_class=Response)
def revoke_token(
    token_id: Annotated[str, Path(max_length=40, pattern=r"^tok_[0-9a-f]{12}$")],
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
