"""Auditors: the ledger's entries, a stream's history as of a moment, checkpoints and proofs."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Query

from api.http.auth import Principal
from api.http.deps import Auditor, CheckpointSigner, MinPosition, ServicesDep, Verifier
from api.http.errors import PROBLEMS, ProblemError
from api.http.paging import Limit, cursor, first
from api.http.routing import PrefixRouter
from api.http.schemas.audit import (
    Checkpoint,
    ConsistencyBundle,
    InclusionBundle,
    PublicKeys,
    StreamHistory,
)
from api.http.schemas.queries import AuditPage
from domain.base import Role
from ledger_store.proofs.checkpoint import key_id, public_key_pem
from ledger_store.transparency.checkpointer import create_checkpoint, latest_checkpoint, public_keys
from ledger_store.transparency.tree_store import ProofRequestError
from projections.audit_trail.queries import audit_events, stream_of
from projections.engine.freshness import Freshness
from replay.history import StreamError, parse_as_of, stream_history
from replay.proof_bundles import consistency_bundle, inclusion_bundle

router = PrefixRouter(prefix="/v1/audit", tags=["audit"], responses=PROBLEMS)

Index = Annotated[int, Query(ge=1, le=2**62)]
Size = Annotated[int | None, Query(ge=0, le=2**62, description="default: the latest checkpoint")]


@router.get("/events", response_model=AuditPage, summary="Ledger entries · 账本记录")
def list_audit_events(
    principal: Auditor,
    services: ServicesDep,
    min_position: MinPosition,
    after: Annotated[int, cursor("a ledger index", ge=0, le=2**62)] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """Every ledger entry after `after`, with actor, time, ledger index, hashes and payload."""
    items = audit_events(
        services.ledger.database,
        after=after,
        limit=limit + 1,
        fresh=Freshness(min_position, services.api.query_wait_seconds),
    )
    return first(items, limit, lambda item: item.ledger_index)


@router.get(
    "/history/{stream}",
    response_model=StreamHistory,
    summary="A stream's history as of a moment · 历史记录",
)
def get_stream_history(
    stream: Annotated[
        str,
        Path(
            max_length=80,
            description="enterprise:{uscc}, key:{card_no} or operator:{id}",
            examples=["enterprise:91460100MA5T4KQX4C"],
        ),
    ],
    principal: Auditor,
    services: ServicesDep,
    as_of: Annotated[
        str | None,
        Query(
            max_length=40,
            description="a ledger position (digits) or an ISO 8601 time with a zone",
            examples=["2025-03-03T10:00:00+08:00", "42"],
        ),
    ] = None,
    after: Annotated[int, cursor("an event's version", ge=0, le=2**62)] = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    """A stream's events as stored, up to `as_of`, with the checkpoint that covers them all,
    `limit` events at a time."""
    try:
        moment = parse_as_of(as_of)
        found = stream_history(
            services.ledger.database, stream, moment, vault=services.ledger.vault
        )
    except StreamError as error:
        field = "query.as_of" if "as_of" in str(error) else "path.stream"
        raise ProblemError(422, "invalid_stream_query", str(error), field=field) from None
    if not found.events and moment is None:
        raise ProblemError(404, "not_found", f"stream {stream} has no events", field="path.stream")
    answer = found.to_json()
    events = [event for event in answer["events"] if event["originator_version"] > after]
    events_page = first(events[: limit + 1], limit, lambda event: event["originator_version"])
    answer["events"] = events_page.pop("items")
    return {**answer, **events_page}


@router.get(
    "/checkpoints/latest",
    response_model=Checkpoint,
    summary="The latest signed checkpoint · 最新检查点",
)
def get_latest_checkpoint(principal: Verifier, services: ServicesDep) -> dict[str, Any]:
    """The latest signed checkpoint: size, Merkle root, chain head, time, key id, signature."""
    checkpoint = latest_checkpoint(services.ledger.database)
    if checkpoint is None:
        raise ProblemError(404, "no_checkpoint", "no checkpoint has been signed yet")
    return checkpoint.to_json()


@router.post(
    "/checkpoints",
    status_code=201,
    response_model=Checkpoint,
    summary="Sign a checkpoint now · 立即签署检查点",
)
def sign_checkpoint(principal: CheckpointSigner, services: ServicesDep) -> dict[str, Any]:
    """Sign a checkpoint of the ledger as it is now (the ledger itself does not change)."""
    return create_checkpoint(services.ledger.database, services.signing_key).to_json()


@router.get(
    "/public-key", response_model=PublicKeys, summary="The checkpoint signing keys · 检查点签名公钥"
)
def get_public_keys(principal: Verifier, services: ServicesDep) -> dict[str, Any]:
    """The key checkpoints are signed with now, and every key that ever signed one here."""
    keys = [record.to_json() for record in public_keys(services.ledger.database)]
    current = services.signing_key
    return {
        "key_id": key_id(current),
        "public_key_pem": public_key_pem(current),
        "keys": keys,
    }


@router.get(
    "/proofs/inclusion",
    response_model=InclusionBundle,
    summary="Proof that an entry is in the ledger · 包含性证明",
)
def get_inclusion_proof(
    index: Index, principal: Verifier, services: ServicesDep, size: Size = None
) -> dict[str, Any]:
    """Proof that ledger entry `index` is in the tree of `size` entries, with its checkpoint.

    The bundle carries the stored entry (its personal data sealed), so `eport-ledger
    verify-proof` checks it offline. An enterprise gets proofs of its own streams' entries
    only, the hotline of enterprises', keys' and card holders' entries only: any other index
    answers exactly as an index the ledger does not have.
    """
    database = services.ledger.database
    try:
        bundle = inclusion_bundle(database, index, size)
    except ProofRequestError as error:
        if principal.role in SCOPED:
            raise _no_entry(index) from None
        raise ProblemError(422, "proof_not_available", str(error), field="query.index") from None
    if principal.role in SCOPED and not _may_read(
        principal, bundle["entry"]["originator_id"], database
    ):
        raise _no_entry(index)
    return bundle


SCOPED = frozenset({Role.ENTERPRISE, Role.HOTLINE})
"""Roles whose proofs cover only the streams they may read."""
HOTLINE_STREAMS = ("enterprise:", "key:", "operator:")


def _may_read(principal: Principal, originator_id: str, database: Any) -> bool:
    """Whether the principal may read the stream an entry belongs to."""
    found = stream_of(database, UUID(originator_id))
    if found is None:
        return False
    stream, uscc = found
    if principal.role is Role.ENTERPRISE:
        return uscc == principal.uscc
    return stream.startswith(HOTLINE_STREAMS)


def _no_entry(index: int) -> ProblemError:
    """The one answer for an entry a scoped principal may not read, or that does not exist."""
    return ProblemError(
        404, "not_found", f"no ledger entry {index} among those you may read", field="query.index"
    )


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyBundle,
    summary="Proof that the ledger only grew · 一致性证明",
)
def get_consistency_proof(
    principal: Verifier,
    services: ServicesDep,
    from_: Annotated[int, Query(alias="from", ge=0, le=2**62)],
    to: Size = None,
) -> dict[str, Any]:
    """Proof that the tree of `to` entries extends the tree of `from` entries."""
    try:
        return consistency_bundle(services.ledger.database, from_, to)
    except ProofRequestError as error:
        raise ProblemError(422, "proof_not_available", str(error), field="query.to") from None
