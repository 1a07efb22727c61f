"""The database cut off and restored under a served API (a TCP proxy of our own between them):
`/readyz` answers within its bound during the cut, and after the database returns not one
request fails because of a connection that died while it was away."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from ledger_store.application.ledger import Ledger
from ledger_store.eventstore.settings import Settings
from tests.reliability.processes import ServedApi, TcpProxy, issue_tokens
from tests.reliability.support import catch_up_views, enroll
from tests.reliability.test_database_faults import through, upstream

CLIENT_TIMEOUT = 3.0
"""A generous bound for /readyz during the cut (it promises 2 s): the answer must come first."""


def test_after_an_outage_no_request_fails_and_readyz_stays_bounded(
    pg_settings: Settings, tmp_path: Path
) -> None:
    ledger = Ledger(pg_settings)
    try:
        firm = enroll(ledger, "outage-recovery")
        catch_up_views(ledger.database)  # reads right after start must find the keys
    finally:
        ledger.close()
    window, enterprise, hotline = issue_tokens(
        pg_settings, ("window", None), ("enterprise", firm.uscc), ("hotline", None)
    )
    with TcpProxy(upstream(pg_settings)) as proxy:
        proxied = through(pg_settings, proxy.port).model_copy(update={"postgres_pool_size": 3})
        server = ServedApi(proxied, tmp_path / "serve.log")
        server.start()
        calls = [
            ("post", f"/v1/keys/{firm.lp}/pin-attempts", {"ok": True}, enterprise),  # event loop
            ("get", f"/v1/keys/{firm.lp}", None, hotline),  # event loop's pool, a read
            ("post", f"/v1/keys/{firm.op}/pin-change", None, enterprise),  # worker thread
            ("get", f"/v1/enterprises/{firm.uscc}", None, window),  # a view, worker thread
            ("get", "/v1/window/queue", None, window),
        ]
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:

                def call(n: int) -> httpx.Response:
                    method, path, body, token = calls[n % len(calls)]
                    headers = {"Authorization": f"Bearer {token}"}
                    return http.request(method, path, json=body, headers=headers)

                for n in range(40):  # every pooled connection in use before the cut
                    assert call(n).status_code == 200
                assert http.get("/readyz").status_code == 200

                proxy.cut()  # every connection reset, new ones refused
                waits = []
                for _ in range(3):
                    began = time.monotonic()
                    ready = httpx.get(f"{server.url}/readyz", timeout=CLIENT_TIMEOUT)
                    waits.append(time.monotonic() - began)
                    assert ready.status_code == 503, ready.text
                    assert ready.json()["database"] == "unreachable"
                time.sleep(1.0)
                proxy.restore()

                failed = [
                    (n, r.status_code, r.text[:200])
                    for n in range(100)
                    if (r := call(n)).status_code != 200
                ]
                assert http.get("/readyz").status_code == 200
        finally:
            server.stop()
    assert not failed, failed[:5]
    assert max(waits) < CLIENT_TIMEOUT, waits
