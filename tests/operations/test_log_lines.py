"""`serve` and `worker` write the same JSON lines: one object a line, the same fields."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from api.logging import SAFE_FIELDS

ROOT = Path(__file__).resolve().parents[2]
CORE = {"time", "level", "logger", "message"}
ALLOWED = CORE | set(SAFE_FIELDS) | {"trace_id", "span_id"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(directory: Path, *command: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPORT_")}
    env["PYTHONPATH"] = str(ROOT)
    env["EPORT_DATABASE_URL"] = f"sqlite:///{directory / 'ledger.db'}"
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli.main", *command],
        cwd=directory,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stopped(process: subprocess.Popen[str], read: str = "") -> list[dict[str, object]]:
    """SIGTERM, then every stderr line as JSON (a line that is not one fails the test)."""
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    lines = [json.loads(line) for line in (read + stderr).splitlines() if line.strip()]
    assert lines, "nothing was logged"
    return lines


def _shape(lines: list[dict[str, object]]) -> set[tuple[str, str]]:
    return {(key, type(value).__name__) for line in lines for key, value in line.items()}


def _logged_until(process: subprocess.Popen[str], marker: str) -> str:
    """What the process logged up to the line that holds `marker` (it has started then)."""
    assert process.stderr is not None
    read = ""
    while marker not in read:
        line = process.stderr.readline()
        assert line, f"it stopped: {read}"
        read += line
    return read


def test_worker_logs_the_same_json_lines_as_serve(tmp_path: Path) -> None:
    serve = _start(tmp_path, "serve", "--port", str(_free_port()), "--no-first-token")
    served = _stopped(serve, _logged_until(serve, "serving the ledger"))
    worker = _start(tmp_path, "worker")
    worked = _stopped(worker, _logged_until(worker, '"eport.worker"'))

    for lines in (served, worked):
        for line in lines:
            assert CORE <= set(line) <= ALLOWED, line
    assert {str(line["logger"]) for line in worked} >= {"eport.worker"}
    assert _shape([{k: v for k, v in line.items() if k in CORE} for line in served]) == _shape(
        [{k: v for k, v in line.items() if k in CORE} for line in worked]
    )
