"""Audit trail: files every ledger entry under its stream (`enterprise:{uscc}`, `key:{card_no}`,
`operator:{uuid}`) and its enterprise, and indexes the ledger by time for as-of questions.

Fed by every event: creation events (EnterpriseRegistered, KeyIssued, OperatorRegistered) name
an aggregate's stream and enterprise; every entry's time feeds the time index, which keeps per
bucket of BUCKET consecutive entries the latest time in it (so "the first entry recorded after
T" is found in the first bucket whose latest time is after T). The payload, actor, request,
topic and hashes are not copied: queries read the ledger's own rows, so the trail can never
disagree with what was hashed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ledger_store.eventstore.database import SqlCursor
from projections.engine.entries import Item
from projections.engine.rows import RowSet
from projections.engine.schema import TableNames, TableSpec
from projections.engine.sqlbulk import insert_rows
from projections.engine.view import Fold, View

T, B = "TEXT", "BIGINT"

STREAMS = TableSpec(
    "view_audit_streams",
    (("originator_id", T), ("stream", T), ("uscc", T), ("ledger_index", B)),
    ("originator_id",),
    (("stream",), ("uscc",)),
)
TIMES = TableSpec(
    "view_audit_times",
    (("bucket", B), ("last_index", B), ("max_time", T)),
    ("bucket",),
    (("max_time",),),
)
BUCKET = 256
"""Entries per time-index bucket: bucket b holds ledger indexes b*BUCKET+1 … (b+1)*BUCKET."""

CREATIONS = {
    "EnterpriseRegistered": ("enterprise", "uscc"),
    "KeyIssued": ("key", "card_no"),
    "OperatorRegistered": ("operator", None),
}


def _latest_by_bucket(items: Sequence[Item]) -> dict[int, tuple[int, str]]:
    """Per bucket the items fall in: the last index and the latest time."""
    latest: dict[int, tuple[int, str]] = {}
    start = 0
    while start < len(items):  # ledger indexes are dense: slice the items bucket by bucket
        bucket = (items[start].index - 1) // BUCKET
        end = start + (bucket + 1) * BUCKET - items[start].index + 1
        chunk = items[start:end]
        if (chunk[-1].index - 1) // BUCKET != bucket:  # not dense after all: one by one
            chunk = [i for i in chunk if (i.index - 1) // BUCKET == bucket]
            end = start + len(chunk)
        latest[bucket] = (chunk[-1].index, max(item.at for item in chunk))
        start = end
    return latest


class _Fold(Fold):
    """New streams to insert, and the time buckets in memory."""

    def __init__(self, names: TableNames) -> None:
        self.streams_table = names(STREAMS.name)
        self.streams: list[tuple[Any, ...]] = []
        self.times = RowSet(TIMES, names)

    def fold(self, cursor: SqlCursor, items: Sequence[Item]) -> None:
        for item in items:
            if item.event in CREATIONS and item.version == 1:
                kind, field = CREATIONS[item.event]
                oid = item.originator_id
                natural = oid if field is None else item.data[field]
                self.streams.append((oid, f"{kind}:{natural}", item.data["uscc"], item.index))
        times = self.times
        latest = _latest_by_bucket(items)
        times.load(cursor, latest)
        for bucket, (last, at) in latest.items():
            row = times.get(bucket)
            if row is None:
                times.create(bucket, {"last_index": last, "max_time": at})
            else:
                row.update(last_index=last, max_time=max(at, row["max_time"]))
                times.touch(bucket)

    def flush(self, cursor: SqlCursor) -> None:
        insert_rows(cursor, self.streams_table, STREAMS, self.streams)
        self.streams = []
        self.times.flush(cursor)

    def size(self) -> int:
        return len(self.streams) + len(self.times)

    def forget(self) -> None:
        self.times.forget()


class AuditTrailView(View):
    """Each aggregate's stream and enterprise, and the ledger's time index."""

    name = "audit_trail"
    version = 2
    tables = (STREAMS, TIMES)

    def start(self, names: TableNames) -> Fold:
        """A fold of the trail's rows."""
        return _Fold(names)
