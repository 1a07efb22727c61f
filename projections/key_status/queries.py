"""Queries of the key-status view: one key by card number, keys by enterprise, holder or status.

The hotline reads through a `ViewSource` with `mask=True` (ID `4601**********0016`, phone
`138****8000`); window staff and auditors with `mask=False`. `expired` and `days_left` are
computed against `now`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.forms import MAILING_RECIPIENT_FIELDS, KeyKind, Supplier
from domain.ukey.status import KeyStatus, attempts_left, days_left, is_expired, status_at
from ledger_store.eventstore.async_pool import AsyncPool
from ledger_store.eventstore.database import SqlCursor
from ledger_store.privacy.vault import PersonalDataVault, normalised
from projections.engine.entries import parse_time, time_text, to_time
from projections.engine.freshness import NO_WAIT, Freshness
from projections.engine.personal import Revealed, joined_keys, keys_in
from projections.engine.query import ViewSource, masked_id, masked_phone, now_or
from projections.engine.schema import TableNames
from projections.engine.sqlbulk import select_where_in
from projections.key_status.advice import advice_for
from projections.key_status.fold import ENTERPRISES, HOLDERS, KEYS, RENEWALS, TERMINAL
from projections.key_status.records import Holder, KeyRecord, LastChange, Mailing, Renewal

VIEWS = ("key_status",)
STATUSES = tuple(status.value for status in KeyStatus)


RENEWAL_COLUMNS = ("application_id", "state", "requested_at", "pre_approved_at", "completed_at")


def _renewals(rows: Iterable[Sequence[Any]]) -> list[Renewal]:
    """Renewal applications from (application, state, requested, pre-approved, completed)."""
    return [
        Renewal(
            application_id=application, state=state, requested_at=parse_time(requested),
            pre_approved_at=parse_time(pre_approved), completed_at=parse_time(completed),
        )
        for application, state, requested, pre_approved, completed in sorted(
            rows, key=lambda r: r[2] or ""
        )
    ]  # fmt: skip


def _select(names: TableNames, renewal_columns: Sequence[str] = (), keys: str = "") -> str:
    cols = ", ".join(f"k.{c}" for c in KEYS.column_names)
    more = "".join(f", r.{c}" for c in renewal_columns) + (f", {keys}" if keys else "")
    return (
        f"SELECT {cols}, e.name, e.representative_changed_at, h.person{more} "
        f"FROM {names(KEYS.name)} k "
        f"LEFT JOIN {names(ENTERPRISES.name)} e ON e.uscc = k.uscc "
        f"LEFT JOIN {names(HOLDERS.name)} h ON h.holder_id = k.holder_id"
    )


EXTRA = 3
"""The columns `_select` reads after the key's own: the enterprise's name, when it last changed
its legal representative, and the holder's (sealed) data."""
PERSONAL_COLUMNS = ("holder_name", *(f"mail_{field}" for field in MAILING_RECIPIENT_FIELDS))
"""The key row's columns that hold a person's data (sealed JSON; see engine/personal.py)."""


def personal_texts(rows: Iterable[Sequence[Any]]) -> list[str | None]:
    """The sealed values of key rows (as `_select` reads them) that a query must reveal."""
    positions = [KEYS.column_names.index(c) for c in PERSONAL_COLUMNS]
    holder = len(KEYS.column_names) + EXTRA - 1  # h.person, the last of the extra columns
    return [row[i] for row in rows for i in (*positions, holder)]


def _records(
    cursor: SqlCursor,
    names: TableNames,
    rows: list[tuple[Any, ...]],
    vault: PersonalDataVault,
    mask: bool,
    now: datetime,
) -> list[KeyRecord]:
    width = len(KEYS.column_names)
    key_ids = [row[0] for row in rows]
    columns = ("key_id", *RENEWAL_COLUMNS)
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    for found in select_where_in(cursor, names(RENEWALS.name), columns, "key_id", key_ids):
        grouped.setdefault(found[0], []).append(found[1:])
    renewals = {key_id: _renewals(applications) for key_id, applications in grouped.items()}
    reveal = Revealed.read(vault, cursor, personal_texts(rows))
    return [
        _record(dict(zip(KEYS.column_names, row[:width], strict=True)), row[width:], renewals,
                reveal, mask, now)
        for row in rows
    ]  # fmt: skip


def _record(
    k: dict[str, Any],
    extra: tuple[Any, ...],
    renewals: dict[str, list[Renewal]],
    reveal: Revealed,
    mask: bool,
    now: datetime,
) -> KeyRecord:
    enterprise_name, representative_changed_at, person = extra[:EXTRA]
    erased = bool(k["personal_data_erased"]) or reveal.erased(k["holder_name"])
    valid_until = to_time(k["valid_until"])
    holder = Holder(
        id=k["holder_id"],
        name=None if erased else reveal.text(k["holder_name"]),
        id_type=None if erased else reveal.field(person, "id_type"),
        id_number=None if erased else masked_id(reveal.field(person, "id_number"), mask),
        phone=None if erased else masked_phone(reveal.field(person, "phone"), mask),
    )
    mailing = None
    if k["mailed_at"] is not None and not erased:
        mailing = Mailing(
            case_number=k["mail_case_number"], order_number=k["mail_order_number"],
            ems_number=k["mail_ems_number"], company_name=k["mail_company_name"],
            recipient_name=reveal.text(k["mail_recipient_name"]),
            recipient_phone=masked_phone(reveal.text(k["mail_recipient_phone"]), mask),
            recipient_address=reveal.text(k["mail_recipient_address"]),
            postcode=reveal.text(k["mail_postcode"]),
            mailed_at=parse_time(k["mailed_at"]), delivered_at=parse_time(k["delivered_at"]),
        )  # fmt: skip
    status = status_at(KeyStatus(k["stored_status"]), expired=is_expired(valid_until, now))
    certificate_update_needed = certificate_outdated(
        kind=k["kind"],
        stored_status=k["stored_status"],
        valid_from=k["valid_from"],
        representative_changed_at=representative_changed_at,
    )
    left = days_left(valid_until, now)
    advice = advice_for(
        status=status, kind=KeyKind(k["kind"]),
        supplier=None if k["supplier"] is None else Supplier(k["supplier"]), days_left=left,
        failed_attempts=k["consecutive_failures"], initial_pin=bool(k["pin_is_initial"]),
        replaced_by=k["replaced_by"], certificate_update_needed=certificate_update_needed,
    )  # fmt: skip
    return KeyRecord(
        card_no=k["card_no"], status=status.value,
        kind=k["kind"], media=k["media"], supplier=k["supplier"],
        certificate_number=k["certificate_number"], uscc=k["uscc"],
        enterprise_name=enterprise_name, holder=holder,
        failed_attempts=k["consecutive_failures"],
        attempts_left=attempts_left(
            locked=bool(k["locked"]), consecutive_failures=k["consecutive_failures"]
        ),
        initial_pin=bool(k["pin_is_initial"]), valid_from=to_time(k["valid_from"]),
        valid_until=valid_until, days_left=left,
        issued_at=to_time(k["issued_at"]), delivered_at=parse_time(k["delivered_at"]),
        delivery_channel=k["delivery_channel"], first_use_at=parse_time(k["first_use_at"]),
        locked_at=parse_time(k["locked_at"]), mailing=mailing, replaces=k["replaces"],
        replaced_by=k["replaced_by"], incident_reason=k["incident_reason"],
        certificate_update_needed=certificate_update_needed, personal_data_erased=erased,
        renewals=tuple(renewals.get(k["key_id"], ())),
        version=k["version"],
        last_change=LastChange(
            ledger_index=k["last_index"], at=to_time(k["last_at"]), event=k["last_event"]
        ),
        advice=advice,
    )  # fmt: skip


def certificate_outdated(
    *, kind: str, stored_status: str, valid_from: str, representative_changed_at: str | None
) -> bool:
    """Whether a legal-person key's certificate predates the last change of its enterprise's
    legal representative, on a key not lost, frozen, void or replaced (view times are text
    that sorts)."""
    return (
        kind == KeyKind.LEGAL_PERSON.value
        and representative_changed_at is not None
        and representative_changed_at > valid_from
        and stored_status not in TERMINAL
    )


def get_key(
    source: ViewSource, card_no: str, *, now: datetime | None = None, fresh: Freshness = NO_WAIT
) -> KeyRecord | None:
    """One key by its card number (卡号), or None."""
    moment = now_or(now)
    with source.snapshot(VIEWS, fresh) as (cursor, tables):
        rows = cursor.execute(*_key_statement(tables, card_no)).fetchall()
    return _key_from_rows(rows, source, moment)


async def get_key_async(
    source: ViewSource,
    pool: AsyncPool | None,
    card_no: str,
    *,
    now: datetime | None = None,
    fresh: Freshness = NO_WAIT,
) -> KeyRecord | None:
    """`get_key` on the event loop: through `pool` where the backend has one (PostgreSQL),
    else in a worker thread."""
    if pool is None:
        return await asyncio.to_thread(get_key, source, card_no, now=now, fresh=fresh)
    tables = source.tables
    await fresh.require_async(tables, VIEWS)
    moment = now_or(now)
    rows = await pool.fetchall(*_key_statement(tables, card_no))
    return _key_from_rows(rows, source, moment)


SEALED_UNDER = ("k.holder_name", "k.mail_recipient_name", "h.person")
"""The columns of a key row sealed under different keys (holder, mail recipient; the holder's
record may be under a later key of the same person): one lookup joins each one's key."""


def _key_statement(tables: TableNames, card_no: str) -> tuple[str, tuple[str]]:
    """ONE statement: the key with its renewals (a row per renewal, usually one row) and the
    data keys its personal values were sealed under (no second round trip to reveal them)."""
    keys, joins, _ = joined_keys(tables, SEALED_UNDER)
    return (
        f"{_select(tables, RENEWAL_COLUMNS, keys)} "
        f"LEFT JOIN {tables(RENEWALS.name)} r ON r.key_id = k.key_id {joins} "
        "WHERE k.card_no = ?",
        (card_no,),
    )


def _key_from_rows(
    rows: Sequence[tuple[Any, ...]], source: ViewSource, moment: datetime
) -> KeyRecord | None:
    if not rows:
        return None
    width = len(KEYS.column_names) + EXTRA
    renewals_end = width + len(RENEWAL_COLUMNS)
    renewals = {
        rows[0][0]: _renewals(row[width:renewals_end] for row in rows if row[width] is not None)
    }
    key = dict(zip(KEYS.column_names, rows[0][: width - EXTRA], strict=True))
    reveal = Revealed(source.vault, keys_in(rows[0][renewals_end:]))
    return _record(key, rows[0][width - EXTRA : width], renewals, reveal, source.mask, moment)


def _status_filter(status: str, now_text: str) -> tuple[str, list[Any]]:
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    terminal = ",".join("?" * len(TERMINAL))
    if status == "expired":
        return f"k.stored_status NOT IN ({terminal}) AND k.valid_until < ?", [*TERMINAL, now_text]
    if status in TERMINAL:
        return "k.stored_status = ?", [status]
    return "k.stored_status = ? AND k.valid_until >= ?", [status, now_text]


def find_keys(
    source: ViewSource,
    *,
    uscc: str | None = None,
    holder: str | None = None,
    phone: str | None = None,
    id_number: str | None = None,
    company: str | None = None,
    status: str | None = None,
    now: datetime | None = None,
    limit: int = 100,
    after_card_no: str | None = None,
    fresh: Freshness = NO_WAIT,
) -> list[KeyRecord]:
    """Keys by enterprise (USCC or a part of its name), by their holder's name, phone or ID
    number (exact, through the blind index), and/or status; by card number, `limit` at a time."""
    moment = now_or(now)
    finders = {"name": holder, "phone": phone, "id_number": id_number}
    people: set[UUID] | None = None
    for kind, value in finders.items():
        if value is not None:
            subjects = source.vault.find(kind, value)
            people = subjects if people is None else people & subjects
    with source.snapshot(VIEWS, fresh) as (cursor, tables):
        found = select_keys(
            cursor, tables, source.vault, mask=source.mask and people is None, now=moment,
            uscc=uscc, people=people, company=company, status=status, limit=limit,
            after_card_no=after_card_no,
        )  # fmt: skip
    if people is None:
        return found
    # The blind index keeps every name or phone a person was ever filed under; the answer is
    # the keys whose holder is so named now (compared revealed, then masked for the hotline).
    wanted = {kind: normalised(kind, value) for kind, value in finders.items() if value}
    current = [record for record in found if _holder_matches(record, wanted)]
    return [masked(record) for record in current] if source.mask else current


def _holder_matches(record: KeyRecord, wanted: dict[str, str]) -> bool:
    """Whether the key's holder has now every name, phone or ID number asked."""
    holder = record.holder
    values = {"name": holder.name, "phone": holder.phone, "id_number": holder.id_number}
    return all(
        values[kind] is not None and normalised(kind, values[kind] or "") == value
        for kind, value in wanted.items()
    )


def masked(record: KeyRecord) -> KeyRecord:
    """A key as the hotline sees it: ID numbers and phones masked."""
    holder = record.holder.model_copy(
        update={
            "id_number": masked_id(record.holder.id_number, True),
            "phone": masked_phone(record.holder.phone, True),
        }
    )
    mailing = record.mailing
    if mailing is not None:
        mailing = mailing.model_copy(
            update={"recipient_phone": masked_phone(mailing.recipient_phone, True)}
        )
    return record.model_copy(update={"holder": holder, "mailing": mailing})


def select_keys(
    cursor: SqlCursor,
    tables: TableNames,
    vault: PersonalDataVault,
    *,
    mask: bool,
    now: datetime,
    uscc: str | None = None,
    people: Collection[UUID] | None = None,
    company: str | None = None,
    status: str | None = None,
    limit: int = 100,
    after_card_no: str | None = None,
) -> list[KeyRecord]:
    """`find_keys` inside a read transaction the caller holds."""
    where: list[str] = []
    params: list[Any] = []
    if uscc is not None:
        where.append("k.uscc = ?")
        params.append(uscc)
    if people is not None:
        if not people:
            return []
        where.append(f"k.holder_id IN ({', '.join('?' * len(people))})")
        params += sorted(str(person) for person in people)
    if company is not None:
        where.append("e.name LIKE ? ESCAPE '\\'")
        params.append(f"%{escape_like(company.strip())}%")
    if status is not None:
        clause, values = _status_filter(status, time_text(now))
        where.append(clause)
        params += values
    if after_card_no is not None:
        where.append("k.card_no > ?")
        params.append(after_card_no)
    sql_where = f" WHERE {' AND '.join(where)}" if where else ""
    rows = cursor.execute(
        f"{_select(tables)}{sql_where} ORDER BY k.card_no LIMIT ?", [*params, limit]
    ).fetchall()
    return _records(cursor, tables, rows, vault, mask, now)


def keys_by_uscc(source: ViewSource, uscc: str, **options: Any) -> list[KeyRecord]:
    """Every key of one enterprise (up to `limit`, default 100)."""
    return find_keys(source, uscc=uscc, **options)


def keys_by_holder(source: ViewSource, holder_name: str, **options: Any) -> list[KeyRecord]:
    """Every key whose holder has exactly this name."""
    return find_keys(source, holder=holder_name, **options)


def escape_like(text: str) -> str:
    """`text` matched literally inside a LIKE pattern (escape character `\\`)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
