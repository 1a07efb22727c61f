"""What every console page shares: templates, cookies, the signed-in person, CSRF, headers,
running a command as the person, and refusals in words."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, ParamSpec, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api.http.auth import Principal
from api.http.command_requests import Command, RequestDecider
from api.http.console import i18n
from api.http.console.accounts import StaffAccount, StaffStore
from api.http.console.key_card import CHINA_TIME
from api.http.console.oidc import OidcClient
from api.http.console.sessions import Session, SessionStore, same
from api.http.console.settings import ConsoleSettings
from api.http.deps import Services, limit_principal
from domain.base import DomainError, Role
from domain.permissions import PERMISSION_CATALOGUE, Authority
from ledger_store.application.idempotency import IdempotencyMismatchError
from ledger_store.application.results import CommandResult, VersionMismatchError

HERE: Final = Path(__file__).resolve().parent
SESSION_COOKIE: Final = "eport_console"
LOGIN_COOKIE: Final = "eport_console_login"
SSO_COOKIE: Final = "eport_console_sso"
LANG_COOKIE: Final = "eport_lang"
HOME: Final = {
    Role.WINDOW: "/ui/window",
    Role.HOTLINE: "/ui/hotline",
    Role.AUDITOR: "/ui/audit",
    Role.ENTERPRISE: "/ui/enterprise",
    Role.ADMIN: "/ui/admin",
}
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

P = ParamSpec("P")
Member = TypeVar("Member", bound=StrEnum)


class SignInRequiredError(Exception):
    """No live session: send the browser to the sign-in page (then back to `next_path`)."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.reason = reason


class ForbiddenError(Exception):
    """The person's role may not open this page or do this (403), or the form's CSRF token is
    wrong."""

    def __init__(self, message_key: str = "forbidden") -> None:
        super().__init__(message_key)
        self.message_key = message_key


@dataclass
class Console:
    """The console's parts, opened with the app."""

    settings: ConsoleSettings
    staff: StaffStore
    sessions: SessionStore
    oidc: OidcClient | None
    templates: Environment = field(init=False)

    def __post_init__(self) -> None:
        self.templates = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.templates.filters["cn_time"] = cn_time
        self.templates.filters["cn_date"] = cn_date
        self.templates.filters["phone"] = national_phone


def open_console(services: Services, settings: ConsoleSettings) -> Console:
    """The console on the app's ledger database (its tables: migration m0008)."""
    database = services.ledger.database
    staff = StaffStore(database)
    sessions = SessionStore(
        database,
        idle=timedelta(minutes=settings.idle_minutes),
        lifetime=timedelta(hours=settings.max_hours),
    )
    oidc = OidcClient(settings) if settings.oidc_enabled else None
    return Console(settings, staff, sessions, oidc)


def console_of(request: Request) -> Console:
    """The running app's console."""
    console: Console = request.app.state.console
    return console


def services_of(request: Request) -> Services:
    """The running app's services."""
    services: Services = request.app.state.services
    return services


def cn_time(moment: datetime | None) -> str:
    """A moment in China time, to the second (`2025-03-04 10:15:02`)."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TIME).strftime("%Y-%m-%d %H:%M:%S")


def cn_date(moment: datetime | None) -> str:
    """A date in China time."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TIME).date().isoformat()


def national_phone(phone: str | None) -> str:
    """An E.164 mainland number as a clerk writes it (13800138000, 0898-68516652)."""
    if not phone:
        return ""
    if phone.startswith("+86"):
        rest = phone[3:]
        if rest.startswith("1"):
            return rest
        return f"0{rest[:3]}-{rest[3:]}" if rest.startswith("898") else f"0{rest}"
    return phone


def by_value(labels: Mapping[Member, str]) -> dict[str, str]:
    """A label table keyed by the values a form posts (`"ikey"`, not `Media.IKEY`)."""
    return {member.value: label for member, label in labels.items()}


def permission_labels(authority: Authority | None = None) -> dict[str, str]:
    """Each permission's `group·label` by its value: of one authority, or all."""
    return {
        permission.value: f"{info.group_label}·{info.label}"
        for permission, info in PERMISSION_CATALOGUE.items()
        if authority is None or info.authority is authority
    }


def lang_of(request: Request) -> str:
    """The page language: `?lang=`, else the cookie, else Chinese."""
    wanted = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return wanted if wanted in i18n.LANGS else i18n.DEFAULT_LANG


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag (behind TLS, or always when configured)."""
    mode = console_of(request).settings.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    """Set one of the console's cookies: HttpOnly, SameSite=Lax, Secure behind TLS, on /ui."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )


def safe_next(path: str | None) -> str:
    """A place inside the console to go back to (never another site)."""
    if not path or not path.startswith("/ui") or path.startswith("//") or "\\" in path:
        return "/ui"
    return path


def redirect(path: str) -> RedirectResponse:
    """A 303 to a console page (after a form: the browser GETs it)."""
    return RedirectResponse(path, status_code=303, headers=SECURITY_HEADERS)


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in person: their account and session."""

    account: StaffAccount
    session: Session
    session_id: str

    @property
    def role(self) -> Role:
        """The person's role."""
        return self.account.role

    @property
    def principal(self) -> Principal:
        """The principal the API's helpers act for: the staff id is recorded in events."""
        return Principal(
            token_id="console",  # noqa: S106 - an id, not a secret
            principal_id=self.account.staff_id,
            role=self.account.role,
            uscc=self.account.uscc,
        )


def _load(console: Console, session_id: str | None) -> Staff | None:
    session = console.sessions.get(session_id)
    if session is None or session_id is None:
        return None
    account = console.staff.by_id(session.staff_id)
    if account is None or not account.active:
        console.sessions.end(session_id)
        return None
    return Staff(account, session, session_id)


async def current_staff(request: Request) -> Staff | None:
    """The person signed in on this browser, or None."""
    return await run_in_threadpool(_load, console_of(request), request.cookies.get(SESSION_COOKIE))


def allow(*roles: Role) -> Any:
    """A dependency: the signed-in person, if their role is one of these (else 403 page)."""

    async def signed_in(request: Request) -> Staff:
        staff = await current_staff(request)
        if staff is None:
            expired = SESSION_COOKIE in request.cookies
            target = request.url.path if request.method == "GET" else "/ui"
            raise SignInRequiredError(target, "expired" if expired else None)
        if staff.role not in roles:
            raise ForbiddenError()
        limit_principal(services_of(request), staff.principal.principal_key)
        return staff

    return signed_in


Clerk = Annotated[Staff, Depends(allow(Role.WINDOW))]
"""The window clerk (窗口) signed in."""
Agent = Annotated[Staff, Depends(allow(Role.HOTLINE))]
"""The hotline agent (热线) signed in."""
Auditor = Annotated[Staff, Depends(allow(Role.AUDITOR))]
"""The auditor (审计) signed in."""
EnterpriseStaff = Annotated[Staff, Depends(allow(Role.ENTERPRISE))]
"""An enterprise's own staff (企业) signed in."""
AdminStaff = Annotated[Staff, Depends(allow(Role.ADMIN))]
"""The console's admin signed in."""


def screens(prefix: str) -> APIRouter:
    """A router of console screens: pages for people, kept out of the API's OpenAPI schema."""
    return APIRouter(prefix=prefix, include_in_schema=False)


def refuse_cross_site(request: Request) -> None:
    """Refuse a form posted from another site (Sec-Fetch-Site / Origin), before any CSRF check."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise ForbiddenError("csrf")
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        expected = f"{request.url.scheme}://{request.url.netloc}"
        if origin != expected:
            raise ForbiddenError("csrf")


async def posted(request: Request, staff: Staff) -> FormData:
    """The form of a POST, once its CSRF token is the session's (else 403)."""
    refuse_cross_site(request)
    form = await request.form()
    token = form.get("csrf")
    if not isinstance(token, str) or not same(token, staff.session.csrf):
        raise ForbiddenError("csrf")
    return form


def fields(form: FormData, *names: str) -> dict[str, str]:
    """The named text fields of a form, stripped ('' when absent)."""
    values: dict[str, str] = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip() if isinstance(value, str) else ""
    return values


def optional(value: str) -> str | None:
    """An empty form field as None."""
    return value or None


def form_key() -> str:
    """A fresh idempotency key for one rendered form (a double submit records nothing twice)."""
    return "ui-" + secrets.token_urlsafe(18)


async def execute(
    request: Request,
    staff: Staff,
    decider: RequestDecider[P],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> CommandResult:
    """Run a decider as the person, through the API's own command path (idempotency too)."""
    command = Command(services_of(request), request, idempotency_key(await request.form()), None)
    return await command.execute(staff.principal, None, decider, *args, **kwargs)


def idempotency_key(form: Any) -> str | None:
    """The form's hidden idempotency key (a retried submission records nothing twice)."""
    key = form.get("idempotency_key")
    return key if isinstance(key, str) and 0 < len(key) <= 128 and key.isascii() else None


@dataclass
class Refusal:
    """Why a form was refused: a message for the page and one per field."""

    message: str
    fields: dict[str, str] = field(default_factory=dict)


def refusal(error: Exception, lang: str, prefix: str = "") -> Refusal:
    """A refusal in words from a rule, a version conflict or a validation error."""
    if isinstance(error, DomainError):
        message = i18n.rule_message(error.rule, error.message, lang)
        where = {prefix + error.field: message} if error.field else {}
        return Refusal(message, where)
    if isinstance(error, VersionMismatchError):
        return Refusal(i18n.rule_message("version_mismatch", str(error), lang))
    if isinstance(error, IdempotencyMismatchError):
        return Refusal(i18n.rule_message("idempotency_key_reused", str(error), lang))
    if isinstance(error, ValidationError):
        found: dict[str, str] = {}
        for item in error.errors(include_input=False):
            loc = ".".join(str(part) for part in item.get("loc", ()))
            name = prefix + (loc or "form")
            found.setdefault(
                name, i18n.field_message(loc, str(item.get("type")), str(item.get("msg")), lang)
            )
        return Refusal(i18n.text("errors_above", lang), found)
    raise error


REFUSED: Final = (DomainError, VersionMismatchError, IdempotencyMismatchError, ValidationError)
"""What a form's command may be refused with (shown on the page, nothing recorded)."""


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    staff: Staff | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page: the template with the language, the person and their CSRF token."""
    lang = lang_of(request)
    console = console_of(request)
    page = console.templates.get_template(template)

    def t(key: str) -> str:
        return i18n.text(key, lang)

    html = page.render(
        **context,
        lang=lang,
        t=t,
        staff=staff,
        csrf=staff.session.csrf if staff else None,
        path=request.url.path,
        quote=quote,
        done=_done(request, lang),
        sso=console.oidc is not None,
        sso_label=console.settings.oidc_label,
    )
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if request.query_params.get("lang") in i18n.LANGS:
        set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


def _done(request: Request, lang: str) -> str | None:
    done = request.query_params.get("done")
    if done and f"done_{done}" in i18n.TEXT:
        return i18n.text(f"done_{done}", lang)
    return None


def now() -> datetime:
    """The clock, aware."""
    return datetime.now(UTC)
