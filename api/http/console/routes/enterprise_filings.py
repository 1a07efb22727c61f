"""The enterprise's forms for the four filings (四项备案): each laid out as its paper form, filled
in with what the ledger knows, submitted through the API's command path as the signed-in
enterprise (`deciders.submit_filing`, which seals the people's data it names)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.console import web
from api.http.console.filing_forms import (
    FORM,
    LISTS,
    Values,
    filing_from,
    flat,
    operator_count,
    starting_values,
    typed,
)
from domain.base import NotFoundError
from domain.filings import FILING_KIND_LABELS, FilingKind
from domain.forms import ID_TYPE_LABELS, MEDIA_LABELS, Authority
from ledger_store.application import deciders

router = web.screens("/ui/enterprise/filings")

CHOICES = {
    "id_types": web.by_value(ID_TYPE_LABELS),
    "media": web.by_value(MEDIA_LABELS),
    "genders": {"male": "男", "female": "女"},
    "customs_permissions": web.permission_labels(Authority.CUSTOMS),
    "forex_permissions": web.permission_labels(Authority.FOREX),
}


def _kind(kind: str) -> FilingKind | None:
    return FilingKind(kind) if kind in FilingKind.__members__.values() else None


def _current(request: Request, uscc: str, kind: FilingKind) -> Values | None:
    """The form as the enterprise last filed it (its own people's data revealed for it), or as
    the ledger would start it; None when the enterprise is not registered or is approved."""
    ledger = web.services_of(request).ledger
    try:
        enterprise = ledger.revealed_enterprise(uscc)
    except NotFoundError:
        return None
    if enterprise.is_approved:
        return None
    filed = enterprise.filings.get(kind)
    if filed is not None:
        values = flat(filed.model_dump(mode="json"))
        phones = [name for name in values if name.endswith(("phone", "fax"))]
        return {**values, **{name: web.national_phone(values[name]) for name in phones}}
    return starting_values(
        kind,
        enterprise.name,
        enterprise.customs_code,
        enterprise.receipt_number,
        ledger.region,
        date.today(),
    )


def _page(
    request: Request,
    staff: web.Staff,
    kind: FilingKind,
    values: Values,
    operators: int = 1,
    refused: web.Refusal | None = None,
) -> Response:
    context: dict[str, Any] = {
        "kind": kind.value,
        "title": FILING_KIND_LABELS[kind],
        "v": values,
        "errors": refused.fields if refused else {},
        "message": refused.message if refused else None,
        "operators": operators,
        "choices": CHOICES,
        "form": FORM,
        "lists": LISTS,
        "key": web.form_key(),
    }
    status = 422 if refused else 200
    return web.render(request, "enterprise_filing.html", context, staff=staff, status=status)


@router.get("/{kind}")
async def filing_form(request: Request, kind: str, staff: web.EnterpriseStaff) -> Response:
    """One filing's form, filled in as last filed (to correct and resubmit) or as new."""
    found = _kind(kind)
    uscc = staff.account.uscc or ""
    values = None if found is None else await run_in_threadpool(_current, request, uscc, found)
    if found is None or values is None:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    return _page(request, staff, found, values, operator_count(None, values))


@router.post("/{kind}")
async def submit_filing(request: Request, kind: str, staff: web.EnterpriseStaff) -> Response:
    """Submit (or resubmit) the filing for the signed-in enterprise, and only for it; “add an
    operator” shows the form again with one more block and records nothing."""
    form = await web.posted(request, staff)
    found = _kind(kind)
    if found is None:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    values = typed(form)
    operators = operator_count(form, values)
    if form.get("add") == "operator":
        return _page(request, staff, found, values, operators)
    try:
        filing = filing_from(found, values)
        uscc = staff.account.uscc or ""
        result = await web.execute(request, staff, deciders.submit_filing, uscc, filing)
    except web.REFUSED as error:
        refused = web.refusal(error, web.lang_of(request))
        return _page(request, staff, found, values, operators, refused)
    return web.redirect(f"/ui/enterprise?at={result.position}&done=filing")
