"""Install and upgrade: a brand-new PostgreSQL database is prepared by the program itself, a
ledger of release 0.1.0 is upgraded by the migrations and then verifies, serves, replays and
takes new commands; processes that start together do not race; the signing key is checked."""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from ledger_store.eventstore.failures import LedgerStateError
from ledger_store.eventstore.postgres_append import APPEND_FUNCTION
from ledger_store.eventstore.settings import Settings
from ledger_store.eventstore.store import EventStore
from ledger_store.migrations.runner import MIGRATIONS, latest_version, schema_status
from tests.conftest import POSTGRES_URL, postgres_url_for
from tests.operations.conftest import eport, url_for_database
from tests.reliability.processes import ServedApi
from tests.replay.test_release_0_1_0 import CHAIN_HEAD, FIXTURE, SIZE, gunzip, load_postgres_dump

OWNED_TABLES = {
    "schema_migrations", "idempotency_keys", "api_tokens", "view_positions",
    "merkle_nodes", "merkle_state", "checkpoints", "signing_keys",
    "personal_data_keys", "personal_data_index",
    "console_staff", "console_sessions", "console_oidc_pending", "console_verify_runs",
}  # fmt: skip


def test_migrations_are_numbered_densely_and_each_says_what_it_does() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert all(m.description and m.description[0].isupper() for m in MIGRATIONS)


def test_the_append_function_never_changes_without_a_migration_that_replaces_it() -> None:
    recorded = {getattr(m.module, "APPEND_FUNCTION_SHA256", None) for m in MIGRATIONS}
    assert hashlib.sha256(APPEND_FUNCTION.encode()).hexdigest() in recorded, (
        "postgres_append.APPEND_FUNCTION changed: add a migration that runs "
        "`ctx.execute(database.appends.create_function())` and records the new "
        "APPEND_FUNCTION_SHA256"
    )


def test_a_fresh_database_and_schema_are_prepared_by_the_program(
    fresh_database: str, tmp_path: Path
) -> None:
    env = {
        "EPORT_DATABASE_URL": url_for_database(fresh_database, schema="eport"),
        "EPORT_SIGNING_KEY_PATH": str(tmp_path / "signing.key"),
        "EPORT_MASTER_KEY_FILE": str(tmp_path / "master-keys.json"),
    }
    assert eport("keys", "init", "--file", env["EPORT_MASTER_KEY_FILE"], cwd=tmp_path).code == 0
    first = eport("migrate", "--json", cwd=tmp_path, **env)
    assert first.code == 0, first.stderr
    assert f'"current":{latest_version()}' in first.stdout
    again = eport("migrate", cwd=tmp_path, **env)
    assert again.code == 0, again.stdout
    assert "nothing to do" in again.stdout, again.stdout
    demo = eport("demo", "--enterprises", "2", "--seed", "3", "--json", cwd=tmp_path, **env)
    assert demo.code == 0, demo.stderr
    checked = eport("verify", "--json", cwd=tmp_path, **env)
    assert checked.code == 0, checked.stdout
    assert '"intact":true' in checked.stdout, checked.stdout
    with psycopg.connect(url_for_database(fresh_database), autocommit=True) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'eport'"
            )
        }
    assert OWNED_TABLES | {"eport_events"} <= tables


def test_processes_that_start_together_migrate_once(postgres_schema: str, tmp_path: Path) -> None:
    settings = Settings(database_url=postgres_url_for(postgres_schema), postgres_pool_size=1)
    applied: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            store = EventStore(settings)
            applied.extend(m.version for m in store.migrations_applied)
            store.close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(applied) == [m.version for m in MIGRATIONS]  # each exactly once


def test_a_database_migrated_by_a_later_release_is_refused(
    postgres_schema: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=postgres_url_for(postgres_schema))
    EventStore(settings).close()
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{postgres_schema}".schema_migrations VALUES (%s, %s, %s, %s)',
            (latest_version() + 1, "from_the_future", "2030-01-01", "9.9.9"),
        )
    with pytest.raises(LedgerStateError, match="newer than this release"):
        EventStore(settings)


@pytest.fixture
def release_0_1_0(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """The 0.1.0 ledger on the test's backend, as the environment of a process."""
    key = tmp_path / "signing-key.pem"
    shutil.copy(FIXTURE / "signing-key.pem", key)
    key.chmod(0o600)
    if backend == "sqlite":
        url = f"sqlite:///{gunzip('eport-ledger.db.gz', tmp_path / 'eport-ledger.db')}"
    else:
        schema: str = request.getfixturevalue("postgres_schema")
        load_postgres_dump(schema)
        url = postgres_url_for(schema)
    master_keys = tmp_path / "master-keys.json"  # 0.1.0 had none: the operator makes them
    made = eport("keys", "init", "--file", str(master_keys), cwd=tmp_path)
    assert made.code == 0, made.stderr
    return {
        "EPORT_DATABASE_URL": url,
        "EPORT_SIGNING_KEY_PATH": str(key),
        "EPORT_MASTER_KEY_FILE": str(master_keys),
    }


def test_a_0_1_0_ledger_upgrades_then_verifies_serves_replays_and_takes_commands(
    release_0_1_0: dict[str, str], tmp_path: Path, backend: str
) -> None:
    env = release_0_1_0
    settings = Settings(database_url=env["EPORT_DATABASE_URL"])
    before = EventStore(settings, mode="read")
    try:
        status = schema_status(before.database)
    finally:
        before.close()
    assert (status.current, status.has_ledger) == (0, True)  # 0.1.0 recorded no version

    upgraded = eport("migrate", "--json", cwd=tmp_path, **env)
    assert upgraded.code == 0, upgraded.stderr
    assert f'"current":{latest_version()}' in upgraded.stdout
    if backend == "postgres":  # the library's lock-skipping insert function is gone
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            left = conn.execute(
                "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE proname = 'es_insert_events_uuid' AND nspname = %s",
                (settings.postgres_schema,),
            ).fetchall()
        assert not left

    verified = eport("verify", cwd=tmp_path, **env)
    assert verified.code == 0, verified.stdout + verified.stderr
    assert f"intact: {SIZE} entries, chain head {CHAIN_HEAD}" in verified.stdout
    replayed = eport("replay", "--json", cwd=tmp_path, **env)
    assert replayed.code == 0, replayed.stderr
    assert f'"position":{SIZE}' in replayed.stdout, replayed.stderr
    commands = eport("demo", "--enterprises", "1", "--seed", "99", cwd=tmp_path, **env)
    assert commands.code == 0, commands.stderr
    signed = eport("checkpoint", "--json", cwd=tmp_path, **env)  # the 0.1.0 key signs on
    assert signed.code == 0, signed.stderr

    served = Settings(
        database_url=env["EPORT_DATABASE_URL"],
        signing_key_path=Path(env["EPORT_SIGNING_KEY_PATH"]),
        master_key_file=Path(env["EPORT_MASTER_KEY_FILE"]),
    )
    server = ServedApi(served, tmp_path / "serve.log")
    server.start()
    try:
        deadline = time.monotonic() + 60
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        while ready.status_code == 503 and ready.json()["status"] == "starting":
            assert time.monotonic() < deadline, ready.text  # the views catch up, then ready
            time.sleep(0.2)
            ready = httpx.get(f"{server.url}/readyz", timeout=10)
    finally:
        server.stop()
    assert ready.status_code == 200, ready.text
    assert ready.json()["ledger_size"] > SIZE
    after = eport("verify", "--json", cwd=tmp_path, **env)
    assert after.code == 0, after.stdout
    assert '"intact":true' in after.stdout, after.stdout


def test_another_key_than_the_ledgers_is_refused_until_rotated(
    release_0_1_0: dict[str, str], tmp_path: Path
) -> None:
    env = {**release_0_1_0, "EPORT_SIGNING_KEY_PATH": str(tmp_path / "other.key")}
    eport("demo", "--enterprises", "1", "--seed", "5", cwd=tmp_path, **env)
    refused = eport("checkpoint", cwd=tmp_path, **env)
    assert refused.code == 6, refused.stderr
    assert "restore that key from its backup" in refused.stderr
    assert not (tmp_path / "other.key").exists(), "a key was created for a ledger that has one"
    rotated = eport("checkpoint", "--rotate-key", "--json", cwd=tmp_path, **env)
    assert rotated.code == 0, rotated.stderr
    assert "created a new checkpoint signing key" in rotated.stderr
    old_key = eport("checkpoint", cwd=tmp_path, **release_0_1_0)
    assert old_key.code == 6, old_key.stderr
    assert "is not the key that signs" in old_key.stderr, old_key.stderr
    verified = eport("verify", cwd=tmp_path, **env)
    assert verified.code == 0, verified.stdout
