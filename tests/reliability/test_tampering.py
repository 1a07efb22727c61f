"""Tampering: 1,000 random alterations of the stored rows per backend — byte flips in state,
topic, ids and hashes; deletes; inserts; reorders; rewrites that recompute every later hash, even
with the Merkle tables wiped and re-signed by another key — and `verify` finds every one.

One small ledger (the demo's 3 enterprises, ~150 entries) is built once per backend with a
checkpoint an auditor keeps. Each alteration is written in one transaction, the verifier runs on
the altered rows through the real recorder, and the original rows are written back. Unaltered
controls are mixed in: verify must pass them, so it cannot pass this test by always failing."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.demo.scenario import Demo
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.eventstore.settings import Settings
from ledger_store.proofs.chain import GENESIS, chain_hash, entry_hash
from ledger_store.transparency.checkpointer import create_checkpoint
from ledger_store.transparency.signing_key import load_or_create_signing_key
from ledger_store.transparency.tree_store import CHECKPOINTS, KEYS, NODES, STATE
from replay.integrity import audit_ledger
from tests.reliability.support import count

ALTERATIONS = {"sqlite": 1000, "postgres": 1000}  # 1,000 random alterations on each backend
CONTROL_EVERY = 20  # one unaltered control among every 20 runs

Row = dict[str, Any]


@dataclass(frozen=True)
class Tampering:
    """The rows as the attacker leaves them, where the first change is, what else they did."""

    kind: str
    rows: list[Row]
    first: int
    wipe_merkle: bool = False
    resign: bool = False
    exact: bool | None = True
    """True: verify must name `first` as the first bad index; None: `first` or an index before
    it (a Merkle node that covers it); False: any finding (a rewrite, found by the checkpoints)."""


class Table:
    """The events table (and the Merkle tables) read once, rewritten for each alteration."""

    def __init__(self, database: LedgerDatabase) -> None:
        self.database = database
        self.postgres = database.dialect == "postgres"
        self.columns = [
            "ledger_index", "originator_id", "originator_version", "topic", "state",
            "entry_hash", "chain_hash", *(["notification_id"] if self.postgres else []),
        ]  # fmt: skip
        self.rows = self._read(database.events_table, self.columns, "ledger_index")
        for row in self.rows:
            for column in ("state", "entry_hash", "chain_hash"):
                row[column] = bytes(row[column])
        self.current = self.rows
        self.merkle = {name: self._read_all(name) for name in (NODES, STATE, CHECKPOINTS, KEYS)}

    def _read(self, table: str, columns: list[str], order: str) -> list[Row]:
        with self.database.transaction() as cursor:
            found = cursor.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
            ).fetchall()
        return [dict(zip(columns, row, strict=True)) for row in found]

    def _read_all(self, name: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        table = self.database.table(name)
        with self.database.transaction() as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            columns = [d[0] for d in cursor.raw.description]
            return columns, cursor.fetchall()

    def _identity(self, row: Row) -> tuple[Any, ...]:
        return tuple(bytes(row[c]) if isinstance(row[c], memoryview) else row[c]
                     for c in self.columns)  # fmt: skip

    def write(self, rows: list[Row], *, merkle: bool = False) -> None:
        """Make the events table hold exactly `rows` (and with `merkle` restore the Merkle
        tables), changing only the rows that differ, in one transaction."""
        current = {self._identity(row): row for row in self.current}
        wanted = {self._identity(row): row for row in rows}
        gone = [row for identity, row in current.items() if identity not in wanted]
        new = [row for identity, row in wanted.items() if identity not in current]
        marks = ", ".join("?" * len(self.columns))
        table = self.database.events_table
        with self.database.transaction() as cursor:
            cursor.executemany(
                f"DELETE FROM {table} WHERE originator_id = ? AND originator_version = ?",
                [(row["originator_id"], row["originator_version"]) for row in gone],
            )
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(self.columns)}) VALUES ({marks})",
                [[row[c] for c in self.columns] for row in new],
            )
            if merkle:
                for name, (columns, values) in self.merkle.items():
                    qualified = self.database.table(name)
                    cursor.execute(f"DELETE FROM {qualified}")
                    cursor.executemany(
                        f"INSERT INTO {qualified} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' * len(columns))})",
                        values,
                    )
        self.current = rows

    def wipe_merkle(self) -> None:
        """What an attacker covering their tracks does: no nodes, no checkpoints, size 0."""
        with self.database.transaction() as cursor:
            cursor.execute(f"DELETE FROM {self.database.table(NODES)}")
            cursor.execute(f"DELETE FROM {self.database.table(CHECKPOINTS)}")
            cursor.execute(
                f"UPDATE {self.database.table(STATE)} SET size = 0, chain_head = ?", (GENESIS,)
            )


# -- the alterations ---------------------------------------------------------------------------


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def _same_type_uuid(original: Any, new: UUID) -> Any:
    return new if isinstance(original, UUID) else new.hex


def _flip(data: bytes, rng: random.Random) -> bytes:
    position = rng.randrange(len(data))
    flipped = data[position] ^ (1 << rng.randrange(8))
    return data[:position] + bytes([flipped]) + data[position + 1 :]


def _recompute(rows: list[Row], start: int, until: int | None = None) -> None:
    """Renumber and recompute the entry and chain hashes of positions `start` to `until`."""
    previous = GENESIS if start == 0 else bytes(rows[start - 1]["chain_hash"])
    for position in range(start, len(rows) if until is None else until):
        row = rows[position]
        row["ledger_index"] = position + 1
        row["entry_hash"] = entry_hash(
            position + 1,
            _uuid(row["originator_id"]),
            row["originator_version"],
            row["topic"],
            bytes(row["state"]),
        )
        previous = chain_hash(previous, row["entry_hash"])
        row["chain_hash"] = previous


def _forged(template: Row, rng: random.Random) -> Row:
    """A new event copied from another one, under a fresh stream (so no key is violated)."""
    forged = dict(template)
    forged["originator_id"] = _same_type_uuid(template["originator_id"], uuid4())
    forged["originator_version"] = 1
    forged["state"] = bytes(template["state"]).replace(b"window-clerk", b"forged-clerk")
    if "notification_id" in forged:
        forged["notification_id"] = 10**9 + rng.randrange(10**6)
    return forged


def tamper(rows: list[Row], rng: random.Random) -> Tampering:
    """One random alteration of a copy of the rows."""
    rows = [dict(row) for row in rows]
    n = len(rows)
    i = rng.randrange(n)
    index = i + 1
    kind = rng.choice(KINDS)
    row = rows[i]
    if kind in ("flip_state", "flip_entry_hash", "flip_chain_hash"):
        column = kind.removeprefix("flip_")
        row[column] = _flip(bytes(row[column]), rng)
    elif kind == "flip_topic":
        p, topic = rng.randrange(len(row["topic"])), row["topic"]
        other = chr((ord(topic[p]) - 32 + rng.randrange(1, 95)) % 95 + 32)
        row["topic"] = topic[:p] + other + topic[p + 1 :]
    elif kind == "flip_stream":
        row["originator_id"] = _same_type_uuid(row["originator_id"], uuid4())
    elif kind == "flip_version":
        row["originator_version"] += rng.choice([1000, 2**40])  # negative: see the last test
    elif kind == "gap":
        row["ledger_index"] += 10 * n
    elif kind == "delete":
        del rows[i]
    elif kind == "truncate":
        k = rng.randint(1, 5)
        rows, index = rows[: n - k], n - k + 1
    elif kind == "insert":  # a forged entry that hashes and links; the ones after it moved
        forged = _forged(rows[rng.randrange(n)], rng)
        rows.insert(i, forged)
        for later in rows[i + 1 :]:
            later["ledger_index"] += 1
        _recompute(rows, i, until=i + 1)  # the stored Merkle nodes over it still differ
        return Tampering(kind, rows, index, exact=None)
    elif kind == "reorder":
        a, b = sorted((i, rng.choice([x for x in range(n) if x != i])))
        rows[a]["ledger_index"], rows[b]["ledger_index"] = b + 1, a + 1
        rows.sort(key=lambda r: r["ledger_index"])
        index = a + 1
    else:  # rewrites that recompute every later index and hash
        if kind == "rewrite_recompute":
            row["state"] = _edit(bytes(row["state"]), rng)
        elif kind == "delete_recompute":
            del rows[i]
        elif kind == "insert_recompute":
            rows.insert(i, _forged(rows[rng.randrange(n)], rng))
        else:
            a, b = sorted((i, rng.choice([x for x in range(n) if x != i])))
            rows[a], rows[b] = rows[b], rows[a]
            i, index = a, a + 1
        _recompute(rows, min(i, len(rows) - 1))
        wipe = rng.random() < 0.5
        resign = wipe and rng.random() < 0.5
        return Tampering(kind, rows, index, wipe_merkle=wipe, resign=resign, exact=False)
    return Tampering(kind, rows, index)


def _edit(state: bytes, rng: random.Random) -> bytes:
    """A plausible edit of an event: one digit or letter of its JSON changed to another."""
    text = bytearray(state)
    while True:
        p = rng.randrange(len(text))
        if 0x30 <= text[p] <= 0x39:  # a digit: a time, a count, a number
            text[p] = 0x30 + (text[p] - 0x30 + rng.randint(1, 9)) % 10
            return bytes(text)
        if 0x61 <= text[p] <= 0x7A:  # a lower-case letter
            text[p] = 0x61 + (text[p] - 0x61 + rng.randint(1, 25)) % 26
            return bytes(text)


KINDS = (
    "flip_state", "flip_topic", "flip_entry_hash", "flip_chain_hash", "flip_stream",
    "flip_version", "gap", "delete", "truncate", "insert", "reorder",
    "rewrite_recompute", "delete_recompute", "insert_recompute", "reorder_recompute",
)  # fmt: skip


# -- the test -------------------------------------------------------------------------------------


def test_every_random_alteration_of_the_stored_rows_is_found_by_verify(
    ledger: Ledger, settings: Settings, backend: str
) -> None:
    Demo(ledger, seed=21, enterprises=3).run()
    signing_key = load_or_create_signing_key(settings.key_path())
    kept = create_checkpoint(ledger.database, signing_key)  # the auditor keeps this one
    trusted = [signing_key.public_key()]
    assert audit_ledger(ledger.database, old_checkpoint=kept, trusted_keys=trusted).intact
    table = Table(ledger.database)
    assert len(table.rows) == kept.size > 100
    attacker = Ed25519PrivateKey.generate()
    rng = random.Random(f"tamper:{backend}")
    tried: Counter[str] = Counter()
    found: Counter[str] = Counter()
    missed: list[str] = []
    misplaced: list[str] = []
    controls = 0

    def check(what: str, expect_intact: bool) -> Any:
        report = audit_ledger(ledger.database, old_checkpoint=kept, trusted_keys=trusted)
        assert report.intact is expect_intact, f"{what}: {report.findings[:3]}"
        return report

    runs = 0
    merkle_touched = False
    while sum(tried.values()) < ALTERATIONS[backend]:
        runs += 1
        if runs % CONTROL_EVERY == 0:  # a control: the rows written back unaltered
            table.write(table.rows, merkle=merkle_touched)
            merkle_touched = False
            check("an unaltered control", expect_intact=True)
            controls += 1
            continue
        tampering = tamper(table.rows, rng)
        # one transaction undoes the last alteration and makes this one
        table.write(tampering.rows, merkle=merkle_touched)
        if tampering.wipe_merkle:
            table.wipe_merkle()
        if tampering.resign:
            create_checkpoint(ledger.database, attacker, rotate=True)  # SQL access: it says so
        tried[tampering.kind] += 1
        report = audit_ledger(ledger.database, old_checkpoint=kept, trusted_keys=trusted)
        if report.intact:
            missed.append(f"{tampering.kind} at {tampering.first}")
        else:
            found[tampering.kind] += 1
            named = report.first_bad_index
            if (tampering.exact and named != tampering.first) or (
                tampering.exact is None and (named is None or named > tampering.first)
            ):
                misplaced.append(
                    f"{tampering.kind} at {tampering.first}: verify names "
                    f"{report.first_bad_index} ({report.ordered()[0]})"
                )
        merkle_touched = tampering.wipe_merkle or tampering.resign
    table.write(table.rows, merkle=merkle_touched)
    check("the ledger restored", expect_intact=True)

    total = sum(tried.values())
    count(f"tampering.{backend}.tried", total)
    count(f"tampering.{backend}.found", sum(found.values()))
    count(f"tampering.{backend}.controls_passed", controls)
    count(f"tampering.{backend}.rewrites_with_recomputed_hashes", sum(
        v for k, v in tried.items() if k.endswith("_recompute")
    ))  # fmt: skip
    assert not missed, f"{len(missed)} of {total} alterations not found: {missed[:10]}"
    assert not misplaced, (
        len(misplaced),
        sorted({m.split(" at ")[0] for m in misplaced}),
        misplaced[:5],
    )
    assert set(tried) == set(KINDS), tried
    assert controls >= ALTERATIONS[backend] // CONTROL_EVERY


def test_verify_names_a_malformed_row_instead_of_crashing(
    ledger: Ledger, settings: Settings, backend: str
) -> None:
    """BUG (found by this suite): a stored version that is negative (one flipped sign bit) or,
    on SQLite, a stream id that is no longer a UUID makes `verify` raise (struct.error,
    ValueError) instead of naming the bad ledger index, as `verify` promises (README: "non-zero
    naming the first bad ledger index")."""
    Demo(ledger, seed=22, enterprises=1).run()
    table = Table(ledger.database)
    bad = len(table.rows) // 2
    rows = [dict(row) for row in table.rows]
    rows[bad - 1]["originator_version"] = -rows[bad - 1]["originator_version"]
    table.write(rows)
    problems = []
    try:
        report = audit_ledger(ledger.database)
        if report.first_bad_index != bad:
            problems.append(f"negative version: verify names {report.first_bad_index}")
    except Exception as error:
        problems.append(f"negative version: verify raised {type(error).__name__}: {error}")
    if backend == "sqlite":
        rows = [dict(row) for row in table.rows]
        rows[bad - 1]["originator_id"] = "z" + rows[bad - 1]["originator_id"][1:]
        table.write(rows)
        try:
            report = audit_ledger(ledger.database)
            if report.first_bad_index != bad:
                problems.append(f"stream id not a UUID: verify names {report.first_bad_index}")
        except Exception as error:
            problems.append(f"stream id not a UUID: verify raised {type(error).__name__}: {error}")
    table.write(table.rows)
    assert not problems, problems
