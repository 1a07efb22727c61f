"""Real processes on loopback for the fault tests: `eport-ledger serve` and `eport-ledger worker`
as subprocesses (killed with SIGKILL, restarted), and a TCP proxy that can cut PostgreSQL off."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import httpx

from api.http.auth import TokenStore
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def issue_tokens(settings: Settings, *roles: tuple[str, str | None]) -> list[str]:
    """Tokens straight from the token table of the ledger's database: (role, uscc) each."""
    ledger = EventStore(settings)
    try:
        store = TokenStore(ledger)
        return [store.issue(role, uscc=uscc).token for role, uscc in roles]
    finally:
        ledger.close()


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPORT_")}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "EPORT_DATABASE_URL": settings.database_url,
            "EPORT_SIGNING_KEY_PATH": str(settings.key_path()),
            "EPORT_MASTER_KEY_FILE": str(settings.master_key_path()),
            "EPORT_POSTGRES_POOL_SIZE": str(settings.postgres_pool_size),
            "EPORT_POSTGRES_CONNECT_TIMEOUT": str(settings.postgres_connect_timeout),
            "EPORT_API_AUTH_FAILURES_PER_MINUTE": "100000",
            "EPORT_API_PRINCIPAL_REQUESTS_PER_SECOND": "0",  # workloads of a few tokens
            "EPORT_API_CHECKPOINTS": "false",
            "EPORT_API_LOG_JSON": "true",
        }
    )
    env.update(extra)
    return env


class Subprocess:
    """One `python -m api.cli.main …` child, its output in a log file; SIGKILL or SIGTERM it."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        """Start the child (its output appended to the log)."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli.main", *self.args],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        """Whether the child runs."""
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, no final checkpoint — a power pull."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)
        self._close_log()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)
        self._close_log()
        return self.process.returncode

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """Everything the child wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class ServedApi(Subprocess):
    """`eport-ledger serve` on a free loopback port; `url` is where it answers."""

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self.port = free_port()
        super().__init__([], _environment(settings, **env), log_path)
        self._set_args()

    def _set_args(self) -> None:
        self.args = ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--no-first-token"]

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start and wait (bounded) until /healthz answers."""
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive:
                raise AssertionError(f"serve exited at start:\n{self.output()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"serve did not answer within {timeout} s:\n{self.output()[-3000:]}")

    def restart_on_new_port(self) -> None:
        """Start again on another free port (the old one may linger in TIME_WAIT)."""
        self.port = free_port()
        self._set_args()
        self.start()


class Worker(Subprocess):
    """`eport-ledger worker` on the settings' database."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        super().__init__(["worker"], _environment(settings), log_path)


class TcpProxy:
    """A loopback TCP proxy to an upstream server that can be cut off and brought back.

    `cut()` closes the listening socket (new connections are refused, as from a stopped
    server) and resets every open connection; `restore()` listens on the same port again.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.connections = 0
        self.cuts = 0
        self._pairs: set[tuple[socket.socket, socket.socket]] = set()
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._closed = threading.Event()

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self.cut()

    def restore(self) -> None:
        """Listen again (on the same port)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        self._accepting = threading.Thread(
            target=self._accept, args=(listener,), name="proxy-accept", daemon=True
        )
        self._accepting.start()

    def cut(self) -> None:
        """Refuse new connections and reset the open ones, as a dead database server would."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._accepting is not None:
            self._accepting.join(5)
            self._accepting = None
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for sock in pair:
                _reset(sock)
        self.cuts += 1

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _reset(client)
                    _reset(server)
                    return
                self._pairs.add((client, server))
                self.connections += 1
            threading.Thread(
                target=self._pump, args=(client, server), name="proxy-pump", daemon=True
            ).start()

    def intercept(self, connection: dict[str, Any], data: bytes) -> bool:
        """Whether to break the connection instead of passing on `data` from the server."""
        return False

    def outgoing(self, connection: dict[str, Any], data: bytes) -> None:
        """See `data` on its way from the client to the server (to arm an `intercept`)."""

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        peers = {client: server, server: client}
        state: dict[str, Any] = {}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server and self.intercept(state, data):
                        return
                    if sock is client:
                        self.outgoing(state, data)
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            with self._lock:
                self._pairs.discard((client, server))
            _reset(client)
            _reset(server)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), so the peer sees the connection broken at once."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The problem document of an error answer (empty when it is not one)."""
    if not response.headers.get("content-type", "").startswith("application/problem+json"):
        return {}
    body: dict[str, Any] = response.json()
    return body
