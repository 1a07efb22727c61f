"""`eport-ledger serve` for real: a uvicorn process on a free loopback port, with no setup."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.http.schemas import examples

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_the_api_with_no_configuration_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPORT_")}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert process.stdout is not None
        assert "First start" in process.stdout.readline()
        admin = process.stdout.readline().strip()
        assert admin.startswith("epl_")
        deadline = time.monotonic() + 20
        with httpx.Client(base_url=base, timeout=5) as client:
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "serve did not become ready"
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                time.sleep(0.1)
            assert client.get("/docs").status_code == 200
            assert client.get("/openapi.json").json()["info"]["title"] == "eport-ledger"
            made = client.post(
                "/v1/tokens",
                json={"role": "window", "name": "window-clerk-01"},
                headers={"Authorization": f"Bearer {admin}"},
            )
            assert made.status_code == 201, made.text
            window = {"Authorization": f"Bearer {made.json()['token']}", "X-Request-ID": "r-1"}
            registered = client.post(
                "/v1/enterprises",
                json={
                    "uscc": examples.USCC,
                    "name": examples.COMPANY,
                    "customs_code": examples.CUSTOMS_CODE,
                    "receipt_number": examples.RECEIPT_NUMBER,
                },
                headers=window,
            )
            assert registered.status_code == 201, registered.text
            assert registered.headers["X-Request-ID"] == "r-1"
            overview = client.get(
                f"/v1/enterprises/{examples.USCC}",
                params={"min_position": registered.json()["position"]},
                headers=window,
            )
            assert overview.json()["review_state"] == "draft"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            _, stderr = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    # uvicorn shuts down cleanly, then re-raises SIGTERM so the exit status tells the signal.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    assert (tmp_path / "eport-ledger.db").exists()
    assert "first admin token" in stderr
    assert admin not in stderr
    assert examples.USCC not in stderr
    assert '"route":"/v1/enterprises"' in stderr
