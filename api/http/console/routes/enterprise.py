"""The enterprise's own page (企业): its enrollment, filings, keys and their status, and the key
business it does itself (delivery, renewal application, loss report); and the admin's page."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.command_requests import check_key_owner
from api.http.console import web
from api.http.console.key_card import advise
from api.http.errors import ProblemError
from api.http.schemas.keys import Incident
from domain.filings import FILING_KIND_LABELS
from ledger_store.application import deciders
from projections.engine.freshness import Freshness
from projections.engine.query import ViewSource
from projections.enterprise_overview.queries import get_enterprise

router = web.screens("/ui")
ACTIONS = ("delivery", "renewal_request", "loss")


async def _page(
    request: Request, staff: web.Staff, message: str | None = None, status: int = 200
) -> Response:
    services = web.services_of(request)
    at = request.query_params.get("at", "")
    overview = await run_in_threadpool(
        lambda: get_enterprise(
            ViewSource(services.ledger.database, services.ledger.vault, mask=False),
            staff.account.uscc or "",
            fresh=Freshness(
                int(at) if at.isdigit() and len(at) < 19 else None,
                services.api.query_wait_seconds,
            ),
        )
    )
    return web.render(
        request,
        "enterprise.html",
        {
            "e": overview,
            "cards": [] if overview is None else [(k, advise(k)) for k in overview.keys],
            "filing_labels": {k.value: v for k, v in FILING_KIND_LABELS.items()},
            "message": message,
            "key": web.form_key(),
        },
        staff=staff,
        status=status,
    )


@router.get("/enterprise")
async def own_enterprise(request: Request, staff: web.EnterpriseStaff) -> Response:
    """The enterprise's enrollment, filings and keys."""
    return await _page(request, staff)


@router.post("/enterprise/keys/{card_no}/{action}")
async def key_action(
    request: Request, card_no: str, action: str, staff: web.EnterpriseStaff
) -> Response:
    """Record a delivery, apply for a renewal or report a key lost (own keys only)."""
    form = await web.posted(request, staff)
    card_no = card_no.upper()
    services = web.services_of(request)
    if action not in ACTIONS:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    try:
        owner = await run_in_threadpool(services.key_owner, card_no)
        try:
            check_key_owner(staff.principal, card_no, owner)
        except ProblemError:  # another enterprise's key
            raise web.ForbiddenError() from None
        if action == "delivery":
            result = await web.execute(request, staff, deciders.deliver_key, card_no)
        elif action == "renewal_request":
            result = await web.execute(request, staff, deciders.request_renewal, card_no)
        else:
            reason = Incident(reason=web.fields(form, "reason")["reason"]).reason
            result = await web.execute(
                request, staff, deciders.report_key_lost, card_no, reason=reason
            )
    except web.REFUSED as error:
        return await _page(request, staff, web.refusal(error, web.lang_of(request)).message, 422)
    return web.redirect(f"/ui/enterprise?at={result.position}&done={action}")


@router.get("/admin")
async def admin(request: Request, staff: web.AdminStaff) -> Response:
    """The staff accounts (managed with `eport-ledger staff`)."""
    accounts = await run_in_threadpool(web.console_of(request).staff.accounts)
    return web.render(request, "admin.html", {"accounts": accounts}, staff=staff)
