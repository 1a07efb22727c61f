"""The window's work queue: what waits for staff, oldest first, with its age.

A derived view: queries over the enterprise-overview and key-status tables, so it is exactly as
current as those two (its position is the lower of theirs).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict

from ledger_store.eventstore.database import LedgerDatabase, SqlCursor
from projections.engine.entries import to_time
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.query import now_or, snapshot
from projections.engine.schema import TableNames
from projections.enterprise_overview.fold import ENTERPRISES as OVERVIEW
from projections.key_status.fold import ENTERPRISES as KEY_ENTERPRISES, KEYS, RENEWALS, TERMINAL

VIEWS = ("enterprise_overview", "key_status")
Stage = Literal[
    "awaiting_review",
    "approved_awaiting_issue",
    "issued_awaiting_mailing",
    "renewals_awaiting_pre_review",
    "renewals_awaiting_visit",
    "locked_keys",
    "certificates_to_update",
]
"""A stage of the window's work, in the queue's order (the API's `stage` parameter too)."""
STAGES: tuple[str, ...] = get_args(Stage)


class QueueItem(BaseModel):
    """One piece of work for the window."""

    model_config = ConfigDict(frozen=True)

    stage: str
    uscc: str
    enterprise_name: str | None
    card_no: str | None
    application_id: str | None
    since: datetime
    age_seconds: int
    age_days: int
    ledger_index: int


def _statements(t: TableNames) -> dict[str, str]:
    keys = f"FROM {t(KEYS.name)} k LEFT JOIN {t(KEY_ENTERPRISES.name)} e ON e.uscc = k.uscc"
    renewals = (
        f"FROM {t(RENEWALS.name)} r JOIN {t(KEYS.name)} k ON k.key_id = r.key_id "
        f"LEFT JOIN {t(KEY_ENTERPRISES.name)} e ON e.uscc = k.uscc"
    )
    terminal = ", ".join(f"'{status}'" for status in TERMINAL)  # constants, not input
    usable = f"k.stored_status NOT IN ({terminal})"
    enterprises = f"SELECT uscc, name, NULL, NULL, {{0}}, last_index FROM {t(OVERVIEW.name)}"
    return {
        "awaiting_review": enterprises.format("awaiting_review_since")
        + " WHERE review_state = 'awaiting_review' ORDER BY awaiting_review_since, uscc",
        "approved_awaiting_issue": enterprises.format("approved_at")
        + " WHERE review_state = 'approved' AND free_pair_at IS NULL ORDER BY approved_at, uscc",
        "issued_awaiting_mailing": "SELECT k.uscc, e.name, k.card_no, NULL, k.issued_at, "
        f"k.issued_index {keys} WHERE k.stored_status = 'issued' AND k.supplier IS NULL "
        "AND k.mailed_at IS NULL ORDER BY k.issued_at, k.card_no",
        "renewals_awaiting_pre_review": "SELECT k.uscc, e.name, k.card_no, r.application_id, "
        f"r.requested_at, r.requested_index {renewals} WHERE r.state = 'requested' AND {usable} "
        "ORDER BY r.requested_at, k.card_no",
        "renewals_awaiting_visit": "SELECT k.uscc, e.name, k.card_no, r.application_id, "
        f"r.pre_approved_at, r.last_index {renewals} WHERE r.state = 'pre_approved' "
        f"AND {usable} ORDER BY r.pre_approved_at, k.card_no",
        "locked_keys": "SELECT k.uscc, e.name, k.card_no, NULL, k.locked_at, k.last_index "
        f"{keys} WHERE k.stored_status = 'locked' ORDER BY k.locked_at, k.card_no",
        # legal-person keys whose certificate predates a change of legal representative (变更):
        # until the certificate is renewed (valid_from moves) or the key replaced or voided
        "certificates_to_update": "SELECT k.uscc, e.name, k.card_no, NULL, "
        f"e.representative_changed_at, e.representative_changed_index {keys} "
        "WHERE k.kind = 'legal_person' AND e.representative_changed_at > k.valid_from "
        f"AND {usable} ORDER BY e.representative_changed_at, k.card_no",
    }


def _items(stage: str, rows: list[tuple[Any, ...]], now: datetime) -> list[QueueItem]:
    items = []
    for uscc, name, card_no, application_id, since_text, index in rows:
        since = to_time(since_text)
        age = now - since
        items.append(
            QueueItem(
                stage=stage, uscc=uscc, enterprise_name=name, card_no=card_no,
                application_id=application_id, since=since,
                age_seconds=int(age.total_seconds()), age_days=age.days, ledger_index=index,
            )
        )  # fmt: skip
    return items


def select_queue(
    cursor: SqlCursor, tables: TableNames, stages: tuple[str, ...], now: datetime, limit: int
) -> list[QueueItem]:
    """The queue inside a read transaction the caller holds."""
    statements = _statements(tables)
    items: list[QueueItem] = []
    for stage in stages:
        rows = cursor.execute(f"{statements[stage]} LIMIT ?", (limit,)).fetchall()
        items += _items(stage, rows, now)
    return items


def window_queue(
    database: LedgerDatabase,
    *,
    stage: str | None = None,
    now: datetime | None = None,
    limit: int = 100,
    fresh: Freshness = NO_WAIT,
    names: TableNames | None = None,
) -> list[QueueItem]:
    """Work waiting at the window, by stage (all stages when None), oldest first in each."""
    if stage is not None and stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    stages = (stage,) if stage is not None else STAGES
    with snapshot(database, VIEWS, fresh, names) as (cursor, tables):
        return select_queue(cursor, tables, stages, now_or(now), limit)
