"""Fixtures of the operations suite: the installed console script, a brand-new database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from ledger_store.eventstore.settings import Settings
from tests.conftest import POSTGRES_URL, postgres_url_for

SCRIPT = Path(sys.executable).parent / "eport-ledger"
"""The console script the README's install put beside this interpreter."""


@dataclass(frozen=True)
class Run:
    """What one run of the console script did."""

    code: int
    stdout: str
    stderr: str


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any EPORT_* setting of the caller, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EPORT_", "PG"))}
    env.update(extra)
    return env


def eport(*args: str, cwd: Path, timeout: float = 60, **env: str) -> Run:
    """Run `eport-ledger ARGS` as an operator would (stdin closed, no TTY)."""
    done = subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env=clean_env(**env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def url_for_database(name: str, **query: str) -> str:
    """The test server's URL with another database (and query parameters)."""
    parsed = urlparse(POSTGRES_URL)
    text = "&".join(f"{k}={v}" for k, v in query.items())
    return urlunparse(parsed._replace(path=f"/{name}", query=text))


@pytest.fixture
def fresh_database(postgres_available: None) -> Iterator[str]:
    """A brand-new PostgreSQL database (CREATE DATABASE, uniquely named), dropped afterwards."""
    name = f"eport_fresh_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_settings(postgres_schema: str, tmp_path: Path) -> Settings:
    """Settings for a fresh ledger in a PostgreSQL schema of its own."""
    return Settings(
        database_url=postgres_url_for(postgres_schema),
        signing_key_path=tmp_path / "ledger.key",
        postgres_pool_size=4,
    )
