"""What the reliability tests share: enrolment, the legal-history check of a key, views against a
rebuild, the full verify, the event stream by idempotency key, and the figures of the run."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api.demo import samples
from domain.base import Actor, CommandContext, DomainEvent, Role
from domain.filings import FilingKind, ThreeInOneFiling
from domain.forms import ExpressHandoverForm, IcCardRegistrationForm, MailingDetails
from domain.identifier_generators import make_card_number, make_customs_code, make_uscc
from domain.ukey.events import DeliveryChannel
from ledger_store.application import deciders
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.database import LedgerDatabase
from ledger_store.transparency.checkpointer import create_checkpoint
from ledger_store.transparency.signing_key import load_or_create_signing_key
from projections.engine.rebuild import rebuild
from projections.engine.runner import Runner
from projections.engine.schema import TableNames
from projections.registry import TRACKED
from replay.integrity import audit_ledger

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
WINDOW = Actor(principal_id="window-clerk-01", role=Role.WINDOW)
COMPARE_PREFIX = "cmp_"
LOCK_AFTER = 5  # 累计输错5次密码会自动锁定 (docs/domain.md): the rule, not the domain's constant

# -- figures of the run (printed at the end of the session, see conftest.py) ---------------------

FIGURES: Counter[str] = Counter()
_figures_lock = threading.Lock()


def count(name: str, amount: int = 1) -> None:
    """Add to one of the run's figures (clients, commands, faults, tamperings …)."""
    with _figures_lock:
        FIGURES[name] += amount


def tally_stream(answered: int, problems: list[str]) -> None:
    """Count acknowledged commands checked against the stream, and those lost or doubled."""
    count("stream.acknowledged_commands_checked", answered)
    count("stream.events_lost_or_doubled", len(problems))


# -- enrolment -----------------------------------------------------------------------------------


def ctx(actor: Actor, at: datetime = T0, idempotency_key: str | None = None) -> CommandContext:
    """A command of `actor` at `at`."""
    return CommandContext(actor=actor, at=at, idempotency_key=idempotency_key)


@dataclass(frozen=True)
class Enrolled:
    """An approved enterprise with its free pair issued: who it is and its two cards."""

    uscc: str
    lp: str
    op: str
    me: Actor
    mailing: MailingDetails
    form: IcCardRegistrationForm
    """The IC-card form as filed (the ledger keeps its personal data sealed)."""

    @property
    def cards(self) -> tuple[str, str]:
        """The legal-person card, then the operator card."""
        return self.lp, self.op


def enroll(ledger: Ledger, seed: int | str, at: datetime = T0, *, deliver: bool = True) -> Enrolled:
    """Register, file, approve and issue the free pair of one new enterprise; with `deliver`
    the window hands both keys over (so they are used at once), else they wait to be mailed."""
    rng = random.Random(f"reliability:{seed}")
    region = ledger.region
    uscc = make_uscc(rng, region_prefix=region.province_prefix + "01")
    code = make_customs_code(rng, province=region.province_prefix)
    company = samples.company_name(rng)
    me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
    receipt = f"HZ{rng.randrange(10**8):08d}"
    ledger.run(
        deciders.register_enterprise,
        ctx(me, at),
        uscc=uscc,
        name=company,
        customs_code=code,
        receipt_number=receipt,
    )
    filings = samples.filings(rng, region, company, code, receipt, at.date())
    for filing in filings.values():
        ledger.run(deciders.submit_filing, ctx(me, at), uscc, filing)
    ledger.run(deciders.review, ctx(WINDOW, at), uscc, approve=True, window=region.window_name)
    lp, op = make_card_number(rng), make_card_number(rng)
    ledger.run(
        deciders.issue_free_pair,
        ctx(WINDOW, at),
        uscc,
        legal_person_card_no=lp,
        operator_card_no=op,
    )
    three_in_one = filings[FilingKind.THREE_IN_ONE]
    assert isinstance(three_in_one, ThreeInOneFiling)
    express = three_in_one.materials.express_handover_form
    assert isinstance(express, ExpressHandoverForm)
    details = samples.mailing(rng, express, lp, op, at)
    if deliver:
        for card in (lp, op):
            ledger.run(deciders.deliver_key, ctx(WINDOW, at), card, DeliveryChannel.WINDOW)
    return Enrolled(uscc, lp, op, me, details, three_in_one.materials.ic_card_registration_form)


# -- the legal history of a key -------------------------------------------------------------------


def key_history_problems(events: Sequence[DomainEvent]) -> list[str]:
    """Why this sequence of a key's events could not have happened, by the rules (empty: legal).

    Independent of the aggregate: versions dense from 1; a free key used (PIN) only once
    delivered; a failed attempt counts up from the last reset; a lock exactly and only right
    after the fifth consecutive failure; no attempt while locked; unlock only when locked; one
    open renewal at a time, requested → pre-approved → completed; mailed at most once and before
    a delivery, delivered by EMS only once mailed, at the window only if not; nothing after a
    loss or freeze but its lifting, a void or a replacement; nothing after void or replacement.
    """
    problems: list[str] = []
    failures, locked = 0, False
    mailed = delivered = voided = replaced = lost = frozen = False
    in_hand = False
    renewals: dict[str, str] = {}
    for n, event in enumerate(events):
        name = type(event).__name__
        where = f"v{event.originator_version} {name}"
        if event.originator_version != n + 1:
            problems.append(f"{where}: expected version {n + 1}")
        if n == 0:
            if name != "KeyIssued":
                problems.append(f"{where}: a key's history starts with KeyIssued")
            in_hand = event.model_dump().get("supplier") is not None  # bought: in hand
            continue
        allowed_while_blocked = ("KeyVoided", "KeyReplaced", *(("KeyUnfrozen",) * frozen))
        if (lost or frozen or voided or replaced) and name not in allowed_while_blocked:
            problems.append(f"{where}: after a loss, freeze, void or replacement")
        if name in ("PinAttemptFailed", "PinAttemptSucceeded", "PinChanged") and not in_hand:
            problems.append(f"{where}: a PIN on a key that has not reached its holder")
        previous = type(events[n - 1]).__name__
        lock_due = previous == "PinAttemptFailed" and failures >= LOCK_AFTER
        if lock_due and name != "PinLocked":
            problems.append(f"{where}: the {failures}th consecutive failure did not lock")
        data: dict[str, Any] = event.model_dump()
        if name == "PinAttemptFailed":
            if locked:
                problems.append(f"{where}: an attempt on a locked key")
            failures += 1
            if data["consecutive_failures"] != failures:
                problems.append(
                    f"{where}: counts {data['consecutive_failures']} consecutive failures, "
                    f"expected {failures}"
                )
        elif name == "PinLocked":
            if not lock_due or locked:
                problems.append(f"{where}: a lock that is not right after the fifth failure")
            locked = True
        elif name in ("PinAttemptSucceeded", "PinChanged"):
            if locked:
                problems.append(f"{where}: on a locked key")
            failures = 0
        elif name == "PinUnlocked":
            if not locked:
                problems.append(f"{where}: unlocking a key that is not locked")
            locked, failures = False, 0
        elif name == "CertificateRenewalRequested":
            if any(state != "completed" for state in renewals.values()):
                problems.append(f"{where}: while another renewal is open")
            renewals[data["application_id"]] = "requested"
        elif name == "CertificateRenewalPreApproved":
            if renewals.get(data["application_id"]) != "requested":
                problems.append(f"{where}: pre-approving an application not requested")
            renewals[data["application_id"]] = "pre_approved"
        elif name == "CertificateRenewed":
            if renewals.get(data["application_id"]) != "pre_approved":
                problems.append(f"{where}: renewing without pre-approval")
            renewals[data["application_id"]] = "completed"
            locked, failures = False, 0
        elif name == "KeyMailed":
            if mailed or in_hand:
                problems.append(f"{where}: mailed twice or after delivery")
            mailed = True
        elif name == "KeyDelivered":
            by_ems = data["channel"] == "ems"
            if mailed != by_ems or delivered or in_hand:
                problems.append(f"{where}: delivered by {data['channel']} after mailed={mailed}")
            delivered = in_hand = True
        elif name == "KeyVoided":
            if voided:
                problems.append(f"{where}: voiding a void key")
            voided = True
        elif name == "KeyReplaced":
            if voided or replaced:
                problems.append(f"{where}: replacing a void or replaced key")
            replaced = True
        elif name == "KeyReportedLost":
            lost = True
        elif name == "KeyFrozen":
            frozen = True
        elif name == "KeyUnfrozen":
            if not frozen or voided or replaced:
                problems.append(f"{where}: lifting a freeze that is not there")
            frozen = False
    if events and type(events[-1]).__name__ == "PinAttemptFailed" and failures >= LOCK_AFTER:
        problems.append("the history ends with a fifth failure that did not lock")
    return problems


# -- the idempotency table -----------------------------------------------------------------------


def stored_idempotency_keys(database: LedgerDatabase) -> dict[tuple[str, str], int]:
    """The idempotency table: (scope, key) → the ledger position its answer names."""
    with database.transaction() as cursor:
        rows = cursor.execute(
            f"SELECT scope, key, position FROM {database.table('idempotency_keys')}"
        ).fetchall()
    return {(str(scope), str(key)): int(position) for scope, key, position in rows}


# -- views against a rebuild, and the full verify ------------------------------------------------


def catch_up_views(database: LedgerDatabase) -> int:
    """Apply the whole ledger to the live views (as the runner would); the position reached."""
    runner = Runner(database)
    runner.setup()
    runner.catch_up()
    return database.head()[0]


def _rows(database: LedgerDatabase, names: TableNames, table: str, columns: Iterable[str],
          key: Sequence[str]) -> list[tuple[Any, ...]]:  # fmt: skip
    with database.transaction() as cursor:
        return cursor.execute(
            f"SELECT {', '.join(columns)} FROM {names(table)} ORDER BY {', '.join(key)}"
        ).fetchall()


def view_differences(database: LedgerDatabase, prefix: str = COMPARE_PREFIX) -> list[str]:
    """Where the live views differ from views rebuilt from zero (empty: they are equal).

    The live views must have applied the whole ledger first; the rebuild goes into tables of
    its own (`prefix`), as of the ledger's head, so the live ones are left untouched.
    """
    head = database.head()[0]
    with database.transaction() as cursor:
        row = cursor.execute(
            f"SELECT MIN(position) FROM {database.table('view_positions')} "
            f"WHERE view_name IN ({','.join('?' * len(TRACKED))})",
            [view.name for view in TRACKED],
        ).fetchone()
    problems = []
    if row is None or row[0] != head:
        problems.append(f"the live views are at {row and row[0]}, the ledger at {head}")
    rebuild(database, until_position=head, asof_prefix=prefix)
    live, rebuilt = TableNames(database), TableNames(database, prefix=prefix)
    for view in TRACKED:
        for spec in view.tables:
            mine = _rows(database, live, spec.name, spec.column_names, spec.key)
            theirs = _rows(database, rebuilt, spec.name, spec.column_names, spec.key)
            if mine != theirs:
                extra = set(mine) - set(theirs)
                missing = set(theirs) - set(mine)
                problems.append(
                    f"{view.name}.{spec.name}: {len(mine)} live rows, {len(theirs)} rebuilt; "
                    f"only live: {sorted(extra, key=repr)[:2]}; "
                    f"only rebuilt: {sorted(missing, key=repr)[:2]}"
                )
    return problems


def verify_everything(database: LedgerDatabase, key_path: Any) -> list[str]:
    """Checkpoint the head, then the full verify (chain, Merkle tree, checkpoints): findings."""
    create_checkpoint(database, load_or_create_signing_key(key_path))
    report = audit_ledger(database)
    return [str(finding) for finding in report.findings]


def later(minutes: int) -> datetime:
    """A moment `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)
