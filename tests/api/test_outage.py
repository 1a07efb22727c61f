"""PostgreSQL going away: 503 with Retry-After, nothing half-written, recovery on its own."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from api.http.schemas import examples
from ledger_store.eventstore.settings import Settings
from tests.api.conftest import opened
from tests.conftest import POSTGRES_URL, postgres_url_for


class Proxy:
    """A TCP proxy to the PostgreSQL server that can be cut and restored on the same port."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.listener: socket.socket | None = None
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    def up(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(50)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def down(self) -> None:
        listener, self.listener = self.listener, None
        if listener is not None:
            with contextlib.suppress(OSError):  # shutdown wakes the thread blocked in accept()
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self.lock:
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def proxied(postgres_schema: str, tmp_path: Path) -> Iterator[tuple[Settings, Proxy]]:
    parsed = urlparse(POSTGRES_URL)
    proxy = Proxy((parsed.hostname or "127.0.0.1", parsed.port or 5432))
    proxy.up()
    url = postgres_url_for(postgres_schema).replace(
        f"{parsed.hostname}:{parsed.port or 5432}", f"127.0.0.1:{proxy.port}"
    )
    settings = Settings(
        database_url=url,
        signing_key_path=tmp_path / "ledger.key",
        postgres_pool_size=2,
        postgres_connect_timeout=1,
    )
    yield settings, proxy
    proxy.down()


def test_an_unreachable_database_is_503_and_the_service_recovers_by_itself(
    proxied: tuple[Settings, Proxy],
) -> None:
    settings, proxy = proxied
    with opened(settings) as api:
        api.enrolled()
        card = f"/v1/keys/{examples.LP_CARD}/pin-attempts"
        lookup = f"/v1/keys/{examples.LP_CARD}"  # read on the event loop's own pool
        before = api.services.ledger.position()
        assert api.get("hotline", lookup, min_position=before).status_code == 200

        proxy.down()
        refused = api.post("enterprise", card, {"ok": False}, Idempotency_Key="during-outage")
        assert refused.status_code == 503, refused.text
        assert refused.json()["rule"] == "database_unavailable"
        assert refused.headers["Retry-After"] == "2"
        unread = api.get("hotline", lookup)
        assert unread.status_code == 503, unread.text
        assert unread.json()["rule"] == "database_unavailable"
        assert api.client.get("/readyz").status_code == 503
        assert api.client.get("/healthz").status_code == 200

        proxy.up()
        deadline = time.monotonic() + 30
        while True:
            retried = api.post("enterprise", card, {"ok": False}, Idempotency_Key="during-outage")
            if retried.status_code != 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert retried.status_code == 200, retried.text
        assert api.services.ledger.position() == before + 1
        again = api.post("enterprise", card, {"ok": False}, Idempotency_Key="during-outage")
        assert again.json() == retried.json()
        written = retried.json()["position"]  # read your write: the views may lag otherwise
        while (read := api.get("hotline", lookup, min_position=written)).status_code == 503:
            assert time.monotonic() < deadline, read.text
            time.sleep(0.2)
        assert read.status_code == 200, read.text
        assert read.json()["failed_attempts"] == 1
        assert api.client.get("/readyz").status_code == 200
