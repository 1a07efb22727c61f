"""The window clerk's screens (窗口): the queue by stage, an enterprise's filings and forms, the
review, the free pair, EMS mailing of the pair in one parcel, and each key's window business.

Every action is the API's: the same request schemas validate the form, the same deciders run
through the same command path (`api.http.command_requests.Command`), as the signed-in person.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.http.command_requests import Command
from api.http.console import web
from api.http.console.key_card import advise
from api.http.schemas.enterprises import Approve, Reject
from api.http.schemas.keys import Incident, IssueFreePair, MailKey, Renew, Replace, Void
from domain.base import DomainError, NotFoundError
from domain.enterprise.state import Enterprise
from domain.filings import FILING_KIND_LABELS
from domain.forms import (
    ID_TYPE_LABELS,
    KEY_KIND_LABELS,
    MEDIA_LABELS,
    RENEWAL_DOCUMENT_LABELS,
    SUPPLIER_LABELS,
    SUPPLIER_PRODUCT_LABELS,
    RenewalDocuments,
)
from domain.identifiers import check_uscc
from domain.ukey.events import DeliveryChannel
from ledger_store.application import deciders
from projections.engine.freshness import Freshness
from projections.engine.query import ViewSource
from projections.enterprise_overview.queries import EnterpriseOverview, get_enterprise
from projections.expiry_calendar.queries import expiring_keys
from projections.key_status.advice import RENEW_WITHIN_DAYS
from projections.key_status.name_search import enterprises_by_name
from projections.key_status.queries import get_key
from projections.key_status.records import KeyRecord
from projections.window_queue.queries import window_queue

router = web.screens("/ui/window")

QUEUE_TABS = (
    "awaiting_review",
    "approved_awaiting_issue",
    "issued_awaiting_mailing",
    "locked_keys",
    "expiring",
    "renewals_awaiting_pre_review",
    "renewals_awaiting_visit",
)
LABELS = {
    "filing_kinds": web.by_value(FILING_KIND_LABELS),
    "id_types": web.by_value(ID_TYPE_LABELS),
    "media": web.by_value(MEDIA_LABELS),
    "key_kinds": web.by_value(KEY_KIND_LABELS),
    "suppliers": web.by_value(SUPPLIER_LABELS),
    "products": web.by_value(SUPPLIER_PRODUCT_LABELS),
    "documents": RENEWAL_DOCUMENT_LABELS,
    "permissions": web.permission_labels(),
}


def _position(request: Request) -> int | None:
    at = request.query_params.get("at", "")
    return int(at) if at.isdigit() and len(at) < 19 else None


@router.get("")
async def queue(request: Request, staff: web.Clerk) -> Response:
    """The window's work by stage (待审核, 待发卡, 待邮寄, 已锁定, 即将到期 …), with counts."""
    services = web.services_of(request)
    database = services.ledger.database
    stage = request.query_params.get("stage") or "awaiting_review"
    stage = stage if stage in QUEUE_TABS else "awaiting_review"

    def read() -> tuple[Counter[str], list[Any], list[Any]]:
        items = window_queue(database, limit=1000, fresh=Freshness(_position(request)))
        expiring = expiring_keys(
            ViewSource(database, services.ledger.vault, mask=False),
            within_days=RENEW_WITHIN_DAYS,
            limit=1000,
        )
        counts = Counter(item.stage for item in items)
        counts["expiring"] = len(expiring)
        shown = expiring if stage == "expiring" else [i for i in items if i.stage == stage]
        return counts, shown, expiring

    counts, shown, _ = await run_in_threadpool(read)
    return web.render(
        request,
        "window_queue.html",
        {"tabs": QUEUE_TABS, "stage": stage, "counts": counts, "items": shown[:200]},
        staff=staff,
    )


@router.get("/find")
async def find(request: Request, staff: web.Clerk) -> Response:
    """Find an enterprise by USCC or (part of) its name."""
    q = (request.query_params.get("q") or "").strip()[:100]
    found: list[tuple[str, str]] = []
    if q:
        try:
            uscc = check_uscc(q)
        except ValueError:
            found = await run_in_threadpool(
                enterprises_by_name, web.services_of(request).ledger.database, q
            )
        else:
            return web.redirect(f"/ui/window/enterprises/{uscc}")
    return web.render(request, "window_find.html", {"q": q, "found": found}, staff=staff)


def _overview(request: Request, uscc: str) -> tuple[EnterpriseOverview, Enterprise]:
    services = web.services_of(request)
    overview = get_enterprise(
        ViewSource(services.ledger.database, services.ledger.vault, mask=False),
        uscc,
        fresh=Freshness(_position(request), services.api.query_wait_seconds),
    )
    if overview is None:
        raise NotFoundError("not_found", f"enterprise {uscc} does not exist")
    return overview, services.ledger.revealed_enterprise(uscc)


def _staff_names(request: Request, principals: list[str | None]) -> dict[str, str]:
    """Staff ids shown with the person's name (names live in the staff table only)."""
    console_staff = request.app.state.console.staff
    names: dict[str, str] = {}
    for principal in principals:
        if principal and principal.startswith("staff:") and principal not in names:
            account = console_staff.by_id(principal)
            if account is not None:
                names[principal] = account.display_name
    return names


@dataclass(frozen=True, slots=True)
class Refused:
    """A form on a page that was refused: which form, why, and what was typed in it."""

    form: str
    refusal: web.Refusal
    typed: dict[str, str] = field(default_factory=dict)

    @staticmethod
    def shown(refused: Refused | None) -> dict[str, Any]:
        """The page's `errors` (by form, by field) and `messages` (by form)."""
        if refused is None:
            return {"errors": {}, "messages": {}}
        return {
            "errors": {refused.form: refused.refusal.fields},
            "messages": {refused.form: refused.refusal.message},
        }

    @staticmethod
    def typed_in(refused: Refused | None, form: str) -> dict[str, str]:
        """What was typed in `form`, to show again (nothing unless it was the one refused)."""
        return refused.typed if refused is not None and refused.form == form else {}


def status_of(refused: Refused | None) -> int:
    """A page is 200, or 422 when it shows a refused form."""
    return 200 if refused is None else 422


async def _enterprise_page(
    request: Request, staff: web.Staff, uscc: str, refused: Refused | None = None
) -> Response:
    try:
        uscc = check_uscc(uscc)
        overview, enterprise = await run_in_threadpool(_overview, request, uscc)
    except (ValueError, NotFoundError):
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    reviewer = enterprise.last_review.reviewer.principal_id if enterprise.last_review else None
    names = await run_in_threadpool(_staff_names, request, [reviewer])
    three = enterprise.filings.get("three_in_one")  # type: ignore[call-overload]
    materials = getattr(three, "materials", None)
    handover = materials.express_handover_form if materials is not None else None
    pair_keys = []
    if overview.free_pair is not None:
        pair_keys = [k for k in overview.keys if k.card_no in overview.free_pair]
    mailable = bool(pair_keys) and all(k.mailing is None for k in pair_keys)
    mail_defaults = {
        "company_name": handover.company_name if handover else overview.name,
        "recipient_address": handover.recipient_address if handover else "",
        "postcode": handover.postcode if handover else "",
        "recipient_name": handover.recipient_name if handover else "",
        "recipient_phone": web.national_phone(handover.recipient_phone) if handover else "",
        "approver_name": staff.account.display_name,
        "date": date.today().isoformat(),
    }
    context = {
        "e": overview,
        "enterprise": enterprise,
        "filings": enterprise.filings,
        "materials": materials,
        "reviewer_name": names.get(reviewer or "", reviewer),
        "labels": LABELS,
        "cards": [(key, advise(key)) for key in overview.keys],
        "pair_keys": pair_keys,
        "mailable": mailable,
        "mail": {**mail_defaults, **Refused.typed_in(refused, "mail")},
        "pair": Refused.typed_in(refused, "pair"),
        **Refused.shown(refused),
        "key": web.form_key(),
        "sending_dept": "海口海关电子口岸",
    }
    return web.render(
        request, "window_enterprise.html", context, staff=staff, status=status_of(refused)
    )


@router.get("/enterprises/{uscc}")
async def enterprise_page(request: Request, uscc: str, staff: web.Clerk) -> Response:
    """An enterprise: the four filings with the forms (附件2, 附件3), the review, the keys."""
    return await _enterprise_page(request, staff, uscc)


@router.post("/enterprises/{uscc}/review")
async def review(request: Request, uscc: str, staff: web.Clerk) -> Response:
    """Approve the four filings, or reject them with a reason."""
    form = await web.posted(request, staff)
    data = web.fields(form, "decision", "reason")
    lang = web.lang_of(request)
    try:
        body: Approve | Reject = (
            Approve(decision="approve")
            if data["decision"] == "approve"
            else Reject(decision="reject", reason=data["reason"])
        )
        result = await web.execute(
            request,
            staff,
            deciders.review,
            uscc,
            approve=isinstance(body, Approve),
            window=web.services_of(request).ledger.region.window_name,
            reason=getattr(body, "reason", None),
        )
    except web.REFUSED as error:
        found = web.refusal(error, lang)
        return await _enterprise_page(request, staff, uscc, Refused("review", found))
    done = "approve" if data["decision"] == "approve" else "reject"
    return web.redirect(f"/ui/window/enterprises/{uscc}?at={result.position}&done={done}")


@router.post("/enterprises/{uscc}/free-pair")
async def issue_pair(request: Request, uscc: str, staff: web.Clerk) -> Response:
    """Issue the two free keys (法人卡 and 操作员卡)."""
    form = await web.posted(request, staff)
    data = web.fields(
        form,
        "legal_person_card_no",
        "operator_card_no",
        "legal_person_media",
        "legal_person_certificate_number",
        "operator_certificate_number",
    )
    try:
        body = IssueFreePair(
            source="free_pair",
            uscc=uscc,
            legal_person_card_no=data["legal_person_card_no"],
            operator_card_no=data["operator_card_no"],
            legal_person_media=data["legal_person_media"] or "ikey",  # type: ignore[arg-type]
            legal_person_certificate_number=web.optional(data["legal_person_certificate_number"]),
            operator_certificate_number=web.optional(data["operator_certificate_number"]),
        )
        result = await web.execute(
            request,
            staff,
            deciders.issue_free_pair,
            body.uscc,
            **body.decider_arguments(),
        )
    except web.REFUSED as error:
        found = web.refusal(error, web.lang_of(request))
        found.fields = {_pair_field(k): v for k, v in found.fields.items()}
        return await _enterprise_page(request, staff, uscc, Refused("pair", found, data))
    return web.redirect(f"/ui/window/enterprises/{uscc}?at={result.position}&done=issue")


def _pair_field(name: str) -> str:
    return {"lp_card_no": "legal_person_card_no", "op_card_no": "operator_card_no"}.get(
        name, name.removeprefix("card_no.").split(".")[0]
    )


MAIL_FIELDS = (
    "case_number",
    "order_number",
    "ems_tracking_number",
    "company_name",
    "recipient_address",
    "postcode",
    "recipient_name",
    "recipient_phone",
    "approver_name",
    "approver_date",
    "express_window_clerk_name",
    "express_window_clerk_date",
    "postal_clerk_name",
    "postal_clerk_date",
)


@router.post("/enterprises/{uscc}/mailing")
async def mail_pair(request: Request, uscc: str, staff: web.Clerk) -> Response:
    """Hand both free keys to EMS in one parcel: one handover form, one tracking number, one
    command (`mail_free_pair`: both KeyMailed events in one append)."""
    form = await web.posted(request, staff)
    data = web.fields(form, *MAIL_FIELDS)
    lang = web.lang_of(request)
    services = web.services_of(request)
    try:
        overview, _ = await run_in_threadpool(_overview, request, check_uscc(uscc))
        if overview.free_pair is None:
            raise DomainError("not_free_issue", "no free pair was issued", field="mail")
        lp_card, op_card = overview.free_pair
        body = MailKey.model_validate(
            {
                **{name: data[name] for name in MAIL_FIELDS[:8]},
                "legal_person_card_no": lp_card,
                "operator_card_no": op_card,
                **{
                    who: {"name": data[f"{who}_name"], "date": data[f"{who}_date"]}
                    for who in ("approver", "express_window_clerk", "postal_clerk")
                },
            }
        )
        command = Command(services, request, web.idempotency_key(form), None)
        result = await command.execute(
            staff.principal, body, deciders.mail_free_pair, check_uscc(uscc), body.details()
        )
        position = result.position
    except (*web.REFUSED, ValueError) as error:
        if isinstance(error, ValueError) and not isinstance(error, ValidationError):
            error = DomainError("invalid", str(error))
        found = web.refusal(error, lang)
        found.fields = {_mail_field(k): v for k, v in found.fields.items()}
        return await _enterprise_page(request, staff, uscc, Refused("mail", found, data))
    services.committed()
    return web.redirect(f"/ui/window/enterprises/{uscc}?at={position}&done=mail")


def _mail_field(name: str) -> str:
    for who in ("approver", "express_window_clerk", "postal_clerk"):
        if name.startswith(who + "."):
            return f"{who}_{name.split('.', 1)[1]}"
    return name


# -- one key -----------------------------------------------------------------------------------


async def _key_page(
    request: Request, staff: web.Staff, card_no: str, refused: Refused | None = None
) -> Response:
    services = web.services_of(request)
    record = await run_in_threadpool(
        lambda: get_key(
            ViewSource(services.ledger.database, services.ledger.vault, mask=False),
            card_no.upper(),
            fresh=Freshness(_position(request), services.api.query_wait_seconds),
        )
    )
    if record is None:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    return web.render(
        request,
        "window_key.html",
        {
            "k": record,
            "advice": advise(record),
            "labels": LABELS,
            **Refused.shown(refused),
            "open_renewal": _open_renewal(record),
            "key": web.form_key(),
        },
        staff=staff,
        status=status_of(refused),
    )


def _open_renewal(record: KeyRecord) -> Any:
    open_ = [r for r in record.renewals if r.state in ("requested", "pre_approved")]
    return open_[-1] if open_ else None


@router.get("/keys/{card_no}")
async def key_page(request: Request, card_no: str, staff: web.Clerk) -> Response:
    """One key: its status card and the window's business on it."""
    return await _key_page(request, staff, card_no)


KEY_ACTIONS = (
    "delivery",
    "unlock",
    "freeze",
    "loss",
    "void",
    "replace",
    "renewal_request",
    "pre_approve",
    "renew",
)


@router.post("/keys/{card_no}/{action}")
async def key_action(request: Request, card_no: str, action: str, staff: web.Clerk) -> Response:
    """The window's business on one key: delivery, unlock, freeze, loss, void, replacement,
    renewal application, pre-review and renewal in person with the document checklist."""
    form = await web.posted(request, staff)
    if action not in KEY_ACTIONS:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    card_no = card_no.upper()
    data = web.fields(
        form,
        "reason",
        "new_card_no",
        "supplier",
        "product",
        "certificate_number",
        "application_id",
        "erase_personal_data",
        "channel",
        "back",
    )
    try:
        result = await _run_key_action(request, staff, card_no, action, data, form)
    except web.REFUSED as error:
        found = web.refusal(error, web.lang_of(request))
        return await _key_page(request, staff, card_no, Refused(action, found))
    back = data["back"]
    if back.startswith("/ui/window/enterprises/") and back.count("/") == 4:
        return web.redirect(f"{back}?at={result.position}&done={action}")
    target = data["new_card_no"].upper() if action == "replace" else None
    return web.redirect(f"/ui/window/keys/{target or card_no}?at={result.position}&done={action}")


async def _run_key_action(
    request: Request, staff: web.Staff, card_no: str, action: str, data: dict[str, str], form: Any
) -> Any:
    if action == "delivery":  # by EMS (a mailed key), or handed over at the window
        if data["channel"] not in ("", *DeliveryChannel):
            raise DomainError("invalid_channel", "channel is ems or window", field="channel")
        channel = DeliveryChannel(data["channel"] or DeliveryChannel.EMS)
        return await web.execute(request, staff, deciders.deliver_key, card_no, channel)
    if action == "unlock":
        return await web.execute(request, staff, deciders.unlock_key, card_no)
    if action in ("freeze", "loss"):
        reason = Incident(reason=data["reason"]).reason
        decider = deciders.freeze_key if action == "freeze" else deciders.report_key_lost
        return await web.execute(request, staff, decider, card_no, reason=reason)
    if action == "void":
        void = Void(reason=data["reason"], erase_personal_data=bool(data["erase_personal_data"]))
        return await web.execute(
            request, staff, deciders.void_key, card_no, **void.decider_arguments()
        )
    if action == "replace":
        body = Replace.model_validate(
            {
                "new_card_no": data["new_card_no"],
                "reason": data["reason"],
                "supplier": data["supplier"],
                "product": data["product"],
                "certificate_number": web.optional(data["certificate_number"]),
            }
        )
        return await web.execute(
            request, staff, deciders.replace_key, card_no, **body.decider_arguments()
        )
    if action == "renewal_request":
        return await web.execute(request, staff, deciders.request_renewal, card_no)
    if action == "pre_approve":
        return await web.execute(
            request, staff, deciders.pre_approve_renewal, card_no, data["application_id"]
        )
    documents = RenewalDocuments(
        **{name: form.get(name) == "on" for name in RENEWAL_DOCUMENT_LABELS}
    )
    renew = Renew(
        application_id=data["application_id"],
        documents=documents,
        certificate_number=web.optional(data["certificate_number"]),
    )
    return await web.execute(
        request, staff, deciders.renew_key, card_no, **renew.decider_arguments()
    )
