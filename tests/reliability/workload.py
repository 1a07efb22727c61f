"""A contended workload on a few keys — PIN attempts, unlocks, renewals, mailings — and the check
that every answer agrees with the event stream: nothing lost, nothing doubled, nothing stray."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from api.demo.samples import ALL_DOCUMENTS
from domain.base import DomainError
from ledger_store.application import deciders
from ledger_store.application.idempotency import IdempotencyClaim
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.database import LedgerDatabase
from tests.factories import execute as execute_with
from tests.reliability.support import WINDOW, Enrolled, count, ctx, later

KINDS = (
    "pin_fail", "pin_ok", "pin_change", "unlock", "renewal_request", "pre_approval", "renewal",
    "mailing", "delivery",
)  # fmt: skip
WEIGHTS = (44, 10, 3, 12, 6, 5, 5, 9, 6)
WINDOW_KINDS = frozenset({"unlock", "pre_approval", "renewal", "mailing"})

EXPECTED_EVENTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "pin_fail": (("PinAttemptFailed",), ("PinAttemptFailed", "PinLocked")),
    "pin_ok": (("PinAttemptSucceeded",),),
    "pin_change": (("PinChanged",),),
    "unlock": (("PinUnlocked",),),
    "renewal_request": (("CertificateRenewalRequested",),),
    "pre_approval": (("CertificateRenewalPreApproved",),),
    "renewal": (("CertificateRenewed",),),
    "mailing": (("KeyMailed", "KeyMailed"),),  # the parcel: both keys of the pair
    "delivery": (("KeyDelivered",),),
}
"""What an accepted command of each kind records, under its idempotency key."""

ALLOWED_REFUSALS = frozenset(
    {
        "key_locked", "not_locked", "concurrent_change", "renewal_already_pending",
        "renewal_application_exists", "unknown_renewal_application", "renewal_not_requested",
        "renewal_not_pre_approved", "already_mailed", "already_delivered", "not_mailed",
        "key_not_delivered",
    }
)  # fmt: skip
"""The rules that may refuse a command of this workload when it races others."""


@dataclass(frozen=True)
class Step:
    """One command a client sends: its kind, the key, its idempotency key."""

    client: int
    kind: str
    card: str
    key: str


@dataclass(frozen=True)
class Outcome:
    """What the client was answered: accepted (with the ledger position) or refused (rule)."""

    step: Step
    accepted: bool
    rule: str | None = None
    position: int | None = None
    status: int | None = None


def plan(client: int, commands: int, cards: Sequence[str], seed: str) -> list[Step]:
    """A client's commands: mostly PIN attempts, then unlocks, renewal steps and mailings."""
    rng = random.Random(f"{seed}:{client}")
    return [
        Step(client, rng.choices(KINDS, WEIGHTS)[0], rng.choice(cards), f"{seed}-c{client}-{n}")
        for n in range(commands)
    ]


class Applications:
    """The latest renewal application id of each key, as the answers named them."""

    def __init__(self) -> None:
        self._latest: dict[str, str] = {}
        self._lock = threading.Lock()

    def latest(self, card: str) -> str:
        """The last application id answered for the key (R1 before any)."""
        with self._lock:
            return self._latest.get(card, f"{card}-R1")

    def answered(self, card: str, application_id: str) -> None:
        """Remember an application id an accepted request answered."""
        with self._lock:
            current = self._latest.get(card)
            if current is None or _serial(application_id) > _serial(current):
                self._latest[card] = application_id


def _serial(application_id: str) -> int:
    return int(application_id.rpartition("-R")[2])


def on_ledger(
    ledger: Ledger, owners: dict[str, Enrolled], applications: Applications
) -> Callable[[Step], Outcome]:
    """An executor that runs a step straight on the Ledger (each client a thread)."""

    def run_step(step: Step) -> Outcome:
        firm = owners[step.card]
        actor = WINDOW if step.kind in WINDOW_KINDS else firm.me
        at = later(1 + step.client)
        claim = IdempotencyClaim(
            scope=actor.principal_id, key=step.key, fingerprint=f"{step.kind}:{step.card}"
        )
        context = ctx(actor, at, idempotency_key=step.key)
        options: dict[str, Any] = {"idempotency": claim}
        card = step.card
        count("concurrency.ledger.commands")
        try:
            if step.kind in ("pin_fail", "pin_ok"):
                result = execute_with(
                    ledger,
                    deciders.record_pin_attempt,
                    context,
                    card,
                    ok=step.kind == "pin_ok",
                    **options,
                )
            elif step.kind == "pin_change":
                result = execute_with(ledger, deciders.change_pin, context, card, **options)
            elif step.kind == "unlock":
                result = execute_with(ledger, deciders.unlock_key, context, card, **options)
            elif step.kind == "renewal_request":
                result = execute_with(ledger, deciders.request_renewal, context, card, **options)
                applications.answered(card, dict(result.extra)["application_id"])
            elif step.kind == "pre_approval":
                result = execute_with(
                    ledger,
                    deciders.pre_approve_renewal,
                    context,
                    card,
                    applications.latest(card),
                    **options,
                )
            elif step.kind == "renewal":
                result = execute_with(
                    ledger,
                    deciders.renew_key,
                    context,
                    card,
                    application_id=applications.latest(card),
                    documents=ALL_DOCUMENTS,
                    **options,
                )
            elif step.kind == "mailing":
                result = execute_with(
                    ledger, deciders.mail_free_pair, context, firm.uscc, firm.mailing, **options
                )
            else:
                result = execute_with(ledger, deciders.deliver_key, context, card, **options)
        except DomainError as error:
            return Outcome(step, accepted=False, rule=error.rule)
        return Outcome(step, accepted=True, position=result.position)

    return run_step


def run_clients(
    steps_of: Sequence[list[Step]], execute: Callable[[Step], Outcome], timeout: float = 180.0
) -> tuple[list[Outcome], list[str]]:
    """Every client in its own thread, all released at once; (outcomes, unexpected errors)."""
    barrier = threading.Barrier(len(steps_of))
    outcomes: list[Outcome] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(steps: list[Step]) -> None:
        barrier.wait(timeout=60)
        for step in steps:
            try:
                outcome = execute(step)
            except Exception as error:  # recorded, and the test fails on it
                with lock:
                    errors.append(f"{step}: {type(error).__name__}: {error}")
                continue
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=client, args=(steps,)) for steps in steps_of]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "clients still running"
    return outcomes, errors


def stream_problems(database: LedgerDatabase, outcomes: Sequence[Outcome], after: int) -> list[str]:
    """Where the answers and the ledger disagree: an accepted command not recorded exactly once
    as its kind, a refused one that left events, an event nobody's command explains."""
    by_key: dict[str, list[tuple[int, str]]] = {}
    unexplained: list[str] = []
    for entry in database.iter_entries(after=after):
        key = orjson.loads(entry.state).get("idempotency_key")
        name = entry.topic.rpartition(":")[2]
        if key is None:
            unexplained.append(f"ledger index {entry.ledger_index} {name} has no idempotency key")
            continue
        by_key.setdefault(key, []).append((entry.ledger_index, name))
    problems = list(unexplained)
    for outcome in outcomes:
        step = outcome.step
        found = by_key.pop(step.key, [])
        names = tuple(name for _, name in found)
        if not outcome.accepted:
            if found:
                problems.append(f"refused {step.kind} {step.key} ({outcome.rule}) left {names}")
            if outcome.rule not in ALLOWED_REFUSALS:
                problems.append(f"{step.kind} {step.key}: unexpected refusal {outcome.rule!r}")
            continue
        if names not in EXPECTED_EVENTS[step.kind]:
            problems.append(f"accepted {step.kind} {step.key} recorded {names or 'nothing'}")
        elif outcome.position is not None and max(i for i, _ in found) != outcome.position:
            problems.append(
                f"accepted {step.key} answered position {outcome.position}, "
                f"its events are at {[i for i, _ in found]}"
            )
    problems += [
        f"events under key {key} nobody was answered for: {v}" for key, v in by_key.items()
    ]
    return problems
