"""The auditor's screens (审计): the ledger's status, a stream's history as of a moment, any view
as of a moment, and the evidence to take away (checkpoint, proofs, export) with the one-line
commands that check it offline."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, BinaryIO, Final

import orjson
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.http.console import web
from api.http.console.key_card import CHINA_TIME, advise
from api.http.console.verify_runs import RUNS, last_run
from api.http.deps import Services
from ledger_store.application.ledger import Ledger
from ledger_store.proofs.checkpoint import key_id, public_key_pem
from ledger_store.transparency.checkpointer import create_checkpoint, latest_checkpoint
from ledger_store.transparency.tree_store import MerkleStoreError, ProofRequestError
from projections.engine.query import ViewSource
from projections.engine.rebuild import rebuild
from projections.enterprise_overview.queries import get_enterprise
from projections.key_status.advice import event_words
from projections.key_status.queries import get_key
from projections.window_queue.queries import window_queue
from replay.export import export_ledger
from replay.history import StreamError, stream_history
from replay.integrity import audit_ledger
from replay.proof_bundles import consistency_bundle, inclusion_bundle

router = web.screens("/ui/audit")
ASOF_PREFIX: Final = "asof_ui_"
_asof_lock = threading.Lock()
"""One as-of rebuild at a time in this process (they share the asof_ui_ tables)."""


def _status(services: Services) -> dict[str, Any]:
    database = services.ledger.database
    size, head = database.head()
    checkpoint = latest_checkpoint(database)
    age = None if checkpoint is None else web.now() - checkpoint.timestamp
    return {
        "size": size,
        "chain_head": head.hex(),
        "checkpoint": checkpoint,
        "age": _age(age),
        "run": last_run(database),
    }


def _age(delta: timedelta | None) -> str | None:
    if delta is None:
        return None
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


@router.get("")
async def status_page(request: Request, staff: web.Auditor) -> Response:
    """The ledger's status and the evidence downloads."""
    status = await run_in_threadpool(_status, web.services_of(request))
    signing = web.services_of(request).signing_key
    return web.render(
        request,
        "audit_status.html",
        {**status, "key_id": key_id(signing)},
        staff=staff,
    )


@router.post("/checkpoint")
async def sign_checkpoint(request: Request, staff: web.Auditor) -> Response:
    """Sign a checkpoint of the ledger as it is now (the ledger itself does not change)."""
    await web.posted(request, staff)
    services = web.services_of(request)
    await run_in_threadpool(create_checkpoint, services.ledger.database, services.signing_key)
    return web.redirect("/ui/audit?done=checkpoint")


@router.post("/verify")
async def verify(request: Request, staff: web.Auditor) -> Response:
    """Verify the whole ledger (chain, Merkle tree, checkpoints) and keep the result."""
    await web.posted(request, staff)
    database = web.services_of(request).ledger.database

    def run() -> None:
        report = audit_ledger(database)
        first = report.ordered()[0] if report.findings else None
        problem = None
        if first is not None:
            problem = f"{first.ledger_index or ''} {first.problem}".strip()[:500]
        with database.transaction() as cursor:
            cursor.execute(
                f"INSERT INTO {database.table(RUNS)} (at, staff_id, intact, size, problem) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    datetime.now(UTC).isoformat(), staff.account.staff_id,
                    1 if report.intact else 0, report.size, problem,
                ),
            )  # fmt: skip

    await run_in_threadpool(run)
    return web.redirect("/ui/audit?done=verify")


class AsOfError(ValueError):
    """An "as of" value that is neither a ledger position nor a date or time."""


def parse_moment(text: str) -> int | datetime | None:
    """A position (digits), a China-time date (its end) or date and time, or None when empty."""
    value = text.strip()
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(23, 59, 59, 999999), CHINA_TIME)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise AsOfError(value) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=CHINA_TIME)


@router.get("/history")
async def history(request: Request, staff: web.Auditor) -> Response:
    """A stream's events (enterprise:USCC, key:CARD_NO, operator:ID) as of a moment."""
    stream = (request.query_params.get("stream") or "").strip()[:80]
    as_of_text = (request.query_params.get("as_of") or "").strip()[:40]
    found = None
    error = None
    if stream:
        try:
            moment = parse_moment(as_of_text)
            found = await run_in_threadpool(
                stream_history,
                web.services_of(request).ledger.database,
                stream,
                moment,
                web.services_of(request).ledger.vault,
            )
        except (StreamError, AsOfError) as problem:
            error = str(problem)
    names = {}
    if found is not None:
        ids = [str((e.actor or {}).get("principal_id")) for e in found.events]
        names = await run_in_threadpool(_names, request, ids)
    return web.render(
        request,
        "audit_history.html",
        {
            "stream": stream,
            "as_of": as_of_text,
            "found": found,
            "error": error,
            "names": names,
            "event_words": event_words,
        },
        staff=staff,
    )


def _names(request: Request, principals: list[str]) -> dict[str, str]:
    store = web.console_of(request).staff
    names = {}
    for principal in set(principals):
        if principal.startswith("staff:"):
            account = store.by_id(principal)
            if account is not None:
                names[principal] = account.display_name
    return names


VIEWS: Final = {
    "key": ("key_status",),
    "enterprise": ("enterprise_overview", "key_status"),
    "queue": ("enterprise_overview", "key_status"),
}


def _as_of_view(ledger: Ledger, view: str, subject: str, moment: int | datetime) -> Any:
    """Rebuild the view's tables as of the moment (asof_ui_ tables) and query them."""
    database, vault = ledger.database, ledger.vault
    until_position = moment if isinstance(moment, int) else None
    until_time = moment if isinstance(moment, datetime) else None
    clock = until_time or datetime.now(UTC)
    with _asof_lock:
        built = rebuild(
            database,
            views=list(VIEWS[view]),
            until_position=until_position,
            until_time=until_time,
            asof_prefix=ASOF_PREFIX,
        )
        source = ViewSource(database, vault, mask=False, names=built.names)
        if view == "key":
            record = get_key(source, subject.upper(), now=clock)
            return built.position, record, None if record is None else advise(record)
        if view == "enterprise":
            overview = get_enterprise(source, subject, now=clock)
            return built.position, overview, None
        return built.position, window_queue(database, now=clock, names=built.names), None


@router.get("/asof")
async def as_of_view(request: Request, staff: web.Auditor) -> Response:
    """Any view as it was at a moment: a key, an enterprise, or the window's queue."""
    view = request.query_params.get("view") or "key"
    view = view if view in VIEWS else "key"
    subject = (request.query_params.get("subject") or "").strip()[:40]
    moment_text = (request.query_params.get("as_of") or "").strip()[:40]
    result = None
    error = None
    if moment_text and (subject or view == "queue"):
        try:
            moment = parse_moment(moment_text)
            assert moment is not None
            result = await run_in_threadpool(
                _as_of_view, web.services_of(request).ledger, view, subject, moment
            )
        except AsOfError as problem:
            error = str(problem)
    return web.render(
        request,
        "audit_asof.html",
        {
            "view": view,
            "subject": subject,
            "as_of": moment_text,
            "result": result,
            "error": error,
        },
        staff=staff,
    )


def _attachment(body: bytes, filename: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2) + b"\n"


@router.get("/download/checkpoint.json")
async def download_checkpoint(request: Request, staff: web.Auditor) -> Response:
    """The latest signed checkpoint (JSON)."""
    checkpoint = await run_in_threadpool(
        latest_checkpoint, web.services_of(request).ledger.database
    )
    if checkpoint is None:
        return web.render(request, "not_found.html", {}, staff=staff, status=404)
    return _attachment(
        _json(checkpoint.to_json()), f"checkpoint-{checkpoint.size}.json", "application/json"
    )


@router.get("/download/public-key.pem")
async def download_public_key(request: Request, staff: web.Auditor) -> Response:
    """The public key checkpoints are signed with now (PEM)."""
    pem = public_key_pem(web.services_of(request).signing_key)
    return _attachment(pem.encode("ascii"), "eport-ledger-public-key.pem", "application/x-pem-file")


def _number(request: Request, name: str) -> int | None:
    text = request.query_params.get(name, "")
    return int(text) if text.isdigit() and len(text) < 19 else None


@router.get("/download/inclusion")
async def download_inclusion(request: Request, staff: web.Auditor) -> Response:
    """Proof that one ledger entry is in the latest signed checkpoint (JSON bundle)."""
    index = _number(request, "index")
    database = web.services_of(request).ledger.database
    try:
        if index is None or index < 1:
            raise ProofRequestError("give a ledger index (1 or more)")
        bundle = await run_in_threadpool(inclusion_bundle, database, index, None)
    except (ProofRequestError, MerkleStoreError) as error:
        return await _proof_refused(request, staff, str(error))
    return _attachment(_json(bundle), f"inclusion-{index}.json", "application/json")


@router.get("/download/consistency")
async def download_consistency(request: Request, staff: web.Auditor) -> Response:
    """Proof that the latest checkpoint extends an older tree size (JSON bundle)."""
    old = _number(request, "from")
    database = web.services_of(request).ledger.database
    try:
        if old is None:
            raise ProofRequestError("give the older tree size")
        bundle = await run_in_threadpool(consistency_bundle, database, old, None)
    except (ProofRequestError, MerkleStoreError) as error:
        return await _proof_refused(request, staff, str(error))
    return _attachment(_json(bundle), f"consistency-{old}.json", "application/json")


async def _proof_refused(request: Request, staff: web.Staff, message: str) -> Response:
    status = await run_in_threadpool(_status, web.services_of(request))
    signing = web.services_of(request).signing_key
    return web.render(
        request,
        "audit_status.html",
        {**status, "key_id": key_id(signing), "proof_error": message},
        staff=staff,
        status=422,
    )


@router.get("/download/export.jsonl")
async def download_export(request: Request, staff: web.Auditor) -> Response:
    """The whole ledger as JSON Lines with its signed checkpoint (streamed from a spool file)."""
    services = web.services_of(request)
    spool: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the stream

    def write() -> int:
        checkpoint = export_ledger(services.ledger.database, spool, services.signing_key)
        spool.seek(0)
        return checkpoint.size

    try:
        size = await run_in_threadpool(write)
    except BaseException:
        spool.close()
        raise

    def chunks() -> Iterator[bytes]:
        try:
            while block := spool.read(1 << 16):
                yield block
        finally:
            spool.close()

    return StreamingResponse(
        chunks(),
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="ledger-{size}.jsonl"',
            "Cache-Control": "no-store",
        },
    )
