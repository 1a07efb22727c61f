"""Shared fixtures: a fresh ledger database on SQLite and on PostgreSQL for each test, and
ledgers prepared once per session that tests get their own copies of (`ledger_templates`)."""

from __future__ import annotations

import compileall
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

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


# -- ledgers prepared once, copied for each test -------------------------------------------------

TEMPLATE_SCHEMA = "eport_test"
"""The schema of the template databases on PostgreSQL (and so of each copy)."""
CHINA = timezone(timedelta(hours=8))


def postgres_database_url(database: str, schema: str) -> str:
    """The test server's URL with another database and a schema chosen."""
    parsed = urlparse(POSTGRES_URL)
    query = "&".join(part for part in (parsed.query, f"schema={schema}") if part)
    return urlunparse(parsed._replace(path=f"/{database}", query=query))


@dataclass(frozen=True)
class _Template:
    settings: Settings
    value: Any


class LedgerTemplates:
    """Ledgers built once per session by a function (an API with tokens, an enrolled
    enterprise, staff accounts …) and copied whole for each test that asks: every test still
    gets a database of its own, which it may write to, on the real backend.

    A copy is exactly the ledger the function built: the same entries at the same positions,
    the same tokens, views, keys and signing key (the key file is copied beside it). On SQLite
    the database file is copied; on PostgreSQL the template is a database of its own and each
    copy is `CREATE DATABASE … TEMPLATE` it (~20 ms, where building the ledger over HTTP took
    ~0.3-0.8 s a test). A template is built again when the date changes, so a copy is never
    from another day than the test that uses it.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.session = uuid.uuid4().hex[:8]
        self._built: dict[tuple[str, str, date, date], _Template] = {}
        self._databases: list[str] = []

    def _template(self, backend: str, name: str, build: Callable[[Settings], Any]) -> _Template:
        now = datetime.now(UTC)
        key = (backend, name, now.date(), now.astimezone(CHINA).date())
        found = self._built.get(key)
        if found is not None:
            return found
        where = self.root / f"{name}-{backend}-{len(self._built)}"
        where.mkdir(parents=True)
        if backend == "sqlite":
            settings = Settings(
                database_url=f"sqlite:///{where / 'ledger.db'}",
                signing_key_path=where / "ledger.key",
            )
        else:
            database = f"eport_tpl_{self.session}_{len(self._built)}"
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{database}"')
            self._databases.append(database)
            plain = urlunparse(urlparse(POSTGRES_URL)._replace(path=f"/{database}"))
            with psycopg.connect(plain) as conn:
                conn.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
            settings = Settings(
                database_url=postgres_database_url(database, TEMPLATE_SCHEMA),
                signing_key_path=where / "ledger.key",
                postgres_pool_size=4,
            )
        value = build(settings)  # it closes every connection it opened
        if backend == "sqlite":  # everything into the one file that is copied
            conn = sqlite3.connect(settings.sqlite_path())
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()
        found = self._built[key] = _Template(settings, value)
        return found

    @contextmanager
    def copy(
        self, backend: str, name: str, build: Callable[[Settings], Any], tmp_path: Path
    ) -> Iterator[tuple[Settings, Any]]:
        """Settings for a copy of the template `name` (built by `build` on first use) in
        `tmp_path` and, on PostgreSQL, a database of its own (dropped afterwards); and what
        `build` returned."""
        template = self._template(backend, name, build)
        key_path = tmp_path / "ledger.key"
        if template.settings.key_path().exists():  # the app makes one; a bare store does not
            shutil.copy2(template.settings.key_path(), key_path)
        if backend == "sqlite":
            target = tmp_path / "ledger.db"
            shutil.copyfile(template.settings.sqlite_path(), target)
            yield (
                Settings(database_url=f"sqlite:///{target}", signing_key_path=key_path),
                (template.value),
            )
            return
        source = urlparse(template.settings.database_url).path.lstrip("/")
        database = f"eport_copy_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{source}"')
        try:
            yield (
                Settings(
                    database_url=postgres_database_url(database, TEMPLATE_SCHEMA),
                    signing_key_path=key_path,
                    postgres_pool_size=4,
                ),
                template.value,
            )
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    def drop(self) -> None:
        """Drop the template databases."""
        if not self._databases:
            return
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for database in self._databases:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def ledger_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LedgerTemplates]:
    """The session's ledger templates (see LedgerTemplates)."""
    templates = LedgerTemplates(tmp_path_factory.mktemp("ledger-templates"))
    try:
        yield templates
    finally:
        templates.drop()
