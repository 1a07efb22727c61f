"""Many clients on the same few keys at once: every key's history stays legal (one lock at the
fifth consecutive failure), every answer matches the stream (nothing lost or doubled), the views
equal a rebuild and verify passes — straight on the Ledger (threads) and over HTTP (64 clients)."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import httpx

from api.http.schemas.examples import DOCUMENTS
from domain.aggregate_ids import key_id
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.engine.inprocess import InProcessProjector
from projections.engine.runner import Runner
from tests.reliability.processes import ServedApi, issue_tokens, problem_of
from tests.reliability.support import (
    Enrolled,
    catch_up_views,
    count,
    enroll,
    key_history_problems,
    tally_stream,
    verify_everything,
    view_differences,
)
from tests.reliability.workload import (
    WINDOW_KINDS,
    Applications,
    Outcome,
    Step,
    on_ledger,
    plan,
    run_clients,
    stream_problems,
)

CLIENTS = 64
LEDGER_COMMANDS_PER_CLIENT = 10
HTTP_COMMANDS_PER_CLIENT = 6
FIRMS = 2  # two enterprises, four keys: every key is contended by many clients at once


def _history_problems(ledger: Ledger, cards: list[str]) -> list[str]:
    problems = []
    for card in cards:
        history = ledger.history(key_id(card))
        problems += [f"{card}: {p}" for p in key_history_problems(history)]
        count("concurrency.locks", sum(type(e).__name__ == "PinLocked" for e in history))
    return problems


def _summary(outcomes: list[Outcome], prefix: str) -> Counter[str]:
    tally: Counter[str] = Counter()
    for outcome in outcomes:
        tally["accepted" if outcome.accepted else f"refused:{outcome.rule}"] += 1
    count(f"{prefix}.accepted", tally["accepted"])
    count(f"{prefix}.refused", sum(v for k, v in tally.items() if k != "accepted"))
    return tally


def test_many_threads_on_the_ledger_leave_legal_histories_and_equal_views(
    ledger: Ledger, settings: Settings
) -> None:
    firms = [enroll(ledger, f"threads-{n}", deliver=n % 2 == 0) for n in range(FIRMS)]
    owners = {card: firm for firm in firms for card in firm.cards}
    cards = list(owners)
    start = ledger.position()
    projector = InProcessProjector(Runner(ledger.database), interval=0.05)
    projector.start()
    try:
        steps = [plan(c, LEDGER_COMMANDS_PER_CLIENT, cards, "threads") for c in range(CLIENTS)]
        outcomes, errors = run_clients(steps, on_ledger(ledger, owners, Applications()))
    finally:
        projector.stop()
    count("concurrency.ledger.clients", CLIENTS)
    tally = _summary(outcomes, "concurrency.ledger")

    assert not errors, errors[:5]
    assert len(outcomes) == CLIENTS * LEDGER_COMMANDS_PER_CLIENT
    assert tally["accepted"] > CLIENTS, tally  # the load did real work, not only refusals
    problems = stream_problems(ledger.database, outcomes, start)
    tally_stream(tally["accepted"], problems)
    assert not problems, problems[:10]
    assert not _history_problems(ledger, cards)
    catch_up_views(ledger.database)
    assert not view_differences(ledger.database)
    assert not verify_everything(ledger.database, settings.key_path())


# -- over HTTP: `eport-ledger serve` and 64 clients ------------------------------------------------

PATHS = {
    "pin_fail": ("/pin-attempts", {"ok": False}),
    "pin_ok": ("/pin-attempts", {"ok": True}),
    "pin_change": ("/pin-change", None),
    "unlock": ("/unlock", None),
    "renewal_request": ("/renewal-applications", None),
    "delivery": ("/delivery", None),
}


class HttpClients:
    """Executes workload steps as HTTP requests, each client with its own connection."""

    def __init__(self, url: str, window: str, enterprise: dict[str, str]) -> None:
        self.url = url
        self.window = window
        self.enterprise = enterprise  # card → its enterprise's token
        self.applications = Applications()
        self.owners: dict[str, Enrolled] = {}
        self.clients: dict[int, httpx.Client] = {}

    def client(self, number: int) -> httpx.Client:
        if number not in self.clients:
            self.clients[number] = httpx.Client(base_url=self.url, timeout=60)
        return self.clients[number]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()

    def execute(self, step: Step) -> Outcome:
        card = step.card
        token = self.window if step.kind in WINDOW_KINDS else self.enterprise[card]
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": step.key}
        if step.kind in PATHS:
            suffix, body = PATHS[step.kind]
        elif step.kind == "pre_approval":
            suffix = f"/renewal-applications/{self.applications.latest(card)}/pre-approval"
            body = None
        elif step.kind == "renewal":
            suffix = "/renewal"
            body = {"application_id": self.applications.latest(card), "documents": DOCUMENTS}
        else:  # the parcel: both keys of the enterprise's free pair
            firm = self.owners[card]
            suffix, body = "", firm.mailing.model_dump(mode="json")
        path = f"/v1/keys/{card}{suffix}"
        if step.kind == "mailing":
            path = f"/v1/enterprises/{firm.uscc}/free-pair/mailing"
        count("concurrency.http.commands")
        response = self.client(step.client).post(path, json=body, headers=headers)
        if response.status_code in (200, 201):
            answer = response.json()
            if step.kind == "renewal_request":
                self.applications.answered(card, answer["application_id"])
            return Outcome(step, True, position=answer["position"], status=response.status_code)
        problem = problem_of(response)
        if response.status_code not in (404, 409, 422) or not problem:
            raise AssertionError(f"{step}: {response.status_code} {response.text[:300]}")
        return Outcome(step, False, rule=problem["rule"], status=response.status_code)


def test_64_http_clients_leave_legal_histories_and_equal_views(
    settings: Settings, tmp_path: Path
) -> None:
    ledger = Ledger(settings)
    try:
        firms = [enroll(ledger, f"http-{n}", deliver=n % 2 == 0) for n in range(FIRMS)]
        tokens = issue_tokens(
            settings, ("window", None), *(("enterprise", firm.uscc) for firm in firms)
        )
        start = ledger.position()  # after the grants: every later entry is a client's
    finally:
        ledger.close()
    owners = {card: firm for firm in firms for card in firm.cards}
    cards = list(owners)
    per_firm = dict(zip((firm.uscc for firm in firms), tokens[1:], strict=True))
    server = ServedApi(settings, tmp_path / "serve.log")
    server.start()
    http = HttpClients(server.url, tokens[0], {c: per_firm[f.uscc] for c, f in owners.items()})
    http.owners = owners
    try:
        steps = [plan(c, HTTP_COMMANDS_PER_CLIENT, cards, "http") for c in range(CLIENTS)]
        outcomes, errors = run_clients(steps, http.execute)
        ready = httpx.get(f"{server.url}/readyz", timeout=10).json()
    finally:
        http.close()
        exit_code = server.stop()
    count("concurrency.http.clients", CLIENTS)
    tally = _summary(outcomes, "concurrency.http")

    assert not errors, errors[:5]
    assert exit_code in (0, -signal.SIGTERM), server.output()[-2000:]  # a clean shutdown
    assert ready["status"] == "ready"
    assert len(outcomes) == CLIENTS * HTTP_COMMANDS_PER_CLIENT
    assert tally["accepted"] > CLIENTS, tally
    ledger = Ledger(settings)
    try:
        problems = stream_problems(ledger.database, outcomes, start)
        tally_stream(tally["accepted"], problems)
        assert not problems, problems[:10]
        assert not _history_problems(ledger, cards)
        catch_up_views(ledger.database)
        assert not view_differences(ledger.database)
        assert not verify_everything(ledger.database, settings.key_path())
    finally:
        ledger.close()
