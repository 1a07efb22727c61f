"""HTTP throughput and latency: the API beside a bare FastAPI endpoint, measured in the same run.

Run by hand (PostgreSQL must answer at EPORT_TEST_POSTGRES_URL):

    .venv/bin/python tests/benchmarks/bench_http.py [--seconds 3] [--clients 1,16,64] [--rounds 3]

Two uvicorn processes on loopback, one worker each, both on the same PostgreSQL:

- the API (`eport-ledger serve` on PostgreSQL, views in process, as deployed), and
- a bare FastAPI app whose sync endpoints do one raw psycopg SELECT of the same key row, or one
  raw INSERT of a row, on a psycopg pool of the same size.

Scenarios at 1, 16 and 64 concurrent keep-alive clients: the hotline's lookup
(GET /v1/keys/{card_no}, hotline token, personal data masked) against the bare SELECT, and a
PIN attempt (POST /v1/keys/{card_no}/pin-attempts as the key's enterprise, one key per client)
against the bare INSERT, in rounds that alternate bare and API. Prints requests/s, p50 and p99,
and the median over rounds of each ratio. Targets: lookup at least
0.7x bare, command at least 0.5x, lookup p99 under 20 ms at 64 clients. An empty endpoint of the
bare app (no I/O, a constant answer) shows the latency floor of the server and machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.demo import samples  # noqa: E402
from api.http.auth import TokenStore  # noqa: E402
from domain.base import Actor, CommandContext, Role, utcnow  # noqa: E402
from domain.identifier_generators import make_card_number, make_customs_code, make_uscc  # noqa: E402
from domain.ukey.events import DeliveryChannel  # noqa: E402
from ledger_store.application import deciders  # noqa: E402
from ledger_store.application.ledger import Ledger  # noqa: E402
from ledger_store.eventstore.settings import Settings  # noqa: E402
from ledger_store.privacy.master_keys import generate, write_file  # noqa: E402

URL = os.environ.get("EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
POOL = 10

BARE_APP = """
import os
from typing import Any
from fastapi import FastAPI
from psycopg_pool import ConnectionPool

pool = ConnectionPool(os.environ["BARE_CONNINFO"], min_size={pool}, max_size={pool},
                      kwargs={{"autocommit": True}}, open=True)
app = FastAPI()
SCHEMA = os.environ["BARE_SCHEMA"]

@app.get("/bare/keys/{{card_no}}")
def select(card_no: str) -> dict[str, Any]:
    with pool.connection() as conn:
        row = conn.execute(
            f'SELECT card_no, stored_status, holder_name, valid_until FROM "{{SCHEMA}}".view_keys '
            "WHERE card_no = %s", (card_no,)).fetchone()
    return {{"card_no": row[0], "status": row[1], "holder": row[2], "valid_until": row[3]}}

@app.get("/bare/empty")
async def empty() -> dict[str, Any]:
    return {{"ok": True}}

@app.post("/bare/rows")
def insert(body: dict[str, Any]) -> dict[str, Any]:
    with pool.connection() as conn:
        row = conn.execute(
            f'INSERT INTO "{{SCHEMA}}".bare_rows (payload) VALUES (%s) RETURNING id',
            (str(body),)).fetchone()
    return {{"id": row[0]}}
"""


@dataclass
class Result:
    """One scenario at one concurrency."""

    name: str
    clients: int
    requests: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu_seconds: float | None = None
    """The server process's CPU time (user + system, all threads) over the timed part."""

    @property
    def cpu_per_request_ms(self) -> float | None:
        if self.cpu_seconds is None or not self.requests:
            return None
        return self.cpu_seconds / self.requests * 1000

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# -- a minimal keep-alive HTTP/1.1 client (so the load generator costs little) ------------------


async def _client(
    port: int,
    requests: list[bytes],
    stop_at: float,
    latencies: list[float],
    counts: list[int],
    at_least: int = 0,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    turn = 0
    try:
        while time.perf_counter() < stop_at or turn < at_least:
            request = requests[turn % len(requests)]
            turn += 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            counts[0 if 200 <= status < 300 else 1] += 1
    finally:
        writer.close()


def _request(method: str, path: str, token: str | None, body: bytes | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


def _cpu_seconds(pid: int | None) -> float | None:
    """A process's CPU time so far (Linux /proc), or None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _load(
    port: int, per_client: list[list[bytes]], seconds: float, pid: int | None = None
) -> tuple[list[float], list[int], float, float | None]:
    latencies: list[float] = []
    counts = [0, 0]
    # Warm up until every client has sent each of its requests once: a service that has run
    # for a while knows its tokens and keys (caches), and that steady state is what we measure.
    warm_until = time.perf_counter() + 0.3
    await asyncio.gather(
        *(_client(port, r, warm_until, [], [0, 0], at_least=len(r)) for r in per_client)
    )
    cpu_before = _cpu_seconds(pid)
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(port, r, started + seconds, latencies, counts) for r in per_client)
    )
    elapsed = time.perf_counter() - started
    cpu_after = _cpu_seconds(pid)
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return latencies, counts, elapsed, cpu


def measure(
    name: str, port: int, per_client: list[list[bytes]], seconds: float, pid: int | None = None
) -> Result:
    latencies, counts, elapsed, cpu = asyncio.run(_load(port, per_client, seconds, pid))
    return Result(name, len(per_client), counts[0] + counts[1], elapsed, latencies, counts[1], cpu)


# -- setup -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(port: int, path: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(
                    f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
                )
                if sock.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}{path}")


def _caught_up(port: int) -> None:
    """Wait until the API's views have applied the whole seeded ledger."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        ready = orjson.loads(answer.split(b"\r\n\r\n", 1)[1])
        if all(view["lag"] == 0 for view in ready["views"].values()):
            return
        time.sleep(0.2)
    raise RuntimeError("the views did not catch up")


@contextmanager
def process(
    name: str, args: list[str], env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (cwd / f"{name}.log").open("wb")
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=log)
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def seed(settings: Settings, enterprises: int) -> tuple[list[tuple[str, str]], str]:
    """Enterprises with their free pair, keys in use: [(card_no, enterprise token)], hotline."""
    ledger = Ledger(settings)
    tokens = TokenStore(ledger.store)
    keys: list[tuple[str, str]] = []
    rng = random.Random(7)
    clerk = Actor(principal_id="bench-window", role=Role.WINDOW)
    try:
        for _ in range(enterprises):
            uscc = make_uscc(rng)
            code = make_customs_code(rng)
            me = Actor(principal_id=f"enterprise:{uscc}", role=Role.ENTERPRISE)
            now = utcnow()

            company = samples.company_name(rng)
            ledger.run(
                deciders.register_enterprise,
                at(me),
                uscc=uscc,
                name=company,
                customs_code=code,
                receipt_number="HZ1",
            )
            filings = samples.filings(rng, ledger.region, company, code, "HZ1", now.date())
            for filing in filings.values():
                ledger.run(deciders.submit_filing, at(me), uscc, filing)
            ledger.run(
                deciders.review, at(clerk), uscc, approve=True, window=ledger.region.window_name
            )
            pair = (make_card_number(rng), make_card_number(rng))
            ledger.run(
                deciders.issue_free_pair,
                at(clerk),
                uscc,
                legal_person_card_no=pair[0],
                operator_card_no=pair[1],
            )
            token = tokens.issue("enterprise", uscc=uscc).token
            for card in pair:
                ledger.run(deciders.deliver_key, at(clerk), card, DeliveryChannel.WINDOW)
                ledger.run(deciders.record_pin_attempt, at(me), card, ok=True)
                keys.append((card, token))
        hotline = tokens.issue("hotline").token
    finally:
        ledger.close()
    return keys, hotline


def at(actor: Actor) -> CommandContext:
    """A command by `actor` now."""
    return CommandContext(actor=actor, at=utcnow())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per scenario and level")
    parser.add_argument("--clients", default="1,16,64")
    parser.add_argument("--rounds", type=int, default=3, help="bare/API pairs per level")
    parser.add_argument("--enterprises", type=int, default=100)
    args = parser.parse_args()
    levels = [int(n) for n in args.clients.split(",")]

    schema = f"bench_http_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(
            f'CREATE TABLE "{schema}".bare_rows (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)'
        )
    sep = "&" if "?" in URL else "?"
    database_url = f"{URL}{sep}schema={schema}"
    workdir = Path(f"/tmp/{schema}")
    workdir.mkdir()
    master_keys, signing_key = workdir / "master-keys.json", workdir / "signing.key"
    write_file(master_keys, generate(), replace=False)  # explicit on PostgreSQL
    settings = Settings(
        database_url=database_url,
        postgres_pool_size=POOL // 2,
        master_key_file=master_keys,
        signing_key_path=signing_key,
    )
    try:
        keys, hotline = seed(settings, args.enterprises)
        (workdir / "bare_app.py").write_text(BARE_APP.format(pool=POOL))
        # EPORT_API_* given to the benchmark reach the API (e.g. EPORT_API_VIEWS=worker).
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("EPORT_") or k.startswith("EPORT_API_")
        }
        env.setdefault("EPORT_API_PRINCIPAL_REQUESTS_PER_SECOND", "0")  # a few tokens, flat out
        env |= {
            "PYTHONPATH": str(ROOT),
            "EPORT_DATABASE_URL": database_url,
            "EPORT_POSTGRES_POOL_SIZE": str(POOL // 2),
            "EPORT_MASTER_KEY_FILE": str(master_keys),
            "EPORT_SIGNING_KEY_PATH": str(signing_key),
            "BARE_CONNINFO": URL.split("?")[0],
            "BARE_SCHEMA": schema,
        }
        api_port, bare_port = _free_port(), _free_port()
        api_cmd = [sys.executable, "-m", "api.cli.main", "serve", "--port", str(api_port)]
        bare_cmd = [sys.executable, "-m", "uvicorn", "bare_app:app", "--port", str(bare_port),
                    "--no-access-log", "--log-level", "warning"]  # fmt: skip
        with contextlib.ExitStack() as stack:
            api = stack.enter_context(process("api", api_cmd, env, workdir))
            bare = stack.enter_context(process("bare", bare_cmd, env, workdir))
            if env.get("EPORT_API_VIEWS") == "worker":
                worker_cmd = [sys.executable, "-m", "api.cli.main", "worker"]
                stack.enter_context(process("worker", worker_cmd, env, workdir))
            _wait(api_port, "/readyz")
            _wait(bare_port, "/docs")
            _caught_up(api_port)
            servers = {api_port: api.pid, bare_port: bare.pid}
            results = run_all(levels, args.seconds, args.rounds, keys, hotline, servers)
        report(results, levels)
    finally:
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        print(f"(server logs in {workdir})")
    return 0


Results = dict[tuple[str, int], list[Result]]
"""Every round of every scenario at every level."""


def run_all(
    levels: list[int],
    seconds: float,
    rounds: int,
    keys: list[tuple[str, str]],
    hotline: str,
    servers: dict[int, int],
) -> Results:
    """Every scenario at every level; `servers` maps the API's and the bare app's port to pid."""
    api_port, bare_port = list(servers)
    results: Results = {}
    body = orjson.dumps({"ok": True})
    for clients in levels:
        # Each client cycles through its own share of the keys, so no key's history grows long
        # (a real key sees a few PIN attempts a day, not thousands).
        shares = [keys[i::clients] or [keys[i % len(keys)]] for i in range(clients)]
        lookups = [[_request("GET", f"/v1/keys/{c}", hotline) for c, _ in s] for s in shares]
        bare_selects = [[_request("GET", f"/bare/keys/{c}", None) for c, _ in s] for s in shares]
        attempts = [
            [_request("POST", f"/v1/keys/{c}/pin-attempts", t, body) for c, t in share]
            for share in shares
        ]
        inserts = [[_request("POST", "/bare/rows", None, body)] for _ in shares]
        empties = [[_request("GET", "/bare/empty", None)] for _ in shares]
        # Rounds alternate bare and API back to back, so a ratio compares neighbours in time
        # (the machine's speed drifts between minutes more than between seconds).
        for _ in range(rounds):
            for name, port, per_client in (
                ("bare SELECT", bare_port, bare_selects),
                ("lookup", api_port, lookups),
                ("bare INSERT", bare_port, inserts),
                ("PIN attempt", api_port, attempts),
                ("empty", bare_port, empties),
            ):
                result = measure(name, port, per_client, seconds, servers[port])
                results.setdefault((name, clients), []).append(result)
                cpu = result.cpu_per_request_ms
                print(
                    f"{name:12} {clients:3} clients: {result.rps:8.0f} req/s  p50 "
                    f"{result.quantile(0.5):6.2f} ms  p99 {result.quantile(0.99):6.2f} ms"
                    + (f"  server CPU {cpu:5.2f} ms/request" if cpu is not None else "")
                    + (f"  ({result.errors} non-2xx)" if result.errors else ""),
                    flush=True,
                )
    return results


def report(results: Results, levels: list[int]) -> None:
    """Per level: the median over rounds of each round's ratio, and the lookup's median p99."""
    print("\n(medians over rounds)")
    print(
        "clients  lookup/bare  PIN attempt/bare  lookup p99 ms  lookup/s  PIN attempts/s  "
        "empty p99 ms"
    )
    for clients in levels:
        lookup = _median_ratio(results["lookup", clients], results["bare SELECT", clients])
        command = _median_ratio(results["PIN attempt", clients], results["bare INSERT", clients])
        p99 = statistics.median(r.quantile(0.99) for r in results["lookup", clients])
        lookups = statistics.median(r.rps for r in results["lookup", clients])
        pins = statistics.median(r.rps for r in results["PIN attempt", clients])
        floor = statistics.median(r.quantile(0.99) for r in results["empty", clients])
        print(
            f"{clients:7}  {lookup:11.2f}  {command:16.2f}  {p99:13.2f}  {lookups:8.0f}  "
            f"{pins:14.0f}  {floor:12.2f}"
        )
    print("targets: lookup >= 0.70, PIN attempt >= 0.50, lookup p99 < 20 ms at 64 clients")
    print("(empty: the bare app's `async def` endpoint that returns a constant, the p99 floor")
    print(" of any endpoint of this server on this machine at that many clients)")


def _median_ratio(api: list[Result], bare: list[Result]) -> float:
    return statistics.median(a.rps / b.rps for a, b in zip(api, bare, strict=True))


if __name__ == "__main__":
    sys.exit(main())
