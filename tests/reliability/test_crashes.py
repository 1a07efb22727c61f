"""Power pulls: SIGKILL `eport-ledger serve` in the middle of a load of commands with
Idempotency-Keys, restart it, let the clients retry — every command is in the ledger exactly once
and every retry gets the first answer. SIGKILL `eport-ledger worker` while it catches up —
the views still equal a clean rebuild."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from api.demo import samples
from api.demo.scenario import Demo
from domain.aggregate_ids import key_id
from domain.identifier_generators import make_customs_code, make_uscc
from domain.region import HAINAN
from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from projections.engine.positions import read_positions
from projections.registry import TRACKED
from tests.reliability.processes import ServedApi, Worker, issue_tokens, problem_of
from tests.reliability.support import (
    T0,
    catch_up_views,
    count,
    enroll,
    key_history_problems,
    tally_stream,
    verify_everything,
    view_differences,
)

CLIENTS = 10
ENTERPRISES_PER_CLIENT = 2
KILLS = 2
RETRY_DEADLINE = 120.0

SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "register": (("EnterpriseRegistered",),),
    "filing": (("FilingSubmitted",),),
    "pin_fail": (("PinAttemptFailed",), ("PinAttemptFailed", "PinLocked")),
    "pin_ok": (("PinAttemptSucceeded",),),
    "unlock": (("PinUnlocked",),),
}
RACES = {"concurrent_change"}
REFUSALS = {
    "pin_fail": {"key_locked", *RACES},
    "pin_ok": {"key_locked", *RACES},
    "unlock": {"not_locked", *RACES},
}


@dataclass
class Command:
    """One request a client must get answered, with the Idempotency-Key it keeps on retries."""

    kind: str
    path: str
    body: Any
    key: str
    token: str
    answers: list[tuple[int, dict[str, Any], bool]] = field(default_factory=list)
    interruptions: int = 0

    @property
    def final(self) -> tuple[int, dict[str, Any], bool]:
        """The answer the client finally got: (status, body, replayed)."""
        return self.answers[-1]


def plan(client: int, window: str, cards: list[tuple[str, str]]) -> list[Command]:
    """A client's commands: registrations and filings of new enterprises, PIN attempts, unlocks."""
    rng = random.Random(f"crash:{client}")
    commands: list[Command] = []
    for e in range(ENTERPRISES_PER_CLIENT):
        uscc = make_uscc(rng, region_prefix="4601")
        code = make_customs_code(rng, province="46")
        company = samples.company_name(rng)
        receipt = f"HZ{rng.randrange(10**8):08d}"
        register = {"uscc": uscc, "name": company, "customs_code": code, "receipt_number": receipt}
        key = f"crash-c{client}-e{e}"
        commands.append(Command("register", "/v1/enterprises", register, f"{key}-reg", window))
        filings = samples.filings(rng, HAINAN, company, code, receipt, T0.date())
        for kind, filing in filings.items():
            path = f"/v1/enterprises/{uscc}/filings/{kind.value}"
            body = filing.model_dump(mode="json")
            commands.append(Command("filing", path, body, f"{key}-{kind.value}", window))
            card, token = rng.choice(cards)
            ok = rng.random() < 0.3
            commands.append(
                Command(
                    "pin_ok" if ok else "pin_fail",
                    f"/v1/keys/{card}/pin-attempts",
                    {"ok": ok},
                    f"{key}-{kind.value}-pin",
                    token,
                )
            )
            if rng.random() < 0.25:
                path = f"/v1/keys/{card}/unlock"
                commands.append(Command("unlock", path, None, f"{key}-{kind.value}-ul", window))
    return commands


class Clients:
    """Clients that retry each command (same key, same body) until it is answered."""

    def __init__(self, server: ServedApi) -> None:
        self.server = server
        self.acknowledged = 0
        self.lock = threading.Lock()

    def send(self, http: httpx.Client, command: Command) -> None:
        deadline = time.monotonic() + RETRY_DEADLINE
        while True:
            assert time.monotonic() < deadline, f"{command.key} never answered"
            headers = {
                "Authorization": f"Bearer {command.token}",
                "Idempotency-Key": command.key,
            }
            try:
                response = http.post(
                    f"{self.server.url}{command.path}", json=command.body, headers=headers
                )
            except httpx.TransportError:
                command.interruptions += 1
                time.sleep(0.05)
                continue
            if response.status_code == 503:
                command.interruptions += 1
                time.sleep(0.1)
                continue
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            command.answers.append((response.status_code, response.json(), replayed))
            with self.lock:
                self.acknowledged += 1
            return

    def run(self, commands: list[Command]) -> None:
        with httpx.Client(timeout=30) as http:
            for command in commands:
                self.send(http, command)


@contextmanager
def clients_running(clients: Clients, plans: list[list[Command]]) -> Iterator[list[str]]:
    errors: list[str] = []

    def run(commands: list[Command]) -> None:
        try:
            clients.run(commands)
        except BaseException as error:
            errors.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(p,)) for p in plans]
    for thread in threads:
        thread.start()
    try:
        yield errors
    finally:
        for thread in threads:
            thread.join(RETRY_DEADLINE + 60)


def _events_by_key(ledger: Ledger, after: int) -> dict[str | None, list[tuple[int, str]]]:
    found: dict[str | None, list[tuple[int, str]]] = {}
    for entry in ledger.database.iter_entries(after=after):
        key = orjson.loads(entry.state).get("idempotency_key")
        found.setdefault(key, []).append((entry.ledger_index, entry.topic.rpartition(":")[2]))
    return found


def test_sigkill_of_the_api_mid_load_loses_no_acknowledged_command_and_doubles_none(
    settings: Settings, tmp_path: Path
) -> None:
    ledger = Ledger(settings)
    try:
        firms = [enroll(ledger, f"crash-{n}") for n in range(2)]
        tokens = issue_tokens(
            settings, ("window", None), *(("enterprise", firm.uscc) for firm in firms)
        )
        start = ledger.position()  # after the grants: every later entry is a client's
    finally:
        ledger.close()
    window = tokens[0]
    cards = [(card, token) for firm, token in zip(firms, tokens[1:], strict=True)
             for card in firm.cards]  # fmt: skip
    plans = [plan(c, window, cards) for c in range(CLIENTS)]
    total = sum(len(p) for p in plans)
    server = ServedApi(settings, tmp_path / "serve.log")
    server.start()
    clients = Clients(server)
    kills, replays = 0, 0
    try:
        with clients_running(clients, plans) as errors:
            for n in range(1, KILLS + 1):
                deadline = time.monotonic() + 120
                while clients.acknowledged < total * n // (KILLS + 1):
                    assert time.monotonic() < deadline, "the load stalled"
                    time.sleep(0.005)
                server.kill()  # in the middle of the load: requests are in flight
                kills += 1
                time.sleep(0.2)
                server.start()
        commands = [command for p in plans for command in p]
        if not errors:
            replays = _replays_give_the_first_answer(server, commands)
    finally:
        server.stop()
    count("crashes.api.sigkills", kills)
    count("crashes.api.commands", total)
    count("crashes.api.clients", CLIENTS)
    count("crashes.api.replays_checked", replays)
    interrupted = [c for c in commands if c.interruptions]
    count("crashes.api.commands_interrupted_and_retried", len(interrupted))
    count("crashes.api.retries_answered_from_the_first_answer", sum(c.final[2] for c in commands))

    assert not errors, errors[:3]
    assert kills == KILLS
    assert interrupted, "no command was caught by a kill: the crash was not mid-load"
    ledger = Ledger(settings)
    try:
        stream = _events_by_key(ledger, start)
        problems = (
            [f"events without an idempotency key: {stream.pop(None)}"] if None in stream else []
        )
        for command in commands:
            status, body, _ = command.final
            found = stream.pop(command.key, [])
            names = tuple(name for _, name in found)
            if status in (200, 201):
                if names not in SHAPES[command.kind]:
                    problems.append(f"{command.kind} {command.key} acknowledged, recorded {names}")
                elif max(index for index, _ in found) != body["position"]:
                    problems.append(f"{command.key}: answer {body} but events at {found}")
            elif body.get("rule") in REFUSALS.get(command.kind, ()):
                if found:
                    problems.append(f"{command.key} refused ({body['rule']}) but left {names}")
            else:
                problems.append(f"{command.key}: {status} {body}")
        problems += [f"events under an unknown key {k}: {v}" for k, v in stream.items()]
        tally_stream(sum(c.final[0] in (200, 201) for c in commands), problems)
        assert not problems, problems[:10]
        for firm in firms:
            for card in firm.cards:
                assert not key_history_problems(ledger.history(key_id(card)))
        catch_up_views(ledger.database)
        assert not view_differences(ledger.database)
        assert not verify_everything(ledger.database, settings.key_path())
    finally:
        ledger.close()


def _replays_give_the_first_answer(server: ServedApi, commands: list[Command]) -> int:
    """After the crashes, acknowledged commands sent again record nothing and get the first
    answer (flagged Idempotent-Replayed); the key with another body is refused. How many."""
    sample = [c for c in commands if c.final[0] in (200, 201)][::7]
    with httpx.Client(base_url=server.url, timeout=30) as http:
        size = http.get("/readyz").json()["ledger_size"]
        for command in sample:
            headers = {"Authorization": f"Bearer {command.token}", "Idempotency-Key": command.key}
            response = http.post(command.path, json=command.body, headers=headers)
            assert response.status_code == command.final[0], response.text
            assert response.json() == command.final[1]
            assert response.headers.get("Idempotent-Replayed") == "true"
        first = sample[0]
        other = {"ok": True} if first.body != {"ok": True} else {"ok": False}
        headers = {"Authorization": f"Bearer {first.token}", "Idempotency-Key": first.key}
        reused = http.post(first.path, json=other, headers=headers)
        assert reused.status_code in (409, 422), reused.text
        assert problem_of(reused)["rule"] in ("idempotency_key_reused", "invalid_request")
        assert http.get("/readyz").json()["ledger_size"] == size
    return len(sample)


# -- the views worker ------------------------------------------------------------------------------

WORKER_KILLS = 4
BATCH = 500  # the worker's batch: the first ledger is several batches long


def test_sigkill_of_the_worker_during_catch_up_leaves_views_equal_to_a_rebuild(
    pg_settings: Settings, tmp_path: Path
) -> None:
    settings = pg_settings
    ledger = Ledger(settings)
    worker = Worker(settings, tmp_path / "worker.log")
    names = [view.name for view in TRACKED]

    def lowest() -> int:
        return min(read_positions(ledger.database, names).values() or [0])

    try:
        Demo(ledger, seed=11, enterprises=24).run()
        head = ledger.position()
        assert head > BATCH + 100  # two batches at least: a kill can fall between them
        worker.start()
        # the first kill: once the first batch is committed and before the catch-up ends
        deadline = time.monotonic() + 60
        while not 0 < lowest() < head:
            assert worker.alive, worker.output()[-2000:]
            assert time.monotonic() < deadline, worker.output()[-2000:]
            time.sleep(0.002)
        worker.kill()
        caught_mid_catch_up = lowest() < head
        writer_errors: list[BaseException] = []

        def writer() -> None:  # the ledger keeps growing while the worker follows it
            try:
                Demo(ledger, seed=12, enterprises=6).run()
            except BaseException as error:
                writer_errors.append(error)

        thread = threading.Thread(target=writer)
        thread.start()
        rng = random.Random(13)
        for _ in range(WORKER_KILLS - 1):
            worker.start()
            time.sleep(rng.uniform(0.3, 1.0))
            worker.kill()
        thread.join(120)
        assert not thread.is_alive()
        assert not writer_errors, writer_errors
        final = ledger.position()
        worker.start()
        deadline = time.monotonic() + 60
        while lowest() < final:
            assert worker.alive, worker.output()[-2000:]
            assert time.monotonic() < deadline, worker.output()[-2000:]
            time.sleep(0.05)
        worker.stop()
        count("crashes.worker.sigkills", WORKER_KILLS)
        count("crashes.worker.entries_followed", final)

        assert caught_mid_catch_up
        assert not view_differences(ledger.database)
        assert not verify_everything(ledger.database, settings.key_path())
    finally:
        worker.kill()
        ledger.close()
