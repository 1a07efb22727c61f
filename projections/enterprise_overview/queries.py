"""Queries of the enterprise overview: the four filings, the review, keys and card holders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from ledger_store.eventstore.database import LedgerDatabase
from projections.engine.entries import parse_time, to_time
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.personal import Revealed
from projections.engine.query import ViewSource, now_or, snapshot
from projections.engine.schema import TableNames
from projections.enterprise_overview.fold import ENTERPRISES, FILING_KINDS, OPERATORS
from projections.key_status.queries import escape_like, select_keys
from projections.key_status.records import KeyRecord

VIEWS = ("enterprise_overview", "key_status")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class FilingState(_Model):
    """One of the four filings: missing, submitted, approved or rejected."""

    kind: str
    state: str
    submitted_at: datetime | None = None
    ledger_index: int | None = None
    submissions: int = 0


class ReviewInfo(_Model):
    """The window's last decision."""

    outcome: str
    reason: str | None
    reviewer: str | None
    window: str | None
    at: datetime | None


class OperatorInfo(_Model):
    """A card holder of the enterprise and the permissions granted."""

    id: str
    kind: str
    name: str | None
    """None once the holder's personal data was erased."""
    permissions: tuple[str, ...]
    declarer_certificate: str | None
    verification_officer_certificate: str | None
    warnings: tuple[str, ...]
    registered_at: datetime
    ledger_index: int


class EnterpriseOverview(_Model):
    """Everything the window and the enterprise see about one enrollment."""

    uscc: str
    name: str
    customs_code: str
    receipt_number: str
    region: str
    legal_representative: str | None
    business_address: str | None
    review_state: str
    filings: tuple[FilingState, ...]
    review: ReviewInfo | None
    awaiting_review_since: datetime | None
    free_pair: tuple[str, str] | None
    free_pair_at: datetime | None
    keys: tuple[KeyRecord, ...]
    operators: tuple[OperatorInfo, ...]
    registered_at: datetime
    version: int
    last_index: int


class EnterpriseSummary(_Model):
    """One enterprise in a list: who it is and where its enrollment stands (no person's data)."""

    uscc: str
    name: str
    customs_code: str
    region: str
    review_state: str
    awaiting_review_since: datetime | None
    approved_at: datetime | None
    free_pair: tuple[str, str] | None
    registered_at: datetime
    version: int
    last_index: int


SUMMARY_COLUMNS = (
    "uscc", "name", "customs_code", "region", "review_state", "awaiting_review_since",
    "approved_at", "free_lp_card_no", "free_op_card_no", "registered_at", "version", "last_index",
)  # fmt: skip
LIST_VIEWS = ("enterprise_overview",)


def find_enterprises(
    database: LedgerDatabase,
    *,
    name: str | None = None,
    uscc: str | None = None,
    review_state: str | None = None,
    after_uscc: str | None = None,
    limit: int = 100,
    fresh: Freshness = NO_WAIT,
    names: TableNames | None = None,
) -> list[EnterpriseSummary]:
    """Enterprises by a part of their current name (企业名称), USCC and/or review state, in USCC
    order, `limit` at a time (keyset paging: the next page starts after `after_uscc`)."""
    where: list[str] = []
    params: list[Any] = []
    if name is not None:
        where.append("name LIKE ? ESCAPE '\\'")
        params.append(f"%{escape_like(name.strip())}%")
    for column, value in (("uscc", uscc), ("review_state", review_state)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if after_uscc is not None:
        where.append("uscc > ?")
        params.append(after_uscc)
    sql_where = f" WHERE {' AND '.join(where)}" if where else ""
    with snapshot(database, LIST_VIEWS, fresh, names) as (cursor, tables):
        rows = cursor.execute(
            f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM {tables(ENTERPRISES.name)}{sql_where} "
            "ORDER BY uscc LIMIT ?",
            [*params, limit],
        ).fetchall()
    return [_summary(dict(zip(SUMMARY_COLUMNS, row, strict=True))) for row in rows]


def _summary(e: dict[str, Any]) -> EnterpriseSummary:
    pair = None if e["free_lp_card_no"] is None else (e["free_lp_card_no"], e["free_op_card_no"])
    return EnterpriseSummary(
        uscc=e["uscc"], name=e["name"], customs_code=e["customs_code"], region=e["region"],
        review_state=e["review_state"],
        awaiting_review_since=parse_time(e["awaiting_review_since"]),
        approved_at=parse_time(e["approved_at"]), free_pair=pair,
        registered_at=to_time(e["registered_at"]), version=e["version"],
        last_index=e["last_index"],
    )  # fmt: skip


def get_enterprise(
    source: ViewSource,
    uscc: str,
    *,
    now: datetime | None = None,
    fresh: Freshness = NO_WAIT,
    key_limit: int = 1000,
) -> EnterpriseOverview | None:
    """One enterprise's overview by USCC, or None."""
    with source.snapshot(VIEWS, fresh) as (cursor, tables):
        row = cursor.execute(
            f"SELECT {', '.join(ENTERPRISES.column_names)} FROM {tables(ENTERPRISES.name)} "
            "WHERE uscc = ?",
            (uscc,),
        ).fetchone()
        if row is None:
            return None
        operators = cursor.execute(
            f"SELECT {', '.join(OPERATORS.column_names)} FROM {tables(OPERATORS.name)} "
            "WHERE uscc = ? ORDER BY registered_index",
            (uscc,),
        ).fetchall()
        keys = select_keys(
            cursor,
            tables,
            source.vault,
            mask=source.mask,
            now=now_or(now),
            uscc=uscc,
            limit=key_limit,
        )
        enterprise = dict(zip(ENTERPRISES.column_names, row, strict=True))
        personal = [enterprise["legal_representative"]]
        person_at = [OPERATORS.column_names.index(c) for c in PERSONAL_COLUMNS]
        personal += [values[i] for values in operators for i in person_at]
        reveal = Revealed.read(source.vault, cursor, personal)
    return _overview(enterprise, operators, keys, reveal)


PERSONAL_COLUMNS = ("person", "declarer", "verification_officer")
"""The card-holder row's columns that hold a person's data (sealed JSON)."""


def _overview(
    e: dict[str, Any],
    operator_rows: list[tuple[Any, ...]],
    keys: list[KeyRecord],
    reveal: Revealed,
) -> EnterpriseOverview:
    filed: dict[str, dict[str, Any]] = orjson.loads(e["filings"] or "{}")
    filings = tuple(
        FilingState(
            kind=kind, **{**filed[kind], "submitted_at": parse_time(filed[kind]["submitted_at"])}
        )
        if kind in filed
        else FilingState(kind=kind, state="missing")
        for kind in FILING_KINDS
    )
    review = None
    if e["review_outcome"] is not None:
        review = ReviewInfo(
            outcome=e["review_outcome"], reason=e["review_reason"], reviewer=e["reviewer"],
            window=e["review_window"], at=parse_time(e["reviewed_at"]),
        )  # fmt: skip
    operators = []
    for values in operator_rows:
        o = dict(zip(OPERATORS.column_names, values, strict=True))
        operators.append(
            OperatorInfo(
                id=o["operator_id"], kind=o["kind"], name=reveal.field(o["person"], "name"),
                permissions=tuple(orjson.loads(o["permissions"])),
                declarer_certificate=reveal.field(o["declarer"], "certificate_number"),
                verification_officer_certificate=reveal.field(
                    o["verification_officer"], "certificate_number"
                ),
                warnings=tuple(orjson.loads(o["warnings"] or "[]")),
                registered_at=to_time(o["registered_at"]), ledger_index=o["registered_index"],
            )
        )  # fmt: skip
    pair = None
    if e["free_lp_card_no"] is not None:
        pair = (e["free_lp_card_no"], e["free_op_card_no"])
    return EnterpriseOverview(
        uscc=e["uscc"], name=e["name"], customs_code=e["customs_code"],
        receipt_number=e["receipt_number"], region=e["region"],
        legal_representative=reveal.text(e["legal_representative"]),
        business_address=e["business_address"],
        review_state=e["review_state"], filings=filings, review=review,
        awaiting_review_since=parse_time(e["awaiting_review_since"]), free_pair=pair,
        free_pair_at=parse_time(e["free_pair_at"]), keys=tuple(keys),
        operators=tuple(operators), registered_at=to_time(e["registered_at"]),
        version=e["version"], last_index=e["last_index"],
    )  # fmt: skip
