"""The expiry calendar: keys whose validity ends within N days of `now` (a derived view over
the key-status tables). Void, replaced, lost and frozen keys are left out: nobody renews them."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain.ukey.status import KeyStatus, days_left, is_expired, status_at
from projections.engine.entries import time_text, to_time
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.personal import Revealed
from projections.engine.query import ViewSource, now_or
from projections.key_status.fold import ENTERPRISES, KEYS, TERMINAL

VIEWS = ("key_status",)


class ExpiringKey(BaseModel):
    """A key coming up for renewal (or already expired, when asked)."""

    model_config = ConfigDict(frozen=True)

    card_no: str
    uscc: str
    enterprise_name: str | None
    kind: str
    media: str
    holder_name: str | None
    status: str
    valid_until: datetime
    days_left: int


def expiring_keys(
    source: ViewSource,
    *,
    within_days: int = 30,
    now: datetime | None = None,
    include_expired: bool = False,
    limit: int = 1000,
    fresh: Freshness = NO_WAIT,
) -> list[ExpiringKey]:
    """Keys expiring within `within_days` of `now`, soonest first (expired ones too if asked)."""
    if within_days < 0:
        raise ValueError("within_days must not be negative")
    moment = now_or(now)
    start, end = time_text(moment), time_text(moment + timedelta(days=within_days))
    lower = "" if include_expired else "k.valid_until >= ? AND "
    params = ([] if include_expired else [start]) + [end, *TERMINAL, limit]
    marks = ",".join("?" * len(TERMINAL))
    with source.snapshot(VIEWS, fresh) as (cursor, t):
        rows = cursor.execute(
            "SELECT k.card_no, k.uscc, e.name, k.kind, k.media, k.holder_name, k.stored_status, "
            f"k.valid_until FROM {t(KEYS.name)} k LEFT JOIN {t(ENTERPRISES.name)} e "
            f"ON e.uscc = k.uscc WHERE {lower}k.valid_until <= ? "
            f"AND k.stored_status NOT IN ({marks}) ORDER BY k.valid_until, k.card_no LIMIT ?",
            params,
        ).fetchall()
        reveal = Revealed.read(source.vault, cursor, [row[5] for row in rows])
    keys = []
    for card_no, uscc, name, kind, media, holder, stored, until_text in rows:
        until = to_time(until_text)
        keys.append(
            ExpiringKey(
                card_no=card_no, uscc=uscc, enterprise_name=name, kind=kind, media=media,
                holder_name=reveal.text(holder),
                status=status_at(KeyStatus(stored), expired=is_expired(until, moment)).value,
                valid_until=until, days_left=days_left(until, moment),
            )
        )  # fmt: skip
    return keys
