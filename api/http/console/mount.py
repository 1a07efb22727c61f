"""Mounting the console on the app: its routes, static files and page-level refusals."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from api.http.console.routes import audit, enterprise, enterprise_filings, hotline, signin, window
from api.http.console.settings import ConsoleSettings
from api.http.console.web import (
    HERE,
    ForbiddenError,
    SignInRequiredError,
    current_staff,
    redirect,
    render,
)


def install(app: FastAPI, settings: ConsoleSettings) -> None:
    """Serve the console at /ui on this app (its parts are opened by the app's lifespan)."""
    app.state.console_settings = settings
    for module in (signin, window, hotline, audit, enterprise, enterprise_filings):
        app.include_router(module.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(SignInRequiredError)
    async def sign_in_first(request: Request, error: SignInRequiredError) -> Response:
        reason = "&expired=1" if error.reason == "expired" else ""
        return redirect(f"/ui/login?next={error.next_path}{reason}")

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, error: ForbiddenError) -> Response:
        staff = await current_staff(request)
        return render(
            request, "forbidden.html", {"reason": error.message_key}, staff=staff, status=403
        )
