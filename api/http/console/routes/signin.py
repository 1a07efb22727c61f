"""Signing people in and out: staff passwords, OpenID Connect, the language switch, the start."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.console import i18n, web
from api.http.console.oidc import SsoError
from api.http.console.sessions import new_secret, same
from domain.base import Role

log = logging.getLogger("eport.console")
router = web.screens("/ui")
AUTO_PROVISION_ROLES = (Role.WINDOW, Role.HOTLINE, Role.AUDITOR)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("")
async def start(request: Request) -> Response:
    """The person's start page, by role (the sign-in page when nobody is signed in)."""
    staff = await web.current_staff(request)
    if staff is None:
        return web.redirect("/ui/login")
    return web.redirect(web.HOME[staff.role])


@router.get("/login")
async def login_page(request: Request) -> Response:
    """The sign-in form (login and password, or single sign-on)."""
    staff = await web.current_staff(request)
    if staff is not None:
        return web.redirect(web.HOME[staff.role])
    return _login_form(request)


def _login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = request.cookies.get(web.LOGIN_COOKIE) or new_secret()
    notice = None
    if request.query_params.get("out"):
        notice = "signed_out"
    elif request.query_params.get("expired"):
        notice = "expired"
    response = web.render(
        request,
        "login.html",
        {
            "login_csrf": token,
            "error": error,
            "notice": notice,
            "next": web.safe_next(request.query_params.get("next")),
        },
        status=status,
    )
    web.set_cookie(request, response, web.LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the login and password; a new session (never the one the browser brought)."""
    web.refuse_cross_site(request)
    form = await request.form()
    token = form.get("login_csrf")
    if not isinstance(token, str) or not same(token, request.cookies.get(web.LOGIN_COOKIE)):
        raise web.ForbiddenError("csrf")
    services = web.services_of(request)
    client = _client(request)
    if services.limiter.retry_after(client) is not None:
        return _login_form(request, i18n.text("too_many", web.lang_of(request)), 429)
    login_name, password = form.get("login"), form.get("password")
    console = web.console_of(request)
    account = None
    if isinstance(login_name, str) and isinstance(password, str) and password:
        account = await run_in_threadpool(console.staff.verify_password, login_name, password)
    if account is None:
        services.limiter.failed(client)
        log.info("console sign-in refused")
        return _login_form(request, i18n.text("bad_login", web.lang_of(request)), 401)
    next_value = form.get("next")
    return await _signed_in(
        request, account.staff_id, account.role, "password", next_value, web.LOGIN_COOKIE
    )


async def _signed_in(
    request: Request, staff_id: str, role: Role, method: str, next_value: Any, spent: str
) -> Response:
    console = web.console_of(request)
    session_id = await run_in_threadpool(
        lambda: console.sessions.start(
            staff_id, method, replacing=request.cookies.get(web.SESSION_COOKIE)
        )
    )
    log.info("console sign-in", extra={"staff_id": staff_id, "method": method})
    target = web.safe_next(next_value if isinstance(next_value, str) else None)
    response = web.redirect(target if target != "/ui" else web.HOME[role])
    web.set_cookie(request, response, web.SESSION_COOKIE, session_id)
    response.delete_cookie(spent, path="/ui")
    return response


@router.post("/logout")
async def logout(
    request: Request, staff: Annotated[web.Staff, Depends(web.allow(*web.HOME))]
) -> Response:
    """End the session."""
    await web.posted(request, staff)
    await run_in_threadpool(web.console_of(request).sessions.end, staff.session_id)
    log.info("console sign-out", extra={"staff_id": staff.account.staff_id})
    response = web.redirect("/ui/login?out=1")
    response.delete_cookie(web.SESSION_COOKIE, path="/ui")
    return response


@router.get("/lang")
async def switch_language(request: Request) -> Response:
    """Switch between Chinese and English (a cookie), then go back."""
    wanted = request.query_params.get("to")
    response = web.redirect(web.safe_next(request.query_params.get("next")))
    if wanted in i18n.LANGS:
        web.set_cookie(request, response, web.LANG_COOKIE, wanted, max_age=365 * 24 * 3600)
    return response


def _redirect_uri(request: Request) -> str:
    configured = web.console_of(request).settings.oidc_redirect_url
    return configured or str(request.url_for("oidc_callback"))


@router.get("/login/oidc")
async def oidc_start(request: Request) -> Response:
    """Send the browser to the issuer (authorization-code flow with state, nonce and PKCE)."""
    console = web.console_of(request)
    if console.oidc is None:
        return web.redirect("/ui/login")
    oidc = console.oidc
    secret, pending = await run_in_threadpool(
        console.sessions.begin_sso, web.safe_next(request.query_params.get("next"))
    )
    try:
        url = await run_in_threadpool(
            oidc.authorization_url,
            _redirect_uri(request),
            pending.state,
            pending.nonce,
            pending.verifier,
        )
    except SsoError as error:
        lang = web.lang_of(request)
        return _login_form(request, i18n.text("sso_failed", lang) + str(error), 502)
    response = web.redirect(url)
    web.set_cookie(request, response, web.SSO_COOKIE, secret, max_age=600)
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    """The issuer's answer: check it, find the provisioned person, start their session."""
    console = web.console_of(request)
    lang = web.lang_of(request)
    if console.oidc is None:
        return web.redirect("/ui/login")
    oidc = console.oidc
    pending = await run_in_threadpool(
        console.sessions.finish_sso, request.cookies.get(web.SSO_COOKIE)
    )
    state = request.query_params.get("state")
    code = request.query_params.get("code")
    if pending is None or not same(state, pending.state):
        raise web.ForbiddenError("csrf")
    if not code:
        reason = request.query_params.get("error") or "no code"
        return _login_form(request, i18n.text("sso_failed", lang) + reason[:100], 401)
    try:
        claims = await run_in_threadpool(
            oidc.exchange, code, _redirect_uri(request), pending.verifier, pending.nonce
        )
    except SsoError as error:
        return _login_form(request, i18n.text("sso_failed", lang) + str(error), 401)
    subject = str(claims["sub"])
    claimed = claims.get(console.settings.oidc_role_claim)
    account = await run_in_threadpool(console.staff.by_subject, oidc.issuer, subject)
    if account is None and console.settings.oidc_auto_provision:
        role = Role(claimed) if claimed in {r.value for r in AUTO_PROVISION_ROLES} else None
        if role is not None:
            name = str(claims.get("name") or claims.get("preferred_username") or subject)[:50]
            login = f"sso.{subject}".lower()[:64]
            account = await run_in_threadpool(
                lambda: console.staff.create(
                    login=login,
                    role=role,
                    display_name=name,
                    oidc_issuer=oidc.issuer,
                    oidc_subject=subject,
                )
            )
    if account is None or not account.active:
        log.info("console SSO refused: no account")
        return _login_form(request, i18n.text("sso_unknown", lang), 403)
    if claimed != account.role.value:
        log.info("console SSO refused: role claim", extra={"staff_id": account.staff_id})
        return _login_form(request, i18n.text("sso_role", lang), 403)
    return await _signed_in(
        request, account.staff_id, account.role, "oidc", pending.next_path, web.SSO_COOKIE
    )
