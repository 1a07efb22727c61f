"""Key status (hotline and window): one row per key, its holder, renewals and enterprise name.

Fed by KeyIssued … KeyReplaced (the key), OperatorRegistered (the holder's data, sealed),
EnterpriseRegistered and EnterpriseInfoChanged (the enterprise's name). `expired` is never
stored: it depends on the clock and is computed at query time from `valid_until`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.forms import MAILING_RECIPIENT_FIELDS
from domain.ukey.status import INCIDENTS, lifecycle_status
from ledger_store.eventstore.database import SqlCursor
from projections.engine.entries import Item, norm_time
from projections.engine.personal import personal_text
from projections.engine.rows import Row, RowSet
from projections.engine.schema import TableNames, TableSpec
from projections.engine.view import Fold, View

T, B = "TEXT", "BIGINT"

KEYS = TableSpec(
    "view_keys",
    (
        ("key_id", T), ("card_no", T), ("kind", T), ("media", T), ("uscc", T),
        ("holder_id", T), ("holder_name", T), ("supplier", T), ("certificate_number", T),
        ("valid_from", T), ("valid_until", T), ("stored_status", T),
        ("pin_is_initial", B), ("consecutive_failures", B),
        ("locked", B), ("lost", B), ("frozen", B), ("voided", B),
        ("issued_at", T), ("issued_index", B), ("first_use_at", T), ("mailed_at", T),
        ("delivered_at", T), ("delivery_channel", T), ("locked_at", T),
        ("mail_case_number", T), ("mail_order_number", T), ("mail_ems_number", T),
        ("mail_company_name", T), ("mail_recipient_name", T), ("mail_recipient_phone", T),
        ("mail_recipient_address", T), ("mail_postcode", T),
        ("replaces", T), ("replaced_by", T), ("personal_data_erased", B), ("incident_reason", T),
        ("version", B), ("last_index", B), ("last_at", T), ("last_event", T),
    ),
    ("key_id",),
    (("card_no",), ("uscc",), ("holder_id",), ("valid_until",), ("stored_status", "issued_at")),
)  # fmt: skip
HOLDERS = TableSpec(
    "view_key_holders",
    (
        ("holder_id", T), ("uscc", T), ("kind", T), ("person", T), ("registered_index", B),
    ),
    ("holder_id",),
)  # fmt: skip
RENEWALS = TableSpec(
    "view_key_renewals",
    (
        ("renewal_id", T), ("key_id", T), ("application_id", T), ("state", T),
        ("requested_at", T), ("requested_index", B), ("pre_approved_at", T), ("completed_at", T),
        ("last_index", B),
    ),
    ("renewal_id",),
    (("key_id",), ("state", "requested_at")),
)  # fmt: skip
ENTERPRISES = TableSpec(
    "view_key_enterprises",
    (
        ("enterprise_id", T), ("uscc", T), ("name", T),
        ("representative_changed_at", T), ("representative_changed_index", B),
    ),
    ("enterprise_id",),
    (("uscc",),),
)  # fmt: skip

KEY_EVENTS = frozenset(
    {
        "KeyMailed", "KeyDelivered", "PinAttemptFailed", "PinAttemptSucceeded", "PinLocked",
        "PinUnlocked", "PinChanged", "CertificateRenewalRequested",
        "CertificateRenewalPreApproved", "CertificateRenewed", "KeyReportedLost", "KeyFrozen",
        "KeyUnfrozen", "KeyVoided", "KeyReplaced",
    }
)  # fmt: skip
RENEWAL_EVENTS = frozenset({"CertificateRenewalPreApproved", "CertificateRenewed"})
MAIL_FIELDS = {
    "mail_case_number": "case_number",
    "mail_order_number": "order_number",
    "mail_ems_number": "ems_tracking_number",
    "mail_company_name": "company_name",
    "mail_recipient_name": "recipient_name",
    "mail_recipient_phone": "recipient_phone",
    "mail_recipient_address": "recipient_address",
    "mail_postcode": "postcode",
}
PERSONAL_MAIL = frozenset(MAILING_RECIPIENT_FIELDS)
"""Mailing fields about the recipient, a person: stored sealed, revealed by queries."""
TERMINAL = tuple(status.value for status in INCIDENTS)
"""The stored statuses that expiry does not override (the domain's incidents), as text."""


def stored_status(row: Row) -> str:
    """The status without the clock (the domain's rule: void > replaced > lost > frozen > …)."""
    return lifecycle_status(
        voided=bool(row["voided"]),
        replaced=row["replaced_by"] is not None,
        lost=bool(row["lost"]),
        frozen=bool(row["frozen"]),
        locked=bool(row["locked"]),
        in_use=row["first_use_at"] is not None,
        delivered=row["delivered_at"] is not None,
        mailed=row["mailed_at"] is not None,
    ).value


def renewal_id(key_id: str, application_id: str) -> str:
    """The renewal row's key."""
    return f"{key_id}/{application_id}"


class _Fold(Fold):
    """The key-status rows in memory, and the fold of each event into them."""

    def __init__(self, names: TableNames) -> None:
        self.keys = RowSet(KEYS, names)
        self.holders = RowSet(HOLDERS, names)
        self.renewals = RowSet(RENEWALS, names)
        self.enterprises = RowSet(ENTERPRISES, names)
        self.sets = (self.keys, self.holders, self.renewals, self.enterprises)

    def fold(self, cursor: SqlCursor, items: Sequence[Item]) -> None:
        self.keys.load(cursor, {i.originator_id for i in items if i.event in KEY_EVENTS})
        self.renewals.load(
            cursor,
            {
                renewal_id(i.originator_id, i.data["application_id"])
                for i in items
                if i.event in RENEWAL_EVENTS
            },
        )
        self.enterprises.load(
            cursor, {i.originator_id for i in items if i.event == "EnterpriseInfoChanged"}
        )
        rows, dirty = self.keys.rows, self.keys.dirty
        self.holders.load(cursor, self._erased_holders(items))
        for item in items:
            name = item.event
            if name in KEY_EVENTS:
                row = rows.get(item.originator_id)
                if row is None:  # pragma: no cover - the ledger never has one without KeyIssued
                    continue
                self._key_event(name, item, row)
                row["version"] = item.version
                row["last_index"] = item.index
                row["last_at"] = item.at
                row["last_event"] = name
                dirty.add(item.originator_id)
            elif name == "KeyIssued":
                self._issued(item)
            elif name == "OperatorRegistered":
                self._holder(item)
            elif name == "EnterpriseRegistered":
                data = item.data
                self.enterprises.create(
                    item.originator_id, {"uscc": data["uscc"], "name": data["name"]}, new=True
                )
            elif name == "EnterpriseInfoChanged":
                enterprise = self.enterprises.get(item.originator_id)
                if enterprise is None:  # pragma: no cover - registered before any change
                    continue
                new_name = item.data["change"].get("name")
                if new_name is not None:
                    enterprise["name"] = new_name
                if item.data["legal_representative_changed"]:  # the legal-person certificates
                    enterprise["representative_changed_at"] = item.at
                    enterprise["representative_changed_index"] = item.index
                self.enterprises.touch(item.originator_id)

    def _erased_holders(self, items: Sequence[Item]) -> set[Any]:
        """The holders whose personal data a void in this batch erases (keys issued in the
        batch included, since their rows exist only once the batch is folded)."""
        erasing = {
            i.originator_id
            for i in items
            if i.event == "KeyVoided" and i.data["personal_data_erased"]
        }
        if not erasing:
            return set()
        issued = {i.originator_id: i.data["holder_id"] for i in items if i.event == "KeyIssued"}
        rows = [self.keys.get(key) for key in erasing]
        return {row["holder_id"] for row in rows if row} | {
            issued[key] for key in erasing if key in issued
        }

    def _erase_holder(self, holder_id: Any) -> None:
        """The holder withdrew consent: the view keeps no name, ID number or phone of them."""
        holder = self.holders.get(holder_id)
        if holder is not None:
            holder["person"] = None
            self.holders.touch(holder_id)

    def _key_event(self, name: str, item: Item, row: Row) -> None:
        data, at = item.data, item.at
        if name == "PinAttemptSucceeded":
            row["consecutive_failures"] = 0
            row["first_use_at"] = row["first_use_at"] or at
        elif name == "PinAttemptFailed":
            row["consecutive_failures"] = data["consecutive_failures"]
        elif name == "PinLocked":
            row["locked"], row["locked_at"] = 1, at
        elif name == "PinUnlocked":
            row.update(locked=0, locked_at=None, consecutive_failures=0, pin_is_initial=1)
        elif name == "PinChanged":
            row["pin_is_initial"], row["consecutive_failures"] = 0, 0
            row["first_use_at"] = row["first_use_at"] or at
        elif name == "KeyMailed":
            details: dict[str, Any] = data["details"]
            row["mailed_at"] = at
            for column, field in MAIL_FIELDS.items():
                value = details[field]
                row[column] = personal_text(value) if field in PERSONAL_MAIL else value
        elif name == "KeyDelivered":
            row["delivered_at"], row["delivery_channel"] = at, data["channel"]
        elif name == "KeyReportedLost":
            row["lost"], row["incident_reason"] = 1, data["reason"]
        elif name == "KeyFrozen":
            row["frozen"], row["incident_reason"] = 1, data["reason"]
        elif name == "KeyUnfrozen":  # the freeze's reason goes with it (a loss keeps its own)
            row["frozen"] = 0
            if not row["lost"]:
                row["incident_reason"] = None
        elif name == "KeyVoided":
            row["voided"], row["incident_reason"] = 1, data["reason"]
            if data["personal_data_erased"]:
                row.update(dict.fromkeys(MAIL_FIELDS), holder_name=None, personal_data_erased=1)
                self._erase_holder(row["holder_id"])
        elif name == "KeyReplaced":
            row["replaced_by"], row["incident_reason"] = data["new_card_no"], data["reason"]
        else:
            self._renewal(name, item, row)

    def _renewal(self, name: str, item: Item, row: Row) -> None:
        application = item.data["application_id"]
        key = renewal_id(item.originator_id, application)
        if name == "CertificateRenewalRequested":
            self.renewals.create(
                key,
                {
                    "key_id": item.originator_id, "application_id": application,
                    "state": "requested", "requested_at": item.at, "requested_index": item.index,
                    "last_index": item.index,
                },
                new=True,
            )  # fmt: skip
            return
        renewal = self.renewals.get(key)
        if name == "CertificateRenewed":
            row.update(
                valid_from=item.at, valid_until=norm_time(item.data["valid_until"]),
                certificate_number=item.data["certificate_number"], pin_is_initial=1,
                consecutive_failures=0, locked=0, locked_at=None,
            )  # fmt: skip
            if renewal is not None:
                renewal.update(state="completed", completed_at=item.at, last_index=item.index)
                self.renewals.touch(key)
        elif renewal is not None:  # CertificateRenewalPreApproved
            renewal.update(state="pre_approved", pre_approved_at=item.at, last_index=item.index)
            self.renewals.touch(key)

    def _issued(self, item: Item) -> None:
        d = item.data
        self.keys.create(
            item.originator_id,
            {
                "card_no": d["card_no"], "kind": d["kind"], "media": d["media"],
                "uscc": d["uscc"], "holder_id": d["holder_id"],
                "holder_name": personal_text(d["holder_name"]),
                "supplier": d["supplier"], "certificate_number": d["certificate_number"],
                "valid_from": norm_time(d["valid_from"]),
                "valid_until": norm_time(d["valid_until"]),
                "pin_is_initial": 1, "consecutive_failures": 0, "locked": 0, "lost": 0,
                "frozen": 0, "voided": 0, "personal_data_erased": 0, "replaces": d["replaces"],
                "issued_at": item.at, "issued_index": item.index, "version": item.version,
                "last_index": item.index, "last_at": item.at, "last_event": item.event,
            },
            new=True,
        )  # fmt: skip

    def _holder(self, item: Item) -> None:
        data = item.data
        holder = data["holder"]  # sealed (or a 0.1.0 ledger's plaintext): revealed by queries
        self.holders.create(
            item.originator_id,
            {
                "uscc": data["uscc"], "kind": data["holder_kind"],
                "person": personal_text(holder), "registered_index": item.index,
            },
            new=True,
        )  # fmt: skip

    def flush(self, cursor: SqlCursor) -> None:
        for key in self.keys.dirty:
            row = self.keys.rows[key]
            row["stored_status"] = stored_status(row)
        for rows in self.sets:
            rows.flush(cursor)

    def size(self) -> int:
        return sum(len(rows) for rows in self.sets)

    def forget(self) -> None:
        for rows in self.sets:
            rows.forget()


class KeyStatusView(View):
    """Every key's current status, holder, PIN state, validity, mailing and replacement chain."""

    name = "key_status"
    version = 3  # v3: delivery channel, lifted freezes, legal-representative changes
    tables = (KEYS, HOLDERS, RENEWALS, ENTERPRISES)

    def start(self, names: TableNames) -> Fold:
        """A fold of key-status rows."""
        return _Fold(names)
