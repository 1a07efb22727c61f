"""Shared fixtures: a fresh ledger database on SQLite and on PostgreSQL for each test."""

from __future__ import annotations

import compileall
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from ledger_store.eventstore.settings import Settings
from ledger_store.privacy.master_keys import generate, write_file

POSTGRES_URL = os.environ.get(
    "EPORT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _test_master_keys() -> None:
    """One set of master keys for the whole test session (set before any test or subprocess
    starts): PostgreSQL ledgers need them named, and the same keys give the same keyed ids on
    both backends, so the demo's views can be compared across them."""
    if os.environ.get("EPORT_MASTER_KEY_FILE") or os.environ.get("EPORT_MASTER_KEYS"):
        return
    path = Path(tempfile.mkdtemp(prefix="eport-test-keys-")) / "master-keys.json"
    write_file(path, generate(), replace=False)
    os.environ["EPORT_MASTER_KEY_FILE"] = str(path)


_test_master_keys()

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("domain", "ledger_store", "projections", "api", "replay")


def _compile_packages() -> None:
    """Byte-compile the project's packages once, before any subprocess starts.

    Many tests run `eport-ledger` (serve, worker, verify, migrate …) as a subprocess. Where
    PYTHONDONTWRITEBYTECODE is set, no process writes its bytecode, so every child compiled
    ~250 of the project's modules from source again (~0.1-0.2 s a start). Reading a compiled
    file is allowed all the same; compileall writes them (quick when they are up to date).
    """
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)


_compile_packages()


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return f"PostgreSQL at {POSTGRES_URL} does not answer: {error}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> None:
    """Skip visibly when no server answers, except in CI, where that is a failure."""
    problem = _postgres_problem()
    if problem is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {problem}")
    pytest.skip(problem)


@pytest.fixture
def postgres_schema(postgres_available: None) -> Iterator[str]:
    """A schema of its own for one test, dropped afterwards."""
    schema = f"eport_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def postgres_url_for(schema: str) -> str:
    """The test server's URL with a schema chosen."""
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}schema={schema}"


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each storage test runs once per backend."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh, empty ledger on the test's backend."""
    if backend == "sqlite":
        return Settings(
            database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
            signing_key_path=tmp_path / "ledger.key",
        )
    schema: str = request.getfixturevalue("postgres_schema")
    return Settings(
        database_url=postgres_url_for(schema),
        signing_key_path=tmp_path / "ledger.key",
        postgres_pool_size=4,
    )
