"""The install steps of README.md and docs/operations.md, run as written on a brand-new
PostgreSQL database and a new directory: the service comes up (`/readyz` 200).

The commands are taken from the documents' code blocks; only what must differ on a test machine
is substituted — the database's name, the port, the directory of the key, and `eport-ledger`
found on PATH in the environment the README's install made.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import POSTGRES_URL
from tests.operations.conftest import clean_env
from tests.reliability.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def block_after(document: Path, marker: str) -> str:
    """The first ```bash block after `marker` in the document."""
    text = document.read_text(encoding="utf-8")
    start = text.index(marker)
    found = re.search(r"```bash\n(.*?)```", text[start:], re.S)
    assert found, f"no bash block after {marker!r} in {document.name}"
    return found.group(1)


def run_block(script: str, cwd: Path, env: dict[str, str], ready_url: str) -> str:
    """Run the block with bash (its servers in the background); wait for /readyz; stop all."""
    process = subprocess.Popen(
        ["/bin/bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(ready_url, timeout=3).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() not in (None, 0):
                break
            time.sleep(0.3)
        ready = httpx.get(ready_url, timeout=3)
    except httpx.HTTPError as error:
        ready = None
        problem = str(error)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
    assert ready is not None, f"{problem}\n{output[-3000:]}"
    assert ready.status_code == 200, f"{ready.text}\n{output[-3000:]}"
    return output


def test_operations_md_fresh_install_brings_the_service_up(
    fresh_database: str, tmp_path: Path
) -> None:
    script = block_after(ROOT / "docs" / "operations.md", "<!-- test: fresh-install")
    port = free_port()
    test_url = POSTGRES_URL.rsplit("/", 1)[0]
    script = (
        script.replace("postgresql://postgres@127.0.0.1:5432/eport", f"{test_url}/{fresh_database}")
        .replace("/var/lib/eport-ledger", str(tmp_path / "state"))
        .replace("/etc/eport-ledger", str(tmp_path / "etc"))
        .replace("8000", str(port))
    )
    assert fresh_database in script, script
    assert str(port) in script, script
    env = clean_env(PATH=f"{BIN}:{os.environ['PATH']}", HOME=str(tmp_path))
    output = run_block(script, tmp_path, env, f"http://127.0.0.1:{port}/readyz")
    assert "First start: an admin token" in output
    assert (tmp_path / "state" / "signing.key").exists()
    assert (tmp_path / "etc" / "master-keys.json").stat().st_mode & 0o077 == 0


def test_readme_postgresql_section_brings_api_and_worker_up(
    fresh_database: str, tmp_path: Path
) -> None:
    script = block_after(ROOT / "README.md", "## PostgreSQL")
    port = free_port()
    test_url = POSTGRES_URL.rsplit("/", 1)[0]
    script = script.replace(
        "postgresql://postgres@127.0.0.1:5432/test", f"{test_url}/{fresh_database}"
    ).replace("--port 8000", f"--port {port}")
    lines = []
    for line in script.splitlines():  # the two long-running processes go to the background
        command = line.split("#")[0].rstrip()
        lines.append(
            f"{command} &" if re.search(r"eport-ledger (serve|worker)\b", command) else line
        )
    script = "\n".join(lines).replace(".venv/bin/", f"{BIN}/") + "\nwait\n"
    env = clean_env(PATH=os.environ["PATH"], HOME=str(tmp_path))
    output = run_block(script, tmp_path, env, f"http://127.0.0.1:{port}/readyz")
    assert '"logger":"eport.worker"' in output, output[-2000:]  # its JSON lines, as serve's
    assert (tmp_path / ".config" / "eport-ledger" / "signing.key").exists()
    assert (tmp_path / ".config" / "eport-ledger" / "master-keys.json").exists()
