"""Enterprise overview: each enterprise's four filings, the window's review, the free pair, and
its card holders with their permissions (its keys come from the key-status view).

Fed by EnterpriseRegistered, FilingSubmitted, WindowApproved, WindowRejected,
EnterpriseInfoChanged, FreeKeyPairIssued (the enterprise) and OperatorRegistered,
PermissionsGranted, PermissionsRevoked (its card holders).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from ledger_store.eventstore.database import SqlCursor
from projections.engine.entries import Item
from projections.engine.personal import personal_text
from projections.engine.rows import Row, RowSet
from projections.engine.schema import TableNames, TableSpec
from projections.engine.view import Fold, View

T, B = "TEXT", "BIGINT"
FILING_KINDS = ("three_in_one", "customs", "forex", "operator_preentry")

ENTERPRISES = TableSpec(
    "view_enterprises",
    (
        ("enterprise_id", T), ("uscc", T), ("name", T), ("customs_code", T),
        ("receipt_number", T), ("region", T), ("legal_representative", T),
        ("business_address", T), ("review_state", T), ("review_outcome", T),
        ("review_reason", T), ("reviewer", T), ("review_window", T), ("reviewed_at", T),
        ("awaiting_review_since", T), ("approved_at", T), ("filings", T),
        ("free_lp_card_no", T), ("free_op_card_no", T), ("free_pair_at", T),
        ("registered_at", T), ("registered_index", B),
        ("version", B), ("last_index", B), ("last_at", T), ("last_event", T),
    ),
    ("enterprise_id",),
    (("uscc",), ("review_state", "awaiting_review_since")),
)  # fmt: skip
OPERATORS = TableSpec(
    "view_enterprise_operators",
    (
        ("operator_id", T), ("uscc", T), ("kind", T), ("person", T), ("permissions", T),
        ("declarer", T), ("verification_officer", T), ("warnings", T),
        ("registered_at", T), ("registered_index", B), ("registered_by", T),
        ("version", B), ("last_index", B), ("last_at", T),
    ),
    ("operator_id",),
    (("uscc", "registered_index"),),
)  # fmt: skip

ENTERPRISE_EVENTS = frozenset(
    {"FilingSubmitted", "WindowApproved", "WindowRejected", "EnterpriseInfoChanged",
     "FreeKeyPairIssued"}
)  # fmt: skip
OPERATOR_EVENTS = frozenset({"PermissionsGranted", "PermissionsRevoked"})
FED_BY = ENTERPRISE_EVENTS | OPERATOR_EVENTS | {"EnterpriseRegistered", "OperatorRegistered"}


def dumps(value: Any) -> str:
    """A small JSON document as sorted, compact text (equal values give equal text)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


class _Fold(Fold):
    """The overview's rows in memory (filings parsed), and the fold of each event into them."""

    def __init__(self, names: TableNames) -> None:
        self.enterprises = RowSet(ENTERPRISES, names)
        self.operators = RowSet(OPERATORS, names)
        self.filings: dict[str, dict[str, Any]] = {}

    def fold(self, cursor: SqlCursor, items: Sequence[Item]) -> None:
        mine = [i for i in items if i.event in FED_BY]
        self.enterprises.load(
            cursor, {i.originator_id for i in mine if i.event in ENTERPRISE_EVENTS}
        )
        self.operators.load(cursor, {i.originator_id for i in mine if i.event in OPERATOR_EVENTS})
        for item in mine:
            self.apply(item)

    def _filings(self, row: Row) -> dict[str, Any]:
        key = row["enterprise_id"]
        if key not in self.filings:
            self.filings[key] = orjson.loads(row["filings"]) if row["filings"] else {}
        return self.filings[key]

    def apply(self, item: Item) -> None:
        name, data = item.event, item.data
        if name == "EnterpriseRegistered":
            self.enterprises.create(
                item.originator_id,
                {
                    "uscc": data["uscc"], "name": data["name"],
                    "customs_code": data["customs_code"], "receipt_number": data["receipt_number"],
                    "region": data["region"], "review_state": "draft", "filings": "{}",
                    "registered_at": item.at, "registered_index": item.index,
                    "version": item.version, "last_index": item.index, "last_at": item.at,
                    "last_event": name,
                },
                new=True,
            )  # fmt: skip
            return
        if name in ENTERPRISE_EVENTS:
            row = self.enterprises.get(item.originator_id)
            if row is not None:
                self._enterprise(item, row)
                row.update(version=item.version, last_index=item.index, last_at=item.at)
                row["last_event"] = name
                self.enterprises.touch(item.originator_id)
        elif name == "OperatorRegistered":
            self.operators.create(
                item.originator_id,
                {
                    "uscc": data["uscc"], "kind": data["holder_kind"],
                    "person": personal_text(data["holder"]), "permissions": "[]",
                    "declarer": personal_text(data["customs_declarer"]),
                    "verification_officer": personal_text(data["verification_officer"]),
                    "warnings": dumps(data["warnings"]), "registered_at": item.at,
                    "registered_index": item.index, "registered_by": data["authorising_card_no"],
                    "version": item.version, "last_index": item.index, "last_at": item.at,
                },
                new=True,
            )  # fmt: skip
        elif name in OPERATOR_EVENTS:
            row = self.operators.get(item.originator_id)
            if row is not None:
                held = set(orjson.loads(row["permissions"]))
                changed = set(data["permissions"])
                held = held | changed if name == "PermissionsGranted" else held - changed
                row.update(
                    permissions=dumps(sorted(held)), version=item.version,
                    last_index=item.index, last_at=item.at,
                )  # fmt: skip
                self.operators.touch(item.originator_id)

    def _enterprise(self, item: Item, row: Row) -> None:
        name, data = item.event, item.data
        if name == "FilingSubmitted":
            filings = self._filings(row)
            kind = data["kind"]
            previous = filings.get(kind, {})
            filings[kind] = {
                "state": "submitted",
                "submitted_at": item.at,
                "ledger_index": item.index,
                "submissions": previous.get("submissions", 0) + 1,
            }
            if kind == "three_in_one":
                representative = data["filing"]["legal_representative"]
                row["legal_representative"] = personal_text(representative)
                row["business_address"] = data["filing"]["business_address"]
            if len(filings) == len(FILING_KINDS) and row["review_state"] != "awaiting_review":
                row.update(review_state="awaiting_review", awaiting_review_since=item.at)
        elif name in ("WindowApproved", "WindowRejected"):
            approved = name == "WindowApproved"
            outcome = "approved" if approved else "rejected"
            row.update(
                review_state=outcome, review_outcome=outcome, review_reason=data.get("reason"),
                reviewer=item.data["actor"]["principal_id"], review_window=data["window"],
                reviewed_at=item.at, awaiting_review_since=None,
            )  # fmt: skip
            if approved:
                row["approved_at"] = item.at
            for filing in self._filings(row).values():
                if approved or filing["state"] == "submitted":
                    filing["state"] = outcome
        elif name == "EnterpriseInfoChanged":
            change = data["change"]
            for field in ("name", "business_address"):
                if change.get(field) is not None:
                    row[field] = change[field]
            if change.get("legal_representative") is not None:
                row["legal_representative"] = personal_text(change["legal_representative"])
        elif name == "FreeKeyPairIssued":
            row.update(
                free_lp_card_no=data["legal_person_card_no"],
                free_op_card_no=data["operator_card_no"],
                free_pair_at=item.at,
            )

    def flush(self, cursor: SqlCursor) -> None:
        for key in self.enterprises.dirty:
            filings = self.filings.get(key)
            if filings is not None:
                self.enterprises.rows[key]["filings"] = dumps(filings)
        self.enterprises.flush(cursor)
        self.operators.flush(cursor)

    def size(self) -> int:
        return len(self.enterprises) + len(self.operators)

    def forget(self) -> None:
        self.enterprises.forget()
        self.operators.forget()
        self.filings.clear()


class EnterpriseOverviewView(View):
    """Each enterprise's filings, review, free pair, and card holders with their permissions."""

    name = "enterprise_overview"
    version = 2  # v2: personal data kept sealed (docs/privacy.md)
    tables = (ENTERPRISES, OPERATORS)

    def start(self, names: TableNames) -> Fold:
        """A fold of overview rows."""
        return _Fold(names)
